//! What extraction minimises: the number of Core ML layers, with layout layers (transposes,
//! reshapes) counting less than compute layers and a custom layer counting more than any
//! composite, so a custom layer is only chosen when nothing else converts the op.
//!
//! TF nodes have no lowering and cannot be extracted. An `override` registration forces its
//! custom layer: in an e-class holding an override custom node, every other node is
//! unextractable.

use super::analysis::TfAnalysis;
use super::extract::DagCostModel;
use super::lang::Node;
use crate::rules::compile::Action;
use crate::rules::load::Compiled;
use egg::{EGraph, Id};
use std::collections::BTreeSet;

/// Cost of a compute layer: the unit.
pub const LAYER_COST: f64 = 1.0;

/// Cost of a layer that only moves or relabels elements: cheap (Core ML often makes them
/// free) but not free, so two transposes that cancel are still worth removing.
pub const LAYOUT_COST: f64 = 0.25;

/// A constant used as a layer input costs a `loadConstantND` layer, but less than a compute
/// layer: folding `x * c` into a parameterised layer still wins.
pub const CONST_COST: f64 = 0.5;

/// A custom layer costs more than the largest plausible composite (a few hundred layers for
/// an unrolled op): the app must ship code for it.
pub const CUSTOM_COST: f64 = 10_000.0;

/// Layer kinds of `rules::layers` that move, relabel or copy elements without computing.
pub const LAYOUT_KINDS: &[&str] = &[
    "transpose",
    "permute",
    "reshapeStatic",
    "reshapeLike",
    "reshapeDynamic",
    "rankPreservingReshape",
    "flatten",
    "squeeze",
    "expandDims",
    "reshape",
    "flattenTo2D",
    "copy",
];

/// Cost of one NN layer of `kind` (the name from `rules::layers`).
pub fn layer_cost(kind: &str) -> f64 {
    if LAYOUT_KINDS.contains(&kind) {
        LAYOUT_COST
    } else {
        LAYER_COST
    }
}

/// The cost model of the conversion.
#[derive(Debug, Clone, Default)]
pub struct LayerCount {
    /// Registrations marked `override`.
    overrides: BTreeSet<String>,
}

impl LayerCount {
    pub fn new(rules: &Compiled) -> LayerCount {
        let overrides = rules
            .registrations
            .iter()
            .filter_map(|r| match &r.action {
                Action::Custom(reg) if reg.override_ => Some(reg.name.clone()),
                _ => None,
            })
            .collect();
        LayerCount { overrides }
    }

    fn is_override(&self, node: &Node) -> bool {
        matches!(node, Node::Custom { reg, .. } if self.overrides.contains(&**reg))
    }
}

impl DagCostModel<Node, TfAnalysis> for LayerCount {
    fn node_cost(&self, egraph: &EGraph<Node, TfAnalysis>, class: Id, node: &Node) -> Option<f64> {
        if !self.overrides.is_empty() && !self.is_override(node) && egraph[class].nodes.iter().any(|n| self.is_override(n)) {
            return None;
        }
        match node {
            Node::Input(_) | Node::Proj { .. } => Some(0.0),
            Node::Const(_) => Some(CONST_COST),
            Node::Tf { .. } => None,
            Node::Nn { kind, .. } => Some(layer_cost(kind)),
            Node::Custom { .. } => Some(CUSTOM_COST),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::layers::layer_kind;

    #[test]
    fn layout_kinds_are_layer_kinds() {
        // A name missing from the registry would silently stop applying.
        for k in LAYOUT_KINDS {
            assert!(layer_kind(k).is_some(), "{k} is not a layer kind");
        }
    }

    #[test]
    fn a_custom_layer_costs_more_than_a_long_composite() {
        assert!(CUSTOM_COST > 1000.0 * LAYER_COST);
        assert!(LAYOUT_COST > 0.0 && LAYOUT_COST < LAYER_COST);
    }
}
