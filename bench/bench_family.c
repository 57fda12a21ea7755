/* SPDX-License-Identifier: MIT */
/*
 * focal-bench: the other losses of the library, loss + gradient, MEAN, on
 * 1M elements (library on the bench's thread count, as the main table):
 *
 *   family/softmax_c80/<impl>    13107 rows x 80 classes (COCO), gamma 2
 *   family/softmax_c1000/<impl>  1048 rows x 1000 classes (ImageNet), gamma 2
 *   family/quality/<impl>        GFL's quality focal loss, gamma (beta) 2
 *   family/varifocal/<impl>      VFNet's varifocal loss, alpha 0.75, gamma 2
 *
 * <impl> is every kernel this CPU runs, and "textbook": the papers' formulas
 * in a plain libm loop at -O2 (baseline_family.c). Logits are the bench's
 * N(0, 3) clipped to [-15, 15]; scores its uniform soft targets with every
 * third set to 0 (negatives); labels uniform over the first 80 classes (the
 * cost does not depend on which class is the label).
 */
#include <math.h>
#include <stdlib.h>

#include <focal/focal.h>

#include "baselines.h"
#include "bench.h"
#include "bench_data.h"
#include "gbench_shim.h"

#define FAMILY_N (1u << 20)

typedef enum { FAM_SOFTMAX80, FAM_SOFTMAX1000, FAM_QUALITY, FAM_VARIFOCAL, FAM_COUNT } fam_case;

static const char *const fam_names[FAM_COUNT] = {"softmax_c80", "softmax_c1000", "quality",
                                                 "varifocal"};
static const char *const fam_titles[FAM_COUNT] = {
    "softmax focal, 80 classes, gamma 2, alpha 0.25",
    "softmax focal, 1000 classes, gamma 2, alpha 0.25",
    "quality focal (GFL), gamma 2",
    "varifocal (VFNet), alpha 0.75, gamma 2",
};

typedef struct {
    fam_case c;
    const bench_impl *impl; /* NULL: the textbook loop */
} fam_run;

static const bench_data *fam_data;
static int32_t *fam_labels;
static float *fam_scores;
static fam_run fam_runs[FAM_COUNT * 8];
static size_t fam_nruns;

static size_t fam_classes(fam_case c) { return c == FAM_SOFTMAX80 ? 80 : 1000; }

static int fam_call(const fam_run *r, float *loss)
{
    const bench_data *d = fam_data;
    const int softmax = r->c == FAM_SOFTMAX80 || r->c == FAM_SOFTMAX1000;
    const size_t classes = softmax ? fam_classes(r->c) : 1, rows = FAMILY_N / classes;
    if (!r->impl) {
        if (softmax)
            textbook_softmax(d->logits, fam_labels, rows, classes, 0.25f, 2.0f, loss, d->out);
        else if (r->c == FAM_QUALITY)
            textbook_quality(d->logits, fam_scores, FAMILY_N, 2.0f, loss, d->out);
        else
            textbook_varifocal(d->logits, fam_scores, FAMILY_N, 0.75f, 2.0f, loss, d->out);
        return 0;
    }
    focal_options o;
    focal_options_init(&o);
    if (softmax)
        return focal_softmax_labels(d->logits, fam_labels, rows, classes, &o, loss, d->out);
    if (r->c == FAM_QUALITY)
        return focal_quality_focal(d->logits, fam_scores, FAMILY_N, &o, loss, d->out);
    o.alpha = 0.75f;
    return focal_varifocal(d->logits, fam_scores, FAMILY_N, &o, loss, d->out);
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
        int rc = fam_call(r, &loss);
        if (rc != 0) {
            gb_skip_with_error(st, focal_strerror(rc));
            break;
        }
        gb_do_not_optimize(&loss);
        gb_clobber_memory();
    }
    gb_set_items_processed(st, gb_iterations(st) * (int64_t)FAMILY_N);
}

static void fam_name(char *buf, size_t len, const fam_run *r)
{
    snprintf(buf, len, "family/%s/%s", fam_names[r->c], r->impl ? r->impl->name : "textbook");
}

void bench_family_register(const bench_data *d)
{
    if (d->n < FAMILY_N)
        return;
    fam_data = d;
    fam_labels = malloc(FAMILY_N * sizeof *fam_labels);
    fam_scores = malloc(FAMILY_N * sizeof *fam_scores);
    if (!fam_labels || !fam_scores)
        return;
    unsigned long long s = 0x5eedfa11ull;
    for (size_t i = 0; i < FAMILY_N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        fam_labels[i] = (int32_t)((s >> 33) % 80); /* valid for both softmax cases */
        fam_scores[i] = i % 3 == 0 ? 0.0f : d->soft_targets[i];
    }
    char name[96];
    for (int c = 0; c < FAM_COUNT; c++)
        for (size_t k = 0; k <= bench_nimpls; k++) {
            const bench_impl *impl = k ? &bench_impls[k - 1] : NULL;
            if (impl && (!impl->isa || !impl->available))
                continue;
            fam_run *r = &fam_runs[fam_nruns++];
            r->c = (fam_case)c;
            r->impl = impl;
            fam_name(name, sizeof name, r);
            gb_unit(gb_register(name, run_family, r), GB_US);
        }
}

void bench_family_summary(FILE *out)
{
    char name[96];
    int printed = 0;
    for (int c = 0; c < FAM_COUNT; c++) {
        double base = NAN;
        for (size_t k = 0; k < fam_nruns; k++) {
            const fam_run *r = &fam_runs[k];
            if (r->c != (fam_case)c)
                continue;
            fam_name(name, sizeof name, r);
            const gb_result *res = gb_result_find(name);
            if (!res)
                continue;
            if (!printed++)
                fprintf(out, "\nfamily: other losses, loss + gradient, MEAN, n = 1M "
                             "(Melem/s, and x the textbook libm loop)\n");
            const double melem = (double)FAMILY_N / bench_result_ns(res) * 1e3;
            if (!r->impl) {
                base = melem;
                fprintf(out, "  %-50s %-9s %9.1f\n", fam_titles[c], "textbook", melem);
            } else {
                fprintf(out, "  %-50s %-9s %9.1f  %6.2fx\n", "", r->impl->name, melem,
                        melem / base);
            }
        }
    }
}

void bench_family_usage(FILE *out)
{
    for (int c = 0; c < FAM_COUNT; c++)
        fprintf(out, "    %-14s %s\n", fam_names[c], fam_titles[c]);
}
