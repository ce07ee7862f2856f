"""AudioSpectrogram and Mfcc (rules/audio.rules): spectrograms with a power-of-two window and
with one that TF zero-pads to the next power of two, stride below and above the window
(overlapping and skipped samples), two channels, magnitude and power, and MFCCs with the
default and with custom frequency limits, channel and coefficient counts. Signals are sums
of sines plus noise, so spectra span several orders of magnitude."""
import numpy as np
import tensorflow as tf

from . import case, spec


def signal(rng, n, channels=1, rate=16000):
    t = np.arange(n)[:, None] / rate
    freqs = rng.uniform(100, 3000, size=(3, channels))
    x = sum(np.sin(2 * np.pi * f * t + p) for f, p in zip(freqs, rng.uniform(0, 6, size=(3, channels))))
    return (0.3 * x + 0.05 * rng.standard_normal((n, channels))).astype(np.float32)


def spectrogram(x, window, stride, squared):
    return tf.raw_ops.AudioSpectrogram(input=x, window_size=window, stride=stride, magnitude_squared=squared)


@case("audio_spectrogram_power", "AudioSpectrogram window 256 stride 128, magnitude_squared, 2 channels")
def _(rng):
    return (lambda x: spectrogram(x, 256, 128, True)), [spec("x", signal(rng, 1500, 2))]


@case("audio_spectrogram_magnitude", "AudioSpectrogram window 200 (FFT length 256, zero-padded) stride 75, magnitude")
def _(rng):
    return (lambda x: spectrogram(x, 200, 75, False)), [spec("x", signal(rng, 1000))]


@case("audio_spectrogram_skip", "AudioSpectrogram window 64 stride 100 (samples between frames are skipped), partial last frame dropped")
def _(rng):
    return (lambda x: spectrogram(x, 64, 100, True)), [spec("x", signal(rng, 777))]


@case("mfcc_default", "Mfcc after AudioSpectrogram (window 480, stride 160 at 16 kHz): 40 mel channels 20-4000 Hz, 13 coefficients")
def _(rng):
    def fn(x):
        s = spectrogram(x, 480, 160, True)
        return tf.raw_ops.Mfcc(spectrogram=s, sample_rate=16000)
    return fn, [spec("x", signal(rng, 3200))]


@case("mfcc_custom", "Mfcc at 8 kHz with 300-3800 Hz, 20 channels, 20 coefficients, on a fed spectrogram")
def _(rng):
    s = spectrogram(signal(rng, 1200, 2, rate=8000), 256, 128, True).numpy()
    def fn(s):
        return tf.raw_ops.Mfcc(spectrogram=s, sample_rate=8000, upper_frequency_limit=3800.0,
                               lower_frequency_limit=300.0, filterbank_channel_count=20,
                               dct_coefficient_count=20)
    return fn, [spec("s", s)]
