//! Helpers shared by the integration tests: locating `../shared`, building small GraphDefs,
//! running the `mlrewrite` binary.
#![allow(dead_code)]

use mlrewrite::proto::tensorflow::{attr_value, tensor_shape_proto, AttrValue, GraphDef, NodeDef, TensorProto, TensorShapeProto};
use std::path::PathBuf;

/// `../shared/corpus`, or `None` (after saying so) when the shared material is absent.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: ../shared not present");
        None
    }
}

/// Names of the public corpus graphs (`NAME.pb`), sorted.
pub fn corpus_names() -> Vec<String> {
    let Some(dir) = corpus_dir() else { return Vec::new() };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "pb").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

pub fn node(name: &str, op: &str, inputs: &[&str], attrs: &[(&str, AttrValue)]) -> NodeDef {
    NodeDef {
        name: name.into(),
        op: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        attr: attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        ..Default::default()
    }
}

pub fn a_type(code: i32) -> AttrValue {
    AttrValue { value: Some(attr_value::Value::Type(code)) }
}

pub fn a_int(i: i64) -> AttrValue {
    AttrValue { value: Some(attr_value::Value::I(i)) }
}

pub fn a_str(s: &str) -> AttrValue {
    AttrValue { value: Some(attr_value::Value::S(s.as_bytes().to_vec().into())) }
}

pub fn a_bool(b: bool) -> AttrValue {
    AttrValue { value: Some(attr_value::Value::B(b)) }
}

pub fn a_ints(v: &[i64]) -> AttrValue {
    AttrValue { value: Some(attr_value::Value::List(Box::new(attr_value::ListValue { i: v.to_vec(), ..Default::default() }))) }
}

pub fn shape_proto(dims: &[i64]) -> TensorShapeProto {
    TensorShapeProto { dim: dims.iter().map(|&size| tensor_shape_proto::Dim { size, name: String::new() }).collect(), unknown_rank: false }
}

pub fn a_shape(dims: &[i64]) -> AttrValue {
    AttrValue { value: Some(attr_value::Value::Shape(shape_proto(dims))) }
}

/// DT_FLOAT = 1, DT_INT32 = 3 (TensorFlow's types.proto).
pub const F32: i32 = 1;
pub const I32: i32 = 3;

pub fn placeholder(name: &str, dims: &[i64]) -> NodeDef {
    node(name, "Placeholder", &[], &[("dtype", a_type(F32)), ("shape", a_shape(dims))])
}

pub fn const_i32(name: &str, dims: &[i64], values: &[i32]) -> NodeDef {
    let t = TensorProto { dtype: I32, tensor_shape: Some(shape_proto(dims)), int_val: values.to_vec(), ..Default::default() };
    node(name, "Const", &[], &[("dtype", a_type(I32)), ("value", AttrValue { value: Some(attr_value::Value::Tensor(Box::new(t))) })])
}

pub fn const_f32(name: &str, dims: &[i64], values: &[f32]) -> NodeDef {
    let t = TensorProto { dtype: F32, tensor_shape: Some(shape_proto(dims)), float_val: values.to_vec(), ..Default::default() };
    node(name, "Const", &[], &[("dtype", a_type(F32)), ("value", AttrValue { value: Some(attr_value::Value::Tensor(Box::new(t))) })])
}

pub fn graph(nodes: Vec<NodeDef>) -> GraphDef {
    GraphDef { node: nodes, ..Default::default() }
}

pub mod kernels;
#[allow(unused_imports)]
pub use kernels::*;

/// Runs the `mlrewrite` binary built for these tests.
pub fn mlrewrite(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mlrewrite")).args(args).output().unwrap()
}

/// A run's stdout then stderr, as text.
pub fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A path as a command-line argument.
pub fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}
