/* SPDX-License-Identifier: MIT */
/*
 * The kernel driver, written once over a small vector vocabulary: the chunk
 * loop, the call phases, q^gamma, the outputs and the lane sums of every
 * loss (docs/DESIGN.md §5). The math of each loss, one vector at a time and
 * without loops, lives in its own header (kernel_sigmoid_math.h,
 * kernel_quality_math.h, kernel_varifocal_math.h, kernel_softmax_math.h);
 * kernel_table.h, included after this file, makes each (loss, gamma kind,
 * outputs, form) a named function and emits the ISA's kernel table.
 *
 * Each ISA file (kernel_scalar.c, x86/kernel_avx2.c, x86/kernel_avx512.c,
 * arm/kernel_neon.c) defines the vocabulary below for its own vector type and
 * includes this file and kernel_table.h. Because every ISA runs the very same
 * sequence of IEEE operations (explicit FMAs, -ffp-contract=off, SLEEF
 * functions that return the same bits in every ISA) and the same lane layout
 * for the sums, all kernels agree bit for bit (docs/DESIGN.md §4.2, §4.3).
 *
 * Shape of the element-wise losses (sigmoid, quality, varifocal): a block is
 * walked in chunks of FOCAL_CHUNK elements, and each chunk in phases. The
 * SLEEF calls (exp, log) each get a loop of their own that writes a small
 * stack array; the arithmetic runs last, in one call-free loop. SLEEF's
 * functions are opaque calls and every vector register is caller-saved, so
 * one fused loop spills all its live values around each call; split, the
 * calls stream like a benchmark of the function alone and the arithmetic
 * keeps its registers (about 2x on AVX2). Phases change the order in which
 * elements are visited, never the operations on an element. The softmax
 * loss is walked by rows and segments of a row, with the same split.
 *
 * Vocabulary the includer provides (W = FOCAL_W lanes per vector, W a
 * divisor of 16; a compile-time constant, or a run-time value under
 * FOCAL_W_SCALABLE). Following Highway's rules, so that a scalable vocabulary
 * (SVE, RVV) fits: vf and vm values are only locals, arguments and return
 * values, never members of a struct or elements of an array, and no array is
 * sized by W.
 *   vf, vm                       float vector, lane mask
 *   v_load(p), v_store(p, v)     W floats, unaligned
 *   v_load_n(p, k)               first k < W floats, other lanes 0, no read past p+k
 *   v_store_n(p, v, k)           first k < W floats, no write past p+k
 *   v_keep_n(v, k)               lanes >= k set to +0
 *   v_set(f) v_add v_sub v_mul v_div v_fma(a,b,c)=a*b+c (one rounding)
 *   v_max(a, b) (x86 maxps semantics), v_abs, v_neg
 *   v_eq v_ge -> vm, m_or, m_and, m_all, m_any, m_none(), v_select(m, a, b)
 *   m_count(m)                   the number of lanes set
 *   v_max_lanes(v)               the largest lane, in any order (so only where
 *                                that cannot matter: no NaN, and the sign of a
 *                                zero maximum is never used)
 *   v_outside01(t) -> vm         t < 0, t > 1 or NaN
 *   v_isnan v_isinf v_outside_finite (NaN or inf) -> vm
 *   v_exp v_log                  SLEEF: exp 1.0-ULP, log 3.5-ULP (u35)
 *   v_log_fast                   SLEEF, 3.5-ULP log (for log(1 + e), u in [1, 2])
 *   v_atan                       SLEEF, 1.0-ULP atan (CIoU's aspect ratios)
 *   v_load4(p, &a, &b, &c, &d)   W 4-tuples (4W floats) into 4 vectors: a holds
 *                                p[0], p[4], ... (box k in lane k); v_store4 back
 *   vacc                         the 16 double lane sums (docs/DESIGN.md §4.3),
 *                                opaque here: registers in a fixed-width ISA,
 *                                double[16] in memory in the scalar kernel
 *                                (and so in a scalable one)
 *   acc_zero(&a)                 all 16 lanes +0
 *   acc_add(&a, i, v)            lanes i .. i+W-1 += (double)v, lane by lane
 *                                (i a multiple of W: element i % 16)
 *   acc_sum(&a)                  the lanes folded by focal_lane_tree()
 *   FOCAL_KERNEL_ID              the ISA's identifier, e.g. avx512
 *   FOCAL_KERNEL_NAME            its public name, e.g. "avx512"
 */
#ifndef FOCAL_KERNEL_DRIVER_H
#define FOCAL_KERNEL_DRIVER_H

#include "kernel_common.h"
#include "kernel_sigmoid_math.h"
#include "kernel_quality_math.h"
#include "kernel_varifocal_math.h"
#include "kernel_softmax_math.h"
#include "kernel_row_inputs.h"
#include "kernel_box_math.h"

/* ---- The element-wise chunk driver -------------------------------------- */

/* With labels, is vector j wholly inside ignored rows? (No call, no
 * arithmetic, outputs 0.) */
FOCAL_INLINE int chunk_ignored(const focal_chunk_scratch *s, size_t j, const focal_rows_in *in,
                               const int form)
{
    return (form == FOCAL_FORM_LABELS || (form == FOCAL_FORM_ROWS && in->labels)) &&
           s->rows_of[j] == FOCAL_VEC_IGNORED;
}

/* The LABELS form knows the targets of a vector inside one row from its
 * label lane: no target vector, no comparisons. */
FOCAL_INLINE int from_label(const focal_chunk_scratch *s, size_t j, const int form)
{
    return form == FOCAL_FORM_LABELS && s->rows_of[j] != FOCAL_VEC_MIXED;
}

/* The targets of vector j. (From labels all targets are hard, so the zero
 * handed on is never read.) */
FOCAL_INLINE vf chunk_target(const float *t, const focal_chunk_scratch *s, size_t j, size_t m,
                             const int form)
{
    if (from_label(s, j, form))
        return v_set(0.0f);
    return form != FOCAL_FORM_FLAT ? v_load(s->t + j) : load_in(t, j, m);
}

FOCAL_INLINE focal_hardness chunk_classify(vf t, const focal_chunk_scratch *s, size_t j,
                                           const int form, vm *is1, vm *hard)
{
    if (from_label(s, j, form))
        return label_classify(s->hit[j], is1, hard);
    return sigmoid_classify(t, is1, hard);
}

/*
 * One call of an element-wise loss as its phases see it: what is the same
 * for every chunk of a block, scalars and pointers only (vectors are made
 * from the scalars where they are used, so that a scalable vocabulary
 * fits). Each loss's own parameters have fields of their own. A variant
 * builds it as a local once per block and the phases, always inlined, read
 * it: the compiler sees it cannot alias the scratch stores, so its fields
 * stay in registers (a pointer to the caller's params would be reloaded
 * per vector).
 */
typedef struct {
    const float *x;
    const float *t;             /* targets or scores; unused with labels       */
    const float *w;             /* per-element weights (quality, varifocal)    */
    const float *pos_weight;    /* per-element BCE positive weights (quality)  */
    float *loss, *grad;         /* the block's outputs, NULL when not wanted   */
    size_t first;               /* flat index of x[0] (row-structured forms)   */
    focal_rows_in in;           /* the sigmoid loss's row inputs (kernel_row_inputs.h) */
    float alpha_pos, alpha_neg; /* a_t: the sigmoid loss; quality with alpha_t */
    int alpha_t;                /* quality: times a_t (Ultralytics' QFocalLoss) */
    float varifocal_alpha;      /* varifocal: the weight of its negatives      */
    float gamma;
    float grad_scale;           /* 1 / divisor of the reduction (1 for NONE)   */
    int scale_inf;              /* grad_scale is inf: a normalizer below ~3e-39 */
} focal_elem_call;

/* Phase 0: the row-structured inputs of the chunk at element i (m
 * elements), expanded into the scratch (kernel_row_inputs.h). Returns the
 * lanes whose raw target was invalid. */
FOCAL_INLINE vm phase_rows(const focal_elem_call *c, size_t i, size_t m, focal_chunk_scratch *s,
                           const int form)
{
    if (form == FOCAL_FORM_LABELS)
        prepare_labels(c->first + i, m, &c->in, s);
    else if (form == FOCAL_FORM_ROWS)
        return prepare_rows(c->t ? c->t + i : NULL, c->first + i, m, &c->in, s);
    return m_none();
}

/* Phase 1 (call): e = exp(-|x|). Returns whether the chunk holds a NaN or
 * infinite logit, so that phase 5 tests its vectors only if it does. */
FOCAL_INLINE int phase_exp(const focal_elem_call *c, size_t i, size_t m, focal_chunk_scratch *s,
                           const int form)
{
    const float *x = c->x + i;
    vm odd = m_none();
    for (size_t j = 0; j < m; j += FOCAL_W) {
        if (chunk_ignored(s, j, &c->in, form))
            continue;
        const vf xv = load_in(x, j, m);
        odd = m_or(odd, v_outside_finite(xv));
        v_store(s->e + j, v_exp(v_neg(v_abs(xv))));
    }
    return m_any(odd);
}

/* Phase 2 (call): r = 1 / (1 + e), and l = log1p(e) without SLEEF's
 * log1p (3x the cost of its 3.5-ulp log): log(1 + e) = log(u) +
 * log((1 + e) / u) ~ log(u) + (e - (u - 1)) / u, where u = 1 + e rounded,
 * and u - 1 and e - (u - 1) are exact. The dropped second-order term is
 * below e^2 2^-48; for e < 2^-24 (u = 1) this gives l = e r ~ e. */
FOCAL_INLINE void phase_log1p(const focal_elem_call *c, size_t m, focal_chunk_scratch *s,
                              const int form)
{
    const vf one = v_set(1.0f);
    for (size_t j = 0; j < m; j += FOCAL_W) {
        if (chunk_ignored(s, j, &c->in, form))
            continue;
        const vf e = v_load(s->e + j);
        const vf u = v_add(one, e);
        const vf r = v_div(one, u);
        v_store(s->r + j, r);
        v_store(s->l + j, v_fma(v_sub(e, v_sub(u, one)), r, v_log_fast(u)));
    }
}

/* Where a loss keeps the base of its power: the sigmoid loss's is q, stored
 * by phase 3 anyway. */
FOCAL_INLINE float *pow_base_store(focal_chunk_scratch *s, const enum focal_elem_loss kind)
{
    return kind == FOCAL_ELEM_SIGMOID ? s->q : s->base;
}

/* Phase 3 (arithmetic; gamma outside {0, 1, 2, 3}): the basics, kept for
 * phase 5; the power's base and, where it is exact, its log (hi + lo):
 * -softplus(-+x) in the hard lanes of the sigmoid and quality losses, and
 * in every lane log p = -softplus(-x) for varifocal. */
FOCAL_INLINE void phase_pow_bases(const focal_elem_call *c, size_t i, size_t m,
                                  focal_chunk_scratch *s, const enum focal_elem_loss kind,
                                  const int form)
{
    const float *x = c->x + i, *t = c->t ? c->t + i : NULL;
    float *const base_store = pow_base_store(s, kind);
    for (size_t j = 0; j < m; j += FOCAL_W) {
        if (chunk_ignored(s, j, &c->in, form))
            continue;
        const vf xv = load_in(x, j, m), tv = chunk_target(t, s, j, m, form);
        const vf l = v_load(s->l + j);
        vm is1, hard;
        const focal_hardness h = chunk_classify(tv, s, j, form, &is1, &hard);
        vf p, pc, q, ce, lo;
        sigmoid_basics(xv, tv, v_load(s->e + j), v_load(s->r + j), l, is1, hard, h, &p, &pc, &q,
                       &ce);
        v_store(s->p + j, p);
        v_store(s->pc + j, pc);
        v_store(s->q + j, q);
        v_store(s->ce + j, ce);
        /* Whether some lanes' log is exact, and of which q (t = 1 in the
         * lanes of log_is1: log pc, else log p). */
        int exact_log = h.any;
        vm log_is1 = is1;
        switch (kind) {
        case FOCAL_ELEM_SIGMOID: /* the base is q, stored above */
            break;
        case FOCAL_ELEM_QUALITY:
            v_store(base_store + j,
                    quality_pow_base(q, sigmoid_p_minus_t(tv, p, pc, is1, hard, h), hard, h));
            break;
        case FOCAL_ELEM_VARIFOCAL: /* log p, the log of the t = 0 q */
            exact_log = 1;
            log_is1 = m_none();
            break;
        }
        if (exact_log) {
            v_store(s->logb + j, sigmoid_hard_log_q(xv, l, log_is1, &lo));
            v_store(s->logb_lo + j, lo);
        }
    }
}

/* Phase 4 (calls; gamma outside {0, 1, 2, 3}): the log of the bases not
 * known exactly, then base^g = exp(g log base). */
FOCAL_INLINE void phase_pow(const focal_elem_call *c, size_t i, size_t m, focal_chunk_scratch *s,
                            const enum focal_elem_loss kind, const int form)
{
    const float *t = c->t ? c->t + i : NULL;
    const float *const base_store = pow_base_store(s, kind);
    const vf zero = v_set(0.0f), gamma = v_set(c->gamma);
    for (size_t j = 0; j < m; j += FOCAL_W) {
        if (chunk_ignored(s, j, &c->in, form))
            continue;
        vm is1, hard = m_none();
        focal_hardness exact = { 1, 1 }; /* lanes whose log is stored */
        switch (kind) {
        case FOCAL_ELEM_SIGMOID:
        case FOCAL_ELEM_QUALITY:
            exact = chunk_classify(chunk_target(t, s, j, m, form), s, j, form, &is1, &hard);
            break;
        case FOCAL_ELEM_VARIFOCAL:
            break;
        }
        vf logb, lo;
        if (exact.all) {
            logb = v_load(s->logb + j);
            lo = v_load(s->logb_lo + j);
        } else if (exact.any) {
            logb = v_select(hard, v_load(s->logb + j), v_log(v_load(base_store + j)));
            lo = v_select(hard, v_load(s->logb_lo + j), zero);
        } else {
            logb = v_log(v_load(base_store + j));
            lo = zero;
        }
        v_store(s->pw + j, focal_pow_from_log(gamma, logb, lo));
    }
}

/* Phase 5 (arithmetic): loss, gradient, sum. Returns the lanes whose
 * target was invalid (the flat form: rows were checked when expanded). */
FOCAL_INLINE vm phase_final(const focal_elem_call *c, size_t i, size_t m, int chunk_odd,
                            vacc *acc, focal_chunk_scratch *s, const enum focal_elem_loss kind,
                            const int gamma_kind, const int want_grad, const int want_loss,
                            const int form)
{
    const vf zero = v_set(0.0f), one = v_set(1.0f);
    const vf gamma = v_set(c->gamma), scale = v_set(c->grad_scale);
    const vf apos = v_set(c->alpha_pos), aneg = v_set(c->alpha_neg);
    const vf varifocal_alpha = v_set(c->varifocal_alpha);
    const focal_rows_in *in = &c->in;
    const float *x = c->x + i, *t = c->t ? c->t + i : NULL;
    const float *w = c->w ? c->w + i : NULL;
    const float *pos_weight = c->pos_weight ? c->pos_weight + i : NULL;
    float *loss = want_loss ? c->loss + i : NULL, *grad = want_grad ? c->grad + i : NULL;
    /* Read once: the loop's stores could alias *c for all the compiler knows
     * (the scalar kernel would reload them per element). */
    const int alpha_t = c->alpha_t, scale_inf = c->scale_inf;
    /* Row-structured inputs read their targets from the expanded scratch. */
    const int rows = form != FOCAL_FORM_FLAT;
    const int weighted = form == FOCAL_FORM_ROWS ? in->weight != NULL : w != NULL;
    /* BCE's positive weight: per class in the ROWS form, per element for the
     * quality loss; never in LABELS (the table picks ROWS for it). */
    const int pos_w = form == FOCAL_FORM_ROWS ? in->pos_weight != NULL
                      : form == FOCAL_FORM_FLAT ? pos_weight != NULL
                                                : 0;
    vm bad = m_none();
    for (size_t j = 0; j < m; j += FOCAL_W) {
        if (chunk_ignored(s, j, in, form)) {
            /* Adding the +0 loss would leave the lane sums as they are. */
            store_outputs(loss, grad, j, m, zero, zero, want_loss, want_grad);
            continue;
        }
        const vf tv = chunk_target(t, s, j, m, form);
        const vf xv = load_in(x, j, m);
        /* Non-finite logits: rare, so one test per vector guards the fix-ups. */
        const int any_odd = chunk_odd && m_any(v_outside_finite(xv));
        vm inf_x = any_odd ? v_isinf(xv) : m_none();
        int any_inf = any_odd && m_any(inf_x);
        vm is1, hard;
        const focal_hardness h = chunk_classify(tv, s, j, form, &is1, &hard);
        vf p, pc, q, ce;
        if (gamma_kind == FOCAL_GAMMA_ANY) {
            p = v_load(s->p + j);
            pc = v_load(s->pc + j);
            q = v_load(s->q + j);
            ce = v_load(s->ce + j);
        } else {
            sigmoid_basics(xv, tv, v_load(s->e + j), v_load(s->r + j), v_load(s->l + j), is1,
                           hard, h, &p, &pc, &q, &ce);
        }
        /* With a positive weight, ce becomes ce_pw (q, p and pc do not
         * change). */
        vf pwv = one;
        if (pos_w) {
            pwv = form == FOCAL_FORM_ROWS ? v_load(s->posw + j) : load_in(pos_weight, j, m);
            ce = sigmoid_ce_pos_weight(xv, tv, v_load(s->l + j), ce, pwv, is1, hard, h);
            /* pw > 1 overflows ce_pw to inf at finite logits past ~1e38,
             * where p is 0: the gradient's p ce term takes the limit 0 there
             * as at an infinite logit (the loss is inf, its correct
             * rounding). */
            const vm ce_inf = v_isinf(ce);
            inf_x = m_or(inf_x, ce_inf);
            any_inf = any_inf || m_any(ce_inf);
        }

        vf lv = v_set(__builtin_nanf("")), gv = zero;
        switch (kind) {
        case FOCAL_ELEM_SIGMOID: {
            const vf at = in->class_alpha
                              ? sigmoid_alpha_t(v_load(s->apos + j), v_load(s->aneg + j), tv,
                                                is1, hard, h)
                              : sigmoid_alpha_t(apos, aneg, tv, is1, hard, h);
            const vf qg = focal_pow(sigmoid_pow_base(q), s->pw + j, gamma_kind);
            const vf dce = pos_w ? sigmoid_dce_pos_weight(tv, p, pc, pwv, is1, hard, h)
                                 : sigmoid_p_minus_t(tv, p, pc, is1, hard, h);
            lv = sigmoid_focal(at, tv, p, pc, q, ce, dce, is1, hard, h, qg, gamma, inf_x,
                               any_inf, gamma_kind, want_grad, &gv);
            break;
        }
        case FOCAL_ELEM_QUALITY: {
            const vf pmt = sigmoid_p_minus_t(tv, p, pc, is1, hard, h);
            const vf bg = focal_pow(quality_pow_base(q, pmt, hard, h), s->pw + j, gamma_kind);
            const vf dce = pos_w ? sigmoid_dce_pos_weight(tv, p, pc, pwv, is1, hard, h) : pmt;
            lv = quality_focal(p, pc, ce, pmt, dce, is1, hard, h, bg, gamma, inf_x, any_inf,
                               gamma_kind, want_grad, &gv);
            /* Ultralytics' alpha factor: a constant of the element, so it
             * scales the loss and its gradient alike. */
            if (alpha_t) {
                const vf at = sigmoid_alpha_t(apos, aneg, tv, is1, hard, h);
                lv = v_mul(lv, at);
                gv = v_mul(gv, at);
            }
            break;
        }
        case FOCAL_ELEM_VARIFOCAL: {
            const vf pmt = sigmoid_p_minus_t(tv, p, pc, is1, hard, h);
            const vf pg = focal_pow(varifocal_pow_base(p), s->pw + j, gamma_kind);
            lv = varifocal(xv, tv, v_load(s->l + j), p, pc, ce, pmt, pg, varifocal_alpha, gamma,
                           gamma_kind, want_grad, &gv);
            break;
        }
        }
        if (!rows && !h.all) /* 0 and 1 are valid; rows were checked when expanded */
            bad = m_or(bad, v_outside01(tv));

        /* Weighted: loss w, gradient w / divisor. */
        if (weighted) {
            const vf wv = form == FOCAL_FORM_ROWS ? v_load(s->w + j) : load_in(w, j, m);
            lv = v_mul(lv, wv);
            if (want_grad)
                gv = v_mul(gv, v_mul(wv, scale));
        } else if (want_grad) {
            gv = v_mul(gv, scale);
        }
        /* Ignored rows are exactly 0. */
        if (rows && in->labels && s->rows_of[j] == FOCAL_VEC_MIXED) {
            const vm keep = v_eq(v_load(s->keep + j), one);
            lv = v_select(keep, lv, zero);
            gv = v_select(keep, gv, zero);
        }

        /* Only a non-finite logit (or weight) can produce a NaN, targets
         * being checked: a NaN logit, or 0 * inf where a zero alpha meets an
         * infinite loss. Weights are unchecked: NaN, inf. A normalizer below
         * ~3e-39 makes the gradient scale inf: 0 * inf. A positive weight
         * can make the loss inf at a finite logit, so a zero alpha too. */
        finish_vector(loss, grad, j, m, lv, gv, any_odd || weighted || scale_inf || pos_w, acc,
                      want_loss, want_grad);
    }
    return bad;
}

/*
 * One chunk of m <= FOCAL_CHUNK elements at element i of the block (a
 * multiple of 16, so vector j / W feeds lane slot (j / W) % (16 / W)),
 * phase by phase. Returns the lanes whose target was invalid.
 */
FOCAL_INLINE vm elem_chunk(const focal_elem_call *c, size_t i, size_t m, vacc *acc,
                           focal_chunk_scratch *s, const enum focal_elem_loss kind,
                           const int gamma_kind, const int want_grad, const int want_loss,
                           const int form)
{
    const vm bad = phase_rows(c, i, m, s, form);
    const int chunk_odd = phase_exp(c, i, m, s, form);
    phase_log1p(c, m, s, form);
    if (gamma_kind == FOCAL_GAMMA_ANY) {
        phase_pow_bases(c, i, m, s, kind, form);
        phase_pow(c, i, m, s, kind, form);
    }
    return m_or(bad, phase_final(c, i, m, chunk_odd, acc, s, kind, gamma_kind, want_grad,
                                 want_loss, form));
}

/*
 * One block (n <= FOCAL_BLOCK) of an element-wise loss: the chunk loop and
 * the folded lane sums. Returns nonzero when a target was invalid.
 */
FOCAL_INLINE int elem_block(const focal_elem_call *c, size_t n, double *sum,
                            const enum focal_elem_loss kind, const int gamma_kind,
                            const int want_grad, const int want_loss, const int form)
{
    focal_chunk_scratch scratch;
    vacc acc;
    acc_zero(&acc);
    vm bad = m_none();
    for (size_t i = 0; i < n; i += FOCAL_CHUNK) {
        const size_t m = n - i < FOCAL_CHUNK ? n - i : FOCAL_CHUNK;
        bad = m_or(bad, elem_chunk(c, i, m, &acc, &scratch, kind, gamma_kind, want_grad,
                                   want_loss, form));
    }
    *sum = acc_sum(&acc);
    return m_any(bad);
}

/* The sigmoid focal loss over one block, in one form. */
FOCAL_INLINE int sigmoid_block(const float *x, const float *t, size_t first, size_t n,
                               const focal_sigmoid_params *prm, float *loss, float *grad,
                               double *sum, const int gamma_kind, const int want_grad,
                               const int want_loss, const int form)
{
    const focal_elem_call c = {
        .x = x, .t = t, .loss = loss, .grad = grad, .first = first, .in = rows_in(prm, form),
        .alpha_pos = prm->alpha_pos, .alpha_neg = prm->alpha_neg, .gamma = prm->gamma,
        .grad_scale = prm->grad_scale, .scale_inf = isinf(prm->grad_scale),
    };
    return elem_block(&c, n, sum, FOCAL_ELEM_SIGMOID, gamma_kind, want_grad, want_loss, form);
}

/* A loss over scores s (quality focal, varifocal) over one block: w, pw
 * per-element weights and BCE positive weights (pw: quality only), or NULL. */
FOCAL_INLINE int score_block(const float *x, const float *s, const float *w, const float *pw,
                             size_t n, const focal_score_params *prm, float *loss, float *grad,
                             double *sum, const enum focal_elem_loss kind, const int gamma_kind,
                             const int want_grad, const int want_loss)
{
    /* Only the quality loss takes positive weights and a_t: for the others
     * they are compile-time NULL and 0, so their code folds away. */
    const int quality = kind == FOCAL_ELEM_QUALITY;
    const focal_elem_call c = {
        .x = x, .t = s, .w = w, .pos_weight = quality ? pw : NULL, .loss = loss, .grad = grad,
        .alpha_pos = prm->alpha_pos, .alpha_neg = prm->alpha_neg,
        .alpha_t = quality && prm->alpha_t,
        .varifocal_alpha = prm->varifocal_alpha, .gamma = prm->gamma,
        .grad_scale = prm->grad_scale, .scale_inf = isinf(prm->grad_scale),
    };
    return elem_block(&c, n, sum, kind, gamma_kind, want_grad, want_loss, FOCAL_FORM_FLAT);
}

/* ---- The row driver (softmax, DFL) -------------------------------------- */

/*
 * Sums over a row (S, the loss, U) go to logical lane c % 16 in double and
 * are folded by focal_lane_tree(), so they do not depend on the vector
 * width; row losses are added in row order.
 *
 * Rows of up to FOCAL_SOFTMAX_SEG classes (detectors: 80, 91) are computed
 * in batches of up to FOCAL_SOFTMAX_BATCH rows, each step of the row for
 * every row of the batch before the next step: the maxima, exp(z), S, then
 * the row scalars, then the loss and U, then the gradient. A row's steps
 * form one long dependency chain (max -> S -> log S -> U -> gradient) whose
 * horizontal sums and scalar row work cost as much as its exp calls when a
 * row is only five AVX-512 vectors; taken one row at a time the chains run
 * back to back, taken a batch at a time the rows' chains overlap and the
 * exp calls of the batch stream. Longer rows are walked one at a time in
 * segments of FOCAL_SOFTMAX_SEG classes held in scratch, recomputing exp(z)
 * per pass (the same operations, so the same bits). Either way every row
 * sees the same operations in the same order.
 */
#define FOCAL_SOFTMAX_SEG 1024 /* a multiple of 16: segments keep lane = c % 16 */
#define FOCAL_SOFTMAX_BATCH 16 /* at most, and at most SEG / row slot */

typedef struct {
    /* A segment of one row, or the row slots of a batch. */
    _Alignas(64) float e[FOCAL_SOFTMAX_SEG];  /* exp(z)                          */
    _Alignas(64) float u[FOCAL_SOFTMAX_SEG];  /* u_c                             */
    _Alignas(64) float pw[FOCAL_SOFTMAX_SEG]; /* q^gamma, gamma outside 0..3     */
} focal_softmax_scratch;

/* The row losses (enum focal_row_loss, a compile-time constant in each
 * variant): the softmax focal loss (a class index per row, < 0 ignores the
 * row) and the Distribution Focal Loss (a continuous target per row,
 * between the bins l and l + 1). */

/* A row loss's per-row targets: labels (softmax) or t (DFL). */
typedef struct {
    const int32_t *labels;
    const float *t;
} focal_row_targets;

/* Is row r ignored (exactly zero, not even read)? Only a softmax label can
 * say so: DFL targets are all checked to lie in range. */
FOCAL_INLINE int row_ignored(const focal_row_targets *tg, size_t r, const enum focal_row_loss kind)
{
    switch (kind) {
    case FOCAL_ROW_SOFTMAX: return tg->labels[r] < 0;
    case FOCAL_ROW_DFL: return 0;
    }
    return 0;
}

/* The per-row constants (scalars: broadcast where used). The target
 * weights y' are y_hit at class `label`, y_next at label + 1 and y_miss
 * elsewhere: the smoothed one-hot of the softmax loss (y_next = y_miss), or
 * DFL's wl and wr (y_miss = 0). */
typedef struct {
    float m, log_s, inv_s, q_max, log_q_max, log_q_max_lo, y_hit, y_next, y_miss, alpha;
    int64_t label;
    int one_hot; /* y' = 0 off the label (and DFL's label + 1) */
} focal_softmax_rowc;

FOCAL_INLINE void softmax_rowc(focal_softmax_rowc *rc, float mx, const focal_softmax_row *st,
                               const focal_rows_params *prm, const focal_row_targets *tg,
                               size_t r, const enum focal_row_loss kind)
{
    rc->m = mx;
    rc->log_s = st->log_s;
    rc->inv_s = st->inv_s;
    rc->q_max = st->q_max;
    rc->log_q_max = st->log_q_max;
    rc->log_q_max_lo = st->log_q_max_lo;
    rc->alpha = prm->alpha;
    switch (kind) {
    case FOCAL_ROW_SOFTMAX:
        rc->y_hit = fmaf(1.0f, prm->smooth_keep, prm->smooth_add);
        rc->y_next = rc->y_miss = prm->smooth_add;
        rc->label = tg->labels[r];
        rc->one_hot = prm->smooth_add == 0.0f;
        break;
    case FOCAL_ROW_DFL: {
        /* t in [0, classes - 1): l = floor(t) by truncation. t - l is exact
         * (Sterbenz for l >= 1); l + 1 - t is exact in double (both on t's
         * grid, far inside 53 bits) and rounded to float once. */
        const float t = tg->t[r];
        const int64_t l = (int64_t)t;
        rc->y_hit = (float)((double)(l + 1) - (double)t);
        rc->y_next = t - (float)l;
        rc->y_miss = 0.0f;
        rc->label = l;
        rc->one_hot = 1;
        break;
    }
    }
}

/*
 * The row's maximum, and whether the row holds a NaN. The maximum is
 * order-free: a NaN row is never computed, and the maximum is only used by
 * softmax_z, where +0 and -0 give the same z. So a row that is not a whole
 * number of vectors ends with the last W classes again (a class seen twice
 * changes nothing), and the lanes are folded in any order.
 */
FOCAL_INLINE float softmax_row_max(const float *x, size_t classes, int *has_nan)
{
    vf mx = v_set(-INFINITY);
    vm nan = m_none();
    size_t j = 0;
    for (; j + FOCAL_W <= classes; j += FOCAL_W) {
        const vf xv = v_load(x + j);
        nan = m_or(nan, v_isnan(xv));
        mx = v_max(xv, mx);
    }
    if (j < classes && classes >= FOCAL_W) {
        const vf xv = v_load(x + classes - FOCAL_W);
        nan = m_or(nan, v_isnan(xv));
        mx = v_max(xv, mx);
        j = classes;
    }
    float m = v_max_lanes(mx);
    int bad = m_any(nan);
    for (; j < classes; j++) { /* rows shorter than a vector */
        bad |= isnan(x[j]);
        m = x[j] > m ? x[j] : m;
    }
    *has_nan = bad;
    return m;
}

/* Call loop: e = exp(z) of one segment (len classes) into e[]. */
FOCAL_INLINE void softmax_exp(const float *x, size_t len, vf m, float *e)
{
    for (size_t j = 0; j < len; j += FOCAL_W)
        v_store(e + j, v_exp(softmax_z(load_in(x, j, len), m)));
}

/* S of one segment: its classes at the maximum (exp = 1) counted into
 * *tops (an integer count: exact in any order), the others' exp added to
 * their lanes. */
FOCAL_INLINE void softmax_sum_s(const float *e, size_t len, double *tops, vacc *acc_other)
{
    const vf zero = v_set(0.0f), one = v_set(1.0f);
    int ntop = 0;
    for (size_t j = 0; j < len; j += FOCAL_W) {
        vf ev = v_load(e + j);
        if (j + FOCAL_W > len)
            ev = v_keep_n(ev, len - j);
        const vm top = v_eq(ev, one);
        ntop += m_count(top);
        acc_add(acc_other, lane_of(j), v_select(top, zero, ev));
    }
    *tops += (double)ntop;
}

/*
 * u_c of one segment into u[], and (accumulate) the loss and U lanes.
 * x, class_alpha: the segment's first class, `first` its index in the row;
 * e[], pw[]: the segment's exp(z) and room for q^gamma.
 */
FOCAL_INLINE void softmax_terms(const float *x, const float *class_alpha, size_t first,
                                size_t len, const focal_softmax_rowc *rc, vf gamma,
                                const float *e_s, float *u_s, float *pw_s, vacc *acc_l,
                                vacc *acc_u, const enum focal_row_loss kind,
                                const int gamma_kind, const int want_grad, const int accumulate)
{
    const vf m = v_set(rc->m), log_s = v_set(rc->log_s), inv_s = v_set(rc->inv_s);
    const vf q_max = v_set(rc->q_max), y_hit = v_set(rc->y_hit), y_miss = v_set(rc->y_miss);
    const vf y_next = v_set(rc->y_next);
    const vf alpha = v_set(rc->alpha);
    size_t j, j0 = 0, j1 = len;
    if (rc->one_hot) {
        /* Without smoothing only the vector holding the label has y' a != 0.
         * Elsewhere y' a = +0, and q^g and the ratio are finite: the general
         * path would give term = +0 and u = -0, so u is written. Adding +-0
         * to a lane changes nothing (a lane starts at +0 and round-to-nearest
         * never makes it -0), so nothing is added. The label's vector is
         * then the loops' one step (none if the label is not in the
         * segment), instead of a test per vector. */
        if (want_grad)
            for (j = 0; j < len; j += FOCAL_W)
                v_store(u_s + j, v_set(-0.0f));
        int64_t d0 = rc->label - (int64_t)first, d1 = d0;
        if (kind == FOCAL_ROW_DFL) /* and label + 1, perhaps in the next vector */
            d1 = d0 + 1;
        d0 = d0 < 0 ? 0 : d0;
        d1 = d1 >= (int64_t)len ? (int64_t)len - 1 : d1;
        if (d0 > d1)
            return;
        j0 = (size_t)d0 / FOCAL_W * FOCAL_W;
        j1 = (size_t)d1 / FOCAL_W * FOCAL_W + FOCAL_W;
    }
    if (gamma_kind == FOCAL_GAMMA_ANY) {
        /* Call loop: q^g = exp(g log q); log q of the top classes from the
         * row scalars. */
        const vf log_q_max = v_set(rc->log_q_max), log_q_max_lo = v_set(rc->log_q_max_lo);
        for (j = j0; j < j1; j += FOCAL_W) {
            const vf e = v_load(e_s + j);
            const vf q = softmax_q(e, v_mul(e, inv_s), q_max);
            vf lo;
            const vf lq = softmax_log_q(e, q, log_q_max, log_q_max_lo, &lo);
            v_store(pw_s + j, focal_pow_from_log(gamma, lq, lo));
        }
    }
    for (j = j0; j < j1; j += FOCAL_W) {
        const vf e = v_load(e_s + j);
        const vf p = v_mul(e, inv_s);
        const vf q = softmax_q(e, p, q_max);
        const vf nlogp = v_sub(log_s, softmax_z(load_in(x, j, len), m));
        const vf qg = focal_pow(q, pw_s + j, gamma_kind);
        const vf ya = softmax_target_weight(rc->label - (int64_t)(first + j), y_hit, y_next,
                                            y_miss,
                                            class_alpha ? load_in(class_alpha, j, len) : alpha,
                                            kind == FOCAL_ROW_DFL);
        vf u;
        vf term = softmax_term(ya, qg, p, q, nlogp, gamma, gamma_kind, want_grad, &u);
        if (want_grad) {
            v_store(u_s + j, u);
            if (accumulate)
                acc_add(acc_u, lane_of(j), j + FOCAL_W <= len ? u : v_keep_n(u, len - j));
        }
        if (accumulate) {
            if (j + FOCAL_W > len)
                term = v_keep_n(term, len - j);
            acc_add(acc_l, lane_of(j), term);
        }
    }
}

/* dL/dx of one segment from its e[] and u[]. grad may be the segment's x. */
FOCAL_INLINE void softmax_grad_segment(float *grad, size_t len, vf big_u, vf scale, int fix_nan,
                                       const focal_softmax_rowc *rc, const float *e_s,
                                       const float *u_s)
{
    const vf inv_s = v_set(rc->inv_s), q_max = v_set(rc->q_max);
    for (size_t j = 0; j < len; j += FOCAL_W) {
        const vf e = v_load(e_s + j);
        const vf p = v_mul(e, inv_s);
        const vf q = softmax_q(e, p, q_max);
        vf g = softmax_grad(v_load(u_s + j), p, q, big_u, scale);
        if (fix_nan) /* unchecked weights: NaN and inf */
            g = v_select(v_isnan(g), v_set(__builtin_nanf("")), g);
        if (j + FOCAL_W <= len)
            v_store(grad + j, g);
        else
            v_store_n(grad + j, g, len - j);
    }
}

FOCAL_INLINE void softmax_fill(float *p, size_t n, float v)
{
    for (size_t k = 0; k < n; k++)
        p[k] = v;
}

/* The row's weighted loss, as added to the block sum. */
FOCAL_INLINE double softmax_row_loss(const vacc *acc_l, const float *w, size_t r)
{
    double row_loss = acc_sum(acc_l);
    if (w)
        row_loss *= (double)w[r];
    if (isnan(row_loss))
        row_loss = NAN;
    return row_loss;
}

/* What the first step found of a row of a batch. */
enum { FOCAL_ROW_LIVE, FOCAL_ROW_IGNORED, FOCAL_ROW_NAN };

/* Rows of classes <= FOCAL_SOFTMAX_SEG, a batch at a time (see above). */
FOCAL_INLINE double softmax_rows_batched(const float *x, const focal_row_targets *tg,
                                         const float *w, size_t rows,
                                         const focal_rows_params *prm, float *loss, float *grad,
                                         const enum focal_row_loss kind, const int gamma_kind,
                                         const int want_grad)
{
    const size_t classes = prm->classes;
    const vf gamma = v_set(prm->gamma), grad_scale = v_set(prm->grad_scale);
    const int fix_nan = w != NULL || isinf(prm->grad_scale);
    /* Each row gets a slot of whole 16-lane groups in the scratch, so that
     * its vectors, full or partial, stay inside it. */
    const size_t slot = (classes + FOCAL_LANES - 1) / FOCAL_LANES * FOCAL_LANES;
    /* classes == 0 (every row then ignored: a label must be < classes) has
     * slots of 0 floats, and any batch fits. */
    const size_t per_batch = slot != 0 && FOCAL_SOFTMAX_SEG / slot < FOCAL_SOFTMAX_BATCH
                                 ? FOCAL_SOFTMAX_SEG / slot
                                 : FOCAL_SOFTMAX_BATCH;
    focal_softmax_scratch s;
    double total = 0.0;

    for (size_t r0 = 0; r0 < rows; r0 += per_batch) {
        const size_t nb = rows - r0 < per_batch ? rows - r0 : per_batch;
        unsigned char state[FOCAL_SOFTMAX_BATCH];
        float mx[FOCAL_SOFTMAX_BATCH], big_u[FOCAL_SOFTMAX_BATCH];
        double tops[FOCAL_SOFTMAX_BATCH], others[FOCAL_SOFTMAX_BATCH];
        focal_softmax_rowc rc[FOCAL_SOFTMAX_BATCH];

        /* Step 1: each row's maximum. Ignored and NaN rows are written here
         * and never read again (grad may be x). */
        for (size_t k = 0; k < nb; k++) {
            const size_t r = r0 + k;
            float *gr = want_grad ? grad + r * classes : NULL;
            if (row_ignored(tg, r, kind)) { /* exactly zero, not even read */
                state[k] = FOCAL_ROW_IGNORED;
                if (gr) softmax_fill(gr, classes, 0.0f);
                continue;
            }
            int has_nan;
            mx[k] = softmax_row_max(x + r * classes, classes, &has_nan);
            state[k] = has_nan ? FOCAL_ROW_NAN : FOCAL_ROW_LIVE;
            if (has_nan && gr)
                softmax_fill(gr, classes, NAN);
        }

        /* Step 2 (calls): exp(z) into each row's slot. */
        for (size_t k = 0; k < nb; k++)
            if (state[k] == FOCAL_ROW_LIVE)
                softmax_exp(x + (r0 + k) * classes, classes, v_set(mx[k]), s.e + k * slot);

        /* Step 3: S as tops plus the others' lane sums; short chains of
         * additions, which overlap from row to row. */
        for (size_t k = 0; k < nb; k++) {
            if (state[k] != FOCAL_ROW_LIVE)
                continue;
            vacc acc_other;
            acc_zero(&acc_other);
            tops[k] = 0.0;
            softmax_sum_s(s.e + k * slot, classes, &tops[k], &acc_other);
            others[k] = acc_sum(&acc_other);
        }

        /* Step 4: the shared row scalars. */
        for (size_t k = 0; k < nb; k++) {
            if (state[k] != FOCAL_ROW_LIVE)
                continue;
            focal_softmax_row st;
            focal_softmax_row_stats(tops[k], others[k], gamma_kind == FOCAL_GAMMA_ANY, &st);
            softmax_rowc(&rc[k], mx[k], &st, prm, tg, r0 + k, kind);
        }

        /* Step 5: u, the row losses (added in row order) and U. */
        for (size_t k = 0; k < nb; k++) {
            const size_t r = r0 + k;
            if (state[k] != FOCAL_ROW_LIVE) {
                const int nan_row = state[k] == FOCAL_ROW_NAN;
                if (loss) loss[r] = nan_row ? NAN : 0.0f;
                if (nan_row) total += NAN;
                continue;
            }
            vacc acc_l, acc_u;
            acc_zero(&acc_l);
            acc_zero(&acc_u);
            softmax_terms(x + r * classes, prm->class_alpha, 0, classes, &rc[k], gamma,
                          s.e + k * slot, s.u + k * slot, s.pw + k * slot, &acc_l, &acc_u,
                          kind, gamma_kind, want_grad, 1);
            const double row_loss = softmax_row_loss(&acc_l, w, r);
            if (loss)
                loss[r] = (float)row_loss;
            total += row_loss;
            if (want_grad)
                big_u[k] = (float)acc_sum(&acc_u);
        }

        /* Step 6: the gradient. */
        if (want_grad)
            for (size_t k = 0; k < nb; k++) {
                if (state[k] != FOCAL_ROW_LIVE)
                    continue;
                const size_t r = r0 + k;
                const vf scale = w ? v_mul(v_set(w[r]), grad_scale) : grad_scale;
                softmax_grad_segment(grad + r * classes, classes, v_set(big_u[k]), scale,
                                     fix_nan, &rc[k], s.e + k * slot, s.u + k * slot);
            }
    }
    return total;
}

/* Rows of more than FOCAL_SOFTMAX_SEG classes, one at a time, in segments. */
FOCAL_INLINE double softmax_rows_long(const float *x, const focal_row_targets *tg,
                                      const float *w, size_t rows,
                                      const focal_rows_params *prm, float *loss, float *grad,
                                      const enum focal_row_loss kind, const int gamma_kind,
                                      const int want_grad)
{
    const size_t classes = prm->classes;
    const vf gamma = v_set(prm->gamma), grad_scale = v_set(prm->grad_scale);
    const int fix_nan = w != NULL || isinf(prm->grad_scale);
    focal_softmax_scratch s;
    double total = 0.0;

    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * classes;
        float *gr = want_grad ? grad + r * classes : NULL;
        if (row_ignored(tg, r, kind)) { /* exactly zero, not even read */
            if (loss) loss[r] = 0.0f;
            if (gr) softmax_fill(gr, classes, 0.0f);
            continue;
        }
        int has_nan;
        const float mx = softmax_row_max(xr, classes, &has_nan);
        if (has_nan) {
            if (loss) loss[r] = NAN;
            if (gr) softmax_fill(gr, classes, NAN);
            total += NAN;
            continue;
        }
        const vf m = v_set(mx);

        /* S in 16 double lanes, as the count of the top classes (exp = 1)
         * plus the sum of the others, then the shared row scalars. */
        double tops = 0.0;
        vacc acc_other;
        acc_zero(&acc_other);
        size_t o, len;
        for (o = 0; o < classes; o += len) {
            len = classes - o < FOCAL_SOFTMAX_SEG ? classes - o : FOCAL_SOFTMAX_SEG;
            softmax_exp(xr + o, len, m, s.e);
            softmax_sum_s(s.e, len, &tops, &acc_other);
        }
        focal_softmax_row st;
        focal_softmax_row_stats(tops, acc_sum(&acc_other), gamma_kind == FOCAL_GAMMA_ANY, &st);
        focal_softmax_rowc rc;
        softmax_rowc(&rc, mx, &st, prm, tg, r, kind);

        /* Loss and U. */
        vacc acc_l, acc_u;
        acc_zero(&acc_l);
        acc_zero(&acc_u);
        for (o = 0; o < classes; o += len) {
            len = classes - o < FOCAL_SOFTMAX_SEG ? classes - o : FOCAL_SOFTMAX_SEG;
            softmax_exp(xr + o, len, m, s.e);
            softmax_terms(xr + o, prm->class_alpha ? prm->class_alpha + o : NULL, o, len, &rc,
                          gamma, s.e, s.u, s.pw, &acc_l, &acc_u, kind, gamma_kind, want_grad,
                          1);
        }
        const double row_loss = softmax_row_loss(&acc_l, w, r);
        if (loss)
            loss[r] = (float)row_loss;
        total += row_loss;

        if (want_grad) {
            const vf big_u = v_set((float)acc_sum(&acc_u));
            const vf scale = w ? v_mul(v_set(w[r]), grad_scale) : grad_scale;
            for (o = 0; o < classes; o += len) {
                len = classes - o < FOCAL_SOFTMAX_SEG ? classes - o : FOCAL_SOFTMAX_SEG;
                softmax_exp(xr + o, len, m, s.e);
                softmax_terms(xr + o, prm->class_alpha ? prm->class_alpha + o : NULL, o, len,
                              &rc, gamma, s.e, s.u, s.pw, &acc_l, &acc_u, kind, gamma_kind, 1,
                              0);
                softmax_grad_segment(gr + o, len, big_u, scale, fix_nan, &rc, s.e, s.u);
            }
        }
    }
    return total;
}

/*
 * DFL rows of at most FOCAL_DFL_NARROW bins (box distributions have 16 or
 * 17), W rows at a time, one row per lane. A row of 16 bins is a single
 * AVX-512 vector: walked as a row (softmax_rows_batched) its cost is the
 * per-row work around its one exp call (the maximum and three sums across
 * lanes, the row scalars in double, a log1p), about 40 ns. Across rows,
 * every per-row quantity is a lane of a vector and every step an ordinary
 * vector operation: the maximum, S and the weights are a few operations per
 * bin for W rows at once, and the row's log S one vector log.
 *
 * Each lane runs one row through the same IEEE operations in the same order
 * whatever W is, so every kernel gives the same bits (the rows of a group
 * and the lanes they land in differ between kernels; a lane's result does
 * not depend on its neighbours). The row's sums run over the bins in order,
 * in float:
 *
 *   m      = max_c x_c; z_c = x_c - m (0 at the maximum, softmax_z)
 *   rest   = (tops - 1) + others: S - 1 without forming S (tops counts the
 *            bins whose exp(z) is exactly 1, others sums the rest)
 *   log S  = log(u) + (rest - (u - 1)) / u, u = 1 + rest: log1p(rest) to a
 *            few ulps also where rest is tiny (a confident row), as phase 2
 *            of the element-wise driver computes log1p(e)
 *   l      = the count of bins 1 .. C - 2 at or below t (floor(t): t is in
 *            [0, C - 1)); wl = (l + 1) - t, wr = t - l, as in §2.7
 *   loss   = wl (log S - z_l) + wr (log S - z_(l+1)), a term with a zero
 *            weight dropped (even where its -log p is inf)
 *   dL/dx_c = (p_c (wl + wr) - y_c) w / divisor,  p_c = exp(z_c) / S
 *
 * The row loss goes to the block sum in double, in row order. The logits
 * of a group are copied bin-major into the scratch (lane k of bin c at
 * c * 16 + k), lanes past the group's rows as zeros; the gradient comes
 * back the same way (grad may be x: a group is read whole before any of it
 * is written).
 */
#define FOCAL_DFL_NARROW 32

typedef struct {
    _Alignas(64) float v[FOCAL_DFL_NARROW * FOCAL_LANES]; /* x, then z, then exp(z) */
    _Alignas(64) float g[FOCAL_DFL_NARROW * FOCAL_LANES]; /* the gradient          */
    _Alignas(64) float lane_loss[FOCAL_LANES];
    _Alignas(64) float lane_nan[FOCAL_LANES];
} focal_dfl_scratch;

FOCAL_INLINE double dfl_rows_narrow_of(const float *x, const float *t, const float *w,
                                       size_t rows, const focal_rows_params *prm, float *loss,
                                       float *grad, const int want_grad, const size_t bins)
{
    const vf zero = v_set(0.0f), one = v_set(1.0f), qnan = v_set(__builtin_nanf(""));
    const float grad_scale = prm->grad_scale;
    focal_dfl_scratch s;
    double total = 0.0;

    for (size_t r0 = 0; r0 < rows; r0 += FOCAL_W) {
        const size_t nr = rows - r0 < (size_t)FOCAL_W ? rows - r0 : (size_t)FOCAL_W;
#ifdef FOCAL_HAS_TRANSPOSE_16
        /* A vocabulary may transpose a full group of 16 rows of 16 bins. */
        const int block16 = bins == FOCAL_LANES && nr == FOCAL_LANES;
        if (block16)
            v_transpose_16(x + r0 * bins, s.v);
#else
        const int block16 = 0;
#endif
        for (size_t k = 0; !block16 && k < nr; k++) {
            const float *xr = x + (r0 + k) * bins;
            for (size_t c = 0; c < bins; c++)
                s.v[c * FOCAL_LANES + k] = xr[c];
        }
        for (size_t k = nr; k < (size_t)FOCAL_W; k++) /* the last group's empty lanes */
            for (size_t c = 0; c < bins; c++)
                s.v[c * FOCAL_LANES + k] = 0.0f;

        /* The maximum, and whether the row holds a NaN. */
        vf mx = v_set(-INFINITY);
        vm nan = m_none();
        for (size_t c = 0; c < bins; c++) {
            const vf xv = v_load(s.v + c * FOCAL_LANES);
            nan = m_or(nan, v_isnan(xv));
            mx = v_max(xv, mx);
        }
        /* The bins either side of t, and z there. */
        const vf tv = load_in(t + r0, 0, nr);
        vf lf = zero;
        for (size_t c = 1; c + 1 < bins; c++)
            lf = v_add(lf, v_select(v_ge(tv, v_set((float)c)), one, zero));
        const vf lr = v_add(lf, one);
        const vf wl = v_sub(lr, tv), wr = v_sub(tv, lf);
        vf zl = zero, zr = zero;
        for (size_t c = 0; c < bins; c++) {
            const vf cf = v_set((float)c);
            const vf z = softmax_z(v_load(s.v + c * FOCAL_LANES), mx);
            zl = v_select(v_eq(cf, lf), z, zl);
            zr = v_select(v_eq(cf, lr), z, zr);
            v_store(s.v + c * FOCAL_LANES, z);
        }
        /* Call loop: exp(z). */
        for (size_t c = 0; c < bins; c++)
            v_store(s.v + c * FOCAL_LANES, v_exp(v_load(s.v + c * FOCAL_LANES)));
        /* S - 1 as tops - 1 plus the others, in bin order. */
        vf tops = zero, others = zero;
        for (size_t c = 0; c < bins; c++) {
            const vf e = v_load(s.v + c * FOCAL_LANES);
            const vm top = v_eq(e, one);
            tops = v_add(tops, v_select(top, one, zero));
            others = v_add(others, v_select(top, zero, e));
        }
        const vf rest = v_add(v_sub(tops, one), others);
        const vf u = v_add(one, rest);
        const vf inv_s = v_div(one, u);
        const vf log_s = v_fma(v_sub(rest, v_sub(u, one)), inv_s, v_log_fast(u));
        const vf term_l = v_select(v_eq(wl, zero), zero, v_mul(wl, v_sub(log_s, zl)));
        const vf term_r = v_select(v_eq(wr, zero), zero, v_mul(wr, v_sub(log_s, zr)));
        v_store(s.lane_loss, v_add(term_l, term_r));
        v_store(s.lane_nan, v_select(nan, one, zero));

        for (size_t k = 0; k < nr; k++) {
            const size_t r = r0 + k;
            double row_loss = s.lane_nan[k] != 0.0f ? NAN : (double)s.lane_loss[k];
            if (w)
                row_loss *= (double)w[r];
            if (isnan(row_loss))
                row_loss = NAN;
            if (loss)
                loss[r] = (float)row_loss;
            total += row_loss;
        }

        if (!want_grad)
            continue;
        const vf ws = v_add(wl, wr);
        const vf scale = w ? v_mul(load_in(w + r0, 0, nr), v_set(grad_scale)) : v_set(grad_scale);
        for (size_t c = 0; c < bins; c++) {
            const vf cf = v_set((float)c);
            const vf p = v_mul(v_load(s.v + c * FOCAL_LANES), inv_s);
            const vf y = v_select(v_eq(cf, lf), wl, v_select(v_eq(cf, lr), wr, zero));
            vf g = v_mul(v_fma(p, ws, v_neg(y)), scale);
            g = v_select(m_or(nan, v_isnan(g)), qnan, g);
            v_store(s.g + c * FOCAL_LANES, g);
        }
#ifdef FOCAL_HAS_TRANSPOSE_16
        if (block16) {
            v_transpose_16(s.g, grad + r0 * bins);
            continue;
        }
#endif
        for (size_t k = 0; k < nr; k++) {
            float *gr = grad + (r0 + k) * bins;
            for (size_t c = 0; c < bins; c++)
                gr[c] = s.g[c * FOCAL_LANES + k];
        }
    }
    return total;
}

/* The box distributions' bin counts, 16 (reg_max of Ultralytics' heads) and
 * 17 (GFL's reg_max + 1), as compile-time constants: the bin loops unroll
 * and a group's bins stay in registers instead of the scratch. The same
 * operations in the same order as for any other count: the same bits. */
FOCAL_INLINE double dfl_rows_narrow(const float *x, const float *t, const float *w,
                                    size_t rows, const focal_rows_params *prm, float *loss,
                                    float *grad, const int want_grad)
{
    switch (prm->classes) {
    case 16:
        return dfl_rows_narrow_of(x, t, w, rows, prm, loss, grad, want_grad, 16);
    case 17:
        return dfl_rows_narrow_of(x, t, w, rows, prm, loss, grad, want_grad, 17);
    default:
        return dfl_rows_narrow_of(x, t, w, rows, prm, loss, grad, want_grad, prm->classes);
    }
}

/* `rows` whole rows of a loss over softmax rows (focal_softmax_fn,
 * focal_dfl_fn). */
FOCAL_INLINE int rows_block(const float *x, const focal_row_targets *tg, const float *w,
                            size_t rows, const focal_rows_params *prm, float *loss, float *grad,
                            double *sum, const enum focal_row_loss kind, const int gamma_kind,
                            const int want_grad)
{
    if (kind == FOCAL_ROW_DFL && prm->classes <= FOCAL_DFL_NARROW) {
        *sum = dfl_rows_narrow(x, tg->t, w, rows, prm, loss, grad, want_grad);
        return 0;
    }
    *sum = prm->classes <= FOCAL_SOFTMAX_SEG
               ? softmax_rows_batched(x, tg, w, rows, prm, loss, grad, kind, gamma_kind,
                                      want_grad)
               : softmax_rows_long(x, tg, w, rows, prm, loss, grad, kind, gamma_kind,
                                   want_grad);
    return 0;
}

/* ---- the box losses (docs/DESIGN.md §2.8) -------------------------------------------- */

/* A group of W boxes, coordinate-major: lane k of coordinate c at c * 16 + k. */
typedef struct {
    _Alignas(64) float p[4 * FOCAL_LANES];
    _Alignas(64) float t[4 * FOCAL_LANES];
    _Alignas(64) float g[4 * FOCAL_LANES];
} focal_box_scratch;

/*
 * n boxes of the IoU family, W at a time, one box per lane: a group is
 * loaded coordinate-major (v_load4; the last, partial one through the
 * scratch, its empty lanes zero), pred and target read whole before
 * anything is written (so grad may be p), computed, and its gradient
 * stored back as boxes (v_store4). A NaN
 * among a pair's 8 coordinates makes its loss and gradient the canonical
 * NaN (max / min would drop it). Box i of the block feeds lane i % 16.
 */
FOCAL_INLINE int box_block(const float *p, const float *t, const float *w, size_t n,
                           const focal_box_params *prm, float *loss, float *grad, double *sum,
                           const int kind, const int want_grad)
{
    focal_box_scratch s;
    vacc acc;
    acc_zero(&acc);
    const vf qnan = v_set(__builtin_nanf("")), scale = v_set(prm->grad_scale);
    for (size_t r0 = 0; r0 < n; r0 += FOCAL_W) {
        const size_t nr = n - r0 < (size_t)FOCAL_W ? n - r0 : (size_t)FOCAL_W;
        const int full = nr == (size_t)FOCAL_W;
        vf x1, y1, x2, y2, X1, Y1, X2, Y2;
        if (full) {
            v_load4(p + r0 * 4, &x1, &y1, &x2, &y2);
            v_load4(t + r0 * 4, &X1, &Y1, &X2, &Y2);
        } else { /* the last group: its empty lanes zero */
            for (size_t k = 0; k < (size_t)FOCAL_W; k++)
                for (size_t c = 0; c < 4; c++) {
                    s.p[c * FOCAL_LANES + k] = k < nr ? p[(r0 + k) * 4 + c] : 0.0f;
                    s.t[c * FOCAL_LANES + k] = k < nr ? t[(r0 + k) * 4 + c] : 0.0f;
                }
            x1 = v_load(s.p), y1 = v_load(s.p + FOCAL_LANES);
            x2 = v_load(s.p + 2 * FOCAL_LANES), y2 = v_load(s.p + 3 * FOCAL_LANES);
            X1 = v_load(s.t), Y1 = v_load(s.t + FOCAL_LANES);
            X2 = v_load(s.t + 2 * FOCAL_LANES), Y2 = v_load(s.t + 3 * FOCAL_LANES);
        }
        const vm nan = m_or(m_or(m_or(v_isnan(x1), v_isnan(y1)), m_or(v_isnan(x2), v_isnan(y2))),
                            m_or(m_or(v_isnan(X1), v_isnan(Y1)), m_or(v_isnan(X2), v_isnan(Y2))));
        vf g1, g2, g3, g4;
        vf l = box_iou_loss(prm, x1, y1, x2, y2, X1, Y1, X2, Y2, kind, want_grad, &g1, &g2,
                            &g3, &g4);
        const vf wv = w ? load_in(w, r0, n) : v_set(1.0f);
        if (w)
            l = v_mul(l, wv);
        l = v_select(m_or(nan, v_isnan(l)), qnan, l);
        if (loss) {
            if (full)
                v_store(loss + r0, l);
            else
                v_store_n(loss + r0, l, nr);
        }
        acc_add(&acc, lane_of(r0), full ? l : v_keep_n(l, nr));
        if (!want_grad)
            continue;
        const vf gs = w ? v_mul(wv, scale) : scale;
        g1 = v_mul(g1, gs);
        g2 = v_mul(g2, gs);
        g3 = v_mul(g3, gs);
        g4 = v_mul(g4, gs);
        g1 = v_select(m_or(nan, v_isnan(g1)), qnan, g1);
        g2 = v_select(m_or(nan, v_isnan(g2)), qnan, g2);
        g3 = v_select(m_or(nan, v_isnan(g3)), qnan, g3);
        g4 = v_select(m_or(nan, v_isnan(g4)), qnan, g4);
        if (full) {
            v_store4(grad + r0 * 4, g1, g2, g3, g4);
            continue;
        }
        v_store(s.g, g1);
        v_store(s.g + FOCAL_LANES, g2);
        v_store(s.g + 2 * FOCAL_LANES, g3);
        v_store(s.g + 3 * FOCAL_LANES, g4);
        for (size_t k = 0; k < nr; k++)
            for (size_t c = 0; c < 4; c++)
                grad[(r0 + k) * 4 + c] = s.g[c * FOCAL_LANES + k];
    }
    *sum = acc_sum(&acc);
    return 0;
}

/* n elements of smooth L1 (an element-wise loss over prediction and target). */
FOCAL_INLINE int pair_block(const float *p, const float *t, const float *w, size_t n,
                            const focal_box_params *prm, float *loss, float *grad, double *sum,
                            const int want_grad)
{
    vacc acc;
    acc_zero(&acc);
    const vf scale = v_set(prm->grad_scale);
    for (size_t i = 0; i < n; i += FOCAL_W) {
        vf g = v_set(0.0f);
        vf l = smooth_l1_loss(prm, load_in(p, i, n), load_in(t, i, n), want_grad, &g);
        if (w) {
            const vf wv = load_in(w, i, n);
            l = v_mul(l, wv);
            g = v_mul(g, v_mul(wv, scale));
        } else {
            g = v_mul(g, scale);
        }
        if (loss)
            finish_vector(loss, grad, i, n, l, g, 1, &acc, 1, want_grad);
        else
            finish_vector(loss, grad, i, n, l, g, 1, &acc, 0, want_grad);
    }
    *sum = acc_sum(&acc);
    return 0;
}

#endif /* FOCAL_KERNEL_DRIVER_H */
