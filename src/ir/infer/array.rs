//! Shape functions of array ops (TensorFlow's `array_ops`): sources, identities, shape
//! queries and shape-tensor arithmetic, reshaping, slicing, joining, padding.

use super::{invalid, InferCtx, ShapeError, ShapeRegistry};
use crate::ir::dtype::DType;
use crate::ir::eval::strided_slice::{self, OutAxis, SliceSpec};
use crate::ir::graph::Fact;
use crate::ir::shape::{normalize_axis, Dim, Shape};
use std::sync::Arc;

type R = Result<Vec<Fact>, ShapeError>;

pub fn register_all_ops(r: &mut ShapeRegistry) {
    r.register("While", while_loop);
    r.register("StatelessWhile", while_loop);
    r.register("If", branch);
    r.register("StatelessIf", branch);
    r.register("Const", konst);
    r.register("Placeholder", placeholder);
    r.register("PlaceholderWithDefault", placeholder_with_default);
    for op in ["Identity", "StopGradient", "Snapshot", "PreventGradient", "CheckNumerics", "EnsureShape"] {
        r.register(op, pass_through);
    }
    r.register("IdentityN", |cx: &InferCtx<'_>| Ok(cx.inputs.to_vec()));
    r.register("NoOp", |_: &InferCtx<'_>| Ok(Vec::new()));
    r.register("Shape", shape_of);
    r.register("ShapeN", |cx: &InferCtx<'_>| (0..cx.inputs.len()).map(|i| shape_fact(cx, i, cx.out_dtype(i))).collect());
    r.register("Size", size);
    r.register("Rank", rank);
    r.register("Reshape", reshape);
    r.register("ExpandDims", expand_dims);
    r.register("Squeeze", squeeze);
    r.register("Pack", pack);
    r.register("Unpack", unpack);
    r.register("ConcatV2", |cx: &InferCtx<'_>| concat(cx, cx.inputs.len().saturating_sub(1), 0..cx.inputs.len().saturating_sub(1)));
    r.register("Concat", |cx: &InferCtx<'_>| concat(cx, 0, 1..cx.inputs.len()));
    r.register("StridedSlice", strided_slice_fn);
    r.register("Slice", slice);
    r.register("Fill", |cx: &InferCtx<'_>| cx.one(shape_from_tensor(cx, 0)?));
    r.register("BroadcastTo", |cx: &InferCtx<'_>| cx.one(shape_from_tensor(cx, 1)?));
    for op in ["ZerosLike", "OnesLike", "ReverseV2", "MatrixBandPart", "Roll"] {
        r.register(op, same_shape);
    }
    r.register("Range", range);
    r.register("Transpose", transpose);
    r.register("GatherV2", |cx: &InferCtx<'_>| gather(cx, true));
    r.register("Gather", |cx: &InferCtx<'_>| gather(cx, false));
    r.register("GatherNd", gather_nd);
    r.register("Tile", tile);
    r.register("Cast", cast);
    r.register("Split", split);
    r.register("SplitV", split_v);
    r.register("OneHot", one_hot);
    r.register("Where", |cx: &InferCtx<'_>| cx.one(Shape::Ranked(vec![Dim::Unknown, cx.shape(0)?.rank().map_or(Dim::Unknown, Dim::from)])));
    for op in ["Pad", "PadV2", "MirrorPad"] {
        r.register(op, pad);
    }
    r.register("ScatterNd", |cx: &InferCtx<'_>| cx.one(shape_from_tensor(cx, 2)?));
    for op in ["RandomUniform", "RandomStandardNormal"] {
        r.register(op, |cx: &InferCtx<'_>| cx.one(shape_from_tensor(cx, 0)?));
    }
    r.register("Multinomial", |cx: &InferCtx<'_>| {
        let b = cx.dims(0)?.and_then(|d| d.first().cloned()).unwrap_or(Dim::Unknown);
        cx.one(Shape::Ranked(vec![b, cx.int_scalar(1)?.map_or(Dim::Unknown, Dim::from_tf)]))
    });
}

fn konst(cx: &InferCtx<'_>) -> R {
    let t = cx.node.get_attr_tensor("value").map_err(|e| e.cause)?;
    if let Some(d) = cx.node.attrs.opt_type("dtype")? {
        if d != t.dtype() {
            return Err(invalid(format!("attribute `dtype` is {d}, the value is {}", t.dtype())));
        }
    }
    Ok(vec![Fact::constant(t.clone())])
}

/// A graph input: `-1` dims become symbols named after the input, so every tensor whose dim
/// flows from it shows the same symbol.
/// The most elements a graph input may declare: 2^32 (16 GiB of float32), far past any model
/// a device runs. A placeholder of 2^80 elements is a corrupt or hostile file, not a model, and
/// would otherwise be written into the `.mlmodel` as declared.
pub const MAX_INPUT_ELEMENTS: u64 = 1 << 32;

fn placeholder(cx: &InferCtx<'_>) -> R {
    let shape = match cx.node.attrs.get("shape") {
        Some(_) => cx.node.attrs.get_shape("shape")?.clone(),
        None => Shape::Unknown,
    };
    if let Shape::Ranked(d) = &shape {
        let known = d.iter().filter_map(|d| d.known()).try_fold(1u64, |a, n| a.checked_mul(n));
        if known.is_none_or(|n| n > MAX_INPUT_ELEMENTS) {
            return Err(invalid(format!("input shape {shape} has more than 2^32 elements")));
        }
    }
    let shape = match shape {
        Shape::Ranked(d) => Shape::Ranked(
            d.into_iter()
                .enumerate()
                .map(|(i, d)| match d {
                    Dim::Unknown => Dim::Sym(Arc::from(format!("{}.d{i}", cx.node.name))),
                    d => d,
                })
                .collect(),
        ),
        s => s,
    };
    Ok(vec![Fact::new(Some(cx.node.attrs.get_type("dtype")?), shape)])
}

fn placeholder_with_default(cx: &InferCtx<'_>) -> R {
    let declared = cx.node.attrs.get_shape("shape")?;
    // The fed value may have any shape compatible with the declared one.
    let s = if declared.is_fully_known() { declared.clone() } else { Shape::Unknown.merge(declared)? };
    cx.one(s)
}

fn pass_through(cx: &InferCtx<'_>) -> R {
    let f = cx.input(0)?;
    Ok(vec![f.clone()])
}

fn same_shape(cx: &InferCtx<'_>) -> R {
    cx.one(cx.shape(0)?.clone())
}

fn shape_fact(cx: &InferCtx<'_>, i: usize, dtype: Option<DType>) -> Result<Fact, ShapeError> {
    let s = cx.shape(i)?;
    let mut f = Fact::new(dtype, Shape::Ranked(vec![s.rank().map_or(Dim::Unknown, Dim::from)]));
    if let Some(d) = s.dims() {
        f.partial = Some(d.to_vec());
    }
    Ok(f)
}

fn shape_of(cx: &InferCtx<'_>) -> R {
    Ok(vec![shape_fact(cx, 0, cx.out_dtype(0))?])
}

fn size(cx: &InferCtx<'_>) -> R {
    let mut f = Fact::new(cx.out_dtype(0), Shape::scalar());
    // The size of a vector is its one dim.
    if let Some([one]) = cx.dims(0)? {
        f.partial = Some(vec![one.clone()]);
    }
    Ok(vec![f])
}

fn rank(cx: &InferCtx<'_>) -> R {
    let mut f = Fact::new(cx.out_dtype(0), Shape::scalar());
    if let Some(r) = cx.shape(0)?.rank() {
        f.partial = Some(vec![Dim::from(r)]);
    }
    Ok(vec![f])
}

/// A shape given as an integer tensor (input `i`): its known or partial value, else a rank
/// from its length, else unknown.
pub(super) fn shape_from_tensor(cx: &InferCtx<'_>, i: usize) -> Result<Shape, ShapeError> {
    if let Some(d) = cx.int_dims(i)? {
        return Ok(Shape::Ranked(d));
    }
    Ok(match cx.dims(i)? {
        Some([Dim::Known(n)]) => Shape::unknown_dims(*n as usize),
        _ => Shape::Unknown,
    })
}

fn reshape(cx: &InferCtx<'_>) -> R {
    // TF's validation: at most one -1, and no other negative size.
    if let Some(s) = cx.ints(1)? {
        if s.iter().filter(|&&d| d == -1).count() > 1 || s.iter().any(|&d| d < -1) {
            return Err(invalid(format!("shape {s:?}: at most one -1 and no other negative size")));
        }
    }
    let target = shape_from_tensor(cx, 1)?;
    let Shape::Ranked(mut dims) = target else { return cx.one(Shape::Unknown) };
    let unknown: Vec<usize> = dims.iter().enumerate().filter(|(_, d)| matches!(d, Dim::Unknown)).map(|(i, _)| i).collect();
    if let ([u], Some(n)) = (unknown.as_slice(), cx.shape(0)?.num_elements()) {
        let known: Option<u64> = dims.iter().enumerate().filter(|(i, _)| i != u).try_fold(1u64, |acc, (_, d)| acc.checked_mul(d.known()?));
        if let Some(k) = known {
            if k == 0 || n % k != 0 {
                return Err(invalid(format!("cannot reshape {} ({n} elements) to {}", cx.shape(0)?, Shape::Ranked(dims))));
            }
            dims[*u] = Dim::Known(n / k);
        }
    } else if let (Some(n), Some(k)) = (cx.shape(0)?.num_elements(), Shape::Ranked(dims.clone()).num_elements()) {
        if n != k {
            return Err(invalid(format!("cannot reshape {} ({n} elements) to {}", cx.shape(0)?, Shape::Ranked(dims))));
        }
    }
    // A `-1` whose size follows from a symbolic input dim: Reshape([s, 16, 32] -> [-1, 16, 4, 8])
    // keeps `s` when the other dims of both sides are known and match in product.
    if let ([u], Some(src)) = (unknown.as_slice(), cx.dims(0)?) {
        let syms: Vec<&Dim> = src.iter().filter(|d| matches!(d, Dim::Sym(_))).collect();
        let src_known: Option<u64> = src.iter().filter(|d| !matches!(d, Dim::Sym(_))).try_fold(1u64, |a, d| a.checked_mul(d.known()?));
        let dst_known: Option<u64> = dims.iter().enumerate().filter(|(i, _)| i != u).try_fold(1u64, |a, (_, d)| a.checked_mul(d.known()?));
        if let ([s], Some(a), Some(b)) = (syms.as_slice(), src_known, dst_known) {
            if a == b && matches!(dims[*u], Dim::Unknown) {
                dims[*u] = (*s).clone();
            }
        }
    }
    let mut out = cx.one(Shape::Ranked(dims))?;
    // Reshape of a partial shape vector keeps its elements.
    if let Some(p) = cx.int_dims(0)? {
        if out[0].shape.num_elements() == Some(p.len() as u64) && out[0].shape.rank().is_some_and(|r| r <= 1) {
            out[0].partial = Some(p);
        }
    }
    Ok(out)
}

fn expand_dims(cx: &InferCtx<'_>) -> R {
    let (Some(d), Some(axis)) = (cx.dims(0)?, cx.int_scalar(1)?) else {
        return cx.one(cx.shape(0)?.rank().map_or(Shape::Unknown, |r| Shape::unknown_dims(r + 1)));
    };
    let ax = normalize_axis(axis, d.len() + 1).ok_or_else(|| invalid(format!("axis {axis} out of range for rank {}", d.len())))?;
    let mut d = d.to_vec();
    d.insert(ax, Dim::Known(1));
    let mut out = cx.one(Shape::Ranked(d))?;
    if let (Some(p), 0) = (cx.int_dims(0)?, cx.shape(0)?.rank().unwrap_or(9)) {
        out[0].partial = Some(p);
    }
    Ok(out)
}

fn squeeze(cx: &InferCtx<'_>) -> R {
    let axes = cx.attrs().opt_list_int("squeeze_dims")?.unwrap_or_default();
    let Some(d) = cx.dims(0)? else { return cx.one(Shape::Unknown) };
    let mut drop = vec![false; d.len()];
    if axes.is_empty() {
        for (i, x) in d.iter().enumerate() {
            match x {
                Dim::Known(1) => drop[i] = true,
                Dim::Known(_) => {}
                // TensorFlow cannot tell either: the rank is unknown.
                _ => return cx.one(Shape::Unknown),
            }
        }
    }
    for &a in &axes {
        let ax = normalize_axis(a, d.len()).ok_or_else(|| invalid(format!("squeeze axis {a} out of range for rank {}", d.len())))?;
        if matches!(d[ax], Dim::Known(n) if n != 1) {
            return Err(invalid(format!("cannot squeeze axis {a} of size {}", d[ax])));
        }
        drop[ax] = true;
    }
    cx.one(Shape::Ranked(d.iter().zip(&drop).filter(|(_, &x)| !x).map(|(d, _)| d.clone()).collect()))
}

fn merge_all(cx: &InferCtx<'_>, idx: impl Iterator<Item = usize>) -> Result<Shape, ShapeError> {
    let mut s = Shape::Unknown;
    for i in idx {
        s = s.merge(cx.shape(i)?)?;
    }
    Ok(s)
}

fn pack(cx: &InferCtx<'_>) -> R {
    let n = cx.inputs.len();
    let axis = cx.attrs().get_int("axis")?;
    let s = merge_all(cx, 0..n)?;
    let mut out = match s.dims() {
        Some(d) => {
            let ax = normalize_axis(axis, d.len() + 1).ok_or_else(|| invalid(format!("axis {axis} out of range for rank {}", d.len() + 1)))?;
            let mut d = d.to_vec();
            d.insert(ax, Dim::from(n));
            cx.one(Shape::Ranked(d))?
        }
        None => cx.one(Shape::Unknown)?,
    };
    if s.rank() == Some(0) {
        let elems: Option<Vec<Dim>> = (0..n).map(|i| cx.int_dims(i).ok().flatten().and_then(|v| v.into_iter().next())).collect();
        out[0].partial = elems;
    }
    Ok(out)
}

fn unpack(cx: &InferCtx<'_>) -> R {
    let num = cx.attrs().get_usize("num")?;
    let axis = cx.attrs().get_int("axis")?;
    let s = match cx.dims(0)? {
        Some(d) => {
            let ax = normalize_axis(axis, d.len()).ok_or_else(|| invalid(format!("axis {axis} out of range for rank {}", d.len())))?;
            if matches!(d[ax], Dim::Known(k) if k as usize != num) {
                return Err(invalid(format!("cannot unpack dim {} into {num} tensors", d[ax])));
            }
            let mut d = d.to_vec();
            d.remove(ax);
            Shape::Ranked(d)
        }
        None => Shape::Unknown,
    };
    Ok((0..num).map(|_| Fact::new(cx.out_dtype(0), s.clone())).collect())
}

fn concat(cx: &InferCtx<'_>, axis_input: usize, values: std::ops::Range<usize>) -> R {
    let axis = cx.int_scalar(axis_input)?;
    let rank = values.clone().find_map(|i| cx.shape(i).ok().and_then(|s| s.rank()));
    let (Some(axis), Some(rank)) = (axis, rank) else {
        return cx.one(rank.map_or(Shape::Unknown, Shape::unknown_dims));
    };
    let ax = normalize_axis(axis, rank).ok_or_else(|| invalid(format!("axis {axis} out of range for rank {rank}")))?;
    let mut out: Vec<Dim> = vec![Dim::Unknown; rank];
    let mut total = Some(0u64);
    for i in values.clone() {
        let Some(d) = cx.dims(i)? else {
            total = None;
            continue;
        };
        if d.len() != rank {
            return Err(invalid(format!("input {i} has rank {}, others {rank}", d.len())));
        }
        for (k, x) in d.iter().enumerate() {
            if k == ax {
                total = total.and_then(|t| t.checked_add(x.known()?));
            } else {
                out[k] = out[k].merge(x).ok_or_else(|| invalid(format!("dim {k} differs between inputs: {} and {x}", out[k])))?;
            }
        }
    }
    out[ax] = total.map_or(Dim::Unknown, Dim::Known);
    let mut facts = cx.one(Shape::Ranked(out))?;
    if rank == 1 {
        let parts: Option<Vec<Vec<Dim>>> = values.map(|i| cx.int_dims(i).ok().flatten()).collect();
        facts[0].partial = parts.map(|p| p.concat());
    }
    Ok(facts)
}

fn strided_slice_fn(cx: &InferCtx<'_>) -> R {
    let spec = match (cx.ints(1)?, cx.ints(2)?, cx.ints(3)?) {
        (Some(begin), Some(end), Some(strides)) => {
            let m = |n: &str| cx.attrs().opt_int(n).map(|v| v.unwrap_or(0));
            SliceSpec {
                begin,
                end,
                strides,
                begin_mask: m("begin_mask")?,
                end_mask: m("end_mask")?,
                ellipsis_mask: m("ellipsis_mask")?,
                new_axis_mask: m("new_axis_mask")?,
                shrink_axis_mask: m("shrink_axis_mask")?,
            }
        }
        _ => return cx.one(Shape::Unknown),
    };
    let Some(dims) = cx.dims(0)? else { return cx.one(Shape::Unknown) };
    let plan = strided_slice::plan(&spec, dims.len()).map_err(invalid)?;
    let mut sizes = Vec::with_capacity(dims.len());
    for (ax, d) in plan.dense.iter().enumerate() {
        sizes.push(match &dims[ax] {
            Dim::Known(n) => {
                let (_, c) = d.resolve(*n as i64).map_err(invalid)?;
                Dim::Known(c as u64)
            }
            other if d.is_identity() => other.clone(),
            _ => d.size_without_dim().map_or(Dim::Unknown, |c| Dim::Known(c.max(0) as u64)),
        });
    }
    let out: Vec<Dim> = plan
        .out
        .iter()
        .map(|o| match o {
            OutAxis::New => Dim::Known(1),
            OutAxis::Dense(i) => sizes[*i].clone(),
        })
        .collect();
    let mut facts = cx.one(Shape::Ranked(out))?;
    // Slicing a partly known shape vector: select its elements.
    if let (Some(p), 1) = (cx.int_dims(0)?, dims.len()) {
        let (start, n) = plan.dense[0].resolve(p.len() as i64).map_err(invalid)?;
        let step = if plan.dense[0].shrink { 1 } else { plan.dense[0].stride };
        facts[0].partial = Some((0..n).map(|k| p[(start + k * step) as usize].clone()).collect());
    }
    Ok(facts)
}

fn slice(cx: &InferCtx<'_>) -> R {
    let Some(d) = cx.dims(0)? else {
        return cx.one(match cx.dims(2)? {
            Some([Dim::Known(n)]) => Shape::unknown_dims(*n as usize),
            _ => Shape::Unknown,
        });
    };
    let (Some(begin), Some(size)) = (cx.ints(1)?, cx.ints(2)?) else { return cx.one(Shape::unknown_dims(d.len())) };
    if begin.len() != d.len() || size.len() != d.len() {
        return Err(invalid(format!("begin and size must have {} entries", d.len())));
    }
    let out = (0..d.len())
        .map(|i| match (size[i], &d[i]) {
            (-1, Dim::Known(n)) => Dim::Known((*n as i64).saturating_sub(begin[i]).max(0) as u64),
            (-1, _) => Dim::Unknown,
            (s, _) => Dim::from_tf(s),
        })
        .collect();
    cx.one(Shape::Ranked(out))
}

/// Length of `Range(start, limit, delta)` when all three are known.
fn range(cx: &InferCtx<'_>) -> R {
    let scalar = |i: usize| -> Result<Option<f64>, ShapeError> {
        Ok(cx.input(i)?.value.as_ref().and_then(|t| t.to_f64_vec()).and_then(|v| (v.len() == 1).then(|| v[0])))
    };
    let n = match (scalar(0)?, scalar(1)?, scalar(2)?) {
        (Some(s), Some(l), Some(d)) if d != 0.0 => {
            let n = ((l - s) / d).ceil();
            if !n.is_finite() || n < 0.0 {
                return Err(invalid(format!("range({s}, {l}, {d}) is invalid")));
            }
            Dim::Known(n as u64)
        }
        (_, _, Some(0.0)) => return Err(invalid("range with delta 0")),
        _ => Dim::Unknown,
    };
    cx.one(Shape::Ranked(vec![n]))
}

fn transpose(cx: &InferCtx<'_>) -> R {
    let Some(d) = cx.dims(0)? else { return cx.one(Shape::Unknown) };
    let Some(perm) = cx.ints(1)? else { return cx.one(Shape::unknown_dims(d.len())) };
    if perm.len() != d.len() {
        return Err(invalid(format!("perm {perm:?} does not fit rank {}", d.len())));
    }
    let axes: std::collections::BTreeSet<Option<usize>> = perm.iter().map(|&p| normalize_axis(p, d.len())).collect();
    if axes.len() != perm.len() {
        return Err(invalid(format!("perm {perm:?} is not a permutation of 0..{}", d.len())));
    }
    let out = perm
        .iter()
        .map(|&p| normalize_axis(p, d.len()).map(|a| d[a].clone()).ok_or_else(|| invalid(format!("perm {perm:?} out of range"))))
        .collect::<Result<_, _>>()?;
    cx.one(Shape::Ranked(out))
}

fn gather(cx: &InferCtx<'_>, v2: bool) -> R {
    let axis = if v2 { cx.int_scalar(2)? } else { Some(0) };
    let batch_dims = cx.attrs().opt_int("batch_dims")?.unwrap_or(0);
    let (Some(p), Some(ix), Some(axis)) = (cx.dims(0)?, cx.dims(1)?, axis) else { return cx.one(Shape::Unknown) };
    let ax = normalize_axis(axis, p.len()).ok_or_else(|| invalid(format!("axis {axis} out of range for rank {}", p.len())))?;
    let bd = normalize_axis(batch_dims, ix.len() + 1).ok_or_else(|| invalid(format!("batch_dims {batch_dims} out of range")))?;
    let mut out = p[..ax].to_vec();
    out.extend_from_slice(&ix[bd..]);
    out.extend_from_slice(&p[ax + 1..]);
    let mut facts = cx.one(Shape::Ranked(out))?;
    if let (Some(vals), Some(idx), 1) = (cx.int_dims(0)?, cx.ints(1)?, p.len()) {
        facts[0].partial = idx.iter().map(|&i| usize::try_from(i).ok().and_then(|i| vals.get(i).cloned())).collect();
    }
    Ok(facts)
}

fn gather_nd(cx: &InferCtx<'_>) -> R {
    let (Some(p), Some(ix)) = (cx.dims(0)?, cx.dims(1)?) else { return cx.one(Shape::Unknown) };
    let Some((last, outer)) = ix.split_last() else { return Err(invalid("indices must have rank ≥ 1")) };
    let Some(k) = last.known() else { return cx.one(Shape::Unknown) };
    let mut out = outer.to_vec();
    out.extend_from_slice(p.get(k as usize..).ok_or_else(|| invalid(format!("index depth {k} exceeds params rank {}", p.len())))?);
    cx.one(Shape::Ranked(out))
}

fn tile(cx: &InferCtx<'_>) -> R {
    let Some(d) = cx.dims(0)? else { return cx.one(Shape::Unknown) };
    let Some(m) = cx.ints(1)? else { return cx.one(Shape::unknown_dims(d.len())) };
    if m.len() != d.len() {
        return Err(invalid(format!("multiples has {} entries, input rank is {}", m.len(), d.len())));
    }
    let out = d
        .iter()
        .zip(&m)
        .map(|(x, &k)| match (x, k) {
            (x, 1) => x.clone(),
            (Dim::Known(n), k) if k >= 0 => n.checked_mul(k as u64).map_or(Dim::Unknown, Dim::Known),
            _ => Dim::Unknown,
        })
        .collect();
    cx.one(Shape::Ranked(out))
}

fn cast(cx: &InferCtx<'_>) -> R {
    let to = cx.attrs().get_type("DstT")?;
    let mut f = Fact::new(Some(to), cx.shape(0)?.clone());
    if to.is_integer() {
        f.partial = cx.input(0)?.partial.clone();
    }
    Ok(vec![f])
}

fn split(cx: &InferCtx<'_>) -> R {
    let n = cx.attrs().get_usize("num_split")?;
    let s = match (cx.dims(1)?, cx.int_scalar(0)?) {
        (Some(d), Some(axis)) => {
            let ax = normalize_axis(axis, d.len()).ok_or_else(|| invalid(format!("axis {axis} out of range for rank {}", d.len())))?;
            let mut d = d.to_vec();
            d[ax] = match &d[ax] {
                Dim::Known(k) if n > 0 && *k % n as u64 == 0 => Dim::Known(*k / n as u64),
                Dim::Known(k) => return Err(invalid(format!("cannot split a dim of {k} into {n} equal parts"))),
                _ => Dim::Unknown,
            };
            Shape::Ranked(d)
        }
        (Some(d), None) => Shape::unknown_dims(d.len()),
        _ => Shape::Unknown,
    };
    Ok((0..n).map(|_| Fact::new(cx.out_dtype(0), s.clone())).collect())
}

fn split_v(cx: &InferCtx<'_>) -> R {
    let n = cx.attrs().get_usize("num_split")?;
    let (Some(d), Some(axis)) = (cx.dims(0)?, cx.int_scalar(2)?) else {
        let s = cx.shape(0)?.rank().map_or(Shape::Unknown, Shape::unknown_dims);
        return Ok((0..n).map(|_| Fact::new(cx.out_dtype(0), s.clone())).collect());
    };
    let ax = normalize_axis(axis, d.len()).ok_or_else(|| invalid(format!("axis {axis} out of range for rank {}", d.len())))?;
    let sizes = cx.ints(1)?;
    let mut sizes: Vec<Dim> = match sizes {
        Some(s) if s.len() == n => s.into_iter().map(Dim::from_tf).collect(),
        Some(s) => return Err(invalid(format!("size_splits has {} entries, num_split is {n}", s.len()))),
        None => vec![Dim::Unknown; n],
    };
    // One -1 takes the rest of a known dim.
    if let (Some(total), [u]) = (d[ax].known(), sizes.iter().enumerate().filter(|(_, s)| matches!(s, Dim::Unknown)).map(|(i, _)| i).collect::<Vec<_>>().as_slice()) {
        let rest: u64 = sizes.iter().filter_map(|s| s.known()).fold(0u64, |a, s| a.saturating_add(s));
        sizes[*u] = Dim::Known(total.checked_sub(rest).ok_or_else(|| invalid("size_splits exceed the dim"))?);
    }
    Ok(sizes
        .into_iter()
        .map(|s| {
            let mut o = d.to_vec();
            o[ax] = s;
            Fact::new(cx.out_dtype(0), Shape::Ranked(o))
        })
        .collect())
}

fn one_hot(cx: &InferCtx<'_>) -> R {
    let axis = cx.attrs().opt_int("axis")?.unwrap_or(-1);
    let Some(d) = cx.dims(0)? else { return cx.one(Shape::Unknown) };
    let depth = cx.int_scalar(1)?.map_or(Dim::Unknown, Dim::from_tf);
    let ax = if axis == -1 { d.len() } else { normalize_axis(axis, d.len() + 1).ok_or_else(|| invalid(format!("axis {axis} out of range")))? };
    let mut d = d.to_vec();
    d.insert(ax, depth);
    cx.one(Shape::Ranked(d))
}

fn pad(cx: &InferCtx<'_>) -> R {
    let Some(d) = cx.dims(0)? else {
        return cx.one(match cx.dims(1)? {
            Some([Dim::Known(n), _]) => Shape::unknown_dims(*n as usize),
            _ => Shape::Unknown,
        });
    };
    let Some(p) = cx.ints(1)? else { return cx.one(Shape::unknown_dims(d.len())) };
    if p.len() != 2 * d.len() {
        return Err(invalid(format!("paddings has {} values, rank {} needs {}", p.len(), d.len(), 2 * d.len())));
    }
    let out = d
        .iter()
        .enumerate()
        .map(|(i, x)| match x {
            Dim::Known(n) => Dim::from_tf((*n as i64).saturating_add(p[2 * i]).saturating_add(p[2 * i + 1])),
            other if p[2 * i] == 0 && p[2 * i + 1] == 0 => other.clone(),
            _ => Dim::Unknown,
        })
        .collect();
    cx.one(Shape::Ranked(out))
}


/// `If`/`StatelessIf` kept for a `branch` layer: the `Tout` dtypes (filled at import) with the
/// shapes TensorFlow recorded in `output_shapes`, else unknown.
fn branch(cx: &InferCtx<'_>) -> Result<Vec<Fact>, ShapeError> {
    let shapes = cx.attrs().get_list_shape("output_shapes").unwrap_or_default();
    Ok((0..cx.node.outputs.len()).map(|k| Fact::new(cx.node.outputs[k].dtype, shapes.get(k).cloned().unwrap_or(Shape::Unknown))).collect())
}

/// `While`/`StatelessWhile`: the loop variables' dtypes, with the shapes TensorFlow recorded in
/// `output_shapes` (relaxed where the body changes a dim), else the initial values' shapes.
/// A list variable (a `variant` TensorList, or a TF1 array's `flow`, which TF records as
/// scalars) keeps the shape of the preallocated tensor it starts as (`infer::lists`): writes
/// never change a list's length or element shape.
fn while_loop(cx: &InferCtx<'_>) -> Result<Vec<Fact>, ShapeError> {
    let shapes = cx.attrs().get_list_shape("output_shapes").unwrap_or_default();
    let types = cx.attrs().get_list_type("T").unwrap_or_default();
    Ok(cx
        .inputs
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let list = types.get(k) == Some(&DType::Variant)
                || (shapes.get(k).is_some_and(|s| s.rank() == Some(0)) && f.shape.rank().is_some_and(|r| r > 0));
            let shape = if list { f.shape.clone() } else { shapes.get(k).cloned().unwrap_or_else(|| f.shape.clone()) };
            Fact::new(f.dtype, shape)
        })
        .collect())
}
