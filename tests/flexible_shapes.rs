//! Flexible input shapes end to end, with the binary: `convert` declares them (`shapeRange` by
//! default, `--input-shape` bounds or fixed dims, `--enumerated-shapes`), `inspect` shows them
//! (snapshots) and `run` accepts any shape inside them and refuses one outside. The graph is a
//! TensorFlow fixture whose input has unknown batch and sequence dims
//! (`tests/fixtures/ops/dyn_reshape_flatten`, with goldens at two sizes: `[2, 3, 4]` and
//! `[4, 2, 4]`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(ext: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ops").join(format!("dyn_reshape_flatten.{ext}"))
}

/// A fresh directory for one test's models (no tempfile crate in this project).
fn workdir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mlrewrite-flex-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mlrewrite(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlrewrite")).current_dir(dir).args(args).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Converts the fixture into `dir/model.mlmodel` with `extra` flags; returns convert's output.
fn convert(dir: &Path, extra: &[&str]) -> Output {
    let pb = fixture("pb");
    let mut args = vec!["convert", pb.to_str().unwrap(), "-o", "model.mlmodel"];
    args.extend_from_slice(extra);
    mlrewrite(dir, &args)
}

/// `run --compare` of `dir/model.mlmodel` on a golden set (`npz` or `2.npz`).
fn run(dir: &Path, set: &str) -> Output {
    let npz = fixture(set);
    let npz = npz.to_str().unwrap();
    mlrewrite(dir, &["run", "model.mlmodel", "--inputs", npz, "--compare", npz])
}

fn inspect(dir: &Path) -> String {
    let o = mlrewrite(dir, &["inspect", "model.mlmodel"]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn unknown_dims_default_to_open_ranges_and_run_at_both_sizes() {
    let dir = workdir("default");
    let c = convert(&dir, &[]);
    assert!(c.status.success(), "{}", stderr(&c));
    insta::assert_snapshot!("flexible_default_ranges", inspect(&dir));
    for set in ["npz", "2.npz"] {
        let r = run(&dir, set);
        assert!(r.status.success(), "{set}: {}{}", stdout(&r), stderr(&r));
    }
}

#[test]
fn input_shape_bounds_are_declared_and_enforced() {
    let dir = workdir("bounds");
    let c = convert(&dir, &["--input-shape", "x=1..3,1..8,4"]);
    assert!(c.status.success(), "{}", stderr(&c));
    insta::assert_snapshot!("flexible_bounded_ranges", inspect(&dir));
    let r = run(&dir, "npz");
    assert!(r.status.success(), "{}{}", stdout(&r), stderr(&r));
    // The second golden set has batch 4, above the bound 3.
    let r = run(&dir, "2.npz");
    assert!(!r.status.success());
    let e = stderr(&r);
    assert!(e.contains("model input `x` has shape [4, 2, 4], outside the flexible shapes the model declares: [1..3, 1..8, 4]"), "{e}");
}

#[test]
fn enumerated_shapes_accept_exactly_their_list() {
    let dir = workdir("enumerated");
    let c = convert(&dir, &["--enumerated-shapes", "x=2,3,4;4,2,4"]);
    assert!(c.status.success(), "{}", stderr(&c));
    insta::assert_snapshot!("flexible_enumerated", inspect(&dir));
    for set in ["npz", "2.npz"] {
        let r = run(&dir, set);
        assert!(r.status.success(), "{set}: {}{}", stdout(&r), stderr(&r));
    }
    let c = convert(&dir, &["--enumerated-shapes", "x=2,3,4;4,3,4"]);
    assert!(c.status.success(), "{}", stderr(&c));
    let r = run(&dir, "2.npz");
    assert!(stderr(&r).contains("outside the flexible shapes the model declares: one of [2, 3, 4] [4, 3, 4]"), "{}", stderr(&r));
}

/// Fixing every dim makes the input static: the rules then see a static shape and the run-time
/// shape computation (getShape, reshapeDynamic) folds away.
#[test]
fn fixed_dims_become_facts_for_the_rules() {
    let dir = workdir("fixed");
    let flexible = convert(&dir, &[]);
    assert!(stdout(&flexible).contains("reshapeDynamic") || stdout(&flexible).contains("getShape"), "{}", stdout(&flexible));
    let c = convert(&dir, &["--input-shape", "x=2,3,4"]);
    assert!(c.status.success(), "{}", stderr(&c));
    let summary = stdout(&c);
    assert!(!summary.contains("getShape") && !summary.contains("reshapeDynamic"), "{summary}");
    let text = inspect(&dir);
    assert!(text.contains("x  multiArray float32 [2, 3, 4]\n"), "{text}");
    assert!(run(&dir, "npz").status.success());
    let r = run(&dir, "2.npz");
    assert!(stderr(&r).contains("model input `x` has shape [4, 2, 4], but the model declares [2, 3, 4]"), "{}", stderr(&r));
}

#[test]
fn bad_shape_specs_are_clear_errors() {
    let dir = workdir("errors");
    let cases: &[(&[&str], &str)] = &[
        (&["--input-shape", "x=1,2"], "input `x`: the graph declares rank 3, the shape given has rank 2"),
        (&["--input-shape", "x=1..4,1..4,8"], "input `x`: dim 2 is 4 in the graph, not 8"),
        (&["--input-shape", "y=1,2,4"], "input `y`: no graph input (Placeholder) has this name"),
        (&["--input-shape", "x=1,a,4"], "`x=1,a,4`: `a` is not a size"),
        (&["--input-shape", "x=4..2,1,4"], "range `4..2` is empty"),
        (&["--input-shape", "x=1..2,1..,4", "--enumerated-shapes", "x=1,2,4"], "input `x` is given a shape twice"),
        (&["--enumerated-shapes", "x=1,2,4;1,2"], "the enumerated shapes have different ranks"),
        (&["--input-shape", "x=1..2,1..,5..9"], "input `x`: dim 2 is 4 in the graph, outside the spec's [1..2, 1.., 5..9]"),
    ];
    for (args, want) in cases {
        let o = convert(&dir, args);
        assert!(!o.status.success(), "{args:?} converted");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
}

/// `explain` takes the same shape flags, so it sees the e-graph `convert` saw: with every dim
/// fixed the Reshape is static, without them it is the dynamic layer over symbolic dims.
#[test]
fn explain_sees_the_dims_convert_fixes() {
    let dir = workdir("explain");
    let pb = fixture("pb");
    let pb = pb.to_str().unwrap();
    let flexible = stdout(&mlrewrite(&dir, &["explain", pb, "--node", "Reshape"]));
    assert!(flexible.contains("input 0: x: float32 [x.d0,x.d1,4]") && flexible.contains("extracted `reshapeDynamic`"), "{flexible}");
    let fixed = stdout(&mlrewrite(&dir, &["explain", pb, "--node", "Reshape", "--input-shape", "x=2,3,4"]));
    assert!(fixed.contains("input 0: x: float32 [2,3,4]") && fixed.contains("extracted `reshapeStatic`"), "{fixed}");
}
