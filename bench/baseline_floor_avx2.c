/* SPDX-License-Identifier: MIT */
/* The compute floor of the AVX2 kernel (src/x86/kernel_avx2.c): built with
 * its -mavx2 -mfma, the same SLEEF functions. */
#include <immintrin.h>
#include <sleef.h>

#define FLOOR_W 8
#define FLOOR_ISA avx2

typedef __m256 vf;
static inline vf v_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void v_store(float *p, vf v) { _mm256_storeu_ps(p, v); }
static inline vf v_set(float f) { return _mm256_set1_ps(f); }
static inline vf v_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf v_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf v_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf v_abs(vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline vf v_neg(vf a) { return _mm256_xor_ps(_mm256_set1_ps(-0.0f), a); }
#define v_exp Sleef_expf8_u10avx2
#define v_log Sleef_logf8_u35avx2

#include "baseline_floor.h"
