"""ImageProjectiveTransformV2/V3 (rules/projective.rules) with constant transforms: a
rotation with bilinear sampling (reads outside the image take fill_value), a projective
transform with a perspective row, per-batch transforms, nearest sampling at .5 positions, a
larger output size, V2 (fill 0), and the fill modes REFLECT, WRAP and NEAREST, which remap
coordinates that fall outside. A run-time transform is refused."""
import math

import numpy as np
import tensorflow as tf

from . import case, edge_floats, spec


def rotation(angle, h, w):
    """TF's (keras) rotation about the image centre, output -> input coordinates."""
    c, s = math.cos(angle), math.sin(angle)
    x0 = ((w - 1) - (c * (w - 1) - s * (h - 1))) / 2
    y0 = ((h - 1) - (s * (w - 1) + c * (h - 1))) / 2
    return [c, -s, x0, s, c, y0, 0.0, 0.0]


def v3(t, size, fill, interpolation, fill_mode="CONSTANT"):
    t = tf.constant(np.array(t, dtype=np.float32))
    return lambda x: tf.raw_ops.ImageProjectiveTransformV3(
        images=x, transforms=t, output_shape=size, fill_value=fill, interpolation=interpolation,
        fill_mode=fill_mode)


@case("projective_rotate_bilinear", "ImageProjectiveTransformV3 rotation by 0.4 rad, BILINEAR, fill 0.5 outside")
def _(rng):
    return v3([rotation(0.4, 7, 9)], [7, 9], 0.5, "BILINEAR"), [spec("x", edge_floats(rng, 1, 7, 9, 2))]


@case("projective_perspective_batch", "ImageProjectiveTransformV3 per-batch transforms (one with a perspective row), BILINEAR, output 6x5")
def _(rng):
    t = [[1.1, 0.2, -0.5, -0.1, 0.9, 0.7, 0.02, -0.03], rotation(-0.3, 5, 6)]
    return v3(t, [6, 5], -1.0, "BILINEAR"), [spec("x", edge_floats(rng, 2, 5, 6, 3))]


@case("projective_nearest_half", "ImageProjectiveTransformV3 NEAREST, a shift by half a pixel and a 2x zoom (.5 positions round away from zero)")
def _(rng):
    return v3([[0.5, 0.0, 0.5, 0.0, 0.5, -0.5, 0.0, 0.0]], [8, 8], 0.0, "NEAREST"), [spec("x", edge_floats(rng, 1, 5, 5, 1))]


@case("projective_v2", "ImageProjectiveTransformV2 (fill 0) translation by (1.25, -0.75), BILINEAR")
def _(rng):
    t = tf.constant(np.array([[1.0, 0.0, 1.25, 0.0, 1.0, -0.75, 0.0, 0.0]], dtype=np.float32))
    fn = lambda x: tf.raw_ops.ImageProjectiveTransformV2(images=x, transforms=t, output_shape=[4, 6],  # noqa: E731
                                                         interpolation="BILINEAR")
    return fn, [spec("x", edge_floats(rng, 1, 4, 6, 2))]


@case("projective_reflect", "ImageProjectiveTransformV3 fill_mode REFLECT, rotation by 0.7 rad and a 0.6x zoom out, BILINEAR")
def _(rng):
    t = rotation(0.7, 5, 6)
    t = [v / 0.6 if i in (0, 1, 3, 4) else v for i, v in enumerate(t)]
    return v3([t], [7, 8], 0.0, "BILINEAR", "REFLECT"), [spec("x", edge_floats(rng, 1, 5, 6, 2))]


@case("projective_wrap_nearest", "ImageProjectiveTransformV3 fill_mode WRAP, translation by (-2.5, 3.25) and 1.5x, NEAREST")
def _(rng):
    t = [[1.5, 0.0, -2.5, 0.0, 1.5, 3.25, 0.0, 0.0]]
    return v3(t, [6, 6], 0.0, "NEAREST", "WRAP"), [spec("x", edge_floats(rng, 1, 4, 5, 2))]


@case("projective_nearest_fill", "ImageProjectiveTransformV3 fill_mode NEAREST (edge pixels repeat), perspective, BILINEAR, batch 2 sharing one transform")
def _(rng):
    t = [[0.8, -0.3, 1.5, 0.25, 1.2, -2.0, 0.03, 0.01]]
    return v3(t, [5, 7], 9.0, "BILINEAR", "NEAREST"), [spec("x", edge_floats(rng, 2, 6, 6, 1))]


@case("projective_runtime_transform", "ImageProjectiveTransformV3 with a transform fed at run time: no layer resamples per pixel",
      refused="ImageProjectiveTransformV3")
def _(rng):
    fn = lambda x, t: tf.raw_ops.ImageProjectiveTransformV3(  # noqa: E731
        images=x, transforms=t, output_shape=[4, 4], fill_value=0.0, interpolation="NEAREST")
    return fn, [spec("x", edge_floats(rng, 1, 4, 4, 1)), spec("t", np.array([rotation(0.2, 4, 4)], dtype=np.float32))]
