/* SPDX-License-Identifier: MIT */
/*
 * test_golden: 64-bit digests of the library's output bits over fixed sets
 * of canonical calls, one set per entry point family, which every kernel on
 * every architecture must reproduce: the committed GOLDEN_DIGEST_* values
 * (golden_digest.h).
 *
 * test_bitwise checks that the kernels of one build agree with each other;
 * this checks that they agree with what other machines computed: x86-64
 * (scalar, avx2, avx512) and aarch64 (scalar, neon, and sve at 128, 256 and
 * 512 bits) give the same bits.
 *
 * Families (each with its own digest; each descriptor of
 * tests/entry_points.c lists its own in `golden`):
 *   sigmoid_loss_grad         focal_sigmoid_loss_grad: sizes up to 65537, hard
 *                             and soft targets, every gamma kind, alphas, every
 *                             reduction and output selection (the 1.0 digest)
 *   sigmoid_loss_grad_blocks  the same entry point at block boundaries and
 *                             past the thread pool's threshold
 *   sigmoid_labels            focal_sigmoid_labels: every combination of
 *                             class_alpha, weight, normalizer and smoothing;
 *                             ignored and background rows
 *   sigmoid_dense             focal_sigmoid_dense: the same options, hard and
 *                             soft targets
 *   softmax_labels            focal_softmax_labels: 1, 2, 3, 7, 80, 91, 1000
 *                             and 16500 classes (rows wider than a block),
 *                             the same options, ignored rows
 *   quality_focal, varifocal  focal_quality_focal, focal_varifocal: weights,
 *                             normalizer
 *   sigmoid_pos_weight        (1.2) focal_sigmoid_labels and _dense with
 *                             pos_weight, with the sigmoid_labels options
 *   quality_yolo              (1.2) focal_quality_focal with pos_weight and
 *                             FOCAL_FLAG_QUALITY_ALPHA (Ultralytics' QFocalLoss)
 *   distribution_focal        (1.4) focal_distribution_focal
 *   box_iou ... box_ciou      (1.5) focal_box_iou_loss, one family per kind,
 *                             its calls taking turns over the torchvision,
 *                             Ultralytics and mmdet conventions
 *   smooth_l1                 (1.5) focal_smooth_l1 at beta 1, 1/9 and 0
 * Every family runs every gamma kind (0, 0.5, 1, 1.5, 2, 3), every reduction
 * and loss + gradient, loss only and gradient only. Small shapes run the
 * whole product of those; larger shapes (past one block, and past the 8
 * blocks where the thread pool starts) run a few calls that cycle through
 * them (run_shape).
 *
 * The families are data, not code: a descriptor's golden families
 * (ep_golden, tests/entry_points.h) name its seed, its shapes, its sweep,
 * the entry points its calls take turns with and which of 1.2's extras
 * (pos_weight, the quality alpha flag) they take in turn, and the committed
 * digest. Every call goes through the descriptor's call(). What a call reads
 * follows from the descriptor's flags: int32 labels (EP_LABELS; softmax's
 * without background, EP_NO_BACKGROUND), quality scores and one weight per
 * element (EP_SCORES), boxes (EP_REGRESSION: predicted and target boxes,
 * for smooth L1 their coordinates), else float targets, hard and soft; the
 * option combinations are those of class_alpha, weight, normalizer and smoothing
 * the flags allow. The descriptor's own generator (make) draws from libm
 * and the per-suite seed, so it cannot give the same bits everywhere: the
 * inputs here come from this file's own LCG (make_inputs) instead. A new
 * loss adds a golden family to its descriptor and the digest to
 * golden_digest.h; this file does not change.
 *
 * Threads: every family runs on 1 thread; then every call with at least
 * 8 blocks of elements (where the thread pool starts) runs again on 3
 * threads (two workers and the caller, blocks handed out unevenly) and must
 * give the same per-call digest, hence the same family digest.
 *
 * Inputs come from an integer LCG and are built from exact integer-to-float
 * conversions and power-of-two scalings, so they are the same bits
 * everywhere without libc rand() or libm. Logits include +-16.5, +-40,
 * +-87.5, +-100 but no NaN or infinity (an operation that creates a NaN
 * from non-NaN operands gives a different NaN on x86 than on ARM).
 *
 * A family's digest is FNV-1a 64 over its per-call digests in order; a call's
 * digest is FNV-1a 64 over the call's index in the family, its return code,
 * then every output float as its 32-bit pattern, little endian. The digests
 * are printed per kernel; on a mismatch against the scalar kernel of the
 * same run (or against 1 thread), the first differing call is named.
 *
 * After an intentional change of the kernels' arithmetic (or of the calls),
 * run test_golden and copy the printed digests into golden_digest.h (on
 * x86-64 and under qemu-aarch64, all kernels must print the same values).
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

#include "entry_points.h"
#include "golden_digest.h"
#include "kernels.h"

/* The library's block and thread-pool threshold (focal_internal.h,
 * parallel.c): calls with this many elements may run on several threads. */
#define BLOCK 16384
#define PARALLEL_ELEMS (8 * BLOCK)

/* ---- inputs ---------------------------------------------------------------- */

static const float gammas[] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f};
#define NGAMMAS (sizeof gammas / sizeof gammas[0])
static const int reductions[] = {FOCAL_REDUCTION_NONE, FOCAL_REDUCTION_SUM, FOCAL_REDUCTION_MEAN};
#define NREDUCTIONS 3
static const char *const red_names[NREDUCTIONS] = {"NONE", "SUM", "MEAN"};
enum { OUT_BOTH, OUT_LOSS, OUT_GRAD, NOUTS };
static const char *const out_names[NOUTS] = {"loss+grad", "loss only", "grad only"};
enum { T_HARD, T_SOFT, NTARGETS };
static const char *const target_names[NTARGETS] = {"hard", "soft"};

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

/* Quality / varifocal scores: half exact 0 (the negatives), else gen_soft. */
static float gen_score(lcg_t *g)
{
    if (lcg_next(g) & 1)
        return 0.0f;
    return gen_soft(g);
}

/* A weight: a multiple of 1/16 in [0, 4), 0 included. */
static float gen_weight(lcg_t *g) { return (float)(lcg_next(g) >> 26) * 0x1p-4f; }

/* A class alpha: 1 for every 7th class, else a multiple of 2^-8 in [0, 1). */
static float gen_class_alpha(lcg_t *g, size_t c)
{
    const uint32_t u = lcg_next(g);
    return c % 7 == 3 ? 1.0f : (float)(u >> 24) * 0x1p-8f;
}

/* Sigmoid labels: 1/16 -1 and 1/16 -3 (ignored), 1/8 `classes`
 * (background), else a class. */
static int32_t gen_sigmoid_label(lcg_t *g, size_t classes)
{
    const uint32_t u = lcg_next(g);
    switch (u & 15) {
    case 0: return -1;
    case 1: return -3;
    case 2: case 3: return (int32_t)classes;
    default: return (int32_t)((u >> 4) % classes);
    }
}

/* Softmax labels: 1/8 -1 (ignored), else a class. */
static int32_t gen_softmax_label(lcg_t *g, size_t classes)
{
    const uint32_t u = lcg_next(g);
    return (u & 7) == 0 ? -1 : (int32_t)((u >> 3) % classes);
}

/* A box pair (1.5): the target's corner a multiple of 2^-4 in [-32, 96),
 * its sides multiples of 2^-3 in [0.125, 64]; the prediction the target
 * with every coordinate moved by a multiple of 2^-5 in [-8, 8) (half the
 * pairs), or one coordinate tied to the target's, identical, a zero width,
 * inverted (x2 < x1), beside the target, inside it, or a box of its own
 * anywhere near. Every value exact in float: sums of multiples of 2^-5 far
 * below 2^24 of them. */
static void gen_box_pair(lcg_t *g, float *p, float *t)
{
    t[0] = (float)((int32_t)(lcg_next(g) % 2048) - 512) * 0x1p-4f;
    t[1] = (float)((int32_t)(lcg_next(g) % 2048) - 512) * 0x1p-4f;
    t[2] = t[0] + (float)(1 + lcg_next(g) % 512) * 0x1p-3f;
    t[3] = t[1] + (float)(1 + lcg_next(g) % 512) * 0x1p-3f;
    for (int k = 0; k < 4; k++)
        p[k] = t[k] + (float)((int32_t)(lcg_next(g) % 512) - 256) * 0x1p-5f;
    const uint32_t u = lcg_next(g);
    const int k = (int)(u >> 4) % 4, a = k % 2;
    switch (u & 15) {
    case 8: case 9: p[k] = t[k]; break;              /* a tie */
    case 10: memcpy(p, t, 4 * sizeof(float)); break; /* identical */
    case 11: p[a + 2] = p[a]; break;                 /* zero width / height */
    case 12: {                                       /* inverted */
        const float s = p[a];
        p[a] = p[a + 2];
        p[a + 2] = s;
        break;
    }
    case 13: /* beside the target along axis a: touching, or a gap */
        p[a] = t[a + 2] + (float)(u >> 16 & 63) * 0x1p-3f;
        p[a + 2] = p[a] + (float)(1 + (u >> 8 & 255)) * 0x1p-3f;
        break;
    case 14: /* inside the target */
        p[0] = t[0] + 0x1p-3f;
        p[1] = t[1] + 0x1p-3f;
        p[2] = t[2] - 0x1p-4f;
        p[3] = t[3] - 0x1p-4f;
        break;
    case 15: /* a box of its own near the target */
        p[0] = t[0] + (float)((int32_t)(u >> 8 & 255) - 128) * 0x1p-3f;
        p[1] = t[1] + (float)((int32_t)(u >> 16 & 255) - 128) * 0x1p-3f;
        p[2] = p[0] + (float)(1 + (u >> 24)) * 0x1p-2f;
        p[3] = p[1] + (float)(1 + (lcg_next(g) >> 24)) * 0x1p-2f;
        break;
    default:
        break;
    }
}

/* Exactly n elements (at least one byte): a read past the end is an
 * out-of-bounds access that ASan or valgrind would report. */
static void *xmalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    assert_non_null(p);
    return p;
}

/* Everything one shape of one family may read. */
typedef struct {
    size_t rows, classes, n;
    float *x, *t[NTARGETS], *score, *row_weight, *elem_weight, *class_alpha;
    float *pos_weight; /* max(n, classes): per class (sigmoid), per element (quality) */
    float *row_target; /* rows, in [0, classes - 1) (EP_ROW_TARGETS)                    */
    float *box_pred, *box_target; /* n: boxes x1, y1, x2, y2 (EP_REGRESSION)            */
    int32_t *sig_labels, *soft_labels;
    float *loss, *grad;
} inputs_t;

/* How a family's inputs are drawn: the 1.0 set draws logits, hard and soft
 * targets only (what its digest was committed with), the later families
 * every array below, in this order. */
enum golden_gen { GEN_1_0, GEN_1_1 };

static inputs_t make_inputs(size_t rows, size_t classes, uint64_t seed, enum golden_gen gen)
{
    inputs_t in;
    in.rows = rows;
    in.classes = classes;
    in.n = rows * classes;
    const size_t n = in.n;
    in.x = xmalloc(n, sizeof(float));
    in.t[T_HARD] = xmalloc(n, sizeof(float));
    in.t[T_SOFT] = xmalloc(n, sizeof(float));
    in.score = xmalloc(n, sizeof(float));
    in.elem_weight = xmalloc(n, sizeof(float));
    in.row_weight = xmalloc(rows, sizeof(float));
    in.class_alpha = xmalloc(classes, sizeof(float));
    in.sig_labels = xmalloc(rows, sizeof(int32_t));
    in.soft_labels = xmalloc(rows, sizeof(int32_t));
    /* A reduced loss is one float, even for n = 0. */
    in.loss = xmalloc(n ? n : 1, sizeof(float));
    in.grad = xmalloc(n, sizeof(float));
    /* pos_weight: max(n, classes), per class (sigmoid) or per element (quality) */
    const size_t npw = n > classes ? n : classes;
    in.pos_weight = xmalloc(npw, sizeof(float));
    in.row_target = xmalloc(rows, sizeof(float));
    in.box_pred = xmalloc(n, sizeof(float));
    in.box_target = xmalloc(n, sizeof(float));
    lcg_t g = {seed};
    if (gen == GEN_1_0) {
        for (size_t i = 0; i < n; i++) {
            in.x[i] = gen_logit(&g);
            in.t[T_HARD][i] = gen_hard(&g);
            in.t[T_SOFT][i] = gen_soft(&g);
        }
        return in;
    }
    for (size_t i = 0; i < n; i++) {
        in.x[i] = gen_logit(&g);
        in.t[T_HARD][i] = gen_hard(&g);
        in.t[T_SOFT][i] = gen_soft(&g);
        in.score[i] = gen_score(&g);
        in.elem_weight[i] = gen_weight(&g);
    }
    for (size_t r = 0; r < rows; r++) {
        in.row_weight[r] = gen_weight(&g);
        in.sig_labels[r] = gen_sigmoid_label(&g, classes);
        in.soft_labels[r] = gen_softmax_label(&g, classes);
    }
    for (size_t c = 0; c < classes; c++)
        in.class_alpha[c] = gen_class_alpha(&g, c);
    /* From a stream of their own: the 1.1 inputs above keep their bits. */
    lcg_t gp = {seed ^ 0x9e3779b97f4a7c15u};
    for (size_t i = 0; i < npw; i++)
        in.pos_weight[i] = gen_weight(&gp); /* [0, 4) in steps of 1/16, 0 included */
    /* 1.4's row targets: a stream of their own too. A bin, plus a fraction
     * in steps of 1/64 (0 one time in four). */
    lcg_t gt = {seed ^ 0xc2b2ae3d27d4eb4fu};
    for (size_t r = 0; r < rows; r++) {
        const uint64_t bin = classes > 1 ? lcg_next(&gt) % (classes - 1) : 0;
        const uint64_t frac = classes > 1 ? lcg_next(&gt) % 256 : 0;
        in.row_target[r] = (float)bin + (frac < 64 ? 0.0f : (float)(frac % 64) / 64.0f);
    }
    /* 1.5's boxes: a stream of their own too */
    lcg_t gb = {seed ^ 0x165667b19e3779f9u};
    for (size_t i = 0; i < n; i += 4) {
        float p[4], t[4];
        gen_box_pair(&gb, p, t);
        for (size_t k = 0; k < 4 && i + k < n; k++) {
            in.box_pred[i + k] = p[k];
            in.box_target[i + k] = t[k];
        }
    }
    return in;
}

static void free_inputs(inputs_t *in)
{
    free(in->x);
    free(in->t[T_HARD]);
    free(in->t[T_SOFT]);
    free(in->score);
    free(in->elem_weight);
    free(in->row_weight);
    free(in->class_alpha);
    free(in->pos_weight);
    free(in->row_target);
    free(in->box_pred);
    free(in->box_target);
    free(in->sig_labels);
    free(in->soft_labels);
    free(in->loss);
    free(in->grad);
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

/*
 * One pass over a family's calls. Calls are numbered in order; a pass either
 * makes a call and digests its outputs, or (dry runs, or calls under
 * min_elems) takes the call's digest from `ref` without making it.
 */
typedef struct {
    uint64_t h;          /* the family digest so far */
    size_t call;         /* index of the next call */
    uint64_t *per_call;  /* this pass's per-call digests (grown as needed) */
    size_t cap;
    const uint64_t *ref; /* another pass's per-call digests, or NULL */
    size_t ref_count;
    size_t min_elems;    /* make only calls with at least this many elements */
    int dry;             /* make no call at all: only describe one */
    size_t made;         /* calls made */
    size_t first_diff;   /* first call whose digest differs from ref, or SIZE_MAX */
    size_t want;         /* call to describe, or SIZE_MAX */
    char desc[256];
} pass_t;

static void pass_init(pass_t *p, const uint64_t *ref, size_t ref_count, size_t min_elems,
                      int dry, size_t want)
{
    memset(p, 0, sizeof *p);
    p->h = FNV_OFFSET;
    p->ref = ref;
    p->ref_count = ref_count;
    p->min_elems = min_elems;
    p->dry = dry;
    p->first_diff = SIZE_MAX;
    p->want = want;
}

static void describe(pass_t *p, const char *fmt, ...)
{
    if (p->call != p->want)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->desc, sizeof p->desc, fmt, ap);
    va_end(ap);
}

/* Whether the pass makes the next call (of `elems` elements). */
static int call_made(const pass_t *p, size_t elems)
{
    return !p->dry && elems >= p->min_elems;
}

static void call_digest(pass_t *p, int made, uint64_t c)
{
    if (!made)
        c = p->ref && p->call < p->ref_count ? p->ref[p->call] : 0;
    else if (p->ref && (p->call >= p->ref_count || p->ref[p->call] != c) &&
             p->first_diff == SIZE_MAX)
        p->first_diff = p->call;
    if (p->call == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 1024;
        p->per_call = realloc(p->per_call, p->cap * sizeof *p->per_call);
        assert_non_null(p->per_call);
    }
    p->per_call[p->call] = c;
    p->made += made != 0;
    p->h = fnv_u32(p->h, (uint32_t)c);
    p->h = fnv_u32(p->h, (uint32_t)(c >> 32));
    p->call++;
}

static void call_done(pass_t *p, int rc, const float *loss, size_t nloss, const float *grad,
                      size_t ngrad)
{
    uint64_t c = fnv_u32(FNV_OFFSET, (uint32_t)p->call);
    c = fnv_u32(c, (uint32_t)rc);
    if (rc == FOCAL_OK) {
        if (loss) c = fnv_floats(c, loss, nloss);
        if (grad) c = fnv_floats(c, grad, ngrad);
    }
    call_digest(p, 1, c);
}

/* Make the call `expr` (of `elems` elements, writing nloss losses to lp and
 * ngrad gradients to gp), or only count it. */
#define GOLDEN_CALL(p, elems, lp, nloss, gp, ngrad, expr)  \
    do {                                                   \
        if (call_made((p), (elems))) {                     \
            const int rc_ = (expr);                        \
            call_done((p), rc_, (lp), (nloss), (gp), (ngrad)); \
        } else {                                           \
            call_digest((p), 0, 0);                        \
        }                                                  \
    } while (0)

/* ---- families -------------------------------------------------------------- */

/* The option combinations: bit 0 class_alpha, 1 weight, 2 normalizer, 3 label
 * smoothing, as far as the entry point takes them (combo_options). */
enum { OPT_CLASS_ALPHA = 1, OPT_WEIGHT = 2, OPT_NORMALIZER = 4, OPT_SMOOTHING = 8 };
static const float alphas[] = {-1.0f, 0.25f, 0.9f, 0.0f, 1.0f};
#define NALPHAS (sizeof alphas / sizeof alphas[0])

/* Shapes up to FULL_ELEMS elements run every combination. Larger ones, up
 * to the thread pool's threshold, run SPARSE_CALLS calls: call i with
 * combination i, gamma i % 6, reduction i % 3, output (i / 3) % 3 (every
 * reduction with every output) and targets (i / 6) % 2 (every gamma with
 * hard and soft targets). Shapes past the threshold run LARGE_CALLS (run
 * again on 3 threads): every gamma, reduction and output, and each option
 * three times. */
#define FULL_ELEMS 1100
#define SPARSE_CALLS 16
#define LARGE_CALLS 6

/* A family: a descriptor and one of its golden families (entry_points.h). */
typedef struct {
    const focal_test_entry *owner;
    const ep_golden *g;
} family_t;

/* One family with its descriptors looked up. */
typedef struct {
    const family_t *f;
    const focal_test_entry *e[3];
    unsigned option_mask; /* OPT_* the entry points take */
    unsigned ncombos;     /* 2^(bits in option_mask) */
    int ntargets;         /* 2 (hard, soft) if a call reads float targets */
} family_run_t;

static const focal_test_entry *entry_named(const char *name)
{
    const focal_test_entry *e = ep_named(name);
    if (!e)
        fail_msg("golden: no entry point descriptor named %s", name);
    return e;
}

/* The options an entry point takes, from its flags: the 1.0 call none. */
static unsigned option_mask_of(const focal_test_entry *e)
{
    if (!(e->flags & EP_OPTIONS))
        return 0;
    return (e->flags & EP_CLASS_ALPHA ? OPT_CLASS_ALPHA : 0u) |
           (e->flags & EP_WEIGHT ? OPT_WEIGHT : 0u) | OPT_NORMALIZER |
           (e->flags & EP_SMOOTHING ? OPT_SMOOTHING : 0u);
}

static int reads_targets(const focal_test_entry *e)
{
    return !(e->flags & (EP_LABELS | EP_SCORES | EP_ROW_TARGETS | EP_REGRESSION));
}

static family_run_t family_run_of(const family_t *f)
{
    family_run_t r;
    r.f = f;
    r.ntargets = 1;
    for (int k = 0; k < 3; k++) {
        r.e[k] = f->g->turns[k] ? entry_named(f->g->turns[k]) : f->owner;
        if (reads_targets(r.e[k]))
            r.ntargets = NTARGETS;
    }
    r.option_mask = option_mask_of(r.e[0]);
    /* run_shape's combinations are one set for the whole family */
    for (int k = 1; k < 3; k++)
        if (option_mask_of(r.e[k]) != r.option_mask)
            fail_msg("golden family %s: its entry points take different options", f->g->name);
    r.ncombos = 1;
    for (unsigned m = r.option_mask; m; m &= m - 1)
        r.ncombos *= 2;
    return r;
}

/* Combination i (< ncombos) as OPT_* bits: i's bits, in order, on the bits
 * of the mask (row losses: i itself; element-wise: i << 1). */
static unsigned combo_options(unsigned mask, unsigned i)
{
    unsigned r = 0;
    for (unsigned b = 0; b < 4; b++)
        if (mask >> b & 1u) {
            if (i & 1u)
                r |= 1u << b;
            i >>= 1;
        }
    return r;
}

static void describe_call(pass_t *p, const focal_test_entry *e, const inputs_t *in,
                          const focal_options *opt, unsigned opts, int red, int out, int tk)
{
    describe(p, "%s, call %zu: %zu x %zu%s%s, gamma=%g, alpha=%g, %s, %s%s%s%s%s%s%s", e->name,
             p->call, in->rows, in->classes, reads_targets(e) ? ", targets " : "",
             reads_targets(e) ? target_names[tk] : "", (double)opt->gamma, (double)opt->alpha,
             red_names[red], out_names[out], opts & OPT_CLASS_ALPHA ? ", class_alpha" : "",
             opts & OPT_WEIGHT ? ", weight" : "", opts & OPT_NORMALIZER ? ", normalizer 37.5" : "",
             opts & OPT_SMOOTHING ? ", smoothing 0.1" : "", opt->pos_weight ? ", pos_weight" : "",
             opt->flags & FOCAL_FLAG_QUALITY_ALPHA ? ", quality alpha flag" : "");
}

/* Call p->call of the family: combination `combo`, gamma index ga, alpha,
 * reduction index red, output selection out, target kind tk (read only by
 * entry points of float targets). */
static void golden_call(pass_t *p, const family_run_t *fr, const inputs_t *in, unsigned combo,
                        size_t ga, float alpha, int red, int out, int tk)
{
    const unsigned turn = 1u << (p->call % 3);
    const focal_test_entry *e = fr->e[p->call % 3];
    const unsigned opts = combo_options(fr->option_mask, combo);
    focal_options opt;
    focal_options_init(&opt);
    opt.alpha = alpha;
    opt.gamma = gammas[ga];
    opt.reduction = reductions[red];
    if (opts & OPT_CLASS_ALPHA)
        opt.class_alpha = in->class_alpha;
    if (opts & OPT_WEIGHT)
        opt.weight = e->flags & EP_SCORES ? in->elem_weight : in->row_weight;
    if (opts & OPT_NORMALIZER)
        opt.normalizer = 37.5f;
    if (opts & OPT_SMOOTHING)
        opt.label_smoothing = 0.1f;
    if (fr->f->g->pos_weight_turns & turn)
        opt.pos_weight = in->pos_weight;
    if (fr->f->g->flag_turns & turn)
        opt.flags = FOCAL_FLAG_QUALITY_ALPHA;
    describe_call(p, e, in, &opt, opts, red, out, tk);

    const size_t nloss = ep_loss_len(e, in->rows, in->classes, reductions[red]);
    float *lp = out == OUT_GRAD ? NULL : in->loss;
    float *gp = out == OUT_LOSS ? NULL : in->grad;
    const float *x = e->flags & EP_REGRESSION ? in->box_pred : in->x;
    const float *t = NULL;
    const int32_t *labels = NULL;
    if (e->flags & EP_LABELS)
        labels = e->flags & EP_NO_BACKGROUND ? in->soft_labels : in->sig_labels;
    else
        t = e->flags & EP_REGRESSION ? in->box_target
            : e->flags & EP_SCORES ? in->score
            : e->flags & EP_ROW_TARGETS ? in->row_target
                                        : in->t[tk];
    const ep_args a = {x, t, labels, in->rows, in->classes, &opt, lp, gp, NULL};
    GOLDEN_CALL(p, in->n, lp, nloss, gp, in->n, e->call(&a));
}

static float call_alpha(const pass_t *p) { return alphas[p->call % NALPHAS]; }

static void run_shape(pass_t *p, const family_run_t *fr, const inputs_t *in)
{
    const unsigned ncombos = fr->ncombos;
    const int ntargets = fr->ntargets;
    if (in->n <= FULL_ELEMS) {
        for (unsigned combo = 0; combo < ncombos; combo++)
            for (int tk = 0; tk < ntargets; tk++)
                for (size_t ga = 0; ga < NGAMMAS; ga++)
                    for (int red = 0; red < NREDUCTIONS; red++)
                        for (int out = 0; out < NOUTS; out++)
                            golden_call(p, fr, in, combo, ga, call_alpha(p), red, out, tk);
    } else if (in->n < PARALLEL_ELEMS) {
        for (unsigned i = 0; i < SPARSE_CALLS; i++)
            golden_call(p, fr, in, i % ncombos, i % NGAMMAS, call_alpha(p), (int)(i % 3),
                        (int)(i / 3 % 3), (int)(i / NGAMMAS % (unsigned)ntargets));
    } else {
        /* 6 (reduction, output) pairs, each reduction and output twice. */
        static const unsigned combos[LARGE_CALLS] = {0, 15, 3, 12, 6, 9};
        for (unsigned i = 0; i < LARGE_CALLS; i++)
            golden_call(p, fr, in, combos[i] % ncombos, i % NGAMMAS, call_alpha(p), (int)(i % 3),
                        (int)((i + i / 3) % 3), (int)(i / 3 % (unsigned)ntargets));
    }
}

/* The 1.0 set: every call on every size, three alphas. */
static const float sig_alphas[] = {-1.0f, 0.25f, 0.9f};
#define NSIGALPHAS (sizeof sig_alphas / sizeof sig_alphas[0])

static void run_1_0(pass_t *p, const family_run_t *fr, const inputs_t *in)
{
    for (int tk = 0; tk < NTARGETS; tk++)
        for (size_t ga = 0; ga < NGAMMAS; ga++)
            for (size_t al = 0; al < NSIGALPHAS; al++)
                for (int red = 0; red < NREDUCTIONS; red++)
                    for (int out = 0; out < NOUTS; out++)
                        golden_call(p, fr, in, 0, ga, sig_alphas[al], red, out, tk);
}

static void run_family(pass_t *p, const family_run_t *fr)
{
    const ep_golden *g = fr->f->g;
    for (size_t si = 0; si < g->nshapes; si++) {
        const ep_shape *s = &g->shapes[si];
        if (s->shrink)
            fail_msg("golden family %s: a shape that shrinks (the digest fixes them)", g->name);
        const uint64_t seed = g->seed + (g->seed_by_elems ? s->rows * s->classes : si);
        inputs_t in = make_inputs(s->rows, s->classes, seed,
                                  g->sweep == EP_GOLDEN_1_0 ? GEN_1_0 : GEN_1_1);
        if (g->sweep == EP_GOLDEN_1_0)
            run_1_0(p, fr, &in);
        else
            run_shape(p, fr, &in);
        free_inputs(&in);
    }
}

/* Every golden family of every descriptor (collect_families). */
#define MAX_FAMILIES 64
static family_t families[MAX_FAMILIES];
static size_t nfamilies;

static void collect_families(void)
{
    nfamilies = 0;
    for (size_t i = 0; i < focal_test_entry_count; i++) {
        const focal_test_entry *e = focal_test_entries[i];
        for (size_t k = 0; k < e->ngolden; k++) {
            if (nfamilies == MAX_FAMILIES)
                abort();
            families[nfamilies].owner = e;
            families[nfamilies].g = &e->golden[k];
            nfamilies++;
        }
    }
}

/* ---- the test -------------------------------------------------------------- */

/* The scalar kernel's per-call digests, to name the first call another
 * kernel gets wrong (CMocka runs the tests in order, scalar first). */
static uint64_t *scalar_calls[MAX_FAMILIES];
static size_t scalar_counts[MAX_FAMILIES];

/* What call `call` of family f is. */
static const char *call_name(size_t f, size_t call, pass_t *scratch)
{
    pass_init(scratch, NULL, 0, 0, 1, call);
    snprintf(scratch->desc, sizeof scratch->desc, "call %zu (past the end)", call);
    const family_run_t fr = family_run_of(&families[f]);
    run_family(scratch, &fr);
    free(scratch->per_call);
    scratch->per_call = NULL;
    return scratch->desc;
}

static int set_threads(int n)
{
    const int rc = focal_set_num_threads(n);
    if (rc != FOCAL_OK)
        fail_msg("focal_set_num_threads(%d) returned %d", n, rc);
    return rc;
}

static void golden(void **state)
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

    const int is_scalar = strcmp(name, "scalar") == 0;
    int exact = 1;
#if defined(__x86_64__)
    /* Without FMA, "scalar" is the kernel built from SLEEF's non-FMA
     * functions: accurate, but not bit-identical by design (kernel_scalar.c). */
    __builtin_cpu_init();
    exact = !(is_scalar && !__builtin_cpu_supports("fma"));
#endif

    int wrong = 0;
    for (size_t f = 0; f < nfamilies; f++) {
        const family_t *fam = &families[f];
        const family_run_t fr = family_run_of(fam);
        set_threads(fam->g->default_threads ? 0 : 1);
        pass_t p, scratch;
        pass_init(&p, is_scalar ? NULL : scalar_calls[f], scalar_counts[f], 0, 0, SIZE_MAX);
        run_family(&p, &fr);
        print_message("[ DIGEST   ] golden/%s %s: 0x%016" PRIx64 " (%zu calls; committed 0x%016"
                      PRIx64 ")\n", name, fam->g->name, p.h, p.call, fam->g->digest);

        /* The same calls on 3 threads where the pool takes them. */
        for (int threads = 3; threads <= 3 && !fam->g->default_threads; threads++) {
            set_threads(threads);
            pass_t t;
            pass_init(&t, p.per_call, p.call, PARALLEL_ELEMS, 0, SIZE_MAX);
            run_family(&t, &fr);
            free(t.per_call);
            if (t.made == 0)
                fail_msg("%s has no call of %d elements or more", fam->g->name, PARALLEL_ELEMS);
            if (t.first_diff != SIZE_MAX || t.h != p.h) {
                print_error("kernel %s on %d threads differs from 1 thread first at %s\n", name,
                            threads, call_name(f, t.first_diff, &scratch));
                wrong = 1;
            } else {
                print_message("[ THREADS  ] golden/%s %s: its %zu calls of %d elements or more "
                              "give the same bits on %d threads\n", name, fam->g->name, t.made,
                              PARALLEL_ELEMS, threads);
            }
        }

        if (is_scalar && exact) {
            free(scalar_calls[f]);
            scalar_calls[f] = p.per_call;
            scalar_counts[f] = p.call;
            p.per_call = NULL;
        } else if (p.first_diff != SIZE_MAX) {
            print_error("kernel %s differs from scalar first at %s\n", name,
                        call_name(f, p.first_diff, &scratch));
            wrong = 1;
        }
        free(p.per_call);
        if (exact && p.h != fam->g->digest) {
            print_error("kernel %s, %s: digest 0x%016" PRIx64 ", committed 0x%016" PRIx64
                        " (golden_digest.h)\n", name, fam->g->name, p.h, fam->g->digest);
            wrong = 1;
        }
    }
    set_threads(0);
    if (!exact) {
        print_message("[ SKIPPED  ] golden/scalar: no FMA, the non-FMA scalar kernel is not "
                      "bit-exact by design\n");
        skip();
    }
    if (wrong)
        fail_msg("kernel %s does not reproduce the golden digests (see above)", name);
}

static int restore_auto(void **state)
{
    (void)state;
    focal_set_num_threads(0);
    return focal_set_isa("auto") == FOCAL_OK ? 0 : -1;
}

/* An optional argv[1] is a CMocka name filter, e.g. "golden/avx2". */
int main(int argc, char **argv)
{
    print_message("[ INFO     ] libfocal %s, automatic kernel: %s\n", focal_version_string(),
                  focal_isa());
    /* One case per kernel built into the library (focal_kernel_name, scalar
     * first): "golden/scalar", "golden/avx2"... */
    collect_families();
    if (nfamilies == 0) {
        print_error("no golden family in focal_test_entries[]\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        KERNEL_TESTS_TEARDOWN(golden, restore_auto),
    };
    const int rc = run_group("golden", tests, sizeof tests / sizeof tests[0], argc, argv);
    for (size_t f = 0; f < nfamilies; f++)
        free(scalar_calls[f]);
    return rc;
}
