//! DAG-aware extraction: choose one e-node per e-class so that the chosen term DAG is cheapest,
//! counting a shared subterm once.
//!
//! egg's `Extractor` minimises *tree* cost: a value used by two consumers is paid for twice, so
//! it prefers duplicating work over sharing it, which is wrong for a model where every layer runs
//! once whatever its fan-out. Here the cost of choosing a node is the sum over the *set* of
//! e-classes its choice reaches (each with the cost of its own chosen node), as in the greedy DAG
//! extractors of extraction-gym: still a heuristic (optimal DAG extraction is NP-hard), but
//! sharing-aware and deterministic.
//!
//! The module knows nothing of TF ops or NN layers: a [`DagCostModel`] says what a node costs
//! and which nodes may not be extracted at all (a TF op has no lowering), or must be (an
//! override registration forces its custom layer by making its e-class's other nodes
//! unextractable).

use egg::{Analysis, EGraph, Id, Language};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// Costs of e-nodes for extraction.
pub trait DagCostModel<L: Language, N: Analysis<L>> {
    /// The cost of `node` itself (children excluded), in e-class `class`; `None` when the node
    /// cannot be extracted.
    fn node_cost(&self, egraph: &EGraph<L, N>, class: Id, node: &L) -> Option<f64>;
}

/// The chosen node of every e-class reachable from the roots.
#[derive(Debug, Clone)]
pub struct DagExtraction<L> {
    /// Canonical root classes, in the order asked.
    pub roots: Vec<Id>,
    /// Chosen node of each reachable class (children canonical).
    pub choice: HashMap<Id, L>,
    /// Reachable classes, children before parents (a valid evaluation order).
    pub order: Vec<Id>,
    /// Sum of the node costs of the chosen DAG, each class counted once.
    pub cost: f64,
}

/// Extraction failed: some roots have no extractable term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unextractable {
    /// The classes to blame: reachable from an unextractable root, without an extractable term,
    /// yet with at least one node whose children all have one (or no children). The nodes of
    /// these classes are what is missing a lowering; deeper classes are fine.
    pub frontier: Vec<Id>,
}

/// A candidate's cost set: class -> cost of its chosen node. A persistent map, so that a
/// candidate shares its largest child's set instead of copying it: on a chain of n ops,
/// copying made extraction quadratic in time and memory (a 10,000-op chain took 3.4 s and
/// 1.4 GB), while each step now adds one entry in O(log n).
type CostSet = imbl::HashMap<Id, f64>;

struct Best<L> {
    node: L,
    set: CostSet,
    total: f64,
}

/// Runs the greedy DAG extraction from `roots`.
pub fn extract_dag<L, N, M>(egraph: &EGraph<L, N>, roots: &[Id], model: &M) -> Result<DagExtraction<L>, Unextractable>
where
    L: Language,
    N: Analysis<L>,
    M: DagCostModel<L, N>,
{
    let best = compute_best(egraph, model);
    let roots: Vec<Id> = roots.iter().map(|&r| egraph.find(r)).collect();
    if roots.iter().any(|r| !best.contains_key(r)) {
        return Err(Unextractable { frontier: frontier(egraph, &roots, &best) });
    }
    let mut choice = HashMap::new();
    let mut order = Vec::new();
    let mut cost = 0.0;
    // Iterative post-order from the roots over the chosen nodes.
    let mut visited: HashMap<Id, bool> = HashMap::new(); // false: entered, true: done
    for &root in &roots {
        let mut stack = vec![(root, false)];
        while let Some((class, expanded)) = stack.pop() {
            if expanded {
                if visited.get(&class) != Some(&true) {
                    visited.insert(class, true);
                    order.push(class);
                }
                continue;
            }
            if visited.contains_key(&class) {
                continue;
            }
            visited.insert(class, false);
            let b = &best[&class];
            let node = b.node.clone().map_children(|c| egraph.find(c));
            cost += b.set[&class];
            stack.push((class, true));
            for &child in node.children().iter().rev() {
                if !visited.contains_key(&child) {
                    stack.push((child, false));
                }
            }
            choice.insert(class, node);
        }
    }
    Ok(DagExtraction { roots, choice, order, cost })
}

/// The node extraction chooses in every e-class that has an extractable term (classes without
/// one are absent): the same choice [`extract_dag`] makes, for every class at once, so
/// `explain` can say what a TF node became without extracting from each node separately.
pub fn best_nodes<L, N, M>(egraph: &EGraph<L, N>, model: &M) -> HashMap<Id, L>
where
    L: Language,
    N: Analysis<L>,
    M: DagCostModel<L, N>,
{
    compute_best(egraph, model).into_iter().map(|(class, b)| (class, b.node)).collect()
}

fn compute_best<L, N, M>(egraph: &EGraph<L, N>, model: &M) -> HashMap<Id, Best<L>>
where
    L: Language,
    N: Analysis<L>,
    M: DagCostModel<L, N>,
{
    let mut best: HashMap<Id, Best<L>> = HashMap::new();
    // Parents of each canonical class, for re-examining them when a child improves.
    let mut parents: HashMap<Id, BTreeSet<Id>> = HashMap::new();
    for class in egraph.classes() {
        for node in &class.nodes {
            for &child in node.children() {
                parents.entry(egraph.find(child)).or_default().insert(class.id);
            }
        }
    }
    let mut ids: Vec<Id> = egraph.classes().map(|c| c.id).collect();
    ids.sort();
    let mut queue: VecDeque<Id> = ids.iter().copied().collect();
    let mut queued: BTreeSet<Id> = ids.into_iter().collect();
    while let Some(class) = queue.pop_front() {
        queued.remove(&class);
        let mut improved = false;
        for node in &egraph[class].nodes {
            let Some(own) = model.node_cost(egraph, class, node) else { continue };
            let Some((set, total)) = candidate(egraph, class, node, own, &best) else { continue };
            let better = match best.get(&class) {
                None => true,
                Some(b) => total < b.total || (total == b.total && *node < b.node),
            };
            if better {
                best.insert(class, Best { node: node.clone(), set, total });
                improved = true;
            }
        }
        if improved {
            for &p in parents.get(&class).into_iter().flatten() {
                let p = egraph.find(p);
                if queued.insert(p) {
                    queue.push_back(p);
                }
            }
        }
    }
    best
}

/// The cost set of choosing `node` in `class`, unless a child has no term yet or the choice
/// would make the class depend on itself.
fn candidate<L: Language, N: Analysis<L>>(
    egraph: &EGraph<L, N>,
    class: Id,
    node: &L,
    own: f64,
    best: &HashMap<Id, Best<L>>,
) -> Option<(CostSet, f64)> {
    let mut children: Vec<&Best<L>> = Vec::with_capacity(node.len());
    for &c in node.children() {
        let b = best.get(&egraph.find(c))?;
        if b.set.contains_key(&class) {
            return None;
        }
        children.push(b);
    }
    // Start from the largest child's set (shared, not copied) and add what the others add.
    let largest = children.iter().enumerate().max_by_key(|(_, b)| b.set.len()).map(|(i, _)| i);
    let (mut set, mut total) = match largest {
        Some(i) => (children[i].set.clone(), children[i].total),
        None => (CostSet::new(), 0.0),
    };
    for (i, b) in children.iter().enumerate() {
        if Some(i) == largest {
            continue;
        }
        for (&k, &v) in b.set.iter() {
            if !set.contains_key(&k) {
                set.insert(k, v);
                total += v;
            }
        }
    }
    set.insert(class, own);
    total += own;
    Some((set, total))
}

fn frontier<L: Language, N: Analysis<L>>(egraph: &EGraph<L, N>, roots: &[Id], best: &HashMap<Id, Best<L>>) -> Vec<Id> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Id> = roots.iter().copied().filter(|r| !best.contains_key(r)).collect();
    while let Some(class) = stack.pop() {
        if !seen.insert(class) {
            continue;
        }
        let mut blamed = false;
        for node in &egraph[class].nodes {
            let missing: Vec<Id> =
                node.children().iter().map(|&c| egraph.find(c)).filter(|c| !best.contains_key(c)).collect();
            if missing.is_empty() {
                blamed = true;
            }
            stack.extend(missing);
        }
        if blamed {
            out.insert(class);
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use egg::{RecExpr, SymbolLang};

    /// Costs by operator name; names starting with `tf.` cannot be extracted.
    struct ByName;
    impl DagCostModel<SymbolLang, ()> for ByName {
        fn node_cost(&self, _: &EGraph<SymbolLang, ()>, _: Id, node: &SymbolLang) -> Option<f64> {
            let op = node.op.as_str();
            if op.starts_with("tf.") {
                return None;
            }
            Some(match op {
                "big" => 10.0,
                "small" | "tiny" => 3.0,
                _ => 1.0,
            })
        }
    }

    fn add(eg: &mut EGraph<SymbolLang, ()>, s: &str) -> Id {
        eg.add_expr(&s.parse::<RecExpr<SymbolLang>>().unwrap())
    }

    #[test]
    fn shared_subterm_is_counted_once() {
        // `shared` reuses one (big x): DAG cost pair 1 + big 10 + x 1 = 12, tree cost 23.
        // `split` has five distinct cost-3 nodes: DAG cost 1 + 1 + 15 = 17, tree cost 18.
        // A tree extractor picks `split`; the DAG extractor must pick `shared`.
        let mut eg = EGraph::<SymbolLang, ()>::default();
        let shared = add(&mut eg, "(pair (big x) (big x))");
        let split = add(&mut eg, "(pair (small (small x)) (tiny (tiny (tiny x))))");
        eg.union(shared, split);
        eg.rebuild();
        let ex = extract_dag(&eg, &[shared], &ByName).unwrap();
        let root = &ex.choice[&eg.find(shared)];
        let first = ex.choice[&eg.find(root.children()[0])].op.as_str().to_owned();
        assert_eq!(first, "big");
        assert_eq!(ex.cost, 12.0);
        // Children come before parents in the order.
        assert_eq!(*ex.order.last().unwrap(), eg.find(shared));
    }

    #[test]
    fn unextractable_nodes_are_avoided_or_blamed() {
        let mut eg = EGraph::<SymbolLang, ()>::default();
        let tf = add(&mut eg, "(tf.Relu6 (tf.Neg x))");
        let ok = add(&mut eg, "(clip (tf.Neg x))");
        eg.union(tf, ok);
        eg.rebuild();
        // tf.Neg has no alternative: it is the frontier, not the root.
        let err = extract_dag(&eg, &[tf], &ByName).unwrap_err();
        let neg = add(&mut eg, "(tf.Neg x)");
        assert_eq!(err.frontier, vec![eg.find(neg)]);
        let alt = add(&mut eg, "(neg x)");
        eg.union(neg, alt);
        eg.rebuild();
        let ex = extract_dag(&eg, &[tf], &ByName).unwrap();
        assert_eq!(ex.choice[&eg.find(tf)].op.as_str(), "clip");
        assert_eq!(ex.cost, 3.0); // clip + neg + x
    }

    #[test]
    fn a_class_never_depends_on_itself() {
        // (id a) = a: choosing `id` for class a would be a cycle.
        let mut eg = EGraph::<SymbolLang, ()>::default();
        let a = add(&mut eg, "a");
        let ida = add(&mut eg, "(id a)");
        eg.union(a, ida);
        eg.rebuild();
        let ex = extract_dag(&eg, &[a], &ByName).unwrap();
        assert_eq!(ex.choice[&eg.find(a)].op.as_str(), "a");
        assert_eq!(ex.order.len(), 1);
    }
}
