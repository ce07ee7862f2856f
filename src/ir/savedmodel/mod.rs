//! SavedModel directories: `saved_model.pb` plus a TensorBundle checkpoint become the frozen
//! `GraphDef` the importer reads, with no TensorFlow at run time.
//!
//! The meta graph tagged `serve` (or the only one) is taken; the signature (`--signature`,
//! default `serving_default`) names the input and output tensors. The graph is pruned to what
//! the outputs need (TF1 graphs also hold save/restore and initializer ops), then frozen as
//! TensorFlow's `convert_variables_to_constants` does: a variable node (`VarHandleOp`,
//! `VariableV2`) becomes a `Const` of the same name holding the checkpoint's bytes, and a
//! `ReadVariableOp` an `Identity`, so the same model frozen by TensorFlow converts to the
//! same `.mlmodel` bytes.
//!
//! A TF2 SavedModel (`tf.saved_model.save`, Keras `model.save`) calls its signature's body
//! through `StatefulPartitionedCall` into the graph's function library; until functions are
//! inlined on import, such a signature is refused with that reason.

pub mod bundle;
pub mod sstable;

use crate::proto::tensorflow::{attr_value, tensor_info, AttrValue, GraphDef, MetaGraphDef, NodeDef, SavedModel};
use bundle::{Bundle, BundleError};
use prost::Message;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

/// The signature taken when none is named.
pub const DEFAULT_SIGNATURE: &str = "serving_default";

/// Why a SavedModel could not be read or frozen; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SavedModelError {
    #[error("cannot read {path}: {cause}")]
    Read { path: PathBuf, cause: std::io::Error },
    #[error("{path} is not a SavedModel proto: {cause}")]
    Decode { path: PathBuf, cause: prost::DecodeError },
    #[error("{path} holds no meta graph")]
    NoMetaGraph { path: PathBuf },
    #[error("{path}: no signature `{name}`; the meta graph has: {}", if .available.is_empty() { "none".to_string() } else { .available.join(", ") })]
    NoSignature { path: PathBuf, name: String, available: Vec<String> },
    #[error("{path}: signature `{signature}`: {which} `{key}` is not a dense tensor (sparse and composite tensors are not supported)")]
    NotDense { path: PathBuf, signature: String, which: &'static str, key: String },
    #[error("{path}: signature `{signature}`: tensor `{tensor}` names no node of the graph")]
    NoTensor { path: PathBuf, signature: String, tensor: String },
    #[error("{path}: signature `{signature}` runs node `{node}` ({op}), a call into the graph's function library ({functions} functions): this is a TF2 SavedModel (`tf.saved_model.save` or Keras `model.save`), and functions are not inlined on import yet; save it TF1-style (`tf.compat.v1.saved_model.Builder`) or freeze it (docs/guide.md, \"Freezing a model\")")]
    FunctionCall { path: PathBuf, signature: String, node: String, op: String, functions: usize },
    #[error("{path}: node `{node}` ({op}): {why}")]
    Variable { path: PathBuf, node: String, op: String, why: String },
    #[error("{path}: variable node `{node}`: {cause}")]
    Bundle { path: PathBuf, node: String, cause: BundleError },
}

/// A SavedModel's signature as a frozen graph: the graph plus the tensor names its signature
/// maps, keyed by signature key.
#[derive(Debug)]
pub struct Frozen {
    pub graph: GraphDef,
    pub inputs: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
}

/// Whether `dir` is a SavedModel directory (holds `saved_model.pb`).
pub fn is_saved_model(dir: &Path) -> bool {
    dir.join("saved_model.pb").is_file()
}

/// Reads the SavedModel in `dir` and freezes signature `signature` (default
/// [`DEFAULT_SIGNATURE`]) into a GraphDef pruned to its outputs.
pub fn freeze(dir: &Path, signature: Option<&str>) -> Result<Frozen, SavedModelError> {
    let pb = dir.join("saved_model.pb");
    let data = std::fs::read(&pb).map_err(|cause| SavedModelError::Read { path: pb.clone(), cause })?;
    let sm = SavedModel::decode(data.as_slice()).map_err(|cause| SavedModelError::Decode { path: pb.clone(), cause })?;
    let meta = pick_meta_graph(&sm).ok_or_else(|| SavedModelError::NoMetaGraph { path: pb.clone() })?;
    let name = signature.unwrap_or(DEFAULT_SIGNATURE);
    let sig = meta.signature_def.get(name).ok_or_else(|| SavedModelError::NoSignature {
        path: pb.clone(),
        name: name.into(),
        available: meta.signature_def.keys().cloned().collect(),
    })?;
    let dense = |which, map: &BTreeMap<String, crate::proto::tensorflow::TensorInfo>| {
        map.iter()
            .map(|(k, info)| match &info.encoding {
                Some(tensor_info::Encoding::Name(t)) => Ok((k.clone(), t.clone())),
                _ => Err(SavedModelError::NotDense { path: pb.clone(), signature: name.into(), which, key: k.clone() }),
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
    };
    let inputs = dense("input", &sig.inputs)?;
    let outputs = dense("output", &sig.outputs)?;
    let graph = meta.graph_def.clone().unwrap_or_default();
    let functions = graph.library.as_ref().map_or(0, |l| l.function.len());
    let kept = prune(&graph, outputs.values(), &pb, name)?;
    let mut nodes: Vec<NodeDef> = graph.node.into_iter().filter(|n| kept.contains(&n.name)).collect();
    if let Some(call) = nodes.iter().find(|n| n.op.contains("PartitionedCall") || n.attr.contains_key("f")) {
        return Err(SavedModelError::FunctionCall { path: pb, signature: name.into(), node: call.name.clone(), op: call.op.clone(), functions });
    }
    let mut bundle: Option<Bundle> = None;
    for node in &mut nodes {
        freeze_node(node, dir, &pb, &mut bundle)?;
    }
    // No function is reachable from the signature: the library (if any) is not needed.
    let frozen = GraphDef { node: nodes, library: None, ..graph };
    Ok(Frozen { graph: frozen, inputs, outputs })
}

/// The meta graph tagged `serve`, else the first.
fn pick_meta_graph(sm: &SavedModel) -> Option<&MetaGraphDef> {
    let serves = |m: &&MetaGraphDef| m.meta_info_def.as_ref().is_some_and(|i| i.tags.iter().any(|t| t == "serve"));
    sm.meta_graphs.iter().find(serves).or_else(|| sm.meta_graphs.first())
}

fn node_of(input: &str) -> &str {
    let s = input.strip_prefix('^').unwrap_or(input);
    match s.rsplit_once(':') {
        Some((n, i)) if i.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => s,
    }
}

/// The names of the nodes the output tensors depend on (data and control inputs).
fn prune<'a>(graph: &GraphDef, outputs: impl Iterator<Item = &'a String>, pb: &Path, sig: &str) -> Result<HashSet<String>, SavedModelError> {
    let by_name: BTreeMap<&str, &NodeDef> = graph.node.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut kept = HashSet::new();
    let mut queue = VecDeque::new();
    for t in outputs {
        let n = node_of(t);
        if !by_name.contains_key(n) {
            return Err(SavedModelError::NoTensor { path: pb.to_owned(), signature: sig.into(), tensor: t.clone() });
        }
        queue.push_back(n.to_string());
    }
    while let Some(n) = queue.pop_front() {
        if !kept.insert(n.clone()) {
            continue;
        }
        // A missing input is left for the importer, which names it.
        if let Some(node) = by_name.get(n.as_str()) {
            queue.extend(node.input.iter().map(|i| node_of(i).to_string()));
        }
    }
    Ok(kept)
}

fn attr_string(node: &NodeDef, name: &str) -> Option<String> {
    match node.attr.get(name)?.value.as_ref()? {
        attr_value::Value::S(s) => Some(String::from_utf8_lossy(s).into_owned()),
        _ => None,
    }
}

/// Replaces a variable node by a `Const` of its checkpoint value and a `ReadVariableOp` by an
/// `Identity`; other nodes are left as they are.
fn freeze_node(node: &mut NodeDef, dir: &Path, pb: &Path, bundle: &mut Option<Bundle>) -> Result<(), SavedModelError> {
    let refuse = |why: &str| SavedModelError::Variable { path: pb.to_owned(), node: node.name.clone(), op: node.op.clone(), why: why.into() };
    match node.op.as_str() {
        "VarHandleOp" | "VariableV2" | "Variable" => {
            // Resource variables are saved under their shared name, TF1 ref variables under
            // their node name.
            let key = attr_string(node, "shared_name").filter(|s| !s.is_empty() && node.op == "VarHandleOp").unwrap_or_else(|| node.name.clone());
            let declared = node.attr.get("dtype").cloned().ok_or_else(|| refuse("no `dtype` attribute"))?;
            if bundle.is_none() {
                let b = Bundle::open(&dir.join("variables").join("variables"))
                    .map_err(|cause| SavedModelError::Bundle { path: pb.to_owned(), node: node.name.clone(), cause })?;
                *bundle = Some(b);
            }
            let value = bundle
                .as_mut()
                .expect("opened above")
                .tensor(&key)
                .map_err(|cause| SavedModelError::Bundle { path: pb.to_owned(), node: node.name.clone(), cause })?;
            if declared.value != Some(attr_value::Value::Type(value.dtype)) {
                return Err(refuse("its dtype differs from the checkpoint's"));
            }
            node.op = "Const".into();
            node.input.retain(|i| i.starts_with('^'));
            node.attr = BTreeMap::from([
                ("dtype".to_string(), declared),
                ("value".to_string(), AttrValue { value: Some(attr_value::Value::Tensor(value)) }),
            ]);
        }
        "ReadVariableOp" => {
            let dtype = node.attr.get("dtype").cloned().ok_or_else(|| refuse("no `dtype` attribute"))?;
            node.op = "Identity".into();
            node.attr = BTreeMap::from([("T".to_string(), dtype)]);
        }
        op if op.contains("Assign") || op == "ResourceGather" => {
            return Err(refuse("a variable update or resource read on the signature's path cannot be frozen"));
        }
        _ => {}
    }
    Ok(())
}
