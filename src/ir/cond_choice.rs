//! Whether an `If`/`StatelessIf` becomes selects (both branches inlined, one `Select` per
//! output) or stays one node that `rewrite::branches` converts into a Core ML `branch` layer.
//!
//! **The cost rule** (docs/architecture.md): selects evaluate both branches, which is exact
//! only when the branches are side-effect free and terminate on both sides, and wasteful when
//! the untaken side is large. So an `If` becomes a `branch` layer when either branch holds a
//! loop (`While`/`StatelessWhile`: it may not terminate on the untaken side, and it is a
//! whole nested network each time) or a side effect, or when the cheaper branch has at least
//! [`BRANCH_MIN_OPS`] compute ops (what a select wastes at least, per run). It stays selects
//! when its predicate is static (no `Placeholder` upstream except through a shape op), since
//! the rules then resolve it and drop the dead branch, and for cheap branches, where the
//! rules see through the selects (a `branch` layer hides both branches from the e-graph) and
//! the waste is a few layers. A static predicate with a side-effect branch still becomes a
//! `branch` layer: selects would run the effect on the untaken side.

use super::functions::{has_side_effect, CALL_OPS, CASE_OPS, IF_OPS};
use crate::proto::tensorflow::attr_value::Value;
use crate::proto::tensorflow::{FunctionDef, NodeDef};
use std::collections::{HashMap, HashSet};

/// Fewest compute ops in the cheaper branch for which a `branch` layer beats selects.
pub const BRANCH_MIN_OPS: usize = 8;

/// Attribute marking an `If` kept as one node for a `branch` layer; its value says why.
pub const BRANCH_ATTR: &str = "_mlrewrite_branch";

/// Ops that compute nothing (they become no layer, or a constant input).
const FREE_OPS: &[&str] = &["Const", "Identity", "IdentityN", "NoOp", "StopGradient", "Snapshot", "Placeholder", "PreventGradient"];

/// Ops through which a predicate's dependence on an input is only on its shape.
const SHAPE_OPS: &[&str] = &["Shape", "ShapeN", "Size", "Rank"];

/// What a branch function holds, for the cost rule.
#[derive(Debug, Default, Clone)]
pub struct BranchCost {
    /// Compute ops, nested calls and conds (all their branches) included.
    pub ops: usize,
    /// The first loop found (node name, op).
    pub the_loop: Option<(String, String)>,
    /// The first side effect found (node name, op).
    pub effect: Option<(String, String)>,
}

/// The cost of library function `name`, through nested calls, conds and cases.
pub fn branch_cost(lib: &HashMap<&str, &FunctionDef>, name: &str) -> BranchCost {
    let mut cost = BranchCost::default();
    add_cost(lib, name, &mut Vec::new(), &mut cost);
    cost
}

fn add_cost(lib: &HashMap<&str, &FunctionDef>, name: &str, stack: &mut Vec<String>, cost: &mut BranchCost) {
    // A missing or recursive function is the flattener's error to report.
    let Some(f) = lib.get(name) else { return };
    if stack.iter().any(|s| s == name) {
        return;
    }
    stack.push(name.to_string());
    for nd in &f.node_def {
        let op = nd.op.as_str();
        let funcs = called_functions(nd, lib);
        if !funcs.is_empty() {
            for g in funcs {
                add_cost(lib, &g, stack, cost);
            }
        } else if op == "While" || op == "StatelessWhile" {
            cost.the_loop.get_or_insert_with(|| (nd.name.clone(), nd.op.clone()));
            cost.ops += 1;
        } else if has_side_effect(op) {
            cost.effect.get_or_insert_with(|| (nd.name.clone(), nd.op.clone()));
        } else if !FREE_OPS.contains(&op) {
            cost.ops += 1;
        }
    }
    stack.pop();
}

/// The functions a node runs in place: a call's `f`, an `If`'s branches, a `Case`'s, or the
/// function the op names.
fn called_functions(nd: &NodeDef, lib: &HashMap<&str, &FunctionDef>) -> Vec<String> {
    let func = |attr: &str| match nd.attr.get(attr).and_then(|a| a.value.as_ref()) {
        Some(Value::Func(f)) => vec![f.name.clone()],
        Some(Value::List(l)) => l.func.iter().map(|f| f.name.clone()).collect(),
        _ => vec![],
    };
    let op = nd.op.as_str();
    if CALL_OPS.contains(&op) {
        func("f")
    } else if IF_OPS.contains(&op) {
        [func("then_branch"), func("else_branch")].concat()
    } else if CASE_OPS.contains(&op) {
        func("branches")
    } else if lib.contains_key(op) {
        vec![nd.op.clone()]
    } else {
        vec![]
    }
}

/// Whether tensor `pred` is static: no `Placeholder` among its data ancestors, except through
/// a shape op. `lookup` finds the nodes of the graph being flattened; an unknown node counts
/// as not static (the `branch` layer is right for any predicate, selects only cheaper).
pub fn is_static<'n>(pred: &str, lookup: &dyn Fn(&str) -> Option<&'n NodeDef>) -> bool {
    let mut seen = HashSet::new();
    let mut stack = vec![node_of(pred).to_string()];
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        let Some(nd) = lookup(&n) else { return false };
        if nd.op == "Placeholder" || nd.op == "PlaceholderWithDefault" {
            return false;
        }
        if SHAPE_OPS.contains(&nd.op.as_str()) {
            continue;
        }
        stack.extend(nd.input.iter().filter(|i| !i.starts_with('^')).map(|i| node_of(i).to_string()));
    }
    true
}

fn node_of(tensor: &str) -> &str {
    match tensor.rsplit_once(':') {
        Some((n, i)) if i.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => tensor,
    }
}

/// Why an `If` with these branches and predicate becomes a `branch` layer, or `None` for
/// selects (the cost rule above).
pub fn branch_reason(then: &BranchCost, other: &BranchCost, static_pred: bool) -> Option<String> {
    if let Some((node, op)) = then.effect.as_ref().or(other.effect.as_ref()) {
        return Some(format!("a branch has a side effect (node `{node}`, {op})"));
    }
    if static_pred {
        return None;
    }
    if let Some((node, op)) = then.the_loop.as_ref().or(other.the_loop.as_ref()) {
        return Some(format!("a branch holds a loop (node `{node}`, {op})"));
    }
    let cheaper = then.ops.min(other.ops);
    (cheaper >= BRANCH_MIN_OPS).then(|| format!("both branches are large ({} and {} ops, at least {BRANCH_MIN_OPS})", then.ops, other.ops))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(ops: usize, the_loop: bool, effect: bool) -> BranchCost {
        let named = |b: bool, op: &str| b.then(|| ("n".to_string(), op.to_string()));
        BranchCost { ops, the_loop: named(the_loop, "While"), effect: named(effect, "Assert") }
    }

    #[test]
    fn the_cost_rule() {
        // Cheap branches stay selects; large ones, loops and side effects become branches.
        assert!(branch_reason(&cost(3, false, false), &cost(20, false, false), false).is_none());
        assert!(branch_reason(&cost(8, false, false), &cost(9, false, false), false).is_some());
        assert!(branch_reason(&cost(1, true, false), &cost(1, false, false), false).is_some());
        // A static predicate folds, so only a side effect still needs a branch.
        assert!(branch_reason(&cost(20, true, false), &cost(20, false, false), true).is_none());
        assert!(branch_reason(&cost(1, false, true), &cost(1, false, false), true).is_some());
    }

    #[test]
    fn static_predicates() {
        let nodes: HashMap<&str, NodeDef> = [
            ("x", "Placeholder", vec![]),
            ("s", "Shape", vec!["x"]),
            ("c", "Const", vec![]),
            ("p", "Greater", vec!["s", "c"]),
            ("q", "Greater", vec!["x", "c"]),
        ]
        .into_iter()
        .map(|(n, op, inputs)| {
            (n, NodeDef { name: n.into(), op: op.into(), input: inputs.into_iter().map(String::from).collect(), ..Default::default() })
        })
        .collect();
        let lookup = |n: &str| nodes.get(n);
        assert!(is_static("p", &lookup));
        assert!(!is_static("q:0", &lookup));
        assert!(!is_static("missing", &lookup));
    }
}
