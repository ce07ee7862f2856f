//! The errors of lowering a [`TermDag`](crate::rewrite::term::TermDag). Each names the layer
//! (its blob-derived name and kind), the parameter, the TF node or the feature it is about, so a
//! failing conversion points at the rule or registration that produced the bad term.

use crate::rewrite::term::TermId;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LowerError {
    #[error("layer `{layer}` writes blob `{blob}`, which another layer of the model already defines")]
    DuplicateBlob { layer: String, blob: String },
    #[error("control-flow layer `{layer}`: no converted region `{region}` in the program")]
    NoRegion { layer: String, region: String },
    /// A TF op survived extraction: no rule covered it. Extraction must never hand one over.
    #[error("TF op `{op}` (node `{node}`, term {term}) reached lowering: no rule or custom-layer registration replaced it")]
    TfOpLeft { op: String, node: String, term: TermId },
    #[error("layer `{layer}`: `{kind}` is not a Core ML NN layer kind known to lowering{hint}")]
    UnknownLayerKind { layer: String, kind: String, hint: String },
    #[error("layer `{layer}` ({kind}) has no parameter `{param}`, which it needs")]
    MissingParameter { layer: String, kind: String, param: String },
    #[error("layer `{layer}` ({kind}): parameter `{param}` must be {expected}, got {found}")]
    ParameterType { layer: String, kind: String, param: String, expected: String, found: String },
    #[error("layer `{layer}` ({kind}) has parameter `{param}`, which `{kind}` does not take")]
    UnknownParameter { layer: String, kind: String, param: String },
    #[error("layer `{layer}` ({kind}): parameter `{param}`: {reason}")]
    InvalidParameter { layer: String, kind: String, param: String, reason: String },
    #[error("layer `{layer}` ({kind}) takes {expected} inputs, got {got}")]
    Arity { layer: String, kind: String, expected: String, got: usize },
    #[error("layer `{layer}`: custom-layer registration `{reg}` is not in LowerOptions::custom_layers")]
    UnknownRegistration { layer: String, reg: String },
    #[error("custom layer `{layer}` (class {class}): parameter `{param}`: {reason}")]
    CustomParameter { layer: String, class: String, param: String, reason: String },
    #[error("term {term} refers to term {child}, which does not come before it")]
    BadChild { term: TermId, child: TermId },
    #[error("{what} refers to term {term}, but the DAG has {len} terms")]
    NoSuchTerm { what: String, term: TermId, len: usize },
    #[error("term {term} projects output {index} of `{of}`, which has {outputs} output(s)")]
    BadProjection { term: TermId, index: u32, of: String, outputs: usize },
    #[error("model input `{name}` is term {term}, which is not an input term")]
    InputNotInput { name: String, term: TermId },
    #[error("input term {term} (`{name}`) is not declared in TermDag::inputs")]
    UndeclaredInput { term: TermId, name: String },
    #[error("model {role} `{name}` has element type {dtype}, which a Core ML multi-array cannot hold")]
    UnsupportedDType { role: &'static str, name: String, dtype: String },
    #[error(transparent)]
    InputShape(#[from] super::flexible::FlexError),
    #[error("`--input-shape`/`--enumerated-shapes` name `{name}`, which is not a model input (inputs: {inputs})")]
    UnknownShapeInput { name: String, inputs: String },
    #[error("model input `{name}` has unknown rank; Core ML inputs need a rank (give the placeholder a shape)")]
    UnknownInputRank { name: String },
    #[error("the program has no outputs")]
    NoOutputs,
}

impl LowerError {
    /// A wrong-type parameter error.
    pub(crate) fn ty(layer: &str, kind: &str, param: &str, expected: impl Into<String>, found: impl std::fmt::Display) -> LowerError {
        LowerError::ParameterType { layer: layer.into(), kind: kind.into(), param: param.into(), expected: expected.into(), found: found.to_string() }
    }
}
