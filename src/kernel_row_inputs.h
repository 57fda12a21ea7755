/* SPDX-License-Identifier: MIT */
/*
 * Part of the chunk driver (kernel_driver.h): the row options of the sigmoid
 * loss (docs/DESIGN.md §2.2) expanded into per-element arrays of one chunk.
 * Elements are rows x classes, row-major; the driver is told the flat index
 * of a chunk's first element. Labels, dense targets, label smoothing, class
 * alpha, row weights and BCE positive weights become the scratch arrays t,
 * apos, aneg, w, posw and keep;
 * with labels, each vector is also classified by the rows it covers
 * (rows_of) and the lane of its positive class (hit), both stored at the
 * index of the vector's first element.
 */
#ifndef FOCAL_KERNEL_ROW_INPUTS_H
#define FOCAL_KERNEL_ROW_INPUTS_H

#include "kernel_common.h"
#include "kernel_sigmoid_math.h"

/* With labels, what the rows under one vector are: all ignored (skipped:
 * outputs 0), all kept, or a mix (computed, then masked by keep[]). */
enum { FOCAL_VEC_IGNORED, FOCAL_VEC_KEPT, FOCAL_VEC_MIXED };

/* The row-structured inputs as locals, not prm->: the scratch stores could
 * alias *prm for all the compiler knows, and it would reload every field per
 * vector. What the form excludes is NULL / 0, so its code folds away. */
typedef struct {
    size_t classes;
    const int32_t *labels;
    const float *class_alpha, *weight, *pos_weight;
    int smoothing;
    float smooth_keep, smooth_add;
} focal_rows_in;

FOCAL_INLINE focal_rows_in rows_in(const focal_sigmoid_params *prm, const int form)
{
    const focal_rows_in in = {
        prm->classes, prm->labels,
        form == FOCAL_FORM_ROWS ? prm->class_alpha : NULL,
        form == FOCAL_FORM_ROWS ? prm->weight : NULL,
        form == FOCAL_FORM_ROWS ? prm->pos_weight : NULL,
        form == FOCAL_FORM_ROWS && prm->smoothing,
        prm->smooth_keep, prm->smooth_add,
    };
    return in;
}

/* A vector of hard label targets inside one row: 1 in lane `hit` (if >= 0),
 * else 0. Built straight from the label, not by comparing targets. */
FOCAL_INLINE focal_hardness label_classify(int hit, vm *is1, vm *hard)
{
    *is1 = focal_lane_mask(hit);
    *hard = v_eq(v_set(1.0f), v_set(1.0f));
    const focal_hardness h = { 1, 1 };
    return h;
}

/* Lanes j .. j + W - 1 of the chunk one by one: a vector that straddles rows
 * (or runs past m). Element j is column col of row `row`. Same IEEE
 * operations as the vector paths, so the bits agree. Returns the lanes whose
 * raw target was invalid. */
FOCAL_INLINE vm prepare_lanes(const float *t, size_t j, size_t m, size_t row, size_t col,
                              const focal_rows_in *in, focal_chunk_scratch *s)
{
    vm bad = m_none();
    if (in->labels)
        s->rows_of[j] = FOCAL_VEC_MIXED;
    for (size_t k = j; k < j + FOCAL_W; k++) {
        if (k >= m) { /* past the end: a harmless, discarded element */
            s->t[k] = 0.0f;
            s->apos[k] = s->aneg[k] = s->w[k] = s->posw[k] = 1.0f;
            s->keep[k] = 0.0f;
            continue;
        }
        const size_t r = row + (col + (k - j)) / in->classes;
        const size_t cl = (col + (k - j)) % in->classes;
        float tk;
        if (in->labels) {
            tk = (int64_t)cl == (int64_t)in->labels[r] ? 1.0f : 0.0f;
            s->keep[k] = in->labels[r] < 0 ? 0.0f : 1.0f;
        } else {
            tk = t[k];
            if (!(tk >= 0.0f && tk <= 1.0f))
                bad = m_or(bad, v_outside01(v_set(tk)));
        }
        s->t[k] = in->smoothing ? fmaf(tk, in->smooth_keep, in->smooth_add) : tk;
        if (in->class_alpha) {
            s->apos[k] = in->class_alpha[cl];
            s->aneg[k] = 1.0f - in->class_alpha[cl];
        }
        if (in->weight)
            s->w[k] = in->weight[r];
        if (in->pos_weight)
            s->posw[k] = in->pos_weight[cl];
    }
    return bad;
}

/*
 * The ROWS form's preparation: labels / targets, smoothing, class alpha, row
 * weights and positive weights into per-element arrays for one chunk, whose
 * first element has flat index `first`. A vector lying inside one row (the
 * common case: classes >= W) is built with vector ops from a broadcast label
 * and weight and contiguous slices of class_alpha and pos_weight; one that straddles rows (or the
 * partial last one) is built by prepare_lanes(). With labels, keep[] is only
 * written for vectors that straddle rows; the others are wholly kept or
 * wholly ignored (rows_of[]). Returns the lanes whose raw target was invalid.
 */
FOCAL_INLINE vm prepare_rows(const float *t, size_t first, size_t m,
                             const focal_rows_in *in, focal_chunk_scratch *s)
{
    const size_t classes = in->classes;
    const vf zero = v_set(0.0f), one = v_set(1.0f);
    const vf keep_add = v_set(in->smooth_add), keep_mul = v_set(in->smooth_keep);
    vm bad = m_none();
    /* One division per chunk; rows and columns then advance by counting. */
    size_t row = first / classes, col = first - row * classes;
    for (size_t j = 0; j < m; j += FOCAL_W) {
        if (j + FOCAL_W <= m && col + FOCAL_W <= classes) {
            vf tv;
            if (in->labels) {
                const int32_t label = in->labels[row];
                const int64_t lane = (int64_t)label - (int64_t)col;
                s->rows_of[j] = label < 0 ? FOCAL_VEC_IGNORED : FOCAL_VEC_KEPT;
                tv = v_select(focal_lane_mask(lane >= 0 && lane < FOCAL_W ? (int)lane : -1), one, zero);
            } else {
                tv = v_load(t + j);
                bad = m_or(bad, v_outside01(tv));
            }
            if (in->smoothing)
                tv = v_fma(tv, keep_mul, keep_add);
            v_store(s->t + j, tv);
            if (in->class_alpha) {
                const vf ca = v_load(in->class_alpha + col);
                v_store(s->apos + j, ca);
                v_store(s->aneg + j, v_sub(one, ca));
            }
            if (in->weight)
                v_store(s->w + j, v_set(in->weight[row]));
            if (in->pos_weight)
                v_store(s->posw + j, v_load(in->pos_weight + col));
        } else {
            bad = m_or(bad, prepare_lanes(t, j, m, row, col, in, s));
        }
        col += FOCAL_W;
        while (col >= classes) {
            col -= classes;
            row++;
        }
    }
    return bad;
}

/*
 * The LABELS form's preparation: per vector, which rows it covers
 * (rows_of[]) and the lane of its positive class (hit[]), which is all the
 * driver needs to know of its targets (label_classify()). It walks rows, not
 * vectors: a row of 80 classes sets 10 AVX2 vectors at once. Only vectors
 * that straddle rows are expanded lane by lane.
 */
FOCAL_INLINE void prepare_labels(size_t first, size_t m, const focal_rows_in *in,
                                 focal_chunk_scratch *s)
{
    const size_t classes = in->classes;
    size_t row = first / classes;
    /* The current row covers chunk elements [a, min(end, m)). */
    size_t a = 0, end = (row + 1) * classes - first;
    for (size_t j = 0; j < m; j += FOCAL_W)
        s->hit[j] = -1;
    while (a < m) {
        const size_t b = end < m ? end : m;
        const int32_t label = in->labels[row];
        const unsigned char rows_of = label < 0 ? FOCAL_VEC_IGNORED : FOCAL_VEC_KEPT;
        for (size_t j = a - a % FOCAL_W; j < b; j += FOCAL_W)
            s->rows_of[j] = rows_of;
        /* Chunk index of the positive element; wraps (and misses) when the
         * row began before the chunk and the label lies before it too. */
        const size_t at = end - classes + (size_t)label;
        if (label >= 0 && at >= a && at < b)
            s->hit[at - at % FOCAL_W] = (signed char)(at % FOCAL_W);
        if (a % FOCAL_W) { /* its first vector holds the end of rows before */
            const size_t j = a - a % FOCAL_W, r = (first + j) / classes;
            prepare_lanes(NULL, j, m, r, first + j - r * classes, in, s);
        }
        a = b;
        row++;
        end += classes;
    }
}

#endif /* FOCAL_KERNEL_ROW_INPUTS_H */
