"""Random ops (rules/random.rules): RandomUniform, RandomStandardNormal and Multinomial, with
constant and run-time shapes and the affine forms tf.random.uniform / tf.random.normal freeze
into (RandomUniform * (max - min) + min, RandomStandardNormal * stddev + mean). Values cannot
match TensorFlow's generator, so every case is compared as a distribution
(`compare="distribution"`): a few thousand samples each, so moments and the KS distance are
sharp. Op seeds are fixed so that the frozen graph and the eager function draw the same
numbers (write_fixture checks them against each other)."""
import numpy as np
import tensorflow as tf

from . import case, normal, spec

DIST = "distribution"


@case("random_uniform_static", "RandomUniform of a constant shape [40, 60] (Shape of the input, folded)", compare=DIST)
def _(rng):
    return (lambda x: tf.random.uniform(tf.shape(x), seed=11)), [spec("x", normal(rng, 40, 60))]


@case("random_uniform_range", "tf.random.uniform in [-2, 5): RandomUniform * 7 - 2", compare=DIST)
def _(rng):
    return (lambda x: tf.random.uniform(tf.shape(x), -2.0, 5.0, seed=12)), [spec("x", normal(rng, 3, 1000))]


@case("random_uniform_dynamic", "RandomUniform of a shape fed at run time", compare=DIST)
def _(rng):
    return (lambda s: tf.random.uniform(s, seed=13)), [spec("s", np.array([50, 40], dtype=np.int32))]


@case("random_normal_static", "RandomStandardNormal of a constant shape [2, 30, 40]", compare=DIST)
def _(rng):
    return (lambda x: tf.random.normal(tf.shape(x), seed=14)), [spec("x", normal(rng, 2, 30, 40))]


@case("random_normal_mean_std", "tf.random.normal with mean 1.5 and stddev 0.25: RandomStandardNormal * 0.25 + 1.5", compare=DIST)
def _(rng):
    return (lambda x: tf.random.normal(tf.shape(x), 1.5, 0.25, seed=15)), [spec("x", normal(rng, 2500))]


@case("random_normal_dynamic", "RandomStandardNormal of a shape fed at run time", compare=DIST)
def _(rng):
    return (lambda s: tf.random.normal(s, seed=16)), [spec("s", np.array([3, 20, 40], dtype=np.int32))]


@case("multinomial", "Multinomial (tf.random.categorical): 3000 class ids from one row of logits", compare=DIST)
def _(rng):
    logits = np.array([[0.5, -1.0, 2.0, 0.0, 1.0]], dtype=np.float32)
    return (lambda x: tf.random.categorical(x, 3000, dtype=tf.int32, seed=17)), [spec("x", logits)]
