"""Layer counts of coremltools 8.3 on frozen graphs of tests/fixtures, the reference that
`tests/convert.rs` (`layer_counts_at_most_coremltools`) and docs/performance.md hold
mlrewrite's counts against.

Each graph is converted as ../shared/corpus/coremltools was: the frozen GraphDef imported into
a concrete function (inputs and outputs of NAME.json), then
`ct.convert([fn], source="tensorflow", convert_to="neuralnetwork")`.

    /tmp/tfvenv/bin/python tools/coremltools_layers.py swish se_block ...   # -> tests/fixtures/coremltools_layers.json

Names already in the JSON keep their entry unless listed again.
"""
import json
import sys
from pathlib import Path

import coremltools as ct
import tensorflow as tf

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
OUT = FIXTURES / "coremltools_layers.json"


def count(name):
    meta = json.loads((FIXTURES / f"{name}.json").read_text())
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString((FIXTURES / f"{name}.pb").read_bytes())
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    fn = wrapped.prune(
        [wrapped.graph.get_tensor_by_name(i["tensor"]) for i in meta["inputs"]],
        [wrapped.graph.get_tensor_by_name(o["tensor"]) for o in meta["outputs"]],
    )
    model = ct.convert([fn], source="tensorflow", convert_to="neuralnetwork")
    kinds = {}
    for layer in model.get_spec().neuralNetwork.layers:
        kind = layer.WhichOneof("layer")
        kinds[kind] = kinds.get(kind, 0) + 1
    return {"layers": sum(kinds.values()), "kinds": dict(sorted(kinds.items()))}


def main():
    table = json.loads(OUT.read_text()) if OUT.exists() else {}
    for name in sys.argv[1:]:
        table[name] = count(name)
        print(name, table[name]["layers"], flush=True)
    table = {"coremltools": ct.__version__, **{k: v for k, v in sorted(table.items()) if k != "coremltools"}}
    OUT.write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
