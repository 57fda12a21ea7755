/* SPDX-License-Identifier: MIT */
/*
 * libfocal: the sigmoid focal loss and its gradient in one fused pass.
 *
 *     p    = sigmoid(x)
 *     ce   = -t log p - (1 - t) log(1 - p)
 *     p_t  = p t + (1 - p)(1 - t)
 *     a_t  = alpha t + (1 - alpha)(1 - t)      (a_t = 1 when alpha < 0)
 *     loss = a_t (1 - p_t)^gamma ce
 *
 * Semantics are those of torchvision.ops.sigmoid_focal_loss (Lin et al. 2017);
 * the gradient is the exact derivative of the (reduced) loss with respect to
 * the logits, finite for every gamma >= 0.
 *
 * Symbols are exported from libfocal.so.1 in ELF version nodes: FOCAL_1.0
 * for the 1.0 API, FOCAL_1.1 ... FOCAL_1.5 for what each later release
 * added.
 * Signatures and meanings of published entry points never change; new ones
 * go in a new node.
 */
#ifndef FOCAL_FOCAL_H
#define FOCAL_FOCAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* FOCAL_API marks the exported entry points. The library is built with
 * -fvisibility=hidden, so anything without it stays private. */
#ifndef FOCAL_API
#  if defined(__GNUC__) && __GNUC__ >= 4
#    define FOCAL_API __attribute__((visibility("default")))
#  else
#    define FOCAL_API
#  endif
#endif

#define FOCAL_VERSION_MAJOR 1
#define FOCAL_VERSION_MINOR 5
#define FOCAL_VERSION_PATCH 0
#define FOCAL_VERSION_NUMBER \
    ((FOCAL_VERSION_MAJOR << 16) | (FOCAL_VERSION_MINOR << 8) | FOCAL_VERSION_PATCH)

/* Reductions. The gradient written is d(reduced loss) / d logit_i. */
#define FOCAL_REDUCTION_NONE 0 /* loss: n floats, one per element           */
#define FOCAL_REDUCTION_SUM  1 /* loss: one float, the sum                   */
#define FOCAL_REDUCTION_MEAN 2 /* loss: one float, sum / n (NaN when n == 0) */

/* Return codes: 0 on success, a negative FOCAL_E* code otherwise.
 * focal_strerror() turns any of them into a short English message. */
#define FOCAL_OK               0
#define FOCAL_ENULL          (-1) /* logits or targets NULL while n > 0; opt NULL
                                     in focal_options_init_sized (since 1.3)    */
#define FOCAL_ENOOUTPUT      (-2) /* loss and grad both NULL                      */
#define FOCAL_EALPHA         (-3) /* alpha is NaN or > 1                          */
#define FOCAL_EGAMMA         (-4) /* gamma < 0, NaN or infinite                   */
#define FOCAL_EREDUCTION     (-5) /* reduction is not NONE, SUM or MEAN           */
#define FOCAL_EOVERLAP       (-6) /* an output overlaps an input or the other output
                                     (grad == logits exactly is allowed)         */
#define FOCAL_ETARGET        (-7) /* a target is NaN or outside [0, 1]
                                     (focal_distribution_focal: [0, bins - 1))   */
#define FOCAL_ESIZE          (-8) /* n * sizeof(float) does not fit in size_t     */
#define FOCAL_EISA_UNKNOWN   (-9) /* focal_set_isa, focal_kernel_supported: not a
                                     kernel name                                 */
#define FOCAL_EISA_UNSUPPORTED (-10) /* focal_set_isa: kernel not usable on this CPU
                                        or not built into this library           */
#define FOCAL_ETHREADS      (-11) /* focal_set_num_threads: n < 0   (since 1.1)  */
#define FOCAL_EOPTIONS      (-12) /* focal_options: a size of no released
                                     struct, unknown non-zero fields past it,
                                     or a field the loss does not use set
                                                                   (since 1.1)  */
#define FOCAL_ENORMALIZER   (-13) /* normalizer < 0, NaN or inf    (since 1.1)  */
#define FOCAL_ESMOOTHING    (-14) /* label_smoothing outside [0, 1) (since 1.1) */
#define FOCAL_ELABEL        (-15) /* a label > classes (>= classes for
                                     focal_softmax_labels)         (since 1.1)  */
#define FOCAL_EPOSWEIGHT    (-16) /* a pos_weight is negative, NaN or infinite
                                                                   (since 1.2)  */
#define FOCAL_EBOXLOSS      (-17) /* focal_box_iou_loss: not a FOCAL_BOX_* loss or
                                     FOCAL_BOXES_* convention      (since 1.5)  */
#define FOCAL_EEPS          (-18) /* eps < 0, NaN or inf           (since 1.5)  */
#define FOCAL_EBETA         (-19) /* beta < 0, NaN or inf          (since 1.5)  */

/* focal_options.flags (since 1.2). */
#define FOCAL_FLAG_QUALITY_ALPHA 1u /* focal_quality_focal multiplies by
                                       a_t = alpha s + (1 - alpha)(1 - s)   */

/*
 * focal_sigmoid_loss_grad - focal loss and its gradient in one pass.
 *
 * logits    n floats (raw scores, before the sigmoid). Read only, unless
 *           grad == logits.
 * targets   n floats in [0, 1]: hard (0 or 1) or soft labels. Read only.
 * n         number of elements; 0 is allowed.
 * alpha     class balance weight in [0, 1]; any alpha < 0 disables balancing
 *           (a_t = 1). NaN or > 1 is FOCAL_EALPHA.
 * gamma     focusing exponent, finite and >= 0 (0 gives alpha-weighted BCE).
 * reduction FOCAL_REDUCTION_NONE, _SUM or _MEAN.
 * loss      output, or NULL when the loss is not wanted: n floats for NONE,
 *           one float for SUM and MEAN. n == 0 gives 0 for SUM, NaN for MEAN.
 * grad      output, or NULL (forward only): n floats, d(reduced loss)/d logits.
 *           May be exactly `logits` (gradient written in place).
 *
 * All buffers are owned by the caller; the library keeps no pointer after the
 * call returns and writes nothing outside `loss` and `grad`. Any alignment is
 * accepted. Outputs may not overlap the inputs or each other, except
 * grad == logits.
 *
 * Returns FOCAL_OK, or a negative FOCAL_E* code. Targets are validated in the
 * same pass that computes the loss, so after FOCAL_ETARGET the outputs hold
 * unspecified values (but nothing outside them was touched). Argument errors
 * other than FOCAL_ETARGET are detected before anything is written.
 *
 * Non-finite logits are not errors and affect only their own element (and
 * the reduced loss). An infinite logit gives the limits: loss 0 and gradient
 * 0 when it is confidently right (+inf with t = 1, -inf with t = 0); loss
 * +inf and the finite limit of the gradient otherwise (e.g. 1 - alpha at +inf
 * with t = 0). A NaN logit gives NaN loss and gradient, and so does a limit of
 * the form 0 * inf (a_t = 0 with an infinite loss). Every NaN the library
 * writes is the canonical quiet NaN (bits 0x7fc00000), so even NaN results
 * are identical across kernels. Reduced losses over such elements are NaN or
 * +inf.
 *
 * Accuracy: every element within 1e-5 relative of a float64 evaluation for
 * hard targets (3e-5 relative + 1e-6 absolute for soft targets); reduced loss
 * within 1e-6 relative. Every kernel returns bitwise identical results for
 * the same inputs, whatever the alignment, n or CPU.
 *
 * Thread safety: reentrant; concurrent calls on shared inputs are safe.
 */
FOCAL_API int focal_sigmoid_loss_grad(const float *logits, const float *targets, size_t n,
                                      float alpha, float gamma, int reduction,
                                      float *loss, float *grad);

/* The library's version: major << 16 | minor << 8 | patch. Compare with
 * FOCAL_VERSION_NUMBER to detect a header/library mismatch. */
FOCAL_API uint32_t focal_version(void);

/* The library's version as "major.minor.patch". Static storage; do not free. */
FOCAL_API const char *focal_version_string(void);

/* The active kernel: one of the names focal_kernel_name() lists (since 1.2;
 * before: "scalar", "avx2", "avx512" or "neon"). Static storage; do not
 * free. */
FOCAL_API const char *focal_isa(void);

/*
 * Select the kernel used by subsequent calls: one of the names
 * focal_kernel_name() lists, or "auto" for the best one this CPU supports.
 * Returns FOCAL_OK, FOCAL_EISA_UNKNOWN for an unknown name (or NULL), or
 * FOCAL_EISA_UNSUPPORTED when the CPU (or this build) lacks that kernel (a
 * kernel of libfocal built only for another architecture, e.g. "neon" on
 * x86-64, is unsupported, not unknown); on error the active kernel is
 * unchanged.
 *
 * The switch is an atomic pointer store: a call already running finishes with
 * the kernel it started with, and later calls use the new one. Since every
 * kernel returns the same bits, switching never changes results, only speed.
 *
 * At load time the environment variable FOCAL_ISA (same names) is read once;
 * a name this CPU cannot run is ignored and the automatic choice kept.
 */
FOCAL_API int focal_set_isa(const char *name);

/* A short English description of a FOCAL_* return code ("unknown error code"
 * for anything else). Static storage; never NULL. */
FOCAL_API const char *focal_strerror(int code);

/* ---- 1.1 ---------------------------------------------------------------- */

/*
 * Threads used by each call (the calling thread included). n >= 1 sets it;
 * n == 0 restores the default: FOCAL_NUM_THREADS as read at load time, else
 * the number of online CPUs. n < 0 is FOCAL_ETHREADS. Takes effect for calls
 * that start afterwards; safe to call while other threads compute.
 *
 * Results never depend on it: inputs are cut into fixed 16384-element blocks
 * whose sums are added in block order, so loss, gradient and reduced loss
 * are the same bits for 1, 2, ... threads. Inputs under 8 blocks stay on the
 * calling thread. Workers are plain pthreads (no OpenMP), created on first
 * use, asleep when idle, rebuilt after fork(), joined at unload. If another
 * thread is already using the workers, a call runs on its own thread.
 */
FOCAL_API int focal_set_num_threads(int n);

/* The thread count calls currently use (>= 1). */
FOCAL_API int focal_num_threads(void);

/*
 * Options of the 1.1 entry points. Always start from focal_options_init()
 * (C) or focal_options_init_sized() (FFI, below): `size` lets later versions
 * add fields at the end without breaking callers built against this header.
 * 1.2 appended pos_weight and flags; a struct of the 1.1 size (a program
 * built against the 1.1 header) reads them as NULL and 0, so its results do
 * not change. Released layouts (LP64): 1.1 48 bytes (up to weight), 1.2 64.
 */
typedef struct focal_options {
    size_t size;             /* sizeof(focal_options), set by focal_options_init    */
    float alpha;             /* as in 1.0 (< 0: no balancing); ignored when
                                class_alpha != NULL                               */
    float gamma;             /* finite, >= 0                                      */
    int32_t reduction;       /* FOCAL_REDUCTION_NONE / _SUM / _MEAN               */
    float normalizer;        /* 0: default divisor (1 for SUM, the element count for
                                MEAN); > 0: SUM and MEAN divide by it instead
                                (the gradient is scaled by 1/normalizer rounded
                                to float, inf below ~3e-39). NONE ignores it.     */
    float label_smoothing;   /* [0, 1): targets become t (1 - ls) + ls / 2        */
    const float *class_alpha; /* [classes] per-class alpha in [0, 1], or NULL:
                                 a_t = class_alpha[c] t + (1 - class_alpha[c]) (1 - t) */
    const float *weight;     /* [rows] weight multiplying every element of its row
                                (loss and gradient), or NULL. Not checked: NaN or
                                inf weights propagate like NaN logits. Neither
                                array may overlap an output (FOCAL_EOVERLAP).     */
    /* ---- since 1.2 ---- */
    const float *pos_weight; /* BCE's positive weight pw, or NULL (pw = 1): the
                                cross-entropy becomes
                                pw t softplus(-x) + (1 - t) softplus(x)
                                (torch.nn.BCEWithLogitsLoss's pos_weight).
                                focal_sigmoid_labels / _dense: [classes], one per
                                class (one class: the scalar case);
                                focal_quality_focal: [n], one per element (as its
                                weight). Each finite and >= 0, else
                                FOCAL_EPOSWEIGHT; may not overlap an output
                                (FOCAL_EOVERLAP). Other losses: FOCAL_EOPTIONS. */
    uint32_t flags;          /* FOCAL_FLAG_* or 0. FOCAL_FLAG_QUALITY_ALPHA: the
                                quality focal loss is multiplied by a_t as the
                                sigmoid loss's (alpha < 0: 1), as Ultralytics'
                                QFocalLoss. A flag the loss does not use, or an
                                unknown one, is FOCAL_EOPTIONS.                   */
} focal_options;

/*
 * Initializing a focal_options: the defaults are alpha 0.25, gamma 2, MEAN,
 * every other field 0 / NULL, and `size` the size of the caller's struct.
 *
 * focal_options_init_sized(opt, size) (since 1.3) writes exactly `size`
 * bytes and nothing past them: the defaults of every field that fits, size =
 * `size`, and zeros in any bytes past this header's struct (a caller built
 * against a newer header: the entry points accept those while they are 0).
 * `size` must be the size of a released struct (48 or 64 on LP64) or larger
 * than this header's, up to 4096; else FOCAL_EOPTIONS and nothing is
 * written. opt NULL: FOCAL_ENULL. Returns FOCAL_OK otherwise.
 *
 * C programs: call focal_options_init(&opt). The macro below makes that
 * focal_options_init_sized(&opt, sizeof(focal_options)) of this header.
 *
 * FFI callers (ctypes, cffi, dlsym) cannot bind a symbol version and get the
 * default (by-name) version of whatever they call, whatever struct they
 * declared. Bind focal_options_init_sized by name and pass the size of the
 * struct you declare (ctypes.sizeof, ffi.sizeof). With a library older than
 * 1.3, where that symbol is missing, call focal_options_init by name into a
 * buffer with headroom (e.g. your struct plus 256 zero bytes), then check
 * the size it wrote: 48 (1.1) or 64 (1.2) on LP64.
 *
 * focal_options_init, the function, has one version per struct: programs
 * built against the 1.1 header call focal_options_init@FOCAL_1.1 (writes
 * the 1.1 struct), against the 1.2 header @FOCAL_1.2 (the 1.2 struct). The
 * default version, what a by-name caller, (focal_options_init)(&opt) and
 * &focal_options_init reach, is focal_options_init@@FOCAL_1.3: it writes
 * the smallest released struct, the 1.1 one (size 48), so that no by-name
 * caller is written past, and it stays so in every later release. Its
 * later fields are not in that struct: a caller that sets pos_weight or
 * flags after it must use focal_options_init_sized instead.
 */
FOCAL_API void focal_options_init(focal_options *opt);
FOCAL_API int focal_options_init_sized(focal_options *opt, size_t size);
#define focal_options_init(opt) ((void)focal_options_init_sized((opt), sizeof(focal_options)))

/*
 * Sigmoid focal loss with one class index per row (RetinaNet / FCOS / ATSS
 * heads, as mmcv's and Detectron's kernels take them).
 *
 * logits  rows x classes floats, row-major.
 * labels  rows int32: in [0, classes) the positive class of that row (all
 *         other classes negative); == classes: background (all negative);
 *         < 0: row ignored (loss 0, gradient 0, not counted by MEAN);
 *         > classes: FOCAL_ELABEL (checked before anything is written).
 * opt     options, or NULL for the defaults of focal_options_init().
 * loss    rows x classes floats for NONE, else one float, or NULL.
 * grad    rows x classes floats, d(reduced loss)/d logits (weights, normalizer
 *         and smoothing included), or NULL; may be exactly `logits`.
 * MEAN divides by (non-ignored rows) x classes unless opt->normalizer > 0.
 * Errors, aliasing, accuracy and determinism as focal_sigmoid_loss_grad().
 */
FOCAL_API int focal_sigmoid_labels(const float *logits, const int32_t *labels, size_t rows,
                                   size_t classes, const focal_options *opt,
                                   float *loss, float *grad);

/*
 * The same with dense float targets (rows x classes, in [0, 1]). With default
 * options it returns exactly the bits of focal_sigmoid_loss_grad() on the
 * flattened arrays.
 *
 * Both sigmoid calls take opt->pos_weight (since 1.2, one per class):
 * loss = a_t (1 - p_t)^gamma [pw t softplus(-x) + (1 - t) softplus(x)], the
 * focal loss around BCEWithLogitsLoss(pos_weight=pw) (Ultralytics' FocalLoss).
 */
FOCAL_API int focal_sigmoid_dense(const float *logits, const float *targets, size_t rows,
                                  size_t classes, const focal_options *opt,
                                  float *loss, float *grad);

/*
 * Softmax focal loss with one class index per row (multi-class
 * classification; Lin et al. 2017, section 3 with the softmax instead of the
 * sigmoid):
 *
 *     p    = softmax(logits[r])                 (max-subtracted, log-sum-exp)
 *     y'_c = y_c (1 - ls) + ls / classes        (y: one-hot of labels[r])
 *     a_c  = class_alpha[c] if given, else alpha if alpha >= 0, else 1
 *     loss_r = sum_c y'_c a_c (1 - p_c)^gamma (-log p_c)
 *
 * labels  rows int32: in [0, classes) the class of the row; < 0: row ignored
 *         (loss 0, gradient 0, not counted by MEAN); >= classes: FOCAL_ELABEL
 *         (checked before anything is written).
 * loss    rows floats for NONE (one per row, weighted), else one float.
 * grad    rows x classes floats, the exact derivative through the softmax,
 *         finite for every gamma >= 0; may be exactly `logits`.
 * opt->weight is per row; MEAN divides by the non-ignored rows unless
 * opt->normalizer > 0. Errors, accuracy and determinism as
 * focal_sigmoid_labels(). Logits equal to the row maximum share its
 * probability (+inf included: the limit of equal large logits); a -inf logit
 * has probability 0; a NaN logit makes its row's loss and gradient NaN.
 */
FOCAL_API int focal_softmax_labels(const float *logits, const int32_t *labels, size_t rows,
                                   size_t classes, const focal_options *opt,
                                   float *loss, float *grad);

/*
 * Quality focal loss (Li et al. 2020, "Generalized Focal Loss"; mmdet's
 * quality_focal_loss), over soft scores s in [0, 1] (e.g. the IoU of the box
 * for the positive class, 0 elsewhere):
 *
 *     loss = |s - sigmoid(x)|^gamma BCE-with-logits(x, s)
 *
 * The gradient is the full derivative (the modulating factor is not
 * detached), finite for every gamma >= 0; where sigmoid(x) == s exactly the
 * factor's derivative is taken as 0. As in mmdet there is no alpha: opt->alpha
 * is ignored (but must be valid). opt->weight is per element; MEAN divides by
 * n unless opt->normalizer > 0. opt->class_alpha and opt->label_smoothing
 * must be NULL / 0 (FOCAL_EOPTIONS). A score outside [0, 1] or NaN is
 * FOCAL_ETARGET. Everything else as focal_sigmoid_dense().
 *
 * Since 1.2, Ultralytics' QFocalLoss (YOLOv5 utils/loss.py):
 * opt->pos_weight (one per element) weighs the positive part of the
 * cross-entropy, and opt->flags FOCAL_FLAG_QUALITY_ALPHA multiplies the loss
 * by a_t = alpha s + (1 - alpha)(1 - s) (opt->alpha; alpha < 0: a_t = 1).
 * Without the flag alpha stays ignored, as in 1.1.
 */
FOCAL_API int focal_quality_focal(const float *logits, const float *scores, size_t n,
                                  const focal_options *opt, float *loss, float *grad);

/*
 * Varifocal loss (Zhang et al. 2021, "VarifocalNet"; mmdet's varifocal_loss
 * with iou_weighted = True):
 *
 *     loss = w BCE-with-logits(x, s),  w = s where s > 0,
 *                                      w = alpha sigmoid(x)^gamma where s = 0
 *
 * alpha < 0 means 1 (mmdet's default is 0.75, gamma 2). The gradient is the
 * full derivative (w is not detached: what autograd gives on mmdet's
 * expression). Options, weights and errors as
 * focal_quality_focal().
 */
FOCAL_API int focal_varifocal(const float *logits, const float *scores, size_t n,
                              const focal_options *opt, float *loss, float *grad);

/* ---- 1.2 ---------------------------------------------------------------- */

/*
 * The kernels built into this library, in its order of preference (the
 * automatic choice is the last one the CPU supports): focal_kernel_name(0)
 * is "scalar", and i past the last kernel gives NULL. The names are those
 * focal_isa() reports and focal_set_isa() and FOCAL_ISA accept. Static
 * storage; do not free. Which kernels exist depends on the architecture
 * (x86-64: scalar, avx2, avx512; aarch64: scalar, neon, sve) and may grow.
 */
FOCAL_API const char *focal_kernel_name(size_t i);

/*
 * Whether this CPU runs the kernel `name`, i.e. whether focal_set_isa(name)
 * would succeed: 1 yes; 0 no, for a kernel name of libfocal that this CPU
 * or this build lacks (e.g. "avx512" on a CPU without AVX-512, "neon" on
 * x86-64); FOCAL_EISA_UNKNOWN for NULL or any other string ("auto"
 * included: it is not a kernel). Changes nothing; safe at any time.
 */
FOCAL_API int focal_kernel_supported(const char *name);

/* ---- 1.4 ---------------------------------------------------------------- */

/*
 * Distribution Focal Loss (Li et al. 2020, "Generalized Focal Loss"; the box
 * term of GFL, NanoDet, YOLOv6 and Ultralytics YOLOv8/YOLO11's DFLoss): each
 * row is a discretised distance over `bins` bins, and its continuous target
 * t lies between the bins l = floor(t) and l + 1:
 *
 *     wl = l + 1 - t (rounded to float once), wr = t - l (exact)
 *     loss_r = wl CE(x_r, l) + wr CE(x_r, l + 1)
 *            = wl (-log p_l) + wr (-log p_(l+1)),  p = softmax(x_r)
 *     dloss_r/dx_r = (wl + wr) p - wl e_l - wr e_(l+1)
 *
 * logits   rows x bins floats, row-major.
 * targets  rows floats, each in [0, bins - 1); a NaN or one outside is
 *          FOCAL_ETARGET, found before anything is written (so bins < 2
 *          with rows > 0 is always FOCAL_ETARGET).
 * opt      options, or NULL for the defaults. weight (per row), reduction
 *          and normalizer as focal_softmax_labels(); MEAN divides by rows.
 *          alpha and gamma are not read (the loss has none: mmdet's and
 *          Ultralytics' DFL have none either). class_alpha,
 *          label_smoothing, pos_weight and flags must be NULL / 0
 *          (FOCAL_EOPTIONS).
 * loss     rows floats for NONE (one per row, weighted), else one float.
 * grad     rows x bins floats, or NULL; may be exactly `logits`.
 * Logits as in focal_softmax_labels() (a NaN makes its row NaN; +inf logits
 * share the probability). Errors, accuracy and determinism as
 * focal_softmax_labels() with gamma 0.
 */
FOCAL_API int focal_distribution_focal(const float *logits, const float *targets, size_t rows,
                                       size_t bins, const focal_options *opt,
                                       float *loss, float *grad);

/* ---- 1.5 ---------------------------------------------------------------- */

/* focal_box_iou_loss: the loss (docs/DESIGN.md §2.8). */
#define FOCAL_BOX_IOU        0 /* 1 - IoU                                    */
#define FOCAL_BOX_IOU_SQUARE 1 /* 1 - IoU^2  (mmdet IoULoss mode "square")   */
#define FOCAL_BOX_IOU_LOG    2 /* -log IoU   (mmdet IoULoss mode "log")      */
#define FOCAL_BOX_GIOU       3 /* 1 - GIoU (Rezatofighi et al. 2019)         */
#define FOCAL_BOX_DIOU       4 /* 1 - DIoU (Zheng et al. 2020)               */
#define FOCAL_BOX_CIOU       5 /* 1 - CIoU (Zheng et al. 2020)               */

/* focal_box_iou_loss: whose expression, eps placement included. The
 * libraries agree on the math and differ in where eps goes, in clamps and
 * in CIoU's alpha; each convention reproduces one library's expression. */
#define FOCAL_BOXES_TORCHVISION 0 /* torchvision.ops *_box_iou_loss (eps 1e-7)  */
#define FOCAL_BOXES_ULTRALYTICS 1 /* Ultralytics bbox_iou, xywh=False (1e-7)    */
#define FOCAL_BOXES_MMDET       2 /* mmdet IoULoss ... CIoULoss (1e-6)          */

/*
 * Box regression losses, IoU family: for each of `boxes` predicted boxes
 * and its target, both x1, y1, x2, y2 (row-major boxes x 4 floats), the
 * loss 1 - IoU, 1 - IoU^2, -log IoU, 1 - GIoU, 1 - DIoU or 1 - CIoU, and
 * its gradient with respect to the predicted coordinates, in one pass.
 *
 * pred, target boxes x 4 floats. Boxes need not be valid: zero-area and
 *          inverted boxes (x2 < x1) give what the convention's expression
 *          gives. A NaN in any of a pair's 8 coordinates makes its loss
 *          and its 4 gradients NaN.
 * loss_kind  FOCAL_BOX_*; convention FOCAL_BOXES_*; else FOCAL_EBOXLOSS.
 * eps      the convention's eps (>= 0 and finite, else FOCAL_EEPS): where
 *          it goes is the convention's (DESIGN §2.8).
 * opt      options, or NULL for the defaults: weight (one per box),
 *          reduction (MEAN divides by boxes) and normalizer as the row
 *          losses; alpha and gamma are not read; class_alpha,
 *          label_smoothing, pos_weight and flags must be NULL / 0
 *          (FOCAL_EOPTIONS).
 * loss     boxes floats for NONE, else one float.
 * grad     boxes x 4 floats, d(reduced loss) / d pred, or NULL; may be
 *          exactly `pred`.
 * At the kinks (min / max ties, clamps at their bounds) the gradient is
 * the one PyTorch's autograd gives for the convention's expression; CIoU's
 * alpha is a constant of the gradient, as in all three libraries.
 * Every kernel gives the same bits, whatever the thread count.
 */
FOCAL_API int focal_box_iou_loss(const float *pred, const float *target, size_t boxes,
                                 int loss_kind, int convention, float eps,
                                 const focal_options *opt, float *loss, float *grad);

/*
 * Smooth L1 (Huber with the slope 1 at |d| >= beta: torch's smooth_l1_loss,
 * mmdet's SmoothL1Loss) element-wise, and L1 with beta = 0:
 *
 *     d = pred - target
 *     loss = 0.5 d^2 / beta  where |d| < beta,  else |d| - 0.5 beta
 *     dloss/dpred = d / beta where |d| < beta,  else sign(d) (0 at d = 0)
 *
 * pred, target n floats each (any layout: boxes x 4 is the usual one).
 * beta     >= 0 and finite, else FOCAL_EBETA.
 * opt      weight (one per element), reduction (MEAN divides by n),
 *          normalizer; the rest as focal_box_iou_loss.
 * loss     n floats for NONE, else one. grad: n floats or NULL; may be
 *          exactly `pred`. NaN propagates to its element.
 */
FOCAL_API int focal_smooth_l1(const float *pred, const float *target, size_t n, float beta,
                              const focal_options *opt, float *loss, float *grad);

#ifdef __cplusplus
}
#endif

#endif /* FOCAL_FOCAL_H */
