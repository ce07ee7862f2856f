//! The differential test of the standard rule library: every single-op fixture of
//! `tests/fixtures/ops` (made by TensorFlow with `tools/make_op_fixtures.py`, one graph per op
//! and attribute variant, inputs covering negatives, halves, zeros and large magnitudes) is
//! converted with the embedded rules, run by the interpreter and compared with the values
//! TensorFlow computed. A case marked `refused` in its JSON must instead fail to convert with
//! that message: the library says no rather than writing a model that computes something else.
//! A case marked `"compare": "distribution"` (random ops) is compared as a sample of the
//! golden's distribution instead of value by value.
//!
//! Coverage: every standard rule must fire in at least one fixture (here, or in the model
//! fixtures of `tests/fixtures`), so no rule ships without TensorFlow having checked its
//! numbers. The rules that cannot be reached by a TF-made graph yet are listed in
//! [`NOT_YET_COVERED`] with the reason; the list may only shrink (a listed rule that fires is
//! an error too).

mod common;

use mlrewrite::ir;
use mlrewrite::lower::{self, LowerOptions};
use mlrewrite::rewrite::{convert, ConvertOptions};
use mlrewrite::rules::load::Compiled;
use mlrewrite::rules::{LoadOptions, RuleSet};
use mlrewrite::run::compare::{allclose, same_distribution, Tolerance};
use mlrewrite::run::{lookup, npz, Interpreter, RunOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Standard rules no TF-made fixture reaches yet, with the reason. Shrink it; never grow it
/// without a reason a reviewer accepts.
const NOT_YET_COVERED: &[(&str, &str)] = &[
    ("ones_like", "OnesLike is missing from the op catalog, so the rule is never matched; tf.ones_like of a static shape freezes into Fill, which converts"),
    ("gelu_erf_times", "TF's tf.nn.gelu writes the other operand order (gelu_erf fires); no TF API emits this form"),
    ("clip_by_value", "tf.clip_by_value freezes into Minimum/Maximum, not ClipByValue"),
    ("transpose_through_tanh", "needs an NCHW producer whose transpose reaches the activation; no fixture yet"),
    ("transpose_through_sigmoid_hard", "needs an NCHW producer whose transpose reaches the activation; no fixture yet"),
    ("transpose_through_leaky_relu", "needs an NCHW producer whose transpose reaches the activation; no fixture yet"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn std_rules() -> Compiled {
    let set = RuleSet::load(&LoadOptions::default()).expect("standard rules load");
    set.compile().expect("standard rules compile")
}

/// What happened to one fixture.
struct Outcome {
    applied: BTreeSet<String>,
    error: Option<String>,
}

fn meta(pb: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(pb.with_extension("json")).unwrap_or_else(|e| panic!("{}: {e}", pb.display()));
    serde_json::from_str(&text).expect("fixture metadata is JSON")
}

/// Converts `pb` and compares every output with its golden; `Err` says what went wrong.
/// With `distribution`, outputs are compared as samples of one distribution
/// (`compare::same_distribution`): random ops, whose values no converter can reproduce.
fn check(pb: &Path, rules: &Compiled, refused: Option<&str>, distribution: bool) -> Outcome {
    let mut applied = BTreeSet::new();
    let name = pb.file_stem().unwrap().to_string_lossy().to_string();
    let fail = |applied, e: String| Outcome { applied, error: Some(format!("{name}: {e}")) };
    // The rules' shape registry, as `convert` loads graphs: library pseudo-ops in a graph (a
    // recognised Keras RNN loop is one) get their outputs from the rules' `infer` items.
    let graph = match ir::load(pb, &rules.shapes) {
        Ok((g, _)) => g,
        // A refusal may come from import (a TF1 cond branch with a side effect).
        Err(e) if refused.is_some_and(|want| e.to_string().contains(want)) => return Outcome { applied, error: None },
        Err(e) => return fail(applied, format!("import failed: {e}")),
    };
    let converted = convert(&graph, rules, &ConvertOptions::default());
    let (dag, stats) = match (converted, refused) {
        (Err(e), Some(want)) => {
            let msg = e.to_string();
            return if msg.contains(want) { Outcome { applied, error: None } } else { fail(applied, format!("refused with `{msg}`, expected a message containing `{want}`")) };
        }
        (Ok(_), Some(want)) => return fail(applied, format!("converted, but the fixture expects a refusal containing `{want}`")),
        (Err(e), None) => return fail(applied, format!("convert failed: {e}")),
        (Ok(r), None) => r,
    };
    applied.extend(stats.saturation.applied.keys().map(|k| k.to_string()));
    let model = match lower::lower(&dag, &LowerOptions::default().with_compiled(rules)) {
        Ok(m) => m,
        Err(e) => return fail(applied, format!("lowering failed: {e}")),
    };
    let interp = match Interpreter::new(&model, RunOptions::default()) {
        Ok(i) => i,
        Err(e) => return fail(applied, format!("the interpreter refuses the model: {e}")),
    };
    // A fixture with unknown input dims carries a second golden set at other sizes
    // (`NAME.2.npz`): the same model must be right at both.
    let mut errors = vec![];
    let mut sets = vec![pb.with_extension("npz")];
    let second = pb.with_extension("2.npz");
    if meta(pb).get("second").is_some() || second.exists() {
        sets.push(second);
    }
    for set in &sets {
        let label = set.file_name().unwrap().to_string_lossy().to_string();
        match compare_set(&interp, set, distribution) {
            Ok(errs) => errors.extend(errs.into_iter().map(|e| format!("{label}: {e}"))),
            Err(e) => return fail(applied, format!("{label}: {e}")),
        }
    }
    if errors.is_empty() {
        Outcome { applied, error: None }
    } else {
        fail(applied, errors.join("; "))
    }
}

/// Runs `interp` on the inputs of one golden set and compares every output; `Err` when the
/// set cannot be run at all, else the list of mismatching outputs.
fn compare_set(interp: &Interpreter, path: &Path, distribution: bool) -> Result<Vec<String>, String> {
    let goldens = npz::read_npz(path).map_err(|e| format!("goldens unreadable: {e}"))?;
    let mut inputs = BTreeMap::new();
    for input in interp.input_names() {
        let Some((_, a)) = lookup(&goldens, input) else { return Err(format!("no golden for input {input}")) };
        inputs.insert(input.to_string(), a.clone());
    }
    let outputs = interp.run(inputs).map_err(|e| format!("run failed: {e}"))?;
    let mut errors = vec![];
    for output in interp.output_names() {
        let Some((_, want)) = lookup(&goldens, output) else {
            errors.push(format!("output {output} has no golden"));
            continue;
        };
        let verdict = if distribution {
            same_distribution(&outputs[output], want).map(|_| ())
        } else {
            allclose(&outputs[output], want, Tolerance::DEFAULT).map(|_| ())
        };
        if let Err(e) = verdict {
            errors.push(format!("output {output}: {e}"));
        }
    }
    Ok(errors)
}

fn fixtures(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "pb")).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs `check` over `paths` on two threads (the CI machine has two cores).
fn check_all(paths: &[PathBuf], rules: &Compiled) -> Vec<Outcome> {
    let next = Mutex::new(0usize);
    let results = Mutex::new(vec![]);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some(pb) = paths.get(i) else { break };
                let m = meta(pb);
                let outcome = check(pb, rules, m["refused"].as_str(), m["compare"].as_str() == Some("distribution"));
                results.lock().unwrap().push(outcome);
            });
        }
    });
    results.into_inner().unwrap()
}

#[test]
fn every_op_fixture_matches_tensorflow_and_every_rule_is_exercised() {
    let rules = std_rules();
    let ops = fixtures(&root().join("tests/fixtures/ops"));
    assert!(ops.len() >= 10, "tests/fixtures/ops holds only {} fixtures", ops.len());
    // Model fixtures named `unsupported_*` exist to be refused (explain's tests use them), and
    // `custom_*` ones hold custom layers, which the interpreter has no kernel for.
    let models: Vec<PathBuf> = fixtures(&root().join("tests/fixtures"))
        .into_iter()
        .chain(fixtures(&root().join("examples")))
        .filter(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy();
            !stem.starts_with("unsupported_") && !stem.starts_with("custom_")
        })
        .collect();
    let mut all = ops.clone();
    all.extend(models);
    let outcomes = check_all(&all, &rules);

    let failures: Vec<&String> = outcomes.iter().filter_map(|o| o.error.as_ref()).collect();
    let applied: BTreeSet<&String> = outcomes.iter().flat_map(|o| o.applied.iter()).collect();
    eprintln!("{} fixtures ({} single-op), {} failed", all.len(), ops.len(), failures.len());
    let listed: BTreeMap<&str, &str> = NOT_YET_COVERED.iter().copied().collect();
    let mut uncovered = vec![];
    let mut stale = vec![];
    for rule in &rules.rules {
        let fired = applied.contains(&rule.name);
        match (fired, listed.contains_key(rule.name.as_str())) {
            (false, false) => uncovered.push(rule.name.as_str()),
            (true, true) => stale.push(rule.name.as_str()),
            _ => {}
        }
    }
    let unknown: Vec<&str> = listed.keys().copied().filter(|n| !rules.rules.iter().any(|r| r.name == *n)).collect();
    let mut report = String::new();
    for f in &failures {
        report += &format!("  {f}\n");
    }
    if !uncovered.is_empty() {
        report += &format!("  rules no fixture exercises (add a TF fixture in tools/op_fixtures): {}\n", uncovered.join(" "));
    }
    if !stale.is_empty() {
        report += &format!("  rules listed in NOT_YET_COVERED that now fire (remove them): {}\n", stale.join(" "));
    }
    if !unknown.is_empty() {
        report += &format!("  NOT_YET_COVERED names no standard rule: {}\n", unknown.join(" "));
    }
    assert!(report.is_empty(), "differential test:\n{report}");
}

/// Opt-in rule sets of `rules/examples` with a TF fixture of their own: the fixture (which the
/// standard library refuses, so it carries `refused`) must convert with the standard library
/// plus the example file and match TensorFlow's values, and every rule of the file must fire.
const EXAMPLE_RULE_SETS: &[(&str, &[&str])] = &[("rules/examples/lgamma.rules", &["lgamma"])];

#[test]
fn example_rule_sets_match_tensorflow() {
    for (file, cases) in EXAMPLE_RULE_SETS {
        let set = RuleSet::load(&LoadOptions { user: vec![root().join(file)], ..LoadOptions::default() }).expect("example rules load");
        let rules = set.compile().expect("example rules compile");
        let paths: Vec<PathBuf> = cases.iter().map(|c| root().join("tests/fixtures/ops").join(format!("{c}.pb"))).collect();
        let mut applied = BTreeSet::new();
        for pb in &paths {
            assert!(meta(pb)["refused"].is_string(), "{}: the standard library converts it; move the rules into rules/", pb.display());
            let outcome = check(pb, &rules, None, false);
            assert!(outcome.error.is_none(), "{file}: {}", outcome.error.unwrap());
            applied.extend(outcome.applied);
        }
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        for line in text.lines().filter_map(|l| l.strip_prefix("rule ")) {
            let name = line.trim_end_matches(':').trim();
            assert!(applied.contains(name), "{file}: rule {name} fires in none of {cases:?}");
        }
    }
}

/// The run-time shape fixtures (`tools/op_fixtures/dynamic.py`): inputs with unknown batch and
/// sequence dims, shapes computed in the graph. Each has a second golden set of other input
/// sizes, and one converted model must reproduce TensorFlow at both: a conversion that baked
/// the first size into a static layer fails the second. (The full differential test above runs
/// them too; this one runs alone with `cargo test --test ops dynamic`.)
#[test]
fn dynamic_shape_fixtures_match_tensorflow_at_two_input_sizes() {
    let rules = std_rules();
    let dynamic: Vec<PathBuf> = fixtures(&root().join("tests/fixtures/ops"))
        .into_iter()
        .filter(|p| meta(p).get("second").is_some())
        .collect();
    assert!(dynamic.len() >= 9, "only {} fixtures carry a second input set", dynamic.len());
    for pb in &dynamic {
        let m = meta(pb);
        let shapes = |k: &str| -> Vec<serde_json::Value> { m[k]["inputs"].as_array().unwrap_or(&vec![]).iter().map(|i| i["shape"].clone()).collect() };
        let first: Vec<serde_json::Value> = m["inputs"].as_array().unwrap().iter().map(|i| i["shape"].clone()).collect();
        assert_ne!(first, shapes("second"), "{}: the second input set has the same shapes", pb.display());
        assert!(pb.with_extension("2.npz").exists(), "{}: no second golden set", pb.display());
    }
    let outcomes = check_all(&dynamic, &rules);
    let failures: Vec<&String> = outcomes.iter().filter_map(|o| o.error.as_ref()).collect();
    eprintln!("{} run-time shape fixtures, each at two input sizes, {} failed", dynamic.len(), failures.len());
    assert!(failures.is_empty(), "run-time shape fixtures:\n  {}", failures.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  "));
}
