//! Every ```rules block of docs/rules.md is parsed and checked: plain blocks must be clean,
//! `rules,fail:CODE` blocks must report error CODE, `rules,warn:CODE` blocks must report
//! warning CODE and no error. Blocks that check are also compiled to egg rewrites.

use mlrewrite::rewrite::lang::BasicFacts;
use mlrewrite::rules::diag::{render_all, Origin, Severity, Sources};
use mlrewrite::rules::ops::TfOpDefs;
use mlrewrite::rules::RuleSet;

struct Block {
    info: String,
    line: usize,
    text: String,
}

fn blocks(md: &str) -> Vec<Block> {
    let mut out = vec![];
    let mut cur: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        if let Some(b) = cur.as_mut() {
            if line.trim_start().starts_with("```") {
                out.push(cur.take().unwrap());
            } else {
                b.text.push_str(line);
                b.text.push('\n');
            }
        } else if let Some(info) = line.trim_start().strip_prefix("```") {
            if info.starts_with("rules") {
                cur = Some(Block { info: info.trim().to_string(), line: i + 1, text: String::new() });
            } else if !info.is_empty() {
                // Another language's block: skip to its end.
                cur = Some(Block { info: format!("skip:{info}"), line: i + 1, text: String::new() });
            }
        }
    }
    out.into_iter().filter(|b| b.info.starts_with("rules")).collect()
}

#[test]
fn every_rules_block_in_the_reference_checks_as_marked() {
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let bs = blocks(&md);
    assert!(bs.len() >= 30, "only {} rules blocks found", bs.len());
    let mut failures = vec![];
    for b in &bs {
        let mut sources = Sources::default();
        sources.add(format!("docs/rules.md:{}", b.line), b.text.clone(), Origin::User);
        let set = RuleSet::from_sources(sources, &TfOpDefs);
        let codes = |sev: Severity| set.diagnostics.iter().filter(|d| d.severity == sev).map(|d| d.code).collect::<Vec<_>>();
        let errors = codes(Severity::Error);
        let warnings = codes(Severity::Warning);
        let rendered = render_all(&set.diagnostics, &set.sources, 100);
        let ok = if let Some(code) = b.info.strip_prefix("rules,fail:") {
            errors.contains(&code)
        } else if let Some(code) = b.info.strip_prefix("rules,warn:") {
            errors.is_empty() && warnings.contains(&code)
        } else if b.info == "rules" {
            let clean = set.diagnostics.is_empty();
            clean && set.compile().and_then(|c| c.rewrites::<BasicFacts>()).is_ok()
        } else {
            false
        };
        if !ok {
            failures.push(format!("block at line {} ({}):\n{rendered}", b.line, b.info));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every attribute function the language has is in the reference's function tables, written
/// as a call (`name(`), so a rule author can look up whatever a standard rule uses.
#[test]
fn every_function_is_documented() {
    let md = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md")).unwrap();
    let missing: Vec<&str> =
        mlrewrite::rules::functions::FUNCTIONS.iter().map(|f| f.name).filter(|n| !md.contains(&format!("`{n}("))).collect();
    assert!(missing.is_empty(), "functions missing from docs/rules.md: {missing:?}");
}
