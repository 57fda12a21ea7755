/* SPDX-License-Identifier: MIT */
/*
 * Plumbing shared by the fuzz targets: a byte reader that reads zeros past
 * the end, a cyclic payload, buffers between canary floats, and the checks
 * every target makes after a call (canaries, read-only inputs, what an
 * argument error may write, the return code) and the capture of its outputs.
 * The checks return a description of what failed instead of failing: each
 * target's fail() adds its own configuration to the message.
 */
#ifndef FOCAL_FUZZ_COMMON_H
#define FOCAL_FUZZ_COMMON_H

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

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

static inline float float_of_bits(uint32_t u)
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
        g->base[i] = float_of_bits(CANARY);
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
        b[i] = float_of_bits(CANARY);
    memcpy(b + off, src, n * sizeof(float));
    return b;
}


static inline int same(const float *a, const float *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof(float)) == 0;
}

/* ---- kernels --------------------------------------------------------------- */

/* The kernels of the library (focal_kernel_name) that this CPU runs, best
 * last (find_kernels, from LLVMFuzzerInitialize). */
static const char *kernels[16];
static int kernel_count;

static inline void find_kernels(void)
{
    const char *name;
    kernel_count = 0;
    for (size_t i = 0; kernel_count < 16 && (name = focal_kernel_name(i)) != NULL; i++)
        if (focal_kernel_supported(name) == 1)
            kernels[kernel_count++] = name;
}

/* After an input: the next one starts from the library's defaults. */
static inline void restore_defaults(void)
{
    focal_set_isa("auto");
    focal_set_num_threads(0);
}

/* ---- argument tables ------------------------------------------------------- */

/* Valid, edge and invalid values: a byte < 16 picks one (see each target). */
static const float alpha_table[16] = {
    0.25f, -1.0f, 0.0f, 1.0f, 0.5f, NAN, 1.00000012f, -INFINITY,
    INFINITY, -0.0f, 0.75f, 1e-45f, 2.0f, -NAN, 0.99999994f, -1e-45f,
};
static const float gamma_table[16] = {
    2.0f, 0.0f, 1.0f, 3.0f, 0.5f, 1.5f, 8.0f, -0.0f,
    -1.0f, NAN, INFINITY, 1e-45f, 100.0f, 0.1f, 4.0f, 2.00000024f,
};
static const float normalizer_table[16] = {
    0.0f, 0.0f, 0.0f, 1.0f, 0.5f, 100.0f, -1.0f, NAN,
    INFINITY, 1e-40f, 3e-39f, 1e30f, -0.0f, FLT_MAX, 7.0f, 1e-45f,
};
static const float smoothing_table[16] = {
    0.0f, 0.0f, 0.0f, 0.1f, 0.5f, 0.999f, 0.99999994f, 1.0f,
    -0.1f, NAN, 1e-45f, -0.0f, INFINITY, 0.2f, 2.0f, 1e-7f,
};
static const int bad_reductions[6] = { -1, 3, INT_MAX, INT_MIN, 4, 255 };
/* Logits where the kernels switch formulas or saturate (fuzz_family.c has
 * its own, with larger values) */
static const float special_logits[16] = {
    0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, 1e-45f,
    88.7f, -88.7f, 104.0f, -104.0f, 16.0f, -16.0f, 1e-30f, -87.3f,
};

/* ---- focal_options --------------------------------------------------------- */

enum { SIZE_EXACT, SIZE_SMALL, SIZE_LARGE_ZERO, SIZE_LARGE_DIRTY };

/* focal_options inside a larger zeroed buffer, for the size variants */
typedef struct {
    focal_options opt;
    unsigned char tail[64];
} options_box;

/* The options a target decoded; rb and cb (its rows and classes bytes) pick
 * the size and the dirty tail byte of the size variants. */
static inline void options_fill(options_box *box, float alpha, float gamma, int reduction,
                                float normalizer, float smoothing, int size_variant, uint8_t rb,
                                uint8_t cb)
{
    focal_options_init(&box->opt);
    box->opt.alpha = alpha;
    box->opt.gamma = gamma;
    box->opt.reduction = reduction;
    box->opt.normalizer = normalizer;
    box->opt.label_smoothing = smoothing;
    switch (size_variant) {
    case SIZE_SMALL: box->opt.size = sizeof(focal_options) - 1 - rb % 8; break;
    case SIZE_LARGE_ZERO: box->opt.size = sizeof(focal_options) + 1 + rb % 64; break;
    case SIZE_LARGE_DIRTY:
        box->opt.size = sizeof(focal_options) + 1 + rb % 64;
        box->tail[(rb % 64)] = (uint8_t)(1 + cb % 255);
        break;
    default: break;
    }
}

/* ---- the return code ------------------------------------------------------- */

#define BIT(code) (1u << (unsigned)(-(code)))

/* mask: the documented errors that apply (BIT(code)), FOCAL_ETARGET
 * excluded. With any, rc must be one of them (the header fixes no order
 * among them); with none, rc is FOCAL_ETARGET exactly when an input is out
 * of range (found while writing, so only when nothing else applies).
 * Returns NULL, or msg describing the mismatch. */
static inline const char *rc_check(int rc, unsigned mask, int bad_input, char *msg, size_t size)
{
    if (mask) {
        if (rc == FOCAL_OK || rc > 0 || -rc >= 32 || !(mask & BIT(rc))) {
            snprintf(msg, size, "return code %d (%s), but the errors that apply are mask 0x%x", rc,
                     focal_strerror(rc), mask);
            return msg;
        }
        return NULL;
    }
    const int want = bad_input ? FOCAL_ETARGET : FOCAL_OK;
    if (rc == want)
        return NULL;
    snprintf(msg, size, "return code %d (%s), expected %d (%s)", rc, focal_strerror(rc), want,
             focal_strerror(want));
    return msg;
}

/* ---- one call's buffers ---------------------------------------------------- */

/* The output modes; fuzz_rows and fuzz_family use the first six. */
enum { OUT_BOTH, OUT_LOSS, OUT_GRAD, OUT_INPLACE, OUT_INPLACE_LOSS, OUT_NONE, OUT_OVERLAP, OUT_NULL };

#define MAX_READONLY 8

/* A read-only input: what the call was given and what it must still equal. */
typedef struct {
    const char *name;
    void *owned;           /* the copy (or the snapshot) this file allocated */
    const void *seen, *orig;
    size_t bytes, pad;     /* pad: canary floats in front of seen (misalignment) */
} readonly;

/* The buffers of one call: the outputs between canaries (a .base of NULL:
 * not passed) and the read-only inputs. */
typedef struct {
    guarded loss, grad;
    int inplace;           /* grad is the logits buffer ... */
    const float *logits;   /* ... which held these before the call */
    readonly ro[MAX_READONLY];
    int ro_count;
} buffers;

static inline readonly *buffers_add(buffers *b, const char *name)
{
    if (b->ro_count == MAX_READONLY)
        abort();
    readonly *r = &b->ro[b->ro_count++];
    memset(r, 0, sizeof *r);
    r->name = name;
    return r;
}

/* Gives the call a copy of src behind pad canary floats, exactly as long
 * as the data, so that reading past its end runs into ASan's redzone. */
static inline void *buffers_input(buffers *b, const char *name, const void *src, size_t bytes,
                                  size_t pad)
{
    readonly *r = buffers_add(b, name);
    unsigned char *copy = malloc(pad * sizeof(float) + bytes + (pad + bytes == 0));
    if (!copy)
        abort();
    for (size_t i = 0; i < pad; i++) {
        const float canary = float_of_bits(CANARY);
        memcpy(copy + i * sizeof(float), &canary, sizeof canary);
    }
    memcpy(copy + pad * sizeof(float), src, bytes);
    r->owned = copy;
    r->seen = copy + pad * sizeof(float);
    r->orig = src;
    r->bytes = bytes;
    r->pad = pad;
    return copy + pad * sizeof(float);
}

/* Watches memory the caller gives the call itself (the options struct). */
static inline void buffers_watch(buffers *b, const char *name, const void *live, size_t bytes)
{
    readonly *r = buffers_add(b, name);
    r->owned = malloc(bytes + 1);
    if (!r->owned)
        abort();
    memcpy(r->owned, live, bytes);
    r->seen = live;
    r->orig = r->owned;
    r->bytes = bytes;
}

/* The logits and the outputs that output mode `out` (one of the first five)
 * passes; returns the logits to pass. loss_n is the loss's length, n the
 * logits' and the gradient's. In place, the gradient buffer holds the logits. */
static inline float *buffers_outputs(buffers *b, int out, const float *logits, size_t n,
                                     size_t loss_n, size_t off_x, size_t off_l, size_t off_g)
{
    memset(b, 0, sizeof *b);
    const int want_loss = out == OUT_BOTH || out == OUT_LOSS || out == OUT_INPLACE_LOSS;
    const int want_grad = out == OUT_BOTH || out == OUT_GRAD || out == OUT_INPLACE ||
                          out == OUT_INPLACE_LOSS;
    b->inplace = out == OUT_INPLACE || out == OUT_INPLACE_LOSS;
    b->logits = logits;
    if (want_loss)
        guarded_alloc(&b->loss, loss_n, off_l);
    if (want_grad)
        guarded_alloc(&b->grad, n, off_g);
    if (!b->inplace)
        return buffers_input(b, "logits", logits, n * sizeof(float), off_x);
    memcpy(b->grad.data, logits, n * sizeof(float));
    return b->grad.data;
}

/* Errors found before anything is written: all of them but FOCAL_ETARGET. */
static inline int argument_error(int rc)
{
    return rc != FOCAL_OK && rc != FOCAL_ETARGET;
}

/* After the call: nothing written outside the outputs, the read-only inputs
 * as they were, and after an argument error the outputs as they were too.
 * Returns NULL, or msg describing the first check that failed. */
static inline const char *buffers_check(const buffers *b, int rc, char *msg, size_t size)
{
    const guarded *gl = &b->loss, *gg = &b->grad;
    if (gl->base && !guarded_intact(gl))
        return "write outside the loss buffer";
    if (gg->base && !guarded_intact(gg))
        return b->inplace ? "write outside the in-place logits/grad buffer"
                          : "write outside the grad buffer";
    for (int i = 0; i < b->ro_count; i++) {
        const readonly *r = &b->ro[i];
        if (memcmp(r->seen, r->orig, r->bytes) != 0 || !all_canary(r->owned, r->pad)) {
            snprintf(msg, size, "the read-only %s changed", r->name);
            return msg;
        }
    }
    if (!argument_error(rc))
        return NULL;
    if (gl->base && !all_canary(gl->data, gl->len))
        return "an argument error wrote the loss";
    if (gg->base && !b->inplace && !all_canary(gg->data, gg->len))
        return "an argument error wrote the gradient";
    if (b->inplace && !same(gg->data, b->logits, gg->len))
        return "an argument error wrote the in-place gradient";
    return NULL;
}

/* Calls with overlapping (or NULL) buffers have them all in one guarded
 * arena: an argument error writes none of it, no call writes outside it. */
typedef struct {
    guarded g;
    float *snap;
} arena;

static inline float *arena_alloc(arena *a, size_t len)
{
    guarded_alloc(&a->g, len, 0);
    a->snap = NULL;
    return a->g.data;
}

/* Once the buffers in the arena are filled in, before the call. */
static inline void arena_seal(arena *a)
{
    a->snap = malloc(a->g.total * sizeof(float));
    if (!a->snap)
        abort();
    memcpy(a->snap, a->g.base, a->g.total * sizeof(float));
}

/* After the call: frees the arena; returns NULL, or the check that failed. */
static inline const char *arena_check_free(arena *a, int rc)
{
    const char *why = NULL;
    if (argument_error(rc) && memcmp(a->snap, a->g.base, a->g.total * sizeof(float)) != 0)
        why = "an argument error wrote memory";
    else if (!guarded_intact(&a->g))
        why = "write outside the arena";
    free(a->snap);
    free(a->g.base);
    return why;
}

/* One call's return code and, on FOCAL_OK, copies of its outputs, for the
 * comparison between kernels (NULL: the output was not passed). */
typedef struct {
    int rc;
    float *loss, *grad;
    size_t loss_n;
} result;

static inline float *copy_of(const guarded *g)
{
    if (!g->base)
        return NULL;
    float *copy = malloc(g->len * sizeof(float) + 1);
    if (!copy)
        abort();
    memcpy(copy, g->data, g->len * sizeof(float));
    return copy;
}

/* Checks the buffers after the call (buffers_check), takes the outputs into
 * res on FOCAL_OK and frees the buffers. Returns what buffers_check does. */
static inline const char *buffers_done(buffers *b, result *res, char *msg, size_t size)
{
    const char *why = buffers_check(b, res->rc, msg, size);
    if (res->rc == FOCAL_OK) {
        res->loss = copy_of(&b->loss);
        res->grad = copy_of(&b->grad);
    }
    free(b->loss.base);
    free(b->grad.base);
    for (int i = 0; i < b->ro_count; i++)
        free(b->ro[i].owned);
    return why;
}

static inline void result_free(result *r)
{
    free(r->loss);
    free(r->grad);
}

#endif
