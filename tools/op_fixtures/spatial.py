"""Convolution, pooling, padding, resizing and normalization ops (rules/conv.rules, pool.rules,
pad.rules, resize.rules, normalization.rules, spatial.rules and the layout rules they lean on).

Sizes are picked for the cases a rule gets wrong: odd inputs under SAME (TF pads the extra row
at the bottom/right), strides larger than the kernel (skipped input rows), dilation, 1x1
spatial inputs, batch > 1 and channel multipliers. TF's CPU kernels run convolutions and
pooling in NHWC only ("The Conv2D op currently only supports the NHWC tensor format on the
CPU"), so NCHW convolution and pooling graphs cannot be frozen with TF-computed goldens here;
FusedBatchNorm does run in NCHW on the CPU.
"""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, normal, spec


def const(rng, *shape, scale=1.0):
    return tf.constant(normal(rng, *shape, scale=scale))


# --- Conv2D ---------------------------------------------------------------------------------

@case("conv2d_same_odd_stride2", "Conv2D NHWC SAME, 7x7 input, stride 2 (asymmetric padding), batch 2")
def _(rng):
    w = const(rng, 3, 3, 3, 4)
    return (lambda x: tf.nn.conv2d(x, w, 2, "SAME")), [spec("x", edge_floats(rng, 2, 7, 7, 3))]


@case("conv2d_valid_stride_gt_kernel", "Conv2D NHWC VALID, 2x2 kernel, strides 3x2 (rows skipped)")
def _(rng):
    w = const(rng, 2, 2, 2, 3)
    return (lambda x: tf.nn.conv2d(x, w, [1, 3, 2, 1], "VALID")), [spec("x", edge_floats(rng, 1, 9, 8, 2))]


@case("conv2d_same_dilation2", "Conv2D NHWC SAME, dilation 2x3 on an 8x9 input")
def _(rng):
    w = const(rng, 3, 3, 3, 2)
    return (lambda x: tf.nn.conv2d(x, w, 1, "SAME", dilations=[2, 3])), [spec("x", edge_floats(rng, 1, 8, 9, 3))]


@case("conv2d_explicit", "Conv2D NHWC EXPLICIT padding top 1 bottom 2 left 0 right 1, stride 2")
def _(rng):
    w = const(rng, 3, 2, 2, 3)
    pads = [[0, 0], [1, 2], [0, 1], [0, 0]]
    return (lambda x: tf.nn.conv2d(x, w, 2, pads)), [spec("x", edge_floats(rng, 2, 6, 5, 2))]


@case("conv2d_bias_1x1_spatial", "Conv2D + BiasAdd on a 1x1 spatial input (batch 3), SAME")
def _(rng):
    w, b = const(rng, 1, 1, 4, 5), const(rng, 5)
    return (lambda x: tf.nn.bias_add(tf.nn.conv2d(x, w, 1, "SAME"), b)), [spec("x", edge_floats(rng, 3, 1, 1, 4))]


def grouped_reference(w, groups, *args, bias=None, **kwargs):
    """A grouped convolution as `groups` ordinary ones on channel slices, concatenated: the
    goldens of grouped cases with a bias, which TF's CPU fuses into a kernel that has no groups
    ("Fused conv implementation does not support grouped convolutions")."""
    ws = tf.split(w, groups, axis=3)

    def ref(x):
        xs = tf.split(x, groups, axis=3)
        y = tf.concat([tf.nn.conv2d(a, b, *args, **kwargs) for a, b in zip(xs, ws)], axis=3)
        return y if bias is None else y + tf.reshape(bias, [1, 1, 1, -1])

    return ref


@case("conv2d_grouped", "grouped Conv2D: 6 input channels, filter [3, 3, 2, 6] (3 groups), SAME")
def _(rng):
    w = const(rng, 3, 3, 2, 6)
    return (lambda x: tf.nn.conv2d(x, w, 1, "SAME")), [spec("x", edge_floats(rng, 1, 5, 6, 6))]


@case("conv2d_grouped_bias_stride2", "grouped Conv2D + BiasAdd, 8 channels in 4 groups to 12, VALID stride 2, batch 2 (goldens: per-group reference)")
def _(rng):
    w, b = const(rng, 3, 2, 2, 12), const(rng, 12)
    fn = lambda x: tf.nn.bias_add(tf.nn.conv2d(x, w, 2, "VALID"), b)  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 2, 7, 6, 8))], grouped_reference(w, 4, 2, "VALID", bias=b)


@case("conv2d_grouped_depthwise", "Conv2D with one group per channel (ConvNeXt's 7x7 Conv2D(groups=C)) + BiasAdd, SAME (goldens: per-group reference)")
def _(rng):
    w, b = const(rng, 7, 7, 1, 4), const(rng, 4)
    fn = lambda x: tf.nn.bias_add(tf.nn.conv2d(x, w, 1, "SAME"), b)  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 1, 8, 8, 4))], grouped_reference(w, 4, 1, "SAME", bias=b)


@case("conv2d_grouped_explicit_dilated", "grouped Conv2D (2 groups), EXPLICIT padding, dilation 2")
def _(rng):
    w = const(rng, 3, 3, 3, 4)
    pads = [[0, 0], [2, 1], [1, 2], [0, 0]]
    return (lambda x: tf.nn.conv2d(x, w, 1, pads, dilations=2)), [spec("x", edge_floats(rng, 1, 7, 6, 6))]


@case("conv1d_same_stride2", "tf.nn.conv1d (ExpandDims + Conv2D + Squeeze), SAME stride 2, odd length")
def _(rng):
    w = const(rng, 3, 3, 4)
    return (lambda x: tf.nn.conv1d(x, w, 2, "SAME")), [spec("x", edge_floats(rng, 2, 9, 3))]


@case("conv2d_space_to_batch", "with_space_to_batch dilation 2: SpaceToBatchND + VALID Conv2D + BatchToSpaceND")
def _(rng):
    w = const(rng, 3, 3, 2, 3)
    op = lambda inp, num_spatial_dims, padding: tf.nn.conv2d(inp, w, 1, padding)  # noqa: E731
    return (lambda x: tf.nn.with_space_to_batch(x, [2, 2], "SAME", op, filter_shape=[3, 3])), [spec("x", edge_floats(rng, 1, 7, 8, 2))]


# --- Folding constants into convolutions ------------------------------------------------------

@case("conv2d_mul_channel", "Conv2D times a per-channel constant (folds into the weights)")
def _(rng):
    w, c = const(rng, 3, 3, 2, 3), const(rng, 3)
    return (lambda x: tf.nn.conv2d(x, w, 1, "VALID") * c), [spec("x", edge_floats(rng, 1, 5, 5, 2))]


@case("conv2d_bias_mul_channel", "Conv2D + BiasAdd times a per-channel constant")
def _(rng):
    w, b, c = const(rng, 3, 3, 2, 3), const(rng, 3), const(rng, 3)
    return (lambda x: tf.nn.bias_add(tf.nn.conv2d(x, w, 1, "SAME"), b) * c), [spec("x", edge_floats(rng, 1, 5, 4, 2))]


@case("conv2d_add_channel", "Conv2D plus a per-channel constant via AddV2 (folds into the bias)")
def _(rng):
    w, c = const(rng, 3, 3, 2, 3), const(rng, 3)
    return (lambda x: tf.nn.conv2d(x, w, 1, "SAME") + c), [spec("x", edge_floats(rng, 1, 4, 5, 2))]


@case("conv2d_bias_add_channel", "Conv2D + BiasAdd plus a per-channel constant")
def _(rng):
    w, b, c = const(rng, 2, 2, 2, 3), const(rng, 3), const(rng, 3)
    return (lambda x: tf.nn.bias_add(tf.nn.conv2d(x, w, 1, "VALID"), b) + c), [spec("x", edge_floats(rng, 1, 4, 4, 2))]


@case("conv2d_zero_padded", "ZeroPadding (Pad 1,2 / 1,0) before a VALID stride-2 Conv2D (MobileNet)")
def _(rng):
    w = const(rng, 3, 3, 2, 4)
    pads = tf.constant([[0, 0], [1, 2], [1, 0], [0, 0]])
    return (lambda x: tf.nn.conv2d(tf.pad(x, pads), w, 2, "VALID")), [spec("x", edge_floats(rng, 1, 6, 7, 2))]


@case("depthwise_zero_padded_bias", "ZeroPadding (Pad 0,1 / 0,1) before a VALID stride-2 depthwise conv + BiasAdd (Keras MobileNet)")
def _(rng):
    w, b = const(rng, 3, 3, 3, 1), const(rng, 3)
    pads = tf.constant([[0, 0], [0, 1], [0, 1], [0, 0]])
    fn = lambda x: tf.nn.bias_add(tf.nn.depthwise_conv2d(tf.pad(x, pads), w, [1, 2, 2, 1], "VALID"), b)  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 2, 7, 6, 3))]


# --- Layout: concatenation and reductions between convolutions ---------------------------------

@case("conv2d_concat2_conv2d", "two Conv2D outputs concatenated on channels, then Conv2D")
def _(rng):
    w1, w2, w3 = const(rng, 3, 3, 2, 2), const(rng, 1, 1, 2, 3), const(rng, 3, 3, 5, 2)

    def fn(x):
        a = tf.nn.conv2d(x, w1, 1, "SAME")
        b = tf.nn.conv2d(x, w2, 1, "SAME")
        return tf.nn.conv2d(tf.concat([a, b], -1), w3, 1, "SAME")

    return fn, [spec("x", edge_floats(rng, 1, 5, 5, 2))]


@case("conv2d_concat3_conv2d", "three Conv2D outputs concatenated on axis 3, then Conv2D")
def _(rng):
    ws = [const(rng, 1, 1, 2, 2), const(rng, 3, 3, 2, 1), const(rng, 1, 1, 2, 3)]
    w4 = const(rng, 1, 1, 6, 2)

    def fn(x):
        parts = [tf.nn.conv2d(x, w, 1, "SAME") for w in ws]
        return tf.nn.conv2d(tf.concat(parts, 3), w4, 1, "VALID")

    return fn, [spec("x", edge_floats(rng, 2, 4, 3, 2))]


@case("conv2d_concat_v1_conv2d", "two Conv2D outputs concatenated by Concat (v1, TF1 graphs) on channels, then Conv2D")
def _(rng):
    w1, w2, w3 = const(rng, 3, 3, 2, 2), const(rng, 1, 1, 2, 3), const(rng, 1, 1, 5, 2)

    def fn(x):
        joined = tf.raw_ops.Concat(concat_dim=tf.constant(3), values=[tf.nn.conv2d(x, w1, 1, "SAME"), tf.nn.conv2d(x, w2, 1, "SAME")])
        return tf.nn.conv2d(joined, w3, 1, "VALID")

    return fn, [spec("x", edge_floats(rng, 1, 4, 5, 2))]


@case("conv1d_dilated_causal", "Keras Conv1D(dilation_rate=2, padding='causal') + ReLU: Pad, 1-D SpaceToBatchND, Conv1D, BatchToSpaceND, BiasAdd")
def _(rng):
    w, b = const(rng, 3, 3, 4), const(rng, 4)

    def fn(x):
        # tf.nn.convolution (Keras' call) writes a dilation as SpaceToBatchND / BatchToSpaceND.
        y = tf.nn.convolution(tf.pad(x, [[0, 0], [4, 0], [0, 0]]), w, 1, "VALID", dilations=2)
        return tf.nn.relu(tf.nn.bias_add(y, b))

    return fn, [spec("x", edge_floats(rng, 2, 11, 3))]


@case("conv1d_dilated_same", "tf.nn.convolution 1-D SAME with dilation 3 (1-D SpaceToBatchND with paddings and crops)")
def _(rng):
    w = const(rng, 4, 2, 3)
    return (lambda x: tf.nn.convolution(x, w, 1, "SAME", dilations=3)), [spec("x", edge_floats(rng, 1, 13, 2))]


@case("space_to_batch_1d", "SpaceToBatchND on [N, L, C] with block 3 and paddings 1 / 2, and its BatchToSpaceND with crops 2 / 1")
def _(rng):
    def fn(x):
        s = tf.space_to_batch_nd(x, [3], [[1, 2]])
        return s, tf.compat.v1.batch_to_space_nd(s * 2.0, [3], [[2, 1]])

    return fn, [spec("x", edge_floats(rng, 2, 9, 2))]


@case("conv2d_concat_nested_mean", "InceptionV3's last block: Conv2D branches, two of them concatenated inside the outer channel concatenation, then a global mean")
def _(rng):
    ws = [const(rng, 1, 1, 3, 2), const(rng, 1, 3, 3, 2), const(rng, 3, 1, 3, 1), const(rng, 3, 3, 3, 2)]

    def fn(x):
        a, b, c, d = [tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME")) for w in ws]
        inner = tf.concat([b, c], -1)
        return tf.reduce_mean(tf.concat([a, inner, d], 3), [1, 2])

    return fn, [spec("x", edge_floats(rng, 2, 5, 4, 3))]


@case("conv2d_times_scalar", "Conv2D times a scalar constant (InceptionResNet's scaled residual branch)")
def _(rng):
    w = const(rng, 1, 1, 3, 4)
    return (lambda x: tf.nn.conv2d(x, w, 1, "SAME") * 0.17), [spec("x", edge_floats(rng, 1, 4, 5, 3))]


@case("conv2d_bias_times_scalar_residual", "Conv2D + BiasAdd times a scalar, added to the input (InceptionResNet block)")
def _(rng):
    w, b = const(rng, 1, 1, 3, 3), const(rng, 3)
    return (lambda x: x + tf.nn.bias_add(tf.nn.conv2d(x, w, 1, "SAME"), b) * 0.2), [spec("x", edge_floats(rng, 1, 4, 5, 3))]


@case("conv2d_global_max", "Conv2D then Max over H and W (global max pooling, no keep_dims)")
def _(rng):
    w = const(rng, 3, 3, 3, 4)
    return (lambda x: tf.reduce_max(tf.nn.conv2d(x, w, 1, "SAME"), [1, 2])), [spec("x", edge_floats(rng, 2, 5, 6, 3))]


# --- DepthwiseConv2dNative ------------------------------------------------------------------

@case("depthwise_conv2d_same_odd_multiplier2", "DepthwiseConv2dNative SAME stride 2 on 7x7, channel multiplier 2")
def _(rng):
    w = const(rng, 3, 3, 3, 2)
    return (lambda x: tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME")), [spec("x", edge_floats(rng, 2, 7, 7, 3))]


@case("depthwise_conv2d_bias", "DepthwiseConv2dNative VALID + BiasAdd, multiplier 3")
def _(rng):
    w, b = const(rng, 3, 2, 2, 3), const(rng, 6)
    return (lambda x: tf.nn.bias_add(tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID"), b)), [spec("x", edge_floats(rng, 1, 5, 6, 2))]


@case("depthwise_conv2d_explicit", "DepthwiseConv2dNative EXPLICIT padding 2,0 / 1,1, strides 2")
def _(rng):
    w = const(rng, 3, 3, 3, 1)
    pads = [0, 0, 2, 0, 1, 1, 0, 0]
    return (lambda x: tf.raw_ops.DepthwiseConv2dNative(input=x, filter=w, strides=[1, 2, 2, 1], padding="EXPLICIT",
                                                       explicit_paddings=pads)), [spec("x", edge_floats(rng, 1, 5, 6, 3))]


@case("depthwise_conv2d_dilated_space_to_batch", "tf.nn.depthwise_conv2d with dilations 2 (SpaceToBatchND form)")
def _(rng):
    w = const(rng, 3, 3, 2, 2)
    return (lambda x: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME", dilations=[2, 2])), [spec("x", edge_floats(rng, 1, 7, 6, 2))]


# --- Conv2DBackpropInput (transposed convolution) ---------------------------------------------

@case("conv2d_transpose_same_stride2_odd", "Conv2DBackpropInput SAME stride 2 to an odd 7x9 output, batch 2")
def _(rng):
    w = const(rng, 3, 3, 4, 3)  # [H, W, out, in]
    return (lambda x: tf.nn.conv2d_transpose(x, w, [2, 7, 9, 4], 2, "SAME")), [spec("x", edge_floats(rng, 2, 4, 5, 3))]


@case("conv2d_transpose_same_stride2_even", "Conv2DBackpropInput SAME stride 2, 4x4 kernel, 3x3 -> 6x6")
def _(rng):
    w = const(rng, 4, 4, 2, 3)
    return (lambda x: tf.nn.conv2d_transpose(x, w, [1, 6, 6, 2], 2, "SAME")), [spec("x", edge_floats(rng, 1, 3, 3, 3))]


@case("conv2d_transpose_valid_stride3", "Conv2DBackpropInput VALID, 2x3 kernel, strides 3x2 (stride > kernel)")
def _(rng):
    w = const(rng, 2, 3, 2, 3)
    return (lambda x: tf.nn.conv2d_transpose(x, w, [1, 9, 7, 2], [1, 3, 2, 1], "VALID")), [spec("x", edge_floats(rng, 1, 3, 3, 3))]


@case("conv2d_transpose_valid_stride1", "Conv2DBackpropInput VALID stride 1, 3x3 kernel")
def _(rng):
    w = const(rng, 3, 3, 3, 2)
    return (lambda x: tf.nn.conv2d_transpose(x, w, [1, 6, 7, 3], 1, "VALID")), [spec("x", edge_floats(rng, 1, 4, 5, 2))]


# --- Pooling --------------------------------------------------------------------------------

@case("max_pool_same_odd_stride2", "MaxPool NHWC SAME 3x3 stride 2 on 7x7, batch 2")
def _(rng):
    return (lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME")), [spec("x", edge_floats(rng, 2, 7, 7, 3))]


@case("max_pool_valid_stride_gt_kernel", "MaxPool NHWC VALID 2x2 strides 3x2")
def _(rng):
    return (lambda x: tf.nn.max_pool2d(x, 2, [3, 2], "VALID")), [spec("x", edge_floats(rng, 1, 8, 7, 2))]


@case("avg_pool_same_odd_stride2", "AvgPool NHWC SAME 3x3 stride 2 on 7x6 (border cells divide by the inside count)")
def _(rng):
    return (lambda x: tf.nn.avg_pool2d(x, 3, 2, "SAME")), [spec("x", edge_floats(rng, 2, 7, 6, 3))]


@case("avg_pool_valid_2x3", "AvgPool NHWC VALID 2x3 kernel, strides 2x3")
def _(rng):
    return (lambda x: tf.nn.avg_pool2d(x, [2, 3], [2, 3], "VALID")), [spec("x", edge_floats(rng, 1, 6, 7, 2))]


@case("global_avg_pool_keepdims", "Mean over H, W with keep_dims (global average pooling)")
def _(rng):
    return (lambda x: tf.reduce_mean(x, [1, 2], keepdims=True)), [spec("x", edge_floats(rng, 2, 5, 3, 4))]


@case("global_max_pool_keepdims", "Max over H, W with keep_dims (global max pooling), negative axes")
def _(rng):
    return (lambda x: tf.reduce_max(x, [-3, -2], keepdims=True)), [spec("x", edge_floats(rng, 2, 3, 5, 4))]


# --- Padding --------------------------------------------------------------------------------

@case("pad_v2_nhwc", "PadV2 of H and W with constant -1.5")
def _(rng):
    p = tf.constant([[0, 0], [1, 2], [2, 0], [0, 0]])
    return (lambda x: tf.pad(x, p, constant_values=-1.5)), [spec("x", edge_floats(rng, 2, 3, 4, 2))]


@case("pad_v2_channels", "PadV2 of the batch and channel axes with constant 7")
def _(rng):
    p = tf.constant([[1, 0], [0, 1], [0, 0], [2, 1]])
    return (lambda x: tf.pad(x, p, constant_values=7.0)), [spec("x", edge_floats(rng, 1, 3, 2, 2))]


@case("mirror_pad_reflect_nhwc", "MirrorPad REFLECT of H and W by 2, 1 / 0, 2")
def _(rng):
    p = tf.constant([[0, 0], [2, 1], [0, 2], [0, 0]])
    return (lambda x: tf.pad(x, p, mode="REFLECT")), [spec("x", edge_floats(rng, 2, 4, 5, 2))]


@case("mirror_pad_symmetric_one_nhwc", "MirrorPad SYMMETRIC of H and W by at most one (1, 0 / 1, 1)")
def _(rng):
    p = tf.constant([[0, 0], [1, 0], [1, 1], [0, 0]])
    return (lambda x: tf.pad(x, p, mode="SYMMETRIC")), [spec("x", edge_floats(rng, 1, 3, 4, 3))]


@case("mirror_pad_symmetric_wide_nhwc", "MirrorPad SYMMETRIC of H and W by 2, 3 / 1, 2")
def _(rng):
    p = tf.constant([[0, 0], [2, 3], [1, 2], [0, 0]])
    return (lambda x: tf.pad(x, p, mode="SYMMETRIC")), [spec("x", edge_floats(rng, 1, 4, 3, 2))]


# --- Resizing -------------------------------------------------------------------------------

@case("resize_bilinear_align_corners_x2", "ResizeBilinear align_corners 4x5 -> 8x10")
def _(rng):
    return (lambda x: tf.compat.v1.image.resize_bilinear(x, [8, 10], align_corners=True)), [spec("x", edge_floats(rng, 1, 4, 5, 2))]


@case("resize_bilinear_half_pixel_x2", "ResizeBilinear half_pixel_centers 3x4 -> 6x12 (tf.image.resize)")
def _(rng):
    return (lambda x: tf.image.resize(x, [6, 12], "bilinear")), [spec("x", edge_floats(rng, 2, 3, 4, 2))]


@case("resize_bilinear_legacy_x2", "ResizeBilinear legacy grid (both flags false) 3x3 -> 6x9")
def _(rng):
    return (lambda x: tf.compat.v1.image.resize_bilinear(x, [6, 9])), [spec("x", edge_floats(rng, 1, 3, 3, 3))]


@case("resize_bilinear_align_corners_fractional", "ResizeBilinear align_corners 4x5 -> 7x3")
def _(rng):
    return (lambda x: tf.compat.v1.image.resize_bilinear(x, [7, 3], align_corners=True)), [spec("x", edge_floats(rng, 1, 4, 5, 2))]


@case("resize_bilinear_half_pixel_fractional", "ResizeBilinear half_pixel_centers 4x5 -> 7x3 (down in W)")
def _(rng):
    return (lambda x: tf.image.resize(x, [7, 3], "bilinear")), [spec("x", edge_floats(rng, 1, 4, 5, 2))]


@case("resize_bilinear_legacy_fractional", "ResizeBilinear legacy grid 4x5 -> 6x7")
def _(rng):
    return (lambda x: tf.compat.v1.image.resize_bilinear(x, [6, 7])), [spec("x", edge_floats(rng, 1, 4, 5, 2))]


@case("resize_nearest_half_pixel_x2", "ResizeNearestNeighbor half_pixel_centers 3x4 -> 6x8")
def _(rng):
    return (lambda x: tf.image.resize(x, [6, 8], "nearest")), [spec("x", edge_floats(rng, 2, 3, 4, 2))]


@case("resize_nearest_legacy_x3", "ResizeNearestNeighbor legacy 2x3 -> 6x6")
def _(rng):
    return (lambda x: tf.compat.v1.image.resize_nearest_neighbor(x, [6, 6])), [spec("x", edge_floats(rng, 1, 2, 3, 3))]


# --- Normalization --------------------------------------------------------------------------

def bn_params(rng, c):
    scale = const(rng, c)
    offset = const(rng, c)
    mean = const(rng, c)
    var = tf.constant(np.abs(normal(rng, c)) + 0.1)
    return scale, offset, mean, var


@case("fused_batch_norm_v3_nhwc", "FusedBatchNormV3 NHWC inference, epsilon 1e-3")
def _(rng):
    s, o, m, v = bn_params(rng, 3)
    return (lambda x: tf.compat.v1.nn.fused_batch_norm(x, s, o, m, v, epsilon=1e-3, is_training=False)[0]), \
        [spec("x", edge_floats(rng, 2, 3, 4, 3))]


@case("fused_batch_norm_v3_nchw", "FusedBatchNormV3 NCHW inference")
def _(rng):
    s, o, m, v = bn_params(rng, 3)
    return (lambda x: tf.compat.v1.nn.fused_batch_norm(x, s, o, m, v, epsilon=1e-3, is_training=False,
                                                       data_format="NCHW")[0]), [spec("x", edge_floats(rng, 2, 3, 4, 5))]


@case("fused_batch_norm_v1_nhwc", "FusedBatchNorm (v1) NHWC inference")
def _(rng):
    s, o, m, v = bn_params(rng, 4)
    return (lambda x: tf.raw_ops.FusedBatchNorm(x=x, scale=s, offset=o, mean=m, variance=v, epsilon=1e-4,
                                                is_training=False)[0]), [spec("x", edge_floats(rng, 1, 3, 3, 4))]


@case("fused_batch_norm_v1_nchw", "FusedBatchNorm (v1) NCHW inference")
def _(rng):
    s, o, m, v = bn_params(rng, 2)
    return (lambda x: tf.raw_ops.FusedBatchNorm(x=x, scale=s, offset=o, mean=m, variance=v, epsilon=1e-3,
                                                is_training=False, data_format="NCHW")[0]), [spec("x", edge_floats(rng, 2, 2, 3, 3))]


@case("lrn_radius2", "LRN depth_radius 2, bias 1.5, alpha 0.3, beta 0.75 over 7 channels")
def _(rng):
    return (lambda x: tf.nn.local_response_normalization(x, depth_radius=2, bias=1.5, alpha=0.3, beta=0.75)), \
        [spec("x", normal(rng, 2, 3, 4, 7, scale=2.0))]


@case("lrn_radius1_default", "LRN depth_radius 1 with TF's defaults (bias 1, alpha 1, beta 0.5)")
def _(rng):
    return (lambda x: tf.nn.local_response_normalization(x, depth_radius=1)), [spec("x", normal(rng, 1, 2, 3, 4))]


# --- NCHW graphs (TF's CPU has no NCHW kernel: goldens from the NHWC reference) ---------------

def nchw_reference(nhwc_fn):
    """The NCHW function `nhwc_fn` computes between transposes: what the fixture's goldens are."""
    return lambda x: tf.transpose(nhwc_fn(tf.transpose(x, [0, 2, 3, 1])), [0, 3, 1, 2])


@case("conv2d_nchw_same_stride2", "Conv2D NCHW SAME stride 2 on 7x6 (goldens: NHWC reference)")
def _(rng):
    w = const(rng, 3, 3, 3, 4)
    return (lambda x: tf.nn.conv2d(x, w, [1, 1, 2, 2], "SAME", data_format="NCHW")), \
        [spec("x", edge_floats(rng, 2, 3, 7, 6))], nchw_reference(lambda x: tf.nn.conv2d(x, w, 2, "SAME"))


@case("conv2d_nchw_explicit_dilated", "Conv2D NCHW EXPLICIT padding 1,0 / 2,1, dilation 2 (goldens: NHWC reference)")
def _(rng):
    w = const(rng, 2, 3, 2, 3)
    fn = lambda x: tf.nn.conv2d(x, w, 1, [[0, 0], [0, 0], [1, 0], [2, 1]], data_format="NCHW", dilations=2)  # noqa: E731
    ref = lambda x: tf.nn.conv2d(x, w, 1, [[0, 0], [1, 0], [2, 1], [0, 0]], dilations=2)  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 1, 2, 6, 7))], nchw_reference(ref)


@case("conv2d_nchw_grouped", "grouped Conv2D NCHW, 4 channels in 2 groups, VALID (goldens: NHWC per-group reference)")
def _(rng):
    w = const(rng, 2, 3, 2, 4)
    fn = lambda x: tf.nn.conv2d(x, w, 1, "VALID", data_format="NCHW")  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 1, 4, 5, 6))], nchw_reference(grouped_reference(w, 2, 1, "VALID"))


@case("depthwise_conv2d_nchw", "DepthwiseConv2dNative NCHW SAME, multiplier 2 (goldens: NHWC reference)")
def _(rng):
    w = const(rng, 3, 3, 2, 2)
    fn = lambda x: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME", data_format="NCHW")  # noqa: E731
    ref = lambda x: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME")  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 2, 2, 5, 6))], nchw_reference(ref)


@case("max_pool_nchw", "MaxPool NCHW SAME 3x3 stride 2 (goldens: NHWC reference)")
def _(rng):
    fn = lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME", data_format="NCHW")  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 2, 3, 7, 6))], nchw_reference(lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME"))


@case("avg_pool_nchw", "AvgPool NCHW SAME 3x2 stride 2 (goldens: NHWC reference)")
def _(rng):
    fn = lambda x: tf.nn.avg_pool2d(x, [3, 2], 2, "SAME", data_format="NCHW")  # noqa: E731
    return fn, [spec("x", edge_floats(rng, 1, 2, 7, 5))], nchw_reference(lambda x: tf.nn.avg_pool2d(x, [3, 2], 2, "SAME"))


# --- Space/depth and space/batch rearrangements -----------------------------------------------

@case("space_to_depth_block2", "SpaceToDepth block 2 on [2, 4, 6, 3]")
def _(rng):
    return (lambda x: tf.nn.space_to_depth(x, 2)), [spec("x", edge_floats(rng, 2, 4, 6, 3))]


@case("depth_to_space_block2", "DepthToSpace block 2 (DCR) on [2, 3, 2, 12]")
def _(rng):
    return (lambda x: tf.nn.depth_to_space(x, 2)), [spec("x", edge_floats(rng, 2, 3, 2, 12))]


@case("depth_to_space_block3", "DepthToSpace block 3 on [1, 2, 2, 9]")
def _(rng):
    return (lambda x: tf.nn.depth_to_space(x, 3)), [spec("x", edge_floats(rng, 1, 2, 2, 9))]


@case("space_to_batch_nd_padded", "SpaceToBatchND block [2, 3], paddings [[1, 0], [2, 1]], batch 2")
def _(rng):
    return (lambda x: tf.space_to_batch_nd(x, [2, 3], [[1, 0], [2, 1]])), [spec("x", edge_floats(rng, 2, 5, 6, 2))]


@case("batch_to_space_nd_cropped", "BatchToSpaceND block [3, 2], crops [[1, 2], [0, 1]]")
def _(rng):
    return (lambda x: tf.batch_to_space(x, [3, 2], [[1, 2], [0, 1]])), [spec("x", edge_floats(rng, 12, 3, 4, 2))]


# --- ExtractImagePatches ----------------------------------------------------------------------

@case("extract_patches_valid", "ExtractImagePatches 2x2 patches, stride 2, VALID")
def _(rng):
    fn = lambda x: tf.image.extract_patches(x, [1, 2, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
    return fn, [spec("x", edge_floats(rng, 1, 6, 6, 3))]


@case("extract_patches_same_rates", "ExtractImagePatches 3x2 patches, strides [1, 2], rates [2, 1], SAME, batch 2")
def _(rng):
    fn = lambda x: tf.image.extract_patches(x, [1, 3, 2, 1], [1, 1, 2, 1], [1, 2, 1, 1], "SAME")
    return fn, [spec("x", edge_floats(rng, 2, 7, 5, 2))]
