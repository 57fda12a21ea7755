/* SPDX-License-Identifier: MIT */
/*
 * Shared test plumbing: a seeded RNG, guarded buffers, input generators.
 */
#ifndef FOCAL_TESTS_TESTUTIL_H
#define FOCAL_TESTS_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <focal/focal.h>

/* ---- deterministic RNG (xoshiro256**) ---------------------------------- */

typedef struct {
    uint64_t s[4];
} rng_t;

/* The seed every suite starts from: FOCAL_TEST_SEED from the environment if
 * set (to reproduce or vary a run), otherwise a fixed value. Printed once. */
uint64_t test_seed(void);

/* FOCAL_TEST_SHRINK=<k> (k >= 1, default 1) divides the sizes of the largest
 * tests: the aarch64 presets set it, since every instruction runs emulated
 * there. The coverage of shapes, values and kernels stays the same. */
size_t test_shrink(void);
/* FOCAL_TEST_SUBSET=<k> (odd k >= 1, default 1; an even k counts as k + 1)
 * makes test_bitwise run a deterministic subset of about 1/k of its
 * configurations: the n = 0..300 sweeps visit every k-th n (an odd step is
 * coprime with the 16 lanes, so every tail length n % 16, every partial
 * vector of every width, is still visited), each entry point shape runs the
 * option sets congruent to it modulo min(k, sets) (every shape and every set
 * still runs), the large sizes run aligned only and the thread check uses 3
 * threads only. The aarch64 SVE runs at 256 and 512 bits use it
 * (docs/DESIGN.md §8: the full sweeps run at 128 bits), and so does the
 * valgrind step of .ci/run (k = 3: the full sweeps run natively and under
 * ASan). */
size_t test_subset(void);
void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_next(rng_t *r);
double rng_unit(rng_t *r);                      /* uniform in [0, 1)   */
float rng_float(rng_t *r, float lo, float hi);  /* uniform in [lo, hi) */
size_t rng_below(rng_t *r, size_t n);           /* uniform in [0, n)   */

/* ---- inputs -------------------------------------------------------------- */

/* 70% uniform in [-20, 20], 30% log-uniform magnitudes in [1e-3, 100] with a
 * random sign: dense where the loss is interesting, with a heavy tail out to
 * where exp(-|x|) leaves the float range. */
void fill_logits_mixed(rng_t *r, float *x, size_t n);
void fill_logits_uniform(rng_t *r, float *x, size_t n, float lo, float hi);
void fill_targets_hard(rng_t *r, float *t, size_t n);
/* uniform in [0, 1] with a few exact 0 and 1 mixed in */
void fill_targets_soft(rng_t *r, float *t, size_t n);

/* ---- buffers ------------------------------------------------------------ */

/* A float buffer of n elements starting `offset` floats past a 64-byte
 * boundary (so offsets 0..15 cover every misalignment an AVX-512 kernel can
 * see), surrounded by guard floats holding a canary bit pattern. */
#define FBUF_GUARD 32

typedef struct {
    float *base;  /* allocation                     */
    float *data;  /* the n usable floats            */
    size_t n;
    size_t total; /* floats in the allocation       */
} fbuf_t;

void fbuf_alloc(fbuf_t *b, size_t n, size_t offset);
void fbuf_free(fbuf_t *b);
/* true when every guard float still holds the canary */
bool fbuf_guards_intact(const fbuf_t *b);

/* The canary/sentinel: a bit pattern the library never produces (a negative
 * normal float no loss or plausible gradient equals). Set and compared as
 * bits so no FP conversion can alter it. */
#define SENTINEL_BITS 0xDEADBEEFu
void fill_sentinel(float *p, size_t n);
bool all_sentinel(const float *p, size_t n);

/* 64-byte aligned allocation that aborts on failure. */
float *falloc(size_t n);

/* Bit pattern of a float. */
uint32_t fbits(float f);
float from_bits(uint32_t u);

/* Wall-clock seconds (monotonic). */
double now_seconds(void);

/* ---- option sets ------------------------------------------------------- */

/* The option sets the oracle tests sweep, by number 0 .. OPTIONS_VARIANTS-1:
 * gamma through its code paths (2, 1.5, 0, 0.5, 3, 2.5, 1), alpha off (-1)
 * in variant 3, class_alpha in the odd ones, weight from 2 on, label
 * smoothing 0.1 from 4 on, normalizer 17.5 in 5. One table, so the labels
 * and the softmax suites test the same combinations. */
#define OPTIONS_VARIANTS 7
void options_variant(focal_options *o, int variant, int reduction, const float *class_alpha,
                     const float *weight);

#endif
