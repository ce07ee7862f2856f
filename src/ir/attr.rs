//! `Attr` and `Attrs`: a node's attributes as typed values instead of raw `AttrValue` protos,
//! with accessors whose errors name the attribute (and, through `Node`, the node).
//!
//! Every kind of TensorFlow `AttrValue` has a variant. All types derive `Eq`, `Hash` and `Ord`
//! (floats through `OrderedFloat`) so e-graph nodes can carry them.

use super::dtype::DType;
use super::shape::Shape;
use super::tensor::{Tensor, TensorError};
use crate::proto::tensorflow::{attr_value, AttrValue, NameAttrList};
use bytes::Bytes;
use ordered_float::OrderedFloat;
use std::collections::BTreeMap;
use std::fmt;

/// A function reference (`func` attrs): a name and its own attrs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncAttr {
    pub name: String,
    pub attrs: Attrs,
}

/// One attribute value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attr {
    S(Bytes),
    I(i64),
    F(OrderedFloat<f32>),
    B(bool),
    Type(DType),
    Shape(Shape),
    Tensor(Tensor),
    Func(FuncAttr),
    /// A placeholder to be substituted by a function's attr (only inside function bodies).
    Placeholder(String),
    ListS(Vec<Bytes>),
    ListI(Vec<i64>),
    ListF(Vec<OrderedFloat<f32>>),
    ListB(Vec<bool>),
    ListType(Vec<DType>),
    ListShape(Vec<Shape>),
    ListTensor(Vec<Tensor>),
    ListFunc(Vec<FuncAttr>),
    /// An empty list whose element kind the protobuf cannot tell; the importer replaces it
    /// with the typed empty list when the op's OpDef is known. Every list accessor accepts it.
    EmptyList,
}

impl Attr {
    /// The kind as an OpDef spells it: `int`, `list(type)`...
    pub fn kind(&self) -> &'static str {
        match self {
            Attr::S(_) => "string",
            Attr::I(_) => "int",
            Attr::F(_) => "float",
            Attr::B(_) => "bool",
            Attr::Type(_) => "type",
            Attr::Shape(_) => "shape",
            Attr::Tensor(_) => "tensor",
            Attr::Func(_) => "func",
            Attr::Placeholder(_) => "placeholder",
            Attr::ListS(_) => "list(string)",
            Attr::ListI(_) => "list(int)",
            Attr::ListF(_) => "list(float)",
            Attr::ListB(_) => "list(bool)",
            Attr::ListType(_) => "list(type)",
            Attr::ListShape(_) => "list(shape)",
            Attr::ListTensor(_) => "list(tensor)",
            Attr::ListFunc(_) => "list(func)",
            Attr::EmptyList => "list",
        }
    }

    /// The empty list of an OpDef kind (`list(int)` ...); `None` for scalar kinds.
    pub fn empty_list_of(kind: &str) -> Option<Attr> {
        Some(match kind {
            "list(string)" => Attr::ListS(Vec::new()),
            "list(int)" => Attr::ListI(Vec::new()),
            "list(float)" => Attr::ListF(Vec::new()),
            "list(bool)" => Attr::ListB(Vec::new()),
            "list(type)" => Attr::ListType(Vec::new()),
            "list(shape)" => Attr::ListShape(Vec::new()),
            "list(tensor)" => Attr::ListTensor(Vec::new()),
            "list(func)" => Attr::ListFunc(Vec::new()),
            _ => return None,
        })
    }

    /// Converts a protobuf `AttrValue`. `None` (no value set) is an error, as are unknown
    /// dtypes and undecodable tensors.
    pub fn from_proto(v: &AttrValue) -> Result<Attr, AttrDecodeError> {
        use attr_value::Value;
        let dtype = |code: i32| DType::from_tf(code).ok_or(AttrDecodeError::UnknownDType(code));
        Ok(match v.value.as_ref().ok_or(AttrDecodeError::NoValue)? {
            Value::S(s) => Attr::S(s.clone()),
            Value::I(i) => Attr::I(*i),
            Value::F(f) => Attr::F(OrderedFloat(*f)),
            Value::B(b) => Attr::B(*b),
            Value::Type(t) => Attr::Type(dtype(*t)?),
            Value::Shape(s) => Attr::Shape(Shape::from_proto(s)),
            Value::Tensor(t) => Attr::Tensor(Tensor::from_proto(t).map_err(AttrDecodeError::Tensor)?),
            Value::Func(f) => Attr::Func(func_from_proto(f)?),
            Value::Placeholder(p) => Attr::Placeholder(p.clone()),
            Value::List(l) => {
                if !l.s.is_empty() {
                    Attr::ListS(l.s.clone())
                } else if !l.i.is_empty() {
                    Attr::ListI(l.i.clone())
                } else if !l.f.is_empty() {
                    Attr::ListF(l.f.iter().map(|&f| OrderedFloat(f)).collect())
                } else if !l.b.is_empty() {
                    Attr::ListB(l.b.clone())
                } else if !l.r#type.is_empty() {
                    Attr::ListType(l.r#type.iter().map(|&t| dtype(t)).collect::<Result<_, _>>()?)
                } else if !l.shape.is_empty() {
                    Attr::ListShape(l.shape.iter().map(Shape::from_proto).collect())
                } else if !l.tensor.is_empty() {
                    Attr::ListTensor(
                        l.tensor.iter().map(|t| Tensor::from_proto(t).map_err(AttrDecodeError::Tensor)).collect::<Result<_, _>>()?,
                    )
                } else if !l.func.is_empty() {
                    Attr::ListFunc(l.func.iter().map(func_from_proto).collect::<Result<_, _>>()?)
                } else {
                    Attr::EmptyList
                }
            }
        })
    }
}

fn func_from_proto(f: &NameAttrList) -> Result<FuncAttr, AttrDecodeError> {
    let mut attrs = Attrs::default();
    for (k, v) in &f.attr {
        attrs.insert(k.clone(), Attr::from_proto(v)?);
    }
    Ok(FuncAttr { name: f.name.clone(), attrs })
}

/// Why an `AttrValue` could not be converted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttrDecodeError {
    #[error("attribute has no value")]
    NoValue,
    #[error("unknown dtype {0} (DataType number)")]
    UnknownDType(i32),
    #[error("{0}")]
    Tensor(TensorError),
}

impl fmt::Display for Attr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, v: &[T]) -> fmt::Result {
            f.write_str("[")?;
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            f.write_str("]")
        }
        match self {
            Attr::S(s) => write!(f, "{:?}", String::from_utf8_lossy(s)),
            Attr::I(i) => write!(f, "{i}"),
            Attr::F(x) => write!(f, "{x}"),
            Attr::B(b) => write!(f, "{b}"),
            Attr::Type(t) => write!(f, "{}", t.tf_name()),
            Attr::Shape(s) => write!(f, "{s}"),
            Attr::Tensor(t) => write!(f, "{t}"),
            Attr::Func(func) => write!(f, "func {}", func.name),
            Attr::Placeholder(p) => write!(f, "${p}"),
            Attr::ListS(v) => list(f, &v.iter().map(|s| format!("{:?}", String::from_utf8_lossy(s))).collect::<Vec<_>>()),
            Attr::ListI(v) => list(f, v),
            Attr::ListF(v) => list(f, v),
            Attr::ListB(v) => list(f, v),
            Attr::ListType(v) => list(f, &v.iter().map(|t| t.tf_name()).collect::<Vec<_>>()),
            Attr::ListShape(v) => list(f, v),
            Attr::ListTensor(v) => list(f, v),
            Attr::ListFunc(v) => list(f, &v.iter().map(|x| x.name.clone()).collect::<Vec<_>>()),
            Attr::EmptyList => f.write_str("[]"),
        }
    }
}

/// A wrong or missing attribute, naming it. [`crate::ir::Node`]'s accessors add the node name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AttrError {
    #[error("attribute `{attr}` is missing")]
    Missing { attr: String },
    #[error("attribute `{attr}` should be {expected}, found {found}")]
    WrongKind { attr: String, expected: &'static str, found: &'static str },
    #[error("attribute `{attr}` has value {value}, {why}")]
    BadValue { attr: String, value: String, why: String },
}

/// A node's attributes by name, ordered (so printing and hashing are deterministic).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Attrs(pub BTreeMap<String, Attr>);

macro_rules! getter {
    ($(#[$doc:meta])* $name:ident, $variant:ident, $out:ty, $expected:literal, |$v:ident| $conv:expr) => {
        $(#[$doc])*
        pub fn $name(&self, name: &str) -> Result<$out, AttrError> {
            match self.require(name)? {
                Attr::$variant($v) => Ok($conv),
                other => Err(AttrError::WrongKind { attr: name.into(), expected: $expected, found: other.kind() }),
            }
        }
    };
}

macro_rules! list_getter {
    ($(#[$doc:meta])* $name:ident, $variant:ident, $out:ty, $expected:literal, |$v:ident| $conv:expr) => {
        $(#[$doc])*
        pub fn $name(&self, name: &str) -> Result<$out, AttrError> {
            match self.require(name)? {
                Attr::$variant($v) => Ok($conv),
                Attr::EmptyList => Ok(Default::default()),
                other => Err(AttrError::WrongKind { attr: name.into(), expected: $expected, found: other.kind() }),
            }
        }
    };
}

impl Attrs {
    pub fn new() -> Attrs {
        Attrs::default()
    }

    pub fn get(&self, name: &str) -> Option<&Attr> {
        self.0.get(name)
    }

    pub fn insert(&mut self, name: impl Into<String>, value: Attr) -> Option<Attr> {
        self.0.insert(name.into(), value)
    }

    /// Builder form of [`Attrs::insert`].
    pub fn with(mut self, name: impl Into<String>, value: Attr) -> Attrs {
        self.insert(name, value);
        self
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Attr)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn require(&self, name: &str) -> Result<&Attr, AttrError> {
        self.0.get(name).ok_or_else(|| AttrError::Missing { attr: name.into() })
    }

    getter!(/// `s` attr as raw bytes.
        get_bytes, S, &[u8], "string", |v| v.as_ref());
    getter!(get_int, I, i64, "int", |v| *v);
    getter!(get_float, F, f32, "float", |v| v.0);
    getter!(get_bool, B, bool, "bool", |v| *v);
    getter!(get_type, Type, DType, "type", |v| *v);
    getter!(get_shape, Shape, &Shape, "shape", |v| v);
    getter!(get_tensor, Tensor, &Tensor, "tensor", |v| v);
    getter!(get_func, Func, &FuncAttr, "func", |v| v);
    list_getter!(get_list_int, ListI, Vec<i64>, "list(int)", |v| v.clone());
    list_getter!(get_list_float, ListF, Vec<f32>, "list(float)", |v| v.iter().map(|f| f.0).collect());
    list_getter!(get_list_bool, ListB, Vec<bool>, "list(bool)", |v| v.clone());
    list_getter!(get_list_type, ListType, Vec<DType>, "list(type)", |v| v.clone());
    list_getter!(get_list_shape, ListShape, Vec<Shape>, "list(shape)", |v| v.clone());
    list_getter!(get_list_tensor, ListTensor, Vec<Tensor>, "list(tensor)", |v| v.clone());

    /// `s` attr as UTF-8 text (`padding`, `data_format`, `equation`...).
    pub fn get_str(&self, name: &str) -> Result<&str, AttrError> {
        let b = self.get_bytes(name)?;
        std::str::from_utf8(b).map_err(|_| AttrError::BadValue {
            attr: name.into(),
            value: format!("{:?}", String::from_utf8_lossy(b)),
            why: "not UTF-8 text".into(),
        })
    }

    /// `list(string)` attr as UTF-8 text.
    pub fn get_list_str(&self, name: &str) -> Result<Vec<String>, AttrError> {
        match self.require(name)? {
            Attr::ListS(v) => v
                .iter()
                .map(|b| {
                    String::from_utf8(b.to_vec()).map_err(|_| AttrError::BadValue {
                        attr: name.into(),
                        value: format!("{:?}", String::from_utf8_lossy(b)),
                        why: "not UTF-8 text".into(),
                    })
                })
                .collect(),
            Attr::EmptyList => Ok(Vec::new()),
            other => Err(AttrError::WrongKind { attr: name.into(), expected: "list(string)", found: other.kind() }),
        }
    }

    /// An `int` attr that must be ≥ 0, as a count or an index.
    pub fn get_usize(&self, name: &str) -> Result<usize, AttrError> {
        let v = self.get_int(name)?;
        usize::try_from(v).map_err(|_| AttrError::BadValue { attr: name.into(), value: v.to_string(), why: "must not be negative".into() })
    }

    /// Optional accessors: `Ok(None)` when absent, an error only when present with the wrong kind.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, AttrError> {
        if self.contains(name) { self.get_int(name).map(Some) } else { Ok(None) }
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, AttrError> {
        if self.contains(name) { self.get_bool(name).map(Some) } else { Ok(None) }
    }

    pub fn opt_float(&self, name: &str) -> Result<Option<f32>, AttrError> {
        if self.contains(name) { self.get_float(name).map(Some) } else { Ok(None) }
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, AttrError> {
        if self.contains(name) { self.get_str(name).map(Some) } else { Ok(None) }
    }

    pub fn opt_type(&self, name: &str) -> Result<Option<DType>, AttrError> {
        if self.contains(name) { self.get_type(name).map(Some) } else { Ok(None) }
    }

    pub fn opt_list_int(&self, name: &str) -> Result<Option<Vec<i64>>, AttrError> {
        if self.contains(name) { self.get_list_int(name).map(Some) } else { Ok(None) }
    }
}

impl FromIterator<(String, Attr)> for Attrs {
    fn from_iter<I: IntoIterator<Item = (String, Attr)>>(iter: I) -> Attrs {
        Attrs(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::attr_value::{ListValue, Value};

    #[test]
    fn every_proto_kind_converts() {
        let v = |value| AttrValue { value: Some(value) };
        assert_eq!(Attr::from_proto(&v(Value::I(3))).unwrap(), Attr::I(3));
        assert_eq!(Attr::from_proto(&v(Value::Type(1))).unwrap(), Attr::Type(DType::F32));
        assert_eq!(Attr::from_proto(&v(Value::Placeholder("T".into()))).unwrap(), Attr::Placeholder("T".into()));
        let l = ListValue { i: vec![1, 2], ..Default::default() };
        assert_eq!(Attr::from_proto(&v(Value::List(Box::new(l)))).unwrap(), Attr::ListI(vec![1, 2]));
        assert_eq!(Attr::from_proto(&v(Value::List(Box::new(ListValue::default())))).unwrap(), Attr::EmptyList);
        assert_eq!(Attr::from_proto(&v(Value::Type(11))), Err(AttrDecodeError::UnknownDType(11)));
        assert_eq!(Attr::from_proto(&AttrValue { value: None }), Err(AttrDecodeError::NoValue));
    }

    #[test]
    fn accessors_name_the_attribute() {
        let a = Attrs::new().with("axis", Attr::I(1)).with("padding", Attr::S(Bytes::from_static(b"SAME")));
        assert_eq!(a.get_int("axis").unwrap(), 1);
        assert_eq!(a.get_str("padding").unwrap(), "SAME");
        let e = a.get_bool("axis").unwrap_err();
        assert_eq!(e.to_string(), "attribute `axis` should be bool, found int");
        assert_eq!(a.get_int("strides").unwrap_err().to_string(), "attribute `strides` is missing");
        assert_eq!(a.opt_int("strides").unwrap(), None);
        assert!(Attrs::new().with("l", Attr::EmptyList).get_list_int("l").unwrap().is_empty());
    }
}
