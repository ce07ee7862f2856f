//! Reductions and orderings: the legacy reduce layer, the ND reduce* family, argMax/argMin,
//! topK, cumSum and argSort. Indices are produced as floats (Core ML blobs are floats).

use super::arity;
use crate::kbail;
use crate::proto::coreml::{
    reduce_layer_params::{ReduceAxis, ReduceOperation},
    ArgSortLayerParams, CumSumLayerParams, ReduceLayerParams, TopKLayerParams,
};
use crate::run::float::Float;
use crate::run::util::{axis, from_vec, outer_inner, values};
use crate::run::KernelError;
use ndarray::{ArrayD, IxDyn};

/// A reduction applied to each group of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Sum,
    Mean,
    Prod,
    Max,
    Min,
    L1,
    L2,
    /// log(sum x) (ND) — the legacy LOGSUM is sum(log(x + eps)), see [`reduce_legacy`].
    LogSum,
    SumSquare,
    LogSumExp,
    /// Legacy ARGMAX: index of the first maximum.
    ArgMax,
    /// Legacy LOGSUM with its epsilon.
    SumLog(f64),
}

fn reduce_group<T: Float>(mode: Mode, g: &[T]) -> T {
    let n = T::from_usize(g.len());
    match mode {
        Mode::Sum => g.iter().copied().sum(),
        Mode::Mean => g.iter().copied().sum::<T>() / n,
        Mode::Prod => g.iter().fold(T::one(), |a, &b| a * b),
        Mode::Max => g.iter().fold(-T::infinity(), |a, &b| a.max_nan(b)),
        Mode::Min => g.iter().fold(T::infinity(), |a, &b| a.min_nan(b)),
        Mode::L1 => g.iter().map(|v| v.abs()).sum(),
        Mode::L2 => g.iter().map(|&v| v * v).sum::<T>().sqrt(),
        Mode::LogSum => g.iter().copied().sum::<T>().ln(),
        Mode::SumSquare => g.iter().map(|&v| v * v).sum(),
        Mode::LogSumExp => {
            let m = g.iter().fold(-T::infinity(), |a, &b| a.max_nan(b));
            if m == -T::infinity() || m == T::infinity() {
                return m;
            }
            m + g.iter().map(|&v| (v - m).exp()).sum::<T>().ln()
        }
        Mode::ArgMax => {
            let mut best = 0;
            for (i, &v) in g.iter().enumerate() {
                if v > g[best] || (v.is_nan() && !g[best].is_nan()) {
                    best = i;
                }
            }
            T::from_usize(best)
        }
        Mode::SumLog(eps) => g.iter().map(|&v| (v + T::from_f64(eps)).ln()).sum(),
    }
}

/// Reduces `x` over the (normalized, distinct) `axes`; reduced axes kept as 1 or removed.
/// With every axis removed the result has shape `[1]` (Core ML has no rank-0 blobs).
pub fn reduce_axes<T: Float>(x: &ArrayD<T>, axes: &[usize], keep: bool, mode: Mode) -> Result<ArrayD<T>, KernelError> {
    let r = x.ndim();
    let mut red = vec![false; r];
    for &a in axes {
        red[a] = true;
    }
    let kept: Vec<usize> = (0..r).filter(|&d| !red[d]).collect();
    let reduced: Vec<usize> = (0..r).filter(|&d| red[d]).collect();
    let perm: Vec<usize> = kept.iter().chain(&reduced).copied().collect();
    let group: usize = reduced.iter().map(|&d| x.shape()[d]).product();
    let moved = x.view().permuted_axes(IxDyn(&perm));
    let moved = moved.as_standard_layout();
    let data = moved.as_slice().ok_or_else(|| KernelError("internal: non-contiguous reduce".into()))?;
    let out: Vec<T> = if group == 0 {
        vec![reduce_group(mode, &[]); kept.iter().map(|&d| x.shape()[d]).product()]
    } else {
        data.chunks_exact(group).map(|g| reduce_group(mode, g)).collect()
    };
    let shape: Vec<usize> = if keep {
        (0..r).map(|d| if red[d] { 1 } else { x.shape()[d] }).collect()
    } else {
        let s: Vec<usize> = kept.iter().map(|&d| x.shape()[d]).collect();
        if s.is_empty() {
            vec![1]
        } else {
            s
        }
    };
    from_vec(shape, out)
}

pub fn reduce_legacy<T: Float>(p: &ReduceLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let r = x.ndim();
    let axes: &[i64] = match ReduceAxis::try_from(p.axis) {
        Ok(ReduceAxis::Chw) => &[-3, -2, -1],
        Ok(ReduceAxis::Hw) => &[-2, -1],
        Ok(ReduceAxis::C) => &[-3],
        Ok(ReduceAxis::H) => &[-2],
        Ok(ReduceAxis::W) => &[-1],
        Err(_) => kbail!("unknown reduce axis {}", p.axis),
    };
    let axes = axes.iter().map(|&a| axis(a, r)).collect::<Result<Vec<_>, _>>()?;
    let eps = if p.epsilon == 0.0 { 1e-6 } else { p.epsilon as f64 };
    let mode = match ReduceOperation::try_from(p.mode) {
        Ok(ReduceOperation::Sum) => Mode::Sum,
        Ok(ReduceOperation::Avg) => Mode::Mean,
        Ok(ReduceOperation::Prod) => Mode::Prod,
        Ok(ReduceOperation::Logsum) => Mode::SumLog(eps),
        Ok(ReduceOperation::Sumsquare) => Mode::SumSquare,
        Ok(ReduceOperation::L1) => Mode::L1,
        Ok(ReduceOperation::L2) => Mode::L2,
        Ok(ReduceOperation::Max) => Mode::Max,
        Ok(ReduceOperation::Min) => Mode::Min,
        Ok(ReduceOperation::Argmax) => {
            if axes.len() != 1 {
                kbail!("ARGMAX needs a single axis (C, H or W)");
            }
            Mode::ArgMax
        }
        Err(_) => kbail!("unknown reduce mode {}", p.mode),
    };
    reduce_axes(x, &axes, true, mode)
}

pub fn reduce_nd<T: Float>(mode: Mode, axes: &[i64], keep: bool, all: bool, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let r = x.ndim();
    let mut ax: Vec<usize> = if all || axes.is_empty() {
        (0..r).collect()
    } else {
        axes.iter().map(|&a| axis(a, r)).collect::<Result<_, _>>()?
    };
    ax.sort();
    ax.dedup();
    reduce_axes(x, &ax, keep, mode)
}

/// argMax / argMin: first index of the extreme; `removeDim` drops the axis unless rank is 1.
pub fn arg_extreme<T: Float>(ax: i64, remove: bool, max: bool, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let a = axis(ax, x.ndim())?;
    let (outer, len, inner) = outer_inner(x.shape(), a);
    let xs = values(x);
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let mut best = 0;
            for j in 1..len {
                let v = xs[(o * len + j) * inner + i];
                let b = xs[(o * len + best) * inner + i];
                if (max && v > b) || (!max && v < b) {
                    best = j;
                }
            }
            out.push(T::from_usize(best));
        }
    }
    let mut shape = x.shape().to_vec();
    if remove && shape.len() > 1 {
        shape.remove(a);
    } else {
        shape[a] = 1;
    }
    from_vec(shape, out)
}

/// Orders the lane `vals` (ties keep the lower index first, and -0 ties with +0). A NaN ranks
/// above +infinity, all NaNs equal: `partial_cmp` with a NaN taken as "equal" to everything is
/// not an order, and the standard sort panics on it (a fuzz crash in run_model).
fn order<T: Float>(vals: &[T], descending: bool) -> Vec<usize> {
    use std::cmp::Ordering;
    let mut idx: Vec<usize> = (0..vals.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (vals[a], vals[b]);
        let o = match (x.is_nan(), y.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        };
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    idx
}

/// Applies `f(lane) -> new lane` along axis `a` (all new lanes of length `new_len`).
fn map_lanes<T: Float>(x: &ArrayD<T>, a: usize, new_len: usize, mut f: impl FnMut(&[T]) -> Vec<T>) -> Result<ArrayD<T>, KernelError> {
    let (outer, len, inner) = outer_inner(x.shape(), a);
    let xs = values(x);
    let mut out = vec![T::zero(); outer * new_len * inner];
    let mut lane = Vec::with_capacity(len);
    for o in 0..outer {
        for i in 0..inner {
            lane.clear();
            lane.extend((0..len).map(|j| xs[(o * len + j) * inner + i]));
            let r = f(&lane);
            for (j, v) in r.into_iter().enumerate().take(new_len) {
                out[(o * new_len + j) * inner + i] = v;
            }
        }
    }
    let mut shape = x.shape().to_vec();
    shape[a] = new_len;
    from_vec(shape, out)
}

/// topK: outputs `[values, indices]`, sorted (largest first, or smallest with useBottomK).
pub fn top_k<T: Float>(p: &TopKLayerParams, ins: &[&ArrayD<T>]) -> Result<Vec<ArrayD<T>>, KernelError> {
    arity(ins, 1, 2)?;
    let x = ins[0];
    let a = axis(p.axis, x.ndim())?;
    let k = if ins.len() == 2 {
        match ins[1].iter().next() {
            Some(v) if v.to_f64() >= 0.0 => v.to_f64() as usize,
            _ => kbail!("the K input must hold one non-negative value"),
        }
    } else {
        p.k as usize
    };
    let len = x.shape()[a];
    if k > len {
        kbail!("K = {k} exceeds the axis length {len}");
    }
    let desc = !p.use_bottom_k;
    let vals = map_lanes(x, a, k, |l| order(l, desc).into_iter().take(k).map(|i| l[i]).collect())?;
    let idx = map_lanes(x, a, k, |l| order(l, desc).into_iter().take(k).map(T::from_usize).collect())?;
    Ok(vec![vals, idx])
}

pub fn arg_sort<T: Float>(p: &ArgSortLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    let a = axis(p.axis, x.ndim())?;
    let len = x.shape()[a];
    map_lanes(x, a, len, |l| order(l, p.descending).into_iter().map(T::from_usize).collect())
}

pub fn cum_sum<T: Float>(p: &CumSumLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 2)?;
    let x = ins[0];
    let ax = if ins.len() == 2 {
        match ins[1].iter().next() {
            Some(v) => v.to_f64() as i64,
            None => kbail!("the axis input is empty"),
        }
    } else {
        p.axis
    };
    let a = axis(ax, x.ndim())?;
    let len = x.shape()[a];
    map_lanes(x, a, len, |l| {
        let mut out = vec![T::zero(); l.len()];
        let mut acc = T::zero();
        let order: Vec<usize> = if p.reverse { (0..l.len()).rev().collect() } else { (0..l.len()).collect() };
        for j in order {
            if p.exclude_final_sum {
                out[j] = acc;
                acc += l[j];
            } else {
                acc += l[j];
                out[j] = acc;
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NaNs rank above +infinity (fuzz crash: the sort panicked on a comparison that was not an
    /// order); equal values, and -0 with +0, keep their index order.
    #[test]
    fn order_puts_nan_above_infinity_and_keeps_ties_stable() {
        let v = [1.0f32, f32::NAN, f32::INFINITY, -0.0, 0.0, f32::NAN, -1.0];
        assert_eq!(order(&v, false), vec![6, 3, 4, 0, 2, 1, 5]);
        assert_eq!(order(&v, true), vec![1, 5, 2, 0, 3, 4, 6]);
    }
    use ndarray::arr1;

    #[test]
    fn cumsum_examples_from_the_proto() {
        // NeuralNetwork.proto CumSumLayerParams comment: [4, 6, 7].
        let x = arr1(&[4.0f32, 6.0, 7.0]).into_dyn();
        let run = |ex, rev| {
            let p = CumSumLayerParams { axis: 0, exclude_final_sum: ex, reverse: rev };
            cum_sum(&p, &[&x]).unwrap().iter().copied().collect::<Vec<_>>()
        };
        assert_eq!(run(false, false), vec![4.0, 10.0, 17.0]);
        assert_eq!(run(true, false), vec![0.0, 4.0, 10.0]);
        assert_eq!(run(false, true), vec![17.0, 13.0, 7.0]);
        assert_eq!(run(true, true), vec![13.0, 7.0, 0.0]);
    }

    #[test]
    fn argsort_example_from_the_proto() {
        // ArgSortLayerParams comment: [3.1, 5.4, 32.9, 3.2, 77.0] -> [0,3,1,2,4] / [4,2,1,3,0].
        let x = arr1(&[3.1f32, 5.4, 32.9, 3.2, 77.0]).into_dyn();
        let asc = arg_sort(&ArgSortLayerParams { axis: 0, descending: false }, &[&x]).unwrap();
        assert_eq!(asc.iter().copied().collect::<Vec<_>>(), vec![0.0, 3.0, 1.0, 2.0, 4.0]);
        let desc = arg_sort(&ArgSortLayerParams { axis: 0, descending: true }, &[&x]).unwrap();
        assert_eq!(desc.iter().copied().collect::<Vec<_>>(), vec![4.0, 2.0, 1.0, 3.0, 0.0]);
    }
}
