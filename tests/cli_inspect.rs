//! `mlrewrite inspect`, run as a binary, on the project's fixtures (always) and on the
//! shared corpus (when present). Outputs are insta snapshots.

mod common;

use prost::Message;
use std::path::{Path, PathBuf};
use std::process::Command;

fn inspect(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_mlrewrite")).current_dir(dir).arg("inspect").args(args).output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap(), out.status.code().unwrap_or(-1))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn inspect_fixture_graphs() {
    for name in ["dynamic_batch", "unsupported_lgamma", "transformer_tiny"] {
        let file = format!("tests/fixtures/{name}.pb");
        let (text, err, code) = inspect(&root(), &[&file]);
        assert_eq!(code, 0, "{err}");
        insta::assert_snapshot!(format!("fixture_{name}_text"), text);
        let (json, err, code) = inspect(&root(), &["--format", "json", &file]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        insta::assert_json_snapshot!(format!("fixture_{name}_json"), v);
    }
}

/// A two-layer Core ML model with a custom layer, written here with prost so the test needs
/// no external file.
#[test]
fn inspect_small_coreml_model() {
    use mlrewrite::proto::coreml::*;
    let array = |shape: Vec<i64>| FeatureType {
        r#type: Some(feature_type::Type::MultiArrayType(ArrayFeatureType {
            shape,
            data_type: array_feature_type::ArrayDataType::Float32 as i32,
            ..Default::default()
        })),
        ..Default::default()
    };
    let feature = |name: &str, shape| FeatureDescription { name: name.into(), r#type: Some(array(shape)), ..Default::default() };
    let custom = CustomLayerParams { class_name: "CustomTopK".into(), description: "top k".into(), ..Default::default() };
    let model = Model {
        specification_version: 4,
        description: Some(ModelDescription { input: vec![feature("x", vec![2, 10])], output: vec![feature("y", vec![2, 3])], ..Default::default() }),
        r#type: Some(model::Type::NeuralNetwork(NeuralNetwork {
            layers: vec![
                NeuralNetworkLayer {
                    name: "relu".into(),
                    input: vec!["x".into()],
                    output: vec!["r".into()],
                    layer: Some(neural_network_layer::Layer::Activation(ActivationParams::default())),
                    ..Default::default()
                },
                NeuralNetworkLayer {
                    name: "topk".into(),
                    input: vec!["r".into()],
                    output: vec!["y".into()],
                    layer: Some(neural_network_layer::Layer::Custom(custom)),
                    ..Default::default()
                },
            ],
            ..Default::default()
        })),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("small.mlmodel"), model.encode_to_vec()).unwrap();
    let (text, err, code) = inspect(dir.path(), &["small.mlmodel"]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("small_mlmodel_text", text);
    let (json, _, _) = inspect(dir.path(), &["--format", "json", "small.mlmodel"]);
    insta::assert_json_snapshot!("small_mlmodel_json", serde_json::from_str::<serde_json::Value>(&json).unwrap());
}

#[test]
fn inspect_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(root().join("tests/fixtures/dynamic_batch.pb")).unwrap();
    std::fs::write(dir.path().join("cut.pb"), &bytes[..bytes.len() / 2]).unwrap();
    let (_, err, code) = inspect(dir.path(), &["cut.pb"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("error_truncated_pb", err);
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let (_, err, code) = inspect(dir.path(), &["notes.txt"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("error_unknown_format", err);
    let (_, err, code) = inspect(dir.path(), &["missing.mlmodel"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("error: cannot read missing.mlmodel"), "{err}");
}

#[test]
fn inspect_shared_corpus() {
    let Some(corpus) = common::corpus_dir() else { return };
    let shared = corpus.parent().unwrap().to_path_buf();
    let mut files: Vec<String> = common::corpus_names().iter().map(|n| format!("corpus/{n}.pb")).collect();
    let mut ml: Vec<String> = std::fs::read_dir(corpus.join("coremltools"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".mlmodel"))
        .map(|n| format!("corpus/coremltools/{n}"))
        .collect();
    ml.sort();
    files.extend(ml);
    for f in files {
        let (text, err, code) = inspect(&shared, &[&f]);
        assert_eq!(code, 0, "{f}: {err}");
        insta::assert_snapshot!(format!("shared_{}", f.replace(['/', '.'], "_")), text);
    }
}
