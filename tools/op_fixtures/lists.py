"""TensorLists (TF2) and TensorArrays (TF1) as preallocated tensors: `tf.TensorArray` written
inside a `tf.while_loop` (a `While` over `TensorListReserve`/`SetItem`/`GetItem`/`Stack`, TF2
form, and `TensorArrayV3`/`Write`/`Read`/`Gather` frames built with `tf.compat.v1` and control
flow v1), the list ops on their own (`tf.raw_ops` inside the function), and growing lists,
which are refused. Inputs are standard normal."""
import numpy as np
import tensorflow as tf

from . import case, normal, spec
from .control_tf1 import tf1

v1 = tf.compat.v1


@case("list_while_write", "tf.while_loop writing x[i] * 2 + h into a tf.TensorArray of 4 rows "
      "(no element_shape: taken from the items written), stacked after the loop", keep_control_flow=True)
def _list_while_write(rng):
    def fn(x):
        ta = tf.TensorArray(tf.float32, size=4)

        def body(i, h, ta):
            h = tf.tanh(x[i] * 2.0 + h)
            return i + 1, h, ta.write(i, h)

        _, h, ta = tf.while_loop(lambda i, h, ta: i < 4, body, (tf.constant(0), tf.zeros([3]), ta))
        return ta.stack(), h

    return fn, [spec("x", normal(rng, 4, 3))]


@case("list_while_read_write", "tf.while_loop reading a TensorArray unstacked from x and writing "
      "another with element_shape, read back with gather and size after the loop", keep_control_flow=True)
def _list_while_read_write(rng):
    def fn(x):
        src = tf.TensorArray(tf.float32, size=5, element_shape=[2, 3]).unstack(x)
        dst = tf.TensorArray(tf.float32, size=5, element_shape=[2, 3])

        def body(i, dst):
            return i + 1, dst.write(4 - i, src.read(i) * tf.cast(i + 1, tf.float32))

        _, dst = tf.while_loop(lambda i, dst: i < 5, body, (tf.constant(0), dst))
        return dst.gather([0, 2, 3]), dst.stack(), dst.size()

    return fn, [spec("x", normal(rng, 5, 2, 3))]


@case("list_while_lowered", "tf.while_loop writing a TensorArray, frozen with lower_control_flow=True")
def _list_while_lowered(rng):
    def fn(x):
        ta = tf.TensorArray(tf.float32, size=3, element_shape=[4])

        def body(i, ta):
            return i + 1, ta.write(i, tf.nn.relu(x[i] - 0.2) * 3.0)

        _, ta = tf.while_loop(lambda i, ta: i < 3, body, (tf.constant(0), ta))
        return ta.stack()

    return fn, [spec("x", normal(rng, 3, 4))]


@case("list_tf1_tensor_array", "TF1 tf.compat.v1.while_loop writing a TensorArrayV3 of 4 rows "
      "(the flow is the loop variable), read back with TensorArrayGatherV3 (stack)")
def _list_tf1_tensor_array(rng):
    @tf1
    def fn(x):
        ta = tf.TensorArray(tf.float32, size=4)

        def body(i, ta):
            return i + 1, ta.write(i, tf.sigmoid(x[i]) + tf.cast(i, tf.float32))

        _, ta = v1.while_loop(lambda i, ta: i < 4, body, (tf.constant(0), ta))
        return ta.stack()

    return fn, [spec("x", normal(rng, 4, 3))]


@case("list_tf1_scatter_read", "TF1 TensorArrayScatterV3 (unstack) read inside a v1 while_loop with "
      "TensorArrayReadV3, written to a second array, gathered and sized after the loop")
def _list_tf1_scatter_read(rng):
    @tf1
    def fn(x):
        src = tf.TensorArray(tf.float32, size=3, element_shape=[2]).unstack(x)
        dst = tf.TensorArray(tf.float32, size=3, element_shape=[2])

        def body(i, acc, dst):
            acc = acc + src.read(i)
            return i + 1, acc, dst.write(i, acc * 2.0)

        _, acc, dst = v1.while_loop(lambda i, a, d: i < 3, body, (tf.constant(0), tf.zeros([2]), dst))
        return dst.gather([2, 0]), acc, dst.size()

    return fn, [spec("x", normal(rng, 3, 2))]


@case("list_raw_ops", "TensorListFromTensor, TensorListScatterIntoExistingList, TensorListGather, "
      "TensorListLength, TensorListGetItem, TensorListSetItem and TensorListStack as tf.raw_ops")
def _list_raw_ops(rng):
    def fn(x, y):
        el = tf.constant([3], tf.int32)
        l = tf.raw_ops.TensorListFromTensor(tensor=x, element_shape=el)
        l = tf.raw_ops.TensorListScatterIntoExistingList(input_handle=l, tensor=y, indices=tf.constant([3, 0]))
        g = tf.raw_ops.TensorListGather(input_handle=l, indices=tf.constant([1, 3]), element_shape=el,
                                        element_dtype=tf.float32)
        n = tf.raw_ops.TensorListLength(input_handle=l)
        r = tf.raw_ops.TensorListGetItem(input_handle=l, index=2, element_shape=el, element_dtype=tf.float32)
        l = tf.raw_ops.TensorListSetItem(input_handle=l, index=1, item=r * 10.0)
        s = tf.raw_ops.TensorListStack(input_handle=l, element_shape=el, element_dtype=tf.float32)
        return g, n, s

    return fn, [spec("x", normal(rng, 4, 3)), spec("y", normal(rng, 2, 3))]


@case("list_push_back_refused", "a tf.TensorArray with dynamic_size=True grown in a loop "
      "(TensorListPushBack / an unknown maximum length): refused", keep_control_flow=True,
      refused="grow")
def _list_push_back_refused(rng):
    def fn(x):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)

        def body(i, ta):
            return i + 1, ta.write(i, x[i] * 2.0)

        _, ta = tf.while_loop(lambda i, ta: i < 3, body, (tf.constant(0), ta))
        return ta.stack()

    return fn, [spec("x", normal(rng, 3, 2))]


@case("list_scalars", "tf.while_loop over lists of scalars: a TensorArray unstacked from a vector read "
      "item by item (TensorListGetItem of a scalar) and a running sum written into another "
      "(TensorListSetItem of a scalar)", keep_control_flow=True)
def _list_scalars(rng):
    def fn(v):
        src = tf.TensorArray(tf.float32, size=5, element_shape=[]).unstack(v)
        dst = tf.TensorArray(tf.float32, size=5, element_shape=[])

        def body(i, acc, dst):
            acc = acc + src.read(i) * 2.0
            return i + 1, acc, dst.write(i, acc)

        _, acc, dst = tf.while_loop(lambda i, a, d: i < 5, body, (tf.constant(0), tf.constant(0.0), dst))
        return dst.stack(), acc

    return fn, [spec("v", normal(rng, 5))]


@case("list_run_time_length", "a TensorArray of run-time length tf.shape(x)[0] (TensorListReserve of a "
      "computed num_elements, fillDynamic) written in a loop of as many steps, stacked, and its "
      "TensorListLength (the input's first dim unknown in the graph)", keep_control_flow=True)
def _list_run_time_length(rng):
    def fn(x):
        n = tf.shape(x)[0]
        ta = tf.TensorArray(tf.float32, size=n, element_shape=[3])

        def body(i, ta):
            return i + 1, ta.write(i, x[i] * 2.0 - 1.0)

        _, ta = tf.while_loop(lambda i, ta: i < n, body, (tf.constant(0), ta))
        return ta.stack(), ta.size()

    return fn, [("x", [None, 3], np.float32, normal(rng, 4, 3))]


@case("list_tf1_scalars", "TF1 TensorArrays of scalars in a v1 while_loop: TensorArrayReadV3 and "
      "TensorArrayWriteV3 of scalar items, TensorArrayGatherV3 (stack) after the loop")
def _list_tf1_scalars(rng):
    @tf1
    def fn(v):
        src = tf.TensorArray(tf.float32, size=4, element_shape=[]).unstack(v)
        dst = tf.TensorArray(tf.float32, size=4, element_shape=[])

        def body(i, dst):
            return i + 1, dst.write(3 - i, tf.exp(src.read(i)) - 1.0)

        _, dst = v1.while_loop(lambda i, d: i < 4, body, (tf.constant(0), dst))
        return dst.stack()

    return fn, [spec("v", normal(rng, 4))]


@case("list_tf1_run_time_size", "a TF1 TensorArrayV3 of run-time size tf.shape(x)[0], written in a v1 "
      "while_loop, gathered, and its TensorArraySizeV3")
def _list_tf1_run_time_size(rng):
    @tf1
    def fn(x):
        n = tf.shape(x)[0]
        ta = tf.TensorArray(tf.float32, size=n, element_shape=[2])

        def body(i, ta):
            return i + 1, ta.write(i, x[i] * x[i])

        _, ta = v1.while_loop(lambda i, ta: i < n, body, (tf.constant(0), ta))
        # ta.size() answers the size tensor itself for a fixed-size array: the op, raw.
        return ta.stack(), tf.raw_ops.TensorArraySizeV3(handle=ta.handle, flow_in=ta.flow)

    return fn, [("x", [None, 2], np.float32, normal(rng, 3, 2))]


@case("list_element_shape_unknown_refused", "a tf.TensorArray without element_shape written with rows "
      "of an input whose second dim is unknown: no element shape to preallocate, refused naming the list",
      keep_control_flow=True, refused="element shape is unknown")
def _list_element_shape_unknown_refused(rng):
    def fn(x):
        ta = tf.TensorArray(tf.float32, size=3)

        def body(i, ta):
            return i + 1, ta.write(i, x[i] * 2.0)

        _, ta = tf.while_loop(lambda i, ta: i < 3, body, (tf.constant(0), ta))
        return ta.stack()

    return fn, [("x", [3, None], np.float32, normal(rng, 3, 2))]


@case("list_nested_loops", "a TensorArray filled inside an inner tf.while_loop, itself in the body of an "
      "outer loop that writes the inner array's sum of rows into an outer TensorArray", keep_control_flow=True)
def _list_nested_loops(rng):
    def fn(x):
        outer = tf.TensorArray(tf.float32, size=3, element_shape=[4])

        def outer_body(i, outer):
            inner = tf.TensorArray(tf.float32, size=2, element_shape=[4])

            def inner_body(j, inner):
                return j + 1, inner.write(j, x[i] * tf.cast(j + 1, tf.float32))

            _, inner = tf.while_loop(lambda j, a: j < 2, inner_body, (tf.constant(0), inner))
            return i + 1, outer.write(i, tf.reduce_sum(inner.stack(), axis=0))

        _, outer = tf.while_loop(lambda i, o: i < 3, outer_body, (tf.constant(0), outer))
        return outer.stack()

    return fn, [spec("x", normal(rng, 3, 4))]
