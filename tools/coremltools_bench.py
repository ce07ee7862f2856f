"""coremltools 8.3's time and layer count on the generated bench models (issue 14), the
reference docs/performance.md sets mlrewrite's figures against.

    /tmp/tfvenv/bin/python tools/coremltools_bench.py [--dir DIR] [NAME ...]

Each DIR/NAME.pb (tools/make_bench_models.py; DIR defaults to target/bench-models) is converted
as ../shared/corpus/coremltools converted the corpus: the frozen GraphDef imported into a
concrete function pruned to its input and outputs (the tensor names of DIR/NAME.npz, the
first being the input), then `ct.convert([fn], source="tensorflow",
convert_to="neuralnetwork")`. The time covers `ct.convert` only (graph import and pruning are
outside it, as in the corpus' results.jsonl). One JSON line per model is appended to
DIR/coremltools.jsonl: name, seconds, layers, kinds, and the machine's load average.
"""
import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import coremltools as ct
import tensorflow as tf

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "target" / "bench-models"


def convert(pb, npz):
    names = list(np.load(npz).keys())
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    fn = wrapped.prune(
        [wrapped.graph.get_tensor_by_name(names[0])],
        [wrapped.graph.get_tensor_by_name(n) for n in names[1:]],
    )
    start = time.perf_counter()
    model = ct.convert([fn], source="tensorflow", convert_to="neuralnetwork")
    seconds = time.perf_counter() - start
    kinds = {}
    for layer in model.get_spec().neuralNetwork.layers:
        kind = layer.WhichOneof("layer")
        kinds[kind] = kinds.get(kind, 0) + 1
    return seconds, kinds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default=str(DEFAULT_DIR))
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    out = Path(args.dir)
    names = args.names or sorted(p.stem for p in out.glob("*.pb"))
    for name in names:
        load = os.getloadavg()[0]
        seconds, kinds = convert(out / f"{name}.pb", out / f"{name}.npz")
        row = {"name": name, "coremltools": ct.__version__, "seconds": round(seconds, 3),
               "layers": sum(kinds.values()), "kinds": dict(sorted(kinds.items())), "load": round(load, 2)}
        with open(out / "coremltools.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
