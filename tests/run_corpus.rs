//! The reference interpreter against TensorFlow's own outputs, on coremltools 8.3's
//! conversions of the shared corpus (`../shared/corpus/coremltools/*.mlmodel`). These models
//! were made by coremltools, not by us, so this checks the interpreter's semantics
//! independently of our lowering. Skipped (with a message) when `../shared` is absent.

mod common;

use mlrewrite::run::{lookup, npz, Interpreter, Precision, RunOptions};
use std::collections::BTreeMap;

const RTOL: f64 = 1e-3;
const ATOL: f64 = 1e-4;

fn check(model_file: &str, corpus: &str, precision: Precision) {
    let Some(shared) = common::shared_dir() else { return };
    let model = mlrewrite::lower::mlmodel::read_model(&shared.join("corpus/coremltools").join(model_file)).unwrap();
    let golden = npz::read_npz(&shared.join("corpus").join(format!("{corpus}.npz"))).unwrap();
    let options = RunOptions { precision, custom_kernels: common::kernels(), ..Default::default() };
    let interp = Interpreter::new(&model, options).unwrap();
    let mut inputs = BTreeMap::new();
    for name in interp.input_names() {
        let (_, a) = lookup(&golden, name).unwrap_or_else(|| panic!("{corpus}.npz has no input {name}"));
        inputs.insert(name.to_string(), a.clone());
    }
    let outputs = interp.run(inputs).unwrap();
    assert!(!interp.output_names().is_empty());
    for name in interp.output_names() {
        let (_, want) = lookup(&golden, name).unwrap_or_else(|| panic!("{corpus}.npz has no golden for {name}"));
        common::allclose(&outputs[name], want, RTOL, ATOL).unwrap_or_else(|e| panic!("{model_file} output {name}: {e}"));
    }
}

#[test]
fn hard_swish() {
    check("hard_swish.mlmodel", "hard_swish", Precision::F32);
}

#[test]
fn layer_norm() {
    check("layer_norm.mlmodel", "layer_norm", Precision::F32);
}

#[test]
fn resize_pad_pool() {
    check("resize_pad_pool.mlmodel", "resize_pad_pool", Precision::F32);
}

#[test]
fn small_cnn() {
    check("small_cnn.mlmodel", "small_cnn", Precision::F32);
}

#[test]
fn topk_static() {
    check("topk_static.mlmodel", "topk_static", Precision::F32);
}

#[test]
fn transformer_block() {
    check("transformer_block.mlmodel", "transformer_block", Precision::F32);
}

#[test]
fn mobilenet_v2_035() {
    check("mobilenet_v2_035.mlmodel", "mobilenet_v2_035", Precision::F32);
}

#[test]
fn mobilenet_v2_035_in_f64() {
    check("mobilenet_v2_035.mlmodel", "mobilenet_v2_035", Precision::F64);
}

#[test]
fn topk_static_custom_layer_with_test_kernel() {
    check("topk_static.custom.mlmodel", "topk_static", Precision::F32);
}

#[test]
fn matrix_det_custom_layer_with_test_kernel() {
    check("matrix_det.custom.mlmodel", "matrix_det", Precision::F32);
}

#[test]
fn custom_layer_without_kernel_names_layer_and_class() {
    let Some(shared) = common::shared_dir() else { return };
    let model = mlrewrite::lower::mlmodel::read_model(&shared.join("corpus/coremltools/matrix_det.custom.mlmodel")).unwrap();
    let golden = npz::read_npz(&shared.join("corpus/matrix_det.npz")).unwrap();
    let interp = Interpreter::new(&model, RunOptions::default()).unwrap();
    let mut inputs = BTreeMap::new();
    inputs.insert("x".to_string(), golden["x:0"].clone());
    let err = interp.run(inputs).unwrap_err().to_string();
    assert!(err.contains("`MatrixDeterminant`") && err.contains("layer `MatrixDeterminant`"), "{err}");
}

/// The CLI end to end: passes on a corpus model, and says what it compared.
#[test]
fn cli_compare_passes_and_lists_unmatched_goldens() {
    let Some(shared) = common::shared_dir() else { return };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlrewrite"))
        .arg("run")
        .arg(shared.join("corpus/coremltools/small_cnn.mlmodel"))
        .arg("--inputs")
        .arg(shared.join("corpus/small_cnn.npz"))
        .arg("--compare")
        .arg(shared.join("corpus/small_cnn.npz"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("output `Identity`: ok shape [1, 10]"), "{stdout}");
    assert!(stdout.contains("golden `model/dense/BiasAdd:0`: not compared (matches no model output)"), "{stdout}");
    assert!(stdout.contains("golden `input:0`: not compared (a model input)"), "{stdout}");

    // Without a registration's `reference` (no --rules), the custom model fails with an error
    // naming the class and saying how to give one.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mlrewrite"))
        .arg("run")
        .arg(shared.join("corpus/coremltools/topk_static.custom.mlmodel"))
        .arg("--inputs")
        .arg(shared.join("corpus/topk_static.npz"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("class `CustomTopK`") && stderr.contains("`reference = ...`") && stderr.contains("--rules DIR"), "{stderr}");
}
