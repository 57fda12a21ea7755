/* SPDX-License-Identifier: MIT */
/* The compute floor of the AVX-512 kernel (src/x86/kernel_avx512.c): built
 * with its -mavx512f, the same SLEEF functions. */
#include <stdint.h>
#include <immintrin.h>
#include <sleef.h>

#define FLOOR_W 16
#define FLOOR_ISA avx512

typedef __m512 vf;
static inline vf v_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
static inline vf v_set(float f) { return _mm512_set1_ps(f); }
static inline vf v_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf v_abs(vf a) { return _mm512_abs_ps(a); }
static inline vf v_neg(vf a)
{
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
}
#define v_exp Sleef_expf16_u10avx512f
#define v_log Sleef_logf16_u35avx512f

#include "baseline_floor.h"
