//! Injective layers: a `transpose`'s output determines its input, so two transposes with the
//! same axes in one e-class have inputs that are one tensor, and their e-classes are merged.
//!
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
//! This is a property of the layer kind, not a rewrite: it holds for every rule set, as the
//! constant folding of the analysis does.

use super::analysis::TfAnalysis;
use super::lang::{Attrs, Node};
use egg::{EGraph, Id};
use std::collections::HashMap;

/// Layer kinds whose output and parameters determine their single input.
const INJECTIVE: &[&str] = &["transpose"];

/// Merges the inputs of equal injective layers of each e-class; returns how many merges
/// changed the e-graph. The e-graph is rebuilt when it did.
pub fn merge_inputs(egraph: &mut EGraph<Node, TfAnalysis>) -> usize {
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
