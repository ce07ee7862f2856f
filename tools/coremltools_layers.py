"""Layer counts of coremltools 8.3 on frozen graphs of tests/fixtures, the reference that
`tests/convert.rs` (`layer_counts_at_most_coremltools`) and docs/performance.md hold
mlrewrite's counts against.

Each graph is converted as ../shared/corpus/coremltools was: the frozen GraphDef imported into
a concrete function (inputs and outputs of NAME.json), then
`ct.convert([fn], source="tensorflow", convert_to="neuralnetwork")`.

    /tmp/tfvenv/bin/python tools/coremltools_layers.py swish se_block ...   # -> tests/fixtures/coremltools_layers.json
    /tmp/tfvenv/bin/python tools/coremltools_layers.py --ops keras_lstm_last ...  # -> tests/fixtures/ops/coremltools_layers.json

Names already in the JSON keep their entry unless listed again. With `--ops` the fixtures are
the op fixtures of tests/fixtures/ops, and the layers of nested networks (a `loop`'s condition
and body, a `branch`'s two networks) are counted too: coremltools converts a Keras RNN into a
`loop`, and its body's layers run every step. A graph coremltools fails on is recorded with
its error instead of a count.
"""
import json
import sys
from pathlib import Path

import coremltools as ct
import tensorflow as tf

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
OUT = FIXTURES / "coremltools_layers.json"


def walk(layers, kinds, nested):
    for layer in layers:
        kind = layer.WhichOneof("layer")
        kinds[kind] = kinds.get(kind, 0) + 1
        if nested and kind == "loop":
            walk(layer.loop.conditionNetwork.layers, kinds, nested)
            walk(layer.loop.bodyNetwork.layers, kinds, nested)
        if nested and kind == "branch":
            walk(layer.branch.ifBranch.layers, kinds, nested)
            walk(layer.branch.elseBranch.layers, kinds, nested)


def count(name, fixtures=FIXTURES, nested=False):
    meta = json.loads((fixtures / f"{name}.json").read_text())
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString((fixtures / f"{name}.pb").read_bytes())
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    fn = wrapped.prune(
        [wrapped.graph.get_tensor_by_name(i["tensor"]) for i in meta["inputs"]],
        [wrapped.graph.get_tensor_by_name(o["tensor"]) for o in meta["outputs"]],
    )
    model = ct.convert([fn], source="tensorflow", convert_to="neuralnetwork")
    kinds = {}
    walk(model.get_spec().neuralNetwork.layers, kinds, nested)
    return {"layers": sum(kinds.values()), "kinds": dict(sorted(kinds.items()))}


def main():
    names = sys.argv[1:]
    ops = bool(names) and names[0] == "--ops"
    fixtures, out = (FIXTURES / "ops", FIXTURES / "ops" / "coremltools_layers.json") if ops else (FIXTURES, OUT)
    names = names[1:] if ops else names
    table = json.loads(out.read_text()) if out.exists() else {}
    for name in names:
        try:
            table[name] = count(name, fixtures, nested=ops)
        except Exception as e:  # noqa: BLE001  (recorded: coremltools' own failure)
            if not ops:
                raise
            table[name] = {"error": f"{type(e).__name__}: {e}"[:200]}
        print(name, table[name].get("layers", table[name].get("error")), flush=True)
    table = {"coremltools": ct.__version__, **{k: v for k, v in sorted(table.items()) if k != "coremltools"}}
    out.write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
