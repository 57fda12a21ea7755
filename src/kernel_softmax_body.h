/* SPDX-License-Identifier: MIT */
/*
 * The softmax focal loss with one class index per row, over the vocabulary of
 * kernel_body.h. Per row (classes C, label l, smoothed one-hot y', a_c the
 * class weight), with z_c = x_c - max, S = sum_c exp(z_c):
 *
 *   p_c    = exp(z_c) / S
 *   q_c    = 1 - p_c: (S - 1) / S for a class at the maximum (from the shared
 *            row scalars, never 1 - p), else 1 - p_c (p_c <= 1/2 there)
 *   -log p_c = log S - z_c, log S = log1p(S - 1)
 *   loss   = sum_c y'_c a_c q_c^g (-log p_c)
 *   u_c    = -y'_c a_c q_c^g (1 + g p_c (-log p_c) / q_c)   (= p_c dloss/dp_c)
 *   dL/dx_j = u_j - p_j sum_c u_c = u_j q_j - p_j (U - u_j),  U = sum_c u_c
 *
 * The last form has no cancellation for one-hot targets (U - u_j is then
 * exactly 0 or U), and -log p / q -> 1 as q -> 0 keeps the gradient finite
 * for every gamma >= 0. Sums over a row (S, the loss, U) go to logical lane
 * c % 16 in double and are folded by focal_lane_tree(), so they do not depend
 * on the vector width; row losses are added in row order.
 *
 * A row is walked in segments of FOCAL_SOFTMAX_SEG classes held in scratch;
 * rows longer than that recompute exp(z) per pass (the same operations, so
 * the same bits). Limits: equal logits share the probability, +inf ones
 * included (the limit of equal large logits); -inf logits have p = 0; a NaN
 * logit makes its whole row NaN.
 */

#define FOCAL_SOFTMAX_SEG 1024 /* a multiple of 16: segments keep lane = c % 16 */

typedef struct {
    _Alignas(64) float e[FOCAL_SOFTMAX_SEG];  /* exp(z)                          */
    _Alignas(64) float u[FOCAL_SOFTMAX_SEG];  /* u_c                             */
    _Alignas(64) float qg[FOCAL_SOFTMAX_SEG]; /* q^gamma, gamma outside 0..3     */
} focal_softmax_scratch;

/* The per-row constants, as vectors. */
typedef struct {
    vf m, log_s, inv_s, q_max, log_q_max, log_q_max_lo, y_hit, y_miss, alpha;
    int64_t label;
    int one_hot; /* no smoothing: y' = 0 off the label */
} focal_softmax_rowc;

/* Does the vector at class `first` hold the label? */
FOCAL_INLINE int softmax_has_label(const focal_softmax_rowc *rc, size_t first)
{
    const int64_t d = rc->label - (int64_t)first;
    return d >= 0 && d < FOCAL_W;
}

FOCAL_INLINE int softmax_slot(size_t j)
{
    return (int)((j / FOCAL_W) % (FOCAL_LANES / FOCAL_W));
}

/* z = x - max, exactly 0 for every logit equal to the maximum (infinite too). */
FOCAL_INLINE vf softmax_z(vf x, vf m, const focal_consts *c)
{
    return v_select(v_eq(x, m), c->zero, v_sub(x, m));
}

/* The row's maximum (order-free), and whether the row holds a NaN. */
FOCAL_INLINE float softmax_row_max(const float *x, size_t classes, int *has_nan)
{
    vf mx = v_set(-INFINITY);
    vm nan = m_none();
    size_t j = 0;
    for (; j + FOCAL_W <= classes; j += FOCAL_W) {
        const vf xv = v_load(x + j);
        nan = m_or(nan, v_isnan(xv));
        mx = v_max(xv, mx);
    }
    float lanes[FOCAL_W], m = -INFINITY;
    v_store(lanes, mx);
    for (int k = 0; k < FOCAL_W; k++)
        m = lanes[k] > m ? lanes[k] : m;
    int bad = m_any(nan);
    for (; j < classes; j++) {
        bad |= isnan(x[j]);
        m = x[j] > m ? x[j] : m;
    }
    *has_nan = bad;
    return m;
}

/* Call loop: e = exp(z) of one segment into scratch. */
FOCAL_INLINE void softmax_exp(const float *x, size_t len, vf m, const focal_consts *c,
                              focal_softmax_scratch *s)
{
    for (size_t j = 0; j < len; j += FOCAL_W)
        v_store(s->e + j, v_exp(softmax_z(load_in(x, j, len), m, c)));
}

/* p and q of the elements with e = exp(z). */
FOCAL_INLINE vf softmax_q(vf e, vf p, const focal_softmax_rowc *rc, const focal_consts *c)
{
    return v_select(v_eq(e, c->one), rc->q_max, v_sub(c->one, p));
}

/*
 * u_c of one segment into scratch, and (accumulate) the loss and U lanes.
 * x, class_alpha: the segment's first class, `first` its index in the row.
 */
FOCAL_INLINE void softmax_terms(const float *x, const float *class_alpha, size_t first,
                                size_t len, const focal_softmax_rowc *rc, const focal_consts *c,
                                focal_softmax_scratch *s, vacc *acc_l, vacc *acc_u,
                                const int gamma_kind, const int want_grad, const int accumulate)
{
    size_t j;
    if (gamma_kind == FOCAL_GAMMA_ANY) {
        /* q^g = exp(g log q); log q of the top classes from the row scalars. */
        for (j = 0; j < len; j += FOCAL_W) {
            if (rc->one_hot && !softmax_has_label(rc, first + j))
                continue; /* not read: y' a = 0 there */
            const vf e = v_load(s->e + j);
            const vm top = v_eq(e, c->one);
            const vf q = softmax_q(e, v_mul(e, rc->inv_s), rc, c);
            const vf lq = v_select(top, rc->log_q_max, v_log(q));
            const vf lo = v_select(top, rc->log_q_max_lo, c->zero);
            const vf y = v_mul(c->gamma, lq);
            const vf y_lo = v_fma(c->gamma, lo, v_fma(c->gamma, lq, v_neg(y)));
            const vf ey = v_exp(y);
            v_store(s->qg + j, v_select(v_eq(ey, c->zero), c->zero, v_fma(ey, y_lo, ey)));
        }
    }
    for (j = 0; j < len; j += FOCAL_W) {
        if (rc->one_hot && !softmax_has_label(rc, first + j)) {
            /* y' a = +0 everywhere here, q^g and the ratio are finite: the
             * general path would give term = +0 and u = -0, so write u.
             * Adding +-0 to a lane changes nothing (a lane starts at +0 and
             * round-to-nearest never makes it -0), so nothing is added. */
            if (want_grad)
                v_store(s->u + j, v_set(-0.0f));
            continue;
        }
        const vf e = v_load(s->e + j);
        const vf p = v_mul(e, rc->inv_s);
        const vf q = softmax_q(e, p, rc, c);
        const vf nlogp = v_sub(rc->log_s, softmax_z(load_in(x, j, len), rc->m, c));
        vf qg;
        if (gamma_kind == FOCAL_GAMMA_0) qg = c->one;
        else if (gamma_kind == FOCAL_GAMMA_1) qg = q;
        else if (gamma_kind == FOCAL_GAMMA_2) qg = v_mul(q, q);
        else if (gamma_kind == FOCAL_GAMMA_3) qg = v_mul(v_mul(q, q), q);
        else qg = v_load(s->qg + j);

        /* y' a: the label's lane found by its offset in this vector (exact
         * for any number of classes). */
        vf ya = rc->y_miss;
        if (softmax_has_label(rc, first + j))
            ya = v_select(v_eq(v_load(focal_iota), v_set((float)(rc->label - (int64_t)(first + j)))),
                          rc->y_hit, rc->y_miss);
        ya = v_mul(ya, class_alpha ? load_in(class_alpha, j, len) : rc->alpha);
        /* A weight of -0 (alpha or class_alpha) must act as +0: the skipped
         * vectors above write u = -0, and which classes are skipped depends
         * on the vector width, so y' a = -0 would make u's sign differ
         * between kernels. */
        ya = v_select(v_eq(ya, c->zero), c->zero, ya);
        const vf yq = v_mul(ya, qg);
        /* Classes with y' a = 0 contribute nothing, even where -log p = inf. */
        vf term = v_select(v_eq(ya, c->zero), c->zero, v_mul(yq, nlogp));

        if (want_grad) {
            vf u = v_neg(yq);
            if (gamma_kind != FOCAL_GAMMA_0) {
                /* p (-log p) / q: 0 where p = 0 (x = -inf), 1 where q = 0 */
                vf ratio = v_div(v_mul(p, nlogp), q);
                ratio = v_select(v_eq(p, c->zero), c->zero, ratio);
                ratio = v_select(v_eq(q, c->zero), c->one, ratio);
                u = v_neg(v_mul(yq, v_fma(c->gamma, ratio, c->one)));
            }
            v_store(s->u + j, u);
            if (accumulate)
                acc_add(acc_u, softmax_slot(j), j + FOCAL_W <= len ? u : v_keep_n(u, len - j));
        }
        if (accumulate) {
            if (j + FOCAL_W > len)
                term = v_keep_n(term, len - j);
            acc_add(acc_l, softmax_slot(j), term);
        }
    }
}

/* dL/dx of one segment: (u q - p (U - u)) scale. grad may be the segment's x. */
FOCAL_INLINE void softmax_grad(float *grad, size_t len, vf big_u, vf scale, int fix_nan,
                               const focal_softmax_rowc *rc, const focal_consts *c,
                               const focal_softmax_scratch *s)
{
    for (size_t j = 0; j < len; j += FOCAL_W) {
        const vf e = v_load(s->e + j);
        const vf p = v_mul(e, rc->inv_s);
        const vf q = softmax_q(e, p, rc, c);
        const vf u = v_load(s->u + j);
        vf g = v_mul(v_sub(v_mul(u, q), v_mul(p, v_sub(big_u, u))), scale);
        if (fix_nan) /* unchecked weights: NaN and inf */
            g = v_select(v_isnan(g), c->qnan, g);
        if (j + FOCAL_W <= len)
            v_store(grad + j, g);
        else
            v_store_n(grad + j, g, len - j);
    }
}

FOCAL_INLINE void softmax_fill(float *p, size_t n, float v)
{
    for (size_t k = 0; k < n; k++)
        p[k] = v;
}

FOCAL_INLINE int focal_softmax_run(const float *x, const int32_t *labels, const float *w,
                                   size_t rows, const focal_softmax_params *prm,
                                   float *loss, float *grad, double *sum,
                                   const int gamma_kind, const int want_grad)
{
    const size_t classes = prm->classes;
    const focal_consts c = {
        v_set(0.0f), v_set(1.0f), v_set(__builtin_nanf("")), v_set(1.0f), v_set(1.0f),
        v_set(prm->gamma), v_set(prm->grad_scale),
    };
    const int big = classes > FOCAL_SOFTMAX_SEG;
    const int scale_inf = isinf(prm->grad_scale);
    focal_softmax_scratch s;
    double total = 0.0;

    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * classes;
        float *gr = want_grad ? grad + r * classes : NULL;
        if (labels[r] < 0) { /* ignored: exactly zero, not even read */
            if (loss) loss[r] = 0.0f;
            if (gr) softmax_fill(gr, classes, 0.0f);
            continue;
        }
        int has_nan;
        const float m = softmax_row_max(xr, classes, &has_nan);
        if (has_nan) {
            if (loss) loss[r] = NAN;
            if (gr) softmax_fill(gr, classes, NAN);
            total += NAN;
            continue;
        }
        focal_softmax_rowc rc;
        rc.m = v_set(m);

        /* S in 16 double lanes, as the count of the top classes (exp = 1)
         * plus the sum of the others, then the shared row scalars. */
        double tops = 0.0;
        vacc acc_other = acc_zero();
        size_t o, len;
        for (o = 0; o < classes; o += len) {
            len = classes - o < FOCAL_SOFTMAX_SEG ? classes - o : FOCAL_SOFTMAX_SEG;
            softmax_exp(xr + o, len, rc.m, &c, &s);
            vf tops_v = c.zero; /* counts of one segment: exact in any order */
            for (size_t j = 0; j < len; j += FOCAL_W) {
                vf e = v_load(s.e + j);
                if (j + FOCAL_W > len)
                    e = v_keep_n(e, len - j);
                const vm top = v_eq(e, c.one);
                tops_v = v_add(tops_v, v_select(top, c.one, c.zero));
                acc_add(&acc_other, softmax_slot(j), v_select(top, c.zero, e));
            }
            float top_lanes[FOCAL_W];
            v_store(top_lanes, tops_v);
            for (int k = 0; k < FOCAL_W; k++)
                tops += top_lanes[k];
        }
        double lanes[FOCAL_LANES];
        acc_store(&acc_other, lanes);
        focal_softmax_row st;
        focal_softmax_row_stats(tops, focal_lane_tree(lanes), gamma_kind == FOCAL_GAMMA_ANY, &st);
        rc.log_s = v_set(st.log_s);
        rc.inv_s = v_set(st.inv_s);
        rc.q_max = v_set(st.q_max);
        rc.log_q_max = v_set(st.log_q_max);
        rc.log_q_max_lo = v_set(st.log_q_max_lo);
        rc.y_hit = v_set(fmaf(1.0f, prm->smooth_keep, prm->smooth_add));
        rc.y_miss = v_set(prm->smooth_add);
        rc.alpha = v_set(prm->alpha);
        rc.label = labels[r];
        rc.one_hot = prm->smooth_add == 0.0f;

        /* Loss and U. */
        vacc acc_l = acc_zero(), acc_u = acc_zero();
        for (o = 0; o < classes; o += len) {
            len = classes - o < FOCAL_SOFTMAX_SEG ? classes - o : FOCAL_SOFTMAX_SEG;
            if (big)
                softmax_exp(xr + o, len, rc.m, &c, &s);
            softmax_terms(xr + o, prm->class_alpha ? prm->class_alpha + o : NULL, o, len, &rc,
                          &c, &s, &acc_l, &acc_u, gamma_kind, want_grad, 1);
        }
        acc_store(&acc_l, lanes);
        double row_loss = focal_lane_tree(lanes);
        if (w)
            row_loss *= (double)w[r];
        if (isnan(row_loss))
            row_loss = NAN;
        if (loss)
            loss[r] = (float)row_loss;
        total += row_loss;

        if (want_grad) {
            acc_store(&acc_u, lanes);
            const vf big_u = v_set((float)focal_lane_tree(lanes));
            const vf scale = w ? v_mul(v_set(w[r]), c.scale) : c.scale;
            for (o = 0; o < classes; o += len) {
                len = classes - o < FOCAL_SOFTMAX_SEG ? classes - o : FOCAL_SOFTMAX_SEG;
                if (big) {
                    softmax_exp(xr + o, len, rc.m, &c, &s);
                    softmax_terms(xr + o, prm->class_alpha ? prm->class_alpha + o : NULL, o,
                                  len, &rc, &c, &s, &acc_l, &acc_u, gamma_kind, 1, 0);
                }
                softmax_grad(gr + o, len, big_u, scale, w != NULL || scale_inf, &rc, &c, &s);
            }
        }
    }
    *sum = total;
    return 0;
}
