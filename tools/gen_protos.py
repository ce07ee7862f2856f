#!/usr/bin/env python3
"""Write mlrewrite's .proto files from the protobuf field tables in ../shared/reference.

The tables (one Markdown file per .proto, produced by walking protobuf descriptors) list
message and enum names, field names, numbers, types, labels and oneofs: schema facts. This
script turns the subset of them that mlrewrite reads and writes into .proto text, so that
the schema we compile is exactly the one the real files use (a `.mlmodel` then round-trips
byte for byte, since prost drops fields it does not know).

Usage: python3 tools/gen_protos.py ../shared/reference proto/
"""
import re
import sys
from pathlib import Path

SCALARS = {
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
    "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
}
PACKABLE = SCALARS - {"string", "bytes"}

# (output file, package, [reference tables], messages to keep (None = all), header comment)
CORE_ML = ["DataStructures", "FeatureTypes", "Parameters", "NeuralNetwork", "Model"]
TENSORFLOW = ["types", "tensor_shape", "resource_handle", "tensor", "attr_value",
              "node_def", "versions", "function", "op_def", "full_type", "graph"]
SAVED_MODEL = ["saved_model", "meta_graph", "tensor_bundle", "saved_object_graph", "trackable_object_graph"]


def parse_table(path):
    """Return (package, enums, messages) of one reference table file.

    enums: {full_name: [(name, number)]}; messages: {full_name: [field dict]}.
    """
    text = Path(path).read_text()
    pkg = re.search(r"- package: `([^`]+)`", text).group(1)
    if pkg == "tensorboard":
        pkg = "tensorflow"
    enums, messages = {}, {}
    current, kind = None, None
    for line in text.splitlines():
        m = re.match(r"### (enum|message) `([^`]+)`", line)
        if m:
            kind, current = m.group(1), m.group(2)
            (enums if kind == "enum" else messages)[current] = []
            continue
        if current is None or not line.startswith("| ") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        # Header rows (`| field | number |`, `| name | number |`) have no number; a field
        # or enum value may itself be called `name`, so test the number column, not the text.
        if len(cells) < 2 or not re.fullmatch(r"-?\d+", cells[1]):
            continue
        if kind == "enum":
            enums[current].append((cells[0], int(cells[1])))
        else:
            name, number, typ, label = cells[0], int(cells[1]), cells[2], cells[3]
            oneof = cells[4] if len(cells) > 4 else ""
            messages[current].append(dict(name=name, number=number, type=typ,
                                          label=label, oneof=oneof))
    return pkg, enums, messages


def proto_type(typ, pkg):
    """Field type as written in .proto (relative to the package), or None if a map."""
    m = re.match(r"(msg|enum) `([^`]+)`", typ)
    if m:
        full = m.group(2)
        return "." + full  # fully qualified: always unambiguous
    if typ.startswith("map<"):
        inner = typ[4:-1]
        k, v = [p.strip() for p in inner.split(",", 1)]
        return f"map<{proto_type(k, pkg)}, {proto_type(v, pkg)}>"
    assert typ in SCALARS, typ
    return typ


def referenced(typ):
    return re.findall(r"`([^`]+)`", typ)


def build_tree(pkg, enums, messages):
    """Nest messages and enums under their parents by full name."""
    tree = {"children": {}, "kind": "package"}
    for full in sorted(set(enums) | set(messages), key=lambda n: (n.count("."), n)):
        rel = full[len(pkg) + 1:].split(".")
        node = tree
        for part in rel[:-1]:
            node = node["children"].setdefault(part, {"children": {}, "kind": "message", "fields": []})
        entry = node["children"].setdefault(rel[-1], {"children": {}})
        if full in enums:
            entry.update(kind="enum", values=enums[full])
        else:
            entry.update(kind="message", fields=messages[full])
    return tree


def emit(name, node, pkg, known, out, indent=""):
    if node["kind"] == "enum":
        out.append(f"{indent}enum {name} {{")
        if node["values"] and node["values"][0][1] != 0:
            out.append(f"{indent}  option allow_alias = true;")
        for v, n in node["values"]:
            out.append(f"{indent}  {v} = {n};")
        out.append(f"{indent}}}")
        return
    out.append(f"{indent}message {name} {{")
    for cname, child in node["children"].items():
        emit(cname, child, pkg, known, out, indent + "  ")
    oneofs = {}
    plain = []
    for f in node["fields"]:
        if any(r not in known for r in referenced(f["type"])):
            continue  # a type outside the subset we compile: leave the field out
        if f["oneof"]:
            oneofs.setdefault(f["oneof"], []).append(f)
        else:
            plain.append(f)
    for f in plain:
        typ = proto_type(f["type"], pkg)
        label = f["label"]
        opts = []
        if "deprecated" in label:
            opts.append("deprecated = true")
        prefix = ""
        if label.startswith("repeated"):
            prefix = "repeated "
            base = f["type"]
            if base in PACKABLE and "packed" not in label:
                opts.append("packed = false")
        elif label.startswith("optional"):
            prefix = "optional "
        o = f" [{', '.join(opts)}]" if opts else ""
        out.append(f"{indent}  {prefix}{typ} {f['name']} = {f['number']}{o};")
    for oname, fields in oneofs.items():
        out.append(f"{indent}  oneof {oname} {{")
        for f in fields:
            out.append(f"{indent}    {proto_type(f['type'], pkg)} {f['name']} = {f['number']};")
        out.append(f"{indent}  }}")
    out.append(f"{indent}}}")


def read_tables(ref, files, sub):
    pkg = None
    enums, messages = {}, {}
    for f in files:
        p, e, m = parse_table(Path(ref) / sub / f"{f}.md")
        pkg = pkg or p
        enums.update(e)
        messages.update(m)
    return pkg, enums, messages


def write_bundle(ref, files, sub, out_path, syntax="proto3", imports=(), where="../shared/reference"):
    """Write the messages of `files`; `imports` are (.proto file, [tables]) whose types the
    fields may reference (they are imported, not repeated)."""
    pkg, enums, messages = read_tables(ref, files, sub)
    known = set(enums) | set(messages)
    for _, (iref, ifiles, isub) in imports:
        _, e, m = read_tables(iref, ifiles, isub)
        known |= set(e) | set(m)
    tree = build_tree(pkg, enums, messages)
    out = [
        f"// Generated by tools/gen_protos.py from the field tables in {where}/"
        f"{sub}/ ({', '.join(files)}).",
        "// Do not edit by hand: regenerate. Fields whose type lies outside this subset are omitted.",
        f'syntax = "{syntax}";',
        f"package {pkg};",
        "",
    ]
    for proto_file, _ in imports:
        out += [f'import "{proto_file}";', ""]
    for name, node in tree["children"].items():
        emit(name, node, pkg, known, out)
        out.append("")
    Path(out_path).write_text("\n".join(out))


def main():
    ref, dest = sys.argv[1], Path(sys.argv[2])
    dest.mkdir(parents=True, exist_ok=True)
    write_bundle(ref, CORE_ML, "coreml", dest / "coreml.proto")
    write_bundle(ref, TENSORFLOW, "tensorflow", dest / "tensorflow.proto")
    # SavedModel and TensorBundle: their tables are dumped into proto/reference by
    # tools/dump_savedmodel_tables.py (../shared/reference covers graph.proto only).
    write_bundle(dest / "reference", SAVED_MODEL, "tensorflow", dest / "savedmodel.proto",
                 imports=[("tensorflow.proto", (ref, TENSORFLOW, "tensorflow"))], where="proto/reference")


if __name__ == "__main__":
    main()
