//! `mlrewrite rules check|list` as a user runs them: exit codes and output (snapshots).

use std::process::Command;

fn mlrewrite(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mlrewrite"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run mlrewrite");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn check_standard_library_passes() {
    let (code, stdout, stderr) = mlrewrite(&["rules", "check", "rules/"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("check_std", stdout);
}

#[test]
fn check_reports_every_error_and_fails() {
    let (code, stdout, stderr) = mlrewrite(&["rules", "check", "tests/fixtures/rules/fail/all-errors-in-one-run.rules"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("check_fail", format!("{stderr}\n--- stdout\n{stdout}"));
}

#[test]
fn list_filters_by_op_and_sees_user_overrides() {
    let (code, stdout, stderr) = mlrewrite(&["rules", "list", "--op", "TopKV2", "--rules", "tests/fixtures/rules/ok", "-v"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("list_topk", stdout);
}

#[test]
fn user_replacement_is_reported_with_verbose() {
    let (code, _, stderr) = mlrewrite(&["rules", "check", "--rules", "tests/fixtures/rules/replace_relu6", "-v"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("standard rule `relu6` is replaced by the one in tests/fixtures/rules/replace_relu6/relu6.rules"), "{stderr}");
}
