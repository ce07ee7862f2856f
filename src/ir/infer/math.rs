//! Shape functions of math ops: element-wise (unary, broadcasting binary, select),
//! reductions, matrix products (MatMul, BatchMatMul, Einsum), and per-matrix ops.

use super::{invalid, InferCtx, ShapeError, ShapeRegistry};
use crate::ir::dtype::DType;
use crate::ir::graph::Fact;
use crate::ir::shape::{normalize_axis, Dim, Shape};
use std::collections::HashMap;

type R = Result<Vec<Fact>, ShapeError>;

/// Element-wise ops of one tensor input: the output has the input's shape.
pub const UNARY: &[&str] = &[
    "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Digamma", "Elu", "Erf", "Erfc",
    "Erfinv", "Exp", "Expm1", "Floor", "Inv", "Invert", "IsFinite", "IsInf", "IsNan", "LeakyRelu", "Lgamma", "Log",
    "Log1p", "LogicalNot", "LogSoftmax", "Neg", "Reciprocal", "Relu", "Relu6", "Rint", "Round", "Rsqrt", "Selu",
    "Sigmoid", "Sign", "Sin", "Sinh", "Softmax", "Softplus", "Softsign", "Sqrt", "Square", "Tan", "Tanh",
    "Cumsum", "Cumprod", "ClipByValue", "Gelu", "Swish", "HardSwish", "LRN", "Real", "Imag", "ComplexAbs", "Angle",
    "BesselI0e", "BesselI1e", "Ndtri", "Bucketize", "FakeQuantWithMinMaxVars", "Print", "Reverse", "ReverseSequence",
    "MatrixSetDiagV3", "TensorScatterAdd", "TensorScatterMax", "TensorScatterUpdate", "InvertPermutation", "Cross",
    "Cholesky", "FFT", "IFFT", "Betainc",
];

/// Element-wise ops of two inputs with NumPy broadcasting.
pub const BINARY: &[&str] = &[
    "Add", "AddV2", "Sub", "Mul", "Div", "RealDiv", "FloorDiv", "TruncateDiv", "FloorMod", "Mod", "TruncateMod",
    "Maximum", "Minimum", "Pow", "SquaredDifference", "Atan2", "DivNoNan", "MulNoNan", "Xdivy", "Xlogy", "Xlog1py",
    "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr", "BitwiseAnd",
    "BitwiseOr", "BitwiseXor", "LeftShift", "RightShift", "Complex", "ApproximateEqual", "Relu6Grad", "ReluGrad",
    "Igamma", "Igammac",
];

pub fn register_all_ops(r: &mut ShapeRegistry) {
    for op in UNARY {
        r.register(op, |cx: &InferCtx<'_>| cx.one(cx.shape(0)?.clone()));
    }
    for op in BINARY {
        r.register(op, |cx: &InferCtx<'_>| {
            let mut out = cx.one(cx.shape(0)?.broadcast(cx.shape(1)?)?)?;
            out[0].partial = partial_arith(cx)?;
            Ok(out)
        });
    }
    r.register("AddN", |cx: &InferCtx<'_>| {
        let mut s = Shape::Unknown;
        for f in cx.inputs {
            s = s.merge(&f.shape)?;
        }
        cx.one(s)
    });
    r.register("SelectV2", |cx: &InferCtx<'_>| cx.one(cx.shape(0)?.broadcast(cx.shape(1)?)?.broadcast(cx.shape(2)?)?));
    r.register("Select", |cx: &InferCtx<'_>| cx.one(cx.shape(1)?.merge(cx.shape(2)?)?));
    for op in ["Sum", "Prod", "Max", "Min", "Mean", "All", "Any", "EuclideanNorm"] {
        r.register(op, reduction);
    }
    r.register("ArgMax", arg_reduce);
    r.register("ArgMin", arg_reduce);
    r.register("MatMul", mat_mul);
    for op in ["BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"] {
        r.register(op, batch_mat_mul);
    }
    r.register("Einsum", einsum);
    r.register("MatrixDeterminant", |cx: &InferCtx<'_>| matrix_batch(cx, false));
    r.register("LogMatrixDeterminant", |cx: &InferCtx<'_>| {
        let s = matrix_batch(cx, false)?.remove(0).shape;
        Ok(vec![Fact::new(cx.out_dtype(0), s.clone()), Fact::new(cx.out_dtype(1), s)])
    });
    r.register("MatrixInverse", |cx: &InferCtx<'_>| matrix_batch(cx, true));
    r.register("TopKV2", top_k);
    r.register("TopK", top_k);
    r.register("MatrixSolve", matrix_solve);
    r.register("MatrixTriangularSolve", matrix_solve);
    r.register("InTopK", in_top_k);
    r.register("InTopKV2", in_top_k);
    for op in ["UnsortedSegmentSum", "UnsortedSegmentMax", "UnsortedSegmentMin", "UnsortedSegmentProd"] {
        r.register(op, unsorted_segment);
    }
    for op in ["SegmentSum", "SegmentMax", "SegmentMin", "SegmentMean", "SegmentProd"] {
        // The number of segments is a run-time value.
        r.register(op, |cx: &InferCtx<'_>| match cx.dims(0)? {
            Some(d) if !d.is_empty() => {
                let mut d = d.to_vec();
                d[0] = Dim::Unknown;
                cx.one(Shape::Ranked(d))
            }
            _ => cx.one(Shape::Unknown),
        });
    }
    r.register("Unique", |cx: &InferCtx<'_>| {
        Ok(vec![Fact::new(cx.out_dtype(0), Shape::unknown_dims(1)), Fact::new(cx.out_dtype(1), cx.shape(0)?.clone())])
    });
    r.register("RFFT", |cx: &InferCtx<'_>| fft_real(cx, true, 1));
    r.register("IRFFT", |cx: &InferCtx<'_>| fft_real(cx, false, 1));
    r.register("RFFT2D", |cx: &InferCtx<'_>| fft_real(cx, true, 2));
    r.register("IRFFT2D", |cx: &InferCtx<'_>| fft_real(cx, false, 2));
}

/// `MatrixSolve(matrix [..., M, M], rhs [..., M, K])` is `[..., M, K]`, and so is
/// `MatrixTriangularSolve`, whose batch dims broadcast (MatrixSolve's must be equal, which
/// broadcasting leaves as they are): with A `[2, M, M]` and B `[1, M, K]` the result is
/// `[2, M, K]`, not B's shape.
fn matrix_solve(cx: &InferCtx<'_>) -> R {
    let (Some(a), Some(b)) = (cx.dims(0)?, cx.dims(1)?) else { return cx.one(cx.shape(1)?.clone()) };
    if a.len() < 2 || b.len() < 2 {
        return Err(invalid("a matrix solve needs inputs of rank ≥ 2"));
    }
    let batch = Shape::Ranked(a[..a.len() - 2].to_vec()).broadcast(&Shape::Ranked(b[..b.len() - 2].to_vec()))?;
    let mut out = batch.dims().map(|d| d.to_vec()).unwrap_or_default();
    out.extend_from_slice(&b[b.len() - 2..]);
    cx.one(Shape::Ranked(out))
}

/// `InTopK(predictions [batch, classes], targets [batch])` is `[batch]` of bool.
fn in_top_k(cx: &InferCtx<'_>) -> R {
    let b = cx.dims(0)?.and_then(|d| d.first().cloned()).unwrap_or(Dim::Unknown);
    cx.one(Shape::Ranked(vec![b]))
}

/// `UnsortedSegment*(data, segment_ids, num_segments)`: `[num_segments] + data.shape[ids.rank:]`.
fn unsorted_segment(cx: &InferCtx<'_>) -> R {
    let (Some(d), Some(ids)) = (cx.dims(0)?, cx.shape(1)?.rank()) else { return cx.one(Shape::Unknown) };
    let n = cx.int_scalar(2)?.map_or(Dim::Unknown, Dim::from_tf);
    let rest = d.get(ids..).ok_or_else(|| invalid(format!("segment_ids of rank {ids} exceed data rank {}", d.len())))?;
    let mut out = vec![n];
    out.extend_from_slice(rest);
    cx.one(Shape::Ranked(out))
}

/// `RFFT(x, fft_length)`: last dim becomes `fft_length / 2 + 1`; `IRFFT`: `fft_length`. The 2-D
/// forms (`axes` = 2) take the last two dims from `fft_length`, the innermost as above.
fn fft_real(cx: &InferCtx<'_>, forward: bool, axes: usize) -> R {
    let Some(d) = cx.dims(0)? else { return cx.one(Shape::Unknown) };
    if d.len() < axes {
        return Err(invalid(format!("a {axes}-D FFT needs rank ≥ {axes}")));
    }
    let mut out = d[..d.len() - axes].to_vec();
    match cx.ints(1)?.as_deref() {
        Some(lens) if lens.len() == axes && lens.iter().all(|n| *n >= 0) => {
            let (last, outer) = lens.split_last().expect("axes >= 1");
            out.extend(outer.iter().map(|n| Dim::Known(*n as u64)));
            out.push(Dim::Known(if forward { *last as u64 / 2 + 1 } else { *last as u64 }));
        }
        _ => out.extend(std::iter::repeat_n(Dim::Unknown, axes)),
    }
    cx.one(Shape::Ranked(out))
}

/// Shape arithmetic on partly known integer vectors (`batch * 16`, `max(n, 1)`): element by
/// element, known when both sides are known, broadcasting a single element.
fn partial_arith(cx: &InferCtx<'_>) -> Result<Option<Vec<Dim>>, ShapeError> {
    let f: fn(u64, u64) -> Option<u64> = match cx.node.op.as_str() {
        "Add" | "AddV2" => u64::checked_add,
        "Sub" => u64::checked_sub,
        "Mul" => u64::checked_mul,
        "FloorDiv" => |a, b| a.checked_div(b),
        "Maximum" => |a, b| Some(a.max(b)),
        "Minimum" => |a, b| Some(a.min(b)),
        _ => return Ok(None),
    };
    let (Some(a), Some(b)) = (cx.int_dims(0)?, cx.int_dims(1)?) else { return Ok(None) };
    if cx.input(0)?.value.is_some() && cx.input(1)?.value.is_some() {
        return Ok(None);
    }
    let n = a.len().max(b.len());
    if (a.len() != n && a.len() != 1) || (b.len() != n && b.len() != 1) {
        return Ok(None);
    }
    let at = |v: &[Dim], i: usize| v[if v.len() == 1 { 0 } else { i }].clone();
    Ok(Some(
        (0..n)
            .map(|i| match (at(&a, i), at(&b, i)) {
                (Dim::Known(x), Dim::Known(y)) => f(x, y).map_or(Dim::Unknown, Dim::Known),
                // x * 1, x + 0, x - 0 and x // 1 keep a symbol.
                (s @ Dim::Sym(_), Dim::Known(1)) if matches!(cx.node.op.as_str(), "Mul" | "FloorDiv") => s,
                (Dim::Known(1), s @ Dim::Sym(_)) if cx.node.op == "Mul" => s,
                (s @ Dim::Sym(_), Dim::Known(0)) if matches!(cx.node.op.as_str(), "Add" | "AddV2" | "Sub") => s,
                _ => Dim::Unknown,
            })
            .collect(),
    ))
}

fn reduction(cx: &InferCtx<'_>) -> R {
    let keep = cx.attrs().opt_bool("keep_dims")?.unwrap_or(false);
    let Some(d) = cx.dims(0)? else { return cx.one(Shape::Unknown) };
    let Some(axes) = cx.ints(1)? else {
        return cx.one(if keep { Shape::unknown_dims(d.len()) } else { Shape::Unknown });
    };
    let mut reduced = vec![false; d.len()];
    for a in axes {
        let ax = normalize_axis(a, d.len()).ok_or_else(|| invalid(format!("axis {a} out of range for rank {}", d.len())))?;
        reduced[ax] = true;
    }
    let partial = match (cx.node.op.as_str(), cx.int_dims(0)?, d.len(), cx.input(0)?.value.is_some()) {
        ("Prod", Some(v), 1, false) if reduced[0] => {
            let p = v.iter().try_fold(1u64, |a, x| a.checked_mul(x.known()?));
            Some(vec![p.map_or(Dim::Unknown, Dim::Known)])
        }
        _ => None,
    };
    let out = d
        .iter()
        .zip(&reduced)
        .filter_map(|(x, &r)| match (r, keep) {
            (true, true) => Some(Dim::Known(1)),
            (true, false) => None,
            (false, _) => Some(x.clone()),
        })
        .collect();
    let mut facts = cx.one(Shape::Ranked(out))?;
    facts[0].partial = partial;
    Ok(facts)
}

fn arg_reduce(cx: &InferCtx<'_>) -> R {
    let dtype = cx.attrs().opt_type("output_type")?.unwrap_or(DType::I64);
    let s = match (cx.dims(0)?, cx.int_scalar(1)?) {
        (Some(d), Some(a)) => {
            let ax = normalize_axis(a, d.len()).ok_or_else(|| invalid(format!("axis {a} out of range for rank {}", d.len())))?;
            let mut d = d.to_vec();
            d.remove(ax);
            Shape::Ranked(d)
        }
        (Some(d), None) if !d.is_empty() => Shape::unknown_dims(d.len() - 1),
        _ => Shape::Unknown,
    };
    Ok(vec![Fact::new(Some(dtype), s)])
}

fn merged(a: &Dim, b: &Dim, what: &str) -> Result<Dim, ShapeError> {
    a.merge(b).ok_or_else(|| invalid(format!("{what}: {a} and {b} differ")))
}

fn mat_mul(cx: &InferCtx<'_>) -> R {
    let ta = cx.attrs().opt_bool("transpose_a")?.unwrap_or(false);
    let tb = cx.attrs().opt_bool("transpose_b")?.unwrap_or(false);
    let (a, b) = (cx.dims(0)?, cx.dims(1)?);
    let pick = |d: Option<&[Dim]>, t: bool| -> Result<(Dim, Dim), ShapeError> {
        match d {
            Some([r, c]) => Ok(if t { (c.clone(), r.clone()) } else { (r.clone(), c.clone()) }),
            Some(d) => Err(invalid(format!("MatMul needs matrices, found rank {}", d.len()))),
            None => Ok((Dim::Unknown, Dim::Unknown)),
        }
    };
    let (m, ka) = pick(a, ta)?;
    let (kb, n) = pick(b, tb)?;
    merged(&ka, &kb, "inner dimensions")?;
    cx.one(Shape::Ranked(vec![m, n]))
}

fn batch_mat_mul(cx: &InferCtx<'_>) -> R {
    let adj_x = cx.attrs().opt_bool("adj_x")?.unwrap_or(false);
    let adj_y = cx.attrs().opt_bool("adj_y")?.unwrap_or(false);
    let (Some(a), Some(b)) = (cx.dims(0)?, cx.dims(1)?) else { return cx.one(Shape::Unknown) };
    if a.len() < 2 || b.len() < 2 {
        return Err(invalid("BatchMatMul needs inputs of rank ≥ 2"));
    }
    let (ab, am) = a.split_at(a.len() - 2);
    let (bb, bm) = b.split_at(b.len() - 2);
    let (m, ka) = if adj_x { (&am[1], &am[0]) } else { (&am[0], &am[1]) };
    let (kb, n) = if adj_y { (&bm[1], &bm[0]) } else { (&bm[0], &bm[1]) };
    merged(ka, kb, "inner dimensions")?;
    let batch = Shape::Ranked(ab.to_vec()).broadcast(&Shape::Ranked(bb.to_vec()))?;
    let mut out = batch.dims().map(|d| d.to_vec()).unwrap_or_default();
    out.push(m.clone());
    out.push(n.clone());
    cx.one(Shape::Ranked(out))
}

fn matrix_batch(cx: &InferCtx<'_>, keep_matrix: bool) -> R {
    let Some(d) = cx.dims(0)? else { return cx.one(Shape::Unknown) };
    if d.len() < 2 {
        return Err(invalid(format!("expected a batch of square matrices, found rank {}", d.len())));
    }
    merged(&d[d.len() - 2], &d[d.len() - 1], "matrices must be square")?;
    cx.one(Shape::Ranked(if keep_matrix { d.to_vec() } else { d[..d.len() - 2].to_vec() }))
}

/// `TopKV2(input, k)` and `TopK` (k as an attr): the last dim becomes k.
fn top_k(cx: &InferCtx<'_>) -> R {
    let k = match cx.attrs().opt_int("k")? {
        Some(k) if cx.node.op == "TopK" => Some(k),
        _ => cx.int_scalar(1).ok().flatten(),
    };
    let s = match cx.dims(0)? {
        Some(d) if !d.is_empty() => {
            let mut d = d.to_vec();
            let k = k.map_or(Dim::Unknown, Dim::from_tf);
            if let (Some(n), Some(kk)) = (d[d.len() - 1].known(), k.known()) {
                if kk > n {
                    return Err(invalid(format!("k = {kk} exceeds the last dim {n}")));
                }
            }
            let last = d.len() - 1;
            d[last] = k;
            Shape::Ranked(d)
        }
        Some(_) => return Err(invalid("TopKV2 needs an input of rank ≥ 1")),
        None => Shape::Unknown,
    };
    Ok(vec![Fact::new(cx.out_dtype(0), s.clone()), Fact::new(Some(DType::I32), s)])
}

/// `Einsum`: each output letter takes the size its inputs give it; `...` broadcasts.
fn einsum(cx: &InferCtx<'_>) -> R {
    let eq: String = cx.attrs().get_str("equation")?.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = eq.split_once("->").ok_or_else(|| invalid(format!("equation `{eq}` has no `->` (implicit output is not supported)")))?;
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != cx.inputs.len() {
        return Err(invalid(format!("equation `{eq}` has {} operands, the node {}", terms.len(), cx.inputs.len())));
    }
    let mut sizes: HashMap<char, Dim> = HashMap::new();
    let mut ellipsis = Shape::Ranked(Vec::new());
    for (i, term) in terms.iter().enumerate() {
        let Some(d) = cx.dims(i)? else {
            if term.contains("...") {
                ellipsis = Shape::Unknown;
            }
            continue;
        };
        let (pre, post) = match term.split_once("...") {
            Some((a, b)) => (a, Some(b)),
            None => (*term, None),
        };
        let pre: Vec<char> = pre.chars().collect();
        let post: Vec<char> = post.map(|p| p.chars().collect()).unwrap_or_default();
        if pre.len() + post.len() > d.len() || (!term.contains("...") && pre.len() != d.len()) {
            return Err(invalid(format!("operand {i} of rank {} does not fit `{term}`", d.len())));
        }
        let mut bind = |c: char, x: &Dim| -> Result<(), ShapeError> {
            let cur = sizes.entry(c).or_insert(Dim::Unknown);
            // A known 1 may broadcast against another size.
            if !matches!(x, Dim::Known(1)) {
                *cur = if matches!(cur, Dim::Known(1)) { x.clone() } else { merged(cur, x, &format!("label `{c}`"))? };
            } else if matches!(cur, Dim::Unknown) {
                *cur = Dim::Known(1);
            }
            Ok(())
        };
        for (k, &c) in pre.iter().enumerate() {
            bind(c, &d[k])?;
        }
        for (k, &c) in post.iter().enumerate() {
            bind(c, &d[d.len() - post.len() + k])?;
        }
        if term.contains("...") {
            let mid = Shape::Ranked(d[pre.len()..d.len() - post.len()].to_vec());
            ellipsis = ellipsis.broadcast(&mid)?;
        }
    }
    let (opre, opost) = match rhs.split_once("...") {
        Some((a, b)) => (a, Some(b)),
        None => (rhs, None),
    };
    let dim_of = |c: char| sizes.get(&c).cloned().ok_or_else(|| invalid(format!("output label `{c}` is in no operand")));
    let mut out: Vec<Dim> = opre.chars().map(dim_of).collect::<Result<_, _>>()?;
    if let Some(post) = opost {
        match ellipsis.dims() {
            Some(e) => out.extend_from_slice(e),
            None => return cx.one(Shape::Unknown),
        }
        out.extend(post.chars().map(dim_of).collect::<Result<Vec<_>, _>>()?);
    }
    cx.one(Shape::Ranked(out))
}
