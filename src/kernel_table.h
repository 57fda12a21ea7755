/* SPDX-License-Identifier: MIT */
/*
 * The end of every ISA file: the entry points over the kernel bodies, and the
 * one const table the dispatcher picks from (libsodium style). Included once
 * per ISA, after the bodies, with the vocabulary of that ISA in scope.
 */
#define FOCAL_CAT_(a, b) a##b
#define FOCAL_CAT(a, b) FOCAL_CAT_(a, b)
#define FOCAL_SIGMOID_ENTRY FOCAL_CAT(focal_sigmoid_, FOCAL_KERNEL_ID)
#define FOCAL_SOFT_ENTRY FOCAL_CAT(focal_soft_, FOCAL_KERNEL_ID)
#define FOCAL_SOFTMAX_ENTRY FOCAL_CAT(focal_softmax_, FOCAL_KERNEL_ID)

/* The other losses, over the same vocabulary and sigmoid pieces. */
#include "kernel_quality_body.h"
#include "kernel_softmax_body.h"

/* Expand each (gamma kind, grad?, per-element loss?) into its own loop, so the
 * choices cost nothing inside it. */
#define FOCAL_SIGMOID_CASE(gk)                                                     \
    case gk:                                                                       \
        if (grad)                                                                  \
            return loss ? focal_sigmoid_run(x, t, first, n, prm, loss, grad, sum, gk, 1, 1) \
                        : focal_sigmoid_run(x, t, first, n, prm, loss, grad, sum, gk, 1, 0); \
        return loss ? focal_sigmoid_run(x, t, first, n, prm, loss, grad, sum, gk, 0, 1)     \
                    : focal_sigmoid_run(x, t, first, n, prm, loss, grad, sum, gk, 0, 0);

static int FOCAL_SIGMOID_ENTRY(const float *x, const float *t, size_t first, size_t n,
                               const focal_sigmoid_params *prm,
                               float *loss, float *grad, double *sum)
{
    switch (prm->gamma_kind) {
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_0)
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_1)
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_2)
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_3)
    default:
        FOCAL_SIGMOID_CASE(FOCAL_GAMMA_ANY)
    }
}

#define FOCAL_SOFT_CASE(kind, gk)                                                   \
    case gk:                                                                        \
        if (grad)                                                                   \
            return loss ? focal_soft_run(x, t, w, n, prm, loss, grad, sum, kind, gk, 1, 1) \
                        : focal_soft_run(x, t, w, n, prm, loss, grad, sum, kind, gk, 1, 0); \
        return focal_soft_run(x, t, w, n, prm, loss, grad, sum, kind, gk, 0, loss != NULL);

#define FOCAL_SOFT_KIND(kind)                                                       \
    switch (prm->gamma_kind) {                                                      \
        FOCAL_SOFT_CASE(kind, FOCAL_GAMMA_0)                                        \
        FOCAL_SOFT_CASE(kind, FOCAL_GAMMA_1)                                        \
        FOCAL_SOFT_CASE(kind, FOCAL_GAMMA_2)                                        \
        FOCAL_SOFT_CASE(kind, FOCAL_GAMMA_3)                                        \
    default:                                                                        \
        FOCAL_SOFT_CASE(kind, FOCAL_GAMMA_ANY)                                      \
    }

static int FOCAL_SOFT_ENTRY(const float *x, const float *t, const float *w, size_t n,
                            const focal_soft_params *prm, float *loss, float *grad, double *sum)
{
    if (prm->kind == FOCAL_SOFT_QUALITY)
        FOCAL_SOFT_KIND(FOCAL_SOFT_QUALITY)
    FOCAL_SOFT_KIND(FOCAL_SOFT_VARIFOCAL)
}

#define FOCAL_SOFTMAX_CASE(gk)                                                      \
    case gk:                                                                        \
        return grad ? focal_softmax_run(x, labels, w, rows, prm, loss, grad, sum, gk, 1) \
                    : focal_softmax_run(x, labels, w, rows, prm, loss, grad, sum, gk, 0);

static int FOCAL_SOFTMAX_ENTRY(const float *x, const int32_t *labels, const float *w,
                               size_t rows, const focal_softmax_params *prm,
                               float *loss, float *grad, double *sum)
{
    switch (prm->gamma_kind) {
        FOCAL_SOFTMAX_CASE(FOCAL_GAMMA_0)
        FOCAL_SOFTMAX_CASE(FOCAL_GAMMA_1)
        FOCAL_SOFTMAX_CASE(FOCAL_GAMMA_2)
        FOCAL_SOFTMAX_CASE(FOCAL_GAMMA_3)
    default:
        FOCAL_SOFTMAX_CASE(FOCAL_GAMMA_ANY)
    }
}

const focal_kernel FOCAL_CAT(focal_kernel_, FOCAL_KERNEL_ID) = {
    FOCAL_KERNEL_NAME,
    FOCAL_SIGMOID_ENTRY,
    FOCAL_SOFT_ENTRY,
    FOCAL_SOFTMAX_ENTRY,
};
