//! Saturation: the compiled rules run on the seeded e-graph with egg's `Runner`, within
//! explicit budgets (nodes, iterations, time). Hitting a budget is not an error: the e-graph
//! holds every rewrite found so far, extraction takes the best term in it, and the
//! [`SaturationReport`] says which budget stopped the run.

use super::analysis::TfAnalysis;
use super::lang::Node;
use crate::rules::compile::RuleTiming;
use egg::{BackoffScheduler, EGraph, Rewrite, Runner};
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// Budgets of one saturation run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Stop when the e-graph has more e-nodes than this.
    pub nodes: usize,
    /// Stop after this many iterations (one iteration applies every rule once).
    pub iterations: usize,
    pub time: Duration,
}

impl Default for Limits {
    /// Generous enough for the corpus models (which saturate in a few iterations), small
    /// enough that a rule set that loops (`a => f(a)`) stops within seconds.
    fn default() -> Limits {
        Limits { nodes: 200_000, iterations: 30, time: Duration::from_secs(20) }
    }
}

/// Why saturation stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// An iteration found nothing new: every rule that applies has been applied.
    Saturated,
    IterationLimit(usize),
    NodeLimit(usize),
    TimeLimit(Duration),
    /// Another reason reported by egg.
    Other(String),
}

impl StopReason {
    /// Whether a budget stopped the run before saturation.
    pub fn is_limit(&self) -> bool {
        !matches!(self, StopReason::Saturated)
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Saturated => f.write_str("saturated"),
            StopReason::IterationLimit(n) => write!(f, "iteration limit ({n}) reached"),
            StopReason::NodeLimit(n) => write!(f, "node limit ({n} e-nodes) reached"),
            StopReason::TimeLimit(t) => write!(f, "time limit ({:.1} s) reached", t.as_secs_f64()),
            StopReason::Other(m) => write!(f, "stopped: {m}"),
        }
    }
}

/// What a saturation run did.
#[derive(Debug, Clone, PartialEq)]
pub struct SaturationReport {
    pub stop: StopReason,
    pub iterations: usize,
    /// E-nodes and e-classes at the end.
    pub nodes: usize,
    pub classes: usize,
    /// Applications per rule that applied at least once, by rule name.
    pub applied: BTreeMap<String, usize>,
    pub time: Duration,
    /// Matches whose guards passed but whose right-hand side failed to build, once per rule,
    /// TF nodes and reason (filled by the pipeline, which knows the TF names of the classes).
    pub failures: Vec<RuleFailure>,
    /// What each iteration started from and did, in order.
    pub per_iteration: Vec<IterationStats>,
    /// Search and apply time and matches of every rule that was searched, slowest first
    /// (filled by the pipeline, which owns the rules' profiles).
    pub rule_times: Vec<(String, RuleTiming)>,
    /// Weight-sized function calls of rule guards and right-hand sides answered from the memo
    /// (`rules::memo`) and computed, over the whole conversion (filled by the pipeline).
    pub memo_hits: u64,
    pub memo_misses: u64,
}

/// One iteration of egg's runner: the e-graph it searched and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationStats {
    /// E-nodes and e-classes when the iteration started (egg records them before searching).
    pub nodes: usize,
    pub classes: usize,
    /// Applications that changed the e-graph, all rules together.
    pub applied: usize,
    pub search: Duration,
    pub apply: Duration,
    pub rebuild: Duration,
}

impl SaturationReport {
    /// Applications of the last iteration that ran: when a budget stopped the run, this many
    /// rewrites were still changing the e-graph, so the extracted cost may be higher than a
    /// saturated run's (0 means the run was about to saturate and nothing was lost).
    pub fn last_applied(&self) -> usize {
        self.per_iteration.last().map_or(0, |i| i.applied)
    }
}

/// A rule that matched but could not build its right-hand side: a warning of `convert`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleFailure {
    pub rule: String,
    /// The TF nodes whose value the matched e-class holds.
    pub nodes: Vec<String>,
    pub reason: String,
}

/// Runs `rewrites` on `egraph` within `limits`; the e-graph comes back rebuilt.
pub fn saturate(egraph: EGraph<Node, TfAnalysis>, rewrites: &[Rewrite<Node, TfAnalysis>], limits: &Limits) -> (EGraph<Node, TfAnalysis>, SaturationReport) {
    let start = Instant::now();
    // egg's backoff scheduler bans a rule whose matches in one iteration pass a limit (1,000 by
    // default), discarding them, and doubles the limit each time it lets the rule back. A
    // translation rule matches once per TF node of its op, so on a 30,000-op unrolled chain it
    // was searched and discarded five times before it could apply. The limit therefore scales
    // with the seeded graph: a rule may match every class a few times in one iteration; only a
    // rule that multiplies matches (commutativity with associativity) is still banned.
    let match_limit = 1_000.max(4 * egraph.number_of_classes());
    let runner = Runner::default()
        .with_scheduler(BackoffScheduler::default().with_initial_match_limit(match_limit))
        .with_egraph(egraph)
        .with_node_limit(limits.nodes)
        .with_iter_limit(limits.iterations)
        .with_time_limit(limits.time)
        .with_hook(|runner| {
            super::laws::apply(&mut runner.egraph);
            Ok(())
        })
        .run(rewrites);
    let stop = match &runner.stop_reason {
        Some(egg::StopReason::Saturated) | None => StopReason::Saturated,
        // egg reports what it measured; the report names the budget the user set.
        Some(egg::StopReason::IterationLimit(_)) => StopReason::IterationLimit(limits.iterations),
        Some(egg::StopReason::NodeLimit(_)) => StopReason::NodeLimit(limits.nodes),
        Some(egg::StopReason::TimeLimit(_)) => StopReason::TimeLimit(limits.time),
        Some(egg::StopReason::Other(m)) => StopReason::Other(m.clone()),
    };
    let mut applied = BTreeMap::new();
    for it in &runner.iterations {
        for (rule, n) in &it.applied {
            if *n > 0 {
                *applied.entry(rule.to_string()).or_insert(0) += n;
            }
        }
    }
    let secs = |s: f64| Duration::try_from_secs_f64(s).unwrap_or_default();
    let per_iteration = runner
        .iterations
        .iter()
        .map(|it| IterationStats {
            nodes: it.egraph_nodes,
            classes: it.egraph_classes,
            applied: it.applied.values().sum(),
            search: secs(it.search_time),
            apply: secs(it.apply_time),
            rebuild: secs(it.rebuild_time),
        })
        .collect();
    let iterations = runner.iterations.len();
    let mut egraph = runner.egraph;
    // A budget can stop the runner between applying and rebuilding.
    egraph.rebuild();
    let report = SaturationReport {
        stop,
        iterations,
        nodes: egraph.total_number_of_nodes(),
        classes: egraph.number_of_classes(),
        applied,
        time: start.elapsed(),
        failures: vec![],
        per_iteration,
        rule_times: vec![],
        memo_hits: 0,
        memo_misses: 0,
    };
    (egraph, report)
}
