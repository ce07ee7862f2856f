#!/usr/bin/env python3
"""Turn ../shared/reference/tensorflow/ops.md (TensorFlow 2.12.1 OpDefs as Markdown) into
src/ir/opdefs.json, the compact table embedded in the crate (`ir::opdefs`).

Why a generator: the crate must not read ../shared at run time, and the OpDefs are facts of
TensorFlow, not something to retype by hand. Run from the repository root:

    python3 tools/gen_opdefs.py [path/to/ops.md] [out.json]

Output (one op per line so diffs stay readable):
    {"ops": [{"name", "ct", "inputs", "outputs", "attrs", "flags"}, ...],
     "without_opdef": [{"name", "note"}, ...]}
An argument is {"name", "type" (type attr name or fixed DT_*), "number_attr"?, "type_list_attr"?,
"is_ref"?}. An attr is {"name", "kind", "minimum"?, "default"?, "allowed"?}; a default is typed:
{"i": 3}, {"f": 0.5}, {"b": true}, {"s": "NHWC"}, {"type": "DT_INT32"}, {"shape": null} (unknown
rank) or {"shape": [dims]}, {"list": {"i": [...]}} (also "f", "s", "type", "shape", "b").
"""
import json
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/tensorflow/ops.md"
OUT = sys.argv[2] if len(sys.argv) > 2 else "src/ir/opdefs.json"

ARG = re.compile(r"`([^`]+)`: (.+)")
ATTR = re.compile(r"`([^`]+)`: (list\([a-z]+\)|[a-z]+)(.*)")


def split_top(text, sep):
    """Splits on `sep` outside brackets and quotes."""
    parts, depth, quote, cur = [], 0, False, ""
    for ch in text:
        if ch == '"':
            quote = not quote
        elif not quote and ch in "[(":
            depth += 1
        elif not quote and ch in "])":
            depth -= 1
        if ch == sep and depth == 0 and not quote:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


def parse_arg(text):
    m = ARG.fullmatch(text.strip())
    if not m:
        raise ValueError(f"bad argument: {text!r}")
    name, ty = m.group(1), m.group(2).strip()
    arg = {"name": name}
    if ty.endswith("(ref)"):
        arg["is_ref"] = True
        ty = ty[: -len("(ref)")].strip()
    if ty.startswith("list(") and ty.endswith(")"):
        arg["type_list_attr"] = ty[5:-1]
    elif "×" in ty:
        number, elem = ty.split("×")
        arg["number_attr"] = number
        arg["type"] = elem
    else:
        arg["type"] = ty
    return arg


def parse_args(text):
    text = text.strip()
    if text == "none":
        return []
    return [parse_arg(a) for a in split_top(text, ",")]


def scalar_value(kind, raw):
    raw = raw.strip()
    if kind == "int":
        return {"i": int(raw)}
    if kind == "float":
        return {"f": float(raw)}
    if kind == "bool":
        return {"b": {"true": True, "false": False}[raw]}
    if kind == "string":
        return {"s": json.loads(raw)}
    if kind == "type":
        return {"type": raw}
    if kind == "shape":
        if raw == "<unknown rank>":
            return {"shape": None}
        return {"shape": json.loads(raw)}
    raise ValueError(f"no default syntax for kind {kind}: {raw!r}")


def parse_default(kind, raw):
    if kind.startswith("list("):
        elem = kind[5:-1]
        raw = raw.strip()
        assert raw.startswith("[") and raw.endswith("]"), raw
        items = split_top(raw[1:-1], ",")
        key = {"int": "i", "float": "f", "bool": "b", "string": "s", "type": "type", "shape": "shape"}[elem]
        return {"list": {key: [scalar_value(elem, it)[key] for it in items]}}
    return scalar_value(kind, raw)


def parse_attr(text):
    m = ATTR.fullmatch(text.strip())
    if not m:
        raise ValueError(f"bad attr: {text!r}")
    name, kind, rest = m.group(1), m.group(2), m.group(3)
    attr = {"name": name, "kind": kind}
    allowed = None
    if "∈" in rest:
        rest, allowed = rest.split("∈", 1)
        allowed = [a.strip().strip('"') for a in split_top(allowed.strip()[1:-1], ",")]
    rest = rest.strip()
    m = re.match(r"≥(-?\d+)\s*(.*)", rest)
    if m:
        attr["minimum"] = int(m.group(1))
        rest = m.group(2).strip()
    if rest.startswith("="):
        attr["default"] = parse_default(kind, rest[1:])
    elif rest:
        raise ValueError(f"unparsed attr tail {rest!r} in {text!r}")
    if allowed is not None:
        attr["allowed"] = allowed
    return attr


def main():
    ops, without, cur = [], [], None
    in_without = False
    for line in open(SRC, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("## "):
            title = line[3:].strip()
            if title == "Names without an OpDef":
                in_without = True
                cur = None
                continue
            ct = title.endswith("[ct]")
            name = title[: -len("[ct]")].strip() if ct else title
            cur = {"name": name, "ct": ct, "inputs": [], "outputs": [], "attrs": [], "flags": []}
            ops.append(cur)
        elif in_without and line.startswith("- `"):
            m = re.match(r"- `([^`]+)`( \[ct\])?: (.*)", line)
            without.append({"name": m.group(1), "note": m.group(3)})
        elif cur is not None and line.startswith("- in: "):
            cur["inputs"] = parse_args(line[len("- in: "):])
        elif cur is not None and line.startswith("- out: "):
            cur["outputs"] = parse_args(line[len("- out: "):])
        elif cur is not None and line.startswith("- attrs: "):
            body = line[len("- attrs: "):].strip()
            cur["attrs"] = [] if body == "none" else [parse_attr(a) for a in split_top(body, ";")]
        elif cur is not None and line.startswith("- flags: "):
            cur["flags"] = [f.strip() for f in line[len("- flags: "):].split(",")]
    with open(OUT, "w", encoding="utf-8") as f:
        f.write('{"source": "TensorFlow 2.12.1 OpDefs, generated by tools/gen_opdefs.py from ops.md",\n')
        f.write(' "ops": [\n')
        f.write(",\n".join(json.dumps(op, ensure_ascii=False, separators=(",", ":")) for op in ops))
        f.write('\n],\n "without_opdef": [\n')
        f.write(",\n".join(json.dumps(w, ensure_ascii=False, separators=(",", ":")) for w in without))
        f.write("\n]}\n")
    print(f"{len(ops)} OpDefs, {len(without)} names without one -> {OUT}")


if __name__ == "__main__":
    main()
