"""Control flow in its TF1 form: graphs built with `tf.compat.v1.cond` / `tf.compat.v1.while_loop`
under disabled control flow v2 and frozen with TF1's `convert_variables_to_constants`, so the
GraphDef holds Switch/Merge conds and Enter/Merge/Switch/NextIteration/LoopCond/Exit frames
(`tf1_*`); plus a TF2 function frozen with `lower_control_flow=True` (the same frames, written
by TensorFlow's lowering) and `tf.switch_case` (StatelessCase). Every cond fixture takes both
branches on the golden input."""
import numpy as np
import tensorflow as tf

from . import case, normal, spec

v1 = tf.compat.v1


def tf1(fn):
    """Marks `fn` as a TF1 graph builder (make_fixtures.freeze_tf1)."""
    fn.tf1 = True
    return fn


def _shifted(rng, *shape, shift=0.5):
    return normal(rng, *shape) + np.float32(shift)


@case("tf1_cond", "tf.compat.v1.cond (Switch/Merge) on a computed predicate, two outputs, one per branch, "
      "and a two-output cond")
def _tf1_cond(rng):
    @tf1
    def fn(x):
        m = tf.reduce_mean(x)
        a = v1.cond(m > 0.0, lambda: x * 2.0 + 1.0, lambda: x - 3.0)
        b = v1.cond(m > 100.0, lambda: tf.tanh(x), lambda: x * x)
        c, d = v1.cond(m < 0.0, lambda: (x + 1.0, tf.reduce_sum(x, axis=1)),
                       lambda: (x * 0.5, tf.reduce_max(x, axis=1)))
        return a, b, c, d

    return fn, [spec("x", _shifted(rng, 2, 3))]


@case("tf1_cond_nested", "tf.compat.v1.cond inside both branches of a tf.compat.v1.cond, and a branch "
      "returning an input unchanged")
def _tf1_cond_nested(rng):
    @tf1
    def fn(x, y):
        s = tf.reduce_sum(x)
        t = tf.reduce_max(y)

        def then():
            return v1.cond(t > 0.0, lambda: x + y, lambda: x - y) * 2.0

        def other():
            return v1.cond(t > 0.0, lambda: tf.sigmoid(x), lambda: tf.abs(y))

        a = v1.cond(s > 0.0, then, other)
        b = v1.cond(s < 0.0, then, other)
        c = v1.cond(s > 0.0, lambda: y, lambda: x * 3.0)
        return a, b, c

    return fn, [spec("x", _shifted(rng, 3, 4)), spec("y", normal(rng, 3, 4))]


@case("tf1_switch_const_pred", "tf.compat.v1.cond on constant predicates (true and false): each dead "
      "branch holds Lgamma, which no rule converts, so only resolving the Switch converts them")
def _tf1_switch_const(rng):
    @tf1
    def fn(x):
        a = v1.cond(tf.constant(True), lambda: x * 3.0, lambda: tf.math.lgamma(x))
        b = v1.cond(tf.constant(False), lambda: tf.math.lgamma(x), lambda: x - 1.0)
        return a, b

    return fn, [spec("x", normal(rng, 2, 3))]


@case("tf1_cond_folded_pred", "tf.compat.v1.cond on a predicate computed from constants only (a static shape "
      "compared with a size, as Keras' CenterCrop does); the dead branch holds an Assert and Lgamma")
def _tf1_cond_folded_pred(rng):
    @tf1
    def fn(x):
        big = tf.reduce_all(tf.stack([tf.shape(x)[0] - 1 >= 1, tf.shape(x)[1] - 2 >= 1]))

        def dead():
            with tf.control_dependencies([tf.debugging.Assert(False, [x])]):
                return tf.math.lgamma(x)

        return v1.cond(big, lambda: x * 2.0, dead)

    return fn, [spec("x", normal(rng, 3, 4))]


@case("keras_center_crop", "Keras CenterCrop(3, 4) then Resizing(6, 8) on a 5x7 image: frozen with TF's control "
      "flow lowering, the crop's size check is a Switch/Merge cond on constants with an Assert in its dead branch")
def _keras_center_crop(rng):
    L = tf.keras.layers
    inp = tf.keras.Input((5, 7, 2), batch_size=1)
    model = tf.keras.Model(inp, L.Resizing(6, 8)(L.CenterCrop(3, 4)(inp)))
    return (lambda x: model(x)), [spec("x", normal(rng, 1, 5, 7, 2))]


@case("tf1_cond_side_effect_refused", "tf.compat.v1.cond whose branch runs an Assert before its result: "
      "both branches cannot be evaluated, refused naming the node", refused="has a side effect")
def _tf1_cond_assert(rng):
    @tf1
    def fn(x):
        def then():
            check = tf.debugging.Assert(tf.reduce_all(x > -100.0), [x])
            with tf.control_dependencies([check]):
                return x * 2.0

        return v1.cond(tf.reduce_sum(x) > 0.0, then, lambda: x - 1.0)

    return fn, [spec("x", normal(rng, 2, 3))]


@case("tf1_while", "tf.compat.v1.while_loop (Enter/Merge/Switch/NextIteration/LoopCond/Exit) with a counter "
      "and two tensors, x captured by the body (a constant Enter); trip count depends on the input")
def _tf1_while(rng):
    @tf1
    def fn(x):
        def body(i, acc, m):
            fi = tf.cast(i, tf.float32)
            return i + 1, acc + x[0] * fi, tf.maximum(m, x * (fi - 1.5))

        _, acc, m = v1.while_loop(lambda i, acc, m: i < 4, body,
                                  [tf.constant(0), tf.zeros([3]), tf.fill([4, 3], -1e9)])
        v = v1.while_loop(lambda v: tf.reduce_sum(v) < 100.0, lambda v: v * 2.0 + 1.0, [tf.abs(x) + 0.1])
        return acc, m, v

    return fn, [spec("x", normal(rng, 4, 3))]


@case("tf1_while_nested", "nested tf.compat.v1.while_loops: the outer runs 3 times, the inner 2 times per "
      "outer iteration, x captured by both")
def _tf1_while_nested(rng):
    @tf1
    def fn(x):
        def inner(j, a):
            return j + 1, a * 0.5 + x

        def outer(i, acc):
            _, acc = v1.while_loop(lambda j, a: j < 2, inner, [tf.constant(0), acc])
            return i + 1, acc + 1.0

        return v1.while_loop(lambda i, acc: i < 3, outer, [tf.constant(0), x])[1]

    return fn, [spec("x", normal(rng, 2, 2))]


@case("tf1_while_cond", "a tf.compat.v1.cond inside a tf.compat.v1.while_loop body: odd iterations add x, "
      "even ones halve; the trip count is a model input (n = 5)")
def _tf1_while_cond(rng):
    @tf1
    def fn(x, n):
        def body(i, acc):
            odd = tf.equal(tf.math.floormod(i, 2), 1)
            return i + 1, v1.cond(odd, lambda: acc + x, lambda: acc * 0.5)

        return v1.while_loop(lambda i, acc: i < n, body, [tf.constant(0), tf.zeros_like(x)])[1]

    return fn, [spec("x", normal(rng, 3)), spec("n", np.array(5, dtype=np.int32))]


@case("tf1_lowered_while", "a TF2 tf.while_loop and tf.cond frozen with lower_control_flow=True: "
      "TensorFlow's lowering writes the TF1 frames")
def _tf1_lowered(rng):
    def fn(x):
        v = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 1.5 - x), [tf.constant(0), x])[1]
        return tf.cond(tf.reduce_sum(v) > 0.0, lambda: v + 1.0, lambda: v * v)

    return fn, [spec("x", normal(rng, 2, 3))]


@case("case_3_branches", "tf.switch_case with three branches on an int32 index input (1 here) and indices "
      "0, 1, 2 and 6 (out of range: the last branch); freezing lowers the Case into _SwitchN and 3-way "
      "Merges even with lower_control_flow=False", keep_control_flow=True)
def _case_3(rng):
    def fn(x, k):
        branches = [lambda: x * 2.0, lambda: tf.tanh(x) + 1.0, lambda: x - 5.0]
        a = tf.switch_case(k, branches)
        b = tf.switch_case(k + 1, branches)
        c = tf.switch_case(k - 1, branches)
        d = tf.switch_case(k + 5, branches)
        return a, b, c, d

    return fn, [spec("x", normal(rng, 2, 3)), spec("k", np.array(1, dtype=np.int32))]


@case("tf1_case", "tf.compat.v1.case with three predicate-function pairs and a default (nested Switch/Merge "
      "conds), one predicate true")
def _tf1_case(rng):
    @tf1
    def fn(x):
        s = tf.reduce_sum(x)
        return v1.case([(s > 100.0, lambda: x * 2.0), (s > -100.0, lambda: x + 7.0),
                        (s > -1000.0, lambda: tf.abs(x))], default=lambda: x - 1.0, exclusive=False)

    return fn, [spec("x", normal(rng, 2, 3))]


@case("case_stateless", "tf.switch_case kept as StatelessCase (the function's own graph, unfrozen: it has no "
      "variables) with three two-output branches, indices 0, 1, 2 and -1 (out of range: the last branch)",
      keep_control_flow=True)
def _case_stateless(rng):
    def fn(x, k):
        branches = [lambda: (x * 2.0, tf.reduce_sum(x, axis=1)), lambda: (tf.tanh(x) + 1.0, tf.reduce_max(x, axis=1)),
                    lambda: (x - 5.0, tf.reduce_min(x, axis=1))]
        out = []
        for idx in (k - 1, k, k + 1, k - 2):
            out.extend(tf.switch_case(idx, branches))
        return out

    fn.unfrozen = True
    return fn, [spec("x", normal(rng, 2, 3)), spec("k", np.array(1, dtype=np.int32))]
