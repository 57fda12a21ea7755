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
};
#define FAM_NCASES (sizeof bench_family_cases / sizeof bench_family_cases[0])
const size_t bench_family_ncases = FAM_NCASES;

typedef struct {
    const bench_family_case *c;
    const bench_impl *impl; /* NULL: the textbook loop */
} fam_run;

static const bench_data *fam_data;
static int32_t *fam_labels;
static float *fam_scores;
static float *fam_dfl_targets[FAM_NCASES]; /* DFL cases only */
static fam_run fam_runs[FAM_NCASES * 8];
static size_t fam_nruns;

size_t bench_family_elements(const bench_family_case *c) { return c->rows * c->classes; }

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
    gb_set_items_processed(st, gb_iterations(st) * (int64_t)bench_family_elements(r->c));
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
    char name[96];
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
                fprintf(out, "\nfamily: other losses, loss + gradient, MEAN, n = 1M or rows x "
                             "bins (Melem/s, and x the textbook libm loop)\n");
            const double melem = (double)bench_family_elements(fc) / bench_result_ns(res) * 1e3;
            if (!r->impl) {
                base = melem;
                fprintf(out, "  %-50s %-9s %9.1f\n", fc->title, "textbook", melem);
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
    for (size_t c = 0; c < FAM_NCASES; c++) {
        free(fam_dfl_targets[c]);
        fam_dfl_targets[c] = NULL;
    }
    fam_labels = NULL;
    fam_scores = NULL;
    fam_data = NULL;
}
