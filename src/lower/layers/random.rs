//! Random sampling: `randomNormal*`, `randomUniform*`, `randomBernoulli*` (each `Like`,
//! `Static` and `Dynamic`), `categoricalDistribution`. The interpreter does not run them (no
//! seeded generator matches Core ML's), so a rule producing one cannot be checked numerically.

use super::LayerInput;
use crate::lower::error::LowerError;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::*;

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    let p = i.params;
    Ok(Some(match p.kind.name {
        "randomNormalLike" => Layer::RandomNormalLike(RandomNormalLikeLayerParams { seed: p.int("seed")?, mean: p.float("mean")?, std_dev: p.float("stdDev")? }),
        "randomNormalStatic" => Layer::RandomNormalStatic(RandomNormalStaticLayerParams {
            seed: p.int("seed")?,
            mean: p.float("mean")?,
            std_dev: p.float("stdDev")?,
            output_shape: output_shape(i)?,
        }),
        "randomNormalDynamic" => Layer::RandomNormalDynamic(RandomNormalDynamicLayerParams { seed: p.int("seed")?, mean: p.float("mean")?, std_dev: p.float("stdDev")? }),
        "randomUniformLike" => Layer::RandomUniformLike(RandomUniformLikeLayerParams { seed: p.int("seed")?, min_val: p.float("minVal")?, max_val: p.float("maxVal")? }),
        "randomUniformStatic" => Layer::RandomUniformStatic(RandomUniformStaticLayerParams {
            seed: p.int("seed")?,
            min_val: p.float("minVal")?,
            max_val: p.float("maxVal")?,
            output_shape: output_shape(i)?,
        }),
        "randomUniformDynamic" => Layer::RandomUniformDynamic(RandomUniformDynamicLayerParams { seed: p.int("seed")?, min_val: p.float("minVal")?, max_val: p.float("maxVal")? }),
        "randomBernoulliLike" => Layer::RandomBernoulliLike(RandomBernoulliLikeLayerParams { seed: p.int("seed")?, prob: p.float("prob")? }),
        "randomBernoulliStatic" => Layer::RandomBernoulliStatic(RandomBernoulliStaticLayerParams { seed: p.int("seed")?, prob: p.float("prob")?, output_shape: output_shape(i)? }),
        "randomBernoulliDynamic" => Layer::RandomBernoulliDynamic(RandomBernoulliDynamicLayerParams { seed: p.int("seed")?, prob: p.float("prob")? }),
        // temperature unset is written as 1 (the logits unscaled), as coremltools' builder
        // does: the proto3 zero would divide by zero.
        "categoricalDistribution" => Layer::CategoricalDistribution(CategoricalDistributionLayerParams {
            seed: p.int("seed")?,
            num_samples: p.int("numSamples")?,
            is_logits: p.bool("isLogits")?,
            eps: p.float("eps")?,
            temperature: p.float_or("temperature", 1.0)?,
        }),
        _ => return Ok(None),
    }))
}

/// The `outputShape` of a `*Static` layer: it has no input to take a shape from, so the
/// shape is required.
fn output_shape(i: &LayerInput) -> Result<Vec<u64>, LowerError> {
    let p = i.params;
    let shape = p.uints("outputShape")?;
    if shape.is_empty() {
        p.required("outputShape")?;
        return Err(p.invalid("outputShape", "must not be empty"));
    }
    Ok(shape)
}
