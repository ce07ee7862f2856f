"""Sparse segment reductions with constant indices and segment ids (rules/segment.rules):
repeated and skipped rows, empty segments, rank-1 and rank-3 data."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, spec


def _sparse(name, op, shape, idx, ids, desc):
    def build(rng):
        f = getattr(tf.raw_ops, op)
        return (lambda x: f(data=x, indices=tf.constant(idx, tf.int32), segment_ids=tf.constant(ids, tf.int32))), \
            [spec("x", edge_floats(rng, *shape))]
    case(name, f"{op} of {list(shape)}, indices {idx}, ids {ids}: {desc}")(build)


_sparse("sparse_segment_sum", "SparseSegmentSum", (5, 3), [0, 2, 2, 4, 1], [0, 0, 1, 3, 3], "a repeated row, empty segment 2")
_sparse("sparse_segment_sum_rank1", "SparseSegmentSum", (6,), [5, 0, 3], [0, 1, 1], "rank-1 data")
_sparse("sparse_segment_mean", "SparseSegmentMean", (4, 2, 3), [3, 1, 1, 0, 2], [0, 0, 2, 2, 2], "rank 3, empty segment 1")
_sparse("sparse_segment_mean_single", "SparseSegmentMean", (3, 4), [2], [0], "one row, one segment")
