//! Layers that move, copy or create data without arithmetic on it: reshapes, flatten,
//! expand/squeeze, transpose/permute, concat/split/stack, slices, tile, reverse,
//! reorganizeData, constants and fills, broadcastTo, range, oneHot, band parts.

use super::arity;
use crate::kbail;
use crate::proto::coreml::{
    flatten_layer_params::FlattenOrder, reorganize_data_layer_params::ReorganizationType,
    reshape_layer_params::ReshapeOrder, slice_layer_params::SliceAxis, FlattenLayerParams, OneHotLayerParams,
    RangeDynamicLayerParams, RangeStaticLayerParams, ReorganizeDataLayerParams, ReshapeLayerParams,
    SliceBySizeLayerParams, SliceDynamicLayerParams, SliceLayerParams, SliceStaticLayerParams, SplitNdLayerParams,
    WeightParams,
};
use crate::run::float::Float;
use crate::run::util::{axis, bchw, broadcast_to, check_size, element_count, element_limit, from_vec, outer_inner, reshape, values};
use crate::run::weights::decode;
use crate::run::KernelError;
use ndarray::{ArrayD, Axis, Dimension, IxDyn, Slice};

fn ints<T: Float>(a: &ArrayD<T>) -> Vec<i64> {
    a.iter().map(|v| v.to_f64() as i64).collect()
}

/// The integers of a blob that holds indices or sizes (a shape, begin/end ids, reps): a
/// fractional value is an error, not a truncation, so a conversion that feeds an unconverted
/// float into a shape input fails the comparison instead of agreeing by luck.
pub(crate) fn exact_ints<T: Float>(a: &ArrayD<T>, what: &str) -> Result<Vec<i64>, KernelError> {
    a.iter()
        .map(|v| {
            let f = v.to_f64();
            if f.fract() == 0.0 && f.is_finite() {
                Ok(f as i64)
            } else {
                Err(KernelError(format!("{what} holds {f}, which is not an integer")))
            }
        })
        .collect()
}

fn dims_from(values: &[i64], what: &str) -> Result<Vec<usize>, KernelError> {
    values
        .iter()
        .map(|&d| if d < 0 { Err(KernelError(format!("{what} has a negative dimension {d}"))) } else { Ok(d as usize) })
        .collect()
}

/// Resolves a target shape with at most one -1 (and, when `zero_copies`, 0 = keep the input
/// dimension) against `n` values.
fn resolve_shape(target: &[i64], input: &[usize], n: usize, zero_copies: bool) -> Result<Vec<usize>, KernelError> {
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &d) in target.iter().enumerate() {
        if d == -1 {
            if infer.is_some() {
                kbail!("target shape {:?} has more than one -1", target);
            }
            infer = Some(i);
            out.push(1);
        } else if d == 0 && zero_copies {
            match input.get(i) {
                Some(&v) => out.push(v),
                None => kbail!("target shape {:?}: 0 at axis {i} has no input dimension to copy", target),
            }
        } else if d < 0 {
            kbail!("target shape {:?} has an invalid dimension {d}", target);
        } else {
            out.push(d as usize);
        }
    }
    if let Some(i) = infer {
        let known = element_count(&out)?;
        if known == 0 || !n.is_multiple_of(known) {
            kbail!("cannot infer the -1 of {:?} for {n} values", target);
        }
        out[i] = n / known;
    }
    Ok(out)
}

pub fn reshape_static<T: Float>(target: &[i64], ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let s = resolve_shape(target, ins[0].shape(), ins[0].len(), false)?;
    reshape(ins[0], &s)
}

pub fn reshape_dynamic<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    let s = resolve_shape(&exact_ints(ins[1], "shape input")?, ins[0].shape(), ins[0].len(), false)?;
    reshape(ins[0], &s)
}

pub fn reshape_like<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    reshape(ins[0], ins[1].shape())
}

pub fn rank_preserving_reshape<T: Float>(target: &[i64], ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    if target.len() != ins[0].ndim() {
        kbail!("targetShape {:?} must have the input rank {}", target, ins[0].ndim());
    }
    let s = resolve_shape(target, ins[0].shape(), ins[0].len(), true)?;
    reshape(ins[0], &s)
}

/// Pads a legacy blob to rank 5 (`[S, B, C, H, W]`) by prepending ones.
fn as_rank5(s: &[usize]) -> Result<[usize; 5], KernelError> {
    if s.len() > 5 || s.len() < 3 {
        kbail!("expects a rank 3 to 5 blob [Seq, B, C, H, W], got shape {:?}", s);
    }
    let mut r = [1usize; 5];
    r[5 - s.len()..].copy_from_slice(s);
    Ok(r)
}

/// Legacy reshape (rank 5): targetShape `[C,H,W]` keeps the sequence length, `[S,C,H,W]`
/// sets it; batch takes what remains. CHANNEL_LAST flattens each sequence element in
/// `H,W,C` order and permutes the result back to `C,H,W`.
pub fn reshape_legacy<T: Float>(p: &ReshapeLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let [s, b, c, h, w] = as_rank5(x.shape())?;
    let t = dims_from(&p.target_shape, "targetShape")?;
    let (s2, c2, h2, w2) = match t[..] {
        [c2, h2, w2] => (s, c2, h2, w2),
        [s2, c2, h2, w2] => (s2, c2, h2, w2),
        _ => kbail!("targetShape must have 3 or 4 values, got {:?}", p.target_shape),
    };
    let per = s2 * c2 * h2 * w2;
    if per == 0 || !x.len().is_multiple_of(per) {
        kbail!("cannot reshape {:?} to sequence {s2} x [{c2}, {h2}, {w2}]", x.shape());
    }
    let b2 = x.len() / per;
    if ReshapeOrder::try_from(p.mode) == Ok(ReshapeOrder::ChannelLast) {
        // [S,B,C,H,W] -> [S,B,H,W,C], flatten, reshape to [S2,B2,H2,W2,C2], back to C-first.
        let v = x.view().into_shape_with_order(IxDyn(&[s, b, c, h, w])).map_err(|e| KernelError(e.to_string()))?;
        let hwc = v.permuted_axes(IxDyn(&[0, 1, 3, 4, 2]));
        let flat: Vec<T> = hwc.iter().copied().collect();
        let y = from_vec(vec![s2, b2, h2, w2, c2], flat)?;
        let y = y.permuted_axes(IxDyn(&[0, 1, 4, 2, 3]));
        return Ok(y.as_standard_layout().into_owned());
    }
    reshape(x, &[s2, b2, c2, h2, w2])
}

/// Legacy flatten: `[..., C, H, W]` -> `[..., C*H*W, 1, 1]` (CHANNEL_LAST in H,W,C order).
pub fn flatten<T: Float>(p: &FlattenLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c, h, w) = bchw(x.shape(), 3)?;
    let r = x.ndim();
    let mut shape = x.shape().to_vec();
    shape[r - 3] = c * h * w;
    shape[r - 2] = 1;
    shape[r - 1] = 1;
    if FlattenOrder::try_from(p.mode) == Ok(FlattenOrder::ChannelLast) {
        let v = x.view().into_shape_with_order(IxDyn(&[batch, c, h, w])).map_err(|e| KernelError(e.to_string()))?;
        let flat: Vec<T> = v.permuted_axes(IxDyn(&[0, 2, 3, 1])).iter().copied().collect();
        return from_vec(shape, flat);
    }
    reshape(x, &shape)
}

pub fn flatten_to_2d<T: Float>(ax: i64, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let r = x.ndim() as i64;
    let a = if ax < 0 { ax + r } else { ax };
    if a < 0 || a > r {
        kbail!("axis {ax} is out of range for rank {r}");
    }
    let a = a as usize;
    let first: usize = x.shape()[..a].iter().product();
    let second: usize = x.shape()[a..].iter().product();
    reshape(x, &[first, second])
}

pub fn expand_dims<T: Float>(axes: &[i64], ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let out_rank = x.ndim() + axes.len();
    let mut put = vec![false; out_rank];
    for &a in axes {
        let n = axis(a, out_rank)?;
        if put[n] {
            kbail!("axis {a} is given twice");
        }
        put[n] = true;
    }
    let mut it = x.shape().iter();
    let shape: Vec<usize> = put.iter().map(|&p| if p { 1 } else { *it.next().unwrap_or(&1) }).collect();
    reshape(x, &shape)
}

pub fn squeeze<T: Float>(axes: &[i64], all: bool, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let r = x.ndim();
    let mut drop = vec![false; r];
    if all {
        for (d, &n) in x.shape().iter().enumerate() {
            drop[d] = n == 1;
        }
    } else {
        for &a in axes {
            let n = axis(a, r)?;
            if x.shape()[n] != 1 {
                kbail!("cannot squeeze axis {a} of size {} (shape {:?})", x.shape()[n], x.shape());
            }
            drop[n] = true;
        }
    }
    let mut shape: Vec<usize> = x.shape().iter().zip(&drop).filter(|(_, &d)| !d).map(|(&n, _)| n).collect();
    if shape.is_empty() {
        shape.push(1);
    }
    reshape(x, &shape)
}

pub fn transpose<T: Float>(axes: &[u64], ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let perm: Vec<usize> = axes.iter().map(|&a| a as usize).collect();
    let mut seen = vec![false; x.ndim()];
    if perm.len() != x.ndim() || perm.iter().any(|&a| a >= x.ndim() || std::mem::replace(&mut seen[a], true)) {
        kbail!("axes {:?} are not a permutation of the rank {} input", axes, x.ndim());
    }
    Ok(x.view().permuted_axes(IxDyn(&perm)).as_standard_layout().into_owned())
}

/// Legacy permute of `[S, B, C, H, W]`: `axis` permutes (S, C, H, W), batch stays put.
/// Inputs of rank 3 or 4 are padded to rank 5 with leading ones, which are removed again
/// when they stay 1 and in front.
pub fn permute<T: Float>(axis_: &[u64], ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let r = x.ndim();
    let s5 = as_rank5(x.shape())?;
    let order: Vec<usize> = if axis_.is_empty() { vec![0, 1, 2, 3] } else { axis_.iter().map(|&a| a as usize).collect() };
    let mut sorted = order.clone();
    sorted.sort();
    if sorted != [0, 1, 2, 3] {
        kbail!("axis {:?} must be a permutation of [0, 1, 2, 3]", axis_);
    }
    let m = [0usize, 2, 3, 4];
    let perm = [m[order[0]], 1, m[order[1]], m[order[2]], m[order[3]]];
    let v = x.view().into_shape_with_order(IxDyn(&s5)).map_err(|e| KernelError(e.to_string()))?;
    let y = v.permuted_axes(IxDyn(&perm)).as_standard_layout().into_owned();
    let out5 = y.shape().to_vec();
    let lead = 5 - r;
    if out5[..lead].iter().all(|&d| d == 1) {
        return reshape(&y, &out5[lead..]);
    }
    Ok(y)
}

fn concat_axis<T: Float>(ins: &[&ArrayD<T>], a: usize) -> Result<ArrayD<T>, KernelError> {
    // ndarray panics (indexing a shape past its rank) on inputs of different ranks.
    let ranks: Vec<usize> = ins.iter().map(|x| x.ndim()).collect();
    if ranks.iter().any(|&r| r != ranks[0] || a >= r) {
        kbail!("inputs of ranks {ranks:?} cannot be concatenated along axis {a}");
    }
    let views: Vec<_> = ins.iter().map(|x| x.view()).collect();
    ndarray::concatenate(Axis(a), &views).map_err(|_| {
        KernelError(format!(
            "inputs of shapes {:?} cannot be concatenated along axis {a}",
            ins.iter().map(|x| x.shape().to_vec()).collect::<Vec<_>>()
        ))
    })
}

/// Legacy concat: along axis -3 (or -5 with sequenceConcat).
pub fn concat_legacy<T: Float>(seq: bool, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, usize::MAX)?;
    let r = ins[0].ndim();
    concat_axis(ins, axis(if seq { -5 } else { -3 }, r)?)
}

pub fn concat_nd<T: Float>(ax: i64, interleave: bool, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, usize::MAX)?;
    let a = axis(ax, ins[0].ndim())?;
    if !interleave {
        return concat_axis(ins, a);
    }
    // Interleave: output[i::n] = input_i along the axis (all inputs the same shape).
    let s = ins[0].shape();
    if ins.iter().any(|x| x.shape() != s) {
        kbail!("interleaved concat needs inputs of one shape");
    }
    let stacked = stack_axis(ins, a + 1)?;
    let mut shape = s.to_vec();
    shape[a] *= ins.len();
    reshape(&stacked, &shape)
}

fn stack_axis<T: Float>(ins: &[&ArrayD<T>], a: usize) -> Result<ArrayD<T>, KernelError> {
    let views: Vec<_> = ins.iter().map(|x| x.view()).collect();
    ndarray::stack(Axis(a), &views).map_err(|_| KernelError("inputs to stack must all have one shape".into()))
}

pub fn stack<T: Float>(ax: i64, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, usize::MAX)?;
    let a = axis(ax, ins[0].ndim() + 1)?;
    stack_axis(ins, a)
}

fn split_sizes<T: Float>(x: &ArrayD<T>, a: usize, sizes: &[usize]) -> Result<Vec<ArrayD<T>>, KernelError> {
    let total: usize = sizes.iter().sum();
    if total != x.shape()[a] {
        kbail!("split sizes {:?} do not add up to the axis length {}", sizes, x.shape()[a]);
    }
    let mut start = 0;
    let mut out = Vec::with_capacity(sizes.len());
    for &n in sizes {
        out.push(x.slice_axis(Axis(a), Slice::from(start..start + n)).to_owned());
        start += n;
    }
    Ok(out)
}

fn equal_split(len: usize, n: usize) -> Result<Vec<usize>, KernelError> {
    if n == 0 || !len.is_multiple_of(n) {
        kbail!("an axis of length {len} does not split into {n} equal parts");
    }
    Ok(vec![len / n; n])
}

pub fn split_legacy<T: Float>(n: u64, n_out: usize, ins: &[&ArrayD<T>]) -> Result<Vec<ArrayD<T>>, KernelError> {
    arity(ins, 1, 1)?;
    let a = axis(-3, ins[0].ndim())?;
    let n = if n == 0 { n_out } else { n as usize };
    split_sizes(ins[0], a, &equal_split(ins[0].shape()[a], n)?)
}

pub fn split_nd<T: Float>(p: &SplitNdLayerParams, n_out: usize, ins: &[&ArrayD<T>]) -> Result<Vec<ArrayD<T>>, KernelError> {
    arity(ins, 1, 1)?;
    let a = axis(p.axis, ins[0].ndim())?;
    let sizes = if !p.split_sizes.is_empty() {
        p.split_sizes.iter().map(|&s| s as usize).collect()
    } else {
        let n = if p.num_splits == 0 { n_out } else { p.num_splits as usize };
        equal_split(ins[0].shape()[a], n)?
    };
    split_sizes(ins[0], a, &sizes)
}

/// Legacy slice along C, H or W: `[start, end)` with negative indices counted from the end
/// (so end = -1 stops before the last element, as the proto says), positive stride.
pub fn slice_legacy<T: Float>(p: &SliceLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let ax = match SliceAxis::try_from(p.axis) {
        Ok(SliceAxis::ChannelAxis) => -3,
        Ok(SliceAxis::HeightAxis) => -2,
        Ok(SliceAxis::WidthAxis) => -1,
        Err(_) => kbail!("unknown slice axis {}", p.axis),
    };
    let a = axis(ax, x.ndim())?;
    let n = x.shape()[a] as i64;
    let fix = |i: i64| if i < 0 { (i + n).clamp(0, n) } else { i.min(n) };
    let (start, end) = (fix(p.start_index), fix(p.end_index));
    let stride = p.stride.max(1) as isize;
    let end = end.max(start);
    Ok(x.slice_axis(Axis(a), Slice::new(start as isize, Some(end as isize), stride)).to_owned())
}

/// One axis of a strided slice with Python semantics; returns (start, end, step) for ndarray,
/// or `None` for an empty selection.
fn python_slice(n: usize, begin: i64, end: i64, stride: i64, begin_mask: bool, end_mask: bool) -> Result<Vec<usize>, KernelError> {
    if stride == 0 {
        kbail!("stride 0 is not allowed");
    }
    let n = n as i64;
    let (lo, hi) = if stride > 0 { (0, n) } else { (-1, n - 1) };
    let norm = |i: i64| {
        let i = if i < 0 { i + n } else { i };
        i.clamp(lo, hi)
    };
    let b = if begin_mask { if stride > 0 { 0 } else { n - 1 } } else { norm(begin) };
    let e = if end_mask { if stride > 0 { n } else { -1 } } else { norm(end) };
    let mut out = Vec::new();
    let mut i = b;
    while (stride > 0 && i < e) || (stride < 0 && i > e) {
        out.push(i as usize);
        i += stride;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn strided_slice<T: Float>(
    x: &ArrayD<T>,
    begin: &[i64],
    end: &[i64],
    strides: &[i64],
    begin_mask: &[bool],
    end_mask: &[bool],
    squeeze: &[bool],
) -> Result<ArrayD<T>, KernelError> {
    let r = x.ndim();
    let get = |v: &[i64], d: usize, default: i64| v.get(d).copied().unwrap_or(default);
    let getb = |v: &[bool], d: usize| v.get(d).copied().unwrap_or(false);
    if begin.len() != r {
        kbail!("beginIds has {} values, expected the input rank {r}", begin.len());
    }
    let mut cur = x.to_owned();
    let mut squeeze_axes = Vec::new();
    for d in 0..r {
        let n = x.shape()[d];
        let idx = if getb(squeeze, d) {
            squeeze_axes.push(d);
            let b = get(begin, d, 0);
            let i = if b < 0 { b + n as i64 } else { b };
            if i < 0 || i >= n as i64 {
                kbail!("squeezed index {b} is out of range for axis {d} of size {n}");
            }
            vec![i as usize]
        } else {
            python_slice(n, get(begin, d, 0), get(end, d, -1), get(strides, d, 1), getb(begin_mask, d), getb(end_mask, d))?
        };
        if idx.len() != n || idx.iter().enumerate().any(|(i, &j)| i != j) {
            cur = cur.select(Axis(d), &idx);
        }
    }
    if squeeze_axes.is_empty() {
        return Ok(cur);
    }
    let mut shape: Vec<usize> =
        cur.shape().iter().enumerate().filter(|(d, _)| !squeeze_axes.contains(d)).map(|(_, &n)| n).collect();
    if shape.is_empty() {
        shape.push(1);
    }
    reshape(&cur, &shape)
}

pub fn slice_static<T: Float>(p: &SliceStaticLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    strided_slice(ins[0], &p.begin_ids, &p.end_ids, &p.strides, &p.begin_masks, &p.end_masks, &p.squeeze_masks)
}

pub fn slice_dynamic<T: Float>(p: &SliceDynamicLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 7)?;
    let bools = |a: &ArrayD<T>| a.iter().map(|v| *v != T::zero()).collect::<Vec<_>>();
    let begin = exact_ints(ins[1], "beginIds input")?;
    let end = if ins.len() > 2 { exact_ints(ins[2], "endIds input")? } else { p.end_ids.clone() };
    let strides = if ins.len() > 3 { exact_ints(ins[3], "strides input")? } else { p.strides.clone() };
    let bm = if ins.len() > 4 { bools(ins[4]) } else { p.begin_masks.clone() };
    let em = if ins.len() > 5 { bools(ins[5]) } else { p.end_masks.clone() };
    let sm = if ins.len() > 6 { bools(ins[6]) } else { p.squeeze_masks.clone() };
    strided_slice(ins[0], &begin, &end, &strides, &bm, &em, &sm)
}

pub fn slice_by_size<T: Float>(p: &SliceBySizeLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    let x = ins[0];
    let a = axis(p.axis, x.ndim())?;
    let n = x.shape()[a] as i64;
    let b = ints(ins[1]).first().copied().unwrap_or(0);
    let b = if b < 0 { b + n } else { b };
    let end = b.checked_add(p.size).filter(|&e| b >= 0 && p.size >= 0 && e <= n);
    let Some(end) = end else {
        kbail!("slice [{b}, {b}+{}) is out of range for an axis of size {n}", p.size);
    };
    Ok(x.slice_axis(Axis(a), Slice::from(b as usize..end as usize)).to_owned())
}

pub fn tile<T: Float>(reps: &[u64], ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 2)?;
    let x = ins[0];
    let r = x.ndim();
    let reps: Vec<usize> = if ins.len() == 2 {
        dims_from(&exact_ints(ins[1], "reps input")?, "reps")?
    } else {
        reps.iter().map(|&v| v as usize).collect()
    };
    if reps.is_empty() || reps.len() > r {
        kbail!("reps {:?} must have 1 to rank ({r}) values", reps);
    }
    let mut full = vec![1usize; r - reps.len()];
    full.extend(reps);
    check_size(x.shape().iter().zip(&full).map(|(&d, &k)| d as u128 * k as u128))?;
    let mut cur = x.to_owned();
    for (d, &k) in full.iter().enumerate() {
        if k != 1 {
            let views: Vec<_> = (0..k).map(|_| cur.view()).collect();
            cur = ndarray::concatenate(Axis(d), &views).map_err(|e| KernelError(e.to_string()))?;
        }
    }
    Ok(cur)
}

pub fn reverse<T: Float>(dims: &[bool], ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    if dims.len() != x.ndim() {
        kbail!("reverseDim has {} values, expected the rank {}", dims.len(), x.ndim());
    }
    let mut v = x.view();
    for (d, &rev) in dims.iter().enumerate() {
        if rev {
            v.invert_axis(Axis(d));
        }
    }
    Ok(v.as_standard_layout().into_owned())
}

pub fn reorganize_data<T: Float>(p: &ReorganizeDataLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let (batch, c, h, w) = bchw(x.shape(), 3)?;
    let bs = p.block_size as usize;
    if bs < 2 {
        kbail!("blockSize must be greater than 1, got {bs}");
    }
    let xs = values(x);
    let mode = ReorganizationType::try_from(p.mode).map_err(|_| KernelError(format!("unknown mode {}", p.mode)))?;
    let (c2, h2, w2) = match mode {
        ReorganizationType::SpaceToDepth => {
            if h % bs != 0 || w % bs != 0 {
                kbail!("blockSize {bs} must divide H {h} and W {w}");
            }
            (c * bs * bs, h / bs, w / bs)
        }
        _ => {
            if c % (bs * bs) != 0 {
                kbail!("blockSize^2 {} must divide C {c}", bs * bs);
            }
            (c / (bs * bs), h * bs, w * bs)
        }
    };
    let mut out = vec![T::zero(); xs.len()];
    for b in 0..batch {
        let src = &xs[b * c * h * w..(b + 1) * c * h * w];
        let dst = &mut out[b * c * h * w..(b + 1) * c * h * w];
        match mode {
            ReorganizationType::SpaceToDepth => {
                // out[(i*bs + j)*C + c, y, x] = in[c, y*bs + i, x*bs + j]
                for ci in 0..c {
                    for yy in 0..h {
                        for xx in 0..w {
                            let (i, j) = (yy % bs, xx % bs);
                            let oc = (i * bs + j) * c + ci;
                            dst[(oc * h2 + yy / bs) * w2 + xx / bs] = src[(ci * h + yy) * w + xx];
                        }
                    }
                }
            }
            ReorganizationType::DepthToSpace | ReorganizationType::PixelShuffle => {
                for oc in 0..c2 {
                    for oy in 0..h2 {
                        for ox in 0..w2 {
                            let (i, j) = (oy % bs, ox % bs);
                            let ic = if mode == ReorganizationType::DepthToSpace {
                                (i * bs + j) * c2 + oc
                            } else {
                                oc * bs * bs + i * bs + j
                            };
                            dst[(oc * h2 + oy) * w2 + ox] = src[(ic * h + oy / bs) * w + ox / bs];
                        }
                    }
                }
            }
        }
    }
    let mut shape = x.shape().to_vec();
    let r = shape.len();
    shape[r - 3] = c2;
    shape[r - 2] = h2;
    shape[r - 1] = w2;
    from_vec(shape, out)
}

pub fn get_shape<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let s: Vec<T> = ins[0].shape().iter().map(|&d| T::from_usize(d)).collect();
    from_vec(vec![s.len()], s)
}

/// loadConstant (`[C,H,W]` loaded as `[1,1,C,H,W]`) and loadConstantND (shape as given).
pub fn load_constant<T: Float>(shape: &[u64], data: Option<&WeightParams>, rank5: bool, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 0, 0)?;
    let mut s: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    if rank5 {
        if s.len() != 3 {
            kbail!("shape must be [C, H, W], got {:?}", shape);
        }
        s.insert(0, 1);
        s.insert(0, 1);
    }
    let v = decode::<T>(data, "data")?;
    if v.len() != s.iter().product::<usize>() {
        kbail!("data has {} values, shape {:?} needs {}", v.len(), s, s.iter().product::<usize>());
    }
    from_vec(s, v)
}

pub fn fill_like<T: Float>(value: f32, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    Ok(ArrayD::from_elem(ins[0].raw_dim(), T::from_f32(value)))
}

pub fn fill_static<T: Float>(value: f32, shape: &[u64], ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 0, 0)?;
    check_size(shape.iter().map(|&d| d as u128))?;
    let s: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    Ok(ArrayD::from_elem(IxDyn(&s), T::from_f32(value)))
}

pub fn fill_dynamic<T: Float>(value: f32, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let s = dims_from(&exact_ints(ins[0], "shape input")?, "shape input")?;
    check_size(s.iter().map(|&d| d as u128))?;
    Ok(ArrayD::from_elem(IxDyn(&s), T::from_f32(value)))
}

fn broadcast_owned<T: Float>(x: &ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>, KernelError> {
    check_size(shape.iter().map(|&d| d as u128))?;
    Ok(broadcast_to(x, shape)?.to_owned())
}

pub fn broadcast_to_like<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    broadcast_owned(ins[0], ins[1].shape())
}

pub fn broadcast_to_static<T: Float>(shape: &[u64], ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let s: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    broadcast_owned(ins[0], &s)
}

pub fn broadcast_to_dynamic<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    broadcast_owned(ins[0], &dims_from(&exact_ints(ins[1], "shape input")?, "shape input")?)
}

/// numpy.arange: ceil((end - start) / step) values.
fn arange<T: Float>(start: f64, end: f64, step: f64) -> Result<ArrayD<T>, KernelError> {
    if step == 0.0 {
        kbail!("step must not be 0");
    }
    let count = ((end - start) / step).ceil().max(0.0);
    let limit = element_limit();
    if !count.is_finite() || count > limit as f64 {
        kbail!("range({start}, {end}, {step}) would have {count} values, more than the interpreter's limit of {limit} (see `run --max-memory`)");
    }
    let n = count as usize;
    from_vec(vec![n], (0..n).map(|i| T::from_f64(start + i as f64 * step)).collect())
}

pub fn range_static<T: Float>(p: &RangeStaticLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 0, 0)?;
    arange(p.start_value as f64, p.end_value as f64, p.step_size_value as f64)
}

pub fn range_dynamic<T: Float>(p: &RangeDynamicLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 3)?;
    let scalar = |a: &ArrayD<T>| match a.iter().next() {
        Some(v) if a.len() == 1 => Ok(v.to_f64()),
        _ => Err(KernelError(format!("range inputs must be scalars, got shape {:?}", a.shape()))),
    };
    let end = scalar(ins[0])?;
    let start = if ins.len() > 1 { scalar(ins[1])? } else { p.start_value as f64 };
    let step = if ins.len() > 2 { scalar(ins[2])? } else { p.step_size_value as f64 };
    arange(start, end, step)
}

/// oneHot: the axis refers to the output; indices outside `[0, size)` give all offValue.
pub fn one_hot<T: Float>(p: &OneHotLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 2)?;
    let x = ins[0];
    let depth = if ins.len() == 2 {
        ints(ins[1]).first().copied().unwrap_or(0).max(0) as usize
    } else {
        p.one_hot_vector_size as usize
    };
    let a = axis(p.axis, x.ndim() + 1)?;
    let (on, off) = (T::from_f32(p.on_value), T::from_f32(p.off_value));
    let mut shape = x.shape().to_vec();
    shape.insert(a, depth);
    check_size(shape.iter().map(|&d| d as u128))?;
    let (outer, _, inner) = outer_inner(&shape, a);
    let xs = values(x);
    let mut out = vec![off; outer * depth * inner];
    for o in 0..outer {
        for i in 0..inner {
            let v = xs[o * inner + i].to_f64();
            if v >= 0.0 && (v as usize) < depth && v.fract() == 0.0 {
                out[(o * depth + v as usize) * inner + i] = on;
            }
        }
    }
    from_vec(shape, out)
}

fn mask_matrices<T: Float>(x: &ArrayD<T>, keep: impl Fn(i64, i64) -> bool) -> Result<ArrayD<T>, KernelError> {
    let r = x.ndim();
    if r < 2 {
        kbail!("input must have rank >= 2, got {:?}", x.shape());
    }
    let (m, n) = (x.shape()[r - 2], x.shape()[r - 1]);
    let mut out = values(x).into_owned();
    for (i, v) in out.iter_mut().enumerate() {
        let row = ((i / n) % m) as i64;
        let col = (i % n) as i64;
        if !keep(row, col) {
            *v = T::zero();
        }
    }
    from_vec(x.shape().to_vec(), out)
}

/// matrixBandPart: keep (m, n) when (lower < 0 or m-n <= lower) and (upper < 0 or n-m <= upper).
pub fn band_part<T: Float>(lower: i64, upper: i64, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    mask_matrices(ins[0], |m, n| (lower < 0 || m - n <= lower) && (upper < 0 || n - m <= upper))
}

/// lowerTriangular keeps n - m <= k; upperTriangular keeps n - m >= k (numpy tril / triu).
pub fn band_part_k<T: Float>(k: i64, lower: bool, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    mask_matrices(ins[0], |m, n| if lower { n - m <= k } else { n - m >= k })
}

pub fn copy<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    Ok(ins[0].to_owned())
}

/// sequenceRepeat: tiles axis -5 `nRepetitions` times (default 1).
pub fn sequence_repeat<T: Float>(n: u64, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let a = axis(-5, x.ndim())?;
    let n = n.max(1) as usize;
    let views: Vec<_> = (0..n).map(|_| x.view()).collect();
    ndarray::concatenate(Axis(a), &views).map_err(|e| KernelError(e.to_string()))
}

/// whereNonZero: `[N, rank]` multi-indices of the non-zero elements, in row-major order.
pub fn where_non_zero<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let r = x.ndim();
    let mut out = Vec::new();
    let mut n = 0;
    for (idx, &v) in x.indexed_iter() {
        if v != T::zero() {
            n += 1;
            out.extend(idx.slice().iter().map(|&i| T::from_usize(i)));
        }
    }
    from_vec(vec![n, r], out)
}

/// reverseSeq: for each batch element b (along `batchAxis`), reverses the first
/// `seq_lengths[b]` entries along `sequenceAxis`; the rest is copied.
pub fn reverse_seq<T: Float>(batch_axis: i64, seq_axis: i64, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    let x = ins[0];
    let (ba, sa) = (axis(batch_axis, x.ndim())?, axis(seq_axis, x.ndim())?);
    if ba == sa {
        kbail!("batchAxis and sequenceAxis must differ");
    }
    let lens = ints(ins[1]);
    if lens.len() != x.shape()[ba] {
        kbail!("seq_lengths has {} values, the batch axis {}", lens.len(), x.shape()[ba]);
    }
    let n = x.shape()[sa];
    let mut out = x.to_owned();
    for (b, &l) in lens.iter().enumerate() {
        if l < 0 || l as usize > n {
            kbail!("sequence length {l} is out of range for an axis of size {n}");
        }
        let l = l as usize;
        let src = x.index_axis(Axis(ba), b);
        let mut dst = out.index_axis_mut(Axis(ba), b);
        let sa2 = if sa > ba { sa - 1 } else { sa };
        for j in 0..l {
            dst.index_axis_mut(Axis(sa2), j).assign(&src.index_axis(Axis(sa2), l - 1 - j));
        }
    }
    Ok(out)
}

/// slidingWindows: the axis of length L becomes (M, W) with M = (L - W) / step + 1.
pub fn sliding_windows<T: Float>(ax: i64, window: u64, step: u64, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let a = axis(ax, x.ndim())?;
    let (outer, len, inner) = outer_inner(x.shape(), a);
    let (w, s) = (window as usize, step.max(1) as usize);
    if w == 0 || w > len {
        kbail!("windowSize {w} must be between 1 and the axis length {len}");
    }
    let m = (len - w) / s + 1;
    let xs = values(x);
    let mut out = Vec::with_capacity(outer * m * w * inner);
    for o in 0..outer {
        for k in 0..m {
            for j in 0..w {
                let at = (o * len + k * s + j) * inner;
                out.extend_from_slice(&xs[at..at + inner]);
            }
        }
    }
    let mut shape = x.shape()[..a].to_vec();
    shape.push(m);
    shape.push(w);
    shape.extend_from_slice(&x.shape()[a + 1..]);
    from_vec(shape, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arange_arr(shape: &[usize]) -> ArrayD<f32> {
        let n: usize = shape.iter().product();
        ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|v| v as f32).collect()).unwrap()
    }

    #[test]
    fn slice_static_example_from_the_proto() {
        // Proto example: (5,5,5), begin [1,2,3], beginMasks [T,F,T], end [3,-3,2],
        // endMasks [F,T,T], strides 2 -> input[:3:2, 2::2, ::2], shape (2, 2, 3).
        let x = arange_arr(&[5, 5, 5]);
        let p = SliceStaticLayerParams {
            begin_ids: vec![1, 2, 3],
            begin_masks: vec![true, false, true],
            end_ids: vec![3, -3, 2],
            end_masks: vec![false, true, true],
            strides: vec![2, 2, 2],
            squeeze_masks: vec![false, false, false],
        };
        let y = slice_static(&p, &[&x]).unwrap();
        assert_eq!(y.shape(), &[2, 2, 3]);
        // y[1,1,2] = x[2, 4, 4] = 2*25 + 4*5 + 4 = 74.
        assert_eq!(y[[1, 1, 2]], 74.0);
        let p = SliceStaticLayerParams { squeeze_masks: vec![false, true, false], ..p };
        assert_eq!(slice_static(&p, &[&x]).unwrap().shape(), &[2, 3]);
    }

    #[test]
    fn depth_to_space_and_pixel_shuffle_examples_from_the_proto() {
        // Proto example: C=8, H=1, W=2 holding 1..16; blockSize 2.
        let x = ArrayD::from_shape_vec(IxDyn(&[8, 1, 2]), (1..=16).map(|v| v as f32).collect()).unwrap();
        let d2s = ReorganizeDataLayerParams { mode: ReorganizationType::DepthToSpace as i32, block_size: 2 };
        let y = reorganize_data(&d2s, &[&x]).unwrap();
        assert_eq!(y.shape(), &[2, 2, 4]);
        let want = [1., 5., 2., 6., 9., 13., 10., 14., 3., 7., 4., 8., 11., 15., 12., 16.];
        assert_eq!(y.iter().copied().collect::<Vec<f32>>(), want);
        let ps = ReorganizeDataLayerParams { mode: ReorganizationType::PixelShuffle as i32, block_size: 2 };
        let y = reorganize_data(&ps, &[&x]).unwrap();
        let want = [1., 3., 2., 4., 5., 7., 6., 8., 9., 11., 10., 12., 13., 15., 14., 16.];
        assert_eq!(y.iter().copied().collect::<Vec<f32>>(), want);
        // SPACE_TO_DEPTH is the inverse of DEPTH_TO_SPACE.
        let s2d = ReorganizeDataLayerParams { mode: ReorganizationType::SpaceToDepth as i32, block_size: 2 };
        let back = reorganize_data(&s2d, &[&reorganize_data(&d2s, &[&x]).unwrap()]).unwrap();
        assert_eq!(back, x);
    }

    #[test]
    fn permute_example_from_the_proto() {
        // [Seq, B, C, H, W] = [2, 1, 3, 4, 5] with axis [0, 3, 1, 2] -> [Seq, B, W, C, H].
        let x = arange_arr(&[2, 1, 3, 4, 5]);
        let y = permute(&[0, 3, 1, 2], &[&x]).unwrap();
        assert_eq!(y.shape(), &[2, 1, 5, 3, 4]);
        assert_eq!(y[[1, 0, 4, 2, 3]], x[[1, 0, 2, 3, 4]]);
    }

    #[test]
    fn flatten_to_2d_examples_from_the_proto() {
        let shapes = [(&[3usize][..], -1, [1, 3]), (&[3], 1, [3, 1]), (&[5, 2], 0, [1, 10]), (&[5, 5, 3], -2, [5, 15])];
        for (s, a, want) in shapes {
            assert_eq!(flatten_to_2d(a, &[&arange_arr(s)]).unwrap().shape(), &want);
        }
    }

    fn vec1(v: &[f32]) -> ArrayD<f32> {
        ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.to_vec()).unwrap()
    }

    #[test]
    fn dynamic_layers_read_their_shape_inputs_as_the_proto_says() {
        // Tile, proto example: (2, 4, 2) with a second input [1, 2, 6] -> (2, 8, 12); the
        // reps parameter is ignored when the input is there.
        let x = arange_arr(&[2, 4, 2]);
        assert_eq!(tile(&[5], &[&x, &vec1(&[1.0, 2.0, 6.0])]).unwrap().shape(), &[2, 8, 12]);
        // SliceDynamic: begin from input 2, end from input 3, the rest from parameters.
        let p = SliceDynamicLayerParams { strides: vec![2, 2, 2], begin_masks: vec![true, false, true], end_masks: vec![false, true, true], ..Default::default() };
        let x = arange_arr(&[5, 5, 5]);
        let y = slice_dynamic(&p, &[&x, &vec1(&[1.0, 2.0, 3.0]), &vec1(&[3.0, -3.0, 2.0])]).unwrap();
        assert_eq!((y.shape(), y[[1, 1, 2]]), (&[2usize, 2, 3][..], 74.0));
        // RangeDynamic: inputs are end, start, step; a missing one comes from the parameter.
        let p = RangeDynamicLayerParams { start_value: 1.0, step_size_value: 2.0 };
        assert_eq!(range_dynamic(&p, &[&vec1(&[6.0])]).unwrap().into_raw_vec_and_offset().0, vec![1.0, 3.0, 5.0]);
        let y = range_dynamic(&p, &[&vec1(&[6.0]), &vec1(&[4.0]), &vec1(&[0.5])]).unwrap();
        assert_eq!(y.into_raw_vec_and_offset().0, vec![4.0, 4.5, 5.0, 5.5]);
        // ReshapeDynamic, FillDynamic, BroadcastToDynamic: the shape is the values of a blob.
        assert_eq!(reshape_dynamic(&[&arange_arr(&[2, 6]), &vec1(&[3.0, -1.0])]).unwrap().shape(), &[3, 4]);
        assert_eq!(fill_dynamic(1.5, &[&vec1(&[2.0, 3.0])]).unwrap(), ArrayD::from_elem(IxDyn(&[2, 3]), 1.5));
        assert_eq!(broadcast_to_dynamic(&[&vec1(&[1.0, 2.0]), &vec1(&[3.0, 2.0])]).unwrap().shape(), &[3, 2]);
    }

    #[test]
    fn fractional_or_negative_shape_inputs_are_errors_not_truncations() {
        let x = arange_arr(&[2, 6]);
        let e = reshape_dynamic(&[&x, &vec1(&[3.0, 3.5])]).unwrap_err();
        assert!(e.0.contains("shape input holds 3.5, which is not an integer"), "{}", e.0);
        assert!(tile(&[], &[&x, &vec1(&[1.0, 2.5])]).is_err());
        assert!(fill_dynamic(0.0, &[&vec1(&[2.0, -1.0])]).is_err());
        let p = crate::proto::coreml::ConstantPaddingLayerParams::default();
        let e = crate::run::layers::pool::constant_pad(&p, &[&x, &vec1(&[0.0, 1.0, -1.0, 0.0])]).unwrap_err();
        assert!(e.0.contains("amounts must be >= 0"), "{}", e.0);
        let y = crate::run::layers::pool::constant_pad(&p, &[&x, &vec1(&[0.0, 1.0, 2.0, 0.0])]).unwrap();
        assert_eq!(y.shape(), &[3, 8]);
    }
}
