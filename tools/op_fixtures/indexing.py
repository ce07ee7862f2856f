"""Indexing: gathers, one-hot, selects, top-k and in-top-k, bucketize, and the segment
reductions and bincounts coremltools cannot convert (composites over constant segment ids)."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, ints, normal, spec


# --- GatherNd ---------------------------------------------------------------------------------

@case("gather_nd_full_depth", "GatherNd with index depth = rank: picks single elements")
def _(rng):
    i = np.array([[0, 1], [2, 3], [1, 0], [2, 0]], dtype=np.int32)
    return (lambda x, i: tf.gather_nd(x, i)), [spec("x", edge_floats(rng, 3, 4)), spec("i", i)]


@case("gather_nd_partial_depth", "GatherNd with index depth 1 < rank 3: picks slices")
def _(rng):
    i = np.array([[2], [0], [2]], dtype=np.int32)
    return (lambda x, i: tf.gather_nd(x, i)), [spec("x", edge_floats(rng, 3, 2, 4)), spec("i", i)]


@case("gather_nd_batched_indices", "GatherNd with indices of shape [2, 3, 2] (batch dims of indices)")
def _(rng):
    i = np.array([[[0, 0], [1, 2], [2, 1]], [[2, 2], [0, 1], [1, 1]]], dtype=np.int32)
    return (lambda x, i: tf.gather_nd(x, i)), [spec("x", edge_floats(rng, 3, 3, 2)), spec("i", i)]


@case("gather_nd_const_indices", "GatherNd with constant indices of depth 2 into rank 3")
def _(rng):
    return (lambda x: tf.gather_nd(x, [[1, 0], [0, 2]])), [spec("x", edge_floats(rng, 2, 3, 4))]


# --- OneHot -----------------------------------------------------------------------------------

@case("one_hot_last_axis", "OneHot axis -1, depth 5, default on/off")
def _(rng):
    return (lambda i: tf.one_hot(i, 5)), [spec("i", np.array([0, 4, 2, 2, 1], dtype=np.int32))]


@case("one_hot_axis0_on_off", "OneHot axis 0 with on 2.5 and off -1.0, indices of rank 2")
def _(rng):
    i = np.array([[0, 3], [1, 2], [3, 3]], dtype=np.int32)
    return (lambda i: tf.one_hot(i, 4, on_value=2.5, off_value=-1.0, axis=0)), [spec("i", i)]


@case("one_hot_axis1_rank2", "OneHot axis 1 on indices of rank 2 (the new axis in the middle)")
def _(rng):
    i = np.array([[0, 3, 1], [2, 2, 0]], dtype=np.int32)
    return (lambda i: tf.one_hot(i, 4, axis=1)), [spec("i", i)]


@case("one_hot_out_of_range", "OneHot: negative and too large indices give all-off rows")
def _(rng):
    i = np.array([0, -1, 3, 5, -4, 2], dtype=np.int32)
    return (lambda i: tf.one_hot(i, 4, on_value=3.0, off_value=0.5)), [spec("i", i)]


@case("one_hot_int32_values", "OneHot with int32 on/off values (dtype int32)")
def _(rng):
    i = np.array([[1, 0], [2, 1]], dtype=np.int32)
    return (lambda i: tf.one_hot(i, 3, on_value=7, off_value=-2, dtype=tf.int32)), [spec("i", i)]


# --- Select / SelectV2 ---------------------------------------------------------------------------

@case("select_v2_from_comparison", "tf.where(x > 0, x, 0.1 * x): a leaky relu written as a select")
def _(rng):
    return (lambda x: tf.where(x > 0.0, x, 0.1 * x)), [spec("x", edge_floats(rng, 4, 5))]


@case("select_same_shape", "Select (v1) with a condition of the same shape")
def _(rng):
    def fn(x, y):
        return tf.raw_ops.Select(condition=x > y, x=x, y=y)
    return fn, [spec("x", edge_floats(rng, 3, 4)), spec("y", normal(rng, 3, 4))]


# --- TopK, InTopK ---------------------------------------------------------------------------------

@case("topk_sorted", "TopKV2 with constant k = 3 on the last axis (distinct values)")
def _(rng):
    x = np.stack([rng.permutation(8) for _ in range(3)]).astype(np.float32) * 0.5 - 2.0
    def fn(x):
        v, i = tf.math.top_k(x, k=3)
        return v, i
    return fn, [spec("x", x)]


def _topk_to_v1(graph_def):
    """TopKV2 with a constant k rewritten to TopK (v1, k an attribute), in a GraphDef whose
    producer version (6) is one TensorFlow still accepted TopK in."""
    nodes = {n.name: n for n in graph_def.node}
    for n in graph_def.node:
        if n.op != "TopKV2":
            continue
        k_node = nodes[n.input[1].split(":")[0]]
        k = int(tf.make_ndarray(k_node.attr["value"].tensor))
        old, n.name, n.op = n.name, "TopK", "TopK"
        for m in graph_def.node:
            m.input[:] = [("TopK" + i[len(old):]) if i.split(":")[0] == old else i for i in m.input]
        del n.input[1]
        n.attr["k"].i = k
        if not any(k_node.name == i.split(":")[0].lstrip("^") for m in graph_def.node for i in m.input):
            graph_def.node.remove(k_node)
    graph_def.versions.producer = 6
    graph_def.versions.min_consumer = 0


@case("topk_v1", "TopK (v1, k = 3 as an attribute) in a producer-version-6 GraphDef; goldens from "
      "the TopKV2 graph it was rewritten from (TensorFlow 2 cannot build TopK)")
def _(rng):
    x = np.stack([rng.permutation(7) for _ in range(4)]).astype(np.float32) * 0.5 - 1.0
    def fn(x):
        v, i = tf.math.top_k(x, k=3)
        return v, i
    fn.rewrite_graph_def = _topk_to_v1
    return fn, [spec("x", x)], fn


@case("topk_dynamic_k", "TopKV2 with k fed at run time: topK's second input")
def _(rng):
    x = np.stack([rng.permutation(6) for _ in range(2)]).astype(np.float32)
    def fn(x, k):
        v, i = tf.math.top_k(x, k=k)
        return v, i
    return fn, [spec("x", x), spec("k", np.array(2, dtype=np.int32))]


@case("topk_computed_k", "TopKV2 with k computed in the graph (half the run-time length of a rank-3 input)")
def _(rng):
    x = (np.stack([rng.permutation(8) for _ in range(6)]).astype(np.float32) - 3.5).reshape(2, 3, 8)
    def fn(x, n):
        v, i = tf.math.top_k(x, k=n // 2)
        return v, i
    return fn, [spec("x", x), spec("n", np.array(6, dtype=np.int32))]


@case("in_top_k", "InTopKV2 with k = 2: is the target's prediction among the 2 largest (ties count)")
def _(rng):
    p = np.array([[0.1, 0.8, 0.1, 0.0], [0.3, 0.3, 0.2, 0.2], [0.5, 0.1, 0.2, 0.2], [0.0, 0.1, 0.9, -1.0]], dtype=np.float32)
    t = np.array([2, 0, 3, 1], dtype=np.int32)
    return (lambda p, t: tf.math.in_top_k(t, p, 2)), [spec("p", p), spec("t", t)]


# --- Bucketize --------------------------------------------------------------------------------------

@case("bucketize", "Bucketize by boundaries [-1, 0, 0.5, 2]: values on a boundary go right")
def _(rng):
    x = edge_floats(rng, 3, 6)
    x[0, :4] = [-1.0, 0.0, 0.5, 2.0]
    return (lambda x: tf.raw_ops.Bucketize(input=x, boundaries=[-1.0, 0.0, 0.5, 2.0])), [spec("x", x)]


# --- segment reductions with constant ids ------------------------------------------------------------

SORTED_IDS = np.array([0, 0, 1, 3, 3, 3], dtype=np.int32)   # segment 2 is empty
UNSORTED_IDS = np.array([2, 0, 2, 1, 0, 2], dtype=np.int32)


def _segment_cases(name, op):
    @case(f"segment_{name}", f"Segment{name.capitalize()} over constant sorted ids with an empty segment")
    def _(rng):
        return (lambda x: op(x, SORTED_IDS)), [spec("x", edge_floats(rng, 6, 3, scale=1.0))]


_segment_cases("sum", tf.math.segment_sum)
_segment_cases("mean", tf.math.segment_mean)
_segment_cases("max", tf.math.segment_max)
_segment_cases("min", tf.math.segment_min)
_segment_cases("prod", tf.math.segment_prod)


@case("segment_sum_rank1", "SegmentSum of a vector")
def _(rng):
    return (lambda x: tf.math.segment_sum(x, SORTED_IDS)), [spec("x", edge_floats(rng, 6))]


@case("segment_sum_rank3", "SegmentSum of a rank-3 tensor")
def _(rng):
    return (lambda x: tf.math.segment_sum(x, SORTED_IDS)), [spec("x", edge_floats(rng, 6, 2, 2, scale=1.0))]


@case("unsorted_segment_sum", "UnsortedSegmentSum with 4 segments (segment 3 empty)")
def _(rng):
    return (lambda x: tf.math.unsorted_segment_sum(x, UNSORTED_IDS, 4)), [spec("x", edge_floats(rng, 6, 3, scale=1.0))]


@case("unsorted_segment_max", "UnsortedSegmentMax with 4 segments (segment 3 empty: the lowest float)")
def _(rng):
    return (lambda x: tf.math.unsorted_segment_max(x, UNSORTED_IDS, 4)), [spec("x", edge_floats(rng, 6, 3, scale=1.0))]


@case("unsorted_segment_min", "UnsortedSegmentMin with 3 segments")
def _(rng):
    return (lambda x: tf.math.unsorted_segment_min(x, UNSORTED_IDS, 3)), [spec("x", edge_floats(rng, 6, 2, scale=1.0))]


@case("unsorted_segment_sum_negative_id", "UnsortedSegmentSum: a negative id drops the row")
def _(rng):
    ids = np.array([1, -1, 0, 1, -1, 0], dtype=np.int32)
    return (lambda x: tf.math.unsorted_segment_sum(x, ids, 2)), [spec("x", edge_floats(rng, 6, 2, scale=1.0))]


@case("segment_sum_dynamic_ids", "SegmentSum with ids fed at run time: the output size is data-dependent",
      refused="SegmentSum")
def _(rng):
    return (lambda x, i: tf.math.segment_sum(x, i)), [spec("x", normal(rng, 4, 2)), spec("i", np.array([0, 0, 1, 1], dtype=np.int32))]


# --- Bincount / DenseBincount with a constant size -----------------------------------------------

BINS = np.array([0, 3, 1, 3, 3, 6, 0, 4], dtype=np.int32)   # 6 >= size 5 is not counted


@case("bincount_counts", "Bincount without weights, size 5 (a value >= size is dropped)")
def _(rng):
    return (lambda a: tf.raw_ops.Bincount(arr=a, size=5, weights=tf.constant([], tf.float32))), [spec("a", BINS)]


@case("bincount_weights", "Bincount with float weights, size 6")
def _(rng):
    return (lambda a, w: tf.raw_ops.Bincount(arr=a, size=6, weights=w)), [spec("a", BINS), spec("w", edge_floats(rng, 8))]


@case("dense_bincount_rank2", "DenseBincount of a rank-2 input (one count row per input row), size 4")
def _(rng):
    a = np.array([[0, 1, 1, 3], [2, 2, 2, 0], [3, 3, 1, 5]], dtype=np.int32)
    return (lambda a: tf.raw_ops.DenseBincount(input=a, size=4, weights=tf.constant([], tf.float32))), [spec("a", a)]


@case("dense_bincount_binary", "DenseBincount with binary_output: 1 where a value occurs")
def _(rng):
    return (lambda a: tf.raw_ops.DenseBincount(input=a, size=5, weights=tf.constant([], tf.float32), binary_output=True)), [spec("a", BINS)]


@case("dense_bincount_weights", "DenseBincount of a rank-1 input with weights")
def _(rng):
    return (lambda a, w: tf.raw_ops.DenseBincount(input=a, size=5, weights=w)), [spec("a", BINS), spec("w", edge_floats(rng, 8))]


# Reductions over an empty axis list are the identity in TF (Core ML's reduce layers would
# reduce everything).
for _name, _fn in [("sum", tf.reduce_sum), ("mean", tf.reduce_mean), ("max", tf.reduce_max),
                   ("min", tf.reduce_min), ("prod", tf.reduce_prod), ("euclidean_norm", tf.norm)]:
    def _build(rng, fn=_fn, name=_name):
        if name == "euclidean_norm":
            f = lambda x: tf.raw_ops.EuclideanNorm(input=x, axis=tf.constant([], tf.int32))
        else:
            f = lambda x: fn(x, axis=[])
        return f, [spec("x", edge_floats(rng, 3, 5))]

    case(f"{_name}_no_axes", f"{_name} over an empty axis list: the identity")(_build)
