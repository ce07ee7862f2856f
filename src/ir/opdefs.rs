//! TensorFlow's OpDefs (TF 2.12.1) as data: for each op, its input and output arguments and its
//! attributes with kinds, minimums, defaults and allowed values.
//!
//! The table is `opdefs.json`, written by `tools/gen_opdefs.py` from
//! `../shared/reference/tensorflow/ops.md`, embedded at compile time and parsed on first use.
//! Users: the importer (output dtypes of ops without a shape function, attr defaults and kinds)
//! and the rule checker (a custom-op binding's `input_order` must name real inputs).

use super::attr::Attr;
use super::dtype::DType;
use super::shape::{Dim, Shape};
use bytes::Bytes;
use ordered_float::OrderedFloat;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The embedded table.
const OPDEFS_JSON: &str = include_str!("opdefs.json");

/// The dtype of an argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// A fixed dtype (`DT_INT32`).
    Fixed(DType),
    /// The dtype held by a `type` attr (`T`).
    Attr(String),
    /// One tensor per entry of a `list(type)` attr (`Tin`).
    List(String),
}

/// One input or output argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgDef {
    pub name: String,
    pub ty: ArgType,
    /// `N×T`: the argument is as many tensors as this `int` attr says.
    pub number_attr: Option<String>,
    pub is_ref: bool,
}

impl ArgDef {
    /// Whether the argument stands for a variable number of tensors.
    pub fn is_list(&self) -> bool {
        self.number_attr.is_some() || matches!(self.ty, ArgType::List(_))
    }
}

/// One attribute declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrDef {
    pub name: String,
    /// As TensorFlow spells it: `int`, `type`, `list(int)`, `shape`, `func`...
    pub kind: String,
    /// For `int`, the least value; for lists, the least length.
    pub minimum: Option<i64>,
    pub default: Option<Attr>,
    /// Allowed values as written (`DT_FLOAT`, `SAME`), when restricted.
    pub allowed: Option<Vec<String>>,
}

/// One op's definition.
#[derive(Clone, Debug, PartialEq)]
pub struct OpDef {
    pub name: String,
    /// coremltools 8.3 has a translation for it.
    pub coremltools: bool,
    pub inputs: Vec<ArgDef>,
    pub outputs: Vec<ArgDef>,
    pub attrs: Vec<AttrDef>,
    pub is_commutative: bool,
    pub is_aggregate: bool,
    pub is_stateful: bool,
}

impl OpDef {
    pub fn attr(&self, name: &str) -> Option<&AttrDef> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn input(&self, name: &str) -> Option<(usize, &ArgDef)> {
        self.inputs.iter().enumerate().find(|(_, a)| a.name == name)
    }

    pub fn output(&self, name: &str) -> Option<(usize, &ArgDef)> {
        self.outputs.iter().enumerate().find(|(_, a)| a.name == name)
    }
}

/// Looks up an op's definition; `None` for ops outside the table.
pub fn lookup(op: &str) -> Option<&'static OpDef> {
    table().ops.get(op)
}

/// Every op of the table, sorted by name.
pub fn all() -> impl Iterator<Item = &'static OpDef> {
    table().ops.values()
}

/// Names coremltools registers that are not TensorFlow ops, with the reason (`ELU`, `iff`...).
pub fn without_opdef() -> &'static BTreeMap<String, String> {
    &table().without
}

struct Table {
    ops: BTreeMap<String, OpDef>,
    without: BTreeMap<String, String>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The JSON is generated and embedded, and a unit test parses it: a failure here is a
        // build defect, not bad user input.
        parse(OPDEFS_JSON).expect("embedded opdefs.json is valid (checked by the opdefs tests)")
    })
}

#[derive(Deserialize)]
struct RawTable {
    ops: Vec<RawOp>,
    without_opdef: Vec<RawWithout>,
}

#[derive(Deserialize)]
struct RawWithout {
    name: String,
    note: String,
}

#[derive(Deserialize)]
struct RawOp {
    name: String,
    ct: bool,
    inputs: Vec<RawArg>,
    outputs: Vec<RawArg>,
    attrs: Vec<RawAttr>,
    flags: Vec<String>,
}

#[derive(Deserialize)]
struct RawArg {
    name: String,
    #[serde(rename = "type")]
    ty: Option<String>,
    number_attr: Option<String>,
    type_list_attr: Option<String>,
    #[serde(default)]
    is_ref: bool,
}

#[derive(Deserialize)]
struct RawAttr {
    name: String,
    kind: String,
    minimum: Option<i64>,
    default: Option<serde_json::Value>,
    allowed: Option<Vec<String>>,
}

fn parse(json: &str) -> Result<Table, String> {
    let raw: RawTable = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut ops = BTreeMap::new();
    for op in raw.ops {
        let arg = |a: RawArg| -> Result<ArgDef, String> {
            let ty = match (a.ty, a.type_list_attr) {
                (_, Some(l)) => ArgType::List(l),
                (Some(t), None) if t.starts_with("DT_") => {
                    ArgType::Fixed(DType::from_tf_name(&t).ok_or_else(|| format!("{}: unknown dtype {t}", op.name))?)
                }
                (Some(t), None) => ArgType::Attr(t),
                (None, None) => return Err(format!("{}: argument {} has no type", op.name, a.name)),
            };
            Ok(ArgDef { name: a.name, ty, number_attr: a.number_attr, is_ref: a.is_ref })
        };
        let inputs = op.inputs.into_iter().map(arg).collect::<Result<_, _>>()?;
        let outputs = op.outputs.into_iter().map(arg).collect::<Result<_, _>>()?;
        let mut attrs = Vec::new();
        for a in op.attrs {
            let default = match &a.default {
                Some(v) => Some(default_value(v).ok_or_else(|| format!("{}: bad default of {}: {v}", op.name, a.name))?),
                None => None,
            };
            attrs.push(AttrDef { name: a.name, kind: a.kind, minimum: a.minimum, default, allowed: a.allowed });
        }
        let flag = |f: &str| op.flags.iter().any(|x| x == f);
        let def = OpDef {
            is_commutative: flag("commutative"),
            is_aggregate: flag("aggregate"),
            is_stateful: flag("stateful"),
            name: op.name.clone(),
            coremltools: op.ct,
            inputs,
            outputs,
            attrs,
        };
        ops.insert(op.name, def);
    }
    let without = raw.without_opdef.into_iter().map(|w| (w.name, w.note)).collect();
    Ok(Table { ops, without })
}

/// `{"i": 3}`, `{"list": {"i": [..]}}`, `{"shape": null}`... as written by the generator.
fn default_value(v: &serde_json::Value) -> Option<Attr> {
    let obj = v.as_object()?;
    let (key, val) = obj.iter().next()?;
    let shape = |v: &serde_json::Value| -> Option<Shape> {
        if v.is_null() {
            return Some(Shape::Unknown);
        }
        Some(Shape::Ranked(v.as_array()?.iter().map(|d| d.as_i64().map(Dim::from_tf)).collect::<Option<_>>()?))
    };
    Some(match key.as_str() {
        "i" => Attr::I(val.as_i64()?),
        "f" => Attr::F(OrderedFloat(val.as_f64()? as f32)),
        "b" => Attr::B(val.as_bool()?),
        "s" => Attr::S(Bytes::from(val.as_str()?.as_bytes().to_vec())),
        "type" => Attr::Type(DType::from_tf_name(val.as_str()?)?),
        "shape" => Attr::Shape(shape(val)?),
        "list" => {
            let (k, items) = val.as_object()?.iter().next()?;
            let items = items.as_array()?;
            match k.as_str() {
                "i" => Attr::ListI(items.iter().map(|x| x.as_i64()).collect::<Option<_>>()?),
                "f" => Attr::ListF(items.iter().map(|x| x.as_f64().map(|f| OrderedFloat(f as f32))).collect::<Option<_>>()?),
                "b" => Attr::ListB(items.iter().map(|x| x.as_bool()).collect::<Option<_>>()?),
                "s" => Attr::ListS(items.iter().map(|x| x.as_str().map(|s| Bytes::from(s.as_bytes().to_vec()))).collect::<Option<_>>()?),
                "type" => Attr::ListType(items.iter().map(|x| x.as_str().and_then(DType::from_tf_name)).collect::<Option<_>>()?),
                "shape" => Attr::ListShape(items.iter().map(shape).collect::<Option<_>>()?),
                _ => return None,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses_completely() {
        let t = parse(OPDEFS_JSON).unwrap();
        // ops.md says: 251 names, 239 with an OpDef, the other 12 listed at its end.
        assert_eq!(t.ops.len(), 239);
        assert_eq!(t.without.len(), 12);
    }

    #[test]
    fn concat_and_strided_slice_as_in_ops_md() {
        let c = lookup("ConcatV2").unwrap();
        assert_eq!(c.inputs[0].name, "values");
        assert_eq!(c.inputs[0].number_attr.as_deref(), Some("N"));
        assert_eq!(c.inputs[1].ty, ArgType::Attr("Tidx".into()));
        assert_eq!(c.attr("N").unwrap().minimum, Some(2));
        assert_eq!(c.attr("Tidx").unwrap().default, Some(Attr::Type(DType::I32)));
        let s = lookup("StridedSlice").unwrap();
        let names: Vec<_> = s.inputs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["input", "begin", "end", "strides"]);
        assert_eq!(s.attr("shrink_axis_mask").unwrap().default, Some(Attr::I(0)));
        let conv = lookup("Conv2D").unwrap();
        assert_eq!(conv.attr("dilations").unwrap().default, Some(Attr::ListI(vec![1, 1, 1, 1])));
        assert_eq!(conv.attr("explicit_paddings").unwrap().default, Some(Attr::ListI(vec![])));
        assert_eq!(lookup("Placeholder").unwrap().attr("shape").unwrap().default, Some(Attr::Shape(Shape::Unknown)));
        assert!(lookup("AddV2").unwrap().is_commutative);
        assert!(lookup("If").unwrap().outputs[0].is_list());
        assert!(lookup("NoSuchOp").is_none());
        assert!(without_opdef().contains_key("ELU"));
    }
}

/// How many tensors an argument list stands for, and their dtypes when known, given a node's
/// attrs: `N×T` expands to N entries, `list(Tin)` to one per listed type.
pub fn expand_args(args: &[ArgDef], attrs: &super::attr::Attrs) -> Option<Vec<Option<DType>>> {
    let mut out = Vec::new();
    for a in args {
        let dtype = |ty: &ArgType| match ty {
            ArgType::Fixed(d) => Some(*d),
            ArgType::Attr(t) => attrs.get_type(t).ok(),
            ArgType::List(_) => None,
        };
        match (&a.ty, &a.number_attr) {
            (ArgType::List(l), _) => out.extend(attrs.get_list_type(l).ok()?.into_iter().map(Some)),
            (ty, Some(n)) => {
                let n = attrs.get_usize(n).ok()?;
                out.extend(std::iter::repeat_n(dtype(ty), n));
            }
            (ty, None) => out.push(dtype(ty)),
        }
    }
    Some(out)
}
