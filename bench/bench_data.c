/* SPDX-License-Identifier: MIT */
/*
 * Deterministic benchmark inputs. The generator is splitmix64 (a fixed seed
 * gives the same data on every machine, unlike rand()), normals come from
 * Box-Muller.
 *
 * Logits are clipped to [-15, 15] (5 sigma, so about one element in two
 * million): beyond about 16.6 the textbook baseline's 1 - p rounds to 0 and
 * its log gives -inf and NaNs, which would make its mean loss useless as a
 * cross-check. The library itself needs no such clipping.
 */
#include "bench_data.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): 53 random bits, never exactly 0 (log in Box-Muller). */
static double uniform01(uint64_t *s)
{
    return ((double)(splitmix64(s) >> 11) + 0.5) * 0x1p-53;
}

/* 64-byte aligned, as a training framework's tensors usually are; the size is
 * rounded up because aligned_alloc wants a multiple of the alignment. */
static float *alloc_floats(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes); /* fault the pages in before anything is timed */
    return p;
}

int bench_data_init(bench_data *d, size_t n, unsigned long long seed)
{
    uint64_t s = seed;
    memset(d, 0, sizeof *d);
    d->n = n;
    d->logits = alloc_floats(n);
    d->hard_targets = alloc_floats(n);
    d->soft_targets = alloc_floats(n);
    d->out = alloc_floats(n);
    if (!d->logits || !d->hard_targets || !d->soft_targets || !d->out) {
        bench_data_free(d);
        return -1;
    }
    const double two_pi = 6.283185307179586;
    for (size_t i = 0; i < n; i += 2) {
        double r = 3.0 * sqrt(-2.0 * log(uniform01(&s)));
        double a = two_pi * uniform01(&s);
        double z[2] = {r * cos(a), r * sin(a)};
        for (size_t k = 0; k < 2 && i + k < n; k++)
            d->logits[i + k] = (float)fmin(15.0, fmax(-15.0, z[k]));
    }
    for (size_t i = 0; i < n; i++) {
        d->hard_targets[i] = uniform01(&s) < 0.01 ? 1.0f : 0.0f;
        d->soft_targets[i] = (float)uniform01(&s);
    }
    return 0;
}

int bench_data_init_detector(bench_data *d, size_t rows, size_t classes,
                             unsigned long long seed)
{
    uint64_t s = seed;
    if (classes == 0 || rows > d->n / classes || classes > INT32_MAX)
        return -1;
    d->det_rows = rows;
    d->det_classes = classes;
    d->det_positive = d->det_ignored = 0;
    d->det_targets = alloc_floats(rows * classes); /* zeroed */
    d->det_labels = aligned_alloc(64, (rows * sizeof(int32_t) + 63) & ~(size_t)63);
    if (!d->det_targets || !d->det_labels) {
        free(d->det_targets);
        free(d->det_labels);
        d->det_targets = NULL;
        d->det_labels = NULL;
        d->det_rows = 0;
        return -1;
    }
    for (size_t r = 0; r < rows; r++) {
        double u = uniform01(&s);
        int32_t label = (int32_t)classes; /* background */
        if (u < 0.01) {
            label = (int32_t)(uniform01(&s) * (double)classes);
            d->det_targets[r * classes + (size_t)label] = 1.0f;
            d->det_positive++;
        } else if (u < 0.11) {
            label = -1; /* ignored: no ignore in dense targets, so zeros there */
            d->det_ignored++;
        }
        d->det_labels[r] = label;
    }
    return 0;
}

void bench_data_free(bench_data *d)
{
    free(d->logits);
    free(d->hard_targets);
    free(d->soft_targets);
    free(d->out);
    free(d->det_labels);
    free(d->det_targets);
    memset(d, 0, sizeof *d);
}
