/*
 * libFuzzer target for the 1.1 row entry points, focal_sigmoid_labels and
 * focal_sigmoid_dense, with focal_options (class_alpha, weight, label
 * smoothing, normalizer, the size field).
 *
 * Checked on every call:
 *   - the return code: FOCAL_OK exactly when no documented error applies;
 *     otherwise one of the errors that apply (any order: the header does
 *     not fix one among them), and FOCAL_ETARGET only when nothing else
 *     applies (it is found while writing, argument errors before);
 *   - every kernel the CPU runs returns the scalar kernel's code and, on
 *     FOCAL_OK, its bits;
 *   - nothing is written outside the outputs (canaries), read-only arrays
 *     and the options struct stay as they were, argument errors write
 *     nothing at all;
 *   - with options that add nothing to 1.0 (no class_alpha, weight,
 *     smoothing or normalizer) dense gives the bits of
 *     focal_sigmoid_loss_grad on the flattened arrays (documented);
 *   - labels without ignored rows give the bits of dense with the
 *     equivalent one-hot targets.
 *
 * Input layout (short inputs read as zeros past the end):
 *   [0]  bit 0 labels (else dense); bits 1-3 outputs % 6: 0 loss+grad,
 *        1 loss, 2 grad, 3 grad=logits, 4 grad=logits + loss, 5 neither;
 *        bit 4 opt = NULL; bits 5-6 threads (1, 2, 3, 1); bit 7 big
 *   [1]  rows: % 41, big: 1500 + byte
 *   [2]  classes: % 97, big: 88 + byte % 9 (big: past the pool's 8 blocks)
 *   [3]  alpha, gamma: < 16 a table entry, else 4 raw bytes follow
 *   [.]  reduction: < 3 itself, < 200: % 3, else a bad value
 *   [.]  normalizer, label_smoothing: < 16 a table entry, else 4 raw bytes
 *   [.]  bit 0 class_alpha, 1 weight, 2-3 options size (exact, too small,
 *        larger with a zero tail, larger with a nonzero tail), 4 make an
 *        output overlap weight / class_alpha, 5-6 target coding, 7 rows so
 *        large that rows x classes x 4 overflows size_t (FOCAL_ESIZE)
 *   [.]  codings: bits 0-1 logits, 2-3 class_alpha, 4-5 weight, 6-7 labels
 *   [.]  misalignment: logits | targets << 4; loss | grad << 4
 *   rest payload, read cyclically.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "fuzz_common.h"


typedef struct {
    int labels_api, out, opt_null, threads, big, overflow, overlap, size_variant;
    size_t rows, classes, n;
    size_t off_x, off_t, off_l, off_g;
    float alpha, gamma, normalizer, smoothing;
    int reduction, use_ca, use_w;
    float *x, *t, *ca, *w; /* decoded, exact-size heap arrays */
    int32_t *lab;
    options_box box;
} spec;

static void fail(const spec *c, const char *kernel, const char *what)
{
    fprintf(stderr,
            "\nFUZZ FAILURE [%s] %s\n  %s rows=%zu classes=%zu out=%d opt_null=%d size_variant=%d "
            "alpha=%a gamma=%a reduction=%d normalizer=%a smoothing=%a class_alpha=%d weight=%d "
            "overlap=%d overflow=%d threads=%d\n",
            kernel, what, c->labels_api ? "labels" : "dense", c->rows, c->classes, c->out,
            c->opt_null, c->size_variant, (double)c->alpha, (double)c->gamma, c->reduction,
            (double)c->normalizer, (double)c->smoothing, c->use_ca, c->use_w, c->overlap,
            c->overflow, c->threads);
    abort();
}

static int overlaps(const void *a, size_t an, const void *b, size_t bn)
{
    if (!a || !b || !an || !bn)
        return 0;
    const uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + bn && b0 < a0 + an;
}

/* The documented errors that apply to this call, as a mask of BIT(code),
 * FOCAL_ETARGET excluded (it only applies when nothing else does). */
static unsigned errors_that_apply(const spec *c, const float *loss, const float *grad,
                                  const float *w, const float *ca)
{
    unsigned m = 0;
    const focal_options *o = &c->box.opt;
    float alpha = 0.25f, gamma = 2.0f, normalizer = 0.0f, smoothing = 0.0f;
    int reduction = FOCAL_REDUCTION_MEAN;
    if (!c->opt_null) {
        if (c->size_variant == SIZE_SMALL || c->size_variant == SIZE_LARGE_DIRTY)
            m |= BIT(FOCAL_EOPTIONS);
        alpha = o->alpha;
        gamma = o->gamma;
        normalizer = o->normalizer;
        smoothing = o->label_smoothing;
        reduction = o->reduction;
    }
    if (isnan(normalizer) || isinf(normalizer) || normalizer < 0.0f)
        m |= BIT(FOCAL_ENORMALIZER);
    if (!(smoothing >= 0.0f && smoothing < 1.0f))
        m |= BIT(FOCAL_ESMOOTHING);
    if (!loss && !grad)
        m |= BIT(FOCAL_ENOOUTPUT);
    if (!ca && (isnan(alpha) || alpha > 1.0f))
        m |= BIT(FOCAL_EALPHA);
    if (!isfinite(gamma) || gamma < 0.0f)
        m |= BIT(FOCAL_EGAMMA);
    if (reduction < 0 || reduction > 2)
        m |= BIT(FOCAL_EREDUCTION);
    if (c->overflow)
        return m | BIT(FOCAL_ESIZE); /* the arrays' sizes are not computable */
    for (size_t k = 0; ca && k < c->classes; k++)
        if (!(ca[k] >= 0.0f && ca[k] <= 1.0f))
            m |= BIT(FOCAL_EALPHA);
    const size_t loss_bytes = reduction == FOCAL_REDUCTION_NONE ? c->n * 4 : 4;
    if (overlaps(loss, loss_bytes, w, c->rows * 4) || overlaps(grad, c->n * 4, w, c->rows * 4) ||
        overlaps(loss, loss_bytes, ca, c->classes * 4) || overlaps(grad, c->n * 4, ca, c->classes * 4))
        m |= BIT(FOCAL_EOVERLAP);
    for (size_t r = 0; c->labels_api && r < c->rows; r++)
        if ((int64_t)c->lab[r] > (int64_t)c->classes)
            m |= BIT(FOCAL_ELABEL);
    return m;
}

static int bad_target(const spec *c)
{
    for (size_t i = 0; !c->labels_api && i < c->n; i++)
        if (!(c->t[i] >= 0.0f && c->t[i] <= 1.0f))
            return 1;
    return 0;
}

static int call(const spec *c, const float *x, const float *t, const int32_t *lab,
                const focal_options *opt, float *loss, float *grad)
{
    return c->labels_api ? focal_sigmoid_labels(x, lab, c->rows, c->classes, opt, loss, grad)
                         : focal_sigmoid_dense(x, t, c->rows, c->classes, opt, loss, grad);
}

static int effective_reduction(const spec *c)
{
    return c->opt_null ? FOCAL_REDUCTION_MEAN : c->box.opt.reduction;
}

/* ESIZE: rows x classes overflows; nothing may be read or written. */
static result run_overflow(const spec *c, const char *kernel, unsigned *mask)
{
    result res = { 0, NULL, NULL, 0 };
    float dummy_in[4] = { 0 }, out[8];
    int32_t dummy_lab[4] = { 0 };
    for (int i = 0; i < 8; i++)
        out[i] = from_bits(CANARY);
    options_box box = c->box;
    box.opt.class_alpha = NULL;
    box.opt.weight = NULL;
    const focal_options *opt = c->opt_null ? NULL : &box.opt;
    float *loss = c->out == OUT_NONE || c->out == OUT_GRAD || c->out == OUT_INPLACE ? NULL : out;
    float *grad = c->out == OUT_NONE || c->out == OUT_LOSS ? NULL : out + 4;
    *mask = errors_that_apply(c, loss, grad, NULL, NULL);
    res.rc = call(c, dummy_in, dummy_in, dummy_lab, opt, loss, grad);
    if (!all_canary(out, 8))
        fail(c, kernel, "rows x classes overflows, yet an output was written");
    return res;
}

/* Outputs overlap weight or class_alpha: everything in one arena. */
static result run_overlap(const spec *c, const char *kernel, unsigned *mask)
{
    result res = { 0, NULL, NULL, 0 };
    const size_t n = c->n, span = n + c->rows + c->classes + 8;
    arena a;
    float *out = arena_alloc(&a, 2 * span);
    float *x = input_copy(c->x, n, 0), *t = input_copy(c->t, n, 0);
    const int want_loss = c->out != OUT_GRAD && c->out != OUT_INPLACE && c->out != OUT_NONE;
    const int want_grad = c->out != OUT_LOSS && c->out != OUT_NONE;
    float *grad = want_grad ? out : NULL;
    float *loss = want_loss ? out + (want_grad ? n : 0) : NULL;
    /* weight and class_alpha start inside the outputs */
    float *w = c->use_w ? out + (c->rows ? c->off_g % (n + 1) : 0) : NULL;
    float *ca = c->use_ca ? out + c->off_l % (n + 1) : NULL;
    if (w)
        memcpy(w, c->w, c->rows * sizeof(float));
    if (ca)
        memcpy(ca, c->ca, c->classes * sizeof(float));
    options_box box = c->box;
    box.opt.weight = w;
    box.opt.class_alpha = ca;
    arena_seal(&a);
    *mask = errors_that_apply(c, loss, grad, w, ca);
    res.rc = call(c, x, t, c->lab, c->opt_null ? NULL : &box.opt, loss, grad);
    const char *why = arena_check_free(&a, res.rc);
    if (why)
        fail(c, kernel, why);
    free(x);
    free(t);
    return res;
}

static result run(const spec *c, const char *kernel, int threads, unsigned *mask)
{
    focal_set_num_threads(threads);
    if (c->overflow)
        return run_overflow(c, kernel, mask);
    if (c->overlap)
        return run_overlap(c, kernel, mask);

    result res = { 0, NULL, NULL, 0 };
    res.loss_n = effective_reduction(c) == FOCAL_REDUCTION_NONE ? c->n : 1;
    buffers b;
    const float *x = buffers_outputs(&b, c->out, c->x, c->n, res.loss_n, c->off_x, c->off_l, c->off_g);
    const float *t = buffers_input(&b, "targets", c->t, c->n * sizeof(float), c->off_t);
    const int32_t *lab = buffers_input(&b, "labels", c->lab, c->rows * sizeof(int32_t), 0);
    options_box box;
    memcpy(&box, &c->box, sizeof box);
    box.opt.class_alpha =
        c->use_ca ? buffers_input(&b, "class_alpha", c->ca, c->classes * sizeof(float), 0) : NULL;
    box.opt.weight = c->use_w ? buffers_input(&b, "weight", c->w, c->rows * sizeof(float), 0) : NULL;
    buffers_watch(&b, "options", &box, sizeof box);

    *mask = errors_that_apply(c, b.loss.data, b.grad.data, box.opt.weight, box.opt.class_alpha);
    res.rc = call(c, x, t, lab, c->opt_null ? NULL : &box.opt, b.loss.data, b.grad.data);
    char msg[160];
    const char *why = buffers_done(&b, &res, msg, sizeof msg);
    if (why)
        fail(c, kernel, why);
    return res;
}

static void check_rc(const spec *c, const char *kernel, int rc, unsigned mask)
{
    char msg[200];
    if (rc_check(rc, mask, bad_target(c), msg, sizeof msg))
        fail(c, kernel, msg);
}

static void compare(const spec *c, const char *kernel, const char *what, const result *a,
                    const result *ref)
{
    char msg[200];
    if (a->rc != ref->rc) {
        snprintf(msg, sizeof msg, "%s: return code %d, reference %d", what, a->rc, ref->rc);
        fail(c, kernel, msg);
    }
    if (a->rc != FOCAL_OK)
        return;
    if ((ref->loss && !same(a->loss, ref->loss, ref->loss_n)) ||
        (ref->grad && !same(a->grad, ref->grad, c->n))) {
        const float *p = ref->loss && !same(a->loss, ref->loss, ref->loss_n) ? a->loss : a->grad;
        const float *q = p == a->loss ? ref->loss : ref->grad;
        const size_t len = p == a->loss ? ref->loss_n : c->n;
        for (size_t i = 0; i < len; i++)
            if (bits_of(p[i]) != bits_of(q[i])) {
                fprintf(stderr, "%s[%zu]: 0x%08x (%a) vs reference 0x%08x (%a); x=%a t=%a%s\n",
                        p == a->loss ? "loss" : "grad", i, bits_of(p[i]), (double)p[i],
                        bits_of(q[i]), (double)q[i], (double)c->x[i % (c->n ? c->n : 1)],
                        c->labels_api ? (double)c->lab[i / (c->classes ? c->classes : 1)]
                                      : (double)c->t[i % (c->n ? c->n : 1)],
                        c->labels_api ? " (label)" : "");
                break;
            }
        snprintf(msg, sizeof msg, "%s: output bits differ from the reference", what);
        fail(c, kernel, msg);
    }
}

/* Dense with options that add nothing must be 1.0's bits. */
static void check_vs_1_0(const spec *c, const result *ref)
{
    const focal_options *o = &c->box.opt;
    if (c->labels_api || ref->rc != FOCAL_OK || c->use_ca || c->use_w || c->overlap)
        return;
    if (!c->opt_null && (o->label_smoothing > 0.0f || o->normalizer > 0.0f))
        return;
    const float alpha = c->opt_null ? 0.25f : o->alpha, gamma = c->opt_null ? 2.0f : o->gamma;
    const int red = effective_reduction(c);
    result r = { 0, NULL, NULL, ref->loss_n };
    r.loss = ref->loss ? malloc(ref->loss_n * sizeof(float) + 1) : NULL;
    r.grad = ref->grad ? malloc(c->n * sizeof(float) + 1) : NULL;
    float *x = malloc(c->n * sizeof(float) + 1);
    memcpy(x, c->x, c->n * sizeof(float));
    const int inplace = c->out == OUT_INPLACE || c->out == OUT_INPLACE_LOSS;
    r.rc = focal_sigmoid_loss_grad(x, c->t, c->n, alpha, gamma, red, r.loss,
                                   inplace ? x : r.grad);
    if (inplace && r.grad)
        memcpy(r.grad, x, c->n * sizeof(float));
    free(x);
    compare(c, "scalar", "dense with 1.0 options vs focal_sigmoid_loss_grad", &r, ref);
    result_free(&r);
}

/* Labels without ignored rows are one-hot dense targets. */
static void check_labels_vs_dense(spec *c, const result *ref)
{
    if (!c->labels_api || ref->rc != FOCAL_OK || c->overlap)
        return;
    for (size_t r = 0; r < c->rows; r++)
        if (c->lab[r] < 0)
            return;
    for (size_t r = 0; r < c->rows; r++)
        for (size_t k = 0; k < c->classes; k++)
            c->t[r * c->classes + k] = (int64_t)k == (int64_t)c->lab[r] ? 1.0f : 0.0f;
    c->labels_api = 0;
    unsigned mask;
    result d = run(c, "scalar", 1, &mask);
    c->labels_api = 1;
    compare(c, "scalar", "labels vs dense one-hot", &d, ref);
    result_free(&d);
}

static float pick(reader *rd, const float table[16])
{
    const uint8_t s = rd8(rd);
    return s < 16 ? table[s] : from_bits(rd32(rd));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    find_kernels();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = { data, size, 0 };
    spec c;
    memset(&c, 0, sizeof c);
    static const int thread_choice[4] = { 1, 2, 3, 1 };

    const uint8_t a = rd8(&rd);
    c.labels_api = a & 1;
    c.out = ((a >> 1) & 7) % 6;
    c.opt_null = (a >> 4) & 1;
    c.threads = thread_choice[(a >> 5) & 3];
    c.big = a >> 7;
    const uint8_t rb = rd8(&rd), cb = rd8(&rd);
    c.rows = c.big ? 1500 + (size_t)rb : rb % 41;
    c.classes = c.big ? 88 + (size_t)(cb % 9) : cb % 97;
    c.alpha = pick(&rd, alpha_table);
    c.gamma = pick(&rd, gamma_table);
    const uint8_t s = rd8(&rd);
    c.reduction = s < 3 ? s : s < 200 ? s % 3 : bad_reductions[s % 6];
    c.normalizer = pick(&rd, normalizer_table);
    c.smoothing = pick(&rd, smoothing_table);
    const uint8_t f = rd8(&rd);
    c.use_ca = f & 1;
    c.use_w = (f >> 1) & 1;
    c.size_variant = (f >> 2) & 3;
    c.overlap = (f >> 4) & 1;
    const int target_mode = (f >> 5) & 3;
    c.overflow = f >> 7;
    const uint8_t codings = rd8(&rd);
    uint8_t o = rd8(&rd);
    c.off_x = o & 15;
    c.off_t = o >> 4;
    o = rd8(&rd);
    c.off_l = o & 15;
    c.off_g = o >> 4;
    const payload pl = { data + rd.i, size - rd.i };

    if (c.overflow) {
        c.rows = SIZE_MAX / 8 + rb;
        c.classes = 5 + cb % 11;
        c.big = 0;
        c.n = 0;
    } else {
        c.n = c.rows * c.classes;
    }
    if (c.opt_null)
        c.use_ca = c.use_w = 0; /* the defaults: no arrays */
    if (c.overlap && (c.out == OUT_NONE || (!c.use_ca && !c.use_w)))
        c.overlap = 0;

    const size_t n = c.n, rows = c.overflow ? 0 : c.rows;
    c.x = malloc(n * sizeof(float) + 1);
    c.t = malloc(n * sizeof(float) + 1);
    c.ca = malloc(c.classes * sizeof(float) + 1);
    c.w = malloc(rows * sizeof(float) + 1);
    c.lab = malloc(rows * sizeof(int32_t) + 1);
    for (size_t i = 0; i < n; i++) {
        const size_t at = 4 * i;
        const uint32_t u = p32(&pl, at);
        switch (codings & 3) {
        case 0: c.x[i] = from_bits(u); break;
        case 1: c.x[i] = (float)(int16_t)(u & 0xffff) / 256.0f; break;
        case 2: c.x[i] = (float)(int8_t)u / 4.0f; break;
        default: c.x[i] = (u & 0xff) < 64 ? special_logits[u % 16] : from_bits(u); break;
        }
        const uint32_t v = p32(&pl, pl.n / 2 + at);
        switch (target_mode) {
        case 0: c.t[i] = (float)(v & 1); break;
        case 1: c.t[i] = (float)(v >> 8) / 16777216.0f; break;
        case 2: c.t[i] = (v & 0xff) < 96 ? 0.0f : (v & 0xff) < 192 ? 1.0f : (float)(v >> 8) / 16777216.0f; break;
        default: c.t[i] = (v & 0xff) < 250 ? (float)(v & 1) : from_bits(v); break;
        }
    }
    for (size_t k = 0; k < c.classes; k++) {
        const uint32_t u = p32(&pl, pl.n / 5 + 4 * k);
        c.ca[k] = ((codings >> 2) & 3) == 3 && (u & 0xff) >= 224 ? from_bits(u)
                                                                  : (float)(u >> 8) / 16777215.0f;
    }
    for (size_t r = 0; r < rows; r++) {
        const uint32_t u = p32(&pl, pl.n / 7 + 4 * r);
        switch ((codings >> 4) & 3) {
        case 0: case 1: c.w[r] = (float)(u & 0xff) / 64.0f; break;
        case 2: c.w[r] = (float)(int8_t)u; break;
        default: c.w[r] = from_bits(u); break;
        }
        const uint32_t l = p32(&pl, pl.n / 3 + 4 * r);
        const int64_t cl = (int64_t)c.classes;
        switch (codings >> 6) {
        case 0: c.lab[r] = (int32_t)((int64_t)(l % (uint32_t)(cl + 2)) - 1); break;  /* -1..classes */
        case 1: c.lab[r] = (int32_t)(cl ? l % (uint32_t)cl : 0); break;              /* no ignored */
        case 2: c.lab[r] = (int32_t)((int64_t)(l % (uint32_t)(cl + 5)) - 3); break;  /* -3..classes+1 */
        default: c.lab[r] = (int32_t)l; break;
        }
    }

    options_fill(&c.box, c.alpha, c.gamma, c.reduction, c.normalizer, c.smoothing, c.size_variant,
                 rb, cb);

    /* Reference: scalar on one thread (big: the best kernel, see fuzz_sigmoid.c). */
    const char *ref_kernel = c.big ? kernels[kernel_count - 1] : "scalar";
    if (c.big && c.threads < 2)
        c.threads = 2;
    focal_set_isa(ref_kernel);
    unsigned mask;
    result ref = run(&c, ref_kernel, 1, &mask);
    check_rc(&c, ref_kernel, ref.rc, mask);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s rows=%zu classes=%zu out=%d opt_null=%d -> %d (%s)\n",
                c.labels_api ? "labels" : "dense", c.rows, c.classes, c.out, c.opt_null, ref.rc,
                focal_strerror(ref.rc));
    if (!c.big && !c.overflow) {
        check_vs_1_0(&c, &ref);
        check_labels_vs_dense(&c, &ref);
    }

    const int first = c.big ? (int)(rb % kernel_count) : 0;
    const int last = c.big ? first + 1 : c.overflow ? 0 : kernel_count;
    for (int k = first; k < last; k++) {
        focal_set_isa(kernels[k]);
        result r = run(&c, kernels[k], c.threads, &mask);
        compare(&c, kernels[k], "kernel vs reference", &r, &ref);
        result_free(&r);
    }
    result_free(&ref);
    restore_defaults();
    free(c.x);
    free(c.t);
    free(c.ca);
    free(c.w);
    free(c.lab);
    return 0;
}
