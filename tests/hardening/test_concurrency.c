/* SPDX-License-Identifier: MIT */
/*
 * Concurrency stress, meant for ThreadSanitizer (and harmless elsewhere):
 * threads compute while others switch the kernel (focal_set_isa) and the
 * thread count (focal_set_num_threads), which focal.h says is safe at any
 * time. Every kernel and every thread count give the same bits, so every
 * result must equal the one computed before the storm started.
 *
 * Two sizes: one that stays on the calling thread, one past the 8 blocks
 * that start the pool (so callers also race for the pool and fall back to
 * running on their own thread when it is busy).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <focal/focal.h>

#define SMALL_N 1000
#define BIG_N ((size_t)16384 * 9 + 123)
#define COMPUTE_THREADS 3

/* What the switching thread cycles through: every kernel built into the
 * library (focal_kernel_name), "auto", and a name that is no kernel. */
static const char *isa_names[64];
static unsigned isa_count;

static float *x, *t, *ref_loss, *ref_grad;
static float ref_sum_small, ref_sum_big;
static atomic_int stop;
static atomic_int mismatches;
static int iterations = 30;

static void fill(void)
{
    uint32_t s = 2024;
    for (size_t i = 0; i < BIG_N; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 24.0f;
        s = s * 1664525u + 1013904223u;
        t[i] = (s >> 8) % 7 == 0 ? 1.0f : (s >> 8) % 7 == 1 ? (float)(s >> 9) / 8388608.0f : 0.0f;
    }
}

static void *compute_main(void *arg)
{
    (void)arg;
    float *loss = malloc(BIG_N * sizeof(float)), *grad = malloc(BIG_N * sizeof(float));
    if (!loss || !grad)
        abort();
    for (int it = 0; it < iterations; it++) {
        float sum;
        if (focal_sigmoid_loss_grad(x, t, SMALL_N, 0.25f, 1.5f, FOCAL_REDUCTION_SUM, &sum, grad) ||
            memcmp(&sum, &ref_sum_small, sizeof sum) != 0 ||
            memcmp(grad, ref_grad, SMALL_N * sizeof(float)) != 0)
            atomic_fetch_add(&mismatches, 1);
        if (focal_sigmoid_loss_grad(x, t, BIG_N, 0.25f, 1.5f, FOCAL_REDUCTION_NONE, loss, grad) ||
            memcmp(loss, ref_loss, BIG_N * sizeof(float)) != 0 ||
            memcmp(grad, ref_grad + SMALL_N, BIG_N * sizeof(float)) != 0)
            atomic_fetch_add(&mismatches, 1);
        if (focal_sigmoid_loss_grad(x, t, BIG_N, 0.25f, 1.5f, FOCAL_REDUCTION_MEAN, &sum, NULL) ||
            memcmp(&sum, &ref_sum_big, sizeof sum) != 0)
            atomic_fetch_add(&mismatches, 1);
    }
    free(loss);
    free(grad);
    return NULL;
}

static void *switch_isa_main(void *arg)
{
    (void)arg;
    unsigned i = 0;
    while (!atomic_load(&stop)) {
        (void)focal_set_isa(isa_names[i++ % isa_count]); /* unsupported ones just fail */
        (void)focal_isa();
    }
    return NULL;
}

static void *switch_threads_main(void *arg)
{
    (void)arg;
    unsigned i = 0;
    while (!atomic_load(&stop)) {
        (void)focal_set_num_threads((int)(i++ % 5)); /* 0: the default */
        (void)focal_num_threads();
    }
    return NULL;
}

static void storm(void **state)
{
    (void)state;
    x = malloc(BIG_N * sizeof(float));
    t = malloc(BIG_N * sizeof(float));
    ref_loss = malloc(BIG_N * sizeof(float));
    ref_grad = malloc((SMALL_N + BIG_N) * sizeof(float));
    assert_true(x && t && ref_loss && ref_grad);
    fill();
    isa_count = 0;
    for (const char *k; isa_count < 62 && (k = focal_kernel_name(isa_count)) != NULL;)
        isa_names[isa_count++] = k;
    isa_names[isa_count++] = "auto";
    isa_names[isa_count++] = "bogus";

    /* references: one thread, the automatic kernel */
    assert_int_equal(focal_set_num_threads(1), FOCAL_OK);
    assert_int_equal(focal_sigmoid_loss_grad(x, t, SMALL_N, 0.25f, 1.5f, FOCAL_REDUCTION_SUM,
                                             &ref_sum_small, ref_grad), FOCAL_OK);
    assert_int_equal(focal_sigmoid_loss_grad(x, t, BIG_N, 0.25f, 1.5f, FOCAL_REDUCTION_NONE,
                                             ref_loss, ref_grad + SMALL_N), FOCAL_OK);
    assert_int_equal(focal_sigmoid_loss_grad(x, t, BIG_N, 0.25f, 1.5f, FOCAL_REDUCTION_MEAN,
                                             &ref_sum_big, NULL), FOCAL_OK);
    assert_int_equal(focal_set_num_threads(2), FOCAL_OK);

    pthread_t compute[COMPUTE_THREADS], isa, threads;
    atomic_store(&stop, 0);
    assert_int_equal(pthread_create(&isa, NULL, switch_isa_main, NULL), 0);
    assert_int_equal(pthread_create(&threads, NULL, switch_threads_main, NULL), 0);
    for (int i = 0; i < COMPUTE_THREADS; i++)
        assert_int_equal(pthread_create(&compute[i], NULL, compute_main, NULL), 0);
    for (int i = 0; i < COMPUTE_THREADS; i++)
        pthread_join(compute[i], NULL);
    atomic_store(&stop, 1);
    pthread_join(isa, NULL);
    pthread_join(threads, NULL);

    print_message("[ CALLS    ] %d compute threads x %d iterations x 3 calls, %d mismatching\n",
                  COMPUTE_THREADS, iterations, atomic_load(&mismatches));
    assert_int_equal(atomic_load(&mismatches), 0);

    focal_set_isa("auto");
    focal_set_num_threads(0);
    free(x);
    free(t);
    free(ref_loss);
    free(ref_grad);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iterations = atoi(argv[1]) > 0 ? atoi(argv[1]) : iterations;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(storm),
    };
    return cmocka_run_group_tests_name("concurrency", tests, NULL, NULL);
}
