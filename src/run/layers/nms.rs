//! `NonMaximumSuppression`, per the comment of `NonMaximumSuppressionLayerParams`:
//! boxes `[B, N, 4]` as (x centre, y centre, width, height), scores `[B, N, C]`; a box's score
//! is the max over its C class scores. Boxes scoring below `scoreThreshold` are rejected;
//! the rest are taken greedily by decreasing score, a box being suppressed when its IoU with
//! an already selected box exceeds `iouThreshold` (with `perClassSuppression`, only boxes
//! whose best class is the same suppress each other), up to `maxBoxes`. Outputs: boxes
//! `[B, maxBoxes, 4]`, scores `[B, maxBoxes, C]` (both padded with 0), indices
//! `[B, maxBoxes]` (padded with -1) and the count `[B]`. When no box survives, the count is 1
//! and the first row holds the best-scoring box (the proto's "no empty output" rule).
//! Optional inputs 3-5 override the IoU threshold, score threshold and maxBoxes.
//!
//! Choices the proto leaves open: equal scores are taken in index order (as TensorFlow's
//! kernel does), and a box of zero area has IoU 0 with everything (as TensorFlow's).

use super::super::float::Float;
use super::super::util::{from_vec, values};
use super::super::KernelError;
use super::arity;
use crate::kbail;
use crate::proto::coreml::NonMaximumSuppressionLayerParams;
use ndarray::ArrayD;

/// Intersection over union of two (centre x, centre y, width, height) boxes.
fn iou(a: &[f64], b: &[f64]) -> f64 {
    let corners = |v: &[f64]| {
        let (w, h) = (v[2].abs(), v[3].abs());
        (v[0] - w / 2.0, v[1] - h / 2.0, v[0] + w / 2.0, v[1] + h / 2.0, w * h)
    };
    let (ax0, ay0, ax1, ay1, aa) = corners(a);
    let (bx0, by0, bx1, by1, ba) = corners(b);
    if aa <= 0.0 || ba <= 0.0 {
        return 0.0;
    }
    let iw = (ax1.min(bx1) - ax0.max(bx0)).max(0.0);
    let ih = (ay1.min(by1) - ay0.max(by0)).max(0.0);
    let inter = iw * ih;
    inter / (aa + ba - inter)
}

/// The scalar of an optional override input.
fn scalar<T: Float>(a: &ArrayD<T>, what: &str) -> Result<f64, KernelError> {
    match a.iter().next() {
        Some(v) if a.len() == 1 => Ok(v.to_f64()),
        _ => kbail!("the {what} input must hold one value, got shape {:?}", a.shape()),
    }
}

pub fn nms<T: Float>(p: &NonMaximumSuppressionLayerParams, ins: &[&ArrayD<T>]) -> Result<Vec<ArrayD<T>>, KernelError> {
    arity(ins, 2, 5)?;
    let (boxes, scores) = (ins[0], ins[1]);
    let (bs, ss) = (boxes.shape(), scores.shape());
    if bs.len() != 3 || bs[2] != 4 || ss.len() != 3 || ss[0] != bs[0] || ss[1] != bs[1] || ss[2] == 0 {
        kbail!("expects boxes [B, N, 4] and scores [B, N, C >= 1], got {bs:?} and {ss:?}");
    }
    let (batch, n, classes) = (bs[0], bs[1], ss[2]);
    let iou_t = if ins.len() > 2 { scalar(ins[2], "IoU threshold")? } else { p.iou_threshold as f64 };
    let score_t = if ins.len() > 3 { scalar(ins[3], "score threshold")? } else { p.score_threshold as f64 };
    let max_boxes = if ins.len() > 4 {
        let m = scalar(ins[4], "maximum number of boxes")?;
        if m < 0.0 || m.fract() != 0.0 {
            kbail!("the maximum number of boxes is {m}, not a count");
        }
        m as usize
    } else {
        p.max_boxes as usize
    };
    if max_boxes == 0 {
        kbail!("maxBoxes is 0: the layer has no output rows");
    }
    let bv: Vec<f64> = values(boxes).iter().map(|v| v.to_f64()).collect();
    let sv: Vec<f64> = values(scores).iter().map(|v| v.to_f64()).collect();
    let (mut out_boxes, mut out_scores) = (vec![T::zero(); batch * max_boxes * 4], vec![T::zero(); batch * max_boxes * classes]);
    let (mut out_idx, mut out_count) = (vec![T::from_f64(-1.0); batch * max_boxes], Vec::with_capacity(batch));
    for b in 0..batch {
        let bx = |i: usize| &bv[(b * n + i) * 4..(b * n + i + 1) * 4];
        let cs = |i: usize| &sv[(b * n + i) * classes..(b * n + i + 1) * classes];
        // Score and best class of each box.
        let best: Vec<(f64, usize)> = (0..n)
            .map(|i| cs(i).iter().enumerate().fold((f64::NEG_INFINITY, 0), |m, (c, &s)| if s > m.0 { (s, c) } else { m }))
            .collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| best[j].0.total_cmp(&best[i].0).then(i.cmp(&j)));
        let mut selected: Vec<usize> = vec![];
        for &i in &order {
            if selected.len() == max_boxes {
                break;
            }
            if best[i].0 < score_t || best[i].0.is_nan() {
                continue;
            }
            let suppressed = selected
                .iter()
                .any(|&j| (!p.per_class_suppression || best[j].1 == best[i].1) && iou(bx(i), bx(j)) > iou_t);
            if !suppressed {
                selected.push(i);
            }
        }
        if selected.is_empty() && n > 0 {
            selected.push(order[0]);
        }
        for (r, &i) in selected.iter().enumerate() {
            let row = b * max_boxes + r;
            for (k, v) in bx(i).iter().enumerate() {
                out_boxes[row * 4 + k] = T::from_f64(*v);
            }
            for (k, v) in cs(i).iter().enumerate() {
                out_scores[row * classes + k] = T::from_f64(*v);
            }
            out_idx[row] = T::from_usize(i);
        }
        out_count.push(T::from_usize(selected.len()));
    }
    Ok(vec![
        from_vec(vec![batch, max_boxes, 4], out_boxes)?,
        from_vec(vec![batch, max_boxes, classes], out_scores)?,
        from_vec(vec![batch, max_boxes], out_idx)?,
        from_vec(vec![batch], out_count)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    fn arr(shape: &[usize], v: Vec<f32>) -> ArrayD<f32> {
        ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
    }

    #[test]
    fn overlapping_boxes_are_suppressed_and_outputs_padded() {
        // Box 0 and 1 overlap with IoU 0.6 (unit squares shifted by 0.25); box 2 is apart.
        let boxes = arr(&[1, 3, 4], vec![0.0, 0.0, 1.0, 1.0, 0.25, 0.0, 1.0, 1.0, 5.0, 5.0, 1.0, 1.0]);
        let scores = arr(&[1, 3, 1], vec![0.5, 0.9, 0.7]);
        let p = NonMaximumSuppressionLayerParams { iou_threshold: 0.5, score_threshold: 0.0, max_boxes: 4, per_class_suppression: false };
        let out = nms(&p, &[&boxes, &scores]).unwrap();
        assert_eq!(out[2].iter().copied().collect::<Vec<_>>(), vec![1.0, 2.0, -1.0, -1.0]);
        assert_eq!(out[3].iter().copied().collect::<Vec<_>>(), vec![2.0]);
        assert_eq!(out[1].iter().copied().collect::<Vec<_>>(), vec![0.9, 0.7, 0.0, 0.0]);
        // IoU threshold 0.7 keeps all three; a score threshold above every score keeps the best.
        let p7 = NonMaximumSuppressionLayerParams { iou_threshold: 0.7, ..p.clone() };
        assert_eq!(nms(&p7, &[&boxes, &scores]).unwrap()[3].iter().copied().collect::<Vec<_>>(), vec![3.0]);
        let high = NonMaximumSuppressionLayerParams { score_threshold: 2.0, ..p };
        let out = nms(&high, &[&boxes, &scores]).unwrap();
        assert_eq!((out[2][[0, 0]], out[3][[0]]), (1.0, 1.0));
    }
}
