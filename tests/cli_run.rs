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
