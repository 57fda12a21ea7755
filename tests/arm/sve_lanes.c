/* SPDX-License-Identifier: MIT */
/*
 * svcntw() for test_cpu_setting, from the instruction itself rather than
 * from the library. This file alone is built for SVE; call it only where
 * HWCAP_SVE is set.
 */
#include <arm_sve.h>

#include "sve_lanes.h"

int test_sve_lanes(void)
{
    return (int)svcntw();
}
