"""Static shape ops (reshape, squeeze, tile, pack, split, slice, concat, reverse...), the
reductions with their keepdims/axis variants, cumulative sums and arg-extremes. Every shape is
static: the run-time (dynamic) variants belong to the DSL work."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, ints, normal, spec


# --- reshape, squeeze, expand_dims ----------------------------------------------------------

@case("reshape_minus1", "Reshape with one -1 dim inferred from the static size")
def _(rng):
    return (lambda x: tf.reshape(x, [3, -1, 2])), [spec("x", edge_floats(rng, 2, 3, 4))]


@case("reshape_reshape", "Reshape of a Reshape is one Reshape")
def _(rng):
    return (lambda x: tf.reshape(tf.reshape(x, [6, 4]), [4, 3, 2]) * 2.0), [spec("x", edge_floats(rng, 2, 12))]


@case("reshape_to_rank1", "Reshape to a flat vector")
def _(rng):
    return (lambda x: tf.reshape(x, [-1])), [spec("x", edge_floats(rng, 3, 5))]


@case("squeeze_all", "Squeeze without axes drops every size-1 dim")
def _(rng):
    return (lambda x: tf.squeeze(x)), [spec("x", edge_floats(rng, 1, 4, 1, 3))]


@case("squeeze_negative_axes", "Squeeze of axes given from the end")
def _(rng):
    return (lambda x: tf.squeeze(x, axis=[-1, 1])), [spec("x", edge_floats(rng, 2, 1, 5, 1))]


@case("expand_dims_negative", "ExpandDims with axis -1 and -2")
def _(rng):
    return (lambda x: (tf.expand_dims(x, -1), tf.expand_dims(x, -2))), [spec("x", edge_floats(rng, 3, 4))]


@case("expand_dims_int32", "ExpandDims of an int32 tensor on axis 0")
def _(rng):
    return (lambda x: tf.expand_dims(x, 0)), [spec("x", ints(rng, -50, 50, 3, 4))]


# --- tile, broadcast_to, pack/unpack ---------------------------------------------------------

@case("tile_2d", "Tile with multiples [2, 3]")
def _(rng):
    return (lambda x: tf.tile(x, [2, 3])), [spec("x", edge_floats(rng, 2, 3))]


@case("tile_int32", "Tile of an int32 tensor, multiples [1, 2, 1]")
def _(rng):
    return (lambda x: tf.tile(x, [1, 2, 1])), [spec("x", ints(rng, -9, 9, 2, 3, 2))]


@case("broadcast_to", "BroadcastTo a larger static shape (new leading dims and size-1 dims)")
def _(rng):
    return (lambda x: tf.broadcast_to(x, [2, 3, 4])), [spec("x", edge_floats(rng, 3, 1))]


@case("pack2_axis0", "Pack of two tensors on axis 0")
def _(rng):
    return (lambda a, b: tf.stack([a, b], axis=0)), [spec("a", edge_floats(rng, 3, 4)), spec("b", normal(rng, 3, 4))]


@case("pack3_axis_neg1", "Pack of three tensors on axis -1")
def _(rng):
    return (lambda a, b, c: tf.stack([a, b, c], axis=-1)), [
        spec("a", edge_floats(rng, 2, 3)), spec("b", normal(rng, 2, 3)), spec("c", normal(rng, 2, 3))]


@case("pack4_axis1", "Pack of four tensors on axis 1")
def _(rng):
    return (lambda a, b, c, d: tf.stack([a, b, c, d], axis=1)), [
        spec("a", edge_floats(rng, 2, 3)), spec("b", normal(rng, 2, 3)), spec("c", normal(rng, 2, 3)),
        spec("d", normal(rng, 2, 3))]


@case("unpack_axis0", "Unpack axis 0 into three tensors")
def _(rng):
    return (lambda x: tuple(tf.unstack(x, axis=0))), [spec("x", edge_floats(rng, 3, 2, 4))]


@case("unpack_axis1", "Unpack axis 1 of a rank-3 tensor")
def _(rng):
    return (lambda x: tuple(tf.unstack(x, axis=1))), [spec("x", edge_floats(rng, 2, 3, 4))]


@case("unpack_axis_neg1", "Unpack the last axis (axis -1)")
def _(rng):
    return (lambda x: tuple(tf.unstack(x, axis=-1))), [spec("x", edge_floats(rng, 2, 4, 3))]


# --- split, slice, strided slice ---------------------------------------------------------------

@case("split_axis1", "Split axis 1 into 3 equal parts")
def _(rng):
    return (lambda x: tuple(tf.split(x, 3, axis=1))), [spec("x", edge_floats(rng, 2, 6, 2))]


@case("split_negative_axis", "Split axis -1 into 2 equal parts")
def _(rng):
    return (lambda x: tuple(tf.split(x, 2, axis=-1))), [spec("x", edge_floats(rng, 3, 4))]


@case("split_v_sizes", "SplitV with explicit sizes [1, 3, 2]")
def _(rng):
    return (lambda x: tuple(tf.split(x, [1, 3, 2], axis=0))), [spec("x", edge_floats(rng, 6, 3))]


@case("split_v_minus1", "SplitV with one size -1 inferred ([2, -1, 1] of 7)")
def _(rng):
    return (lambda x: tuple(tf.split(x, [2, -1, 1], axis=1))), [spec("x", edge_floats(rng, 2, 7))]


@case("slice_sizes", "Slice with begin [1, 0, 2] and sizes [2, -1, 2]")
def _(rng):
    return (lambda x: tf.slice(x, [1, 0, 2], [2, -1, 2])), [spec("x", edge_floats(rng, 3, 4, 5))]


@case("slice_int32", "Slice of an int32 tensor")
def _(rng):
    return (lambda x: tf.slice(x, [0, 1], [-1, 3])), [spec("x", ints(rng, -100, 100, 3, 5))]


@case("strided_slice_masks", "StridedSlice with begin/end masks, negative stride and a shrink axis")
def _(rng):
    return (lambda x: x[:, ::-2, 1]), [spec("x", edge_floats(rng, 2, 7, 3))]


@case("strided_slice_ellipsis_newaxis", "StridedSlice with an ellipsis and a new axis")
def _(rng):
    return (lambda x: x[..., tf.newaxis, 1:3]), [spec("x", edge_floats(rng, 2, 3, 4))]


@case("strided_slice_negative_begin", "StridedSlice with negative begin/end and stride 2")
def _(rng):
    return (lambda x: x[-3:, -5:-1:2]), [spec("x", edge_floats(rng, 4, 6))]


# --- transpose, reverse, concat ----------------------------------------------------------------

@case("transpose_rank3", "Transpose with perm [2, 0, 1]")
def _(rng):
    return (lambda x: tf.transpose(x, [2, 0, 1])), [spec("x", edge_floats(rng, 2, 3, 4))]


@case("transpose_identity", "Transpose by the identity permutation")
def _(rng):
    return (lambda x: tf.transpose(x, [0, 1]) + 1.0), [spec("x", edge_floats(rng, 3, 4))]


@case("reverse_v2_multi_axis", "ReverseV2 over axes [0, -1]")
def _(rng):
    return (lambda x: tf.reverse(x, [0, -1])), [spec("x", edge_floats(rng, 3, 2, 4))]


@case("reverse_v2_int32", "ReverseV2 of an int32 tensor over axis 1")
def _(rng):
    return (lambda x: tf.reverse(x, [1])), [spec("x", ints(rng, -20, 20, 2, 5))]


@case("concat_v1", "Concat (v1, axis as first input) of two tensors")
def _(rng):
    def fn(a, b):
        return tf.raw_ops.Concat(concat_dim=tf.constant(1), values=[a, b])
    return fn, [spec("a", edge_floats(rng, 2, 3)), spec("b", normal(rng, 2, 2))]


@case("concat_v1_three", "Concat (v1) of three tensors on axis 0")
def _(rng):
    def fn(a, b, c):
        return tf.raw_ops.Concat(concat_dim=tf.constant(0), values=[a, b, c])
    return fn, [spec("a", edge_floats(rng, 1, 3)), spec("b", normal(rng, 2, 3)), spec("c", normal(rng, 1, 3))]


@case("concat_v2_negative_axis", "ConcatV2 on axis -1")
def _(rng):
    return (lambda a, b: tf.concat([a, b], axis=-1)), [spec("a", edge_floats(rng, 2, 3, 2)), spec("b", normal(rng, 2, 3, 3))]


@case("concat_v2_three_int32", "ConcatV2 of three int32 tensors on axis 0")
def _(rng):
    return (lambda a, b, c: tf.concat([a, b, c], axis=0)), [
        spec("a", ints(rng, -5, 5, 1, 2)), spec("b", ints(rng, -5, 5, 2, 2)), spec("c", ints(rng, -5, 5, 3, 2))]


# --- fills, like-ops, shape arithmetic ----------------------------------------------------------

@case("zeros_like", "ZerosLike of a float tensor (the raw op: tf.zeros_like folds static shapes)")
def _(rng):
    return (lambda x: tf.raw_ops.ZerosLike(x=x) - x), [spec("x", edge_floats(rng, 3, 4))]


@case("zeros_like_int32", "ZerosLike of an int32 tensor")
def _(rng):
    return (lambda x: tf.raw_ops.ZerosLike(x=x) + 3), [spec("x", ints(rng, -9, 9, 2, 5))]


@case("ones_like_fill", "tf.ones_like of a static shape: a Fill of a constant")
def _(rng):
    return (lambda x: tf.ones_like(x) * x), [spec("x", edge_floats(rng, 3, 4))]


@case("fill_static", "Fill a static shape with a constant, added to x")
def _(rng):
    return (lambda x: x + tf.fill([3, 4], 2.5)), [spec("x", edge_floats(rng, 3, 4))]


@case("range_static", "Range with constant bounds, used as a float ramp")
def _(rng):
    return (lambda x: x * tf.cast(tf.range(1, 11, 2), tf.float32)), [spec("x", edge_floats(rng, 3, 5))]


@case("size_rank_shape_arithmetic", "Size, Rank and Shape of a static tensor feeding arithmetic")
def _(rng):
    def fn(x):
        s = tf.cast(tf.size(x), tf.float32)
        r = tf.cast(tf.rank(x), tf.float32)
        d = tf.cast(tf.shape(x)[1], tf.float32)
        return x * s + r - d
    return fn, [spec("x", edge_floats(rng, 2, 3, 4))]


# --- cumsum ------------------------------------------------------------------------------------

@case("cumsum_axis0", "Cumsum along axis 0")
def _(rng):
    return (lambda x: tf.cumsum(x, axis=0)), [spec("x", edge_floats(rng, 5, 3))]


@case("cumsum_exclusive", "Cumsum exclusive along axis 1")
def _(rng):
    return (lambda x: tf.cumsum(x, axis=1, exclusive=True)), [spec("x", edge_floats(rng, 3, 5))]


@case("cumsum_reverse", "Cumsum reverse along axis -1")
def _(rng):
    return (lambda x: tf.cumsum(x, axis=-1, reverse=True)), [spec("x", edge_floats(rng, 3, 5))]


@case("cumsum_exclusive_reverse", "Cumsum exclusive and reverse along axis 0")
def _(rng):
    return (lambda x: tf.cumsum(x, axis=0, exclusive=True, reverse=True)), [spec("x", edge_floats(rng, 4, 3))]


# --- reductions ---------------------------------------------------------------------------------

REDUCTIONS = {
    "sum": tf.reduce_sum, "mean": tf.reduce_mean, "max": tf.reduce_max, "min": tf.reduce_min,
    "prod": tf.reduce_prod, "euclidean_norm": tf.math.reduce_euclidean_norm,
}


def _reduction_cases(op, reduce):
    @case(f"{op}_keepdims", f"{op} over axis 1 with keepdims")
    def _(rng):
        return (lambda x: reduce(x, axis=1, keepdims=True)), [spec("x", edge_floats(rng, 3, 4, 2, scale=1.0))]

    @case(f"{op}_negative_axes", f"{op} over axes [-1, 0] without keepdims")
    def _(rng):
        return (lambda x: reduce(x, axis=[-1, 0])), [spec("x", edge_floats(rng, 2, 3, 4, scale=1.0))]

    @case(f"{op}_all_axes", f"{op} over every axis (axis=None) to a scalar")
    def _(rng):
        x = edge_floats(rng, 2, 3, scale=1.0)
        x[x > 100] = 1.25
        x[x < -100] = -0.75
        return (lambda x: reduce(x)), [spec("x", x)]

    if op != "euclidean_norm":
        @case(f"{op}_int32", f"{op} of an int32 tensor over axis 0")
        def _(rng):
            return (lambda x: reduce(x, axis=0)), [spec("x", ints(rng, -4, 5, 3, 4))]


for _op, _reduce in REDUCTIONS.items():
    _reduction_cases(_op, _reduce)


@case("all_keepdims", "All over axis 1 of a comparison, keepdims")
def _(rng):
    return (lambda x: tf.reduce_all(x > -1.0, axis=1, keepdims=True)), [spec("x", edge_floats(rng, 4, 3))]


@case("all_negative_axis", "All over axis -1")
def _(rng):
    x = edge_floats(rng, 4, 3)
    x[0] = [1.0, 2.0, 3.0]
    return (lambda x: tf.reduce_all(x > 0.0, axis=-1)), [spec("x", x)]


@case("any_keepdims", "Any over axis 0 of a comparison, keepdims")
def _(rng):
    return (lambda x: tf.reduce_any(x > 1.0, axis=0, keepdims=True)), [spec("x", edge_floats(rng, 3, 5))]


@case("any_all_axes", "Any over every axis")
def _(rng):
    return (lambda x: tf.reduce_any(x > 2.0)), [spec("x", edge_floats(rng, 2, 3))]


# --- arg-extremes ---------------------------------------------------------------------------------

@case("argmax_int64_negative_axis", "ArgMax over axis -1, int64 output")
def _(rng):
    return (lambda x: tf.argmax(x, axis=-1)), [spec("x", normal(rng, 3, 5))]


@case("argmax_int32_axis0", "ArgMax over axis 0, int32 output")
def _(rng):
    return (lambda x: tf.argmax(x, axis=0, output_type=tf.int32)), [spec("x", normal(rng, 4, 3))]


@case("argmin_int64_axis1", "ArgMin over axis 1 of a rank-3 tensor, int64 output")
def _(rng):
    return (lambda x: tf.argmin(x, axis=1)), [spec("x", normal(rng, 2, 5, 3))]


@case("argmin_int32_input", "ArgMin of int32 values (distinct per row), axis -1")
def _(rng):
    x = np.stack([rng.permutation(7) - 3 for _ in range(3)]).astype(np.int32)
    return (lambda x: tf.argmin(x, axis=-1)), [spec("x", x)]


# --- IdentityN ------------------------------------------------------------------------------------

@case("identity_n1", "IdentityN of one tensor")
def _(rng):
    return (lambda x: tf.identity_n([x])[0] * 2.0), [spec("x", edge_floats(rng, 3, 4))]


@case("identity_n2", "IdentityN of two tensors, both used")
def _(rng):
    def fn(a, b):
        p, q = tf.identity_n([a, b])
        return p - 1.0, q * 3.0
    return fn, [spec("a", edge_floats(rng, 2, 3)), spec("b", normal(rng, 4))]


@case("concat_v1_six", "Concat (v1) of six tensors on axis -1 (one variadic rule for every arity)")
def _(rng):
    def fn(*xs):
        return tf.raw_ops.Concat(concat_dim=tf.constant(-1), values=list(xs))
    return fn, [spec(f"x{k}", normal(rng, 2, k + 1)) for k in range(6)]
