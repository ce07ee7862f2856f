//! Which TF ops of the op catalog (`ir::opdefs`, TensorFlow's OpDefs of ops.md) a rule set
//! converts, and how: the data behind `mlrewrite rules ops` and the generated `docs/ops.md`
//! (a test keeps the document current). Derived from the rules themselves, never maintained
//! by hand.

use super::ast::{Item, Pattern};
use super::load::RuleSet;
use crate::ir;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// How an op converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Rules rooted at the op rewrite it into NN layers.
    Composite,
    /// Only as part of a larger pattern (another op's rule matches it as an input).
    InPattern,
    /// A custom-layer registration (last resort, or forced with `override`).
    Custom,
    /// The importer handles it (graph structure, not a computation).
    Import,
    /// Nothing converts it; the analysis still folds it when its inputs are constant.
    FoldedOnly,
    Unsupported,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Composite => "composite",
            Status::InPattern => "inside a pattern",
            Status::Custom => "custom",
            Status::Import => "importer",
            Status::FoldedOnly => "constant-folded only",
            Status::Unsupported => "unsupported",
        }
    }
}

/// One op's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpCoverage {
    pub op: String,
    pub coremltools: bool,
    pub status: Status,
    /// Rules rooted at the op.
    pub rules: Vec<String>,
    /// Registrations rooted at the op (`name (override)` when forced).
    pub custom: Vec<String>,
    /// Rules of other ops whose pattern contains this op.
    pub within: Vec<String>,
    /// The analysis folds the op when every input is a constant.
    pub foldable: bool,
}

/// Ops the importer consumes: graph structure rather than computations (`If`s are inlined
/// with their branches, `ir::functions`, or become `branch` layers, `rewrite::branches`; a `While`'s regions convert as graphs of their own
/// into a `loop` layer, `rewrite::regions`; `Case`s become nested selects; TF1 frames are
/// rebuilt into selects and `StatelessWhile`s, `ir::frames`). List ops are no longer here: a
/// list is a preallocated tensor (`ir::infer::lists`) and `rules/lists.rules` translates them.
const IMPORT_OPS: &[&str] = &[
    "Case",
    "Const",
    "Enter",
    "Exit",
    "If",
    "LoopCond",
    "Merge",
    "NextIteration",
    "NoOp",
    "Placeholder",
    "RefEnter",
    "RefExit",
    "RefMerge",
    "RefNextIteration",
    "RefSwitch",
    "StatelessCase",
    "StatelessIf",
    "StatelessWhile",
    "Switch",
    "While",
    "_SwitchN",
];

fn ops_in(p: &Pattern, root: bool, out: &mut Vec<(String, bool)>) {
    match p {
        Pattern::Op(o) => {
            out.push((o.op.name.clone(), root));
            for a in &o.args {
                ops_in(a, false, out);
            }
        }
        Pattern::Bind(_, p) | Pattern::Proj(p, _, _) => ops_in(p, root, out),
        _ => {}
    }
}

/// The coverage of every op of the catalog, sorted by name.
pub fn coverage(set: &RuleSet) -> Vec<OpCoverage> {
    let mut rooted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut custom: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut within: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, item) in set.items() {
        let (lhs, name) = match item {
            Item::Rule(r) => (&r.lhs, r.name.name.clone()),
            Item::Custom(c) => (&c.lhs, c.name.name.clone()),
            Item::Infer(_) => continue,
        };
        let mut ops = vec![];
        ops_in(lhs, true, &mut ops);
        for (op, is_root) in ops {
            match (is_root, item) {
                (true, Item::Custom(c)) => {
                    let n = if c.override_.is_some() { format!("{name} (override)") } else { name.clone() };
                    custom.entry(op).or_default().push(n);
                }
                (true, _) => rooted.entry(op).or_default().push(name.clone()),
                (false, _) => {
                    within.entry(op).or_default().insert(name.clone());
                }
            }
        }
    }
    let mut rows: Vec<OpCoverage> = ir::opdefs::all()
        .map(|d| {
            let op = d.name.clone();
            let rules = rooted.get(&op).cloned().unwrap_or_default();
            let custom = custom.get(&op).cloned().unwrap_or_default();
            let within: Vec<String> = within.get(&op).map(|s| s.iter().cloned().collect()).unwrap_or_default();
            let foldable = ir::eval::is_foldable(&op);
            let status = if IMPORT_OPS.contains(&op.as_str()) {
                Status::Import
            } else if !rules.is_empty() {
                Status::Composite
            } else if !custom.is_empty() {
                Status::Custom
            } else if !within.is_empty() {
                Status::InPattern
            } else if foldable {
                Status::FoldedOnly
            } else {
                Status::Unsupported
            };
            OpCoverage { op, coremltools: d.coremltools, status, rules, custom, within, foldable }
        })
        .collect();
    // Control-flow ops outside the catalog that the importer rebuilds (coremltools handles the
    // TF1 frames by graph passes, `cond_to_where` and `functionalize_loops`, and no `Case`).
    for (op, coremltools) in NON_CATALOG_IMPORT_OPS {
        if !rows.iter().any(|r| r.op == *op) {
            rows.push(OpCoverage {
                op: (*op).to_string(),
                coremltools: *coremltools,
                status: Status::Import,
                rules: Vec::new(),
                custom: Vec::new(),
                within: Vec::new(),
                foldable: false,
            });
        }
    }
    rows.sort_by_key(|r| r.op.to_ascii_lowercase());
    rows
}

/// Import ops missing from TensorFlow's op catalog, with whether coremltools converts them.
const NON_CATALOG_IMPORT_OPS: &[(&str, bool)] = &[
    ("Case", false),
    ("Enter", true),
    ("Exit", true),
    ("LoopCond", true),
    ("Merge", true),
    ("NextIteration", true),
    ("RefEnter", true),
    ("RefExit", true),
    ("RefMerge", true),
    ("RefNextIteration", true),
    ("RefSwitch", true),
    ("StatelessCase", false),
    ("Switch", true),
    ("_SwitchN", false),
];

/// `docs/ops.md`.
pub fn markdown(rows: &[OpCoverage]) -> String {
    let mut s = String::new();
    s.push_str("# TensorFlow ops and the standard rules\n\n");
    s.push_str("Generated by `mlrewrite rules ops --markdown > docs/ops.md` from the standard rule library\n");
    s.push_str("(`rules/*.rules`); `tests/ops_doc.rs` fails when this file is not current. One row per op of\n");
    s.push_str("TensorFlow's op catalog (`../shared/reference/tensorflow/ops.md`), plus the control-flow ops the\n");
    s.push_str("importer rebuilds that the catalog lacks (TF1 frames, `Case`).\n\n");
    s.push_str("- **composite**: rules rooted at the op rewrite it into Core ML NN layers (listed).\n");
    s.push_str("- **inside a pattern**: converted only as part of another op's rule.\n");
    s.push_str("- **custom**: a registration emits a Core ML custom layer (the app implements it).\n");
    s.push_str("- **importer**: graph structure the importer consumes. List ops (`TensorList*`,\n");
    s.push_str("  `TensorArray*V3`) are composites: the importer types a list as its preallocated tensor and\n");
    s.push_str("  `rules/lists.rules` translates each op; a growing list is refused naming the node.\n");
    s.push_str("- **constant-folded only**: no rule; converts only when its inputs are constants, which the\n");
    s.push_str("  analysis folds (shape arithmetic: `Shape`, `Range`, `Pack` of constants...).\n");
    s.push_str("- **unsupported**: no rule yet; a graph using it fails with a \"not supported\" error naming\n");
    s.push_str("  the nodes, unless a user rule or registration (`--rules DIR`) covers it.\n\n");
    s.push_str("`ct`: coremltools 8.3 registers a translation for the op.\n\n");
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    for r in rows {
        *counts.entry(r.status).or_default() += 1;
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {}", k.label())).collect();
    let _ = writeln!(s, "{} ops: {}.\n", rows.len(), summary.join(", "));
    s.push_str("| op | ct | status | rules | also in | folded |\n| --- | --- | --- | --- | --- | --- |\n");
    for r in rows {
        let names: Vec<String> = r.rules.iter().chain(&r.custom).map(|n| format!("`{n}`")).collect();
        let within: Vec<String> = r.within.iter().map(|n| format!("`{n}`")).collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            r.op,
            if r.coremltools { "ct" } else { "" },
            r.status.label(),
            names.join(" "),
            within.join(" "),
            if r.foldable { "yes" } else { "" }
        );
    }
    s
}
