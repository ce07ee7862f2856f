//! The extracted program: the rewrite stage's public output and the lowering stage's only input.
//!
//! A [`TermDag`] is the chosen e-node of every e-class the model outputs need, in evaluation
//! order (children before parents). Children are indexes into [`TermDag::nodes`], so the lowering
//! never sees the e-graph, e-class ids or rules: data flows one way.

use crate::ir::{DType, Shape};
use crate::rewrite::lang::Node;

/// Index of a term in [`TermDag::nodes`].
pub type TermId = usize;

/// One chosen node. Its children (`Node::children()`) are `egg::Id`s holding [`TermId`]s
/// (`usize::from(id)`), each smaller than this term's own index.
#[derive(Debug, Clone)]
pub struct Term {
    pub node: Node,
    /// Element type of the value (of each output for a multi-output node, in order).
    pub dtypes: Vec<Option<DType>>,
    /// Shape of the value (of each output for a multi-output node, in order).
    pub shapes: Vec<Shape>,
    /// The TF node this value stands for (`block_1/conv/Conv2D`, or `TopKV2` for a tuple),
    /// when the e-class held one: lowering derives blob and layer names from it.
    pub origin: Option<String>,
    /// Every TF node whose value this is, `origin` first: nodes that compute the same value
    /// (`relu6(x + 3)` written twice) share one e-class and so one layer.
    pub replaces: Vec<String>,
}

/// A model input (a TF `Placeholder`).
#[derive(Debug, Clone)]
pub struct TermInput {
    /// Name of the Core ML feature: the placeholder's node name.
    pub name: String,
    pub term: TermId,
    pub dtype: DType,
    pub shape: Shape,
}

/// A model output: a graph output or an extra tensor asked for with `--outputs`.
#[derive(Debug, Clone)]
pub struct TermOutput {
    /// Name of the Core ML feature: the TF node name without `:0` (`Identity`, `block_5_add/add`).
    pub name: String,
    /// The term computing it (a `Proj` term for output `i > 0` of a multi-output op).
    pub term: TermId,
    pub dtype: DType,
    pub shape: Shape,
    /// An inner tensor of the TF graph asked for with `--outputs`, not a graph output.
    pub inner: bool,
}

/// The extracted program.
#[derive(Debug, Clone, Default)]
pub struct TermDag {
    pub nodes: Vec<Term>,
    pub inputs: Vec<TermInput>,
    pub outputs: Vec<TermOutput>,
    /// The converted loops, by the name a `loop` term's `region` parameter gives.
    pub regions: std::collections::BTreeMap<String, crate::rewrite::regions::LoopRegion>,
    /// The converted conds, by the name a `branch` term's `region` parameter gives.
    pub branches: std::collections::BTreeMap<String, crate::rewrite::branches::BranchRegion>,
}
