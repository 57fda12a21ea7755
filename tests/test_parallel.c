/* SPDX-License-Identifier: MIT */
/*
 * Thread pool: results must be the same bits for every thread count, with
 * concurrent callers, across fork(), and while the count changes.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <focal/focal.h>

#include "testutil.h"

/* Enough blocks (16 Ki elements each) to reach the pool (8), more blocks
 * than the 8 threads and a ragged end. Under FOCAL_TEST_SHRINK (qemu,
 * valgrind) 12 blocks instead of 38: the same properties, a third of the
 * time. */
static size_t big_n;

typedef struct {
    float *x, *t, *loss, *grad;
    float sum;
} outputs;

static float *logits, *targets_hard, *targets_soft;

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static int make_inputs(void **state)
{
    (void)state;
    big_n = (size_t)16384 * (test_shrink() > 1 ? 11 : 37) + 4321;
    logits = malloc(big_n * sizeof(float));
    targets_hard = malloc(big_n * sizeof(float));
    targets_soft = malloc(big_n * sizeof(float));
    if (!logits || !targets_hard || !targets_soft)
        return -1;
    uint32_t s = 12345;
    for (size_t i = 0; i < big_n; i++) {
        logits[i] = ((float)lcg(&s) / 16777216.0f - 0.5f) * 30.0f;
        targets_hard[i] = lcg(&s) % 50 == 0 ? 1.0f : 0.0f;
        targets_soft[i] = (float)lcg(&s) / 16777216.0f;
    }
    return 0;
}

static int free_inputs(void **state)
{
    (void)state;
    free(logits);
    free(targets_hard);
    free(targets_soft);
    focal_set_num_threads(0);
    return 0;
}

/* One call with both outputs (NONE) and one reduced (MEAN), into fresh buffers. */
static void compute(const float *t, float gamma, outputs *o)
{
    o->loss = malloc(big_n * sizeof(float));
    o->grad = malloc(big_n * sizeof(float));
    assert_non_null(o->loss);
    assert_non_null(o->grad);
    assert_int_equal(focal_sigmoid_loss_grad(logits, t, big_n, 0.25f, gamma, FOCAL_REDUCTION_NONE,
                                             o->loss, o->grad), FOCAL_OK);
    assert_int_equal(focal_sigmoid_loss_grad(logits, t, big_n, 0.25f, gamma, FOCAL_REDUCTION_MEAN,
                                             &o->sum, NULL), FOCAL_OK);
}

static void assert_same(const outputs *a, const outputs *b)
{
    assert_memory_equal(a->loss, b->loss, big_n * sizeof(float));
    assert_memory_equal(a->grad, b->grad, big_n * sizeof(float));
    assert_memory_equal(&a->sum, &b->sum, sizeof(float));
}

static void release(outputs *o)
{
    free(o->loss);
    free(o->grad);
}

static void same_bits_for_1_to_8_threads(void **state)
{
    (void)state;
    const float *ts[2] = { targets_hard, targets_soft };
    const float gammas[3] = { 2.0f, 1.5f, 0.5f };
    for (int k = 0; k < 2; k++) {
        for (int g = 0; g < 3; g++) {
            outputs ref;
            focal_set_num_threads(1);
            compute(ts[k], gammas[g], &ref);
            for (int n = 2; n <= 8; n++) {
                outputs o;
                assert_int_equal(focal_set_num_threads(n), FOCAL_OK);
                assert_int_equal(focal_num_threads(), n);
                compute(ts[k], gammas[g], &o);
                assert_same(&ref, &o);
                release(&o);
            }
            release(&ref);
        }
    }
    printf("[ INFO     ] %s kernel: 1..8 threads give identical bits\n", focal_isa());
}

static void thread_count_arguments(void **state)
{
    (void)state;
    assert_int_equal(focal_set_num_threads(-1), FOCAL_ETHREADS);
    assert_int_equal(focal_set_num_threads(3), FOCAL_OK);
    assert_int_equal(focal_num_threads(), 3);
    assert_int_equal(focal_set_num_threads(-5), FOCAL_ETHREADS);
    assert_int_equal(focal_num_threads(), 3); /* unchanged by the error */
    assert_int_equal(focal_set_num_threads(0), FOCAL_OK);
    assert_true(focal_num_threads() >= 1);
    assert_string_not_equal(focal_strerror(FOCAL_ETHREADS), focal_strerror(12345));
}

static double process_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Idle workers sleep on a condition variable: an idle pool must not burn
 * CPU. 8 threads spinning for 200 ms would cost far more than the 50 ms
 * allowed here (on any core count: spinning threads use every core). */
static void idle_pool_sleeps(void **state)
{
    (void)state;
    assert_int_equal(focal_set_num_threads(8), FOCAL_OK);
    outputs o;
    compute(targets_hard, 2.0f, &o);
    release(&o);
    const struct timespec settle = { 0, 20 * 1000 * 1000 }, idle = { 0, 200 * 1000 * 1000 };
    nanosleep(&settle, NULL);
    const double before = process_cpu_seconds();
    nanosleep(&idle, NULL);
    const double used = process_cpu_seconds() - before;
    printf("[ INFO     ] idle pool of 8 threads: %.2f ms of CPU in 200 ms\n", used * 1e3);
    assert_true(used < 0.050);
    focal_set_num_threads(0);
}

typedef struct {
    const outputs *ref;
    int mismatches;
    int flip_threads; /* change the thread count while others compute */
} caller_arg;

static void *caller(void *p)
{
    caller_arg *a = p;
    for (int i = 0; i < 4; i++) {
        if (a->flip_threads)
            focal_set_num_threads(1 + i % 3);
        float *loss = malloc(big_n * sizeof(float)), *grad = malloc(big_n * sizeof(float));
        float sum;
        if (!loss || !grad ||
            focal_sigmoid_loss_grad(logits, targets_soft, big_n, 0.25f, 1.5f,
                                    FOCAL_REDUCTION_NONE, loss, grad) != FOCAL_OK ||
            focal_sigmoid_loss_grad(logits, targets_soft, big_n, 0.25f, 1.5f,
                                    FOCAL_REDUCTION_MEAN, &sum, NULL) != FOCAL_OK ||
            memcmp(loss, a->ref->loss, big_n * sizeof(float)) != 0 ||
            memcmp(grad, a->ref->grad, big_n * sizeof(float)) != 0 ||
            memcmp(&sum, &a->ref->sum, sizeof sum) != 0)
            a->mismatches++;
        free(loss);
        free(grad);
    }
    return NULL;
}

static void concurrent_callers_get_single_call_bits(void **state)
{
    (void)state;
    outputs ref;
    focal_set_num_threads(1);
    compute(targets_soft, 1.5f, &ref);
    focal_set_num_threads(2);

    enum { CALLERS = 4 };
    pthread_t th[CALLERS];
    caller_arg args[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        args[i] = (caller_arg){ &ref, 0, i == 0 };
        assert_int_equal(pthread_create(&th[i], NULL, caller, &args[i]), 0);
    }
    for (int i = 0; i < CALLERS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].mismatches, 0);
    }
    release(&ref);
}

static void pool_survives_fork(void **state)
{
    (void)state;
    if (getenv("FOCAL_TEST_EMULATOR") != NULL) {
        /* qemu-user (7.2) aborts the forked child of a threaded guest when it
         * creates a thread: a limit of the emulator, not of libfocal. */
        print_message("[ SKIPPED  ] fork under an emulator\n");
        skip();
    }
    outputs ref;
    focal_set_num_threads(2);
    compute(targets_hard, 2.0f, &ref); /* the parent's pool is now running */

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child has no workers: it must rebuild the pool, not hang. */
        float *loss = malloc(big_n * sizeof(float)), *grad = malloc(big_n * sizeof(float));
        int ok = loss && grad &&
                 focal_sigmoid_loss_grad(logits, targets_hard, big_n, 0.25f, 2.0f,
                                         FOCAL_REDUCTION_NONE, loss, grad) == FOCAL_OK &&
                 memcmp(loss, ref.loss, big_n * sizeof(float)) == 0 &&
                 memcmp(grad, ref.grad, big_n * sizeof(float)) == 0;
        free(loss); /* leak checkers follow the child too */
        free(grad);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    outputs again;
    compute(targets_hard, 2.0f, &again); /* and the parent's pool still works */
    assert_same(&ref, &again);
    release(&again);
    release(&ref);
}

/* FOCAL_NUM_THREADS is read at load time, so ctest also runs this binary as
 * `test_parallel --expect-default-threads N` with FOCAL_NUM_THREADS=N set
 * (no re-exec: that would not survive an emulator). */
static int expect_default_threads(const char *want)
{
    const int got = focal_num_threads();
    printf("[ INFO     ] FOCAL_NUM_THREADS=%s -> focal_num_threads() = %d\n",
           getenv("FOCAL_NUM_THREADS") ? getenv("FOCAL_NUM_THREADS") : "(unset)", got);
    return got == atoi(want) ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--expect-default-threads") == 0)
        return expect_default_threads(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thread_count_arguments),
        cmocka_unit_test(same_bits_for_1_to_8_threads),
        cmocka_unit_test(concurrent_callers_get_single_call_bits),
        cmocka_unit_test(pool_survives_fork),
        cmocka_unit_test(idle_pool_sleeps),
    };
    return cmocka_run_group_tests_name("parallel", tests, make_inputs, free_inputs);
}
