/* SPDX-License-Identifier: MIT */
/* The compute floor of the SVE kernel (src/arm/kernel_sve.c): the same SVE
 * SLEEF functions, built with that file's flags (-march=armv8.2-a+sve), at
 * the run-time vector length, as the kernel. focal-bench runs it only where
 * the library supports the sve kernel. */
#include <arm_sve.h>
#include <sleef.h>

#define FLOOR_W ((size_t)svcntw())
#define FLOOR_ISA sve

typedef svfloat32_t vf;
static inline vf v_load(const float *p) { return svld1_f32(svptrue_b32(), p); }
static inline void v_store(float *p, vf v) { svst1_f32(svptrue_b32(), p, v); }
static inline vf v_set(float f) { return svdup_n_f32(f); }
static inline vf v_add(vf a, vf b) { return svadd_f32_x(svptrue_b32(), a, b); }
static inline vf v_mul(vf a, vf b) { return svmul_f32_x(svptrue_b32(), a, b); }
static inline vf v_div(vf a, vf b) { return svdiv_f32_x(svptrue_b32(), a, b); }
static inline vf v_abs(vf a) { return svabs_f32_x(svptrue_b32(), a); }
static inline vf v_neg(vf a) { return svneg_f32_x(svptrue_b32(), a); }
#define v_exp Sleef_expfx_u10sve
#define v_log Sleef_logfx_u35sve

#include "baseline_floor.h"
