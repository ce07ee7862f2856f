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
            if &**kind != "concatND" {
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
