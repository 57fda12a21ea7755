/*
 * Plumbing shared by the fuzz targets: a byte reader that reads zeros past
 * the end, a cyclic payload, and buffers between canary floats.
 */
#ifndef FOCAL_FUZZ_COMMON_H
#define FOCAL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 16
#define CANARY 0x7FC0DEADu /* a quiet NaN payload the library never makes */

/* ---- input reader ---------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t n, i;
} reader;

static inline uint8_t rd8(reader *r)
{
    return r->i < r->n ? r->p[r->i++] : 0;
}

static inline uint32_t rd32(reader *r)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v |= (uint32_t)rd8(r) << (8 * k);
    return v;
}

static inline float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* The payload, read cyclically from a starting byte. */
typedef struct {
    const uint8_t *p;
    size_t n;
} payload;

static inline uint8_t pb(const payload *pl, size_t at)
{
    return pl->n ? pl->p[at % pl->n] : 0;
}

static inline uint32_t p32(const payload *pl, size_t at)
{
    return (uint32_t)pb(pl, at) | (uint32_t)pb(pl, at + 1) << 8 | (uint32_t)pb(pl, at + 2) << 16 |
           (uint32_t)pb(pl, at + 3) << 24;
}

/* ---- buffers with canaries ------------------------------------------------- */

/* [GUARD + off canaries][len floats][GUARD canaries] */
typedef struct {
    float *base, *data;
    size_t total, off, len;
} guarded;

static inline void guarded_alloc(guarded *g, size_t len, size_t off)
{
    g->total = GUARD + off + len + GUARD;
    g->base = malloc(g->total * sizeof(float));
    if (!g->base)
        abort();
    g->off = off;
    g->len = len;
    g->data = g->base + GUARD + off;
    for (size_t i = 0; i < g->total; i++)
        g->base[i] = from_bits(CANARY);
}

static inline int guarded_intact(const guarded *g)
{
    const size_t head = GUARD + g->off, tail = head + g->len;
    for (size_t i = 0; i < g->total; i++)
        if ((i < head || i >= tail) && bits_of(g->base[i]) != CANARY)
            return 0;
    return 1;
}

static inline int all_canary(const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (bits_of(p[i]) != CANARY)
            return 0;
    return 1;
}

/* An input: exactly off + n floats, so reading past the last element runs
 * into ASan's redzone. */
static inline float *input_copy(const float *src, size_t n, size_t off)
{
    float *b = malloc((off + n) * sizeof(float) + (off + n == 0));
    if (!b)
        abort();
    for (size_t i = 0; i < off; i++)
        b[i] = from_bits(CANARY);
    memcpy(b + off, src, n * sizeof(float));
    return b;
}


static inline int same(const float *a, const float *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof(float)) == 0;
}

/* The kernels this CPU runs, best last. */
static inline int list_kernels(const char **out, int (*set_isa)(const char *))
{
    static const char *const names[] = { "scalar", "avx2", "avx512", "neon", "sve" };
    int count = 0;
    for (int i = 0; i < 5; i++)
        if (set_isa(names[i]) == 0)
            out[count++] = names[i];
    set_isa("auto");
    return count;
}

#endif
