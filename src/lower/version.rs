//! The `specificationVersion` a lowered model needs: the lowest that supports every layer it
//! holds. Neural Network models with ND layers and `EXACT_ARRAY_MAPPING` need 4 (iOS 13), the
//! floor coremltools 8 keeps for every NN model; custom layers alone would need 2, which the
//! floor covers. The iOS 14 (version 5) features are those coremltools' NN builder raises the
//! version for (`_deployment_compatibility.iOS14Features`): see `../shared/reference/README.md`.
//! The other ND layers (random sampling, `NonMaximumSuppression`, the `*Dynamic` layers,
//! scatters, the recurrent layers...) are Core ML 3 layers: the builder adds them at version 4,
//! and so do we.

use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::upsample_layer_params::LinearUpsampleMode;
use crate::proto::coreml::NeuralNetworkLayer;

/// iOS 13: Core ML 3, the first with ND layers and exact array mapping.
pub const IOS13: i32 = 4;
/// iOS 14: Core ML 4.
pub const IOS14: i32 = 5;

/// The version one layer needs.
pub fn layer_version(layer: &NeuralNetworkLayer) -> i32 {
    let Some(kind) = &layer.layer else { return IOS13 };
    let ios14 = match kind {
        Layer::OneHot(_) | Layer::CumSum(_) | Layer::ClampedReLu(_) | Layer::ArgSort(_) => true,
        Layer::Convolution3d(_) | Layer::Pooling3d(_) | Layer::GlobalPooling3d(_) => true,
        Layer::Upsample(u) => u.linear_upsample_mode != i32::from(LinearUpsampleMode::Default),
        Layer::ReorganizeData(r) => r.mode == i32::from(crate::proto::coreml::reorganize_data_layer_params::ReorganizationType::PixelShuffle),
        Layer::ConcatNd(c) => c.interleave,
        Layer::SliceStatic(s) => s.squeeze_masks.iter().any(|&m| m),
        Layer::SliceDynamic(s) => s.squeeze_masks.iter().any(|&m| m),
        Layer::Tile(_) => layer.input.len() >= 2,
        _ => false,
    };
    if ios14 {
        IOS14
    } else {
        IOS13
    }
}

/// The version a model with `layers` needs, raised to `target` when given.
pub fn model_version(layers: &[NeuralNetworkLayer], target: Option<i32>) -> i32 {
    let needed = layers.iter().map(layer_version).max().unwrap_or(IOS13).max(IOS13);
    needed.max(target.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::*;

    fn layer(l: Layer) -> NeuralNetworkLayer {
        NeuralNetworkLayer { layer: Some(l), ..Default::default() }
    }

    #[test]
    fn ios14_features_raise_to_5_and_target_only_raises() {
        let relu = layer(Layer::Activation(Box::new(ActivationParams::default())));
        assert_eq!(model_version(std::slice::from_ref(&relu), None), 4);
        assert_eq!(model_version(std::slice::from_ref(&relu), Some(2)), 4);
        assert_eq!(model_version(std::slice::from_ref(&relu), Some(6)), 6);
        let up_default = layer(Layer::Upsample(UpsampleLayerParams::default()));
        assert_eq!(layer_version(&up_default), 4);
        let up_align = layer(Layer::Upsample(UpsampleLayerParams { linear_upsample_mode: LinearUpsampleMode::AlignCornersFalse as i32, ..Default::default() }));
        assert_eq!(model_version(&[relu.clone(), up_align], None), 5);
        assert_eq!(layer_version(&layer(Layer::OneHot(OneHotLayerParams::default()))), 5);
        let squeeze = layer(Layer::SliceStatic(SliceStaticLayerParams { squeeze_masks: vec![false, true], ..Default::default() }));
        assert_eq!(layer_version(&squeeze), 5);
        let no_squeeze = layer(Layer::SliceStatic(SliceStaticLayerParams { squeeze_masks: vec![false, false], ..Default::default() }));
        assert_eq!(layer_version(&no_squeeze), 4);
    }

    #[test]
    fn three_d_layers_and_pixel_shuffle_need_ios14_other_nd_layers_do_not() {
        use crate::proto::coreml::reorganize_data_layer_params::ReorganizationType;
        for l in [
            Layer::Convolution3d(Box::new(Convolution3DLayerParams::default())),
            Layer::Pooling3d(Pooling3DLayerParams::default()),
            Layer::GlobalPooling3d(GlobalPooling3DLayerParams::default()),
            Layer::CumSum(CumSumLayerParams::default()),
            Layer::ReorganizeData(ReorganizeDataLayerParams { mode: ReorganizationType::PixelShuffle as i32, block_size: 2 }),
        ] {
            assert_eq!(layer_version(&layer(l.clone())), 5, "{l:?}");
        }
        for l in [
            Layer::ReorganizeData(ReorganizeDataLayerParams { mode: ReorganizationType::DepthToSpace as i32, block_size: 2 }),
            Layer::RandomNormalStatic(RandomNormalStaticLayerParams::default()),
            Layer::NonMaximumSuppression(NonMaximumSuppressionLayerParams::default()),
            Layer::FillDynamic(FillDynamicLayerParams::default()),
            Layer::UniDirectionalLstm(Box::new(UniDirectionalLstmLayerParams::default())),
        ] {
            assert_eq!(layer_version(&layer(l.clone())), 4, "{l:?}");
        }
    }

    /// The run-time shape layers of `rules/dynamic.rules` are Core ML 3 layers: only `tile`
    /// with a reps input and a slice that squeezes need Core ML 4, as in coremltools' builder.
    #[test]
    fn dynamic_shape_layers_need_ios14_only_for_tile_reps_input_and_squeezing() {
        let with_inputs = |l: Layer, n: usize| NeuralNetworkLayer { layer: Some(l), input: (0..n).map(|i| format!("in{i}")).collect(), ..Default::default() };
        for l in [
            with_inputs(Layer::ReshapeDynamic(ReshapeDynamicLayerParams::default()), 2),
            with_inputs(Layer::GetShape(GetShapeLayerParams::default()), 1),
            with_inputs(Layer::RangeDynamic(RangeDynamicLayerParams::default()), 3),
            with_inputs(Layer::BroadcastToDynamic(BroadcastToDynamicLayerParams::default()), 2),
            with_inputs(Layer::ConstantPad(ConstantPaddingLayerParams::default()), 2),
            with_inputs(Layer::SliceDynamic(SliceDynamicLayerParams { squeeze_masks: vec![false, false], ..Default::default() }), 3),
            with_inputs(Layer::Tile(TileLayerParams { reps: vec![2] }), 1),
        ] {
            assert_eq!(layer_version(&l), 4, "{l:?}");
        }
        assert_eq!(layer_version(&with_inputs(Layer::Tile(TileLayerParams::default()), 2)), 5);
        let squeeze = SliceDynamicLayerParams { squeeze_masks: vec![false, true], ..Default::default() };
        assert_eq!(layer_version(&with_inputs(Layer::SliceDynamic(squeeze), 3)), 5);
    }
}
