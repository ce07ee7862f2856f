//! SavedModel input end to end: the SavedModels of `tests/fixtures/savedmodel` (written by
//! `tools/make_savedmodel_fixtures.py` with TensorFlow 2.12.1) convert from the directory and
//! match TensorFlow's outputs under `mlrewrite run --compare`, and give the same `.mlmodel`
//! bytes as the graph TensorFlow itself froze: TF1-style ones, and TF2 ones
//! (`tf.saved_model.save`, Keras `model.save`, whose signatures call into the function library
//! with captured variables) frozen by `convert_variables_to_constants_v2`. A damaged
//! checkpoint (corrupted shard, index or object graph, missing shard) and an unknown
//! signature each fail with a message naming the file.

mod common;

use common::{mlrewrite, s, text};

use mlrewrite::ir::savedmodel::{self, bundle::Bundle};
use std::path::{Path, PathBuf};



fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/savedmodel")
}

/// A scratch copy of fixture `name`'s directory, to damage.
fn copy_of(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(name);
    std::fs::create_dir_all(dst.join("variables")).unwrap();
    let src = fixtures().join(name);
    std::fs::copy(src.join("saved_model.pb"), dst.join("saved_model.pb")).unwrap();
    for e in std::fs::read_dir(src.join("variables")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join("variables").join(e.file_name())).unwrap();
    }
    (tmp, dst)
}

/// Converting `dir` fails with one error line containing every one of `want`.
fn fails_with(dir: &Path, extra: &[&str], want: &[&str]) {
    let out = dir.with_extension("mlmodel");
    let mut args = vec!["convert", s(dir), "-o", s(&out)];
    args.extend_from_slice(extra);
    let o = mlrewrite(&args);
    let e = text(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    for w in want {
        assert!(e.contains(w), "expected `{w}` in:\n{e}");
    }
    assert!(!out.exists(), "nothing is written on failure");
}

#[test]
fn tf1_saved_models_convert_match_tensorflow_and_equal_the_frozen_graph() {
    for name in ["tf1_dense", "tf1_refvar"] {
        let tmp = tempfile::tempdir().unwrap();
        let from_dir = tmp.path().join("dir.mlmodel");
        let from_pb = tmp.path().join("pb.mlmodel");
        let dir = fixtures().join(name);
        let pb = fixtures().join(format!("{name}.pb"));
        let npz = fixtures().join(format!("{name}.npz"));
        let o = mlrewrite(&["convert", s(&dir), "-o", s(&from_dir)]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let o = mlrewrite(&["run", s(&from_dir), "--inputs", s(&npz), "--compare", s(&npz)]);
        let report = text(&o);
        assert!(o.status.success() && report.contains("PASS: 1 compared"), "{name}:\n{report}");
        let o = mlrewrite(&["convert", s(&pb), "-o", s(&from_pb)]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        assert!(std::fs::read(&from_dir).unwrap() == std::fs::read(&from_pb).unwrap(), "{name}: the SavedModel and TF's frozen graph give different .mlmodel bytes");
    }
}

#[test]
fn inspect_and_explain_read_the_directory() {
    let dir = fixtures().join("tf1_dense");
    let o = mlrewrite(&["inspect", s(&dir)]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("x  float32 [2, 6, 6, 3]") && t.contains("probs  float32 [2, 5]"), "{t}");
    assert!(!t.contains("VarHandleOp") && !t.contains("SaveV2"), "frozen and pruned to the signature: {t}");
    let o = mlrewrite(&["explain", s(&dir)]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn the_signature_maps_tensors_and_the_checkpoint_lists_the_variables() {
    let frozen = savedmodel::freeze(&fixtures().join("tf1_dense"), None).unwrap();
    assert_eq!(frozen.inputs.get("image").map(String::as_str), Some("x:0"));
    assert_eq!(frozen.outputs.get("probs").map(String::as_str), Some("probs:0"));
    let bundle = Bundle::open(&fixtures().join("tf1_dense/variables/variables")).unwrap();
    let keys: Vec<&str> = bundle.keys().collect();
    assert_eq!(keys, ["conv/bias", "conv/kernel", "dense/bias", "dense/kernel"]);
}

#[test]
fn an_unknown_signature_lists_the_ones_there_are() {
    let dir = fixtures().join("tf1_dense");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m.mlmodel");
    let o = mlrewrite(&["convert", s(&dir), "--signature", "predict", "-o", s(&out)]);
    let e = text(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("saved_model.pb: no signature `predict`; the meta graph has: serving_default"), "{e}");
}

#[test]
fn a_corrupted_shard_fails_its_checksum() {
    let (_tmp, dir) = copy_of("tf1_dense");
    let shard = dir.join("variables/variables.data-00000-of-00001");
    let mut bytes = std::fs::read(&shard).unwrap();
    bytes[100] ^= 0x40;
    std::fs::write(&shard, bytes).unwrap();
    fails_with(&dir, &[], &["variables.data-00000-of-00001", "checksum mismatch for variable"]);
}

#[test]
fn a_corrupted_index_fails_its_block_checksum() {
    let (_tmp, dir) = copy_of("tf1_dense");
    let index = dir.join("variables/variables.index");
    let mut bytes = std::fs::read(&index).unwrap();
    bytes[20] ^= 0x01;
    std::fs::write(&index, bytes).unwrap();
    fails_with(&dir, &[], &["variables.index", "checksum mismatch in the block"]);
}

#[test]
fn a_missing_shard_is_named() {
    let (_tmp, dir) = copy_of("tf1_refvar");
    std::fs::remove_file(dir.join("variables/variables.data-00000-of-00001")).unwrap();
    fails_with(&dir, &[], &["variables.data-00000-of-00001", "which is missing"]);
}

#[test]
fn a_missing_index_is_named() {
    let (_tmp, dir) = copy_of("tf1_refvar");
    std::fs::remove_file(dir.join("variables/variables.index")).unwrap();
    fails_with(&dir, &[], &["cannot read", "variables.index"]);
}

/// `run --compare` of `model` on the inputs and outputs of `npz` passes.
fn passes(model: &Path, npz: &Path, what: &str) {
    let o = mlrewrite(&["run", s(model), "--inputs", s(npz), "--compare", s(npz)]);
    let report = text(&o);
    assert!(o.status.success() && report.contains("PASS:"), "{what}:\n{report}");
}

/// TF2 SavedModels (`tf.saved_model.save`: tf2_module; Keras `model.save`: keras_sequential,
/// keras_cnn) match TensorFlow and give exactly the bytes of the same signature frozen by
/// TensorFlow (`convert_variables_to_constants_v2(loaded.signatures["serving_default"])`):
/// both are named as that frozen function is (docs/architecture.md), inputs by the signature's
/// keys.
#[test]
fn tf2_saved_models_match_tensorflow_and_equal_tensorflows_frozen_graph() {
    for (name, input) in [("tf2_module", "x"), ("keras_sequential", "features"), ("keras_cnn", "image")] {
        let tmp = tempfile::tempdir().unwrap();
        let from_dir = tmp.path().join("dir.mlmodel");
        let from_pb = tmp.path().join("pb.mlmodel");
        let golden = fixtures().join(format!("{name}.frozen.npz"));
        let o = mlrewrite(&["convert", s(&fixtures().join(name)), "-o", s(&from_dir)]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        passes(&from_dir, &golden, name);
        let o = mlrewrite(&["convert", s(&fixtures().join(format!("{name}.pb"))), "-o", s(&from_pb)]);
        assert!(o.status.success(), "{name}.pb: {}", text(&o));
        passes(&from_pb, &golden, &format!("{name}.pb"));
        let o = mlrewrite(&["inspect", s(&from_dir)]);
        let t = text(&o);
        assert!(t.contains(&format!("inputs (1):\n  {input}  ")) && t.contains("outputs (1):\n  Identity  "), "{name}: {t}");
        assert!(std::fs::read(&from_dir).unwrap() == std::fs::read(&from_pb).unwrap(), "{name}: the SavedModel and TF's frozen graph give different .mlmodel bytes");
    }
}

#[test]
fn tf2_captured_variables_come_from_the_object_graph() {
    let frozen = savedmodel::freeze(&fixtures().join("keras_sequential"), None).unwrap();
    assert_eq!(frozen.outputs.len(), 1);
    // The signature's keys map to the frozen function's names.
    assert_eq!(frozen.inputs.get("features").map(String::as_str), Some("features:0"));
    assert_eq!(frozen.outputs.get("dense_2").map(String::as_str), Some("Identity:0"));
    assert!(frozen.graph.library.is_none(), "the calls are inlined");
    let ops: Vec<&str> = frozen.graph.node.iter().map(|n| n.op.as_str()).collect();
    for gone in ["VarHandleOp", "ReadVariableOp", "StatefulPartitionedCall"] {
        assert!(!ops.contains(&gone), "{gone} left in {ops:?}");
    }
    // Three Dense layers: a kernel and a bias each, read from the checkpoint by object path.
    let consts = frozen.graph.node.iter().filter(|n| n.op == "Const" && n.attr["dtype"].value == Some(mlrewrite::proto::tensorflow::attr_value::Value::Type(1))).count();
    assert!(consts >= 6, "{consts} float constants");
    let bundle = Bundle::open(&fixtures().join("keras_sequential/variables/variables")).unwrap();
    assert!(bundle.keys().any(|k| k == "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"), "{:?}", bundle.keys().collect::<Vec<_>>());
}

#[test]
fn a_corrupted_object_graph_fails_its_checksum() {
    let (_tmp, dir) = copy_of("tf2_module");
    let shard = dir.join("variables/variables.data-00000-of-00001");
    let mut bytes = std::fs::read(&shard).unwrap();
    let at = bytes.windows(14).position(|w| w == b"VARIABLE_VALUE").expect("the object graph names its attributes");
    bytes[at] ^= 0x20;
    std::fs::write(&shard, bytes).unwrap();
    fails_with(&dir, &[], &["variables.data-00000-of-00001", "checksum mismatch for variable `_CHECKPOINTABLE_OBJECT_GRAPH`"]);
}
