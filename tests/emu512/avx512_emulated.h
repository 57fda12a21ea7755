/* SPDX-License-Identifier: MIT */
/*
 * Test-only: what src/x86/kernel_avx512.c includes instead of <immintrin.h>
 * and <sleef.h> when FOCAL_AVX512_EMULATED is defined, so that the very same
 * AVX-512 vocabulary and kernel bodies run on a CPU with AVX2 + FMA and no
 * AVX-512 (the focal_emu512 library, tests/emu512/CMakeLists.txt). Never part
 * of the shipped library.
 *
 * SIMDe's native aliases map the _mm512_* names, __m512 and __mmask16 onto
 * its portable versions, which on this build (-mavx2 -mfma) work on two
 * native 256-bit halves. Below, what SIMDe 0.7.4 lacks or gets wrong for us,
 * each given the exact semantics of the real instruction:
 *   _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps, _mm512_cvtps_pd  missing
 *   _mm512_abs_ps       SIMDe returns -x for x < 0: -0.0 and negative NaNs
 *                       keep their sign; the instruction clears the sign bit
 * and the two SLEEF functions, which exist only for real AVX-512 (sleef.h
 * declares them under __AVX512F__): SLEEF returns the same bits in every
 * vector ISA for one function and accuracy, so the 16-lane call is exactly
 * two calls of the 8-lane AVX2 version.
 */
#ifndef FOCAL_AVX512_EMULATED_H
#define FOCAL_AVX512_EMULATED_H

#if defined(__AVX512F__) || !defined(__AVX2__) || !defined(__FMA__)
#error "the emulated AVX-512 kernel is built with -mavx2 -mfma and without -mavx512f"
#endif

#include <sleef.h>

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

static inline __m256 focal_emu_lo(simde__m512 v) { return simde__m512_to_private(v).m256[0]; }
static inline __m256 focal_emu_hi(simde__m512 v) { return simde__m512_to_private(v).m256[1]; }
static inline simde__m512 focal_emu_join(__m256 lo, __m256 hi)
{
    simde__m512_private r;
    r.m256[0] = lo;
    r.m256[1] = hi;
    return simde__m512_from_private(r);
}

/* Eight bits of an opmask as an AVX2 lane mask (sign bit set = selected). */
static inline __m256i focal_emu_lanes(unsigned bits)
{
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), bit), bit);
}

/* vmaskmov, like the masked AVX-512 moves, never touches masked-off lanes;
 * a half with no lane selected is not even addressed (p + 8 may lie past the
 * end of the caller's array). */
static inline simde__m512 focal_emu_maskz_loadu_ps(simde__mmask16 k, const void *p)
{
    const float *f = (const float *)p;
    const unsigned lo = k & 0xffu, hi = (unsigned)k >> 8;
    return focal_emu_join(lo ? _mm256_maskload_ps(f, focal_emu_lanes(lo)) : _mm256_setzero_ps(),
                          hi ? _mm256_maskload_ps(f + 8, focal_emu_lanes(hi)) : _mm256_setzero_ps());
}

static inline void focal_emu_mask_storeu_ps(void *p, simde__mmask16 k, simde__m512 v)
{
    float *f = (float *)p;
    const unsigned lo = k & 0xffu, hi = (unsigned)k >> 8;
    if (lo)
        _mm256_maskstore_ps(f, focal_emu_lanes(lo), focal_emu_lo(v));
    if (hi)
        _mm256_maskstore_ps(f + 8, focal_emu_lanes(hi), focal_emu_hi(v));
}

static inline simde__m512d focal_emu_cvtps_pd(simde__m256 v)
{
    simde__m512d_private r;
    r.m256d[0] = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    r.m256d[1] = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    return simde__m512d_from_private(r);
}

static inline simde__m512 focal_emu_abs_ps(simde__m512 v)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    return focal_emu_join(_mm256_andnot_ps(sign, focal_emu_lo(v)),
                          _mm256_andnot_ps(sign, focal_emu_hi(v)));
}

#undef _mm512_maskz_loadu_ps
#undef _mm512_mask_storeu_ps
#undef _mm512_cvtps_pd
#undef _mm512_abs_ps
#define _mm512_maskz_loadu_ps(k, p) focal_emu_maskz_loadu_ps((k), (p))
#define _mm512_mask_storeu_ps(p, k, v) focal_emu_mask_storeu_ps((p), (k), (v))
#define _mm512_cvtps_pd(v) focal_emu_cvtps_pd(v)
#define _mm512_abs_ps(v) focal_emu_abs_ps(v)

static inline simde__m512 Sleef_expf16_u10avx512f(simde__m512 v)
{
    return focal_emu_join(Sleef_expf8_u10avx2(focal_emu_lo(v)), Sleef_expf8_u10avx2(focal_emu_hi(v)));
}

static inline simde__m512 Sleef_logf16_u35avx512f(simde__m512 v)
{
    return focal_emu_join(Sleef_logf8_u35avx2(focal_emu_lo(v)), Sleef_logf8_u35avx2(focal_emu_hi(v)));
}

static inline simde__m512 Sleef_atanf16_u10avx512f(simde__m512 v)
{
    return focal_emu_join(Sleef_atanf8_u10avx2(focal_emu_lo(v)), Sleef_atanf8_u10avx2(focal_emu_hi(v)));
}

#endif
