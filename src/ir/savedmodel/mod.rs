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
//! through `StatefulPartitionedCall` into the graph's function library, passing the variables
//! as captured resource inputs. Their `VarHandleOp`s become constants of the checkpoint
//! tensors the object graph ties them to ([`captures`]), then the calls are inlined by
//! [`crate::ir::functions::flatten`], after which the `ReadVariableOp`s inside the bodies read
//! those constants and are frozen like the top-level ones.

pub mod bundle;
pub mod captures;
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
    #[error("{path}: signature `{signature}`: {cause}")]
    Capture { path: PathBuf, signature: String, cause: captures::CaptureError },
    #[error("{path}: signature `{signature}`: {cause}")]
    Function { path: PathBuf, signature: String, cause: crate::ir::functions::FunctionError },
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
    let kept = prune(&graph, outputs.values(), &pb, name)?;
    let mut nodes: Vec<NodeDef> = graph.node.into_iter().filter(|n| kept.contains(&n.name)).collect();
    let calls = nodes.iter().any(|n| crate::ir::functions::CALL_OPS.contains(&n.op.as_str()));
    let mut bundle: Option<Bundle> = None;
    // TF2: the captured variables' checkpoint keys come from the object graphs.
    let mut keys = BTreeMap::new();
    if let (true, Some(objects)) = (calls, meta.object_graph_def.as_ref()) {
        let b = open_bundle(dir, &pb, &mut bundle, "(object graph)")?;
        keys = captures::capture_keys(objects, &nodes, b)
            .map_err(|cause| SavedModelError::Capture { path: pb.clone(), signature: name.into(), cause })?;
    }
    for node in &mut nodes {
        freeze_node(node, dir, &pb, &mut bundle, &keys)?;
    }
    let mut frozen = GraphDef { node: nodes, library: graph.library, ..graph };
    let (mut inputs, mut outputs) = (inputs, outputs);
    if let Some((call, sources)) = signature_call(&frozen.node, &inputs, &outputs) {
        // The signature's function body is the graph, named as TensorFlow's freezing of the
        // signature's concrete function names it (docs/architecture.md, SavedModel names).
        let (body, results) = crate::ir::functions::inline_call_as_graph(&frozen, &call, &sources)
            .map_err(|cause| SavedModelError::Function { path: pb.clone(), signature: name.into(), cause })?;
        let args: Vec<String> = body.node.iter().take(sources.len()).map(|n| n.name.clone()).collect();
        let arg_of: BTreeMap<&str, &str> = call.input.iter().map(|i| node_of(i)).zip(args.iter().map(String::as_str)).collect();
        for t in inputs.values_mut() {
            // signature_call checked that every input placeholder feeds the call.
            if let Some(arg) = arg_of.get(node_of(t)) {
                *t = format!("{arg}:0");
            }
        }
        for t in outputs.values_mut() {
            let i: usize = t.rsplit_once(':').and_then(|(_, i)| i.parse().ok()).unwrap_or(0);
            let result = results.get(i).ok_or_else(|| SavedModelError::NoTensor { path: pb.clone(), signature: name.into(), tensor: t.clone() })?;
            *t = match result.rsplit_once(':') {
                Some((n, k)) if k.bytes().all(|b| b.is_ascii_digit()) => format!("{n}:{k}"),
                _ => format!("{result}:0"),
            };
        }
        frozen = body;
        for node in &mut frozen.node {
            freeze_node(node, dir, &pb, &mut bundle, &keys)?;
        }
    } else if crate::ir::functions::needs_flattening(&frozen) && calls {
        // Inlined bodies read the now-constant handles through their own `ReadVariableOp`s.
        frozen = crate::ir::functions::flatten(&frozen)
            .map_err(|cause| SavedModelError::Function { path: pb.clone(), signature: name.into(), cause })?;
        for node in &mut frozen.node {
            freeze_node(node, dir, &pb, &mut bundle, &keys)?;
        }
    } else {
        // No function is reachable from the signature: the library (if any) is not needed.
        frozen.library = None;
    }
    Ok(Frozen { graph: frozen, inputs, outputs })
}

/// A TF2 signature's wrapper call: the meta graph's signature is one call node (the
/// `StatefulPartitionedCall` of `__inference_signature_wrapper_*`) fed by the signature's
/// placeholders and the captured variables (already `Const`s), with every output a tensor of
/// that call. Returns the call and its input nodes in argument order, for
/// [`crate::ir::functions::inline_call_as_graph`]; `None` for any other shape (TF1 graphs,
/// which are named by their own nodes).
fn signature_call(nodes: &[NodeDef], inputs: &BTreeMap<String, String>, outputs: &BTreeMap<String, String>) -> Option<(NodeDef, Vec<NodeDef>)> {
    let calls: Vec<&NodeDef> = nodes.iter().filter(|n| crate::ir::functions::CALL_OPS.contains(&n.op.as_str())).collect();
    let [call] = calls[..] else { return None };
    if outputs.is_empty() || !outputs.values().all(|t| node_of(t) == call.name) {
        return None;
    }
    let by_name: BTreeMap<&str, &NodeDef> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut sources = vec![];
    for i in &call.input {
        if i.starts_with('^') || i.contains(':') && !i.ends_with(":0") {
            return None;
        }
        let source = by_name.get(node_of(i))?;
        let placeholder = source.op == "Placeholder" && inputs.values().any(|t| node_of(t) == source.name);
        if !(placeholder || source.op == "Const") || source.input.iter().any(|c| !c.starts_with('^')) {
            return None;
        }
        sources.push(NodeDef { input: vec![], ..(*source).clone() });
    }
    // Nothing else feeds the outputs.
    if nodes.len() != sources.len() + 1 || inputs.values().any(|t| !call.input.iter().any(|i| node_of(i) == node_of(t))) {
        return None;
    }
    Some((call.clone(), sources))
}

/// The checkpoint, opened on first use; `node` names what needed it in errors.
fn open_bundle<'b>(dir: &Path, pb: &Path, bundle: &'b mut Option<Bundle>, node: &str) -> Result<&'b mut Bundle, SavedModelError> {
    if bundle.is_none() {
        let b = Bundle::open(&dir.join("variables").join("variables"))
            .map_err(|cause| SavedModelError::Bundle { path: pb.to_owned(), node: node.into(), cause })?;
        *bundle = Some(b);
    }
    Ok(bundle.as_mut().expect("opened above"))
}

/// The meta graph tagged `serve`, else the first.
fn pick_meta_graph(sm: &SavedModel) -> Option<&MetaGraphDef> {
    let serves = |m: &&MetaGraphDef| m.meta_info_def.as_ref().is_some_and(|i| i.tags.iter().any(|t| t == "serve"));
    sm.meta_graphs.iter().find(serves).or_else(|| sm.meta_graphs.first())
}

pub(crate) fn node_of(input: &str) -> &str {
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
/// `keys` maps TF2 captured handles to their checkpoint keys.
fn freeze_node(node: &mut NodeDef, dir: &Path, pb: &Path, bundle: &mut Option<Bundle>, keys: &BTreeMap<String, String>) -> Result<(), SavedModelError> {
    let refuse = |why: &str| SavedModelError::Variable { path: pb.to_owned(), node: node.name.clone(), op: node.op.clone(), why: why.into() };
    match node.op.as_str() {
        "VarHandleOp" | "VariableV2" | "Variable" => {
            // TF2 captures are keyed by object path; TF1 resource variables are saved under
            // their shared name, TF1 ref variables under their node name.
            let key = match keys.get(&node.name) {
                Some(k) => k.clone(),
                None => attr_string(node, "shared_name").filter(|s| !s.is_empty() && node.op == "VarHandleOp").unwrap_or_else(|| node.name.clone()),
            };
            let declared = node.attr.get("dtype").cloned().ok_or_else(|| refuse("no `dtype` attribute"))?;
            let value = open_bundle(dir, pb, bundle, &node.name)?
                .tensor(&key)
                .map_err(|cause| SavedModelError::Bundle { path: pb.to_owned(), node: node.name.clone(), cause })?;
            if declared.value != Some(attr_value::Value::Type(value.dtype)) {
                return Err(refuse("its dtype differs from the checkpoint's"));
            }
            node.op = "Const".into();
            node.input.retain(|i| i.starts_with('^'));
            node.attr = BTreeMap::from([
                ("dtype".to_string(), declared),
                ("value".to_string(), AttrValue { value: Some(attr_value::Value::Tensor(Box::new(value))) }),
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
