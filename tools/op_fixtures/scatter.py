"""Scatters, coordinates and reversals: ScatterNd, TensorScatter{Update,Add,Sub,Max,Min},
Where with one input, ReverseSequence, Reverse (v1), and the v1 forms of Gather and InTopK
that carry as attributes what their v2 forms take as inputs."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, ints, normal, spec


# --- ScatterNd --------------------------------------------------------------------------------

@case("scatter_nd_elements", "ScatterNd of single elements into [4, 5], with a duplicate index (summed)")
def _(rng):
    i = np.array([[0, 1], [3, 4], [2, 2], [0, 1]], dtype=np.int32)
    return (lambda u: tf.scatter_nd(i, u, [4, 5])), [spec("u", edge_floats(rng, 4))]


@case("scatter_nd_slices", "ScatterNd of rows (index depth 1) into [5, 3, 2]")
def _(rng):
    i = np.array([[4], [0], [2]], dtype=np.int32)
    return (lambda u: tf.scatter_nd(i, u, [5, 3, 2])), [spec("u", edge_floats(rng, 3, 3, 2))]


@case("scatter_nd_runtime_indices", "ScatterNd with indices as an input, int32 updates")
def _(rng):
    i = np.array([[[1, 0], [2, 1]], [[0, 0], [1, 1]]], dtype=np.int32)
    u = np.array([[3, -4], [7, 100]], dtype=np.int32)
    return (lambda i, u: tf.scatter_nd(i, u, [3, 2])), [spec("i", i), spec("u", u)]


# --- TensorScatter* ---------------------------------------------------------------------------

def _tensor_scatter(op):
    def build(rng):
        i = np.array([[1], [3], [0]], dtype=np.int32)
        return (lambda x, u: op(x, i, u)), [spec("x", edge_floats(rng, 4, 3)), spec("u", normal(rng, 3, 3, scale=2.0))]
    return build


for _name, _op in [("update", tf.tensor_scatter_nd_update), ("add", tf.tensor_scatter_nd_add),
                   ("sub", tf.tensor_scatter_nd_sub), ("max", tf.tensor_scatter_nd_max),
                   ("min", tf.tensor_scatter_nd_min)]:
    case(f"tensor_scatter_{_name}_rows", f"TensorScatter{_name.title()} of rows into a [4, 3] tensor")(_tensor_scatter(_op))


@case("tensor_scatter_add_elements_dup", "TensorScatterAdd of elements with a repeated index (both added)")
def _(rng):
    i = np.array([[0, 0, 1], [1, 2, 0], [0, 0, 1]], dtype=np.int32)
    return (lambda x, u: tf.tensor_scatter_nd_add(x, i, u)), [spec("x", edge_floats(rng, 2, 3, 2)), spec("u", normal(rng, 3))]


# --- Where (one input) ------------------------------------------------------------------------

@case("where_bool_rank2", "Where(cond) of a bool matrix: the [n, 2] coordinates of the true elements")
def _(rng):
    return (lambda x: tf.where(x > 0.0)), [spec("x", edge_floats(rng, 4, 5))]


@case("where_float_rank3", "Where(x) of a float tensor of rank 3: coordinates of the non-zeros (-0.0 is zero)")
def _(rng):
    x = edge_floats(rng, 2, 3, 4)
    x[x > 1.0] = 0.0
    return (lambda x: tf.where(x)), [spec("x", x)]


@case("where_int_rank1", "Where(x) of an int32 vector")
def _(rng):
    return (lambda x: tf.where(x)), [spec("x", np.array([0, 3, 0, -2, 0, 0, 7], dtype=np.int32))]


# --- ReverseSequence --------------------------------------------------------------------------

@case("reverse_sequence_batch0", "ReverseSequence seq_dim 1, batch_dim 0, int64 lengths incl. 0 and full")
def _(rng):
    lens = np.array([0, 5, 3], dtype=np.int64)
    return (lambda x: tf.reverse_sequence(x, lens, seq_axis=1, batch_axis=0)), [spec("x", edge_floats(rng, 3, 5, 2))]


@case("reverse_sequence_batch1", "ReverseSequence seq_dim 0, batch_dim 1, lengths as an int32 input")
def _(rng):
    lens = np.array([2, 4, 1, 3], dtype=np.int32)
    return (lambda x, l: tf.reverse_sequence(x, l, seq_axis=0, batch_axis=1)), [spec("x", edge_floats(rng, 4, 4, 3)), spec("l", lens)]


# --- Reverse (v1) -----------------------------------------------------------------------------

@case("reverse_v1_two_axes", "Reverse (v1) with dims [true, false, true]")
def _(rng):
    return (lambda x: tf.raw_ops.Reverse(tensor=x, dims=[True, False, True])), [spec("x", edge_floats(rng, 2, 3, 4))]


@case("reverse_v1_int", "Reverse (v1) of an int32 matrix along axis 1")
def _(rng):
    return (lambda x: tf.raw_ops.Reverse(tensor=x, dims=[False, True])), [spec("x", ints(rng, -50, 50, 3, 5))]


# --- v1 forms ---------------------------------------------------------------------------------

@case("gather_v1_rows", "Gather (v1) of rows by an int32 index matrix")
def _(rng):
    i = np.array([[2, 0], [1, 2]], dtype=np.int32)
    return (lambda x: tf.raw_ops.Gather(params=x, indices=i)), [spec("x", edge_floats(rng, 3, 4))]


@case("in_top_k_v1", "InTopK (v1) with k = 2 as an attribute")
def _(rng):
    t = np.array([0, 3, 2, 1], dtype=np.int32)
    return (lambda p: tf.raw_ops.InTopK(predictions=p, targets=t, k=2)), [spec("p", normal(rng, 4, 5))]
