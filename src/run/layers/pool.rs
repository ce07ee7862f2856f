//! Spatial layers on the trailing `[H, W]` axes: pooling, padding, constant padding (ND),
//! upsample, resizeBilinear and crop.

use super::arity;
use super::conv::{same_pad, two, valid_pad, AxisPad};
use crate::kbail;
use crate::proto::coreml::{
    padding_layer_params::PaddingType, pooling_layer_params::PoolingPaddingType as PPad,
    pooling_layer_params::PoolingType, sampling_mode::Method, upsample_layer_params::InterpolationMode,
    upsample_layer_params::LinearUpsampleMode, ConstantPaddingLayerParams, CropLayerParams, CropResizeLayerParams, PaddingLayerParams,
    PoolingLayerParams, ResizeBilinearLayerParams, UpsampleLayerParams,
};
use crate::run::float::Float;
use crate::run::util::{bchw, check_size, from_vec, strides, values};
use crate::run::KernelError;
use ndarray::ArrayD;

/// `includeLastPixel` (ValidCompletePadding) per the proto:
/// out = ceil((in + 2*pad - k) / s) + 1, minus one if pad > 0 and the last window would start
/// at or beyond in + pad.
fn include_last_pixel(pad: usize, input: usize, k: usize, stride: usize) -> Result<AxisPad, KernelError> {
    let padded = input + 2 * pad;
    if padded < k {
        kbail!("kernel size {k} exceeds the padded input size {padded}");
    }
    let mut out = (padded - k).div_ceil(stride) + 1;
    if pad > 0 && (out - 1) * stride >= input + pad {
        out -= 1;
    }
    Ok(AxisPad { before: pad, after: pad, out })
}

pub fn pooling<T: Float>(p: &PoolingLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c, h, w) = bchw(x.shape(), 3)?;
    let (k, stride, ph, pw) = if p.global_pooling {
        ([h, w], [1, 1], AxisPad { before: 0, after: 0, out: 1 }, AxisPad { before: 0, after: 0, out: 1 })
    } else {
        let k = two(&p.kernel_size, 3, "kernelSize")?;
        let s = two(&p.stride, 1, "stride")?;
        if s[0] == 0 || s[1] == 0 {
            kbail!("stride must be positive, got {:?}", s);
        }
        let (ph, pw) = match &p.pooling_padding_type {
            Some(PPad::Same(sp)) => (same_pad(sp, h, k[0], s[0]), same_pad(sp, w, k[1], s[1])),
            Some(PPad::Valid(v)) => (valid_pad(Some(v), 0, h, k[0], s[0])?, valid_pad(Some(v), 1, w, k[1], s[1])?),
            Some(PPad::IncludeLastPixel(v)) => {
                let pads = two(&v.padding_amounts, 0, "paddingAmounts")?;
                (include_last_pixel(pads[0], h, k[0], s[0])?, include_last_pixel(pads[1], w, k[1], s[1])?)
            }
            None => (valid_pad(None, 0, h, k[0], s[0])?, valid_pad(None, 1, w, k[1], s[1])?),
        };
        (k, s, ph, pw)
    };
    let kind = PoolingType::try_from(p.r#type).map_err(|_| KernelError(format!("unknown pooling type {}", p.r#type)))?;
    let xs = values(x);
    let (oh, ow) = (ph.out, pw.out);
    let mut out = Vec::with_capacity(batch * c * oh * ow);
    for plane in xs.chunks_exact(h * w).take(batch * c) {
        for oy in 0..oh {
            let y0 = (oy * stride[0]) as isize - ph.before as isize;
            // Window rows inside the padded input (for the padding-inclusive count) and inside the data.
            let (py0, py1) = (y0.max(-(ph.before as isize)), (y0 + k[0] as isize).min((h + ph.after) as isize));
            // A window can start past the data (large `after` padding): then it holds none of it.
            let dy1 = ((y0 + k[0] as isize).min(h as isize)).max(0) as usize;
            let dy0 = (y0.max(0) as usize).min(dy1);
            for ox in 0..ow {
                let x0 = (ox * stride[1]) as isize - pw.before as isize;
                let (px0, px1) = (x0.max(-(pw.before as isize)), (x0 + k[1] as isize).min((w + pw.after) as isize));
                let dx1 = ((x0 + k[1] as isize).min(w as isize)).max(0) as usize;
                let dx0 = (x0.max(0) as usize).min(dx1);
                let n_data = dy1.saturating_sub(dy0) * dx1.saturating_sub(dx0);
                let v = match kind {
                    PoolingType::Max => {
                        let mut m = -T::infinity();
                        for yy in dy0..dy1 {
                            for &v in &plane[yy * w + dx0..yy * w + dx1] {
                                m = m.max_nan(v);
                            }
                        }
                        m
                    }
                    PoolingType::Average => {
                        let mut s = T::zero();
                        for yy in dy0..dy1 {
                            for &v in &plane[yy * w + dx0..yy * w + dx1] {
                                s += v;
                            }
                        }
                        let n = if p.avg_pool_exclude_padding {
                            n_data
                        } else {
                            ((py1 - py0).max(0) * (px1 - px0).max(0)) as usize
                        };
                        if n == 0 {
                            T::zero()
                        } else {
                            s / T::from_usize(n)
                        }
                    }
                    PoolingType::L2 => {
                        let mut s = T::zero();
                        for yy in dy0..dy1 {
                            for &v in &plane[yy * w + dx0..yy * w + dx1] {
                                s += v * v;
                            }
                        }
                        s.sqrt()
                    }
                };
                out.push(v);
            }
        }
    }
    from_vec(with_spatial(x.shape(), oh, ow), out)
}

/// Pads the last `amounts.len()` axes of `x`; `value_at` maps an out-of-range coordinate.
enum PadMode<T> {
    Constant(T),
    Reflect,
    Replicate,
}

fn pad_nd<T: Float>(x: &ArrayD<T>, amounts: &[(usize, usize)], mode: PadMode<T>) -> Result<ArrayD<T>, KernelError> {
    let s = x.shape();
    let r = s.len();
    if amounts.len() > r {
        kbail!("cannot pad {} axes of a rank {} input", amounts.len(), r);
    }
    let off = r - amounts.len();
    let mut pads = vec![(0usize, 0usize); r];
    pads[off..].copy_from_slice(amounts);
    for (d, &(b, a)) in pads.iter().enumerate() {
        if matches!(mode, PadMode::Reflect) && (b >= s[d].max(1) || a >= s[d].max(1)) && (b > 0 || a > 0) {
            kbail!("reflection padding of {b}/{a} needs a dimension larger than that, got {}", s[d]);
        }
        if !matches!(mode, PadMode::Constant(_)) && s[d] == 0 && (b > 0 || a > 0) {
            kbail!("cannot reflect or replicate an empty dimension");
        }
    }
    // Amounts come from parameters or input values: sized (in u128) before adding or allocating.
    check_size(s.iter().zip(&pads).map(|(&d, &(b, a))| d as u128 + b as u128 + a as u128))?;
    let out_shape: Vec<usize> = s.iter().zip(&pads).map(|(&d, &(b, a))| d + b + a).collect();
    let xs = values(x);
    let in_strides = strides(s);
    let total: usize = out_shape.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut idx = vec![0usize; r];
    for _ in 0..total {
        let mut src = 0usize;
        let mut inside = true;
        for d in 0..r {
            let n = s[d] as isize;
            let mut i = idx[d] as isize - pads[d].0 as isize;
            if i < 0 || i >= n {
                match mode {
                    PadMode::Constant(_) => {
                        inside = false;
                        break;
                    }
                    PadMode::Reflect => {
                        i = if i < 0 { -i } else { 2 * (n - 1) - i };
                    }
                    PadMode::Replicate => i = i.clamp(0, n - 1),
                }
            }
            src += i as usize * in_strides[d];
        }
        out.push(if inside {
            xs[src]
        } else if let PadMode::Constant(v) = mode {
            v
        } else {
            T::zero()
        });
        for d in (0..r).rev() {
            idx[d] += 1;
            if idx[d] < out_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    from_vec(out_shape, out)
}

pub fn padding<T: Float>(p: &PaddingLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    if x.ndim() < 2 {
        kbail!("input must have rank >= 2, got {:?}", x.shape());
    }
    let b = p.padding_amounts.as_ref().map(|b| &b.border_amounts[..]).unwrap_or(&[]);
    let amt = |d: usize| b.get(d).map(|e| (e.start_edge_size as usize, e.end_edge_size as usize)).unwrap_or((0, 0));
    let amounts = [amt(0), amt(1)];
    let mode = match &p.padding_type {
        Some(PaddingType::Constant(c)) => PadMode::Constant(T::from_f32(c.value)),
        Some(PaddingType::Reflection(_)) => PadMode::Reflect,
        Some(PaddingType::Replication(_)) => PadMode::Replicate,
        None => kbail!("padding type is not set"),
    };
    pad_nd(x, &amounts, mode)
}

pub fn constant_pad<T: Float>(p: &ConstantPaddingLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 2)?;
    let x = ins[0];
    let r = x.ndim();
    let amounts: Vec<u64> = if ins.len() == 2 {
        // Amounts are sizes: a negative or fractional one is an error, not a clamp.
        let v = super::shape::exact_ints(ins[1], "pad amounts input")?;
        if let Some(n) = v.iter().find(|&&n| n < 0) {
            kbail!("pad amounts input holds {n}; amounts must be >= 0");
        }
        v.into_iter().map(|n| n as u64).collect()
    } else {
        p.pad_amounts.clone()
    };
    if amounts.len() != 2 * r {
        kbail!("padAmounts has {} values, expected twice the rank {}", amounts.len(), r);
    }
    let mut pads = Vec::with_capacity(r);
    for d in 0..r {
        let (b, a) = (amounts[2 * d] as usize, amounts[2 * d + 1] as usize);
        if p.pad_to_given_output_size_mode {
            // The non-zero amount is the wanted output size of this axis.
            let want = b.max(a);
            let extra = want.saturating_sub(x.shape()[d]);
            pads.push(if b > 0 { (extra, 0) } else { (0, extra) });
        } else {
            pads.push((b, a));
        }
    }
    pad_nd(x, &pads, PadMode::Constant(T::from_f32(p.value)))
}

/// Bilinear interpolation of every `[H, W]` plane at the grid points `gy` x `gx`.
fn bilinear<T: Float>(x: &ArrayD<T>, gy: &[f64], gx: &[f64]) -> Result<ArrayD<T>, KernelError> {
    let (batch, c, h, w) = bchw(x.shape(), 3)?;
    let xs = values(x);
    let lerp = |g: f64, n: usize| {
        let g = g.clamp(0.0, (n - 1) as f64);
        let i0 = g.floor() as usize;
        let i1 = (i0 + 1).min(n - 1);
        (i0, i1, T::from_f64(g - i0 as f64))
    };
    let ys: Vec<_> = gy.iter().map(|&g| lerp(g, h)).collect();
    let xs_: Vec<_> = gx.iter().map(|&g| lerp(g, w)).collect();
    let mut out = Vec::with_capacity(batch * c * gy.len() * gx.len());
    let one = T::one();
    for plane in xs.chunks_exact(h * w).take(batch * c) {
        for &(y0, y1, fy) in &ys {
            for &(x0, x1, fx) in &xs_ {
                let top = plane[y0 * w + x0] * (one - fx) + plane[y0 * w + x1] * fx;
                let bot = plane[y1 * w + x0] * (one - fx) + plane[y1 * w + x1] * fx;
                out.push(top * (one - fy) + bot * fy);
            }
        }
    }
    from_vec(with_spatial(x.shape(), gy.len(), gx.len()), out)
}

/// `shape` with its last two (H, W) axes replaced by `oh`, `ow`: a pooled or resized output.
fn with_spatial(shape: &[usize], oh: usize, ow: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    let r = s.len();
    s[r - 2] = oh;
    s[r - 1] = ow;
    s
}

pub fn upsample<T: Float>(p: &UpsampleLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c, h, w) = bchw(x.shape(), 3)?;
    let factors: [f64; 2] = if !p.fractional_scaling_factor.is_empty() {
        match p.fractional_scaling_factor[..] {
            [a, b] => [a as f64, b as f64],
            _ => kbail!("fractionalScalingFactor must have 2 values"),
        }
    } else {
        let f = two(&p.scaling_factor, 1, "scalingFactor")?;
        [f[0] as f64, f[1] as f64]
    };
    if !factors.iter().all(|f| f.is_finite() && *f > 0.0) {
        kbail!("scaling factors must be positive and finite, got {:?}", factors);
    }
    let oh = (h as f64 * factors[0]).floor() as usize;
    let ow = (w as f64 * factors[1]).floor() as usize;
    check_size([batch as u128, c as u128, (h as f64 * factors[0]).floor() as u128, (w as f64 * factors[1]).floor() as u128])?;
    // The sampling grids have `oh` and `ow` entries of up to 24 bytes even when the output is
    // empty (no batch or channels): a fuzzed 10^20 factor on an empty input overflowed their
    // allocation, and 2^30 entries exhausted memory. An empty output is returned as it is; the
    // grids are counted as tensors of 8 elements per entry.
    if batch * c == 0 {
        return from_vec(with_spatial(x.shape(), oh, ow), Vec::new());
    }
    check_size([oh as u128, 8])?;
    check_size([ow as u128, 8])?;
    if InterpolationMode::try_from(p.mode) == Ok(InterpolationMode::Bilinear) {
        let mode = LinearUpsampleMode::try_from(p.linear_upsample_mode).unwrap_or(LinearUpsampleMode::Default);
        let grid = |xin: usize, xout: usize| -> Vec<f64> {
            let (xi, xo) = (xin as f64, xout as f64);
            (0..xout)
                .map(|i| {
                    let i = i as f64;
                    let g = match mode {
                        LinearUpsampleMode::Default => {
                            if xout > 1 {
                                i * (xi - xi / xo) / (xo - 1.0)
                            } else {
                                0.0
                            }
                        }
                        LinearUpsampleMode::AlignCornersTrue => {
                            if xout > 1 {
                                i * (xi - 1.0) / (xo - 1.0)
                            } else {
                                0.0
                            }
                        }
                        LinearUpsampleMode::AlignCornersFalse => {
                            let s = xi / xo;
                            i * s + 0.5 * s - 0.5
                        }
                    };
                    g.clamp(0.0, xi - 1.0)
                })
                .collect()
        };
        return bilinear(x, &grid(h, oh), &grid(w, ow));
    }
    // Nearest neighbour: output pixel i reads input floor(i / factor).
    let xs = values(x);
    let iy: Vec<usize> = (0..oh).map(|i| ((i as f64 / factors[0]).floor() as usize).min(h - 1)).collect();
    let ix: Vec<usize> = (0..ow).map(|i| ((i as f64 / factors[1]).floor() as usize).min(w - 1)).collect();
    let mut out = Vec::with_capacity(batch * c * oh * ow);
    for plane in xs.chunks_exact(h * w).take(batch * c) {
        for &y in &iy {
            for &xx in &ix {
                out.push(plane[y * w + xx]);
            }
        }
    }
    from_vec(with_spatial(x.shape(), oh, ow), out)
}

/// Grid points of `SamplingMode` for `n` samples on an axis of length `x`.
pub fn sampling_grid(method: Method, x: usize, n: usize) -> Vec<f64> {
    sampling_grid_f(method, x as f64, n)
}

/// [`sampling_grid`] on an interval `[0, x - 1]` of real length (crop boxes).
fn sampling_grid_f(method: Method, xf: f64, n: usize) -> Vec<f64> {
    let nf = n as f64;
    let linspace = |a: f64, b: f64| -> Vec<f64> {
        (0..n).map(|i| if n == 1 { a } else { a + (b - a) * i as f64 / (nf - 1.0) }).collect()
    };
    let clamp_hi = |v: Vec<f64>| v.into_iter().map(|g| g.min(xf - 1.0)).collect::<Vec<_>>();
    match method {
        Method::StrictAlignEndpointsMode => linspace(0.0, xf - 1.0),
        Method::AlignEndpointsMode => {
            if n == 1 {
                vec![(xf - 1.0) / 2.0]
            } else {
                linspace(0.0, xf - 1.0)
            }
        }
        Method::UpsampleMode => clamp_hi(linspace(0.0, xf - xf / nf)),
        Method::RoiAlignMode => {
            let spacing = (xf - 1.0).max(1.0) / nf;
            let start = 0.5 * spacing;
            clamp_hi(linspace(start, start + (nf - 1.0) * spacing))
        }
    }
}

fn method_of(m: Option<&crate::proto::coreml::SamplingMode>) -> Method {
    m.map(|m| Method::try_from(m.sampling_method).unwrap_or(Method::StrictAlignEndpointsMode))
        .unwrap_or(Method::StrictAlignEndpointsMode)
}

/// cropResize: image `[1, B, C, H, W]`, boxes `[N, 1, 4|5, 1, 1]`; each box is sampled on
/// a `targetSize` grid (the SamplingMode applied to the box interval `[start, end]`) with
/// bilinear interpolation. Output `[N, B, C, Ho, Wo]` (4 coordinates: every box from every
/// batch image) or `[N, 1, C, Ho, Wo]` (5: the first value picks the batch image).
pub fn crop_resize<T: Float>(p: &CropResizeLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    use crate::proto::coreml::box_coordinates_mode::Coordinates;
    arity(ins, 2, 2)?;
    let (x, rois) = (ins[0], ins[1]);
    let (batch, c, h, w) = bchw(x.shape(), 3)?;
    let rs = rois.shape();
    if rs.len() != 5 || rs[1] != 1 || rs[3] != 1 || rs[4] != 1 || (rs[2] != 4 && rs[2] != 5) {
        kbail!("boxes must have shape [N, 1, 4 or 5, 1, 1], got {:?}", rs);
    }
    let (n, per) = (rs[0], rs[2]);
    let t = two(&p.target_size, 1, "targetSize")?;
    check_size([n as u128, batch as u128, c as u128, t[0] as u128, t[1] as u128])?;
    check_size([t[0] as u128])?;
    check_size([t[1] as u128])?;
    let method = method_of(p.mode.as_ref());
    let mode = p.box_indices_mode.as_ref().map(|m| m.box_mode).unwrap_or(0);
    let scale = if p.spatial_scale == 0.0 { 1.0 } else { p.spatial_scale as f64 };
    let rv: Vec<f64> = rois.iter().map(|v| v.to_f64()).collect();
    let xs = values(x);
    let plane = h * w;
    let mut out = Vec::new();
    let out_batch = if per == 5 { 1 } else { batch };
    for r in 0..n {
        let b = &rv[r * per..(r + 1) * per];
        let (images, coords): (Vec<usize>, &[f64]) = if per == 5 {
            let id = b[0];
            if id < 0.0 || id as usize >= batch {
                kbail!("box {r} names batch image {id}, but there are {batch}");
            }
            (vec![id as usize], &b[1..])
        } else {
            ((0..batch).collect(), b)
        };
        let [y0, x0, y1, x1] = match Coordinates::try_from(mode) {
            Ok(Coordinates::CornersHeightFirst) => [coords[0], coords[1], coords[2], coords[3]],
            Ok(Coordinates::CornersWidthFirst) => [coords[1], coords[0], coords[3], coords[2]],
            Ok(Coordinates::CenterSizeHeightFirst) => {
                [coords[0] - coords[2] / 2.0, coords[1] - coords[3] / 2.0, coords[0] + coords[2] / 2.0, coords[1] + coords[3] / 2.0]
            }
            Ok(Coordinates::CenterSizeWidthFirst) => {
                [coords[1] - coords[3] / 2.0, coords[0] - coords[2] / 2.0, coords[1] + coords[3] / 2.0, coords[0] + coords[2] / 2.0]
            }
            Err(_) => kbail!("unknown box coordinates mode {mode}"),
        };
        let (ny, nx) = if p.normalized_coordinates { ((h - 1) as f64, (w - 1) as f64) } else { (1.0, 1.0) };
        let (y0, y1) = (y0 * ny * scale, y1 * ny * scale);
        let (x0, x1) = (x0 * nx * scale, x1 * nx * scale);
        let gy: Vec<f64> = sampling_grid_f(method, y1 - y0 + 1.0, t[0]).into_iter().map(|g| y0 + g).collect();
        let gx: Vec<f64> = sampling_grid_f(method, x1 - x0 + 1.0, t[1]).into_iter().map(|g| x0 + g).collect();
        for img in images {
            let sub = from_vec(vec![1, c, h, w], xs[img * c * plane..(img + 1) * c * plane].to_vec())?;
            out.extend(bilinear(&sub, &gy, &gx)?.iter().copied());
        }
    }
    from_vec(vec![n, out_batch, c, t[0], t[1]], out)
}

pub fn resize_bilinear<T: Float>(p: &ResizeBilinearLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c, h, w) = bchw(x.shape(), 3)?;
    let t = two(&p.target_size, 1, "targetSize")?;
    // The output and each sampling grid are sized before allocating (targetSize is a parameter).
    check_size([batch as u128, c as u128, t[0] as u128, t[1] as u128])?;
    check_size([t[0] as u128])?;
    check_size([t[1] as u128])?;
    let method = method_of(p.mode.as_ref());
    bilinear(x, &sampling_grid(method, h, t[0]), &sampling_grid(method, w, t[1]))
}

pub fn crop<T: Float>(p: &CropLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 2)?;
    let x = ins[0];
    let (_, _, h, w) = bchw(x.shape(), 3)?;
    let (top, left, oh, ow) = if ins.len() == 2 {
        let (_, _, rh, rw) = bchw(ins[1].shape(), 3)?;
        let off = two(&p.offset, 0, "offset")?;
        (off[0], off[1], rh, rw)
    } else {
        let b = p.crop_amounts.as_ref().map(|b| &b.border_amounts[..]).unwrap_or(&[]);
        let amt = |d: usize| b.get(d).map(|e| (e.start_edge_size as usize, e.end_edge_size as usize)).unwrap_or((0, 0));
        let ((t, bo), (l, r)) = (amt(0), amt(1));
        if t + bo > h || l + r > w {
            kbail!("crop amounts exceed the input size {h}x{w}");
        }
        (t, l, h - t - bo, w - l - r)
    };
    if top + oh > h || left + ow > w {
        kbail!("crop window {oh}x{ow} at ({top},{left}) exceeds the input size {h}x{w}");
    }
    let r = x.ndim();
    let v = x.slice_each_axis(|ax| {
        let d = ax.axis.index();
        if d == r - 2 {
            ndarray::Slice::from(top..top + oh)
        } else if d == r - 1 {
            ndarray::Slice::from(left..left + ow)
        } else {
            ndarray::Slice::from(..)
        }
    });
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::{border_amounts::EdgeSizes, BorderAmounts};
    use ndarray::IxDyn;

    /// A huge targetSize is refused before the sampling grids are allocated.
    #[test]
    fn resize_bilinear_to_a_huge_size_is_refused() {
        let p = ResizeBilinearLayerParams { target_size: vec![1 << 40, 2], ..Default::default() };
        let x = ArrayD::<f32>::zeros(IxDyn(&[1, 1, 2, 2]));
        let err = resize_bilinear(&p, &[&x]).unwrap_err().0;
        assert!(err.contains("limit"), "{err}");
    }

    /// Pad amounts near `u64::MAX` are refused by size, not added until they overflow.
    #[test]
    fn huge_pad_amounts_are_refused_before_adding() {
        let p = ConstantPaddingLayerParams { pad_amounts: vec![0, u64::MAX, 0, 0], value: 0.0, ..Default::default() };
        let x = ArrayD::<f32>::zeros(IxDyn(&[2, 2]));
        let err = constant_pad(&p, &[&x]).unwrap_err().0;
        assert!(err.contains("limit"), "{err}");
    }

    #[test]
    fn reflect_pad_matches_numpy_reflect() {
        // np.pad([1,2,3], 2, mode="reflect") = [3,2,1,2,3,2,1]; shape [1,1,3] padding W only.
        let p = PaddingLayerParams {
            padding_amounts: Some(BorderAmounts {
                border_amounts: vec![EdgeSizes::default(), EdgeSizes { start_edge_size: 2, end_edge_size: 2 }],
            }),
            padding_type: Some(PaddingType::Reflection(Default::default())),
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1.0f32, 2.0, 3.0]).unwrap();
        let y = padding(&p, &[&x]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]);
    }

    #[test]
    fn average_pool_excluding_padding() {
        // 2x2 input [[1,2],[3,4]], kernel 2x2, stride 1, same padding (total 1, after).
        // Windows: (0,0)=avg(1,2,3,4)=2.5; (0,1)=avg(2,4)=3; (1,0)=avg(3,4)=3.5; (1,1)=4.
        let p = PoolingLayerParams {
            r#type: PoolingType::Average as i32,
            kernel_size: vec![2, 2],
            stride: vec![1, 1],
            pooling_padding_type: Some(PPad::Same(Default::default())),
            avg_pool_exclude_padding: true,
            ..Default::default()
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2, 2]), vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
        let y = pooling(&p, &[&x]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![2.5, 3.0, 3.5, 4.0]);
        // Including padding: (0,1) = (2+4)/4 = 1.5.
        let p = PoolingLayerParams { avg_pool_exclude_padding: false, ..p };
        let y = pooling(&p, &[&x]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![2.5, 1.5, 1.75, 1.0]);
    }

    #[test]
    fn crop_resize_strict_align_samples_box_corners() {
        // 1 image 1x3x3 holding 0..9; box corners (0,0)-(2,2) unnormalized, target 2x2 with
        // STRICT_ALIGN_ENDPOINTS: samples the four corners 0, 2, 6, 8. A 5-value box with
        // batch id 0 and box (1,1)-(1,2) samples [4, 5] (2 columns), [4, 5] rows.
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 1, 3, 3]), (0..9).map(|v| v as f32).collect()).unwrap();
        let rois = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 1, 1]), vec![0.0f32, 0.0, 2.0, 2.0]).unwrap();
        let p = CropResizeLayerParams { target_size: vec![2, 2], ..Default::default() };
        let y = crop_resize(&p, &[&x, &rois]).unwrap();
        assert_eq!(y.shape(), &[1, 1, 1, 2, 2]);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![0.0, 2.0, 6.0, 8.0]);
        let rois = ArrayD::from_shape_vec(IxDyn(&[1, 1, 5, 1, 1]), vec![0.0f32, 1.0, 1.0, 1.0, 2.0]).unwrap();
        let y = crop_resize(&p, &[&x, &rois]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![4.0, 5.0, 4.0, 5.0]);
    }
}
