//! Import: a TensorFlow `GraphDef` becomes the IR, a petgraph of typed nodes with ndarray
//! constants, dtypes and shapes.
//!
//! Owns: the IR types ([`DType`], [`Shape`], [`Tensor`], [`Attr`]), the OpDef table
//! ([`opdefs`]). It must not know about Core ML or the e-graph: later stages consume its
//! public types only.
//!
//! Errors carry the underlying error in a field named `cause`, printed in their message, and
//! not as `source`: the binary prints `{err:#}`, which would repeat a `source` a second time.

// Errors carry file, node and attribute names: large, but built once, on the failure path.
#![allow(clippy::result_large_err)]

pub mod attr;
pub mod dtype;
pub mod eval;
pub mod format;
pub mod savedmodel;
pub mod opdefs;
pub mod shape;
pub mod tensor;

pub use attr::{Attr, AttrDecodeError, AttrError, Attrs, FuncAttr};
pub use dtype::DType;
pub use opdefs::OpDef;
pub use shape::{normalize_axis, Dim, Shape, ShapeMismatch};
pub use tensor::{Element, Tensor, TensorData, TensorError};
pub mod cond_choice;
pub mod frames;
pub mod functions;
pub mod graph;
pub mod import;
pub mod infer;
pub mod lists;
pub mod recurrent;

pub use graph::{Edge, Fact, Graph, Node, NodeAttrError, NodeId, Outlet};
pub use import::{import_bytes, import_file, import_graph_def, import_model, ImportError};
pub use eval::{eval_op, EvalError};
pub use infer::{infer, InferCtx, InferError, InferReport, OutputDecl, ShapeError, ShapeFn, ShapeRegistry};

/// Import followed by inference failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{path}: {cause}")]
    Infer { path: std::path::PathBuf, cause: InferError },
    #[error("{path}: input `{name}`: {why}")]
    InputDims { path: std::path::PathBuf, name: String, why: String },
}

/// Imports a frozen graph, fixes the dims of graph inputs (Placeholders, by name) that the
/// caller knows (`fixed[name][axis]`, e.g. `convert --input-shape x=1,1..512,64` fixes the
/// batch), then infers as [`load`] does: rules see those dims as known. A fixed dim that the
/// graph declares differently, or a rank that disagrees, is an error naming the input.
pub fn load_with_input_dims(
    path: &std::path::Path,
    registry: &ShapeRegistry,
    fixed: &std::collections::BTreeMap<String, Vec<Option<u64>>>,
) -> Result<(Graph, InferReport), LoadError> {
    load_model(path, None, registry, fixed)
}

/// [`load_with_input_dims`] for a frozen graph or a SavedModel directory, whose signature
/// `signature` (default `serving_default`) is frozen from its checkpoint.
pub fn load_model(
    path: &std::path::Path,
    signature: Option<&str>,
    registry: &ShapeRegistry,
    fixed: &std::collections::BTreeMap<String, Vec<Option<u64>>>,
) -> Result<(Graph, InferReport), LoadError> {
    let mut g = import::import_model(path, signature)?;
    for (name, dims) in fixed {
        let bad = |why: String| LoadError::InputDims { path: path.to_owned(), name: name.clone(), why };
        let Some(id) = g.inputs_of_graph().into_iter().find(|&id| g.node(id).name == *name) else {
            return Err(bad("no graph input (Placeholder) has this name".into()));
        };
        let node = g.node_mut(id);
        let declared = match node.attrs.0.get("shape") {
            Some(attr::Attr::Shape(s)) => s.clone(),
            _ => Shape::Unknown,
        };
        let merged: Vec<Dim> = match declared.dims() {
            None => dims.iter().map(|d| d.map_or(Dim::Unknown, Dim::Known)).collect(),
            Some(d) if d.len() != dims.len() => return Err(bad(format!("the graph declares rank {}, the shape given has rank {}", d.len(), dims.len()))),
            Some(d) => d
                .iter()
                .zip(dims)
                .enumerate()
                .map(|(axis, (have, want))| match (have, want) {
                    (Dim::Known(h), Some(w)) if h != w => Err(bad(format!("dim {axis} is {h} in the graph, not {w}"))),
                    (_, Some(w)) => Ok(Dim::Known(*w)),
                    (have, None) => Ok(have.clone()),
                })
                .collect::<Result<_, _>>()?,
        };
        node.attrs.0.insert("shape".into(), attr::Attr::Shape(Shape::Ranked(merged)));
    }
    let report = infer(&mut g, registry).map_err(|cause| LoadError::Infer { path: path.to_owned(), cause })?;
    Ok((g, report))
}

/// Imports a frozen graph and infers every dtype and shape with TensorFlow's shape functions
/// plus the caller's (`registry`, usually [`ShapeRegistry::tensorflow`] extended by rules).
pub fn load(path: &std::path::Path, registry: &ShapeRegistry) -> Result<(Graph, InferReport), LoadError> {
    let mut g = import_file(path)?;
    let report = infer(&mut g, registry).map_err(|cause| LoadError::Infer { path: path.to_owned(), cause })?;
    Ok((g, report))
}
