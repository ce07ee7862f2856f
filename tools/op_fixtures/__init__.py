"""Single-op TensorFlow graphs for the differential test of the standard rules (tests/ops.rs).

Each family module (`elementwise.py`, `spatial.py`, ...) registers cases with `@case`: one small
graph per op and attribute variant, fed with inputs that cover the edge values a rule can get
wrong (negatives, .5 halves, zeros, large magnitudes, every dtype the op accepts). TensorFlow
computes the goldens from the frozen graph itself (tools/make_fixtures.py's `write_fixture`),
so the test compares our rules with TensorFlow, never with a second copy of our semantics.

A case that the standard library must refuse (no composite can exist, e.g. a shape only known
at run time) passes `refused="substring of the error"`: the test then checks that conversion
fails with that message instead of writing a model.

A graph TensorFlow's CPU cannot run (NCHW convolution and pooling) returns a third element from
its builder, `reference`: the same function written with kernels the CPU has; the fixture is the
frozen graph of `fn` and its goldens are what TensorFlow computes for `reference`.

A random op's values cannot be reproduced by any converter: its case passes
`compare="distribution"`, written into the JSON, and the test compares the outputs as samples
of one distribution (run::compare::same_distribution) instead of value by value.
"""
import numpy as np

CASES = {}
# Cases frozen with `lower_control_flow=False`: their GraphDef keeps StatelessIf/StatelessWhile
# and the function library (the TF2 form) instead of TF1 Switch/Merge frames.
KEEP_CONTROL_FLOW = set()
COMPARE = {}


def case(name, description, refused=None, keep_control_flow=False, compare=None):
    """Register `build(rng) -> (fn, [(input name, shape, dtype, value)])` as fixture `name`."""

    def register(build):
        if name in CASES:
            raise ValueError(f"duplicate op fixture {name}")
        CASES[name] = (description, build, refused)
        if keep_control_flow:
            KEEP_CONTROL_FLOW.add(name)
        if compare is not None:
            COMPARE[name] = compare
        return build

    return register


def edge_floats(rng, *shape, scale=3.0):
    """Random floats with the edge values of rounding and sign seeded in: 0, +-0.5, +-1.5,
    +-2.5 (ties), -0.0, small and large magnitudes; the rest normal * scale."""
    x = (rng.standard_normal(shape) * scale).astype(np.float32)
    flat = x.reshape(-1)
    edges = np.array([0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1e-3, -1e-3, 1234.5, -987.25,
                      0.49999997, -3.0, 7.0], dtype=np.float32)
    n = min(len(edges), flat.size)
    pos = rng.permutation(flat.size)[:n]
    flat[pos] = edges[:n]
    return x


def spec(name, value):
    """An input spec with the value's own shape and dtype."""
    value = np.asarray(value)
    return (name, list(value.shape), value.dtype.type, value)


def normal(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def ints(rng, lo, hi, *shape, dtype=np.int32):
    return rng.integers(lo, hi, size=shape).astype(dtype)
