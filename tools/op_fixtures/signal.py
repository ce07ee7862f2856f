"""Complex numbers and Fourier transforms (rules/signal.rules): Complex, Real, Imag, ComplexAbs,
FFT, IFFT, RFFT (fft_length equal to, shorter and longer than the input), IRFFT (even and odd
lengths), sums of complex tensors, batch dims. Inputs are real placeholders; complex tensors are
built inside the graph, since a Core ML model's inputs and outputs are real."""
import numpy as np
import tensorflow as tf

from . import case, normal, spec


def _rfft(n, length, *shape):
    def build(rng):
        return (lambda x: tf.abs(tf.signal.rfft(x, [length])) + tf.math.real(tf.signal.rfft(x, [length]))), \
            [spec("x", normal(rng, *shape, n, scale=2.0))]
    return build


case("rfft_16", "abs + real of RFFT of [2, 16], fft_length 16")(_rfft(16, 16, 2))
case("rfft_crop_12", "RFFT of [2, 16] with fft_length 12 (input cropped)")(_rfft(16, 12, 2))
case("rfft_pad_20", "RFFT of [2, 16] with fft_length 20 (input zero-padded)")(_rfft(16, 20, 2))
case("rfft_odd_batch3d", "RFFT of [2, 3, 7], fft_length 7 (odd, rank 3)")(_rfft(7, 7, 2, 3))


@case("rfft_imag", "Imag of RFFT of [3, 10]")
def _(rng):
    return (lambda x: tf.math.imag(tf.signal.rfft(x))), [spec("x", normal(rng, 3, 10))]


@case("fft_of_complex", "Real and Imag of FFT(Complex(x, y)) of [2, 8]")
def _(rng):
    def f(x, y):
        z = tf.signal.fft(tf.complex(x, y))
        return tf.math.real(z), tf.math.imag(z)
    return f, [spec("x", normal(rng, 2, 8)), spec("y", normal(rng, 2, 8))]


@case("ifft_fft_odd", "IFFT of FFT of Complex(x, y) of [2, 3, 5], and |IFFT(z)|")
def _(rng):
    def f(x, y):
        z = tf.complex(x, y)
        return tf.math.real(tf.signal.ifft(tf.signal.fft(z))), tf.abs(tf.signal.ifft(z))
    return f, [spec("x", normal(rng, 2, 3, 5)), spec("y", normal(rng, 2, 3, 5))]


@case("irfft_of_rfft_even", "IRFFT(RFFT(x)) of [2, 16] (even length)")
def _(rng):
    return (lambda x: tf.signal.irfft(tf.signal.rfft(x))), [spec("x", normal(rng, 2, 16))]


@case("irfft_of_complex_odd", "IRFFT of Complex(x, y) [2, 5] with fft_length 9 (odd; DC imag ignored)")
def _(rng):
    return (lambda x, y: tf.signal.irfft(tf.complex(x, y), [9])), [spec("x", normal(rng, 2, 5)), spec("y", normal(rng, 2, 5))]


@case("irfft_of_complex_even_crop", "IRFFT of Complex(x, y) [3, 6] with fft_length 6 (bins cropped to 4)")
def _(rng):
    return (lambda x, y: tf.signal.irfft(tf.complex(x, y), [6])), [spec("x", normal(rng, 3, 6)), spec("y", normal(rng, 3, 6))]


@case("real_imag_of_complex", "Real and Imag of Complex(x, y) directly")
def _(rng):
    def f(x, y):
        z = tf.complex(x, y)
        return tf.math.real(z) * 2.0, tf.math.imag(z) * 3.0
    return f, [spec("x", normal(rng, 4)), spec("y", normal(rng, 4))]


@case("complex_add_sub", "|fft(a) + fft(b)| and Real(fft(a) - b) on [2, 6]")
def _(rng):
    def f(x, y):
        a = tf.signal.fft(tf.complex(x, y))
        b = tf.complex(y, x)
        return tf.abs(a + tf.signal.fft(b)), tf.math.real(a - b)
    return f, [spec("x", normal(rng, 2, 6)), spec("y", normal(rng, 2, 6))]


@case("complex_output", "a complex model output is refused",
      refused="Core ML model outputs cannot be complex")
def _(rng):
    return (lambda x: tf.signal.rfft(x)), [spec("x", normal(rng, 2, 8))]


@case("rfft_runtime_length", "RFFT with fft_length computed at run time is refused",
      refused="no conversion to Core ML layers")
def _(rng):
    def f(x, n):
        return tf.abs(tf.signal.rfft(x, n))
    return f, [spec("x", normal(rng, 2, 8)), spec("n", np.array([8], dtype=np.int32))]


def _rfft2d(shape, lengths):
    def build(rng):
        def f(x):
            z = tf.signal.rfft2d(x, lengths)
            return tf.abs(z), tf.math.imag(z)
        return f, [spec("x", normal(rng, *shape))]
    return build


case("rfft2d", "abs and imag of RFFT2D of [2, 6, 8] (fft_length = the input's)")(_rfft2d((2, 6, 8), None))
case("rfft2d_crop_pad", "RFFT2D of [3, 5, 7] with fft_length [4, 10] (rows cropped, columns padded)")(_rfft2d((3, 5, 7), [4, 10]))
case("rfft2d_odd_batch", "RFFT2D of [2, 2, 5, 3] with fft_length [7, 3] (odd lengths, two batch dims)")(_rfft2d((2, 2, 5, 3), [7, 3]))
