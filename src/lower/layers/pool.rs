//! Spatial resampling: `pooling`, `upsample`, `resizeBilinear`, `padding`.

use super::{border_amounts, LayerInput};
use crate::lower::error::LowerError;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::padding_layer_params::{PaddingConstant, PaddingReflection, PaddingReplication, PaddingType};
use crate::proto::coreml::pooling_layer_params::{PoolingPaddingType, PoolingType, ValidCompletePadding};
use crate::proto::coreml::same_padding::SamePaddingMode;
use crate::proto::coreml::sampling_mode::Method;
use crate::proto::coreml::upsample_layer_params::{InterpolationMode, LinearUpsampleMode};
use crate::proto::coreml::*;

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    let p = i.params;
    Ok(Some(match p.kind.name {
        "pooling" => {
            let padding = match p.choice("padding")? {
                "same" => PoolingPaddingType::Same(SamePadding { asymmetry_mode: p.proto_enum("sameMode", SamePaddingMode::from_str_name)? }),
                "includeLastPixel" => PoolingPaddingType::IncludeLastPixel(ValidCompletePadding { padding_amounts: p.uints("paddingAmounts")? }),
                _ => PoolingPaddingType::Valid(ValidPadding { padding_amounts: border_amounts(p, "paddingAmounts")? }),
            };
            Layer::Pooling(PoolingLayerParams {
                r#type: p.proto_enum("type", PoolingType::from_str_name)?,
                kernel_size: p.uints("kernelSize")?,
                stride: p.uints("stride")?,
                avg_pool_exclude_padding: p.bool("avgPoolExcludePadding")?,
                global_pooling: p.bool("globalPooling")?,
                pooling_padding_type: Some(padding),
            })
        }
        "upsample" => Layer::Upsample(UpsampleLayerParams {
            scaling_factor: p.uints("scalingFactor")?,
            fractional_scaling_factor: p.floats("fractionalScalingFactor")?,
            mode: p.proto_enum("mode", InterpolationMode::from_str_name)?,
            linear_upsample_mode: p.proto_enum("linearUpsampleMode", LinearUpsampleMode::from_str_name)?,
        }),
        "resizeBilinear" => Layer::ResizeBilinear(ResizeBilinearLayerParams {
            target_size: p.uints("targetSize")?,
            mode: Some(SamplingMode { sampling_method: p.proto_enum("mode", Method::from_str_name)? }),
        }),
        "padding" => {
            let padding_type = match p.choice("mode")? {
                "reflection" => PaddingType::Reflection(PaddingReflection {}),
                "replication" => PaddingType::Replication(PaddingReplication {}),
                _ => PaddingType::Constant(PaddingConstant { value: p.float("value")? }),
            };
            Layer::Padding(PaddingLayerParams { padding_amounts: border_amounts(p, "paddingAmounts")?, padding_type: Some(padding_type) })
        }
        _ => return Ok(None),
    }))
}
