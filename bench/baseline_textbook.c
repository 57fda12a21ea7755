/* SPDX-License-Identifier: MIT */
/* Textbook baseline: the shared loop at -O2 with plain libm calls
 * (bench/CMakeLists.txt sets the flags). */
#define BASELINE_NAME(suffix) textbook_##suffix
#include "baseline_loop.h"
