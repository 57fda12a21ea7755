#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora tests/fuzz/corpus/sigmoid/ (fuzz_sigmoid.c),
tests/fuzz/corpus/rows/ (fuzz_rows.c) and tests/fuzz/corpus/family/
(fuzz_family.c).

The byte layouts are documented at the top of each fuzz target. Each seed
reaches one area: hard/soft/raw targets, in-place gradient, every gamma path,
argument errors, overlapping buffers, NULL inputs, options (class_alpha,
weight, smoothing, normalizer, size field), labels, the softmax / quality
focal / varifocal losses, and sizes past the 8 blocks that start the thread
pool. Deterministic: re-running it rewrites the
same files.
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def seed(out, tmode, lmode, smode, threads, n, alpha, gamma, red, offx=0, offt=0,
         offl=0, offg=0, ovl=0, poke=None, payload=b""):
    b = bytes([out, tmode | lmode << 2 | smode << 4 | threads << 6, n & 0xff, n >> 8])
    for v in (alpha, gamma):
        b += bytes([v]) if isinstance(v, int) else b"\xff" + struct.pack("<f", v)
    b += bytes([red, offx | offt << 4, offl | offg << 4, ovl | (8 if poke else 0)])
    if poke:
        b += struct.pack("<II", *poke)
    return b + payload


def rows_seed(labels, out, opt_null, threads, big, rows, classes, alpha, gamma, red,
              normalizer, smoothing, ca=0, w=0, size_variant=0, overlap=0, tmode=0,
              overflow=0, codings=0, offs=(0, 0, 0, 0), payload=b""):
    b = bytes([labels | out << 1 | opt_null << 4 | threads << 5 | big << 7, rows, classes])
    for v in (alpha, gamma):
        b += bytes([v]) if isinstance(v, int) else b"\xff" + struct.pack("<f", v)
    b += bytes([red])
    for v in (normalizer, smoothing):
        b += bytes([v]) if isinstance(v, int) else b"\xff" + struct.pack("<f", v)
    b += bytes([ca | w << 1 | size_variant << 2 | overlap << 4 | tmode << 5 | overflow << 7,
                codings, offs[0] | offs[1] << 4, offs[2] | offs[3] << 4])
    return b + payload


def without_pos_weight(payload):
    """The payload with fuzz_family's pos_weight / flag word (at a
    eleventh of its length) cleared in its low 3 bits: neither is passed,
    so a loss that takes neither gets past FOCAL_EOPTIONS."""
    b = bytearray(payload)
    if b:
        b[len(b) // 11] &= ~7 & 0xff
    return bytes(b)


# fuzz_family's slot 3: the descriptors with focal_options that no target
# fixes a slot for, in the order of focal_test_entries[] (tests/entry_points.c:
# DFL, then REGRESSION_ENTRIES: each box kind with the three conventions at
# their default eps, then at the large eps; smooth L1 at beta 1, 1/9, 0). The
# rows byte picks one (rows byte % their count): a new descriptor there
# changes which one a seed reaches, so the seeds below ask by name.
BOX_KINDS = ["iou", "iou_square", "iou_log", "giou", "diou", "ciou"]
BOX_CONVENTIONS = ["torchvision", "ultralytics", "mmdet", "torchvision_bigeps",
                   "ultralytics_bigeps", "mmdet_bigeps"]
SLOT3 = (["distribution_focal"] +
         ["box_%s_%s" % (k, c) for k in BOX_KINDS for c in BOX_CONVENTIONS] +
         ["smooth_l1_beta1", "smooth_l1_beta1_9", "smooth_l1_beta0"])


def slot3_rows(name, rows):
    """The rows byte that picks descriptor `name` in slot 3, with rows % 41
    (the rows of a small call) as close to `rows` as a byte allows, and not
    0 unless asked."""
    i = SLOT3.index(name)
    return min((b for b in range(256) if b % len(SLOT3) == i),
               key=lambda b: ((b % 41 == 0) != (rows == 0), abs(b % 41 - rows), b))


def family_seed(api, out, opt_null, threads, rows, classes, alpha, gamma, red, normalizer,
                smoothing, ca=0, w=0, size_variant=0, overlap=0, smode=0, overflow=0, big=0,
                codings=0, offs=(0, 0, 0, 0), payload=b""):
    b = bytes([api | out << 2 | opt_null << 5 | threads << 6, rows, classes])
    for v in (alpha, gamma):
        b += bytes([v]) if isinstance(v, int) else b"\xff" + struct.pack("<f", v)
    b += bytes([red])
    for v in (normalizer, smoothing):
        b += bytes([v]) if isinstance(v, int) else b"\xff" + struct.pack("<f", v)
    b += bytes([ca | w << 1 | size_variant << 2 | overlap << 4 | smode << 5 | overflow << 7,
                0xB1 if big else 0, codings, offs[0] | offs[1] << 4, offs[2] | offs[3] << 4])
    return b + payload


def main():
    rnd = random.Random(20240601)
    pay = lambda k: bytes(rnd.randrange(256) for _ in range(k))
    seeds = {
        # loss + grad, hard targets, int8/4 logits, gamma 2, sum
        "hard_sum_g2": seed(0, 1, 2, 0, 0, 37, 0, 0, 1, 3, 1, 2, 5, payload=pay(96)),
        # in-place grad + loss, soft targets, gamma 1.5, none, n = 300
        "soft_inplace_g1.5": seed(4, 2, 1, 2, 0, 300, 0, 5, 0, 1, 2, 3, 4, payload=pay(160)),
        # raw bits for both, gamma 0.7 (raw), mean, n = 17
        "raw_mean_graw": seed(0, 0, 0, 0, 0, 17, 1, 0.7, 2, payload=pay(68)),
        # special logits (inf, NaN, +-FLT_MAX, +-104, ...), mixed targets, gamma 0.5, grad only
        "special_mixed_g0.5": seed(2, 3, 3, 0, 0, 64, 4, 4, 0, 7, 9, 0, 15,
                                   payload=bytes(range(0, 64, 1)) * 2 + pay(64)),
        # argument errors: alpha NaN, bad reduction
        "bad_alpha": seed(0, 1, 2, 0, 0, 9, 5, 0, 1, payload=pay(16)),
        "bad_reduction": seed(1, 1, 2, 0, 0, 9, 0, 0, 0xFA, payload=pay(16)),
        "bad_gamma_inf": seed(0, 2, 2, 0, 0, 5, 0, 10, 2, payload=pay(16)),
        # overlapping buffers (grad inside the logits) and a NULL input
        "overlap": seed(6, 1, 2, 0, 0, 20, 0, 0, 0, offg=3, ovl=0, payload=pay(32)),
        "null_targets": seed(7, 1, 2, 0, 0, 12, 0, 0, 1, ovl=1, payload=pay(8)),
        # past 8 blocks on 2 threads, NaN target poked into the 9th block
        "pool_bad_target": seed(0, 3, 2, 3, 1, 0x01B1 | 0, 0, 0, 1,
                                poke=(8 * 16384 + 5, 0x7FC00000), payload=pay(256)),
        # past 8 blocks on 3 threads, valid targets, gamma 3, mean
        "pool_g3_mean": seed(0, 1, 1, 3, 2, 0x23B1, 0, 3, 2, 5, 6, 7, 8, payload=pay(256)),
    }
    # fuzz_rows: codings bits 0-1 logits (2: int8/4), 2-3 class_alpha,
    # 4-5 weight, 6-7 labels (0: -1..classes, 1: no ignored rows, 2: -3..classes+1)
    rows = {
        # labels, defaults (opt NULL), 9 rows x 7 classes, loss+grad
        "labels_defaults": rows_seed(1, 0, 1, 0, 0, 9, 7, 0, 0, 2, 0, 0, codings=2,
                                     payload=pay(128)),
        # labels, no ignored rows (labels == one-hot dense), class_alpha + weight, sum
        "labels_onehot_ca_w": rows_seed(1, 0, 0, 0, 0, 13, 17, 0, 0, 1, 0, 0, ca=1, w=1,
                                        codings=2 | 1 << 6, offs=(1, 2, 3, 4), payload=pay(200)),
        # dense, smoothing 0.1, normalizer 100, in-place + loss, gamma 1.5
        "dense_smooth_norm": rows_seed(0, 4, 0, 0, 0, 5, 33, 0, 5, 2, 5, 3, tmode=2, codings=2,
                                       payload=pay(160)),
        # dense with 1.0 options: must equal focal_sigmoid_loss_grad
        "dense_plain": rows_seed(0, 0, 0, 0, 0, 7, 16, 0, 4, 0, 0, 0, tmode=1, codings=1,
                                 offs=(5, 0, 7, 9), payload=pay(100)),
        # bad label (> classes), bad class_alpha, bad smoothing, small options size
        "labels_bad_label": rows_seed(1, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, codings=2 | 3 << 6,
                                      payload=bytes([5, 0, 0, 0]) * 48),
        "bad_class_alpha": rows_seed(0, 0, 0, 0, 0, 3, 5, 0, 0, 1, 0, 0, ca=1,
                                     codings=3 << 2, payload=b"\xff\x00\xc0\x7f" * 30),
        "bad_smoothing": rows_seed(0, 1, 0, 0, 0, 4, 4, 0, 0, 0, 0, 7, payload=pay(40)),
        "options_too_small": rows_seed(0, 0, 0, 0, 0, 4, 4, 0, 0, 0, 0, 0, size_variant=1,
                                       payload=pay(40)),
        "options_larger_dirty": rows_seed(1, 0, 0, 0, 0, 4, 4, 0, 0, 0, 0, 0, size_variant=3,
                                          payload=pay(40)),
        # weight inside the gradient buffer (FOCAL_EOVERLAP); rows x classes overflow
        "overlap_weight": rows_seed(0, 0, 0, 0, 0, 8, 8, 0, 0, 0, 0, 0, w=1, overlap=1,
                                    offs=(0, 0, 0, 3), payload=pay(64)),
        "overflow_esize": rows_seed(1, 0, 0, 0, 0, 200, 7, 0, 0, 1, 0, 0, overflow=1),
        # past 8 blocks on 2 threads: labels with every option
        "pool_labels_all": rows_seed(1, 0, 0, 1, 1, 100, 3, 0, 5, 2, 0, 3, ca=1, w=1,
                                     codings=2, payload=pay(256)),
    }
    # fuzz_family: api 0 softmax, 1 quality, 2 varifocal, 3 the descriptors
    # with focal_options no target names (a later loss: its seeds go here,
    # the rows byte picks among them: 1.4's distribution_focal is the only
    # one, so any rows byte); codings bits 0-1
    # logits (1: int16/256, 2: int8/4, 3: special), 2-3 class_alpha (3: some
    # raw bits), 4-5 weight (1: [0, 1], 2: int8, 3: raw bits), 6-7 labels (0:
    # -1..classes-1, 1: no ignored rows, 2: -3..classes+1, 3: raw); score
    # modes 0 IoU-like, 1 uniform, 2 0 / 1 / at sigmoid(x), 3 some raw bits.
    # Table indices: gamma 0: 2, 1: 0, 2: 1, 3: 3, 4: 0.5, 6: 8, 13: 0.1;
    # normalizer 3: 1, 5: 100, 7: NaN, 9: 1e-40; smoothing 3: 0.1, 7: 1.0.
    # DFL's row targets take the score mode: 0 on a bin, 1 anywhere, 2 just
    # below the last bin, 3 some raw bits and the last bin (FOCAL_ETARGET).
    # The regression targets (boxes, smooth L1) take it too: 0 the
    # prediction moved (ties among them), 1 the prediction (identical
    # boxes), 2 values of their own, 3 some raw bits (NaN, infinities).
    S, Q, V, D = 0, 1, 2, 3
    r3 = slot3_rows
    dfl = r3("distribution_focal", 35)  # rows byte 240: 35 rows
    family = {
        # softmax, defaults (opt NULL), 9 rows x 7 classes, some rows ignored
        "softmax_defaults": family_seed(S, 0, 1, 0, 9, 7, 0, 0, 2, 0, 0, codings=2,
                                        payload=pay(160)),
        # softmax, every option: class_alpha, weight, smoothing 0.1, normalizer 100
        "softmax_all_options": family_seed(S, 0, 0, 0, 13, 17, 0, 4, 1, 5, 3, ca=1, w=1,
                                           codings=1 | 1 << 4, offs=(1, 2, 3, 4),
                                           payload=pay(240)),
        # softmax, special logits (+-inf, NaN, FLT_MAX, 1e30), gamma 0 / 1 / 3
        "softmax_special_g0": family_seed(S, 4, 0, 0, 11, 5, 1, 1, 0, 0, 0, codings=3,
                                          payload=bytes(range(64)) + pay(96)),
        "softmax_special_g1": family_seed(S, 0, 0, 0, 8, 3, 0, 2, 0, 0, 0, codings=3 | 1 << 6,
                                          payload=bytes(range(0, 128, 3)) + pay(64)),
        "softmax_ties_g3": family_seed(S, 2, 0, 0, 6, 20, 0, 3, 2, 0, 0, codings=2 | 1 << 6,
                                       payload=bytes([4, 4, 4, 4, 0, 0, 0, 0]) * 16),
        # softmax, one class; label == classes and > classes (FOCAL_ELABEL)
        "softmax_one_class": family_seed(S, 0, 0, 0, 5, 1, 0, 4, 0, 0, 0, codings=2,
                                         payload=pay(40)),
        "softmax_bad_label": family_seed(S, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, codings=2 | 3 << 6,
                                         payload=bytes([4, 0, 0, 0]) * 48),
        # softmax, bad class_alpha, smoothing 1.0, ESIZE, weight inside the loss
        "softmax_bad_class_alpha": family_seed(S, 0, 0, 0, 3, 5, 0, 0, 1, 0, 0, ca=1,
                                               codings=3 << 2, payload=b"\xff\x00\xc0\x7f" * 30),
        "softmax_bad_smoothing": family_seed(S, 1, 0, 0, 4, 4, 0, 0, 0, 0, 7, payload=pay(40)),
        "softmax_overflow": family_seed(S, 0, 0, 0, 200, 7, 0, 0, 1, 0, 0, overflow=1),
        "softmax_overlap_weight": family_seed(S, 0, 0, 0, 8, 8, 0, 0, 0, 0, 0, w=1, overlap=1,
                                              offs=(0, 0, 0, 3), payload=pay(64)),
        # softmax past 8 blocks on 2 threads, every option
        "softmax_pool": family_seed(S, 0, 0, 1, 100, 3, 0, 4, 2, 0, 3, ca=1, w=1, big=1,
                                    codings=1, payload=pay(256)),
        # quality focal: IoU-like scores, gamma 2, mean; scores at sigmoid(x)
        # with gamma 0.1 (the unbounded slope of |s - p|^g); raw scores (ETARGET)
        "quality_iou": family_seed(Q, 0, 0, 0, 7, 9, 0, 0, 2, 0, 0, codings=1, payload=pay(200)),
        "quality_at_sigmoid_g0.1": family_seed(Q, 0, 0, 0, 5, 13, 0, 13, 0, 0, 0, smode=2,
                                               codings=1, offs=(3, 5, 0, 1), payload=pay(200)),
        "quality_special_weight": family_seed(Q, 4, 0, 0, 3, 11, 0, 2, 1, 3, 0, w=1, smode=1,
                                              codings=3 | 1 << 4, payload=bytes(range(64)) * 2),
        "quality_bad_score": family_seed(Q, 0, 0, 0, 4, 8, 0, 0, 0, 0, 0, smode=3,
                                         payload=b"\xff\xff\xff\xff" * 40),
        "quality_class_alpha": family_seed(Q, 0, 0, 0, 2, 3, 0, 0, 0, 0, 0, ca=1,
                                           codings=3 << 2, payload=pay(32)),
        "quality_smoothing": family_seed(Q, 0, 0, 0, 2, 3, 0, 0, 0, 0, 13, payload=pay(32)),
        # varifocal: defaults, alpha 0.75 with gamma 3, negative weights, NaN
        # normalizer, options size too small, ESIZE, pool
        "varifocal_defaults": family_seed(V, 0, 1, 0, 6, 6, 0, 0, 0, 0, 0, payload=pay(100)),
        "varifocal_a075_g3": family_seed(V, 3, 0, 0, 9, 5, 10, 3, 0, 0, 0, w=1, smode=2,
                                         codings=2 | 2 << 4, payload=pay(120)),
        "varifocal_bad_normalizer": family_seed(V, 0, 0, 0, 3, 3, 0, 0, 2, 7, 0, payload=pay(20)),
        "varifocal_options_small": family_seed(V, 0, 0, 0, 3, 3, 0, 0, 2, 0, 0, size_variant=1,
                                               payload=pay(20)),
        "varifocal_overflow": family_seed(V, 2, 0, 0, 9, 9, 0, 0, 1, 0, 0, overflow=1),
        "varifocal_pool": family_seed(V, 0, 0, 2, 30, 1, 0, 0, 2, 9, 0, w=1, big=1, codings=1,
                                      payload=pay(256)),
        # distribution focal: 16 and 17 bins (defaults; weight and normalizer
        # 100), targets on a bin and just below the last, special logits,
        # raw targets (FOCAL_ETARGET), one bin (no valid target), alpha NaN
        # and gamma 8 (not read), overlap, ESIZE, pool
        "dfl_defaults_16": family_seed(D, 0, 1, 0, dfl, 16, 0, 0, 2, 0, 0, smode=1,
                                       payload=without_pos_weight(pay(240))),
        "dfl_weight_17": family_seed(D, 0, 0, 0, dfl, 17, 0, 0, 1, 5, 0, w=1, smode=2,
                                     codings=1 | 1 << 4, offs=(1, 2, 3, 4),
                                     payload=without_pos_weight(pay(240))),
        "dfl_on_bins_special": family_seed(D, 4, 0, 0, dfl, 5, 0, 0, 0, 0, 0, smode=0,
                                           codings=3,
                                           payload=without_pos_weight(bytes(range(64)) + pay(96))),
        "dfl_bad_target": family_seed(D, 0, 0, 0, dfl, 4, 0, 0, 0, 0, 0, smode=3,
                                      payload=without_pos_weight(b"\xff\xff\xff\xff" * 40)),
        "dfl_one_bin": family_seed(D, 0, 0, 0, dfl, 1, 0, 0, 0, 0, 0, smode=1,
                                   payload=without_pos_weight(pay(40))),
        "dfl_alpha_nan_g8": family_seed(D, 2, 0, 0, dfl, 9, float("nan"), 6, 0, 0, 0, smode=1,
                                        payload=without_pos_weight(pay(64))),
        "dfl_overlap_weight": family_seed(D, 0, 0, 0, dfl, 8, 0, 0, 0, 0, 0, w=1, overlap=1,
                                          smode=1, offs=(0, 0, 0, 3),
                                          payload=without_pos_weight(pay(64))),
        "dfl_overflow": family_seed(D, 0, 0, 0, r3("distribution_focal", 36), 16, 0, 0, 1, 0, 0,
                                    overflow=1),
        "dfl_pool": family_seed(D, 0, 0, 1, dfl, 7, 0, 0, 2, 0, 0, w=1, big=1, smode=1,
                                codings=1, payload=without_pos_weight(pay(256))),
        # box losses (one descriptor per kind, convention and eps): 40 boxes
        # with defaults, targets near the predictions; weight, normalizer
        # 100 and identical boxes; special coordinates (inf, NaN, FLT_MAX)
        # and raw targets; options they refuse (class_alpha, smoothing 0.2:
        # FOCAL_EOPTIONS), alpha NaN and gamma 8 (not read); a weight inside
        # the loss; ESIZE; past 8 blocks of boxes on 2 threads
        "box_iou_defaults": family_seed(D, 0, 1, 0, r3("box_iou_torchvision", 40), 4, 0, 0,
                                        2, 0, 0, smode=0, codings=1,
                                        payload=without_pos_weight(pay(240))),
        "box_giou_mmdet_weight": family_seed(D, 0, 0, 0, r3("box_giou_mmdet", 11), 4, 0, 0,
                                             1, 5, 0, w=1, smode=1, codings=1 | 1 << 4,
                                             offs=(1, 2, 3, 4),
                                             payload=without_pos_weight(pay(240))),
        "box_ciou_ultralytics_special": family_seed(D, 4, 0, 0, r3("box_ciou_ultralytics", 7),
                                                    4, 0, 0, 0, 0, 0, smode=3, codings=3,
                                                    payload=without_pos_weight(
                                                        bytes(range(64)) + pay(96))),
        "box_iou_log_tv_near": family_seed(D, 0, 0, 0, r3("box_iou_log_torchvision", 13), 4,
                                           0, 0, 0, 0, 0, smode=0, codings=2,
                                           payload=without_pos_weight(pay(240))),
        "box_diou_bigeps_class_alpha": family_seed(D, 0, 0, 0,
                                                   r3("box_diou_ultralytics_bigeps", 5), 4, 0,
                                                   0, 0, 0, 0, ca=1, codings=3 << 2,
                                                   payload=without_pos_weight(pay(64))),
        "box_iou_square_smoothing": family_seed(D, 0, 0, 0, r3("box_iou_square_mmdet", 5), 4,
                                                0, 0, 0, 0, 13,
                                                payload=without_pos_weight(pay(64))),
        "box_giou_alpha_nan_g8": family_seed(D, 2, 0, 0, r3("box_giou_torchvision", 6), 4,
                                             float("nan"), 6, 0, 0, 0, smode=2, codings=1,
                                             payload=without_pos_weight(pay(96))),
        "box_ciou_mmdet_overlap_weight": family_seed(D, 0, 0, 0, r3("box_ciou_mmdet", 8), 4,
                                                     0, 0, 0, 0, 0, w=1, overlap=1, smode=0,
                                                     offs=(0, 0, 0, 3),
                                                     payload=without_pos_weight(pay(96))),
        "box_iou_mmdet_overflow": family_seed(D, 0, 0, 0, r3("box_iou_mmdet", 0), 4, 0, 0, 1,
                                              0, 0, overflow=1),
        "box_ciou_torchvision_pool": family_seed(D, 0, 0, 1, r3("box_ciou_torchvision", 0),
                                                 4, 0, 0, 2, 0, 0, w=1, big=1, smode=0,
                                                 codings=1,
                                                 payload=without_pos_weight(pay(256))),
        # smooth L1 (beta 1, 1/9, 0): defaults; weights and normalizer with
        # targets at the predictions (d = 0); special values and raw
        # targets; ESIZE; past 8 blocks on 3 threads
        "smooth_l1_defaults": family_seed(D, 0, 1, 0, r3("smooth_l1_beta1", 9), 7, 0, 0, 2,
                                          0, 0, smode=0, codings=2,
                                          payload=without_pos_weight(pay(240))),
        "smooth_l1_beta1_9_weight": family_seed(D, 1, 0, 0, r3("smooth_l1_beta1_9", 12), 5,
                                                0, 0, 1, 5, 0, w=1, smode=1,
                                                codings=1 | 1 << 4,
                                                payload=without_pos_weight(pay(240))),
        "smooth_l1_beta0_special": family_seed(D, 4, 0, 0, r3("smooth_l1_beta0", 7), 9, 0, 0,
                                               0, 0, 0, smode=3, codings=3,
                                               payload=without_pos_weight(
                                                   bytes(range(64)) + pay(96))),
        "smooth_l1_overflow": family_seed(D, 0, 0, 0, r3("smooth_l1_beta1", 0), 9, 0, 0, 1, 0,
                                          0, overflow=1),
        "smooth_l1_pool": family_seed(D, 0, 0, 2, r3("smooth_l1_beta0", 0), 1, 0, 0, 2, 0, 0,
                                      w=1, big=1, smode=2, codings=1,
                                      payload=without_pos_weight(pay(256))),
    }
    for sub, group in (("sigmoid", seeds), ("rows", rows), ("family", family)):
        d = os.path.join(OUT, sub)
        os.makedirs(d, exist_ok=True)
        for name, data in group.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
