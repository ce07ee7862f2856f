//! Layers with learned weight matrices: `convolution`, `innerProduct`, `batchedMatmul`.

use super::{border_amounts, LayerInput};
use crate::lower::error::LowerError;
use crate::proto::coreml::convolution_layer_params::ConvolutionPaddingType;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::same_padding::SamePaddingMode;
use crate::proto::coreml::*;

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    let p = i.params;
    Ok(Some(match p.kind.name {
        "convolution" => {
            let padding = match p.choice("padding")? {
                "same" => ConvolutionPaddingType::Same(SamePadding { asymmetry_mode: p.proto_enum("sameMode", SamePaddingMode::from_str_name)? }),
                _ => ConvolutionPaddingType::Valid(ValidPadding { padding_amounts: border_amounts(p, "paddingAmounts")? }),
            };
            let has_bias = p.bool("hasBias")?;
            // With two inputs the second one carries the weights (Core ML 3 dynamic weights).
            let weights = if i.n_inputs >= 2 { p.weights("weights")? } else { Some(p.required_weights("weights")?) };
            let bias = if has_bias { Some(p.required_weights("bias")?) } else { p.weights("bias")? };
            Layer::Convolution(ConvolutionLayerParams {
                output_channels: p.required_uint("outputChannels")?,
                kernel_channels: p.required_uint("kernelChannels")?,
                n_groups: p.uint("nGroups")?.max(1),
                kernel_size: p.uints("kernelSize")?,
                stride: p.uints("stride")?,
                dilation_factor: p.uints("dilationFactor")?,
                is_deconvolution: p.bool("isDeconvolution")?,
                has_bias,
                weights,
                bias,
                output_shape: p.uints("outputShape")?,
                convolution_padding_type: Some(padding),
            })
        }
        "innerProduct" => {
            let has_bias = p.bool("hasBias")?;
            Layer::InnerProduct(InnerProductLayerParams {
                input_channels: p.required_uint("inputChannels")?,
                output_channels: p.required_uint("outputChannels")?,
                has_bias,
                weights: Some(p.required_weights("weights")?),
                bias: if has_bias { Some(p.required_weights("bias")?) } else { p.weights("bias")? },
                int8_dynamic_quantize: p.bool("int8DynamicQuantize")?,
            })
        }
        "batchedMatmul" => {
            let has_bias = p.bool("hasBias")?;
            // One input: `weights` is the constant B. Two inputs: both operands are blobs.
            let weights = if i.n_inputs >= 2 { p.weights("weights")? } else { Some(p.required_weights("weights")?) };
            Layer::BatchedMatmul(BatchedMatMulLayerParams {
                transpose_a: p.bool("transposeA")?,
                transpose_b: p.bool("transposeB")?,
                weight_matrix_first_dimension: p.uint("weightMatrixFirstDimension")?,
                weight_matrix_second_dimension: p.uint("weightMatrixSecondDimension")?,
                has_bias,
                weights,
                bias: if has_bias { Some(p.required_weights("bias")?) } else { p.weights("bias")? },
                int8_dynamic_quantize: p.bool("int8DynamicQuantize")?,
            })
        }
        _ => return Ok(None),
    }))
}
