//! `mlrewrite run` end to end on the project's own fixtures (no `../shared` needed):
//! stdout snapshots of a passing comparison with `--trace`, of each way a comparison fails,
//! and the error of a custom layer without a kernel.

use mlrewrite::run::npz;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/layers").join(name)
}

fn mlrewrite(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlrewrite")).args(args).output().expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}--- stderr\n{}",
        o.status.code().map_or("signal".into(), |c| c.to_string()),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn trace_and_passing_comparison() {
    let (m, d) = (fixture("transpose.mlmodel"), fixture("transpose.npz"));
    let o = mlrewrite(&["run".as_ref(), m.as_os_str(), "--inputs".as_ref(), d.as_os_str(), "--compare".as_ref(), d.as_os_str(), "--trace".as_ref()]);
    assert!(o.status.success());
    insta::assert_snapshot!(text(&o));
}

#[test]
fn failing_comparisons_are_reported_per_output() {
    let dir = tempfile::tempdir().unwrap();
    let (m, d) = (fixture("transpose.mlmodel"), fixture("transpose.npz"));
    let data = npz::read_npz(&d).unwrap();
    let y = data["y"].clone();
    let x = data["x"].clone();
    let mut report = String::new();
    // Values off by 1, plus a golden that matches nothing.
    let mut wrong = std::collections::BTreeMap::new();
    wrong.insert("y:0".to_string(), y.mapv(|v| v + 1.0));
    wrong.insert("stray:0".to_string(), x.clone());
    // Same values, but an extra leading axis: a shape mismatch even though sizes agree.
    let mut reshaped = std::collections::BTreeMap::new();
    reshaped.insert("y".to_string(), y.clone().insert_axis(ndarray::Axis(0)));
    // No golden for `y` at all.
    let mut missing = std::collections::BTreeMap::new();
    missing.insert("x".to_string(), x);
    for (name, g) in [("wrong", wrong), ("reshaped", reshaped), ("missing", missing)] {
        let p = dir.path().join(format!("{name}.npz"));
        npz::write_npz(&p, &g).unwrap();
        let o = mlrewrite(&["run".as_ref(), m.as_os_str(), "--inputs".as_ref(), d.as_os_str(), "--compare".as_ref(), p.as_os_str()]);
        report.push_str(&format!("=== {name}\n{}", text(&o)));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn custom_layer_without_kernel_is_an_error_naming_layer_and_class() {
    let (m, d) = (fixture("custom_topk_parameters.mlmodel"), fixture("custom_topk_parameters.npz"));
    let o = mlrewrite(&["run".as_ref(), m.as_os_str(), "--inputs".as_ref(), d.as_os_str()]);
    insta::assert_snapshot!(text(&o));
}

#[test]
fn out_writes_the_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (m, d) = (fixture("softmax_nd.mlmodel"), fixture("softmax_nd.npz"));
    let out = dir.path().join("out.npz");
    let o = mlrewrite(&["run".as_ref(), m.as_os_str(), "--inputs".as_ref(), d.as_os_str(), "--out".as_ref(), out.as_os_str(), "--f64".as_ref()]);
    assert!(o.status.success(), "{}", text(&o));
    let written = npz::read_npz(&out).unwrap();
    let want = npz::read_npz(&d).unwrap();
    assert_eq!(written.keys().collect::<Vec<_>>(), vec!["y"]);
    for (a, b) in written["y"].iter().zip(want["y"].iter()) {
        assert!((a - b).abs() <= 1e-6, "{a} vs {b}");
    }
}

/// An inner tensor exposed with `convert --outputs` is marked in the model's metadata and
/// compared with atol scaled by its RMS; the final output keeps the plain atol, and
/// `--plain-inner-atol` turns the scaling off.
#[test]
fn inner_outputs_are_compared_with_rms_scaled_atol() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (pb, goldens) = (root.join("gap_dense_softmax.pb"), root.join("gap_dense_softmax.npz"));
    let model = dir.path().join("m.mlmodel");
    let o = mlrewrite(&["convert".as_ref(), pb.as_os_str(), "-o".as_ref(), model.as_os_str(), "--outputs".as_ref(), "mul".as_ref()]);
    assert!(o.status.success(), "{}", text(&o));
    let m = mlrewrite::lower::mlmodel::read_model(&model).unwrap();
    assert_eq!(mlrewrite::lower::inner_outputs(&m).into_iter().collect::<Vec<_>>(), ["mul"]);

    // Shift the inner golden's smallest value by 0.8 x atol x RMS: beyond the plain
    // tolerance, within the scaled one.
    let mut data = npz::read_npz(&goldens).unwrap();
    let logits = data.get_mut("mul:0").unwrap();
    let rms = mlrewrite::run::compare::rms(logits);
    assert!(rms > 2.0, "the fixture's logits have RMS {rms}; the test needs one above 2");
    let shift = 0.8e-4 * rms;
    let smallest = logits.iter_mut().min_by(|a, b| a.abs().total_cmp(&b.abs())).unwrap();
    assert!(shift > 1e-4 + 1e-3 * smallest.abs() as f64, "smallest logit {smallest} too large for the test");
    *smallest += shift as f32;
    let shifted = dir.path().join("g.npz");
    npz::write_npz(&shifted, &data).unwrap();
    let run = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["run".as_ref(), model.as_os_str(), "--inputs".as_ref(), goldens.as_os_str(), "--compare".as_ref(), shifted.as_os_str()];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        mlrewrite(&args)
    };
    let o = run(&[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("inner tensor: atol"), "{}", text(&o));
    let o = run(&["--plain-inner-atol"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// Converts `tests/fixtures/NAME.pb` with the user rules of `rules` and runs the model with
/// `run --compare` against TensorFlow's goldens, the custom layer executed by the
/// registration's `reference` (found by class name in `run_rules`).
fn convert_and_compare(name: &str, rules: &Path, run_rules: &Path) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (pb, npz) = (root.join(format!("{name}.pb")), root.join(format!("{name}.npz")));
    let m = dir.path().join("m.mlmodel");
    let o = mlrewrite(&["convert".as_ref(), pb.as_os_str(), "-o".as_ref(), m.as_os_str(), "--rules".as_ref(), rules.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("custom 1"), "{}", text(&o));
    mlrewrite(&["run".as_ref(), m.as_os_str(), "--inputs".as_ref(), npz.as_os_str(), "--compare".as_ref(), npz.as_os_str(), "--rules".as_ref(), run_rules.as_os_str()])
}

/// A custom layer whose registration has a `reference` runs in `mlrewrite run --rules DIR`:
/// Dilation2D's reference is TF ops (converted by the standard rules), CustomTopK's an NN
/// layer with two outputs. Both models keep their custom layer and match TensorFlow; a wrong
/// reference (min for max) fails the same comparison, so the reference is what ran.
#[test]
fn custom_layers_with_a_reference_pass_run_compare() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dilation = root.join("user_rules");
    let o = convert_and_compare("custom_dilation_reshape", &dilation, &dilation);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("PASS: 1 compared"), "{}", text(&o));

    let topk = root.join("rules/custom_topk_reference");
    let o = convert_and_compare("topk", &topk, &topk);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("PASS: 2 compared"), "{}", text(&o));

    let wrong = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(dilation.join("dilation.rules")).unwrap();
    assert!(src.contains("reference = Max("));
    std::fs::write(wrong.path().join("dilation.rules"), src.replace("reference = Max(", "reference = Min(")).unwrap();
    let o = convert_and_compare("custom_dilation_reshape", &dilation, wrong.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// Without a reference the error says in one line what to do.
#[test]
fn custom_layer_without_a_reference_says_how_to_give_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let o = convert_and_compare("custom_dilation_reshape", &root.join("user_rules"), &root.join("rules/custom_dilation"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("class `Dilation2D`") && err.contains("`reference = ...`") && err.contains("--rules DIR"), "{err}");
}
