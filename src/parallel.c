/* SPDX-License-Identifier: MIT */
/*
 * A small persistent pthread pool for focal_run_blocks().
 *
 * Why a pthread pool and not OpenMP: libfocal lives inside training engines
 * that bring their own OpenMP runtime (PyTorch links libgomp or Intel's
 * libiomp, MKL another); two runtimes in one process is a known source of
 * crashes and of cores oversubscribed many times over. A private pool of
 * plain threads interferes with nobody, and idle workers sleep on a condition
 * variable instead of spinning.
 *
 * Rules that keep it safe inside other people's processes:
 * - one job at a time; a caller that finds the pool busy (another thread is
 *   mid-call) runs its blocks itself rather than waiting: results are the
 *   same bits either way;
 * - fork: the child has none of the parent's workers, so it starts an empty
 *   pool (pthread_atfork);
 * - unload: a destructor wakes the workers, tells them to leave, joins them;
 * - no allocation on the computing path: block sums go to a stack array,
 *   one batch of FOCAL_BATCH blocks at a time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "focal/focal.h"
#include "focal_internal.h"
#include "parallel.h"

#define FOCAL_MAX_THREADS 256
#define FOCAL_BATCH 512 /* blocks per parallel round: 8 Mi elements */

/* Measured on a 2-core x86-64: waking a worker costs ~10-20 us, a 16 Ki block
 * of the AVX-512 kernel ~10 us. Below 8 blocks the wake-up eats the gain. */
#define FOCAL_MIN_PARALLEL_BLOCKS 8

typedef struct {
    focal_block_fn fn;
    void *ctx;
    size_t n, first_block, nblocks;
    double *sums;
    int *errs;
    atomic_size_t next;
    atomic_int stop;
} focal_job;

static struct {
    pthread_mutex_t submit; /* held by the one caller that owns the pool */
    pthread_mutex_t lock;   /* guards everything below */
    pthread_cond_t wake, done;
    pthread_t threads[FOCAL_MAX_THREADS];
    int spawned;      /* worker threads alive */
    int participants; /* workers that joined the current job */
    int active;       /* participants still running it */
    unsigned long generation;
    int shutdown;
    focal_job *job;
} pool = {
    .submit = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
};

/* The job generation each worker was born in: a worker created for the job
 * about to start must not mistake that job for one it has already seen. */
static unsigned long born_generation[FOCAL_MAX_THREADS];

static atomic_int num_threads; /* 0 until first read */
static int default_threads;
static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

static void run_job_items(focal_job *job)
{
    size_t b;
    while (!atomic_load_explicit(&job->stop, memory_order_relaxed) &&
           (b = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed)) < job->nblocks) {
        const size_t block = job->first_block + b;
        const size_t begin = block * FOCAL_BLOCK;
        const size_t count = job->n - begin < FOCAL_BLOCK ? job->n - begin : FOCAL_BLOCK;
        job->errs[b] = job->fn(job->ctx, begin, count, &job->sums[b]);
        if (job->errs[b])
            atomic_store_explicit(&job->stop, 1, memory_order_relaxed);
    }
}

static void *worker_main(void *arg)
{
    const int index = (int)(size_t)arg;
    unsigned long seen;

    pthread_mutex_lock(&pool.lock);
    seen = born_generation[index];
    for (;;) {
        while (!pool.shutdown && pool.generation == seen)
            pthread_cond_wait(&pool.wake, &pool.lock);
        if (pool.shutdown)
            break;
        seen = pool.generation;
        if (index >= pool.participants)
            continue; /* fewer threads wanted for this job */
        focal_job *job = pool.job;
        pthread_mutex_unlock(&pool.lock);
        run_job_items(job);
        pthread_mutex_lock(&pool.lock);
        if (--pool.active == 0)
            pthread_cond_signal(&pool.done);
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* With pool.lock held. Thread creation may fail (limits, seccomp): we then
 * run with the workers we have. */
static int ensure_workers(int wanted)
{
    if (pool.shutdown)
        return 0; /* unloading: no new threads */
    if (wanted > FOCAL_MAX_THREADS - 1)
        wanted = FOCAL_MAX_THREADS - 1;
    while (pool.spawned < wanted) {
        born_generation[pool.spawned] = pool.generation;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 4096 * 1024);
        const int rc = pthread_create(&pool.threads[pool.spawned], &attr, worker_main,
                                      (void *)(size_t)pool.spawned);
        pthread_attr_destroy(&attr);
        if (rc != 0)
            break;
        pool.spawned++;
    }
    return pool.spawned < wanted ? pool.spawned : wanted;
}

static void run_parallel(focal_job *job, int threads)
{
    pthread_mutex_lock(&pool.lock);
    const int helpers = ensure_workers(threads - 1);
    pool.job = job;
    pool.participants = helpers;
    pool.active = helpers;
    pool.generation++;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    run_job_items(job); /* the caller works too */

    pthread_mutex_lock(&pool.lock);
    while (pool.active > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    pool.job = NULL;
    pthread_mutex_unlock(&pool.lock);
}

static void pool_prepare_fork(void)
{
    pthread_mutex_lock(&pool.submit);
    pthread_mutex_lock(&pool.lock);
}

static void pool_parent_after_fork(void)
{
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.submit);
}

static void pool_child_after_fork(void)
{
    /* The workers did not follow us: start from an empty pool. No job was
     * running (prepare held the submit lock), so nothing is lost. */
    pthread_mutex_init(&pool.submit, NULL);
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.spawned = 0;
    pool.participants = 0;
    pool.active = 0;
    pool.job = NULL;
}

static void init_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int n = cpus > 0 ? (int)(cpus < FOCAL_MAX_THREADS ? cpus : FOCAL_MAX_THREADS) : 1;
    const char *env = getenv("FOCAL_NUM_THREADS");
    if (env && *env) {
        char *end;
        errno = 0;
        const long v = strtol(env, &end, 10);
        if (errno == 0 && *end == '\0' && v >= 1)
            n = v < FOCAL_MAX_THREADS ? (int)v : FOCAL_MAX_THREADS;
    }
    default_threads = n;
    pthread_atfork(pool_prepare_fork, pool_parent_after_fork, pool_child_after_fork);
}

__attribute__((constructor)) static void focal_threads_constructor(void)
{
    pthread_once(&threads_once, init_threads);
}

__attribute__((destructor)) static void focal_threads_destructor(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.shutdown = 1;
    pthread_cond_broadcast(&pool.wake);
    const int spawned = pool.spawned;
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < spawned; i++)
        pthread_join(pool.threads[i], NULL);
    pool.spawned = 0;
}

FOCAL_API int focal_set_num_threads(int n)
{
    pthread_once(&threads_once, init_threads);
    if (n < 0)
        return FOCAL_ETHREADS;
    if (n > FOCAL_MAX_THREADS)
        n = FOCAL_MAX_THREADS;
    atomic_store(&num_threads, n == 0 ? default_threads : n);
    return FOCAL_OK;
}

FOCAL_API int focal_num_threads(void)
{
    pthread_once(&threads_once, init_threads);
    const int n = atomic_load(&num_threads);
    return n > 0 ? n : default_threads;
}

int focal_run_blocks(size_t n, focal_block_fn fn, void *ctx, double *total)
{
    const size_t nblocks = (n + FOCAL_BLOCK - 1) / FOCAL_BLOCK;
    const int threads = focal_num_threads();
    double sum = 0.0;

    if (threads <= 1 || nblocks < FOCAL_MIN_PARALLEL_BLOCKS ||
        pthread_mutex_trylock(&pool.submit) != 0) {
        for (size_t b = 0; b < nblocks; b++) {
            const size_t begin = b * FOCAL_BLOCK;
            double s;
            const int err = fn(ctx, begin, n - begin < FOCAL_BLOCK ? n - begin : FOCAL_BLOCK, &s);
            if (err)
                return err;
            sum += s;
        }
        *total = sum;
        return 0;
    }

    double sums[FOCAL_BATCH];
    int errs[FOCAL_BATCH];
    int err = 0;
    for (size_t first = 0; first < nblocks && !err; first += FOCAL_BATCH) {
        focal_job job;
        job.fn = fn;
        job.ctx = ctx;
        job.n = n;
        job.first_block = first;
        job.nblocks = nblocks - first < FOCAL_BATCH ? nblocks - first : FOCAL_BATCH;
        job.sums = sums;
        job.errs = errs;
        memset(errs, 0, job.nblocks * sizeof errs[0]);
        atomic_init(&job.next, 0);
        atomic_init(&job.stop, 0);
        run_parallel(&job, threads);
        /* In block order, as the single-threaded loop above: same bits. */
        for (size_t b = 0; b < job.nblocks; b++) {
            if (errs[b]) {
                err = errs[b];
                break;
            }
            sum += sums[b];
        }
    }
    pthread_mutex_unlock(&pool.submit);
    *total = sum;
    return err;
}
