/* SPDX-License-Identifier: MIT */
/*
 * AVX-512F kernel: 16 floats per vector, one vector per 16-lane group, opmask
 * registers for the tail. Built with -mavx512f only; the dispatcher runs it
 * only after checking CPUID and that the OS saves opmask and ZMM state.
 */
#include <stdint.h>
#ifdef FOCAL_AVX512_EMULATED
/* Test-only build (tests/emu512): the same vocabulary and bodies on a CPU
 * without AVX-512, its intrinsics and SLEEF calls emulated over AVX2. */
#include "avx512_emulated.h"
#else
#include <immintrin.h>
#include <sleef.h>
#endif

#include "focal_internal.h"

#define FOCAL_W 16
#define FOCAL_KERNEL_ID avx512
#define FOCAL_KERNEL_NAME "avx512"

typedef __m512 vf;
typedef __mmask16 vm;

static inline __mmask16 mask_first(size_t k) { return (__mmask16)((1u << k) - 1u); }
static inline vf v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
/* Masked-off lanes are neither read nor written (no fault past the end). */
static inline vf v_load_n(const float *p, size_t k) { return _mm512_maskz_loadu_ps(mask_first(k), p); }
static inline void v_store_n(float *p, vf v, size_t k) { _mm512_mask_storeu_ps(p, mask_first(k), v); }
static inline vf v_keep_n(vf v, size_t k) { return _mm512_maskz_mov_ps(mask_first(k), v); }

static inline vf v_set(float f) { return _mm512_set1_ps(f); }
static inline vf v_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf v_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf v_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf v_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf v_abs(vf a) { return _mm512_abs_ps(a); }
static inline vf v_neg(vf a)
{
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
}

static inline vm v_eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static inline vm v_ge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
static inline vm m_or(vm a, vm b) { return (vm)(a | b); }
static inline int m_all(vm m) { return m == 0xffff; }
static inline int m_any(vm m) { return m != 0; }
static inline vm m_none(void) { return 0; }
static inline vf v_select(vm m, vf a, vf b) { return _mm512_mask_blend_ps(m, b, a); }
static inline vm v_outside01(vf t)
{
    return (vm)(_mm512_cmp_ps_mask(t, _mm512_setzero_ps(), _CMP_NGE_UQ) |
                _mm512_cmp_ps_mask(t, _mm512_set1_ps(1.0f), _CMP_NLE_UQ));
}

static inline vm v_isnan(vf v) { return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q); }
static inline vm v_isinf(vf v) { return _mm512_cmp_ps_mask(v_abs(v), _mm512_set1_ps(__builtin_inff()), _CMP_EQ_OQ); }
/* NaN or +-inf: not (|v| <= FLT_MAX), unordered */
static inline vm v_outside_finite(vf v) { return _mm512_cmp_ps_mask(v_abs(v), _mm512_set1_ps(__FLT_MAX__), _CMP_NLE_UQ); }
static inline vm m_and(vm a, vm b) { return (vm)(a & b); }
static inline int m_count(vm m) { return __builtin_popcount((unsigned)m); }

/* The upper eight lanes of a vector, as AVX2 (the cast through double is an
 * extract that AVX-512F has and the emulated twin maps). */
static inline __m256 hi256(vf v) { return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)); }
static inline float v_max_lanes(vf v)
{
    __m256 m8 = _mm256_max_ps(_mm512_castps512_ps256(v), hi256(v));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    return _mm_cvtss_f32(m4);
}

/* 16 boxes of 4 floats <-> 4 vectors of 16 (box k in lane k), by
 * two-source permutes (which the emulated twin of this file also has). */
static inline void v_load4(const float *p, vf *a, vf *b, vf *c, vf *d)
{
    const __m512 r0 = _mm512_loadu_ps(p), r1 = _mm512_loadu_ps(p + 16);
    const __m512 r2 = _mm512_loadu_ps(p + 32), r3 = _mm512_loadu_ps(p + 48);
    /* coordinate q of boxes 0-7 (from r0, r1) and 8-15 (from r2, r3) in
     * lanes 0-7, then the two halves joined */
    const __m512i join = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22,
                                           23);
    vf *out[4] = {a, b, c, d};
    for (int q = 0; q < 4; q++) {
        const __m512i pick = _mm512_setr_epi32(q, q + 4, q + 8, q + 12, q + 16, q + 20, q + 24,
                                               q + 28, q, q, q, q, q, q, q, q);
        *out[q] = _mm512_permutex2var_ps(_mm512_permutex2var_ps(r0, pick, r1), join,
                                         _mm512_permutex2var_ps(r2, pick, r3));
    }
}
static inline void v_store4(float *p, vf a, vf b, vf c, vf d)
{
    /* a, b interleaved for boxes 0-7 and 8-15 (and c, d), then the 4-tuples */
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7,
                                         23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30,
                                         15, 31);
    const __m512i first = _mm512_setr_epi32(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22,
                                            23);
    const __m512i second = _mm512_setr_epi32(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14,
                                             15, 30, 31);
    const __m512 ab_lo = _mm512_permutex2var_ps(a, lo, b), cd_lo = _mm512_permutex2var_ps(c, lo, d);
    const __m512 ab_hi = _mm512_permutex2var_ps(a, hi, b), cd_hi = _mm512_permutex2var_ps(c, hi, d);
    _mm512_storeu_ps(p, _mm512_permutex2var_ps(ab_lo, first, cd_lo));
    _mm512_storeu_ps(p + 16, _mm512_permutex2var_ps(ab_lo, second, cd_lo));
    _mm512_storeu_ps(p + 32, _mm512_permutex2var_ps(ab_hi, first, cd_hi));
    _mm512_storeu_ps(p + 48, _mm512_permutex2var_ps(ab_hi, second, cd_hi));
}

#define v_exp Sleef_expf16_u10avx512f
#define v_log Sleef_logf16_u35avx512f
#define v_log_fast Sleef_logf16_u35avx512f
#define v_atan Sleef_atanf16_u10avx512f

/* The lane sums in registers: lanes 0-7, 8-15 (one vector covers all 16:
 * i is 0). Private to this file: the driver only passes a vacc around. */
typedef struct { __m512d lo, hi; } vacc;
static inline void acc_zero(vacc *a) { a->lo = _mm512_setzero_pd(); a->hi = _mm512_setzero_pd(); }
static inline void acc_add(vacc *a, size_t i, vf v)
{
    (void)i;
    a->lo = _mm512_add_pd(a->lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    a->hi = _mm512_add_pd(a->hi, _mm512_cvtps_pd(hi256(v)));
}
/* focal_lane_tree() in registers, the same additions: (i + 8), then the
 * halves (i + 4), (i + 2), (i + 1). The softmax loss folds three sums per
 * row; through memory each cost a store, sixteen loads and a serial chain. */
static inline double acc_sum(const vacc *a)
{
    const __m512d s8 = _mm512_add_pd(a->lo, a->hi);
    const __m256d s4 = _mm256_add_pd(_mm512_castpd512_pd256(s8), _mm512_extractf64x4_pd(s8, 1));
    const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
}

/* Optional vocabulary: a 16 x 16 transpose (dst[c * 16 + k] = src[k * 16 + c])
 * for the DFL walk across rows, whose groups of 16 rows of 16 bins it puts
 * bin-major and back (kernel_driver.h, dfl_rows_narrow). Data movement only:
 * the bits do not change. Interleaves of 32 and 64 bits leave 4 x 4 blocks
 * transposed inside each 128-bit lane; two rounds of 128-bit shuffles move
 * the blocks into place. */
#define FOCAL_HAS_TRANSPOSE_16 1
static inline void v_transpose_16(const float *src, float *dst)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++)
        r[i] = _mm512_loadu_ps(src + 16 * i);
    for (int j = 0; j < 8; j++) {
        t[2 * j] = _mm512_unpacklo_ps(r[2 * j], r[2 * j + 1]);
        t[2 * j + 1] = _mm512_unpackhi_ps(r[2 * j], r[2 * j + 1]);
    }
    for (int j = 0; j < 4; j++) {
        const __m512d a = _mm512_castps_pd(t[4 * j]), b = _mm512_castps_pd(t[4 * j + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * j + 2]), d = _mm512_castps_pd(t[4 * j + 3]);
        r[4 * j] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * j + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * j + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * j + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    /* r[4 j + m], 128-bit lane L: column 4 L + m of rows 4 j .. 4 j + 3.
     * even: 128-bit lanes (a0, a2, b0, b2); odd: (a1, a3, b1, b3), as
     * _mm512_shuffle_f32x4 with 0x88 and 0xdd (written as permutes, which
     * the emulated twin of this file also has). */
    const __m512i even = _mm512_setr_epi32(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25,
                                           26, 27);
    const __m512i odd = _mm512_setr_epi32(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29,
                                          30, 31);
    for (int m = 0; m < 4; m++) {
        t[m] = _mm512_permutex2var_ps(r[m], even, r[4 + m]);
        t[m + 4] = _mm512_permutex2var_ps(r[m], odd, r[4 + m]);
        t[m + 8] = _mm512_permutex2var_ps(r[8 + m], even, r[12 + m]);
        t[m + 12] = _mm512_permutex2var_ps(r[8 + m], odd, r[12 + m]);
    }
    for (int m = 0; m < 4; m++) {
        _mm512_storeu_ps(dst + 16 * m, _mm512_permutex2var_ps(t[m], even, t[m + 8]));
        _mm512_storeu_ps(dst + 16 * (m + 8), _mm512_permutex2var_ps(t[m], odd, t[m + 8]));
        _mm512_storeu_ps(dst + 16 * (m + 4), _mm512_permutex2var_ps(t[m + 4], even, t[m + 12]));
        _mm512_storeu_ps(dst + 16 * (m + 12), _mm512_permutex2var_ps(t[m + 4], odd, t[m + 12]));
    }
}

#include "../kernel_driver.h"
#include "../kernel_table.h"
