//! Laws of layer kinds that a rule cannot state, applied to the e-graph before each iteration
//! (a `Runner` hook): they hold under every rule set, as the constant folding of the analysis
//! does, and they relate several nodes of one e-class, which a rule's pattern (one tree) cannot
//! match.
//!
//! **A transpose is injective.** Its output determines its input, so two transposes with the
//! same axes in one e-class have inputs that are one tensor, and their e-classes are merged.
//! egg only merges what a rule proves equal; it cannot infer `a = b` from `t(a) = t(b)`. The
//! layout rules move transposes through elementwise layers in both directions
//! (`transpose_through_add` and `transpose_out_of_add` in `rules/layout.rules`), and each
//! `addBroadcastable(transpose(a), transpose(b))` with several transposes in each operand's
//! class built one new `addBroadcastable(a_i, b_j)` class per pair, each again the input of a
//! transpose of the same class. On ConvNeXt, whose residual chains of adds and per-channel
//! products run between NHWC layer norms and NCHW convolutions, that fed back until the
//! 200,000-node limit (one class held 36 transposes of distinct, equal classes). Merging
//! the inputs keeps one class per tensor and per layout, and the growth is linear again.
//!
//! **Concatenation is associative.** A `concatND` whose input's class holds a `concatND` on the
//! same axis equals the concatenation of the inner inputs in its place: InceptionV3's last two
//! blocks concatenate branches that are themselves concatenations, which coremltools writes as
//! one layer each. A rule would need a pattern for "some element of the list is a concat".

use super::analysis::TfAnalysis;
use super::lang::{Attrs, Node};
use crate::rules::value::Value;
use egg::{EGraph, Id};
use std::collections::HashMap;

/// Layer kinds whose output and parameters determine their single input.
const INJECTIVE: &[&str] = &["transpose"];

/// Applies every law once; returns how many e-graph changes they made.
pub fn apply(egraph: &mut EGraph<Node, TfAnalysis>) -> usize {
    merge_injective_inputs(egraph) + flatten_concats(egraph)
}

/// Merges the inputs of equal injective layers of each e-class; returns how many merges
/// changed the e-graph. The e-graph is rebuilt when it did.
pub fn merge_injective_inputs(egraph: &mut EGraph<Node, TfAnalysis>) -> usize {
    let mut pairs: Vec<(Id, Id)> = Vec::new();
    for class in egraph.classes() {
        let mut first: HashMap<(&str, &Attrs), Id> = HashMap::new();
        for node in &class.nodes {
            let Node::Nn { kind, params, args } = node else { continue };
            if args.len() != 1 || !INJECTIVE.contains(&&**kind) {
                continue;
            }
            match first.get(&(&**kind, params)) {
                Some(&a) if egraph.find(a) != egraph.find(args[0]) => pairs.push((a, args[0])),
                Some(_) => {}
                None => {
                    first.insert((&**kind, params), args[0]);
                }
            }
        }
    }
    let merged = pairs.into_iter().filter(|&(a, b)| egraph.union(a, b)).count();
    if merged > 0 {
        egraph.rebuild();
    }
    merged
}

/// Adds, for each `concatND` with an input whose class holds a `concatND` of the same
/// parameters (so the same axis: an input has the rank of the output), the flattened
/// concatenation to its class; one input per node and call, so the e-graph grows by at most one
/// node per concatenation per iteration. Returns how many classes gained a node.
pub fn flatten_concats(egraph: &mut EGraph<Node, TfAnalysis>) -> usize {
    let mut flat: Vec<(Id, Node)> = Vec::new();
    for class in egraph.classes() {
        for node in &class.nodes {
            let Node::Nn { kind, params, args } = node else { continue };
            // An interleaved concatenation (output[i::n] = input_i) is not associative.
            if &**kind != "concatND" || params.0.iter().any(|(k, v)| &**k == "interleave" && *v == Value::Bool(true)) {
                continue;
            }
            let inner = args.iter().enumerate().find_map(|(i, &a)| {
                egraph[a].nodes.iter().find_map(|m| match m {
                    Node::Nn { kind: k, params: q, args: inner } if &**k == "concatND" && q == params => Some((i, inner.clone())),
                    _ => None,
                })
            });
            if let Some((i, inner)) = inner {
                let mut flattened = args[..i].to_vec();
                flattened.extend(inner);
                flattened.extend_from_slice(&args[i + 1..]);
                flat.push((class.id, Node::Nn { kind: kind.clone(), params: params.clone(), args: flattened }));
            }
        }
    }
    let mut added = 0;
    for (class, node) in flat {
        let id = egraph.add(node);
        if egraph.union(class, id) {
            added += 1;
        }
    }
    if added > 0 {
        egraph.rebuild();
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::infer::ShapeRegistry;
    use crate::rules::value::DType;
    use std::sync::Arc;

    fn eg() -> EGraph<Node, TfAnalysis> {
        EGraph::new(TfAnalysis::new(Arc::new(ShapeRegistry::tensorflow())))
    }

    fn input(g: &mut EGraph<Node, TfAnalysis>, name: &str) -> Id {
        g.add(Node::input(name, DType::Float32, Some(vec![Some(1), Some(2), Some(3), Some(4)])))
    }

    /// `transpose(a) = transpose(b)` with the same axes merges `a` and `b`; other axes do not.
    #[test]
    fn equal_transposes_merge_their_inputs() {
        let mut g = eg();
        let (a, b, c) = (input(&mut g, "a"), input(&mut g, "b"), input(&mut g, "c"));
        let axes = |p: Vec<i64>| vec![("axes", Value::List(p.into_iter().map(Value::Int).collect()))];
        let ta = g.add(Node::nn("transpose", axes(vec![0, 2, 3, 1]), vec![a]));
        let tb = g.add(Node::nn("transpose", axes(vec![0, 2, 3, 1]), vec![b]));
        let tc = g.add(Node::nn("transpose", axes(vec![0, 3, 1, 2]), vec![c]));
        g.union(ta, tb);
        g.union(ta, tc);
        g.rebuild();
        assert_eq!(merge_injective_inputs(&mut g), 1);
        assert_eq!(g.find(a), g.find(b));
        assert_ne!(g.find(a), g.find(c));
    }

    /// `concat(x, concat(y, z))` on one axis gains `concat(x, y, z)`; an interleaved one does not.
    #[test]
    fn nested_concatenations_flatten_unless_interleaved() {
        for interleave in [false, true] {
            let mut g = eg();
            let (x, y, z) = (input(&mut g, "x"), input(&mut g, "y"), input(&mut g, "z"));
            let params = || vec![("axis", Value::Int(1)), ("interleave", Value::Bool(interleave))];
            let inner = g.add(Node::nn("concatND", params(), vec![y, z]));
            let outer = g.add(Node::nn("concatND", params(), vec![x, inner]));
            g.rebuild();
            let added = flatten_concats(&mut g);
            let flat = g.lookup(Node::nn("concatND", params(), vec![x, y, z]));
            if interleave {
                assert_eq!((added, flat), (0, None));
            } else {
                assert_eq!(added, 1);
                assert_eq!(flat.map(|f| g.find(f)), Some(g.find(outer)));
            }
        }
    }
}
