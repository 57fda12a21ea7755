/*
 * Baselines focal-bench measures the library against. The three focal loss
 * baselines are one textbook loop (baseline_loop.h) built three ways; the
 * stream loops give the memory roofline.
 *
 * Each focal baseline writes what focal_sigmoid_loss_grad writes with
 * FOCAL_REDUCTION_MEAN: *loss = mean loss and, unless forward only,
 * grad[i] = d(mean loss)/d x[i].
 */
#ifndef FOCAL_BENCH_BASELINES_H
#define FOCAL_BENCH_BASELINES_H

#include <stddef.h>

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

#endif /* FOCAL_BENCH_BASELINES_H */
