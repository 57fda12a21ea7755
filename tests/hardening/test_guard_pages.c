/* SPDX-License-Identifier: MIT */
/*
 * Guard pages: no kernel may read or write one byte outside its buffers.
 *
 * Every buffer (logits, targets, loss, grad) gets its own mapping
 *
 *     [PROT_NONE page][read-write pages][PROT_NONE page]
 *
 * and is placed so that it either ENDS exactly where the trailing PROT_NONE
 * page begins (catches tail over-reads: full-vector loads, masked loads done
 * wrong, stores of a whole vector past n) or STARTS right after the leading
 * one (catches reads or writes before the first element). Any such access
 * faults; the SIGSEGV handler prints the configuration that was running and
 * the process dies, which is the failure signal.
 *
 * Swept per kernel (every kernel focal_kernel_name lists; those the CPU
 * lacks are skipped and say so): n = 0..300 (every tail length of every
 * vector width, and the 256-element chunk boundary), every reduction, every
 * gamma code path (0, 1, 2, 3, other), outputs loss only / grad only / both /
 * grad in place (grad == logits) with and without loss, valid targets and a
 * NaN target in the last element (FOCAL_ETARGET: same rule). Results computed
 * in the guarded layout must also be the bits the scalar kernel gives in
 * ordinary heap buffers. A second group takes n past the 16 Ki block size and
 * past 8 blocks with two threads, so the thread pool's blocks touch the guard
 * pages too.
 *
 * Every other entry point gets the same treatment from its descriptor in
 * tests/entry_points.c: guard_rows x guard_classes shapes that put row and
 * vector boundaries everywhere, and a shape past 8 blocks on two threads;
 * every array it reads (targets or labels, class_alpha, weight, and 1.2's
 * pos_weight: one per class for the sigmoid labels and dense calls, one per
 * element for the quality loss, with its alpha flag) against guard pages
 * too; every reduction and output set, the option sets and gamma paths
 * taking turns; an invalid last label or target.
 *
 * FOCAL_GUARD_THIN=<k> thins the shapes (guard_thin; valgrind.sh and the qemu
 * presets set it), never the entry points, reductions, gamma paths or output selections.
 */
/* MAP_ANONYMOUS, which focal_testutil's _POSIX_C_SOURCE alone would hide. */
#define _DEFAULT_SOURCE

#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <focal/focal.h>

#include "entry_points.h"
#include "kernels.h"

#define SMALL_MAX 300

static const float gammas[] = { 0.0f, 1.0f, 2.0f, 3.0f, 0.5f };
static const int reductions[] = { FOCAL_REDUCTION_NONE, FOCAL_REDUCTION_SUM, FOCAL_REDUCTION_MEAN };

enum placement { AT_END, AT_START };
enum outputs { OUT_LOSS, OUT_GRAD, OUT_BOTH, OUT_INPLACE, OUT_INPLACE_LOSS, OUT_COUNT };
static const char *const out_names[] = { "loss", "grad", "loss+grad", "grad=logits",
                                         "grad=logits+loss" };

/* ---- what is running, for the fault handler ----------------------------- */

/* CMocka installs its own SIGSEGV handler around each test (it fails the test
 * and carries on with the next). Ours goes on top, per test: it names the
 * configuration that faulted, then hands over to CMocka's, or to the default
 * action (the process dies) when there was none. */
static char context[256];
static struct sigaction previous[2];
static const int fault_signals[2] = { SIGSEGV, SIGBUS };
static int handler_installed;

static void on_fault(int sig)
{
    static const char head[] = "\nFAULT (access outside a buffer) while running: ";
    ssize_t w = write(2, head, sizeof head - 1);
    w = write(2, context, strnlen(context, sizeof context));
    w = write(2, "\n", 1);
    (void)w;
    const struct sigaction *old = &previous[sig == SIGBUS];
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && !(old->sa_flags & SA_SIGINFO)) {
        old->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_fault_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sa.sa_flags = SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 2; i++)
        sigaction(fault_signals[i], &sa, &previous[i]);
    handler_installed = 1;
}

static void remove_fault_handler(void)
{
    if (!handler_installed)
        return;
    for (int i = 0; i < 2; i++)
        sigaction(fault_signals[i], &previous[i], NULL);
    handler_installed = 0;
}

/* ---- guarded regions ------------------------------------------------------ */

typedef struct {
    unsigned char *map;
    size_t map_bytes;
    float *lo, *hi; /* the read-write floats: [lo, hi) */
} region;

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static void region_map(region *r, size_t max_floats)
{
    const size_t page = page_size();
    size_t data = (max_floats * sizeof(float) + page - 1) / page * page;
    if (data == 0)
        data = page;
    r->map_bytes = data + 2 * page;
    r->map = mmap(NULL, r->map_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(r->map != MAP_FAILED);
    assert_int_equal(mprotect(r->map + page, data, PROT_READ | PROT_WRITE), 0);
    r->lo = (float *)(void *)(r->map + page);
    r->hi = (float *)(void *)(r->map + page + data);
}

static void region_unmap(region *r)
{
    munmap(r->map, r->map_bytes);
}

/* n floats touching the guard page after them, or the one before them. */
static float *region_place(const region *r, size_t n, enum placement where)
{
    return where == AT_END ? r->hi - n : r->lo;
}

/* ---- inputs ---------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static float rnd_unit(void)
{
    return (float)(rnd() >> 8) / 16777216.0f;
}

static void fill_inputs(float *x, float *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = (rnd_unit() - 0.5f) * 40.0f;
        switch (rnd() % 4) {
        case 0: t[i] = 0.0f; break;
        case 1: t[i] = 1.0f; break;
        case 2: t[i] = rnd_unit(); break;
        default: t[i] = (rnd() & 1) ? 1.0f : 0.0f; break;
        }
    }
    /* a non-finite logit is not an error; it must not leak into neighbours */
    if (n > 7)
        x[n / 3] = INFINITY;
    if (n > 11)
        x[n / 2] = NAN;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof(float)) == 0;
}

/* ---- the sweep ----------------------------------------------------------- */

/* What every sweep has: logits, targets, loss and grad in guarded regions,
 * master copies of the inputs, heap buffers for the scalar reference. */
typedef struct {
    region rx, rt, rl, rg;
    float *mx, *mt;      /* master copies of the inputs */
    float *hx, *hl, *hg; /* heap buffers for the scalar reference */
    size_t max_n;
} io_buffers;

/* n floats (or int32 labels, the same size) and one more: malloc(0) may
 * return NULL. */
static void *heap_alloc(size_t n)
{
    void *p = malloc((n + 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

/* A guarded input of up to n elements, and the master copy it is filled
 * from before every call. */
static void *map_input(region *r, size_t n)
{
    region_map(r, n);
    return heap_alloc(n);
}

static void free_input(region *r, void *master)
{
    region_unmap(r);
    free(master);
}

static void io_init(io_buffers *b, size_t max_n)
{
    b->max_n = max_n;
    b->mx = map_input(&b->rx, max_n);
    b->mt = map_input(&b->rt, max_n);
    region_map(&b->rl, max_n);
    region_map(&b->rg, max_n);
    b->hx = heap_alloc(max_n);
    b->hl = heap_alloc(max_n);
    b->hg = heap_alloc(max_n);
}

static void io_free(io_buffers *b)
{
    free_input(&b->rx, b->mx);
    free_input(&b->rt, b->mt);
    region_unmap(&b->rl);
    region_unmap(&b->rg);
    free(b->hx);
    free(b->hl);
    free(b->hg);
}

typedef struct {
    io_buffers io;
    float *ht; /* the reference's targets: the guarded ones, NaN included */
} arena;

static void arena_init(arena *a, size_t max_n)
{
    io_init(&a->io, max_n);
    a->ht = heap_alloc(max_n);
}

static void arena_free(arena *a)
{
    io_free(&a->io);
    free(a->ht);
}

static const char *where_name(enum placement where)
{
    return where == AT_END ? "END_at_guard" : "START_after_guard";
}

/* The outputs one call asks for: loss and grad against the guard pages, hl
 * and hg their heap twins for the scalar reference. In place, grad is the
 * guarded logits and hg the reference's. */
typedef struct {
    int want_loss, want_grad, inplace;
    size_t n, loss_n;
    float *loss, *grad, *hl, *hg;
} outputs_at;

/* Places the outputs for logits x (n of them, loss_n losses) and starts the
 * reference's logits as the masters, which the guarded x must be too. */
static void place_outputs(io_buffers *b, float *x, size_t n, size_t loss_n, enum placement where,
                          enum outputs out, outputs_at *o)
{
    o->want_loss = out == OUT_LOSS || out == OUT_BOTH || out == OUT_INPLACE_LOSS;
    o->want_grad = out != OUT_LOSS;
    o->inplace = out == OUT_INPLACE || out == OUT_INPLACE_LOSS;
    o->n = n;
    o->loss_n = loss_n;
    o->loss = o->want_loss ? region_place(&b->rl, loss_n, where) : NULL;
    o->grad = o->inplace ? x : o->want_grad ? region_place(&b->rg, n, where) : NULL;
    memcpy(b->hx, b->mx, n * sizeof(float));
    o->hl = o->want_loss ? b->hl : NULL;
    o->hg = o->inplace ? b->hx : o->want_grad ? b->hg : NULL;
}

/* After both calls: the guarded outputs must be the reference's bits when
 * the call succeeded, and the logits untouched unless they took the
 * gradient. */
static void check_outputs(const outputs_at *o, int rc, const float *x, const float *mx)
{
    if (rc == FOCAL_OK) {
        if (o->want_loss && !same_bits(o->loss, o->hl, o->loss_n))
            fail_msg("%s: loss bits differ from the scalar kernel's", context);
        if (o->want_grad && !same_bits(o->grad, o->hg, o->n))
            fail_msg("%s: gradient bits differ from the scalar kernel's", context);
    }
    if (!o->inplace && !same_bits(x, mx, o->n))
        fail_msg("%s: logits were modified", context);
}

/* One call in the guarded layout with `kernel`, one in heap buffers with the
 * scalar kernel; return codes and output bits must agree. Returns the number
 * of calls made. */
static unsigned long run_one(arena *a, const char *kernel, size_t n, enum placement where,
                             int reduction, float gamma, enum outputs out, int bad_target)
{
    io_buffers *b = &a->io;
    snprintf(context, sizeof context,
             "kernel=%s n=%zu buffers_%s reduction=%d gamma=%g outputs=%s target=%s", kernel, n,
             where_name(where), reduction, (double)gamma, out_names[out],
             bad_target ? "NaN-last" : "valid");

    float *x = region_place(&b->rx, n, where);
    float *t = region_place(&b->rt, n, where);
    outputs_at o;
    place_outputs(b, x, n, reduction == FOCAL_REDUCTION_NONE ? n : 1, where, out, &o);
    memcpy(x, b->mx, n * sizeof(float));
    memcpy(t, b->mt, n * sizeof(float));
    if (bad_target && n > 0)
        t[n - 1] = NAN;

    assert_int_equal(focal_set_isa(kernel), FOCAL_OK);
    const int rc = focal_sigmoid_loss_grad(x, t, n, 0.25f, gamma, reduction, o.loss, o.grad);

    /* reference: scalar kernel, heap buffers */
    memcpy(a->ht, t, n * sizeof(float));
    assert_int_equal(focal_set_isa("scalar"), FOCAL_OK);
    const int ref_rc =
        focal_sigmoid_loss_grad(b->hx, a->ht, n, 0.25f, gamma, reduction, o.hl, o.hg);

    if (rc != ref_rc)
        fail_msg("%s: rc %d, scalar in heap buffers %d", context, rc, ref_rc);
    if (bad_target && n > 0 && rc != FOCAL_ETARGET)
        fail_msg("%s: rc %d, expected FOCAL_ETARGET", context, rc);
    if (!bad_target && rc != FOCAL_OK)
        fail_msg("%s: rc %d (%s)", context, rc, focal_strerror(rc));
    /* targets are read only */
    if (!bad_target && !same_bits(t, b->mt, n))
        fail_msg("%s: targets were modified", context);
    check_outputs(&o, rc, x, b->mx);
    return 2;
}

/* Selects the kernel named by *state, or skips the test (saying why). */
static const char *enter_kernel(void **state)
{
    const char *k = *state;
    const int rc = focal_set_isa(k);
    if (rc != FOCAL_OK) {
        print_message("[ SKIPPED  ] kernel %s: %s\n", k, focal_strerror(rc));
        skip();
    }
    print_message("[ KERNEL   ] %s\n", k);
    install_fault_handler();
    return k;
}

static int restore_auto(void **state)
{
    (void)state;
    remove_fault_handler();
    focal_set_isa("auto");
    focal_set_num_threads(0);
    return 0;
}

/* FOCAL_GUARD_THIN=<k> (k >= 1, default 1: everything) runs about one
 * shape in k. valgrind.sh sets it: under memcheck (20-50x slower, and
 * without the AVX-512 kernel) the guard-page sweep took minutes, while the
 * native and ASan runs sweep every shape on every kernel. The qemu presets
 * set it too (a minute per emulated CPU otherwise). Thinned runs
 * keep every entry point, reduction, gamma path, output selection and
 * invalid input; they drop shapes whose tails repeat others' and, past
 * the pool's threshold, half the placement x reduction x output triples. */
static size_t guard_thin(void)
{
    const char *env = getenv("FOCAL_GUARD_THIN");
    const long k = env ? strtol(env, NULL, 10) : 1;
    return k >= 1 ? (size_t)k : 1;
}

static void print_thin(void)
{
    if (guard_thin() > 1)
        print_message("[ THIN     ] FOCAL_GUARD_THIN=%zu: about one shape in %zu\n", guard_thin(),
                      guard_thin());
}

/* Thinned: n = 0..33 (every tail of 4-, 8- and 16-lane vectors, and two
 * whole vectors plus one), the 64-element boundaries (n = 64 m - 1, 64 m,
 * 64 m + 1: the 256-element chunk among them) and SMALL_MAX. */
static int small_n_kept(size_t n)
{
    return guard_thin() == 1 || n <= 33 || (n + 1) % 64 <= 2 || n == SMALL_MAX;
}

static void sweep_small(void **state, enum placement where)
{
    const char *k = enter_kernel(state);
    print_thin();
    arena a;
    arena_init(&a, SMALL_MAX);
    unsigned long calls = 0;
    for (size_t n = 0; n <= SMALL_MAX; n++) {
        if (!small_n_kept(n))
            continue;
        fill_inputs(a.io.mx, a.io.mt, n);
        for (size_t r = 0; r < sizeof reductions / sizeof reductions[0]; r++)
            for (size_t g = 0; g < sizeof gammas / sizeof gammas[0]; g++)
                for (int o = 0; o < OUT_COUNT; o++)
                    for (int bad = 0; bad <= 1; bad++)
                        calls += run_one(&a, k, n, where, reductions[r], gammas[g],
                                         (enum outputs)o, bad);
    }
    arena_free(&a);
    print_message("[ CALLS    ] %lu (n = 0..%d)\n", calls, SMALL_MAX);
}

static void test_guard_end(void **state) { sweep_small(state, AT_END); }
static void test_guard_start(void **state) { sweep_small(state, AT_START); }

/* Past one block, and past the 8 blocks the pool wants, with 2 threads. */
static void test_guard_large(void **state)
{
    static const size_t sizes[] = {
        16383, 16384, 16385, (size_t)16384 * 8 - 1, (size_t)16384 * 8 + 1, (size_t)16384 * 9 + 77,
    };
    const char *k = enter_kernel(state);
    assert_int_equal(focal_set_num_threads(2), FOCAL_OK);
    arena a;
    arena_init(&a, (size_t)16384 * 9 + 77);
    unsigned long calls = 0;
    const size_t nsizes = sizeof sizes / sizeof sizes[0];
    for (size_t s = 0; s < nsizes; s++) {
        /* thinned: one block and one, past 8 blocks with a tail, ... */
        if ((s + 1) % guard_thin() != 0 && s != nsizes - 1)
            continue;
        const size_t n = sizes[s];
        fill_inputs(a.io.mx, a.io.mt, n);
        for (int where = AT_END; where <= AT_START; where++)
            for (size_t r = 0; r < sizeof reductions / sizeof reductions[0]; r++)
                for (int o = 0; o < OUT_COUNT; o++) {
                    /* thinned: half the (placement, reduction, output)
                     * triples, each placement, reduction and output kept */
                    if (guard_thin() > 1 && (where + r + (size_t)o) % 2 != 0)
                        continue;
                    calls += run_one(&a, k, n, (enum placement)where, reductions[r], 0.5f,
                                     (enum outputs)o, 0);
                    if (o == OUT_BOTH)
                        calls += run_one(&a, k, n, (enum placement)where, reductions[r],
                                         2.0f, (enum outputs)o, 1);
                }
    }
    arena_free(&a);
    print_message("[ CALLS    ] %lu (n up to %zu, 2 threads)\n", calls, a.io.max_n);
}

/* ---- every other entry point, from its descriptor (entry_points.c) -------- */

/* OPT_POS_WEIGHT and OPT_QUALITY_ALPHA (1.2) reach the entry points whose
 * flags take them; the others drop them, as the rest. */
enum {
    OPT_CLASS_ALPHA = 1,
    OPT_WEIGHT = 2,
    OPT_SMOOTHING = 4,
    OPT_POS_WEIGHT = 8,
    OPT_QUALITY_ALPHA = 16,
    OPT_ALL = 31
};

/* Option sets, taking turns; 6 of them against the 5 gammas, so that every
 * set meets every gamma path. */
static const int opt_sets[] = { 0,
                                OPT_CLASS_ALPHA,
                                OPT_WEIGHT | OPT_SMOOTHING,
                                OPT_POS_WEIGHT | OPT_QUALITY_ALPHA,
                                OPT_CLASS_ALPHA | OPT_POS_WEIGHT,
                                OPT_ALL };
#define NOPT_SETS (sizeof opt_sets / sizeof opt_sets[0])

typedef struct {
    io_buffers io; /* max_rows x max_classes of each */
    region rlab, rca, rw, rpw;
    float *mca, *mw, *mpw;
    int32_t *mlab;
} rows_arena;

static void rows_arena_init(rows_arena *a, size_t max_rows, size_t max_classes)
{
    io_init(&a->io, max_rows * max_classes);
    a->mlab = map_input(&a->rlab, max_rows);
    a->mca = map_input(&a->rca, max_classes);
    a->mw = map_input(&a->rw, max_rows);
    /* one per class or one per element: room for the larger */
    const size_t max_pw = max_rows * max_classes > max_classes ? max_rows * max_classes
                                                               : max_classes;
    a->mpw = map_input(&a->rpw, max_pw);
}

static void rows_arena_free(rows_arena *a)
{
    io_free(&a->io);
    free_input(&a->rlab, a->mlab);
    free_input(&a->rca, a->mca);
    free_input(&a->rw, a->mw);
    free_input(&a->rpw, a->mpw);
}

/* Labels: -1 (ignored), a class, or classes (background) where the entry
 * point has one. */
static void rows_fill(const focal_test_entry *e, rows_arena *a, size_t rows, size_t classes)
{
    fill_inputs(a->io.mx, a->io.mt, rows * classes);
    if (e->flags & EP_ROW_TARGETS) /* one per row, in [0, classes - 1) */
        for (size_t r = 0; r < rows; r++)
            a->io.mt[r] = ep_row_target(rnd_unit(), classes);
    for (size_t c = 0; c < classes; c++)
        a->mca[c] = rnd_unit();
    /* enough for one per element; a per-class pos_weight uses the first */
    for (size_t i = 0; i < rows * classes || i < classes; i++)
        a->mpw[i] = 3.0f * rnd_unit();
    const uint32_t kinds = (uint32_t)classes + (e->flags & EP_NO_BACKGROUND ? 1 : 2);
    for (size_t r = 0; r < rows; r++) {
        a->mw[r] = 0.5f + rnd_unit();
        a->mlab[r] = (int32_t)(rnd() % kinds) - 1;
    }
}

/* One call's inputs, against the guard pages, and its outputs. */
typedef struct {
    float *x, *t, *ca, *w, *pw;
    int32_t *lab;
    outputs_at out;
} placed;

/* Every array an entry point may read placed as `where` says and filled
 * from the masters: rows x classes logits, nt targets, rows labels, classes
 * class_alpha, rows weights (per element for the element-wise entry
 * points, whose rows are their elements) and pw_n positive weights. */
static void place_inputs(rows_arena *a, size_t rows, size_t classes, size_t nt, size_t pw_n,
                         enum placement where, placed *p)
{
    const size_t n = rows * classes;
    p->x = region_place(&a->io.rx, n, where);
    p->t = region_place(&a->io.rt, nt, where);
    p->lab = (int32_t *)region_place(&a->rlab, rows, where);
    p->ca = region_place(&a->rca, classes, where);
    p->w = region_place(&a->rw, rows, where);
    p->pw = region_place(&a->rpw, pw_n, where);
    memcpy(p->x, a->io.mx, n * sizeof(float));
    memcpy(p->t, a->io.mt, nt * sizeof(float));
    memcpy(p->lab, a->mlab, rows * sizeof(int32_t));
    memcpy(p->ca, a->mca, classes * sizeof(float));
    memcpy(p->w, a->mw, rows * sizeof(float));
    memcpy(p->pw, a->mpw, pw_n * sizeof(float));
}

/* The guarded inputs must still be the masters: all of them but those a
 * `bad` case changed on purpose (the targets and labels). */
static void check_inputs(const rows_arena *a, const placed *p, size_t rows, size_t classes,
                         size_t nt, size_t pw_n, int bad)
{
    if ((!bad &&
         (!same_bits(p->t, a->io.mt, nt) || memcmp(p->lab, a->mlab, rows * sizeof(int32_t)) != 0)) ||
        !same_bits(p->ca, a->mca, classes) || !same_bits(p->w, a->mw, rows) ||
        !same_bits(p->pw, a->mpw, pw_n))
        fail_msg("%s: a read-only array was modified", context);
}

/* One call in the guarded layout with `kernel`, one with the scalar kernel
 * in heap buffers. The options the entry point does not use are left out;
 * alpha is that of its first bitwise option set. `bad`: the last label out
 * of range (FOCAL_ELABEL, checked before anything is written) or the last
 * target NaN (FOCAL_ETARGET, found while writing). */
static unsigned long run_entry(rows_arena *a, const char *kernel, const focal_test_entry *e,
                               size_t rows, size_t classes, enum placement where, int reduction,
                               float gamma, enum outputs out, int opts, int bad)
{
    const size_t n = rows * classes;
    const size_t loss_n = ep_loss_len(e, rows, classes, reduction);
    const int labels = (e->flags & EP_LABELS) != 0;
    const size_t pw_n = ep_pos_weight_len(e, rows, classes);
    const size_t nt = ep_targets_len(e, rows, classes);
    if (!(e->flags & EP_CLASS_ALPHA))
        opts &= ~OPT_CLASS_ALPHA;
    if (!(e->flags & EP_SMOOTHING))
        opts &= ~OPT_SMOOTHING;
    if (!(e->flags & EP_WEIGHT))
        opts &= ~OPT_WEIGHT;
    if (!(e->flags & EP_POS_WEIGHT))
        opts &= ~OPT_POS_WEIGHT;
    if (!(e->flags & EP_QUALITY_ALPHA))
        opts &= ~OPT_QUALITY_ALPHA;

    snprintf(context, sizeof context,
             "kernel=%s %s rows=%zu classes=%zu buffers_%s reduction=%d gamma=%g outputs=%s "
             "class_alpha=%d weight=%d smoothing=%d pos_weight=%d(%zu) quality_alpha=%d %s",
             kernel, e->name, rows, classes, where_name(where), reduction, (double)gamma,
             out_names[out], !!(opts & OPT_CLASS_ALPHA), !!(opts & OPT_WEIGHT),
             !!(opts & OPT_SMOOTHING), !!(opts & OPT_POS_WEIGHT), pw_n,
             !!(opts & OPT_QUALITY_ALPHA),
             bad ? (labels ? "label-out-of-range-last" : "target=NaN-last") : "valid");

    placed p;
    place_inputs(a, rows, classes, nt, pw_n, where, &p);
    place_outputs(&a->io, p.x, n, loss_n, where, out, &p.out);
    if (bad && labels && rows > 0)
        p.lab[rows - 1] = (int32_t)classes + (e->flags & EP_NO_BACKGROUND ? 0 : 1);
    if (bad && !labels && nt > 0)
        p.t[nt - 1] = NAN;

    ep_problem prob = { rows, classes, p.x, labels ? NULL : p.t, labels ? p.lab : NULL, p.ca,
                        p.w, pw_n ? p.pw : NULL, NULL };
    focal_options opt;
    e->options(&opt, &prob, EP_BITS, 0, reduction);
    opt.gamma = gamma;
    opt.class_alpha = opts & OPT_CLASS_ALPHA ? p.ca : NULL;
    opt.weight = opts & OPT_WEIGHT ? p.w : NULL;
    opt.label_smoothing = opts & OPT_SMOOTHING ? 0.1f : 0.0f;
    opt.pos_weight = opts & OPT_POS_WEIGHT ? p.pw : NULL;
    opt.flags = opts & OPT_QUALITY_ALPHA ? FOCAL_FLAG_QUALITY_ALPHA : 0;

    ep_args args = ep_args_of(&prob, &opt, p.out.loss, p.out.grad);
    assert_int_equal(focal_set_isa(kernel), FOCAL_OK);
    const int rc = e->call(&args);

    /* reference: scalar kernel, outputs in the heap, the same inputs (the
     * read-only arrays are compared with the masters below) */
    assert_int_equal(focal_set_isa("scalar"), FOCAL_OK);
    args.x = a->io.hx;
    args.loss = p.out.hl;
    args.grad = p.out.hg;
    const int ref_rc = e->call(&args);

    /* regression targets (1.5) are any float: a NaN is no error */
    const int want_rc = !bad || n == 0 || (e->flags & EP_REGRESSION) ? FOCAL_OK
                        : labels                                      ? FOCAL_ELABEL
                                                                      : FOCAL_ETARGET;
    if (rc != want_rc || ref_rc != want_rc)
        fail_msg("%s: rc %d, scalar in heap buffers %d, expected %d", context, rc, ref_rc,
                 want_rc);
    check_inputs(a, &p, rows, classes, nt, pw_n, bad);
    check_outputs(&p.out, rc, p.x, a->io.mx);
    return 2;
}

static size_t max_of(const size_t *v, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

#define NGAMMAS (sizeof gammas / sizeof gammas[0])

/* Every shape of the descriptor's guard lists, both placements, every
 * reduction and output set, guard_turns calls each with the option sets and
 * gamma paths taking turns, each with loss and gradient and in place also
 * with an invalid last label or target. */
static void test_guard_entries(void **state)
{
    const char *k = enter_kernel(state);
    print_thin();
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        if (e->guard_rows == NULL)
            continue;
        rows_arena a;
        rows_arena_init(&a, max_of(e->guard_rows, e->nguard_rows),
                        max_of(e->guard_classes, e->nguard_classes));
        unsigned long calls = 0;
        size_t turn = 0;
        for (size_t ci = 0; ci < e->nguard_classes; ci++)
            for (size_t ri = 0; ri < e->nguard_rows; ri++) {
                /* thinned: every k-th shape in order (k = 3: the flat
                 * sizes 0, 3, 6, ... still meet every tail of 4-, 8- and
                 * 16-lane vectors) */
                if ((ci * e->nguard_rows + ri) % guard_thin() != 0)
                    continue;
                const size_t classes = e->guard_classes[ci], rows = e->guard_rows[ri];
                rows_fill(e, &a, rows, classes);
                for (int where = AT_END; where <= AT_START; where++)
                    for (size_t r = 0; r < sizeof reductions / sizeof reductions[0]; r++)
                        for (int out = 0; out < OUT_COUNT; out++) {
                            for (int i = 0; i < e->guard_turns; i++, turn++) {
                                const float gamma = gammas[turn % NGAMMAS];
                                calls += run_entry(&a, k, e, rows, classes, (enum placement)where,
                                                   reductions[r], gamma, (enum outputs)out,
                                                   opt_sets[turn % NOPT_SETS], 0);
                                if (out == OUT_BOTH || out == OUT_INPLACE)
                                    calls += run_entry(&a, k, e, rows, classes,
                                                       (enum placement)where, reductions[r],
                                                       gamma, (enum outputs)out, OPT_ALL, 1);
                            }
                        }
            }
        rows_arena_free(&a);
        print_message("[ CALLS    ] %s: %lu\n", e->name, calls);
    }
}

/* Past 8 blocks, 2 threads: blocks start mid-row (softmax blocks are whole
 * rows). */
static void test_guard_entries_large(void **state)
{
    const char *k = enter_kernel(state);
    assert_int_equal(focal_set_num_threads(2), FOCAL_OK);
    for (size_t ei = 0; ei < focal_test_entry_count; ei++) {
        const focal_test_entry *e = focal_test_entries[ei];
        if (e->guard_rows == NULL)
            continue;
        const size_t rows = e->guard_large.rows, classes = e->guard_large.classes;
        rows_arena a;
        rows_arena_init(&a, rows, classes);
        rows_fill(e, &a, rows, classes);
        unsigned long calls = 0;
        for (int where = AT_END; where <= AT_START; where++)
            for (size_t r = 0; r < sizeof reductions / sizeof reductions[0]; r++) {
                /* thinned: the placements take turns over the reductions */
                if (guard_thin() > 1 && (where + r) % 2 != 0)
                    continue;
                const enum outputs out = r == 1 ? OUT_INPLACE_LOSS : OUT_BOTH;
                calls += run_entry(&a, k, e, rows, classes, (enum placement)where, reductions[r],
                                   0.5f, out, OPT_ALL, 0);
                if (r == 2)
                    calls += run_entry(&a, k, e, rows, classes, (enum placement)where,
                                       reductions[r], 0.5f, out, OPT_ALL, 1);
            }
        rows_arena_free(&a);
        print_message("[ CALLS    ] %s: %lu (%zu x %zu, 2 threads)\n", e->name, calls, rows,
                      classes);
    }
}

/* One case per kernel built into the library (tests/kernels.h). */
#define ALL_KERNELS(f) KERNEL_TESTS_TEARDOWN(f, restore_auto)

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        ALL_KERNELS(test_guard_end),
        ALL_KERNELS(test_guard_start),
        ALL_KERNELS(test_guard_large),
        ALL_KERNELS(test_guard_entries),
        ALL_KERNELS(test_guard_entries_large),
    };
    return run_group("guard_pages", tests, sizeof tests / sizeof tests[0], argc, argv);
}
