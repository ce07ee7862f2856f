//! The one place where the importer's values (`ir::{DType, Tensor, Attr}`) become the rule
//! language's (`rules::value::{DType, Tensor, Value}`) and back.
//!
//! The two families are kept apart on purpose: the IR mirrors TensorFlow exactly (every dtype,
//! ndarray storage), while e-nodes need small hashable values. Seeding converts on the way in;
//! the analysis converts back only to call the IR's shape functions and evaluator.

use crate::ir;
use crate::rules::value::{DType, Tensor, TensorData, Value};
use ordered_float::OrderedFloat;

impl TryFrom<ir::DType> for DType {
    type Error = ir::DType;

    /// The IR's dtypes the rule language can name; the others (complex, unsigned wider than 8
    /// bits, resources...) have no Core ML counterpart.
    fn try_from(d: ir::DType) -> Result<DType, ir::DType> {
        crate::rules::bridge::dtype_from_ir(d).ok_or(d)
    }
}

impl From<DType> for ir::DType {
    fn from(d: DType) -> ir::DType {
        crate::rules::bridge::dtype_to_ir(d)
    }
}

impl TryFrom<&ir::Tensor> for Tensor {
    type Error = ir::DType;

    /// Floats are stored as f32 (the precision Core ML weights have), integers as i64.
    fn try_from(t: &ir::Tensor) -> Result<Tensor, ir::DType> {
        let dtype = DType::try_from(t.dtype())?;
        let shape = t.shape().to_vec();
        let data = match dtype {
            // f32 weights (nearly all of a model's bytes) go straight across, without the
            // f64 vector `to_f64_vec` would allocate at twice their size.
            DType::Float32 => match t.array::<f32>() {
                Some(a) => TensorData::Float(match a.as_slice() {
                    Some(s) => s.iter().map(|&v| OrderedFloat(v)).collect(),
                    None => a.iter().map(|&v| OrderedFloat(v)).collect(),
                }),
                None => return Err(t.dtype()),
            },
            DType::Float16 | DType::Float64 => {
                TensorData::Float(t.to_f64_vec().ok_or(t.dtype())?.into_iter().map(|v| OrderedFloat(v as f32)).collect())
            }
            DType::Bool => TensorData::Bool(t.to_i64_vec().ok_or(t.dtype())?.into_iter().map(|v| v != 0).collect()),
            DType::String => return Err(t.dtype()),
            _ => TensorData::Int(t.to_i64_vec().ok_or(t.dtype())?),
        };
        Ok(Tensor { dtype, shape, data })
    }
}

impl TryFrom<&Tensor> for ir::Tensor {
    type Error = ir::TensorError;

    fn try_from(t: &Tensor) -> Result<ir::Tensor, ir::TensorError> {
        let dtype = ir::DType::from(t.dtype);
        match &t.data {
            TensorData::Float(v) => ir::Tensor::from_f64s(dtype, &t.shape, v.iter().map(|x| x.0 as f64).collect()),
            TensorData::Int(v) => ir::Tensor::from_i64s(dtype, &t.shape, v.clone()),
            TensorData::Bool(v) => ir::Tensor::from_i64s(dtype, &t.shape, v.iter().map(|&b| b as i64).collect()),
        }
    }
}

/// A shape as rules see attribute shapes: a list of sizes, `-1` for an unknown one.
fn shape_value(s: &ir::Shape) -> Value {
    match s.dims() {
        Some(dims) => Value::ints(dims.iter().map(ir::Dim::to_tf)),
        None => Value::List(vec![]),
    }
}

fn dtype_value(d: ir::DType) -> Value {
    match DType::try_from(d) {
        Ok(d) => Value::DType(d),
        Err(d) => Value::Str(d.tf_name().to_string()),
    }
}

/// A TF attribute as a rule value; `None` for function attributes, which no rule matches.
pub fn attr_value(a: &ir::Attr) -> Option<Value> {
    let s = |b: &bytes::Bytes| Value::Str(String::from_utf8_lossy(b).into_owned());
    Some(match a {
        ir::Attr::S(b) => s(b),
        ir::Attr::I(i) => Value::Int(*i),
        ir::Attr::F(f) => Value::float(f.0 as f64),
        ir::Attr::B(b) => Value::Bool(*b),
        ir::Attr::Type(d) => dtype_value(*d),
        ir::Attr::Shape(sh) => shape_value(sh),
        ir::Attr::Tensor(t) => Value::Tensor(std::sync::Arc::new(Tensor::try_from(t).ok()?)),
        ir::Attr::ListS(v) => Value::List(v.iter().map(s).collect()),
        ir::Attr::ListI(v) => Value::ints(v.iter().copied()),
        ir::Attr::ListF(v) => Value::List(v.iter().map(|f| Value::float(f.0 as f64)).collect()),
        ir::Attr::ListB(v) => Value::List(v.iter().map(|b| Value::Bool(*b)).collect()),
        ir::Attr::ListType(v) => Value::List(v.iter().map(|d| dtype_value(*d)).collect()),
        ir::Attr::ListShape(v) => Value::List(v.iter().map(shape_value).collect()),
        ir::Attr::ListTensor(v) => {
            Value::List(v.iter().map(|t| Tensor::try_from(t).ok().map(|t| Value::Tensor(t.into()))).collect::<Option<_>>()?)
        }
        ir::Attr::EmptyList => Value::List(vec![]),
        ir::Attr::Func(_) | ir::Attr::ListFunc(_) | ir::Attr::Placeholder(_) => return None,
    })
}

/// A rule value as a TF attribute (for TF nodes a rule builds, whose shapes the IR's shape
/// functions then compute); `None` for values no attribute holds (e-class references).
pub fn value_attr(v: &Value) -> Option<ir::Attr> {
    Some(match v {
        Value::Int(i) => ir::Attr::I(*i),
        Value::Float(f) => ir::Attr::F(OrderedFloat(f.0 as f32)),
        Value::Bool(b) => ir::Attr::B(*b),
        Value::Str(s) => ir::Attr::S(bytes::Bytes::from(s.clone().into_bytes())),
        Value::DType(d) => ir::Attr::Type((*d).into()),
        Value::Tensor(t) => ir::Attr::Tensor(ir::Tensor::try_from(&**t).ok()?),
        Value::Class(_) => return None,
        Value::List(items) if items.is_empty() => ir::Attr::EmptyList,
        Value::List(items) => match &items[0] {
            Value::Int(_) => ir::Attr::ListI(items.iter().map(Value::as_int).collect::<Option<_>>()?),
            Value::Float(_) => ir::Attr::ListF(items.iter().map(|i| i.as_f64().map(|f| OrderedFloat(f as f32))).collect::<Option<_>>()?),
            Value::Bool(_) => ir::Attr::ListB(
                items.iter().map(|i| if let Value::Bool(b) = i { Some(*b) } else { None }).collect::<Option<_>>()?,
            ),
            Value::Str(_) => ir::Attr::ListS(
                items.iter().map(|i| if let Value::Str(s) = i { Some(bytes::Bytes::from(s.clone().into_bytes())) } else { None }).collect::<Option<_>>()?,
            ),
            Value::DType(_) => ir::Attr::ListType(
                items.iter().map(|i| if let Value::DType(d) = i { Some((*d).into()) } else { None }).collect::<Option<_>>()?,
            ),
            _ => return None,
        },
    })
}

/// The attributes of a TF e-node as IR attributes (entries with no IR form are left out).
pub fn ir_attrs(attrs: &crate::rewrite::lang::Attrs) -> ir::Attrs {
    attrs.iter().filter_map(|(n, v)| Some((n.to_string(), value_attr(v)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_round_trip() {
        let t = ir::Tensor::from_vec(&[2, 2], vec![1i32, -2, 3, 4]).unwrap();
        let v = Tensor::try_from(&t).unwrap();
        assert_eq!(v, Tensor::from_i64(DType::Int32, vec![2, 2], vec![1, -2, 3, 4]));
        assert_eq!(ir::Tensor::try_from(&v).unwrap(), t);
        let f = ir::Tensor::from_vec(&[3], vec![0.5f32, 1.5, -2.0]).unwrap();
        assert_eq!(ir::Tensor::try_from(&Tensor::try_from(&f).unwrap()).unwrap(), f);
        let b = ir::Tensor::from_vec(&[2], vec![true, false]).unwrap();
        assert_eq!(ir::Tensor::try_from(&Tensor::try_from(&b).unwrap()).unwrap(), b);
        assert!(Tensor::try_from(&ir::Tensor::from_vec(&[1], vec![1u32]).unwrap()).is_err());
    }

    #[test]
    fn attrs_round_trip() {
        for a in [
            ir::Attr::I(3),
            ir::Attr::B(true),
            ir::Attr::S(bytes::Bytes::from_static(b"SAME")),
            ir::Attr::Type(ir::DType::F32),
            ir::Attr::ListI(vec![1, 2, 2, 1]),
            ir::Attr::ListF(vec![OrderedFloat(0.5)]),
        ] {
            let v = attr_value(&a).unwrap();
            assert_eq!(value_attr(&v), Some(a));
        }
        let s = ir::Attr::Shape(ir::Shape::Ranked(vec![ir::Dim::Unknown, ir::Dim::Known(3)]));
        assert_eq!(attr_value(&s), Some(Value::ints([-1, 3])));
    }
}
