//! Constants that reproduce the sampling arithmetic of TensorFlow kernels exactly, so that a
//! rule built from them agrees with TF position by position rather than approximately:
//! - [`bicubic_matrix`]: the `[out, in]` weights of `ResizeBicubic` along one axis (a resize
//!   is linear in its input, so two matmuls by these matrices are the whole op);
//! - [`histogram_edges`]: the float32 bin edges at which `HistogramFixedWidth`'s double
//!   precision bin arithmetic changes bin.
//!
//! Both follow the kernels' own float32 / float64 steps (`resize_bicubic_op.cc`,
//! `histogram_op.cc` in TF 2.12), including the quantisation of the cubic kernel to a
//! 1024-entry table, because a re-derivation in exact arithmetic differs in the last bits.

use super::value::Tensor;

/// Entries of TF's cubic coefficient table per unit interval.
const TABLE_SIZE: i64 = 1 << 10;

/// TF's `InitCoeffsTable(a)`: for `i` in `0..=1024`, entry `2i` is the weight of a tap at
/// distance `x = i / 1024` and `2i + 1` at distance `x + 1`, computed in double, stored float.
fn coeffs_table(a: f64) -> Vec<f32> {
    let mut t = vec![0f32; (TABLE_SIZE as usize + 1) * 2];
    for i in 0..=TABLE_SIZE as usize {
        let x = (i as f64 / TABLE_SIZE as f64) as f32;
        t[i * 2] = (((a + 2.0) * x as f64 - (a + 3.0)) * x as f64 * x as f64 + 1.0) as f32;
        let x = (x + 1.0) as f64;
        t[i * 2 + 1] = (((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a) as f32;
    }
    t
}

/// `[out, in]` float32 weights of TF's `ResizeBicubic` along one axis of length `input`
/// resized to `output`: row `o` holds the four tap weights of output position `o` on the
/// input positions they read (clamped taps add up on the edge pixel).
///
/// `half_pixel_centers` selects TF's newer kernel: Keys' cubic with `a = -0.5`, samples at
/// `(o + 0.5) * scale - 0.5`, taps outside the image dropped and the rest renormalised.
/// Otherwise the legacy kernel: `a = -0.75`, samples at `o * scale`, taps clamped to the
/// edge. `scale` is `(in - 1) / (out - 1)` with `align_corners` (and `out > 1`), else
/// `in / out`, in float32 as TF computes it. TF refuses `align_corners` with
/// `half_pixel_centers`, and so does this.
pub fn bicubic_matrix(input: i64, output: i64, align_corners: bool, half_pixel_centers: bool) -> Result<Tensor, String> {
    if input < 1 || output < 1 {
        return Err(format!("bicubic_matrix: sizes must be positive, got {input} -> {output}"));
    }
    if input > 1 << 12 || output > 1 << 12 {
        return Err(format!("bicubic_matrix: {input} -> {output} is too large for a constant matrix"));
    }
    if align_corners && half_pixel_centers {
        return Err("bicubic_matrix: align_corners and half_pixel_centers cannot both be set (TF refuses it)".into());
    }
    let scale = if align_corners && output > 1 { (input - 1) as f32 / (output - 1) as f32 } else { input as f32 / output as f32 };
    let table = coeffs_table(if half_pixel_centers { -0.5 } else { -0.75 });
    let bound = |v: i64| v.clamp(0, input - 1);
    let (rows, cols) = (output as usize, input as usize);
    let mut w = vec![0f32; rows * cols];
    for o in 0..output {
        let loc = if half_pixel_centers { (o as f32 + 0.5) * scale - 0.5 } else { o as f32 * scale };
        let base = loc.floor() as i64;
        let delta = loc - base as f32;
        let off = (delta * TABLE_SIZE as f32).round_ties_even() as usize;
        let size = TABLE_SIZE as usize;
        let taps = [
            (base - 1, table[off * 2 + 1]),
            (base, table[off * 2]),
            (base + 1, table[(size - off) * 2]),
            (base + 2, table[(size - off) * 2 + 1]),
        ];
        let mut weights = taps.map(|(i, wt)| (bound(i), if !half_pixel_centers || bound(i) == i { wt } else { 0.0 }));
        if half_pixel_centers {
            let sum: f32 = weights.iter().map(|(_, wt)| wt).sum();
            if sum.abs() >= 1000.0 * f32::MIN_POSITIVE {
                let inv = 1.0 / sum;
                for (_, wt) in &mut weights {
                    *wt *= inv;
                }
            }
        }
        for (i, wt) in weights {
            w[o as usize * cols + i as usize] += wt;
        }
    }
    Ok(Tensor::from_f32(vec![rows, cols], w))
}

/// The `nbins` float32 edges of `HistogramFixedWidth` over `[lo, hi]`: edge `k` is the
/// smallest float32 `d` with `d / step >= k` in double, `step = (hi - lo) / nbins` (the range
/// subtracted in float32, divided in double). TF puts a value `v` in bin
/// `min(floor((max(v, lo) - lo) / step), nbins - 1)`, which is the number of edges `1..nbins`
/// that `max(v, lo) - lo` reaches: float32 comparisons against these edges give TF's bins
/// exactly, where a float32 division could round across a boundary. Edge 0 is 0.
pub fn histogram_edges(lo: f64, hi: f64, nbins: i64) -> Result<Vec<f64>, String> {
    let (lo, hi) = (lo as f32, hi as f32);
    if !(lo < hi) {
        return Err(format!("histogram_edges: the range [{lo}, {hi}] is empty (TF requires lo < hi)"));
    }
    if !(1..=1 << 16).contains(&nbins) {
        return Err(format!("histogram_edges: nbins = {nbins} is out of range 1..=65536"));
    }
    let step = (hi - lo) as f64 / nbins as f64;
    if !(step.is_finite() && step > 0.0) {
        return Err(format!("histogram_edges: the bin width of [{lo}, {hi}] / {nbins} is not a positive number"));
    }
    let reaches = |d: f32, k: i64| d as f64 / step >= k as f64;
    let mut edges = Vec::with_capacity(nbins as usize);
    for k in 0..nbins {
        let mut d = (k as f64 * step) as f32;
        while d > 0.0 && reaches(d.next_down(), k) {
            d = d.next_down();
        }
        while !reaches(d, k) {
            d = d.next_up();
        }
        edges.push(if k == 0 { 0.0 } else { d as f64 });
    }
    Ok(edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(t: &Tensor) -> Vec<Vec<f32>> {
        let v: Vec<f32> = (0..t.num_elements()).map(|i| t.get_f64(i).unwrap() as f32).collect();
        v.chunks(t.shape[1]).map(<[f32]>::to_vec).collect()
    }

    #[test]
    fn bicubic_rows_sum_to_one_and_identity_at_equal_sizes() {
        for (hp, ac) in [(true, false), (false, false), (false, true)] {
            let m = bicubic_matrix(5, 9, ac, hp).unwrap();
            for r in rows(&m) {
                assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{hp} {ac}: {r:?}");
            }
            // Same size: every sample falls on a pixel, where the cubic is 1 there and 0 at the others.
            let id = rows(&bicubic_matrix(4, 4, ac, hp).unwrap());
            for (i, r) in id.iter().enumerate() {
                for (j, w) in r.iter().enumerate() {
                    assert!((w - if i == j { 1.0 } else { 0.0 }).abs() < 1e-6, "{hp} {ac}: {id:?}");
                }
            }
        }
    }

    #[test]
    fn bicubic_legacy_taps_at_a_half() {
        // 2 -> 4, legacy: output 1 samples input 0.5 with a = -0.75: weights
        // -0.09375, 0.59375, 0.59375, -0.09375 on taps -1, 0, 1, 2, clamped onto 0 and 1.
        let m = rows(&bicubic_matrix(2, 4, false, false).unwrap());
        assert!((m[1][0] - 0.5).abs() < 1e-6 && (m[1][1] - 0.5).abs() < 1e-6, "{m:?}");
        let m = rows(&bicubic_matrix(4, 8, false, false).unwrap());
        let want = [-0.09375f32, 0.59375, 0.59375, -0.09375];
        for (j, w) in want.iter().enumerate() {
            assert!((m[3][j] - w).abs() < 1e-6, "{m:?}");
        }
    }

    #[test]
    fn bicubic_refuses_what_tf_refuses() {
        assert!(bicubic_matrix(4, 8, true, true).is_err());
        assert!(bicubic_matrix(0, 8, false, false).is_err());
    }

    #[test]
    fn histogram_edges_are_the_first_floats_of_each_bin() {
        let e = histogram_edges(0.0, 1.0, 10).unwrap();
        assert_eq!(e.len(), 10);
        assert_eq!(e[0], 0.0);
        let step = 0.1f64;
        for (k, &d) in e.iter().enumerate().skip(1) {
            let d = d as f32;
            assert!(d as f64 / step >= k as f64, "edge {k} = {d} is below the bin");
            assert!((d.next_down() as f64 / step) < k as f64, "edge {k} = {d} is not the first float");
        }
    }

    #[test]
    fn histogram_edges_refuse_empty_ranges() {
        assert!(histogram_edges(1.0, 1.0, 4).is_err());
        assert!(histogram_edges(0.0, 1.0, 0).is_err());
    }
}
