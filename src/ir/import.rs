//! GraphDef → [`Graph`]: decoding, attribute conversion, input wiring, validation.
//!
//! The file is read once into a `bytes::Bytes`; prost decodes `bytes` fields as slices of that
//! buffer, so a weight is copied exactly once, from the buffer into its ndarray. Every failure
//! is an [`ImportError`] naming the file and, where there is one, the node. Ops without an
//! OpDef or shape function still import (so every unsupported op can be listed at once); only
//! constructs the IR cannot represent are refused. TF1 control-flow frames are rebuilt first
//! into the TF2 form (`frames`), then function libraries are flattened (`functions`): calls
//! and `If`s inlined.


use super::attr::{Attr, AttrDecodeError, Attrs};
use super::graph::{Edge, Fact, Graph, Node, NodeId};
use super::opdefs::{self, OpDef};
use super::shape::Shape;
use crate::proto::tensorflow::{GraphDef, NodeDef};
use bytes::Bytes;
use indexmap::IndexMap;
use petgraph::graph::DiGraph;
use prost::Message;
use std::path::{Path, PathBuf};

/// Control-flow ops that must not be left after TF1 frames are rebuilt (`frames`) and the
/// function library flattened (`If` is inlined there unless the cost rule keeps it for a
/// `branch` layer, `cond_choice`; a `While` stays one node whose regions convert later).
pub const CONTROL_FLOW_OPS: &[&str] = &["If", "StatelessIf", "Case", "StatelessCase", "Switch", "Merge", "Enter", "Exit", "NextIteration", "LoopCond"];

/// Why a GraphDef could not be imported. Every variant names the file; most name the node.
/// (The variants are large because they carry names; they are built once, on failure.)
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {cause}")]
    Read { path: PathBuf, cause: std::io::Error },
    #[error("{path} is {}: {}", .format.what, .format.hint)]
    OtherFormat { path: PathBuf, format: super::format::OtherFormat },
    #[error("{path} is not a TensorFlow GraphDef (truncated or another format): {cause}")]
    Decode { path: PathBuf, cause: prost::DecodeError },
    #[error("{path} holds no nodes: not a TensorFlow GraphDef, or an empty graph")]
    NoNodes { path: PathBuf },
    #[error("{path}: {cause}")]
    Function { path: PathBuf, cause: super::functions::FunctionError },
    #[error("{path}: {cause}")]
    List { path: PathBuf, cause: super::lists::ListError },
    #[error("{path}: {cause}")]
    Frame { path: PathBuf, cause: super::frames::FrameError },
    #[error("{path}: a node has an empty name (op {op})")]
    EmptyName { path: PathBuf, op: String },
    #[error("{path}: two nodes are named `{node}`")]
    DuplicateNode { path: PathBuf, node: String },
    #[error("{path}: node `{node}` ({op}): control-flow op {op} is not supported")]
    ControlFlow { path: PathBuf, node: String, op: String },
    #[error("{path}: node `{node}` ({op}): attribute `{attr}`: {cause}")]
    Attr { path: PathBuf, node: String, op: String, attr: String, cause: AttrDecodeError },
    #[error("{path}: node `{node}` ({op}): attribute `{attr}` should be {expected}, found {found}")]
    AttrKind { path: PathBuf, node: String, op: String, attr: String, expected: String, found: &'static str },
    #[error("{path}: node `{node}` ({op}): required attribute `{attr}` is missing")]
    MissingAttr { path: PathBuf, node: String, op: String, attr: String },
    #[error("{path}: node `{node}`: input `{input}` is not a valid tensor name")]
    BadInputName { path: PathBuf, node: String, input: String },
    #[error("{path}: node `{node}`: input `{input}` points at no node")]
    MissingInput { path: PathBuf, node: String, input: String },
    #[error("{path}: node `{node}`: input `{input}` asks for output {output}, but {producer} ({op}) has {count} outputs")]
    NoSuchOutput { path: PathBuf, node: String, input: String, output: usize, producer: String, op: String, count: usize },
    #[error("{path}: node `{node}`: data input `{input}` comes after a control input")]
    DataAfterControl { path: PathBuf, node: String, input: String },
    #[error("{path}: node `{node}` ({op}) has {got} data inputs, its OpDef wants {expected}")]
    InputCount { path: PathBuf, node: String, op: String, got: usize, expected: usize },
    #[error("{path}: the graph has a cycle through node `{node}`")]
    Cycle { path: PathBuf, node: String },
    #[error(transparent)]
    SavedModel(#[from] super::savedmodel::SavedModelError),
}

/// Reads and imports a frozen GraphDef file, or a SavedModel directory's default signature.
pub fn import_file(path: &Path) -> Result<Graph, ImportError> {
    import_model(path, None)
}

/// Reads and imports a frozen GraphDef file, or the signature `signature` (default
/// `serving_default`) of a SavedModel directory, frozen from its checkpoint
/// ([`super::savedmodel`]).
pub fn import_model(path: &Path, signature: Option<&str>) -> Result<Graph, ImportError> {
    if path.is_dir() && super::savedmodel::is_saved_model(path) {
        let frozen = super::savedmodel::freeze(path, signature)?;
        return import_graph_def(&frozen.graph, &path.join("saved_model.pb"));
    }
    if path.is_dir() {
        return Err(ImportError::OtherFormat { path: path.to_owned(), format: super::format::sniff_directory(path) });
    }
    let data = std::fs::read(path).map_err(|cause| ImportError::Read { path: path.to_owned(), cause })?;
    let bytes = Bytes::from(data);
    // Cloning `Bytes` shares the buffer; the sniff runs only on failure.
    let gd = decode_graph_def(bytes.clone(), path).map_err(|e| match super::format::sniff_bytes(path, &bytes) {
        Some(format) => ImportError::OtherFormat { path: path.to_owned(), format },
        None => e,
    })?;
    import_graph_def(&gd, path)
}

/// Decodes a GraphDef from `bytes` (zero-copy for weights) and imports it; `path` only names
/// the source in errors.
pub fn import_bytes(bytes: Bytes, path: &Path) -> Result<Graph, ImportError> {
    let gd = decode_graph_def(bytes, path)?;
    import_graph_def(&gd, path)
}

/// Decodes without importing.
pub fn decode_graph_def(bytes: Bytes, path: &Path) -> Result<GraphDef, ImportError> {
    GraphDef::decode(bytes).map_err(|cause| ImportError::Decode { path: path.to_owned(), cause })
}

/// Splits a NodeDef input: `name`, `name:3` or `^name` (control).
#[derive(Debug, PartialEq, Eq)]
enum InputRef<'a> {
    Data { node: &'a str, output: usize },
    Control(&'a str),
}

fn parse_input(s: &str) -> Option<InputRef<'_>> {
    if let Some(c) = s.strip_prefix('^') {
        return (!c.is_empty()).then_some(InputRef::Control(c));
    }
    match s.rsplit_once(':') {
        Some((node, idx)) if !idx.is_empty() && idx.bytes().all(|b| b.is_ascii_digit()) => {
            let output = idx.parse().ok()?;
            (!node.is_empty()).then_some(InputRef::Data { node, output })
        }
        _ => (!s.is_empty()).then_some(InputRef::Data { node: s, output: 0 }),
    }
}

/// Converts a NodeDef's attrs, checks them against the OpDef when there is one, and fills
/// the OpDef's defaults (so later stages never guess a default).
fn convert_attrs(nd: &NodeDef, def: Option<&OpDef>, path: &Path) -> Result<Attrs, ImportError> {
    let mut attrs = Attrs::new();
    for (name, value) in &nd.attr {
        let attr = Attr::from_proto(value).map_err(|cause| ImportError::Attr {
            path: path.to_owned(),
            node: nd.name.clone(),
            op: nd.op.clone(),
            attr: name.clone(),
            cause,
        })?;
        attrs.insert(name.clone(), attr);
    }
    let Some(def) = def else { return Ok(attrs) };
    for ad in &def.attrs {
        match attrs.get(&ad.name) {
            None => match &ad.default {
                Some(d) => {
                    attrs.insert(ad.name.clone(), d.clone());
                }
                None => {
                    return Err(ImportError::MissingAttr {
                        path: path.to_owned(),
                        node: nd.name.clone(),
                        op: nd.op.clone(),
                        attr: ad.name.clone(),
                    })
                }
            },
            Some(Attr::EmptyList) => {
                if let Some(empty) = Attr::empty_list_of(&ad.kind) {
                    attrs.insert(ad.name.clone(), empty);
                }
            }
            Some(a) => {
                // A function-body placeholder could stand for any kind.
                if a.kind() != ad.kind && !matches!(a, Attr::Placeholder(_)) {
                    return Err(ImportError::AttrKind {
                        path: path.to_owned(),
                        node: nd.name.clone(),
                        op: nd.op.clone(),
                        attr: ad.name.clone(),
                        expected: ad.kind.clone(),
                        found: a.kind(),
                    });
                }
            }
        }
    }
    Ok(attrs)
}

/// Imports a decoded GraphDef.
pub fn import_graph_def(gd: &GraphDef, path: &Path) -> Result<Graph, ImportError> {
    let p = || path.to_owned();
    if super::frames::has_frames(gd) {
        let rebuilt = super::frames::rebuild(gd).map_err(|cause| ImportError::Frame { path: p(), cause })?;
        return import_graph_def(&rebuilt, path);
    }
    super::lists::refuse_growing(gd).map_err(|cause| ImportError::List { path: p(), cause })?;
    if super::functions::needs_flattening(gd) {
        let flat = super::functions::flatten(gd).map_err(|cause| ImportError::Function { path: p(), cause })?;
        let library = gd.library.as_ref().map_or(&[][..], |l| &l.function[..]);
        let flat = super::recurrent::fuse(flat, library);
        let mut g = import_graph_def(&flat, path)?;
        g.library = super::functions::library(gd);
        g.functions = std::sync::Arc::new(gd.library.as_ref().map(|l| l.function.clone()).unwrap_or_default());
        return Ok(g);
    }
    if gd.node.is_empty() {
        return Err(ImportError::NoNodes { path: p() });
    }
    let resolved;
    let gd = if gd.node.iter().any(|n| n.op == "TensorListReserve" || n.op == "TensorArrayV3") {
        let mut g = gd.clone();
        super::lists::resolve_element_shapes(&mut g).map_err(|cause| ImportError::List { path: p(), cause })?;
        resolved = g;
        &resolved
    } else {
        gd
    };
    let mut graph: DiGraph<Node, Edge> = DiGraph::with_capacity(gd.node.len(), gd.node.len() * 2);
    let mut names: IndexMap<String, NodeId> = IndexMap::with_capacity(gd.node.len());
    // Output dtypes from the OpDef, or `None` when the op has none (count found from consumers).
    let mut declared: Vec<Option<Vec<Option<super::dtype::DType>>>> = Vec::with_capacity(gd.node.len());
    for nd in &gd.node {
        if nd.name.is_empty() {
            return Err(ImportError::EmptyName { path: p(), op: nd.op.clone() });
        }
        if CONTROL_FLOW_OPS.contains(&nd.op.as_str()) && !super::functions::is_kept_branch(nd) {
            return Err(ImportError::ControlFlow { path: p(), node: nd.name.clone(), op: nd.op.clone() });
        }
        let def = opdefs::lookup(&nd.op);
        let attrs = convert_attrs(nd, def, path)?;
        declared.push(def.and_then(|d| opdefs::expand_args(&d.outputs, &attrs)));
        let node = Node { name: nd.name.clone(), op: nd.op.clone(), attrs, device: nd.device.clone(), outputs: Vec::new() };
        let id = graph.add_node(node);
        if names.insert(nd.name.clone(), id).is_some() {
            return Err(ImportError::DuplicateNode { path: p(), node: nd.name.clone() });
        }
    }
    // Outputs used by consumers, for ops whose output count no OpDef gives.
    let mut used: Vec<usize> = vec![0; gd.node.len()];
    for (i, nd) in gd.node.iter().enumerate() {
        let id = NodeId::new(i);
        let mut slot = 0;
        let mut seen_control = false;
        for input in &nd.input {
            let bad = || ImportError::BadInputName { path: p(), node: nd.name.clone(), input: input.clone() };
            let missing = || ImportError::MissingInput { path: p(), node: nd.name.clone(), input: input.clone() };
            match parse_input(input).ok_or_else(bad)? {
                InputRef::Control(src) => {
                    seen_control = true;
                    let s = *names.get(src).ok_or_else(missing)?;
                    graph.add_edge(s, id, Edge::Control);
                }
                InputRef::Data { node: src, output } => {
                    if seen_control {
                        return Err(ImportError::DataAfterControl { path: p(), node: nd.name.clone(), input: input.clone() });
                    }
                    let s = *names.get(src).ok_or_else(missing)?;
                    if let Some(outs) = &declared[s.index()] {
                        if output >= outs.len() {
                            return Err(ImportError::NoSuchOutput {
                                path: p(),
                                node: nd.name.clone(),
                                input: input.clone(),
                                output,
                                producer: graph[s].name.clone(),
                                op: graph[s].op.clone(),
                                count: outs.len(),
                            });
                        }
                    }
                    used[s.index()] = used[s.index()].max(output + 1);
                    graph.add_edge(s, id, Edge::Data { output, input: slot });
                    slot += 1;
                }
            }
        }
        if let Some(expected) = opdefs::lookup(&nd.op).and_then(|d| opdefs::expand_args(&d.inputs, &graph[id].attrs)) {
            if expected.len() != slot {
                return Err(ImportError::InputCount {
                    path: p(),
                    node: nd.name.clone(),
                    op: nd.op.clone(),
                    got: slot,
                    expected: expected.len(),
                });
            }
        }
    }
    for (i, decl) in declared.into_iter().enumerate() {
        let outputs = match decl {
            Some(dtypes) => dtypes.into_iter().map(|d| Fact::new(d, Shape::Unknown)).collect(),
            // An op we know nothing about has at least one output.
            None => vec![Fact::unknown(); used[i].max(1)],
        };
        graph[NodeId::new(i)].outputs = outputs;
    }
    let order = petgraph::algo::toposort(&graph, None)
        .map_err(|c| ImportError::Cycle { path: p(), node: graph[c.node_id()].name.clone() })?;
    Ok(Graph::from_parts(graph, names, order))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_names_parse() {
        assert_eq!(parse_input("a"), Some(InputRef::Data { node: "a", output: 0 }));
        assert_eq!(parse_input("a/b:2"), Some(InputRef::Data { node: "a/b", output: 2 }));
        assert_eq!(parse_input("^c"), Some(InputRef::Control("c")));
        assert_eq!(parse_input(""), None);
        assert_eq!(parse_input("^"), None);
        assert_eq!(parse_input(":1"), None);
        assert_eq!(parse_input("a:99999999999999999999999"), None);
    }
}
