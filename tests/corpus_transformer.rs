//! The transformer/general half of the standard rule library, end to end through the binary:
//! each graph converts with the standard rules alone and `mlrewrite run --compare` reproduces
//! TensorFlow's goldens on every output. The public corpus graphs (`../shared`, skipped
//! visibly when absent) are also converted with their inner `probes` as extra outputs, and
//! must not use more layers than coremltools 8.3 (`coremltools/results.jsonl`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The project's own fixtures of this half (tools/make_fixtures.py).
const FIXTURES: &[&str] = &[
    "transformer_tiny",
    "layer_norm",
    "gelu",
    "matmul",
    "reductions",
    "elementwise_unary",
    "elementwise_binary",
    "shape_ops",
    "gather_slice_split",
    "cumsum_argmax_softmax",
    "dynamic_batch",
    "lstm_unrolled",
];

/// Corpus graphs of this half.
const CORPUS: &[&str] = &["transformer_block", "layer_norm"];

struct Converted {
    layers: usize,
    stdout: String,
}

/// Converts `pb` (with `outputs` when given) and checks the model against `npz`; returns the
/// layer count from `convert`'s summary.
fn convert_and_compare(pb: &Path, npz: &Path, outputs: Option<&str>) -> Converted {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("out.mlmodel");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mlrewrite"));
    cmd.arg("convert").arg(pb).arg("-o").arg(&model);
    if let Some(o) = outputs {
        cmd.arg("--outputs").arg(o);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "convert {}: {}{}", pb.display(), stdout, String::from_utf8_lossy(&out.stderr));
    // "PATH -> OUT: N layers in M ms"
    let layers = stdout
        .split(": ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no layer count in {stdout:?}"));
    let run = Command::new(env!("CARGO_BIN_EXE_mlrewrite")).arg("run").arg(&model).arg("--inputs").arg(npz).arg("--compare").arg(npz).output().unwrap();
    let report = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success() && report.contains("PASS"), "run {}:\n{report}{}", pb.display(), String::from_utf8_lossy(&run.stderr));
    let outputs_compared = report.lines().filter(|l| l.starts_with("output ")).count();
    if let Some(o) = outputs {
        assert_eq!(outputs_compared, o.split(',').count(), "every requested output is compared:\n{report}");
    }
    Converted { layers, stdout }
}

#[test]
fn fixtures_convert_and_match_tensorflow() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in FIXTURES {
        let c = convert_and_compare(&dir.join(format!("{name}.pb")), &dir.join(format!("{name}.npz")), None);
        assert!(c.layers > 0, "{name}: {}", c.stdout);
    }
}

/// The names of a corpus graph's outputs and probes, from its metadata.
fn outputs_and_probes(meta: &serde_json::Value) -> String {
    let names = |key: &str| -> Vec<String> {
        meta[key].as_array().map(|a| a.iter().filter_map(|o| o["name"].as_str().map(String::from)).collect()).unwrap_or_default()
    };
    [names("outputs"), names("probes")].concat().join(",")
}

/// coremltools' layer count for `name` from results.jsonl.
fn coremltools_layers(corpus: &Path, name: &str) -> usize {
    let text = std::fs::read_to_string(corpus.join("coremltools/results.jsonl")).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["name"] == name)
        .and_then(|v| v["layers"].as_u64())
        .unwrap_or_else(|| panic!("{name} not in results.jsonl")) as usize
}

#[test]
fn corpus_transformer_and_layer_norm_match_tensorflow_within_coremltools_layer_count() {
    let Some(corpus) = common::corpus_dir() else { return };
    for name in CORPUS {
        let (pb, npz) = (corpus.join(format!("{name}.pb")), corpus.join(format!("{name}.npz")));
        let c = convert_and_compare(&pb, &npz, None);
        let theirs = coremltools_layers(&corpus, name);
        assert!(c.layers <= theirs, "{name}: {} layers, coremltools {theirs}", c.layers);
        let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(corpus.join(format!("{name}.json"))).unwrap()).unwrap();
        if meta["probes"].as_array().is_some_and(|p| !p.is_empty()) {
            convert_and_compare(&pb, &npz, Some(&outputs_and_probes(&meta)));
        }
    }
}
