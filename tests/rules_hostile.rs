//! Hostile rule files never take the process down. Input controls no recursion depth (nesting is
//! limited with a diagnostic) and no diagnostic quotes a megabyte line (long lines are cut
//! around the span). Each case runs on a thread with a 2 MiB stack, smaller than the CLI's main
//! thread, so a recursion the limit does not cover shows up here as a crash.

use mlrewrite::rules::diag::{render_all, Origin, Sources};
use mlrewrite::rules::ops::TfOpDefs;
use mlrewrite::rules::RuleSet;

/// Checks and renders `text` as a user file; returns (errors, rendered diagnostics).
fn check(text: String) -> (usize, String) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut sources = Sources::default();
            sources.add("hostile.rules".to_string(), text, Origin::User);
            let set = RuleSet::from_sources(sources, &TfOpDefs);
            (set.errors(), render_all(&set.diagnostics, &set.sources, 100))
        })
        .unwrap()
        .join()
        .expect("checking the rule file panicked or overflowed")
}

#[test]
fn deep_parentheses_in_a_guard_are_a_diagnostic() {
    let text = format!("rule deep: Relu(x) where {}1{} == 1 => activationReLU(x)\n", "(".repeat(5000), ")".repeat(5000));
    let (errors, out) = check(text);
    assert_eq!(errors, 1, "{out}");
    assert!(out.contains("nesting deeper than 100 levels"), "{out}");
}

#[test]
fn deep_patterns_terms_attribute_lists_and_signs_are_diagnostics() {
    let cases = [
        format!("rule p: {}x{} => activationReLU(x)\n", "Relu(".repeat(10_000), ")".repeat(10_000)),
        format!("rule t: Relu(x) => {}x{}\n", "activationReLU(".repeat(10_000), ")".repeat(10_000)),
        format!("rule a: Relu(x) {{ T = {}1{} }} => activationReLU(x)\n", "[".repeat(10_000), "]".repeat(10_000)),
        format!("rule n: Relu(x) where {}1 == 1 => activationReLU(x)\n", "-".repeat(20_000)),
        format!("rule n: Relu(x) where {}true => activationReLU(x)\n", "not ".repeat(20_000)),
    ];
    for text in cases {
        let head: String = text.chars().take(30).collect();
        let (errors, out) = check(text);
        assert!(errors >= 1, "{head}: {out}");
        assert!(out.contains("nesting deeper than 100 levels"), "{head}: {out}");
        assert!(out.len() < 2000, "{head}: the diagnostic quotes the whole line ({} bytes)", out.len());
    }
}

#[test]
fn nesting_below_the_limit_still_parses() {
    let text = format!("rule ok: Relu(x) where {}1{} == 1 => activationReLU(x)\n", "(".repeat(60), ")".repeat(60));
    let (errors, out) = check(text);
    assert_eq!(errors, 0, "{out}");
}

#[test]
fn an_error_far_along_a_long_line_is_cut_around_its_span() {
    let text = format!("rule c: Relu(x) where {}@@@ => activationReLU(x)\n", " ".repeat(70_000));
    let (errors, out) = check(text);
    assert_eq!(errors, 1, "{out}");
    assert!(out.contains("hostile.rules:1:70023: error: expected an expression, found `@`"), "{out}");
    assert!(out.contains("@@@ => activationReLU(x)"), "the excerpt shows the span: {out}");
    assert!(out.contains("the line is 70046 characters long"), "{out}");
    assert!(out.len() < 1000, "{out}");
}
