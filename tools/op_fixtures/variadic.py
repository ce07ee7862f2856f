"""Ops with a variadic operand (ConcatV2 `values`, Pack `values`, AddN `inputs`, IdentityN
`input`) at 2, 3, 5, 8, 17 and 32 inputs: one rule each must handle every arity. Plus an
InceptionV3-style block, four parallel conv branches concatenated on channels (the
`mixed0/concat` that once failed)."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, ints, normal, spec

ARITIES = [2, 3, 5, 8, 17, 32]


def _floats(rng, n, *shape):
    return [spec(f"x{i}", edge_floats(rng, *shape)) for i in range(n)]


for _n in ARITIES:
    # Inputs of different sizes along the concat axis, so a wrong order or axis shows.
    def _concat(rng, n=_n):
        specs = [spec(f"x{i}", edge_floats(rng, 2, 1 + i % 3, 3)) for i in range(n)]
        return (lambda *xs: tf.concat(xs, axis=1)), specs

    case(f"concat_v2_{_n}", f"ConcatV2 of {_n} float32 tensors on axis 1 (sizes 1, 2, 3 alternate)")(_concat)

    def _pack(rng, n=_n):
        return (lambda *xs: tf.stack(xs, axis=1)), _floats(rng, n, 3, 4)

    case(f"pack_{_n}", f"Pack of {_n} float32 tensors [3, 4] on axis 1")(_pack)

    def _add_n(rng, n=_n):
        return (lambda *xs: tf.add_n(list(xs))), _floats(rng, n, 2, 5)

    case(f"add_n_{_n}", f"AddN of {_n} float32 tensors (ties, -0.0, large magnitudes)")(_add_n)


@case("concat_v2_negative_axis_int32", "ConcatV2 of 4 int32 tensors on axis -1")
def _(rng):
    specs = [spec(f"x{i}", ints(rng, -1000, 1000, 3, 2, 1 + i)) for i in range(4)]
    return (lambda *xs: tf.concat(xs, axis=-1)), specs


@case("concat_v2_axis0_rank1", "ConcatV2 of 5 rank-1 float32 tensors on axis 0")
def _(rng):
    specs = [spec(f"x{i}", edge_floats(rng, 2 + i)) for i in range(5)]
    return (lambda *xs: tf.concat(xs, axis=0)), specs


@case("pack_axis0_int32", "Pack of 6 int32 tensors [2, 3] on axis 0")
def _(rng):
    return (lambda *xs: tf.stack(xs, axis=0)), [spec(f"x{i}", ints(rng, -50, 50, 2, 3)) for i in range(6)]


@case("pack_negative_axis", "Pack of 5 float32 tensors [2, 3] on axis -1 (new last axis)")
def _(rng):
    return (lambda *xs: tf.stack(xs, axis=-1)), _floats(rng, 5, 2, 3)


@case("add_n_int32", "AddN of 4 int32 tensors")
def _(rng):
    return (lambda *xs: tf.add_n(list(xs))), [spec(f"x{i}", ints(rng, -1000, 1000, 3, 4)) for i in range(4)]


@case("add_n_rank4", "AddN of 3 float32 tensors of rank 4")
def _(rng):
    return (lambda *xs: tf.add_n(list(xs))), _floats(rng, 3, 1, 4, 3, 2)


for _n in [1, 2, 3, 5]:
    def _identity_n(rng, n=_n):
        # IdentityN forwards each input; the adds after it keep it from being the output feed.
        def fn(*xs):
            ys = tf.identity_n(list(xs))
            return [y * 2.0 + 1.0 for y in ys]

        return fn, [spec(f"x{i}", edge_floats(rng, 2, 3 + i)) for i in range(n)]

    case(f"identity_n_{_n}", f"IdentityN of {_n} tensors, each used after it")(_identity_n)


def _conv(x, k, c_out, seed):
    r = np.random.default_rng(seed)
    w = tf.constant(r.standard_normal((k, k, int(x.shape[-1]), c_out)).astype(np.float32) * 0.3)
    b = tf.constant(r.standard_normal(c_out).astype(np.float32) * 0.1)
    return tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w, strides=1, padding="SAME"), b))


def _inception(x, seed):
    b1 = _conv(x, 1, 4, seed + 1)
    b2 = _conv(_conv(x, 1, 3, seed + 2), 3, 5, seed + 3)
    b3 = _conv(_conv(x, 1, 2, seed + 4), 5, 3, seed + 5)
    pool = tf.nn.avg_pool2d(x, ksize=3, strides=1, padding="SAME")
    b4 = _conv(pool, 1, 2, seed + 6)
    return tf.concat([b1, b2, b3, b4], axis=3)


@case("inception_block", "InceptionV3-style block: 1x1, 1x1->3x3, 1x1->5x5 and avgpool->1x1 "
      "branches (conv, bias, relu) concatenated on channels")
def _(rng):
    return (lambda x: _inception(x, 0)), [spec("x", normal(rng, 1, 9, 9, 6))]


@case("inception_two_blocks", "two InceptionV3-style blocks in a row: the second block's convs "
      "read the first block's channel concat (transposes move through the concat and cancel)")
def _(rng):
    return (lambda x: _inception(_inception(x, 0), 10)), [spec("x", normal(rng, 1, 7, 7, 5))]
