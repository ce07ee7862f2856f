//! Elementwise layers: arithmetic (`add`, `multiply`, `scale`, `bias`, `*Broadcastable`),
//! the rank-5 combinations (`average`, `max`, `min`, `dot`), math functions (`unary`, `clip`,
//! `ceil`, `sin`, `asinh`, ...), comparisons and logic, `whereBroadcastable`.

use super::LayerInput;
use crate::lower::error::LowerError;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::unary_function_layer_params::Operation;
use crate::proto::coreml::*;

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    let p = i.params;
    Ok(Some(match p.kind.name {
        "add" => Layer::Add(AddLayerParams { alpha: p.float("alpha")? }),
        "multiply" => Layer::Multiply(MultiplyLayerParams { alpha: p.float("alpha")? }),
        "scale" => {
            let has_bias = p.bool("hasBias")?;
            Layer::Scale(Box::new(ScaleLayerParams {
                shape_scale: p.uints("shapeScale")?,
                scale: Some(p.required_weights("scale")?),
                has_bias,
                shape_bias: p.uints("shapeBias")?,
                bias: if has_bias { Some(p.required_weights("bias")?) } else { p.weights("bias")? },
            }))
        }
        "bias" => Layer::Bias(BiasLayerParams { shape: p.uints("shape")?, bias: Some(p.required_weights("bias")?) }),
        // Unset scale and epsilon are written as Core ML's documented defaults (1 and 1e-6),
        // as coremltools does, rather than relying on "0 means default".
        "unary" => Layer::Unary(UnaryFunctionLayerParams {
            r#type: p.proto_enum("type", Operation::from_str_name)?,
            alpha: p.float_or("alpha", 1.0)?,
            epsilon: p.float_or("epsilon", 1e-6)?,
            shift: p.float("shift")?,
            scale: p.float_or("scale", 1.0)?,
        }),
        "clip" => Layer::Clip(ClipLayerParams { min_val: p.float("minVal")?, max_val: p.float("maxVal")? }),
        "ceil" => Layer::Ceil(CeilLayerParams {}),
        "floor" => Layer::Floor(FloorLayerParams {}),
        "sign" => Layer::Sign(SignLayerParams {}),
        "round" => Layer::Round(RoundLayerParams {}),
        "exp2" => Layer::Exp2(Exp2LayerParams {}),
        "sin" => Layer::Sin(SinLayerParams {}),
        "cos" => Layer::Cos(CosLayerParams {}),
        "tanh" => Layer::Tanh(TanhLayerParams {}),
        "tan" => Layer::Tan(TanLayerParams {}),
        "asin" => Layer::Asin(AsinLayerParams {}),
        "acos" => Layer::Acos(AcosLayerParams {}),
        "atan" => Layer::Atan(AtanLayerParams {}),
        "sinh" => Layer::Sinh(SinhLayerParams {}),
        "cosh" => Layer::Cosh(CoshLayerParams {}),
        "asinh" => Layer::Asinh(AsinhLayerParams {}),
        "acosh" => Layer::Acosh(AcoshLayerParams {}),
        "atanh" => Layer::Atanh(AtanhLayerParams {}),
        "average" => Layer::Average(AverageLayerParams {}),
        "max" => Layer::Max(MaxLayerParams {}),
        "min" => Layer::Min(MinLayerParams {}),
        "dot" => Layer::Dot(DotProductLayerParams { cosine_similarity: p.bool("cosineSimilarity")? }),
        "logicalXor" => Layer::LogicalXor(LogicalXorLayerParams {}),
        "erf" => Layer::Erf(ErfLayerParams {}),
        "equal" => Layer::Equal(EqualLayerParams { alpha: p.float("alpha")? }),
        "notEqual" => Layer::NotEqual(NotEqualLayerParams { alpha: p.float("alpha")? }),
        "lessThan" => Layer::LessThan(LessThanLayerParams { alpha: p.float("alpha")? }),
        "lessEqual" => Layer::LessEqual(LessEqualLayerParams { alpha: p.float("alpha")? }),
        "greaterThan" => Layer::GreaterThan(GreaterThanLayerParams { alpha: p.float("alpha")? }),
        "greaterEqual" => Layer::GreaterEqual(GreaterEqualLayerParams { alpha: p.float("alpha")? }),
        "logicalOr" => Layer::LogicalOr(LogicalOrLayerParams {}),
        "logicalNot" => Layer::LogicalNot(LogicalNotLayerParams {}),
        "logicalAnd" => Layer::LogicalAnd(LogicalAndLayerParams {}),
        "modBroadcastable" => Layer::ModBroadcastable(ModBroadcastableLayerParams {}),
        "minBroadcastable" => Layer::MinBroadcastable(MinBroadcastableLayerParams {}),
        "maxBroadcastable" => Layer::MaxBroadcastable(MaxBroadcastableLayerParams {}),
        "addBroadcastable" => Layer::AddBroadcastable(AddBroadcastableLayerParams {}),
        "powBroadcastable" => Layer::PowBroadcastable(PowBroadcastableLayerParams {}),
        "divideBroadcastable" => Layer::DivideBroadcastable(DivideBroadcastableLayerParams {}),
        "floorDivBroadcastable" => Layer::FloorDivBroadcastable(FloorDivBroadcastableLayerParams {}),
        "multiplyBroadcastable" => Layer::MultiplyBroadcastable(MultiplyBroadcastableLayerParams {}),
        "subtractBroadcastable" => Layer::SubtractBroadcastable(SubtractBroadcastableLayerParams {}),
        "whereBroadcastable" => Layer::WhereBroadcastable(WhereBroadcastableLayerParams {}),
        _ => return Ok(None),
    }))
}
