#!/usr/bin/env python3
"""Generate the single-op fixtures of the differential test: tests/fixtures/ops/NAME.{pb,npz,json}.

Cases live in tools/op_fixtures/*.py, one module per op family (see its __init__). Files are
written exactly like tools/make_fixtures.py's (same freezing, goldens from the frozen graph,
deterministic bytes); the JSON also carries `refused` for cases the rules must refuse and
`compare: "distribution"` for random ops (outputs compared as samples of one distribution).

A case whose input specs carry a fifth element (a second value per input, of another size:
`op_fixtures.dynamic.flex`) gets a second golden set, NAME.2.npz (inputs and outputs only),
computed by the same frozen graph; its JSON lists the second set's shapes under `second`, or
under `second_values` when only the values differ (a cond's predicate taking its other value).

Usage: /tmp/tfvenv/bin/python tools/make_op_fixtures.py [--out tests/fixtures/ops] [--only NAME ...]
       [--family MODULE ...]
"""
import argparse
import importlib
import json
import pkgutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures  # noqa: E402  (TensorFlow setup, freezing and writing)
import op_fixtures  # noqa: E402
from fixture_io import save_json, save_npz, seed_of  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def write_with_reference(name, description, fn, specs, reference, out_dir):
    """A graph TF's CPU cannot run (NCHW Conv2D, MaxPool...): the frozen graph of `fn` is the
    fixture, its goldens are what TF computes for `reference`, the same function written with
    kernels the CPU has (NHWC between transposes). Both graphs are frozen from functions of the
    same inputs, so their input and output tensor names agree; inner probes are dropped (the
    reference's inner tensors are not the fixture's).

    A `fn` with a `rewrite_graph_def` attribute has its frozen GraphDef passed through it: how a
    fixture holds an op TensorFlow 2 can no longer build (TopK v1), written from the graph of an
    equivalent op that `reference` runs."""
    graph_def, input_names, output_names, _ = make_fixtures.freeze(fn, specs)
    rewrite = getattr(fn, "rewrite_graph_def", None)
    if rewrite is not None:
        rewrite(graph_def)
    with tempfile.TemporaryDirectory() as tmp:
        meta, _ = make_fixtures.write_fixture(name, description, reference, specs, Path(tmp))
        goldens = dict(np.load(Path(tmp) / f"{name}.npz"))
    want = [t["tensor"] for t in meta["inputs"] + meta["outputs"]]
    if want != input_names + output_names:
        raise ValueError(f"{name}: reference tensors {want} differ from {input_names + output_names}")
    pb = graph_def.SerializeToString(deterministic=True)
    (out_dir / f"{name}.pb").write_bytes(pb)
    save_npz(out_dir / f"{name}.npz", {n: goldens[n] for n in want})
    ops = Counter(n.op for n in graph_def.node)
    goldens = ("TensorFlow, from the graph before its GraphDef was rewritten (TensorFlow 2 cannot build it)"
               if rewrite is not None else "TensorFlow, from the NHWC reference graph (the CPU has no kernel for this graph)")
    meta.update(nodes=len(graph_def.node), ops=dict(sorted(ops.items())), bytes=len(pb), probes=[], goldens=goldens)
    save_json(out_dir / f"{name}.json", meta)
    return meta, sum((out_dir / f"{name}.{e}").stat().st_size for e in ("pb", "npz", "json"))


def write_second_set(name, description, fn, specs, out_dir, meta):
    """The goldens of the same graph at the second input sizes: NAME.2.npz. The graph is frozen
    again from the same function and specs (the same bytes), so its tensor names agree."""
    specs2 = [(n, shape, dtype, v2) for n, shape, dtype, _, v2 in specs]
    if all(np.shape(v2) == np.shape(v) for _, _, _, v, v2 in specs):
        return write_second_values(name, specs2, out_dir, meta)
    with tempfile.TemporaryDirectory() as tmp:
        meta2, _ = make_fixtures.write_fixture(name, description, fn, specs2, Path(tmp))
        if (Path(tmp) / f"{name}.pb").read_bytes() != (out_dir / f"{name}.pb").read_bytes():
            raise ValueError(f"{name}: the graph frozen for the second input set differs")
        goldens = dict(np.load(Path(tmp) / f"{name}.npz"))
    keep = [t["tensor"] for t in meta2["inputs"] + meta2["outputs"]]
    save_npz(out_dir / f"{name}.2.npz", {n: goldens[n] for n in keep})
    meta["second"] = {"inputs": meta2["inputs"], "outputs": meta2["outputs"]}
    return (out_dir / f"{name}.2.npz").stat().st_size


def write_second_values(name, specs2, out_dir, meta):
    """Other values of the same shapes (a cond's predicate taking its other value): the written
    NAME.pb itself is run on them (freezing again would rename its functions). The JSON lists
    them under `second_values`, which the run-time shape test (other sizes) leaves out; the
    differential test runs every NAME.2.npz."""
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString((out_dir / f"{name}.pb").read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    ins = [t["tensor"] for t in meta["inputs"]]
    outs = [t["tensor"] for t in meta["outputs"]]
    with tf.compat.v1.Session(graph=graph) as sess:
        values = sess.run(outs, feed_dict={graph.get_tensor_by_name(n): v for n, (_, _, _, v) in zip(ins, specs2)})
    arrays = {n: np.asarray(v) for n, (_, _, _, v) in zip(ins, specs2)}
    arrays.update({n: np.asarray(v) for n, v in zip(outs, values)})
    save_npz(out_dir / f"{name}.2.npz", arrays)
    meta["second_values"] = {"inputs": [dict(t) for t in meta["inputs"]],
                             "outputs": [dict(t, shape=list(arrays[t["tensor"]].shape)) for t in meta["outputs"]]}
    return (out_dir / f"{name}.2.npz").stat().st_size


def main():
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=root / "tests" / "fixtures" / "ops")
    ap.add_argument("--only", nargs="*", help="case names to regenerate (default: all)")
    ap.add_argument("--family", nargs="*", help="family modules to load (default: all)")
    args = ap.parse_args()

    for m in pkgutil.iter_modules(op_fixtures.__path__):
        if not args.family or m.name in args.family:
            importlib.import_module(f"op_fixtures.{m.name}")

    rows = []
    for name, (description, build, refused) in sorted(op_fixtures.CASES.items()):
        if args.only and name not in args.only:
            continue
        tf.keras.backend.clear_session()
        rng = np.random.default_rng(seed_of(name))
        built = build(rng)
        if len(built) == 3:
            meta, size = write_with_reference(name, description, *built, args.out)
        else:
            fn, specs = built
            second = any(len(s) == 5 for s in specs)
            first = [s[:4] for s in specs]
            meta, size = make_fixtures.write_fixture(name, description, fn, first, args.out,
                                                     name not in op_fixtures.KEEP_CONTROL_FLOW)
            if second:
                size += write_second_set(name, description, fn, specs, args.out, meta)
        # The per-tensor table is for import tests; single-op cases only need the summary.
        meta.pop("tensors", None)
        if refused is not None:
            meta["refused"] = refused
        if name in op_fixtures.COMPARE:
            meta["compare"] = op_fixtures.COMPARE[name]
        save_json(args.out / f"{name}.json", meta)
        rows.append((name, meta["nodes"], size))
    w = max((len(r[0]) for r in rows), default=4)
    for name, nodes, size in rows:
        print(f"{name:<{w}}  {nodes:4d} nodes  {size:6d} bytes")
    print(f"{len(rows)} cases")


if __name__ == "__main__":
    main()
