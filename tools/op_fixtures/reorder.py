"""Roll and InvertPermutation (rules/reorder.rules): single and multiple axes, negative shifts
and axes, shifts larger than the axis or multiples of it, a repeated axis; permutations of
several lengths fed at run time."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, ints, spec


def _roll(name, shape, shift, axis, dtype=np.float32):
    def build(rng):
        x = edge_floats(rng, *shape) if dtype == np.float32 else ints(rng, -100, 100, *shape)
        return (lambda x: tf.roll(x, shift=shift, axis=axis)), [spec("x", x)]
    case(name, f"Roll of {list(shape)} by shift {shift} on axis {axis}")(build)


_roll("roll_axis0", (5, 3), 2, 0)
_roll("roll_negative_shift_last", (2, 3, 7), -3, -1)
_roll("roll_shift_past_length", (4, 6), 15, 1)
_roll("roll_shift_multiple", (4, 6), 12, 1)
_roll("roll_two_axes", (3, 4, 5), [1, -2], [0, 2])
_roll("roll_repeated_axis", (6, 4), [2, 3, -1], [0, 0, 1])
_roll("roll_int32", (2, 8), 3, -1, dtype=np.int32)


@case("roll_int64_shift", "Roll with int64 shift and axis on [3, 5]")
def _(rng):
    return (lambda x: tf.roll(x, shift=tf.constant([-1], tf.int64), axis=tf.constant([1], tf.int64))), [spec("x", edge_floats(rng, 3, 5))]


def _perm(name, n):
    def build(rng):
        return (lambda p: tf.math.invert_permutation(p)), [spec("p", rng.permutation(n).astype(np.int32))]
    case(name, f"InvertPermutation of a run-time permutation of {n}")(build)


_perm("invert_permutation_7", 7)
_perm("invert_permutation_1", 1)
_perm("invert_permutation_32", 32)


# Unique's output length is the number of distinct values, known only at run time: a Core ML
# NN model has no such shape, so the standard library refuses the op.
@case("unique_refused", "Unique of a run-time [8] vector: its output size is data-dependent, refused",
      refused="no conversion")
def _(rng):
    return (lambda x: tf.unique(x)), [spec("x", ints(rng, 0, 4, 8).astype(np.float32))]


@case("unique_with_counts_refused", "UniqueWithCounts of a run-time [8] vector: data-dependent sizes, refused",
      refused="no conversion")
def _(rng):
    return (lambda x: tf.unique_with_counts(x)), [spec("x", ints(rng, 0, 4, 8))]


@case("roll_runtime_shift_refused", "Roll by a shift fed at run time: the split point is unknown, refused",
      refused="no conversion")
def _(rng):
    return (lambda x, s: tf.roll(x, shift=s, axis=[1])), [spec("x", edge_floats(rng, 3, 5)), spec("s", np.int32([2]))]
