/* SPDX-License-Identifier: MIT */
/*
 * Advanced SIMD (NEON) kernel for aarch64: 4 floats per vector, four vectors
 * per 16-lane group. Advanced SIMD is part of the base AArch64 ISA, so this
 * file needs no special flags; the dispatcher still checks HWCAP_ASIMD.
 *
 * Where AArch64 and x86 disagree, the vocabulary follows x86 (the kernel body
 * assumes its semantics): v_max is maxps, not FMAX (which returns NaN for a
 * NaN operand and prefers +0 to -0).
 */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>
#include <sleef.h>

#include "focal_internal.h"

#define FOCAL_W 4
#define FOCAL_KERNEL_ID neon
#define FOCAL_KERNEL_NAME "neon"

typedef float32x4_t vf;
typedef uint32x4_t vm; /* all-ones / all-zeros lanes, as compares return them */

static inline uint32x4_t mask_first(size_t k)
{
    static const uint32_t idx[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32((uint32_t)k));
}
static inline vf v_load(const float *p) { return vld1q_f32(p); }
static inline void v_store(float *p, vf v) { vst1q_f32(p, v); }
/* NEON has no masked load or store: a partial vector goes through the stack,
 * so nothing past p + k is ever read or written. */
static inline vf v_load_n(const float *p, size_t k)
{
    float buf[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(buf, p, k * sizeof(float));
    return vld1q_f32(buf);
}
static inline void v_store_n(float *p, vf v, size_t k)
{
    float buf[4];
    vst1q_f32(buf, v);
    memcpy(p, buf, k * sizeof(float));
}
static inline vf v_keep_n(vf v, size_t k)
{
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), mask_first(k)));
}

static inline vf v_set(float f) { return vdupq_n_f32(f); }
static inline vf v_add(vf a, vf b) { return vaddq_f32(a, b); }
static inline vf v_sub(vf a, vf b) { return vsubq_f32(a, b); }
static inline vf v_mul(vf a, vf b) { return vmulq_f32(a, b); }
static inline vf v_div(vf a, vf b) { return vdivq_f32(a, b); }
/* vfmaq_f32(c, a, b) = c + a * b, one rounding. */
static inline vf v_fma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
/* maxps: a where a > b, else b (b for NaN in either operand, and for
 * max(+-0, -+0)). FMAX/FMAXNM would differ exactly there. */
static inline vf v_max(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
/* Sign-bit operations, as on x86: no NaN is quieted or replaced. */
static inline vf v_abs(vf a)
{
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(a), vdupq_n_u32(0x80000000u)));
}
static inline vf v_neg(vf a)
{
    return vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(a), vdupq_n_u32(0x80000000u)));
}

static inline vm v_eq(vf a, vf b) { return vceqq_f32(a, b); }
static inline vm v_ge(vf a, vf b) { return vcgeq_f32(a, b); }
static inline vm m_or(vm a, vm b) { return vorrq_u32(a, b); }
static inline int m_all(vm m) { return vminvq_u32(m) == UINT32_MAX; }
static inline int m_any(vm m) { return vmaxvq_u32(m) != 0; }
static inline vm m_none(void) { return vdupq_n_u32(0); }
static inline vf v_select(vm m, vf a, vf b) { return vbslq_f32(m, a, b); }
static inline vm v_outside01(vf t)
{
    /* Ordered compares are false for NaN, so their complements catch it. */
    const vm in = vandq_u32(vcgeq_f32(t, vdupq_n_f32(0.0f)), vcleq_f32(t, vdupq_n_f32(1.0f)));
    return vmvnq_u32(in);
}
static inline vm v_isnan(vf v) { return vmvnq_u32(vceqq_f32(v, v)); }
static inline vm v_isinf(vf v) { return vceqq_f32(v_abs(v), vdupq_n_f32(__builtin_inff())); }
/* NaN or +-inf: not (|v| <= FLT_MAX) */
static inline vm v_outside_finite(vf v) { return vmvnq_u32(vcleq_f32(v_abs(v), vdupq_n_f32(__FLT_MAX__))); }
/* <= 0 or NaN: not (v > 0) */
static inline vm v_not_positive(vf v) { return vmvnq_u32(vcgtq_f32(v, vdupq_n_f32(0.0f))); }
static inline vm m_and(vm a, vm b) { return vandq_u32(a, b); }
static inline int m_count(vm m) { return (int)vaddvq_u32(vshrq_n_u32(m, 31)); }
static inline float v_max_lanes(vf v) { return vmaxvq_f32(v); }

/* 4 boxes of 4 floats <-> 4 vectors of 4: LD4 / ST4. */
static inline void v_load4(const float *p, vf *a, vf *b, vf *c, vf *d)
{
    const float32x4x4_t v = vld4q_f32(p);
    *a = v.val[0]; *b = v.val[1]; *c = v.val[2]; *d = v.val[3];
}
static inline void v_store4(float *p, vf a, vf b, vf c, vf d)
{
    const float32x4x4_t v = {{a, b, c, d}};
    vst4q_f32(p, v);
}

#define v_exp Sleef_expf4_u10advsimd
#define v_log Sleef_logf4_u35advsimd
#define v_log_fast Sleef_logf4_u35advsimd
#define v_atan Sleef_atanf4_u10advsimd

/* The lane sums in registers: lanes 0-1, 2-3, ..., 14-15. Private to this
 * file: the driver only passes a vacc to the functions below. */
typedef struct { float64x2_t lane[8]; } vacc;
static inline void acc_zero(vacc *a)
{
    for (int i = 0; i < 8; i++) a->lane[i] = vdupq_n_f64(0.0);
}
static inline void acc_add(vacc *a, size_t i, vf v)
{
    a->lane[i / 2] = vaddq_f64(a->lane[i / 2], vcvt_f64_f32(vget_low_f32(v)));
    a->lane[i / 2 + 1] = vaddq_f64(a->lane[i / 2 + 1], vcvt_high_f64_f32(v));
}
/* focal_lane_tree() in registers, the same additions: (i + 8), (i + 4),
 * (i + 2), then lane 0 + lane 1. */
static inline double acc_sum(const vacc *a)
{
    float64x2_t s[4];
    for (int i = 0; i < 4; i++) s[i] = vaddq_f64(a->lane[i], a->lane[i + 4]);
    s[0] = vaddq_f64(s[0], s[2]);
    s[1] = vaddq_f64(s[1], s[3]);
    s[0] = vaddq_f64(s[0], s[1]);
    return vgetq_lane_f64(s[0], 0) + vgetq_lane_f64(s[0], 1);
}

#include "../kernel_driver.h"
#include "../kernel_table.h"
