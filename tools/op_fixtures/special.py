"""Special functions (rules/special.rules): BesselI0e, BesselI1e, Digamma, Ndtri and Erfinv (and
Lgamma for rules/examples/lgamma.rules) over their whole domains;
both sides of the branch point |x| = 3.75, zeros, tiny and huge magnitudes and infinities."""
import numpy as np
import tensorflow as tf

from . import case, spec


def _domain(rng):
    b = np.float32(3.75)
    special = np.float32([0.0, -0.0, 1e-3, -1e-3, b, -b, np.nextafter(b, np.float32(9)), np.nextafter(-b, np.float32(-9)),
                          1.0, -2.5, 8.0, -30.0, 100.0, -700.0, 1e6, -1e30, np.inf, -np.inf])
    spread = np.concatenate([rng.uniform(-8, 8, 40), rng.uniform(-60, 60, 22)]).astype(np.float32)
    return np.concatenate([special, spread]).reshape(8, 10)


@case("bessel_i0e", "BesselI0e on [8, 10]: both branches, +-3.75 and its neighbours, 0, huge, +-inf")
def _(rng):
    return (lambda x: tf.math.special.bessel_i0e(x)), [spec("x", _domain(rng))]


@case("bessel_i1e", "BesselI1e on [8, 10]: both branches, +-3.75 and its neighbours, 0, huge, +-inf (odd)")
def _(rng):
    return (lambda x: tf.math.special.bessel_i1e(x)), [spec("x", _domain(rng))]


def _gamma_domain(rng):
    """Poles and their neighbours, zeros of lgamma (1, 2, -2.457...), the branch points 0 and 8,
    tiny, huge and infinite magnitudes, and spread values on both sides."""
    special = np.float32([0.0, -0.0, 1.0, 2.0, -1.0, -2.0, -7.0, -1e10, 1e-30, 1e-3, -1e-3, 0.5, -0.5, -2.5,
                          -2.0001, -0.9999, -3.00001, -2.4570813, 8.0, np.nextafter(np.float32(8), np.float32(0)), 7.5,
                          1e6, -1e6 + 0.5, 1e30, 4e36, np.inf, -np.inf, 3.0, 100.25, -20.75])
    spread = np.concatenate([rng.uniform(-10, 10, 40), rng.uniform(0, 60, 20), rng.uniform(-60, 0, 10)]).astype(np.float32)
    return np.concatenate([special, spread]).reshape(10, 10)


# The standard library refuses Lgamma (its tests' unsupported op); rules/examples/lgamma.rules
# converts it, and tests/ops.rs checks that rule set against these goldens.
@case("lgamma", "Lgamma on [10, 10]: poles, zeros, the branch points 0 and 8, tiny, huge and infinite values "
      "(refused by the standard rules; converted by rules/examples/lgamma.rules)", refused="no conversion")
def _(rng):
    return (lambda x: tf.math.lgamma(x)), [spec("x", _gamma_domain(rng))]


@case("digamma", "Digamma on [10, 10]: poles (nan), the branch points 0 and 8, tiny, huge and infinite values")
def _(rng):
    return (lambda x: tf.math.digamma(x)), [spec("x", _gamma_domain(rng))]


def _quantiles(rng):
    """Probabilities at 0 and 1, near both ends (down to the smallest normal float32), on both
    sides of the approximation's switch points 0.02425 and 0.97575, outside [0, 1], and spread."""
    edges = np.float32([0.02425, 0.97575])
    special = np.float32([0.0, 1.0, 0.5, 1.2e-38, 1e-30, 1e-10, 1e-5, 1e-3, 0.999, 1 - 1e-7, np.nextafter(np.float32(1), np.float32(0)),
                          -0.1, 1.5, 0.3, 0.7])
    near = np.concatenate([edges, np.nextafter(edges, np.float32(0)), np.nextafter(edges, np.float32(1)), edges * np.float32(1.01), edges * np.float32(0.99)])
    spread = np.concatenate([rng.uniform(0, 1, 40), 10.0 ** rng.uniform(-30, -2, 15), 1 - 10.0 ** rng.uniform(-7, -2, 10)]).astype(np.float32)
    return np.concatenate([special, near, spread]).astype(np.float32).reshape(9, 10)


@case("ndtri", "Ndtri on [9, 10]: 0, 1, tails down to 1.2e-38, the switch points 0.02425 / 0.97575, outside [0, 1]")
def _(rng):
    return (lambda p: tf.math.ndtri(p)), [spec("p", _quantiles(rng))]


@case("erfinv", "Erfinv on [9, 10]: +-1, values within a few ulps of +-1, 0, outside [-1, 1], spread")
def _(rng):
    x = _quantiles(rng) * np.float32(2) - np.float32(1)
    x.reshape(-1)[:6] = np.float32([1.0, -1.0, np.nextafter(np.float32(1), np.float32(0)), np.nextafter(np.float32(-1), np.float32(0)), 0.99999982, -0.99999976])
    return (lambda x: tf.math.erfinv(x)), [spec("x", x)]
