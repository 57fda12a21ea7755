/* SPDX-License-Identifier: MIT */
/* Inputs for focal-bench: one set of logits and two sets of targets, made
 * once at the largest size from a fixed seed; smaller sizes use prefixes.
 * The detector-shaped runs add class-index labels and their dense one-hot
 * equivalent (their logits are a prefix of `logits`). */
#ifndef FOCAL_BENCH_DATA_H
#define FOCAL_BENCH_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_data {
    size_t n;
    float *logits;       /* N(0, 3), clipped to [-15, 15]              */
    float *hard_targets; /* 1 with probability 1%, else 0              */
    float *soft_targets; /* uniform in [0, 1]                          */
    float *out;          /* scratch output (gradient, stream output)   */

    /* Detector shape: det_rows x det_classes logits (a prefix of logits). */
    size_t det_rows, det_classes;
    size_t det_positive, det_ignored; /* rows of each kind (rest: background) */
    int32_t *det_labels;  /* det_rows: class in [0, classes), -1 (ignored,
                             10%) or classes (background)               */
    float *det_targets;   /* det_rows x det_classes one-hot; ignored rows
                             are all zeros, like background ones          */
} bench_data;

/* Returns 0, or -1 when out of memory (nothing to free then). */
int bench_data_init(bench_data *d, size_t n, unsigned long long seed);
/* After bench_data_init, with rows * classes <= d->n: 1% positive rows (class
 * uniform), 10% ignored, the rest background. Returns 0, or -1 when out of
 * memory (the detector arrays are then NULL). */
int bench_data_init_detector(bench_data *d, size_t rows, size_t classes,
                             unsigned long long seed);
void bench_data_free(bench_data *d);

#endif /* FOCAL_BENCH_DATA_H */
