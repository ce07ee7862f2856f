//! Array ops: they move, select or describe elements without computing new values.

use super::strided_slice::{self, OutAxis, SliceSpec};
use super::{with_type, Cx, EvalError};
use crate::ir::dtype::DType;
use crate::ir::shape::normalize_axis;
use crate::ir::tensor::{Element, Tensor, MAX_ELEMENTS};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

pub(super) const OPS: &[&str] = &[
    "Identity", "StopGradient", "Snapshot", "PreventGradient", "IdentityN", "Shape", "Size", "Rank", "Pack",
    "Unpack", "ConcatV2", "Concat", "Reshape", "ExpandDims", "Squeeze", "StridedSlice", "Slice", "Fill",
    "Range", "Transpose", "GatherV2", "Gather", "Tile", "Cast", "ZerosLike", "Split", "SplitV",
];

fn view<'a, T: Element>(cx: &Cx<'_>, t: &'a Tensor) -> Result<ArrayViewD<'a, T>, EvalError> {
    t.array::<T>().map(|a| a.view()).ok_or_else(|| cx.invalid(format!("expected {} values, found {}", T::DTYPE, t.dtype())))
}

/// Selects `idx[axis]` along every axis (an index list per axis; `None` keeps the axis whole).
fn take<T: Element>(a: ArrayViewD<'_, T>, idx: &[Option<Vec<usize>>]) -> ArrayD<T> {
    let mut shape: Vec<usize> = a.shape().to_vec();
    for (ax, sel) in idx.iter().enumerate() {
        if let Some(s) = sel {
            shape[ax] = s.len();
        }
    }
    if shape.contains(&0) {
        return ArrayD::from_shape_vec(IxDyn(&shape), Vec::new()).expect("an empty array fits a shape with a 0 dim");
    }
    let mut out = a.to_owned();
    for (ax, sel) in idx.iter().enumerate() {
        if let Some(s) = sel {
            out = out.select(Axis(ax), s);
        }
    }
    out
}

fn reshaped<T: Element>(cx: &Cx<'_>, a: ArrayD<T>, shape: &[usize]) -> Result<Tensor, EvalError> {
    let a = a.as_standard_layout().into_owned();
    let len = a.len();
    a.into_shape_with_order(IxDyn(shape))
        .map(Tensor::from_array)
        .map_err(|_| cx.invalid(format!("cannot reshape {len} elements to {shape:?}")))
}

fn check_size(cx: &Cx<'_>, shape: &[usize]) -> Result<(), EvalError> {
    let n = shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    match n {
        Some(n) if n <= MAX_ELEMENTS => Ok(()),
        _ => Err(cx.invalid(format!("result of shape {shape:?} is too large"))),
    }
}

fn same_dtype(cx: &Cx<'_>, ts: &[Tensor]) -> Result<DType, EvalError> {
    let d = ts.first().map(|t| t.dtype()).ok_or_else(|| cx.invalid("no values"))?;
    if let Some(t) = ts.iter().find(|t| t.dtype() != d) {
        return Err(cx.invalid(format!("values mix {d} and {}", t.dtype())));
    }
    Ok(d)
}

fn concat<T: Element>(cx: &Cx<'_>, ts: &[Tensor], axis: usize) -> Result<Tensor, EvalError> {
    let views = ts.iter().map(|t| view::<T>(cx, t)).collect::<Result<Vec<_>, _>>()?;
    ndarray::concatenate(Axis(axis), &views)
        .map(Tensor::from_array)
        .map_err(|e| cx.invalid(format!("cannot concatenate shapes {:?}: {e}", ts.iter().map(|t| t.shape().to_vec()).collect::<Vec<_>>())))
}

fn concat_axis(cx: &Cx<'_>, values: &[Tensor], axis: i64) -> Result<Option<Vec<Tensor>>, EvalError> {
    let dtype = same_dtype(cx, values)?;
    let rank = values[0].rank();
    let ax = normalize_axis(axis, rank).ok_or_else(|| cx.invalid(format!("axis {axis} out of range for rank {rank}")))?;
    with_type!(dtype, T => concat::<T>(cx, values, ax).map(|t| Some(vec![t])))
}

pub(super) fn eval(cx: &Cx<'_>) -> Result<Option<Vec<Tensor>>, EvalError> {
    let ins = cx.inputs;
    match cx.op {
        "Identity" | "StopGradient" | "Snapshot" | "PreventGradient" => {
            cx.arity(1)?;
            Ok(Some(vec![ins[0].clone()]))
        }
        "IdentityN" => Ok(Some(ins.to_vec())),
        "Shape" | "Size" | "Rank" => {
            cx.arity(1)?;
            let out = cx.out_type("out_type", DType::I32)?;
            let s = ins[0].shape();
            let (v, shape): (Vec<i64>, Vec<usize>) = match cx.op {
                "Shape" => (s.iter().map(|&d| d as i64).collect(), vec![s.len()]),
                "Size" => (vec![ins[0].len() as i64], vec![]),
                _ => (vec![s.len() as i64], vec![]),
            };
            Ok(Some(vec![cx.tensor(Tensor::from_i64s(out, &shape, v))?]))
        }
        "ConcatV2" => {
            cx.at_least(2)?;
            let axis = cx.int_scalar(ins.len() - 1)?;
            concat_axis(cx, &ins[..ins.len() - 1], axis)
        }
        "Concat" => {
            cx.at_least(2)?;
            let axis = cx.int_scalar(0)?;
            concat_axis(cx, &ins[1..], axis)
        }
        "Pack" => {
            cx.at_least(1)?;
            let axis = cx.attr(cx.attrs.get_int("axis"))?;
            let rank = ins[0].rank();
            let ax = normalize_axis(axis, rank + 1).ok_or_else(|| cx.invalid(format!("axis {axis} out of range for rank {}", rank + 1)))?;
            let mut expanded = Vec::with_capacity(ins.len());
            for t in ins {
                let mut s = t.shape().to_vec();
                s.insert(ax, 1);
                expanded.push(cx.tensor(t.reshape(&s))?);
            }
            concat_axis(cx, &expanded, ax as i64)
        }
        "Unpack" => {
            cx.arity(1)?;
            let axis = cx.attr(cx.attrs.get_int("axis"))?;
            let rank = ins[0].rank();
            let ax = normalize_axis(axis, rank).ok_or_else(|| cx.invalid(format!("axis {axis} out of range for rank {rank}")))?;
            let n = ins[0].shape()[ax];
            with_type!(ins[0].dtype(), T => {
                let a = view::<T>(cx, &ins[0])?;
                Ok(Some((0..n).map(|i| Tensor::from_array(a.index_axis(Axis(ax), i).to_owned())).collect()))
            })
        }
        "Reshape" => {
            cx.arity(2)?;
            let target = cx.ints(1)?;
            let shape = reshape_target(cx, ins[0].len(), &target)?;
            Ok(Some(vec![cx.tensor(ins[0].reshape(&shape))?]))
        }
        "ExpandDims" => {
            cx.arity(2)?;
            let axis = cx.int_scalar(1)?;
            let rank = ins[0].rank();
            let ax = normalize_axis(axis, rank + 1).ok_or_else(|| cx.invalid(format!("axis {axis} out of range for rank {rank}")))?;
            let mut s = ins[0].shape().to_vec();
            s.insert(ax, 1);
            Ok(Some(vec![cx.tensor(ins[0].reshape(&s))?]))
        }
        "Squeeze" => {
            cx.arity(1)?;
            let axes = cx.attr(cx.attrs.opt_list_int("squeeze_dims"))?.unwrap_or_default();
            let s = ins[0].shape();
            let mut drop = vec![false; s.len()];
            if axes.is_empty() {
                drop = s.iter().map(|&d| d == 1).collect();
            }
            for &a in &axes {
                let ax = normalize_axis(a, s.len()).ok_or_else(|| cx.invalid(format!("squeeze axis {a} out of range for rank {}", s.len())))?;
                if s[ax] != 1 {
                    return Err(cx.invalid(format!("cannot squeeze axis {a} of size {}", s[ax])));
                }
                drop[ax] = true;
            }
            let out: Vec<usize> = s.iter().zip(&drop).filter(|(_, &d)| !d).map(|(&x, _)| x).collect();
            Ok(Some(vec![cx.tensor(ins[0].reshape(&out))?]))
        }
        "StridedSlice" => {
            cx.arity(4)?;
            let spec = slice_spec(cx)?;
            let plan = strided_slice::plan(&spec, ins[0].rank()).map_err(|m| cx.invalid(m))?;
            let mut idx = Vec::with_capacity(plan.dense.len());
            for (ax, d) in plan.dense.iter().enumerate() {
                let (start, n) = d.resolve(ins[0].shape()[ax] as i64).map_err(|m| cx.invalid(m))?;
                idx.push(Some((0..n).map(|k| (start + k * if d.shrink { 1 } else { d.stride }) as usize).collect::<Vec<_>>()));
            }
            let out_shape: Vec<usize> = plan
                .out
                .iter()
                .map(|o| match o {
                    OutAxis::New => 1,
                    OutAxis::Dense(i) => idx[*i].as_ref().map_or(0, |v| v.len()),
                })
                .collect();
            with_type!(ins[0].dtype(), T => {
                let a = take(view::<T>(cx, &ins[0])?, &idx);
                reshaped(cx, a, &out_shape).map(|t| Some(vec![t]))
            })
        }
        "Slice" => {
            cx.arity(3)?;
            let begin = cx.ints(1)?;
            let size = cx.ints(2)?;
            let s = ins[0].shape();
            if begin.len() != s.len() || size.len() != s.len() {
                return Err(cx.invalid(format!("begin and size must have {} entries", s.len())));
            }
            let mut idx = Vec::with_capacity(s.len());
            for ax in 0..s.len() {
                let d = s[ax] as i64;
                let b = begin[ax];
                let n = if size[ax] == -1 { d.saturating_sub(b) } else { size[ax] };
                if b < 0 || n < 0 || b.saturating_add(n) > d {
                    return Err(cx.invalid(format!("slice {b}+{} out of range for a dim of size {d}", size[ax])));
                }
                idx.push(Some((b..b + n).map(|i| i as usize).collect::<Vec<_>>()));
            }
            with_type!(ins[0].dtype(), T => Ok(Some(vec![Tensor::from_array(take(view::<T>(cx, &ins[0])?, &idx))])))
        }
        "Fill" => {
            cx.arity(2)?;
            let shape = cx.sizes(0)?;
            check_size(cx, &shape)?;
            if ins[1].len() != 1 {
                return Err(cx.invalid("value must be a scalar"));
            }
            with_type!(ins[1].dtype(), T => {
                let v = view::<T>(cx, &ins[1])?.iter().next().cloned().ok_or_else(|| cx.invalid("value must be a scalar"))?;
                Ok(Some(vec![Tensor::from_array(ArrayD::from_elem(IxDyn(&shape), v))]))
            })
        }
        "ZerosLike" => {
            cx.arity(1)?;
            let shape = ins[0].shape().to_vec();
            with_type!(ins[0].dtype(), T => Ok(Some(vec![Tensor::from_array(ArrayD::<T>::from_elem(IxDyn(&shape), Default::default()))])))
        }
        "Range" => {
            cx.arity(3)?;
            let dtype = cx.out_type("Tidx", ins[0].dtype())?;
            range(cx, dtype).map(|t| Some(vec![t]))
        }
        "Transpose" => {
            cx.arity(2)?;
            let perm = cx.ints(1)?;
            let rank = ins[0].rank();
            let mut seen = vec![false; rank];
            let mut p = Vec::with_capacity(rank);
            for &x in &perm {
                let a = normalize_axis(x, rank).filter(|&a| !seen[a]).ok_or_else(|| cx.invalid(format!("{perm:?} is not a permutation of {rank} axes")))?;
                seen[a] = true;
                p.push(a);
            }
            if p.len() != rank {
                return Err(cx.invalid(format!("{perm:?} is not a permutation of {rank} axes")));
            }
            with_type!(ins[0].dtype(), T => {
                let a = view::<T>(cx, &ins[0])?.permuted_axes(IxDyn(&p)).as_standard_layout().into_owned();
                Ok(Some(vec![Tensor::from_array(a)]))
            })
        }
        "GatherV2" | "Gather" => {
            let axis = if cx.op == "GatherV2" {
                cx.arity(3)?;
                if cx.attr(cx.attrs.opt_int("batch_dims"))?.unwrap_or(0) != 0 {
                    return Ok(None);
                }
                cx.int_scalar(2)?
            } else {
                cx.arity(2)?;
                0
            };
            let params = &ins[0];
            let rank = params.rank();
            let ax = normalize_axis(axis, rank).ok_or_else(|| cx.invalid(format!("axis {axis} out of range for rank {rank}")))?;
            let d = params.shape()[ax] as i64;
            let idx = cx
                .ints(1)?
                .into_iter()
                .map(|i| if (0..d).contains(&i) { Ok(i as usize) } else { Err(cx.invalid(format!("index {i} out of range [0, {d})"))) })
                .collect::<Result<Vec<_>, _>>()?;
            let mut out_shape = params.shape()[..ax].to_vec();
            out_shape.extend_from_slice(ins[1].shape());
            out_shape.extend_from_slice(&params.shape()[ax + 1..]);
            let mut sel = vec![None; rank];
            sel[ax] = Some(idx);
            with_type!(params.dtype(), T => {
                let a = take(view::<T>(cx, params)?, &sel);
                reshaped(cx, a, &out_shape).map(|t| Some(vec![t]))
            })
        }
        "Tile" => {
            cx.arity(2)?;
            let m = cx.sizes(1)?;
            let s = ins[0].shape();
            if m.len() != s.len() {
                return Err(cx.invalid(format!("multiples has {} entries, input rank is {}", m.len(), s.len())));
            }
            let out: Vec<usize> = s.iter().zip(&m).map(|(&d, &k)| d.saturating_mul(k)).collect();
            check_size(cx, &out)?;
            let idx: Vec<Option<Vec<usize>>> = s.iter().zip(&m).map(|(&d, &k)| Some((0..d * k).map(|i| i % d.max(1)).collect())).collect();
            with_type!(ins[0].dtype(), T => Ok(Some(vec![Tensor::from_array(take(view::<T>(cx, &ins[0])?, &idx))])))
        }
        "Cast" => {
            cx.arity(1)?;
            let to = cx.attr(cx.attrs.get_type("DstT"))?;
            Ok(ins[0].cast(to).ok().map(|t| vec![t]))
        }
        "Split" | "SplitV" => {
            let (value, axis, sizes) = if cx.op == "Split" {
                cx.arity(2)?;
                let n = cx.attr(cx.attrs.get_usize("num_split"))?;
                let axis = cx.int_scalar(0)?;
                let ax = normalize_axis(axis, ins[1].rank()).ok_or_else(|| cx.invalid(format!("axis {axis} out of range")))?;
                let d = ins[1].shape()[ax];
                if n == 0 || d % n != 0 {
                    return Err(cx.invalid(format!("cannot split a dim of {d} into {n} equal parts")));
                }
                (&ins[1], ax, vec![(d / n) as i64; n])
            } else {
                cx.arity(3)?;
                let axis = cx.int_scalar(2)?;
                let ax = normalize_axis(axis, ins[0].rank()).ok_or_else(|| cx.invalid(format!("axis {axis} out of range")))?;
                let mut sizes = cx.ints(1)?;
                let d = ins[0].shape()[ax] as i64;
                let known: i64 = sizes.iter().filter(|&&s| s >= 0).fold(0i64, |a, &s| a.saturating_add(s));
                if let Some(u) = sizes.iter().position(|&s| s < 0) {
                    sizes[u] = d - known;
                }
                if sizes.iter().any(|&s| s < 0) || sizes.iter().fold(0i64, |a, &s| a.saturating_add(s)) != d {
                    return Err(cx.invalid(format!("size_splits {sizes:?} do not add up to {d}")));
                }
                (&ins[0], ax, sizes)
            };
            let mut outs = Vec::with_capacity(sizes.len());
            let mut start = 0usize;
            for &n in &sizes {
                let mut sel = vec![None; value.rank()];
                sel[axis] = Some((start..start + n as usize).collect());
                start += n as usize;
                outs.push(with_type!(value.dtype(), T => Tensor::from_array(take(view::<T>(cx, value)?, &sel))));
            }
            Ok(Some(outs))
        }
        _ => Ok(None),
    }
}

pub(crate) fn slice_spec(cx: &Cx<'_>) -> Result<SliceSpec, EvalError> {
    let m = |name| cx.attr(cx.attrs.opt_int(name)).map(|v| v.unwrap_or(0));
    Ok(SliceSpec {
        begin: cx.ints(1)?,
        end: cx.ints(2)?,
        strides: cx.ints(3)?,
        begin_mask: m("begin_mask")?,
        end_mask: m("end_mask")?,
        ellipsis_mask: m("ellipsis_mask")?,
        new_axis_mask: m("new_axis_mask")?,
        shrink_axis_mask: m("shrink_axis_mask")?,
    })
}

/// Resolves a `Reshape` target with at most one `-1` for `len` elements.
fn reshape_target(cx: &Cx<'_>, len: usize, target: &[i64]) -> Result<Vec<usize>, EvalError> {
    let unknown: Vec<usize> = target.iter().enumerate().filter(|(_, &d)| d == -1).map(|(i, _)| i).collect();
    if unknown.len() > 1 || target.iter().any(|&d| d < -1) {
        return Err(cx.invalid(format!("bad reshape target {target:?}")));
    }
    let known: i64 = target.iter().filter(|&&d| d >= 0).fold(1i64, |a, &d| a.saturating_mul(d));
    let mut out: Vec<usize> = target.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(&u) = unknown.first() {
        if known == 0 || len as i64 % known != 0 {
            return Err(cx.invalid(format!("cannot reshape {len} elements to {target:?}")));
        }
        out[u] = (len as i64 / known) as usize;
    } else if known != len as i64 {
        return Err(cx.invalid(format!("cannot reshape {len} elements to {target:?}")));
    }
    Ok(out)
}

fn range(cx: &Cx<'_>, dtype: DType) -> Result<Tensor, EvalError> {
    let too_long = |n: f64| !(0.0..=MAX_ELEMENTS as f64).contains(&n);
    if dtype.is_integer() {
        let (s, l, d) = (cx.int_scalar(0)?, cx.int_scalar(1)?, cx.int_scalar(2)?);
        let span = (l as i128) - (s as i128);
        if d == 0 || (span != 0 && (span > 0) != (d > 0)) {
            return Err(cx.invalid(format!("range({s}, {l}, {d}) is invalid")));
        }
        let step = (d as i128).abs();
        let n = (span.abs() + step - 1) / step;
        if too_long(n as f64) {
            return Err(cx.invalid("range is too long"));
        }
        let v: Vec<i64> = (0..n as i64).map(|i| s.wrapping_add(i.wrapping_mul(d))).collect();
        cx.tensor(Tensor::from_i64s(dtype, &[v.len()], v))
    } else {
        let f = |i: usize| -> Result<f64, EvalError> {
            let v = cx.inputs[i].to_f64_vec().unwrap_or_default();
            v.first().copied().filter(|_| v.len() == 1).ok_or_else(|| cx.invalid(format!("input {i} must be a scalar")))
        };
        let (s, l, d) = (f(0)?, f(1)?, f(2)?);
        if d == 0.0 || (l - s != 0.0 && (l - s > 0.0) != (d > 0.0)) {
            return Err(cx.invalid(format!("range({s}, {l}, {d}) is invalid")));
        }
        let n = ((l - s) / d).ceil();
        if too_long(n) {
            return Err(cx.invalid("range is too long"));
        }
        let v: Vec<f64> = (0..n as usize).map(|i| s + i as f64 * d).collect();
        cx.tensor(Tensor::from_f64s(dtype, &[v.len()], v))
    }
}
