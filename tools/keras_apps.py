"""A sweep over Keras applications (TensorFlow 2.12.1, random weights, batch 1): each frozen as
the corpus is, with TensorFlow's output for a fixed input, and optionally coremltools 8.3's
layer count for the same graph. What docs/performance.md's "Keras applications" table reports.

    /tmp/tfvenv/bin/python tools/keras_apps.py [--out DIR] [--coremltools] [NAME ...]
    for m in DIR/*.pb; do
        mlrewrite convert "$m" -o "${m%.pb}.mlmodel" &&
        mlrewrite run "${m%.pb}.mlmodel" --inputs "${m%.pb}.npz" --compare "${m%.pb}.npz"
    done

Writes DIR/NAME.pb and DIR/NAME.npz (input `x:0` and the outputs, keyed by tensor name); DIR
defaults to target/keras-apps (generated, not committed: up to 200 MB each). With
--coremltools, appends `{"name", "layers" | "error", "seconds"}` lines to DIR/coremltools.jsonl,
converting as tools/coremltools_bench.py does. The inputs are small (64x64, or 75x75 where the
architecture needs it); models that include their own preprocessing get pixel-like values.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_io import save_npz, seed_of  # noqa: E402

A = tf.keras.applications
# name: (constructor, input size, pixel-valued input (the model rescales it itself))
APPS = {
    "xception": (A.Xception, 75, False),
    "vgg16": (A.VGG16, 64, False),
    "resnet50v2": (A.ResNet50V2, 64, False),
    "inceptionv3": (A.InceptionV3, 75, False),
    "inception_resnet_v2": (A.InceptionResNetV2, 75, False),
    "mobilenet": (A.MobileNet, 64, False),
    "mobilenetv3small": (A.MobileNetV3Small, 64, False),
    "mobilenetv3large": (A.MobileNetV3Large, 64, False),
    "nasnetmobile": (A.NASNetMobile, 64, False),
    "efficientnetv2b0": (A.EfficientNetV2B0, 64, True),
    "efficientnetb3": (A.EfficientNetB3, 64, True),
    "convnexttiny": (A.ConvNeXtTiny, 64, True),
    "regnetx002": (A.RegNetX002, 64, True),
    "regnety002": (A.RegNetY002, 64, True),
    "resnetrs50": (A.ResNetRS50, 64, True),
}


def freeze(model, shape):
    spec = tf.TensorSpec(shape, tf.float32, name="x")
    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(concrete)
    return frozen.graph.as_graph_def(), [t.name for t in frozen.inputs], [t.name for t in frozen.outputs]


def coremltools_layers(pb, inputs, outputs):
    import coremltools as ct

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    wrapped = tf.compat.v1.wrap_function(lambda: tf.graph_util.import_graph_def(graph_def, name=""), [])
    g = wrapped.graph
    fn = wrapped.prune([g.get_tensor_by_name(n) for n in inputs], [g.get_tensor_by_name(n) for n in outputs])
    start = time.time()
    try:
        model = ct.convert([fn], source="tensorflow", convert_to="neuralnetwork")
        return {"layers": len(model.get_spec().neuralNetwork.layers), "seconds": round(time.time() - start, 1)}
    except Exception as e:  # noqa: BLE001 (coremltools' failures are the data here)
        return {"error": f"{type(e).__name__}: {e}"[:300]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "target" / "keras-apps")
    ap.add_argument("--coremltools", action="store_true", help="also record coremltools 8.3's layer count")
    ap.add_argument("names", nargs="*", choices=[[]] + list(APPS), default=[])
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(APPS):
        build, size, pixels = APPS[name]
        tf.keras.utils.set_random_seed(seed_of(name))
        model = build(weights=None, input_shape=(size, size, 3))
        shape = (1, size, size, 3)
        graph_def, inputs, outputs = freeze(model, shape)
        x = np.random.default_rng(seed_of(name)).standard_normal(shape).astype(np.float32)
        if pixels:
            x = (x * 50 + 120).astype(np.float32)
        g = tf.Graph()
        with g.as_default():
            tf.graph_util.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=g) as sess:
            values = sess.run(outputs, {inputs[0]: x})
        pb = args.out / f"{name}.pb"
        pb.write_bytes(graph_def.SerializeToString())
        save_npz(args.out / f"{name}.npz", {inputs[0]: x, **dict(zip(outputs, values))})
        print(f"{name}: {len(graph_def.node)} nodes", flush=True)
        if args.coremltools:
            with open(args.out / "coremltools.jsonl", "a") as f:
                f.write(json.dumps({"name": name, **coremltools_layers(pb, inputs, outputs)}) + "\n")


if __name__ == "__main__":
    main()
