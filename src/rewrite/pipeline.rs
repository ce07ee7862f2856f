//! The rewrite half of `mlrewrite convert`: seed the e-graph from the IR, saturate it with the
//! rules, extract the cheapest program and hand it over as a [`TermDag`].
//!
//! It owns the choice of extraction roots (graph outputs, the tensors asked for with
//! `--outputs`, every placeholder) and the one error users meet most: TF ops that no rule
//! converts, listed all at once with the nodes using them.

use super::analysis::TfAnalysis;
use super::cost::LayerCount;
use super::extract::extract_dag;
use super::lang::Node;
use super::saturate::{saturate, Limits, RuleFailure, SaturationReport, StopReason};
use super::seed::{seed, SeedError, Seeded};
use super::term::{Term, TermDag, TermInput, TermOutput};
use crate::ir::{self, DType, Graph, Outlet, Shape};
use crate::rules::compile::{ApplyFailure, Budget, FailureSink};
use crate::rules::load::{Compiled, RulesError};
use egg::{EGraph, Id, Language};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

/// How to convert.
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    pub limits: Limits,
    /// Extra model outputs: TF tensors (`block_5_add/add`, `TopKV2:1`), in TF's layout.
    pub outputs: Vec<String>,
    /// Told when seeding, saturation and extraction start (the CLI's progress line).
    pub progress: crate::progress::Progress,
}

/// What the rewrite phases did and how long they took.
#[derive(Debug, Clone)]
pub struct Stats {
    pub seed: Duration,
    pub saturate: Duration,
    pub extract: Duration,
    /// TF nodes seeded (those the outputs depend on, plus placeholders).
    pub seeded_nodes: usize,
    pub saturation: SaturationReport,
    /// Cost of the extracted program (see [`super::cost`]).
    pub cost: f64,
}

/// TF ops with neither a composite nor a registration, with the nodes using them.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsupported {
    /// Op -> node names, sorted.
    pub ops: BTreeMap<String, Vec<String>>,
    /// Set when a budget stopped saturation: more rules might have applied.
    pub stopped_early: Option<StopReason>,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} TensorFlow op(s) have no conversion to Core ML layers:", self.ops.len())?;
        for (op, nodes) in &self.ops {
            let shown: Vec<&str> = nodes.iter().take(5).map(String::as_str).collect();
            let more = if nodes.len() > shown.len() { format!(", and {} more", nodes.len() - shown.len()) } else { String::new() };
            writeln!(f, "  {op} ({} node{}): {}{more}", nodes.len(), if nodes.len() == 1 { "" } else { "s" }, shown.join(", "))?;
        }
        if let Some(stop) = &self.stopped_early {
            writeln!(f, "note: saturation stopped early ({stop}); raising --node-limit, --iter-limit or --time-limit may let more rules apply")?;
        }
        write!(
            f,
            "help: add a rule rewriting each op into NN layers, or a `custom` registration mapping it to a custom layer, \
             in a .rules file of a directory passed with --rules (see docs/rules.md); \
             `mlrewrite explain MODEL.pb` shows which rules came close and why they did not apply"
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error("--outputs: no tensor `{name}` in the graph{hint}")]
    UnknownTensor { name: String, hint: String },
    #[error("output `{name}` has no known dtype")]
    UnknownOutputDType { name: String },
    #[error("output `{name}` ({op}) is {dtype}: Core ML model outputs cannot be complex; output its real and imaginary parts (tf.math.real, tf.math.imag) or tf.abs instead")]
    ComplexOutput { name: String, op: String, dtype: DType },
    #[error("the graph has no outputs (every node is consumed by another)")]
    NoOutputs,
    #[error("{0}")]
    Unsupported(Unsupported),
    #[error(transparent)]
    Loop(#[from] super::regions::LoopError),
    #[error(transparent)]
    Branch(#[from] super::branches::BranchError),
}

/// A requested model output.
struct Root {
    name: String,
    outlet: Outlet,
    /// Asked for with `--outputs` rather than a graph output.
    inner: bool,
}

/// Resolves `name`, `name:0` or `name:i` to an outlet of `graph`.
fn resolve(graph: &Graph, tensor: &str) -> Result<Outlet, ConvertError> {
    let (node, output) = match tensor.rsplit_once(':') {
        Some((n, i)) if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) => (n, i.parse::<usize>().unwrap_or(usize::MAX)),
        _ => (tensor, 0),
    };
    let unknown = |hint: String| ConvertError::UnknownTensor { name: tensor.to_string(), hint };
    let id = graph.find(node).ok_or_else(|| {
        let mut near: Vec<(usize, &str)> = graph
            .node_ids()
            .map(|id| graph.node(id).name.as_str())
            .map(|n| (crate::rules::check::edit_distance(n, node), n))
            .filter(|(d, _)| *d <= 3)
            .collect();
        near.sort();
        unknown(near.first().map(|(_, n)| format!(" (did you mean `{n}`?)")).unwrap_or_default())
    })?;
    let n = graph.node(id).outputs.len();
    if output >= n {
        return Err(unknown(format!(" (`{node}` has {n} output(s))")));
    }
    Ok(Outlet { node: id, output })
}

/// The model outputs: every graph output, then the extra tensors (without duplicates).
fn roots(graph: &Graph, extra: &[String]) -> Result<Vec<Root>, ConvertError> {
    let mut roots: Vec<Root> = vec![];
    for id in graph.outputs_of_graph() {
        for output in 0..graph.node(id).outputs.len() {
            let outlet = Outlet { node: id, output };
            let name = if output == 0 { graph.node(id).name.clone() } else { graph.outlet_name(outlet) };
            roots.push(Root { name, outlet, inner: false });
        }
    }
    if roots.is_empty() {
        return Err(ConvertError::NoOutputs);
    }
    for t in extra {
        let outlet = resolve(graph, t)?;
        let name = t.strip_suffix(":0").unwrap_or(t).to_string();
        if !roots.iter().any(|r| r.outlet == outlet) {
            roots.push(Root { name, outlet, inner: true });
        }
    }
    // A complex tensor exists only as its real halves inside the model (rules/signal.rules).
    for r in &roots {
        if let Some(dtype @ (DType::Complex64 | DType::Complex128)) = graph.fact(r.outlet).and_then(|f| f.dtype) {
            return Err(ConvertError::ComplexOutput { name: r.name.clone(), op: graph.node(r.outlet.node).op.clone(), dtype });
        }
    }
    Ok(roots)
}

/// The e-graph after saturation with the maps back to the TF graph: what extraction reads,
/// and what `explain` re-runs the matcher on (so explanations come from the same e-graph).
pub struct Saturated {
    /// The saturated e-graph (rebuilt) with the seeding maps.
    pub seeded: Seeded,
    pub saturation: SaturationReport,
    pub seed_time: Duration,
    pub saturate_time: Duration,
    /// The converted loops, by node name (their `loop` nodes are in the e-graph).
    pub regions: BTreeMap<String, super::regions::LoopRegion>,
    /// The converted conds kept for `branch` layers, by node name (their `branch` nodes are
    /// in the e-graph).
    pub branches: BTreeMap<String, super::branches::BranchRegion>,
}

/// Seeds `graph` for the model outputs of `options` and saturates it with `rules`.
pub fn saturate_graph(graph: &Graph, rules: &Compiled, options: &ConvertOptions) -> Result<Saturated, ConvertError> {
    let roots = roots(graph, &options.outputs)?;
    saturate_roots(graph, &roots, rules, options)
}

fn saturate_roots(graph: &Graph, roots: &[Root], rules: &Compiled, options: &ConvertOptions) -> Result<Saturated, ConvertError> {
    let t = Instant::now();
    options.progress.phase(crate::progress::Phase::Seed);
    let analysis = TfAnalysis::new(rules.shapes.clone());
    let outlets: Vec<Outlet> = roots.iter().map(|r| r.outlet).collect();
    let seeded = seed(graph, &outlets, analysis)?;
    let seed_time = t.elapsed();

    let t = Instant::now();
    options.progress.phase(crate::progress::Phase::Saturate);
    // Rules do each weight-sized computation once per distinct input while this lives.
    let _memo = crate::rules::memo::scope();
    let failures = FailureSink::default();
    // The rules stop inside an iteration too when the budget is spent (egg checks only between
    // rules); `saturate` reports which limit it was.
    let budget = Budget::new(options.limits.nodes, Instant::now().checked_add(options.limits.time));
    let (rewrites, profiles) = rules.rewrites_profiled::<TfAnalysis>(failures.clone(), &budget)?;
    let Seeded { egraph, nodes, outlets, inputs, origins } = seeded;
    let (mut egraph, mut saturation) = saturate(egraph, &rewrites, &options.limits);
    let mut rule_times: Vec<_> = profiles.iter().map(|(name, p)| (name.clone(), p.snapshot())).filter(|(_, t)| t.total() > Duration::ZERO || t.matches > 0).collect();
    rule_times.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then_with(|| a.0.cmp(&b.0)));
    saturation.rule_times = rule_times;
    let failures = std::mem::take(&mut *failures.lock().unwrap_or_else(|e| e.into_inner()));
    saturation.failures = name_failures(&egraph, &origins, failures);
    // Loops: each region converted on its own, then one `loop` node joins the loop's class
    // (here, so `explain` sees the same e-graph as `convert`).
    let mut regions = BTreeMap::new();
    let mut branches = BTreeMap::new();
    for (name, n) in &nodes {
        let is_loop = super::regions::LOOP_OPS.contains(&n.op.as_str());
        if !is_loop && !super::branches::BRANCH_OPS.contains(&n.op.as_str()) {
            continue;
        }
        let Some(id) = graph.find(name) else { continue };
        let class = egraph.find(n.class);
        let args = egraph[class].nodes.iter().find_map(|e| match e {
            Node::Tf { op, args, .. } if **op == *n.op => Some(args.clone()),
            _ => None,
        });
        let Some(args) = args else { continue };
        let params = super::lang::Attrs::new(vec![("region".into(), crate::rules::value::Value::Str(name.clone()))]);
        let kind = if is_loop {
            let region = super::regions::convert_loop(graph, id, rules, options)?;
            // Rules applied inside loop bodies count as exercised (list writes happen there).
            for (rule, n) in &region.applied {
                *saturation.applied.entry(rule.clone()).or_insert(0) += n;
            }
            regions.insert(name.clone(), region);
            "loop"
        } else {
            branches.insert(name.clone(), super::branches::convert_branch(graph, id, rules, options)?);
            "branch"
        };
        let l = egraph.add(Node::Nn { kind: kind.into(), params, args });
        egraph.union(l, class);
    }
    egraph.rebuild();
    (saturation.memo_hits, saturation.memo_misses) = crate::rules::memo::counts();
    let saturate_time = t.elapsed();
    Ok(Saturated { seeded: Seeded { egraph, nodes, outlets, inputs, origins }, saturation, seed_time, saturate_time, regions, branches })
}

/// The failures of a run, once per rule, class and reason, with the TF nodes of each class.
fn name_failures(egraph: &EGraph<Node, TfAnalysis>, origins: &[(Id, String)], failures: Vec<ApplyFailure>) -> Vec<RuleFailure> {
    let mut names: HashMap<Id, Vec<String>> = HashMap::new();
    for (class, name) in origins {
        names.entry(egraph.find(*class)).or_default().push(name.clone());
    }
    let unique: BTreeSet<RuleFailure> = failures
        .into_iter()
        .map(|f| {
            let mut nodes = names.get(&egraph.find(f.class)).cloned().unwrap_or_default();
            nodes.sort();
            RuleFailure { rule: f.rule, nodes, reason: f.reason }
        })
        .collect();
    unique.into_iter().collect()
}

/// The dtypes and shapes of an extracted class's outputs, as a [`Term`] carries them (one
/// unknown output when the analysis knows nothing).
pub(crate) fn output_types(egraph: &EGraph<Node, TfAnalysis>, class: Id) -> (Vec<Option<crate::ir::DType>>, Vec<Shape>) {
    let facts = &egraph[class].data.outputs;
    if facts.is_empty() {
        (vec![None], vec![Shape::Unknown])
    } else {
        (facts.iter().map(|f| f.dtype).collect(), facts.iter().map(|f| f.shape.clone()).collect())
    }
}

/// Converts `graph` (imported and inferred) with `rules`.
pub fn convert(graph: &Graph, rules: &Compiled, options: &ConvertOptions) -> Result<(TermDag, Stats), ConvertError> {
    let roots = roots(graph, &options.outputs)?;
    let Saturated { seeded, saturation, seed_time, saturate_time, regions, branches } = saturate_roots(graph, &roots, rules, options)?;
    let seeded_nodes = seeded.nodes.len();
    let Seeded { egraph, nodes, outlets: outlet_classes, inputs, origins } = seeded;

    let t = Instant::now();
    options.progress.phase(crate::progress::Phase::Extract);
    let class_of = |name: &str| outlet_classes.get(name).map(|&c| egraph.find(c));
    let mut output_classes = vec![];
    for r in &roots {
        let class = class_of(&graph.outlet_name(r.outlet)).ok_or_else(|| ConvertError::UnknownTensor { name: r.name.clone(), hint: String::new() })?;
        output_classes.push(class);
    }
    let input_classes: Vec<Id> = inputs.iter().map(|(_, c)| egraph.find(*c)).collect();
    let all_roots: Vec<Id> = output_classes.iter().chain(&input_classes).copied().collect();
    let cost_model = LayerCount::new(rules);
    let extraction = extract_dag(&egraph, &all_roots, &cost_model).map_err(|e| {
        let mut ops: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for &class in &e.frontier {
            // The ops to blame: TF nodes of the class that do not just forward the class
            // itself (an `Identity` a rule merged with its input is not the problem).
            let blamed: Vec<&str> = egraph[class]
                .nodes
                .iter()
                .filter_map(|n| match n {
                    Node::Tf { op, args, .. } if !args.iter().any(|&a| egraph.find(a) == class) => Some(&**op),
                    _ => None,
                })
                .collect();
            let mut found = false;
            for (name, n) in &nodes {
                if egraph.find(n.class) == class && blamed.contains(&n.op.as_str()) {
                    ops.entry(n.op.clone()).or_default().push(name.clone());
                    found = true;
                }
            }
            if !found {
                for op in &blamed {
                    ops.entry(op.to_string()).or_default().push("(built by a rule)".into());
                }
            }
        }
        for v in ops.values_mut() {
            v.sort();
            v.dedup();
        }
        let stopped_early = saturation.stop.is_limit().then(|| saturation.stop.clone());
        ConvertError::Unsupported(Unsupported { ops, stopped_early })
    })?;

    // Origins: the TF names of each class, the first seeded first. The first name stays the
    // origin whatever it is (blob names derive from it); the other names are listed only for
    // nodes that compute the value, not for ones that forward it (an `Identity` after it).
    let forwards = |name: &str| {
        let node = name.split(':').next().unwrap_or(name);
        graph.find(node).is_some_and(|id| matches!(graph.node(id).op.as_str(), "Identity" | "StopGradient" | "Snapshot" | "PreventGradient" | "IdentityN"))
    };
    let mut origin: HashMap<Id, Vec<String>> = HashMap::new();
    for (c, name) in &origins {
        let names = origin.entry(egraph.find(*c)).or_default();
        if !names.contains(name) && (names.is_empty() || !forwards(name)) {
            names.push(name.clone());
        }
    }
    let mut dag = TermDag { regions, branches, ..TermDag::default() };
    let mut index: HashMap<Id, usize> = HashMap::new();
    for &class in &extraction.order {
        let node = extraction.choice[&class].clone().map_children(|c| Id::from(index[&egraph.find(c)]));
        let (dtypes, shapes) = output_types(&egraph, class);
        index.insert(class, dag.nodes.len());
        let replaces = origin.get(&class).cloned().unwrap_or_default();
        dag.nodes.push(Term { node, dtypes, shapes, origin: replaces.first().cloned(), replaces });
    }
    for ((name, _), class) in inputs.iter().zip(&input_classes) {
        let fact = graph.find(name).and_then(|id| graph.node(id).outputs.first()).cloned().unwrap_or_else(ir::Fact::unknown);
        let dtype = fact.dtype.ok_or_else(|| SeedError::UnknownInputDType { node: name.clone() })?;
        dag.inputs.push(TermInput { name: name.clone(), term: index[class], dtype, shape: fact.shape });
    }
    for (r, class) in roots.iter().zip(&output_classes) {
        let fact = graph.fact(r.outlet).cloned().unwrap_or_else(ir::Fact::unknown);
        let data = egraph[*class].data.single();
        let dtype: DType = fact.dtype.or_else(|| data.and_then(|d| d.dtype)).ok_or_else(|| ConvertError::UnknownOutputDType { name: r.name.clone() })?;
        let shape = match (&fact.shape, data) {
            (Shape::Unknown, Some(d)) => d.shape.clone(),
            (s, _) => s.clone(),
        };
        dag.outputs.push(TermOutput { name: r.name.clone(), term: index[class], dtype, shape, inner: r.inner });
    }
    let stats = Stats { seed: seed_time, saturate: saturate_time, extract: t.elapsed(), seeded_nodes, saturation, cost: extraction.cost };
    Ok((dag, stats))
}
