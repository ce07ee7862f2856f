#!/usr/bin/env python3
"""Generate mlrewrite's TensorFlow test fixtures and the bundled example model.

Every fixture is a small frozen TensorFlow graph written exactly like ../shared/corpus:
TensorFlow 2.12.1, a `tf.function` concrete function frozen with
`convert_variables_to_constants_v2`, `Placeholder` inputs, `Identity` outputs. For each NAME:

- `tests/fixtures/NAME.pb`   the frozen `GraphDef`;
- `tests/fixtures/NAME.npz`  inputs fed and values TensorFlow computed from the frozen graph
                             itself, keyed by tensor name (`x:0`, `Identity:0`, probe tensors);
- `tests/fixtures/NAME.json` the corpus metadata schema (inputs, outputs, nodes, ops, bytes,
                             probes) plus `description` and `tensors`: every output of every
                             node with its dtype, TensorFlow's static shape as inferred in the
                             imported graph (unknown dim -> -1, unknown rank -> null) and the
                             shape observed when running on the golden input.

The example `examples/tiny_mobilenet.{pb,npz,json}` is a Keras CNN with batch-norm statistics
calibrated on the golden input and logits scaled to standard deviation 2, as the corpus README
describes, so that a wrong conversion cannot hide behind a uniform softmax.

Seeded and deterministic: running it twice gives byte-identical files.

Usage: /tmp/tfvenv/bin/python tools/make_fixtures.py [--out tests/fixtures] [--examples examples]
       [--only NAME ...]
"""
import argparse
import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Reference numerics: oneDNN reorders float sums depending on the CPU; turn it off so the
# goldens do not depend on the machine that generated them.
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework.convert_to_constants import (  # noqa: E402
    convert_variables_to_constants_v2,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_io import save_json, save_npz, seed_of  # noqa: E402

FIXTURES = {}


def fixture(name, description):
    """Register a builder `fn(rng) -> (graph_fn, [(input name, shape, dtype, value)])`."""

    def register(build):
        FIXTURES[name] = (description, build)
        return build

    return register


def normal(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def weights(rng, *shape):
    """He-like scaling over all but the last axis, so activations stay of order 1."""
    fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    return normal(rng, *shape, scale=1.0 / np.sqrt(max(fan_in, 1)))


def inp(rng, name, shape, scale=1.0, dtype=np.float32):
    return (name, list(shape), dtype, normal(rng, *shape, scale=scale).astype(dtype))


def bn_params(rng, c):
    """Inference batch-norm parameters with realistic spread (variance bounded away from 0)."""
    return (
        rng.uniform(0.5, 1.5, c).astype(np.float32),
        normal(rng, c, scale=0.2),
        normal(rng, c, scale=0.3),
        rng.uniform(0.5, 2.0, c).astype(np.float32),
    )


# ---------------------------------------------------------------- convolutions and pooling


@fixture("conv_bn_relu6", "Conv2D SAME + BiasAdd + FusedBatchNormV3 (inference) + Relu6")
def _conv_bn_relu6(rng):
    w, b = weights(rng, 3, 3, 3, 8), normal(rng, 8, scale=0.1)
    scale, offset, mean, var = bn_params(rng, 8)

    def f(x):
        y = tf.nn.bias_add(tf.nn.conv2d(x, w, strides=1, padding="SAME"), b)
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(
            y, scale, offset, mean=mean, variance=var, epsilon=1e-3, is_training=False
        )
        return tf.nn.relu6(y)

    return f, [inp(rng, "x", [1, 8, 8, 3])]


@fixture(
    "conv2d_variants",
    "Conv2D VALID stride 2, SAME stride 2 on odd size (asymmetric padding), SAME dilation 2, "
    "non-square kernel and strides, EXPLICIT padding",
)
def _conv2d_variants(rng):
    w1, w2 = weights(rng, 3, 3, 3, 4), weights(rng, 3, 3, 3, 4)
    w3, w4 = weights(rng, 3, 3, 3, 5), weights(rng, 2, 3, 3, 4)
    w5 = weights(rng, 3, 3, 3, 2)

    def f(x):
        return (
            tf.nn.conv2d(x, w1, strides=2, padding="VALID"),
            tf.nn.conv2d(x, w2, strides=2, padding="SAME"),
            tf.nn.conv2d(x, w3, strides=1, padding="SAME", dilations=2),
            tf.nn.conv2d(x, w4, strides=[2, 1], padding="SAME"),
            tf.nn.conv2d(x, w5, strides=1, padding=[[0, 0], [1, 2], [2, 0], [0, 0]]),
        )

    return f, [inp(rng, "x", [1, 9, 9, 3])]


@fixture(
    "depthwise_conv",
    "DepthwiseConv2dNative: SAME stride 1, VALID stride 2 with channel multiplier 2, "
    "SAME stride 2 on even size, dilation 2 (TF writes SpaceToBatchND/BatchToSpaceND)",
)
def _depthwise(rng):
    w1, w2 = weights(rng, 3, 3, 4, 1), weights(rng, 3, 3, 4, 2)
    w3, w4 = weights(rng, 3, 3, 4, 1), weights(rng, 3, 3, 4, 1)

    def f(x):
        return (
            tf.nn.depthwise_conv2d(x, w1, strides=[1, 1, 1, 1], padding="SAME"),
            tf.nn.depthwise_conv2d(x, w2, strides=[1, 2, 2, 1], padding="VALID"),
            tf.nn.depthwise_conv2d(x, w3, strides=[1, 2, 2, 1], padding="SAME"),
            tf.nn.depthwise_conv2d(x, w4, strides=[1, 1, 1, 1], padding="SAME", dilations=[2, 2]),
        )

    return f, [inp(rng, "x", [1, 8, 8, 4])]


@fixture("separable_conv", "separable convolution: depthwise 3x3 then pointwise 1x1, + BiasAdd + Relu")
def _separable(rng):
    dw, pw, b = weights(rng, 3, 3, 3, 2), weights(rng, 1, 1, 6, 8), normal(rng, 8, scale=0.1)

    def f(x):
        y = tf.nn.separable_conv2d(x, dw, pw, strides=[1, 1, 1, 1], padding="SAME")
        return tf.nn.relu(tf.nn.bias_add(y, b))

    return f, [inp(rng, "x", [1, 7, 7, 3])]


@fixture(
    "pooling",
    "MaxPool and AvgPool, SAME and VALID; AvgPool SAME divides by the count of valid cells",
)
def _pooling(rng):
    def f(x):
        return (
            tf.nn.max_pool2d(x, 3, 2, "SAME"),
            tf.nn.max_pool2d(x, 2, 2, "VALID"),
            tf.nn.avg_pool2d(x, 3, 2, "SAME"),
            tf.nn.avg_pool2d(x, 3, 1, "VALID"),
            tf.nn.max_pool2d(x, [2, 3], [1, 2], "SAME"),
        )

    return f, [inp(rng, "x", [1, 7, 7, 3])]


@fixture("gap_dense_softmax", "global average pooling (Mean over H,W) + MatMul + BiasAdd + Softmax")
def _gap_dense(rng):
    w, b = weights(rng, 6, 5), normal(rng, 5, scale=0.5)

    def f(x):
        y = tf.reduce_mean(x, axis=[1, 2])
        return tf.nn.softmax(tf.nn.bias_add(tf.matmul(y, w), b) * 3.0)

    return f, [inp(rng, "x", [1, 5, 5, 6])]


@fixture("residual_add", "two 3x3 convolutions with a residual AddV2 and Relu")
def _residual(rng):
    w1, w2 = weights(rng, 3, 3, 4, 4), weights(rng, 3, 3, 4, 4)
    b1, b2 = normal(rng, 4, scale=0.1), normal(rng, 4, scale=0.1)

    def f(x):
        y = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w1, 1, "SAME"), b1))
        y = tf.nn.bias_add(tf.nn.conv2d(y, w2, 1, "SAME"), b2)
        return tf.nn.relu(y + x)

    return f, [inp(rng, "x", [1, 6, 6, 4])]


@fixture(
    "se_block",
    "squeeze-and-excitation: Mean keep_dims, 1x1 Conv2D + Relu, 1x1 Conv2D + hard sigmoid, Mul",
)
def _se(rng):
    w1, b1 = weights(rng, 1, 1, 8, 2), normal(rng, 2, scale=0.1)
    w2, b2 = weights(rng, 1, 1, 2, 8), normal(rng, 8, scale=0.1)

    def f(x):
        s = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        s = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(s, w1, 1, "VALID"), b1))
        s = tf.nn.bias_add(tf.nn.conv2d(s, w2, 1, "VALID"), b2) * 3.0
        s = tf.nn.relu6(s + 3.0) / 6.0
        return x * s

    return f, [inp(rng, "x", [1, 6, 6, 8])]


# ---------------------------------------------------------------- activations


@fixture(
    "hard_swish_sigmoid",
    "hard swish x*relu6(x+3)/6, hard sigmoid relu6(x+3)*(1/6), Keras hard_sigmoid clip(0.2x+0.5)",
)
def _hard_swish(rng):
    def f(x):
        return (
            x * tf.nn.relu6(x + 3.0) / 6.0,
            tf.nn.relu6(x + 3.0) * (1.0 / 6.0),
            tf.keras.activations.hard_sigmoid(x),
        )

    return f, [inp(rng, "x", [1, 4, 4, 4], scale=3.0)]


@fixture("swish", "swish written as x*sigmoid(x), and tf.nn.silu")
def _swish(rng):
    def f(x):
        return x * tf.sigmoid(x), tf.nn.silu(x)

    return f, [inp(rng, "x", [1, 4, 4, 3], scale=2.0)]


@fixture("gelu", "GELU exact (Erf) and tanh approximation (Pow, Tanh)")
def _gelu(rng):
    def f(x):
        return tf.nn.gelu(x, approximate=False), tf.nn.gelu(x, approximate=True)

    return f, [inp(rng, "x", [1, 6, 8], scale=2.0)]


@fixture(
    "layer_norm",
    "layer norm by hand (Mean, SquaredDifference, Rsqrt) and Keras LayerNormalization, fused "
    "(epsilon 1e-3: Reshape + FusedBatchNormV3) and unfused (epsilon 1e-5)",
)
def _layer_norm(rng):
    gamma, beta = rng.uniform(0.5, 1.5, 8).astype(np.float32), normal(rng, 8, scale=0.2)
    # Keras fuses LayerNormalization into Reshape + FusedBatchNormV3 + Mul/AddV2 when epsilon
    # is at least 1.001e-5 (cuDNN's minimum) and spells it out with Mean/SquaredDifference/Rsqrt
    # otherwise: both patterns occur in real models.
    fused = tf.keras.layers.LayerNormalization(axis=-1, epsilon=1e-3)
    plain = tf.keras.layers.LayerNormalization(axis=-1, epsilon=1e-5)
    for layer in (fused, plain):
        layer.build([1, 5, 8])
        layer.set_weights([rng.uniform(0.5, 1.5, 8).astype(np.float32), normal(rng, 8, scale=0.2)])

    def f(x):
        mean = tf.reduce_mean(x, axis=-1, keepdims=True)
        var = tf.reduce_mean(tf.math.squared_difference(x, mean), axis=-1, keepdims=True)
        manual = (x - mean) * tf.math.rsqrt(var + 1e-5) * gamma + beta
        return manual, fused(x), plain(x)

    return f, [inp(rng, "x", [1, 5, 8], scale=2.0)]


@fixture(
    "elementwise_unary",
    "unary zoo: Abs Exp Log Sqrt Rsqrt Square Tanh Sigmoid Neg Floor Ceil Round Sign Reciprocal "
    "Relu Elu Selu Softplus Softsign LeakyRelu Erf Sin Cos",
)
def _unary(rng):
    def f(x):
        pos = tf.abs(x) + 0.5
        return (
            tf.abs(x), tf.exp(x), tf.math.log(pos), tf.sqrt(pos), tf.math.rsqrt(pos),
            tf.square(x), tf.tanh(x), tf.sigmoid(x), tf.negative(x), tf.floor(x), tf.math.ceil(x),
            tf.round(x), tf.sign(x), tf.math.reciprocal(pos), tf.nn.relu(x), tf.nn.elu(x),
            tf.nn.selu(x), tf.nn.softplus(x), tf.nn.softsign(x), tf.nn.leaky_relu(x, 0.2),
            tf.math.erf(x), tf.sin(x), tf.cos(x),
        )

    return f, [inp(rng, "x", [2, 3, 4], scale=1.5)]


@fixture(
    "elementwise_binary",
    "binary zoo with broadcasting: AddV2 Sub Mul RealDiv Minimum Maximum Pow SquaredDifference "
    "FloorDiv FloorMod, Greater/LessEqual/Equal + SelectV2",
)
def _binary(rng):
    row = normal(rng, 4)
    col = normal(rng, 3, 1)

    def f(x, y):
        pos = tf.abs(x) + 0.5
        return (
            x + row, x - y, x * col, x / (tf.abs(y) + 0.5), tf.minimum(x, y), tf.maximum(x, row),
            tf.pow(pos, y), tf.math.squared_difference(x, y),
            tf.math.floordiv(x, tf.abs(y) + 0.5), tf.math.floormod(x, tf.abs(y) + 0.5),
            tf.where(tf.greater(x, y), x, y), tf.where(tf.less_equal(x, col), y, 0.0),
            tf.cast(tf.equal(tf.round(x), tf.round(y)), tf.float32),
        )

    return f, [inp(rng, "x", [2, 3, 4], scale=2.0), inp(rng, "y", [2, 3, 4])]


# ---------------------------------------------------------------- linear algebra, reductions


@fixture(
    "matmul",
    "MatMul (plain, transpose_a, transpose_b) and BatchMatMulV2 (adj_y, batch broadcasting)",
)
def _matmul(rng):
    b, bt, at = weights(rng, 4, 5), weights(rng, 5, 4), normal(rng, 3, 5)
    w3 = weights(rng, 2, 4, 3)

    def f(a, x):
        return (
            tf.matmul(a, b),
            tf.matmul(at, a, transpose_a=True),
            tf.matmul(a, bt, transpose_b=True),
            tf.matmul(x, x, adjoint_b=True),
            tf.matmul(x[:1], w3),
        )

    return f, [inp(rng, "a", [3, 4]), inp(rng, "x", [2, 3, 4])]


@fixture("reductions", "Sum Mean Max Min Prod over single and multiple axes, keep_dims both ways")
def _reductions(rng):
    def f(x):
        return (
            tf.reduce_sum(x, axis=1, keepdims=True),
            tf.reduce_sum(x, axis=[0, 2]),
            tf.reduce_mean(x, axis=[0, 2], keepdims=True),
            tf.reduce_mean(x, axis=-1),
            tf.reduce_max(x, axis=-1, keepdims=True),
            tf.reduce_max(x, axis=[1, 2]),
            tf.reduce_min(x, axis=0, keepdims=True),
            tf.reduce_min(x, axis=2),
            tf.reduce_prod(x, axis=2, keepdims=True),
            tf.reduce_prod(x, axis=1),
        )

    return f, [inp(rng, "x", [2, 3, 4])]


@fixture("matrix_det", "MatrixDeterminant on a batch of 3x3 matrices and on one 2x2 matrix")
def _det(rng):
    def f(a, b):
        return tf.linalg.det(a), tf.linalg.det(b)

    return f, [inp(rng, "a", [4, 3, 3]), inp(rng, "b", [2, 2])]


@fixture("topk", "TopKV2 with constant k=3 (values and int32 indices)")
def _topk(rng):
    def f(x):
        r = tf.math.top_k(x, k=3)
        return r.values, r.indices

    return f, [inp(rng, "x", [2, 10])]


# ---------------------------------------------------------------- resize, pad, concat


@fixture(
    "resize",
    "ResizeBilinear half_pixel_centers / align_corners / legacy, ResizeNearestNeighbor "
    "half_pixel_centers / legacy",
)
def _resize(rng):
    def f(x):
        return (
            tf.image.resize(x, [7, 9], method="bilinear"),
            tf.compat.v1.image.resize_bilinear(x, [7, 9], align_corners=True),
            tf.compat.v1.image.resize_bilinear(x, [8, 10], align_corners=False),
            tf.image.resize(x, [8, 10], method="nearest"),
            tf.compat.v1.image.resize_nearest_neighbor(x, [8, 10], align_corners=False),
            tf.image.resize(x, [3, 3], method="bilinear"),
        )

    return f, [inp(rng, "x", [1, 4, 5, 3])]


@fixture("pad", "MirrorPad REFLECT and SYMMETRIC, Pad (zeros), PadV2 (constant 1.5)")
def _pad(rng):
    p = [[0, 0], [1, 2], [2, 1], [0, 0]]

    def f(x):
        return (
            tf.pad(x, p, mode="REFLECT"),
            tf.pad(x, p, mode="SYMMETRIC"),
            tf.pad(x, p),
            tf.pad(x, [[0, 0], [0, 1], [1, 0], [1, 1]], constant_values=1.5),
        )

    return f, [inp(rng, "x", [1, 4, 5, 2])]


@fixture("concat", "ConcatV2 on the channel axis, a spatial axis and a negative axis")
def _concat(rng):
    c = normal(rng, 1, 3, 4, 2)

    def f(x, y):
        return (
            tf.concat([x, y, x], axis=3),
            tf.concat([x, c], axis=1),
            tf.concat([y, x], axis=-2),
        )

    return f, [inp(rng, "x", [1, 3, 4, 2]), inp(rng, "y", [1, 3, 4, 2])]


# ---------------------------------------------------------------- shapes and indexing


@fixture(
    "shape_ops",
    "Transpose Reshape Squeeze ExpandDims Tile Pack Unpack, Shape/StridedSlice/Pack computed "
    "Reshape, Fill",
)
def _shape_ops(rng):
    def f(x):
        n = tf.shape(x)[0]
        return (
            tf.transpose(x, [0, 3, 1, 2]),
            tf.reshape(x, [2, 12]),
            tf.squeeze(x[:, :1], axis=1),
            tf.expand_dims(x, axis=2),
            tf.tile(x, [1, 2, 1, 3]),
            tf.stack([x[..., 0], x[..., 1]], axis=1),
            tf.unstack(x, axis=1)[2],
            tf.reshape(x, tf.stack([n, -1])),
            tf.fill(tf.shape(x)[1:3], 0.5) + x[0, :, :, 0],
        )

    return f, [inp(rng, "x", [2, 3, 2, 2])]


@fixture(
    "gather_slice_split",
    "GatherV2 (axis 0 and 1, negative indices not allowed so constants), Slice, StridedSlice "
    "with strides and masks, Split, SplitV",
)
def _gather(rng):
    def f(x):
        a, b = tf.split(x, 2, axis=2)
        c, d, e = tf.split(x, [1, 2, 3], axis=2)
        return (
            tf.gather(x, [2, 0, 2], axis=1),
            tf.gather(x, [1], axis=0),
            tf.slice(x, [0, 1, 2], [1, 2, 3]),
            x[:, ::2, 1:-1:2],
            x[1, ..., tf.newaxis],
            a, b, c, d, e,
        )

    return f, [inp(rng, "x", [2, 4, 6])]


@fixture(
    "cumsum_argmax_softmax",
    "Cumsum (plain, exclusive, reverse), ArgMax, ArgMin, Softmax on a non-last axis, LogSoftmax",
)
def _cumsum(rng):
    def f(x):
        return (
            tf.cumsum(x, axis=1),
            tf.cumsum(x, axis=2, exclusive=True),
            tf.cumsum(x, axis=2, reverse=True),
            tf.argmax(x, axis=-1, output_type=tf.int32),
            tf.argmin(x, axis=1, output_type=tf.int32),
            tf.nn.softmax(x, axis=1),
            tf.nn.log_softmax(x, axis=-1),
        )

    return f, [inp(rng, "x", [2, 3, 5])]


# ---------------------------------------------------------------- Keras blocks


@fixture(
    "transformer_tiny",
    "Keras encoder block: MultiHeadAttention (2 heads, key_dim 4, seq 5), residual, "
    "LayerNormalization, Dense with GELU (Erf), Dense",
)
def _transformer(rng):
    tf.keras.utils.set_random_seed(seed_of("transformer_tiny"))
    x_in = tf.keras.Input(shape=(5, 8), batch_size=1, name="input")
    att = tf.keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x_in, x_in)
    h = tf.keras.layers.LayerNormalization()(x_in + att)
    ff = tf.keras.layers.Dense(16, activation="gelu")(h)
    ff = tf.keras.layers.Dense(8)(ff)
    out = tf.keras.layers.LayerNormalization()(h + ff)
    model = tf.keras.Model(x_in, out, name="model")

    def f(x):
        return model(x, training=False)

    return f, [inp(rng, "input", [1, 5, 8])]


@fixture(
    "mbconv_se_swish",
    "Keras EfficientNet-style MBConv block (NHWC, 8x8x8, expand 2): 1x1 Conv + BatchNorm + swish, "
    "3x3 DepthwiseConv + BatchNorm + swish, squeeze-and-excitation (GlobalAveragePooling2D, "
    "Reshape, 1x1 Conv + swish, 1x1 Conv + sigmoid, Multiply), 1x1 Conv + BatchNorm, residual Add",
)
def _mbconv(rng):
    tf.keras.utils.set_random_seed(seed_of("mbconv_se_swish"))
    L = tf.keras.layers
    filters, expanded, se = 8, 16, 2
    x_in = tf.keras.Input(shape=(8, 8, filters), batch_size=1, name="input")
    h = L.Conv2D(expanded, 1, padding="same", use_bias=False)(x_in)
    h = L.Activation("swish")(L.BatchNormalization()(h))
    h = L.DepthwiseConv2D(3, padding="same", use_bias=False)(h)
    h = L.Activation("swish")(L.BatchNormalization()(h))
    s = L.GlobalAveragePooling2D()(h)
    s = L.Reshape((1, 1, expanded))(s)
    s = L.Conv2D(se, 1, padding="same", activation="swish")(s)
    s = L.Conv2D(expanded, 1, padding="same", activation="sigmoid")(s)
    h = L.multiply([h, s])
    h = L.BatchNormalization()(L.Conv2D(filters, 1, padding="same", use_bias=False)(h))
    out = L.add([h, x_in])
    model = tf.keras.Model(x_in, out, name="model")
    # Inference statistics away from the identity, so a dropped batch norm changes the output.
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            layer.set_weights(list(bn_params(rng, layer.get_weights()[0].shape[0])))

    def f(x):
        return model(x, training=False)

    return f, [inp(rng, "input", [1, 8, 8, filters])]


@fixture(
    "convnext_chain",
    "Keras ConvNeXt stage of 9 blocks (NHWC, 8x8x8): 7x7 Conv2D(groups=8) + LayerNormalization + "
    "Dense 32 + GELU + Dense 8 + per-channel layer scale, residual Add; a chain of adds and "
    "products between NHWC layer norms and NCHW convolutions (issue: e-graph growth)",
)
def _convnext_chain(rng):
    tf.keras.utils.set_random_seed(seed_of("convnext_chain"))
    L = tf.keras.layers
    dim = 8
    x_in = tf.keras.Input(shape=(8, 8, dim), batch_size=1, name="input")
    x = x_in
    for _ in range(9):
        h = L.Conv2D(dim, 7, padding="same", groups=dim)(x)
        h = L.LayerNormalization(epsilon=1e-6)(h)
        h = L.Dense(4 * dim, activation="gelu")(h)
        h = L.Dense(dim)(h)
        x = x + h * tf.constant(normal(rng, dim, scale=0.5))
    model = tf.keras.Model(x_in, x, name="model")

    def f(x):
        return model(x, training=False)

    return f, [inp(rng, "input", [1, 8, 8, dim])]


@fixture("lstm_unrolled", "Keras LSTM(4, unroll=True, return_sequences=True) over 3 steps")
def _lstm(rng):
    tf.keras.utils.set_random_seed(seed_of("lstm_unrolled"))
    x_in = tf.keras.Input(shape=(3, 5), batch_size=1, name="input")
    out = tf.keras.layers.LSTM(4, unroll=True, return_sequences=True)(x_in)
    model = tf.keras.Model(x_in, out, name="model")
    # Non-zero biases so that a bias dropped by the importer changes the output.
    k, rk, b = model.layers[1].get_weights()
    model.layers[1].set_weights([k, rk, normal(rng, *b.shape, scale=0.3)])

    def f(x):
        return model(x, training=False)

    return f, [inp(rng, "input", [1, 3, 5])]


@fixture(
    "dynamic_batch",
    "batch dimension unknown in the graph (Placeholder shape [-1, 6]): MatMul, Shape, "
    "StridedSlice, Pack, computed Reshape, Softmax; golden run with batch 2",
)
def _dynamic(rng):
    w, b = weights(rng, 6, 8), normal(rng, 8, scale=0.1)

    def f(x):
        y = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w), b))
        y = tf.reshape(y, tf.stack([tf.shape(x)[0], 2, 4]))
        return tf.nn.softmax(y)

    return f, [("x", [None, 6], np.float32, normal(rng, 2, 6))]


# ---------------------------------------------------------------- custom layers


@fixture(
    "custom_dilation_reshape",
    "Dilation2D (no composite, no Rust shape function) whose output a Reshape with -1 consumes: "
    "with a user registration and `infer` (tests/fixtures/rules/custom_dilation) both convert",
)
def _custom_dilation_reshape(rng):
    filters = tf.constant(normal(rng, 3, 3, 2))

    def f(x):
        y = tf.nn.dilation2d(x, filters, strides=[1, 1, 1, 1], padding="VALID", data_format="NHWC", dilations=[1, 1, 1, 1])
        return tf.reshape(y, [-1, 8]) * 2.0

    return f, [inp(rng, "x", [1, 6, 6, 2])]


# ---------------------------------------------------------------- error path


@fixture(
    "unsupported_lgamma",
    "Lgamma, an op with no Core ML Neural Network equivalent, for 'not supported' error tests",
)
def _unsupported(rng):
    def f(x):
        return tf.math.lgamma(tf.abs(x) + 0.5)

    return f, [inp(rng, "x", [2, 4])]


# ---------------------------------------------------------------- example model


def tiny_mobilenet(rng):
    """A small MobileNet-like classifier for 32x32x3 images, calibrated as in the corpus."""
    tf.keras.utils.set_random_seed(seed_of("tiny_mobilenet"))
    L = tf.keras.layers
    x_in = tf.keras.Input(shape=(32, 32, 3), batch_size=1, name="input")
    x = L.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(x_in)
    x = L.BatchNormalization()(x)
    x = L.ReLU(6.0)(x)

    def block(x, expand, out, stride):
        y = L.Conv2D(expand, 1, use_bias=False)(x)
        y = L.BatchNormalization()(y)
        y = L.ReLU(6.0)(y)
        y = L.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(y)
        y = L.BatchNormalization()(y)
        y = L.ReLU(6.0)(y)
        y = L.Conv2D(out, 1, use_bias=False)(y)
        y = L.BatchNormalization()(y)
        if stride == 1 and x.shape[-1] == out:
            y = L.Add()([x, y])
        return y

    x = block(x, 32, 16, 1)
    x = block(x, 48, 24, 2)
    x = block(x, 64, 24, 1)
    x = L.Conv2D(64, 1, use_bias=False)(x)
    x = L.BatchNormalization()(x)
    x = L.ReLU(6.0)(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(10, activation="softmax")(x)
    model = tf.keras.Model(x_in, x, name="model")
    golden = normal(rng, 1, 32, 32, 3)
    calibrate(model, golden, rng)

    def f(x):
        return model(x, training=False)

    return f, [("input", [1, 32, 32, 3], np.float32, golden)]


def calibrate(model, golden, rng, logit_std=2.0, var_floor=1e-2):
    """Set batch-norm statistics from each layer's input on the golden input, scale logits.

    Layers are visited in order, so each one's statistics are taken after the earlier ones
    were set, as they would be after training.
    """
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            a = tf.keras.Model(model.inputs, layer.input)(golden, training=False).numpy()
            axes = tuple(range(a.ndim - 1))
            c = a.shape[-1]
            layer.set_weights([
                rng.uniform(0.8, 1.2, c).astype(np.float32),
                normal(rng, c, scale=0.1),
                a.mean(axis=axes).astype(np.float32),
                np.maximum(a.var(axis=axes), var_floor).astype(np.float32),
            ])
    dense = [l for l in model.layers if isinstance(l, tf.keras.layers.Dense)][-1]
    feats = tf.keras.Model(model.inputs, dense.input)(golden, training=False).numpy()
    kernel, bias = dense.get_weights()
    logits = feats @ kernel + bias
    s = logit_std / max(float(logits.std()), 1e-6)
    dense.set_weights([kernel * s, (bias * s).astype(np.float32)])


# ---------------------------------------------------------------- freezing and running


def stabilize_gradient_op_types(graph_def):
    """Renumber `_gradient_op_type` attributes (CustomGradient-<uid>) in graph order.

    `tf.custom_gradient` (e.g. inside `tf.nn.silu`) stamps its IdentityN with a process-wide
    counter, so the value depends on what ran before; the attribute has no effect on inference.
    Renumbering keeps the attribute, as real graphs have it, and the file deterministic.
    """
    count = 0
    for node in graph_def.node:
        if "_gradient_op_type" in node.attr:
            node.attr["_gradient_op_type"].s = f"CustomGradient-{count}".encode()
            count += 1


def freeze_tf1(fn, specs):
    """A TF1 graph: `fn` called on `tf.compat.v1` placeholders in a plain `tf.Graph` with
    control flow v2 disabled (`tf.compat.v1.cond`/`while_loop` write Switch/Merge/Enter/Exit
    frames), outputs `Identity`, `Identity_1`, ..., frozen with TF1's
    `convert_variables_to_constants`. The returned callable runs the unfrozen graph, for the
    frozen-equals-original check."""
    from tensorflow.python.ops import control_flow_util
    saved = control_flow_util.ENABLE_CONTROL_FLOW_V2
    control_flow_util.ENABLE_CONTROL_FLOW_V2 = False
    try:
        graph = tf.Graph()
        with graph.as_default():
            placeholders = [tf.compat.v1.placeholder(tf.as_dtype(dtype), shape, name=name)
                            for name, shape, dtype, _ in specs]
            outs = tf.nest.flatten(fn(*placeholders))
            names = [tf.identity(o, name="Identity" if k == 0 else f"Identity_{k}").op.name
                     for k, o in enumerate(outs)]
            with tf.compat.v1.Session(graph=graph) as sess:
                graph_def = tf.compat.v1.graph_util.convert_variables_to_constants(
                    sess, graph.as_graph_def(), names)
    finally:
        control_flow_util.ENABLE_CONTROL_FLOW_V2 = saved

    def original(*values):
        with tf.compat.v1.Session(graph=graph) as sess:
            got = sess.run([f"{n}:0" for n in names],
                           feed_dict={p: np.asarray(v) for p, v in zip(placeholders, values)})
        return [tf.constant(v) for v in got]

    inputs = [f"{name}:0" for name, _, _, _ in specs]
    return graph_def, inputs, [f"{n}:0" for n in names], original


def freeze(fn, specs, lower_control_flow=True):
    """`lower_control_flow=False` keeps `StatelessIf`/`StatelessWhile` and their function
    library in the frozen graph (the TF2 form) instead of TF1 Switch/Merge frames. A `fn`
    marked `tf1 = True` is built as a TF1 graph instead (`freeze_tf1`)."""
    if getattr(fn, "tf1", False):
        return freeze_tf1(fn, specs)
    if getattr(fn, "unfrozen", False):
        # The function's own graph (no variables to freeze): freezing would lower a `Case`
        # into `_SwitchN`/`Merge` even with `lower_control_flow=False`.
        sig = [tf.TensorSpec(shape, tf.as_dtype(dtype), name=name) for name, shape, dtype, _ in specs]
        concrete = tf.function(fn, autograph=False).get_concrete_function(*sig)
        graph_def = concrete.graph.as_graph_def()
        stabilize_gradient_op_types(graph_def)
        return graph_def, [t.name for t in concrete.inputs], [t.name for t in concrete.outputs], concrete
    sig = [tf.TensorSpec(shape, tf.as_dtype(dtype), name=name) for name, shape, dtype, _ in specs]
    concrete = tf.function(fn, autograph=False).get_concrete_function(*sig)
    frozen = convert_variables_to_constants_v2(concrete, lower_control_flow=lower_control_flow)
    graph_def = frozen.graph.as_graph_def()
    stabilize_gradient_op_types(graph_def)
    inputs = [t.name for t in frozen.inputs]
    outputs = [t.name for t in frozen.outputs]
    return graph_def, inputs, outputs, concrete


def static_shape(t):
    if t.shape.rank is None:
        return None
    return [-1 if d is None else int(d) for d in t.shape.as_list()]


FRAME_OPS = {"Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond", "RefSwitch", "RefMerge",
             "RefEnter", "RefExit", "RefNextIteration"}
PROBE_SKIP = {"Const", "Identity", "Placeholder", "NoOp", "Shape", "IdentityN"}
MAX_PROBES = 6


def pick_probes(graph, output_tensors):
    """Inner float tensors of compute ops, spread over the graph, excluding output feeds."""
    feeds_output = set()
    for name in output_tensors:
        op = graph.get_tensor_by_name(name).op
        if op.type == "Identity":
            feeds_output.add(op.inputs[0].name)
    cands = [
        op.outputs[0]
        for op in graph.get_operations()
        if op.type not in PROBE_SKIP
        and op.outputs
        and op.outputs[0].dtype == tf.float32
        and op.outputs[0].name not in feeds_output
    ]
    if len(cands) <= MAX_PROBES:
        return cands
    idx = np.linspace(0, len(cands) - 1, MAX_PROBES).round().astype(int)
    return [cands[i] for i in sorted(set(idx))]


def write_fixture(name, description, fn, specs, out_dir, lower_control_flow=True):
    graph_def, input_names, output_names, concrete = freeze(fn, specs, lower_control_flow)
    pb = graph_def.SerializeToString(deterministic=True)
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    # A TensorList (variant) has no numpy value: Keras RNN loops pass them between ops.
    all_tensors = [t for op in graph.get_operations() for t in op.outputs if t.dtype != tf.variant]
    # TF1 frames (Switch/Merge/Enter...): a dead branch's tensors have no value and a loop's
    # cannot be fetched from outside it, so only the inputs and outputs are fetched.
    frames = any(op.type in FRAME_OPS for op in graph.get_operations())
    if frames:
        all_tensors = [graph.get_tensor_by_name(n) for n in input_names + output_names]
    feed = {graph.get_tensor_by_name(n): value for n, (_, _, _, value) in zip(input_names, specs)}
    # Grappler off: fetching every tensor must see the graph as written (the remapper would
    # fuse FusedBatchNormV3 and drop the outputs we fetch), and goldens come from plain kernels.
    config = tf.compat.v1.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = True
    with tf.compat.v1.Session(graph=graph, config=config) as sess:
        values = sess.run(all_tensors, feed_dict=feed)
    by_name = {t.name: v for t, v in zip(all_tensors, values)}
    probes = [] if frames else pick_probes(graph, output_names)
    # The frozen graph must compute what the original function computes (freezing inlines
    # functions and folds variables; a difference would make every golden wrong).
    eager = tf.nest.flatten(concrete(*[tf.constant(v) for _, _, _, v in specs]))
    for tensor, value in zip(output_names, eager):
        np.testing.assert_allclose(by_name[tensor], value.numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=f"{tensor}: frozen graph differs from eager")

    arrays = {}
    for n in input_names + output_names + [p.name for p in probes]:
        arrays[n] = np.asarray(by_name[n])

    ops = Counter(n.op for n in graph_def.node)
    meta = {
        "name": name,
        "description": description,
        "inputs": [
            {"name": n.split(":")[0], "tensor": n, "shape": list(by_name[n].shape),
             "dtype": by_name[n].dtype.name}
            for n in input_names
        ],
        "outputs": [
            {"name": n.split(":")[0], "tensor": n, "shape": list(by_name[n].shape),
             "dtype": by_name[n].dtype.name}
            for n in output_names
        ],
        "nodes": len(graph_def.node),
        "ops": dict(sorted(ops.items())),
        "bytes": len(pb),
        "probes": [
            {"name": p.op.name, "tensor": p.name, "op": p.op.type, "shape": list(by_name[p.name].shape)}
            for p in probes
        ],
        "tensors": [
            {
                "tensor": t.name,
                "op": t.op.type,
                "dtype": t.dtype.name,
                "static_shape": static_shape(t),
                "shape": list(np.shape(by_name[t.name])),
            }
            for t in all_tensors
        ],
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.pb").write_bytes(pb)
    save_npz(out_dir / f"{name}.npz", arrays)
    save_json(out_dir / f"{name}.json", meta)
    sizes = sum((out_dir / f"{name}.{e}").stat().st_size for e in ("pb", "npz", "json"))
    return meta, sizes


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=root / "tests" / "fixtures")
    ap.add_argument("--examples", type=Path, default=root / "examples")
    ap.add_argument("--only", nargs="*", help="fixture names to regenerate (default: all)")
    args = ap.parse_args()

    rows = []
    todo = [(n, d, b, args.out) for n, (d, b) in FIXTURES.items()]
    todo.append(("tiny_mobilenet", "Keras MobileNet-like CNN classifier, 32x32x3 -> 10 classes, "
                 "calibrated batch norm", tiny_mobilenet, args.examples))
    for name, description, build, out_dir in todo:
        if args.only and name not in args.only:
            continue
        # Fresh Keras name counters, so layer names (dense, dense_1...) and hence node names
        # do not depend on which fixtures were built before this one (--only).
        tf.keras.backend.clear_session()
        rng = np.random.default_rng(seed_of(name))
        fn, specs = build(rng)
        meta, size = write_fixture(name, description, fn, specs, out_dir)
        rows.append((name, meta["nodes"], len(meta["probes"]), size, " ".join(
            k for k in meta["ops"] if k not in ("Const", "Identity", "Placeholder", "NoOp"))))

    w = max(len(r[0]) for r in rows)
    print(f"{'fixture':<{w}}  nodes  probes   bytes  ops")
    for name, nodes, probes, size, ops in rows:
        print(f"{name:<{w}}  {nodes:5d}  {probes:6d}  {size:6d}  {ops}")
    print(f"total bytes: {sum(r[3] for r in rows)}")


if __name__ == "__main__":
    main()
