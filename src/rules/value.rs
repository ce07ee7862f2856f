//! Values that rule expressions compute with: attribute values, constant tensors and e-class
//! references. They are hashable (floats are `OrderedFloat`) because NN-layer parameters and TF
//! attributes computed by rules are stored inside e-nodes.
//!
//! `DType` and `Tensor` here are deliberately small; when `ir::{DType, Tensor}` lands the
//! conversion lives in one place (`From` impls) and these stay the rule language's view.

use ordered_float::OrderedFloat;
use std::fmt;
use std::sync::Arc;

/// Element types a rule can name (`float32`, `int32`, ...), spelled as in TF without `DT_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DType {
    Float16,
    Float32,
    Float64,
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    Bool,
    String,
}

impl DType {
    /// Every dtype with its rule-language spelling.
    pub const ALL: [(DType, &'static str); 10] = [
        (DType::Float16, "float16"),
        (DType::Float32, "float32"),
        (DType::Float64, "float64"),
        (DType::Int8, "int8"),
        (DType::Int16, "int16"),
        (DType::Int32, "int32"),
        (DType::Int64, "int64"),
        (DType::UInt8, "uint8"),
        (DType::Bool, "bool"),
        (DType::String, "string"),
    ];

    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.iter().find(|(_, n)| *n == name).map(|(d, _)| *d)
    }

    pub fn name(self) -> &'static str {
        DType::ALL
            .iter()
            .find(|(d, _)| *d == self)
            .map(|(_, n)| *n)
            .unwrap_or("?")
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::Float16 | DType::Float32 | DType::Float64)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Elements of a constant tensor, row-major.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TensorData {
    Float(Vec<OrderedFloat<f32>>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
}

impl TensorData {
    pub fn len(&self) -> usize {
        match self {
            TensorData::Float(v) => v.len(),
            TensorData::Int(v) => v.len(),
            TensorData::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A constant tensor (a TF `Const` or a weight computed by a rule).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tensor {
    pub dtype: DType,
    pub shape: Vec<usize>,
    pub data: TensorData,
}

/// Hashes the dtype, the shape and a few elements only: tensors sit inside e-nodes (`Const`,
/// layer weights), and egg hashes a node every time it canonicalises it, so hashing every
/// weight would make each rebuild cost the model's size. Equal tensors still hash equal.
impl std::hash::Hash for Tensor {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        const SAMPLE: usize = 8;
        self.dtype.hash(state);
        self.shape.hash(state);
        fn sample<T: std::hash::Hash, H: std::hash::Hasher>(v: &[T], state: &mut H) {
            v.len().hash(state);
            v.iter().take(SAMPLE).for_each(|x| x.hash(state));
            v.iter().rev().take(SAMPLE).for_each(|x| x.hash(state));
        }
        match &self.data {
            TensorData::Float(v) => sample(v, state),
            TensorData::Int(v) => sample(v, state),
            TensorData::Bool(v) => sample(v, state),
        }
    }
}

impl Tensor {
    pub fn from_f32(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        Tensor {
            dtype: DType::Float32,
            shape,
            data: TensorData::Float(data.into_iter().map(OrderedFloat).collect()),
        }
    }

    pub fn from_i64(dtype: DType, shape: Vec<usize>, data: Vec<i64>) -> Tensor {
        Tensor { dtype, shape, data: TensorData::Int(data) }
    }

    pub fn scalar_f32(v: f32) -> Tensor {
        Tensor::from_f32(vec![], vec![v])
    }

    pub fn scalar_i32(v: i64) -> Tensor {
        Tensor::from_i64(DType::Int32, vec![], vec![v])
    }

    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// Element `i` as f64 (bools as 0/1).
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        match &self.data {
            TensorData::Float(v) => v.get(i).map(|x| x.0 as f64),
            TensorData::Int(v) => v.get(i).map(|x| *x as f64),
            TensorData::Bool(v) => v.get(i).map(|x| *x as u8 as f64),
        }
    }
}

/// A value computed by a rule expression.
///
/// Ordered by hand: egg sorts the nodes of every e-class when it rebuilds, and two layers with
/// the same weights (one `Arc`, as the rule memo hands it out) differing only in their inputs
/// were compared weight by weight (11% of a ResNet50's conversion). The order is the one
/// `derive` gives, with the same `Arc` equal at once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Int(i64),
    Float(OrderedFloat<f64>),
    Bool(bool),
    Str(String),
    DType(DType),
    List(Vec<Value>),
    Tensor(Arc<Tensor>),
    /// An e-class bound by a pattern variable (only inside guards, never stored in nodes).
    Class(egg::Id),
}

impl Value {
    /// The variant's position, for ordering values of different variants as `derive` would.
    fn rank(&self) -> u8 {
        match self {
            Value::Int(_) => 0,
            Value::Float(_) => 1,
            Value::Bool(_) => 2,
            Value::Str(_) => 3,
            Value::DType(_) => 4,
            Value::List(_) => 5,
            Value::Tensor(_) => 6,
            Value::Class(_) => 7,
        }
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Value) -> std::cmp::Ordering {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Float(a), Value::Float(b)) => a.cmp(b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::DType(a), Value::DType(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) => a.cmp(b),
            (Value::Tensor(a), Value::Tensor(b)) if Arc::ptr_eq(a, b) => std::cmp::Ordering::Equal,
            (Value::Tensor(a), Value::Tensor(b)) => a.cmp(b),
            (Value::Class(a), Value::Class(b)) => a.cmp(b),
            (a, b) => a.rank().cmp(&b.rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Value {
    pub fn float(f: f64) -> Value {
        Value::Float(OrderedFloat(f))
    }

    pub fn ints(v: impl IntoIterator<Item = i64>) -> Value {
        Value::List(v.into_iter().map(Value::Int).collect())
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(f.0),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_ints(&self) -> Option<Vec<i64>> {
        self.as_list()?.iter().map(Value::as_int).collect()
    }

    /// Equality as rules see it: `1 == 1.0` holds.
    pub fn loose_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                self.as_f64() == other.as_f64()
            }
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.loose_eq(y))
            }
            _ => self == other,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => {
                if x.0.fract() == 0.0 && x.0.abs() < 1e15 {
                    write!(f, "{:.1}", x.0)
                } else {
                    write!(f, "{}", x.0)
                }
            }
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::DType(d) => write!(f, "{d}"),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Tensor(t) => write!(f, "tensor<{}{:?}>", t.dtype, t.shape),
            Value::Class(id) => write!(f, "e-class {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn order_is_by_variant_then_content_and_one_arc_is_equal() {
        let order = [
            Value::Int(3),
            Value::float(1.0),
            Value::Bool(false),
            Value::Str("a".into()),
            Value::DType(DType::Float32),
            Value::ints([1]),
            Value::Tensor(Arc::new(Tensor::scalar_f32(1.0))),
            Value::Class(egg::Id::from(0usize)),
        ];
        for (i, a) in order.iter().enumerate() {
            for (j, b) in order.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "{a} vs {b}");
            }
        }
        let w = Arc::new(Tensor::from_f32(vec![2], vec![1.0, 2.0]));
        assert_eq!(Value::Tensor(w.clone()).cmp(&Value::Tensor(w.clone())), Ordering::Equal);
        let same = Value::Tensor(Arc::new(Tensor::from_f32(vec![2], vec![1.0, 2.0])));
        assert_eq!(Value::Tensor(w.clone()).cmp(&same), Ordering::Equal);
        let more = Value::Tensor(Arc::new(Tensor::from_f32(vec![2], vec![1.0, 3.0])));
        assert_eq!(Value::Tensor(w).cmp(&more), Ordering::Less);
        assert_eq!(Value::Int(2).partial_cmp(&Value::Int(3)), Some(Ordering::Less));
    }
}
