//! The CNN half of the standard rule library, end to end: each model converts with the
//! embedded rules alone, `mlrewrite run --compare` reproduces TensorFlow's goldens on every
//! output (also with the metadata's inner `probes` as extra outputs), no custom layer is
//! needed, and the layer count is at most coremltools' (../shared/corpus/coremltools/
//! results.jsonl). The custom-layer workflows (CustomTopK from rules/examples, the forced
//! MatrixDeterminant registration) must give exactly coremltools' custom layers.
//!
//! The shared corpus is optional (skipped visibly when absent); the project's own fixtures in
//! tests/fixtures and examples/ always run.

use mlrewrite::lower::mlmodel::read_model;
use mlrewrite::proto::coreml::{neural_network_layer::Layer, CustomLayerParams, Model};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared_corpus() -> Option<PathBuf> {
    let dir = root().join("../shared/corpus");
    if dir.join("coremltools/results.jsonl").is_file() {
        Some(dir)
    } else {
        eprintln!("skipping: ../shared not present");
        None
    }
}

fn mlrewrite(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlrewrite")).args(args).output().expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The probes (inner tensors) listed in a model's metadata.
fn probes(json: &Path) -> Vec<String> {
    let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json).expect("metadata")).expect("json");
    meta["probes"].as_array().map(|ps| ps.iter().filter_map(|p| p["tensor"].as_str().map(String::from)).collect()).unwrap_or_default()
}

fn layers(model: &Model) -> &[mlrewrite::proto::coreml::NeuralNetworkLayer] {
    match &model.r#type {
        Some(mlrewrite::proto::coreml::model::Type::NeuralNetwork(nn)) => &nn.layers,
        other => panic!("not a neural network: {other:?}"),
    }
}

fn custom_layers(model: &Model) -> Vec<(Vec<String>, CustomLayerParams)> {
    layers(model)
        .iter()
        .filter_map(|l| match &l.layer {
            Some(Layer::Custom(c)) => Some((l.input.clone(), c.clone())),
            _ => None,
        })
        .collect()
}

/// Converts `dir/name.pb` (with `extra` arguments), runs it on `name.npz` and compares every
/// golden the model outputs; returns the model.
fn convert_and_compare(dir: &Path, name: &str, extra: &[&str], tag: &str) -> Model {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join(format!("{name}{tag}.mlmodel"));
    let pb = dir.join(format!("{name}.pb"));
    let npz = dir.join(format!("{name}.npz"));
    let mut args: Vec<&std::ffi::OsStr> = vec!["convert".as_ref(), pb.as_os_str(), "-o".as_ref(), out.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let o = mlrewrite(&args);
    assert!(o.status.success(), "{name}{tag}: convert failed:\n{}", text(&o));
    let r = mlrewrite(&["run".as_ref(), out.as_os_str(), "--inputs".as_ref(), npz.as_os_str(), "--compare".as_ref(), npz.as_os_str()]);
    let t = text(&r);
    assert!(r.status.success() && t.contains("PASS"), "{name}{tag}: comparison failed:\n{t}");
    read_model(&out).expect("written model reads back")
}

/// Standard rules, then with the probes as outputs: both reproduce TF, no custom layer.
fn check_model(dir: &Path, name: &str) -> usize {
    let model = convert_and_compare(dir, name, &[], "");
    assert!(custom_layers(&model).is_empty(), "{name}: unexpected custom layers");
    let ps = probes(&dir.join(format!("{name}.json")));
    if !ps.is_empty() {
        let list = ps.join(",");
        let with = convert_and_compare(dir, name, &["--outputs", &list], ".probes");
        assert!(custom_layers(&with).is_empty(), "{name} with probes: unexpected custom layers");
    }
    layers(&model).len()
}

fn coremltools_layers(corpus: &Path, name: &str) -> Option<usize> {
    let results = std::fs::read_to_string(corpus.join("coremltools/results.jsonl")).expect("results.jsonl");
    results.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).find(|v| v["name"] == name).and_then(|v| v["layers"].as_u64()).map(|n| n as usize)
}

fn check_corpus_model(name: &str) {
    let Some(corpus) = shared_corpus() else { return };
    let ours = check_model(&corpus, name);
    if let Some(theirs) = coremltools_layers(&corpus, name) {
        assert!(ours <= theirs, "{name}: {ours} layers, coremltools {theirs}");
    }
}

#[test]
fn small_cnn() {
    check_corpus_model("small_cnn");
}

#[test]
fn mobilenet_v2_035() {
    check_corpus_model("mobilenet_v2_035");
}

#[test]
fn resize_pad_pool() {
    check_corpus_model("resize_pad_pool");
}

#[test]
fn hard_swish() {
    check_corpus_model("hard_swish");
}

#[test]
fn topk_static() {
    check_corpus_model("topk_static");
}

#[test]
fn matrix_det_is_a_composite() {
    check_corpus_model("matrix_det");
}

/// Compares the fields coremltools sets on a custom layer, and the layer's inputs.
fn assert_same_custom_layer(ours: &Model, theirs: &Model) {
    let (a, b) = (custom_layers(ours), custom_layers(theirs));
    assert_eq!(a.len(), 1, "one custom layer expected");
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].0, b[0].0, "custom layer inputs");
    assert_eq!(a[0].1.class_name, b[0].1.class_name);
    assert_eq!(a[0].1.description, b[0].1.description);
    assert_eq!(a[0].1.parameters, b[0].1.parameters);
    assert_eq!(a[0].1.weights, b[0].1.weights);
    assert_eq!(a[0].1, b[0].1, "CustomLayerParams differ");
}

fn convert_only(pb: &Path, extra: &[&std::ffi::OsStr]) -> Model {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("m.mlmodel");
    let mut args: Vec<&std::ffi::OsStr> = vec!["convert".as_ref(), pb.as_os_str(), "-o".as_ref(), out.as_os_str()];
    args.extend_from_slice(extra);
    let o = mlrewrite(&args);
    assert!(o.status.success(), "convert failed:\n{}", text(&o));
    read_model(&out).expect("reads back")
}

#[test]
fn custom_topk_example_matches_coremltools() {
    let Some(corpus) = shared_corpus() else { return };
    let examples = root().join("rules/examples");
    let ours = convert_only(&corpus.join("topk_static.pb"), &["--rules".as_ref(), examples.as_os_str()]);
    let theirs = read_model(&corpus.join("coremltools/topk_static.custom.mlmodel")).expect("coremltools model");
    assert_same_custom_layer(&ours, &theirs);
}

#[test]
fn examples_are_not_in_the_standard_library() {
    // Without --rules rules/examples, TopKV2 stays Core ML's topK layer.
    let model = convert_only(&root().join("tests/fixtures/topk.pb"), &[]);
    assert!(custom_layers(&model).is_empty());
    assert!(layers(&model).iter().any(|l| matches!(l.layer, Some(Layer::TopK(_)))));
}

#[test]
fn forced_matrix_determinant_is_coremltools_custom_layer() {
    let Some(corpus) = shared_corpus() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    // The standard registration, marked override: it replaces the standard item of that name
    // and disables the composite.
    let std_custom = std::fs::read_to_string(root().join("rules/custom.rules")).expect("custom.rules");
    let forced = std_custom.replace("custom MatrixDeterminant:", "custom MatrixDeterminant override:");
    assert_ne!(forced, std_custom, "rules/custom.rules no longer has the MatrixDeterminant registration");
    let infer_removed: String = forced.lines().filter(|l| !l.starts_with("infer ")).collect::<Vec<_>>().join("\n");
    std::fs::write(tmp.path().join("force.rules"), infer_removed).expect("write rules");
    let ours = convert_only(&corpus.join("matrix_det.pb"), &["--rules".as_ref(), tmp.path().as_os_str()]);
    let theirs = read_model(&corpus.join("coremltools/matrix_det.custom.mlmodel")).expect("coremltools model");
    assert_same_custom_layer(&ours, &theirs);
}

// ---------------------------------------------------------------------------------- fixtures

fn check_fixture(name: &str) {
    check_model(&root().join("tests/fixtures"), name);
}

macro_rules! fixture_tests {
    ($($name:ident),* $(,)?) => { $( #[test] fn $name() { check_fixture(stringify!($name)); } )* };
}

/// depthwise_conv's probes include the inner `SpaceToBatchND` of a dilated depthwise
/// convolution: fused into one dilated convolution it converts, but as an output of its own
/// it has no rule yet, so only the model outputs are checked there.
#[test]
fn depthwise_conv() {
    let dir = root().join("tests/fixtures");
    let model = convert_and_compare(&dir, "depthwise_conv", &[], "");
    assert!(custom_layers(&model).is_empty());
}

fixture_tests!(
    conv_bn_relu6, conv2d_variants, separable_conv, pooling, gap_dense_softmax, residual_add, se_block,
    hard_swish_sigmoid, swish, resize, pad, concat, matrix_det, topk,
);

#[test]
fn tiny_mobilenet() {
    check_model(&root().join("examples"), "tiny_mobilenet");
}
