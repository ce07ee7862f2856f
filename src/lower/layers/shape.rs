//! Layout and data movement: reshapes, transposes, slices and crops, concatenation and
//! splitting, gathers and scatters, tiling and broadcasting, padding, constants, fills and
//! ranges, triangular masks, `reorganizeData`, `slidingWindows`, `oneHot`, `getShape`, `copy`.

use super::{border_amounts, LayerInput};
use crate::lower::error::LowerError;
use crate::lower::params::Params;
use crate::proto::coreml::flatten_layer_params::FlattenOrder;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::reorganize_data_layer_params::ReorganizationType;
use crate::proto::coreml::reshape_layer_params::ReshapeOrder;
use crate::proto::coreml::slice_layer_params::SliceAxis;
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
        "reshape" => Layer::Reshape(ReshapeLayerParams { target_shape: p.ints("targetShape")?, mode: p.proto_enum("mode", ReshapeOrder::from_str_name)? }),
        "flattenTo2D" => Layer::FlattenTo2D(FlattenTo2DLayerParams { axis: p.int("axis")? }),
        "sequenceRepeat" => Layer::SequenceRepeat(SequenceRepeatLayerParams { n_repetitions: p.required_uint("nRepetitions")? }),
        "reorganizeData" => {
            let block_size = p.required_uint("blockSize")?;
            if block_size < 2 {
                return Err(p.invalid("blockSize", format!("must be greater than 1, got {block_size}")));
            }
            Layer::ReorganizeData(ReorganizeDataLayerParams { mode: p.proto_enum("mode", ReorganizationType::from_str_name)?, block_size })
        }
        // The proto says the stride must be positive; unset means 1, as in coremltools' builder.
        "slice" => Layer::Slice(SliceLayerParams {
            start_index: p.int("startIndex")?,
            end_index: p.int("endIndex")?,
            stride: if p.has("stride") { positive(p, "stride")? } else { 1 },
            axis: p.proto_enum("axis", SliceAxis::from_str_name)?,
        }),
        "crop" => Layer::Crop(CropLayerParams { crop_amounts: border_amounts(p, "cropAmounts")?, offset: p.uints("offset")? }),
        "scatter" => Layer::Scatter(ScatterLayerParams { axis: p.int("axis")?, mode: p.proto_enum("mode", ScatterMode::from_str_name)? }),
        "scatterND" => Layer::ScatterNd(ScatterNdLayerParams { mode: p.proto_enum("mode", ScatterMode::from_str_name)? }),
        "scatterAlongAxis" => Layer::ScatterAlongAxis(ScatterAlongAxisLayerParams { axis: p.int("axis")?, mode: p.proto_enum("mode", ScatterMode::from_str_name)? }),
        "reverseSeq" => Layer::ReverseSeq(ReverseSeqLayerParams { batch_axis: p.int("batchAxis")?, sequence_axis: p.int("sequenceAxis")? }),
        "slidingWindows" => Layer::SlidingWindows(SlidingWindowsLayerParams {
            axis: p.int("axis")?,
            window_size: p.required_uint("windowSize")?,
            step: if p.has("step") { positive(p, "step")? } else { 1 },
        }),
        "fillDynamic" => Layer::FillDynamic(FillDynamicLayerParams { value: p.float("value")? }),
        "broadcastToDynamic" => Layer::BroadcastToDynamic(BroadcastToDynamicLayerParams {}),
        // Inputs after the first (end) replace startValue and stepSizeValue.
        "rangeDynamic" => Layer::RangeDynamic(RangeDynamicLayerParams { start_value: p.float("startValue")?, step_size_value: p.float_or("stepSizeValue", 1.0)? }),
        "whereNonZero" => Layer::WhereNonZero(WhereNonZeroLayerParams {}),
        "matrixBandPart" => Layer::MatrixBandPart(MatrixBandPartLayerParams { num_lower: p.int("numLower")?, num_upper: p.int("numUpper")? }),
        "lowerTriangular" => Layer::LowerTriangular(LowerTriangularLayerParams { k: p.int("k")? }),
        "upperTriangular" => Layer::UpperTriangular(UpperTriangularLayerParams { k: p.int("k")? }),
        "copy" => Layer::Copy(CopyLayerParams {}),
        _ => return Ok(None),
    }))
}

/// A `uint64` field the proto requires to be positive.
fn positive(p: &Params, name: &str) -> Result<u64, LowerError> {
    match p.uint(name)? {
        0 => Err(p.invalid(name, "must be positive, got 0")),
        n => Ok(n),
    }
}
