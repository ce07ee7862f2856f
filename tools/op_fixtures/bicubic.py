"""ResizeBicubic (rules/resize.rules): each of TF's sampling grids (half-pixel centers with
Keys' kernel, legacy, align_corners), up and down, non-integer factors, one-pixel sides, and
outputs of one row; inputs include the edge floats (so clamped and renormalised taps show)."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, spec


def _bicubic(name, shape, size, align_corners, half_pixel_centers):
    def build(rng):
        return (lambda x: tf.raw_ops.ResizeBicubic(images=x, size=size, align_corners=align_corners,
                                                   half_pixel_centers=half_pixel_centers)), [spec("x", edge_floats(rng, *shape))]
    grid = "half_pixel_centers" if half_pixel_centers else "align_corners" if align_corners else "legacy"
    case(name, f"ResizeBicubic of {list(shape)} to {size}, {grid}")(build)


_bicubic("resize_bicubic_half_pixel_up", (2, 4, 5, 3), [7, 10], False, True)
_bicubic("resize_bicubic_half_pixel_down", (1, 9, 8, 2), [4, 3], False, True)
_bicubic("resize_bicubic_legacy_up", (1, 3, 4, 2), [8, 6], False, False)
_bicubic("resize_bicubic_legacy_down", (2, 7, 6, 1), [5, 4], False, False)
_bicubic("resize_bicubic_align_corners", (1, 4, 6, 3), [9, 5], True, False)
_bicubic("resize_bicubic_one_pixel", (1, 1, 5, 2), [3, 1], False, True)
_bicubic("resize_bicubic_align_corners_single_row", (1, 5, 4, 1), [1, 7], True, False)
