/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- RNG ------------------------------------------------------------------ */

size_t test_shrink(void)
{
    const char *env = getenv("FOCAL_TEST_SHRINK");
    const long k = env ? strtol(env, NULL, 10) : 1;
    return k >= 1 ? (size_t)k : 1;
}

size_t test_subset(void)
{
    const char *env = getenv("FOCAL_TEST_SUBSET");
    const long k = env ? strtol(env, NULL, 10) : 1;
    return k >= 1 ? (size_t)(k | 1) : 1;
}

uint64_t test_seed(void)
{
    static int printed;
    uint64_t seed = 0x5eedf0ca1ull;
    const char *env = getenv("FOCAL_TEST_SEED");
    if (env != NULL && *env != '\0')
        seed = strtoull(env, NULL, 0);
    if (!printed) {
        printf("[ SEED     ] FOCAL_TEST_SEED=0x%llx\n", (unsigned long long)seed);
        printed = 1;
    }
    return seed;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rng_seed(rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

float rng_float(rng_t *r, float lo, float hi)
{
    float v = (float)(lo + (hi - lo) * rng_unit(r));
    return v < hi ? v : lo; /* rounding to float may land on hi */
}

size_t rng_below(rng_t *r, size_t n)
{
    return n == 0 ? 0 : (size_t)(rng_next(r) % n);
}

/* ---- inputs ----------------------------------------------------------------- */

void fill_logits_uniform(rng_t *r, float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = rng_float(r, lo, hi);
}

void fill_logits_mixed(rng_t *r, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (rng_unit(r) < 0.7) {
            x[i] = rng_float(r, -20.0f, 20.0f);
        } else {
            double mag = pow(10.0, -3.0 + 5.0 * rng_unit(r)); /* 1e-3 .. 1e2 */
            x[i] = (float)((rng_next(r) & 1) ? mag : -mag);
        }
    }
}

void fill_targets_hard(rng_t *r, float *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        t[i] = (rng_next(r) & 1) ? 1.0f : 0.0f;
}

void fill_targets_soft(rng_t *r, float *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double u = rng_unit(r);
        if (u < 0.02)
            t[i] = 0.0f;
        else if (u < 0.04)
            t[i] = 1.0f;
        else
            t[i] = (float)rng_unit(r); /* may round to 1.0f: still valid */
    }
}

/* ---- buffers ---------------------------------------------------------------- */

float *falloc(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p == NULL) {
        fprintf(stderr, "out of memory allocating %zu floats\n", n);
        abort();
    }
    return p;
}

uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

void fill_sentinel(float *p, size_t n)
{
    uint32_t s = SENTINEL_BITS;
    for (size_t i = 0; i < n; i++)
        memcpy(p + i, &s, sizeof s);
}

bool all_sentinel(const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, p + i, sizeof u);
        if (u != SENTINEL_BITS)
            return false;
    }
    return true;
}

void fbuf_alloc(fbuf_t *b, size_t n, size_t offset)
{
    b->n = n;
    b->total = FBUF_GUARD + offset + n + FBUF_GUARD;
    b->base = falloc(b->total);
    b->data = b->base + FBUF_GUARD + offset;
    fill_sentinel(b->base, b->total);
}

void fbuf_free(fbuf_t *b)
{
    free(b->base);
    b->base = b->data = NULL;
}

bool fbuf_guards_intact(const fbuf_t *b)
{
    size_t before = (size_t)(b->data - b->base);
    size_t after = b->total - before - b->n;
    return all_sentinel(b->base, before) && all_sentinel(b->data + b->n, after);
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void options_variant(focal_options *o, int variant, int reduction, const float *class_alpha,
                     const float *weight)
{
    static const float gammas[OPTIONS_VARIANTS] = { 2.0f, 1.5f, 0.0f, 0.5f, 3.0f, 2.5f, 1.0f };
    focal_options_init(o);
    o->reduction = reduction;
    o->gamma = gammas[variant];
    o->alpha = variant == 3 ? -1.0f : 0.25f;
    if (variant & 1) o->class_alpha = class_alpha;
    if (variant >= 2) o->weight = weight;
    if (variant >= 4) o->label_smoothing = 0.1f;
    if (variant == 5) o->normalizer = 17.5f;
}
