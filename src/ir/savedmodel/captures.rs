//! TF2 SavedModels: the checkpoint key of each variable a signature's function captures.
//!
//! `tf.saved_model.save` and Keras `model.save` write the signature as a call
//! (`StatefulPartitionedCall`) into the function library whose trailing inputs are the captured
//! variables' `VarHandleOp`s. Their checkpoint keys are not their node names: TF2 checkpoints
//! are keyed by object path (`layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`). The
//! meta graph's `SavedObjectGraph` says which objects a concrete function captures
//! (`bound_inputs`, one node id per captured input, in order); the checkpoint's own
//! `TrackableObjectGraph` (the `_CHECKPOINTABLE_OBJECT_GRAPH` entry) gives each object's
//! `VARIABLE_VALUE` key. The two graphs are matched from their roots by child names, as
//! TensorFlow's restore does, rather than assuming equal node ids.

use super::bundle::{Bundle, BundleError};
use crate::ir::functions::CALL_OPS;
use crate::proto::tensorflow::{attr_value, SavedObjectGraph, TrackableObjectGraph};
use crate::proto::tensorflow::NodeDef;
use prost::Message;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// The checkpoint entry holding the serialized `TrackableObjectGraph`.
pub const OBJECT_GRAPH_KEY: &str = "_CHECKPOINTABLE_OBJECT_GRAPH";
/// The attribute under which a variable object saves its value.
const VARIABLE_VALUE: &str = "VARIABLE_VALUE";

/// Why a captured variable could not be tied to a checkpoint tensor.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error("the checkpoint's object graph (`{OBJECT_GRAPH_KEY}`) is not a TrackableObjectGraph: {0}")]
    Decode(prost::DecodeError),
    #[error("node `{call}` calls `{function}` with {inputs} data inputs, fewer than its {bound} captured objects")]
    TooFewInputs { call: String, function: String, inputs: usize, bound: usize },
    #[error("node `{call}`: captured object {id} of `{function}` is not in the saved object graph")]
    NoObject { call: String, function: String, id: i32 },
    #[error("node `{call}`: captured variable `{handle}` (object {id}, path `{path}`) has no saved value in the checkpoint")]
    NotInCheckpoint { call: String, handle: String, id: i32, path: String },
}

/// Maps each `VarHandleOp` node that `nodes`' calls capture to its checkpoint key.
/// Nodes that are not captured through a concrete function are absent (TF1 graphs key their
/// variables by shared name).
pub fn capture_keys(
    objects: &SavedObjectGraph,
    nodes: &[NodeDef],
    bundle: &mut Bundle,
) -> Result<BTreeMap<String, String>, CaptureError> {
    let by_name: HashMap<&str, &NodeDef> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut keys = BTreeMap::new();
    let mut checkpoint: Option<(TrackableObjectGraph, Vec<Option<usize>>, Vec<String>)> = None;
    for call in nodes.iter().filter(|n| CALL_OPS.contains(&n.op.as_str())) {
        let Some(function) = call.attr.get("f").and_then(|a| match &a.value {
            Some(attr_value::Value::Func(f)) => Some(f.name.clone()),
            _ => None,
        }) else {
            continue;
        };
        let Some(concrete) = objects.concrete_functions.get(&function) else { continue };
        let data: Vec<&String> = call.input.iter().filter(|i| !i.starts_with('^')).collect();
        let bound = &concrete.bound_inputs;
        if data.len() < bound.len() {
            return Err(CaptureError::TooFewInputs { call: call.name.clone(), function, inputs: data.len(), bound: bound.len() });
        }
        for (input, &id) in data[data.len() - bound.len()..].iter().zip(bound) {
            let handle = super::node_of(input);
            if by_name.get(handle).is_none_or(|n| n.op != "VarHandleOp") {
                continue; // a captured constant or resource other than a variable: left as is
            }
            if checkpoint.is_none() {
                let bytes = bundle.string_scalar(OBJECT_GRAPH_KEY)?;
                let graph = TrackableObjectGraph::decode(bytes).map_err(CaptureError::Decode)?;
                let (matched, paths) = match_graphs(objects, &graph);
                checkpoint = Some((graph, matched, paths));
            }
            let (graph, matched, paths) = checkpoint.as_ref().expect("read above");
            let saved = usize::try_from(id).ok().filter(|&i| i < objects.nodes.len());
            let Some(saved) = saved else {
                return Err(CaptureError::NoObject { call: call.name.clone(), function, id });
            };
            let key = matched[saved]
                .and_then(|c| graph.nodes.get(c))
                .and_then(|o| o.attributes.iter().find(|a| a.name == VARIABLE_VALUE))
                .map(|a| a.checkpoint_key.clone());
            let Some(key) = key else {
                return Err(CaptureError::NotInCheckpoint { call: call.name.clone(), handle: handle.into(), id, path: paths[saved].clone() });
            };
            keys.insert(handle.to_string(), key);
        }
    }
    Ok(keys)
}

/// For each saved object, the checkpoint object at the same path of child names from the
/// root (node 0 of both), and the path itself (for errors).
fn match_graphs(objects: &SavedObjectGraph, checkpoint: &TrackableObjectGraph) -> (Vec<Option<usize>>, Vec<String>) {
    let n = objects.nodes.len();
    let mut matched = vec![None; n];
    let mut paths = vec![String::new(); n];
    let mut seen = vec![false; n];
    if n == 0 {
        return (matched, paths);
    }
    matched[0] = (!checkpoint.nodes.is_empty()).then_some(0);
    seen[0] = true;
    let mut queue = VecDeque::from([0usize]);
    while let Some(s) = queue.pop_front() {
        for child in &objects.nodes[s].children {
            let Some(sc) = usize::try_from(child.node_id).ok().filter(|&i| i < n && !seen[i]) else { continue };
            seen[sc] = true;
            paths[sc] = if paths[s].is_empty() { child.local_name.clone() } else { format!("{}/{}", paths[s], child.local_name) };
            matched[sc] = matched[s]
                .and_then(|c| checkpoint.nodes[c].children.iter().find(|r| r.local_name == child.local_name))
                .and_then(|r| usize::try_from(r.node_id).ok())
                .filter(|&i| i < checkpoint.nodes.len());
            queue.push_back(sc);
        }
    }
    (matched, paths)
}
