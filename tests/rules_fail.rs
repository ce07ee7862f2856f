//! One fixture per diagnostic in tests/fixtures/rules/fail: `CODE.rules` must report
//! `rules::CODE`, and the rendered diagnostics (as a user sees them: miette, no colours, fixed
//! width) are snapshot-tested.

use mlrewrite::rules::diag::{render_all, Origin, Sources};
use mlrewrite::rules::ops::TfOpDefs;
use mlrewrite::rules::RuleSet;
use std::path::Path;

fn check(name: &str) -> (RuleSet, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules/fail").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut sources = Sources::default();
    sources.add(format!("fail/{name}"), text, Origin::User);
    let set = RuleSet::from_sources(sources, &TfOpDefs);
    let rendered = render_all(&set.diagnostics, &set.sources, 100);
    (set, rendered)
}

#[test]
fn every_fixture_reports_its_diagnostic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules/fail");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rules"))
        .collect();
    names.sort();
    assert!(names.len() >= 20);
    for name in names {
        let stem = name.trim_end_matches(".rules");
        let (set, rendered) = check(&name);
        if stem == "all-errors-in-one-run" {
            let codes: Vec<_> = set.diagnostics.iter().map(|d| d.code).collect();
            assert!(set.errors() >= 7, "{rendered}");
            for c in ["rules::unbound-variable", "rules::wrong-arity", "rules::unknown-layer", "rules::syntax", "rules::type-mismatch", "rules::duplicate-name", "rules::missing-field", "rules::unknown-input"] {
                assert!(codes.contains(&c), "{c} missing:\n{rendered}");
            }
            let starts: Vec<usize> = set.diagnostics.iter().map(|d| d.span.start).collect();
            assert!(starts.windows(2).all(|w| w[0] <= w[1]), "not sorted: {starts:?}");
        } else {
            let code = format!("rules::{stem}");
            assert!(set.diagnostics.iter().any(|d| d.code == code), "{name} does not report {code}:\n{rendered}");
        }
        insta::assert_snapshot!(stem.to_string(), rendered);
    }
}
