//! Computes a [`Report`]: saturates the graph exactly as `convert` does, then re-runs the
//! compiled matcher ([`CompiledRule::try_class`], the code the rewrites run) on each selected
//! node's e-class, and reads extraction's choice for it ([`best_nodes`], the choice
//! `convert` extracts). Nothing here decides whether a rule matches: it only asks the matcher
//! and the extractor and reports what they say.

use super::report::*;
use super::source::{attr_span, locate, op_span, root, sub_pattern};
use crate::ir::{Graph, Shape};
use crate::rewrite::cost::LayerCount;
use crate::rewrite::extract::best_nodes;
use crate::rewrite::lang::Node;
use crate::rewrite::pipeline::{saturate_graph, ConvertError, ConvertOptions, Saturated};
use crate::rules::ast::{self, Clause, Item, Pattern, Rhs, Term};
use crate::rules::compile::{Action, CompiledRule, FailReason, MatchFailure};
use crate::rules::diag::{FileId, Sources};
use crate::rules::load::{Compiled, RuleSet};
use crate::rules::ops::{OpCatalog, TfOpDefs};
use egg::Id;
use std::collections::HashMap;
use std::sync::Arc;

/// What to explain and how to convert.
#[derive(Debug, Clone)]
pub struct ExplainOptions {
    pub selection: Selection,
    /// The same options `convert` takes (budgets, extra outputs), so the e-graph is the same.
    pub convert: ConvertOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Convert(#[from] ConvertError),
    #[error(transparent)]
    Region(#[from] crate::rewrite::regions::LoopError),
    #[error(transparent)]
    Branch(#[from] crate::rewrite::branches::BranchError),
    #[error("--node: no node `{name}` in the graph{hint}")]
    UnknownNode { name: String, hint: String },
    #[error("--node: node `{name}` is not part of the conversion (no model output depends on it)")]
    NotConverted { name: String },
    #[error("--op: no node of op `{op}` is part of the conversion{hint}")]
    UnknownOp { op: String, hint: String },
}

/// Explains the selected nodes of `graph` (imported and inferred), converted with `rules`
/// compiled from `set`. `model` is the name shown in the report.
///
/// `--op` and the default custom-layer selection also look inside control-flow regions (a
/// loop's condition and body, a `branch`'s two networks, recursively), each explained in the
/// graph `convert` converts it as; their nodes follow the top level's, region by region.
pub fn explain(graph: &Graph, model: &str, set: &RuleSet, rules: &Compiled, options: &ExplainOptions) -> Result<Report, ExplainError> {
    // A node inside a region (`WHILE/body/NODE`, `IF/then/NODE`) is explained in that
    // region's graph, which `convert` converts with its own e-graph.
    if let Selection::Node(name) = &options.selection {
        if graph.find(name).is_none() {
            if let Some(region) = region_holding(graph, name, rules)? {
                return explain(&region, model, set, rules, options);
            }
        }
    }
    let sat = saturate_graph(graph, rules, &options.convert)?;
    let best = best_nodes(&sat.seeded.egraph, &LayerCount::new(rules));
    let cx = Context { graph, set, rules, sat: &sat, best: &best };
    let (mut nodes, mut ops) = match cx.select(&options.selection) {
        Ok(selected) => (selected.into_iter().map(|name| cx.node(&name)).collect::<Vec<_>>(), vec![]),
        Err(ExplainError::UnknownOp { .. }) => (vec![], sat.seeded.nodes.values().map(|n| n.op.clone()).collect()),
        Err(e) => return Err(e),
    };
    if !matches!(options.selection, Selection::Node(_)) {
        let region_options = ExplainOptions { selection: options.selection.clone(), convert: ConvertOptions { limits: options.convert.limits, ..ConvertOptions::default() } };
        for region in region_graphs_of(graph, &sat, rules)? {
            explain_region(&region, set, rules, &region_options, &mut nodes, &mut ops)?;
        }
    }
    if let (Selection::Op(op), true) = (&options.selection, nodes.is_empty()) {
        ops.sort();
        ops.dedup();
        return Err(ExplainError::UnknownOp { op: op.clone(), hint: suggestions(op, ops.iter().map(String::as_str)) });
    }
    let stop = &sat.saturation.stop;
    Ok(Report {
        version: SCHEMA_VERSION,
        model: model.to_string(),
        selection: options.selection.clone(),
        saturation: SaturationSummary { stop: stop.to_string(), limit_hit: stop.is_limit(), iterations: sat.saturation.iterations },
        nodes,
    })
}

/// The selected nodes of one region graph and of the regions inside it, appended to `nodes`;
/// the ops seen where none matched `--op` go to `ops` (for the error's suggestion).
fn explain_region(
    graph: &Graph,
    set: &RuleSet,
    rules: &Compiled,
    options: &ExplainOptions,
    nodes: &mut Vec<NodeExplanation>,
    ops: &mut Vec<String>,
) -> Result<(), ExplainError> {
    let sat = saturate_graph(graph, rules, &options.convert)?;
    let best = best_nodes(&sat.seeded.egraph, &LayerCount::new(rules));
    let cx = Context { graph, set, rules, sat: &sat, best: &best };
    match cx.select(&options.selection) {
        Ok(selected) => nodes.extend(selected.into_iter().map(|name| cx.node(&name))),
        Err(ExplainError::UnknownOp { .. }) => ops.extend(sat.seeded.nodes.values().map(|n| n.op.clone())),
        Err(e) => return Err(e),
    }
    for region in region_graphs_of(graph, &sat, rules)? {
        explain_region(&region, set, rules, options, nodes, ops)?;
    }
    Ok(())
}

/// The region graphs of the loops and kept conds `convert` converts in `graph` (the seeded
/// ones), in the seeding order: condition then body, then branch then else.
fn region_graphs_of(graph: &Graph, sat: &Saturated, rules: &Compiled) -> Result<Vec<Graph>, ExplainError> {
    let mut out = Vec::new();
    for (name, n) in &sat.seeded.nodes {
        let Some(id) = graph.find(name) else { continue };
        if crate::rewrite::regions::LOOP_OPS.contains(&n.op.as_str()) {
            out.extend(crate::rewrite::regions::region_graphs(graph, id, rules)?);
        } else if sat.branches.contains_key(name) {
            out.extend(crate::rewrite::branches::region_graphs(graph, id, rules)?);
        }
    }
    Ok(out)
}

/// The region graph (condition or body of a loop, then or else branch of a kept cond,
/// recursively) whose node names start like `name`: `WHILE/cond/...`, `WHILE/body/...`,
/// `IF/then/...` or `IF/else/...`.
fn region_holding(graph: &Graph, name: &str, rules: &Compiled) -> Result<Option<Graph>, ExplainError> {
    for id in graph.node_ids() {
        let n = graph.node(id);
        let (tags, regions): ([&str; 2], [Graph; 2]) = if crate::rewrite::regions::LOOP_OPS.contains(&n.op.as_str()) {
            if !name.starts_with(&format!("{}/", n.name)) {
                continue;
            }
            (["cond", "body"], crate::rewrite::regions::region_graphs(graph, id, rules)?)
        } else if crate::ir::functions::is_kept_branch_node(n) {
            if !name.starts_with(&format!("{}/", n.name)) {
                continue;
            }
            (["then", "else"], crate::rewrite::branches::region_graphs(graph, id, rules)?)
        } else {
            continue;
        };
        for (tag, region) in tags.into_iter().zip(regions) {
            if !name.starts_with(&format!("{}/{tag}/", n.name)) {
                continue;
            }
            if region.find(name).is_some() {
                return Ok(Some(region));
            }
            if let Some(inner) = region_holding(&region, name, rules)? {
                return Ok(Some(inner));
            }
            return Ok(Some(region));
        }
    }
    Ok(None)
}

struct Context<'a> {
    graph: &'a Graph,
    set: &'a RuleSet,
    rules: &'a Compiled,
    sat: &'a Saturated,
    best: &'a HashMap<Id, Node>,
}

/// A rule or registration of the set, with its source.
struct Candidate<'a> {
    file: FileId,
    item: &'a Item,
    lhs: &'a Pattern,
}

fn suggestions<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> String {
    let mut near: Vec<(usize, &str)> = names.map(|n| (crate::rules::check::edit_distance(n, wanted), n)).filter(|(d, _)| *d <= 3).collect();
    near.sort();
    near.first().map(|(_, n)| format!(" (did you mean `{n}`?)")).unwrap_or_default()
}

impl<'a> Context<'a> {
    fn class(&self, id: Id) -> Id {
        self.sat.seeded.egraph.find(id)
    }

    /// The names of the selected seeded nodes, in topological order.
    fn select(&self, selection: &Selection) -> Result<Vec<String>, ExplainError> {
        let nodes = &self.sat.seeded.nodes;
        match selection {
            Selection::Node(name) => {
                if nodes.contains_key(name) {
                    Ok(vec![name.clone()])
                } else if self.graph.find(name).is_some() {
                    Err(ExplainError::NotConverted { name: name.clone() })
                } else {
                    let hint = suggestions(name, self.graph.node_ids().map(|id| self.graph.node(id).name.as_str()));
                    Err(ExplainError::UnknownNode { name: name.clone(), hint })
                }
            }
            Selection::Op(op) => {
                let found: Vec<String> = nodes.iter().filter(|(_, n)| n.op == *op).map(|(name, _)| name.clone()).collect();
                if found.is_empty() {
                    let mut ops: Vec<&str> = nodes.values().map(|n| n.op.as_str()).collect();
                    ops.sort();
                    ops.dedup();
                    return Err(ExplainError::UnknownOp { op: op.clone(), hint: suggestions(op, ops.into_iter()) });
                }
                Ok(found)
            }
            Selection::CustomLayers => Ok(nodes
                .iter()
                .filter(|(name, n)| {
                    let class = self.class(n.class);
                    match self.extracted(name, class) {
                        Some(Node::Custom { reg, .. }) => self.registration(reg).and_then(|r| r.root_op()) == Some(n.op.as_str()),
                        Some(_) => false,
                        // Unconverted: blame the node where the chain breaks, not its consumers.
                        None => self.input_classes(name).iter().all(|c| *c != class && self.best.contains_key(c)),
                    }
                })
                .map(|(name, _)| name.clone())
                .collect()),
        }
    }

    /// What the extraction chose for node `name` (its class `class`). A node of several
    /// outputs is extracted output by output: its own class holds the tuple, and each output
    /// the model uses is a projection of it with a class of its own. Such a node is judged by
    /// those (a custom layer if any of them is one), as `convert` emits them.
    fn extracted(&self, name: &str, class: Id) -> Option<&Node> {
        if let Some(n) = self.best.get(&class) {
            return Some(n);
        }
        let id = self.graph.find(name)?;
        let outputs = self.graph.node(id).outputs.len();
        if outputs < 2 {
            return None;
        }
        let used: Vec<&Node> = (0..outputs)
            .filter_map(|k| self.sat.seeded.outlets.get(&self.graph.outlet_name(crate::ir::Outlet { node: id, output: k })))
            .filter_map(|&c| self.best.get(&self.class(c)))
            .collect();
        used.iter().copied().find(|n| matches!(n, Node::Custom { .. })).or_else(|| used.first().copied())
    }

    fn registration(&self, name: &str) -> Option<&'a Arc<CompiledRule>> {
        self.rules.registrations.iter().find(|r| r.name == name)
    }

    fn input_classes(&self, name: &str) -> Vec<Id> {
        let Some(id) = self.graph.find(name) else { return vec![] };
        self.graph
            .inputs(id)
            .into_iter()
            .filter_map(|o| self.sat.seeded.outlets.get(&self.graph.outlet_name(o)).map(|&c| self.class(c)))
            .collect()
    }

    fn node(&self, name: &str) -> NodeExplanation {
        let seeded = &self.sat.seeded.nodes[name];
        let class = self.class(seeded.class);
        let extracted = self.extracted(name, class);
        let kind = match extracted {
            None | Some(Node::Tf { .. }) => OutcomeKind::Unconverted,
            Some(Node::Custom { .. }) => OutcomeKind::CustomLayer,
            Some(Node::Nn { .. }) => OutcomeKind::Composite,
            Some(_) => OutcomeKind::Forwarded,
        };
        let outcome = Outcome { kind, extracted: extracted.map(|n| n.to_string()) };
        let mut rules: Vec<(RuleExplanation, (u8, usize), FileId, usize)> =
            self.candidates(&seeded.op).into_iter().map(|c| self.rule(name, &seeded.op, class, &c)).collect();
        // Near misses first, then by status, the closest failures first, then file order.
        rules.sort_by(|a, b| (a.0.status, std::cmp::Reverse(a.1), a.2, a.3).cmp(&(b.0.status, std::cmp::Reverse(b.1), b.2, b.3)));
        let rules: Vec<RuleExplanation> = rules.into_iter().map(|r| r.0).collect();
        let registration = self.registration_outcome(&seeded.op, kind, extracted, &rules);
        NodeExplanation { name: name.to_string(), op: seeded.op.clone(), inputs: self.inputs(name), outputs: self.outputs(name), outcome, rules, registration }
    }

    fn inputs(&self, name: &str) -> Vec<InputTensor> {
        let Some(id) = self.graph.find(name) else { return vec![] };
        self.tensors(self.graph.inputs(id))
    }

    /// The node's own outputs: what the rules see of it (a guard on `rank(x)` of the node
    /// after it reads these facts).
    fn outputs(&self, name: &str) -> Vec<InputTensor> {
        let Some(id) = self.graph.find(name) else { return vec![] };
        let n = self.graph.node(id).outputs.len();
        self.tensors((0..n).map(|k| crate::ir::Outlet { node: id, output: k }).collect())
    }

    fn tensors(&self, outlets: Vec<crate::ir::Outlet>) -> Vec<InputTensor> {
        outlets
            .into_iter()
            .map(|o| {
                let fact = self.graph.fact(o);
                InputTensor {
                    tensor: self.graph.outlet_name(o),
                    dtype: fact.and_then(|f| f.dtype).map(|d| d.to_string()),
                    shape: match fact.map(|f| &f.shape) {
                        Some(s @ Shape::Ranked(_)) => s.to_string().replace(' ', ""),
                        _ => "?".into(),
                    },
                    constant: fact.and_then(|f| f.value.as_ref()).map(short_tensor),
                }
            })
            .collect()
    }

    /// Every live rule and registration rooted at `op`, in file order, then those an override
    /// of `op` switched off because their patterns contain it further down.
    fn candidates(&self, op: &str) -> Vec<Candidate<'a>> {
        let mut out = self.rooted(op);
        out.extend(self.set.items().filter_map(|(file, item)| {
            let lhs = match item {
                Item::Rule(r) => &r.lhs,
                Item::Custom(c) => &c.lhs,
                Item::Infer(_) => return None,
            };
            let inner = root(lhs).map(|(o, _)| o) != Some(op) && lhs.ops().contains(&op);
            (inner && self.rules.disabled_by_override.contains(&item.name().name)).then_some(Candidate { file, item, lhs })
        }));
        out
    }

    fn rooted(&self, op: &str) -> Vec<Candidate<'a>> {
        self.set
            .items()
            .filter_map(|(file, item)| {
                let lhs = match item {
                    Item::Rule(r) => &r.lhs,
                    Item::Custom(c) => &c.lhs,
                    Item::Infer(_) => return None,
                };
                (root(lhs).map(|(o, _)| o) == Some(op)).then_some(Candidate { file, item, lhs })
            })
            .collect()
    }

    fn sources(&self) -> &Sources {
        &self.set.sources
    }

    /// The rule as it runs: compiled by the rule set, or compiled here when an override
    /// switched it off (to say whether it would have matched).
    fn compiled(&self, c: &Candidate) -> (Option<Arc<CompiledRule>>, RuleStatus) {
        let name = &c.item.name().name;
        if let Some(r) = self.rules.rules.iter().chain(&self.rules.registrations).find(|r| r.name == *name) {
            return (Some(r.clone()), RuleStatus::Failed);
        }
        if self.rules.disabled_by_override.contains(name) {
            return (compile_item(c.item).map(Arc::new), RuleStatus::DisabledByOverride);
        }
        (None, RuleStatus::Dropped)
    }

    fn rule(&self, node: &str, op: &str, class: Id, c: &Candidate) -> (RuleExplanation, (u8, usize), FileId, usize) {
        let name = c.item.name();
        let kind = if matches!(c.item, Item::Custom(_)) { RuleKind::Registration } else { RuleKind::Rule };
        let location = locate(self.sources(), c.file, name.span);
        // A rule rooted at `Op(...).N` matches output N's class.
        let target = match root(c.lhs) {
            Some((_, Some(n))) => self.sat.seeded.outlets.get(&format!("{node}:{n}")).map(|&id| self.class(id)).unwrap_or(class),
            _ => class,
        };
        let (compiled, mut status) = self.compiled(c);
        if status == RuleStatus::DisabledByOverride && root(c.lhs).map(|r| r.0) != Some(op) {
            // Rooted elsewhere: it would rewrite a bigger term than this node, so there is
            // nothing to match here; say what switched it off.
            let root_op = root(c.lhs).map_or("?", |r| r.0);
            let note = format!("switched off by {}: its pattern (rooted at {root_op}) contains this op", self.override_of(c.lhs));
            let offset = name.span.start;
            return (RuleExplanation { name: name.name.clone(), kind, status, location, failure: None, note: Some(note) }, (0, 0), c.file, offset);
        }
        let mut failure = None;
        let mut note = None;
        let mut closeness = (0, 0);
        let egraph = &self.sat.seeded.egraph;
        match &compiled {
            None => note = Some("dropped by the checker: a guard is false whatever the graph (see `mlrewrite rules check`)".into()),
            Some(rule) => match rule.try_class(egraph, target) {
                Ok(_) => {
                    if status == RuleStatus::DisabledByOverride {
                        note = Some(format!("switched off by {}; it matches this node", self.override_of(c.lhs)));
                    } else {
                        let applied = self.sat.saturation.applied.contains_key(&rule.name);
                        status = if applied || !self.sat.saturation.stop.is_limit() { RuleStatus::Fired } else { RuleStatus::NotRun };
                        note = Some(if status == RuleStatus::NotRun {
                            format!("matches, but saturation stopped before it ran ({})", self.sat.saturation.stop)
                        } else {
                            self.fired_note(rule, self.best.get(&target))
                        });
                    }
                }
                Err(f) => {
                    closeness = depth(&f);
                    if status == RuleStatus::DisabledByOverride {
                        note = Some(format!("switched off by {}; it would not match anyway", self.override_of(c.lhs)));
                    } else if self.only_obstacle(c.item, &f, target) {
                        status = RuleStatus::NearMiss;
                    } else if self.sat.saturation.stop.is_limit() && matches!(f.reason, FailReason::NoOp { .. }) {
                        note = Some(format!(
                            "saturation stopped early ({}): a rewrite that would have produced the expected op may not have run",
                            self.sat.saturation.stop
                        ));
                    }
                    failure = Some(self.failure(c, f));
                }
            },
        }
        let offset = name.span.start;
        (RuleExplanation { name: name.name.clone(), kind, status, location, failure, note }, closeness, c.file, offset)
    }

    /// True when the failure is a guard and the rule without that guard applies, or the
    /// right-hand side refused after every guard passed: the matcher itself decides.
    fn only_obstacle(&self, item: &Item, f: &MatchFailure, class: Id) -> bool {
        match &f.reason {
            FailReason::Build { .. } => true,
            FailReason::Guard { span, .. } => {
                let Some(relaxed) = without_guard(item, *span) else { return false };
                compile_item(&relaxed).is_some_and(|r| r.try_class(&self.sat.seeded.egraph, class).is_ok())
            }
            _ => false,
        }
    }

    /// The override registration that claims an op of `lhs`.
    fn override_of(&self, lhs: &Pattern) -> String {
        let ops = lhs.ops();
        self.rules
            .registrations
            .iter()
            .find(|r| r.is_override() && r.root_op().is_some_and(|o| ops.contains(&o)))
            .map_or("an override registration".into(), |r| format!("override registration `{}`", r.name))
    }

    fn fired_note(&self, rule: &CompiledRule, extracted: Option<&Node>) -> String {
        let Some(e) = extracted else {
            return "matched, but its result has no extractable term (an input of it is not converted)".into();
        };
        let builds: Option<String> = match &rule.action {
            Action::Custom(reg) => Some(format!("custom {}", reg.name)),
            Action::Rhs(Rhs::Term(Term::Op { op, .. })) => Some(op.name.clone()),
            Action::Rhs(Rhs::Term(Term::Var(v))) => return format!("matched: the node equals `{}`; extracted `{e}`", v.name),
            Action::Rhs(Rhs::Term(Term::Const(..))) => Some("const".into()),
            _ => None,
        };
        let head = e.to_string();
        let head_name = head.split(' ').take(if head.starts_with("custom") { 2 } else { 1 }).collect::<Vec<_>>().join(" ");
        match builds {
            Some(b) if b == head_name => match &rule.action {
                Action::Custom(reg) => format!("matched; extracted: custom layer {}", reg.class_name),
                _ => format!("matched; extracted: `{head}`"),
            },
            Some(b) => {
                let why = match e {
                    Node::Custom { reg, .. } if self.registration(reg).is_some_and(|r| matches!(&r.action, Action::Custom(c) if c.override_)) => {
                        "an override registration forces its custom layer"
                    }
                    _ if matches!(rule.action, Action::Custom(_)) => "a custom layer costs more than any composite",
                    _ => "it is cheaper (fewer layers)",
                };
                format!("matched (built `{b}`), but extraction preferred `{head}`: {why}")
            }
            None => format!("matched; extracted `{head}`"),
        }
    }

    fn failure(&self, c: &Candidate, f: MatchFailure) -> Failure {
        let message = f.to_string();
        let sources = self.sources();
        let at_path = |path: &[usize]| locate(sources, c.file, sub_pattern(c.lhs, path).span());
        let (stage, expected, found, guard, detail, at) = match f.reason {
            FailReason::NoOp { expected, found } => {
                let at = if expected == "a match" { locate(sources, c.file, op_span(c.lhs)) } else { at_path(&f.path) };
                (FailureStage::Pattern, Some(expected), Some(found.join(" | ")), None, None, at)
            }
            FailReason::Attr { op: _, attr, expected, found } => {
                let at = locate(sources, c.file, attr_span(sub_pattern(c.lhs, &f.path), &attr));
                (FailureStage::Attribute, Some(expected), Some(found.unwrap_or_else(|| "missing".into())), None, None, at)
            }
            FailReason::Conflict { var: _, first, second } => (FailureStage::Conflict, Some(first), Some(second), None, None, at_path(&f.path)),
            FailReason::Guard { guard, detail, span } => (FailureStage::Guard, None, None, Some(guard), Some(detail), locate(sources, c.file, span)),
            FailReason::Build { detail } => {
                let span = match c.item {
                    Item::Rule(r) => match &r.rhs {
                        Rhs::Term(t) => t.span(),
                        Rhs::Outputs(_, s) => *s,
                    },
                    Item::Custom(reg) => reg.field("parameters").map_or(reg.name.span, |f| f.name.span),
                    Item::Infer(i) => i.span,
                };
                (FailureStage::Build, None, None, None, Some(detail), locate(sources, c.file, span))
            }
        };
        Failure { stage, path: f.path, message, expected, found, guard, detail, at }
    }

    fn registration_outcome(&self, op: &str, kind: OutcomeKind, extracted: Option<&Node>, rules: &[RuleExplanation]) -> Option<RegistrationOutcome> {
        match (kind, extracted) {
            (OutcomeKind::CustomLayer, Some(Node::Custom { reg, .. })) => {
                let compiled = self.registration(reg)?;
                let Action::Custom(r) = &compiled.action else { return None };
                let location = self
                    .set
                    .items()
                    .find(|(_, i)| matches!(i, Item::Custom(c) if c.name.name == **reg))
                    .map(|(f, i)| locate(self.sources(), f, i.name().span));
                let status = if r.override_ { RegistrationStatus::Override } else { RegistrationStatus::LastResort };
                Some(RegistrationOutcome { status, name: Some(reg.to_string()), class_name: Some(r.class_name.clone()), location, help: None })
            }
            (OutcomeKind::Unconverted, _) => {
                let failed: Vec<&str> = rules.iter().filter(|r| r.kind == RuleKind::Registration).map(|r| r.name.as_str()).collect();
                let help = if failed.is_empty() {
                    format!(
                        "no rule and no registration converts {op}: add a rule rewriting it into NN layers, or a registration \
                         mapping it to a custom layer the app provides, in a .rules file of a directory passed with --rules \
                         (see docs/rules.md), e.g.\n{}",
                        registration_skeleton(op)
                    )
                } else {
                    format!(
                        "registration{} {} did not match this node (see above); relax its pattern or guards, or add a rule \
                         rewriting {op} into NN layers",
                        if failed.len() == 1 { "" } else { "s" },
                        failed.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                    )
                };
                Some(RegistrationOutcome { status: RegistrationStatus::None, name: None, class_name: None, location: None, help: Some(help) })
            }
            _ => None,
        }
    }
}

/// Orders failures by how far the matcher got: guards and right-hand sides after patterns,
/// deeper pattern positions after shallower ones.
fn depth(f: &MatchFailure) -> (u8, usize) {
    let stage = match f.reason {
        FailReason::NoOp { .. } | FailReason::Attr { .. } | FailReason::Conflict { .. } => 0,
        FailReason::Guard { .. } => 1,
        FailReason::Build { .. } => 2,
    };
    (stage, f.path.len())
}

fn compile_item(item: &Item) -> Option<CompiledRule> {
    match item {
        Item::Rule(r) => Some(CompiledRule::from_rule(r)),
        Item::Custom(c) => CompiledRule::from_registration(c, &TfOpDefs).ok(),
        Item::Infer(_) => None,
    }
}

/// The item with the `where` guard at `span` removed (`None` for a `let`, which later
/// clauses may need).
fn without_guard(item: &Item, span: ast::Span) -> Option<Item> {
    let same = |e: &ast::Expr| e.span().start == span.start && e.span().end == span.end;
    let strip = |clauses: &[Clause]| -> Option<Vec<Clause>> {
        let mut found = false;
        let out = clauses
            .iter()
            .map(|c| match c {
                Clause::Where(gs) => {
                    let kept: Vec<ast::Expr> = gs.iter().filter(|g| !same(g)).cloned().collect();
                    found |= kept.len() != gs.len();
                    Clause::Where(kept)
                }
                other => other.clone(),
            })
            .collect();
        found.then_some(out)
    };
    match item {
        Item::Rule(r) => Some(Item::Rule(ast::Rule { clauses: strip(&r.clauses)?, ..r.clone() })),
        Item::Custom(c) => Some(Item::Custom(ast::Registration { clauses: strip(&c.clauses)?, ..c.clone() })),
        Item::Infer(_) => None,
    }
}

/// A registration to start from, with the op's inputs from its OpDef.
fn registration_skeleton(op: &str) -> String {
    let inputs: Vec<String> = TfOpDefs.op(op).map(|s| s.inputs.iter().map(|i| i.to_lowercase()).collect()).unwrap_or_else(|| vec!["x".into()]);
    format!(
        "    custom {op}:\n        {op}({args})\n        class_name = \"{op}\"\n        input_order = [{args}]\n        parameters {{ }}\n        description = \"{op} (provided by the app)\"",
        args = inputs.join(", ")
    )
}

/// A constant in a few characters: the values when there are at most 6, else the first four.
fn short_tensor(t: &crate::ir::Tensor) -> String {
    let float = t.dtype().is_float();
    let show = |v: f64| if float { format!("{}", v as f32) } else { format!("{}", v as i64) };
    match t.to_f64_vec() {
        Some(v) if t.rank() == 0 && v.len() == 1 => show(v[0]),
        Some(v) if v.len() <= 6 => format!("[{}]", v.iter().map(|&x| show(x)).collect::<Vec<_>>().join(", ")),
        Some(v) => format!("[{}, ... ({} values)]", v.iter().take(4).map(|&x| show(x)).collect::<Vec<_>>().join(", "), v.len()),
        None => format!("{} tensor of shape {:?}", t.dtype(), t.shape()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeleton_uses_the_opdef_input_names_and_checks() {
        let s = registration_skeleton("Lgamma");
        assert!(s.contains("Lgamma(x)") && s.contains("input_order = [x]"), "{s}");
        // What `explain` tells users to add must be a valid rule file.
        for op in ["Lgamma", "TopKV2", "MatrixDeterminant"] {
            let text: String = registration_skeleton(op).lines().map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l))).collect();
            let mut sources = crate::rules::diag::Sources::default();
            sources.add("skeleton.rules", text.clone(), crate::rules::diag::Origin::User);
            let set = RuleSet::from_sources(sources, &TfOpDefs);
            assert_eq!(set.errors(), 0, "{text}\n{:?}", set.diagnostics);
        }
    }

    #[test]
    fn constants_are_shortened() {
        let t = crate::ir::Tensor::vector((0..10).map(|i| i as f32 * 0.5).collect::<Vec<f32>>());
        assert_eq!(short_tensor(&t), "[0, 0.5, 1, 1.5, ... (10 values)]");
        assert_eq!(short_tensor(&crate::ir::Tensor::scalar(3i32)), "3");
    }
}
