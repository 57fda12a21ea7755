# SPDX-License-Identifier: MIT
"""Python binding of libfocal: the sigmoid focal loss and its gradient in one pass.

    loss, grad = focal.loss_and_grad(logits, targets, alpha=0.25, gamma=2.0,
                                     reduction="mean")

libfocal 1.1 adds row-structured inputs (rows x classes logits) with class
index labels or dense targets, per-class alpha, row weights, a normalizer and
label smoothing:

    loss, grad = focal.sigmoid_labels(logits, labels, normalizer=num_pos,
                                      weight=anchor_weights)

It also has the softmax focal loss (one class index per row), the quality
focal loss (GFL) and the varifocal loss (VFNet), each with its gradient:

    loss, grad = focal.softmax_labels(logits, labels, gamma=2.0)
    loss, grad = focal.quality_focal(logits, iou_scores, gamma=2.0)
    loss, grad = focal.varifocal(logits, iou_scores, alpha=0.75, gamma=2.0)

libfocal 1.4 adds the Distribution Focal Loss (GFL's box term, Ultralytics'
DFLoss): rows of logits over `bins` bins against one continuous target each:

    loss, grad = focal.distribution_focal(box_logits, distances)

The shared library is found through $FOCAL_LIBRARY, else the copy installed
inside this package (pip install), else the repository's
build/default/lib/libfocal.so.1, else the system loader (libfocal.so.1);
focal.library_path says which. focal.__version__ is the loaded library's
version (focal_version_string()), which the wheel's metadata also carries.
`focal.torch.sigmoid_focal_loss` is a drop-in for torchvision's;
`focal.torch` also has autograd wrappers of the 1.1 calls and an mmdet-style
`FocalLoss` module.
"""

import numpy as np

from ._lib import FocalError, strerror
from . import _lib, _spec

__all__ = ["FocalError", "__version__", "box_iou_loss", "distribution_focal", "isa", "kernels", "loss_and_grad",
           "num_threads", "quality_focal", "set_isa", "set_num_threads", "sigmoid_dense", "sigmoid_labels",
           "smooth_l1", "softmax_labels", "strerror", "supported_kernels", "varifocal", "version",
           "version_info"]


def version():
    """The loaded library's version string, e.g. "1.0.0"."""
    return _lib.lib.focal_version_string().decode()


__version__ = version()
_v = _lib.lib.focal_version()
version_info = (_v >> 16, (_v >> 8) & 0xFF, _v & 0xFF)
library_path = _lib.path
del _v


def isa():
    """The active kernel: one of kernels()."""
    return _lib.lib.focal_isa().decode()


def kernels():
    """The kernels built into the loaded library, in its order of preference
    (focal_kernel_name); supported_kernels() says which this CPU runs."""
    if not hasattr(_lib.lib, "focal_kernel_name"):
        raise NotImplementedError(f"focal.kernels needs libfocal >= 1.2, loaded {version()}")
    names, i = [], 0
    while (name := _lib.lib.focal_kernel_name(i)) is not None:
        names.append(name.decode())
        i += 1
    return names


def supported_kernels():
    """The kernels of kernels() that this CPU runs (focal_kernel_supported)."""
    return [k for k in kernels() if _lib.lib.focal_kernel_supported(k.encode()) == 1]


def set_isa(name):
    """Select a kernel by name (or "auto"); ValueError if unknown or unsupported here."""
    if not isinstance(name, str):
        raise TypeError(f"kernel name must be a str, not {type(name).__name__}")
    rc = _lib.lib.focal_set_isa(name.encode())
    if rc != _lib.OK:
        raise FocalError(rc, repr(name))


def num_threads():
    """Threads each call uses (1 with a 1.0 library, which has no threads)."""
    if not hasattr(_lib.lib, "focal_num_threads"):
        return 1
    return _lib.lib.focal_num_threads()


def set_num_threads(n):
    """Threads per call (libfocal >= 1.1); 0 restores the default. Results never change."""
    if not hasattr(_lib.lib, "focal_set_num_threads"):
        raise NotImplementedError(f"libfocal {version()} has no threads (needs 1.1)")
    rc = _lib.lib.focal_set_num_threads(int(n))
    if rc != _lib.OK:
        raise FocalError(rc, repr(n))


def _as_f32(a):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"expected a real numeric array, got dtype {a.dtype}")
    return np.asarray(a, dtype=np.float32, order="C")  # (ascontiguousarray makes 0-d 1-d)


def loss_and_grad(logits, targets, alpha=0.25, gamma=2.0, reduction="mean"):
    """Focal loss of `logits` against `targets` in [0, 1] and d(loss)/d(logits).

    Arrays of any (equal) shape; other dtypes and layouts are converted to
    contiguous float32. Returns (loss, grad): grad is a float32 array shaped
    like logits; loss is a Python float for "sum"/"mean" and a float32 array
    shaped like logits for "none". alpha < 0 disables class balancing.
    Raises ValueError (a FocalError for the library's own checks) on a shape
    mismatch, a bad alpha, gamma or reduction, or a target outside [0, 1].
    """
    return _checked_call("sigmoid_loss_grad", logits, targets, reduction, alpha=alpha,
                         gamma=gamma)


# ---- 1.1: row-structured inputs with focal_options ---------------------------

_INT32 = np.iinfo(np.int32)


def _as_labels(labels, rows, classes):
    """Class indices as contiguous int32, same meaning as the given integers."""
    a = np.asarray(labels)
    if a.size == 0 and a.dtype == np.float64:
        a = a.astype(np.int32)  # np.asarray([]) is float64: an empty list is fine
    if a.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers (class indices), got dtype {a.dtype}")
    if a.shape != (rows,):
        raise ValueError(f"labels must have shape ({rows},) (one per logits row), "
                         f"got {a.shape}")
    if a.dtype.itemsize >= 4 and a.dtype != np.int32 and a.size:
        # Every value < 0 means "ignored" and every value > classes is an
        # error: clipping first keeps that meaning through the int32 cast
        # (a plain cast would wrap 2**32 to 0). Narrower integers cast exactly.
        top = min(classes + 1, int(_INT32.max))
        a = np.minimum(a, top) if a.dtype.kind == "u" else np.clip(a, -1, top)
    return np.ascontiguousarray(a, dtype=np.int32)


def _as_vector(a, n, name, what):
    if a is None:
        return None
    a = _as_f32(a)
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) ({what}), got {a.shape}")
    return a


def _address(a):
    return 0 if a is None else a.ctypes.data


def _like_logits(a, shape, name):
    if a is None:
        return None
    a = _as_f32(a)
    if a.shape != shape:
        raise ValueError(f"{name} must be shaped like logits {shape}, got {a.shape}")
    return a


def _checked_call(name, logits, targets, reduction, alpha=0.0, gamma=0.0, normalizer=0.0,
                  label_smoothing=0.0, class_alpha=None, weight=None, pos_weight=None,
                  flags=0, **scalars):
    """The entry point `name` of _spec.ENTRY_POINTS on numpy inputs: the checks
    its description asks for (the shape of logits, what its targets hold, the
    shapes of the option arrays it takes), its options, its outputs, the
    call. Options it does not take must be left at their defaults (the
    public functions do not offer them); scalars are its own arguments by
    role (box_loss, convention, eps, beta). Returns (loss, grad)."""
    e = _spec.entry(name)
    if e.since > (1, 0):
        _lib.require(name, f"focal.{e.numpy}")
    red = _lib.reduction_code(reduction)
    x = _as_f32(logits)
    if e.logits == "rows":
        if x.ndim != 2:
            cols = "bins" if e.targets == "row targets" else "classes"
            raise ValueError(f"logits must be 2-D (rows, {cols}), got shape {x.shape}")
        rows, classes = x.shape
    elif e.logits == "boxes":
        if x.ndim != 2 or x.shape[1] != 4:
            raise ValueError(f"pred must be (boxes, 4): x1, y1, x2, y2, got shape {x.shape}")
        rows, classes = x.shape
    else:
        rows, classes = x.size, 1
    if e.targets == "labels":
        t = _as_labels(targets, rows, classes)
    elif e.targets == "row targets":
        t = _as_vector(targets, rows, "targets", "one target per logits row")
    else:
        t = _as_f32(targets)
        if t.shape != x.shape:
            noun = {"scores": "scores", "boxes": "target boxes"}.get(e.targets, "targets")
            first = "pred" if e.logits == "boxes" else "logits"
            raise ValueError(f"{first} and {noun} differ in shape: {x.shape} vs {t.shape}")
    arrays = {"rows": lambda a, n, what: _as_vector(a, rows, n, what),
              "classes": lambda a, n, what: _as_vector(a, classes, n, what),
              "elements": lambda a, n, what: _like_logits(a, x.shape, n)}
    ca = arrays["classes"](class_alpha, "class_alpha", "one alpha per class") \
        if e.class_alpha else None
    what = "one weight per box" if e.logits == "boxes" else "one weight per row"
    w = arrays[e.weight](weight, "weight", what) if e.weight else None
    pw = arrays[e.pos_weight](pos_weight, "pos_weight", "one positive weight per class") \
        if e.pos_weight else None
    grad = np.empty_like(x)
    if red != 0:
        loss = np.empty((), np.float32)
    else:
        loss = np.empty(rows, np.float32) if e.loss_none == "rows" else np.empty_like(x)
    # x, t and the option arrays are alive until the call returns.
    values = {"logits": x.ctypes.data, "targets": t.ctypes.data, "n": x.size, "rows": rows,
              "classes": classes, "bins": classes, "alpha": float(alpha),
              "gamma": float(gamma), "reduction": red, "loss": loss.ctypes.data,
              "grad": grad.ctypes.data, **scalars}
    if "options" in e.args:
        values["options"] = _lib.make_options(float(alpha), float(gamma), red,
                                              float(normalizer), float(label_smoothing),
                                              _address(ca), _address(w), _address(pw), flags)
    _lib.call_entry(name, *(values[role] for role in e.args))
    return (loss if red == 0 else float(loss)), grad


def sigmoid_labels(logits, labels, alpha=0.25, gamma=2.0, reduction="mean", normalizer=0.0,
                   label_smoothing=0.0, class_alpha=None, weight=None, pos_weight=None):
    """Focal loss with one class index per row, and d(loss)/d(logits) (libfocal >= 1.1).

    logits: (rows, classes), converted to contiguous float32 like
    loss_and_grad. labels: (rows,) integers (any integer dtype): c in
    [0, classes) is the row's positive class, classes is background (every
    class negative), < 0 ignores the row (loss and gradient 0, not counted by
    "mean"); > classes is an error. alpha, gamma as loss_and_grad (alpha is
    ignored when class_alpha is given). normalizer: 0 keeps the default
    divisor (1 for "sum", the non-ignored element count for "mean"); > 0
    divides "sum" and "mean" by it instead (e.g. the number of positives).
    label_smoothing in [0, 1): targets t become t (1 - ls) + ls / 2.
    class_alpha: (classes,) per-class alpha in [0, 1], or None. weight:
    (rows,) weight multiplying the loss and gradient of every element of its
    row, or None. pos_weight: (classes,) BCE positive weights >= 0 (torch's
    BCEWithLogitsLoss(pos_weight=...)), the cross-entropy becoming
    pw t softplus(-x) + (1 - t) softplus(x); None is pw = 1 (libfocal >= 1.2).

    Returns (loss, grad): grad is float32 (rows, classes); loss a Python float
    for "sum"/"mean", a float32 (rows, classes) array for "none". Raises
    ValueError for bad shapes or non-integer labels, FocalError (a ValueError)
    for what the library rejects, NotImplementedError with a 1.0 library.
    """
    return _checked_call("sigmoid_labels", logits, labels, reduction, alpha, gamma, normalizer,
                         label_smoothing, class_alpha, weight, pos_weight)


def sigmoid_dense(logits, targets, alpha=0.25, gamma=2.0, reduction="mean", normalizer=0.0,
                  label_smoothing=0.0, class_alpha=None, weight=None, pos_weight=None):
    """sigmoid_labels with dense targets in [0, 1] of logits' (rows, classes) shape.

    No rows are ignored; "mean" divides by rows * classes unless normalizer > 0.
    With the default options the results are the bits of loss_and_grad.
    """
    return _checked_call("sigmoid_dense", logits, targets, reduction, alpha, gamma, normalizer,
                         label_smoothing, class_alpha, weight, pos_weight)


# ---- 1.1: softmax focal, quality focal, varifocal -----------------------------


def softmax_labels(logits, labels, alpha=0.25, gamma=2.0, reduction="mean", normalizer=0.0,
                   label_smoothing=0.0, class_alpha=None, weight=None):
    """Softmax focal loss with one class index per row, and d(loss)/d(logits).

    loss_r = sum_c y'_c a_c (1 - p_c)^gamma (-log p_c), p = softmax(logits[r]),
    y' the one-hot of labels[r] smoothed to y (1 - ls) + ls / classes, a_c =
    class_alpha[c], else alpha (alpha < 0: 1). logits: (rows, classes);
    labels: (rows,) integers in [0, classes), < 0 ignores the row, >= classes
    is an error. weight: (rows,). "mean" divides by the non-ignored rows
    unless normalizer > 0. Returns (loss, grad): loss a float, or a float32
    (rows,) array for "none"; grad float32 (rows, classes).
    """
    return _checked_call("softmax_labels", logits, labels, reduction, alpha, gamma, normalizer,
                         label_smoothing, class_alpha, weight)


def quality_focal(logits, scores, gamma=2.0, reduction="mean", normalizer=0.0, weight=None,
                  pos_weight=None, alpha=None):
    """Quality focal loss (GFL; mmdet's quality_focal_loss with beta = gamma).

    loss = |scores - sigmoid(logits)|^gamma * BCE(logits, scores), scores in
    [0, 1] shaped like logits (e.g. the IoU at the positive class, 0
    elsewhere). The gradient is the full derivative. weight: per element,
    shaped like logits. Returns (loss, grad) as loss_and_grad.

    Ultralytics' QFocalLoss (libfocal >= 1.2): pos_weight, shaped like
    logits, weighs the positive part of the BCE (pw s softplus(-x) + (1 - s)
    softplus(x)); alpha, when not None, multiplies the loss by
    a_t = alpha s + (1 - alpha)(1 - s) (alpha < 0: a_t = 1). None for both
    is mmdet's loss.
    """
    flags = 0 if alpha is None else _lib.FLAG_QUALITY_ALPHA
    return _checked_call("quality_focal", logits, scores, reduction,
                         0.0 if alpha is None else alpha, gamma, normalizer, weight=weight,
                         pos_weight=pos_weight, flags=flags)


def varifocal(logits, scores, alpha=0.75, gamma=2.0, reduction="mean", normalizer=0.0,
              weight=None):
    """Varifocal loss (VFNet; mmdet's varifocal_loss, iou_weighted=True).

    loss = w * BCE(logits, scores), w = scores where scores > 0, else
    alpha * sigmoid(logits)^gamma (alpha < 0: 1). The gradient is the full
    derivative (w not detached). weight: per element. Returns (loss, grad).
    """
    return _checked_call("varifocal", logits, scores, reduction, alpha, gamma, normalizer,
                         weight=weight)


# ---- 1.4: Distribution Focal Loss ---------------------------------------------


def distribution_focal(logits, targets, reduction="mean", normalizer=0.0, weight=None):
    """Distribution Focal Loss (GFL, Li et al. 2020) and d(loss)/d(logits) (libfocal >= 1.4).

    Each row of logits is a distribution over `bins` bins (softmax); its
    target t lies between the bins l = floor(t) and l + 1:

        loss_r = wl CE(logits[r], l) + wr CE(logits[r], l + 1),
        wl = l + 1 - t (rounded to float32 once), wr = t - l

    (mmdet's distribution_focal_loss; Ultralytics' DFLoss before its mean
    over the 4 sides). logits: (rows, bins); targets: (rows,) numbers in
    [0, bins - 1), converted to float32 like the logits; weight: (rows,)
    multiplying each row's loss and gradient, or None. "mean" divides by rows
    unless normalizer > 0, which "sum" and "mean" then divide by. Returns
    (loss, grad): loss a float, or a float32 (rows,) array for "none"; grad
    float32 (rows, bins). Raises ValueError for bad shapes, FocalError (a
    ValueError) for a target that is NaN or outside [0, bins - 1) (nothing is
    computed then), NotImplementedError with a library older than 1.4.
    """
    # alpha and gamma are not read.
    return _checked_call("distribution_focal", logits, targets, reduction,
                         normalizer=normalizer, weight=weight)


# ---- 1.5: box regression losses -----------------------------------------------


def box_iou_loss(pred, target, loss="ciou", convention="torchvision", eps=None,
                 reduction="mean", normalizer=0.0, weight=None):
    """An IoU-family box regression loss and d(loss)/d(pred) (libfocal >= 1.5).

    pred, target: (boxes, 4) boxes x1, y1, x2, y2, converted to contiguous
    float32. loss: "iou" (1 - IoU), "iou_square" (1 - IoU^2), "iou_log"
    (-log IoU), "giou", "diou" or "ciou" (1 - GIoU, DIoU, CIoU).
    convention: whose expression, eps placement and clamps included:
    "torchvision" (torchvision.ops.*_box_iou_loss), "ultralytics" (its
    bbox_iou with xywh=False) or "mmdet" (IoULoss ... CIoULoss); docs/DESIGN.md
    §2.8 has the table. eps: that library's default when None (1e-7, 1e-7,
    1e-6). weight: (boxes,) or None. "mean" divides by boxes unless
    normalizer > 0. Returns (loss, grad): loss a float, or a float32 (boxes,)
    array for "none"; grad float32 (boxes, 4). Raises ValueError for bad
    shapes or names, FocalError (a ValueError) for what the library rejects
    (eps < 0 or not finite), NotImplementedError with a library older than 1.5.
    """
    kind, conv = _spec.box_codes(loss, convention)
    if eps is None:
        eps = _spec.BOX_DEFAULT_EPS[convention]
    return _checked_call("box_iou", pred, target, reduction, normalizer=normalizer,
                         weight=weight, box_loss=kind, convention=conv, eps=float(eps))


def smooth_l1(pred, target, beta=1.0, reduction="mean", normalizer=0.0, weight=None):
    """Smooth L1 (beta > 0) or L1 (beta = 0) and d(loss)/d(pred) (libfocal >= 1.5).

    Element-wise over pred and target of one shape (torch's smooth_l1_loss,
    mmdet's SmoothL1Loss / L1Loss): 0.5 d^2 / beta where |d| < beta, else
    |d| - 0.5 beta, d = pred - target. weight: like pred, or None. "mean"
    divides by the element count unless normalizer > 0. Returns (loss, grad)
    as box_iou_loss, "none" giving a float32 array shaped like pred. Raises
    FocalError for beta < 0 or not finite.
    """
    return _checked_call("smooth_l1", pred, target, reduction, normalizer=normalizer,
                         weight=weight, beta=float(beta))
