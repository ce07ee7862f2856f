//! Layers with weight matrices: convolution and deconvolution (im2col / col2im around one
//! matrix product per group, via ndarray's `dot`), innerProduct, batchedMatmul, embedding.

use super::arity;
use crate::kbail;
use crate::proto::coreml::{
    convolution_layer_params::ConvolutionPaddingType as Pad, same_padding::SamePaddingMode, BatchedMatMulLayerParams,
    ConvolutionLayerParams, EmbeddingLayerParams, EmbeddingNdLayerParams, InnerProductLayerParams, SamePadding,
    ValidPadding,
};
use crate::run::float::Float;
use crate::run::util::{bchw, broadcast_shapes, from_vec, to_index, values};
use crate::run::weights::{decode, decode_len};
use crate::run::KernelError;
use ndarray::{s, Array2, ArrayD, ArrayView2, Axis, IxDyn};

/// Padding of one spatial axis: amounts before and after, and the output length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisPad {
    pub before: usize,
    pub after: usize,
    pub out: usize,
}

/// `ValidPadding`: explicit amounts (default 0), output = floor((in + pads - k) / s) + 1.
pub fn valid_pad(v: Option<&ValidPadding>, dim: usize, input: usize, k: usize, stride: usize) -> Result<AxisPad, KernelError> {
    let (before, after) = v
        .and_then(|v| v.padding_amounts.as_ref())
        .and_then(|b| b.border_amounts.get(dim))
        .map(|e| (e.start_edge_size as usize, e.end_edge_size as usize))
        .unwrap_or((0, 0));
    explicit_pad(before, after, input, k, stride)
}

/// Explicit amounts `before` and `after` (valid and custom padding of the 2-D and 3-D
/// layers): output = floor((in + before + after - k) / s) + 1, the last partial window dropped.
pub fn explicit_pad(before: usize, after: usize, input: usize, k: usize, stride: usize) -> Result<AxisPad, KernelError> {
    let padded = input + before + after;
    if padded < k {
        kbail!("kernel size {k} exceeds the padded input size {padded}");
    }
    Ok(AxisPad { before, after, out: (padded - k) / stride + 1 })
}

/// `SamePadding`: output = ceil(in / s), total padding split by the asymmetry mode.
pub fn same_pad(p: &SamePadding, input: usize, k: usize, stride: usize) -> AxisPad {
    let out = input.div_ceil(stride);
    let total = ((out.max(1) - 1) * stride + k).saturating_sub(input);
    let (before, after) = if p.asymmetry_mode == SamePaddingMode::TopLeftHeavy as i32 {
        let after = total / 2;
        (total - after, after)
    } else {
        let before = total / 2;
        (before, total - before)
    };
    AxisPad { before, after, out }
}

/// The `[H, W]` pair of a 2-D layer's repeated field (`kernelSize`, `stride`...), `default`
/// for both when unset.
pub(crate) fn two(v: &[u64], default: usize, what: &str) -> Result<[usize; 2], KernelError> {
    match v {
        [] => Ok([default, default]),
        [a, b] => Ok([*a as usize, *b as usize]),
        _ => kbail!("{what} must have 2 values [H, W], got {:?}", v),
    }
}

/// Copies the `[C, H, W]` image `x` into im2col form `[C*kh*kw, oh*ow]` (zero padding).
#[allow(clippy::too_many_arguments)]
fn im2col<T: Float>(
    x: &[T],
    c: usize,
    h: usize,
    w: usize,
    k: [usize; 2],
    stride: [usize; 2],
    dil: [usize; 2],
    ph: AxisPad,
    pw: AxisPad,
) -> Array2<T> {
    let (oh, ow) = (ph.out, pw.out);
    let mut cols = Array2::<T>::zeros((c * k[0] * k[1], oh * ow));
    let data = cols.as_slice_mut().expect("fresh array is contiguous");
    let mut row = 0;
    for ci in 0..c {
        let img = &x[ci * h * w..(ci + 1) * h * w];
        for ki in 0..k[0] {
            for kj in 0..k[1] {
                let dst = &mut data[row * oh * ow..(row + 1) * oh * ow];
                for oy in 0..oh {
                    let iy = (oy * stride[0] + ki * dil[0]) as isize - ph.before as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let src = &img[iy as usize * w..(iy as usize + 1) * w];
                    let d = &mut dst[oy * ow..(oy + 1) * ow];
                    for (ox, slot) in d.iter_mut().enumerate() {
                        let ix = (ox * stride[1] + kj * dil[1]) as isize - pw.before as isize;
                        if ix >= 0 && (ix as usize) < w {
                            *slot = src[ix as usize];
                        }
                    }
                }
                row += 1;
            }
        }
    }
    cols
}

pub fn convolution<T: Float>(p: &ConvolutionLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 2)?;
    let x = ins[0];
    let (batch, c_in, h, w) = bchw(x.shape(), 3)?;
    let groups = p.n_groups.max(1) as usize;
    let k = two(&p.kernel_size, 3, "kernelSize")?;
    let stride = two(&p.stride, 1, "stride")?;
    let c_out = p.output_channels as usize;
    if k.contains(&0) || stride.contains(&0) {
        kbail!("kernelSize {:?} and stride {:?} must be positive", k, stride);
    }
    if c_in % groups != 0 || !c_out.is_multiple_of(groups) {
        kbail!("input channels {c_in} and output channels {c_out} must divide into {groups} groups");
    }
    let weights: Vec<T> = if ins.len() == 2 {
        if p.is_deconvolution {
            kbail!("a weight input is not allowed with deconvolution");
        }
        values(ins[1]).into_owned()
    } else {
        decode(p.weights.as_ref(), "weights")?
    };
    let bias: Option<Vec<T>> =
        if p.has_bias { Some(decode_len(p.bias.as_ref(), "bias", c_out)?) } else { None };
    let xs = values(x);
    let (out_h, out_w, mut out) = if !p.is_deconvolution {
        let dil = two(&p.dilation_factor, 1, "dilationFactor")?;
        if dil.contains(&0) {
            kbail!("dilationFactor {:?} must be positive", dil);
        }
        let kc = c_in / groups;
        if weights.len() != c_out * kc * k[0] * k[1] {
            kbail!(
                "weights have {} values, expected outputChannels {c_out} x kernelChannels {kc} x {} x {}",
                weights.len(),
                k[0],
                k[1]
            );
        }
        let keff = [(k[0] - 1) * dil[0] + 1, (k[1] - 1) * dil[1] + 1];
        let (ph, pw) = match &p.convolution_padding_type {
            Some(Pad::Same(s)) => (same_pad(s, h, keff[0], stride[0]), same_pad(s, w, keff[1], stride[1])),
            Some(Pad::Valid(v)) => (valid_pad(Some(v), 0, h, keff[0], stride[0])?, valid_pad(Some(v), 1, w, keff[1], stride[1])?),
            None => (valid_pad(None, 0, h, keff[0], stride[0])?, valid_pad(None, 1, w, keff[1], stride[1])?),
        };
        let (oh, ow) = (ph.out, pw.out);
        let ocg = c_out / groups;
        let wmat = ArrayView2::from_shape((c_out, kc * k[0] * k[1]), &weights[..]).map_err(|e| KernelError(e.to_string()))?;
        let mut out = vec![T::zero(); batch * c_out * oh * ow];
        for b in 0..batch {
            for g in 0..groups {
                let img = &xs[(b * c_in + g * kc) * h * w..(b * c_in + (g + 1) * kc) * h * w];
                let cols = im2col(img, kc, h, w, k, stride, dil, ph, pw);
                let wg = wmat.slice(s![g * ocg..(g + 1) * ocg, ..]);
                let y = wg.dot(&cols);
                let dst = &mut out[(b * c_out + g * ocg) * oh * ow..(b * c_out + (g + 1) * ocg) * oh * ow];
                for (d, v) in dst.iter_mut().zip(y.iter()) {
                    *d = *v;
                }
            }
        }
        (oh, ow, out)
    } else {
        deconvolution(p, &xs, &weights, batch, c_in, h, w, groups, k, stride)?
    };
    if let Some(bias) = bias {
        for (i, v) in out.iter_mut().enumerate() {
            *v += bias[(i / (out_h * out_w)) % c_out];
        }
    }
    let mut shape = x.shape().to_vec();
    let r = shape.len();
    shape[r - 3] = c_out;
    shape[r - 2] = out_h;
    shape[r - 1] = out_w;
    from_vec(shape, std::mem::take(&mut out))
}

/// Deconvolution: weights `[C_in, C_out/groups, kh, kw]`; each input pixel scatters a
/// kernel-sized patch into the output (col2im of `W^T x`), then padding is cropped.
///
/// Output size: `outputShape` when set, else valid `(in-1)*s + k - pads` or same `in*s`.
/// The amount cropped before the data is the valid `startEdgeSize` (0 by default: with
/// `outputShape`, rows are kept or zero-filled at the end, like TensorFlow's VALID
/// conv2d_transpose), or for same padding `floor(total/2)` with BOTTOM_RIGHT_HEAVY and
/// `total - floor(total/2)` with TOP_LEFT_HEAVY, where `total = (in-1)*s + k - out`
/// (TensorFlow's SAME rule, which coremltools relies on when it sets `outputShape`).
#[allow(clippy::too_many_arguments)]
fn deconvolution<T: Float>(
    p: &ConvolutionLayerParams,
    xs: &[T],
    weights: &[T],
    batch: usize,
    c_in: usize,
    h: usize,
    w: usize,
    groups: usize,
    k: [usize; 2],
    stride: [usize; 2],
) -> Result<(usize, usize, Vec<T>), KernelError> {
    let c_out = p.output_channels as usize;
    let ocg = c_out / groups;
    let icg = c_in / groups;
    if weights.len() != c_in * ocg * k[0] * k[1] {
        kbail!(
            "deconvolution weights have {} values, expected kernelChannels {c_in} x {ocg} x {} x {}",
            weights.len(),
            k[0],
            k[1]
        );
    }
    let full = [(h - 1) * stride[0] + k[0], (w - 1) * stride[1] + k[1]];
    let split = |total: usize, top_left_heavy: bool| {
        if top_left_heavy {
            total - total / 2
        } else {
            total / 2
        }
    };
    let (tlh, valid_before) = match &p.convolution_padding_type {
        Some(Pad::Same(s)) => (s.asymmetry_mode == SamePaddingMode::TopLeftHeavy as i32, None),
        Some(Pad::Valid(v)) => {
            let b = |d: usize| {
                v.padding_amounts
                    .as_ref()
                    .and_then(|b| b.border_amounts.get(d))
                    .map(|e| (e.start_edge_size as usize, e.end_edge_size as usize))
                    .unwrap_or((0, 0))
            };
            (false, Some([b(0), b(1)]))
        }
        None => (false, Some([(0, 0), (0, 0)])),
    };
    let mut out_hw = [0usize; 2];
    let mut before = [0isize; 2];
    for d in 0..2 {
        let input = if d == 0 { h } else { w };
        if p.output_shape.len() == 2 {
            out_hw[d] = p.output_shape[d] as usize;
            before[d] = match valid_before {
                Some(v) => v[d].0 as isize,
                None => split(full[d].saturating_sub(out_hw[d]), tlh) as isize,
            };
        } else if let Some(v) = valid_before {
            if full[d] < v[d].0 + v[d].1 {
                kbail!("deconvolution padding exceeds the output size");
            }
            out_hw[d] = full[d] - v[d].0 - v[d].1;
            before[d] = v[d].0 as isize;
        } else {
            out_hw[d] = input * stride[d];
            before[d] = split(full[d].saturating_sub(out_hw[d]), tlh) as isize;
        }
    }
    let (oh, ow) = (out_hw[0], out_hw[1]);
    let mut out = vec![T::zero(); batch * c_out * oh * ow];
    let kk = k[0] * k[1];
    for b in 0..batch {
        for g in 0..groups {
            // W_g: [icg, ocg*kh*kw]; cols = W_g^T . X_g: [ocg*kh*kw, h*w].
            let wg = ArrayView2::from_shape((icg, ocg * kk), &weights[g * icg * ocg * kk..(g + 1) * icg * ocg * kk])
                .map_err(|e| KernelError(e.to_string()))?;
            let xg = ArrayView2::from_shape((icg, h * w), &xs[(b * c_in + g * icg) * h * w..(b * c_in + (g + 1) * icg) * h * w])
                .map_err(|e| KernelError(e.to_string()))?;
            let cols = wg.t().dot(&xg);
            for oc in 0..ocg {
                let plane = &mut out[(b * c_out + g * ocg + oc) * oh * ow..(b * c_out + g * ocg + oc + 1) * oh * ow];
                for ki in 0..k[0] {
                    for kj in 0..k[1] {
                        let row = cols.row(oc * kk + ki * k[1] + kj);
                        for iy in 0..h {
                            let oy = (iy * stride[0] + ki) as isize - before[0];
                            if oy < 0 || oy >= oh as isize {
                                continue;
                            }
                            for ix in 0..w {
                                let ox = (ix * stride[1] + kj) as isize - before[1];
                                if ox >= 0 && (ox as usize) < ow {
                                    plane[oy as usize * ow + ox as usize] += row[iy * w + ix];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok((oh, ow, out))
}

/// `x . W^T + b` with `W` stored `[rows_out, cols_in]` row-major, over `x` viewed as `[n, cols_in]`.
fn matmul_wt<T: Float>(x: &[T], n: usize, c_in: usize, w: &[T], c_out: usize, bias: Option<&[T]>) -> Result<Vec<T>, KernelError> {
    let xm = ArrayView2::from_shape((n, c_in), x).map_err(|e| KernelError(e.to_string()))?;
    let wm = ArrayView2::from_shape((c_out, c_in), w).map_err(|e| KernelError(e.to_string()))?;
    let mut y = xm.dot(&wm.t());
    if let Some(b) = bias {
        for mut row in y.rows_mut() {
            for (v, &bb) in row.iter_mut().zip(b) {
                *v += bb;
            }
        }
    }
    Ok(y.into_iter().collect())
}

pub fn inner_product<T: Float>(p: &InnerProductLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    if p.int8_dynamic_quantize {
        kbail!("int8DynamicQuantize (quantized weights) is not supported");
    }
    let x = ins[0];
    let (c_in, c_out) = (p.input_channels as usize, p.output_channels as usize);
    let s = x.shape();
    // Proto: rank 1 (C_in); 2 (x1, C_in); 3 (x1*x2, C_in); 4 (x1, x2*x3*x4); 5 (x1*x2, x3*x4*x5).
    let (n, k, out_shape) = match s.len() {
        1 => (1, s[0], vec![c_out]),
        2 => (s[0], s[1], vec![s[0], c_out]),
        3 => (s[0] * s[1], s[2], vec![s[0], s[1], c_out]),
        4 => (s[0], s[1] * s[2] * s[3], vec![s[0], c_out, 1, 1]),
        5 => (s[0] * s[1], s[2] * s[3] * s[4], vec![s[0], s[1], c_out, 1, 1]),
        r => kbail!("input rank {r} is not 1 to 5"),
    };
    if k != c_in {
        kbail!("input shape {:?} gives {k} input channels, but inputChannels is {c_in}", s);
    }
    let w = decode_len::<T>(p.weights.as_ref(), "weights", c_in * c_out)?;
    let b = if p.has_bias { Some(decode_len::<T>(p.bias.as_ref(), "bias", c_out)?) } else { None };
    let y = matmul_wt(&values(x), n, c_in, &w, c_out, b.as_deref())?;
    from_vec(out_shape, y)
}

pub fn batched_matmul<T: Float>(p: &BatchedMatMulLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 2)?;
    if p.int8_dynamic_quantize {
        kbail!("int8DynamicQuantize (quantized weights) is not supported");
    }
    if ins.len() == 1 {
        // Weight [X1, X2] stored column-major, i.e. as [X2, X1] row-major: y = x . W.
        let x = ins[0];
        let (x1, x2) = (p.weight_matrix_first_dimension as usize, p.weight_matrix_second_dimension as usize);
        let s = x.shape();
        if s.is_empty() || s[s.len() - 1] != x1 {
            kbail!("input shape {:?} must end in weightMatrixFirstDimension {x1}", s);
        }
        let n = x.len() / x1;
        let w = decode_len::<T>(p.weights.as_ref(), "weights", x1 * x2)?;
        let b = if p.has_bias { Some(decode_len::<T>(p.bias.as_ref(), "bias", x2)?) } else { None };
        let y = matmul_wt(&values(x), n, x1, &w, x2, b.as_deref())?;
        let mut shape = s.to_vec();
        let r = shape.len();
        shape[r - 1] = x2;
        return from_vec(shape, y);
    }
    let (a, b) = (ins[0], ins[1]);
    // Rank 1: a (D) -> (1, D); b (D) -> (D, 1). The result keeps rank max(2, ...).
    let mut sa = a.shape().to_vec();
    let mut sb = b.shape().to_vec();
    if sa.is_empty() || sb.is_empty() {
        kbail!("inputs must have rank >= 1");
    }
    if sa.len() == 1 {
        sa.insert(0, 1);
    }
    if sb.len() == 1 {
        sb.push(1);
    }
    // `to_shape` reads in logical order whatever the memory layout (an input can be a
    // transposed view: `into_shape_with_order` refused it with "incompatible memory layout").
    let a = a.to_shape(IxDyn(&sa)).map_err(|e| KernelError(e.to_string()))?;
    let b = b.to_shape(IxDyn(&sb)).map_err(|e| KernelError(e.to_string()))?;
    let (ra, rb) = (sa.len(), sb.len());
    let (m, ka) = if p.transpose_a { (sa[ra - 1], sa[ra - 2]) } else { (sa[ra - 2], sa[ra - 1]) };
    let (kb, n) = if p.transpose_b { (sb[rb - 1], sb[rb - 2]) } else { (sb[rb - 2], sb[rb - 1]) };
    if ka != kb {
        kbail!("inner dimensions differ: {:?} x {:?} (transposeA {}, transposeB {})", sa, sb, p.transpose_a, p.transpose_b);
    }
    let batch = broadcast_shapes(&[&sa[..ra - 2], &sb[..rb - 2]])?;
    let mut bsa = batch.clone();
    bsa.extend_from_slice(&sa[ra - 2..]);
    let mut bsb = batch.clone();
    bsb.extend_from_slice(&sb[rb - 2..]);
    let av = a.broadcast(IxDyn(&bsa)).ok_or_else(|| KernelError("batch dimensions do not broadcast".into()))?;
    let bv = b.broadcast(IxDyn(&bsb)).ok_or_else(|| KernelError("batch dimensions do not broadcast".into()))?;
    let nb: usize = batch.iter().product();
    let av = av.to_shape(IxDyn(&[nb, sa[ra - 2], sa[ra - 1]])).map_err(|e| KernelError(e.to_string()))?;
    let bv = bv.to_shape(IxDyn(&[nb, sb[rb - 2], sb[rb - 1]])).map_err(|e| KernelError(e.to_string()))?;
    let mut out = Vec::with_capacity(nb * m * n);
    for i in 0..nb {
        let ai = av.index_axis(Axis(0), i).into_dimensionality::<ndarray::Ix2>().map_err(|e| KernelError(e.to_string()))?;
        let bi = bv.index_axis(Axis(0), i).into_dimensionality::<ndarray::Ix2>().map_err(|e| KernelError(e.to_string()))?;
        let ai = if p.transpose_a { ai.reversed_axes() } else { ai };
        let bi = if p.transpose_b { bi.reversed_axes() } else { bi };
        out.extend(ai.dot(&bi).iter().copied());
    }
    let mut shape = batch;
    shape.push(m);
    shape.push(n);
    from_vec(shape, out)
}

/// Legacy embedding: indices in `[..., 1, 1, 1]` (rank 4 or 5), weights `[C_out, inputDim]`.
pub fn embedding<T: Float>(p: &EmbeddingLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let s = x.shape();
    if s.len() < 3 || s[s.len() - 3..] != [1, 1, 1] {
        kbail!("input must have its last three dimensions 1, got {:?}", s);
    }
    let (dim, c_out) = (p.input_dim as usize, p.output_channels as usize);
    let w = decode_len::<T>(p.weights.as_ref(), "weights", dim * c_out)?;
    let b = if p.has_bias { Some(decode_len::<T>(p.bias.as_ref(), "bias", c_out)?) } else { None };
    let mut out = Vec::with_capacity(x.len() * c_out);
    for &v in x.iter() {
        let i = to_index(v, dim, "embedding index")?;
        for o in 0..c_out {
            out.push(w[o * dim + i] + b.as_ref().map_or(T::zero(), |b| b[o]));
        }
    }
    let mut shape = s.to_vec();
    let r = shape.len();
    shape[r - 3] = c_out;
    from_vec(shape, out)
}

/// EmbeddingND: indices `[..., 1]`, weights `[embeddingSize, vocabSize]`; output `[..., E]`.
pub fn embedding_nd<T: Float>(p: &EmbeddingNdLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let s = x.shape();
    if s.len() < 2 || s[s.len() - 1] != 1 {
        kbail!("input must have rank >= 2 and last dimension 1, got {:?}", s);
    }
    let (vocab, e) = (p.vocab_size as usize, p.embedding_size as usize);
    let w = decode_len::<T>(p.weights.as_ref(), "weights", vocab * e)?;
    let b = if p.has_bias { Some(decode_len::<T>(p.bias.as_ref(), "bias", e)?) } else { None };
    let mut out = Vec::with_capacity(x.len() * e);
    for &v in x.iter() {
        let i = to_index(v, vocab, "embedding index")?;
        for o in 0..e {
            out.push(w[o * vocab + i] + b.as_ref().map_or(T::zero(), |b| b[o]));
        }
    }
    let mut shape = s.to_vec();
    let r = shape.len();
    shape[r - 1] = e;
    from_vec(shape, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::WeightParams;

    fn wp(v: Vec<f32>) -> Option<WeightParams> {
        Some(WeightParams { float_value: v, ..Default::default() })
    }

    #[test]
    fn same_padding_split() {
        // in 5, k 3, s 2: out 3, total = (3-1)*2+3-5 = 2 -> 1/1; in 4: out 2, total = 1.
        let br = SamePadding { asymmetry_mode: 0 };
        assert_eq!(same_pad(&br, 5, 3, 2), AxisPad { before: 1, after: 1, out: 3 });
        assert_eq!(same_pad(&br, 4, 3, 2), AxisPad { before: 0, after: 1, out: 2 });
        let tl = SamePadding { asymmetry_mode: 1 };
        assert_eq!(same_pad(&tl, 4, 3, 2), AxisPad { before: 1, after: 0, out: 2 });
    }

    #[test]
    fn conv_3x3_same_by_hand() {
        // 1 channel 3x3 input 1..9, all-ones 3x3 kernel, same padding: each output is the sum
        // of its 3x3 neighbourhood; centre = 45, corner (0,0) = 1+2+4+5 = 12.
        let p = ConvolutionLayerParams {
            output_channels: 1,
            kernel_channels: 1,
            n_groups: 1,
            kernel_size: vec![3, 3],
            weights: wp(vec![1.0; 9]),
            convolution_padding_type: Some(Pad::Same(SamePadding::default())),
            ..Default::default()
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 3, 3]), (1..=9).map(|v| v as f32).collect()).unwrap();
        let y = convolution(&p, &[&x]).unwrap();
        assert_eq!(y.shape(), &[1, 1, 3, 3]);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![12.0, 21.0, 16.0, 27.0, 45.0, 33.0, 24.0, 39.0, 28.0]);
    }

    #[test]
    fn deconv_stride2_by_hand() {
        // 1x1 input [2x1 pixels a=1, b=2] (H=1, W=2), kernel 1x2 of [1, 10], stride 2, valid:
        // output width (2-1)*2+2 = 4: [a*1, a*10, b*1, b*10] = [1, 10, 2, 20].
        let p = ConvolutionLayerParams {
            output_channels: 1,
            kernel_channels: 1,
            n_groups: 1,
            kernel_size: vec![1, 2],
            stride: vec![1, 2],
            is_deconvolution: true,
            weights: wp(vec![1.0, 10.0]),
            ..Default::default()
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 1, 2]), vec![1.0f32, 2.0]).unwrap();
        let y = convolution(&p, &[&x]).unwrap();
        assert_eq!(y.shape(), &[1, 1, 1, 4]);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![1.0, 10.0, 2.0, 20.0]);
    }

    #[test]
    fn batched_matmul_weights_are_column_major() {
        // W = [[1, 2], [3, 4]] ([X1=2, X2=2]) is stored column-major: [1, 3, 2, 4].
        // x = [1, 1] -> x.W = [4, 6].
        let p = BatchedMatMulLayerParams {
            weight_matrix_first_dimension: 2,
            weight_matrix_second_dimension: 2,
            weights: wp(vec![1.0, 3.0, 2.0, 4.0]),
            ..Default::default()
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 2]), vec![1.0f32, 1.0]).unwrap();
        assert_eq!(batched_matmul(&p, &[&x]).unwrap().iter().copied().collect::<Vec<_>>(), vec![4.0, 6.0]);
    }

    #[test]
    fn deconv_same_with_output_shape_crops_half_the_excess_before() {
        // H=1, W=2, kernel 1x4 of ones, stride 2, same, outputShape [1, 4]:
        // full width (2-1)*2+4 = 6: [a, a, a+b, a+b, b, b] with a=1, b=10 -> [1,1,11,11,10,10];
        // total excess 2, BOTTOM_RIGHT_HEAVY crops 1 before: [1, 11, 11, 10].
        let p = ConvolutionLayerParams {
            output_channels: 1,
            kernel_channels: 1,
            n_groups: 1,
            kernel_size: vec![1, 4],
            stride: vec![1, 2],
            is_deconvolution: true,
            output_shape: vec![1, 4],
            weights: wp(vec![1.0; 4]),
            convolution_padding_type: Some(Pad::Same(SamePadding::default())),
            ..Default::default()
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 1, 2]), vec![1.0f32, 10.0]).unwrap();
        let y = convolution(&p, &[&x]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![1.0, 11.0, 11.0, 10.0]);
        // Valid with the same outputShape keeps the first 4 columns: [1, 1, 11, 11].
        let p = ConvolutionLayerParams { convolution_padding_type: None, ..p };
        let y = convolution(&p, &[&x]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![1.0, 1.0, 11.0, 11.0]);
    }
}
