//! Custom layers: `Node::Custom { reg, params, args }` becomes `CustomLayerParams` from the
//! registration's binding (coremltools-style: class name, description, typed parameters).
//!
//! The term carries only the registration's name and the computed parameter values, so the
//! binding itself reaches lowering through [`LowerOptions::custom_layers`](super::LowerOptions)
//! as [`CustomClass`]es, built from the compiled `rules::compile::Registration`s.

use super::error::LowerError;
use crate::proto::coreml::custom_layer_params::custom_layer_param_value::Value as ParamValue;
use crate::proto::coreml::custom_layer_params::CustomLayerParamValue;
use crate::proto::coreml::CustomLayerParams;
use crate::rewrite::lang::Attrs;
use crate::rules::compile::Registration;
use crate::rules::value::Value;
use std::collections::BTreeMap;

/// The `CustomLayerParamValue` case a registration declares for a parameter (`k: int = ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomParamType {
    /// `intValue` (int32).
    Int,
    /// `doubleValue`.
    Double,
    /// `boolValue`.
    Bool,
    /// `stringValue`.
    String,
}

impl CustomParamType {
    /// From the rule language's spelling (`rules::check::PARAM_TYPES`).
    pub fn from_name(name: &str) -> Option<CustomParamType> {
        Some(match name {
            "int" => CustomParamType::Int,
            "double" => CustomParamType::Double,
            "bool" => CustomParamType::Bool,
            "string" => CustomParamType::String,
            _ => return None,
        })
    }
}

/// What lowering needs of one custom-layer registration.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomClass {
    pub class_name: String,
    pub description: String,
    /// Declared parameter types by name.
    pub param_types: BTreeMap<String, CustomParamType>,
    /// Number of outputs when the registration declares them (`outputs = [float32, int32]`).
    pub outputs: Option<usize>,
}

impl From<&Registration> for CustomClass {
    fn from(r: &Registration) -> CustomClass {
        CustomClass {
            class_name: r.class_name.clone(),
            description: r.description.clone(),
            param_types: r.parameters.iter().filter_map(|(n, t, _)| Some((n.clone(), CustomParamType::from_name(t)?))).collect(),
            outputs: r.outputs.as_ref().map(Vec::len),
        }
    }
}

/// `CustomLayerParams` for a custom term named `layer`.
pub fn custom_params(layer: &str, class: &CustomClass, params: &Attrs) -> Result<CustomLayerParams, LowerError> {
    let mut parameters = BTreeMap::new();
    for (name, value) in params.iter() {
        let err = |reason: String| LowerError::CustomParameter { layer: layer.into(), class: class.class_name.clone(), param: name.to_string(), reason };
        let v = match (class.param_types.get(&**name), value) {
            (Some(CustomParamType::Int) | None, Value::Int(i)) => match i32::try_from(*i) {
                Ok(i) => ParamValue::IntValue(i),
                // An undeclared integer that does not fit int32 keeps its value as `longValue`.
                Err(_) if !class.param_types.contains_key(&**name) => ParamValue::LongValue(*i),
                Err(_) => return Err(err(format!("{i} does not fit intValue (int32)"))),
            },
            (Some(CustomParamType::Int), Value::Float(f)) if f.0.fract() == 0.0 && f.0.abs() <= i32::MAX as f64 => ParamValue::IntValue(f.0 as i32),
            (Some(CustomParamType::Double) | None, Value::Float(f)) => ParamValue::DoubleValue(f.0),
            (Some(CustomParamType::Double), Value::Int(i)) => ParamValue::DoubleValue(*i as f64),
            (Some(CustomParamType::Bool) | None, Value::Bool(b)) => ParamValue::BoolValue(*b),
            (Some(CustomParamType::String) | None, Value::Str(s)) => ParamValue::StringValue(s.clone()),
            (Some(t), v) => return Err(err(format!("declared {t:?}, got {v}"))),
            (None, v) => return Err(err(format!("{v} is not an int, double, bool or string"))),
        };
        parameters.insert(name.to_string(), CustomLayerParamValue { value: Some(v) });
    }
    Ok(CustomLayerParams { class_name: class.class_name.clone(), weights: vec![], parameters, description: class.description.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::lang::Name;

    fn class(types: &[(&str, CustomParamType)]) -> CustomClass {
        CustomClass {
            class_name: "C".into(),
            description: "d".into(),
            param_types: types.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            outputs: None,
        }
    }

    fn attrs(pairs: Vec<(&str, Value)>) -> Attrs {
        Attrs::new(pairs.into_iter().map(|(n, v)| (Name::from(n), v)).collect())
    }

    #[test]
    fn values_follow_the_declared_case() {
        let c = class(&[("k", CustomParamType::Int), ("scale", CustomParamType::Double), ("name", CustomParamType::String)]);
        let p = custom_params("l", &c, &attrs(vec![("k", Value::Int(-1)), ("scale", Value::Int(2)), ("name", Value::Str("x".into())), ("flag", Value::Bool(true))])).unwrap();
        let get = |k: &str| p.parameters[k].value.clone().unwrap();
        assert_eq!(get("k"), ParamValue::IntValue(-1));
        assert_eq!(get("scale"), ParamValue::DoubleValue(2.0));
        assert_eq!(get("name"), ParamValue::StringValue("x".into()));
        assert_eq!(get("flag"), ParamValue::BoolValue(true));
        assert_eq!((p.class_name.as_str(), p.description.as_str()), ("C", "d"));
    }

    #[test]
    fn out_of_range_and_mismatched_values_are_errors() {
        let c = class(&[("k", CustomParamType::Int), ("b", CustomParamType::Bool)]);
        let e = custom_params("topk", &c, &attrs(vec![("k", Value::Int(1 << 40))])).unwrap_err();
        assert!(matches!(&e, LowerError::CustomParameter { layer, param, .. } if layer == "topk" && param == "k"), "{e}");
        let e = custom_params("topk", &c, &attrs(vec![("b", Value::Int(1))])).unwrap_err();
        assert!(e.to_string().contains("declared Bool"), "{e}");
        // Undeclared and too wide for int32: kept as longValue.
        let p = custom_params("l", &c, &attrs(vec![("big", Value::Int(1 << 40))])).unwrap();
        assert_eq!(p.parameters["big"].value, Some(ParamValue::LongValue(1 << 40)));
    }
}
