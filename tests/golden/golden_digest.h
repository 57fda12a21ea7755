/* SPDX-License-Identifier: MIT */
/*
 * The committed digest of test_golden: FNV-1a 64 over the output bits of its
 * canonical calls, reproduced by every kernel on x86-64 and aarch64. Change
 * it only together with an intentional change of the kernels' arithmetic
 * (or of the canonical calls), from the value test_golden prints.
 */
#ifndef FOCAL_GOLDEN_DIGEST_H
#define FOCAL_GOLDEN_DIGEST_H

#define GOLDEN_DIGEST UINT64_C(0x3ca4ee123409c4b6)

#endif
