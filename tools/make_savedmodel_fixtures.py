#!/usr/bin/env python3
"""Write the SavedModel fixtures of tests/fixtures/savedmodel/ with TensorFlow 2.12.1.

For each NAME:
- `NAME/`      a SavedModel directory (saved_model.pb, variables/variables.index and
               variables.data-00000-of-00001), signature `serving_default`;
- `NAME.pb`    the same graph frozen by TensorFlow's own `convert_variables_to_constants`
               (so `convert NAME/` and `convert NAME.pb` must give the same .mlmodel bytes);
- `NAME.npz`   the golden input and TensorFlow's outputs, keyed by tensor name.

`tf1_dense` (resource variables) and `tf1_refvar` (legacy `VariableV2`) are TF1-style graphs
written by `tf.compat.v1.saved_model.Builder`: the signature's tensors live in the graph
itself. The TF2 fixtures call their signature's body through `StatefulPartitionedCall` into
the graph's function library, with the variables as captured resource inputs:
`tf2_module` (a `tf.Module` with two variables, `tf.saved_model.save`), `keras_sequential`
(a Keras `Sequential` MLP) and `keras_cnn` (a Keras functional CNN with batch norm), both
written by Keras `model.save(dir)`. For them `NAME.pb` is the signature's concrete function
(`loaded.signatures["serving_default"]`) frozen by `convert_variables_to_constants_v2`; mlrewrite
names a TF2 SavedModel as that frozen function is named (inputs by signature key, outputs
`Identity`...), so `convert NAME/` and `convert NAME.pb` give the same bytes and both are checked
against `NAME.frozen.npz`, the same values keyed by the frozen graph's names (`NAME.npz` keys
them by the meta graph's own tensor names, `serving_default_x:0`, `StatefulPartitionedCall:0`).

Usage: /tmp/tfvenv/bin/python tools/make_savedmodel_fixtures.py [--out tests/fixtures/savedmodel]
"""
import argparse
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_io import save_npz, seed_of  # noqa: E402


def tf1_model(name, out, use_resource):
    rng = np.random.default_rng(seed_of(name))
    x_val = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default():
        v1 = tf.compat.v1
        x = v1.placeholder(tf.float32, [2, 6, 6, 3], name="x")
        init = lambda *s: v1.constant_initializer(rng.standard_normal(s).astype(np.float32) * 0.5)  # noqa: E731
        k = v1.get_variable("conv/kernel", [3, 3, 3, 4], initializer=init(3, 3, 3, 4), use_resource=use_resource)
        cb = v1.get_variable("conv/bias", [4], initializer=init(4), use_resource=use_resource)
        w = v1.get_variable("dense/kernel", [4, 5], initializer=init(4, 5), use_resource=use_resource)
        b = v1.get_variable("dense/bias", [5], initializer=init(5), use_resource=use_resource)
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, k, 1, "SAME"), cb))
        h = tf.reduce_mean(h, axis=[1, 2])
        y = tf.nn.softmax(tf.matmul(h, w) + b, name="probs")
        config = v1.ConfigProto()
        config.graph_options.rewrite_options.disable_meta_optimizer = True
        with v1.Session(graph=graph, config=config) as sess:
            sess.run(v1.global_variables_initializer())
            y_val = sess.run(y, {x: x_val})
            d = out / name
            if d.exists():
                shutil.rmtree(d)
            builder = v1.saved_model.Builder(str(d))
            sig = v1.saved_model.predict_signature_def({"image": x}, {"probs": y})
            builder.add_meta_graph_and_variables(sess, ["serve"], signature_def_map={"serving_default": sig})
            builder.save()
            frozen = v1.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["probs"])
    (out / f"{name}.pb").write_bytes(frozen.SerializeToString(deterministic=True))
    save_npz(out / f"{name}.npz", {"x:0": x_val, "probs:0": y_val})


class Affine(tf.Module):
    def __init__(self, rng):
        super().__init__()
        self.w = tf.Variable(rng.standard_normal((4, 3)).astype(np.float32), name="w")
        self.b = tf.Variable(rng.standard_normal((3,)).astype(np.float32), name="b")

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")])
    def __call__(self, x):
        return {"y": tf.nn.relu(tf.matmul(x, self.w) + self.b)}


def tf2_fixture(name, out, d, x_val):
    """Goldens of the SavedModel in `d` (loaded back, so they are what the directory
    computes), keyed by the signature's tensor names, plus the frozen graph and its goldens."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
    from tensorflow.core.protobuf import saved_model_pb2

    loaded = tf.saved_model.load(str(d))  # keeps the variables the function captures alive
    fn = loaded.signatures["serving_default"]
    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((d / "saved_model.pb").read_bytes())
    sig = sm.meta_graphs[0].signature_def["serving_default"]
    (in_key, in_info), = sig.inputs.items()
    golden = {in_info.name: x_val}
    results = fn(**{in_key: tf.constant(x_val)})
    for key, info in sorted(sig.outputs.items()):
        golden[info.name] = results[key].numpy()
    save_npz(out / f"{name}.npz", golden)
    frozen = convert_variables_to_constants_v2(fn)
    gd = frozen.graph.as_graph_def()
    (out / f"{name}.pb").write_bytes(gd.SerializeToString(deterministic=True))
    values = frozen(tf.constant(x_val))
    values = values if isinstance(values, (list, tuple)) else [values]
    fgolden = {frozen.inputs[0].name: x_val}
    for t, v in zip(frozen.outputs, values):
        fgolden[t.name] = v.numpy()
    save_npz(out / f"{name}.frozen.npz", fgolden)


def fresh(d):
    if d.exists():
        shutil.rmtree(d)
    return d


def tf2_module(name, out):
    rng = np.random.default_rng(seed_of(name))
    m = Affine(rng)
    d = fresh(out / name)
    tf.saved_model.save(m, str(d), signatures={"serving_default": m.__call__})
    tf2_fixture(name, out, d, rng.standard_normal((1, 4)).astype(np.float32))


def keras_sequential(name, out):
    rng = np.random.default_rng(seed_of(name))
    tf.keras.utils.set_random_seed(seed_of(name))
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(6,), batch_size=2, name="features"),
        tf.keras.layers.Dense(8, activation="relu"),
        tf.keras.layers.Dense(4, activation="tanh"),
        tf.keras.layers.Dense(3),
    ])
    d = fresh(out / name)
    model.save(str(d))
    tf2_fixture(name, out, d, rng.standard_normal((2, 6)).astype(np.float32))


def keras_cnn(name, out):
    rng = np.random.default_rng(seed_of(name))
    tf.keras.utils.set_random_seed(seed_of(name))
    L = tf.keras.layers
    x = tf.keras.Input(shape=(12, 12, 3), batch_size=1, name="image")
    h = L.Conv2D(6, 3, padding="same")(x)
    h = L.BatchNormalization()(h)
    h = L.ReLU()(h)
    h = L.MaxPooling2D()(h)
    h = L.DepthwiseConv2D(3, padding="same", activation="relu")(h)
    h = L.GlobalAveragePooling2D()(h)
    y = L.Dense(5, activation="softmax", name="probs")(h)
    model = tf.keras.Model(x, y)
    # Non-trivial batch-norm statistics, as a trained model has.
    bn = model.layers[2]
    bn.moving_mean.assign(rng.standard_normal(6).astype(np.float32) * 0.3)
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, 6).astype(np.float32))
    d = fresh(out / name)
    model.save(str(d))
    tf2_fixture(name, out, d, rng.standard_normal((1, 12, 12, 3)).astype(np.float32))


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=root / "tests" / "fixtures" / "savedmodel")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tf1_model("tf1_dense", args.out, use_resource=True)
    tf1_model("tf1_refvar", args.out, use_resource=False)
    tf2_module("tf2_module", args.out)
    keras_sequential("keras_sequential", args.out)
    keras_cnn("keras_cnn", args.out)
    for p in sorted(args.out.rglob("*")):
        if p.is_file():
            print(f"{p.stat().st_size:8d} {p.relative_to(args.out)}")


if __name__ == "__main__":
    main()
