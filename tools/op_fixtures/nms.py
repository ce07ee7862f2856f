"""Non-maximum suppression (rules/nms.rules): NonMaxSuppressionV3 (variable-length output),
V5 padded and unpadded (indices, scores, count), V1, with score thresholds that drop boxes,
one that drops every box (TF selects none; the layer would report one), flipped corners
(y1 > y2) and max_output_size below the number of survivors. Scores are distinct and no IoU
lies within 1e-3 of the threshold, so the selection does not hinge on round-off. Soft NMS and
a run-time max_output_size are refused."""
import numpy as np
import tensorflow as tf

from . import case, spec


def iou(a, b):
    ya0, ya1 = sorted((a[0], a[2]))
    xa0, xa1 = sorted((a[1], a[3]))
    yb0, yb1 = sorted((b[0], b[2]))
    xb0, xb1 = sorted((b[1], b[3]))
    inter = max(min(ya1, yb1) - max(ya0, yb0), 0) * max(min(xa1, xb1) - max(xa0, xb0), 0)
    union = (ya1 - ya0) * (xa1 - xa0) + (yb1 - yb0) * (xb1 - xb0) - inter
    return inter / union if union > 0 else 0.0


def boxes_and_scores(rng, n, iou_threshold, flip=False):
    """`n` boxes in three clusters (so several overlap above the threshold), distinct scores in
    (0, 1), every pairwise IoU at least 1e-3 away from the threshold."""
    while True:
        centres = rng.uniform(0.2, 0.8, size=(3, 2))[rng.integers(0, 3, size=n)]
        centres = centres + rng.normal(0, 0.05, size=(n, 2))
        sizes = rng.uniform(0.15, 0.35, size=(n, 2))
        b = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)[:, [0, 1, 2, 3]]
        if flip:
            b[::3] = b[::3][:, [2, 3, 0, 1]]
        b = b.astype(np.float32)
        ious = [iou(b[i], b[j]) for i in range(n) for j in range(i + 1, n)]
        if min(abs(v - iou_threshold) for v in ious) > 1e-3 and max(ious) > iou_threshold:
            s = rng.permutation(n).astype(np.float32) / n + 0.5 / n
            return b, s


@case("nms_v3", "NonMaxSuppressionV3, IoU 0.5, no score threshold (-inf), max 6 of 12 boxes")
def _(rng):
    b, s = boxes_and_scores(rng, 12, 0.5)
    return (lambda b, s: tf.image.non_max_suppression(b, s, 6, 0.5)), [spec("b", b), spec("s", s)]


@case("nms_v3_score_threshold", "NonMaxSuppressionV3, IoU 0.3, score threshold 0.4 (strict: a score equal to it is dropped), flipped boxes")
def _(rng):
    b, s = boxes_and_scores(rng, 10, 0.3, flip=True)
    s[3] = 0.4  # TF keeps score > threshold only
    return (lambda b, s: tf.image.non_max_suppression(b, s, 10, 0.3, score_threshold=0.4)), [spec("b", b), spec("s", s)]


@case("nms_v3_none_survive", "NonMaxSuppressionV3 with a score threshold above every score: TF selects no box")
def _(rng):
    b, s = boxes_and_scores(rng, 6, 0.5)
    return (lambda b, s: tf.image.non_max_suppression(b, s, 3, 0.5, score_threshold=1.5)), [spec("b", b), spec("s", s)]


@case("nms_v5_padded", "NonMaxSuppressionV5 padded to max_output_size 8: indices padded with 0, scores with 0, and the count")
def _(rng):
    b, s = boxes_and_scores(rng, 9, 0.45)
    def fn(b, s):
        r = tf.raw_ops.NonMaxSuppressionV5(boxes=b, scores=s, max_output_size=8, iou_threshold=0.45,
                                           score_threshold=0.2, soft_nms_sigma=0.0, pad_to_max_output_size=True)
        return r.selected_indices, r.selected_scores, r.valid_outputs
    return fn, [spec("b", b), spec("s", s)]


@case("nms_v5_with_scores", "tf.image.non_max_suppression_with_scores (V5 unpadded, sigma 0): indices and scores of the survivors")
def _(rng):
    b, s = boxes_and_scores(rng, 10, 0.5)
    def fn(b, s):
        i, sc = tf.image.non_max_suppression_with_scores(b, s, 5, 0.5, score_threshold=0.1)
        return i, sc
    return fn, [spec("b", b), spec("s", s)]


@case("nms_v5_padded_none_survive", "NonMaxSuppressionV5 padded, every score below the threshold: count 0, all padding")
def _(rng):
    b, s = boxes_and_scores(rng, 5, 0.5)
    def fn(b, s):
        r = tf.raw_ops.NonMaxSuppressionV5(boxes=b, scores=s, max_output_size=4, iou_threshold=0.5,
                                           score_threshold=2.0, soft_nms_sigma=0.0, pad_to_max_output_size=True)
        return r.selected_indices, r.selected_scores, r.valid_outputs
    return fn, [spec("b", b), spec("s", s)]


@case("nms_v1", "NonMaxSuppression (v1): IoU threshold as an attribute, no score threshold")
def _(rng):
    b, s = boxes_and_scores(rng, 8, 0.6)
    return (lambda b, s: tf.raw_ops.NonMaxSuppression(boxes=b, scores=s, max_output_size=4, iou_threshold=0.6)), \
        [spec("b", b), spec("s", s)]


@case("nms_v5_soft", "NonMaxSuppressionV5 with soft_nms_sigma 0.5 rescales scores: no layer does that",
      refused="NonMaxSuppressionV5")
def _(rng):
    b, s = boxes_and_scores(rng, 6, 0.5)
    def fn(b, s):
        i, sc = tf.image.non_max_suppression_with_scores(b, s, 4, 0.5, soft_nms_sigma=0.5)
        return i, sc
    return fn, [spec("b", b), spec("s", s)]


@case("nms_runtime_max_output_size", "NonMaxSuppressionV3 with max_output_size fed at run time: the layer's output size is a parameter",
      refused="NonMaxSuppressionV")
def _(rng):
    b, s = boxes_and_scores(rng, 6, 0.5)
    return (lambda b, s, n: tf.image.non_max_suppression(b, s, n, 0.5)), \
        [spec("b", b), spec("s", s), spec("n", np.array(3, dtype=np.int32))]
