//! TensorFlow's `ImageProjectiveTransformV2/V3` with constant transforms, as a constant gather:
//! every output pixel reads fixed input pixels with fixed weights, so the op is one `gatherND`
//! of `K` corners per pixel (1 for NEAREST, 4 for BILINEAR), a multiply by constant weights, a
//! sum over the corners, plus `fill_value` times the weight TF gives to reads outside the image.
//!
//! The coordinates follow TF's kernel (`image_ops.h`) in float32: for output pixel `(y, x)`,
//! `p = t6 x + t7 y + 1` (fill when 0), input `x' = (t0 x + t1 y + t2) / p`,
//! `y' = (t3 x + t4 y + t5) / p`, then remapped by `fill_mode` ([`map_coordinate`]: CONSTANT
//! keeps it, NEAREST clamps it into the image, REFLECT and WRAP fold it back, as TF's
//! `MapCoordinate`). NEAREST reads `(round(y'), round(x'))` (half away from zero); BILINEAR
//! the four neighbours `floor` and `floor + 1` with weights `(ceil - c)` and `(c - floor)` per
//! axis; a read outside the image yields `fill_value`.

use super::value::{DType, Tensor, TensorData};

/// The constant parts of one transform: `[B, OH, OW, K, 3]` gather indices (clamped into the
/// image where the weight is zero), `[B, OH, OW, K, 1]` weights and `[B, OH, OW, 1]` fill weights.
pub struct Plan {
    pub indices: Tensor,
    pub weights: Tensor,
    pub fill: Tensor,
}

/// TF's `MapCoordinate<fill_mode>` of one coordinate on an axis of `len` pixels, with TF's
/// mix of float32 and int64 arithmetic.
pub fn map_coordinate(c: f32, len: usize, mode: &str) -> Result<f32, String> {
    let n = len as i64;
    let clamp = |v: f32| v.max(0.0).min((n - 1) as f32);
    Ok(match mode {
        "CONSTANT" => c,
        "NEAREST" => clamp(c),
        "REFLECT" => {
            let mut v = c;
            if v < 0.0 {
                if n <= 1 {
                    v = 0.0;
                } else {
                    let sz2 = 2 * n;
                    if v < sz2 as f32 {
                        v += (sz2 * (-v / sz2 as f32) as i64) as f32;
                    }
                    v = if v < -(n as f32) { v + sz2 as f32 } else { -v - 1.0 };
                }
            } else if v > (n - 1) as f32 {
                if n <= 1 {
                    v = 0.0;
                } else {
                    let sz2 = 2 * n;
                    v -= (sz2 * (v / sz2 as f32) as i64) as f32;
                    if v >= n as f32 {
                        v = sz2 as f32 - v - 1.0;
                    }
                }
            }
            clamp(v)
        }
        "WRAP" => {
            let mut v = c;
            if v < 0.0 {
                if n <= 1 {
                    v = 0.0;
                } else {
                    let sz = n - 1;
                    v += (n * ((-v / sz as f32) as i64 + 1)) as f32;
                }
            } else if v > (n - 1) as f32 {
                if n <= 1 {
                    v = 0.0;
                } else {
                    let sz = n - 1;
                    v -= (n * (v / sz as f32) as i64) as f32;
                }
            }
            clamp(v)
        }
        m => return Err(format!("fill_mode {m:?} is not CONSTANT, NEAREST, REFLECT or WRAP")),
    })
}

fn floats(t: &Tensor, what: &str) -> Result<Vec<f32>, String> {
    match &t.data {
        TensorData::Float(v) => Ok(v.iter().map(|x| x.0).collect()),
        _ => Err(format!("{what} must be float32")),
    }
}

/// Plans the transform of a `[batch, h, w, C]` image to `[oh, ow]`; `transforms` is `[1 or
/// batch, 8]`; `interpolation` and `fill_mode` are TF's attributes.
#[allow(clippy::too_many_arguments)]
pub fn plan(transforms: &Tensor, batch: usize, h: usize, w: usize, oh: usize, ow: usize, interpolation: &str, fill_mode: &str) -> Result<Plan, String> {
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
                    let ix = map_coordinate((tr[0] * xf + tr[1] * yf + tr[2]) / projection, w, fill_mode)?;
                    let iy = map_coordinate((tr[3] * xf + tr[4] * yf + tr[5]) / projection, h, fill_mode)?;
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
        let p = plan(&id, 1, 2, 3, 2, 3, "NEAREST", "CONSTANT").unwrap();
        assert_eq!(p.indices.data, TensorData::Int(vec![0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1, 0, 1, 2]));
        assert!(matches!(&p.fill.data, TensorData::Float(v) if v.iter().all(|f| f.0 == 0.0)));
        // x' = x + 0.5: bilinear halves between columns; the last column reads half outside.
        let shift = Tensor::from_f32(vec![1, 8], vec![1.0, 0.0, 0.5, 0.0, 1.0, 0.0, 0.0, 0.0]);
        let p = plan(&shift, 1, 1, 2, 1, 2, "BILINEAR", "CONSTANT").unwrap();
        let TensorData::Float(f) = &p.fill.data else { panic!() };
        assert_eq!(f.iter().map(|v| v.0).collect::<Vec<_>>(), vec![0.0, 0.5]);
    }

    #[test]
    fn fill_modes_fold_coordinates_back_into_the_image() {
        // An axis of 4: [abcd] reflected is dcba|abcd|dcba, wrapped abcd|abcd|abcd.
        let m = |c, mode| map_coordinate(c, 4, mode).unwrap();
        assert_eq!((m(-1.0, "REFLECT"), m(4.0, "REFLECT"), m(5.5, "REFLECT")), (0.0, 3.0, 1.5));
        assert_eq!((m(-1.0, "NEAREST"), m(7.0, "NEAREST"), m(-1.0, "CONSTANT")), (0.0, 3.0, -1.0));
        // TF wraps with period len but divides by len - 1 (its own formula, kept).
        assert_eq!((m(4.0, "WRAP"), m(3.0, "WRAP"), m(-0.5, "WRAP")), (0.0, 3.0, 3.0));
        assert!(map_coordinate(0.0, 4, "MIRROR").is_err());
    }
}
