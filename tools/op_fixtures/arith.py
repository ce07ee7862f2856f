"""Elementwise and scan ops coremltools cannot convert (rules/arith.rules): Atan2 over every
quadrant, the axes, signed zeros and infinities; Angle of complex tensors; Cumprod with each
of exclusive / reverse, negative axes, zeros and negatives in the products, int32."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, ints, normal, spec


def _atan2_edges(rng):
    """y, x covering the four quadrants, both axes, every pairing of +-0 and +-inf, and
    magnitudes far apart (ratios that overflow or underflow)."""
    special = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, 2.5, -2.5, 1e30, -1e-30], dtype=np.float32)
    yy, xx = np.meshgrid(special, special, indexing="ij")
    y = np.concatenate([yy.reshape(-1), edge_floats(rng, 60)])
    x = np.concatenate([xx.reshape(-1), edge_floats(rng, 60)])
    return y.astype(np.float32).reshape(8, 20), x.astype(np.float32).reshape(8, 20)


@case("atan2_quadrants", "Atan2 on [8, 20]: every quadrant, the axes, +-0 and +-inf pairs, huge ratios")
def _(rng):
    y, x = _atan2_edges(rng)
    return (lambda y, x: tf.math.atan2(y, x)), [spec("y", y), spec("x", x)]


@case("atan2_broadcast", "Atan2 of [3, 1, 5] and [4, 1] (broadcasting both ways)")
def _(rng):
    return (lambda y, x: tf.math.atan2(y, x)), [spec("y", edge_floats(rng, 3, 1, 5)), spec("x", edge_floats(rng, 4, 1))]


@case("angle_of_complex", "Angle of Complex(x, y) of [8, 20] (every quadrant and signed zero)")
def _(rng):
    y, x = _atan2_edges(rng)
    x, y = np.nan_to_num(x, posinf=5.0, neginf=-5.0), np.nan_to_num(y, posinf=5.0, neginf=-5.0)
    return (lambda x, y: tf.math.angle(tf.complex(x, y))), [spec("x", x), spec("y", y)]


# Not Angle(RFFT(x)): TF's DC and Nyquist bins are real, with an imaginary part of exactly +0
# or -0, and for a negative real part Angle is then pi or -pi by the sign of that zero, which a
# matmul's rounding residue cannot reproduce (see rules/arith.rules).
@case("angle_of_fft", "Angle of FFT(Complex(x, y)) of [2, 8]")
def _(rng):
    return (lambda x, y: tf.math.angle(tf.signal.fft(tf.complex(x, y)))), [spec("x", normal(rng, 2, 8)), spec("y", normal(rng, 2, 8))]


def _with_zeros(rng, *shape):
    """Values in [-2, 2] with zeros and ones seeded in, so products cross zero and change sign."""
    x = (rng.uniform(-2.0, 2.0, size=shape)).astype(np.float32)
    flat = x.reshape(-1)
    pos = rng.permutation(flat.size)[: max(1, flat.size // 10)]
    flat[pos[: len(pos) // 2]] = 0.0
    flat[pos[len(pos) // 2:]] = -1.0
    return x


def _cumprod(name, shape, axis, exclusive, reverse, dtype=np.float32):
    def build(rng):
        x = _with_zeros(rng, *shape) if dtype == np.float32 else ints(rng, -3, 4, *shape)
        return (lambda x: tf.math.cumprod(x, axis=axis, exclusive=exclusive, reverse=reverse)), [spec("x", x)]
    what = ", ".join(s for s, on in (("exclusive", exclusive), ("reverse", reverse)) if on) or "inclusive"
    case(name, f"Cumprod of {list(shape)} on axis {axis}, {what}" + (" (int32)" if dtype != np.float32 else ""))(build)


_cumprod("cumprod_axis0", (6, 4), 0, False, False)
_cumprod("cumprod_last_exclusive", (3, 2, 7), -1, True, False)
_cumprod("cumprod_middle_reverse", (2, 5, 3), 1, False, True)
_cumprod("cumprod_exclusive_reverse", (4, 6), -2, True, True)
_cumprod("cumprod_int32", (3, 5), 1, False, False, dtype=np.int32)


@case("cumprod_edge_values", "Cumprod of [3, 5] edge values (signed zeros, halves, 1234.5) on axis 1")
def _(rng):
    return (lambda x: tf.math.cumprod(x, axis=1)), [spec("x", edge_floats(rng, 3, 5))]


def _hist(name, values, lo, hi, nbins, desc):
    def build(rng):
        return (lambda v: tf.histogram_fixed_width(v, [lo, hi], nbins=nbins)), [spec("v", values(rng))]
    case(name, f"HistogramFixedWidth over [{lo}, {hi}] in {nbins} bins of {desc}")(build)


def _on_edges(rng):
    """Values on and next to every bin boundary of [0, 1] / 10 (where a float32 division and
    TF's double one disagree), outside the range, and random ones."""
    b = np.arange(11, dtype=np.float32) / np.float32(10)
    near = np.concatenate([b, np.nextafter(b, np.float32(-1)), np.nextafter(b, np.float32(2)), np.float32([0.3, 0.7, 0.6])])
    return np.concatenate([near, np.float32([-5.0, -0.0, 1.0, 7.5]), rng.uniform(-0.2, 1.2, 60).astype(np.float32)]).astype(np.float32)


_hist("histogram_fixed_width_edges", _on_edges, 0.0, 1.0, 10, "values on, just below and above every bin edge")
_hist("histogram_fixed_width_2d", lambda rng: edge_floats(rng, 6, 9), -4.0, 3.0, 7, "[6, 9] edge floats (clamped ends)")
_hist("histogram_fixed_width_one_bin", lambda rng: normal(rng, 20), -1.0, 1.0, 1, "20 normal values, one bin")
_hist("histogram_fixed_width_int32", lambda rng: ints(rng, -10, 30, 5, 8), 0, 20, 6, "int32 values (range 0..20)")


@case("histogram_runtime_range_refused", "HistogramFixedWidth with a range fed at run time: no constant bin edges, refused",
      refused="no conversion")
def _(rng):
    return (lambda v, r: tf.histogram_fixed_width(v, r, nbins=5)), [spec("v", normal(rng, 12)), spec("r", np.float32([-1.0, 1.0]))]
