//! Swift custom-layer stubs (`mlrewrite swift`, `convert --swift`), run as the binary: insta
//! snapshots of the stubs for `rules/examples/custom_topk.rules` on the topk fixture and for
//! a graph with two custom classes, structural checks of every stub, and `swiftc -parse`
//! when a Swift toolchain is on PATH.

mod common;

use common::*;
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mlrewrite");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Converts `pb` with the example rules into `dir/MODEL.mlmodel`, writing stubs into
/// `dir/swift`; returns the stubs by file name.
fn convert_with_stubs(pb: &Path, dir: &Path) -> Vec<(String, String)> {
    let out = dir.join("model.mlmodel");
    let o = Command::new(BIN)
        .current_dir(root())
        .args(["convert", "--rules", "rules/examples", "--swift"])
        .arg(dir.join("swift"))
        .arg(pb)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    read_dir(&dir.join("swift"))
}

fn read_dir(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Every stub: one `@objc` class of the file's name, balanced braces, and every TODO followed
/// by a throw (a stub never returns silently); then `swiftc -parse` when available.
fn check_stubs(files: &[(String, String)]) {
    for (name, src) in files {
        let class = name.trim_end_matches(".swift");
        assert!(src.contains(&format!("@objc({class})\nfinal class {class}: NSObject, MLCustomLayer {{")), "{name}");
        assert_eq!(src.matches('{').count(), src.matches('}').count(), "{name}: unbalanced braces");
        let lines: Vec<&str> = src.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.contains("// TODO(mlrewrite)") {
                let next = lines[i + 1..].iter().find(|l| !l.trim_start().starts_with("//")).unwrap();
                assert!(next.trim_start().starts_with("throw StubError.notImplemented"), "{name}: TODO at line {} does not throw", i + 1);
            }
        }
    }
    swiftc_parse(files);
}

fn swiftc_parse(files: &[(String, String)]) {
    if Command::new("swiftc").arg("--version").output().is_err() {
        eprintln!("swiftc not found: skipping `swiftc -parse` of the stubs (snapshots and structural checks still ran)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, src) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, src).unwrap();
        let o = Command::new("swiftc").arg("-parse").arg(&p).output().unwrap();
        assert!(o.status.success(), "swiftc -parse {name}: {}", text(&o));
    }
}

#[test]
fn topk_with_the_example_binding() {
    let dir = tempfile::tempdir().unwrap();
    let files = convert_with_stubs(&root().join("tests/fixtures/topk.pb"), dir.path());
    assert_eq!(files.len(), 1);
    check_stubs(&files);
    insta::assert_snapshot!("custom_topk", files[0].1);

    // `mlrewrite swift` on the written model gives the same stub.
    let again = dir.path().join("again");
    let o = Command::new(BIN).current_dir(root()).args(["swift", "--rules", "rules/examples"]).arg(dir.path().join("model.mlmodel")).arg("-o").arg(&again).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read_dir(&again), files);
}

/// x [4,?,?] -> MatrixDeterminant -> TopKV2(k=2) and y [2,?,?] -> MatrixDeterminant (the
/// matrix size unknown, so the unrolled composite cannot apply and the registration does): two
/// classes, one of them used by two layers (an inner output without a declared shape, so its
/// `outputShapes` is a TODO), the other with the static shapes of model outputs.
#[test]
fn two_custom_classes() {
    let g = graph(vec![
        placeholder("x", &[4, -1, -1]),
        placeholder("y", &[2, -1, -1]),
        node("det", "MatrixDeterminant", &["x"], &[("T", a_type(F32))]),
        const_i32("k", &[], &[2]),
        node("top", "TopKV2", &["det", "k"], &[("T", a_type(F32)), ("sorted", a_bool(true))]),
        node("det_y", "MatrixDeterminant", &["y"], &[("T", a_type(F32))]),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("two.pb");
    std::fs::write(&pb, g.encode_to_vec()).unwrap();
    let files = convert_with_stubs(&pb, dir.path());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["CustomTopK.swift", "MatrixDeterminant.swift"]);
    check_stubs(&files);
    for (name, src) in &files {
        insta::assert_snapshot!(format!("two_classes_{}", name.trim_end_matches(".swift")), src);
    }
}

#[test]
fn models_without_custom_layers_and_bad_input_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("relu6.mlmodel");
    let o = Command::new(BIN).current_dir(root()).args(["convert", "tests/fixtures/swish.pb", "-o"]).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = Command::new(BIN).args(["swift"]).arg(&out).arg("-o").arg(dir.path().join("s")).output().unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("has no custom layers"), "{}", text(&o));
    let o = Command::new(BIN).args(["swift", "no_such.mlmodel", "-o"]).arg(dir.path().join("s")).output().unwrap();
    assert!(!o.status.success() && text(&o).contains("no_such.mlmodel"), "{}", text(&o));
}
