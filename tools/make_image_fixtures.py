#!/usr/bin/env python3
"""Write the image-input fixtures of tests/fixtures/image/ with TensorFlow 2.12.1.

Each NAME is a small Keras classifier over an image, frozen by TensorFlow's
`convert_variables_to_constants_v2` (input placeholder `image`, output `Identity`), with:
- `NAME.pb`          the frozen graph;
- `NAME.png`         8-bit pixels written by `tf.io.encode_png` (RGB, or grayscale);
- `NAME.npz`         `image:0`, the float input TensorFlow saw (the PNG's pixels preprocessed
                     as `convert --image-input` is told to: channel order, `scale * p + bias`),
                     and `Identity:0`, TensorFlow's probabilities;
- `NAME.labels.txt`  one class label per line;
- `NAME.json`        the `convert` flags that describe the preprocessing.

`rgb` also has `rgb.rgba.png`: the same pixels with a random alpha channel, which Core ML
ignores. `bgr` is a network that reads its channels in BGR order (Caffe-style means), fed
from the RGB PNG reversed.

Usage: /tmp/tfvenv/bin/python tools/make_image_fixtures.py [--out tests/fixtures/image]
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_io import save_json, save_npz, seed_of  # noqa: E402

SIZE = 16
LABELS = ["cat", "dog", "bird", "fish", "horse"]


def classifier(name, channels):
    tf.keras.utils.set_random_seed(seed_of(name))
    L = tf.keras.layers
    x = tf.keras.Input(shape=(SIZE, SIZE, channels), batch_size=1, name="image")
    h = L.Conv2D(6, 3, activation="relu")(x)
    h = L.MaxPooling2D()(h)
    h = L.Conv2D(8, 3, activation="relu")(h)
    h = L.GlobalAveragePooling2D()(h)
    y = L.Dense(len(LABELS), activation="softmax", name="probs")(h)
    return tf.keras.Model(x, y)


def freeze(model):
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec(model.inputs[0].shape, tf.float32, name="image")
    fn = tf.function(lambda image: model(image, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(fn)
    assert [t.name for t in frozen.inputs] == ["image:0"] and [t.name for t in frozen.outputs] == ["Identity:0"]
    return frozen


def fixture(name, out, channels, scale, bias, bgr, rgba=False):
    rng = np.random.default_rng(seed_of(name))
    pixels = rng.integers(0, 256, (SIZE, SIZE, 3 if channels == 3 else 1), dtype=np.uint8)
    ordered = pixels[..., ::-1] if bgr else pixels
    x = (np.float32(scale) * ordered.astype(np.float32) + np.asarray(bias, np.float32))[None]
    model = classifier(name, channels)
    frozen = freeze(model)
    probs = frozen(tf.constant(x))
    probs = (probs[0] if isinstance(probs, (list, tuple)) else probs).numpy()
    np.testing.assert_allclose(probs, model(x, training=False).numpy(), rtol=1e-6, atol=1e-7)
    (out / f"{name}.pb").write_bytes(frozen.graph.as_graph_def().SerializeToString(deterministic=True))
    (out / f"{name}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    if rgba:
        alpha = rng.integers(0, 256, (SIZE, SIZE, 1), dtype=np.uint8)
        (out / f"{name}.rgba.png").write_bytes(tf.io.encode_png(np.concatenate([pixels, alpha], -1)).numpy())
    save_npz(out / f"{name}.npz", {"image:0": x, "Identity:0": probs})
    (out / f"{name}.labels.txt").write_text("".join(f"{label}\n" for label in LABELS))
    flags = ["--image-input", "image", "--scale", repr(float(scale)), "--bias", ",".join(repr(float(b)) for b in bias)]
    save_json(out / f"{name}.json", {"convert": flags + (["--bgr"] if bgr else []), "label": LABELS[int(probs.argmax())]})


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=root / "tests" / "fixtures" / "image")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # MobileNet-style [-1, 1] inputs.
    fixture("rgb", args.out, 3, 1 / 127.5, [-1.0, -1.0, -1.0], bgr=False, rgba=True)
    fixture("gray", args.out, 1, 1 / 255, [0.0], bgr=False)
    # Caffe/VGG-style: BGR channel order, per-channel means subtracted (in B,G,R order).
    fixture("bgr", args.out, 3, 0.017, [-103.939 * 0.017, -116.779 * 0.017, -123.68 * 0.017], bgr=True)
    for p in sorted(args.out.iterdir()):
        print(f"{p.stat().st_size:8d} {p.name}")


if __name__ == "__main__":
    main()
