/* SPDX-License-Identifier: MIT */
/*
 * AVX2 + FMA kernel: 8 floats per vector, two vectors per 16-lane group.
 * Built with -mavx2 -mfma only; the dispatcher runs it only after checking
 * CPUID and that the OS saves YMM state (XGETBV).
 */
#include <immintrin.h>
#include <stdint.h>
#include <sleef.h>

#include "focal_internal.h"

#define FOCAL_W 8
#define FOCAL_KERNEL_ID avx2
#define FOCAL_KERNEL_NAME "avx2"

typedef __m256 vf;
typedef __m256 vm; /* all-ones / all-zeros lanes, as compares return them */

/* maskload/maskstore never touch memory in masked-off lanes. */
static inline __m256i mask_first(size_t k)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)k), idx);
}
static inline vf v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf v_load_n(const float *p, size_t k) { return _mm256_maskload_ps(p, mask_first(k)); }
static inline void v_store_n(float *p, vf v, size_t k) { _mm256_maskstore_ps(p, mask_first(k), v); }
static inline vf v_keep_n(vf v, size_t k) { return _mm256_and_ps(v, _mm256_castsi256_ps(mask_first(k))); }

static inline vf v_set(float f) { return _mm256_set1_ps(f); }
static inline vf v_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf v_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf v_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf v_abs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline vf v_neg(vf a) { return _mm256_xor_ps(_mm256_set1_ps(-0.0f), a); }

static inline vm v_eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
static inline vm v_ge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
static inline vm m_or(vm a, vm b) { return _mm256_or_ps(a, b); }
static inline int m_all(vm m) { return _mm256_movemask_ps(m) == 0xff; }
static inline int m_any(vm m) { return _mm256_movemask_ps(m) != 0; }
static inline vm m_none(void) { return _mm256_setzero_ps(); }
static inline vf v_select(vm m, vf a, vf b) { return _mm256_blendv_ps(b, a, m); }
static inline vm v_outside01(vf t)
{
    /* Unordered "not >=" / "not <=" are true for NaN too. */
    return _mm256_or_ps(_mm256_cmp_ps(t, _mm256_setzero_ps(), _CMP_NGE_UQ),
                        _mm256_cmp_ps(t, _mm256_set1_ps(1.0f), _CMP_NLE_UQ));
}

static inline vm v_isnan(vf v) { return _mm256_cmp_ps(v, v, _CMP_UNORD_Q); }
static inline vm v_isinf(vf v) { return _mm256_cmp_ps(v_abs(v), _mm256_set1_ps(__builtin_inff()), _CMP_EQ_OQ); }
/* NaN or +-inf: not (|v| <= FLT_MAX), unordered */
static inline vm v_outside_finite(vf v) { return _mm256_cmp_ps(v_abs(v), _mm256_set1_ps(__FLT_MAX__), _CMP_NLE_UQ); }
static inline vm m_and(vm a, vm b) { return _mm256_and_ps(a, b); }
static inline int m_count(vm m) { return __builtin_popcount((unsigned)_mm256_movemask_ps(m)); }
static inline float v_max_lanes(vf v)
{
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    return _mm_cvtss_f32(m4);
}

/* 8 boxes of 4 floats <-> 4 vectors of 8 (box k in lane k): a 4 x 4
 * transpose in each 128-bit half (boxes 0, 2, 4, 6 low, 1, 3, 5, 7 high),
 * then the lanes put in box order. */
static inline void transpose4_halves(__m256 *r0, __m256 *r1, __m256 *r2, __m256 *r3)
{
    const __m256 t0 = _mm256_unpacklo_ps(*r0, *r1), t1 = _mm256_unpacklo_ps(*r2, *r3);
    const __m256 t2 = _mm256_unpackhi_ps(*r0, *r1), t3 = _mm256_unpackhi_ps(*r2, *r3);
    *r0 = _mm256_shuffle_ps(t0, t1, 0x44);
    *r1 = _mm256_shuffle_ps(t0, t1, 0xee);
    *r2 = _mm256_shuffle_ps(t2, t3, 0x44);
    *r3 = _mm256_shuffle_ps(t2, t3, 0xee);
}
static inline void v_load4(const float *p, vf *a, vf *b, vf *c, vf *d)
{
    __m256 r0 = _mm256_loadu_ps(p), r1 = _mm256_loadu_ps(p + 8);
    __m256 r2 = _mm256_loadu_ps(p + 16), r3 = _mm256_loadu_ps(p + 24);
    transpose4_halves(&r0, &r1, &r2, &r3);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    *a = _mm256_permutevar8x32_ps(r0, order);
    *b = _mm256_permutevar8x32_ps(r1, order);
    *c = _mm256_permutevar8x32_ps(r2, order);
    *d = _mm256_permutevar8x32_ps(r3, order);
}
static inline void v_store4(float *p, vf a, vf b, vf c, vf d)
{
    const __m256i halves = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    __m256 r0 = _mm256_permutevar8x32_ps(a, halves), r1 = _mm256_permutevar8x32_ps(b, halves);
    __m256 r2 = _mm256_permutevar8x32_ps(c, halves), r3 = _mm256_permutevar8x32_ps(d, halves);
    transpose4_halves(&r0, &r1, &r2, &r3);
    _mm256_storeu_ps(p, r0);
    _mm256_storeu_ps(p + 8, r1);
    _mm256_storeu_ps(p + 16, r2);
    _mm256_storeu_ps(p + 24, r3);
}

#define v_exp Sleef_expf8_u10avx2
#define v_log Sleef_logf8_u35avx2
#define v_log_fast Sleef_logf8_u35avx2
#define v_atan Sleef_atanf8_u10avx2

/* The lane sums in registers: lanes 0-3, 4-7, 8-11, 12-15. Private to this
 * file: the driver only passes a vacc to the functions below. */
typedef struct { __m256d lane[4]; } vacc;
static inline void acc_zero(vacc *a)
{
    for (int i = 0; i < 4; i++) a->lane[i] = _mm256_setzero_pd();
}
static inline void acc_add(vacc *a, size_t i, vf v)
{
    a->lane[i / 4] = _mm256_add_pd(a->lane[i / 4], _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    a->lane[i / 4 + 1] = _mm256_add_pd(a->lane[i / 4 + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}
/* focal_lane_tree() in registers, the same additions: (i + 8), then
 * (i + 4), (i + 2), (i + 1). The softmax loss folds three sums per row;
 * through memory each cost four stores, sixteen loads and a serial chain. */
static inline double acc_sum(const vacc *a)
{
    const __m256d s4 = _mm256_add_pd(_mm256_add_pd(a->lane[0], a->lane[2]),
                                     _mm256_add_pd(a->lane[1], a->lane[3]));
    const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
}

#include "../kernel_driver.h"
#include "../kernel_table.h"
