"""Trigonometric and hyperbolic ops, one Core ML layer each: inputs span each op's domain with
its edge values (0, +-0.5, +-1 where defined). Asinh and Acosh have layers too, but their ops
are missing from the op catalog (src/ir/opdefs.json), so no rule is written for them yet."""
import numpy as np
import tensorflow as tf

from . import case, spec


def domain(rng, lo, hi, edges, n=48):
    x = rng.uniform(lo, hi, size=n).astype(np.float32)
    x[: len(edges)] = np.array(edges, dtype=np.float32)
    return x.reshape(4, -1)


for _op, _fn, _lo, _hi, _edges in [
    ("tan", tf.math.tan, -1.4, 1.4, [0.0, 0.5, -0.5, 1.0, -1.0, 1.25]),
    ("asin", tf.math.asin, -1.0, 1.0, [0.0, 0.5, -0.5, 1.0, -1.0, 0.999]),
    ("acos", tf.math.acos, -1.0, 1.0, [0.0, 0.5, -0.5, 1.0, -1.0, 0.999]),
    ("atan", tf.math.atan, -20.0, 20.0, [0.0, 0.5, -0.5, 1.0, -1.0, 1000.0]),
    ("sinh", tf.math.sinh, -5.0, 5.0, [0.0, 0.5, -0.5, 1.0, -1.0, 8.0]),
    ("cosh", tf.math.cosh, -5.0, 5.0, [0.0, 0.5, -0.5, 1.0, -1.0, -8.0]),
    ("atanh", tf.math.atanh, -0.99, 0.99, [0.0, 0.5, -0.5, 0.9, -0.9]),
]:
    def _build(rng, fn=_fn, lo=_lo, hi=_hi, edges=_edges):
        return (lambda x: fn(x)), [spec("x", domain(rng, lo, hi, edges))]

    case(f"{_op}_domain", f"{_op} over its domain with edge values")(_build)
