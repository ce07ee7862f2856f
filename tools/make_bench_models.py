"""Large models for benches and output-quality checks (issue 14), made by TensorFlow 2.12.1.

    python tools/make_bench_models.py [--out DIR] [NAME ...]

Writes DIR/NAME.pb (frozen as the corpus is: `convert_variables_to_constants_v2`, Placeholder
inputs, Identity outputs) and DIR/NAME.npz (the input fed and TensorFlow's outputs of the
frozen graph, keyed by tensor name). DIR defaults to target/bench-models: these graphs are
tens of megabytes, so they are generated, not committed. Random weights, seeded; batch-norm
statistics are left at Keras' initial values, which keeps activations in range for 50+ layers.

Models: resnet50, densenet121, efficientnetb0, mobilenet_v2 (Keras applications, 64x64x3,
batch 1), transformer_encoder (12 layers, sequence 64, width 256, 4 heads), and synthetic
CNNs of about 1,000 and 10,000 TF nodes (cnn_1k, cnn_10k) for growth curves.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_io import save_npz, seed_of  # noqa: E402

MODELS = {}


def model(name):
    def register(build):
        MODELS[name] = build
        return build

    return register


@model("resnet50")
def resnet50():
    return tf.keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3)), (1, 64, 64, 3)


@model("densenet121")
def densenet121():
    return tf.keras.applications.DenseNet121(weights=None, input_shape=(64, 64, 3)), (1, 64, 64, 3)


@model("efficientnetb0")
def efficientnetb0():
    return tf.keras.applications.EfficientNetB0(weights=None, input_shape=(64, 64, 3)), (1, 64, 64, 3)


@model("mobilenet_v2")
def mobilenet_v2():
    return tf.keras.applications.MobileNetV2(weights=None, input_shape=(64, 64, 3)), (1, 64, 64, 3)


@model("transformer_encoder")
def transformer_encoder(layers=12, seq=64, width=256, heads=4):
    x_in = tf.keras.Input((seq, width), batch_size=1)
    x = x_in
    for _ in range(layers):
        a = tf.keras.layers.MultiHeadAttention(heads, width // heads)(x, x)
        x = tf.keras.layers.LayerNormalization(epsilon=1e-6)(x + a)
        f = tf.keras.layers.Dense(4 * width, activation="gelu")(x)
        f = tf.keras.layers.Dense(width)(f)
        x = tf.keras.layers.LayerNormalization(epsilon=1e-6)(x + f)
    return tf.keras.Model(x_in, x), (1, seq, width)


def synthetic_cnn(blocks):
    x_in = tf.keras.Input((32, 32, 16), batch_size=1)
    x = x_in
    for _ in range(blocks):
        y = tf.keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
        y = tf.keras.layers.BatchNormalization()(y)
        y = tf.keras.layers.ReLU(6.0)(y)
        y = tf.keras.layers.DepthwiseConv2D(3, padding="same")(y)
        x = tf.keras.layers.Add()([x, y])
    return tf.keras.Model(x_in, x), (1, 32, 32, 16)


@model("cnn_1k")
def cnn_1k():
    return synthetic_cnn(110)


@model("cnn_10k")
def cnn_10k():
    return synthetic_cnn(1100)


def freeze(keras_model, shape):
    spec = tf.TensorSpec(shape, tf.float32, name="x")
    concrete = tf.function(lambda x: keras_model(x, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(concrete)
    return frozen.graph.as_graph_def(), [t.name for t in frozen.inputs], [t.name for t in frozen.outputs]


def main():
    # Keras walks a functional model's graph recursively: cnn_10k's 1,100 blocks pass Python's
    # default limit of 1,000 frames (RecursionError in _build_map).
    sys.setrecursionlimit(100_000)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "target" / "bench-models"))
    ap.add_argument("names", nargs="*", choices=[[]] + list(MODELS), default=[])
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(MODELS):
        tf.keras.utils.set_random_seed(seed_of(name))
        keras_model, shape = MODELS[name]()
        graph_def, inputs, outputs = freeze(keras_model, shape)
        x = np.random.default_rng(seed_of(name)).standard_normal(shape).astype(np.float32)
        g = tf.Graph()
        with g.as_default():
            tf.graph_util.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=g) as sess:
            values = sess.run(outputs, {inputs[0]: x})
        (out / f"{name}.pb").write_bytes(graph_def.SerializeToString())
        save_npz(out / f"{name}.npz", {inputs[0]: x, **dict(zip(outputs, values))})
        print(f"{name}: {len(graph_def.node)} nodes, {(out / f'{name}.pb').stat().st_size / 1e6:.1f} MB, outputs {outputs}")


if __name__ == "__main__":
    main()
