/* SPDX-License-Identifier: MIT */
/* The scalar kernel for x86-64 CPUs without FMA: the same source, built
 * without -mfma and with SLEEF's non-FMA functions (see kernel_scalar.c). */
#define FOCAL_SCALAR_NOFMA
#include "../kernel_scalar.c"
