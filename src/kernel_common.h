/* SPDX-License-Identifier: MIT */
/*
 * What the drivers (kernel_driver.h) and every loss's math header share,
 * over the vocabulary of the ISA file that includes them (listed at the top
 * of kernel_driver.h): the loss enums of loss_list.h, the call forms, the
 * lane masks, q^gamma, the chunk scratch, partial loads and the end of every
 * element loop. It includes nothing of the kernel's own, so the math
 * headers, the row inputs and the drivers form a line, not a circle:
 * kernel_common.h <- kernel_<loss>_math.h, kernel_row_inputs.h <-
 * kernel_driver.h <- kernel_table.h.
 */
#ifndef FOCAL_KERNEL_COMMON_H
#define FOCAL_KERNEL_COMMON_H

#include <math.h>
#include <stdint.h>

#include "focal_internal.h"

/* A scalable vocabulary (arm/kernel_sve.c) defines FOCAL_W_SCALABLE and
 * FOCAL_W as its run-time lane count, which the preprocessor cannot check:
 * there the dispatcher refuses the lengths that do not divide 16. */
#ifndef FOCAL_W_SCALABLE
#if FOCAL_LANES % FOCAL_W != 0
#error "a vector must divide the 16 logical lanes"
#endif
#endif

#define FOCAL_INLINE static inline __attribute__((always_inline))

#define FOCAL_CHUNK 256

/* The losses each driver runs, FOCAL_ELEM_<NAME> (the chunk driver: the
 * sigmoid and score shapes of loss_list.h, math in kernel_<name>_math.h) and
 * FOCAL_ROW_<NAME> (the row driver: the softmax and dfl shapes, math in
 * kernel_softmax_math.h). Every switch over them names each one (-Wswitch):
 * a new loss cannot silently run another's math. */
#define FOCAL_ELEM_OF_sigmoid(NAME) FOCAL_ELEM_##NAME,
#define FOCAL_ELEM_OF_score(NAME) FOCAL_ELEM_##NAME,
#define FOCAL_ELEM_OF_softmax(NAME)
#define FOCAL_ELEM_OF_dfl(NAME)
#define FOCAL_ELEM_OF_box(NAME)
#define FOCAL_ELEM_OF_pair(NAME)
#define FOCAL_ROW_OF_sigmoid(NAME)
#define FOCAL_ROW_OF_score(NAME)
#define FOCAL_ROW_OF_softmax(NAME) FOCAL_ROW_##NAME,
#define FOCAL_ROW_OF_dfl(NAME) FOCAL_ROW_##NAME,
#define FOCAL_ROW_OF_box(NAME)
#define FOCAL_ROW_OF_pair(NAME)
#define FOCAL_ELEM_ENUM(name, NAME, shape) FOCAL_ELEM_OF_##shape(NAME)
#define FOCAL_ROW_ENUM(name, NAME, shape) FOCAL_ROW_OF_##shape(NAME)
enum focal_elem_loss { FOCAL_LOSS_LIST(FOCAL_ELEM_ENUM) };
enum focal_row_loss { FOCAL_LOSS_LIST(FOCAL_ROW_ENUM) };

/*
 * Which inputs a sigmoid call has, fixed at compile time inside each variant
 * (the quality and varifocal losses are always FLAT):
 * FLAT   a target array, scalar alpha;
 * LABELS labels with nothing else per element (the usual detector call):
 *        the loop carries no class alpha, weight or smoothing code;
 * ROWS   labels or dense targets with class alpha, row weights or smoothing.
 * With labels (either form), vectors wholly inside ignored rows are skipped.
 */
enum { FOCAL_FORM_FLAT, FOCAL_FORM_LABELS, FOCAL_FORM_ROWS };

static const float focal_iota[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* The one lane `lane` of a vector (none if lane < 0). */
FOCAL_INLINE vm focal_lane_mask(int lane)
{
    return lane < 0 ? m_none() : v_eq(v_load(focal_iota), v_set((float)lane));
}

/*
 * q^gamma = exp(g (log q + lo)) ~ exp(g log q) (1 + g lo + the rounding of
 * g log q), for gamma outside {0, 1, 2, 3}: g log q is split by an FMA and
 * the low parts are folded back after the exp. Where q^g underflows to 0
 * (y may be -inf, y_lo then NaN), it stays 0: the limit, not 0 * NaN.
 */
FOCAL_INLINE vf focal_pow_from_log(vf gamma, vf logq, vf lo)
{
    const vf y = v_mul(gamma, logq);
    const vf y_lo = v_fma(gamma, lo, v_fma(gamma, logq, v_neg(y)));
    const vf ey = v_exp(y);
    return v_select(v_eq(ey, v_set(0.0f)), v_set(0.0f), v_fma(ey, y_lo, ey));
}

/* base^gamma: multiplications for the small integer gammas, else the value
 * the q^gamma phase stored at *pw. */
FOCAL_INLINE vf focal_pow(vf base, const float *pw, const int gamma_kind)
{
    if (gamma_kind == FOCAL_GAMMA_0) return v_set(1.0f);
    if (gamma_kind == FOCAL_GAMMA_1) return base;
    if (gamma_kind == FOCAL_GAMMA_2) return v_mul(base, base);
    if (gamma_kind == FOCAL_GAMMA_3) return v_mul(v_mul(base, base), base);
    return v_load(pw);
}


/* Which lanes of a vector have a hard target: all, some (any) or none. The
 * masks themselves travel as separate vm values (is1: t == 1, hard: t == 0
 * or 1). */
typedef struct {
    int all, any;
} focal_hardness;

/* Per lane: the hard form where the target is hard, else the soft one. The
 * vector-wide shortcuts only skip work whose result would be discarded. */
#define HARD_OR_SOFT(h, hard, hard_form, soft_form)                              \
    ((h).all ? (hard_form) : (h).any ? v_select((hard), (hard_form), (soft_form)) \
                                     : (soft_form))

/* Per-chunk scratch of the element-wise losses, written by the call phases,
 * read by the final one. */
typedef struct {
    _Alignas(64) float e[FOCAL_CHUNK];     /* exp(-|x|)                      */
    _Alignas(64) float r[FOCAL_CHUNK];     /* 1 / (1 + e)                    */
    _Alignas(64) float l[FOCAL_CHUNK];     /* log1p(e)                       */
    /* gamma outside {0, 1, 2, 3} only */
    _Alignas(64) float p[FOCAL_CHUNK];     /* sigmoid basics, kept from phase 3 */
    _Alignas(64) float pc[FOCAL_CHUNK];
    _Alignas(64) float q[FOCAL_CHUNK];
    _Alignas(64) float ce[FOCAL_CHUNK];
    _Alignas(64) float base[FOCAL_CHUNK];  /* base of the power, where not q  */
    _Alignas(64) float logb[FOCAL_CHUNK];  /* its exact log, hi + lo         */
    _Alignas(64) float logb_lo[FOCAL_CHUNK];
    _Alignas(64) float pw[FOCAL_CHUNK];    /* base^gamma                     */
    /* Row-structured inputs, expanded per element (kernel_row_inputs.h). */
    _Alignas(64) float t[FOCAL_CHUNK];     /* target, smoothed               */
    _Alignas(64) float apos[FOCAL_CHUNK];  /* alpha_pos / alpha_neg of its class */
    _Alignas(64) float aneg[FOCAL_CHUNK];
    _Alignas(64) float w[FOCAL_CHUNK];     /* row weight (with weights only) */
    _Alignas(64) float posw[FOCAL_CHUNK];  /* BCE positive weight of its class */
    _Alignas(64) float keep[FOCAL_CHUNK];  /* 0 in ignored rows, else 1 (labels) */
    unsigned char rows_of[FOCAL_CHUNK];    /* labels: FOCAL_VEC_*, at a vector's first element */
    signed char hit[FOCAL_CHUNK];          /* labels: lane of the positive class, or -1 */
} focal_chunk_scratch;



/* Element j of the chunk (a multiple of W) holding m elements: full or partial. */
FOCAL_INLINE vf load_in(const float *p, size_t j, size_t m)
{
    return j + FOCAL_W <= m ? v_load(p + j) : v_load_n(p + j, m - j);
}

/* The first of the 16 lane sums that the vector at element j of a row or
 * chunk feeds: element j goes to lane j % 16, whatever the vector width. */
FOCAL_INLINE size_t lane_of(size_t j)
{
    return j % FOCAL_LANES;
}

/*
 * The end of every element loop, vector j of a chunk of m: where a NaN can
 * occur, every NaN is written as the one canonical quiet NaN (which NaN comes
 * out otherwise depends on how an ISA's instructions propagate payloads and
 * signs: docs/DESIGN.md §4.4); then the outputs are stored (inputs are all
 * loaded by now: grad may be x itself) and the loss goes to its lane sum.
 * Past-the-end lanes of a partial vector computed harmless zero inputs;
 * their loss is cleared first.
 */
/* The wanted outputs of vector j of a chunk of m elements, full or partial. */
FOCAL_INLINE void store_outputs(float *loss, float *grad, size_t j, size_t m, vf lv, vf gv,
                                const int want_loss, const int want_grad)
{
    if (j + FOCAL_W <= m) {
        if (want_loss) v_store(loss + j, lv);
        if (want_grad) v_store(grad + j, gv);
    } else {
        if (want_loss) v_store_n(loss + j, lv, m - j);
        if (want_grad) v_store_n(grad + j, gv, m - j);
    }
}

FOCAL_INLINE void finish_vector(float *loss, float *grad, size_t j, size_t m, vf lv, vf gv,
                                int nan_possible, vacc *acc, const int want_loss,
                                const int want_grad)
{
    if (nan_possible) {
        const vf qnan = v_set(__builtin_nanf(""));
        lv = v_select(v_isnan(lv), qnan, lv);
        gv = v_select(v_isnan(gv), qnan, gv);
    }
    store_outputs(loss, grad, j, m, lv, gv, want_loss, want_grad);
    if (j + FOCAL_W > m)
        lv = v_keep_n(lv, m - j);
    acc_add(acc, lane_of(j), lv);
}


#endif /* FOCAL_KERNEL_COMMON_H */
