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
pub mod opdefs;
pub mod shape;
pub mod tensor;

pub use attr::{Attr, AttrDecodeError, AttrError, Attrs, FuncAttr};
pub use dtype::DType;
pub use opdefs::OpDef;
pub use shape::{normalize_axis, Dim, Shape, ShapeMismatch};
pub use tensor::{Element, Tensor, TensorData, TensorError};
pub mod functions;
pub mod graph;
pub mod import;
pub mod infer;

pub use graph::{Edge, Fact, Graph, Node, NodeAttrError, NodeId, Outlet};
pub use import::{import_bytes, import_file, import_graph_def, ImportError};
pub use eval::{eval_op, EvalError};
pub use infer::{infer, InferCtx, InferError, InferReport, OutputDecl, ShapeError, ShapeFn, ShapeRegistry};

/// Import followed by inference failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{path}: {cause}")]
    Infer { path: std::path::PathBuf, cause: InferError },
}

/// Imports a frozen graph and infers every dtype and shape with TensorFlow's shape functions
/// plus the caller's (`registry`, usually [`ShapeRegistry::tensorflow`] extended by rules).
pub fn load(path: &std::path::Path, registry: &ShapeRegistry) -> Result<(Graph, InferReport), LoadError> {
    let mut g = import_file(path)?;
    let report = infer(&mut g, registry).map_err(|cause| LoadError::Infer { path: path.to_owned(), cause })?;
    Ok((g, report))
}
