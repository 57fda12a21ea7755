/* SPDX-License-Identifier: MIT */
/*
 * The reference kernel: one element at a time, in plain C, with SLEEF's
 * scalar functions. It is both the fallback on CPUs without vector units and
 * the yardstick that every vector kernel must match bit for bit.
 *
 * SLEEF's *_purecfma functions return the same bits as its AVX2, AVX-512 and
 * Advanced SIMD functions. On x86-64 this file is therefore built twice: with
 * -mfma into `focal_kernel_scalar` (the bit-exact reference, chosen whenever
 * the CPU has FMA), and with FOCAL_SCALAR_NOFMA into
 * `focal_kernel_scalar_nofma` for pre-FMA CPUs, which uses SLEEF's *_purec
 * functions: accurate to the same contract, but not bit-identical.
 */
#include <float.h>
#include <math.h> /* before sleef.h: it defines FP_FAST_FMA from -mfma */
#include <stdint.h>
/* clang (before 16?) does not predefine __FP_FAST_FMA under -mfma, so glibc
 * leaves FP_FAST_FMA undefined and sleef.h would hide its *_purecfma
 * declarations: derive it from the target macro instead. */
#if !defined(FOCAL_SCALAR_NOFMA) && !defined(FP_FAST_FMA) && \
    (defined(__FMA__) || defined(__aarch64__))
#  define FP_FAST_FMA 1
#endif
#include <sleef.h>

#include "focal_internal.h"

#define FOCAL_W 1

typedef float vf;
typedef int vm;

#if defined(FOCAL_SCALAR_NOFMA)
#  define FOCAL_KERNEL_ID scalar_nofma
#  define v_exp Sleef_expf1_u10purec
#  define v_log Sleef_logf1_u35purec
#  define v_log_fast Sleef_logf1_u35purec
#  define v_atan Sleef_atanf1_u10purec
#else
#  if !defined(FP_FAST_FMA)
#    error "the reference scalar kernel must be built with hardware FMA (-mfma on x86-64)"
#  endif
#  define FOCAL_KERNEL_ID scalar
#  define v_exp Sleef_expf1_u10purecfma
#  define v_log Sleef_logf1_u35purecfma
#  define v_log_fast Sleef_logf1_u35purecfma
#  define v_atan Sleef_atanf1_u10purecfma
#endif
#define FOCAL_KERNEL_NAME "scalar"

static inline vf v_load(const float *p) { return *p; }
static inline void v_store(float *p, vf v) { *p = v; }
/* W = 1: a partial vector is empty, and the body never asks for one. */
static inline vf v_load_n(const float *p, size_t k) { return k ? *p : 0.0f; }
static inline void v_store_n(float *p, vf v, size_t k) { if (k) *p = v; }
static inline vf v_keep_n(vf v, size_t k) { return k ? v : 0.0f; }

static inline vf v_set(float f) { return f; }
static inline vf v_add(vf a, vf b) { return a + b; }
static inline vf v_sub(vf a, vf b) { return a - b; }
static inline vf v_mul(vf a, vf b) { return a * b; }
static inline vf v_div(vf a, vf b) { return a / b; }
static inline vf v_fma(vf a, vf b, vf c) { return fmaf(a, b, c); }
/* maxps semantics: the second operand unless the first is greater. */
static inline vf v_max(vf a, vf b) { return a > b ? a : b; }
static inline vf v_abs(vf a) { return fabsf(a); }
static inline vf v_neg(vf a) { return -a; }

static inline vm v_eq(vf a, vf b) { return a == b; }
static inline vm v_ge(vf a, vf b) { return a >= b; }
static inline vm m_or(vm a, vm b) { return a | b; }
static inline int m_all(vm m) { return m; }
static inline int m_any(vm m) { return m; }
static inline vm m_none(void) { return 0; }
static inline vf v_select(vm m, vf a, vf b) { return m ? a : b; }
static inline vm v_outside01(vf t) { return !(t >= 0.0f && t <= 1.0f); }
static inline vm v_isnan(vf v) { return v != v; }
static inline vm v_isinf(vf v) { return fabsf(v) == INFINITY; }
static inline vm v_outside_finite(vf v) { return !(fabsf(v) <= FLT_MAX); }
static inline vm m_and(vm a, vm b) { return a & b; }
static inline int m_count(vm m) { return m != 0; }
static inline float v_max_lanes(vf v) { return v; }
static inline void v_load4(const float *p, vf *a, vf *b, vf *c, vf *d)
{
    *a = p[0]; *b = p[1]; *c = p[2]; *d = p[3];
}
static inline void v_store4(float *p, vf a, vf b, vf c, vf d)
{
    p[0] = a; p[1] = b; p[2] = c; p[3] = d;
}

/* The lane sums in memory, one double per lane. */
typedef struct { double lane[FOCAL_LANES]; } vacc;
static inline void acc_zero(vacc *a) { for (int i = 0; i < FOCAL_LANES; i++) a->lane[i] = 0.0; }
static inline void acc_add(vacc *a, size_t i, vf v) { a->lane[i] += (double)v; }
static inline double acc_sum(const vacc *a) { return focal_lane_tree(a->lane); }

#include "kernel_driver.h"
#include "kernel_table.h"
