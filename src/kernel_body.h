/* SPDX-License-Identifier: MIT */
/*
 * The focal-loss kernel, written once over a small vector vocabulary.
 *
 * Each ISA file (kernel_scalar.c, x86/kernel_avx2.c, x86/kernel_avx512.c,
 * arm/kernel_neon.c) defines the vocabulary below for its own vector type and
 * then includes this file, which emits `const focal_kernel focal_kernel_<isa>`.
 * Because every ISA runs the very same sequence of IEEE operations (explicit
 * FMAs, -ffp-contract=off, SLEEF functions that return the same bits in every
 * ISA) and the same lane layout for the sum, all kernels agree bit for bit.
 *
 * Shape: a block is walked in chunks of FOCAL_CHUNK elements, and each chunk
 * in phases. The SLEEF calls (exp, log) each get a loop of their own that
 * writes a small stack array; the arithmetic runs last, in one call-free loop.
 * SLEEF's functions are opaque calls and every vector register is
 * caller-saved, so one fused loop spills all its live values around each
 * call; split, the calls stream like a benchmark of the function alone and
 * the arithmetic keeps its registers (about 2x on AVX2). Phases change the
 * order in which elements are visited, never the operations on an element.
 *
 * Vocabulary the includer provides (W = FOCAL_W lanes per vector):
 *   vf, vm                       float vector, lane mask
 *   v_load(p), v_store(p, v)     W floats, unaligned
 *   v_load_n(p, k)               first k < W floats, other lanes 0, no read past p+k
 *   v_store_n(p, v, k)           first k < W floats, no write past p+k
 *   v_keep_n(v, k)               lanes >= k set to +0
 *   v_set(f) v_add v_sub v_mul v_div v_fma(a,b,c)=a*b+c (one rounding)
 *   v_max(a, 0) (x86 maxps semantics), v_abs, v_neg
 *   v_eq v_ge -> vm, m_or, m_all, m_any, m_none(), v_select(m, a, b)
 *   v_outside01(t) -> vm         t < 0, t > 1 or NaN
 *   v_isnan v_isinf v_outside_finite (NaN or inf) -> vm, m_and
 *   v_exp v_log                  SLEEF: exp 1.0-ULP, log 3.5-ULP (u35)
 *   v_log_fast                   SLEEF, 3.5-ULP log (for log(1 + e), u in [1, 2])
 *   vacc, acc_zero(), acc_add(&acc, k, v) (v holds lanes k*W .. k*W+W-1 of
 *   the 16), acc_store(&acc, double[16])
 *   FOCAL_KERNEL_ID              the ISA's identifier, e.g. avx512
 *   FOCAL_KERNEL_NAME            its public name, e.g. "avx512"
 */
#include <math.h>
#include <stdint.h>

#include "focal_internal.h"

#if FOCAL_LANES % FOCAL_W != 0
#error "a vector must divide the 16 logical lanes"
#endif

#define FOCAL_INLINE static inline __attribute__((always_inline))

#define FOCAL_CHUNK 256

typedef struct {
    vf zero, one, qnan, alpha_pos, alpha_neg, gamma, scale;
} focal_consts;

/* Per-chunk scratch, written by the call phases, read by the final one. */
typedef struct {
    _Alignas(64) float e[FOCAL_CHUNK];     /* exp(-|x|)                      */
    _Alignas(64) float r[FOCAL_CHUNK];     /* 1 / (1 + e)                    */
    _Alignas(64) float l[FOCAL_CHUNK];     /* log1p(e)                       */
    /* gamma outside {0, 1, 2, 3} only */
    _Alignas(64) float p[FOCAL_CHUNK];     /* basics, kept from phase 3      */
    _Alignas(64) float pc[FOCAL_CHUNK];
    _Alignas(64) float q[FOCAL_CHUNK];
    _Alignas(64) float ce[FOCAL_CHUNK];
    _Alignas(64) float logq[FOCAL_CHUNK];  /* log q, hi + lo                 */
    _Alignas(64) float logq_lo[FOCAL_CHUNK];
    _Alignas(64) float qg[FOCAL_CHUNK];    /* q^gamma                        */
    /* Row-structured (1.1) inputs, expanded per element by prepare_rows(). */
    _Alignas(64) float t[FOCAL_CHUNK];     /* target, smoothed               */
    _Alignas(64) float apos[FOCAL_CHUNK];  /* alpha_pos / alpha_neg of its class */
    _Alignas(64) float aneg[FOCAL_CHUNK];
    _Alignas(64) float w[FOCAL_CHUNK];     /* row weight (with weights only) */
    _Alignas(64) float keep[FOCAL_CHUNK];  /* 0 in ignored rows, else 1 (labels) */
    unsigned char rows_of[FOCAL_CHUNK / FOCAL_W]; /* labels: FOCAL_VEC_* of vector j / W */
    signed char hit[FOCAL_CHUNK / FOCAL_W];       /* labels: lane of the positive class, or -1 */
} focal_scratch;

/* With labels, what the rows under one vector are: all ignored (skipped:
 * outputs 0), all kept, or a mix (computed, then masked by keep[]). */
enum { FOCAL_VEC_IGNORED, FOCAL_VEC_KEPT, FOCAL_VEC_MIXED };

/*
 * Which inputs a call has, fixed at compile time inside each loop:
 * FLAT   1.0: a target array, scalar alpha;
 * LABELS 1.1 labels with nothing else per element (the usual detector call):
 *        the loop carries no class alpha, weight or smoothing code;
 * ROWS   1.1 with class alpha, row weights or smoothing (any targets).
 * With labels (either form), vectors wholly inside ignored rows are skipped.
 */
enum { FOCAL_FORM_FLAT, FOCAL_FORM_LABELS, FOCAL_FORM_ROWS };

static const float focal_iota[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* The lanes of a vector inside one row whose target is 1: lane `hit` if the
 * row's label falls in the vector (hit >= 0), else none. */
FOCAL_INLINE vm label_mask(int hit)
{
    return hit < 0 ? m_none() : v_eq(v_load(focal_iota), v_set((float)hit));
}

/* The row-structured inputs as locals, not prm->: the scratch stores could
 * alias *prm for all the compiler knows, and it would reload every field per
 * vector. What the form excludes is NULL / 0, so its code folds away. */
typedef struct {
    size_t classes;
    const int32_t *labels;
    const float *class_alpha, *weight;
    int smoothing;
    float smooth_keep, smooth_add;
} focal_rows_in;

FOCAL_INLINE focal_rows_in rows_in(const focal_sigmoid_params *prm, const int form)
{
    const focal_rows_in in = {
        prm->classes, prm->labels,
        form == FOCAL_FORM_ROWS ? prm->class_alpha : NULL,
        form == FOCAL_FORM_ROWS ? prm->weight : NULL,
        form == FOCAL_FORM_ROWS && prm->smoothing,
        prm->smooth_keep, prm->smooth_add,
    };
    return in;
}

/* Lanes j .. j + W - 1 of the chunk one by one: a vector that straddles rows
 * (or runs past m). Element j is column col of row `row`. Same IEEE
 * operations as the vector paths, so the bits agree. Returns the lanes whose
 * raw target was invalid. */
FOCAL_INLINE vm prepare_lanes(const float *t, size_t j, size_t m, size_t row, size_t col,
                              const focal_rows_in *in, focal_scratch *s)
{
    vm bad = m_none();
    if (in->labels)
        s->rows_of[j / FOCAL_W] = FOCAL_VEC_MIXED;
    for (size_t k = j; k < j + FOCAL_W; k++) {
        if (k >= m) { /* past the end: a harmless, discarded element */
            s->t[k] = 0.0f;
            s->apos[k] = s->aneg[k] = s->w[k] = 1.0f;
            s->keep[k] = 0.0f;
            continue;
        }
        const size_t r = row + (col + (k - j)) / in->classes;
        const size_t cl = (col + (k - j)) % in->classes;
        float tk;
        if (in->labels) {
            tk = (int64_t)cl == (int64_t)in->labels[r] ? 1.0f : 0.0f;
            s->keep[k] = in->labels[r] < 0 ? 0.0f : 1.0f;
        } else {
            tk = t[k];
            if (!(tk >= 0.0f && tk <= 1.0f))
                bad = m_or(bad, v_outside01(v_set(tk)));
        }
        s->t[k] = in->smoothing ? fmaf(tk, in->smooth_keep, in->smooth_add) : tk;
        if (in->class_alpha) {
            s->apos[k] = in->class_alpha[cl];
            s->aneg[k] = 1.0f - in->class_alpha[cl];
        }
        if (in->weight)
            s->w[k] = in->weight[r];
    }
    return bad;
}

/*
 * Expands labels / targets, smoothing, class alpha and row weights into
 * per-element arrays for one chunk, whose first element has flat index
 * `first`. A vector lying inside one row (the common case: classes >= W) is
 * built with vector ops from a broadcast label and weight and a contiguous
 * slice of class_alpha; one that straddles rows (or the partial last one) is
 * built by prepare_lanes(). With labels, keep[] is only written for vectors
 * that straddle rows; the others are wholly kept or wholly ignored
 * (rows_of[]). Returns the lanes whose raw target was invalid.
 */
FOCAL_INLINE vm prepare_rows(const float *t, size_t first, size_t m,
                             const focal_rows_in *in, const focal_consts *c, focal_scratch *s)
{
    const size_t classes = in->classes;
    const vf keep_add = v_set(in->smooth_add), keep_mul = v_set(in->smooth_keep);
    vm bad = m_none();
    /* One division per chunk; rows and columns then advance by counting. */
    size_t row = first / classes, col = first - row * classes;
    for (size_t j = 0; j < m; j += FOCAL_W) {
        if (j + FOCAL_W <= m && col + FOCAL_W <= classes) {
            vf tv;
            if (in->labels) {
                const int32_t label = in->labels[row];
                const int64_t lane = (int64_t)label - (int64_t)col;
                s->rows_of[j / FOCAL_W] = label < 0 ? FOCAL_VEC_IGNORED : FOCAL_VEC_KEPT;
                tv = v_select(label_mask(lane >= 0 && lane < FOCAL_W ? (int)lane : -1), c->one, c->zero);
            } else {
                tv = v_load(t + j);
                bad = m_or(bad, v_outside01(tv));
            }
            if (in->smoothing)
                tv = v_fma(tv, keep_mul, keep_add);
            v_store(s->t + j, tv);
            if (in->class_alpha) {
                const vf ca = v_load(in->class_alpha + col);
                v_store(s->apos + j, ca);
                v_store(s->aneg + j, v_sub(c->one, ca));
            }
            if (in->weight)
                v_store(s->w + j, v_set(in->weight[row]));
        } else {
            bad = m_or(bad, prepare_lanes(t, j, m, row, col, in, s));
        }
        col += FOCAL_W;
        while (col >= classes) {
            col -= classes;
            row++;
        }
    }
    return bad;
}

/*
 * The LABELS form's preparation: per vector, which rows it covers
 * (rows_of[]) and the lane of its positive class (hit[]), which is all the
 * loops need to know of its targets (classify_label()). It
 * walks rows, not vectors: a row of 80 classes sets 10 AVX2 vectors at once.
 * Only vectors that straddle rows are expanded lane by lane.
 */
FOCAL_INLINE void prepare_labels(size_t first, size_t m, const focal_rows_in *in, focal_scratch *s)
{
    const size_t classes = in->classes;
    size_t row = first / classes;
    /* The current row covers chunk elements [a, min(end, m)). */
    size_t a = 0, end = (row + 1) * classes - first;
    for (size_t v = 0; v < (m + FOCAL_W - 1) / FOCAL_W; v++)
        s->hit[v] = -1;
    while (a < m) {
        const size_t b = end < m ? end : m;
        const int32_t label = in->labels[row];
        const unsigned char rows_of = label < 0 ? FOCAL_VEC_IGNORED : FOCAL_VEC_KEPT;
        for (size_t v = a / FOCAL_W; v <= (b - 1) / FOCAL_W; v++)
            s->rows_of[v] = rows_of;
        /* Chunk index of the positive element; wraps (and misses) when the
         * row began before the chunk and the label lies before it too. */
        const size_t at = end - classes + (size_t)label;
        if (label >= 0 && at >= a && at < b)
            s->hit[at / FOCAL_W] = (signed char)(at % FOCAL_W);
        if (a % FOCAL_W) { /* its first vector holds the end of rows before */
            const size_t j = a - a % FOCAL_W, r = (first + j) / classes;
            prepare_lanes(NULL, j, m, r, first + j - r * classes, in, s);
        }
        a = b;
        row++;
        end += classes;
    }
}

/* Element j of the chunk (a multiple of W) holding m elements: full or partial. */
FOCAL_INLINE vf load_in(const float *p, size_t j, size_t m)
{
    return j + FOCAL_W <= m ? v_load(p + j) : v_load_n(p + j, m - j);
}

/*
 * Everything cheap that follows from x, t and the phase-1 results. Stable
 * forms of DESIGN.md §1: e = exp(-|x|) never overflows, 1 - sigmoid(x) is
 * computed directly (never as 1 - p).
 *
 * Hard targets (t exactly 0 or 1) take select forms: q = pc or p,
 * ce = softplus(-+x), p - t = -pc or p, (p pc / q)(2t - 1) = p or -pc, with
 * no multiply by t or 1 - t. They equal the general forms bit for bit at
 * every finite x, and give the right limits at infinite x, where the general
 * ce would compute 0 * inf. The form is chosen per lane, so a lane's bits
 * never depend on its neighbours; a vector whose lanes are all hard simply
 * skips the general forms.
 */
typedef struct {
    vf p, pc, q, ce;
    vm is1, hard;
    int all_hard, any_hard;
} focal_basics;

FOCAL_INLINE focal_basics classify(vf t, const focal_consts *c)
{
    focal_basics b;
    b.is1 = v_eq(t, c->one);
    b.hard = m_or(b.is1, v_eq(t, c->zero));
    b.all_hard = m_all(b.hard);
    b.any_hard = m_any(b.hard);
    return b;
}

/* Per lane: the hard form where the target is hard, else the soft one. The
 * vector-wide shortcuts only skip work whose result would be discarded. */
#define HARD_OR_SOFT(b, hard_form, soft_form)                                  \
    ((b)->all_hard ? (hard_form)                                               \
                   : (b)->any_hard ? v_select((b)->hard, (hard_form), (soft_form)) \
                                   : (soft_form))

/* A vector of hard label targets inside one row: 1 in lane `hit` (if >= 0),
 * else 0. Built straight from the label, not by comparing targets. */
FOCAL_INLINE focal_basics classify_label(int hit, const focal_consts *c)
{
    focal_basics b;
    b.is1 = label_mask(hit);
    b.hard = v_eq(c->one, c->one);
    b.all_hard = 1;
    b.any_hard = 1;
    return b;
}

/* b: classify()'s result for t. */
FOCAL_INLINE focal_basics basics(focal_basics b, vf x, vf t, vf e, vf r, vf l, const focal_consts *c)
{
    const vf er = v_mul(e, r);
    const vm pos = v_ge(x, c->zero);
    b.p = v_select(pos, r, er);                          /* sigmoid(x)     */
    b.pc = v_select(pos, er, r);                         /* 1 - sigmoid(x) */
    if (b.all_hard) {
        b.q = v_select(b.is1, b.pc, b.p);                /* 1 - p_t        */
        /* softplus(-x) = -log p for t = 1, softplus(x) = -log(1 - p) for 0 */
        b.ce = v_add(v_max(v_select(b.is1, v_neg(x), x), c->zero), l);
    } else {
        const vf omt = v_sub(c->one, t);
        const vf spx = v_add(v_max(x, c->zero), l);
        const vf spnx = v_add(v_max(v_neg(x), c->zero), l);
        b.q = HARD_OR_SOFT(&b, v_select(b.is1, b.pc, b.p), v_fma(t, b.pc, v_mul(omt, b.p)));
        b.ce = HARD_OR_SOFT(&b, v_select(b.is1, spnx, spx), v_fma(t, spnx, v_mul(omt, spx)));
    }
    return b;
}

/* a_t = apos t + aneg (1 - t): apos or aneg for hard targets. */
FOCAL_INLINE vf alpha_t(vf apos, vf aneg, vf t, const focal_basics *b, const focal_consts *c)
{
    return HARD_OR_SOFT(b, v_select(b->is1, apos, aneg),
                        v_fma(apos, t, v_mul(aneg, v_sub(c->one, t))));
}

/*
 * log q as hi + lo for hard lanes, for q^g = exp(g log q). exp turns an
 * absolute error of its argument into a relative error of the result, and
 * |g log q| reaches ~87 before q^g underflows, where half an ulp of the
 * argument is 4e-6. So log q = -softplus(+-x) is kept exact as a two-sum,
 * g log q is split by an FMA, and the low part is folded back afterwards as
 * exp(hi + lo) ~ exp(hi) (1 + lo). Soft lanes take log q from SLEEF (lo = 0).
 */
FOCAL_INLINE vf hard_log_q(vf x, vf l, const focal_basics *b, const focal_consts *c, vf *lo)
{
    const vf big = v_max(v_select(b->is1, x, v_neg(x)), c->zero);
    const vf sp = v_add(big, l);                         /* big + l, rounded */
    const vf bv = v_sub(sp, big);
    *lo = v_neg(v_add(v_sub(big, v_sub(sp, bv)), v_sub(l, bv)));
    return v_neg(sp);
}

/* The gradient uses p pc / q instead of q^(gamma - 1), so it stays finite for
 * gamma < 1: dL/dx = a_t q^g [ (p - t) - g ((p pc / q)(2t - 1)) ce ].
 * `inf_x`: lanes whose logit is infinite (any_inf: there are some). There
 * sratio = 0 (p or pc is 0) meets ce = inf, and the product's limit is 0
 * (pc softplus(x) -> 0), not the NaN that 0 * inf gives. */
FOCAL_INLINE vf gradient(vf t, const focal_basics *b, vf atqg, vf scale, vm inf_x, int any_inf,
                         const focal_consts *c, const int gamma_kind)
{
    const vf npc = v_neg(b->pc);
    const vf pmt = HARD_OR_SOFT(b, v_select(b->is1, npc, b->p),                  /* p - t */
                                v_fma(b->p, v_sub(c->one, t), v_neg(v_mul(t, b->pc))));
    vf inner = pmt;
    if (gamma_kind != FOCAL_GAMMA_0) {
        /* (p pc / q)(2t - 1) is p when t = 1 (q = pc), -pc when t = 0 (q = p). */
        const vf sratio = HARD_OR_SOFT(b, v_select(b->is1, b->p, npc),
                                       v_mul(v_div(v_mul(b->p, b->pc), b->q),
                                             v_sub(v_add(t, t), c->one)));
        vf w = v_mul(v_mul(c->gamma, sratio), b->ce);
        if (any_inf)
            w = v_select(m_and(inf_x, v_eq(sratio, c->zero)), c->zero, w);
        inner = v_sub(pmt, w);
    }
    return v_mul(v_mul(atqg, inner), scale);
}

/*
 * The end of every element loop, vector j of a chunk of m: where a NaN can
 * occur, every NaN is written as the one canonical quiet NaN (which NaN comes
 * out otherwise depends on how an ISA's instructions propagate payloads and
 * signs); then the outputs are stored (inputs are all loaded by now: grad may
 * be x itself) and the loss goes to its lane sum. Past-the-end lanes of a
 * partial vector computed harmless zero inputs; their loss is cleared first.
 */
FOCAL_INLINE void finish_vector(float *loss, float *grad, size_t j, size_t m, vf lv, vf gv,
                                int nan_possible, vacc *acc, const focal_consts *c,
                                const int want_loss, const int want_grad)
{
    if (nan_possible) {
        lv = v_select(v_isnan(lv), c->qnan, lv);
        gv = v_select(v_isnan(gv), c->qnan, gv);
    }
    if (j + FOCAL_W <= m) {
        if (want_loss) v_store(loss + j, lv);
        if (want_grad) v_store(grad + j, gv);
    } else {
        if (want_loss) v_store_n(loss + j, lv, m - j);
        if (want_grad) v_store_n(grad + j, gv, m - j);
        lv = v_keep_n(lv, m - j);
    }
    acc_add(acc, (int)((j / FOCAL_W) % (FOCAL_LANES / FOCAL_W)), lv);
}

/* One chunk of m <= FOCAL_CHUNK elements starting at a multiple of 16 within
 * the block, so vector j / W feeds accumulator slot (j / W) % (16 / W). */
FOCAL_INLINE vm focal_sigmoid_chunk(const float *x, const float *t, size_t first, size_t m,
                                    const focal_sigmoid_params *prm,
                                    const focal_consts *c, float *loss, float *grad,
                                    vacc *acc, focal_scratch *s,
                                    const int gamma_kind, const int want_grad,
                                    const int want_loss, const int form)
{
    /* Row-structured inputs read their targets from the expanded scratch. */
    const int rows = form != FOCAL_FORM_FLAT;
    const int weighted = form == FOCAL_FORM_ROWS && prm->weight;
    /* A normalizer below ~3e-39 makes the gradient scale inf: 0 * inf. */
    const int scale_inf = isinf(prm->grad_scale);
    const focal_rows_in in = rows_in(prm, form);
    vm bad = m_none();
    if (form == FOCAL_FORM_LABELS)
        prepare_labels(first, m, &in, s);
    else if (rows)
        bad = prepare_rows(t, first, m, &in, c, s);
/* The LABELS form knows the targets of a vector inside one row from its
 * label lane: no target vector, no comparisons. (All its targets are hard,
 * so the t handed on is never read.) */
#define FROM_LABEL(j) (form == FOCAL_FORM_LABELS && s->rows_of[(j) / FOCAL_W] != FOCAL_VEC_MIXED)
#define TARGET(j) (FROM_LABEL(j) ? c->zero : rows ? v_load(s->t + (j)) : load_in(t, (j), m))
#define CLASSIFY(tv, j) (FROM_LABEL(j) ? classify_label(s->hit[(j) / FOCAL_W], c) : classify((tv), c))
#define BASICS(xv, tv, j)                                                          \
    basics(CLASSIFY((tv), (j)), (xv), (tv), v_load(s->e + (j)), v_load(s->r + (j)), \
           v_load(s->l + (j)), c)
/* Every lane in ignored rows: no call, no arithmetic, outputs 0. */
#define LABELS (form == FOCAL_FORM_LABELS || (rows && prm->labels))
#define IGNORED(j) (LABELS && s->rows_of[(j) / FOCAL_W] == FOCAL_VEC_IGNORED)
    size_t j;

    /* Phase 1 (call): e = exp(-|x|); and whether the chunk holds a NaN or
     * infinite logit, so that phase 5 tests its vectors only if it does. */
    vm odd = m_none();
    for (j = 0; j < m; j += FOCAL_W) {
        if (IGNORED(j))
            continue;
        const vf xv = load_in(x, j, m);
        odd = m_or(odd, v_outside_finite(xv));
        v_store(s->e + j, v_exp(v_neg(v_abs(xv))));
    }
    const int chunk_odd = m_any(odd);

    /* Phase 2 (call): r = 1 / (1 + e), and l = log1p(e) without SLEEF's
     * log1p (3x the cost of its 3.5-ulp log): log(1 + e) = log(u) +
     * log((1 + e) / u) ~ log(u) + (e - (u - 1)) / u, where u = 1 + e rounded,
     * and u - 1 and e - (u - 1) are exact. The dropped second-order term is
     * below e^2 2^-48; for e < 2^-24 (u = 1) this gives l = e r ~ e. */
    for (j = 0; j < m; j += FOCAL_W) {
        if (IGNORED(j))
            continue;
        const vf e = v_load(s->e + j);
        const vf u = v_add(c->one, e);
        const vf r = v_div(c->one, u);
        v_store(s->r + j, r);
        v_store(s->l + j, v_fma(v_sub(e, v_sub(u, c->one)), r, v_log_fast(u)));
    }

    if (gamma_kind == FOCAL_GAMMA_ANY) {
        /* Phase 3 (arithmetic): basics, kept for phase 5, and the exact
         * log q of hard lanes. */
        for (j = 0; j < m; j += FOCAL_W) {
            if (IGNORED(j))
                continue;
            const vf xv = load_in(x, j, m);
            const focal_basics b = BASICS(xv, TARGET(j), j);
            v_store(s->p + j, b.p);
            v_store(s->pc + j, b.pc);
            v_store(s->q + j, b.q);
            v_store(s->ce + j, b.ce);
            if (b.any_hard) {
                vf lo;
                v_store(s->logq + j, hard_log_q(xv, v_load(s->l + j), &b, c, &lo));
                v_store(s->logq_lo + j, lo);
            }
        }
        /* Phase 4 (calls): log q of soft lanes, then q^g = exp(g log q). */
        for (j = 0; j < m; j += FOCAL_W) {
            if (IGNORED(j))
                continue;
            const focal_basics b = CLASSIFY(TARGET(j), j);
            vf logq, logq_lo;
            if (b.all_hard) {
                logq = v_load(s->logq + j);
                logq_lo = v_load(s->logq_lo + j);
            } else if (b.any_hard) {
                logq = v_select(b.hard, v_load(s->logq + j), v_log(v_load(s->q + j)));
                logq_lo = v_select(b.hard, v_load(s->logq_lo + j), c->zero);
            } else {
                logq = v_log(v_load(s->q + j));
                logq_lo = c->zero;
            }
            const vf y = v_mul(c->gamma, logq);
            const vf y_lo = v_fma(c->gamma, logq_lo, v_fma(c->gamma, logq, v_neg(y)));
            const vf ey = v_exp(y);
            /* Where q^g underflows to 0 (y may be -inf, y_lo then NaN), it
             * stays 0: the limit, not 0 * NaN. */
            v_store(s->qg + j, v_select(v_eq(ey, c->zero), c->zero, v_fma(ey, y_lo, ey)));
        }
    }

    /* Phase 5 (arithmetic): loss, gradient, sum. */
    for (j = 0; j < m; j += FOCAL_W) {
        if (IGNORED(j)) {
            /* Adding the +0 loss would leave the lane sums as they are. */
            if (j + FOCAL_W <= m) {
                if (want_loss) v_store(loss + j, c->zero);
                if (want_grad) v_store(grad + j, c->zero);
            } else {
                if (want_loss) v_store_n(loss + j, c->zero, m - j);
                if (want_grad) v_store_n(grad + j, c->zero, m - j);
            }
            continue;
        }
        const vf tv = TARGET(j);
        const vf xv = load_in(x, j, m);
        /* Non-finite logits: rare, so one test per vector guards the fix-ups. */
        const int any_odd = chunk_odd && m_any(v_outside_finite(xv));
        const vm inf_x = any_odd ? v_isinf(xv) : m_none();
        const int any_inf = any_odd && m_any(inf_x);
        focal_basics b;
        if (gamma_kind == FOCAL_GAMMA_ANY) {
            b = CLASSIFY(tv, j);
            b.p = v_load(s->p + j);
            b.pc = v_load(s->pc + j);
            b.q = v_load(s->q + j);
            b.ce = v_load(s->ce + j);
        } else {
            b = BASICS(xv, tv, j);
        }
        vf qg;
        if (gamma_kind == FOCAL_GAMMA_0)
            qg = c->one;
        else if (gamma_kind == FOCAL_GAMMA_1)
            qg = b.q;
        else if (gamma_kind == FOCAL_GAMMA_2)
            qg = v_mul(b.q, b.q);
        else if (gamma_kind == FOCAL_GAMMA_3)
            qg = v_mul(v_mul(b.q, b.q), b.q);
        else
            qg = v_load(s->qg + j);

        vf lv, gv = c->zero;
        if (!rows) {
            const vf atqg = v_mul(alpha_t(c->alpha_pos, c->alpha_neg, tv, &b, c), qg);
            lv = v_mul(atqg, b.ce);
            if (want_grad)
                gv = gradient(tv, &b, atqg, c->scale, inf_x, any_inf, c, gamma_kind);
            if (!b.all_hard) /* 0 and 1 are valid */
                bad = m_or(bad, v_outside01(tv));
        } else {
            /* Weighted: loss w, gradient w / divisor; ignored rows exactly 0. */
            const vf at = form == FOCAL_FORM_ROWS && prm->class_alpha
                              ? alpha_t(v_load(s->apos + j), v_load(s->aneg + j), tv, &b, c)
                              : alpha_t(c->alpha_pos, c->alpha_neg, tv, &b, c);
            const vf atqg = v_mul(at, qg);
            lv = v_mul(atqg, b.ce);
            if (weighted)
                lv = v_mul(lv, v_load(s->w + j));
            if (want_grad)
                gv = gradient(tv, &b, atqg,
                              weighted ? v_mul(v_load(s->w + j), c->scale) : c->scale,
                              inf_x, any_inf, c, gamma_kind);
            if (LABELS && s->rows_of[j / FOCAL_W] == FOCAL_VEC_MIXED) {
                const vm keep = v_eq(v_load(s->keep + j), c->one);
                lv = v_select(keep, lv, c->zero);
                gv = v_select(keep, gv, c->zero);
            }
        }

        /* Only a non-finite logit (or row weight) can produce a NaN, targets
         * being checked: a NaN logit, or 0 * inf where a_t = 0 meets an
         * infinite loss. Weights are unchecked: NaN, inf. */
        finish_vector(loss, grad, j, m, lv, gv, any_odd || weighted || scale_inf, acc, c,
                      want_loss, want_grad);
    }
#undef IGNORED
#undef LABELS
#undef BASICS
#undef CLASSIFY
#undef TARGET
#undef FROM_LABEL
    return bad;
}

FOCAL_INLINE int focal_sigmoid_run_form(const float *x, const float *t, size_t first, size_t n,
                                        const focal_sigmoid_params *prm,
                                        float *loss, float *grad, double *sum,
                                        const int gamma_kind, const int want_grad,
                                        const int want_loss, const int form)
{
    const focal_consts c = {
        v_set(0.0f), v_set(1.0f), v_set(__builtin_nanf("")), v_set(prm->alpha_pos), v_set(prm->alpha_neg),
        v_set(prm->gamma), v_set(prm->grad_scale),
    };
    focal_scratch scratch;
    vacc acc = acc_zero();
    vm bad = m_none();

    for (size_t i = 0; i < n; i += FOCAL_CHUNK) {
        const size_t m = n - i < FOCAL_CHUNK ? n - i : FOCAL_CHUNK;
        bad = m_or(bad, focal_sigmoid_chunk(x + i, t ? t + i : NULL, first + i, m, prm, &c,
                                            want_loss ? loss + i : NULL,
                                            want_grad ? grad + i : NULL,
                                            &acc, &scratch, gamma_kind, want_grad, want_loss,
                                            form));
    }

    double lanes[FOCAL_LANES];
    acc_store(&acc, lanes);
    *sum = focal_lane_tree(lanes);
    return m_any(bad);
}

FOCAL_INLINE int focal_sigmoid_run(const float *x, const float *t, size_t first, size_t n,
                                   const focal_sigmoid_params *prm,
                                   float *loss, float *grad, double *sum,
                                   const int gamma_kind, const int want_grad,
                                   const int want_loss)
{
#define FOCAL_RUN_FORM(form) \
    focal_sigmoid_run_form(x, t, first, n, prm, loss, grad, sum, gamma_kind, want_grad, want_loss, form)
    if (!prm->per_element)
        return FOCAL_RUN_FORM(FOCAL_FORM_FLAT);
    if (prm->labels && !prm->class_alpha && !prm->weight && !prm->smoothing)
        return FOCAL_RUN_FORM(FOCAL_FORM_LABELS);
    return FOCAL_RUN_FORM(FOCAL_FORM_ROWS);
#undef FOCAL_RUN_FORM
}

#include "kernel_table.h"
