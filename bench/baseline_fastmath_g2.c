/* SPDX-License-Identifier: MIT */
/* Fast-math baseline with gamma = 2 folded at compile time: the best case for
 * a compiler (pow(q, 1) and pow(q, 2) become multiplies). Same loop, same
 * flags as baseline_fastmath.c. */
#define BASELINE_NAME(suffix) fastmath_g2_##suffix
#define BASELINE_FIXED_GAMMA 2
#include "baseline_loop.h"
