"""Special functions (rules/special.rules): BesselI0e and BesselI1e over their whole domain,
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
