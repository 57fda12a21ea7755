/* SPDX-License-Identifier: MIT */
/* The compute floor of the scalar kernel (src/kernel_scalar.c): SLEEF's
 * scalar *_purecfma functions, built with the kernel's -mfma on x86-64. */
#include <math.h> /* before sleef.h: it defines FP_FAST_FMA from -mfma */
/* As in src/kernel_scalar.c: clang does not always predefine __FP_FAST_FMA
 * under -mfma, and sleef.h would then hide the *_purecfma declarations. */
#if !defined(FP_FAST_FMA) && (defined(__FMA__) || defined(__aarch64__))
#  define FP_FAST_FMA 1
#endif
#include <sleef.h>

#define FLOOR_W 1
#define FLOOR_ISA scalar

typedef float vf;
static inline vf v_load(const float *p) { return *p; }
static inline void v_store(float *p, vf v) { *p = v; }
static inline vf v_set(float f) { return f; }
static inline vf v_add(vf a, vf b) { return a + b; }
static inline vf v_mul(vf a, vf b) { return a * b; }
static inline vf v_div(vf a, vf b) { return a / b; }
static inline vf v_abs(vf a) { return fabsf(a); }
static inline vf v_neg(vf a) { return -a; }
#define v_exp Sleef_expf1_u10purecfma
#define v_log Sleef_logf1_u35purecfma

#include "baseline_floor.h"
