//! TensorFlow's `ImageProjectiveTransformV2/V3` with constant transforms, as a constant gather:
//! every output pixel reads fixed input pixels with fixed weights, so the op is one `gatherND`
//! of `K` corners per pixel (1 for NEAREST, 4 for BILINEAR), a multiply by constant weights, a
//! sum over the corners, plus `fill_value` times the weight TF gives to reads outside the image.
//!
//! The coordinates follow TF's kernel (`image_ops.h`) in float32: for output pixel `(y, x)`,
//! `p = t6 x + t7 y + 1` (fill when 0), input `x' = (t0 x + t1 y + t2) / p`,
//! `y' = (t3 x + t4 y + t5) / p`; only `fill_mode = CONSTANT` (coordinates used as they are;
//! other modes remap them and are not converted). NEAREST reads `(round(y'), round(x'))`
//! (half away from zero); BILINEAR the four neighbours `floor` and `floor + 1` with weights
//! `(ceil - c)` and `(c - floor)` per axis; a read outside the image yields `fill_value`.

use super::value::{DType, Tensor, TensorData};

/// The constant parts of one transform: `[B, OH, OW, K, 3]` gather indices (clamped into the
/// image where the weight is zero), `[B, OH, OW, K, 1]` weights and `[B, OH, OW, 1]` fill weights.
pub struct Plan {
    pub indices: Tensor,
    pub weights: Tensor,
    pub fill: Tensor,
}

fn floats(t: &Tensor, what: &str) -> Result<Vec<f32>, String> {
    match &t.data {
        TensorData::Float(v) => Ok(v.iter().map(|x| x.0).collect()),
        _ => Err(format!("{what} must be float32")),
    }
}

/// Plans the transform of a `[batch, h, w, C]` image to `[oh, ow]`; `transforms` is `[1 or
/// batch, 8]`; `interpolation` is TF's attribute (`NEAREST` or `BILINEAR`).
pub fn plan(transforms: &Tensor, batch: usize, h: usize, w: usize, oh: usize, ow: usize, interpolation: &str) -> Result<Plan, String> {
    let t = floats(transforms, "transforms")?;
    let rows = match transforms.shape[..] {
        [r, 8] if r == 1 || r == batch => r,
        _ => return Err(format!("transforms must be [1 or {batch}, 8], got {:?}", transforms.shape)),
    };
    let k = match interpolation {
        "NEAREST" => 1,
        "BILINEAR" => 4,
        i => return Err(format!("interpolation {i:?} is not NEAREST or BILINEAR")),
    };
    if batch == 0 || h == 0 || w == 0 || oh == 0 || ow == 0 {
        return Err("empty image or output".into());
    }
    let n = batch.checked_mul(oh * ow * k).filter(|n| *n <= 1 << 22).ok_or("the gather is too large for constants")?;
    let (mut idx, mut wts, mut fill) = (Vec::with_capacity(n * 3), Vec::with_capacity(n), Vec::with_capacity(n / k));
    let inside = |yy: f32, xx: f32| yy >= 0.0 && (yy as i64) < h as i64 && xx >= 0.0 && (xx as i64) < w as i64;
    for b in 0..batch {
        let tr = &t[if rows == 1 { 0 } else { b * 8 }..][..8];
        for y in 0..oh {
            for x in 0..ow {
                let (xf, yf) = (x as f32, y as f32);
                let projection = tr[6] * xf + tr[7] * yf + 1.0;
                // (row, column, weight) of each corner; a zero projection reads nothing.
                let corners: Vec<(f32, f32, f32)> = if projection == 0.0 {
                    vec![(-1.0, -1.0, 0.0); k]
                } else {
                    let ix = (tr[0] * xf + tr[1] * yf + tr[2]) / projection;
                    let iy = (tr[3] * xf + tr[4] * yf + tr[5]) / projection;
                    if k == 1 {
                        vec![(iy.round(), ix.round(), 1.0)]
                    } else {
                        let (y0, x0) = (iy.floor(), ix.floor());
                        let (y1, x1) = (y0 + 1.0, x0 + 1.0);
                        vec![
                            (y0, x0, (y1 - iy) * (x1 - ix)),
                            (y0, x1, (y1 - iy) * (ix - x0)),
                            (y1, x0, (iy - y0) * (x1 - ix)),
                            (y1, x1, (iy - y0) * (ix - x0)),
                        ]
                    }
                };
                let mut outside = if projection == 0.0 { 1.0 } else { 0.0 };
                for (cy, cx, cw) in corners {
                    if projection != 0.0 && inside(cy, cx) {
                        idx.extend([b as i64, cy as i64, cx as i64]);
                        wts.push(cw);
                    } else {
                        idx.extend([b as i64, 0, 0]);
                        wts.push(0.0);
                        outside += cw;
                    }
                }
                fill.push(outside);
            }
        }
    }
    Ok(Plan {
        indices: Tensor::from_i64(DType::Int32, vec![batch, oh, ow, k, 3], idx),
        weights: Tensor::from_f32(vec![batch, oh, ow, k, 1], wts),
        fill: Tensor::from_f32(vec![batch, oh, ow, 1], fill),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_reads_each_pixel_and_a_shift_fills_the_border() {
        let id = Tensor::from_f32(vec![1, 8], vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        let p = plan(&id, 1, 2, 3, 2, 3, "NEAREST").unwrap();
        assert_eq!(p.indices.data, TensorData::Int(vec![0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1, 0, 1, 2]));
        assert!(matches!(&p.fill.data, TensorData::Float(v) if v.iter().all(|f| f.0 == 0.0)));
        // x' = x + 0.5: bilinear halves between columns; the last column reads half outside.
        let shift = Tensor::from_f32(vec![1, 8], vec![1.0, 0.0, 0.5, 0.0, 1.0, 0.0, 0.0, 0.0]);
        let p = plan(&shift, 1, 1, 2, 1, 2, "BILINEAR").unwrap();
        let TensorData::Float(f) = &p.fill.data else { panic!() };
        assert_eq!(f.iter().map(|v| v.0).collect::<Vec<_>>(), vec![0.0, 0.5]);
    }
}
