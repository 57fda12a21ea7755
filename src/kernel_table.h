/* SPDX-License-Identifier: MIT */
/*
 * The end of every ISA file, after kernel_driver.h: each (loss, gamma kind,
 * outputs, form) variant of the driver as a named function of its own, the
 * entry points that pick one per call, and the one const table the
 * dispatcher picks from (libsodium style; docs/DESIGN.md §5, §6).
 *
 * The variants are never inlined into the entry points: a profile shows
 * which one runs, e.g. focal_sigmoid_labels_g2_loss_grad_avx2 (sigmoid
 * loss, labels form, gamma 2, per-element loss and gradient, AVX2), and
 * each is a function of modest size for the compiler. Inside a variant
 * every choice is a compile-time constant, so it costs nothing per element.
 *
 * Names: focal_<loss>[_<form>]_<gamma>_<outputs>_<isa>, where
 *   form     flat, labels, rows (sigmoid only: FOCAL_FORM_*)
 *   gamma    g0, g1, g2, g3: multiplications; gany: exp(gamma log q)
 *   outputs  loss_grad, grad, loss, sum: what is stored besides the block
 *            sum (per-element loss, gradient); softmax: loss_grad or loss
 */
#define FOCAL_CAT_(a, b) a##b
#define FOCAL_CAT(a, b) FOCAL_CAT_(a, b)
#define FOCAL_NAME(name) FOCAL_CAT(FOCAL_CAT(focal_, name), FOCAL_CAT(_, FOCAL_KERNEL_ID))
#define FOCAL_VARIANT static __attribute__((noinline))

/* Every gamma kind, and every (want_grad, want_loss) pair, as X-macro lists
 * over V(name parts..., constants...). */
#define FOCAL_EACH_OUTPUT(V, a, A, b, B)                                          \
    V(a, A, b, B, loss_grad, 1, 1) V(a, A, b, B, grad, 1, 0)                      \
    V(a, A, b, B, loss, 0, 1) V(a, A, b, B, sum, 0, 0)
#define FOCAL_EACH_GAMMA(V, a, A)                                                 \
    FOCAL_EACH_OUTPUT(V, a, A, g0, FOCAL_GAMMA_0)                                 \
    FOCAL_EACH_OUTPUT(V, a, A, g1, FOCAL_GAMMA_1)                                 \
    FOCAL_EACH_OUTPUT(V, a, A, g2, FOCAL_GAMMA_2)                                 \
    FOCAL_EACH_OUTPUT(V, a, A, g3, FOCAL_GAMMA_3)                                 \
    FOCAL_EACH_OUTPUT(V, a, A, gany, FOCAL_GAMMA_ANY)

/* Gamma kinds past FOCAL_GAMMA_ANY do not exist; treat anything else as ANY. */
static inline int focal_gamma_index(int gamma_kind)
{
    return gamma_kind >= FOCAL_GAMMA_0 && gamma_kind <= FOCAL_GAMMA_ANY ? gamma_kind
                                                                          : FOCAL_GAMMA_ANY;
}

/* ---- sigmoid focal: forms x gamma kinds x outputs ------------------------ */

#define FOCAL_SIGMOID_VARIANT(form, FORM, g, GK, outs, G, L)                                \
    FOCAL_VARIANT int FOCAL_NAME(sigmoid_##form##_##g##_##outs)(                            \
        const float *x, const float *t, size_t first, size_t n,                             \
        const focal_sigmoid_params *prm, float *loss, float *grad, double *sum)             \
    {                                                                                       \
        return sigmoid_block(x, t, first, n, prm, loss, grad, sum, GK, G, L, FORM);         \
    }
#define FOCAL_SIGMOID_SLOT(form, FORM, g, GK, outs, G, L) \
    [FORM][GK][G][L] = FOCAL_NAME(sigmoid_##form##_##g##_##outs),
#define FOCAL_SIGMOID_ALL(V)                       \
    FOCAL_EACH_GAMMA(V, flat, FOCAL_FORM_FLAT)     \
    FOCAL_EACH_GAMMA(V, labels, FOCAL_FORM_LABELS) \
    FOCAL_EACH_GAMMA(V, rows, FOCAL_FORM_ROWS)

/* The form of a sigmoid call: LABELS when labels come with nothing else
 * per element, ROWS for the other row-structured calls. */
static inline int sigmoid_form(const focal_sigmoid_params *prm)
{
    if (!prm->row_inputs)
        return FOCAL_FORM_FLAT;
    return prm->labels && !prm->class_alpha && !prm->weight && !prm->smoothing &&
                   !prm->pos_weight
               ? FOCAL_FORM_LABELS
               : FOCAL_FORM_ROWS;
}

/* The sigmoid loss: its 60 variants, and the entry that picks one. */
#define FOCAL_LOSS_sigmoid(loss_name, NAME)                                                 \
    FOCAL_SIGMOID_ALL(FOCAL_SIGMOID_VARIANT)                                                \
    static const focal_sigmoid_fn                                                           \
        FOCAL_NAME(sigmoid_variants)[3][FOCAL_GAMMA_ANY + 1][2][2] = {                      \
            FOCAL_SIGMOID_ALL(FOCAL_SIGMOID_SLOT)                                           \
    };                                                                                      \
    static int FOCAL_NAME(sigmoid)(const float *x, const float *t, size_t first, size_t n,  \
                                   const focal_sigmoid_params *prm, float *loss,            \
                                   float *grad, double *sum)                                \
    {                                                                                       \
        return FOCAL_NAME(sigmoid_variants)[sigmoid_form(prm)]                              \
                                           [focal_gamma_index(prm->gamma_kind)]             \
                                           [grad != NULL][loss != NULL](                    \
            x, t, first, n, prm, loss, grad, sum);                                          \
    }

/* ---- losses over scores: gamma kinds x outputs -------------------------- */

#define FOCAL_SCORE_VARIANT(loss_name, KIND, g, GK, outs, G, L)                             \
    FOCAL_VARIANT int FOCAL_NAME(loss_name##_##g##_##outs)(                                 \
        const float *x, const float *s, const float *w, const float *pw, size_t n,          \
        const focal_score_params *prm, float *loss, float *grad, double *sum)               \
    {                                                                                       \
        return score_block(x, s, w, pw, n, prm, loss, grad, sum, KIND, GK, G, L);           \
    }
#define FOCAL_SCORE_SLOT(loss_name, KIND, g, GK, outs, G, L) \
    [GK][G][L] = FOCAL_NAME(loss_name##_##g##_##outs),

/* A loss over scores: its 20 variants, and the entry that picks one. */
#define FOCAL_LOSS_score(loss_name, NAME)                                                   \
    FOCAL_EACH_GAMMA(FOCAL_SCORE_VARIANT, loss_name, FOCAL_ELEM_##NAME)                     \
    static const focal_score_fn FOCAL_NAME(loss_name##_variants)[FOCAL_GAMMA_ANY + 1][2][2] = { \
        FOCAL_EACH_GAMMA(FOCAL_SCORE_SLOT, loss_name, FOCAL_ELEM_##NAME)                    \
    };                                                                                      \
    static int FOCAL_NAME(loss_name)(const float *x, const float *s, const float *w,        \
                                     const float *pw, size_t n,                             \
                                     const focal_score_params *prm, float *loss,            \
                                     float *grad, double *sum)                              \
    {                                                                                       \
        return FOCAL_NAME(loss_name##_variants)[focal_gamma_index(prm->gamma_kind)]         \
                                               [grad != NULL][loss != NULL](                \
            x, s, w, pw, n, prm, loss, grad, sum);                                          \
    }

/* ---- the softmax focal loss: gamma kinds x (gradient or not) ------------- */

#define FOCAL_SOFTMAX_VARIANT(g, GK, outs, G)                                               \
    FOCAL_VARIANT int FOCAL_NAME(softmax_##g##_##outs)(                                     \
        const float *x, const int32_t *labels, const float *w, size_t rows,                 \
        const focal_rows_params *prm, float *loss, float *grad, double *sum)                \
    {                                                                                       \
        const focal_row_targets tg = { labels, NULL };                                      \
        return rows_block(x, &tg, w, rows, prm, loss, grad, sum, FOCAL_ROW_SOFTMAX, GK, G); \
    }
#define FOCAL_SOFTMAX_SLOT(g, GK, outs, G) [GK][G] = FOCAL_NAME(softmax_##g##_##outs),
#define FOCAL_SOFTMAX_ALL(V)                                                                \
    V(g0, FOCAL_GAMMA_0, loss_grad, 1) V(g0, FOCAL_GAMMA_0, loss, 0)                        \
    V(g1, FOCAL_GAMMA_1, loss_grad, 1) V(g1, FOCAL_GAMMA_1, loss, 0)                        \
    V(g2, FOCAL_GAMMA_2, loss_grad, 1) V(g2, FOCAL_GAMMA_2, loss, 0)                        \
    V(g3, FOCAL_GAMMA_3, loss_grad, 1) V(g3, FOCAL_GAMMA_3, loss, 0)                        \
    V(gany, FOCAL_GAMMA_ANY, loss_grad, 1) V(gany, FOCAL_GAMMA_ANY, loss, 0)

#define FOCAL_LOSS_softmax(loss_name, NAME)                                                 \
    FOCAL_SOFTMAX_ALL(FOCAL_SOFTMAX_VARIANT)                                                \
    static const focal_softmax_fn FOCAL_NAME(softmax_variants)[FOCAL_GAMMA_ANY + 1][2] = {  \
        FOCAL_SOFTMAX_ALL(FOCAL_SOFTMAX_SLOT)                                               \
    };                                                                                      \
    static int FOCAL_NAME(softmax)(const float *x, const int32_t *labels, const float *w,   \
                                   size_t rows, const focal_rows_params *prm,               \
                                   float *loss, float *grad, double *sum)                   \
    {                                                                                       \
        return FOCAL_NAME(softmax_variants)[focal_gamma_index(prm->gamma_kind)]             \
                                           [grad != NULL](x, labels, w, rows, prm, loss,    \
                                                          grad, sum);                       \
    }

/* ---- the Distribution Focal Loss: gamma 0, (gradient or not) ------------- */

#define FOCAL_DFL_VARIANT(outs, G)                                                          \
    FOCAL_VARIANT int FOCAL_NAME(dfl_##outs)(                                               \
        const float *x, const float *t, const float *w, size_t rows,                        \
        const focal_rows_params *prm, float *loss, float *grad, double *sum)                \
    {                                                                                       \
        const focal_row_targets tg = { NULL, t };                                           \
        return rows_block(x, &tg, w, rows, prm, loss, grad, sum, FOCAL_ROW_DFL,             \
                          FOCAL_GAMMA_0, G);                                                \
    }

#define FOCAL_LOSS_dfl(loss_name, NAME)                                                     \
    FOCAL_DFL_VARIANT(loss_grad, 1)                                                         \
    FOCAL_DFL_VARIANT(loss, 0)                                                              \
    static int FOCAL_NAME(dfl)(const float *x, const float *t, const float *w, size_t rows, \
                               const focal_rows_params *prm, float *loss, float *grad,      \
                               double *sum)                                                 \
    {                                                                                       \
        return grad != NULL ? FOCAL_NAME(dfl_loss_grad)(x, t, w, rows, prm, loss, grad, sum) \
                            : FOCAL_NAME(dfl_loss)(x, t, w, rows, prm, loss, grad, sum);    \
    }

/* ---- the box losses: the IoU family's kinds x (gradient or not) --------- */

#define FOCAL_BOX_KINDS(V, outs, G)                                                          \
    V(iou, FOCAL_BOX_IOU, outs, G) V(iou_square, FOCAL_BOX_IOU_SQUARE, outs, G)              \
    V(iou_log, FOCAL_BOX_IOU_LOG, outs, G) V(giou, FOCAL_BOX_GIOU, outs, G)                  \
    V(diou, FOCAL_BOX_DIOU, outs, G) V(ciou, FOCAL_BOX_CIOU, outs, G)
#define FOCAL_BOX_ALL(V) FOCAL_BOX_KINDS(V, loss_grad, 1) FOCAL_BOX_KINDS(V, loss, 0)
#define FOCAL_BOX_VARIANT(k, KIND, outs, G)                                                 \
    FOCAL_VARIANT int FOCAL_NAME(box_##k##_##outs)(                                         \
        const float *p, const float *t, const float *w, size_t n,                           \
        const focal_box_params *prm, float *loss, float *grad, double *sum)                 \
    {                                                                                       \
        return box_block(p, t, w, n, prm, loss, grad, sum, KIND, G);                        \
    }
#define FOCAL_BOX_SLOT(k, KIND, outs, G) [KIND][G] = FOCAL_NAME(box_##k##_##outs),

#define FOCAL_LOSS_box(loss_name, NAME)                                                     \
    FOCAL_BOX_ALL(FOCAL_BOX_VARIANT)                                                        \
    static const focal_box_fn FOCAL_NAME(loss_name##_variants)[FOCAL_BOX_CIOU + 1][2] = {   \
        FOCAL_BOX_ALL(FOCAL_BOX_SLOT)                                                       \
    };                                                                                      \
    static int FOCAL_NAME(loss_name)(const float *p, const float *t, const float *w,        \
                                     size_t n, const focal_box_params *prm, float *loss,    \
                                     float *grad, double *sum)                              \
    {                                                                                       \
        return FOCAL_NAME(loss_name##_variants)[prm->kind][grad != NULL](                   \
            p, t, w, n, prm, loss, grad, sum);                                              \
    }

/* ---- element-wise losses of (prediction, target) pairs: (gradient or not) -- */

#define FOCAL_PAIR_VARIANT(loss_name, outs, G)                                              \
    FOCAL_VARIANT int FOCAL_NAME(loss_name##_##outs)(                                       \
        const float *p, const float *t, const float *w, size_t n,                           \
        const focal_box_params *prm, float *loss, float *grad, double *sum)                 \
    {                                                                                       \
        return pair_block(p, t, w, n, prm, loss, grad, sum, G);                             \
    }

#define FOCAL_LOSS_pair(loss_name, NAME)                                                    \
    FOCAL_PAIR_VARIANT(loss_name, loss_grad, 1)                                             \
    FOCAL_PAIR_VARIANT(loss_name, loss, 0)                                                  \
    static int FOCAL_NAME(loss_name)(const float *p, const float *t, const float *w,        \
                                     size_t n, const focal_box_params *prm, float *loss,    \
                                     float *grad, double *sum)                              \
    {                                                                                       \
        return grad != NULL ? FOCAL_NAME(loss_name##_loss_grad)(p, t, w, n, prm, loss, grad, \
                                                                sum)                        \
                            : FOCAL_NAME(loss_name##_loss)(p, t, w, n, prm, loss, grad,     \
                                                           sum);                            \
    }

/* Every loss of loss_list.h through its shape's macro, then the table. */
#define FOCAL_LOSS_DEFINE(name, NAME, shape) FOCAL_LOSS_##shape(name, NAME)
#define FOCAL_TABLE_LINE(name, NAME, shape) .name = FOCAL_NAME(name),

FOCAL_LOSS_LIST(FOCAL_LOSS_DEFINE)

const focal_kernel FOCAL_CAT(focal_kernel_, FOCAL_KERNEL_ID) = {
    .name = FOCAL_KERNEL_NAME,
    FOCAL_LOSS_LIST(FOCAL_TABLE_LINE)
};
