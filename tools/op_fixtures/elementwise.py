"""Elementwise ops, activations and small miscellaneous ops: unary math, binary arithmetic with
NumPy broadcasting (rank 0 vs rank 3, [1,3] vs [4,1]), comparisons, logical ops, select,
AddN, the transposes the layout rules move through activations in NHWC conv graphs.

Inputs carry the edge values a composite gets wrong: negatives, .5 halves (ties of rounding),
zeros (division, log), large magnitudes, and NaN / +-inf where the op's semantics depend on
them (IsNan, Maximum with NaN, division by zero)."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, ints, normal, spec


def special_floats(rng, *shape):
    """edge_floats with NaN, +inf and -inf seeded in as well."""
    x = edge_floats(rng, *shape)
    flat = x.reshape(-1)
    pos = rng.permutation(flat.size)[:4]
    flat[pos] = np.array([np.nan, np.inf, -np.inf, np.nan], dtype=np.float32)[: len(pos)]
    return x


def nonzero_ints(rng, lo, hi, *shape):
    v = ints(rng, lo, hi, *shape)
    v[v == 0] = 1
    return v


def bools(rng, *shape):
    return rng.random(shape) > 0.5


# ---------------------------------------------------------------- unary float math

UNARY = {
    "relu": (tf.nn.relu, None),
    "relu6": (tf.nn.relu6, None),
    "sigmoid": (tf.math.sigmoid, None),
    "tanh": (tf.math.tanh, None),
    "elu": (tf.nn.elu, None),
    "selu": (tf.nn.selu, None),
    "softplus": (tf.math.softplus, None),
    "softsign": (tf.math.softsign, None),
    "exp": (tf.math.exp, 4.0),
    "sign": (tf.math.sign, None),
    "floor": (tf.math.floor, None),
    "ceil": (tf.math.ceil, None),
    "abs": (tf.math.abs, None),
    "neg": (tf.math.negative, None),
    "square": (tf.math.square, None),
    "erf": (tf.math.erf, None),
    "sin": (tf.math.sin, None),
    "cos": (tf.math.cos, None),
}

for _op, (_fn, _clip) in UNARY.items():

    def _build(rng, fn=_fn, clip=_clip):
        x = edge_floats(rng, 3, 12)
        if clip is not None:
            x = np.clip(x, -clip * 5, clip * 5)
        return fn, [spec("x", x)]

    case(f"{_op}_edges", f"{_op} on negatives, .5 halves, zeros and large magnitudes")(_build)


@case("round_half_to_even", "Round: TF rounds half to even (0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2)")
def _(rng):
    x = edge_floats(rng, 4, 10)
    x[0] = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 0.49999997, -0.49999997]
    x[1, :4] = [8388607.5, -8388607.5, 16777216.0, 1e9]
    return tf.math.round, [spec("x", x)]


@case("log_positive", "Log of positive values down to 1e-6, and of 0 (-inf)")
def _(rng):
    x = np.abs(edge_floats(rng, 3, 10)) + 1e-6
    x[0, 0] = 0.0
    return tf.math.log, [spec("x", x)]


@case("log1p_edges", "Log1p of values > -1: tiny, zero, large, and -1 (-inf)")
def _(rng):
    x = np.abs(edge_floats(rng, 3, 10)) - 0.9
    x[0, :4] = [0.0, 1e-3, -1.0, 1e4]
    return tf.math.log1p, [spec("x", x.astype(np.float32))]


@case("sqrt_edges", "Sqrt of non-negative values and 0")
def _(rng):
    return tf.math.sqrt, [spec("x", np.abs(edge_floats(rng, 3, 10)))]


@case("rsqrt_edges", "Rsqrt of non-negative values: 0 (inf), 1e-8, 1e-6, large")
def _(rng):
    x = np.abs(edge_floats(rng, 3, 10))
    x[0, :4] = [0.0, 1e-8, 1e-6, 1e6]
    return tf.math.rsqrt, [spec("x", x)]


@case("reciprocal_edges", "Reciprocal, with zeros (+-inf)")
def _(rng):
    x = edge_floats(rng, 3, 10)
    x[0, :3] = [1e-7, -1e-6, 1e-6]
    return tf.math.reciprocal, [spec("x", x)]


@case("leaky_relu_alpha", "LeakyRelu with alpha 0.3")
def _(rng):
    return (lambda x: tf.nn.leaky_relu(x, alpha=0.3)), [spec("x", edge_floats(rng, 3, 10))]


@case("mish_graph", "Mish written as x * tanh(softplus(x))")
def _(rng):
    return (lambda x: x * tf.math.tanh(tf.math.softplus(x))), [spec("x", np.clip(edge_floats(rng, 3, 10), -20, 20))]


@case("swish_graph", "Swish x * sigmoid(x)")
def _(rng):
    return (lambda x: x * tf.math.sigmoid(x)), [spec("x", edge_floats(rng, 3, 10))]


@case("hard_swish_keras", "Keras hard swish: x * relu6(x + 3) * (1/6)")
def _(rng):
    return (lambda x: x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)), [spec("x", edge_floats(rng, 3, 10))]


@case("hard_swish_div", "hard swish: x * relu6(x + 3) / 6")
def _(rng):
    return (lambda x: x * tf.nn.relu6(x + 3.0) / 6.0), [spec("x", edge_floats(rng, 3, 10))]


@case("gelu_exact_keras", "tf.nn.gelu(approximate=False): 0.5 * x * (1 + erf(x * 0.70710677))")
def _(rng):
    return (lambda x: tf.nn.gelu(x, approximate=False)), [spec("x", edge_floats(rng, 3, 10))]


@case("gelu_tanh_keras", "tf.nn.gelu(approximate=True)")
def _(rng):
    return (lambda x: tf.nn.gelu(x, approximate=True)), [spec("x", np.clip(edge_floats(rng, 3, 10), -30, 30))]


@case("clip_by_value_scalar", "ClipByValue with scalar bounds")
def _(rng):
    return (lambda x: tf.clip_by_value(x, -1.5, 2.5)), [spec("x", edge_floats(rng, 3, 10))]


# ---------------------------------------------------------------- binary arithmetic

def _binary_cases(op, fn, x_of, y_of, what):
    case(f"{op}_same_shape", f"{op} of two [3,4] tensors: {what}")(
        lambda rng: (fn, [spec("x", x_of(rng, 3, 4)), spec("y", y_of(rng, 3, 4))]))
    case(f"{op}_rank0_vs_rank3", f"{op} of a scalar and a [2,3,4] tensor: {what}")(
        lambda rng: (fn, [spec("x", x_of(rng)), spec("y", y_of(rng, 2, 3, 4))]))
    case(f"{op}_row_vs_col", f"{op} of [1,3] and [4,1] (both broadcast): {what}")(
        lambda rng: (fn, [spec("x", x_of(rng, 1, 3)), spec("y", y_of(rng, 4, 1))]))


def _f(rng, *shape):
    return edge_floats(rng, *shape) if shape else np.float32(-2.5)


def _fnz(rng, *shape):
    """floats without zeros (divisors)"""
    v = _f(rng, *shape)
    v = np.where(v == 0, np.float32(0.75), v).astype(np.float32)
    return v


_binary_cases("add_v2", tf.math.add, _f, _f, "edge floats")
_binary_cases("sub", tf.math.subtract, _f, _f, "edge floats")
_binary_cases("mul", tf.math.multiply, _f, _f, "edge floats")
_binary_cases("real_div", tf.math.divide, _f, _fnz, "nonzero divisors")
_binary_cases("maximum", tf.math.maximum, _f, _f, "edge floats")
_binary_cases("minimum", tf.math.minimum, _f, _f, "edge floats")
_binary_cases("squared_difference", tf.math.squared_difference, _f, _f, "edge floats")
_binary_cases("floor_div", tf.math.floordiv, _f, _fnz, "negative operands, nonzero divisors")
_binary_cases("floor_mod", tf.math.floormod, _f, _fnz, "negative operands: the remainder has the divisor's sign")


@case("add_legacy_op", "Add (the v1 op, tf.raw_ops.Add) with broadcasting")
def _(rng):
    return (lambda x, y: tf.raw_ops.Add(x=x, y=y)), [spec("x", _f(rng, 2, 3)), spec("y", _f(rng, 3))]


@case("real_div_by_zero", "RealDiv by zero: +-inf and 0/0 = NaN")
def _(rng):
    x = np.array([[1.0, -1.0, 0.0, 2.5], [0.0, 3.0, -0.5, 1.0]], dtype=np.float32)
    y = np.array([[0.0, 0.0, 0.0, -0.0], [2.0, 0.0, 0.25, -4.0]], dtype=np.float32)
    return tf.math.divide, [spec("x", x), spec("y", y)]


@case("maximum_nan", "Maximum with NaN on either side propagates NaN")
def _(rng):
    x = np.array([np.nan, 1.0, np.nan, -np.inf, 2.0, 0.0], dtype=np.float32)
    y = np.array([1.0, np.nan, np.nan, 3.0, np.inf, -0.0], dtype=np.float32)
    return tf.math.maximum, [spec("x", x), spec("y", y)]


@case("minimum_nan", "Minimum with NaN on either side propagates NaN")
def _(rng):
    x = np.array([np.nan, 1.0, np.nan, -np.inf, 2.0, 0.0], dtype=np.float32)
    y = np.array([1.0, np.nan, np.nan, 3.0, np.inf, -0.0], dtype=np.float32)
    return tf.math.minimum, [spec("x", x), spec("y", y)]


@case("pow_edges", "Pow: negative bases with integer exponents, fractional exponents of positives, 0^0")
def _(rng):
    x = np.array([[-2.0, -2.0, -1.5, 2.0, 0.0, 0.0], [3.0, -3.0, 0.5, 4.0, 9.0, -0.5]], dtype=np.float32)
    y = np.array([[3.0, 2.0, 2.0, 0.5, 0.0, 2.0], [-1.0, 3.0, -2.0, 1.5, 0.5, 4.0]], dtype=np.float32)
    return tf.math.pow, [spec("x", x), spec("y", y)]


@case("pow_negative_base_fraction", "Pow of a negative base with a fractional exponent is NaN")
def _(rng):
    x = np.array([-2.0, -0.5, 4.0], dtype=np.float32)
    y = np.array([0.5, 1.5, 0.5], dtype=np.float32)
    return tf.math.pow, [spec("x", x), spec("y", y)]


@case("pow_scalar_exponent", "Pow with a constant exponent 3 (rank 0)")
def _(rng):
    return (lambda x: tf.math.pow(x, 3.0)), [spec("x", np.clip(edge_floats(rng, 3, 5), -50, 50))]


@case("floor_div_int32", "FloorDiv of int32: rounds toward -inf (-7 // 2 = -4)")
def _(rng):
    x = ints(rng, -100, 100, 4, 6)
    x[0, :4] = [-7, 7, -6, 0]
    y = nonzero_ints(rng, -9, 9, 4, 6)
    y[0, :4] = [2, -2, 3, 5]
    return tf.math.floordiv, [spec("x", x), spec("y", y)]


@case("floor_mod_int32", "FloorMod of int32: the remainder has the divisor's sign (-7 % 2 = 1, 7 % -2 = -1)")
def _(rng):
    x = ints(rng, -100, 100, 4, 6)
    x[0, :4] = [-7, 7, -6, 0]
    y = nonzero_ints(rng, -9, 9, 4, 6)
    y[0, :4] = [2, -2, 3, 5]
    return tf.math.floormod, [spec("x", x), spec("y", y)]


@case("floor_mod_by_zero", "FloorMod of floats by zero is NaN")
def _(rng):
    x = np.array([1.0, -1.0, 0.0, 2.5], dtype=np.float32)
    y = np.array([0.0, 0.0, 0.0, 2.0], dtype=np.float32)
    return tf.math.floormod, [spec("x", x), spec("y", y)]


@case("add_int32_broadcast", "AddV2 of int32 with broadcasting")
def _(rng):
    return tf.math.add, [spec("x", ints(rng, -1000, 1000, 3, 4)), spec("y", ints(rng, -1000, 1000, 4))]


@case("mul_int32", "Mul of int32")
def _(rng):
    return tf.math.multiply, [spec("x", ints(rng, -100, 100, 3, 4)), spec("y", ints(rng, -100, 100, 3, 4))]


@case("sub_int32", "Sub of int32 scalar and tensor")
def _(rng):
    return tf.math.subtract, [spec("x", np.int32(-7)), spec("y", ints(rng, -100, 100, 2, 3, 4))]


@case("maximum_int32", "Maximum of int32")
def _(rng):
    return tf.math.maximum, [spec("x", ints(rng, -100, 100, 3, 4)), spec("y", ints(rng, -100, 100, 1, 4))]


@case("sub_scalar_const", "x - 2.5 (constant scalar on the right)")
def _(rng):
    return (lambda x: x - 2.5), [spec("x", edge_floats(rng, 3, 6))]


@case("scalar_sub_const", "2.5 - x (constant scalar on the left)")
def _(rng):
    return (lambda x: 2.5 - x), [spec("x", edge_floats(rng, 3, 6))]


@case("add_scalar_const", "x + 1.5")
def _(rng):
    return (lambda x: x + 1.5), [spec("x", edge_floats(rng, 3, 6))]


@case("mul_scalar_const", "x * -0.5")
def _(rng):
    return (lambda x: x * -0.5), [spec("x", edge_floats(rng, 3, 6))]


@case("real_div_scalar_const", "x / 4.0")
def _(rng):
    return (lambda x: x / 4.0), [spec("x", edge_floats(rng, 3, 6))]


@case("bias_add_nhwc", "BiasAdd NHWC on a rank-4 tensor")
def _(rng):
    b = normal(rng, 5)
    return (lambda x: tf.nn.bias_add(x, b)), [spec("x", edge_floats(rng, 2, 3, 3, 5))]


@case("div_no_nan_const_divisor", "DivNoNan with a constant nonzero divisor")
def _(rng):
    y = np.array([2.0, -0.5, 4.0, 1e-3], dtype=np.float32)
    return (lambda x: tf.math.divide_no_nan(x, y)), [spec("x", edge_floats(rng, 3, 4))]


@case("xdivy_const_divisor", "Xdivy with a constant nonzero divisor (x = 0 gives 0)")
def _(rng):
    y = np.array([2.0, -0.5, 4.0, 1e-3], dtype=np.float32)
    return (lambda x: tf.math.xdivy(x, y)), [spec("x", edge_floats(rng, 3, 4))]


# ---------------------------------------------------------------- comparisons, logic, select

COMPARISONS = {
    "equal": tf.math.equal,
    "not_equal": tf.math.not_equal,
    "greater": tf.math.greater,
    "greater_equal": tf.math.greater_equal,
    "less": tf.math.less,
    "less_equal": tf.math.less_equal,
}


def _ties(rng, *shape):
    """small half-integers so that comparisons see ties, and -0.0 vs 0.0"""
    if not shape:
        return np.float32(0.5)
    v = (rng.integers(-3, 4, size=shape) * 0.5).astype(np.float32)
    v.reshape(-1)[0] = -0.0
    return v


for _op, _fn in COMPARISONS.items():
    _binary_cases(_op, _fn, _ties, _ties, "ties, -0.0 against 0.0")
    case(f"{_op}_int32", f"{_op} of int32 tensors")(
        lambda rng, fn=_fn: (fn, [spec("x", ints(rng, -3, 4, 3, 4)), spec("y", ints(rng, -3, 4, 3, 4))]))


@case("equal_nan", "Equal / NotEqual with NaN: NaN == NaN is false")
def _(rng):
    x = np.array([np.nan, 1.0, np.inf, 0.0, np.nan], dtype=np.float32)
    y = np.array([np.nan, np.nan, np.inf, -0.0, 2.0], dtype=np.float32)
    return (lambda x, y: (tf.math.equal(x, y), tf.math.not_equal(x, y))), [spec("x", x), spec("y", y)]


@case("equal_bool", "Equal of two bool tensors")
def _(rng):
    return tf.math.equal, [spec("x", bools(rng, 3, 4)), spec("y", bools(rng, 3, 4))]


LOGICAL = {
    "logical_and": tf.math.logical_and,
    "logical_or": tf.math.logical_or,
}

for _op, _fn in LOGICAL.items():
    case(f"{_op}_same_shape", f"{_op} of two bool [3,4] tensors")(
        lambda rng, fn=_fn: (fn, [spec("x", bools(rng, 3, 4)), spec("y", bools(rng, 3, 4))]))
    case(f"{_op}_row_vs_col", f"{_op} of bool [1,3] and [4,1]")(
        lambda rng, fn=_fn: (fn, [spec("x", bools(rng, 1, 3)), spec("y", bools(rng, 4, 1))]))


@case("logical_not_bool", "LogicalNot of a bool tensor")
def _(rng):
    return tf.math.logical_not, [spec("x", bools(rng, 3, 5))]


@case("logical_and_from_comparisons", "LogicalAnd of two float comparisons")
def _(rng):
    return (lambda x: tf.math.logical_and(x > -1.0, x < 2.0)), [spec("x", edge_floats(rng, 3, 6))]


@case("select_v2_broadcast", "SelectV2 (tf.where) with condition [4,1], x [1,3], y scalar")
def _(rng):
    return tf.where, [spec("c", bools(rng, 4, 1)), spec("x", _f(rng, 1, 3)), spec("y", np.float32(-1.5))]


@case("select_v2_same_shape", "SelectV2 of a comparison")
def _(rng):
    return (lambda x, y: tf.where(x > y, x, y * 2.0)), [spec("x", _f(rng, 3, 4)), spec("y", _f(rng, 3, 4))]


@case("select_v1_same_shape", "Select (v1, tf.raw_ops.Select) with a condition of the same shape")
def _(rng):
    return (lambda c, x, y: tf.raw_ops.Select(condition=c, x=x, y=y)), [
        spec("c", bools(rng, 3, 4)), spec("x", _f(rng, 3, 4)), spec("y", _f(rng, 3, 4))]


@case("select_v2_int32", "SelectV2 of int32 values")
def _(rng):
    return tf.where, [spec("c", bools(rng, 3, 4)), spec("x", ints(rng, -9, 9, 3, 4)), spec("y", ints(rng, -9, 9, 3, 4))]


# ---------------------------------------------------------------- reductions of this family

@case("all_axis1", "All over axis 1 of a bool tensor")
def _(rng):
    c = bools(rng, 4, 3)
    c[0] = True
    return (lambda c: tf.math.reduce_all(c, axis=1)), [spec("c", c)]


@case("any_axis1", "Any over axis 1 of a bool tensor")
def _(rng):
    c = bools(rng, 4, 3)
    c[0] = False
    return (lambda c: tf.math.reduce_any(c, axis=1)), [spec("c", c)]


@case("euclidean_norm_axis1", "EuclideanNorm over axis 1")
def _(rng):
    return (lambda x: tf.math.reduce_euclidean_norm(x, axis=1)), [spec("x", edge_floats(rng, 3, 5))]


@case("zeros_like_float", "ZerosLike of a float tensor, used in a sum")
def _(rng):
    return (lambda x: tf.zeros_like(x) + x * 2.0), [spec("x", edge_floats(rng, 3, 5))]


# ---------------------------------------------------------------- transposes through activations

def _conv_then(act):
    def build(rng):
        w = normal(rng, 3, 3, 3, 4, scale=0.5)
        return (lambda x: act(tf.nn.conv2d(x, w, 1, "SAME"))), [spec("x", normal(rng, 1, 6, 6, 3, scale=2.0))]

    return build


case("conv_sigmoid_nhwc", "NHWC conv then sigmoid (the transposes move through the activation)")(
    _conv_then(tf.math.sigmoid))
case("conv_tanh_nhwc", "NHWC conv then tanh")(_conv_then(tf.math.tanh))
case("conv_hard_sigmoid_nhwc", "NHWC conv then Keras hard_sigmoid")(_conv_then(tf.keras.activations.hard_sigmoid))
case("conv_leaky_relu_nhwc", "NHWC conv then leaky relu")(_conv_then(lambda x: tf.nn.leaky_relu(x, 0.2)))
case("conv_sub_scalar_nhwc", "NHWC conv then subtract a scalar")(_conv_then(lambda x: x - 0.5))
case("conv_mul_channel_nhwc", "NHWC conv then multiply by a per-channel vector")(
    _conv_then(lambda x: x * tf.constant([0.5, -1.0, 2.0, 1.5])))


def _two_convs(combine):
    def build(rng):
        w1, w2, w3 = (normal(rng, 3, 3, c, 4, scale=0.5) for c in (3, 3, 4))
        def fn(x):
            a = tf.nn.conv2d(x, w1, 1, "SAME")
            b = tf.nn.conv2d(x, w2, 1, "SAME")
            return tf.nn.conv2d(combine(a, b), w3, 1, "SAME")
        return fn, [spec("x", normal(rng, 1, 5, 5, 3))]

    return build


case("conv_sub_conv_nhwc", "two NHWC convs subtracted, then a conv (the transposes move through the sub)")(
    _two_convs(tf.math.subtract))
case("conv_mul_conv_nhwc", "two NHWC convs multiplied, then a conv")(_two_convs(tf.math.multiply))


# ---------------------------------------------------------------- composites of rules/math.rules

@case("is_nan_special", "IsNan on NaN, +-inf and edge floats")
def _(rng):
    return tf.math.is_nan, [spec("x", special_floats(rng, 3, 8))]


@case("is_inf_special", "IsInf on NaN, +-inf, the largest finite float and edge floats")
def _(rng):
    x = special_floats(rng, 3, 8)
    x[2, :2] = [3.4028235e38, -3.4028235e38]
    return tf.math.is_inf, [spec("x", x)]


@case("is_finite_special", "IsFinite on NaN, +-inf, the largest finite float and edge floats")
def _(rng):
    x = special_floats(rng, 3, 8)
    x[2, :2] = [3.4028235e38, -3.4028235e38]
    return tf.math.is_finite, [spec("x", x)]


@case("erfc_edges", "Erfc on negatives, zero, large")
def _(rng):
    return tf.math.erfc, [spec("x", edge_floats(rng, 3, 8))]


@case("expm1_edges", "Expm1 on tiny, negative and moderate values")
def _(rng):
    return tf.math.expm1, [spec("x", np.clip(edge_floats(rng, 3, 8), -30, 30))]


def _with_zeros(rng, *shape):
    v = _f(rng, *shape)
    if shape:
        v.reshape(-1)[:2] = 0.0
    return v


def _pos_with_zeros(rng, *shape):
    v = np.abs(_f(rng, *shape)).astype(np.float32)
    if shape:
        v.reshape(-1)[1:3] = 0.0
    return v


_binary_cases("xlogy", tf.math.xlogy, _with_zeros, _pos_with_zeros, "x = 0 gives 0 even where y = 0")
_binary_cases("xlog1py", tf.math.xlog1py, _with_zeros, _pos_with_zeros, "x = 0 gives 0")
_binary_cases("xdivy", tf.math.xdivy, _with_zeros, _with_zeros, "x = 0 gives 0 even where y = 0; x / 0 is inf")
_binary_cases("div_no_nan", tf.math.divide_no_nan, _with_zeros, _with_zeros, "y = 0 gives 0")


@case("truncate_div_int32", "TruncateDiv of int32 rounds toward zero (-7 / 2 = -3)")
def _(rng):
    x = ints(rng, -100, 100, 4, 6)
    x[0, :4] = [-7, 7, -6, 0]
    y = nonzero_ints(rng, -9, 9, 4, 6)
    y[0, :4] = [2, -2, 3, 5]
    return tf.truncatediv, [spec("x", x), spec("y", y)]


@case("truncate_mod_int32", "TruncateMod of int32: the remainder has the dividend's sign (-7 % 2 = -1)")
def _(rng):
    x = ints(rng, -100, 100, 4, 6)
    x[0, :4] = [-7, 7, -6, 0]
    y = nonzero_ints(rng, -9, 9, 1, 6)
    y[0, :4] = [2, -2, 3, 5]
    return tf.truncatemod, [spec("x", x), spec("y", y)]


@case("truncate_mod_float", "TruncateMod of floats (fmod) is refused: a division composite is inexact",
      refused="no conversion to Core ML layers")
def _(rng):
    return tf.truncatemod, [spec("x", _f(rng, 3, 4)), spec("y", _fnz(rng, 3, 4))]


@case("ones_like_float", "OnesLike of a float tensor, used in a sum")
def _(rng):
    return (lambda x: tf.ones_like(x) * 3.0 + x), [spec("x", edge_floats(rng, 3, 5))]


@case("bias_add_nchw_rank4", "BiasAdd NCHW on a rank-4 tensor adds along axis 1")
def _(rng):
    b = normal(rng, 3)
    return (lambda x: tf.nn.bias_add(x, b, data_format="NCHW")), [spec("x", edge_floats(rng, 2, 3, 2, 4))]


@case("bias_add_nchw_rank3", "BiasAdd NCHW on a rank-3 tensor (NCW)")
def _(rng):
    b = normal(rng, 4)
    return (lambda x: tf.nn.bias_add(x, b, data_format="NCHW")), [spec("x", edge_floats(rng, 2, 4, 5))]


@case("print_passthrough", "Print passes its value through")
def _(rng):
    return (lambda x: tf.raw_ops.Print(input=x * 2.0, data=[x]) + 1.0), [spec("x", edge_floats(rng, 3, 4))]


@case("check_numerics_passthrough", "CheckNumerics passes its value through")
def _(rng):
    return (lambda x: tf.debugging.check_numerics(x * 2.0, "bad") + 1.0), [spec("x", edge_floats(rng, 3, 4))]


@case("stop_gradient_passthrough", "StopGradient passes its value through")
def _(rng):
    return (lambda x: tf.stop_gradient(x * 2.0) + 1.0), [spec("x", edge_floats(rng, 3, 4))]


@case("softmax_cross_entropy", "SoftmaxCrossEntropyWithLogits: loss and backprop of [4,5] logits")
def _(rng):
    labels = rng.random((4, 5)).astype(np.float32)
    labels /= labels.sum(axis=1, keepdims=True)
    return (lambda f, l: tf.raw_ops.SoftmaxCrossEntropyWithLogits(features=f, labels=l)), [
        spec("f", normal(rng, 4, 5, scale=3.0)), spec("l", labels)]


@case("sparse_softmax_cross_entropy", "SparseSoftmaxCrossEntropyWithLogits: loss and backprop, int32 ids")
def _(rng):
    return (lambda f, l: tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(features=f, labels=l)), [
        spec("f", normal(rng, 4, 6, scale=3.0)), spec("l", ints(rng, 0, 6, 4))]


@case("bias_add_nchw_rank5", "BiasAdd NCHW on a rank-5 tensor (NCDHW)")
def _(rng):
    b = normal(rng, 3)
    return (lambda x: tf.nn.bias_add(x, b, data_format="NCHW")), [spec("x", edge_floats(rng, 1, 3, 2, 2, 3))]
