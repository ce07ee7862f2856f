"""Run-time shapes: graphs whose inputs have unknown batch and sequence dims (Placeholder shape
-1) and that compute shapes from them (`tf.shape(x)[0]`, a dynamic tile, `tf.range(n)`, a
slice with a run-time begin...). Each case carries TWO input sets of different sizes: the
fixture's goldens (NAME.npz) and a second set (NAME.2.npz), so the differential test checks
that one converted model, with flexible input shapes and dynamic layers, is right at both
sizes (a model that baked in the first size would fail the second).

A spec is `flex(name, shape with None dims, value, second value)`."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats


def flex(name, shape, value, value2):
    value, value2 = np.asarray(value), np.asarray(value2)
    assert value.dtype == value2.dtype and value.ndim == value2.ndim == len(shape)
    assert value.shape != value2.shape, f"{name}: the two sizes must differ"
    return (name, shape, value.dtype.type, value, value2)


def xs(rng, shape1, shape2, rank=None):
    shape = [None] * len(shape1) if rank is None else rank
    return flex("x", shape, edge_floats(rng, *shape1), edge_floats(rng, *shape2))


# --- Reshape ---------------------------------------------------------------------------------

@case("dyn_reshape_batch_seq",
      "Reshape to a shape computed from tf.shape (batch and seq unknown): [b, s, 4] -> [b, s * 2, 2]")
def _(rng):
    def f(x):
        s = tf.shape(x)
        return tf.reshape(x, tf.stack([s[0], s[1] * 2, 2]))
    return f, [xs(rng, (2, 3, 4), (3, 5, 4), rank=[None, None, 4])]


@case("dyn_reshape_flatten", "Reshape to [tf.shape(x)[0], -1] with batch and seq unknown")
def _(rng):
    return (lambda x: tf.reshape(x, [tf.shape(x)[0], -1]) * 2.0), [xs(rng, (2, 3, 4), (4, 2, 4), rank=[None, None, 4])]


# --- Tile, Fill, BroadcastTo ------------------------------------------------------------------

@case("dyn_tile", "Tile whose multiples come from the run-time batch: tf.tile(x, [2, tf.shape(x)[0]])")
def _(rng):
    return (lambda x: tf.tile(x, tf.stack([2, tf.shape(x)[0]]))), [xs(rng, (2, 3), (3, 5))]


@case("dyn_fill", "Fill of a run-time shape: tf.fill([tf.shape(x)[1], 3], 1.5), and x * tf.ones(tf.shape(x))")
def _(rng):
    def f(x):
        return tf.fill(tf.stack([tf.shape(x)[1], 3]), 1.5), x * tf.ones(tf.shape(x))
    return f, [xs(rng, (2, 3), (4, 5))]


@case("dyn_broadcast_to", "BroadcastTo the run-time shape of the input (a constant row and an input slice)")
def _(rng):
    row = tf.constant(np.arange(4, dtype=np.float32) - 1.5)

    def f(x):
        return tf.broadcast_to(row, tf.shape(x)), tf.broadcast_to(x[:1], tf.shape(x)) + x
    return f, [xs(rng, (2, 3, 4), (3, 2, 4), rank=[None, None, 4])]


# --- Range -----------------------------------------------------------------------------------

@case("dyn_range_limit", "tf.range(tf.shape(x)[1]) (run-time limit, constant start and delta), cast and scaled")
def _(rng):
    return (lambda x: tf.cast(tf.range(tf.shape(x)[1]), tf.float32) * 0.5), [xs(rng, (2, 3), (2, 7))]


@case("dyn_range_all_inputs", "tf.range with run-time start, limit and delta, int32 and float32")
def _(rng):
    def f(x):
        s = tf.shape(x)
        ints = tf.range(s[0], s[1] * 3, s[0])
        floats = tf.range(0.5, tf.cast(s[1], tf.float32), tf.cast(s[0], tf.float32) * 0.25)
        return tf.cast(ints, tf.float32), floats
    return f, [xs(rng, (2, 3), (3, 7))]


# --- Slice, StridedSlice ---------------------------------------------------------------------

@case("dyn_slice_begin", "Slice with a run-time begin (the last two columns) and size -1 rows")
def _(rng):
    return (lambda x: tf.slice(x, tf.stack([0, tf.shape(x)[1] - 2]), [-1, 2])), [xs(rng, (2, 3), (3, 6))]


@case("dyn_slice_size", "Slice with a run-time size (half the columns, -1 rows) and a constant begin")
def _(rng):
    return (lambda x: tf.slice(x, [1, 0], tf.stack([-1, tf.shape(x)[1] // 2]))), [xs(rng, (3, 4), (2, 7))]


@case("dyn_strided_slice",
      "StridedSlice with a run-time end (x[:, :n // 2]), a run-time shrink index (x[:, n - 1]) and a stride")
def _(rng):
    def f(x):
        n = tf.shape(x)[1]
        return x[:, :n // 2], x[:, n - 1], x[::2, 1:n:2]
    return f, [xs(rng, (3, 4), (4, 7))]


# --- Pad -------------------------------------------------------------------------------------

@case("dyn_pad", "Pad and PadV2 to length 8 with run-time paddings ([[0, 0], [0, 8 - seq]], [[1, 0], [seq, 1]])")
def _(rng):
    def f(x):
        n = tf.shape(x)[1]
        a = tf.pad(x, tf.stack([tf.stack([0, 0]), tf.stack([0, 8 - n])]))
        b = tf.pad(x, tf.stack([tf.stack([1, 0]), tf.stack([n, 1])]), constant_values=1.5)
        return a, b
    return f, [xs(rng, (2, 3), (3, 5))]


# --- shape arithmetic ------------------------------------------------------------------------

@case("dyn_shape_arithmetic",
      "tf.shape arithmetic: Size, products, differences and floor division of run-time dims, cast to float")
def _(rng):
    def f(x):
        s = tf.shape(x)
        n = tf.cast(tf.size(x), tf.float32)
        m = tf.cast(s[0] * s[1] - (s[1] // 2), tf.float32)
        return tf.reduce_sum(x, axis=-1) / n + m, tf.cast(tf.shape(x), tf.float32)
    return f, [xs(rng, (2, 3, 4), (5, 2, 4), rank=[None, None, 4])]


@case("dyn_strided_slice_partial",
      "StridedSlice of a rank-3 tensor naming only the leading axes, with run-time bounds "
      "(x[:, :n - 1], x[1:, n // 2]): the other axes are taken whole")
def _(rng):
    def f(x):
        n = tf.shape(x)[1]
        return x[:, :n - 1], x[1:, n // 2]
    return f, [xs(rng, (2, 3, 4), (3, 5, 4), rank=[None, None, 4])]


@case("dyn_fill_value", "Fill of a run-time shape with a run-time value: tf.fill(tf.shape(x), x[0, 0])")
def _(rng):
    return (lambda x: tf.fill(tf.shape(x), x[0, 0]) - x), [xs(rng, (2, 3), (4, 5))]


@case("dyn_mirror_pad_refused",
      "MirrorPad with run-time paddings: Core ML's padding layer takes its amounts only as "
      "parameters, so the library refuses rather than guessing them",
      refused="no conversion to Core ML layers")
def _(rng):
    def f(x):
        n = tf.shape(x)[1]
        return tf.pad(x, tf.stack([tf.stack([0, 0]), tf.stack([0, n - 1])]), mode="REFLECT")
    return f, [xs(rng, (2, 3), (3, 4))]


@case("dyn_attention_block",
      "A self-attention step over unknown batch and sequence: a dense projection on the flattened "
      "[b * s, 8] rows reshaped back with tf.shape, scores x x^T scaled by 1/sqrt(8), softmax over "
      "the sequence, weighted sum")
def _(rng):
    w = tf.constant((rng.standard_normal((8, 8)) * 0.3).astype(np.float32))

    def f(x):
        s = tf.shape(x)
        h = tf.reshape(tf.matmul(tf.reshape(x, [-1, 8]), w), tf.stack([s[0], s[1], 8]))
        scores = tf.matmul(h, h, transpose_b=True) / np.sqrt(8.0).astype(np.float32)
        return tf.matmul(tf.nn.softmax(scores, axis=-1), x)
    return f, [flex("x", [None, None, 8], np.random.default_rng(7).standard_normal((2, 3, 8)).astype(np.float32),
                    np.random.default_rng(8).standard_normal((3, 5, 8)).astype(np.float32))]
