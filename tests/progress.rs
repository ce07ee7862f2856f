//! The progress line of `convert`: on a terminal (a pseudo-terminal made by `script`, when the
//! system has it) the phases are listed in order once the delay has passed; with stderr piped
//! nothing of it appears, even with no delay, so the output is byte for byte that of a run
//! without progress.

mod common;

use common::{s, text};
use std::path::PathBuf;
use std::process::Command;

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/tiny_mobilenet.pb")
}

/// `convert` with stderr piped, and the progress delay set (or not); the output with the
/// varying time (`in N ms`) cut.
fn piped(delay: Option<&str>) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m.mlmodel");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mlrewrite"));
    cmd.args(["convert", s(&example()), "-o", s(&out)]);
    if let Some(d) = delay {
        cmd.env("MLREWRITE_PROGRESS_AFTER_MS", d);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o).replace(s(&out), "OUT");
    t.lines().map(|l| l.split(" in ").next().unwrap()).collect::<Vec<_>>().join("\n")
}

#[test]
fn piped_stderr_gets_no_progress() {
    let quiet = piped(None);
    assert_eq!(piped(Some("0")), quiet);
    for phase in ["import", "saturate", "write"] {
        assert!(!quiet.lines().any(|l| l.trim_start().starts_with(phase)), "{quiet}");
    }
}

#[test]
fn a_terminal_gets_a_line_per_phase() {
    if Command::new("script").arg("--version").output().map_or(true, |o| !o.status.success()) {
        eprintln!("skipping: no `script` to make a pseudo-terminal");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m.mlmodel");
    let cmd = format!("{} convert {} -o {}", env!("CARGO_BIN_EXE_mlrewrite"), s(&example()), s(&out));
    let o = Command::new("script").args(["-qec", &cmd, "/dev/null"]).env("MLREWRITE_PROGRESS_AFTER_MS", "0").output().unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let order: Vec<usize> = ["import", "seed", "saturate", "extract", "lower", "write"]
        .iter()
        .map(|p| t.find(&format!("  {p} ")).unwrap_or_else(|| panic!("no `{p}` line in:\n{t}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "phases out of order:\n{t}");
    assert!(t.contains("25 layers"), "the summary still follows:\n{t}");
}
