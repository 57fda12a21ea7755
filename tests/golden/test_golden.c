/* SPDX-License-Identifier: MIT */
/*
 * test_golden: one 64-bit digest of the library's output bits over a fixed
 * set of canonical calls, which every kernel on every architecture must
 * reproduce: the committed GOLDEN_DIGEST (golden_digest.h).
 *
 * test_bitwise checks that the kernels of one build agree with each other;
 * this checks that they agree with what other machines computed: x86-64
 * (scalar, avx2, avx512) and aarch64 (scalar, neon) give the same bits.
 *
 * Inputs come from an integer LCG and are built from exact integer-to-float
 * conversions and power-of-two scalings, so they are the same bits
 * everywhere without libc rand() or libm. Logits include +-16.5, +-40,
 * +-87.5, +-100 but no NaN or infinity (an operation that creates a NaN
 * from non-NaN operands gives a different NaN on x86 than on ARM).
 *
 * The digest is FNV-1a 64 over, per call in a fixed order: the call's index,
 * its return code, then every output float as its 32-bit pattern, little
 * endian. The per-kernel digest is printed; on a mismatch against the scalar
 * kernel of the same run, the first differing call is named.
 *
 * After an intentional change of the kernels' arithmetic, run
 *   test_golden
 * and copy the printed digest into golden_digest.h (on x86-64 and under
 * qemu-aarch64, all kernels must print the same value).
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <focal/focal.h>

#include "golden_digest.h"

/* ---- inputs ---------------------------------------------------------------- */

static const size_t sizes[] = {0, 1, 7, 15, 16, 17, 63, 100, 1000, 65537};
#define NSIZES (sizeof sizes / sizeof sizes[0])
static const float gammas[] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f};
#define NGAMMAS (sizeof gammas / sizeof gammas[0])
static const float alphas[] = {-1.0f, 0.25f, 0.9f};
#define NALPHAS (sizeof alphas / sizeof alphas[0])
static const int reductions[] = {FOCAL_REDUCTION_NONE, FOCAL_REDUCTION_SUM, FOCAL_REDUCTION_MEAN};
#define NREDUCTIONS 3
enum { OUT_BOTH, OUT_LOSS, OUT_GRAD, NOUTS };
static const char *const out_names[NOUTS] = {"loss+grad", "loss only", "grad only"};
enum { T_HARD, T_SOFT, NTARGETS };
static const char *const target_names[NTARGETS] = {"hard", "soft"};

#define CALLS_PER_SIZE (NTARGETS * NGAMMAS * NALPHAS * NREDUCTIONS * NOUTS)
#define NCALLS (NSIZES * CALLS_PER_SIZE)

static const float extremes[16] = {
    16.5f, -16.5f, 40.0f, -40.0f, 87.5f, -87.5f, 100.0f, -100.0f,
    0.0f,  -0.0f,  0x1p-30f, -0x1p-30f, 1.0f, -1.0f, 88.5f, -103.5f,
};

/* Knuth's MMIX LCG; the high 32 bits are the output. */
typedef struct { uint64_t s; } lcg_t;
static uint32_t lcg_next(lcg_t *g)
{
    g->s = g->s * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(g->s >> 32);
}

/* 1 in 8 from the extremes, otherwise a multiple of 2^-18 in [-32, 32). */
static float gen_logit(lcg_t *g)
{
    const uint32_t u = lcg_next(g);
    if ((u & 7) == 0)
        return extremes[(u >> 3) & 15];
    return (float)((int32_t)(u >> 8) - 0x800000) * 0x1p-18f;
}

/* 0 or 1, each with probability 1/2. */
static float gen_hard(lcg_t *g) { return (float)(lcg_next(g) >> 31); }

/* 1/16 exact 0, 1/16 exact 1, otherwise a multiple of 2^-24 in [0, 1). */
static float gen_soft(lcg_t *g)
{
    const uint32_t v = lcg_next(g) >> 8;
    if ((v & 15) == 0)
        return 0.0f;
    if ((v & 15) == 1)
        return 1.0f;
    return (float)v * 0x1p-24f;
}

typedef struct {
    float *x, *t[NTARGETS];
} inputs_t;

static inputs_t make_inputs(size_t n)
{
    inputs_t in;
    /* Exactly n floats each (at least one byte): a read past the end is an
     * out-of-bounds access that ASan or valgrind would report. */
    in.x = malloc(n ? n * sizeof(float) : 1);
    in.t[T_HARD] = malloc(n ? n * sizeof(float) : 1);
    in.t[T_SOFT] = malloc(n ? n * sizeof(float) : 1);
    assert_non_null(in.x);
    assert_non_null(in.t[T_HARD]);
    assert_non_null(in.t[T_SOFT]);
    lcg_t g = {0x5eed0000u + (uint64_t)n};
    for (size_t i = 0; i < n; i++) {
        in.x[i] = gen_logit(&g);
        in.t[T_HARD][i] = gen_hard(&g);
        in.t[T_SOFT][i] = gen_soft(&g);
    }
    return in;
}

static void free_inputs(inputs_t *in)
{
    free(in->x);
    free(in->t[T_HARD]);
    free(in->t[T_SOFT]);
}

/* ---- digest ---------------------------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325u
#define FNV_PRIME 0x100000001b3u

static uint64_t fnv_u32(uint64_t h, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        h ^= (v >> (8 * i)) & 0xffu;
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t fnv_floats(uint64_t h, const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &p[i], sizeof u);
        h = fnv_u32(h, u);
    }
    return h;
}

/* The scalar kernel's per-call digests, to name the first call another
 * kernel gets wrong (CMocka runs the tests in order, scalar first). */
static uint64_t scalar_calls[NCALLS];
static int have_scalar_calls;

static void describe_call(size_t call, char *buf, size_t len)
{
    size_t c = call;
    const size_t out = c % NOUTS; c /= NOUTS;
    const size_t red = c % NREDUCTIONS; c /= NREDUCTIONS;
    const size_t al = c % NALPHAS; c /= NALPHAS;
    const size_t ga = c % NGAMMAS; c /= NGAMMAS;
    const size_t tk = c % NTARGETS; c /= NTARGETS;
    snprintf(buf, len, "call %zu: n=%zu, %s targets, gamma=%g, alpha=%g, reduction=%d, %s",
             call, sizes[c], target_names[tk], (double)gammas[ga], (double)alphas[al],
             reductions[red], out_names[out]);
}

/* Runs every canonical call with the active kernel; returns the digest and
 * fills per_call[] with each call's own digest. */
static uint64_t golden_run(uint64_t per_call[NCALLS])
{
    uint64_t h = FNV_OFFSET;
    size_t call = 0;
    for (size_t si = 0; si < NSIZES; si++) {
        const size_t n = sizes[si];
        inputs_t in = make_inputs(n);
        float *loss = malloc((n ? n : 1) * sizeof(float));
        float *grad = malloc((n ? n : 1) * sizeof(float));
        assert_non_null(loss);
        assert_non_null(grad);
        for (int tk = 0; tk < NTARGETS; tk++)
            for (size_t ga = 0; ga < NGAMMAS; ga++)
                for (size_t al = 0; al < NALPHAS; al++)
                    for (int red = 0; red < NREDUCTIONS; red++)
                        for (int out = 0; out < NOUTS; out++, call++) {
                            const size_t nloss = reductions[red] == FOCAL_REDUCTION_NONE ? n : 1;
                            float *lp = out == OUT_GRAD ? NULL : loss;
                            float *gp = out == OUT_LOSS ? NULL : grad;
                            const int rc = focal_sigmoid_loss_grad(
                                in.x, in.t[tk], n, alphas[al], gammas[ga], reductions[red], lp, gp);
                            uint64_t c = fnv_u32(FNV_OFFSET, (uint32_t)call);
                            c = fnv_u32(c, (uint32_t)rc);
                            if (rc == FOCAL_OK) {
                                if (lp) c = fnv_floats(c, lp, nloss);
                                if (gp) c = fnv_floats(c, gp, n);
                            }
                            per_call[call] = c;
                            h = fnv_u32(h, (uint32_t)c);
                            h = fnv_u32(h, (uint32_t)(c >> 32));
                        }
        free(loss);
        free(grad);
        free_inputs(&in);
    }
    assert_int_equal(call, NCALLS);
    return h;
}

static void test_golden(void **state)
{
    const char *name = (const char *)*state;
    const int rc = focal_set_isa(name);
    if (rc == FOCAL_EISA_UNSUPPORTED) {
        print_message("[ SKIPPED  ] golden/%s: kernel not supported by this CPU or build\n", name);
        skip();
    }
    if (rc != FOCAL_OK)
        fail_msg("focal_set_isa(\"%s\") returned %d (%s)", name, rc, focal_strerror(rc));
    assert_string_equal(focal_isa(), name);

    static uint64_t per_call[NCALLS];
    const uint64_t digest = golden_run(per_call);
    print_message("[ DIGEST   ] golden/%s: 0x%016" PRIx64 " (%zu calls; committed 0x%016" PRIx64
                  ")\n", name, digest, (size_t)NCALLS, (uint64_t)GOLDEN_DIGEST);

    if (strcmp(name, "scalar") == 0) {
        memcpy(scalar_calls, per_call, sizeof per_call);
        have_scalar_calls = 1;
    } else if (have_scalar_calls) {
        for (size_t i = 0; i < NCALLS; i++)
            if (per_call[i] != scalar_calls[i]) {
                char what[160];
                describe_call(i, what, sizeof what);
                fail_msg("kernel %s differs from scalar first at %s", name, what);
            }
    }
#if defined(__x86_64__)
    /* Without FMA, "scalar" is the kernel built from SLEEF's non-FMA
     * functions: accurate, but not bit-identical by design (kernel_scalar.c). */
    __builtin_cpu_init();
    if (strcmp(name, "scalar") == 0 && !__builtin_cpu_supports("fma")) {
        print_message("[ SKIPPED  ] golden/scalar: no FMA, the non-FMA scalar kernel is not "
                      "bit-exact by design\n");
        skip();
    }
#endif
    if (digest != GOLDEN_DIGEST)
        fail_msg("kernel %s: digest 0x%016" PRIx64 ", committed 0x%016" PRIx64
                 " (golden_digest.h)", name, digest, (uint64_t)GOLDEN_DIGEST);
}

static int restore_auto(void **state)
{
    (void)state;
    return focal_set_isa("auto") == FOCAL_OK ? 0 : -1;
}

#define GOLDEN_TEST(k)                                                                \
    {                                                                                 \
        .name = "golden/" k, .test_func = test_golden, .setup_func = NULL,            \
        .teardown_func = restore_auto, .initial_state = (void *)(uintptr_t)(k)        \
    }

int main(void)
{
    print_message("[ INFO     ] libfocal %s, automatic kernel: %s\n", focal_version_string(),
                  focal_isa());
    const struct CMUnitTest tests[] = {
        GOLDEN_TEST("scalar"), GOLDEN_TEST("avx2"), GOLDEN_TEST("avx512"),
        GOLDEN_TEST("neon"), GOLDEN_TEST("sve"),
    };
    return cmocka_run_group_tests_name("golden", tests, NULL, NULL);
}
