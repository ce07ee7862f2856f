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
