"""3-D convolution and pooling ops (rules/conv3d.rules): Conv3D, Conv3DBackpropInputV2,
MaxPool3D, AvgPool3D and keep-dims global pooling over D, H, W.

Sizes are picked for what a rule gets wrong: odd sizes under SAME (TF pads the extra cell at
the back/bottom/right), strides larger than the kernel (skipped cells), unequal strides per
axis, batch > 1, a transposed convolution whose input_sizes are not in * stride.

TF's CPU runs these ops in NDHWC only and Conv3D without dilation or groups, so NCDHW graphs
and a dilated Conv3D get their goldens from a `reference` the CPU can run: the NDHWC op between
transposes, and the dilated filter written out with zeros between its taps. A grouped Conv3D
has no case: the importer's shape inference already refuses it ("input channels: 4 and 2
differ"), and conv3d.rules would not match it either.
"""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, normal, spec


def const(rng, *shape, scale=1.0):
    return tf.constant(normal(rng, *shape, scale=scale))


def ncdhw_reference(ndhwc_fn):
    """The NCDHW function `ndhwc_fn` computes between transposes: what the goldens are."""
    return lambda x: tf.transpose(ndhwc_fn(tf.transpose(x, [0, 2, 3, 4, 1])), [0, 4, 1, 2, 3])


def dilated_filter(w, dilations):
    """The [D, H, W, in, out] filter `w` with `dilation - 1` zeros between its taps."""
    w = w.numpy()
    k = [(w.shape[a] - 1) * dilations[a] + 1 for a in range(3)]
    out = np.zeros(k + list(w.shape[3:]), np.float32)
    out[::dilations[0], ::dilations[1], ::dilations[2]] = w
    return tf.constant(out)


# --- Conv3D ---------------------------------------------------------------------------------

@case("conv3d_same_odd_stride2", "Conv3D NDHWC SAME 3x3x3, 5x7x6 input, stride 2 (asymmetric padding), batch 2")
def _(rng):
    w = const(rng, 3, 3, 3, 3, 4)
    return (lambda x: tf.nn.conv3d(x, w, [1, 2, 2, 2, 1], "SAME")), [spec("x", edge_floats(rng, 2, 5, 7, 6, 3))]


@case("conv3d_valid_stride_gt_kernel", "Conv3D NDHWC VALID 2x2x1 kernel, strides 3x2x2 (cells skipped)")
def _(rng):
    w = const(rng, 2, 2, 1, 2, 3)
    return (lambda x: tf.nn.conv3d(x, w, [1, 3, 2, 2, 1], "VALID")), [spec("x", edge_floats(rng, 1, 8, 5, 7, 2))]


@case("conv3d_same_unequal_strides", "Conv3D NDHWC SAME 2x3x4 kernel (even sizes), strides 1x3x2 on 4x8x5")
def _(rng):
    w = const(rng, 2, 3, 4, 2, 2)
    return (lambda x: tf.nn.conv3d(x, w, [1, 1, 3, 2, 1], "SAME")), [spec("x", edge_floats(rng, 1, 4, 8, 5, 2))]


@case("conv3d_bias_1x1x1_spatial", "Conv3D + BiasAdd on a 1x1x1 spatial input (batch 3), SAME")
def _(rng):
    w, b = const(rng, 1, 1, 1, 4, 5), const(rng, 5)
    return (lambda x: tf.nn.bias_add(tf.nn.conv3d(x, w, [1] * 5, "SAME"), b)), [spec("x", edge_floats(rng, 3, 1, 1, 1, 4))]


@case("conv3d_bias_valid", "Conv3D + BiasAdd VALID 3x2x2, stride 1x1x2, batch 2")
def _(rng):
    w, b = const(rng, 3, 2, 2, 3, 2), const(rng, 2)
    return (lambda x: tf.nn.bias_add(tf.nn.conv3d(x, w, [1, 1, 1, 2, 1], "VALID"), b)), \
        [spec("x", edge_floats(rng, 2, 4, 4, 5, 3))]


@case("conv3d_dilated_same", "Conv3D NDHWC SAME, dilations 2x1x3 (goldens: the dilated filter written out)")
def _(rng):
    w = const(rng, 3, 2, 2, 2, 3)
    fn = lambda x: tf.nn.conv3d(x, w, [1] * 5, "SAME", dilations=[1, 2, 1, 3, 1])  # noqa: E731
    wd = dilated_filter(w, [2, 1, 3])
    return fn, [spec("x", edge_floats(rng, 1, 6, 5, 8, 2))], (lambda x: tf.nn.conv3d(x, wd, [1] * 5, "SAME"))


@case("conv3d_dilated_valid_stride2", "Conv3D NDHWC VALID, dilations 1x2x2, strides 1x2x1 (goldens: the dilated filter written out)")
def _(rng):
    w = const(rng, 2, 2, 3, 2, 2)
    fn = lambda x: tf.nn.conv3d(x, w, [1, 1, 2, 1, 1], "VALID", dilations=[1, 1, 2, 2, 1])  # noqa: E731
    wd = dilated_filter(w, [1, 2, 2])
    return fn, [spec("x", edge_floats(rng, 1, 4, 7, 8, 2))], (lambda x: tf.nn.conv3d(x, wd, [1, 1, 2, 1, 1], "VALID"))


@case("conv3d_ncdhw_same_stride2", "Conv3D NCDHW SAME stride 2 on 5x6x7 (goldens: NDHWC reference)")
def _(rng):
    w = const(rng, 3, 3, 2, 3, 2)
    fn = lambda x: tf.nn.conv3d(x, w, [1, 1, 2, 2, 2], "SAME", data_format="NCDHW")  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 2, 3, 5, 6, 7))], \
        ncdhw_reference(lambda x: tf.nn.conv3d(x, w, [1, 2, 2, 2, 1], "SAME"))


# --- Conv3DBackpropInputV2 (transposed convolution) -----------------------------------------

@case("conv3d_transpose_same_stride2_odd", "Conv3DBackpropInputV2 SAME stride 2 to an odd 5x7x6 output, batch 2")
def _(rng):
    w = const(rng, 3, 3, 3, 4, 3)  # [D, H, W, out, in]
    return (lambda x: tf.nn.conv3d_transpose(x, w, [2, 5, 7, 6, 4], [1, 2, 2, 2, 1], "SAME")), \
        [spec("x", edge_floats(rng, 2, 3, 4, 3, 3))]


@case("conv3d_transpose_same_even_kernel", "Conv3DBackpropInputV2 SAME, 2x4x4 kernel, strides 1x2x2, 3x3x3 -> 3x6x6")
def _(rng):
    w = const(rng, 2, 4, 4, 2, 3)
    return (lambda x: tf.nn.conv3d_transpose(x, w, [1, 3, 6, 6, 2], [1, 1, 2, 2, 1], "SAME")), \
        [spec("x", edge_floats(rng, 1, 3, 3, 3, 3))]


@case("conv3d_transpose_valid_stride_gt_kernel", "Conv3DBackpropInputV2 VALID, 2x2x3 kernel, strides 3x2x2, "
      "input_sizes one more than the full output along D and W (zeros at the end)")
def _(rng):
    w = const(rng, 2, 2, 3, 2, 3)
    # full output: (3-1)*3+2 = 8, (3-1)*2+2 = 6, (2-1)*2+3 = 5; asked 9, 6, 6.
    return (lambda x: tf.nn.conv3d_transpose(x, w, [1, 9, 6, 6, 2], [1, 3, 2, 2, 1], "VALID")), \
        [spec("x", edge_floats(rng, 1, 3, 3, 2, 3))]


@case("conv3d_transpose_valid_stride1", "Conv3DBackpropInputV2 VALID stride 1, 3x3x2 kernel")
def _(rng):
    w = const(rng, 3, 3, 2, 3, 2)
    return (lambda x: tf.nn.conv3d_transpose(x, w, [1, 5, 6, 5, 3], [1] * 5, "VALID")), \
        [spec("x", edge_floats(rng, 1, 3, 4, 4, 2))]


@case("conv3d_transpose_ncdhw", "Conv3DBackpropInputV2 NCDHW SAME strides 1x2x2 to 4x7x6, batch 2 (goldens: NDHWC reference)")
def _(rng):
    w = const(rng, 2, 3, 3, 3, 2)
    fn = lambda x: tf.nn.conv3d_transpose(x, w, [2, 3, 4, 7, 6], [1, 1, 1, 2, 2], "SAME", data_format="NCDHW")  # noqa: E731
    ref = lambda x: tf.nn.conv3d_transpose(x, w, [2, 4, 7, 6, 3], [1, 1, 2, 2, 1], "SAME")  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 2, 2, 4, 4, 3))], ncdhw_reference(ref)


# --- MaxPool3D / AvgPool3D ------------------------------------------------------------------

@case("max_pool3d_same_odd_stride2", "MaxPool3D NDHWC SAME 3x3x3 stride 2 on 5x7x6, batch 2")
def _(rng):
    return (lambda x: tf.nn.max_pool3d(x, 3, 2, "SAME")), [spec("x", edge_floats(rng, 2, 5, 7, 6, 3))]


@case("max_pool3d_valid_stride_gt_kernel", "MaxPool3D NDHWC VALID 2x1x2 kernel, strides 3x2x3")
def _(rng):
    return (lambda x: tf.nn.max_pool3d(x, [2, 1, 2], [3, 2, 3], "VALID")), [spec("x", edge_floats(rng, 1, 8, 5, 7, 2))]


@case("avg_pool3d_same_odd", "AvgPool3D NDHWC SAME 3x2x3 stride 2x1x2 on 5x4x7: border windows divide by the cells inside")
def _(rng):
    return (lambda x: tf.nn.avg_pool3d(x, [3, 2, 3], [2, 1, 2], "SAME")), [spec("x", edge_floats(rng, 2, 5, 4, 7, 2))]


@case("avg_pool3d_valid", "AvgPool3D NDHWC VALID 2x2x2 stride 2 on odd 5x5x7")
def _(rng):
    return (lambda x: tf.nn.avg_pool3d(x, 2, 2, "VALID")), [spec("x", edge_floats(rng, 1, 5, 5, 7, 3))]


@case("max_pool3d_ncdhw", "MaxPool3D NCDHW SAME 3x3x2 stride 2 (goldens: NDHWC reference)")
def _(rng):
    fn = lambda x: tf.nn.max_pool3d(x, [3, 3, 2], 2, "SAME", data_format="NCDHW")  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 2, 3, 5, 6, 5))], \
        ncdhw_reference(lambda x: tf.nn.max_pool3d(x, [3, 3, 2], 2, "SAME"))


@case("avg_pool3d_ncdhw", "AvgPool3D NCDHW SAME 2x3x3 stride 2 (goldens: NDHWC reference)")
def _(rng):
    fn = lambda x: tf.nn.avg_pool3d(x, [2, 3, 3], 2, "SAME", data_format="NCDHW")  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 1, 2, 5, 7, 6))], \
        ncdhw_reference(lambda x: tf.nn.avg_pool3d(x, [2, 3, 3], 2, "SAME"))


# --- Global pooling over D, H, W ------------------------------------------------------------
# Keep-dims Mean / Max over D, H, W convert through reduce.rules and layout.rules (a reduction
# over the transposed NCDHW axes is cheaper than globalPooling3d between two transposes).

@case("global_avg_pool3d_keepdims", "Mean over axes 1, 2, 3 of NDHWC keeping dims (GlobalAveragePooling3D keepdims)")
def _(rng):
    return (lambda x: tf.reduce_mean(x, [1, 2, 3], keepdims=True)), [spec("x", edge_floats(rng, 2, 3, 4, 5, 3))]


@case("global_max_pool3d_keepdims", "Max over axes -4, -3, -2 of NDHWC keeping dims (GlobalMaxPooling3D keepdims)")
def _(rng):
    return (lambda x: tf.reduce_max(x, [-4, -3, -2], keepdims=True)), [spec("x", edge_floats(rng, 2, 3, 4, 5, 3))]


# --- Keras layers (what real 3-D models freeze to) ------------------------------------------

def keras_init(seed):
    return tf.keras.initializers.RandomNormal(stddev=0.5, seed=seed)


@case("keras_conv3d_block", "Keras Conv3D (SAME, strides 2, bias, relu) -> MaxPooling3D -> AveragePooling3D(SAME)")
def _(rng):
    conv = tf.keras.layers.Conv3D(4, 3, strides=2, padding="same", activation="relu",
                                  kernel_initializer=keras_init(1), bias_initializer=keras_init(2))
    pool = tf.keras.layers.MaxPooling3D(2, padding="valid")
    avg = tf.keras.layers.AveragePooling3D(2, strides=1, padding="same")
    return (lambda x: avg(pool(conv(x)))), [spec("x", edge_floats(rng, 2, 7, 8, 9, 3))]


@case("keras_conv3d_transpose", "Keras Conv3DTranspose (SAME, strides 2x1x2, bias) on a static-shape input")
def _(rng):
    deconv = tf.keras.layers.Conv3DTranspose(3, (3, 2, 3), strides=(2, 1, 2), padding="same",
                                             kernel_initializer=keras_init(3), bias_initializer=keras_init(4))
    return (lambda x: deconv(x)), [spec("x", edge_floats(rng, 1, 3, 4, 3, 2))]
