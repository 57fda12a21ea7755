/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for focal_sigmoid_loss_grad.
 *
 * Arbitrary bytes become one call's arguments (layout below). The call is
 * made once with the scalar kernel on one thread (the reference), then with
 * every kernel this CPU runs, each on the thread count the input asks for.
 * (Inputs past 8 blocks, there to reach the thread pool, are costly: they
 * run the best kernel on one thread and one kernel, picked by n, on 2 or 3.)
 * Checked on every call:
 *   - the return code is the one the documented argument rules give
 *     (an independent model: all kernels share kernel_driver.h, so comparing
 *     kernels with each other alone would miss a bug they share);
 *   - every kernel returns the reference's code, and on FOCAL_OK the same
 *     output bits;
 *   - nothing is written outside the outputs: each output buffer sits between
 *     canary floats, inputs are compared with copies (inputs are also
 *     allocated to end exactly at their last element, so an over-read hits
 *     an ASan redzone);
 *   - argument errors other than FOCAL_ETARGET leave the outputs untouched;
 *   - on FOCAL_OK with finite logits and gamma <= 8: every loss finite and
 *     >= 0, every gradient finite (the reduced loss: >= 0, not NaN).
 * A violation prints what differed and abort()s (libFuzzer saves the input).
 *
 * Input layout (short inputs read as zeros past the end):
 *   [0]     output mode % 8: 0 loss+grad, 1 loss, 2 grad, 3 grad=logits,
 *           4 grad=logits + loss, 5 neither (FOCAL_ENOOUTPUT),
 *           6 overlapping buffers (FOCAL_EOVERLAP; n < 2: as 0), 7 a NULL input
 *   [1]     bits 0-1 target coding, 2-3 logit coding, 4-5 size mode,
 *           6-7 threads (1, 2, 3, 1)
 *   [2..3]  n (u16 LE), reduced per size mode: 0, 1: % 257; 2: % 4097;
 *           3: % 4097 unless [2] == 0xB1, then 8 * 16384 + n % 16384
 *           (past the 8 blocks that start the thread pool)
 *   [4]     alpha: < 16 picks from alpha_table, else 4 raw bytes follow
 *   [.]     gamma: < 16 picks from gamma_table, else 4 raw bytes follow
 *   [.]     reduction: < 3 itself, < 200: % 3, else bad_reductions[% 6]
 *   [.]     misalignment, floats: low nibble logits, high nibble targets
 *   [.]     misalignment, floats: low nibble loss, high nibble grad
 *   [.]     bits 0-2 overlap kind / NULL which, bit 3: poke one target,
 *   [.]     (if poke) u32 index % n, u32 raw target bits
 *   rest    payload, read cyclically: logits from its start, targets from
 *           its middle.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "fuzz_common.h"

#define BLOCK 16384
#define SMALL_MAX 4096


static float decode_logit(const payload *pl, size_t i, int mode)
{
    const size_t at = 4 * i;
    switch (mode) {
    case 0: return float_of_bits(p32(pl, at));
    case 1: return (float)(int16_t)(p32(pl, at) & 0xffff) / 256.0f;
    case 2: return (float)(int8_t)pb(pl, at) / 4.0f;
    default: {
        const uint8_t b = pb(pl, at);
        return b < 64 ? special_logits[b % 16] : float_of_bits(p32(pl, at));
    }
    }
}

static float decode_target(const payload *pl, size_t i, int mode)
{
    const size_t at = pl->n / 2 + 4 * i;
    const uint32_t u = p32(pl, at);
    switch (mode) {
    case 0: return float_of_bits(u);
    case 1: return (float)(u & 1);
    case 2: return (u & 0xff) == 0xff ? 1.0f : (float)(u >> 8) / 16777216.0f;
    default: {
        const uint8_t b = (uint8_t)u;
        if (b < 96) return 0.0f;
        if (b < 192) return 1.0f;
        if (b < 250) return (float)(u >> 8) / 16777216.0f;
        return float_of_bits(u);
    }
    }
}

/* ---- the decoded call ------------------------------------------------------ */

typedef struct {
    int out, threads, reduction, overlap_kind, poke;
    size_t n, off_x, off_t, off_l, off_g, poke_index;
    float alpha, gamma;
    uint32_t poke_bits;
    float *x, *t; /* decoded inputs, exact-size heap arrays */
} call_spec;

static void fail(const call_spec *c, const char *kernel, const char *what)
{
    fprintf(stderr,
            "\nFUZZ FAILURE [%s] %s\n  n=%zu alpha=%a gamma=%a reduction=%d out=%d threads=%d "
            "offsets x%zu t%zu l%zu g%zu overlap=%d\n",
            kernel, what, c->n, (double)c->alpha, (double)c->gamma, c->reduction, c->out,
            c->threads, c->off_x, c->off_t, c->off_l, c->off_g, c->overlap_kind);
    abort();
}

/* The documented rules, in the order focal.h lists the checks. */
static int expected_rc(const call_spec *c)
{
    if (c->out == OUT_NULL && c->n > 0)
        return FOCAL_ENULL;
    if (c->out == OUT_NONE)
        return FOCAL_ENOOUTPUT;
    if (isnan(c->alpha) || c->alpha > 1.0f)
        return FOCAL_EALPHA;
    if (!isfinite(c->gamma) || c->gamma < 0.0f)
        return FOCAL_EGAMMA;
    if (c->reduction < 0 || c->reduction > 2)
        return FOCAL_EREDUCTION;
    if (c->out == OUT_OVERLAP)
        return FOCAL_EOVERLAP;
    if (c->out == OUT_NULL)
        return FOCAL_OK; /* n == 0 */
    for (size_t i = 0; i < c->n; i++)
        if (!(c->t[i] >= 0.0f && c->t[i] <= 1.0f))
            return FOCAL_ETARGET;
    return FOCAL_OK;
}

/* Overlapping buffers or a NULL input: everything in one arena, of which
 * an argument error may write nothing. */
static int run_in_arena(const call_spec *c, const char *kernel, size_t loss_n)
{
    const size_t n = c->n;
    arena a;
    float *x = arena_alloc(&a, 4 * n + 4), *t = x + n + 1;
    float *loss = x + 2 * n + 2, *grad = x;
    memcpy(x, c->x, n * sizeof(float));
    memcpy(t, c->t, n * sizeof(float));
    const size_t d = n > 1 ? 1 + c->off_g % (n - 1) : 0;
    if (c->out == OUT_OVERLAP) {
        switch (c->overlap_kind % 5) {
        case 0: grad = x + d; loss = NULL; break;                  /* grad inside logits */
        case 1: grad = t; loss = NULL; break;                      /* grad == targets */
        case 2: grad = NULL; loss = t + (loss_n > 1 ? d : 0); break; /* loss in targets */
        case 3: grad = NULL; loss = x; break;                      /* loss == logits */
        default: grad = loss; loss = loss + (loss_n > 1 ? d : 0);  /* loss inside grad */
            for (size_t i = 0; i < n; i++)
                grad[i] = float_of_bits(CANARY);
            break;
        }
    } else {
        grad = loss + 0; /* NULL input: real, disjoint outputs */
        loss = NULL;
    }
    arena_seal(&a);
    const float *xin = c->out == OUT_NULL && !(c->overlap_kind & 1) ? NULL : x;
    const float *tin = c->out == OUT_NULL && (c->overlap_kind & 1) ? NULL : t;
    const int rc = focal_sigmoid_loss_grad(xin, tin, n, c->alpha, c->gamma, c->reduction, loss, grad);
    const char *why = arena_check_free(&a, rc);
    if (why)
        fail(c, kernel, why);
    return rc;
}

/* One call of the active kernel; checks buffer discipline; returns its outputs. */
static result run(const call_spec *c, const char *kernel, int threads)
{
    result res = { 0, NULL, NULL, 0 };
    const size_t n = c->n;
    res.loss_n = c->reduction == FOCAL_REDUCTION_NONE ? n : 1;
    focal_set_num_threads(threads);
    if (c->out == OUT_OVERLAP || c->out == OUT_NULL) {
        res.rc = run_in_arena(c, kernel, res.loss_n);
        return res;
    }
    buffers b;
    const float *x = buffers_outputs(&b, c->out, c->x, n, res.loss_n, c->off_x, c->off_l, c->off_g);
    const float *t = buffers_input(&b, "targets", c->t, n * sizeof(float), c->off_t);
    res.rc = focal_sigmoid_loss_grad(x, t, n, c->alpha, c->gamma, c->reduction, b.loss.data,
                                     b.grad.data);
    char msg[160];
    const char *why = buffers_done(&b, &res, msg, sizeof msg);
    if (why)
        fail(c, kernel, why);
    return res;
}

/* Finite logits, sane gamma: finite outputs, non-negative losses. */
static void check_finite(const call_spec *c, const result *r)
{
    if (c->gamma > 8.0f)
        return;
    for (size_t i = 0; i < c->n; i++)
        if (!isfinite(c->x[i]))
            return;
    if (r->loss) {
        if (c->reduction == FOCAL_REDUCTION_NONE) {
            for (size_t i = 0; i < c->n; i++)
                if (!isfinite(r->loss[i]) || r->loss[i] < 0.0f)
                    fail(c, "reference", "finite logit gave a non-finite or negative loss");
        } else if (c->n > 0 && (isnan(r->loss[0]) || r->loss[0] < 0.0f)) {
            fail(c, "reference", "finite logits gave a NaN or negative reduced loss");
        }
    }
    if (r->grad)
        for (size_t i = 0; i < c->n; i++)
            if (!isfinite(r->grad[i]))
                fail(c, "reference", "finite logit gave a non-finite gradient");
}

/* A kernel's output (what: "loss" or "gradient"; NULL want: not passed)
 * must be the reference's, bit for bit. The element is named loss[i] or
 * grad[i] (%.4s). */
static void check_bits(const call_spec *c, const char *kernel, const char *ref_name,
                       const char *what, const float *got, const float *want, size_t len)
{
    if (!want || same(got, want, len))
        return;
    for (size_t i = 0; i < len; i++)
        if (bits_of(got[i]) != bits_of(want[i])) {
            fprintf(stderr, "%.4s[%zu]: %a (0x%08x) vs %s %a (0x%08x); x=%a t=%a\n", what, i,
                    (double)got[i], bits_of(got[i]), ref_name, (double)want[i], bits_of(want[i]),
                    (double)c->x[i], (double)c->t[i]);
            break;
        }
    char msg[80];
    snprintf(msg, sizeof msg, "%s bits differ from the reference's", what);
    fail(c, kernel, msg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    find_kernels();
    fprintf(stderr, "fuzz_sigmoid: kernels:");
    for (int i = 0; i < kernel_count; i++)
        fprintf(stderr, " %s", kernels[i]);
    fprintf(stderr, "\n");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = { data, size, 0 };
    call_spec c;
    memset(&c, 0, sizeof c);

    c.out = rd8(&rd) % 8;
    const uint8_t modes = rd8(&rd);
    const int target_mode = modes & 3, logit_mode = (modes >> 2) & 3, size_mode = (modes >> 4) & 3;
    static const int thread_choice[4] = { 1, 2, 3, 1 };
    c.threads = thread_choice[modes >> 6];
    const uint8_t n0 = rd8(&rd), n1 = rd8(&rd);
    const size_t nraw = (size_t)n0 | (size_t)n1 << 8;
    if (size_mode < 2)
        c.n = nraw % 257;
    else if (size_mode == 3 && n0 == 0xB1)
        c.n = (size_t)8 * BLOCK + nraw % BLOCK;
    else
        c.n = nraw % (SMALL_MAX + 1);

    uint8_t s = rd8(&rd);
    c.alpha = s < 16 ? alpha_table[s] : float_of_bits(rd32(&rd));
    s = rd8(&rd);
    c.gamma = s < 16 ? gamma_table[s] : float_of_bits(rd32(&rd));
    s = rd8(&rd);
    c.reduction = s < 3 ? s : s < 200 ? s % 3 : bad_reductions[s % 6];
    s = rd8(&rd);
    c.off_x = s & 15;
    c.off_t = s >> 4;
    s = rd8(&rd);
    c.off_l = s & 15;
    c.off_g = s >> 4;
    s = rd8(&rd);
    c.overlap_kind = s & 7;
    c.poke = (s >> 3) & 1;
    if (c.poke) {
        c.poke_index = rd32(&rd);
        c.poke_bits = rd32(&rd);
    }
    const payload pl = { data + rd.i, size - rd.i };

    c.x = malloc(c.n * sizeof(float) + 1);
    c.t = malloc(c.n * sizeof(float) + 1);
    if (!c.x || !c.t)
        abort();
    for (size_t i = 0; i < c.n; i++) {
        c.x[i] = decode_logit(&pl, i, logit_mode);
        c.t[i] = decode_target(&pl, i, target_mode);
    }
    if (c.poke && c.n > 0)
        c.t[c.poke_index % c.n] = float_of_bits(c.poke_bits);
    if (c.out == OUT_OVERLAP && c.n < 2)
        c.out = OUT_BOTH; /* every overlap kind needs two elements to be partial */

    /* Small inputs: the reference is the scalar kernel on one thread, and every
     * kernel is compared with it. Inputs past 8 blocks are there for the
     * pool: to stay cheap they compare one kernel (picked by n) on 2 or 3
     * threads with the best kernel on one thread; bit equality between
     * kernels is what the small inputs check. */
    const int big = c.n > SMALL_MAX;
    const char *ref_kernel = big ? kernels[kernel_count - 1] : "scalar";
    if (big && c.threads < 2)
        c.threads = 2;
    char ref_name[32];
    snprintf(ref_name, sizeof ref_name, "%s/1 thread", ref_kernel);
    focal_set_isa(ref_kernel);
    result ref = run(&c, ref_name, 1);
    const int want = expected_rc(&c);
    if (ref.rc != want) {
        char msg[160];
        snprintf(msg, sizeof msg, "return code %d (%s), the documented rules give %d (%s)", ref.rc,
                 focal_strerror(ref.rc), want, focal_strerror(want));
        fail(&c, ref_name, msg);
    }
    if (ref.rc == FOCAL_OK)
        check_finite(&c, &ref);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "n=%zu out=%d threads=%d -> %d (%s)\n", c.n, c.out, c.threads, ref.rc,
                focal_strerror(ref.rc));

    const int first = big ? (int)(nraw % (size_t)kernel_count) : 0;
    const int last = big ? first + 1 : kernel_count;
    for (int k = first; k < last; k++) {
        if (focal_set_isa(kernels[k]) != FOCAL_OK)
            abort();
        result r = run(&c, kernels[k], c.threads);
        if (r.rc != ref.rc) {
            char msg[160];
            snprintf(msg, sizeof msg, "return code %d, %s gave %d", r.rc, ref_name, ref.rc);
            fail(&c, kernels[k], msg);
        }
        if (r.rc == FOCAL_OK) {
            check_bits(&c, kernels[k], ref_name, "loss", r.loss, ref.loss, ref.loss_n);
            check_bits(&c, kernels[k], ref_name, "gradient", r.grad, ref.grad, c.n);
        }
        result_free(&r);
    }
    result_free(&ref);
    restore_defaults();
    free(c.x);
    free(c.t);
    return 0;
}
