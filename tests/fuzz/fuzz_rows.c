/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the 1.1 row entry points, focal_sigmoid_labels and
 * focal_sigmoid_dense, with focal_options (class_alpha, weight, label
 * smoothing, normalizer, the size field, 1.2's pos_weight).
 *
 * Checked on every call:
 *   - the return code: FOCAL_OK exactly when no documented error applies;
 *     otherwise one of the errors that apply (any order: the header does
 *     not fix one among them), and FOCAL_ETARGET only when nothing else
 *     applies (it is found while writing, argument errors before);
 *   - every kernel the CPU runs returns the scalar kernel's code and, on
 *     FOCAL_OK, its bits;
 *   - nothing is written outside the outputs (canaries), read-only arrays
 *     and the options struct stay as they were, argument errors write
 *     nothing at all;
 *   - with options that add nothing to 1.0 (no class_alpha, weight,
 *     smoothing or normalizer) dense gives the bits of
 *     focal_sigmoid_loss_grad on the flattened arrays (documented);
 *   - labels without ignored rows give the bits of dense with the
 *     equivalent one-hot targets.
 *
 * The entry points are the descriptors named in rows_entries
 * (fuzz_options.h); their flags say what they read and which errors apply.
 *
 * Input layout (short inputs read as zeros past the end):
 *   [0]  bit 0 labels (else dense); bits 1-3 outputs % 6: 0 loss+grad,
 *        1 loss, 2 grad, 3 grad=logits, 4 grad=logits + loss, 5 neither;
 *        bit 4 opt = NULL; bits 5-6 threads (1, 2, 3, 1); bit 7 big
 *   [1]  rows: % 41, big: 1500 + byte
 *   [2]  classes: % 97, big: 88 + byte % 9 (big: past the pool's 8 blocks)
 *   [3]  alpha, gamma: < 16 a table entry, else 4 raw bytes follow
 *   [.]  reduction: < 3 itself, < 200: % 3, else a bad value
 *   [.]  normalizer, label_smoothing: < 16 a table entry, else 4 raw bytes
 *   [.]  bit 0 class_alpha, 1 weight, 2-3 options size (exact, too small,
 *        larger with a zero tail, larger with a nonzero tail), 4 make an
 *        output overlap weight / class_alpha, 5-6 target coding, 7 rows so
 *        large that rows x classes x 4 overflows size_t (FOCAL_ESIZE)
 *   [.]  codings: bits 0-1 logits, 2-3 class_alpha, 4-5 weight, 6-7 labels
 *   [.]  misalignment: logits | targets << 4; loss | grad << 4
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

static size_t overlap_room(const spec *c, size_t out_len)
{
    (void)out_len;
    return c->n;
}

/* Dense with options that add nothing must be 1.0's bits. */
static void check_vs_1_0(const spec *c, const result *ref)
{
    const focal_options *o = &c->box.opt;
    if (has(c, EP_LABELS) || ref->rc != FOCAL_OK || c->use_ca || c->use_w || c->overlap || c->use_pw)
        return;
    if (!c->opt_null && (o->label_smoothing > 0.0f || o->normalizer > 0.0f))
        return;
    const float alpha = c->opt_null ? 0.25f : o->alpha, gamma = c->opt_null ? 2.0f : o->gamma;
    const int red = effective_reduction(c);
    result r = { 0, NULL, NULL, ref->loss_n };
    r.loss = ref->loss ? malloc(ref->loss_n * sizeof(float) + 1) : NULL;
    r.grad = ref->grad ? malloc(c->n * sizeof(float) + 1) : NULL;
    float *x = malloc(c->n * sizeof(float) + 1);
    memcpy(x, c->x, c->n * sizeof(float));
    const int inplace = c->out == OUT_INPLACE || c->out == OUT_INPLACE_LOSS;
    r.rc = focal_sigmoid_loss_grad(x, c->t, c->n, alpha, gamma, red, r.loss,
                                   inplace ? x : r.grad);
    if (inplace && r.grad)
        memcpy(r.grad, x, c->n * sizeof(float));
    free(x);
    compare(c, "scalar", "dense with 1.0 options vs focal_sigmoid_loss_grad", &r, ref);
    result_free(&r);
}

/* Labels without ignored rows are one-hot dense targets. */
static void check_labels_vs_dense(spec *c, const result *ref)
{
    if (!has(c, EP_LABELS) || ref->rc != FOCAL_OK || c->overlap)
        return;
    for (size_t r = 0; r < c->rows; r++)
        if (c->lab[r] < 0)
            return;
    for (size_t r = 0; r < c->rows; r++)
        for (size_t k = 0; k < c->classes; k++)
            c->t[r * c->classes + k] = (int64_t)k == (int64_t)c->lab[r] ? 1.0f : 0.0f;
    const focal_test_entry *labels = c->e;
    c->e = entry_named("sigmoid_dense");
    unsigned mask;
    result d = run(c, "scalar", 1, &mask);
    c->e = labels;
    compare(c, "scalar", "labels vs dense one-hot", &d, ref);
    result_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader rd = { data, size, 0 };
    spec c;
    memset(&c, 0, sizeof c);
    static const int thread_choice[4] = { 1, 2, 3, 1 };

    const uint8_t a = rd8(&rd);
    c.e = entry_named(rows_entries[a & 1]);
    c.out = ((a >> 1) & 7) % 6;
    c.opt_null = (a >> 4) & 1;
    c.threads = thread_choice[(a >> 5) & 3];
    c.big = a >> 7;
    const uint8_t rb = rd8(&rd), cb = rd8(&rd);
    c.rows = c.big ? 1500 + (size_t)rb : rb % 41;
    c.classes = c.big ? 88 + (size_t)(cb % 9) : cb % 97;
    read_options(&c, &rd);
    const int target_mode = decode_flags(&c, rd8(&rd));
    const uint8_t codings = read_codings_offsets(&c, &rd);
    const payload pl = { data + rd.i, size - rd.i };

    if (c.overflow) {
        /* the call is told these; no buffer has any of it */
        c.call_rows = SIZE_MAX / 8 + rb;
        c.call_classes = c.classes = 5 + cb % 11;
        c.big = 0;
        c.rows = c.n = 0;
    } else {
        c.n = c.rows * c.classes;
        c.call_rows = c.rows;
        c.call_classes = c.classes;
    }
    settle_arrays(&c);
    set_lengths(&c);

    const size_t n = c.n, rows = c.rows;
    decode_arrays(&c, &pl, codings, rows, special_logits);
    for (size_t i = 0; i < n; i++) {
        const uint32_t v = p32(&pl, pl.n / 2 + 4 * i);
        switch (target_mode) {
        case 0: c.t[i] = (float)(v & 1); break;
        case 1: c.t[i] = (float)(v >> 8) / 16777216.0f; break;
        case 2: c.t[i] = (v & 0xff) < 96 ? 0.0f : (v & 0xff) < 192 ? 1.0f : (float)(v >> 8) / 16777216.0f; break;
        default: c.t[i] = (v & 0xff) < 250 ? (float)(v & 1) : float_of_bits(v); break;
        }
    }
    for (size_t r = 0; r < rows; r++) {
        const uint32_t u = p32(&pl, pl.n / 7 + 4 * r);
        switch ((codings >> 4) & 3) {
        case 0: case 1: c.w[r] = (float)(u & 0xff) / 64.0f; break;
        case 2: c.w[r] = (float)(int8_t)u; break;
        default: c.w[r] = float_of_bits(u); break;
        }
    }
    decode_labels(&c, &pl, codings, rows, 1); /* coding 0: -1..classes */
    decode_pos_weight(&c, &pl, pos_weight_len(&c)); /* one per class */

    options_fill(&c.box, c.alpha, c.gamma, c.reduction, c.normalizer, c.smoothing, c.size_variant,
                 rb, cb);

    result ref = run_reference(&c);
    if (!c.big && !c.overflow) {
        check_vs_1_0(&c, &ref);
        check_labels_vs_dense(&c, &ref);
    }
    run_kernels(&c, &ref, rb);
    return 0;
}
