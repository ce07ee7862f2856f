//! Random sampling layers (`randomUniform*`, `randomNormal*`, `randomBernoulli*`,
//! `categoricalDistribution`). Core ML names the distribution and a seed but not the
//! generator, so no converter can reproduce TensorFlow's (or Core ML's) values: these kernels
//! draw from the named distribution with a small deterministic generator seeded by the
//! layer's `seed`, and models holding them are judged by comparing distributions
//! (`run::compare::same_distribution`), never values. The same seed gives the same numbers on
//! every run, so a test cannot flake.

use super::super::float::Float;
use super::super::util::{from_vec, values};
use super::super::KernelError;
use super::arity;
use crate::kbail;
use crate::proto::coreml::CategoricalDistributionLayerParams;
use ndarray::ArrayD;

/// SplitMix64: a 64-bit generator with full period and good equidistribution, enough for
/// moment and Kolmogorov–Smirnov checks on a few thousand samples.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: i64) -> Self {
        SplitMix64(seed as u64 ^ 0x853c_49e6_748f_ea9b)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by the Box–Muller transform (one of the pair).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Which distribution a layer samples, with its parameters.
#[derive(Debug, Clone, Copy)]
pub enum Dist {
    Uniform { min: f32, max: f32 },
    Normal { mean: f32, std_dev: f32 },
    Bernoulli { prob: f32 },
}

/// Where the output shape comes from.
pub enum ShapeFrom<'a> {
    /// `*Like`: the shape of the one input.
    Like,
    /// `*Static`: the `outputShape` parameter.
    Static(&'a [u64]),
    /// `*Dynamic`: the values of the rank-1 input.
    Dynamic,
}

/// Runs one `random*` layer.
pub fn sample<T: Float>(dist: Dist, seed: i64, from: ShapeFrom<'_>, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    let shape: Vec<usize> = match from {
        ShapeFrom::Like => {
            arity(ins, 1, 1)?;
            ins[0].shape().to_vec()
        }
        ShapeFrom::Static(s) => {
            arity(ins, 0, 0)?;
            s.iter().map(|&d| d as usize).collect()
        }
        ShapeFrom::Dynamic => {
            arity(ins, 1, 1)?;
            if ins[0].ndim() != 1 {
                kbail!("the shape input must be rank 1, got shape {:?}", ins[0].shape());
            }
            values(ins[0])
                .iter()
                .map(|v| {
                    let d = v.to_f64();
                    if d < 0.0 || d.fract() != 0.0 {
                        Err(KernelError(format!("the shape input holds {d}, not a size")))
                    } else {
                        Ok(d as usize)
                    }
                })
                .collect::<Result<_, _>>()?
        }
    };
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).filter(|n| *n <= 1 << 28);
    let Some(n) = n else { kbail!("output shape {shape:?} is too large") };
    let mut rng = SplitMix64::new(seed);
    let v = (0..n)
        .map(|_| {
            T::from_f64(match dist {
                Dist::Uniform { min, max } => min as f64 + (max as f64 - min as f64) * rng.uniform(),
                Dist::Normal { mean, std_dev } => mean as f64 + std_dev as f64 * rng.normal(),
                Dist::Bernoulli { prob } => (rng.uniform() < prob as f64) as u8 as f64,
            })
        })
        .collect();
    from_vec(shape, v)
}

/// `categoricalDistribution`: `numSamples` class indices drawn for every row of the last axis.
/// With `isLogits` the row's probabilities are `softmax(x / temperature)`; otherwise the row
/// holds probabilities, normalised by their sum (values below `eps` count as zero).
pub fn categorical<T: Float>(p: &CategoricalDistributionLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let Some(&classes) = x.shape().last() else { kbail!("the input must have rank >= 1") };
    if classes == 0 {
        kbail!("the last axis is empty: no class to draw");
    }
    let samples = usize::try_from(p.num_samples).map_err(|_| KernelError(format!("numSamples is negative ({})", p.num_samples)))?;
    let temperature = if p.temperature == 0.0 { 1.0 } else { p.temperature as f64 };
    let eps = if p.eps == 0.0 { 1e-10 } else { p.eps as f64 };
    let xs = values(x);
    let mut rng = SplitMix64::new(p.seed);
    let mut out = Vec::with_capacity(xs.len() / classes * samples);
    for row in xs.chunks_exact(classes) {
        let weights: Vec<f64> = if p.is_logits {
            let scaled: Vec<f64> = row.iter().map(|v| v.to_f64() / temperature).collect();
            let m = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            scaled.iter().map(|v| (v - m).exp()).collect()
        } else {
            row.iter().map(|v| if v.to_f64() < eps { 0.0 } else { v.to_f64() }).collect()
        };
        let total: f64 = weights.iter().sum();
        if !(total.is_finite() && total > 0.0) {
            kbail!("a row has no positive probability to draw from");
        }
        for _ in 0..samples {
            let mut u = rng.uniform() * total;
            let mut k = classes - 1;
            for (i, w) in weights.iter().enumerate() {
                if u < *w {
                    k = i;
                    break;
                }
                u -= w;
            }
            out.push(T::from_usize(k));
        }
    }
    // The last axis (checked above to exist) becomes the samples.
    let mut shape = x.shape().to_vec();
    shape.pop();
    shape.push(samples);
    from_vec(shape, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Axis, IxDyn};

    #[test]
    fn samples_have_the_named_moments_and_repeat_with_the_seed() {
        let a: ArrayD<f64> = sample(Dist::Normal { mean: 2.0, std_dev: 3.0 }, 7, ShapeFrom::Static(&[20000]), &[]).unwrap();
        let m = a.mean().unwrap();
        let sd = a.std(0.0);
        assert!((m - 2.0).abs() < 0.1 && (sd - 3.0).abs() < 0.1, "mean {m} std {sd}");
        let b: ArrayD<f64> = sample(Dist::Normal { mean: 2.0, std_dev: 3.0 }, 7, ShapeFrom::Static(&[20000]), &[]).unwrap();
        assert_eq!(a, b);
        let u: ArrayD<f32> = sample(Dist::Uniform { min: -1.0, max: 3.0 }, 1, ShapeFrom::Static(&[5000]), &[]).unwrap();
        assert!(u.iter().all(|v| (-1.0..3.0).contains(v)));
        let shape = ArrayD::from_shape_vec(IxDyn(&[2]), vec![2.0f32, 3.0]).unwrap();
        assert_eq!(sample(Dist::Bernoulli { prob: 0.5 }, 0, ShapeFrom::Dynamic, &[&shape]).unwrap().shape(), &[2, 3]);
    }

    #[test]
    fn categorical_draws_only_possible_classes() {
        let x = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0.0f32, 1.0, 0.0, 0.5, 0.0, 0.5]).unwrap();
        let p = CategoricalDistributionLayerParams { num_samples: 100, ..Default::default() };
        let y = categorical(&p, &[&x]).unwrap();
        assert_eq!(y.shape(), &[2, 100]);
        assert!(y.index_axis(Axis(0), 0).iter().all(|v| *v == 1.0));
        assert!(y.index_axis(Axis(0), 1).iter().all(|v| *v == 0.0 || *v == 2.0));
    }
}
