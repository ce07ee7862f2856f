//! Attributes TensorFlow itself would reject are refused at import, naming the node and the
//! attribute, with exit 1 and no model written: a conversion never writes a model from a
//! Conv2D with dilation 0 or a Transpose whose perm is no permutation (it used to, silently).

mod common;

use common::*;
use mlrewrite::proto::tensorflow::{AttrValue, GraphDef};
use prost::Message;
use std::path::Path;
use std::process::{Command, Output};

fn mlrewrite(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlrewrite")).current_dir(dir).args(args).output().expect("runs")
}

fn out(src: &str) -> mlrewrite::proto::tensorflow::NodeDef {
    node("out", "Identity", &[src], &[("T", a_type(F32))])
}

fn input() -> mlrewrite::proto::tensorflow::NodeDef {
    placeholder("x", &[1, 8, 8, 3])
}

fn window_op(op: &str, attrs: &[(&str, AttrValue)]) -> GraphDef {
    let mut a = vec![("T", a_type(F32)), ("padding", a_str("SAME")), ("data_format", a_str("NHWC"))];
    a.extend(attrs.iter().cloned());
    let inputs: &[&str] = if op == "Conv2D" { &["x", "w"] } else { &["x"] };
    graph(vec![input(), const_f32("w", &[3, 3, 3, 4], &[1.0; 108]), node("op", op, inputs, &a), out("op")])
}

/// Converts `g` in a scratch folder: the exit code and stderr, after checking that no model
/// (and no temporary file) was left behind on failure.
fn convert(g: &GraphDef, extra: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("g.pb"), g.encode_to_vec()).unwrap();
    let mut args = vec!["convert", "g.pb", "-o", "g.mlmodel"];
    args.extend(extra);
    let o = mlrewrite(dir.path(), &args);
    if o.status.code() != Some(0) {
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n != "g.pb").collect();
        assert!(left.is_empty(), "a failed conversion left {left:?}");
    }
    (o.status.code(), String::from_utf8_lossy(&o.stderr).to_string())
}

fn assert_refused(g: &GraphDef, wants: &[&str]) {
    let (code, err) = convert(g, &[]);
    assert_eq!(code, Some(1), "{err}");
    for w in wants {
        assert!(err.contains(w), "`{w}` missing from: {err}");
    }
}

#[test]
fn conv_with_dilation_zero_is_refused() {
    let g = window_op("Conv2D", &[("strides", a_ints(&[1, 1, 1, 1])), ("dilations", a_ints(&[1, 0, 0, 1]))]);
    assert_refused(&g, &["node `op` (Conv2D)", "dilations [1, 0, 0, 1]", "found 0"]);
}

#[test]
fn a_negative_stride_is_named_as_written() {
    let g = window_op("Conv2D", &[("strides", a_ints(&[1, -2, -2, 1]))]);
    assert_refused(&g, &["node `op` (Conv2D)", "strides [1, -2, -2, 1]", "found -2"]);
}

#[test]
fn pool_with_ksize_zero_is_refused() {
    let g = window_op("MaxPool", &[("strides", a_ints(&[1, 1, 1, 1])), ("ksize", a_ints(&[1, 0, 0, 1]))]);
    assert_refused(&g, &["node `op` (MaxPool)", "ksize [1, 0, 0, 1]"]);
}

#[test]
fn reshape_with_two_unknown_sizes_is_refused() {
    let g = graph(vec![
        input(),
        const_i32("s", &[3], &[-1, -1, 3]),
        node("op", "Reshape", &["x", "s"], &[("T", a_type(F32)), ("Tshape", a_type(I32))]),
        out("op"),
    ]);
    assert_refused(&g, &["node `op` (Reshape)", "at most one -1"]);
}

#[test]
fn transpose_with_a_repeated_axis_is_refused() {
    let g = graph(vec![
        input(),
        const_i32("p", &[4], &[0, 0, 0, 0]),
        node("op", "Transpose", &["x", "p"], &[("T", a_type(F32)), ("Tperm", a_type(I32))]),
        out("op"),
    ]);
    assert_refused(&g, &["node `op` (Transpose)", "not a permutation"]);
}

#[test]
fn an_input_of_2_pow_80_elements_is_refused() {
    let g = graph(vec![placeholder("x", &[1 << 20, 1 << 20, 1 << 20, 1 << 20]), node("op", "Relu", &["x"], &[("T", a_type(F32))]), out("op")]);
    assert_refused(&g, &["node `x` (Placeholder)", "more than 2^32 elements"]);
}

#[test]
fn an_unknown_target_version_is_a_usage_error() {
    let g = graph(vec![placeholder("x", &[1, 4]), node("op", "Relu", &["x"], &[("T", a_type(F32))]), out("op")]);
    let (code, err) = convert(&g, &["--target", "99999"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("99999") && err.contains("4..=9"), "{err}");
    assert_eq!(convert(&g, &["--target", "6"]).0, Some(0));
}

/// A rule whose right-hand side fails where it matches (`1 / 0`) does not apply there, and
/// `convert` says so, naming the rule, the node and the reason, instead of staying silent.
#[test]
fn a_rule_failing_at_conversion_time_is_a_warning_naming_rule_and_node() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("broken.rules"), "rule relu_broken:\n    Relu(x) where rank(x) >= 1 => activationLeakyReLU(x) { alpha = 1 / 0 }\n").unwrap();
    let g = graph(vec![placeholder("x", &[1, 4]), node("op", "Relu", &["x"], &[("T", a_type(F32))]), out("op")]);
    std::fs::write(dir.path().join("g.pb"), g.encode_to_vec()).unwrap();
    let o = mlrewrite(dir.path(), &["convert", "--rules", "rules", "g.pb", "-o", "g.mlmodel"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("warning: rule `relu_broken` matched") && err.contains("`op`") && err.contains("1 / 0: overflow or division by zero"), "{err}");
}
