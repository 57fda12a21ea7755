/*
 * libFuzzer target for the rest of the 1.1 loss family: focal_softmax_labels,
 * focal_quality_focal and focal_varifocal, with focal_options (class_alpha,
 * weight, label smoothing, normalizer, the size field).
 *
 * Checked on every call:
 *   - the return code: FOCAL_OK exactly when no documented error applies;
 *     otherwise one of the errors that apply (any order: the header does
 *     not fix one among them), and FOCAL_ETARGET (a score of the quality /
 *     varifocal losses outside [0, 1] or NaN) only when nothing else
 *     applies (it is found while writing, argument errors before);
 *   - every kernel the CPU runs returns the scalar kernel's code and, on
 *     FOCAL_OK, its bits, on the thread count the input asks for;
 *   - nothing is written outside the outputs (canaries), read-only arrays
 *     and the options struct stay as they were, argument errors write
 *     nothing at all;
 *   - what the header promises on FOCAL_OK: with finite logits, gamma <= 8
 *     and weights / normalizer that cannot overflow the float range by
 *     themselves, every gradient is finite ("finite for every gamma >= 0");
 *     losses are finite (softmax rows: when the true value, at most
 *     max - min of the row's logits plus log(classes), fits in a float) and
 *     >= 0 with non-negative weights; a reduced loss is not NaN unless MEAN
 *     divides by zero counted elements; softmax rows with a label < 0 have
 *     loss 0 and gradient 0.
 *
 * Input layout (short inputs read as zeros past the end):
 *   [0]  bits 0-1 entry point: 0, 3 softmax, 1 quality, 2 varifocal;
 *        bits 2-4 outputs % 6: 0 loss+grad, 1 loss, 2 grad, 3 grad=logits,
 *        4 grad=logits + loss, 5 neither; bit 5 opt = NULL;
 *        bits 6-7 threads (1, 2, 3, 1)
 *   [1]  rows: % 41, big: 1500 + byte
 *   [2]  classes: % 41, big: 88 + byte % 9 (big: past the pool's 8 blocks);
 *        quality / varifocal take n = rows x classes elements
 *   [3]  alpha, gamma: < 16 a table entry, else 4 raw bytes follow
 *   [.]  reduction: < 3 itself, < 200: % 3, else a bad value
 *   [.]  normalizer, label_smoothing: < 16 a table entry, else 4 raw bytes
 *        (quality / varifocal: a smoothing entry below 12 means 0, so that
 *        most calls get past FOCAL_EOPTIONS)
 *   [.]  bit 0 class_alpha (quality / varifocal: only with class_alpha
 *        coding 3), 1 weight, 2-3 options size (exact, too small, larger
 *        with a zero tail, larger with a nonzero tail), 4 make an output
 *        overlap weight / class_alpha, 5-6 score coding, 7 sizes so large
 *        that the byte counts overflow size_t (FOCAL_ESIZE)
 *   [.]  0xB1: big (rare, as big inputs are slow to run), else small
 *   [.]  codings: bits 0-1 logits, 2-3 class_alpha, 4-5 weight, 6-7 labels
 *   [.]  misalignment: logits | scores << 4; loss | grad << 4
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

/* fuzz_rows.c's special_logits with larger values in place of the small ones */
static const float family_logits[16] = {
    0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, 1e-45f,
    88.7f, -88.7f, 104.0f, -104.0f, 1e30f, -1e30f, 16.0f, -87.3f,
};

enum { API_SOFTMAX, API_QUALITY, API_VARIFOCAL };
static const char *const api_names[3] = { "softmax", "quality", "varifocal" };
typedef struct {
    int api, out, opt_null, threads, big, overflow, overlap, size_variant;
    size_t rows, classes, n; /* buffers: n = rows x classes logits (and scores) */
    size_t loss_none_n;      /* loss floats for NONE: rows (softmax) or n      */
    size_t w_n;              /* weight floats: rows (softmax) or n             */
    size_t call_rows, call_n; /* what the call is told (huge with overflow)    */
    size_t off_x, off_t, off_l, off_g;
    float alpha, gamma, normalizer, smoothing;
    int reduction, use_ca, use_w;
    float *x, *s, *ca, *w; /* decoded, exact-size heap arrays */
    int32_t *lab;
    options_box box;
} spec;

static void fail(const spec *c, const char *kernel, const char *what)
{
    fprintf(stderr,
            "\nFUZZ FAILURE [%s] %s\n  %s rows=%zu classes=%zu n=%zu out=%d opt_null=%d "
            "size_variant=%d alpha=%a gamma=%a reduction=%d normalizer=%a smoothing=%a "
            "class_alpha=%d weight=%d overlap=%d overflow=%d threads=%d\n",
            kernel, what, api_names[c->api], c->rows, c->classes, c->n, c->out, c->opt_null,
            c->size_variant, (double)c->alpha, (double)c->gamma, c->reduction,
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

/* The options the call sees (the defaults for opt = NULL). */
static void effective(const spec *c, float *alpha, float *gamma, int *reduction,
                      float *normalizer, float *smoothing)
{
    if (c->opt_null) {
        *alpha = 0.25f;
        *gamma = 2.0f;
        *reduction = FOCAL_REDUCTION_MEAN;
        *normalizer = 0.0f;
        *smoothing = 0.0f;
    } else {
        *alpha = c->box.opt.alpha;
        *gamma = c->box.opt.gamma;
        *reduction = c->box.opt.reduction;
        *normalizer = c->box.opt.normalizer;
        *smoothing = c->box.opt.label_smoothing;
    }
}

/* The documented errors that apply to this call, as a mask of BIT(code),
 * FOCAL_ETARGET excluded (it only applies when nothing else does). */
static unsigned errors_that_apply(const spec *c, const float *loss, const float *grad,
                                  const float *w, const float *ca)
{
    unsigned m = 0;
    float alpha, gamma, normalizer, smoothing;
    int reduction;
    effective(c, &alpha, &gamma, &reduction, &normalizer, &smoothing);
    const int soft = c->api != API_SOFTMAX;
    if (!c->opt_null && (c->size_variant == SIZE_SMALL || c->size_variant == SIZE_LARGE_DIRTY))
        m |= BIT(FOCAL_EOPTIONS);
    if (isnan(normalizer) || isinf(normalizer) || normalizer < 0.0f)
        m |= BIT(FOCAL_ENORMALIZER);
    if (!(smoothing >= 0.0f && smoothing < 1.0f))
        m |= BIT(FOCAL_ESMOOTHING);
    if (!loss && !grad)
        m |= BIT(FOCAL_ENOOUTPUT);
    /* softmax: alpha is ignored with class_alpha; quality / varifocal: it
     * must be valid even though quality ignores it */
    if ((soft || !ca) && (isnan(alpha) || alpha > 1.0f))
        m |= BIT(FOCAL_EALPHA);
    if (!isfinite(gamma) || gamma < 0.0f)
        m |= BIT(FOCAL_EGAMMA);
    if (reduction < 0 || reduction > 2)
        m |= BIT(FOCAL_EREDUCTION);
    /* quality / varifocal: class_alpha and label_smoothing must be unset */
    if (soft && (ca || smoothing != 0.0f))
        m |= BIT(FOCAL_EOPTIONS);
    if (c->overflow)
        return m | BIT(FOCAL_ESIZE); /* the arrays' sizes are not computable */
    for (size_t k = 0; !soft && ca && k < c->classes; k++)
        if (!(ca[k] >= 0.0f && ca[k] <= 1.0f))
            m |= BIT(FOCAL_EALPHA);
    const size_t loss_bytes = reduction == FOCAL_REDUCTION_NONE ? c->loss_none_n * 4 : 4;
    if (overlaps(loss, loss_bytes, w, c->w_n * 4) || overlaps(grad, c->n * 4, w, c->w_n * 4) ||
        overlaps(loss, loss_bytes, ca, c->classes * 4) || overlaps(grad, c->n * 4, ca, c->classes * 4))
        m |= BIT(FOCAL_EOVERLAP);
    for (size_t r = 0; !soft && r < c->rows; r++)
        if ((int64_t)c->lab[r] >= (int64_t)c->classes)
            m |= BIT(FOCAL_ELABEL);
    return m;
}

static int bad_score(const spec *c)
{
    for (size_t i = 0; c->api != API_SOFTMAX && i < c->n; i++)
        if (!(c->s[i] >= 0.0f && c->s[i] <= 1.0f))
            return 1;
    return 0;
}

static int call(const spec *c, const float *x, const float *s, const int32_t *lab,
                const focal_options *opt, float *loss, float *grad)
{
    switch (c->api) {
    case API_SOFTMAX:
        return focal_softmax_labels(x, lab, c->call_rows, c->classes, opt, loss, grad);
    case API_QUALITY: return focal_quality_focal(x, s, c->call_n, opt, loss, grad);
    default: return focal_varifocal(x, s, c->call_n, opt, loss, grad);
    }
}

static int effective_reduction(const spec *c)
{
    return c->opt_null ? FOCAL_REDUCTION_MEAN : c->box.opt.reduction;
}

/* ESIZE: the byte counts overflow; nothing may be read or written. */
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
        fail(c, kernel, "the sizes overflow, yet an output was written");
    return res;
}

/* Outputs overlap weight or class_alpha: everything in one arena. */
static result run_overlap(const spec *c, const char *kernel, unsigned *mask)
{
    result res = { 0, NULL, NULL, 0 };
    const size_t n = c->n, span = n + c->loss_none_n + c->w_n + c->classes + 8;
    arena a;
    float *out = arena_alloc(&a, 2 * span);
    float *x = input_copy(c->x, n, 0), *s = input_copy(c->s, n, 0);
    const int want_loss = c->out != OUT_GRAD && c->out != OUT_INPLACE && c->out != OUT_NONE;
    const int want_grad = c->out != OUT_LOSS && c->out != OUT_NONE;
    float *grad = want_grad ? out : NULL;
    float *loss = want_loss ? out + (want_grad ? n : 0) : NULL;
    const size_t out_len = (want_grad ? n : 0) + (want_loss ? c->loss_none_n : 0);
    /* weight and class_alpha start inside the outputs */
    float *w = c->use_w ? out + c->off_g % (out_len + 1) : NULL;
    float *ca = c->use_ca ? out + c->off_l % (out_len + 1) : NULL;
    if (w)
        memcpy(w, c->w, c->w_n * sizeof(float));
    if (ca)
        memcpy(ca, c->ca, c->classes * sizeof(float));
    options_box box = c->box;
    box.opt.weight = w;
    box.opt.class_alpha = ca;
    arena_seal(&a);
    *mask = errors_that_apply(c, loss, grad, w, ca);
    res.rc = call(c, x, s, c->lab, c->opt_null ? NULL : &box.opt, loss, grad);
    const char *why = arena_check_free(&a, res.rc);
    if (why)
        fail(c, kernel, why);
    free(x);
    free(s);
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
    res.loss_n = effective_reduction(c) == FOCAL_REDUCTION_NONE ? c->loss_none_n : 1;
    buffers b;
    const float *x = buffers_outputs(&b, c->out, c->x, c->n, res.loss_n, c->off_x, c->off_l, c->off_g);
    const float *s = buffers_input(&b, "scores", c->s, c->n * sizeof(float), c->off_t);
    const int32_t *lab = buffers_input(&b, "labels", c->lab, c->rows * sizeof(int32_t), 0);
    options_box box;
    memcpy(&box, &c->box, sizeof box);
    box.opt.class_alpha =
        c->use_ca ? buffers_input(&b, "class_alpha", c->ca, c->classes * sizeof(float), 0) : NULL;
    box.opt.weight = c->use_w ? buffers_input(&b, "weight", c->w, c->w_n * sizeof(float), 0) : NULL;
    buffers_watch(&b, "options", &box, sizeof box);

    *mask = errors_that_apply(c, b.loss.data, b.grad.data, box.opt.weight, box.opt.class_alpha);
    res.rc = call(c, x, s, lab, c->opt_null ? NULL : &box.opt, b.loss.data, b.grad.data);
    char msg[160];
    const char *why = buffers_done(&b, &res, msg, sizeof msg);
    if (why)
        fail(c, kernel, why);
    return res;
}

static void check_rc(const spec *c, const char *kernel, int rc, unsigned mask)
{
    char msg[200];
    if (rc_check(rc, mask, bad_score(c), msg, sizeof msg))
        fail(c, kernel, msg);
}

/* The row (softmax) or element an output index belongs to, for messages. */
static void describe(const spec *c, int is_loss, size_t i)
{
    if (c->api == API_SOFTMAX) {
        const size_t r = is_loss || !c->classes ? i : i / c->classes;
        fprintf(stderr, "  row %zu label %d logits:", r, r < c->rows ? (int)c->lab[r] : 0);
        for (size_t k = 0; r < c->rows && k < c->classes && k < 24; k++)
            fprintf(stderr, " %a", (double)c->x[r * c->classes + k]);
        if (c->use_w && r < c->rows)
            fprintf(stderr, " weight %a", (double)c->w[r]);
        fprintf(stderr, "\n");
    } else if (i < c->n) {
        fprintf(stderr, "  x=%a s=%a", (double)c->x[i], (double)c->s[i]);
        if (c->use_w)
            fprintf(stderr, " weight %a", (double)c->w[i]);
        fprintf(stderr, "\n");
    }
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
        const int is_loss = ref->loss && !same(a->loss, ref->loss, ref->loss_n);
        const float *p = is_loss ? a->loss : a->grad;
        const float *q = is_loss ? ref->loss : ref->grad;
        const size_t len = is_loss ? ref->loss_n : c->n;
        for (size_t i = 0; i < len; i++)
            if (bits_of(p[i]) != bits_of(q[i])) {
                fprintf(stderr, "%s[%zu]: 0x%08x (%a) vs reference 0x%08x (%a)\n",
                        is_loss ? "loss" : "grad", i, bits_of(p[i]), (double)p[i],
                        bits_of(q[i]), (double)q[i]);
                if (!is_loss || len > 1)
                    describe(c, is_loss, i);
                break;
            }
        snprintf(msg, sizeof msg, "%s: output bits differ from the reference", what);
        fail(c, kernel, msg);
    }
}

/* What the header promises about an FOCAL_OK result (see the top comment). */
static void check_promises(const spec *c, const result *r)
{
    if (r->rc != FOCAL_OK || c->overlap || c->overflow)
        return;
    float alpha, gamma, normalizer, smoothing;
    int red;
    effective(c, &alpha, &gamma, &red, &normalizer, &smoothing);
    const int softmax = c->api == API_SOFTMAX;
    const size_t classes = c->classes;

    /* Ignored softmax rows: loss 0, gradient 0 (whatever their logits), as
     * long as their weight and the gradient scale are finite numbers. */
    const int finite_scale = red == FOCAL_REDUCTION_NONE || normalizer == 0.0f || normalizer >= 1e-37f;
    for (size_t row = 0; softmax && finite_scale && row < c->rows; row++) {
        if (c->lab[row] >= 0 || (c->use_w && !isfinite(c->w[row])))
            continue;
        if (r->loss && red == FOCAL_REDUCTION_NONE && r->loss[row] != 0.0f) {
            fprintf(stderr, "loss[%zu] = %a\n", row, (double)r->loss[row]);
            describe(c, 1, row);
            fail(c, "reference", "an ignored row (label < 0) has a nonzero loss");
        }
        for (size_t k = 0; r->grad && k < classes; k++)
            if (r->grad[row * classes + k] != 0.0f) {
                fprintf(stderr, "grad[%zu] = %a\n", row * classes + k,
                        (double)r->grad[row * classes + k]);
                describe(c, 0, row * classes + k);
                fail(c, "reference", "an ignored row (label < 0) has a nonzero gradient");
            }
    }

    if (!(gamma <= 8.0f))
        return;
    for (size_t i = 0; i < c->n; i++)
        if (!isfinite(c->x[i]))
            return;
    /* weight x gradient / normalizer may overflow on its own: not a promise */
    if (red != FOCAL_REDUCTION_NONE && normalizer != 0.0f && normalizer < 0x1p-20f)
        return;
    int w_small = 1, w_nonneg = 1;
    for (size_t i = 0; c->use_w && i < c->w_n; i++) {
        if (!(fabsf(c->w[i]) <= 0x1p20f))
            return;
        w_small &= fabsf(c->w[i]) <= 1.0f;
        w_nonneg &= c->w[i] >= 0.0f;
    }
    for (size_t i = 0; r->grad && i < c->n; i++)
        if (!isfinite(r->grad[i])) {
            fprintf(stderr, "grad[%zu] = %a\n", i, (double)r->grad[i]);
            describe(c, 0, i);
            fail(c, "reference", "finite logits gave a non-finite gradient");
        }
    if (!r->loss || !w_small)
        return;
    /* Softmax: the row loss is at most max - min + log(classes) (plus
     * rounding); beyond FLT_MAX / 2 it may round to inf honestly. */
    size_t counted = softmax ? 0 : c->n;
    for (size_t row = 0; softmax && row < c->rows; row++) {
        if (c->lab[row] < 0)
            continue;
        counted++;
        double lo = INFINITY, hi = -INFINITY;
        for (size_t k = 0; k < classes; k++) {
            const double v = c->x[row * classes + k];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (hi - lo > FLT_MAX / 2.0)
            return;
    }
    if (red == FOCAL_REDUCTION_NONE) {
        for (size_t i = 0; i < c->loss_none_n; i++)
            if (!isfinite(r->loss[i]) || (w_nonneg && r->loss[i] < 0.0f)) {
                fprintf(stderr, "loss[%zu] = %a\n", i, (double)r->loss[i]);
                describe(c, 1, i);
                fail(c, "reference", "finite logits gave a non-finite or negative loss");
            }
    } else if (isnan(r->loss[0]) || (w_nonneg && r->loss[0] < 0.0f)) {
        const int empty_mean = red == FOCAL_REDUCTION_MEAN && normalizer == 0.0f && counted == 0;
        if (!(empty_mean && isnan(r->loss[0])))
            fail(c, "reference", "finite logits gave a NaN or negative reduced loss");
    }
}

static float pick(reader *rd, const float table[16], uint8_t *sel)
{
    const uint8_t s = rd8(rd);
    *sel = s;
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
    static const int api_choice[4] = { API_SOFTMAX, API_QUALITY, API_VARIFOCAL, API_SOFTMAX };

    const uint8_t a = rd8(&rd);
    c.api = api_choice[a & 3];
    c.out = ((a >> 2) & 7) % 6;
    c.opt_null = (a >> 5) & 1;
    c.threads = thread_choice[a >> 6];
    const uint8_t rb = rd8(&rd), cb = rd8(&rd);
    uint8_t sel;
    c.alpha = pick(&rd, alpha_table, &sel);
    c.gamma = pick(&rd, gamma_table, &sel);
    const uint8_t s = rd8(&rd);
    c.reduction = s < 3 ? s : s < 200 ? s % 3 : bad_reductions[s % 6];
    c.normalizer = pick(&rd, normalizer_table, &sel);
    c.smoothing = pick(&rd, smoothing_table, &sel);
    if (c.api != API_SOFTMAX && sel < 12)
        c.smoothing = 0.0f;
    const uint8_t f = rd8(&rd);
    c.use_ca = f & 1;
    c.use_w = (f >> 1) & 1;
    c.size_variant = (f >> 2) & 3;
    c.overlap = (f >> 4) & 1;
    const int score_mode = (f >> 5) & 3;
    c.overflow = f >> 7;
    c.big = rd8(&rd) == 0xB1;
    const uint8_t codings = rd8(&rd);
    uint8_t o = rd8(&rd);
    c.off_x = o & 15;
    c.off_t = o >> 4;
    o = rd8(&rd);
    c.off_l = o & 15;
    c.off_g = o >> 4;
    const payload pl = { data + rd.i, size - rd.i };

    const int soft = c.api != API_SOFTMAX;
    if (soft && ((codings >> 2) & 3) != 3)
        c.use_ca = 0;
    c.rows = c.big ? 1500 + (size_t)rb : rb % 41;
    c.classes = c.big ? 88 + (size_t)(cb % 9) : cb % 41;
    if (c.overflow) {
        c.classes = 5 + cb % 11;
        c.call_rows = SIZE_MAX / 8 + rb;
        c.call_n = SIZE_MAX / 4 + 1 + rb;
        c.rows = c.n = 0;
        c.big = 0;
    } else {
        c.n = c.call_n = c.rows * c.classes;
        c.call_rows = c.rows;
    }
    c.loss_none_n = soft ? c.n : c.rows;
    c.w_n = soft ? c.n : c.rows;
    if (c.opt_null)
        c.use_ca = c.use_w = 0; /* the defaults: no arrays */
    if (c.overlap && (c.out == OUT_NONE || (!c.use_ca && !c.use_w)))
        c.overlap = 0;

    const size_t n = c.n, rows = c.rows;
    c.x = malloc(n * sizeof(float) + 1);
    c.s = malloc(n * sizeof(float) + 1);
    c.ca = malloc(c.classes * sizeof(float) + 1);
    c.w = malloc(c.w_n * sizeof(float) + 1);
    c.lab = malloc(rows * sizeof(int32_t) + 1);
    if (!c.x || !c.s || !c.ca || !c.w || !c.lab)
        abort();
    for (size_t i = 0; i < n; i++) {
        const size_t at = 4 * i;
        const uint32_t u = p32(&pl, at);
        switch (codings & 3) {
        case 0: c.x[i] = from_bits(u); break;
        case 1: c.x[i] = (float)(int16_t)(u & 0xffff) / 256.0f; break;
        case 2: c.x[i] = (float)(int8_t)u / 4.0f; break;
        default: c.x[i] = (u & 0xff) < 64 ? family_logits[u % 16] : from_bits(u); break;
        }
        const uint32_t v = p32(&pl, pl.n / 2 + at);
        const float soft_v = (float)(v >> 8) / 16777216.0f;
        switch (score_mode) {
        case 0: /* IoU-like: mostly 0, else a score in (0, 1] */
            c.s[i] = (v & 0xff) < 160 ? 0.0f : (v & 0xff) < 176 ? 1.0f : soft_v;
            break;
        case 1: c.s[i] = soft_v; break;
        case 2: /* 0, 1, or right at sigmoid(x) (where the quality factor is 0) */
            switch (v & 3) {
            case 0: c.s[i] = 0.0f; break;
            case 1: c.s[i] = 1.0f; break;
            case 2: c.s[i] = isnan(c.x[i]) ? 0.5f : 1.0f / (1.0f + expf(-c.x[i])); break;
            default: c.s[i] = nextafterf(isnan(c.x[i]) ? 0.5f : 1.0f / (1.0f + expf(-c.x[i])),
                                         (v & 4) ? 1.0f : 0.0f);
                break;
            }
            break;
        default: /* mostly valid, some raw bits: NaN, negative, > 1 */
            c.s[i] = (v & 0xff) < 240 ? ((v & 0x100) ? soft_v : (float)((v >> 9) & 1))
                                      : from_bits(v);
            break;
        }
    }
    for (size_t k = 0; k < c.classes; k++) {
        const uint32_t u = p32(&pl, pl.n / 5 + 4 * k);
        c.ca[k] = ((codings >> 2) & 3) == 3 && (u & 0xff) >= 224 ? from_bits(u)
                                                                  : (float)(u >> 8) / 16777215.0f;
    }
    for (size_t i = 0; i < c.w_n; i++) {
        const uint32_t u = p32(&pl, pl.n / 7 + 4 * i);
        switch ((codings >> 4) & 3) {
        case 0: c.w[i] = (float)(u & 0xff) / 64.0f; break;
        case 1: c.w[i] = (float)(u & 0xff) / 255.0f; break;
        case 2: c.w[i] = (float)(int8_t)u; break;
        default: c.w[i] = from_bits(u); break;
        }
    }
    for (size_t r = 0; r < rows; r++) {
        const uint32_t l = p32(&pl, pl.n / 3 + 4 * r);
        const int64_t cl = (int64_t)c.classes;
        switch (codings >> 6) {
        case 0: c.lab[r] = (int32_t)((int64_t)(l % (uint32_t)(cl + 1)) - 1); break;  /* -1..classes-1 */
        case 1: c.lab[r] = (int32_t)(cl ? l % (uint32_t)cl : 0); break;              /* no ignored */
        case 2: c.lab[r] = (int32_t)((int64_t)(l % (uint32_t)(cl + 5)) - 3); break;  /* -3..classes+1 */
        default: c.lab[r] = (int32_t)l; break;
        }
    }

    options_fill(&c.box, c.alpha, c.gamma, c.reduction, c.normalizer, c.smoothing, c.size_variant,
                 rb, cb);

    /* Reference: scalar on one thread. Big inputs (there for the pool) are
     * costly: the best kernel on one thread is the reference, and one kernel
     * (picked by rows) runs on 2 or 3 threads; small inputs check bit
     * equality between kernels. */
    const char *ref_kernel = c.big ? kernels[kernel_count - 1] : "scalar";
    if (c.big && c.threads < 2)
        c.threads = 2;
    focal_set_isa(ref_kernel);
    unsigned mask;
    result ref = run(&c, ref_kernel, 1, &mask);
    check_rc(&c, ref_kernel, ref.rc, mask);
    check_promises(&c, &ref);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s rows=%zu classes=%zu out=%d opt_null=%d -> %d (%s)\n",
                api_names[c.api], c.rows, c.classes, c.out, c.opt_null, ref.rc,
                focal_strerror(ref.rc));

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
    free(c.s);
    free(c.ca);
    free(c.w);
    free(c.lab);
    return 0;
}
