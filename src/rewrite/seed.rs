//! Seeding: the imported `ir::Graph` becomes an e-graph, one e-node per TF node.
//!
//! Placeholders become `Input` leaves, constants `Const` leaves, every other node a `Tf` node
//! with its attributes (Identity and friends included: rules remove them). An op with several
//! outputs is one tuple node; its consumers reach output `i` through `Proj`. Only the nodes the
//! requested tensors depend on are seeded (plus every placeholder, which the model keeps as an
//! input), and each seeded class starts with the importer's facts. The [`Seeded`] maps keep the
//! way back from e-classes to TF names (outputs, origins, error messages, `explain`).

use super::analysis::TfAnalysis;
use super::bridge::attr_value;
use super::lang::{Attrs, InputSpec, Name, Node};
use crate::ir::{self, Graph, NodeId, Outlet};
use crate::rules::value::{DType, Tensor};
use egg::{EGraph, Id};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Seeding failed: the graph holds something the e-graph cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("input `{node}` has dtype {dtype}, which Core ML models cannot take")]
    InputDType { node: String, dtype: ir::DType },
    #[error("input `{node}` has no known dtype")]
    UnknownInputDType { node: String },
}

/// One seeded TF node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededNode {
    pub op: String,
    /// The class of the node (the tuple class for a multi-output op).
    pub class: Id,
}

/// The e-graph with the maps back to the TF graph.
pub struct Seeded {
    pub egraph: EGraph<Node, TfAnalysis>,
    /// Every seeded TF node by name, in topological order.
    pub nodes: IndexMap<String, SeededNode>,
    /// The class of each seeded outlet (`name`, `name:1`), also under `name:0`.
    pub outlets: HashMap<String, Id>,
    /// Placeholders in graph order: (name, class).
    pub inputs: Vec<(String, Id)>,
    /// What each class stands for, in topological order: the node name for a single-output
    /// node or a tuple, `name:i` for output `i` of a tuple. The first name of a class is its
    /// origin (a producer comes before the `Identity` that forwards it).
    pub origins: Vec<(Id, String)>,
}

impl Seeded {
    /// The class holding TF tensor `name` (`name`, `name:0`, `name:i`), canonical.
    pub fn outlet_class(&self, name: &str) -> Option<Id> {
        self.outlets.get(name).map(|&id| self.egraph.find(id))
    }
}

/// The attributes of a seeded node: everything but the `_`-prefixed bookkeeping attributes
/// (`_output_shapes`, `_class`) TensorFlow adds, which would keep equal nodes apart.
fn node_attrs(n: &ir::Node) -> Attrs {
    Attrs::new(
        n.attrs
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .filter_map(|(k, a)| Some((Name::from(k.as_str()), attr_value(a)?)))
            .collect(),
    )
}

fn input_node(n: &ir::Node) -> Result<Node, SeedError> {
    let fact = n.outputs.first();
    let dtype = fact.and_then(|f| f.dtype).ok_or_else(|| SeedError::UnknownInputDType { node: n.name.clone() })?;
    let dtype = DType::try_from(dtype).map_err(|dtype| SeedError::InputDType { node: n.name.clone(), dtype })?;
    let shape = fact.and_then(|f| f.shape.dims()).map(|dims| dims.iter().map(|d| d.known().map(|v| v as usize)).collect());
    Ok(Node::Input(Arc::new(InputSpec { name: n.name.as_str().into(), dtype, shape })))
}

/// Nodes `roots` depend on through data edges.
fn needed(graph: &Graph, roots: &[Outlet]) -> HashSet<NodeId> {
    let mut seen = HashSet::new();
    let mut stack: Vec<NodeId> = roots.iter().map(|o| o.node).collect();
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(graph.inputs(id).into_iter().map(|o| o.node));
        }
    }
    seen
}

/// Seeds the nodes `roots` depend on, and every placeholder.
pub fn seed(graph: &Graph, roots: &[Outlet], analysis: TfAnalysis) -> Result<Seeded, SeedError> {
    let mut keep = needed(graph, roots);
    keep.extend(graph.inputs_of_graph());
    let mut egraph = EGraph::new(analysis);
    let mut nodes = IndexMap::new();
    let mut outlets = HashMap::new();
    let mut by_outlet: HashMap<Outlet, Id> = HashMap::new();
    let mut inputs = vec![];
    let mut origins = vec![];
    for &id in graph.topo_order() {
        if !keep.contains(&id) {
            continue;
        }
        let n = graph.node(id);
        if n.outputs.is_empty() {
            continue;
        }
        let args: Vec<Id> = graph.inputs(id).iter().filter_map(|o| by_outlet.get(o).copied()).collect();
        let enode = match n.op.as_str() {
            "Placeholder" | "PlaceholderV2" => input_node(n)?,
            "Const" => match n.outputs[0].value.as_ref().map(Tensor::try_from) {
                Some(Ok(t)) => Node::Const(Arc::new(t)),
                _ => Node::Tf { op: n.op.as_str().into(), attrs: node_attrs(n), args },
            },
            _ => Node::Tf { op: n.op.as_str().into(), attrs: node_attrs(n), args },
        };
        egraph.analysis.hint(enode.clone(), n.outputs.clone());
        let class = egraph.add(enode);
        if matches!(n.op.as_str(), "Placeholder" | "PlaceholderV2") {
            inputs.push((n.name.clone(), class));
        }
        origins.push((class, n.name.clone()));
        if n.outputs.len() == 1 {
            by_outlet.insert(Outlet { node: id, output: 0 }, class);
            outlets.insert(n.name.clone(), class);
            outlets.insert(format!("{}:0", n.name), class);
        } else {
            for i in 0..n.outputs.len() {
                let p = egraph.add(Node::Proj { index: i as u32, arg: [class] });
                by_outlet.insert(Outlet { node: id, output: i }, p);
                outlets.insert(format!("{}:{i}", n.name), p);
                origins.push((p, format!("{}:{i}", n.name)));
                if i == 0 {
                    outlets.insert(n.name.clone(), p);
                }
            }
        }
        nodes.insert(n.name.clone(), SeededNode { op: n.op.clone(), class });
    }
    egraph.analysis.clear_hints();
    egraph.rebuild();
    Ok(Seeded { egraph, nodes, outlets, inputs, origins })
}
