//! App metadata (`convert --author --license --version --description --input-description
//! --output-description`): the values land in the model's `metadata` and feature descriptions
//! where Core ML (and Xcode) read them, `inspect` shows them, the interpreter still runs the
//! model against TensorFlow's goldens, and a description of a feature the model lacks is an
//! error naming the features it has.

use mlrewrite::proto::coreml::Model;
use prost::Message;
use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mlrewrite");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/savedmodel").join(name)
}

fn mlrewrite(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const FLAGS: &[&str] = &[
    "--author", "A. Author", "--license", "MIT", "--version", "1.2", "--description", "an affine layer",
    "--input-description", "x=four features", "--output-description", "Identity=three scores",
];

#[test]
fn metadata_flags_reach_the_model_and_inspect() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m.mlmodel");
    let pb = fixture("tf2_module.pb");
    let mut args = vec!["convert", pb.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend_from_slice(FLAGS);
    let o = mlrewrite(&args);
    assert!(o.status.success(), "{}", text(&o));
    let model = Model::decode(std::fs::read(&out).unwrap().as_slice()).unwrap();
    let d = model.description.unwrap();
    let m = d.metadata.unwrap();
    assert_eq!((m.author.as_str(), m.license.as_str(), m.version_string.as_str(), m.short_description.as_str()), ("A. Author", "MIT", "1.2", "an affine layer"));
    assert!(!m.user_defined.is_empty(), "the converter's own metadata stays");
    assert_eq!(d.input[0].short_description, "four features");
    assert_eq!(d.output[0].short_description, "three scores");

    let o = mlrewrite(&["inspect", out.to_str().unwrap()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for want in ["author: A. Author", "license: MIT", "version: 1.2", "description: an affine layer", "-- four features", "-- three scores"] {
        assert!(t.contains(want), "expected `{want}` in:\n{t}");
    }
    let npz = fixture("tf2_module.frozen.npz");
    let o = mlrewrite(&["run", out.to_str().unwrap(), "--inputs", npz.to_str().unwrap(), "--compare", npz.to_str().unwrap()]);
    assert!(o.status.success() && text(&o).contains("PASS: 1 compared"), "{}", text(&o));
}

#[test]
fn a_description_of_a_missing_feature_names_the_features() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m.mlmodel");
    let pb = fixture("tf2_module.pb");
    let o = mlrewrite(&["convert", pb.to_str().unwrap(), "-o", out.to_str().unwrap(), "--output-description", "y=scores"]);
    let e = text(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("output description for `y`: the model has no output of that name; its outputs are: Identity"), "{e}");
    assert!(!out.exists());
    let o = mlrewrite(&["convert", pb.to_str().unwrap(), "-o", out.to_str().unwrap(), "--input-description", "x"]);
    assert_eq!(o.status.code(), Some(2), "a malformed value is a usage error: {}", text(&o));
    assert!(text(&o).contains("expected NAME=TEXT"), "{}", text(&o));
}
