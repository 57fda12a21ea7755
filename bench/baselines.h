/* SPDX-License-Identifier: MIT */
/*
 * Baselines focal-bench measures the library against. The three focal loss
 * baselines are one textbook loop (baseline_loop.h) built three ways; the
 * stream loops give the memory roofline, the sleef_floor loops the compute
 * one.
 *
 * Each focal baseline writes what focal_sigmoid_loss_grad writes with
 * FOCAL_REDUCTION_MEAN: *loss = mean loss and, unless forward only,
 * grad[i] = d(mean loss)/d x[i].
 */
#ifndef FOCAL_BENCH_BASELINES_H
#define FOCAL_BENCH_BASELINES_H

#include <stddef.h>
#include <stdint.h>

#define BASELINE_DECLARE(prefix)                                                          \
    void prefix##_loss_grad(const float *x, const float *t, size_t n, float alpha,        \
                            float gamma, float *loss, float *grad);                       \
    void prefix##_loss(const float *x, const float *t, size_t n, float alpha, float gamma, \
                       float *loss);

/* -O2, libm: what a first C port of the paper's formulas costs. */
BASELINE_DECLARE(textbook)
/* -O3 -march=native -ffast-math: vectorized through glibc's libmvec. */
BASELINE_DECLARE(fastmath)
/* The same with gamma fixed to 2 at compile time (pow folds to q * q);
 * the gamma argument is ignored. */
BASELINE_DECLARE(fastmath_g2)

/* out[i] = a[i] + b[i]: two reads, one write, 12 bytes per element like the
 * fused loss + gradient pass. */
void stream_add(const float *a, const float *b, float *out, size_t n);
/* sum a[i] * b[i]: two reads, 8 bytes per element like the forward pass. */
float stream_dot(const float *a, const float *b, size_t n);

/* The compute floor of each kernel (baseline_floor.h): its SLEEF calls and
 * division alone, phase-split like the kernel, each result stored to out[i].
 * hard: expf, division, logf per element (gamma in {0, 1, 2, 3});
 * soft: and the logf and expf of q^gamma (soft targets, other gamma).
 * n a multiple of 16. Each runs only where its kernel does. */
#define FLOOR_DECLARE(isa)                                                           \
    void sleef_floor_hard_##isa(const float *x, size_t n, float gamma, float *out); \
    void sleef_floor_soft_##isa(const float *x, size_t n, float gamma, float *out);
FLOOR_DECLARE(scalar)
#if defined(__x86_64__)
FLOOR_DECLARE(avx2)
FLOOR_DECLARE(avx512)
#elif defined(__aarch64__)
FLOOR_DECLARE(neon)
FLOOR_DECLARE(sve)
#endif

/* Textbook loops of the other losses (baseline_family.c, -O2, libm), MEAN,
 * loss + gradient: softmax focal with labels in [0, classes) or < 0
 * (ignored), alpha and gamma; quality focal |s - p|^gamma BCE; varifocal;
 * the Distribution Focal Loss, targets in [0, bins - 1), mean over rows. */
void textbook_softmax(const float *x, const int32_t *labels, size_t rows, size_t classes,
                      float alpha, float gamma, float *loss, float *grad);
void textbook_quality(const float *x, const float *s, size_t n, float gamma, float *loss,
                      float *grad);
void textbook_varifocal(const float *x, const float *s, size_t n, float alpha, float gamma,
                        float *loss, float *grad);
void textbook_dfl(const float *x, const float *t, size_t rows, size_t bins, float *loss,
                  float *grad);
/* Box regression (baseline_family.c, the same way): torchvision's CIoU and
 * GIoU losses of boxes x 4 floats (x1, y1, x2, y2), eps as torchvision's
 * (1e-7), gradient with respect to pred, mean over boxes; smooth L1 over n
 * floats, mean over n. */
void textbook_ciou(const float *pred, const float *target, size_t boxes, float eps,
                   float *loss, float *grad);
void textbook_giou(const float *pred, const float *target, size_t boxes, float eps,
                   float *loss, float *grad);
void textbook_smooth_l1(const float *pred, const float *target, size_t n, float beta,
                        float *loss, float *grad);

#endif /* FOCAL_BENCH_BASELINES_H */
