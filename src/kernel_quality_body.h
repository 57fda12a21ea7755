/* SPDX-License-Identifier: MIT */
/*
 * The quality focal loss (Li et al. 2020, GFL; mmdet quality_focal_loss) and
 * the varifocal loss (Zhang et al. 2021, VFNet; mmdet varifocal_loss) over
 * soft scores s in [0, 1], written over the vocabulary of kernel_body.h and
 * built from its sigmoid pieces (basics, hard_log_q): with e = exp(-|x|),
 * p = sigmoid(x), pc = 1 - p, ce = BCE(x, s),
 *
 *   quality:   loss = |s - p|^g ce
 *              dL/dx = |s - p|^g [ (p - s) - g sr ce ],  sr = -p pc / (p - s)
 *              (sr = p for s = 1 and -pc for s = 0, as in the focal loss,
 *              whose q is |s - p| for hard targets; 0 where p == s)
 *   varifocal: s > 0: loss = s ce,               dL/dx = s (p - s)
 *              s = 0: loss = a p^g softplus(x),  dL/dx = a p^g (g pc softplus(x) + p)
 *
 * Neither modulating factor is detached: the gradient is the full derivative.
 * Same shape as the sigmoid kernel: SLEEF calls in loops of their own over a
 * chunk, arithmetic in a final call-free loop, 16 logical lanes for the sum.
 */

typedef struct {
    _Alignas(64) float e[FOCAL_CHUNK];      /* exp(-|x|)                       */
    _Alignas(64) float r[FOCAL_CHUNK];      /* 1 / (1 + e)                     */
    _Alignas(64) float l[FOCAL_CHUNK];      /* log1p(e)                        */
    /* gamma outside {0, 1, 2, 3} only */
    _Alignas(64) float b[FOCAL_CHUNK];      /* the base: |s - p| or p          */
    _Alignas(64) float logb[FOCAL_CHUNK];   /* its exact log (hard lanes), hi + lo */
    _Alignas(64) float logb_lo[FOCAL_CHUNK];
    _Alignas(64) float bg[FOCAL_CHUNK];     /* base^gamma                      */
} focal_soft_scratch;

/* The call phases of the sigmoid kernel over one chunk: e = exp(-|x|), then
 * r = 1 / (1 + e) and l = log1p(e) (see kernel_body.h, phase 2, for why log
 * and not log1p). Returns whether a logit is NaN or infinite. */
FOCAL_INLINE int soft_sigmoid_parts(const float *x, size_t m, const focal_consts *c,
                                    focal_soft_scratch *s)
{
    vm odd = m_none();
    size_t j;
    for (j = 0; j < m; j += FOCAL_W) {
        const vf xv = load_in(x, j, m);
        odd = m_or(odd, v_outside_finite(xv));
        v_store(s->e + j, v_exp(v_neg(v_abs(xv))));
    }
    for (j = 0; j < m; j += FOCAL_W) {
        const vf e = v_load(s->e + j);
        const vf u = v_add(c->one, e);
        const vf r = v_div(c->one, u);
        v_store(s->r + j, r);
        v_store(s->l + j, v_fma(v_sub(e, v_sub(u, c->one)), r, v_log_fast(u)));
    }
    return m_any(odd);
}

/* p - s without cancellation beyond the inherent one: -pc or p when hard. */
FOCAL_INLINE vf soft_p_minus_s(vf t, const focal_basics *b, const focal_consts *c)
{
    return HARD_OR_SOFT(b, v_select(b->is1, v_neg(b->pc), b->p),
                        v_fma(b->p, v_sub(c->one, t), v_neg(v_mul(t, b->pc))));
}

/* b^g = exp(g (log b + lo)) ~ exp(g log b) (1 + g lo + the rounding of
 * g log b), staying 0 where it underflows (kernel_body.h, phase 4). */
FOCAL_INLINE vf soft_pow(vf logb, vf lo, const focal_consts *c)
{
    const vf y = v_mul(c->gamma, logb);
    const vf y_lo = v_fma(c->gamma, lo, v_fma(c->gamma, logb, v_neg(y)));
    const vf ey = v_exp(y);
    return v_select(v_eq(ey, c->zero), c->zero, v_fma(ey, y_lo, ey));
}

/* base^g for the small integer gammas, else from the chunk's scratch. */
FOCAL_INLINE vf soft_base_pow(vf base, const float *bg, const int gamma_kind, const focal_consts *c)
{
    if (gamma_kind == FOCAL_GAMMA_0) return c->one;
    if (gamma_kind == FOCAL_GAMMA_1) return base;
    if (gamma_kind == FOCAL_GAMMA_2) return v_mul(base, base);
    if (gamma_kind == FOCAL_GAMMA_3) return v_mul(v_mul(base, base), base);
    return v_load(bg);
}

/* One chunk of m <= FOCAL_CHUNK elements at a multiple of 16 within the block. */
FOCAL_INLINE vm focal_soft_chunk(const float *x, const float *t, const float *w, size_t m,
                                 const focal_consts *c, int scale_inf, float *loss, float *grad,
                                 vacc *acc, focal_soft_scratch *s, const int kind,
                                 const int gamma_kind, const int want_grad, const int want_loss)
{
    const int chunk_odd = soft_sigmoid_parts(x, m, c, s);
    vm bad = m_none();
    size_t j;
#define SOFT_BASICS(xv, tv, j) \
    basics(classify((tv), c), (xv), (tv), v_load(s->e + (j)), v_load(s->r + (j)), \
           v_load(s->l + (j)), c)

    if (gamma_kind == FOCAL_GAMMA_ANY) {
        /* The base and, where it is exact, its log: -softplus(-+x) for hard
         * quality lanes (where the base is the focal loss's q), and always
         * log p = -softplus(-x) for varifocal. */
        for (j = 0; j < m; j += FOCAL_W) {
            const vf xv = load_in(x, j, m), tv = load_in(t, j, m), l = v_load(s->l + j);
            focal_basics b = SOFT_BASICS(xv, tv, j);
            vf lo = c->zero;
            if (kind == FOCAL_SOFT_QUALITY) {
                v_store(s->b + j, HARD_OR_SOFT(&b, b.q, v_abs(soft_p_minus_s(tv, &b, c))));
                if (b.any_hard)
                    v_store(s->logb + j, hard_log_q(xv, l, &b, c, &lo));
            } else {
                b.is1 = m_none(); /* the log of p, i.e. of the t = 0 q */
                v_store(s->logb + j, hard_log_q(xv, l, &b, c, &lo));
            }
            v_store(s->logb_lo + j, lo);
        }
        /* Calls: log of the soft quality bases, then exp. */
        for (j = 0; j < m; j += FOCAL_W) {
            vf logb = v_load(s->logb + j), lo = v_load(s->logb_lo + j);
            if (kind == FOCAL_SOFT_QUALITY) {
                const focal_basics b = classify(load_in(t, j, m), c);
                if (!b.all_hard) {
                    const vf soft = v_log(v_load(s->b + j));
                    logb = b.any_hard ? v_select(b.hard, logb, soft) : soft;
                    lo = b.any_hard ? v_select(b.hard, lo, c->zero) : c->zero;
                }
            }
            v_store(s->bg + j, soft_pow(logb, lo, c));
        }
    }

    for (j = 0; j < m; j += FOCAL_W) {
        const vf xv = load_in(x, j, m), tv = load_in(t, j, m);
        const int any_odd = chunk_odd && m_any(v_outside_finite(xv));
        const focal_basics b = SOFT_BASICS(xv, tv, j);
        const vf pmt = soft_p_minus_s(tv, &b, c);
        if (!b.all_hard)
            bad = m_or(bad, v_outside01(tv));
        vf lv, gv = c->zero;
        if (kind == FOCAL_SOFT_QUALITY) {
            const vf base = HARD_OR_SOFT(&b, b.q, v_abs(pmt));
            const vf bg = soft_base_pow(base, s->bg + j, gamma_kind, c);
            lv = v_mul(bg, b.ce);
            if (want_grad) {
                vf inner = pmt;
                if (gamma_kind != FOCAL_GAMMA_0) {
                    /* sr -> 0 where p == s (the sign of 0 is 0) and at
                     * infinite logits, where it meets ce = inf: the limit
                     * of p pc ce is 0. */
                    const vf soft_sr = v_select(v_eq(pmt, c->zero), c->zero,
                                                v_neg(v_div(v_mul(b.p, b.pc), pmt)));
                    const vf sr = HARD_OR_SOFT(&b, v_select(b.is1, b.p, v_neg(b.pc)), soft_sr);
                    vf wv = v_mul(v_mul(c->gamma, sr), b.ce);
                    if (any_odd) /* per lane: a lane's bits never depend on its neighbours */
                        wv = v_select(m_and(v_isinf(xv), v_eq(sr, c->zero)), c->zero, wv);
                    inner = v_sub(pmt, wv);
                }
                gv = v_mul(bg, inner);
            }
        } else {
            const vm neg = v_eq(tv, c->zero);
            const vf pg = soft_base_pow(b.p, s->bg + j, gamma_kind, c);
            const vf apg = v_mul(c->alpha_neg, pg);
            const vf spx = v_add(v_max(xv, c->zero), v_load(s->l + j)); /* softplus(x) */
            lv = v_select(neg, v_mul(apg, spx), v_mul(tv, b.ce));
            if (want_grad) {
                vf gneg = v_mul(apg, b.p);
                if (gamma_kind != FOCAL_GAMMA_0) {
                    /* pc softplus(x) -> 0 as x -> inf (pc is 0 from x ~ 104 on) */
                    const vf pcs = v_select(v_eq(b.pc, c->zero), c->zero, v_mul(b.pc, spx));
                    gneg = v_mul(apg, v_fma(c->gamma, pcs, b.p));
                }
                gv = v_select(neg, gneg, v_mul(tv, pmt));
            }
        }
        if (w) {
            const vf wv = load_in(w, j, m);
            lv = v_mul(lv, wv);
            gv = v_mul(gv, v_mul(wv, c->scale));
        } else {
            gv = v_mul(gv, c->scale);
        }
        /* NaN only from NaN logits, 0 * inf (alpha = 0 at x = inf) or the
         * unchecked weights. */
        finish_vector(loss, grad, j, m, lv, gv, any_odd || w || scale_inf, acc, c, want_loss,
                      want_grad);
    }
#undef SOFT_BASICS
    return bad;
}

FOCAL_INLINE int focal_soft_run(const float *x, const float *t, const float *w, size_t n,
                                const focal_soft_params *prm, float *loss, float *grad,
                                double *sum, const int kind, const int gamma_kind,
                                const int want_grad, const int want_loss)
{
    const focal_consts c = {
        v_set(0.0f), v_set(1.0f), v_set(__builtin_nanf("")), v_set(prm->alpha),
        v_set(prm->alpha), v_set(prm->gamma), v_set(prm->grad_scale),
    };
    const int scale_inf = isinf(prm->grad_scale);
    focal_soft_scratch scratch;
    vacc acc = acc_zero();
    vm bad = m_none();
    for (size_t i = 0; i < n; i += FOCAL_CHUNK) {
        const size_t m = n - i < FOCAL_CHUNK ? n - i : FOCAL_CHUNK;
        bad = m_or(bad, focal_soft_chunk(x + i, t + i, w ? w + i : NULL, m, &c, scale_inf,
                                         want_loss ? loss + i : NULL,
                                         want_grad ? grad + i : NULL, &acc, &scratch, kind,
                                         gamma_kind, want_grad, want_loss));
    }
    double lanes[FOCAL_LANES];
    acc_store(&acc, lanes);
    *sum = focal_lane_tree(lanes);
    return m_any(bad);
}
