//! Math ops: element-wise arithmetic with NumPy broadcasting, comparisons, reductions.
//!
//! Integers compute in `i64` and wrap back into their dtype (as TensorFlow's fixed-width
//! integers wrap); real floats compute in `f64` and round back once, which is exact for
//! `+ - * /` and `sqrt` of `f32`/`f16` operands.

use super::{Cx, EvalError};
use crate::ir::dtype::DType;
use crate::ir::shape::{normalize_axis, Shape};
use crate::ir::tensor::Tensor;
use ndarray::{ArrayD, Axis, IxDyn, Zip};

pub(super) const OPS: &[&str] = &[
    "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "FloorDiv", "TruncateDiv", "FloorMod", "Mod", "TruncateMod",
    "Maximum", "Minimum", "Pow", "SquaredDifference", "Equal", "NotEqual", "Less", "LessEqual", "Greater",
    "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "Neg", "Abs", "Square", "Sign", "Floor", "Ceil",
    "Round", "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Log", "Relu", "Relu6", "Sigmoid", "Tanh", "Sum", "Prod",
    "Max", "Min", "Mean", "All", "Any",
];

/// Numbers of one tensor, widened.
enum Num {
    I(ArrayD<i64>),
    F(ArrayD<f64>),
}

fn widen(t: &Tensor) -> Option<Num> {
    let shape = IxDyn(t.shape());
    if t.dtype().is_float() {
        ArrayD::from_shape_vec(shape, t.to_f64_vec()?).ok().map(Num::F)
    } else if t.dtype().is_integer() || t.dtype() == DType::Bool {
        ArrayD::from_shape_vec(shape, t.to_i64_vec()?).ok().map(Num::I)
    } else {
        None
    }
}

fn narrow_i(cx: &Cx<'_>, dtype: DType, a: ArrayD<i64>) -> Result<Tensor, EvalError> {
    let shape = a.shape().to_vec();
    cx.tensor(Tensor::from_i64s(dtype, &shape, a.into_iter().collect()))
}

fn narrow_f(cx: &Cx<'_>, dtype: DType, a: ArrayD<f64>) -> Result<Tensor, EvalError> {
    let shape = a.shape().to_vec();
    cx.tensor(Tensor::from_f64s(dtype, &shape, a.into_iter().collect()))
}

fn bools(cx: &Cx<'_>, a: ArrayD<bool>) -> Result<Tensor, EvalError> {
    let shape = a.shape().to_vec();
    cx.tensor(Tensor::from_vec(&shape, a.into_iter().collect()))
}

fn broadcast_shape(cx: &Cx<'_>, a: &[usize], b: &[usize]) -> Result<Vec<usize>, EvalError> {
    let s = Shape::from_usize(a).broadcast(&Shape::from_usize(b)).map_err(|e| cx.invalid(e.to_string()))?;
    s.as_known().ok_or_else(|| cx.invalid("broadcast of known shapes is known"))
}

fn zip_with<A: Clone, B: Clone, R: Clone + 'static>(
    cx: &Cx<'_>,
    a: &ArrayD<A>,
    b: &ArrayD<B>,
    f: impl Fn(A, B) -> Result<R, String>,
) -> Result<ArrayD<R>, EvalError> {
    let shape = broadcast_shape(cx, a.shape(), b.shape())?;
    let (va, vb) = match (a.broadcast(IxDyn(&shape)), b.broadcast(IxDyn(&shape))) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err(cx.invalid(format!("cannot broadcast {:?} and {:?}", a.shape(), b.shape()))),
    };
    let mut err = None;
    let out = Zip::from(&va).and(&vb).map_collect(|x, y| match f(x.clone(), y.clone()) {
        Ok(r) => Some(r),
        Err(e) => {
            err.get_or_insert(e);
            None
        }
    });
    if let Some(e) = err {
        return Err(cx.invalid(e));
    }
    Ok(out.mapv(|r| r.expect("no error means every element computed")))
}

fn int_binary(op: &str) -> Option<fn(i64, i64) -> Result<i64, String>> {
    Some(match op {
        "Add" | "AddV2" => |a: i64, b: i64| Ok(a.wrapping_add(b)),
        "Sub" => |a: i64, b: i64| Ok(a.wrapping_sub(b)),
        "Mul" => |a: i64, b: i64| Ok(a.wrapping_mul(b)),
        "FloorDiv" | "Div" => |a: i64, b: i64| {
            if b == 0 {
                return Err("integer division by zero".into());
            }
            let q = a.wrapping_div(b);
            Ok(if a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0)) { q.wrapping_sub(1) } else { q })
        },
        "TruncateDiv" | "RealDiv" => |a: i64, b: i64| if b == 0 { Err("integer division by zero".into()) } else { Ok(a.wrapping_div(b)) },
        "FloorMod" => |a: i64, b: i64| if b == 0 { Err("integer division by zero".into()) } else { let r = a.wrapping_rem(b); Ok(if r != 0 && (r < 0) != (b < 0) { r + b } else { r }) },
        "Mod" | "TruncateMod" => |a: i64, b: i64| if b == 0 { Err("integer division by zero".into()) } else { Ok(a.wrapping_rem(b)) },
        "Maximum" => |a: i64, b: i64| Ok(a.max(b)),
        "Minimum" => |a: i64, b: i64| Ok(a.min(b)),
        "SquaredDifference" => |a: i64, b: i64| Ok(a.wrapping_sub(b).wrapping_mul(a.wrapping_sub(b))),
        "Pow" => |a: i64, b: i64| u32::try_from(b).map(|e| a.wrapping_pow(e)).map_err(|_| "integers cannot be raised to negative powers".into()),
        _ => return None,
    })
}

fn float_binary(op: &str) -> Option<fn(f64, f64) -> f64> {
    Some(match op {
        "Add" | "AddV2" => |a, b| a + b,
        "Sub" => |a, b| a - b,
        "Mul" => |a, b| a * b,
        "RealDiv" | "Div" => |a, b| a / b,
        "FloorDiv" => |a: f64, b| (a / b).floor(),
        "TruncateDiv" => |a: f64, b| (a / b).trunc(),
        "FloorMod" => |a: f64, b: f64| {
            let r = a % b;
            if r != 0.0 && (r < 0.0) != (b < 0.0) { r + b } else { r }
        },
        "Mod" | "TruncateMod" => |a, b| a % b,
        "Maximum" => |a: f64, b: f64| if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) },
        "Minimum" => |a: f64, b: f64| if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) },
        "SquaredDifference" => |a, b| (a - b) * (a - b),
        "Pow" => |a: f64, b| a.powf(b),
        _ => return None,
    })
}

fn compare(op: &str) -> Option<fn(std::cmp::Ordering) -> bool> {
    use std::cmp::Ordering::*;
    Some(match op {
        "Equal" => |o| o == Equal,
        "NotEqual" => |o| o != Equal,
        "Less" => |o| o == Less,
        "LessEqual" => |o| o != Greater,
        "Greater" => |o| o == Greater,
        "GreaterEqual" => |o| o != Less,
        _ => return None,
    })
}

fn float_unary(op: &str) -> Option<fn(f64) -> f64> {
    Some(match op {
        "Neg" => |x: f64| -x,
        "Abs" => f64::abs,
        "Square" => |x| x * x,
        "Sign" => |x: f64| if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { x },
        "Floor" => f64::floor,
        "Ceil" => f64::ceil,
        "Round" => f64::round_ties_even,
        "Sqrt" => f64::sqrt,
        "Rsqrt" => |x: f64| 1.0 / x.sqrt(),
        "Reciprocal" => |x| 1.0 / x,
        "Exp" => f64::exp,
        "Log" => f64::ln,
        "Relu" => |x: f64| if x > 0.0 { x } else { 0.0 },
        "Relu6" => |x: f64| x.clamp(0.0, 6.0),
        "Sigmoid" => |x: f64| 1.0 / (1.0 + (-x).exp()),
        "Tanh" => f64::tanh,
        _ => return None,
    })
}

fn int_unary(op: &str) -> Option<fn(i64) -> i64> {
    Some(match op {
        "Neg" => |x: i64| x.wrapping_neg(),
        "Abs" => |x: i64| x.wrapping_abs(),
        "Square" => |x: i64| x.wrapping_mul(x),
        "Sign" => i64::signum,
        "Relu" => |x: i64| x.max(0),
        _ => return None,
    })
}

pub(super) fn eval(cx: &Cx<'_>) -> Result<Option<Vec<Tensor>>, EvalError> {
    let op = cx.op;
    let ins = cx.inputs;
    let one = |t: Result<Tensor, EvalError>| t.map(|t| Some(vec![t]));
    if let Some(cmp) = compare(op) {
        cx.arity(2)?;
        return match (widen(&ins[0]), widen(&ins[1])) {
            (Some(Num::I(a)), Some(Num::I(b))) => one(bools(cx, zip_with(cx, &a, &b, |x, y| Ok(cmp(x.cmp(&y))))?)),
            (Some(Num::F(a)), Some(Num::F(b))) => one(bools(cx, zip_with(cx, &a, &b, |x, y| Ok(x.partial_cmp(&y).is_some_and(cmp) || (op == "NotEqual" && (x.is_nan() || y.is_nan()))))?)),
            _ => Ok(None),
        };
    }
    if matches!(op, "LogicalAnd" | "LogicalOr") {
        cx.arity(2)?;
        let (Some(a), Some(b)) = (ins[0].array::<bool>(), ins[1].array::<bool>()) else { return Ok(None) };
        let (a, b) = (a.to_owned(), b.to_owned());
        let and = op == "LogicalAnd";
        return one(bools(cx, zip_with(cx, &a, &b, |x, y| Ok(if and { x && y } else { x || y }))?));
    }
    if op == "LogicalNot" {
        cx.arity(1)?;
        let Some(a) = ins[0].array::<bool>() else { return Ok(None) };
        return one(bools(cx, a.mapv(|x| !x).into_owned()));
    }
    if let (Some(fi), Some(ff)) = (int_binary(op), float_binary(op)) {
        cx.arity(2)?;
        let dtype = ins[0].dtype();
        if ins[1].dtype() != dtype {
            return Err(cx.invalid(format!("operands are {dtype} and {}", ins[1].dtype())));
        }
        return match (widen(&ins[0]), widen(&ins[1])) {
            (Some(Num::I(a)), Some(Num::I(b))) if dtype != DType::Bool => one(narrow_i(cx, dtype, zip_with(cx, &a, &b, fi)?)),
            (Some(Num::F(a)), Some(Num::F(b))) => one(narrow_f(cx, dtype, zip_with(cx, &a, &b, |x, y| Ok(ff(x, y)))?)),
            _ => Ok(None),
        };
    }
    if let Some(ff) = float_unary(op) {
        cx.arity(1)?;
        let dtype = ins[0].dtype();
        return match widen(&ins[0]) {
            Some(Num::F(a)) => one(narrow_f(cx, dtype, a.mapv(ff))),
            Some(Num::I(a)) if dtype != DType::Bool => match int_unary(op) {
                Some(fi) => one(narrow_i(cx, dtype, a.mapv(fi))),
                None => Ok(None),
            },
            _ => Ok(None),
        };
    }
    if matches!(op, "Sum" | "Prod" | "Max" | "Min" | "Mean" | "All" | "Any") {
        cx.arity(2)?;
        return reduce(cx).map(|t| t.map(|t| vec![t]));
    }
    Ok(None)
}

fn reduce(cx: &Cx<'_>) -> Result<Option<Tensor>, EvalError> {
    let x = &cx.inputs[0];
    let keep = cx.attr(cx.attrs.opt_bool("keep_dims"))?.unwrap_or(false);
    let rank = x.rank();
    let mut axes = Vec::new();
    for a in cx.ints(1)? {
        let ax = normalize_axis(a, rank).ok_or_else(|| cx.invalid(format!("axis {a} out of range for rank {rank}")))?;
        if !axes.contains(&ax) {
            axes.push(ax);
        }
    }
    axes.sort_unstable_by(|a, b| b.cmp(a));
    let mut out_shape: Vec<usize> = x.shape().to_vec();
    for &a in &axes {
        out_shape[a] = 1;
    }
    if !keep {
        out_shape = x.shape().iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect();
    }
    let count: usize = axes.iter().map(|&a| x.shape()[a]).product();
    let dtype = x.dtype();
    let op = cx.op;
    let result = match widen(x) {
        Some(Num::F(mut a)) => {
            for &ax in &axes {
                a = match op {
                    "Sum" | "Mean" => a.sum_axis(Axis(ax)),
                    "Prod" => a.fold_axis(Axis(ax), 1.0, |acc, v| acc * v),
                    "Max" => a.fold_axis(Axis(ax), f64::NEG_INFINITY, |acc, &v| if v.is_nan() || acc.is_nan() { f64::NAN } else { acc.max(v) }),
                    "Min" => a.fold_axis(Axis(ax), f64::INFINITY, |acc, &v| if v.is_nan() || acc.is_nan() { f64::NAN } else { acc.min(v) }),
                    _ => return Ok(None),
                };
            }
            if op == "Mean" {
                a.mapv_inplace(|v| v / count as f64);
            }
            narrow_f(cx, dtype, a)?
        }
        Some(Num::I(mut a)) => {
            let is_bool = dtype == DType::Bool;
            for &ax in &axes {
                a = match op {
                    "Sum" | "Mean" if !is_bool => a.fold_axis(Axis(ax), 0, |acc, &v| acc.wrapping_add(v)),
                    "Prod" if !is_bool => a.fold_axis(Axis(ax), 1, |acc, &v| acc.wrapping_mul(v)),
                    "Max" if !is_bool => a.fold_axis(Axis(ax), i64::MIN, |acc, &v| (*acc).max(v)),
                    "Min" if !is_bool => a.fold_axis(Axis(ax), i64::MAX, |acc, &v| (*acc).min(v)),
                    "All" if is_bool => a.fold_axis(Axis(ax), 1, |acc, &v| acc & v),
                    "Any" if is_bool => a.fold_axis(Axis(ax), 0, |acc, &v| acc | v),
                    _ => return Ok(None),
                };
            }
            if op == "Mean" {
                if count == 0 {
                    return Err(cx.invalid("mean of no integers"));
                }
                a.mapv_inplace(|v| v / count as i64);
            }
            narrow_i(cx, dtype, a)?
        }
        None => return Ok(None),
    };
    cx.tensor(result.reshape(&out_shape)).map(Some)
}
