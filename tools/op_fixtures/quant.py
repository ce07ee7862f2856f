"""Fake quantisation: FakeQuantWithMinMaxVars with constant bounds (TF's nudged range), in its
default, narrow-range, low-bit and asymmetric forms."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, spec


def _fake_quant(lo, hi, num_bits=8, narrow_range=False):
    def build(rng):
        fn = lambda x: tf.quantization.fake_quant_with_min_max_vars(
            x, tf.constant(lo), tf.constant(hi), num_bits=num_bits, narrow_range=narrow_range)
        return fn, [spec("x", edge_floats(rng, 6, 7, scale=2.0))]
    return build


case("fake_quant_vars_default", "FakeQuantWithMinMaxVars [-3, 3], 8 bits")(_fake_quant(-3.0, 3.0))
case("fake_quant_vars_narrow", "FakeQuantWithMinMaxVars [-2, 2.5], 8 bits, narrow range")(_fake_quant(-2.0, 2.5, narrow_range=True))
case("fake_quant_vars_4bit_asym", "FakeQuantWithMinMaxVars [-0.7, 5.3], 4 bits (zero point nudged)")(_fake_quant(-0.7, 5.3, num_bits=4))
case("fake_quant_vars_positive", "FakeQuantWithMinMaxVars [0.5, 4] (min > 0 nudges to 0)")(_fake_quant(0.5, 4.0))
