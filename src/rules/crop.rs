//! TensorFlow's `CropAndResize` sampling arithmetic, for rules whose boxes are constants.
//!
//! TF computes each sample position in float32 (`crop_and_resize_op.cc`):
//! `in_y = y1 * (H - 1) + i * ((y2 - y1) * (H - 1) / (crop_h - 1))`, or the box centre
//! `0.5 * (y1 + y2) * (H - 1)` (in double, then float) when `crop_h == 1`, and writes
//! `extrapolation_value` wherever `in_y` or `in_x` falls outside `[0, H - 1]`. Core ML's
//! `cropResize` has no extrapolation value (it clamps), so a rule may use it only when every
//! sample TF takes is inside the image, decided here with TF's own float32 arithmetic: a box
//! edge at 1.0 can round a sample to just above `H - 1`, where TF extrapolates. `nearest`
//! sampling rounds half away from zero (`roundf`), which the gather indices reproduce.

use super::value::{DType, Tensor, TensorData};

/// The sample positions TF takes along one axis of a box `[lo, hi]` (normalized) of an image
/// axis of `size` pixels, for `n` output samples.
pub fn sample_positions(lo: f32, hi: f32, size: usize, n: usize) -> Vec<f32> {
    let extent = (size as i64 - 1) as f32;
    if n > 1 {
        let scale = (hi - lo) * extent / (n as i64 - 1) as f32;
        (0..n).map(|i| lo * extent + i as f32 * scale).collect()
    } else {
        vec![(0.5 * (lo + hi) as f64 * extent as f64) as f32]
    }
}

/// The boxes as `[N, 4]` float rows `[y1, x1, y2, x2]`.
fn box_rows(boxes: &Tensor) -> Result<Vec<[f32; 4]>, String> {
    let TensorData::Float(v) = &boxes.data else {
        return Err("CropAndResize boxes must be float32".into());
    };
    if boxes.shape.len() != 2 || boxes.shape[1] != 4 || v.len() != boxes.shape[0] * 4 {
        return Err(format!("CropAndResize boxes must have shape [N, 4], got {:?}", boxes.shape));
    }
    Ok(v.chunks_exact(4).map(|c| [c[0].0, c[1].0, c[2].0, c[3].0]).collect())
}

/// The box indices, checked against the batch (TF refuses an index outside `[0, batch)`).
fn box_images(box_ind: &Tensor, n: usize, batch: usize) -> Result<Vec<usize>, String> {
    let TensorData::Int(v) = &box_ind.data else {
        return Err("CropAndResize box_ind must be int32".into());
    };
    if v.len() != n {
        return Err(format!("{} box indices for {n} boxes", v.len()));
    }
    v.iter()
        .map(|&b| usize::try_from(b).ok().filter(|b| *b < batch).ok_or_else(|| format!("box index {b} is outside [0, {batch})")))
        .collect()
}

/// Is every sample TF takes for these boxes inside a `h x w` image (so no extrapolation)?
pub fn samples_inside(boxes: &Tensor, h: usize, w: usize, crop_h: usize, crop_w: usize) -> Result<bool, String> {
    if h == 0 || w == 0 || crop_h == 0 || crop_w == 0 {
        return Err(format!("CropAndResize: empty image {h}x{w} or crop {crop_h}x{crop_w}"));
    }
    let inside = |v: &[f32], size: usize| v.iter().all(|&p| p >= 0.0 && p <= (size as i64 - 1) as f32);
    Ok(box_rows(boxes)?.iter().all(|[y1, x1, y2, x2]| {
        inside(&sample_positions(*y1, *y2, h, crop_h), h) && inside(&sample_positions(*x1, *x2, w, crop_w), w)
    }))
}

/// `cropResize`'s second input: `[N, 1, 5, 1, 1]` float32 rows `[image, y1, x1, y2, x2]`
/// (normalized corners, height first, as TF writes them).
pub fn rois(boxes: &Tensor, box_ind: &Tensor, batch: usize) -> Result<Tensor, String> {
    let rows = box_rows(boxes)?;
    let images = box_images(box_ind, rows.len(), batch)?;
    let data = rows.iter().zip(&images).flat_map(|(r, &b)| [b as f32, r[0], r[1], r[2], r[3]]).collect();
    Ok(Tensor::from_f32(vec![rows.len(), 1, 5, 1, 1], data))
}

/// `gatherND` indices `[N, crop_h, crop_w, 3]` (int32 `(image, row, column)`) of TF's
/// `nearest` sampling of an NHWC `[batch, h, w, C]` image; fails if a sample is outside.
pub fn nearest_indices(boxes: &Tensor, box_ind: &Tensor, batch: usize, h: usize, w: usize, crop_h: usize, crop_w: usize) -> Result<Tensor, String> {
    if !samples_inside(boxes, h, w, crop_h, crop_w)? {
        return Err("a CropAndResize sample lies outside the image (TF writes extrapolation_value there)".into());
    }
    let rows = box_rows(boxes)?;
    let images = box_images(box_ind, rows.len(), batch)?;
    let n = rows.len() * crop_h * crop_w * 3;
    if n > 1 << 24 {
        return Err(format!("CropAndResize: {n} gather indices is too many for a constant"));
    }
    let mut data = Vec::with_capacity(n);
    for ([y1, x1, y2, x2], b) in rows.iter().zip(&images) {
        let ys = sample_positions(*y1, *y2, h, crop_h);
        let xs = sample_positions(*x1, *x2, w, crop_w);
        for y in &ys {
            for x in &xs {
                data.extend([*b as i64, y.round() as i64, x.round() as i64]);
            }
        }
    }
    Ok(Tensor::from_i64(DType::Int32, vec![rows.len(), crop_h, crop_w, 3], data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes(v: &[f32]) -> Tensor {
        Tensor::from_f32(vec![v.len() / 4, 4], v.to_vec())
    }

    #[test]
    fn one_sample_is_the_box_centre() {
        assert_eq!(sample_positions(0.25, 0.75, 5, 1), vec![2.0]);
        assert_eq!(sample_positions(0.0, 1.0, 5, 3), vec![0.0, 2.0, 4.0]);
    }

    #[test]
    fn a_box_outside_the_image_needs_extrapolation() {
        assert!(samples_inside(&boxes(&[0.0, 0.0, 1.0, 1.0]), 4, 4, 3, 3).unwrap());
        assert!(!samples_inside(&boxes(&[-0.1, 0.0, 1.0, 1.0]), 4, 4, 3, 3).unwrap());
        assert!(!samples_inside(&boxes(&[0.0, 0.0, 1.0, 1.2]), 4, 4, 3, 3).unwrap());
    }

    #[test]
    fn nearest_rounds_half_away_from_zero() {
        // Height 4: box [0, 0.5] at 2 samples -> rows 0 and 1.5 -> 0 and 2.
        let b = boxes(&[0.0, 0.0, 0.5, 0.0]);
        let ind = Tensor::from_i64(DType::Int32, vec![1], vec![0]);
        let t = nearest_indices(&b, &ind, 1, 4, 4, 2, 1).unwrap();
        assert_eq!(t.data, TensorData::Int(vec![0, 0, 0, 0, 2, 0]));
        let bad = Tensor::from_i64(DType::Int32, vec![1], vec![1]);
        assert!(nearest_indices(&b, &bad, 1, 4, 4, 2, 1).is_err());
    }
}
