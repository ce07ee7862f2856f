//! Normalizations: `batchnorm`, `mvn`, `l2normalize`, `lrn`, `layerNormalization`.

use super::LayerInput;
use crate::lower::error::LowerError;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::*;

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    let p = i.params;
    Ok(Some(match p.kind.name {
        "batchnorm" => {
            let compute_mean_var = p.bool("computeMeanVar")?;
            let channels = p.required_uint("channels")?;
            for w in ["gamma", "beta"] {
                let n = p.weight_len(w);
                if n != channels as usize {
                    p.required(w)?;
                    return Err(p.invalid(w, format!("has {n} values for {channels} channels")));
                }
            }
            // mean and variance are computed at run time when computeMeanVar is set.
            let stat = |w: &str| if compute_mean_var { p.weights(w) } else { p.required_weights(w).map(Some) };
            Layer::Batchnorm(Box::new(BatchnormLayerParams {
                channels,
                compute_mean_var,
                instance_normalization: p.bool("instanceNormalization")?,
                epsilon: p.float("epsilon")?,
                gamma: p.weights("gamma")?,
                beta: p.weights("beta")?,
                mean: stat("mean")?,
                variance: stat("variance")?,
            }))
        }
        "mvn" => Layer::Mvn(MeanVarianceNormalizeLayerParams {
            across_channels: p.bool("acrossChannels")?,
            normalize_variance: p.bool("normalizeVariance")?,
            epsilon: p.float("epsilon")?,
        }),
        "l2normalize" => Layer::L2normalize(L2NormalizeLayerParams { epsilon: p.float("epsilon")? }),
        "lrn" => Layer::Lrn(LrnLayerParams { alpha: p.float("alpha")?, beta: p.float("beta")?, local_size: p.required_uint("localSize")?, k: p.float("k")? }),
        "layerNormalization" => {
            let normalized_shape = p.ints("normalizedShape")?;
            if normalized_shape.is_empty() {
                p.required("normalizedShape")?;
            }
            Layer::LayerNormalization(Box::new(LayerNormalizationLayerParams {
                normalized_shape,
                eps: p.float("eps")?,
                gamma: Some(p.required_weights("gamma")?),
                beta: Some(p.required_weights("beta")?),
            }))
        }
        _ => return Ok(None),
    }))
}
