//! 3-D layers on rank-5 `[B, C, D, H, W]` blobs: convolution3d (and its deconvolution),
//! pooling3d and globalPooling3d. convolution3d and pooling3d describe their window with the
//! same scalar fields (kernel/stride depth, height, width, a padding type and six custom
//! amounts); [`Geometry`] reads them once for both, and the per-axis arithmetic is the 2-D
//! layers' ([`same_pad`], [`explicit_pad`]).

use super::arity;
use super::conv::{explicit_pad, same_pad, AxisPad};
use crate::kbail;
use crate::proto::coreml::{
    global_pooling3_d_layer_params::GlobalPoolingType3D, pooling3_d_layer_params::PoolingType3D, Convolution3DLayerParams, GlobalPooling3DLayerParams, Pooling3DLayerParams, SamePadding,
};
use crate::run::float::Float;
use crate::run::util::{from_vec, values};
use crate::run::weights::{decode, decode_len};
use crate::run::KernelError;
use ndarray::{s, Array2, ArrayD, ArrayView2};

/// Padding of the 3-D layers (both messages number it CUSTOM 0, VALID 1, SAME 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Padding {
    /// `[front, back, top, bottom, left, right]` zeros around the input.
    Custom([usize; 6]),
    /// No padding; the last partial window is dropped.
    Valid,
    /// Output `ceil(in / stride)`; the total padding is split evenly, the odd cell going to
    /// the back, bottom or right (the proto comment), i.e. BOTTOM_RIGHT_HEAVY.
    Same,
}

impl Padding {
    /// `raw` is the `paddingType` field of either message (see the test that pins the numbers).
    fn read(raw: i32, custom: [i32; 6]) -> Result<Self, KernelError> {
        Ok(match raw {
            0 => {
                let mut pads = [0usize; 6];
                for (p, v) in pads.iter_mut().zip(custom) {
                    if v < 0 {
                        kbail!("custom paddings must be >= 0, got {:?}", custom);
                    }
                    *p = v as usize;
                }
                Padding::Custom(pads)
            }
            1 => Padding::Valid,
            2 => Padding::Same,
            _ => kbail!("unknown paddingType {raw}"),
        })
    }
}

/// Kernel, stride and dilation along `[D, H, W]`, and the padding.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    kernel: [usize; 3],
    stride: [usize; 3],
    dilation: [usize; 3],
    padding: Padding,
}

fn positive(v: i32, what: &str) -> Result<usize, KernelError> {
    if v <= 0 {
        kbail!("{what} must be positive, got {v}");
    }
    Ok(v as usize)
}

fn positive3(v: [i32; 3], what: [&str; 3]) -> Result<[usize; 3], KernelError> {
    Ok([positive(v[0], what[0])?, positive(v[1], what[1])?, positive(v[2], what[2])?])
}

impl Geometry {
    fn effective_kernel(&self) -> [usize; 3] {
        std::array::from_fn(|a| (self.kernel[a] - 1) * self.dilation[a] + 1)
    }

    /// The padding and output length of each axis of a forward window over `dims`.
    fn pads(&self, dims: [usize; 3]) -> Result<[AxisPad; 3], KernelError> {
        let k = self.effective_kernel();
        let mut out = [AxisPad { before: 0, after: 0, out: 0 }; 3];
        for a in 0..3 {
            out[a] = match self.padding {
                Padding::Same => same_pad(&SamePadding::default(), dims[a], k[a], self.stride[a]),
                Padding::Valid => explicit_pad(0, 0, dims[a], k[a], self.stride[a])?,
                Padding::Custom(p) => explicit_pad(p[2 * a], p[2 * a + 1], dims[a], k[a], self.stride[a])?,
            };
        }
        Ok(out)
    }
}

/// `(batch, channels, [D, H, W])` of a rank-5 blob, the only rank the 3-D layers take.
fn bcdhw(shape: &[usize]) -> Result<(usize, usize, [usize; 3]), KernelError> {
    if shape.len() != 5 {
        kbail!("input must have rank 5 [B, C, D, H, W], got shape {:?}", shape);
    }
    if shape[1..].contains(&0) {
        kbail!("input shape {:?} has an empty C, D, H or W axis", shape);
    }
    Ok((shape[0], shape[1], [shape[2], shape[3], shape[4]]))
}

pub fn convolution3d<T: Float>(p: &Convolution3DLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c_in, dims) = bcdhw(x.shape())?;
    let g = Geometry {
        kernel: positive3([p.kernel_depth, p.kernel_height, p.kernel_width], ["kernelDepth", "kernelHeight", "kernelWidth"])?,
        stride: positive3([p.stride_depth, p.stride_height, p.stride_width], ["strideDepth", "strideHeight", "strideWidth"])?,
        dilation: positive3(
            [p.dilation_depth, p.dilation_height, p.dilation_width],
            ["dilationDepth", "dilationHeight", "dilationWidth"],
        )?,
        padding: Padding::read(
            p.padding_type,
            [
                p.custom_padding_front,
                p.custom_padding_back,
                p.custom_padding_top,
                p.custom_padding_bottom,
                p.custom_padding_left,
                p.custom_padding_right,
            ],
        )?,
    };
    let groups = positive(p.n_groups, "nGroups")?;
    let c_out = positive(p.output_channels, "outputChannels")?;
    if p.input_channels as usize != c_in {
        kbail!("input has {c_in} channels, but inputChannels is {}", p.input_channels);
    }
    if c_in % groups != 0 || !c_out.is_multiple_of(groups) {
        kbail!("input channels {c_in} and output channels {c_out} must divide into {groups} groups");
    }
    let weights: Vec<T> = decode(p.weights.as_ref(), "weights")?;
    let bias: Option<Vec<T>> = if p.has_bias { Some(decode_len(p.bias.as_ref(), "bias", c_out)?) } else { None };
    let xs = values(x);
    let shape = Shape { batch, c_in, c_out, groups, dims };
    let (out_dims, mut out) =
        if p.is_deconvolution { deconvolve(&g, &p.output_shape, &xs, &weights, shape)? } else { convolve(&g, &xs, &weights, shape)? };
    if let Some(bias) = bias {
        let plane: usize = out_dims.iter().product();
        for (i, v) in out.iter_mut().enumerate() {
            *v += bias[(i / plane) % c_out];
        }
    }
    from_vec(vec![batch, c_out, out_dims[0], out_dims[1], out_dims[2]], out)
}

/// Channel and spatial sizes of one convolution3d call.
#[derive(Debug, Clone, Copy)]
struct Shape {
    batch: usize,
    c_in: usize,
    c_out: usize,
    groups: usize,
    dims: [usize; 3],
}

/// Copies the `[C, D, H, W]` volume `x` into im2col form `[C*kd*kh*kw, od*oh*ow]`; taps that
/// fall into the padding stay zero.
fn im2col3d<T: Float>(x: &[T], c: usize, dims: [usize; 3], g: &Geometry, pads: &[AxisPad; 3]) -> Array2<T> {
    let [d, h, w] = dims;
    let (od, oh, ow) = (pads[0].out, pads[1].out, pads[2].out);
    let n_out = od * oh * ow;
    let k = g.kernel;
    let tap = |o: usize, ki: usize, a: usize, n: usize| -> Option<usize> {
        let i = (o * g.stride[a] + ki * g.dilation[a]) as isize - pads[a].before as isize;
        (i >= 0 && (i as usize) < n).then_some(i as usize)
    };
    let mut cols = Array2::<T>::zeros((c * k[0] * k[1] * k[2], n_out));
    let data = cols.as_slice_mut().expect("fresh array is contiguous");
    let mut row = 0;
    for ci in 0..c {
        let vol = &x[ci * d * h * w..(ci + 1) * d * h * w];
        for kz in 0..k[0] {
            for ky in 0..k[1] {
                for kx in 0..k[2] {
                    let dst = &mut data[row * n_out..(row + 1) * n_out];
                    for oz in 0..od {
                        let Some(iz) = tap(oz, kz, 0, d) else { continue };
                        for oy in 0..oh {
                            let Some(iy) = tap(oy, ky, 1, h) else { continue };
                            let src = &vol[(iz * h + iy) * w..(iz * h + iy + 1) * w];
                            let line = &mut dst[(oz * oh + oy) * ow..(oz * oh + oy + 1) * ow];
                            for (ox, slot) in line.iter_mut().enumerate() {
                                if let Some(ix) = tap(ox, kx, 2, w) {
                                    *slot = src[ix];
                                }
                            }
                        }
                    }
                    row += 1;
                }
            }
        }
    }
    cols
}

/// Convolution: weights `[C_out, C_in/groups, kd, kh, kw]`, one matrix product per group.
fn convolve<T: Float>(g: &Geometry, xs: &[T], weights: &[T], sh: Shape) -> Result<([usize; 3], Vec<T>), KernelError> {
    let Shape { batch, c_in, c_out, groups, dims } = sh;
    let kc = c_in / groups;
    let k = g.kernel;
    let kvol = k[0] * k[1] * k[2];
    if weights.len() != c_out * kc * kvol {
        kbail!(
            "weights have {} values, expected outputChannels {c_out} x kernelChannels {kc} x {} x {} x {}",
            weights.len(),
            k[0],
            k[1],
            k[2]
        );
    }
    let pads = g.pads(dims)?;
    let out_dims = [pads[0].out, pads[1].out, pads[2].out];
    let (n_in, n_out): (usize, usize) = (dims.iter().product(), out_dims.iter().product());
    let ocg = c_out / groups;
    let wmat = ArrayView2::from_shape((c_out, kc * kvol), weights).map_err(|e| KernelError(e.to_string()))?;
    let mut out = vec![T::zero(); batch * c_out * n_out];
    for b in 0..batch {
        for gi in 0..groups {
            let vol = &xs[(b * c_in + gi * kc) * n_in..(b * c_in + (gi + 1) * kc) * n_in];
            let cols = im2col3d(vol, kc, dims, g, &pads);
            let y = wmat.slice(s![gi * ocg..(gi + 1) * ocg, ..]).dot(&cols);
            let dst = &mut out[(b * c_out + gi * ocg) * n_out..(b * c_out + (gi + 1) * ocg) * n_out];
            for (d, v) in dst.iter_mut().zip(y.iter()) {
                *d = *v;
            }
        }
    }
    Ok((out_dims, out))
}

/// Deconvolution: weights `[C_in, C_out/groups, kd, kh, kw]` (what coremltools' builder and
/// its MIL backend store, as for the 2-D layer). Each input voxel scatters a dilated
/// kernel-sized patch into the full output `(in-1)*s + (k-1)*dil + 1` per axis, which is then
/// cropped. The proto leaves the crop unsaid; this kernel takes:
/// - with `outputShape [D, H, W]`: that size, starting after the front/top/left custom
///   padding (CUSTOM), at `floor(excess/2)` (SAME: where TF's SAME conv3d starts, as in the
///   2-D kernel) or at 0 (VALID); output cells past the full output are zeros (TF's
///   conv3d_transpose with a larger `input_sizes`);
/// - without: CUSTOM crops its six amounts, VALID keeps the full output, SAME gives
///   `in * stride` cropped as above.
fn deconvolve<T: Float>(
    g: &Geometry,
    output_shape: &[u64],
    xs: &[T],
    weights: &[T],
    sh: Shape,
) -> Result<([usize; 3], Vec<T>), KernelError> {
    let Shape { batch, c_in, c_out, groups, dims } = sh;
    let (icg, ocg) = (c_in / groups, c_out / groups);
    let k = g.kernel;
    let kvol = k[0] * k[1] * k[2];
    if weights.len() != c_in * ocg * kvol {
        kbail!(
            "deconvolution weights have {} values, expected inputChannels {c_in} x {ocg} x {} x {} x {}",
            weights.len(),
            k[0],
            k[1],
            k[2]
        );
    }
    if !output_shape.is_empty() && output_shape.len() != 3 {
        kbail!("outputShape must have 3 values [D, H, W], got {:?}", output_shape);
    }
    let keff = g.effective_kernel();
    let mut out_dims = [0usize; 3];
    let mut before = [0isize; 3];
    for a in 0..3 {
        let full = (dims[a] - 1) * g.stride[a] + keff[a];
        let (b, n) = match (output_shape.get(a), g.padding) {
            (Some(&n), Padding::Custom(c)) => (c[2 * a], n as usize),
            (Some(&n), Padding::Valid) => (0, n as usize),
            (Some(&n), Padding::Same) => (full.saturating_sub(n as usize) / 2, n as usize),
            (None, Padding::Custom(c)) => {
                if full <= c[2 * a] + c[2 * a + 1] {
                    kbail!("custom paddings {:?} crop the whole deconvolution output of size {full}", c);
                }
                (c[2 * a], full - c[2 * a] - c[2 * a + 1])
            }
            (None, Padding::Valid) => (0, full),
            (None, Padding::Same) => {
                let n = dims[a] * g.stride[a];
                (full.saturating_sub(n) / 2, n)
            }
        };
        if n == 0 {
            kbail!("outputShape {:?} has an empty axis", output_shape);
        }
        out_dims[a] = n;
        before[a] = b as isize;
    }
    let [d, h, w] = dims;
    let [od, oh, ow] = out_dims;
    let (n_in, n_out) = (d * h * w, od * oh * ow);
    let place = |i: usize, ki: usize, a: usize| -> Option<usize> {
        let o = (i * g.stride[a] + ki * g.dilation[a]) as isize - before[a];
        (o >= 0 && (o as usize) < out_dims[a]).then_some(o as usize)
    };
    let mut out = vec![T::zero(); batch * c_out * n_out];
    for b in 0..batch {
        for gi in 0..groups {
            // W_g: [icg, ocg*kvol]; cols = W_g^T . X_g: [ocg*kvol, d*h*w].
            let wg = ArrayView2::from_shape((icg, ocg * kvol), &weights[gi * icg * ocg * kvol..(gi + 1) * icg * ocg * kvol])
                .map_err(|e| KernelError(e.to_string()))?;
            let xg = ArrayView2::from_shape((icg, n_in), &xs[(b * c_in + gi * icg) * n_in..(b * c_in + (gi + 1) * icg) * n_in])
                .map_err(|e| KernelError(e.to_string()))?;
            let cols = wg.t().dot(&xg);
            for oc in 0..ocg {
                let vol = &mut out[(b * c_out + gi * ocg + oc) * n_out..(b * c_out + gi * ocg + oc + 1) * n_out];
                for kz in 0..k[0] {
                    for ky in 0..k[1] {
                        for kx in 0..k[2] {
                            let row = cols.row(oc * kvol + (kz * k[1] + ky) * k[2] + kx);
                            for iz in 0..d {
                                let Some(oz) = place(iz, kz, 0) else { continue };
                                for iy in 0..h {
                                    let Some(oy) = place(iy, ky, 1) else { continue };
                                    for ix in 0..w {
                                        if let Some(ox) = place(ix, kx, 2) {
                                            vol[(oz * oh + oy) * ow + ox] += row[(iz * h + iy) * w + ix];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok((out_dims, out))
}

/// The cells of one pooling window along one axis: `(first, end)` inside the data, and the
/// number inside the padded input (what a padding-inclusive average divides by).
fn window(o: usize, stride: usize, k: usize, pad: AxisPad, n: usize) -> (usize, usize, usize) {
    let start = (o * stride) as isize - pad.before as isize;
    let end = start + k as isize;
    let padded = (end.min((n + pad.after) as isize) - start.max(-(pad.before as isize))).max(0) as usize;
    let (d0, d1) = (start.max(0) as usize, end.clamp(0, n as isize) as usize);
    (d0, d1.max(d0), padded)
}

pub fn pooling3d<T: Float>(p: &Pooling3DLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c, dims) = bcdhw(x.shape())?;
    let g = Geometry {
        kernel: positive3([p.kernel_depth, p.kernel_height, p.kernel_width], ["kernelDepth", "kernelHeight", "kernelWidth"])?,
        stride: positive3([p.stride_depth, p.stride_height, p.stride_width], ["strideDepth", "strideHeight", "strideWidth"])?,
        dilation: [1, 1, 1],
        padding: Padding::read(
            p.padding_type,
            [
                p.custom_padding_front,
                p.custom_padding_back,
                p.custom_padding_top,
                p.custom_padding_bottom,
                p.custom_padding_left,
                p.custom_padding_right,
            ],
        )?,
    };
    let kind = PoolingType3D::try_from(p.r#type).map_err(|_| KernelError(format!("unknown pooling type {}", p.r#type)))?;
    let pads = g.pads(dims)?;
    let [d, h, w] = dims;
    let (od, oh, ow) = (pads[0].out, pads[1].out, pads[2].out);
    let xs = values(x);
    let mut out = Vec::with_capacity(batch * c * od * oh * ow);
    for vol in xs.chunks_exact(d * h * w).take(batch * c) {
        for oz in 0..od {
            let (z0, z1, pz) = window(oz, g.stride[0], g.kernel[0], pads[0], d);
            for oy in 0..oh {
                let (y0, y1, py) = window(oy, g.stride[1], g.kernel[1], pads[1], h);
                for ox in 0..ow {
                    let (x0, x1, px) = window(ox, g.stride[2], g.kernel[2], pads[2], w);
                    let cells = (z0..z1).flat_map(|z| (y0..y1).flat_map(move |y| (x0..x1).map(move |x| (z * h + y) * w + x)));
                    out.push(match kind {
                        PoolingType3D::Max => cells.fold(-T::infinity(), |m, i| m.max_nan(vol[i])),
                        PoolingType3D::Average => {
                            let sum = cells.fold(T::zero(), |s, i| s + vol[i]);
                            let n = if p.count_exclude_padding { (z1 - z0) * (y1 - y0) * (x1 - x0) } else { pz * py * px };
                            if n == 0 {
                                T::zero()
                            } else {
                                sum / T::from_usize(n)
                            }
                        }
                    });
                }
            }
        }
    }
    from_vec(vec![batch, c, od, oh, ow], out)
}

/// Max or mean over all of `D, H, W`: `[B, C, 1, 1, 1]`.
pub fn global_pooling3d<T: Float>(p: &GlobalPooling3DLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c, dims) = bcdhw(x.shape())?;
    let kind = GlobalPoolingType3D::try_from(p.r#type).map_err(|_| KernelError(format!("unknown pooling type {}", p.r#type)))?;
    let n: usize = dims.iter().product();
    let xs = values(x);
    let out = xs
        .chunks_exact(n)
        .take(batch * c)
        .map(|vol| match kind {
            GlobalPoolingType3D::Max => vol.iter().fold(-T::infinity(), |m, &v| m.max_nan(v)),
            GlobalPoolingType3D::Average => vol.iter().fold(T::zero(), |s, &v| s + v) / T::from_usize(n),
        })
        .collect();
    from_vec(vec![batch, c, 1, 1, 1], out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::WeightParams;
    use ndarray::IxDyn;

    fn wp(v: Vec<f32>) -> Option<WeightParams> {
        Some(WeightParams { float_value: v, ..Default::default() })
    }

    fn conv(kernel: [i32; 3], weights: Vec<f32>) -> Convolution3DLayerParams {
        Convolution3DLayerParams {
            output_channels: 1,
            input_channels: 1,
            n_groups: 1,
            kernel_depth: kernel[0],
            kernel_height: kernel[1],
            kernel_width: kernel[2],
            stride_depth: 1,
            stride_height: 1,
            stride_width: 1,
            dilation_depth: 1,
            dilation_height: 1,
            dilation_width: 1,
            weights: wp(weights),
            ..Default::default()
        }
    }

    #[test]
    fn both_padding_enums_number_custom_valid_same_0_1_2() {
        use crate::proto::coreml::convolution3_d_layer_params::PaddingType as C;
        use crate::proto::coreml::pooling3_d_layer_params::Pooling3DPaddingType as P;
        assert_eq!([C::Custom as i32, C::Valid as i32, C::Same as i32], [0, 1, 2]);
        assert_eq!([P::Custom as i32, P::Valid as i32, P::Same as i32], [0, 1, 2]);
        assert!(Padding::read(3, [0; 6]).is_err());
    }

    #[test]
    fn same_padding_puts_the_odd_cell_at_the_back() {
        // The proto's example: [1, 3, 3, 8, 8], kernel 3, stride 2, SAME: pads
        // [1, 1, 0, 1, 0, 1] and output [2, 4, 4].
        let g = Geometry { kernel: [3; 3], stride: [2; 3], dilation: [1; 3], padding: Padding::Same };
        let p = g.pads([3, 8, 8]).unwrap();
        assert_eq!(p.map(|a| (a.before, a.after, a.out)), [(1, 1, 2), (0, 1, 4), (0, 1, 4)]);
    }

    #[test]
    fn conv_sums_a_2x1x2_window_by_hand() {
        // Input [1, 1, 2, 1, 3] = [[1, 2, 3], [4, 5, 6]] along (D, W); kernel 2x1x2 of ones,
        // valid: out W = 2, D = 1: [1+2+4+5, 2+3+5+6] = [12, 16].
        let p = Convolution3DLayerParams { padding_type: 1, ..conv([2, 1, 2], vec![1.0; 4]) };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2, 1, 3]), (1..=6).map(|v| v as f32).collect()).unwrap();
        let y = convolution3d(&p, &[&x]).unwrap();
        assert_eq!(y.shape(), &[1, 1, 1, 1, 2]);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![12.0, 16.0]);
    }

    #[test]
    fn deconv_stride2_scatters_by_hand() {
        // Input W = [1, 2], kernel 1x1x2 of [1, 10], stride 2 along W, valid: full W
        // (2-1)*2+2 = 4: [1, 10, 2, 20].
        let p = Convolution3DLayerParams { padding_type: 1, stride_width: 2, is_deconvolution: true, ..conv([1, 1, 2], vec![1.0, 10.0]) };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 1, 1, 2]), vec![1.0f32, 2.0]).unwrap();
        let y = convolution3d(&p, &[&x]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![1.0, 10.0, 2.0, 20.0]);
        // SAME with outputShape [1, 1, 3]: excess 1 crops floor(1/2) = 0 before: [1, 10, 2].
        let p = Convolution3DLayerParams { padding_type: 2, output_shape: vec![1, 1, 3], ..p };
        let y = convolution3d(&p, &[&x]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![1.0, 10.0, 2.0]);
    }

    #[test]
    fn average_pool_counts_padding_unless_excluded() {
        // W = [2, 4], kernel 1x1x2, stride 1, custom left 1: windows [pad, 2], [2, 4].
        let p = Pooling3DLayerParams {
            r#type: PoolingType3D::Average as i32,
            kernel_depth: 1,
            kernel_height: 1,
            kernel_width: 2,
            stride_depth: 1,
            stride_height: 1,
            stride_width: 1,
            padding_type: 0,
            custom_padding_left: 1,
            ..Default::default()
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 1, 1, 2]), vec![2.0f32, 4.0]).unwrap();
        assert_eq!(pooling3d(&p, &[&x]).unwrap().iter().copied().collect::<Vec<_>>(), vec![1.0, 3.0]);
        let p = Pooling3DLayerParams { count_exclude_padding: true, ..p };
        assert_eq!(pooling3d(&p, &[&x]).unwrap().iter().copied().collect::<Vec<_>>(), vec![2.0, 3.0]);
    }

    #[test]
    fn rank_4_input_is_an_error() {
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2, 2]), vec![0.0f32; 4]).unwrap();
        let e = global_pooling3d(&GlobalPooling3DLayerParams::default(), &[&x]).unwrap_err();
        assert!(e.0.contains("rank 5"), "{}", e.0);
    }
}
