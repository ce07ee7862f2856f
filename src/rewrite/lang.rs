//! The one e-graph language: TF ops, Core ML NN layers and custom layers side by side, so a TF
//! op and the layers that implement it live in the same e-class and extraction picks.
//!
//! egg e-node children are only `Id`s, so everything else an op carries (TF attributes, NN
//! layer parameters, constant tensors) is node data: hashable [`Attrs`] (sorted name/value
//! pairs behind an `Arc`, cheap to clone) and `Arc<Tensor>` constants. Names are `Arc<str>`,
//! compared by content, so node order never depends on interning order (deterministic output).
//!
//! Multi-output ops (`TopKV2`, `topK`, `Split`) are a single node standing for the tuple of
//! outputs; consumers refer to output `i` through `Proj { index: i, .. }`. Single-output ops
//! are used directly. Rewriting a tuple node into another tuple node makes the projections
//! equal by congruence.

use crate::rules::functions::ClassFacts;
use crate::rules::value::{DType, Tensor, Value};
use egg::{Analysis, DidMerge, EGraph, Id, Language};
use std::fmt;
use std::sync::Arc;

/// An op, layer kind, registration or input name.
pub type Name = Arc<str>;

/// Attributes or parameters of a node, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Attrs(pub Arc<[(Name, Value)]>);

impl Attrs {
    pub fn new(mut pairs: Vec<(Name, Value)>) -> Attrs {
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|a, b| a.0 == b.0);
        Attrs(pairs.into())
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.binary_search_by(|(n, _)| (**n).cmp(name)).ok().map(|i| &self.0[i].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Name, Value)> {
        self.0.iter()
    }
}

/// A graph input: a leaf with its declared type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InputSpec {
    pub name: Name,
    pub dtype: DType,
    /// `None`: unknown rank; `None` dims: unknown size.
    pub shape: Option<Vec<Option<usize>>>,
}

/// One e-node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Input(Arc<InputSpec>),
    Const(Arc<Tensor>),
    /// A TensorFlow op with its NodeDef attributes.
    Tf { op: Name, attrs: Attrs, args: Vec<Id> },
    /// A Core ML NN layer (`kind` is a name from `rules::layers`).
    Nn { kind: Name, params: Attrs, args: Vec<Id> },
    /// A custom layer from registration `reg`, with its computed `CustomLayerParamValue`s;
    /// `args` follow the registration's `input_order`.
    Custom { reg: Name, params: Attrs, args: Vec<Id> },
    /// Output `index` of a multi-output node.
    Proj { index: u32, arg: [Id; 1] },
}

/// What `Language::discriminant` compares: the variant and its head name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NodeHead {
    Input,
    Const,
    Tf(Name),
    Nn(Name),
    Custom(Name),
    Proj(u32),
}

impl Node {
    pub fn tf(op: &str, attrs: Vec<(&str, Value)>, args: Vec<Id>) -> Node {
        Node::Tf { op: op.into(), attrs: Attrs::new(attrs.into_iter().map(|(n, v)| (Name::from(n), v)).collect()), args }
    }

    pub fn nn(kind: &str, params: Vec<(&str, Value)>, args: Vec<Id>) -> Node {
        Node::Nn { kind: kind.into(), params: Attrs::new(params.into_iter().map(|(n, v)| (Name::from(n), v)).collect()), args }
    }

    pub fn input(name: &str, dtype: DType, shape: Option<Vec<Option<usize>>>) -> Node {
        Node::Input(Arc::new(InputSpec { name: name.into(), dtype, shape }))
    }

    pub fn head(&self) -> NodeHead {
        match self {
            Node::Input(_) => NodeHead::Input,
            Node::Const(_) => NodeHead::Const,
            Node::Tf { op, .. } => NodeHead::Tf(op.clone()),
            Node::Nn { kind, .. } => NodeHead::Nn(kind.clone()),
            Node::Custom { reg, .. } => NodeHead::Custom(reg.clone()),
            Node::Proj { index, .. } => NodeHead::Proj(*index),
        }
    }

    /// Attributes (TF) or parameters (NN, custom).
    pub fn attrs(&self) -> Option<&Attrs> {
        match self {
            Node::Tf { attrs, .. } => Some(attrs),
            Node::Nn { params, .. } | Node::Custom { params, .. } => Some(params),
            _ => None,
        }
    }

    /// Short human name: `Conv2D`, `convolution`, `custom CustomTopK`, `const`, `input x`, `.1`.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl Language for Node {
    type Discriminant = NodeHead;

    fn discriminant(&self) -> NodeHead {
        self.head()
    }

    fn matches(&self, other: &Self) -> bool {
        match (self, other) {
            (Node::Input(a), Node::Input(b)) => a == b,
            (Node::Const(a), Node::Const(b)) => a == b,
            (Node::Tf { op: a, attrs: x, args: p }, Node::Tf { op: b, attrs: y, args: q }) => a == b && x == y && p.len() == q.len(),
            (Node::Nn { kind: a, params: x, args: p }, Node::Nn { kind: b, params: y, args: q }) => a == b && x == y && p.len() == q.len(),
            (Node::Custom { reg: a, params: x, args: p }, Node::Custom { reg: b, params: y, args: q }) => a == b && x == y && p.len() == q.len(),
            (Node::Proj { index: a, .. }, Node::Proj { index: b, .. }) => a == b,
            _ => false,
        }
    }

    fn children(&self) -> &[Id] {
        match self {
            Node::Input(_) | Node::Const(_) => &[],
            Node::Tf { args, .. } | Node::Nn { args, .. } | Node::Custom { args, .. } => args,
            Node::Proj { arg, .. } => arg,
        }
    }

    fn children_mut(&mut self) -> &mut [Id] {
        match self {
            Node::Input(_) | Node::Const(_) => &mut [],
            Node::Tf { args, .. } | Node::Nn { args, .. } | Node::Custom { args, .. } => args,
            Node::Proj { arg, .. } => arg,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Input(i) => write!(f, "input {}", i.name),
            Node::Const(t) => write!(f, "const {}{:?}", t.dtype, t.shape),
            Node::Tf { op, .. } => f.write_str(op),
            Node::Nn { kind, .. } => f.write_str(kind),
            Node::Custom { reg, .. } => write!(f, "custom {reg}"),
            Node::Proj { index, .. } => write!(f, ".{index}"),
        }
    }
}

/// The facts about one e-class that rule guards read. The rewrite stage's `Analysis` data
/// implements this; [`BasicFacts`] is the minimal one (inputs and constants only).
pub trait ClassData {
    fn dtype(&self) -> Option<DType>;
    fn shape(&self) -> Option<Vec<Option<usize>>>;
    fn constant(&self) -> Option<Arc<Tensor>>;
}

/// [`ClassFacts`] over an e-graph whose analysis data implements [`ClassData`].
pub struct EGraphFacts<'a, N: Analysis<Node>>(pub &'a EGraph<Node, N>);

impl<N: Analysis<Node>> ClassFacts for EGraphFacts<'_, N>
where
    N::Data: ClassData,
{
    fn dtype(&self, class: Id) -> Option<DType> {
        self.0[class].data.dtype()
    }
    fn shape(&self, class: Id) -> Option<Vec<Option<usize>>> {
        self.0[class].data.shape()
    }
    fn constant(&self, class: Id) -> Option<Arc<Tensor>> {
        self.0[class].data.constant()
    }
}

/// Facts known from leaves alone: an input's declared type, a constant's value. Enough for
/// tests and for rules whose guards look at inputs and constants; shape inference through ops
/// belongs to the rewrite stage's own analysis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub dtype: Option<DType>,
    pub shape: Option<Vec<Option<usize>>>,
    pub constant: Option<Arc<Tensor>>,
}

impl ClassData for Facts {
    fn dtype(&self) -> Option<DType> {
        self.dtype
    }
    fn shape(&self) -> Option<Vec<Option<usize>>> {
        self.shape.clone()
    }
    fn constant(&self) -> Option<Arc<Tensor>> {
        self.constant.clone()
    }
}

/// The analysis computing [`Facts`] from `Input` and `Const` nodes.
#[derive(Debug, Clone, Copy, Default)]
pub struct BasicFacts;

impl Analysis<Node> for BasicFacts {
    type Data = Facts;

    fn make(_egraph: &mut EGraph<Node, Self>, enode: &Node, _id: Id) -> Facts {
        match enode {
            Node::Input(i) => Facts { dtype: Some(i.dtype), shape: i.shape.clone(), constant: None },
            Node::Const(t) => Facts {
                dtype: Some(t.dtype),
                shape: Some(t.shape.iter().map(|d| Some(*d)).collect()),
                constant: Some(t.clone()),
            },
            _ => Facts::default(),
        }
    }

    fn merge(&mut self, a: &mut Facts, b: Facts) -> DidMerge {
        let mut changed_a = false;
        let mut changed_b = false;
        macro_rules! take {
            ($f:ident) => {
                match (&a.$f, b.$f) {
                    (None, Some(v)) => {
                        a.$f = Some(v);
                        changed_a = true;
                    }
                    (Some(_), None) => changed_b = true,
                    _ => {}
                }
            };
        }
        take!(dtype);
        take!(shape);
        take!(constant);
        DidMerge(changed_a, changed_b)
    }
}
