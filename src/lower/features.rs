//! Model inputs and outputs as `FeatureDescription`s with multi-array types.
//!
//! Element types: Neural Network layers compute in floating point, and coremltools 8.3 declares
//! every NN output `FLOAT32` — even TopKV2's int32 indices (`topk_static*.mlmodel` in the
//! corpus). We mirror that: outputs are always `FLOAT32` (an integer output holds exact
//! integers up to 2^24). Inputs keep their kind: float placeholders are `FLOAT32`, integer and
//! bool placeholders `INT32`, which Core ML converts to float on entry.
//!
//! Shapes: an input with every dim known declares that shape. An input with unknown dims
//! declares a default shape (1 for each unknown dim) plus a `shapeRange` (known dims fixed,
//! unknown dims `[1, unbounded)`), as coremltools' flexible shapes do, unless the user gave a
//! spec (`lower::flexible`: bounds, fixed dims or enumerated shapes); an input of unknown
//! rank needs one. Outputs declare their shape when every dim is known and no shape
//! otherwise (coremltools declares none; Core ML does not need one).

use super::error::LowerError;
use super::flexible::InputShapeSpec;
use crate::ir::{DType, Shape};
use crate::proto::coreml::array_feature_type::ArrayDataType;
use crate::proto::coreml::feature_type::Type;
use crate::proto::coreml::{ArrayFeatureType, FeatureDescription, FeatureType};

fn array_feature(name: &str, array: ArrayFeatureType) -> FeatureDescription {
    FeatureDescription { name: name.into(), r#type: Some(FeatureType { r#type: Some(Type::MultiArrayType(array)), ..Default::default() }), ..Default::default() }
}

fn check_numeric(role: &'static str, name: &str, dtype: DType) -> Result<(), LowerError> {
    if dtype.is_float() || dtype.is_integer() || dtype == DType::Bool {
        Ok(())
    } else {
        Err(LowerError::UnsupportedDType { role, name: name.into(), dtype: format!("{dtype:?}") })
    }
}

/// The description of a model input; `spec` is the user's flexible shape for it, if any
/// (`lower::flexible`), checked against the graph's shape.
pub fn input_feature(name: &str, dtype: DType, shape: &Shape, spec: Option<&InputShapeSpec>) -> Result<FeatureDescription, LowerError> {
    check_numeric("input", name, dtype)?;
    let data_type = if dtype.is_float() { ArrayDataType::Float32 } else { ArrayDataType::Int32 };
    if shape.dims().is_none() && spec.is_none() {
        return Err(LowerError::UnknownInputRank { name: name.into() });
    }
    let spec = match spec {
        Some(s) => {
            if shape.dims().is_some() {
                s.check(name, shape)?;
            }
            s.clone()
        }
        None => InputShapeSpec::from_graph(name, shape)?,
    };
    Ok(array_feature(
        name,
        ArrayFeatureType { shape: spec.default_shape(), data_type: data_type.into(), shape_flexibility: spec.flexibility(), ..Default::default() },
    ))
}

/// The description of a model output.
pub fn output_feature(name: &str, dtype: DType, shape: &Shape) -> Result<FeatureDescription, LowerError> {
    check_numeric("output", name, dtype)?;
    let shape = shape.as_known().map(|d| d.into_iter().map(|n| n as i64).collect()).unwrap_or_default();
    Ok(array_feature(name, ArrayFeatureType { shape, data_type: ArrayDataType::Float32.into(), ..Default::default() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array(f: &FeatureDescription) -> &ArrayFeatureType {
        match f.r#type.as_ref().and_then(|t| t.r#type.as_ref()) {
            Some(Type::MultiArrayType(a)) => a,
            other => panic!("not a multi-array: {other:?}"),
        }
    }

    #[test]
    fn integer_inputs_are_int32_and_every_output_is_float32() {
        let i = input_feature("ids", DType::I64, &Shape::known(&[2u64, 3]), None).unwrap();
        assert_eq!((array(&i).data_type, array(&i).shape.clone()), (ArrayDataType::Int32 as i32, vec![2, 3]));
        assert!(array(&i).shape_flexibility.is_none());
        let o = output_feature("indices", DType::I32, &Shape::known(&[2u64, 3])).unwrap();
        assert_eq!((array(&o).data_type, array(&o).shape.clone()), (ArrayDataType::Float32 as i32, vec![2, 3]));
    }

    #[test]
    fn unknown_rank_and_string_inputs_are_errors() {
        assert!(matches!(input_feature("x", DType::F32, &Shape::Unknown, None), Err(LowerError::UnknownInputRank { .. })));
        let e = input_feature("s", DType::String, &Shape::known(&[1u64]), None).unwrap_err();
        assert!(e.to_string().contains("`s`"), "{e}");
    }
}
