//! Indexing layers: gather (numpy.take), gatherND, gatherAlongAxis and the matching
//! scatters with their accumulation modes. Index tensors are float blobs; negative indices
//! count from the end.

use super::arity;
use crate::kbail;
use crate::proto::coreml::ScatterMode;
use crate::run::float::Float;
use crate::run::util::{axis, from_vec, outer_inner, to_index, values};
use crate::run::KernelError;
use ndarray::ArrayD;

/// gather: output shape = data[:axis] + indices.shape + data[axis+1:].
pub fn gather<T: Float>(ax: i64, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    let (data, idx) = (ins[0], ins[1]);
    let a = axis(ax, data.ndim())?;
    let (outer, len, inner) = outer_inner(data.shape(), a);
    let ds = values(data);
    let ids = idx.iter().map(|&v| to_index(v, len, "gather index")).collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::with_capacity(outer * ids.len() * inner);
    for o in 0..outer {
        for &i in &ids {
            out.extend_from_slice(&ds[(o * len + i) * inner..(o * len + i + 1) * inner]);
        }
    }
    let mut shape = data.shape()[..a].to_vec();
    shape.extend_from_slice(idx.shape());
    shape.extend_from_slice(&data.shape()[a + 1..]);
    from_vec(shape, out)
}

/// Flat offset and slice length of `params[index, ...]` for a multi-index of length K.
fn nd_offset<T: Float>(shape: &[usize], index: &[T]) -> Result<(usize, usize), KernelError> {
    let k = index.len();
    if k > shape.len() {
        kbail!("index depth {k} exceeds the rank {}", shape.len());
    }
    let inner: usize = shape[k..].iter().product();
    let mut off = 0;
    for (d, &v) in index.iter().enumerate() {
        off = off * shape[d] + to_index(v, shape[d], "gatherND index")?;
    }
    Ok((off * inner, inner))
}

pub fn gather_nd<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    let (params, idx) = (ins[0], ins[1]);
    let is = idx.shape();
    if is.is_empty() {
        kbail!("indices must have rank >= 1");
    }
    let k = is[is.len() - 1];
    let ps = values(params);
    let iv = values(idx);
    let mut out = Vec::new();
    for index in iv.chunks(k.max(1)).take(iv.len().checked_div(k).unwrap_or(0)) {
        let (off, n) = nd_offset(params.shape(), index)?;
        out.extend_from_slice(&ps[off..off + n]);
    }
    let mut shape = is[..is.len() - 1].to_vec();
    shape.extend_from_slice(&params.shape()[k.min(params.ndim())..]);
    from_vec(shape, out)
}

/// Visits every element of `idx` (same rank as data) with its multi-index.
fn along_axis_positions(data_shape: &[usize], idx_shape: &[usize], a: usize) -> Result<(), KernelError> {
    if data_shape.len() != idx_shape.len() {
        kbail!("indices rank {} must equal the data rank {}", idx_shape.len(), data_shape.len());
    }
    for d in 0..data_shape.len() {
        if d != a && data_shape[d] != idx_shape[d] {
            kbail!("indices shape {:?} must match data shape {:?} except at axis {a}", idx_shape, data_shape);
        }
    }
    Ok(())
}

pub fn gather_along_axis<T: Float>(ax: i64, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    let (data, idx) = (ins[0], ins[1]);
    let a = axis(ax, data.ndim())?;
    along_axis_positions(data.shape(), idx.shape(), a)?;
    let (outer, len, inner) = outer_inner(data.shape(), a);
    let (_, ilen, _) = outer_inner(idx.shape(), a);
    let ds = values(data);
    let iv = values(idx);
    let mut out = Vec::with_capacity(iv.len());
    for o in 0..outer {
        for j in 0..ilen {
            for i in 0..inner {
                let t = to_index(iv[(o * ilen + j) * inner + i], len, "gatherAlongAxis index")?;
                out.push(ds[(o * len + t) * inner + i]);
            }
        }
    }
    from_vec(idx.shape().to_vec(), out)
}

fn combine<T: Float>(mode: i32) -> Result<fn(T, T) -> T, KernelError> {
    Ok(match ScatterMode::try_from(mode) {
        Ok(ScatterMode::ScatterUpdate) => |_, u| u,
        Ok(ScatterMode::ScatterAdd) => |o, u| o + u,
        Ok(ScatterMode::ScatterSub) => |o, u| o - u,
        Ok(ScatterMode::ScatterMul) => |o, u| o * u,
        Ok(ScatterMode::ScatterDiv) => |o, u| o / u,
        Ok(ScatterMode::ScatterMax) => T::max_nan,
        Ok(ScatterMode::ScatterMin) => T::min_nan,
        Err(_) => kbail!("unknown scatter mode {mode}"),
    })
}

/// scatter along `axis`: updates shape = container[:axis] + indices.shape + container[axis+1:].
pub fn scatter<T: Float>(ax: i64, mode: i32, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 3, 3)?;
    let (cont, idx, upd) = (ins[0], ins[1], ins[2]);
    let f = combine::<T>(mode)?;
    let a = axis(ax, cont.ndim())?;
    let (outer, len, inner) = outer_inner(cont.shape(), a);
    let mut want = cont.shape()[..a].to_vec();
    want.extend_from_slice(idx.shape());
    want.extend_from_slice(&cont.shape()[a + 1..]);
    if upd.shape() != &want[..] {
        kbail!("updates shape {:?} must be {:?}", upd.shape(), want);
    }
    let mut out = values(cont).into_owned();
    let ids = idx.iter().map(|&v| to_index(v, len, "scatter index")).collect::<Result<Vec<_>, _>>()?;
    let us = values(upd);
    for o in 0..outer {
        for (j, &t) in ids.iter().enumerate() {
            for i in 0..inner {
                let dst = &mut out[(o * len + t) * inner + i];
                *dst = f(*dst, us[(o * ids.len() + j) * inner + i]);
            }
        }
    }
    from_vec(cont.shape().to_vec(), out)
}

pub fn scatter_nd<T: Float>(mode: i32, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 3, 3)?;
    let (cont, idx, upd) = (ins[0], ins[1], ins[2]);
    let f = combine::<T>(mode)?;
    let is = idx.shape();
    if is.is_empty() {
        kbail!("indices must have rank >= 1");
    }
    let k = is[is.len() - 1];
    let mut out = values(cont).into_owned();
    let iv = values(idx);
    let us = values(upd);
    let n_points = iv.len().checked_div(k).unwrap_or(0);
    let (_, slice) = nd_offset(cont.shape(), &iv[..k.min(iv.len())])?;
    if us.len() != n_points * slice {
        kbail!("updates have {} values, expected {} points x {slice}", us.len(), n_points);
    }
    for (p, index) in iv.chunks(k.max(1)).take(n_points).enumerate() {
        let (off, n) = nd_offset(cont.shape(), index)?;
        for e in 0..n {
            out[off + e] = f(out[off + e], us[p * n + e]);
        }
    }
    from_vec(cont.shape().to_vec(), out)
}

pub fn scatter_along_axis<T: Float>(ax: i64, mode: i32, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 3, 3)?;
    let (cont, idx, upd) = (ins[0], ins[1], ins[2]);
    let f = combine::<T>(mode)?;
    let a = axis(ax, cont.ndim())?;
    along_axis_positions(cont.shape(), idx.shape(), a)?;
    if idx.shape() != upd.shape() {
        kbail!("updates shape {:?} must equal indices shape {:?}", upd.shape(), idx.shape());
    }
    let (outer, len, inner) = outer_inner(cont.shape(), a);
    let (_, ilen, _) = outer_inner(idx.shape(), a);
    let mut out = values(cont).into_owned();
    let iv = values(idx);
    let us = values(upd);
    for o in 0..outer {
        for j in 0..ilen {
            for i in 0..inner {
                let p = (o * ilen + j) * inner + i;
                let t = to_index(iv[p], len, "scatterAlongAxis index")?;
                let dst = &mut out[(o * len + t) * inner + i];
                *dst = f(*dst, us[p]);
            }
        }
    }
    from_vec(cont.shape().to_vec(), out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, arr2};

    #[test]
    fn gather_shapes_from_the_proto() {
        // data (2,3,5), indices (6,8), axis 1 -> (2, 6, 8, 5).
        let data = ArrayD::<f32>::zeros(ndarray::IxDyn(&[2, 3, 5]));
        let idx = ArrayD::<f32>::from_elem(ndarray::IxDyn(&[6, 8]), -1.0);
        assert_eq!(gather(1, &[&data, &idx]).unwrap().shape(), &[2, 6, 8, 5]);
    }

    #[test]
    fn scatter_add_by_hand() {
        // container [[0,0],[0,0],[0,0]], indices [2, 0, 2], updates rows [1,1],[2,2],[3,3], ADD:
        // row 0 = [2,2], row 2 = [1+3, 1+3] = [4,4].
        let c = arr2(&[[0.0f32, 0.0], [0.0, 0.0], [0.0, 0.0]]).into_dyn();
        let i = arr1(&[2.0f32, 0.0, 2.0]).into_dyn();
        let u = arr2(&[[1.0f32, 1.0], [2.0, 2.0], [3.0, 3.0]]).into_dyn();
        let y = scatter(0, ScatterMode::ScatterAdd as i32, &[&c, &i, &u]).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![2.0, 2.0, 0.0, 0.0, 4.0, 4.0]);
    }
}
