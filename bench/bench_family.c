/* SPDX-License-Identifier: MIT */
/*
 * focal-bench: the other losses of the library, loss + gradient, MEAN
 * (library on the bench's thread count, as the main table):
 *
 *   family/softmax_c80/<impl>    13107 rows x 80 classes (COCO), gamma 2
 *   family/softmax_c1000/<impl>  1048 rows x 1000 classes (ImageNet), gamma 2
 *   family/quality/<impl>        GFL's quality focal loss, gamma (beta) 2, 1M
 *   family/varifocal/<impl>      VFNet's varifocal loss, alpha 0.75, gamma 2, 1M
 *   family/dfl16_53760/<impl>    Distribution Focal Loss, 53760 rows x 16 bins
 *   family/dfl16_215040/<impl>   the same, 215040 rows
 *   family/dfl17_53760/<impl>    the same rows with 17 bins
 *   family/dfl17_215040/<impl>
 *   family/box_ciou_10k/<impl>   CIoU, torchvision's convention, 10000 boxes
 *   family/box_ciou_100k/<impl>  the same, 100000 boxes
 *   family/box_ciou_1m/<impl>    the same, 1000000 boxes
 *   family/box_giou_100k/<impl>  GIoU, torchvision's convention, 100000 boxes
 *   family/smooth_l1_400k/<impl> smooth L1, beta 1/9, 100000 boxes x 4
 *
 * The DFL rows are those of a YOLOv8 step at 640 px (8400 anchors an image,
 * 10% of them foreground, 4 box sides each): batch 16 (53760 rows) and
 * batch 64 (215040); 16 bins is Ultralytics' reg_max, 17 that of GFL,
 * YOLOv6 and PP-YOLOE (reg_max 16, bins 0..16).
 *
 * <impl> is every kernel this CPU runs, and "textbook": the papers' formulas
 * in a plain libm loop at -O2 (baseline_family.c). Logits are the bench's
 * N(0, 3) clipped to [-15, 15]; scores its uniform soft targets with every
 * third set to 0 (negatives); labels uniform over the first 80 classes (the
 * cost does not depend on which class is the label); DFL targets its
 * uniform soft targets times bins - 1, at most bins - 1.01 (Ultralytics'
 * clamp).
 *
 * The box cases (k and m decimal) count boxes in items/s, smooth L1 counts
 * elements. Their boxes are a detector's matched pairs, made once from the
 * bench's LCG (the smaller cases take prefixes): targets with x1, y1
 * uniform in [0, 600] and width, height in [4, 300]; a prediction is its
 * target with each coordinate moved by s times the box's width (x) or
 * height (y) times about N(0, 1), s uniform in [0.02, 0.18] (0.1 on
 * average) a box, and 2% of the predictions are misses, moved sideways by
 * 1.05 to 1.55 widths (disjoint: IoU 0). The IoU is then 0.47 at the 5th
 * percentile, 0.75 at the median and 0.96 at the 99th. No predicted
 * coordinate equals its target's (there min and max have no derivative and
 * the conventions pick one). Smooth L1 runs on regression deltas as mmdet's
 * coders encode them: targets about N(0, 1), predictions about 0.15 N(0, 1)
 * from them, so about half the elements on each side of beta = 1/9.
 */
#include <math.h>
#include <stdlib.h>

#include <focal/focal.h>

#include "baselines.h"
#include "bench.h"
#include "bench_data.h"
#include "gbench_shim.h"

#define FAMILY_N (1u << 20)

/* One list: every family/ case is a line here. */
const bench_family_case bench_family_cases[] = {
    {"softmax_c80", "softmax focal, 80 classes, gamma 2, alpha 0.25", BENCH_FAM_SOFTMAX,
     FAMILY_N / 80, 80},
    {"softmax_c1000", "softmax focal, 1000 classes, gamma 2, alpha 0.25", BENCH_FAM_SOFTMAX,
     FAMILY_N / 1000, 1000},
    {"quality", "quality focal (GFL), gamma 2", BENCH_FAM_QUALITY, FAMILY_N, 1},
    {"varifocal", "varifocal (VFNet), alpha 0.75, gamma 2", BENCH_FAM_VARIFOCAL, FAMILY_N, 1},
    {"dfl16_53760", "DFL, 53760 rows x 16 bins (YOLOv8, batch 16)", BENCH_FAM_DFL, 53760, 16},
    {"dfl16_215040", "DFL, 215040 rows x 16 bins (YOLOv8, batch 64)", BENCH_FAM_DFL, 215040, 16},
    {"dfl17_53760", "DFL, 53760 rows x 17 bins (GFL, YOLOv6)", BENCH_FAM_DFL, 53760, 17},
    {"dfl17_215040", "DFL, 215040 rows x 17 bins (GFL, YOLOv6)", BENCH_FAM_DFL, 215040, 17},
    {"box_ciou_10k", "CIoU (torchvision), 10000 boxes", BENCH_FAM_CIOU, 10000, 4},
    {"box_ciou_100k", "CIoU (torchvision), 100000 boxes", BENCH_FAM_CIOU, 100000, 4},
    {"box_ciou_1m", "CIoU (torchvision), 1000000 boxes", BENCH_FAM_CIOU, 1000000, 4},
    {"box_giou_100k", "GIoU (torchvision), 100000 boxes", BENCH_FAM_GIOU, 100000, 4},
    {"smooth_l1_400k", "smooth L1, beta 1/9, 100000 boxes x 4", BENCH_FAM_SMOOTH_L1, 100000,
     4},
};
#define FAM_NCASES (sizeof bench_family_cases / sizeof bench_family_cases[0])
const size_t bench_family_ncases = FAM_NCASES;

#define BOX_EPS 1e-7f             /* torchvision's eps */
#define SMOOTH_L1_BETA (1.0f / 9) /* mmdet's RetinaNet and RPN */

typedef struct {
    const bench_family_case *c;
    const bench_impl *impl; /* NULL: the textbook loop */
} fam_run;

static const bench_data *fam_data;
static int32_t *fam_labels;
static float *fam_scores;
static float *fam_dfl_targets[FAM_NCASES]; /* DFL cases only */
static float *fam_box_pred, *fam_box_target; /* the box cases' boxes x 4 (prefixes) */
static float *fam_sl1_pred, *fam_sl1_target; /* smooth L1's elements (prefixes) */
static fam_run fam_runs[FAM_NCASES * 8];
static size_t fam_nruns;

size_t bench_family_elements(const bench_family_case *c) { return c->rows * c->classes; }

static int fam_is_box(const bench_family_case *c)
{
    return c->loss == BENCH_FAM_CIOU || c->loss == BENCH_FAM_GIOU;
}

size_t bench_family_items(const bench_family_case *c)
{
    return fam_is_box(c) ? c->rows : bench_family_elements(c);
}

/* The bench's LCG: uniform in [0, 1) from its top 24 bits, and about
 * N(0, 1) as the centred sum of four of them (arithmetic only, so the same
 * inputs on every machine and libm). */
static float fam_uniform(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(*s >> 40) * 0x1p-24f;
}

static float fam_normal(unsigned long long *s)
{
    const float sum = fam_uniform(s) + fam_uniform(s) + fam_uniform(s) + fam_uniform(s);
    return (sum - 2.0f) * 1.7320508f;
}

/* A predicted coordinate: the target's moved by `by`, never equal to it. */
static float fam_moved(float t, float by)
{
    const float p = t + by;
    return p == t ? nextafterf(t, INFINITY) : p;
}

/* The box cases' inputs (see the top of the file): boxes pairs and n
 * smooth L1 elements. */
static int fam_box_init(size_t boxes, size_t n)
{
    fam_box_pred = malloc(boxes * 4 * sizeof *fam_box_pred);
    fam_box_target = malloc(boxes * 4 * sizeof *fam_box_target);
    fam_sl1_pred = malloc(n * sizeof *fam_sl1_pred);
    fam_sl1_target = malloc(n * sizeof *fam_sl1_target);
    if (!fam_box_pred || !fam_box_target || !fam_sl1_pred || !fam_sl1_target)
        return -1;
    unsigned long long s = 0xb0c5b0c5ull;
    for (size_t b = 0; b < boxes; b++) {
        float *p = fam_box_pred + 4 * b, *t = fam_box_target + 4 * b;
        const float x1 = 600.0f * fam_uniform(&s), y1 = 600.0f * fam_uniform(&s);
        const float w = 4.0f + 296.0f * fam_uniform(&s), h = 4.0f + 296.0f * fam_uniform(&s);
        t[0] = x1;
        t[1] = y1;
        t[2] = x1 + w;
        t[3] = y1 + h;
        const float sw = (0.02f + 0.16f * fam_uniform(&s)) * w;
        const float sh = sw / w * h;
        float shift = 0.0f;
        if (fam_uniform(&s) < 0.02f) { /* a miss: beside its target */
            const float side = fam_uniform(&s) < 0.5f ? -1.0f : 1.0f;
            shift = side * (1.05f + 0.5f * fam_uniform(&s)) * w;
        }
        p[0] = fam_moved(t[0], shift + sw * fam_normal(&s));
        p[1] = fam_moved(t[1], sh * fam_normal(&s));
        p[2] = fam_moved(t[2], shift + sw * fam_normal(&s));
        p[3] = fam_moved(t[3], sh * fam_normal(&s));
    }
    for (size_t i = 0; i < n; i++) {
        fam_sl1_target[i] = fam_normal(&s);
        fam_sl1_pred[i] = fam_sl1_target[i] + 0.15f * fam_normal(&s);
    }
    return 0;
}

int bench_family_init(const bench_data *d)
{
    size_t most = FAMILY_N;
    for (size_t c = 0; c < FAM_NCASES; c++) {
        const size_t e = bench_family_elements(&bench_family_cases[c]);
        most = e > most ? e : most;
    }
    if (d->n < most)
        return -1;
    fam_labels = malloc(FAMILY_N * sizeof *fam_labels);
    fam_scores = malloc(FAMILY_N * sizeof *fam_scores);
    if (!fam_labels || !fam_scores) {
        bench_family_free();
        return -1;
    }
    unsigned long long s = 0x5eedfa11ull;
    for (size_t i = 0; i < FAMILY_N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        fam_labels[i] = (int32_t)((s >> 33) % 80); /* valid for both softmax cases */
        fam_scores[i] = i % 3 == 0 ? 0.0f : d->soft_targets[i];
    }
    size_t boxes = 0, sl1 = 0;
    for (size_t c = 0; c < FAM_NCASES; c++) {
        const bench_family_case *fc = &bench_family_cases[c];
        const size_t e = bench_family_elements(fc);
        if (fam_is_box(fc))
            boxes = fc->rows > boxes ? fc->rows : boxes;
        else if (fc->loss == BENCH_FAM_SMOOTH_L1)
            sl1 = e > sl1 ? e : sl1;
    }
    if (fam_box_init(boxes, sl1) != 0) {
        bench_family_free();
        return -1;
    }
    for (size_t c = 0; c < FAM_NCASES; c++) {
        const bench_family_case *fc = &bench_family_cases[c];
        if (fc->loss != BENCH_FAM_DFL)
            continue;
        float *t = fam_dfl_targets[c] = malloc(fc->rows * sizeof *t);
        if (!t) {
            bench_family_free();
            return -1;
        }
        const float top = (float)(fc->classes - 1), hi = top - 0.01f;
        for (size_t r = 0; r < fc->rows; r++)
            t[r] = fminf(d->soft_targets[r] * top, hi);
    }
    fam_data = d;
    return 0;
}

int bench_family_call(const bench_family_case *c, const bench_impl *impl, size_t rows,
                      float *loss, float *grad)
{
    const bench_data *d = fam_data;
    const float *t = fam_dfl_targets[c - bench_family_cases];
    const size_t n = rows * c->classes; /* elements; rows for quality and varifocal */
    if (!d)
        return FOCAL_ENULL;
    if (!impl) {
        switch (c->loss) {
        case BENCH_FAM_SOFTMAX:
            textbook_softmax(d->logits, fam_labels, rows, c->classes, 0.25f, 2.0f, loss, grad);
            break;
        case BENCH_FAM_QUALITY:
            textbook_quality(d->logits, fam_scores, n, 2.0f, loss, grad);
            break;
        case BENCH_FAM_VARIFOCAL:
            textbook_varifocal(d->logits, fam_scores, n, 0.75f, 2.0f, loss, grad);
            break;
        case BENCH_FAM_DFL:
            textbook_dfl(d->logits, t, rows, c->classes, loss, grad);
            break;
        case BENCH_FAM_CIOU:
            textbook_ciou(fam_box_pred, fam_box_target, rows, BOX_EPS, loss, grad);
            break;
        case BENCH_FAM_GIOU:
            textbook_giou(fam_box_pred, fam_box_target, rows, BOX_EPS, loss, grad);
            break;
        case BENCH_FAM_SMOOTH_L1:
            textbook_smooth_l1(fam_sl1_pred, fam_sl1_target, n, SMOOTH_L1_BETA, loss, grad);
            break;
        }
        return 0;
    }
    focal_options o;
    focal_options_init(&o);
    switch (c->loss) {
    case BENCH_FAM_SOFTMAX:
        return focal_softmax_labels(d->logits, fam_labels, rows, c->classes, &o, loss, grad);
    case BENCH_FAM_QUALITY:
        return focal_quality_focal(d->logits, fam_scores, n, &o, loss, grad);
    case BENCH_FAM_VARIFOCAL:
        o.alpha = 0.75f;
        return focal_varifocal(d->logits, fam_scores, n, &o, loss, grad);
    case BENCH_FAM_DFL:
        return focal_distribution_focal(d->logits, t, rows, c->classes, &o, loss, grad);
    case BENCH_FAM_CIOU:
        return focal_box_iou_loss(fam_box_pred, fam_box_target, rows, FOCAL_BOX_CIOU,
                                  FOCAL_BOXES_TORCHVISION, BOX_EPS, &o, loss, grad);
    case BENCH_FAM_GIOU:
        return focal_box_iou_loss(fam_box_pred, fam_box_target, rows, FOCAL_BOX_GIOU,
                                  FOCAL_BOXES_TORCHVISION, BOX_EPS, &o, loss, grad);
    case BENCH_FAM_SMOOTH_L1:
        return focal_smooth_l1(fam_sl1_pred, fam_sl1_target, n, SMOOTH_L1_BETA, &o, loss, grad);
    }
    return FOCAL_EOPTIONS;
}

static void run_family(gb_state *st, void *user)
{
    const fam_run *r = user;
    float loss = 0.0f;
    if (r->impl && focal_set_isa(r->impl->isa) != FOCAL_OK) {
        gb_skip_with_error(st, "kernel not available on this CPU");
        return;
    }
    while (gb_keep_running(st)) {
        int rc = bench_family_call(r->c, r->impl, r->c->rows, &loss, fam_data->out);
        if (rc != 0) {
            gb_skip_with_error(st, focal_strerror(rc));
            break;
        }
        gb_do_not_optimize(&loss);
        gb_clobber_memory();
    }
    gb_set_items_processed(st, gb_iterations(st) * (int64_t)bench_family_items(r->c));
}

static void fam_name(char *buf, size_t len, const fam_run *r)
{
    snprintf(buf, len, "family/%s/%s", r->c->name, r->impl ? r->impl->name : "textbook");
}

void bench_family_register(void)
{
    if (!fam_data)
        return; /* no inputs (reported at start-up) */
    char name[96];
    for (size_t c = 0; c < FAM_NCASES; c++)
        for (size_t k = 0; k <= bench_nimpls; k++) {
            const bench_impl *impl = k ? &bench_impls[k - 1] : NULL;
            if (impl && (!impl->isa || !impl->available))
                continue;
            if (fam_nruns == sizeof fam_runs / sizeof fam_runs[0])
                break;
            fam_run *r = &fam_runs[fam_nruns++];
            r->c = &bench_family_cases[c];
            r->impl = impl;
            fam_name(name, sizeof name, r);
            gb_unit(gb_register(name, run_family, r), GB_US);
        }
}

void bench_family_summary(FILE *out)
{
    char name[96], label[96];
    int printed = 0;
    for (size_t c = 0; c < FAM_NCASES; c++) {
        const bench_family_case *fc = &bench_family_cases[c];
        double base = NAN;
        for (size_t k = 0; k < fam_nruns; k++) {
            const fam_run *r = &fam_runs[k];
            if (r->c != fc)
                continue;
            fam_name(name, sizeof name, r);
            const gb_result *res = gb_result_find(name);
            if (!res)
                continue;
            if (!printed++)
                fprintf(out, "\nfamily: other losses, loss + gradient, MEAN, n = 1M, rows x "
                             "bins or boxes (Melem/s, Mbox/s for the IoU box losses; and x "
                             "the textbook libm loop)\n");
            const double melem = (double)bench_family_items(fc) / bench_result_ns(res) * 1e3;
            if (!r->impl) {
                base = melem;
                snprintf(label, sizeof label, "%s%s", fc->title,
                         fam_is_box(fc) ? " (Mbox/s)" : "");
                fprintf(out, "  %-50s %-9s %9.1f\n", label, "textbook", melem);
            } else {
                fprintf(out, "  %-50s %-9s %9.1f  %6.2fx\n", "", r->impl->name, melem,
                        melem / base);
            }
        }
    }
}

void bench_family_usage(FILE *out)
{
    for (size_t c = 0; c < FAM_NCASES; c++)
        fprintf(out, "    %-14s %s\n", bench_family_cases[c].name, bench_family_cases[c].title);
}

void bench_family_free(void)
{
    free(fam_labels);
    free(fam_scores);
    free(fam_box_pred);
    free(fam_box_target);
    free(fam_sl1_pred);
    free(fam_sl1_target);
    fam_box_pred = fam_box_target = fam_sl1_pred = fam_sl1_target = NULL;
    for (size_t c = 0; c < FAM_NCASES; c++) {
        free(fam_dfl_targets[c]);
        fam_dfl_targets[c] = NULL;
    }
    fam_labels = NULL;
    fam_scores = NULL;
    fam_data = NULL;
}
