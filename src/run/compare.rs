//! Comparing a model's outputs with TensorFlow's goldens: the verdict every conversion is
//! judged by, shared by `mlrewrite run --compare` and the test suites so the rule cannot drift.
//!
//! The rule is numpy.allclose: `|got - want| <= atol + rtol * |want|` elementwise, two NaNs
//! equal, one NaN a failure. Shapes must be equal exactly, except that a rank-0 golden
//! matches a `[1]` output (Core ML has no rank-0 tensors).
//!
//! Inner tensors (probes, and outputs that `convert --outputs` exposed) are compared with
//! `atol` scaled by the golden's RMS when that exceeds 1 ([`Tolerance::rms_scaled`]): float32
//! round-off grows with depth and with the magnitude of a tensor, so a logit of RMS 2 deep in a
//! ResNet50 differs from TensorFlow by ~3e-4 in both coremltools' model and ours, while the
//! softmax under it agrees to 1e-6. Final outputs keep the plain `atol`. Scaling never makes a
//! comparison stricter than plain `atol`.

use ndarray::ArrayD;

/// Tolerances of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
    /// Scale `atol` by `max(1, rms(golden))` (inner tensors).
    pub rms_scaled: bool,
}

impl Tolerance {
    /// The project's acceptance tolerance: rtol 1e-3, atol 1e-4.
    pub const DEFAULT: Tolerance = Tolerance { rtol: 1e-3, atol: 1e-4, rms_scaled: false };

    pub fn inner(self) -> Tolerance {
        Tolerance { rms_scaled: true, ..self }
    }
}

/// Figures of a comparison of two arrays of the same shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub max_abs: f64,
    pub max_rel: f64,
    /// Values beyond tolerance.
    pub bad: usize,
    pub total: usize,
    /// The absolute tolerance applied (scaled for inner tensors).
    pub atol: f64,
    /// Root mean square of the golden's finite values.
    pub rms: f64,
    /// The worst value beyond tolerance: (flat index, got, want).
    pub worst: Option<(usize, f64, f64)>,
}

impl Comparison {
    pub fn passed(&self) -> bool {
        self.bad == 0
    }
}

/// The shapes differ (beyond the rank-0 / `[1]` allowance).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("shape {got:?} != golden {want:?}")]
pub struct ShapeMismatch {
    pub got: Vec<usize>,
    pub want: Vec<usize>,
}

/// Root mean square of the finite values (0 for none).
pub fn rms(a: &ArrayD<f32>) -> f64 {
    let (sum, n) = a.iter().map(|&v| v as f64).filter(|v| v.is_finite()).fold((0.0, 0usize), |(s, n), v| (s + v * v, n + 1));
    if n == 0 {
        0.0
    } else {
        (sum / n as f64).sqrt()
    }
}

/// Compares `got` with the golden `want`.
pub fn compare(got: &ArrayD<f32>, want: &ArrayD<f32>, tol: Tolerance) -> Result<Comparison, ShapeMismatch> {
    let scalar_as_one = want.ndim() == 0 && got.shape() == [1];
    if got.shape() != want.shape() && !scalar_as_one {
        return Err(ShapeMismatch { got: got.shape().to_vec(), want: want.shape().to_vec() });
    }
    let rms = rms(want);
    let atol = if tol.rms_scaled { tol.atol * rms.max(1.0) } else { tol.atol };
    let mut c = Comparison { max_abs: 0.0, max_rel: 0.0, bad: 0, total: got.len(), atol, rms, worst: None };
    let mut worst_err = -1.0;
    for (i, (&a, &b)) in got.iter().zip(want.iter()).enumerate() {
        let (a, b) = (a as f64, b as f64);
        if a.is_nan() && b.is_nan() {
            continue;
        }
        let e = (a - b).abs();
        // Infinities of the same sign are equal; a NaN error is a failure.
        let e = if a == b { 0.0 } else if e.is_nan() { f64::INFINITY } else { e };
        // An infinite golden would make `rtol * |b|` infinite and accept anything.
        let beyond = if b.is_infinite() { e > 0.0 } else { !(e <= atol + tol.rtol * b.abs()) };
        c.max_abs = c.max_abs.max(e);
        if b != 0.0 {
            c.max_rel = c.max_rel.max(e / b.abs());
        } else if e > 0.0 {
            c.max_rel = f64::INFINITY;
        }
        if beyond {
            c.bad += 1;
            if e > worst_err {
                worst_err = e;
                c.worst = Some((i, a, b));
            }
        }
    }
    Ok(c)
}

/// numpy.allclose as a `Result`: `Err` describes the shape mismatch or the worst value.
pub fn allclose(got: &ArrayD<f32>, want: &ArrayD<f32>, tol: Tolerance) -> Result<Comparison, String> {
    let c = compare(got, want, tol).map_err(|e| e.to_string())?;
    match c.worst {
        None => Ok(c),
        Some((i, a, b)) => Err(format!(
            "{} of {} values differ beyond atol {:.3e} + rtol {:.0e}; worst at flat index {i}: got {a}, want {b}",
            c.bad, c.total, c.atol, tol.rtol
        )),
    }
}

/// Two samples compared as draws of one distribution (random ops: no converter can reproduce
/// TensorFlow's generator, so values cannot match). Shapes must be equal exactly; then, with
/// `n` and `m` finite values:
/// - means: `|mean_a - mean_b| <= Z * sqrt(var_a / n + var_b / m)`;
/// - variances: `|var_a - var_b| <= Z * sqrt((m4_a - var_a²) / n + (m4_b - var_b²) / m)`
///   (the standard error of a sample variance from the fourth central moment, so it holds for
///   uniform, normal and discrete samples alike);
/// - Kolmogorov–Smirnov: the largest gap between the two empirical CDFs
///   `D <= C * sqrt((n + m) / (n m))`, which catches a wrong shape (bounds, skew) that
///   moments miss; ties (discrete samples) are handled by stepping over equal values together.
///
/// `Z = 6` and `C = 2.23` (significance 1e-4) make a false failure vanishingly rare for a
/// correct kernel, while a wrong range, location or scale is far outside them from a
/// thousand samples on. Every value must be finite.
pub fn same_distribution(got: &ArrayD<f32>, want: &ArrayD<f32>) -> Result<DistributionComparison, String> {
    const Z: f64 = 6.0;
    const C: f64 = 2.23;
    if got.shape() != want.shape() {
        return Err(ShapeMismatch { got: got.shape().to_vec(), want: want.shape().to_vec() }.to_string());
    }
    let sample = |a: &ArrayD<f32>, what: &str| -> Result<Vec<f64>, String> {
        let v: Vec<f64> = a.iter().map(|&x| x as f64).collect();
        if v.iter().any(|x| !x.is_finite()) {
            return Err(format!("{what} holds a non-finite value"));
        }
        if v.len() < 100 {
            return Err(format!("{what} has {} values, too few to compare distributions (at least 100)", v.len()));
        }
        Ok(v)
    };
    let (mut a, mut b) = (sample(got, "the output")?, sample(want, "the golden")?);
    let moments = |v: &[f64]| {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let m4 = v.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
        (n, mean, var, m4)
    };
    let (n, mean_a, var_a, m4_a) = moments(&a);
    let (m, mean_b, var_b, m4_b) = moments(&b);
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut ks) = (0usize, 0usize, 0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] == x {
            i += 1;
        }
        while j < b.len() && b[j] == x {
            j += 1;
        }
        ks = ks.max((i as f64 / n - j as f64 / m).abs());
    }
    let c = DistributionComparison {
        mean: (mean_a, mean_b),
        mean_tol: Z * (var_a / n + var_b / m).sqrt(),
        var: (var_a, var_b),
        var_tol: Z * (((m4_a - var_a * var_a) / n).max(0.0) + ((m4_b - var_b * var_b) / m).max(0.0)).sqrt(),
        ks,
        ks_tol: C * ((n + m) / (n * m)).sqrt(),
    };
    let mut bad = vec![];
    if !((mean_a - mean_b).abs() <= c.mean_tol) {
        bad.push(format!("mean {mean_a:.5} vs golden {mean_b:.5} (tolerance {:.2e})", c.mean_tol));
    }
    if !((var_a - var_b).abs() <= c.var_tol) {
        bad.push(format!("variance {var_a:.5} vs golden {var_b:.5} (tolerance {:.2e})", c.var_tol));
    }
    if !(ks <= c.ks_tol) {
        bad.push(format!("Kolmogorov-Smirnov distance {ks:.4} above {:.4}", c.ks_tol));
    }
    if bad.is_empty() {
        Ok(c)
    } else {
        Err(format!("not the golden's distribution: {}", bad.join("; ")))
    }
}

/// The figures of [`same_distribution`]: (output, golden) pairs and the tolerances applied.
#[derive(Debug, Clone, PartialEq)]
pub struct DistributionComparison {
    pub mean: (f64, f64),
    pub mean_tol: f64,
    pub var: (f64, f64),
    pub var_tol: f64,
    pub ks: f64,
    pub ks_tol: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, arr0};

    /// A deterministic stand-in for a uniform sample: the van der Corput sequence.
    fn spread(n: usize, lo: f32, hi: f32) -> ArrayD<f32> {
        let v = (1..=n).map(|i| {
            let (mut x, mut f, mut k) = (0.0f64, 0.5f64, i);
            while k > 0 {
                x += f * (k & 1) as f64;
                k >>= 1;
                f /= 2.0;
            }
            lo + (hi - lo) * x as f32
        });
        arr1(&v.collect::<Vec<_>>()).into_dyn()
    }

    #[test]
    fn distributions_compare_by_moments_and_ks() {
        let want = spread(2000, 0.0, 1.0);
        let same = spread(2000, 0.0, 1.0).mapv(|x| (x + 0.37) % 1.0);
        assert!(same_distribution(&same, &want).is_ok());
        // Shifted by a tenth or spread 1.2 times wider: refused; a constant fails on its variance.
        assert!(same_distribution(&want.mapv(|x| x + 0.1), &want).is_err());
        assert!(same_distribution(&want.mapv(|x| 0.5 + (x - 0.5) * 1.2), &want).is_err());
        let err = same_distribution(&arr1(&[1.0f32; 2000]).into_dyn(), &want).unwrap_err();
        assert!(err.contains("variance"), "{err}");
        assert!(same_distribution(&spread(10, 0.0, 1.0), &spread(10, 0.0, 1.0)).is_err());
        assert!(same_distribution(&spread(200, 0.0, 1.0), &spread(100, 0.0, 1.0)).is_err());
    }

    #[test]
    fn allclose_rule() {
        let want = arr1(&[1.0f32, -2.0, 0.0]).into_dyn();
        let got = arr1(&[1.0005f32, -2.0, 0.00009]).into_dyn();
        assert!(compare(&got, &want, Tolerance::DEFAULT).unwrap().passed());
        let got = arr1(&[1.0f32, -2.0, 0.0002]).into_dyn();
        let c = compare(&got, &want, Tolerance::DEFAULT).unwrap();
        assert_eq!((c.bad, c.worst.map(|w| w.0)), (1, Some(2)));
    }

    #[test]
    fn nan_and_infinity() {
        let want = arr1(&[f32::NAN, f32::INFINITY, 1.0]).into_dyn();
        assert!(compare(&want.clone(), &want, Tolerance::DEFAULT).unwrap().passed());
        let got = arr1(&[f32::NAN, f32::INFINITY, f32::NAN]).into_dyn();
        assert_eq!(compare(&got, &want, Tolerance::DEFAULT).unwrap().bad, 1);
        let got = arr1(&[f32::NAN, f32::NEG_INFINITY, 1.0]).into_dyn();
        assert_eq!(compare(&got, &want, Tolerance::DEFAULT).unwrap().bad, 1);
    }

    #[test]
    fn scalar_golden_matches_one_element() {
        let want = arr0(3.0f32).into_dyn();
        assert!(compare(&arr1(&[3.0f32]).into_dyn(), &want, Tolerance::DEFAULT).unwrap().passed());
        assert!(compare(&arr1(&[3.0f32, 3.0]).into_dyn(), &want, Tolerance::DEFAULT).is_err());
    }

    #[test]
    fn rms_scaling_only_loosens_inner_tensors() {
        // RMS of the golden is 200: an error of 0.01 fails plainly (atol 1e-4 + rtol 1e-3 * 1e-3)
        // and passes with atol scaled to 0.02.
        let want = arr1(&[200.0f32, -200.0, 0.001]).into_dyn();
        let rms_want = ((200.0f64 * 200.0 * 2.0 + 1e-6) / 3.0).sqrt();
        let got = arr1(&[200.0f32, -200.0, 0.011]).into_dyn();
        assert_eq!(compare(&got, &want, Tolerance::DEFAULT).unwrap().bad, 1);
        let c = compare(&got, &want, Tolerance::DEFAULT.inner()).unwrap();
        assert!(c.passed());
        assert!((c.atol - 1e-4 * rms_want).abs() < 1e-9);
        // A small tensor is never compared more strictly than with plain atol.
        let small = arr1(&[0.1f32]).into_dyn();
        assert_eq!(compare(&small, &small, Tolerance::DEFAULT.inner()).unwrap().atol, 1e-4);
    }
}
