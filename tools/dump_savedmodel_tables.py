#!/usr/bin/env python3
"""Dump the schema facts of TensorFlow's SavedModel and TensorBundle protos as field tables.

../shared/reference has tables for graph.proto and its imports only. This runs the same
dumper (`../shared/reference/dump_tables.py`, runtime descriptors, no .proto source read) on
TensorFlow's own `saved_model_pb2` (and through it `meta_graph_pb2`) and `tensor_bundle_pb2`,
and writes the tables to proto/reference/tensorflow/; `tools/gen_protos.py` turns them into
proto/savedmodel.proto. Needs TensorFlow importable (the fixtures' venv).

Usage: python3 tools/dump_savedmodel_tables.py ../shared/reference proto/reference
"""
import importlib.util
import os
import sys


class _Packed:
    """A field descriptor with `is_packed`, which TF 2.12's protobuf runtime lacks."""

    def __init__(self, f, fproto, syntax):
        self._f = f
        scalar = f.type not in (9, 12, 11, 10)  # string, bytes, message, group
        explicit = fproto.options.HasField("packed")
        self.is_packed = scalar and (fproto.options.packed if explicit else syntax == "proto3")

    def __getattr__(self, name):
        return getattr(self._f, name)


def OldRuntimeDumper(dt):
    class D(dt.Dumper):
        def label_text(self, f, fproto, syntax):
            if not hasattr(f, "is_packed") and getattr(f, "label", 0) == 3:
                f = _Packed(f, fproto, syntax)
            return super().label_text(f, fproto, syntax)
    return D()


def main():
    ref, out = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location("dump_tables", os.path.join(ref, "dump_tables.py"))
    dt = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dt)
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2, meta_graph_pb2, tensor_bundle_pb2, saved_object_graph_pb2, trackable_object_graph_pb2

    dumper = OldRuntimeDumper(dt)
    outdir = os.path.join(out, "tensorflow")
    os.makedirs(outdir, exist_ok=True)
    for mod in (saved_model_pb2, meta_graph_pb2, tensor_bundle_pb2, saved_object_graph_pb2, trackable_object_graph_pb2):
        fd = mod.DESCRIPTOR
        note = "tensorflow %s, descriptor `%s`, protobuf runtime %s" % (tf.__version__, fd.name, dt.PROTOBUF_VERSION)
        text, _ = dumper.file_markdown(fd, note)
        path = os.path.join(outdir, os.path.splitext(os.path.basename(fd.name))[0] + ".md")
        with open(path, "w") as fh:
            fh.write(text)
        print("%8d %s" % (os.path.getsize(path), path))


if __name__ == "__main__":
    main()
