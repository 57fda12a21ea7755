/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the rest of the loss family: focal_softmax_labels,
 * focal_quality_focal and focal_varifocal, with focal_options (class_alpha,
 * weight, label smoothing, normalizer, the size field; 1.2's pos_weight and
 * FOCAL_FLAG_QUALITY_ALPHA, which only the quality loss takes), and in slot
 * 3 every later descriptor (1.4: focal_distribution_focal, whose one target
 * per row is decoded by the score coding into [0, classes - 1), or past it;
 * 1.5: focal_box_iou_loss, one descriptor per kind, convention and eps,
 * rows of 4 coordinates, and focal_smooth_l1, element-wise, whose targets
 * the score coding decodes as any float, near the predictions or not).
 *
 * Checked on every call:
 *   - the return code: FOCAL_OK exactly when no documented error applies;
 *     otherwise one of the errors that apply (any order: the header does
 *     not fix one among them), and FOCAL_ETARGET (a score of the quality /
 *     varifocal losses outside [0, 1] or NaN) only when nothing else
 *     applies (it is found while writing, argument errors before);
 *   - every kernel the CPU runs returns the scalar kernel's code and, on
 *     FOCAL_OK, its bits, on the thread count the input asks for;
 *   - nothing is written outside the outputs (canaries), read-only arrays
 *     and the options struct stay as they were, argument errors write
 *     nothing at all;
 *   - what the header promises on FOCAL_OK: with finite logits, gamma <= 8
 *     and weights / normalizer that cannot overflow the float range by
 *     themselves, every gradient is finite ("finite for every gamma >= 0");
 *     losses are finite (softmax rows: when the true value, at most
 *     max - min of the row's logits plus log(classes), fits in a float) and
 *     >= 0 with non-negative weights; a reduced loss is not NaN unless MEAN
 *     divides by zero counted elements; softmax rows with a label < 0 have
 *     loss 0 and gradient 0.
 *
 * The entry points are descriptors (tests/entry_points.c): the call, what
 * it reads and the errors that apply come from their flags
 * (fuzz_options.h). Slot 3 takes the descriptors with focal_options that
 * no target names (family_entry): a loss added later is fuzzed here with
 * no code of its own, as an element-wise loss over scores or a row loss.
 *
 * Input layout (short inputs read as zeros past the end):
 *   [0]  bits 0-1 entry point: 0 softmax, 1 quality, 2 varifocal, 3 any
 *        other descriptor with focal_options (rows byte % their count, in
 *        the order of focal_test_entries[]; softmax while there is none);
 *        bits 2-4 outputs % 6: 0 loss+grad, 1 loss, 2 grad, 3 grad=logits,
 *        4 grad=logits + loss, 5 neither; bit 5 opt = NULL;
 *        bits 6-7 threads (1, 2, 3, 1)
 *   [1]  rows: % 41, big: 1500 + byte
 *   [2]  classes: % 41, big: 88 + byte % 9 (big: past the pool's 8 blocks);
 *        boxes: 4 (big: 32769 + 8 x the rows byte boxes);
 *        quality / varifocal take n = rows x classes elements
 *   [3]  alpha, gamma: < 16 a table entry, else 4 raw bytes follow
 *   [.]  reduction: < 3 itself, < 200: % 3, else a bad value
 *   [.]  normalizer, label_smoothing: < 16 a table entry, else 4 raw bytes
 *        (quality / varifocal: a smoothing entry below 12 means 0, so that
 *        most calls get past FOCAL_EOPTIONS)
 *   [.]  bit 0 class_alpha (quality / varifocal: only with class_alpha
 *        coding 3), 1 weight, 2-3 options size (exact, too small, larger
 *        with a zero tail, larger with a nonzero tail), 4 make an output
 *        overlap weight / class_alpha, 5-6 score coding, 7 sizes so large
 *        that the byte counts overflow size_t (FOCAL_ESIZE)
 *   [.]  0xB1: big (rare, as big inputs are slow to run), else small
 *   [.]  codings: bits 0-1 logits, 2-3 class_alpha, 4-5 weight, 6-7 labels
 *   [.]  misalignment: logits | scores << 4; loss | grad << 4
 *   rest payload, read cyclically.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

#include "fuzz_options.h"

/* fuzz_rows.c's special_logits with larger values in place of the small ones */
static const float family_logits[16] = {
    0.0f, -0.0f, INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, 1e-45f,
    88.7f, -88.7f, 104.0f, -104.0f, 1e30f, -1e30f, 16.0f, -87.3f,
};

static size_t overlap_room(const spec *c, size_t out_len)
{
    (void)c;
    return out_len;
}

/* Slots 0-2: family_entries; slot 3: the descriptors with focal_options
 * that neither target fixes a slot for, picked by the rows byte (softmax
 * while there is none), so that a new loss is fuzzed from its descriptor. */
static const focal_test_entry *family_entry(unsigned slot, uint8_t rb)
{
    if (slot < 3)
        return entry_named(family_entries[slot]);
    const focal_test_entry *rest[64];
    size_t nrest = 0;
    for (size_t i = 0; i < focal_test_entry_count && nrest < 64; i++) {
        const focal_test_entry *e = focal_test_entries[i];
        int fixed = !(e->flags & EP_OPTIONS);
        for (size_t k = 0; k < 3; k++)
            fixed |= strcmp(e->name, family_entries[k]) == 0;
        for (size_t k = 0; k < 2; k++)
            fixed |= strcmp(e->name, rows_entries[k]) == 0;
        if (!fixed)
            rest[nrest++] = e;
    }
    return nrest ? rest[rb % nrest] : entry_named(family_entries[0]);
}

/* What the header promises about an FOCAL_OK result (see the top comment). */
static void check_promises(const spec *c, const result *r)
{
    /* the regression losses promise no finite result for finite inputs:
     * an inverted box has a negative area, torchvision's CIoU divides by
     * a zero height (docs/DESIGN.md §2.8) */
    if (r->rc != FOCAL_OK || c->overlap || c->overflow || has(c, EP_REGRESSION))
        return;
    float alpha, gamma, normalizer, smoothing;
    int red;
    effective(c, &alpha, &gamma, &red, &normalizer, &smoothing);
    /* row losses: over labels (softmax) ignored rows; every row loss (DFL
     * too) a bounded row loss */
    const int softmax = has(c, EP_ROW_LOSS) && has(c, EP_LABELS);
    const int row_loss = has(c, EP_ROW_LOSS);
    const size_t classes = c->classes;

    /* Ignored softmax rows: loss 0, gradient 0 (whatever their logits), as
     * long as their weight and the gradient scale are finite numbers. */
    const int finite_scale = red == FOCAL_REDUCTION_NONE || normalizer == 0.0f || normalizer >= 1e-37f;
    for (size_t row = 0; softmax && finite_scale && row < c->rows; row++) {
        if (c->lab[row] >= 0 || (c->use_w && !isfinite(c->w[row])))
            continue;
        if (r->loss && red == FOCAL_REDUCTION_NONE && r->loss[row] != 0.0f) {
            fprintf(stderr, "loss[%zu] = %a\n", row, (double)r->loss[row]);
            describe(c, 1, row);
            fail(c, "reference", "an ignored row (label < 0) has a nonzero loss");
        }
        for (size_t k = 0; r->grad && k < classes; k++)
            if (r->grad[row * classes + k] != 0.0f) {
                fprintf(stderr, "grad[%zu] = %a\n", row * classes + k,
                        (double)r->grad[row * classes + k]);
                describe(c, 0, row * classes + k);
                fail(c, "reference", "an ignored row (label < 0) has a nonzero gradient");
            }
    }

    if (!(gamma <= 8.0f))
        return;
    for (size_t i = 0; i < c->n; i++)
        if (!isfinite(c->x[i]))
            return;
    /* weight x gradient / normalizer may overflow on its own: not a promise */
    if (red != FOCAL_REDUCTION_NONE && normalizer != 0.0f && normalizer < 0x1p-20f)
        return;
    int w_small = 1, w_nonneg = 1;
    for (size_t i = 0; c->use_w && i < c->w_n; i++) {
        if (!(fabsf(c->w[i]) <= 0x1p20f))
            return;
        w_small &= fabsf(c->w[i]) <= 1.0f;
        w_nonneg &= c->w[i] >= 0.0f;
    }
    /* A positive weight above 1 may make the loss inf at finite logits
     * (honestly: pw |x| past FLT_MAX), never the gradient, unless it is
     * huge itself. */
    for (size_t i = 0; c->use_pw && i < c->pw_n; i++) {
        if (!(c->pw[i] <= 0x1p20f))
            return;
        w_small &= c->pw[i] <= 1.0f;
    }
    for (size_t i = 0; r->grad && i < c->n; i++)
        if (!isfinite(r->grad[i])) {
            fprintf(stderr, "grad[%zu] = %a\n", i, (double)r->grad[i]);
            describe(c, 0, i);
            fail(c, "reference", "finite logits gave a non-finite gradient");
        }
    if (!r->loss || !w_small)
        return;
    /* A row loss is at most max - min + log(classes) (plus rounding;
     * DFL: its two weights add up to 1); beyond FLT_MAX / 2 it may round to
     * inf honestly. MEAN counts the kept rows (softmax), every row (DFL) or
     * every element. */
    size_t counted = row_loss ? 0 : c->n;
    for (size_t row = 0; row_loss && row < c->rows; row++) {
        if (softmax && c->lab[row] < 0)
            continue;
        counted++;
        double lo = INFINITY, hi = -INFINITY;
        for (size_t k = 0; k < classes; k++) {
            const double v = c->x[row * classes + k];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (hi - lo > FLT_MAX / 2.0)
            return;
    }
    if (red == FOCAL_REDUCTION_NONE) {
        for (size_t i = 0; i < c->loss_none_n; i++)
            if (!isfinite(r->loss[i]) || (w_nonneg && r->loss[i] < 0.0f)) {
                fprintf(stderr, "loss[%zu] = %a\n", i, (double)r->loss[i]);
                describe(c, 1, i);
                fail(c, "reference", "finite logits gave a non-finite or negative loss");
            }
    } else if (isnan(r->loss[0]) || (w_nonneg && r->loss[0] < 0.0f)) {
        const int empty_mean = red == FOCAL_REDUCTION_MEAN && normalizer == 0.0f && counted == 0;
        if (!(empty_mean && isnan(r->loss[0])))
            fail(c, "reference", "finite logits gave a NaN or negative reduced loss");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = { data, size, 0 };
    spec c;
    memset(&c, 0, sizeof c);
    static const int thread_choice[4] = { 1, 2, 3, 1 };

    const uint8_t a = rd8(&rd);
    c.out = ((a >> 2) & 7) % 6;
    c.opt_null = (a >> 5) & 1;
    c.threads = thread_choice[a >> 6];
    const uint8_t rb = rd8(&rd), cb = rd8(&rd);
    c.e = family_entry(a & 3, rb);
    const uint8_t sel = read_options(&c, &rd);
    if (!has(&c, EP_SMOOTHING) && sel < 12)
        c.smoothing = 0.0f;
    const int score_mode = decode_flags(&c, rd8(&rd));
    c.big = rd8(&rd) == 0xB1;
    const uint8_t codings = read_codings_offsets(&c, &rd);
    const payload pl = { data + rd.i, size - rd.i };

    /* class_alpha where the entry point takes none: only with coding 3 */
    if (!has(&c, EP_CLASS_ALPHA) && ((codings >> 2) & 3) != 3)
        c.use_ca = 0;
    c.rows = c.big ? 1500 + (size_t)rb : rb % 41;
    c.classes = c.big ? 88 + (size_t)(cb % 9) : cb % 41;
    /* boxes are rows of 4; big: past 8 blocks of 4096 boxes */
    if (has(&c, EP_BOXES)) {
        c.classes = 4;
        if (c.big)
            c.rows = 8 * 4096 + 1 + 8 * (size_t)rb;
    }
    if (c.overflow) {
        /* the call is told these; no buffer has any of it. Element-wise
         * entry points take n elements as n x 1. */
        c.classes = 5 + cb % 11;
        c.call_rows = has(&c, EP_SCORES) ? SIZE_MAX / 4 + 1 + rb : SIZE_MAX / 8 + rb;
        c.call_classes = has(&c, EP_SCORES) ? 1 : c.classes;
        c.rows = c.n = 0;
        c.big = 0;
    } else {
        c.n = c.rows * c.classes;
        c.call_rows = c.rows;
        c.call_classes = c.classes;
    }
    set_lengths(&c);
    settle_arrays(&c);

    const size_t rows = c.rows;
    decode_arrays(&c, &pl, codings, rows, family_logits);
    for (size_t i = 0; !has(&c, EP_ROW_TARGETS) && !has(&c, EP_REGRESSION) && i < c.t_n; i++) {
        const uint32_t v = p32(&pl, pl.n / 2 + 4 * i);
        const float soft_v = (float)(v >> 8) / 16777216.0f;
        switch (score_mode) {
        case 0: /* IoU-like: mostly 0, else a score in (0, 1] */
            c.s[i] = (v & 0xff) < 160 ? 0.0f : (v & 0xff) < 176 ? 1.0f : soft_v;
            break;
        case 1: c.s[i] = soft_v; break;
        case 2: /* 0, 1, or right at sigmoid(x) (where the quality factor is 0) */
            switch (v & 3) {
            case 0: c.s[i] = 0.0f; break;
            case 1: c.s[i] = 1.0f; break;
            case 2: c.s[i] = isnan(c.x[i]) ? 0.5f : 1.0f / (1.0f + expf(-c.x[i])); break;
            default: c.s[i] = nextafterf(isnan(c.x[i]) ? 0.5f : 1.0f / (1.0f + expf(-c.x[i])),
                                         (v & 4) ? 1.0f : 0.0f);
                break;
            }
            break;
        default: /* mostly valid, some raw bits: NaN, negative, > 1 */
            c.s[i] = (v & 0xff) < 240 ? ((v & 0x100) ? soft_v : (float)((v >> 9) & 1))
                                      : float_of_bits(v);
            break;
        }
    }
    /* Row targets (DFL): modes 0-2 valid (on a bin, anywhere, just below
     * the last bin), mode 3 mostly valid with raw bits (NaN, negative,
     * past the last bin) among them. */
    for (size_t r = 0; has(&c, EP_ROW_TARGETS) && r < c.t_n; r++) {
        const uint32_t v = p32(&pl, pl.n / 2 + 4 * r);
        const double u = (double)(v >> 8) / 16777216.0;
        const float last = (float)c.classes - 1.0f;
        switch (score_mode) {
        case 0: c.t[r] = floorf(ep_row_target(u, c.classes)); break;
        case 1: c.t[r] = ep_row_target(u, c.classes); break;
        case 2: c.t[r] = (v & 1) && c.classes > 1 ? nextafterf(last, 0.0f)
                                                  : ep_row_target(u, c.classes);
            break;
        default:
            c.t[r] = (v & 0xff) < 240 ? ep_row_target(u, c.classes)
                     : (v & 0xff) < 244 ? last
                                        : float_of_bits(v);
            break;
        }
    }
    /* Regression targets (1.5: boxes, smooth L1), any float: the score
     * coding picks 0 the prediction moved by an int8 / 4 (a tie when 0),
     * 1 the prediction itself (identical boxes), 2 a value of its own
     * (int16 / 256), 3 mostly the first, with raw bits (NaN, infinities,
     * huge) among them. */
    for (size_t i = 0; has(&c, EP_REGRESSION) && i < c.t_n; i++) {
        const uint32_t v = p32(&pl, pl.n / 2 + 4 * i);
        const float moved = c.x[i] + (float)(int8_t)(v >> 8) / 4.0f;
        switch (score_mode) {
        case 0: c.t[i] = moved; break;
        case 1: c.t[i] = c.x[i]; break;
        case 2: c.t[i] = (float)(int16_t)(v >> 8) / 256.0f; break;
        default: c.t[i] = (v & 0xff) < 224 ? moved : float_of_bits(v); break;
        }
    }
    for (size_t i = 0; i < c.w_n; i++) {
        const uint32_t u = p32(&pl, pl.n / 7 + 4 * i);
        switch ((codings >> 4) & 3) {
        case 0: c.w[i] = (float)(u & 0xff) / 64.0f; break;
        case 1: c.w[i] = (float)(u & 0xff) / 255.0f; break;
        case 2: c.w[i] = (float)(int8_t)u; break;
        default: c.w[i] = float_of_bits(u); break;
        }
    }
    decode_labels(&c, &pl, codings, rows, 0); /* coding 0: -1..classes-1 */
    /* 1.2: pos_weight (one an element; the other losses refuse it) and, in
     * one call of two with it, the quality loss's alpha flag (same bit). */
    decode_pos_weight(&c, &pl, pos_weight_len(&c));

    options_fill(&c.box, c.alpha, c.gamma, c.reduction, c.normalizer, c.smoothing, c.size_variant,
                 rb, cb);
    if (!c.opt_null && !c.overflow && (p32(&pl, pl.n / 11) & 4))
        c.box.opt.flags = FOCAL_FLAG_QUALITY_ALPHA;

    result ref = run_reference(&c);
    check_promises(&c, &ref);
    run_kernels(&c, &ref, rb);
    return 0;
}
