/* SPDX-License-Identifier: MIT */
/*
 * SVE kernel for aarch64 (Graviton 3, Neoverse V1/V2, A64FX, ...). This file
 * alone is built with -march=armv8.2-a+sve: sleef.h declares SLEEF's SVE
 * functions only when the compiler targets SVE, and the rest of the library
 * must keep loading on aarch64 CPUs without it.
 *
 * Vector-length agnostic: one build runs at every SVE vector length, and
 * FOCAL_W is the run-time lane count svcntw() (4 at 128 bits, 8 at 256, 16 at
 * 512). The driver needs W to divide the 16 logical lanes of the sums
 * (docs/DESIGN.md §4.3): element i always goes to lane i % 16, so a length
 * that divides 16 gives the very bits of every other kernel. A length that
 * does not (384 bits: 12 lanes) or that exceeds 16 lanes (1024 and 2048
 * bits) cannot keep that layout, and the dispatcher never chooses this kernel
 * there (focal_kernel_supported("sve") is 0; NEON runs instead).
 *
 * Why not one build per vector length (-msve-vector-bits=128/256/512): three
 * copies of the 110 variants for one public name, a dispatcher choosing
 * between them, and no gain the run-time W does not already give: the
 * driver's loops step by W either way, and svcntw() is one instruction. The
 * driver's only concession is to skip its compile-time check of W when
 * FOCAL_W_SCALABLE is defined; the check moves to the dispatcher.
 *
 * The vector length is read when the library loads (focal_sve_lanes). A
 * thread that changes its own length later (prctl PR_SVE_SET_VL) to one not
 * dividing 16 is not supported.
 *
 * Where AArch64 and x86 disagree, the vocabulary follows x86, as the NEON
 * one does: v_max is maxps, not FMAX. Every operation runs under an all-true
 * predicate except the partial loads and stores, whose svwhilelt predicate
 * keeps them from touching memory past p + k (inactive lanes of a predicated
 * load or store never fault).
 *
 * vacc is 16 doubles in memory, as in the scalar kernel: with a run-time W
 * the lanes have no fixed register layout, and the vocabulary's rules keep
 * scalable vectors out of structs. Its speed has not been measured on SVE
 * hardware.
 */
#include <arm_sve.h>
#include <stdint.h>
#include <sleef.h>

#include "focal_internal.h"

#if !defined(__ARM_FEATURE_SVE)
#error "kernel_sve.c must be compiled for SVE (-march=armv8.2-a+sve)"
#endif

#define FOCAL_W_SCALABLE 1
#define FOCAL_W ((int)svcntw())
#define FOCAL_KERNEL_ID sve
#define FOCAL_KERNEL_NAME "sve"

typedef svfloat32_t vf;
typedef svbool_t vm;

/* Lanes per vector of this CPU (and this thread). Only called when
 * HWCAP_SVE is set: on other CPUs svcntw() is an undefined instruction. */
size_t focal_sve_lanes(void)
{
    return (size_t)svcntw();
}

#define ALL svptrue_b32()

static inline vf v_load(const float *p) { return svld1_f32(ALL, p); }
static inline void v_store(float *p, vf v) { svst1_f32(ALL, p, v); }
/* Inactive lanes are neither read (so never fault) nor written; a
 * predicated load sets them to zero. */
static inline vf v_load_n(const float *p, size_t k)
{
    return svld1_f32(svwhilelt_b32_u64(0, k), p);
}
static inline void v_store_n(float *p, vf v, size_t k)
{
    svst1_f32(svwhilelt_b32_u64(0, k), p, v);
}
static inline vf v_keep_n(vf v, size_t k)
{
    return svsel_f32(svwhilelt_b32_u64(0, k), v, svdup_n_f32(0.0f));
}

static inline vf v_set(float f) { return svdup_n_f32(f); }
static inline vf v_add(vf a, vf b) { return svadd_f32_x(ALL, a, b); }
static inline vf v_sub(vf a, vf b) { return svsub_f32_x(ALL, a, b); }
static inline vf v_mul(vf a, vf b) { return svmul_f32_x(ALL, a, b); }
static inline vf v_div(vf a, vf b) { return svdiv_f32_x(ALL, a, b); }
/* svmla_f32_x(pg, c, a, b) = c + a * b, one rounding (FMLA / FMAD). */
static inline vf v_fma(vf a, vf b, vf c) { return svmla_f32_x(ALL, c, a, b); }
/* maxps: a where a > b, else b (b for NaN in either operand, and for
 * max(+-0, -+0)). FMAX/FMAXNM would differ exactly there. */
static inline vf v_max(vf a, vf b) { return svsel_f32(svcmpgt_f32(ALL, a, b), a, b); }
/* Sign-bit operations, as on x86: no NaN is quieted or replaced. */
static inline vf v_abs(vf a)
{
    return svreinterpret_f32_u32(svand_n_u32_x(ALL, svreinterpret_u32_f32(a), 0x7fffffffu));
}
static inline vf v_neg(vf a)
{
    return svreinterpret_f32_u32(sveor_n_u32_x(ALL, svreinterpret_u32_f32(a), 0x80000000u));
}

static inline vm v_eq(vf a, vf b) { return svcmpeq_f32(ALL, a, b); }
static inline vm v_ge(vf a, vf b) { return svcmpge_f32(ALL, a, b); }
static inline vm m_or(vm a, vm b) { return svorr_b_z(ALL, a, b); }
static inline vm m_and(vm a, vm b) { return svand_b_z(ALL, a, b); }
static inline int m_all(vm m) { return !svptest_any(ALL, svnot_b_z(ALL, m)); }
static inline int m_any(vm m) { return svptest_any(ALL, m); }
static inline vm m_none(void) { return svpfalse_b(); }
static inline vf v_select(vm m, vf a, vf b) { return svsel_f32(m, a, b); }
static inline int m_count(vm m) { return (int)svcntp_b32(ALL, m); }
/* FMAXV: the driver asks only where no lane is NaN and the sign of a zero
 * maximum is never used, so FMAX's semantics there cannot show. */
static inline float v_max_lanes(vf v) { return svmaxv_f32(ALL, v); }
static inline vm v_outside01(vf t)
{
    /* Ordered compares are false for NaN, so their complement catches it. */
    const vm in = svand_b_z(ALL, svcmpge_n_f32(ALL, t, 0.0f), svcmple_n_f32(ALL, t, 1.0f));
    return svnot_b_z(ALL, in);
}
static inline vm v_isnan(vf v) { return svcmpuo_f32(ALL, v, v); }
static inline vm v_isinf(vf v) { return svcmpeq_n_f32(ALL, v_abs(v), __builtin_inff()); }
/* NaN or +-inf: not (|v| <= FLT_MAX) */
static inline vm v_outside_finite(vf v)
{
    return svnot_b_z(ALL, svcmple_n_f32(ALL, v_abs(v), __FLT_MAX__));
}

/* SLEEF's FMA SVE functions: the same algorithm and bits as the AdvSIMD,
 * AVX2, AVX-512 and purecfma ones of the other kernels. */
/* W boxes of 4 floats <-> 4 vectors: LD4W / ST4W. */
static inline void v_load4(const float *p, vf *a, vf *b, vf *c, vf *d)
{
    const svfloat32x4_t v = svld4_f32(ALL, p);
    *a = svget4_f32(v, 0); *b = svget4_f32(v, 1); *c = svget4_f32(v, 2); *d = svget4_f32(v, 3);
}
static inline void v_store4(float *p, vf a, vf b, vf c, vf d)
{
    svst4_f32(ALL, p, svcreate4_f32(a, b, c, d));
}

#define v_exp Sleef_expfx_u10sve
#define v_log Sleef_logfx_u35sve
#define v_log_fast Sleef_logfx_u35sve
#define v_atan Sleef_atanfx_u10sve

/* The lane sums in memory, one double per logical lane. A vector of W floats
 * is widened into two vectors of W / 2 doubles: svzip1 / svzip2 put floats
 * 0 .. W/2-1 and W/2 .. W-1 into the even halves of the 64-bit containers,
 * which FCVT converts. Lane k gets element k + i, as in every kernel. */
typedef struct { double lane[FOCAL_LANES]; } vacc;
static inline void acc_zero(vacc *a)
{
    for (int i = 0; i < FOCAL_LANES; i++) a->lane[i] = 0.0;
}
static inline void acc_add(vacc *a, size_t i, vf v)
{
    const svbool_t all = svptrue_b64();
    const svfloat64_t lo = svcvt_f64_f32_x(all, svzip1_f32(v, v));
    const svfloat64_t hi = svcvt_f64_f32_x(all, svzip2_f32(v, v));
    double *l0 = a->lane + i, *l1 = l0 + svcntd();
    svst1_f64(all, l0, svadd_f64_x(all, svld1_f64(all, l0), lo));
    svst1_f64(all, l1, svadd_f64_x(all, svld1_f64(all, l1), hi));
}
static inline double acc_sum(const vacc *a) { return focal_lane_tree(a->lane); }

#undef ALL

#include "../kernel_driver.h"
#include "../kernel_table.h"
