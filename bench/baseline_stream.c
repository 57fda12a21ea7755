/* SPDX-License-Identifier: MIT */
/*
 * Memory roofline loops: no arithmetic worth the name, so their speed at a
 * size that misses the caches is what the memory system allows for the same
 * traffic as the focal pass. Built -O3 (with -march=native where available)
 * so that they run at full vector width.
 */
#include "baselines.h"

void stream_add(const float *restrict a, const float *restrict b, float *restrict out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

/* 16 partial sums: without -ffast-math GCC may not reassociate one running
 * sum, and a single dependency chain would measure add latency, not memory. */
float stream_dot(const float *restrict a, const float *restrict b, size_t n)
{
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (size_t j = 0; j < 16; j++)
            acc[j] += a[i + j] * b[i + j];
    for (; i < n; i++)
        acc[0] += a[i] * b[i];
    float s = 0.0f;
    for (size_t j = 0; j < 16; j++)
        s += acc[j];
    return s;
}
