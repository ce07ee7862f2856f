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
                    layer: Some(neural_network_layer::Layer::Activation(Box::new(ActivationParams::default()))),
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

/// Every layer fixture inspects, and its layer kinds and custom classes are the ones its
/// manifest entry (`tests/fixtures/layers/manifest.json`) lists: a cross-check of the kind
/// names `inspect` derives from the generated Rust types against the proto field names.
#[test]
fn inspect_layer_fixtures_agree_with_their_manifest() {
    let dir = root().join("tests/fixtures/layers");
    let Ok(text) = std::fs::read_to_string(dir.join("manifest.json")) else {
        eprintln!("skipping: no tests/fixtures/layers/manifest.json");
        return;
    };
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let norm = |s: &str| s.to_ascii_lowercase().replace('_', "");
    for entry in manifest.as_array().unwrap() {
        let f = format!("{}.mlmodel", entry["name"].as_str().unwrap());
        let (json, err, code) = inspect(&dir, &["--format", "json", &f]);
        assert_eq!(code, 0, "{f}: {err}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut ours: Vec<String> = v["layer_kinds"].as_object().unwrap().keys().map(|k| norm(k)).collect();
        let mut want: Vec<String> = entry["layers"].as_array().unwrap().iter().map(|k| norm(k.as_str().unwrap())).collect();
        ours.sort();
        ours.dedup();
        want.sort();
        want.dedup();
        assert_eq!(ours, want, "{f}: layer kinds");
        assert_eq!(v["specification_version"], entry["specification_version"], "{f}");
        let classes: Vec<&str> = v["custom_layers"].as_array().unwrap().iter().map(|c| c["class_name"].as_str().unwrap()).collect();
        let want_classes: Vec<&str> = entry["custom_classes"].as_array().map(|a| a.iter().map(|c| c.as_str().unwrap()).collect()).unwrap_or_default();
        assert_eq!(classes, want_classes, "{f}: custom classes");
    }
}

/// A converted TF1 nested loop: `inspect` lists the loop's condition and body networks and the
/// inner loop's, indented by depth, with their layers.
#[test]
fn inspect_shows_nested_networks_of_loops() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.mlmodel");
    let out = Command::new(env!("CARGO_BIN_EXE_mlrewrite"))
        .arg("convert")
        .arg(root().join("tests/fixtures/ops/tf1_while_nested.pb"))
        .arg("-o")
        .arg(&model)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (text, err, code) = inspect(&root(), &[model.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("nested networks (4):"), "{text}");
    assert!(text.contains("\n  while conditionNetwork (2 layers):\n    while/cond/Less/y (LoadConstantNd)\n    while/cond/Less (LessThan)\n"), "{text}");
    assert!(text.contains("\n    while/body/while bodyNetwork (6 layers):\n"), "{text}");
    assert!(text.contains("      while/body/while/body/mul (Activation)\n"), "{text}");
    let (json, err, code) = inspect(&root(), &["--format", "json", model.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let nested = v["nested_networks"].as_array().unwrap();
    assert_eq!(nested.len(), 4);
    assert_eq!(nested[3]["layer"], "while/body/while");
    assert_eq!(nested[3]["network"], "bodyNetwork");
    assert_eq!(nested[3]["depth"], 2);
}
