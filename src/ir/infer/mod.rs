//! Type and shape inference over the whole graph.
//!
//! As in TensorFlow, shapes come from per-op shape functions, kept in a [`ShapeRegistry`]
//! filled family by family (`array.rs`, `math.rs`, `nn.rs`, each with `register_all_ops`).
//! Callers may extend the registry (a rule file declaring a custom op's outputs uses
//! [`ShapeRegistry::declare`]). Integer tensors that are constant, or computable from
//! constants and known shapes, are evaluated with [`crate::ir::eval`] so that computed
//! `Reshape`/`Fill` shapes are known; a shape-tensor that is only partly known travels as
//! [`Fact::partial`]. An op with no shape function keeps its OpDef dtypes and an unknown
//! shape, and is listed in the [`InferReport`].

mod array;
pub mod lists;
mod math;
mod nn;

use super::attr::{AttrError, Attrs};
use super::dtype::DType;
use super::eval::{eval_op, is_foldable, EvalError};
use super::graph::{Fact, Graph, Node};
use super::shape::{Dim, Shape, ShapeMismatch};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Why a shape function rejected its inputs (the driver adds the node).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error(transparent)]
    Attr(#[from] AttrError),
    #[error(transparent)]
    Mismatch(#[from] ShapeMismatch),
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error("{0}")]
    Invalid(String),
}

/// A shape function failed: the graph is not valid TensorFlow, or uses an op in a way this
/// crate does not model. Names the node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("node `{node}` ({op}): {cause}")]
pub struct InferError {
    pub node: String,
    pub op: String,
    pub cause: ShapeError,
}

/// What a shape function sees: the node and the facts of its data inputs.
pub struct InferCtx<'a> {
    pub node: &'a Node,
    pub inputs: &'a [Fact],
}

fn invalid(msg: impl Into<String>) -> ShapeError {
    ShapeError::Invalid(msg.into())
}

impl<'a> InferCtx<'a> {
    pub fn attrs(&self) -> &'a Attrs {
        &self.node.attrs
    }

    pub fn input(&self, i: usize) -> Result<&'a Fact, ShapeError> {
        self.inputs.get(i).ok_or_else(|| invalid(format!("missing input {i} (has {})", self.inputs.len())))
    }

    pub fn shape(&self, i: usize) -> Result<&'a Shape, ShapeError> {
        Ok(&self.input(i)?.shape)
    }

    /// Dims of input `i`, when its rank is known.
    pub fn dims(&self, i: usize) -> Result<Option<&'a [Dim]>, ShapeError> {
        Ok(self.shape(i)?.dims())
    }

    pub fn dtype(&self, i: usize) -> Result<Option<DType>, ShapeError> {
        Ok(self.input(i)?.dtype)
    }

    /// Full integer value of input `i`.
    pub fn ints(&self, i: usize) -> Result<Option<Vec<i64>>, ShapeError> {
        Ok(self.input(i)?.int_values())
    }

    /// Integer value of input `i` as dims (full or partial).
    pub fn int_dims(&self, i: usize) -> Result<Option<Vec<Dim>>, ShapeError> {
        Ok(self.input(i)?.int_dims())
    }

    /// Input `i` as one integer (scalar or one-element tensor).
    pub fn int_scalar(&self, i: usize) -> Result<Option<i64>, ShapeError> {
        match self.ints(i)? {
            Some(v) if v.len() == 1 => Ok(Some(v[0])),
            Some(v) => Err(invalid(format!("input {i} must hold one value, found {}", v.len()))),
            None => Ok(None),
        }
    }

    /// The dtype the OpDef gives output `k` (filled at import), else input 0's.
    pub fn out_dtype(&self, k: usize) -> Option<DType> {
        self.node.outputs.get(k).and_then(|f| f.dtype).or_else(|| self.inputs.first().and_then(|f| f.dtype))
    }

    /// One output of `shape` with the declared dtype.
    pub fn one(&self, shape: Shape) -> Result<Vec<Fact>, ShapeError> {
        Ok(vec![Fact::new(self.out_dtype(0), shape)])
    }
}

/// A shape function: the facts of every output.
pub type ShapeFn = Arc<dyn Fn(&InferCtx<'_>) -> Result<Vec<Fact>, ShapeError> + Send + Sync>;

/// A declared output, for ops a caller describes without code (rule files' custom ops).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OutputDecl {
    /// A fixed dtype and shape.
    Fixed(DType, Shape),
    /// The dtype and shape of data input `i`.
    LikeInput(usize),
}

/// Shape functions by op name.
#[derive(Clone, Default)]
pub struct ShapeRegistry {
    fns: HashMap<String, ShapeFn>,
}

impl std::fmt::Debug for ShapeRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShapeRegistry({} ops)", self.fns.len())
    }
}

impl ShapeRegistry {
    pub fn empty() -> ShapeRegistry {
        ShapeRegistry::default()
    }

    /// Every shape function this crate knows for TensorFlow ops.
    pub fn tensorflow() -> ShapeRegistry {
        let mut r = ShapeRegistry::empty();
        array::register_all_ops(&mut r);
        math::register_all_ops(&mut r);
        nn::register_all_ops(&mut r);
        lists::register_all_ops(&mut r);
        r
    }

    /// Registers (or replaces) the shape function of `op`.
    pub fn register(&mut self, op: &str, f: impl Fn(&InferCtx<'_>) -> Result<Vec<Fact>, ShapeError> + Send + Sync + 'static) {
        self.fns.insert(op.to_string(), Arc::new(f));
    }

    /// Declares `op`'s outputs without code.
    pub fn declare(&mut self, op: &str, outputs: Vec<OutputDecl>) {
        self.register(op, move |cx| {
            outputs
                .iter()
                .map(|d| match d {
                    OutputDecl::Fixed(dt, s) => Ok(Fact::new(Some(*dt), s.clone())),
                    OutputDecl::LikeInput(i) => {
                        let f = cx.input(*i)?;
                        Ok(Fact::new(f.dtype, f.shape.clone()))
                    }
                })
                .collect()
        });
    }

    pub fn get(&self, op: &str) -> Option<&ShapeFn> {
        self.fns.get(op)
    }

    pub fn contains(&self, op: &str) -> bool {
        self.fns.contains_key(op)
    }

    /// Registered op names, sorted.
    pub fn ops(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.fns.keys().map(|s| s.as_str()).collect();
        v.sort_unstable();
        v
    }
}

/// Largest constant input (in elements) the inference folds; above it, the shape function
/// alone decides (folding weights would cost time and memory for no shape information).
pub const FOLD_LIMIT: usize = 1 << 16;

/// What inference could not determine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InferReport {
    /// Ops without a shape function, with the nodes using them.
    pub no_shape_fn: BTreeMap<String, Vec<String>>,
    /// Nodes with a used output (consumed, or a graph output) whose dtype, rank or some dim
    /// is unknown (symbolic dims count as known), by op.
    pub incomplete: BTreeMap<String, Vec<String>>,
}

/// Fills every node's output facts, in topological order.
pub fn infer(graph: &mut Graph, registry: &ShapeRegistry) -> Result<InferReport, InferError> {
    let mut report = InferReport::default();
    let order = graph.topo_order().to_vec();
    for id in order {
        let inputs: Vec<Fact> = graph.inputs(id).iter().map(|&o| graph.fact(o).cloned().unwrap_or_else(Fact::unknown)).collect();
        let node = graph.node(id);
        let err = |cause| InferError { node: node.name.clone(), op: node.op.clone(), cause };
        let declared = node.outputs.clone();
        let cx = InferCtx { node, inputs: &inputs };
        let mut facts = match registry.get(&node.op) {
            Some(f) => Some(f(&cx).map_err(err)?),
            None => {
                report.no_shape_fn.entry(node.op.clone()).or_default().push(node.name.clone());
                None
            }
        };
        // Ops that expand (Fill, Tile, Range...) would build big constants for no shape gain.
        let big_output = facts.as_ref().is_some_and(|f| f.iter().any(|f| f.shape.num_elements().is_some_and(|n| n > FOLD_LIMIT as u64)));
        let identity = matches!(node.op.as_str(), "Identity" | "StopGradient" | "Snapshot" | "IdentityN" | "PreventGradient");
        if let Some(values) = foldable_inputs(node, &inputs).filter(|_| identity || !big_output) {
            if let Some(out) = eval_op(&node.op, &node.attrs, &values).map_err(|e| err(e.into()))? {
                facts = Some(out.into_iter().map(Fact::constant).collect());
            }
        }
        let facts = match facts {
            Some(f) => {
                // Without an OpDef the importer only knows the outputs consumers read (a lower
                // bound): a library pseudo-op's `infer` item may declare more.
                let guessed = crate::ir::opdefs::lookup(&node.op).is_none() && f.len() > declared.len();
                if f.len() != declared.len() && !guessed {
                    return Err(err(invalid(format!("computed {} outputs, the node has {}", f.len(), declared.len()))));
                }
                f.into_iter()
                    .enumerate()
                    .map(|(k, mut f)| {
                        if f.dtype.is_none() {
                            f.dtype = declared.get(k).and_then(|d| d.dtype);
                        }
                        f
                    })
                    .collect()
            }
            None => declared,
        };
        graph.node_mut(id).outputs = facts;
    }
    let outputs = graph.outputs_of_graph();
    for id in graph.node_ids() {
        let node = graph.node(id);
        // Outputs nobody reads (FusedBatchNormV3's reserve_space_3, whose shape TensorFlow
        // does not know either) do not count, unless the node is a graph output.
        let incomplete = node.outputs.iter().enumerate().any(|(k, f)| {
            let used = outputs.contains(&id) || !graph.consumers(super::graph::Outlet { node: id, output: k }).is_empty();
            used && (f.dtype.is_none() || f.shape.has_unknown())
        });
        if incomplete {
            report.incomplete.entry(node.op.clone()).or_default().push(node.name.clone());
        }
    }
    Ok(report)
}

/// The input values when the node can be folded: every input constant and small (identity
/// ops pass any size along, since cloning a tensor shares its data).
fn foldable_inputs(node: &Node, inputs: &[Fact]) -> Option<Vec<super::tensor::Tensor>> {
    if inputs.is_empty() || !is_foldable(&node.op) {
        return None;
    }
    let values: Vec<_> = inputs.iter().map(|f| f.value.clone()).collect::<Option<_>>()?;
    let identity = matches!(node.op.as_str(), "Identity" | "StopGradient" | "Snapshot" | "IdentityN" | "PreventGradient");
    let total: usize = values.iter().map(|t| t.len()).sum();
    (identity || total <= FOLD_LIMIT).then_some(values)
}
