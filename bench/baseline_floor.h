/* SPDX-License-Identifier: MIT */
/*
 * The compute floor ("sleef_floor"): the SLEEF calls and the division that a
 * kernel cannot avoid, alone, in the kernel's chunk and phase layout. A
 * kernel's rate over its floor's rate is the share of the reachable speed it
 * gets; the rest of its time goes to the arithmetic around the calls.
 *
 * Not a normal header: each baseline_floor_<isa>.c defines the vocabulary
 * below with the intrinsics and SLEEF functions of its kernel in src/, is
 * compiled with that kernel's per-file ISA flags (bench/CMakeLists.txt), and
 * includes this file once. One file per ISA because SLEEF declares its
 * *_purecfma functions only under FMA and its AVX-512 ones only under
 * __AVX512F__, and focal-bench, like the library, must start on any CPU of
 * its architecture: ISA flags go on single files, never on the program.
 *
 * What the kernel does per element (src/kernel_driver.h, elem_chunk), in
 * chunks of FLOOR_CHUNK elements, each call phase in a loop of its own:
 *   phase 1  e = exp(-|x|)                                  one expf u10
 *   phase 2  u = 1 + e, r = 1 / u, log(u)                   one division, one logf u35
 *   phase 4  exp(gamma log q): soft targets, gamma outside {0, 1, 2, 3} only,
 *            one logf u35 and one expf u10 more
 * (phase 3 and phase 5 are arithmetic only.) The floor keeps exactly these
 * calls and the loads and stores between phases, and drops everything else.
 * So that the compiler can delete nothing (SLEEF's functions are declared
 * const), every result reaches the output buffer, one float per element,
 * as the kernel writes its gradient: hard, out = r + log(u); soft, out =
 * exp(gamma log r) + log(u), r standing in for q (both lie in (0, 1]).
 *
 * Vocabulary (W = FLOOR_W lanes): vf; v_load, v_store (W floats, unaligned);
 * v_set, v_add, v_mul, v_div, v_abs, v_neg; v_exp (expf u10), v_log (logf
 * u35), the kernel's functions; FLOOR_ISA, the suffix of the names.
 *
 * n must be a multiple of 16 (every vector width divides it); focal-bench's
 * sizes are multiples of FLOOR_CHUNK.
 */
#include <stddef.h>

#include "baselines.h"

#ifndef FLOOR_ISA
#error "define the vocabulary and FLOOR_ISA before including baseline_floor.h"
#endif

/* FOCAL_CHUNK of src/kernel_driver.h: the scratch arrays of a chunk stay in L1. */
#define FLOOR_CHUNK 256

#define FLOOR_CAT_(a, b) a##b
#define FLOOR_CAT(a, b) FLOOR_CAT_(a, b)

static inline __attribute__((always_inline)) void floor_run(const float *restrict x, size_t n,
                                                             float gamma, float *restrict out,
                                                             const int soft)
{
    _Alignas(64) float e[FLOOR_CHUNK], r[FLOOR_CHUNK], l[FLOOR_CHUNK];
    const vf one = v_set(1.0f), g = v_set(gamma);

    for (size_t i = 0; i < n; i += FLOOR_CHUNK) {
        const size_t m = n - i < FLOOR_CHUNK ? n - i : FLOOR_CHUNK;
        const float *xc = x + i;
        float *oc = out + i;
        size_t j;
        for (j = 0; j < m; j += FLOOR_W) /* phase 1 */
            v_store(e + j, v_exp(v_neg(v_abs(v_load(xc + j)))));
        for (j = 0; j < m; j += FLOOR_W) { /* phase 2 */
            const vf u = v_add(one, v_load(e + j));
            const vf rv = v_div(one, u), lv = v_log(u);
            if (soft) {
                v_store(r + j, rv);
                v_store(l + j, lv);
            } else {
                v_store(oc + j, v_add(rv, lv));
            }
        }
        if (soft)
            for (j = 0; j < m; j += FLOOR_W) /* phase 4 */
                v_store(oc + j, v_add(v_exp(v_mul(g, v_log(v_load(r + j)))), v_load(l + j)));
    }
}

void FLOOR_CAT(sleef_floor_hard_, FLOOR_ISA)(const float *x, size_t n, float gamma, float *out)
{
    floor_run(x, n, gamma, out, 0);
}

void FLOOR_CAT(sleef_floor_soft_, FLOOR_ISA)(const float *x, size_t n, float gamma, float *out)
{
    floor_run(x, n, gamma, out, 1);
}
