/* SPDX-License-Identifier: MIT */
/*
 * The one list of the losses the kernels compute (docs/DESIGN.md §9), as
 * isa_list.h is the one list of kernels. From it come the fields of every
 * kernel's table (focal_internal.h), the table's lines and each loss's
 * variants (kernel_table.h), and the enum the chunk driver switches on
 * (kernel_driver.h).
 *
 * FOCAL_LOSS_LIST(X) calls X(name, NAME, shape) once per loss. `shape` is
 * the driver and the kernel function type it runs on:
 *   sigmoid  the sigmoid focal loss's element-wise driver, with its forms
 *            (flat, labels, rows): focal_sigmoid_fn
 *   score    element-wise over soft scores in [0, 1]: focal_score_fn
 *   softmax  rows of a softmax with class-index labels: focal_softmax_fn
 *   dfl      rows of a softmax with one continuous target: focal_dfl_fn
 *   box      boxes (x1, y1, x2, y2) against target boxes, one box a lane,
 *            the kind of loss a per-call constant: focal_box_fn
 *   pair     element-wise over (prediction, target) floats: focal_pair_fn
 * Each loss's table entry is focal_<name>_<isa>, picking one of its variants
 * per call (kernel_table.h).
 */
#ifndef FOCAL_LOSS_LIST_H
#define FOCAL_LOSS_LIST_H

#define FOCAL_LOSS_LIST(X)             \
    X(sigmoid, SIGMOID, sigmoid)       \
    X(quality, QUALITY, score)         \
    X(varifocal, VARIFOCAL, score)     \
    X(softmax, SOFTMAX, softmax)       \
    X(dfl, DFL, dfl)                   \
    X(box_iou, BOX_IOU, box)           \
    X(smooth_l1, SMOOTH_L1, pair)

#endif /* FOCAL_LOSS_LIST_H */
