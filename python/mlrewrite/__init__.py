"""mlrewrite from Python: TensorFlow graphs, SavedModels and (when TensorFlow is importable)
tf.functions and Keras models to Core ML Neural Network models.

    import mlrewrite
    model = mlrewrite.convert("saved_model_dir")     # or "model.pb", GraphDef bytes, a Keras model
    model.save("model.mlmodel")
    report = mlrewrite.explain("model.pb")           # the `explain --format json` report
    outputs = mlrewrite.run(model, {"input": x})     # the reference interpreter (`mlrewrite run`)

The conversion is the compiled converter itself (the same code and the same embedded standard
rules as the `mlrewrite` command line); errors raise `ConversionError` with the CLI's message.
TensorFlow is only needed to freeze TensorFlow objects, which is done with TensorFlow's own
`convert_variables_to_constants_v2`.
"""
import json
import os

from . import _native
from ._native import ConversionError

__all__ = ["convert", "explain", "run", "MLModel", "ConversionError"]
__version__ = _native.__version__


class MLModel:
    """A converted model: `bytes(model)` or `model.mlmodel` is the `.mlmodel` file's content.

    `layers` counts the layers by kind; `inputs` and `outputs` name the model's features (the
    TensorFlow tensors they stand for)."""

    def __init__(self, mlmodel, layers, inputs, outputs):
        self.mlmodel = mlmodel
        self.layers = dict(layers)
        self.inputs = list(inputs)
        self.outputs = list(outputs)

    def __bytes__(self):
        return self.mlmodel

    def save(self, path):
        """Writes the `.mlmodel` to `path` (through a temporary file, so a failure never leaves
        a half-written model)."""
        path = os.fspath(path)
        tmp = path + ".tmp-mlrewrite"
        with open(tmp, "wb") as f:
            f.write(self.mlmodel)
        os.replace(tmp, path)
        return path

    def __repr__(self):
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.layers.items()))
        return f"<mlrewrite.MLModel {len(self.mlmodel)} bytes, {sum(self.layers.values())} layers: {kinds}>"


def _rules(rules):
    if rules is None:
        return []
    if isinstance(rules, (str, os.PathLike)):
        return [os.fspath(rules)]
    return [os.fspath(r) for r in rules]


def _outputs(outputs):
    if outputs is None:
        return []
    if isinstance(outputs, str):
        return [o for o in outputs.split(",") if o]
    return list(outputs)


def _frozen_graph_def(model, input_signature):
    """A TensorFlow object frozen by TensorFlow's own API, as serialized GraphDef bytes and a
    name for messages; None when `model` is not a TensorFlow object."""
    try:
        import tensorflow as tf
    except ImportError:
        return None
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    if isinstance(model, tf.keras.Model):
        specs = input_signature or [tf.TensorSpec(t.shape, t.dtype, name=t.name.split(":")[0]) for t in model.inputs]
        fn = tf.function(lambda *xs: model(xs[0] if len(xs) == 1 else list(xs), training=False))
        concrete = fn.get_concrete_function(*specs)
        name = f"<Keras model {model.name}>"
    elif isinstance(model, tf.types.experimental.ConcreteFunction):
        concrete, name = model, f"<concrete function {model.name}>"
    elif isinstance(model, tf.types.experimental.GenericFunction):
        concrete = model.get_concrete_function(*input_signature) if input_signature else model.get_concrete_function()
        name = f"<tf.function {getattr(model, '__name__', 'function')}>"
    else:
        return None
    # Control flow stays in the function library (mlrewrite inlines it); the lowered TF1
    # Switch/Merge frames are not supported.
    frozen = convert_variables_to_constants_v2(concrete, lower_control_flow=False)
    return frozen.graph.as_graph_def().SerializeToString(), name


def _graph_def_bytes(model, input_signature):
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model), "<GraphDef bytes>"
    if hasattr(model, "SerializeToString") and hasattr(model, "node"):
        return model.SerializeToString(), "<GraphDef>"
    frozen = _frozen_graph_def(model, input_signature)
    if frozen is None:
        raise TypeError(
            "mlrewrite.convert takes a path to a .pb or SavedModel directory, GraphDef bytes, "
            f"or (with TensorFlow installed) a Keras model, tf.function or concrete function; got {type(model).__name__}"
        )
    return frozen


def _class_labels(labels):
    """(path, text) for the native layer: a labels file as `--class-labels FILE`, or a list of
    labels as the lines of such a file (so integer-looking labels become integer labels, as
    with the CLI)."""
    if labels is None:
        return None, None
    if isinstance(labels, (str, os.PathLike)):
        return os.fspath(labels), None
    lines = [str(label) for label in labels]
    for label in lines:
        if "\n" in label or "\r" in label:
            raise ValueError(f"class label {label!r} contains a line break")
    return None, "\n".join(lines)


def _bias(bias):
    if bias is None:
        return None
    if isinstance(bias, (int, float)):
        return [float(bias)]
    return [float(b) for b in bias]


def convert(model, rules=None, outputs=None, fp16_weights=False, signature=None, target=None,
            no_std_rules=False, input_signature=None, author=None, license=None, version=None,
            description=None, input_descriptions=None, output_descriptions=None,
            image_input=None, scale=None, bias=None, bgr=False, class_labels=None,
            probabilities_output=None):
    """Converts `model` to Core ML, as `mlrewrite convert` does, and returns an `MLModel`.

    model: a path (str or os.PathLike) to a frozen `.pb` or a SavedModel directory; serialized
        `GraphDef` bytes or a `GraphDef` message; or a Keras model, `tf.function` or concrete
        function (frozen with TensorFlow's `convert_variables_to_constants_v2`).
    rules: extra rule files or directories on top of the standard rules (`--rules`).
    outputs: extra outputs, TF tensor names (`--outputs`), a list or a comma-separated string.
    fp16_weights: store float weights as float16 (`--fp16-weights`).
    signature: the SavedModel signature (`--signature`, default `serving_default`).
    target: Core ML specification version 4 to 9 (`--target`).
    no_std_rules: use only `rules` (`--no-std-rules`).
    input_signature: `tf.TensorSpec`s for a Keras model or tf.function without one.
    author, license, version, description: the model's Core ML metadata (`--author` ...).
    input_descriptions, output_descriptions: {feature name: text} (`--input-description` ...).
    image_input: make this input (a fixed `[1, H, W, C]` float input) an image input, as
        `ct.ImageType` does (`--image-input`): RGB (BGR with `bgr=True`) for 3 channels,
        grayscale for 1; Core ML computes `scale * pixel + bias[channel]` first.
    scale: the factor applied to every pixel value (`--scale`, default 1).
    bias: per-channel bias added after scaling, in the layout's channel order (R,G,B; with
        `bgr` B,G,R; one value for grayscale) (`--bias`).
    bgr: the network reads its channels in BGR order (`--bgr`).
    class_labels: make the model a classifier, as `ct.ClassifierConfig` does
        (`--class-labels`): a path to a file of one label per line, or a list of labels;
        integer labels when every label is an integer. Core ML then returns `classLabel` and
        the probabilities by label.
    probabilities_output: with `class_labels`, the output holding the probabilities
        (`--probabilities-output`; default: the single output).

    The conversion releases the GIL: other Python threads run while it works.
    """
    rules, outputs = _rules(rules), _outputs(outputs)
    fields = {"author": author, "license": license, "version": version, "description": description}
    meta = {k: str(v) for k, v in fields.items() if v is not None}
    labels_path, labels_text = _class_labels(class_labels)
    app = dict(metadata=meta, input_descriptions=input_descriptions, output_descriptions=output_descriptions,
               image_input=image_input, scale=None if scale is None else float(scale), bias=_bias(bias), bgr=bool(bgr),
               class_labels_path=labels_path, class_labels_text=labels_text, probabilities_output=probabilities_output)
    if isinstance(model, (str, os.PathLike)):
        result = _native.convert_path(os.fspath(model), rules, no_std_rules, outputs, fp16_weights, signature, target, **app)
    else:
        data, name = _graph_def_bytes(model, input_signature)
        result = _native.convert_graphdef(data, name, rules, no_std_rules, outputs, fp16_weights, target, **app)
    return MLModel(*result)


def run(model, inputs=None, images=None, rules=None, no_std_rules=False):
    """Runs a converted model with mlrewrite's reference interpreter, as `mlrewrite run` does,
    and returns {output name: numpy float32 array}; for a classifier also the predicted label
    under the predicted feature's name (`classLabel`). Needs numpy.

    model: an `MLModel`, `.mlmodel` bytes, or a path to a `.mlmodel`.
    inputs: {input name: array} (a name may carry TensorFlow's `:0`), or a path to an `.npz`
        of them (`--inputs`). An image input takes pixel values `[C,H,W]` or `[H,W,C]`.
    images: {image input name: path to a PNG} (`--image NAME=FILE.png`): 8-bit RGB, RGBA or
        grayscale of exactly the input's size, reordered for a BGR input.
    rules, no_std_rules: the rules whose `reference` runs a custom layer (`--rules`).
    """
    import numpy as np

    if isinstance(model, MLModel):
        data, name = model.mlmodel, "<MLModel>"
    elif isinstance(model, (bytes, bytearray, memoryview)):
        data, name = bytes(model), "<mlmodel bytes>"
    else:
        path = os.fspath(model)
        with open(path, "rb") as f:
            data, name = f.read(), path
    if isinstance(inputs, (str, os.PathLike)):
        with np.load(os.fspath(inputs)) as npz:
            inputs = {k: npz[k] for k in npz.files}
    raw = {}
    for key, value in (inputs or {}).items():
        a = np.ascontiguousarray(np.asarray(value, dtype="<f4"))
        raw[key] = (list(a.shape), a.tobytes())
    pngs = {k: os.fspath(v) for k, v in (images or {}).items()}
    outputs, predicted = _native.run(data, raw, pngs, name, _rules(rules), no_std_rules)
    result = {k: np.frombuffer(b, dtype="<f4").reshape(shape).copy() for k, (shape, b) in outputs.items()}
    if predicted is not None:
        feature, label = predicted
        result[feature] = label
    return result


def explain(model, rules=None, outputs=None, signature=None, no_std_rules=False, input_signature=None):
    """Why each custom layer of `model`'s conversion exists, as `mlrewrite explain --format
    json` reports it (docs/explain.md), as Python dicts and lists. `model` is as for
    `convert`."""
    rules, outputs = _rules(rules), _outputs(outputs)
    if isinstance(model, (str, os.PathLike)):
        text = _native.explain_path(os.fspath(model), rules, no_std_rules, outputs, signature)
    else:
        data, name = _graph_def_bytes(model, input_signature)
        text = _native.explain_graphdef(data, name, rules, no_std_rules, outputs)
    return json.loads(text)
