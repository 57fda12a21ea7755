/* SPDX-License-Identifier: MIT */
/*
 * What the two targets of the focal_options entry points (fuzz_rows.c: the
 * sigmoid labels / dense losses; fuzz_family.c: softmax, quality focal,
 * varifocal) share: the decoded call, running it once with its buffers
 * checked, the comparison with the reference, and the decoding steps they
 * take alike.
 *
 * The entry points come from the test descriptors (tests/entry_points.h):
 * a target only picks one by name. The call goes through the descriptor's
 * call(); what it reads (labels or targets / scores, one weight per row or
 * per element, how many positive weights, how many losses NONE writes) and
 * which documented errors apply (class_alpha, smoothing, pos_weight or the
 * alpha flag where the entry point takes none; labels past the classes, or
 * the background) follow from its flags. A new entry point with options
 * needs no code here: its name in a target's choice table.
 */
#ifndef FOCAL_FUZZ_OPTIONS_H
#define FOCAL_FUZZ_OPTIONS_H

#include "entry_points.h"
#include "fuzz_common.h"

typedef struct {
    const focal_test_entry *e; /* the entry point (tests/entry_points.c) */
    int out, opt_null, threads, big, overflow, overlap, size_variant;
    size_t rows, classes, n;  /* buffers: n = rows x classes logits (and targets) */
    size_t loss_none_n;       /* loss floats for FOCAL_REDUCTION_NONE              */
    size_t t_n;               /* target / score floats: n, or rows (EP_ROW_TARGETS) */
    size_t w_n;               /* weight floats                                     */
    size_t call_rows, call_classes; /* what the call is told (huge with overflow)  */
    size_t off_x, off_t, off_l, off_g;
    float alpha, gamma, normalizer, smoothing;
    int reduction, use_ca, use_w;
    union {
        float *t; /* fuzz_rows: targets  */
        float *s; /* fuzz_family: scores */
    };
    float *x, *ca, *w; /* decoded, exact-size heap arrays */
    float *pw;         /* 1.2 pos_weight, pw_n of them (NULL: none decoded) */
    size_t pw_n;
    int use_pw;        /* pass pos_weight (never with opt = NULL or overflow)  */
    int32_t *lab;
    options_box box;
} spec;

/* ---- the entry point, from its descriptor -------------------------------------- */

static inline int has(const spec *c, unsigned flag)
{
    return (c->e->flags & flag) != 0;
}

/* The descriptor of that name; a target's choice tables hold names only. */
static const focal_test_entry *entry_named(const char *name)
{
    const focal_test_entry *e = ep_named(name);
    if (!e) {
        fprintf(stderr, "fuzz: no entry point descriptor named %s\n", name);
        abort();
    }
    return e;
}

/* The entry points each target fixes a slot for, by descriptor name. Every
 * other descriptor with focal_options (a loss added later) takes
 * fuzz_family's fourth slot (family_entry), so that it is fuzzed without
 * a change here. */
static const char *const rows_entries[2] = { "sigmoid_dense", "sigmoid_labels" };
static const char *const family_entries[3] = { "softmax_labels", "quality_focal", "varifocal" };

/* The lengths of what the entry point reads and writes on rows x classes
 * (set c->e, c->rows, c->classes, c->n first). */
static inline void set_lengths(spec *c)
{
    c->loss_none_n = ep_loss_len(c->e, c->rows, c->classes, FOCAL_REDUCTION_NONE);
    c->w_n = has(c, EP_SCORES) ? c->n : c->rows;
    c->t_n = has(c, EP_ROW_TARGETS) ? c->rows : c->n;
}

/* pos_weight floats: what the entry point reads, or for one that takes none
 * (and must refuse it) what its kind would read. */
static inline size_t pos_weight_len(const spec *c)
{
    if (c->overflow)
        return 0; /* never passed: the sizes are not computable */
    const size_t len = ep_pos_weight_len(c->e, c->rows, c->classes);
    if (len)
        return len;
    return has(c, EP_SCORES) ? c->n : c->classes;
}

/* The call, with the buffers given (t: targets or scores). */
static int call(const spec *c, const float *x, const float *t, const int32_t *lab,
                const focal_options *opt, float *loss, float *grad)
{
    const ep_args a = {x, has(c, EP_LABELS) ? NULL : t, has(c, EP_LABELS) ? lab : NULL,
                       c->call_rows, c->call_classes, opt, loss, grad, NULL};
    return c->e->call(&a);
}

static const char *api_name(const spec *c)
{
    return c->e->name;
}

/* A target or score out of range: FOCAL_ETARGET when nothing else applies.
 * Row targets (EP_ROW_TARGETS) lie in [0, classes - 1), the others in
 * [0, 1]; regression targets (EP_REGRESSION: boxes, smooth L1) are any
 * float. */
static int bad_input(const spec *c)
{
    if (has(c, EP_REGRESSION))
        return 0;
    const double top = has(c, EP_ROW_TARGETS) ? (double)c->classes - 1.0 : 1.0;
    for (size_t i = 0; !has(c, EP_LABELS) && i < c->t_n; i++) {
        const double t = c->t[i];
        if (!(t >= 0.0 && (has(c, EP_ROW_TARGETS) ? t < top : t <= top)))
            return 1;
    }
    return 0;
}

/* The inputs behind output element i (is_loss: of the loss), for messages. */
static void describe(const spec *c, int is_loss, size_t i)
{
    if (has(c, EP_ROW_LOSS)) {
        const size_t r = is_loss || !c->classes ? i : i / c->classes;
        if (has(c, EP_LABELS))
            fprintf(stderr, "  row %zu label %d logits:", r, r < c->rows ? (int)c->lab[r] : 0);
        else if (has(c, EP_BOXES) && r < c->rows)
            fprintf(stderr, "  box %zu target %a %a %a %a pred:", r, (double)c->t[4 * r],
                    (double)c->t[4 * r + 1], (double)c->t[4 * r + 2], (double)c->t[4 * r + 3]);
        else
            fprintf(stderr, "  row %zu target %a logits:", r,
                    r < c->rows ? (double)c->t[r] : 0.0);
        for (size_t k = 0; r < c->rows && k < c->classes && k < 24; k++)
            fprintf(stderr, " %a", (double)c->x[r * c->classes + k]);
        if (c->use_w && r < c->rows)
            fprintf(stderr, " weight %a", (double)c->w[r]);
        fprintf(stderr, "\n");
    } else if (i < c->n) {
        const size_t r = c->classes ? i / c->classes : 0;
        fprintf(stderr, "  x=%a", (double)c->x[i]);
        if (has(c, EP_LABELS))
            fprintf(stderr, " label %d", (int)c->lab[r]);
        else
            fprintf(stderr, " t=%a", (double)c->t[i]);
        if (c->use_w)
            fprintf(stderr, " weight %a", (double)c->w[has(c, EP_SCORES) ? i : r]);
        fprintf(stderr, "\n");
    }
}

/* ---- hooks: each target defines these --------------------------------------- */

/* Overlap calls: weight and class_alpha start within this many floats of
 * the outputs' start (out_len: the outputs' floats). */
static size_t overlap_room(const spec *c, size_t out_len);

/* ---- one call ----------------------------------------------------------------- */

static void fail(const spec *c, const char *kernel, const char *what)
{
    fprintf(stderr,
            "\nFUZZ FAILURE [%s] %s\n  %s rows=%zu classes=%zu (told %zu x %zu) n=%zu out=%d "
            "opt_null=%d "
            "size_variant=%d alpha=%a gamma=%a reduction=%d normalizer=%a smoothing=%a "
            "class_alpha=%d weight=%d overlap=%d overflow=%d threads=%d\n",
            kernel, what, api_name(c), c->rows, c->classes, c->call_rows, c->call_classes, c->n,
            c->out, c->opt_null,
            c->size_variant, (double)c->alpha, (double)c->gamma, c->reduction,
            (double)c->normalizer, (double)c->smoothing, c->use_ca, c->use_w, c->overlap,
            c->overflow, c->threads);
    abort();
}

static inline int overlaps(const void *a, size_t an, const void *b, size_t bn)
{
    if (!a || !b || !an || !bn)
        return 0;
    const uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + bn && b0 < a0 + an;
}

/* An output (loss_bytes, grad_bytes) overlaps weight or class_alpha. */
static inline int outputs_overlap(const spec *c, const float *loss, size_t loss_bytes,
                                  const float *grad, const float *w, const float *ca)
{
    const size_t grad_bytes = c->n * 4, w_bytes = c->w_n * 4, ca_bytes = c->classes * 4;
    return overlaps(loss, loss_bytes, w, w_bytes) || overlaps(grad, grad_bytes, w, w_bytes) ||
           overlaps(loss, loss_bytes, ca, ca_bytes) || overlaps(grad, grad_bytes, ca, ca_bytes);
}

/* The option errors every entry point finds alike (a set: the order of
 * the checks does not matter). */
static inline unsigned option_errors(float normalizer, float smoothing, float gamma, int reduction,
                                     const float *loss, const float *grad)
{
    unsigned m = 0;
    if (isnan(normalizer) || isinf(normalizer) || normalizer < 0.0f)
        m |= BIT(FOCAL_ENORMALIZER);
    if (!(smoothing >= 0.0f && smoothing < 1.0f))
        m |= BIT(FOCAL_ESMOOTHING);
    if (!loss && !grad)
        m |= BIT(FOCAL_ENOOUTPUT);
    if (!isfinite(gamma) || gamma < 0.0f)
        m |= BIT(FOCAL_EGAMMA);
    if (reduction < 0 || reduction > 2)
        m |= BIT(FOCAL_EREDUCTION);
    return m;
}

static inline int effective_reduction(const spec *c)
{
    return c->opt_null ? FOCAL_REDUCTION_MEAN : c->box.opt.reduction;
}

/* The options the call sees (the defaults for opt = NULL). */
static void effective(const spec *c, float *alpha, float *gamma, int *reduction,
                      float *normalizer, float *smoothing)
{
    if (c->opt_null) {
        focal_options d;
        focal_options_init(&d);
        *alpha = d.alpha;
        *gamma = d.gamma;
        *reduction = d.reduction;
        *normalizer = d.normalizer;
        *smoothing = d.label_smoothing;
    } else {
        *alpha = c->box.opt.alpha;
        *gamma = c->box.opt.gamma;
        *reduction = c->box.opt.reduction;
        *normalizer = c->box.opt.normalizer;
        *smoothing = c->box.opt.label_smoothing;
    }
}

/* FOCAL_EPOSWEIGHT applies: a pos_weight passed holds a negative, NaN or
 * infinite value. */
static inline int pos_weight_invalid(const spec *c)
{
    for (size_t k = 0; c->use_pw && k < c->pw_n; k++)
        if (!(c->pw[k] >= 0.0f && c->pw[k] <= FLT_MAX))
            return 1;
    return 0;
}

/* The documented errors that apply to this call, as a mask of BIT(code),
 * FOCAL_ETARGET excluded (it only applies when nothing else does): the
 * descriptor's flags say which options the entry point takes, the rest
 * holds for all of them. */
static unsigned errors_that_apply(const spec *c, const float *loss, const float *grad,
                                  const float *w, const float *ca)
{
    unsigned m = 0;
    float alpha, gamma, normalizer, smoothing;
    int reduction;
    effective(c, &alpha, &gamma, &reduction, &normalizer, &smoothing);
    if (!c->opt_null && (c->size_variant == SIZE_SMALL || c->size_variant == SIZE_LARGE_DIRTY))
        m |= BIT(FOCAL_EOPTIONS);
    /* a loss of row targets or of regression targets reads neither alpha
     * nor gamma */
    const int reads_alpha_gamma = !has(c, EP_ROW_TARGETS) && !has(c, EP_REGRESSION);
    m |= option_errors(normalizer, smoothing, reads_alpha_gamma ? gamma : 0.0f, reduction, loss,
                       grad);
    /* a class_alpha replaces alpha; without one, alpha must be valid even
     * where the loss ignores it (mmdet's quality focal) */
    if (reads_alpha_gamma && (!has(c, EP_CLASS_ALPHA) || !ca) && (isnan(alpha) || alpha > 1.0f))
        m |= BIT(FOCAL_EALPHA);
    /* options the entry point does not take must stay unset */
    if ((ca && !has(c, EP_CLASS_ALPHA)) || (smoothing != 0.0f && !has(c, EP_SMOOTHING)))
        m |= BIT(FOCAL_EOPTIONS);
    if ((c->use_pw && !has(c, EP_POS_WEIGHT)) ||
        (!c->opt_null && c->box.opt.flags != 0 && !has(c, EP_QUALITY_ALPHA)))
        m |= BIT(FOCAL_EOPTIONS);
    if (c->overflow)
        return m | BIT(FOCAL_ESIZE); /* the arrays' sizes are not computable */
    for (size_t k = 0; has(c, EP_CLASS_ALPHA) && ca && k < c->classes; k++)
        if (!(ca[k] >= 0.0f && ca[k] <= 1.0f))
            m |= BIT(FOCAL_EALPHA);
    const size_t loss_bytes = reduction == FOCAL_REDUCTION_NONE ? c->loss_none_n * 4 : 4;
    if (outputs_overlap(c, loss, loss_bytes, grad, w, ca))
        m |= BIT(FOCAL_EOVERLAP);
    /* labels: classes is the background, unless the entry point has none */
    const int64_t top = (int64_t)c->classes + (has(c, EP_NO_BACKGROUND) ? 0 : 1);
    for (size_t r = 0; has(c, EP_LABELS) && r < c->rows; r++)
        if ((int64_t)c->lab[r] >= top)
            m |= BIT(FOCAL_ELABEL);
    if (has(c, EP_POS_WEIGHT) && pos_weight_invalid(c))
        m |= BIT(FOCAL_EPOSWEIGHT);
    return m;
}

/* FOCAL_ESIZE: the byte counts overflow; nothing may be read or written. */
static result run_overflow(const spec *c, const char *kernel, unsigned *mask)
{
    result res = { 0, NULL, NULL, 0 };
    float dummy_in[4] = { 0 }, out[8];
    int32_t dummy_lab[4] = { 0 };
    for (int i = 0; i < 8; i++)
        out[i] = float_of_bits(CANARY);
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
    float *x = input_copy(c->x, n, 0), *t = input_copy(c->t, c->t_n, 0);
    const int want_loss = c->out != OUT_GRAD && c->out != OUT_INPLACE && c->out != OUT_NONE;
    const int want_grad = c->out != OUT_LOSS && c->out != OUT_NONE;
    float *grad = want_grad ? out : NULL;
    float *loss = want_loss ? out + (want_grad ? n : 0) : NULL;
    const size_t room = overlap_room(c, (want_grad ? n : 0) + (want_loss ? c->loss_none_n : 0));
    /* weight and class_alpha start inside the outputs */
    float *w = c->use_w ? out + c->off_g % (room + 1) : NULL;
    float *ca = c->use_ca ? out + c->off_l % (room + 1) : NULL;
    if (w)
        memcpy(w, c->w, c->w_n * sizeof(float));
    if (ca)
        memcpy(ca, c->ca, c->classes * sizeof(float));
    options_box box = c->box;
    box.opt.weight = w;
    box.opt.class_alpha = ca;
    box.opt.pos_weight = c->use_pw ? c->pw : NULL; /* its own heap array */
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

/* One call of the active kernel on `threads` threads; checks what it wrote
 * and left alone; returns its outputs. *mask: the errors that apply. */
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
    const float *t = buffers_input(&b, "targets", c->t, c->t_n * sizeof(float), c->off_t);
    const int32_t *lab = buffers_input(&b, "labels", c->lab, c->rows * sizeof(int32_t), 0);
    options_box box;
    memcpy(&box, &c->box, sizeof box);
    box.opt.class_alpha =
        c->use_ca ? buffers_input(&b, "class_alpha", c->ca, c->classes * sizeof(float), 0) : NULL;
    box.opt.weight = c->use_w ? buffers_input(&b, "weight", c->w, c->w_n * sizeof(float), 0) : NULL;
    box.opt.pos_weight =
        c->use_pw ? buffers_input(&b, "pos_weight", c->pw, c->pw_n * sizeof(float), 0) : NULL;
    buffers_watch(&b, "options", &box, sizeof box);

    *mask = errors_that_apply(c, b.loss.data, b.grad.data, box.opt.weight, box.opt.class_alpha);
    res.rc = call(c, x, t, lab, c->opt_null ? NULL : &box.opt, b.loss.data, b.grad.data);
    char msg[160];
    const char *why = buffers_done(&b, &res, msg, sizeof msg);
    if (why)
        fail(c, kernel, why);
    return res;
}

/* ---- checks on the results ---------------------------------------------------- */

static void check_rc(const spec *c, const char *kernel, int rc, unsigned mask)
{
    char msg[200];
    if (rc_check(rc, mask, bad_input(c), msg, sizeof msg))
        fail(c, kernel, msg);
}

/* a must be ref to the bit: its return code and, on FOCAL_OK, its outputs. */
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

/* The reference call: scalar on one thread. Big inputs (there for the pool)
 * are costly: the best kernel on one thread is the reference, and one kernel
 * (picked by the rows byte rb) runs on 2 or 3 threads (run_kernels); small
 * inputs check bit equality between kernels. */
static result run_reference(spec *c)
{
    const char *ref_kernel = c->big ? kernels[kernel_count - 1] : "scalar";
    if (c->big && c->threads < 2)
        c->threads = 2;
    focal_set_isa(ref_kernel);
    unsigned mask;
    result ref = run(c, ref_kernel, 1, &mask);
    check_rc(c, ref_kernel, ref.rc, mask);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s rows=%zu classes=%zu out=%d opt_null=%d -> %d (%s)\n", api_name(c),
                c->rows, c->classes, c->out, c->opt_null, ref.rc, focal_strerror(ref.rc));
    return ref;
}

/* Every kernel against the reference; frees it and the decoded arrays. */
static void run_kernels(spec *c, result *ref, uint8_t rb)
{
    const int first = c->big ? (int)(rb % kernel_count) : 0;
    const int last = c->big ? first + 1 : c->overflow ? 0 : kernel_count;
    for (int k = first; k < last; k++) {
        focal_set_isa(kernels[k]);
        unsigned mask;
        result r = run(c, kernels[k], c->threads, &mask);
        compare(c, kernels[k], "kernel vs reference", &r, ref);
        result_free(&r);
    }
    result_free(ref);
    restore_defaults();
    free(c->x);
    free(c->t);
    free(c->ca);
    free(c->w);
    free(c->lab);
    free(c->pw);
}

/* ---- decoding ----------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    find_kernels();
    return 0;
}

/* A table entry for a byte < 16, else 4 raw bytes; *sel: the byte. */
static inline float pick(reader *rd, const float table[16], uint8_t *sel)
{
    const uint8_t s = rd8(rd);
    *sel = s;
    return s < 16 ? table[s] : float_of_bits(rd32(rd));
}

/* alpha, gamma, reduction, normalizer, label_smoothing; returns the byte
 * that picked label_smoothing. */
static inline uint8_t read_options(spec *c, reader *rd)
{
    uint8_t sel;
    c->alpha = pick(rd, alpha_table, &sel);
    c->gamma = pick(rd, gamma_table, &sel);
    const uint8_t s = rd8(rd);
    c->reduction = s < 3 ? s : s < 200 ? s % 3 : bad_reductions[s % 6];
    c->normalizer = pick(rd, normalizer_table, &sel);
    c->smoothing = pick(rd, smoothing_table, &sel);
    return sel;
}

/* The flags byte; returns the target (score) coding, bits 5-6. */
static inline int decode_flags(spec *c, uint8_t f)
{
    c->use_ca = f & 1;
    c->use_w = (f >> 1) & 1;
    c->size_variant = (f >> 2) & 3;
    c->overlap = (f >> 4) & 1;
    c->overflow = f >> 7;
    return (f >> 5) & 3;
}

/* The codings byte (returned) and the two misalignment bytes. */
static inline uint8_t read_codings_offsets(spec *c, reader *rd)
{
    const uint8_t codings = rd8(rd);
    uint8_t o = rd8(rd);
    c->off_x = o & 15;
    c->off_t = o >> 4;
    o = rd8(rd);
    c->off_l = o & 15;
    c->off_g = o >> 4;
    return codings;
}

/* opt = NULL has no arrays; an overlap needs an output and an array. */
static inline void settle_arrays(spec *c)
{
    if (c->opt_null)
        c->use_ca = c->use_w = 0;
    if (c->overlap && (c->out == OUT_NONE || (!c->use_ca && !c->use_w)))
        c->overlap = 0;
}

static inline float *alloc_floats(size_t n)
{
    float *p = malloc(n * sizeof(float) + 1);
    if (!p)
        abort();
    return p;
}

/* The decoded arrays (labels: `rows` of them), the logits and class_alpha
 * decoded from the payload (codings bits 0-1 and 2-3). */
static void decode_arrays(spec *c, const payload *pl, uint8_t codings, size_t rows,
                          const float specials[16])
{
    c->x = alloc_floats(c->n);
    c->t = alloc_floats(c->t_n);
    c->ca = alloc_floats(c->classes);
    c->w = alloc_floats(c->w_n);
    c->lab = malloc(rows * sizeof(int32_t) + 1);
    if (!c->lab)
        abort();
    for (size_t i = 0; i < c->n; i++) {
        const uint32_t u = p32(pl, 4 * i);
        switch (codings & 3) {
        case 0: c->x[i] = float_of_bits(u); break;
        case 1: c->x[i] = (float)(int16_t)(u & 0xffff) / 256.0f; break;
        case 2: c->x[i] = (float)(int8_t)u / 4.0f; break;
        default: c->x[i] = (u & 0xff) < 64 ? specials[u % 16] : float_of_bits(u); break;
        }
    }
    for (size_t k = 0; k < c->classes; k++) {
        const uint32_t u = p32(pl, pl->n / 5 + 4 * k);
        c->ca[k] = ((codings >> 2) & 3) == 3 && (u & 0xff) >= 224 ? float_of_bits(u)
                                                                   : (float)(u >> 8) / 16777215.0f;
    }
}

/* 1.2's pos_weight, n of them, when the payload asks for it (never with
 * opt = NULL or overflow): mostly in [0, 8), with coding 3 some raw bit
 * patterns (negative, NaN, inf: FOCAL_EPOSWEIGHT). Placed where no other
 * array is read from the payload. */
static void decode_pos_weight(spec *c, const payload *pl, size_t n)
{
    const uint32_t sel = p32(pl, pl->n / 11);
    c->use_pw = !c->opt_null && !c->overflow && (sel & 3) != 0;
    c->pw_n = n;
    c->pw = alloc_floats(n);
    for (size_t k = 0; k < n; k++) {
        const uint32_t u = p32(pl, pl->n / 13 + 4 * k);
        c->pw[k] = (sel & 3) == 3 && (u & 0xff) >= 240 ? float_of_bits(u) : (float)(u >> 8) / 2097152.0f;
    }
}

/* The labels (codings bits 6-7); coding 0 gives -1 up to classes - 1 + top. */
static void decode_labels(spec *c, const payload *pl, uint8_t codings, size_t rows, int64_t top)
{
    const int64_t cl = (int64_t)c->classes;
    for (size_t r = 0; r < rows; r++) {
        const uint32_t l = p32(pl, pl->n / 3 + 4 * r);
        switch (codings >> 6) {
        case 0: c->lab[r] = (int32_t)((int64_t)(l % (uint32_t)(cl + 1 + top)) - 1); break;
        case 1: c->lab[r] = (int32_t)(cl ? l % (uint32_t)cl : 0); break;             /* no ignored */
        case 2: c->lab[r] = (int32_t)((int64_t)(l % (uint32_t)(cl + 5)) - 3); break; /* -3..classes+1 */
        default: c->lab[r] = (int32_t)l; break;
        }
    }
}

#endif
