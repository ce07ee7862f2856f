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
