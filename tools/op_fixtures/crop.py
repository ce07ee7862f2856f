"""CropAndResize (rules/crop.rules): constant boxes whose samples all lie inside the image, in
bilinear (Core ML's cropResize) and nearest (a gatherND of TF's rounded positions) forms, with
the edge cases of TF's sampling: a single sample per axis (the box centre), flipped boxes
(y1 > y2 samples upside down), boxes from several batch images, nearest positions at .5 ties.
Boxes reaching outside the image (TF writes `extrapolation_value` there, Core ML clamps) and
boxes computed at run time are refused."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, spec


def crop(method, boxes, box_ind, size, extrapolation=0.0):
    boxes = tf.constant(np.array(boxes, dtype=np.float32))
    box_ind = tf.constant(np.array(box_ind, dtype=np.int32))
    return lambda x: tf.image.crop_and_resize(x, boxes, box_ind, size, method=method,
                                              extrapolation_value=extrapolation)


@case("crop_and_resize_bilinear", "CropAndResize bilinear, 4 boxes over a batch of 2 (one flipped), crop 4x5")
def _(rng):
    boxes = [[0.1, 0.2, 0.8, 0.9], [0.0, 0.0, 0.75, 1.0], [0.9, 0.7, 0.2, 0.1], [0.3, 0.3, 0.6, 0.5]]
    return crop("bilinear", boxes, [0, 1, 1, 0], [4, 5]), [spec("x", edge_floats(rng, 2, 6, 7, 3))]


@case("crop_and_resize_bilinear_one_sample", "CropAndResize bilinear, crop 1x3: one row at the box centre")
def _(rng):
    boxes = [[0.2, 0.1, 0.7, 0.6], [0.5, 0.0, 0.5, 0.4]]
    return crop("bilinear", boxes, [0, 0], [1, 3]), [spec("x", edge_floats(rng, 1, 5, 6, 2))]


@case("crop_and_resize_bilinear_upscale", "CropAndResize bilinear, a small box upscaled to 6x6, extrapolation_value unused")
def _(rng):
    boxes = [[0.25, 0.25, 0.5, 0.75]]
    return crop("bilinear", boxes, [0], [6, 6], extrapolation=-3.0), [spec("x", edge_floats(rng, 1, 5, 5, 4))]


@case("crop_and_resize_nearest", "CropAndResize nearest: samples at .5 ties round away from zero, flipped box, batch 2")
def _(rng):
    # Height 5: box [0, 0.375] at 2 rows samples rows 0 and 1.5 (-> 2); width 7: [0.25, 0.75]
    # at 3 columns samples 1.5, 3, 4.5 (-> 2, 3, 5).
    boxes = [[0.0, 0.25, 0.375, 0.75], [1.0, 0.9, 0.0, 0.1], [0.4, 0.4, 0.6, 0.9]]
    return crop("nearest", boxes, [1, 0, 1], [2, 3]), [spec("x", edge_floats(rng, 2, 5, 7, 3))]


@case("crop_and_resize_extrapolated", "CropAndResize with a box reaching outside the image: TF writes extrapolation_value, cropResize clamps",
      refused="CropAndResize")
def _(rng):
    boxes = [[-0.2, 0.0, 1.2, 1.0]]
    return crop("bilinear", boxes, [0], [4, 4], extrapolation=0.5), [spec("x", edge_floats(rng, 1, 4, 4, 2))]


@case("crop_and_resize_runtime_boxes", "CropAndResize with boxes fed at run time: whether TF extrapolates is data-dependent",
      refused="CropAndResize")
def _(rng):
    boxes = np.array([[0.1, 0.1, 0.9, 0.8]], dtype=np.float32)
    fn = lambda x, b: tf.image.crop_and_resize(x, b, tf.constant([0]), [3, 3])  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 1, 4, 4, 2)), spec("b", boxes)]
