//! Typed reading of an NN layer's parameters (`Node::Nn::params`), by the names and types of
//! `rules::layers`. A parameter the rule did not set takes its proto3 default, which is what the
//! rule language promises (`rules::compile` matches missing parameters as their defaults);
//! parameters without a meaningful default (weights, sizes) are read with [`Params::required`].
//! Every error names the layer, its kind and the parameter.

use super::error::LowerError;
use crate::proto::coreml::WeightParams;
use crate::rewrite::lang::Attrs;
use crate::rules::layers::{LayerKind, ParamType};
use crate::rules::value::{TensorData, Value};

/// The parameters of one layer being built.
pub struct Params<'a> {
    pub layer: &'a str,
    pub kind: &'static LayerKind,
    attrs: &'a Attrs,
    fp16_weights: bool,
    /// Names the builder asked for: a test checks every declared parameter is read, so a rule's
    /// parameter can never be dropped silently.
    read: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

impl<'a> Params<'a> {
    /// Checks that every parameter present is one `kind` declares.
    pub fn new(layer: &'a str, kind: &'static LayerKind, attrs: &'a Attrs, fp16_weights: bool) -> Result<Params<'a>, LowerError> {
        for (name, _) in attrs.iter() {
            if kind.param(name).is_none() {
                return Err(LowerError::UnknownParameter { layer: layer.into(), kind: kind.name.into(), param: name.to_string() });
            }
        }
        Ok(Params { layer, kind, attrs, fp16_weights, read: Default::default() })
    }

    fn err_ty(&self, name: &str, found: &Value) -> LowerError {
        let expected = self.kind.param(name).map(|t| t.describe()).unwrap_or_else(|| "?".into());
        LowerError::ty(self.layer, self.kind.name, name, expected, found)
    }

    pub fn invalid(&self, name: &str, reason: impl Into<String>) -> LowerError {
        LowerError::InvalidParameter { layer: self.layer.into(), kind: self.kind.name.into(), param: name.into(), reason: reason.into() }
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        debug_assert!(self.kind.param(name).is_some(), "{} reads undeclared parameter {name}", self.kind.name);
        self.read.borrow_mut().insert(name.to_string());
        self.attrs.get(name)
    }

    /// The parameters read so far.
    pub fn read_names(&self) -> Vec<String> {
        self.read.borrow().iter().cloned().collect()
    }

    /// The parameter's value, or a `MissingParameter` error.
    pub fn required(&self, name: &str) -> Result<&'a Value, LowerError> {
        self.get(name).ok_or_else(|| LowerError::MissingParameter { layer: self.layer.into(), kind: self.kind.name.into(), param: name.into() })
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn int_of(&self, name: &str, v: &Value) -> Result<i64, LowerError> {
        match v {
            Value::Int(i) => Ok(*i),
            Value::Float(f) if f.0.fract() == 0.0 && f.0.abs() < 9.0e15 => Ok(f.0 as i64),
            v => Err(self.err_ty(name, v)),
        }
    }

    fn uint_of(&self, name: &str, v: &Value) -> Result<u64, LowerError> {
        let i = self.int_of(name, v)?;
        u64::try_from(i).map_err(|_| self.invalid(name, format!("must be >= 0, got {i}")))
    }

    pub fn int(&self, name: &str) -> Result<i64, LowerError> {
        self.get(name).map_or(Ok(0), |v| self.int_of(name, v))
    }

    /// An `int32` field, at least `min`; absent means `default` (for fields whose proto3 zero
    /// is invalid and that coremltools' builder defaults, such as 3-D strides).
    pub fn int32(&self, name: &str, min: i32, default: i32) -> Result<i32, LowerError> {
        let Some(v) = self.get(name) else { return Ok(default) };
        let i = self.int_of(name, v)?;
        let i = i32::try_from(i).map_err(|_| self.invalid(name, format!("must fit in int32, got {i}")))?;
        if i < min {
            return Err(self.invalid(name, format!("must be >= {min}, got {i}")));
        }
        Ok(i)
    }

    /// A required `int32` field that must be positive (sizes, channel counts).
    pub fn required_positive_int32(&self, name: &str) -> Result<i32, LowerError> {
        self.required(name)?;
        self.int32(name, 1, 0)
    }

    pub fn uint(&self, name: &str) -> Result<u64, LowerError> {
        self.get(name).map_or(Ok(0), |v| self.uint_of(name, v))
    }

    pub fn required_uint(&self, name: &str) -> Result<u64, LowerError> {
        let v = self.required(name)?;
        self.uint_of(name, v)
    }

    pub fn float(&self, name: &str) -> Result<f32, LowerError> {
        self.float_or(name, 0.0)
    }

    /// A float whose absence means `default` (for parameters the proto documents a default for).
    pub fn float_or(&self, name: &str, default: f32) -> Result<f32, LowerError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.as_f64().map(|f| f as f32).ok_or_else(|| self.err_ty(name, v)),
        }
    }

    pub fn bool(&self, name: &str) -> Result<bool, LowerError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Int(i @ (0 | 1))) => Ok(*i == 1),
            Some(v) => Err(self.err_ty(name, v)),
        }
    }

    fn list(&self, name: &str) -> Result<&'a [Value], LowerError> {
        match self.get(name) {
            None => Ok(&[]),
            Some(Value::List(l)) => Ok(l),
            Some(v) => Err(self.err_ty(name, v)),
        }
    }

    pub fn ints(&self, name: &str) -> Result<Vec<i64>, LowerError> {
        self.list(name)?.iter().map(|v| self.int_of(name, v).map_err(|_| self.err_ty(name, v))).collect()
    }

    pub fn uints(&self, name: &str) -> Result<Vec<u64>, LowerError> {
        self.list(name)?.iter().map(|v| self.uint_of(name, v)).collect()
    }

    pub fn floats(&self, name: &str) -> Result<Vec<f32>, LowerError> {
        self.list(name)?.iter().map(|v| v.as_f64().map(|f| f as f32).ok_or_else(|| self.err_ty(name, v))).collect()
    }

    pub fn bools(&self, name: &str) -> Result<Vec<bool>, LowerError> {
        self.list(name)?
            .iter()
            .map(|v| match v {
                Value::Bool(b) => Ok(*b),
                v => Err(self.err_ty(name, v)),
            })
            .collect()
    }

    /// An enum (or flattened oneof) parameter: one of the registry's strings; absent means the
    /// first one (the proto3 default, as `rules::compile` assumes).
    pub fn choice(&self, name: &str) -> Result<&'static str, LowerError> {
        let Some(ParamType::Enum(allowed)) = self.kind.param(name) else {
            return Err(self.invalid(name, "is not an enum parameter"));
        };
        let first = allowed.first().copied().unwrap_or("");
        match self.get(name) {
            None => Ok(first),
            Some(Value::Str(s)) => allowed.iter().copied().find(|a| a == s).ok_or_else(|| self.err_ty(name, &Value::Str(s.clone()))),
            Some(v) => Err(self.err_ty(name, v)),
        }
    }

    /// A list-of-enum parameter ([`ParamType::Enums`]); absent means empty.
    pub fn choices(&self, name: &str) -> Result<Vec<&'static str>, LowerError> {
        let Some(ParamType::Enums(allowed)) = self.kind.param(name) else {
            return Err(self.invalid(name, "is not a list-of-enum parameter"));
        };
        self.list(name)?
            .iter()
            .map(|v| match v {
                Value::Str(s) => allowed.iter().copied().find(|a| a == s).ok_or_else(|| self.err_ty(name, v)),
                v => Err(self.err_ty(name, v)),
            })
            .collect()
    }

    /// A protobuf enum parameter (`PoolingType`...), by the value's proto name.
    pub fn proto_enum<E: Into<i32>>(&self, name: &str, from_str_name: fn(&str) -> Option<E>) -> Result<i32, LowerError> {
        let s = self.choice(name)?;
        from_str_name(s).map(Into::into).ok_or_else(|| self.invalid(name, format!("`{s}` is not a value of the protobuf enum")))
    }

    /// A weight parameter as `WeightParams`, or `None` when absent.
    pub fn weights(&self, name: &str) -> Result<Option<WeightParams>, LowerError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => {
                let values = weight_values(v).ok_or_else(|| self.err_ty(name, v))?;
                Ok(Some(weight_params(&values, self.fp16_weights)))
            }
        }
    }

    pub fn required_weights(&self, name: &str) -> Result<WeightParams, LowerError> {
        self.required(name)?;
        self.weights(name).map(|w| w.unwrap_or_default())
    }

    /// The element count of a weight parameter (0 when absent), for consistency checks.
    pub fn weight_len(&self, name: &str) -> usize {
        self.get(name).and_then(weight_values).map_or(0, |v| v.len())
    }
}

/// The elements of a weight value: a tensor (any element type, as f32), a list of numbers, or
/// one number.
pub fn weight_values(v: &Value) -> Option<Vec<f32>> {
    match v {
        Value::Tensor(t) => Some(match &t.data {
            TensorData::Float(xs) => xs.iter().map(|x| x.0).collect(),
            TensorData::Int(xs) => xs.iter().map(|&x| x as f32).collect(),
            TensorData::Bool(xs) => xs.iter().map(|&b| b as u8 as f32).collect(),
        }),
        Value::List(items) => items.iter().map(|i| i.as_f64().map(|f| f as f32)).collect(),
        Value::Int(_) | Value::Float(_) => v.as_f64().map(|f| vec![f as f32]),
        _ => None,
    }
}

/// `WeightParams` holding `values`: `floatValue`, or with `fp16` IEEE half floats in
/// `float16Value` (little-endian, two bytes each), which halves the model size.
pub fn weight_params(values: &[f32], fp16: bool) -> WeightParams {
    if fp16 {
        let bytes: Vec<u8> = values.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect();
        WeightParams { float16_value: bytes.into(), ..Default::default() }
    } else {
        WeightParams { float_value: values.to_vec(), ..Default::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::lang::Name;
    use crate::rules::layers::layer_kind;

    fn attrs(pairs: Vec<(&str, Value)>) -> Attrs {
        Attrs::new(pairs.into_iter().map(|(n, v)| (Name::from(n), v)).collect())
    }

    #[test]
    fn missing_scalars_take_proto3_defaults_and_wrong_types_are_named() {
        let k = layer_kind("pooling").unwrap();
        let a = attrs(vec![("kernelSize", Value::ints([2, 2])), ("globalPooling", Value::Str("yes".into()))]);
        let p = Params::new("pool1", k, &a, false).unwrap();
        assert_eq!(p.uints("kernelSize").unwrap(), vec![2, 2]);
        assert_eq!(p.uints("stride").unwrap(), Vec::<u64>::new());
        assert_eq!(p.choice("type").unwrap(), "MAX");
        let e = p.bool("globalPooling").unwrap_err().to_string();
        assert!(e.contains("pool1") && e.contains("globalPooling") && e.contains("bool"), "{e}");
    }

    #[test]
    fn fp16_weights_are_little_endian_halves() {
        // 1.0 is 0x3C00 and -2.0 is 0xC000 in IEEE 754 binary16.
        let w = weight_params(&[1.0, -2.0], true);
        assert_eq!(&w.float16_value[..], &[0x00, 0x3C, 0x00, 0xC0]);
        assert!(w.float_value.is_empty());
    }

    #[test]
    fn unknown_parameter_is_an_error() {
        let k = layer_kind("softmax").unwrap();
        let a = attrs(vec![("axis", Value::Int(1))]);
        let e = Params::new("sm", k, &a, false).err().unwrap();
        assert!(matches!(e, LowerError::UnknownParameter { ref param, .. } if param == "axis"), "{e}");
    }
}
