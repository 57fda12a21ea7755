/* SPDX-License-Identifier: MIT */
/* The compute floor of the NEON kernel (src/arm/kernel_neon.c): the same
 * Advanced SIMD SLEEF functions (no extra flags on aarch64). */
#include <arm_neon.h>
#include <sleef.h>

#define FLOOR_W 4
#define FLOOR_ISA neon

typedef float32x4_t vf;
static inline vf v_load(const float *p) { return vld1q_f32(p); }
static inline void v_store(float *p, vf v) { vst1q_f32(p, v); }
static inline vf v_set(float f) { return vdupq_n_f32(f); }
static inline vf v_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf v_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf v_div(vf a, vf b) { return vdivq_f32(a, b); }
static inline vf v_abs(vf a) { return vabsq_f32(a); }
static inline vf v_neg(vf a) { return vnegq_f32(a); }
#define v_exp Sleef_expf4_u10advsimd
#define v_log Sleef_logf4_u35advsimd

#include "baseline_floor.h"
