//! `Graph`: the imported TensorFlow graph as a petgraph.
//!
//! Nodes carry the op name, typed attributes and, after inference, one [`Fact`] (dtype, shape,
//! constant value when known) per output. Data inputs are edges `Edge::Data { output, input }`
//! (source output index → input slot); control dependencies are `Edge::Control` edges, kept
//! apart from data so no consumer confuses the two. This module owns the structure and its
//! queries; building it is `import.rs`, filling the facts is `infer/`.

use super::attr::{Attr, AttrError, Attrs, FuncAttr};
use super::dtype::DType;
use super::shape::{Dim, Shape};
use super::tensor::Tensor;
use indexmap::IndexMap;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

pub type NodeId = NodeIndex<u32>;

/// One output of one node: TensorFlow's `name:index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Outlet {
    pub node: NodeId,
    pub output: usize,
}

/// An edge of the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edge {
    /// Output `output` of the source feeds input slot `input` of the target.
    Data { output: usize, input: usize },
    /// The target runs after the source (`^name` inputs); no value flows.
    Control,
}

/// What is known about one tensor before running the graph.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fact {
    pub dtype: Option<DType>,
    pub shape: Shape,
    /// The value, when it is a constant or computable from constants.
    pub value: Option<Tensor>,
    /// For an integer scalar or vector whose value is only partly known (a shape computed
    /// from a tensor with an unknown batch dim: `Shape` → `StridedSlice` → `Pack`), each
    /// element as a dim: known, symbolic or unknown. A negative element (Reshape's `-1`)
    /// counts as unknown. `None` when nothing is known or `value` is complete.
    pub partial: Option<Vec<Dim>>,
}

impl Fact {
    pub fn unknown() -> Fact {
        Fact { dtype: None, shape: Shape::Unknown, value: None, partial: None }
    }

    pub fn new(dtype: Option<DType>, shape: Shape) -> Fact {
        Fact { dtype, shape, value: None, partial: None }
    }

    /// A constant: dtype and shape from the tensor itself.
    pub fn constant(t: Tensor) -> Fact {
        Fact { dtype: Some(t.dtype()), shape: Shape::from_usize(t.shape()), value: Some(t), partial: None }
    }

    /// Integer values of a constant fact (`None` unless the value is known and integral).
    pub fn int_values(&self) -> Option<Vec<i64>> {
        self.value.as_ref()?.to_i64_vec()
    }

    /// Elements of an integer scalar or vector as dims, from the full value (negative
    /// elements become unknown) or the partial one.
    pub fn int_dims(&self) -> Option<Vec<Dim>> {
        match (&self.value, &self.partial) {
            (Some(v), _) if v.rank() <= 1 => Some(v.to_i64_vec()?.into_iter().map(Dim::from_tf).collect()),
            (_, Some(p)) => Some(p.clone()),
            _ => None,
        }
    }
}

/// A wrong or missing attribute of a named node.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("node `{node}` ({op}): {cause}")]
pub struct NodeAttrError {
    pub node: String,
    pub op: String,
    pub cause: AttrError,
}

/// One node: a TensorFlow `NodeDef` with typed attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub op: String,
    pub attrs: Attrs,
    pub device: String,
    /// One fact per output; their count is fixed at import (from the OpDef, or for an op
    /// without one, from the highest output index its consumers use).
    pub outputs: Vec<Fact>,
}

macro_rules! node_getter {
    ($name:ident, $inner:ident, $out:ty) => {
        /// Typed attribute; the error names this node and the attribute.
        pub fn $name(&self, attr: &str) -> Result<$out, NodeAttrError> {
            self.attrs.$inner(attr).map_err(|e| self.attr_error(e))
        }
    };
}

impl Node {
    /// Wraps an attribute error with this node's name and op.
    pub fn attr_error(&self, cause: AttrError) -> NodeAttrError {
        NodeAttrError { node: self.name.clone(), op: self.op.clone(), cause }
    }

    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.get(name)
    }

    node_getter!(get_attr_int, get_int, i64);
    node_getter!(get_attr_usize, get_usize, usize);
    node_getter!(get_attr_float, get_float, f32);
    node_getter!(get_attr_bool, get_bool, bool);
    node_getter!(get_attr_str, get_str, &str);
    node_getter!(get_attr_type, get_type, DType);
    node_getter!(get_attr_shape, get_shape, &Shape);
    node_getter!(get_attr_tensor, get_tensor, &Tensor);
    node_getter!(get_attr_func, get_func, &FuncAttr);
    node_getter!(get_attr_list_int, get_list_int, Vec<i64>);
    node_getter!(get_attr_list_float, get_list_float, Vec<f32>);
    node_getter!(get_attr_list_type, get_list_type, Vec<DType>);
    node_getter!(get_attr_list_shape, get_list_shape, Vec<Shape>);
    node_getter!(get_attr_list_str, get_list_str, Vec<String>);
}

/// The imported graph.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub graph: DiGraph<Node, Edge>,
    /// Node ids by name, in GraphDef order.
    names: IndexMap<String, NodeId>,
    /// A topological order (data and control edges), computed at import.
    order: Vec<NodeId>,
    /// The GraphDef's function library as it was before inlining (for `inspect`).
    pub library: Vec<super::functions::LibraryFunction>,
    /// The function library itself, for the loop regions that convert later
    /// (`rewrite::regions`); shared by the graphs of nested regions.
    pub functions: std::sync::Arc<Vec<crate::proto::tensorflow::FunctionDef>>,
}

impl Graph {
    /// Assembles a graph; `order` must be a topological order of `graph` (the importer checks).
    pub(crate) fn from_parts(graph: DiGraph<Node, Edge>, names: IndexMap<String, NodeId>, order: Vec<NodeId>) -> Graph {
        Graph { graph, names, order, library: Vec::new(), functions: Default::default() }
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.graph[id]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.graph[id]
    }

    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.names.get(name).copied()
    }

    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Node ids in GraphDef order.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.names.values().copied()
    }

    /// Node ids in a topological order: every node after its inputs.
    pub fn topo_order(&self) -> &[NodeId] {
        &self.order
    }

    /// Data inputs, ordered by input slot.
    pub fn inputs(&self, id: NodeId) -> Vec<Outlet> {
        let mut v: Vec<(usize, Outlet)> = self
            .graph
            .edges_directed(id, Direction::Incoming)
            .filter_map(|e| match *e.weight() {
                Edge::Data { output, input } => Some((input, Outlet { node: e.source(), output })),
                Edge::Control => None,
            })
            .collect();
        v.sort_by_key(|(slot, _)| *slot);
        v.into_iter().map(|(_, o)| o).collect()
    }

    /// Nodes this one must run after (`^name` inputs), in GraphDef order.
    pub fn control_inputs(&self, id: NodeId) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self
            .graph
            .edges_directed(id, Direction::Incoming)
            .filter(|e| matches!(e.weight(), Edge::Control))
            .map(|e| e.source())
            .collect();
        v.sort();
        v
    }

    /// Consumers of `outlet` as (node, input slot), sorted.
    pub fn consumers(&self, outlet: Outlet) -> Vec<(NodeId, usize)> {
        let mut v: Vec<_> = self
            .graph
            .edges_directed(outlet.node, Direction::Outgoing)
            .filter_map(|e| match *e.weight() {
                Edge::Data { output, input } if output == outlet.output => Some((e.target(), input)),
                _ => None,
            })
            .collect();
        v.sort();
        v
    }

    /// Whether any node consumes a data output of `id`.
    pub fn has_data_consumers(&self, id: NodeId) -> bool {
        self.graph.edges_directed(id, Direction::Outgoing).any(|e| matches!(e.weight(), Edge::Data { .. }))
    }

    /// The fact of an outlet.
    pub fn fact(&self, o: Outlet) -> Option<&Fact> {
        self.graph[o.node].outputs.get(o.output)
    }

    /// Graph inputs: `Placeholder` nodes, in GraphDef order.
    pub fn inputs_of_graph(&self) -> Vec<NodeId> {
        self.node_ids().filter(|&id| self.graph[id].op == "Placeholder").collect()
    }

    /// Graph outputs: nodes with outputs that no node consumes (typically the `Identity` nodes
    /// a frozen graph ends with), in GraphDef order. `NoOp`s and `Const`s nobody reads are left
    /// out: they are scaffolding, not results. So is a node read only through control edges (a
    /// frozen variable's `ReadVariableOp` kept for ordering, as Keras' SimpleRNN and GRU leave
    /// next to their loop): it orders, it is not a value anyone asked for.
    pub fn outputs_of_graph(&self) -> Vec<NodeId> {
        self.node_ids()
            .filter(|&id| {
                let n = &self.graph[id];
                let mut consumers = self.graph.edges_directed(id, Direction::Outgoing).peekable();
                !n.outputs.is_empty() && n.op != "Const" && consumers.peek().is_none()
            })
            .collect()
    }

    /// TensorFlow's name of an outlet: `name` for output 0, `name:i` otherwise.
    pub fn outlet_name(&self, o: Outlet) -> String {
        let n = &self.graph[o.node].name;
        if o.output == 0 {
            n.clone()
        } else {
            format!("{n}:{}", o.output)
        }
    }
}
