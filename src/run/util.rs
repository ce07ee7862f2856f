//! Shape helpers shared by the kernels: axis normalization, numpy broadcasting, the
//! `[batch, C, H, W]` view of legacy layers. No layer semantics here.

use super::float::Float;
use super::KernelError;
use crate::kbail;
use ndarray::{ArrayD, ArrayViewD, IxDyn, Zip};

/// The most elements a kernel may create by default (2^30: 4 GiB at f32, 8 GiB at f64).
pub const MAX_ELEMENTS: u128 = 1 << 30;

thread_local! {
    /// The limit of the run on this thread ([`ElementLimit`]); kernels are free functions and
    /// the limit is a property of the run, so it travels beside them rather than through every
    /// kernel's signature.
    static ELEMENT_LIMIT: std::cell::Cell<u128> = const { std::cell::Cell::new(MAX_ELEMENTS) };
}

/// The element limit of the current run.
pub fn element_limit() -> u128 {
    ELEMENT_LIMIT.with(|l| l.get())
}

/// Sets the element limit on this thread until dropped (then restores the previous one), so a
/// nested or later run is unaffected.
pub struct ElementLimit(u128);

impl ElementLimit {
    pub fn set(limit: u128) -> ElementLimit {
        ElementLimit(ELEMENT_LIMIT.with(|l| l.replace(limit)))
    }
}

impl Drop for ElementLimit {
    fn drop(&mut self) {
        ELEMENT_LIMIT.with(|l| l.set(self.0));
    }
}

/// Refuses an output of `dims` when its element count passes the run's limit (or overflows).
/// Layers whose output size comes from parameters or input values (fill, tile, upsample,
/// broadcasting, range, one-hot, batched matmul) check it before allocating, so a model asking
/// for 10^13 bytes is refused with the layer's name instead of aborting the process on a failed
/// allocation.
pub fn check_size(dims: impl IntoIterator<Item = u128>) -> Result<(), KernelError> {
    let mut n: u128 = 1;
    let mut shape = Vec::new();
    for d in dims {
        shape.push(d);
        n = n.saturating_mul(d);
    }
    let limit = element_limit();
    if n > limit {
        kbail!("the output would have shape {shape:?} ({n} elements), more than the interpreter's limit of {limit} (see `run --max-memory`)");
    }
    Ok(())
}

/// The number of elements of a shape that comes from a model's parameters or values (a
/// reshape target, a parameter's declared shape), refused when it overflows instead of
/// wrapping or panicking.
pub fn element_count(shape: &[usize]) -> Result<usize, KernelError> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(|| KernelError(format!("shape {shape:?} has more elements than fit in memory")))
}

/// Normalizes a possibly negative axis against `rank`.
pub fn axis(a: i64, rank: usize) -> Result<usize, KernelError> {
    let r = rank as i64;
    let n = if a < 0 { a + r } else { a };
    if n < 0 || n >= r {
        kbail!("axis {a} is out of range for rank {rank}");
    }
    Ok(n as usize)
}

/// The numpy broadcast of several shapes (aligned at the right).
pub fn broadcast_shapes(shapes: &[&[usize]]) -> Result<Vec<usize>, KernelError> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1usize; rank];
    for s in shapes {
        let off = rank - s.len();
        for (i, &d) in s.iter().enumerate() {
            let o = &mut out[off + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                kbail!("shapes {:?} do not broadcast together", shapes);
            }
        }
    }
    check_size(out.iter().map(|&d| d as u128))?;
    Ok(out)
}

/// `a` broadcast to `shape` (a view; fails with a message naming both shapes).
pub fn broadcast_to<'a, T: Float>(a: &'a ArrayD<T>, shape: &[usize]) -> Result<ArrayViewD<'a, T>, KernelError> {
    match a.broadcast(IxDyn(shape)) {
        Some(v) => Ok(v),
        None => kbail!("shape {:?} does not broadcast to {:?}", a.shape(), shape),
    }
}

/// Elementwise `f(a, b)` with numpy broadcasting.
pub fn zip2<T: Float>(a: &ArrayD<T>, b: &ArrayD<T>, f: impl Fn(T, T) -> T) -> Result<ArrayD<T>, KernelError> {
    if a.shape() == b.shape() {
        let mut out = a.to_owned();
        Zip::from(&mut out).and(b).for_each(|x, &y| *x = f(*x, y));
        return Ok(out);
    }
    let shape = broadcast_shapes(&[a.shape(), b.shape()])?;
    let av = broadcast_to(a, &shape)?;
    let bv = broadcast_to(b, &shape)?;
    Ok(Zip::from(&av).and(&bv).map_collect(|&x, &y| f(x, y)))
}

/// An owned copy of `a` in standard (row-major) layout reshaped to `shape`.
pub fn reshape<T: Float>(a: &ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>, KernelError> {
    let n = element_count(shape)?;
    if n != a.len() {
        kbail!("cannot reshape {:?} ({} values) to {:?} ({} values)", a.shape(), a.len(), shape, n);
    }
    let v: Vec<T> = a.iter().copied().collect();
    ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| KernelError(e.to_string()))
}

/// The values of `a` in row-major order (no copy when `a` is already contiguous).
pub fn values<T: Float>(a: &ArrayD<T>) -> std::borrow::Cow<'_, [T]> {
    match a.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(a.iter().copied().collect()),
    }
}

/// Legacy layers see the last three axes as `[C, H, W]` and every leading axis as batch.
/// Returns `(batch, C, H, W)`; `min_rank` is what the layer's proto comment demands.
pub fn bchw(shape: &[usize], min_rank: usize) -> Result<(usize, usize, usize, usize), KernelError> {
    let r = shape.len();
    if r < min_rank.max(3) {
        kbail!("input rank {} (shape {:?}) is below the minimum rank {}", r, shape, min_rank.max(3));
    }
    let b = shape[..r - 3].iter().product();
    if shape[r - 3] == 0 || shape[r - 2] == 0 || shape[r - 1] == 0 {
        kbail!("input shape {:?} has an empty C, H or W axis", shape);
    }
    Ok((b, shape[r - 3], shape[r - 2], shape[r - 1]))
}

/// An array with `shape` built from row-major values.
pub fn from_vec<T: Float>(shape: Vec<usize>, v: Vec<T>) -> Result<ArrayD<T>, KernelError> {
    ArrayD::from_shape_vec(IxDyn(&shape), v).map_err(|e| KernelError(e.to_string()))
}

/// Reads an integer-valued float tensor element as an index (Core ML blobs are floats).
pub fn to_index<T: Float>(v: T, len: usize, what: &str) -> Result<usize, KernelError> {
    let f = v.to_f64();
    if !f.is_finite() {
        kbail!("{what} {f} is not a valid index");
    }
    // Core ML leaves a fractional index undefined; the oracle refuses it, so a conversion that
    // feeds un-truncated floats to a gather (a lost Cast) fails loudly instead of agreeing
    // with TF by luck.
    if f.fract() != 0.0 {
        kbail!("{what} {f} is not an integer");
    }
    let i = f as i64;
    let n = if i < 0 { i + len as i64 } else { i };
    if n < 0 || n >= len as i64 {
        kbail!("{what} {i} is out of range for a dimension of size {len}");
    }
    Ok(n as usize)
}

/// Row-major strides of `shape`.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Splits `shape` around `axis` into (outer, len, inner) element counts.
pub fn outer_inner(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}
