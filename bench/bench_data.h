/* Inputs for focal-bench: one set of logits and two sets of targets, made
 * once at the largest size from a fixed seed; smaller sizes use prefixes. */
#ifndef FOCAL_BENCH_DATA_H
#define FOCAL_BENCH_DATA_H

#include <stddef.h>

typedef struct bench_data {
    size_t n;
    float *logits;       /* N(0, 3), clipped to [-15, 15]              */
    float *hard_targets; /* 1 with probability 1%, else 0              */
    float *soft_targets; /* uniform in [0, 1]                          */
    float *out;          /* scratch output (gradient, stream output)   */
} bench_data;

/* Returns 0, or -1 when out of memory (nothing to free then). */
int bench_data_init(bench_data *d, size_t n, unsigned long long seed);
void bench_data_free(bench_data *d);

#endif /* FOCAL_BENCH_DATA_H */
