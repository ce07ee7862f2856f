//! Output paths and input formats as a CLI user meets them: every refusal exits 1 with one
//! message naming the path and the next step, and never touches what is already there. Exit
//! codes are the README's: 0 success, 1 error, 2 usage error or a failed `run --compare`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mlrewrite(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlrewrite")).current_dir(dir).args(args).output().expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A scratch folder holding a copy of a small fixture graph as `g.pb`.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ops/cast_float_to_int32.pb");
    let pb = dir.path().join("g.pb");
    std::fs::copy(src, &pb).unwrap();
    (dir, pb)
}

#[test]
fn output_equal_to_input_is_refused_and_the_input_kept() {
    let (dir, pb) = scratch();
    let before = std::fs::read(&pb).unwrap();
    let o = mlrewrite(dir.path(), &["convert", "g.pb", "-o", "g.pb"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the output g.pb is the input g.pb"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&pb).unwrap(), before);
}

#[test]
fn non_regular_targets_are_refused() {
    let (dir, _) = scratch();
    std::fs::create_dir(dir.path().join("out.mlmodel")).unwrap();
    let o = mlrewrite(dir.path(), &["convert", "g.pb", "-o", "out.mlmodel"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is a directory, not a regular file"), "{}", stderr(&o));
    let o = mlrewrite(dir.path(), &["convert", "g.pb", "-o", "/dev/null"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is a device"), "{}", stderr(&o));
    let o = mlrewrite(dir.path(), &["convert", "g.pb", "-o", "missing/out.mlmodel"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("the folder missing does not exist") && !e.contains(".mlrewrite-") && !e.contains(".tmp"), "{e}");
}

#[cfg(unix)]
#[test]
fn a_symlinked_output_replaces_its_target() {
    let (dir, _) = scratch();
    std::fs::write(dir.path().join("real.mlmodel"), b"old").unwrap();
    std::os::unix::fs::symlink("real.mlmodel", dir.path().join("link.mlmodel")).unwrap();
    let o = mlrewrite(dir.path(), &["convert", "g.pb", "-o", "link.mlmodel"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(dir.path().join("link.mlmodel")).unwrap().file_type().is_symlink());
    assert!(mlrewrite::lower::mlmodel::read_model(&dir.path().join("real.mlmodel")).is_ok());
}

#[test]
fn other_formats_say_what_they_are_and_how_to_freeze() {
    let (dir, _) = scratch();
    std::fs::create_dir(dir.path().join("sm")).unwrap();
    std::fs::write(dir.path().join("sm/saved_model.pbtxt"), b"saved_model_schema_version: 1\n").unwrap();
    std::fs::write(dir.path().join("m.h5"), b"\x89HDF\r\n\x1a\n\0\0\0\0").unwrap();
    std::fs::write(dir.path().join("g.pbtxt"), "node {\n  name: \"x\"\n  op: \"Placeholder\"\n}\n").unwrap();
    for (arg, what) in [("sm", "a TensorFlow SavedModel directory in text format"), ("m.h5", "a Keras HDF5 model"), ("g.pbtxt", "a text-format GraphDef")] {
        let o = mlrewrite(dir.path(), &["convert", arg]);
        assert_eq!(o.status.code(), Some(1), "{arg}");
        let e = stderr(&o);
        assert!(e.contains(what), "{arg}: {e}");
        assert_eq!(e.lines().filter(|l| l.starts_with("error")).count(), 1, "one message: {e}");
    }
}

#[test]
fn exit_codes() {
    let (dir, _) = scratch();
    assert_eq!(mlrewrite(dir.path(), &["convert"]).status.code(), Some(2), "usage error");
    assert_eq!(mlrewrite(dir.path(), &["convert", "nope.pb"]).status.code(), Some(1), "missing file");
    let o = mlrewrite(dir.path(), &["convert", "g.pb", "-o", "g.mlmodel"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
