//! Spatial resampling: `pooling`, `pooling3d`, `globalPooling3d`, `upsample`,
//! `resizeBilinear`, `cropResize`, `padding`.

use super::{border_amounts, custom_padding_3d, LayerInput};
use crate::proto::coreml::box_coordinates_mode::Coordinates;
use crate::proto::coreml::global_pooling3_d_layer_params::GlobalPoolingType3D;
use crate::proto::coreml::pooling3_d_layer_params::{Pooling3DPaddingType, PoolingType3D};
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
        // spatialScale unset is written as 1 (no scaling), as coremltools' builder does.
        "cropResize" => Layer::CropResize(CropResizeLayerParams {
            target_size: p.uints("targetSize")?,
            normalized_coordinates: p.bool("normalizedCoordinates")?,
            mode: Some(SamplingMode { sampling_method: p.proto_enum("mode", Method::from_str_name)? }),
            box_indices_mode: Some(BoxCoordinatesMode { box_mode: p.proto_enum("boxIndicesMode", Coordinates::from_str_name)? }),
            spatial_scale: p.float_or("spatialScale", 1.0)?,
        }),
        // Kernel sizes are required; strides default to 1 as in coremltools' builder.
        "pooling3d" => {
            let [front, back, top, bottom, left, right] = custom_padding_3d(p)?;
            Layer::Pooling3d(Pooling3DLayerParams {
                r#type: p.proto_enum("type", PoolingType3D::from_str_name)?,
                kernel_depth: p.required_positive_int32("kernelDepth")?,
                kernel_height: p.required_positive_int32("kernelHeight")?,
                kernel_width: p.required_positive_int32("kernelWidth")?,
                stride_depth: p.int32("strideDepth", 1, 1)?,
                stride_height: p.int32("strideHeight", 1, 1)?,
                stride_width: p.int32("strideWidth", 1, 1)?,
                padding_type: p.proto_enum("paddingType", Pooling3DPaddingType::from_str_name)?,
                custom_padding_front: front,
                custom_padding_back: back,
                custom_padding_top: top,
                custom_padding_bottom: bottom,
                custom_padding_left: left,
                custom_padding_right: right,
                count_exclude_padding: p.bool("countExcludePadding")?,
            })
        }
        "globalPooling3d" => Layer::GlobalPooling3d(GlobalPooling3DLayerParams { r#type: p.proto_enum("type", GlobalPoolingType3D::from_str_name)? }),
        _ => return Ok(None),
    }))
}
