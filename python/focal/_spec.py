# SPDX-License-Identifier: MIT
"""The one description of libfocal's loss entry points in the binding.

Each entry point is described once, here, as PyTorch's native_functions.yaml
describes its operators; from this table come

- the ctypes prototypes, set only when the loaded library has the symbol
  (focal._lib._declare), and which release a missing one needs
  (focal._lib.require: "needs libfocal >= 1.4 (focal_distribution_focal)");
- the call and its error (focal._lib.call_entry);
- the numpy functions' checks (focal._checked_call): which shape logits
  take, what the targets argument holds and its shape, which shape weight,
  pos_weight and class_alpha take, what "none" returns;
- the tests that cross every entry point (python/tests/test_spec.py: its
  prototype, its numpy function, its torch function and torch.ops.focal
  operator, whose schema comes from that function's signature, and its
  entry in the compile / mixed-precision case table).

The names are those of the test descriptors in tests/entry_points.c, so one
name means one entry point in C, Python and both test suites. A new entry
point adds one Entry here (and its numpy and torch functions, which the
tests then require); nothing else in the binding lists entry points.
"""

import collections

# name       the binding's and the C test descriptors' name for the entry point
# symbol     its C function
# since      the release that added it (its ELF version node, FOCAL_<since>)
# args       the C arguments in order, by role (their ctypes in ROLE_CTYPES)
# numpy      the numpy function in focal
# torch      the torchvision-style function in focal.torch, which is also the
#            name of its torch.ops.focal operator
# logits     "any": any shape, n elements; "rows": 2-D (rows, classes or bins);
#            "boxes": (boxes, 4), x1 y1 x2 y2
# targets    what the second argument holds: "floats" (targets in [0, 1],
#            shaped like logits), "scores" (the same, named scores), "labels"
#            (one int32 class index per row), "row targets" (one float per
#            row, in [0, bins - 1)), "values" (any floats, shaped like
#            logits: regression targets), "boxes" (target boxes, shaped like
#            logits)
# weight     the shape of focal_options.weight: "rows", "elements" or None
#            (not taken)
# pos_weight the shape of focal_options.pos_weight: "classes", "elements" or
#            None (not taken)
# class_alpha whether focal_options.class_alpha (one per class) is taken
# loss_none  what "none" returns: "elements" (shaped like logits) or "rows"
Entry = collections.namedtuple(
    "Entry", "name symbol since args numpy torch logits targets weight pos_weight class_alpha "
             "loss_none")

_OPTIONS_CALL = ("logits", "targets", "rows", "classes", "options", "loss", "grad")
_SCORES_CALL = ("logits", "targets", "n", "options", "loss", "grad")

ENTRY_POINTS = (
    Entry("sigmoid_loss_grad", "focal_sigmoid_loss_grad", (1, 0),
          ("logits", "targets", "n", "alpha", "gamma", "reduction", "loss", "grad"),
          "loss_and_grad", "sigmoid_focal_loss", "any", "floats", None, None, False,
          "elements"),
    Entry("sigmoid_labels", "focal_sigmoid_labels", (1, 1), _OPTIONS_CALL,
          "sigmoid_labels", "sigmoid_focal_loss_labels", "rows", "labels", "rows", "classes",
          True, "elements"),
    Entry("sigmoid_dense", "focal_sigmoid_dense", (1, 1), _OPTIONS_CALL,
          "sigmoid_dense", "sigmoid_focal_loss_dense", "rows", "floats", "rows", "classes",
          True, "elements"),
    Entry("softmax_labels", "focal_softmax_labels", (1, 1), _OPTIONS_CALL,
          "softmax_labels", "softmax_focal_loss", "rows", "labels", "rows", None, True, "rows"),
    Entry("quality_focal", "focal_quality_focal", (1, 1), _SCORES_CALL,
          "quality_focal", "quality_focal_loss", "any", "scores", "elements", "elements",
          False, "elements"),
    Entry("varifocal", "focal_varifocal", (1, 1), _SCORES_CALL,
          "varifocal", "varifocal_loss", "any", "scores", "elements", None, False, "elements"),
    Entry("distribution_focal", "focal_distribution_focal", (1, 4),
          ("logits", "targets", "rows", "bins", "options", "loss", "grad"),
          "distribution_focal", "distribution_focal_loss", "rows", "row targets", "rows", None,
          False, "rows"),
    Entry("box_iou", "focal_box_iou_loss", (1, 5),
          ("logits", "targets", "rows", "box_loss", "convention", "eps", "options", "loss",
           "grad"),
          "box_iou_loss", "box_iou_loss", "boxes", "boxes", "rows", None, False, "rows"),
    Entry("smooth_l1", "focal_smooth_l1", (1, 5),
          ("logits", "targets", "n", "beta", "options", "loss", "grad"),
          "smooth_l1", "smooth_l1_loss", "any", "values", "elements", None, False, "elements"),
)

# focal_box_iou_loss's losses and conventions, by the value of their C
# constants (FOCAL_BOX_*, FOCAL_BOXES_*: python/tests/test_spec.py checks
# them against focal.h), and each convention's library default eps.
BOX_LOSSES = ("iou", "iou_square", "iou_log", "giou", "diou", "ciou")
BOX_CONVENTIONS = ("torchvision", "ultralytics", "mmdet")
BOX_DEFAULT_EPS = {"torchvision": 1e-7, "ultralytics": 1e-7, "mmdet": 1e-6}


def box_codes(loss, convention):
    """The C constants of a box loss's and a convention's names (ValueError
    for another name)."""
    if loss not in BOX_LOSSES:
        raise ValueError(f"loss must be one of {', '.join(BOX_LOSSES)}, not {loss!r}")
    if convention not in BOX_CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(BOX_CONVENTIONS)}, "
                         f"not {convention!r}")
    return BOX_LOSSES.index(loss), BOX_CONVENTIONS.index(convention)


BY_NAME = {e.name: e for e in ENTRY_POINTS}

# The ctypes of each argument role: "ptr" (a raw address, 0 for NULL),
# "size", "float", "int".
ROLE_CTYPES = {
    "logits": "ptr", "targets": "ptr", "loss": "ptr", "grad": "ptr", "options": "ptr",
    "n": "size", "rows": "size", "classes": "size", "bins": "size",
    "alpha": "float", "gamma": "float", "reduction": "int",
    "box_loss": "int", "convention": "int", "eps": "float", "beta": "float",
}


def entry(name):
    """The Entry of that name; an unknown name is a KeyError, never another loss."""
    return BY_NAME[name]


def release(e):
    """'libfocal >= 1.4 (focal_distribution_focal)': what a missing entry point needs."""
    return f"libfocal >= {e.since[0]}.{e.since[1]} ({e.symbol})"
