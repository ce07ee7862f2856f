//! Reductions, orderings and selections: `reduce` (rank 5), `reduce*`, `argMax`, `argMin`,
//! `topK`, `argSort`, `cumSum`, `NonMaximumSuppression`.

use super::LayerInput;
use crate::lower::error::LowerError;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::reduce_layer_params::{ReduceAxis, ReduceOperation};
use crate::proto::coreml::*;

/// `(axes, keepDims, reduceAll)` of the `Reduce*LayerParams` messages, which share their
/// fields. No axes means "reduce all", as the proto documents; `reduceAll` is set to say so.
fn reduce_fields(i: &LayerInput) -> Result<(Vec<i64>, bool, bool), LowerError> {
    let p = i.params;
    let axes = p.ints("axes")?;
    let reduce_all = p.bool("reduceAll")? || axes.is_empty();
    Ok((axes, p.bool("keepDims")?, reduce_all))
}

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    let p = i.params;
    macro_rules! reduce {
        ($variant:ident, $msg:ident) => {{
            let (axes, keep_dims, reduce_all) = reduce_fields(i)?;
            Layer::$variant($msg { axes, keep_dims, reduce_all })
        }};
    }
    Ok(Some(match p.kind.name {
        "reduceMax" => reduce!(ReduceMax, ReduceMaxLayerParams),
        "reduceMin" => reduce!(ReduceMin, ReduceMinLayerParams),
        "reduceSum" => reduce!(ReduceSum, ReduceSumLayerParams),
        "reduceProd" => reduce!(ReduceProd, ReduceProdLayerParams),
        "reduceMean" => reduce!(ReduceMean, ReduceMeanLayerParams),
        "reduceLogSum" => reduce!(ReduceLogSum, ReduceLogSumLayerParams),
        "reduceSumSquare" => reduce!(ReduceSumSquare, ReduceSumSquareLayerParams),
        "reduceLogSumExp" => reduce!(ReduceLogSumExp, ReduceLogSumExpLayerParams),
        "reduceL1" => reduce!(ReduceL1, ReduceL1LayerParams),
        "reduceL2" => reduce!(ReduceL2, ReduceL2LayerParams),
        // epsilon (used by LOGSUM) is written as its documented default 1e-6 when unset.
        "reduce" => Layer::Reduce(ReduceLayerParams {
            mode: p.proto_enum("mode", ReduceOperation::from_str_name)?,
            epsilon: p.float_or("epsilon", 1e-6)?,
            axis: p.proto_enum("axis", ReduceAxis::from_str_name)?,
        }),
        "NonMaximumSuppression" => Layer::NonMaximumSuppression(NonMaximumSuppressionLayerParams {
            iou_threshold: p.float("iouThreshold")?,
            score_threshold: p.float("scoreThreshold")?,
            max_boxes: p.uint("maxBoxes")?,
            per_class_suppression: p.bool("perClassSuppression")?,
        }),
        "argMax" => Layer::ArgMax(ArgMaxLayerParams { axis: p.int("axis")?, remove_dim: p.bool("removeDim")? }),
        "argMin" => Layer::ArgMin(ArgMinLayerParams { axis: p.int("axis")?, remove_dim: p.bool("removeDim")? }),
        "topK" => {
            // With a second input, K comes from that blob at run time.
            let k = if i.n_inputs >= 2 { p.uint("K")? } else { p.required_uint("K")? };
            Layer::TopK(TopKLayerParams { axis: p.int("axis")?, k, use_bottom_k: p.bool("useBottomK")? })
        }
        "argSort" => Layer::ArgSort(ArgSortLayerParams { axis: p.int("axis")?, descending: p.bool("descending")? }),
        "cumSum" => Layer::CumSum(CumSumLayerParams { axis: p.int("axis")?, exclude_final_sum: p.bool("excludeFinalSum")?, reverse: p.bool("reverse")? }),
        _ => return Ok(None),
    }))
}
