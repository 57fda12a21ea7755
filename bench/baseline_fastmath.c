/* SPDX-License-Identifier: MIT */
/* Fast-math baseline, gamma at run time: the shared loop at -O3 -march=native
 * -ffast-math, where GCC vectorizes expf/logf/powf with glibc's libmvec
 * (_ZGV*_expf ...). The flags come from bench/CMakeLists.txt. */
#define BASELINE_NAME(suffix) fastmath_##suffix
#include "baseline_loop.h"
