/* SPDX-License-Identifier: MIT */
#ifndef FOCAL_TESTS_SVE_LANES_H
#define FOCAL_TESTS_SVE_LANES_H
/* Lanes (floats) per SVE vector: svcntw(). Only where HWCAP_SVE is set. */
int test_sve_lanes(void);
#endif
