"""Cast between the dtypes a Core ML float tensor can hold, and the gathers that consume cast
ids (Keras Embedding casts float ids to int32 before GatherV2)."""
import numpy as np
import tensorflow as tf

from . import case, edge_floats, ints, normal, spec


@case("cast_float_to_int32", "Cast float32 -> int32 truncates toward zero (-2.5 -> -2, 0.5 -> 0)")
def _(rng):
    return (lambda x: tf.cast(x, tf.int32)), [spec("x", edge_floats(rng, 4, 16))]


@case("cast_float_to_int64", "Cast float32 -> int64 truncates toward zero")
def _(rng):
    return (lambda x: tf.cast(x, tf.int64)), [spec("x", edge_floats(rng, 3, 10))]


@case("cast_float_to_bool", "Cast float32 -> bool is x != 0 (-0.0 is false, 0.001 true)")
def _(rng):
    x = edge_floats(rng, 4, 12)
    x[0, :4] = 0.0
    return (lambda x: tf.cast(x, tf.bool)), [spec("x", x)]


@case("cast_int32_to_float", "Cast int32 -> float32 keeps the value")
def _(rng):
    return (lambda x: tf.cast(x, tf.float32)), [spec("x", ints(rng, -1000, 1000, 5, 7))]


@case("cast_bool_to_float", "Cast bool -> float32 (from a comparison)")
def _(rng):
    return (lambda x: tf.cast(x > 0.25, tf.float32)), [spec("x", edge_floats(rng, 3, 9))]


@case("cast_int32_to_bool", "Cast int32 -> bool is x != 0")
def _(rng):
    return (lambda x: tf.cast(x, tf.bool)), [spec("x", ints(rng, -3, 4, 4, 6))]


@case("cast_float_to_int32_to_float", "a float truncated and used as a number again")
def _(rng):
    return (lambda x: tf.cast(tf.cast(x, tf.int32), tf.float32) * 2.0 + x), [spec("x", edge_floats(rng, 4, 8))]


@case("embedding_float_ids", "Keras Embedding fed float ids (3.7 -> row 3): Cast then GatherV2")
def _(rng):
    emb = tf.keras.layers.Embedding(20, 6, embeddings_initializer=tf.keras.initializers.RandomNormal(seed=3))
    emb.build((None, 5))
    ids = rng.integers(0, 20, size=(3, 5)).astype(np.float32)
    ids[0, 0], ids[0, 1], ids[1, 0] = 19.0, 3.7, 0.2
    return (lambda x: emb(x)), [spec("ids", ids)]


@case("embedding_int_ids", "Keras Embedding fed int32 ids: GatherV2 axis 0")
def _(rng):
    emb = tf.keras.layers.Embedding(50, 8, embeddings_initializer=tf.keras.initializers.RandomNormal(seed=4))
    emb.build((None, 7))
    return (lambda x: emb(x)), [spec("ids", ints(rng, 0, 50, 2, 7))]


@case("gather_axis1_int_ids", "GatherV2 on axis 1 with int32 indices of rank 2")
def _(rng):
    return (lambda x, i: tf.gather(x, i, axis=1)), [spec("x", normal(rng, 3, 9, 2)), spec("i", ints(rng, 0, 9, 2, 4))]


@case("gather_negative_axis", "GatherV2 with axis -1 and a constant index list")
def _(rng):
    return (lambda x: tf.gather(x, [4, 0, 0, 2], axis=-1)), [spec("x", normal(rng, 2, 3, 5))]
