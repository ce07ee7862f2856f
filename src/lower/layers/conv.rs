//! Layers with learned weight matrices: `convolution`, `convolution3d`, `innerProduct`,
//! `batchedMatmul`, `embedding`, `embeddingND`.

use super::{border_amounts, check_weight_len, custom_padding_3d, LayerInput};
use crate::lower::params::Params;
use crate::proto::coreml::convolution3_d_layer_params::PaddingType as Padding3d;
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
            Layer::Convolution(Box::new(ConvolutionLayerParams {
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
            }))
        }
        "innerProduct" => {
            let has_bias = p.bool("hasBias")?;
            Layer::InnerProduct(Box::new(InnerProductLayerParams {
                input_channels: p.required_uint("inputChannels")?,
                output_channels: p.required_uint("outputChannels")?,
                has_bias,
                weights: Some(p.required_weights("weights")?),
                bias: if has_bias { Some(p.required_weights("bias")?) } else { p.weights("bias")? },
                int8_dynamic_quantize: p.bool("int8DynamicQuantize")?,
            }))
        }
        "batchedMatmul" => {
            let has_bias = p.bool("hasBias")?;
            // One input: `weights` is the constant B. Two inputs: both operands are blobs.
            let weights = if i.n_inputs >= 2 { p.weights("weights")? } else { Some(p.required_weights("weights")?) };
            Layer::BatchedMatmul(Box::new(BatchedMatMulLayerParams {
                transpose_a: p.bool("transposeA")?,
                transpose_b: p.bool("transposeB")?,
                weight_matrix_first_dimension: p.uint("weightMatrixFirstDimension")?,
                weight_matrix_second_dimension: p.uint("weightMatrixSecondDimension")?,
                has_bias,
                weights,
                bias: if has_bias { Some(p.required_weights("bias")?) } else { p.weights("bias")? },
                int8_dynamic_quantize: p.bool("int8DynamicQuantize")?,
            }))
        }
        // Channels and kernel sizes are required; nGroups, strides and dilations default to 1
        // as in coremltools' builder (the proto requires them positive).
        "convolution3d" => {
            let [front, back, top, bottom, left, right] = custom_padding_3d(p)?;
            let has_bias = p.bool("hasBias")?;
            let c = Convolution3DLayerParams {
                output_channels: p.required_positive_int32("outputChannels")?,
                input_channels: p.required_positive_int32("inputChannels")?,
                n_groups: p.int32("nGroups", 1, 1)?,
                kernel_depth: p.required_positive_int32("kernelDepth")?,
                kernel_height: p.required_positive_int32("kernelHeight")?,
                kernel_width: p.required_positive_int32("kernelWidth")?,
                stride_depth: p.int32("strideDepth", 1, 1)?,
                stride_height: p.int32("strideHeight", 1, 1)?,
                stride_width: p.int32("strideWidth", 1, 1)?,
                dilation_depth: p.int32("dilationDepth", 1, 1)?,
                dilation_height: p.int32("dilationHeight", 1, 1)?,
                dilation_width: p.int32("dilationWidth", 1, 1)?,
                has_bias,
                weights: Some(p.required_weights("weights")?),
                bias: if has_bias { Some(p.required_weights("bias")?) } else { p.weights("bias")? },
                padding_type: p.proto_enum("paddingType", Padding3d::from_str_name)?,
                custom_padding_front: front,
                custom_padding_back: back,
                custom_padding_top: top,
                custom_padding_bottom: bottom,
                custom_padding_left: left,
                custom_padding_right: right,
                is_deconvolution: p.bool("isDeconvolution")?,
                output_shape: p.uints("outputShape")?,
            };
            check_conv3d_sizes(p, &c)?;
            Layer::Convolution3d(Box::new(c))
        }
        "embedding" => {
            let (input_dim, output_channels) = (p.required_uint("inputDim")?, p.required_uint("outputChannels")?);
            let (has_bias, weights, bias) = embedding_weights(p, input_dim, output_channels)?;
            Layer::Embedding(Box::new(EmbeddingLayerParams { input_dim, output_channels, has_bias, weights, bias }))
        }
        "embeddingND" => {
            let (vocab_size, embedding_size) = (p.required_uint("vocabSize")?, p.required_uint("embeddingSize")?);
            let (has_bias, weights, bias) = embedding_weights(p, vocab_size, embedding_size)?;
            Layer::EmbeddingNd(Box::new(EmbeddingNdLayerParams { vocab_size, embedding_size, has_bias, weights, bias }))
        }
        _ => return Ok(None),
    }))
}

/// The weight and bias counts of a `convolution3d` and its `outputShape` length, so that a
/// rule computing them wrong fails here, naming the parameter, rather than in Core ML.
fn check_conv3d_sizes(p: &Params, c: &Convolution3DLayerParams) -> Result<(), LowerError> {
    let (cin, cout, groups) = (c.input_channels as u64, c.output_channels as u64, c.n_groups as u64);
    if cin % groups != 0 || cout % groups != 0 {
        return Err(p.invalid("nGroups", format!("{groups} does not divide inputChannels {cin} and outputChannels {cout}")));
    }
    let kernel = (c.kernel_depth as u64) * (c.kernel_height as u64) * (c.kernel_width as u64);
    if c.is_deconvolution {
        check_weight_len(p, "weights", cin * (cout / groups) * kernel, "[inputChannels, outputChannels / nGroups, D, H, W]")?;
    } else {
        check_weight_len(p, "weights", cout * (cin / groups) * kernel, "[outputChannels, inputChannels / nGroups, D, H, W]")?;
    }
    if c.has_bias {
        check_weight_len(p, "bias", cout, "[outputChannels]")?;
    }
    if !c.output_shape.is_empty() && c.output_shape.len() != 3 {
        return Err(p.invalid("outputShape", format!("needs 3 values [D, H, W], got {}", c.output_shape.len())));
    }
    Ok(())
}

/// `hasBias`, `weights` (`[size, vocabulary]`) and `bias` (`[size]`) of the embedding layers,
/// with their element counts checked.
fn embedding_weights(p: &Params, vocabulary: u64, size: u64) -> Result<(bool, Option<WeightParams>, Option<WeightParams>), LowerError> {
    let has_bias = p.bool("hasBias")?;
    let weights = p.required_weights("weights")?;
    check_weight_len(p, "weights", vocabulary * size, "[embedding size, vocabulary]")?;
    let bias = if has_bias { Some(p.required_weights("bias")?) } else { p.weights("bias")? };
    check_weight_len(p, "bias", size, "[embedding size]")?;
    Ok((has_bias, Some(weights), bias))
}
