"""Control flow in its TF2 form: graphs frozen with `lower_control_flow=False`, so the GraphDef
keeps `StatelessIf` (and `PartitionedCall`) nodes whose branches and bodies live in the
function library. Every cond fixture has one output whose predicate is true on the golden
input and one whose predicate is false, so both branches are checked against TensorFlow."""
import numpy as np
import tensorflow as tf

from . import case, normal, spec


def _shifted(rng, *shape, shift=0.5):
    return normal(rng, *shape) + np.float32(shift)


@case("cond_plain", "tf.cond on a computed predicate: one output takes the then branch, one the else branch",
      keep_control_flow=True)
def _cond_plain(rng):
    def fn(x):
        m = tf.reduce_mean(x)
        a = tf.cond(m > 0.0, lambda: x * 2.0 + 1.0, lambda: x - 3.0)
        b = tf.cond(m > 100.0, lambda: tf.tanh(x), lambda: x * x)
        return a, b

    return fn, [spec("x", _shifted(rng, 2, 3))]


@case("cond_nested", "tf.cond inside both branches of a tf.cond, predicates of different signs",
      keep_control_flow=True)
def _cond_nested(rng):
    def fn(x, y):
        s = tf.reduce_sum(x)
        t = tf.reduce_max(y)

        def then():
            return tf.cond(t > 0.0, lambda: x + y, lambda: x - y) * 2.0

        def other():
            return tf.cond(t > 0.0, lambda: tf.sigmoid(x), lambda: tf.abs(y))

        a = tf.cond(s > 0.0, then, other)
        b = tf.cond(s < 0.0, then, other)
        return a, b

    return fn, [spec("x", _shifted(rng, 3, 4)), spec("y", normal(rng, 3, 4))]


@case("cond_multi_output", "tf.cond with three outputs of two dtypes (float, int32) taken from both branches",
      keep_control_flow=True)
def _cond_multi_output(rng):
    def fn(x):
        p = tf.reduce_mean(x) > 0.0

        def then():
            return x + 1.0, tf.reduce_sum(x, axis=1), tf.cast(x > 0.0, tf.int32)

        def other():
            return x * 0.5, tf.reduce_max(x, axis=1), tf.cast(x < 0.0, tf.int32)

        a, b, c = tf.cond(p, then, other)
        d, e, f = tf.cond(tf.logical_not(p), then, other)
        return a, b, c, d, e, f

    return fn, [spec("x", _shifted(rng, 2, 5))]


@case("cond_passthrough", "tf.cond where one branch returns an input unchanged (its `ret` names the argument)",
      keep_control_flow=True)
def _cond_passthrough(rng):
    def fn(x, y):
        p = tf.reduce_sum(x) > tf.reduce_sum(y)
        a = tf.cond(p, lambda: x, lambda: y * 2.0)
        b = tf.cond(p, lambda: y * 2.0, lambda: x)
        return a, b

    return fn, [spec("x", _shifted(rng, 4, shift=1.0)), spec("y", normal(rng, 4))]


def _autograph_if(x):
    if tf.reduce_sum(x) > 0.0:
        y = tf.nn.relu(x) * 3.0
    else:
        y = -x
    if tf.reduce_sum(x) < 0.0:
        z = x + 10.0
    else:
        z = tf.exp(x * 0.1)
    return y, z


@case("cond_autograph_if", "an autograph Python `if` on a tensor (becomes StatelessIf), taken both ways",
      keep_control_flow=True)
def _cond_autograph(rng):
    return tf.autograph.to_graph(_autograph_if), [spec("x", _shifted(rng, 2, 4))]


@case("cond_static_predicate", "tf.conds whose predicates fold to constants (static dimensions), one true and "
      "one false: each dead branch holds Lgamma, which no rule converts, so only resolving the predicate "
      "converts them", keep_control_flow=True)
def _cond_static(rng):
    def fn(x):
        a = tf.cond(tf.shape(x)[0] > 1, lambda: x * 3.0, lambda: tf.math.lgamma(x))
        b = tf.cond(tf.shape(x)[1] > 5, lambda: tf.math.lgamma(x), lambda: x - 1.0)
        return a, b

    return fn, [spec("x", normal(rng, 2, 3))]


@case("function_call", "nested tf.functions called inside a cond branch: PartitionedCalls whose body calls another function",
      keep_control_flow=True)
def _function_call(rng):
    @tf.function(autograph=False)
    def inner(a):
        return tf.nn.relu(a) + 1.0

    @tf.function(autograph=False)
    def outer(a, b):
        return inner(a) * b, inner(b)

    def fn(x, y):
        p, q = tf.cond(tf.reduce_sum(x) > 0.0, lambda: outer(x, y), lambda: outer(y, x))
        return p - q

    return fn, [spec("x", normal(rng, 2, 3)), spec("y", normal(rng, 2, 3))]


@case("while_one_var", "tf.while_loop with one loop variable: double v until its sum reaches 100 "
      "(the trip count depends on the input)", keep_control_flow=True)
def _while_one_var(rng):
    def fn(x):
        return tf.while_loop(lambda v: tf.reduce_sum(v) < 100.0, lambda v: v * 2.0 + 1.0, [tf.abs(x) + 0.1])[0]

    return fn, [spec("x", normal(rng, 2, 3))]


@case("while_several_vars", "tf.while_loop with a counter and two tensors of different shapes "
      "(a running sum of x's first row scaled by the counter, a running maximum of x scaled by it; "
      "x is captured by the body)", keep_control_flow=True)
def _while_several_vars(rng):
    def fn(x):
        def body(i, acc, m):
            fi = tf.cast(i, tf.float32)
            return i + 1, acc + x[0] * fi, tf.maximum(m, x * (fi - 1.5))

        _, acc, m = tf.while_loop(lambda i, acc, m: i < 4, body,
                                  [tf.constant(0), tf.zeros([3]), tf.fill([4, 3], -1e9)])
        return acc, m

    return fn, [spec("x", normal(rng, 4, 3))]


@case("while_nested", "nested tf.while_loops: the outer runs 3 times, the inner 2 times per outer "
      "iteration, both updating the same tensor", keep_control_flow=True)
def _while_nested(rng):
    def fn(x):
        def inner(j, a):
            return j + 1, a * 0.5 + 1.0

        def outer(i, acc):
            _, acc = tf.while_loop(lambda j, a: j < 2, inner, [tf.constant(0), acc])
            return i + 1, acc + x

        return tf.while_loop(lambda i, acc: i < 3, outer, [tf.constant(0), x])[1]

    return fn, [spec("x", normal(rng, 2, 2))]


@case("while_runtime_trip_count", "tf.while_loop whose trip count is a model input (n = 5): "
      "acc = acc * 0.9 + x, n times", keep_control_flow=True)
def _while_runtime(rng):
    def fn(x, n):
        return tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc * 0.9 + x),
                             [tf.constant(0), tf.zeros_like(x)])[1]

    return fn, [spec("x", normal(rng, 3)), spec("n", np.array(5, dtype=np.int32))]


@case("while_shape_change", "tf.while_loop whose body grows a carried tensor by a row each iteration "
      "(concat, shape invariant [None, 3]), three times, then a reduction over the grown tensor: the "
      "regions are converted for the relaxed shape", keep_control_flow=True)
def _while_shape_change(rng):
    def fn(x):
        i0 = tf.constant(0)
        _, v = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, tf.concat([v, v[-1:] * 2.0 + 1.0], 0)), [i0, x],
                             shape_invariants=[i0.shape, tf.TensorShape([None, 3])])
        return v, tf.reduce_sum(v, axis=0)

    return fn, [spec("x", normal(rng, 2, 3))]


# --- conds that become Core ML `branch` layers (ir::cond_choice's cost rule) ----------------------
# Each carries a second golden set (NAME.2.npz) with the inputs negated, so every predicate takes
# its other value; the JSON lists it under `second_values` (same shapes, other values).

def _flipped(name, value):
    """An input spec whose second value is the first negated (same shape)."""
    value = np.asarray(value)
    return (name, list(value.shape), value.dtype.type, value, -value)


@case("cond_branch_loop", "tf.cond whose then branch runs a tf.while_loop that only terminates when "
      "the predicate holds (doubling v until its sum passes 50): selects would run it on the other "
      "side too, so the cond is a branch layer", keep_control_flow=True)
def _cond_branch_loop(rng):
    def fn(x):
        s = tf.reduce_sum(x)

        def grow():
            return tf.while_loop(lambda v: tf.reduce_sum(v) < 50.0, lambda v: v * 2.0, [x])[0]

        return tf.cond(s > 0.0, grow, lambda: x * -3.0 + 1.0)

    return fn, [_flipped("x", _shifted(rng, 2, 3))]


def _chain(x, k):
    """Nine elementwise ops on x, differing by k: a branch too large to compute needlessly."""
    y = tf.tanh(x * (1.0 + 0.1 * k) + 0.5)
    y = tf.sigmoid(y * 3.0 - 1.0) + x
    y = tf.abs(y) * tf.exp(-tf.square(x) * 0.1)
    return y - 0.25 * k


@case("cond_branch_large", "tf.cond with two outputs whose branches are both large (9+ ops each): "
      "a branch layer computes only the taken side", keep_control_flow=True)
def _cond_branch_large(rng):
    def fn(x, y):
        p = tf.reduce_mean(x) > 0.0

        def then():
            return _chain(x, 1.0) * y, tf.reduce_sum(_chain(y, 2.0), axis=1)

        def other():
            return _chain(y, 3.0) + x, tf.reduce_max(_chain(x, 4.0), axis=1)

        return tf.cond(p, then, other)

    return fn, [_flipped("x", _shifted(rng, 2, 4)), ("y", [2, 4], np.float32, normal(rng, 2, 4), normal(rng, 2, 4))]


@case("cond_branch_nested", "nested branch layers: a large cond whose then branch holds a cond with a "
      "while loop in one branch; two outer conds with opposite predicates, so each input set takes "
      "both outer sides", keep_control_flow=True)
def _cond_branch_nested(rng):
    def fn(x, y):
        s = tf.reduce_sum(x)

        def inner_loop():
            return tf.while_loop(lambda v: tf.reduce_max(v) < 20.0, lambda v: v * 1.5 + 0.5, [tf.abs(y) + 0.1])[0]

        def then():
            return tf.cond(tf.reduce_sum(y) > 0.0, inner_loop, lambda: _chain(y, 5.0)) + _chain(x, 6.0)

        def other():
            return _chain(x, 7.0) * _chain(y, 8.0)

        return tf.cond(s > 0.0, then, other), tf.cond(s < 0.0, then, other)

    return fn, [("x", [3, 2], np.float32, _shifted(rng, 3, 2), _shifted(rng, 3, 2)), _flipped("y", _shifted(rng, 3, 2))]


@case("cond_branch_side_effect", "tf.cond whose then branch asserts (tf.debugging.Assert that x has no "
      "value below -100): selects would run the assertion on the other side too, so the cond is a "
      "branch layer (Core ML has no assertion: the check is dropped, the values are TF's)",
      keep_control_flow=True)
def _cond_branch_side_effect(rng):
    def fn(x):
        def checked():
            with tf.control_dependencies([tf.debugging.Assert(tf.reduce_min(x) > -100.0, [x])]):
                return tf.identity(x * 2.0)

        return tf.cond(tf.reduce_sum(x) > 0.0, checked, lambda: x - 1.0)

    return fn, [_flipped("x", _shifted(rng, 2, 3))]


@case("while_branch_in_body", "tf.while_loop whose body holds a large tf.cond on the loop counter's "
      "parity (a branch layer inside the loop body), four iterations, both sides taken",
      keep_control_flow=True)
def _while_branch_in_body(rng):
    def fn(x):
        def body(i, v):
            even = tf.equal(tf.math.floormod(i, 2), 0)
            return i + 1, tf.cond(even, lambda: _chain(v, 1.0) * 0.5, lambda: _chain(v, 2.0) + 0.25)

        return tf.while_loop(lambda i, v: i < 4, body, [tf.constant(0), x])[1]

    return fn, [spec("x", normal(rng, 2, 3))]
