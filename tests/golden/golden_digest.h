/* SPDX-License-Identifier: MIT */
/*
 * The committed digests of test_golden, one per family of canonical calls:
 * FNV-1a 64 over the output bits, reproduced by every kernel on x86-64 and
 * aarch64 and by every thread count. Change one only together with an
 * intentional change of the kernels' arithmetic (or of that family's
 * calls), from the value test_golden prints. The families that use them are
 * the `golden` lists of the descriptors in tests/entry_points.c.
 */
#ifndef FOCAL_GOLDEN_DIGEST_H
#define FOCAL_GOLDEN_DIGEST_H

/* focal_sigmoid_loss_grad, the 1.0 set (committed with 1.0: unchanged). */
#define GOLDEN_DIGEST_SIGMOID_LOSS_GRAD UINT64_C(0x3ca4ee123409c4b6)
#define GOLDEN_DIGEST_SIGMOID_LOSS_GRAD_BLOCKS UINT64_C(0x33dabd8f3bc9e129)
#define GOLDEN_DIGEST_SIGMOID_LABELS UINT64_C(0xa95ee65c6d5e2182)
#define GOLDEN_DIGEST_SIGMOID_DENSE UINT64_C(0xa5f0242a2270171b)
#define GOLDEN_DIGEST_SOFTMAX_LABELS UINT64_C(0x3714604dfa055e85)
#define GOLDEN_DIGEST_QUALITY_FOCAL UINT64_C(0xf62be1eda1eb9d2d)
#define GOLDEN_DIGEST_VARIFOCAL UINT64_C(0x11c86ef102886b74)
/* 1.2: BCE's pos_weight (sigmoid labels / dense), Ultralytics' QFocalLoss. */
#define GOLDEN_DIGEST_SIGMOID_POS_WEIGHT UINT64_C(0x11911a735f03efd2)
#define GOLDEN_DIGEST_QUALITY_YOLO UINT64_C(0xfbc0e47cdbab1af8)
/* 1.4: the Distribution Focal Loss. */
#define GOLDEN_DIGEST_DISTRIBUTION_FOCAL UINT64_C(0x6539946cc8e07139)
/* 1.5: the box losses, one family per kind (its calls over the three
 * conventions), and smooth L1 (over beta 1, 1/9 and 0). */
#define GOLDEN_DIGEST_BOX_IOU UINT64_C(0x6042f242e4c30da0)
#define GOLDEN_DIGEST_BOX_IOU_SQUARE UINT64_C(0x5390ad64178722e2)
#define GOLDEN_DIGEST_BOX_IOU_LOG UINT64_C(0xaaf3e9af066e8729)
#define GOLDEN_DIGEST_BOX_GIOU UINT64_C(0xff6189cfe10e2af7)
#define GOLDEN_DIGEST_BOX_DIOU UINT64_C(0x261acc3a04835052)
#define GOLDEN_DIGEST_BOX_CIOU UINT64_C(0xe43eb0791180b697)
#define GOLDEN_DIGEST_SMOOTH_L1 UINT64_C(0x0fb18a0af0bb861e)

#endif
