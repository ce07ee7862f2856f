//! Normalizations: batchnorm (also instance normalization via `computeMeanVar`), layer
//! normalization, MVN, L2 normalization, LRN, and softmax along axis -3 or any axis.

use super::arity;
use crate::kbail;
use crate::proto::coreml::{
    BatchnormLayerParams, L2NormalizeLayerParams, LayerNormalizationLayerParams, LrnLayerParams,
    MeanVarianceNormalizeLayerParams,
};
use crate::run::float::Float;
use crate::run::util::{axis, bchw, from_vec, outer_inner, values};
use crate::run::weights::decode_len;
use crate::run::KernelError;
use ndarray::ArrayD;

fn mean_var<T: Float>(v: impl Iterator<Item = T> + Clone, n: usize) -> (T, T) {
    let nf = T::from_usize(n.max(1));
    let mean = v.clone().fold(T::zero(), |a, b| a + b) / nf;
    let var = v.fold(T::zero(), |a, b| a + (b - mean) * (b - mean)) / nf;
    (mean, var)
}

pub fn batchnorm<T: Float>(p: &BatchnormLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c, h, w) = bchw(x.shape(), 3)?;
    if p.channels as usize != c {
        kbail!("channels is {}, but the input has {c} channels (axis -3) in shape {:?}", p.channels, x.shape());
    }
    let eps = T::from_f32(if p.epsilon == 0.0 { 1e-5 } else { p.epsilon });
    let gamma = decode_len::<T>(p.gamma.as_ref(), "gamma", c)?;
    let beta = decode_len::<T>(p.beta.as_ref(), "beta", c)?;
    let xs = values(x);
    let hw = h * w;
    let mut out = xs.to_vec();
    if p.compute_mean_var {
        if p.instance_normalization {
            // Statistics of each (instance, channel) plane.
            for (i, plane) in out.chunks_exact_mut(hw).enumerate() {
                let ch = i % c;
                let (m, v) = mean_var(plane.iter().copied(), hw);
                let k = gamma[ch] / (v + eps).sqrt();
                for e in plane.iter_mut() {
                    *e = (*e - m) * k + beta[ch];
                }
            }
        } else {
            // Statistics of each channel over the whole batch.
            for ch in 0..c {
                let it = (0..batch).flat_map(|b| xs[(b * c + ch) * hw..(b * c + ch + 1) * hw].iter().copied());
                let (m, v) = mean_var(it, batch * hw);
                let k = gamma[ch] / (v + eps).sqrt();
                for b in 0..batch {
                    for e in &mut out[(b * c + ch) * hw..(b * c + ch + 1) * hw] {
                        *e = (*e - m) * k + beta[ch];
                    }
                }
            }
        }
    } else {
        let mean = decode_len::<T>(p.mean.as_ref(), "mean", c)?;
        let var = decode_len::<T>(p.variance.as_ref(), "variance", c)?;
        let scale: Vec<T> = (0..c).map(|i| gamma[i] / (var[i] + eps).sqrt()).collect();
        for (i, plane) in out.chunks_exact_mut(hw).enumerate() {
            let ch = i % c;
            let (k, m, b) = (scale[ch], mean[ch], beta[ch]);
            for e in plane.iter_mut() {
                *e = (*e - m) * k + b;
            }
        }
    }
    from_vec(x.shape().to_vec(), out)
}

pub fn layer_norm<T: Float>(p: &LayerNormalizationLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let s = x.shape();
    let ns: Vec<usize> = p.normalized_shape.iter().map(|&d| d.max(0) as usize).collect();
    if ns.is_empty() || ns.len() > s.len() || s[s.len() - ns.len()..] != ns[..] {
        kbail!("normalizedShape {:?} is not a suffix of the input shape {:?}", p.normalized_shape, s);
    }
    let n: usize = ns.iter().product();
    let gamma = if p.gamma.is_some() { decode_len::<T>(p.gamma.as_ref(), "gamma", n)? } else { vec![T::one(); n] };
    let beta = if p.beta.is_some() { decode_len::<T>(p.beta.as_ref(), "beta", n)? } else { vec![T::zero(); n] };
    let eps = T::from_f32(p.eps);
    let mut out = values(x).into_owned();
    for chunk in out.chunks_exact_mut(n.max(1)) {
        let (m, v) = mean_var(chunk.iter().copied(), n);
        let k = T::one() / (v + eps).sqrt();
        for (i, e) in chunk.iter_mut().enumerate() {
            *e = gamma[i] * (*e - m) * k + beta[i];
        }
    }
    from_vec(s.to_vec(), out)
}

/// MVN: per instance over `[C,H,W]` (acrossChannels) or per channel over `[H,W]`;
/// `x - mean`, divided by `sqrt(var + eps)` when normalizeVariance.
pub fn mvn<T: Float>(p: &MeanVarianceNormalizeLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (_, c, h, w) = bchw(x.shape(), 3)?;
    let eps = T::from_f32(if p.epsilon == 0.0 { 1e-6 } else { p.epsilon });
    let group = if p.across_channels { c * h * w } else { h * w };
    let mut out = values(x).into_owned();
    for chunk in out.chunks_exact_mut(group.max(1)) {
        let (m, v) = mean_var(chunk.iter().copied(), group);
        let k = if p.normalize_variance { T::one() / (v + eps).sqrt() } else { T::one() };
        for e in chunk.iter_mut() {
            *e = (*e - m) * k;
        }
    }
    from_vec(x.shape().to_vec(), out)
}

/// x / sqrt(sum(x^2) + eps) over the `[C,H,W]` of each instance.
pub fn l2_normalize<T: Float>(p: &L2NormalizeLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (_, c, h, w) = bchw(x.shape(), 3)?;
    let eps = T::from_f32(if p.epsilon == 0.0 { 1e-6 } else { p.epsilon });
    let mut out = values(x).into_owned();
    for chunk in out.chunks_exact_mut((c * h * w).max(1)) {
        let ss: T = chunk.iter().map(|&v| v * v).sum();
        let k = T::one() / (ss + eps).sqrt();
        for e in chunk.iter_mut() {
            *e *= k;
        }
    }
    from_vec(x.shape().to_vec(), out)
}

/// LRN across channels: x / (k + alpha/n * sum_{window} x^2)^beta, the window of `localSize`
/// channels starting `(localSize-1)/2` before the channel (Caffe's convention, which the
/// proto's "(localSize, 1, 1) neighborhood" leaves implicit).
pub fn lrn<T: Float>(p: &LrnLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c, h, w) = bchw(x.shape(), 3)?;
    let n = p.local_size.max(1) as usize;
    let k = T::from_f32(if p.k == 0.0 { 1.0 } else { p.k });
    let alpha = T::from_f32(p.alpha) / T::from_usize(n);
    let beta = T::from_f32(p.beta);
    let xs = values(x);
    let hw = h * w;
    let mut out = vec![T::zero(); xs.len()];
    let pre = (n - 1) / 2;
    for b in 0..batch {
        for ch in 0..c {
            let lo = ch.saturating_sub(pre);
            let hi = (ch + n - pre).min(c);
            for i in 0..hw {
                let mut ss = T::zero();
                for j in lo..hi {
                    let v = xs[(b * c + j) * hw + i];
                    ss += v * v;
                }
                let idx = (b * c + ch) * hw + i;
                out[idx] = xs[idx] / (k + alpha * ss).powf(beta);
            }
        }
    }
    from_vec(x.shape().to_vec(), out)
}

fn softmax_axis<T: Float>(x: &ArrayD<T>, ax: usize) -> Result<ArrayD<T>, KernelError> {
    let (outer, len, inner) = outer_inner(x.shape(), ax);
    let mut out = values(x).into_owned();
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| (o * len + j) * inner + i;
            let mut m = -T::infinity();
            for j in 0..len {
                m = m.max_nan(out[at(j)]);
            }
            let mut s = T::zero();
            for j in 0..len {
                let e = (out[at(j)] - m).exp();
                out[at(j)] = e;
                s += e;
            }
            for j in 0..len {
                out[at(j)] /= s;
            }
        }
    }
    from_vec(x.shape().to_vec(), out)
}

/// Legacy softmax: along axis -3 (rank >= 3).
pub fn softmax_legacy<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    bchw(ins[0].shape(), 3)?;
    softmax_axis(ins[0], ins[0].ndim() - 3)
}

pub fn softmax_nd<T: Float>(ax: i64, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    softmax_axis(ins[0], axis(ax, ins[0].ndim())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::WeightParams;
    use ndarray::IxDyn;

    #[test]
    fn softmax_of_equal_logits_is_uniform_and_of_ln2_is_two_thirds() {
        // softmax([0, ln 2]) = [1/3, 2/3] (by hand).
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![0.0f64, 2f64.ln()]).unwrap();
        let y = softmax_nd(-1, &[&x]).unwrap();
        assert!((y[[0, 0]] - 1.0 / 3.0).abs() < 1e-15 && (y[[0, 1]] - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn instance_norm_by_hand() {
        // One channel plane [1, 3]: mean 2, variance 1; (x-2)/sqrt(1+eps) with eps 1e-5 unset.
        let wp = |v: f32| Some(WeightParams { float_value: vec![v], ..Default::default() });
        let p = BatchnormLayerParams {
            channels: 1,
            compute_mean_var: true,
            instance_normalization: true,
            gamma: wp(1.0),
            beta: wp(0.0),
            ..Default::default()
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![1.0f64, 3.0]).unwrap();
        let y = batchnorm(&p, &[&x]).unwrap();
        let k = 1.0 / (1.0f64 + 1e-5f32 as f64).sqrt();
        assert!((y[[0, 0, 0]] + k).abs() < 1e-12 && (y[[0, 0, 1]] - k).abs() < 1e-12);
    }
}
