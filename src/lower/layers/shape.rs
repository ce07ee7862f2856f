//! Layout and data movement: reshapes, transposes, slices, concatenation and splitting,
//! gathers, tiling and broadcasting, padding, constants and fills, `oneHot`, `getShape`.

use super::LayerInput;
use crate::lower::error::LowerError;
use crate::lower::params::Params;
use crate::proto::coreml::flatten_layer_params::FlattenOrder;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::*;

/// `shape` and `data` of `loadConstant`/`loadConstantND`, with their element counts checked.
fn constant(p: &Params) -> Result<(Vec<u64>, WeightParams), LowerError> {
    let shape = p.uints("shape")?;
    if shape.is_empty() {
        p.required("shape")?;
        return Err(p.invalid("shape", "must not be empty"));
    }
    let data = p.required_weights("data")?;
    let want: u64 = shape.iter().product();
    let got = p.weight_len("data") as u64;
    if want != got {
        return Err(p.invalid("data", format!("has {got} values, shape {shape:?} needs {want}")));
    }
    Ok((shape, data))
}

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    let p = i.params;
    Ok(Some(match p.kind.name {
        "flatten" => Layer::Flatten(FlattenLayerParams { mode: p.proto_enum("mode", FlattenOrder::from_str_name)? }),
        "permute" => Layer::Permute(PermuteLayerParams { axis: p.uints("axis")? }),
        "transpose" => Layer::Transpose(TransposeLayerParams { axes: p.uints("axes")? }),
        "concat" => Layer::Concat(ConcatLayerParams { sequence_concat: p.bool("sequenceConcat")? }),
        "concatND" => Layer::ConcatNd(ConcatNdLayerParams { axis: p.int("axis")?, interleave: p.bool("interleave")? }),
        "split" => Layer::Split(SplitLayerParams { n_outputs: p.required_uint("nOutputs")? }),
        "splitND" => {
            let split_sizes = p.uints("splitSizes")?;
            let num_splits = p.uint("numSplits")?;
            if num_splits == 0 && split_sizes.is_empty() {
                p.required("numSplits")?;
            }
            Layer::SplitNd(SplitNdLayerParams { axis: p.int("axis")?, num_splits: if num_splits == 0 { split_sizes.len() as u64 } else { num_splits }, split_sizes })
        }
        "stack" => Layer::Stack(StackLayerParams { axis: p.int("axis")? }),
        "tile" => Layer::Tile(TileLayerParams { reps: p.uints("reps")? }),
        "gather" => Layer::Gather(GatherLayerParams { axis: p.int("axis")? }),
        "gatherND" => Layer::GatherNd(GatherNdLayerParams {}),
        "gatherAlongAxis" => Layer::GatherAlongAxis(GatherAlongAxisLayerParams { axis: p.int("axis")? }),
        "reverse" => Layer::Reverse(ReverseLayerParams { reverse_dim: p.bools("reverseDim")? }),
        "sliceStatic" => Layer::SliceStatic(SliceStaticLayerParams {
            begin_ids: p.ints("beginIds")?,
            begin_masks: p.bools("beginMasks")?,
            end_ids: p.ints("endIds")?,
            end_masks: p.bools("endMasks")?,
            strides: p.ints("strides")?,
            squeeze_masks: p.bools("squeezeMasks")?,
        }),
        "sliceDynamic" => Layer::SliceDynamic(SliceDynamicLayerParams {
            begin_masks: p.bools("beginMasks")?,
            end_ids: p.ints("endIds")?,
            end_masks: p.bools("endMasks")?,
            strides: p.ints("strides")?,
            squeeze_masks: p.bools("squeezeMasks")?,
        }),
        "sliceBySize" => Layer::SliceBySize(SliceBySizeLayerParams { size: p.int("size")?, axis: p.int("axis")? }),
        "getShape" => Layer::GetShape(GetShapeLayerParams {}),
        "loadConstant" => {
            let (shape, data) = constant(p)?;
            Layer::LoadConstant(LoadConstantLayerParams { shape, data: Some(data) })
        }
        "loadConstantND" => {
            let (shape, data) = constant(p)?;
            Layer::LoadConstantNd(LoadConstantNdLayerParams { shape, data: Some(data) })
        }
        "rangeStatic" => Layer::RangeStatic(RangeStaticLayerParams {
            end_value: p.float("endValue")?,
            start_value: p.float("startValue")?,
            step_size_value: p.float_or("stepSizeValue", 1.0)?,
        }),
        "fillLike" => Layer::FillLike(FillLikeLayerParams { value: p.float("value")? }),
        "fillStatic" => Layer::FillStatic(FillStaticLayerParams { value: p.float("value")?, target_shape: p.uints("targetShape")? }),
        "broadcastToLike" => Layer::BroadcastToLike(BroadcastToLikeLayerParams {}),
        "broadcastToStatic" => Layer::BroadcastToStatic(BroadcastToStaticLayerParams { target_shape: p.uints("targetShape")? }),
        "squeeze" => Layer::Squeeze(SqueezeLayerParams { axes: p.ints("axes")?, squeeze_all: p.bool("squeezeAll")? }),
        "expandDims" => Layer::ExpandDims(ExpandDimsLayerParams { axes: p.ints("axes")? }),
        "reshapeLike" => Layer::ReshapeLike(ReshapeLikeLayerParams {}),
        "reshapeStatic" => Layer::ReshapeStatic(ReshapeStaticLayerParams { target_shape: p.ints("targetShape")? }),
        "reshapeDynamic" => Layer::ReshapeDynamic(ReshapeDynamicLayerParams {}),
        "rankPreservingReshape" => Layer::RankPreservingReshape(RankPreservingReshapeLayerParams { target_shape: p.ints("targetShape")? }),
        "constantPad" => Layer::ConstantPad(ConstantPaddingLayerParams {
            value: p.float("value")?,
            pad_amounts: p.uints("padAmounts")?,
            pad_to_given_output_size_mode: p.bool("padToGivenOutputSizeMode")?,
        }),
        "oneHot" => Layer::OneHot(OneHotLayerParams {
            one_hot_vector_size: p.uint("oneHotVectorSize")?,
            axis: p.int("axis")?,
            on_value: p.float_or("onValue", 1.0)?,
            off_value: p.float("offValue")?,
        }),
        _ => return Ok(None),
    }))
}
