//! `docs/ops.md` is generated from the standard rules (`mlrewrite rules ops --markdown`); this
//! test fails when a rule change left it stale.

use mlrewrite::rules::{coverage, LoadOptions, RuleSet};

#[test]
fn docs_ops_md_is_current() {
    let set = RuleSet::load(&LoadOptions::default()).unwrap();
    assert_eq!(set.errors(), 0);
    let want = coverage::markdown(&coverage::coverage(&set));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ops.md");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "docs/ops.md is stale: run `cargo run -- rules ops --markdown > docs/ops.md`");
}

#[test]
fn coverage_reflects_the_rules() {
    let set = RuleSet::load(&LoadOptions::default()).unwrap();
    let rows = coverage::coverage(&set);
    let row = |op: &str| rows.iter().find(|r| r.op == op).unwrap_or_else(|| panic!("{op} missing"));
    assert_eq!(row("Einsum").status, coverage::Status::Composite);
    assert!(row("Einsum").rules.contains(&"einsum".to_string()));
    // Static N <= 4 by the Leibniz composite; the registration stays as the last resort.
    assert_eq!(row("MatrixDeterminant").status, coverage::Status::Composite);
    assert_eq!(row("Placeholder").status, coverage::Status::Import);
}
