//! Arithmetic on constant tensors for rule right-hand sides: folding a batch norm into the
//! convolution before it needs `gamma / sqrt(variance + eps)` per output channel and the
//! weights scaled along that channel axis; a determinant by the Leibniz formula needs the
//! 0/±1 matrix that selects each permutation's entries. These run when a rule fires, on
//! constants only, so a rule can compute weights instead of emitting layers for them.

use super::value::{DType, Tensor, TensorData};
use ordered_float::OrderedFloat;

/// The elements of a numeric tensor as f32 (ints converted).
fn floats(t: &Tensor) -> Result<Vec<f32>, String> {
    match &t.data {
        TensorData::Float(v) => Ok(v.iter().map(|x| x.0).collect()),
        TensorData::Int(v) => Ok(v.iter().map(|x| *x as f32).collect()),
        TensorData::Bool(_) => Err("expected a numeric tensor, got bool".into()),
    }
}

/// NumPy broadcasting of two shapes.
fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let r = a.len().max(b.len());
    let at = |s: &[usize], i: usize| if i + s.len() < r { 1 } else { s[i + s.len() - r] };
    (0..r)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

/// Row-major flat index into `shape` (right-aligned, broadcast dims of size 1 read index 0)
/// of the multi-index `idx` over the broadcast shape.
fn source_index(shape: &[usize], idx: &[usize]) -> usize {
    let off = idx.len() - shape.len();
    let mut flat = 0;
    for (d, &n) in shape.iter().enumerate() {
        flat = flat * n + if n == 1 { 0 } else { idx[d + off] };
    }
    flat
}

/// Elementwise `f(a, b)` with NumPy broadcasting; the result is float32.
pub fn broadcast_binary(a: &Tensor, b: &Tensor, f: fn(f32, f32) -> f32) -> Result<Tensor, String> {
    let out = broadcast_shape(&a.shape, &b.shape)?;
    let (va, vb) = (floats(a)?, floats(b)?);
    if va.len() != a.num_elements() || vb.len() != b.num_elements() {
        return Err("tensor data does not match its shape".into());
    }
    let n: usize = out.iter().product();
    let mut idx = vec![0usize; out.len()];
    let mut data = Vec::with_capacity(n);
    for _ in 0..n {
        data.push(f(va[source_index(&a.shape, &idx)], vb[source_index(&b.shape, &idx)]));
        for d in (0..out.len()).rev() {
            idx[d] += 1;
            if idx[d] < out[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(Tensor::from_f32(out, data))
}

/// Elementwise `f(a)`; the result is float32.
pub fn unary(a: &Tensor, f: fn(f32) -> f32) -> Result<Tensor, String> {
    Ok(Tensor::from_f32(a.shape.clone(), floats(a)?.into_iter().map(f).collect()))
}

/// `t` multiplied along `axis` by the vector `v` (`v.len() == t.shape[axis]`): scales each
/// output channel of a weight tensor.
pub fn scale_axis(t: &Tensor, axis: i64, v: &Tensor) -> Result<Tensor, String> {
    let rank = t.shape.len() as i64;
    let a = if axis < 0 { axis + rank } else { axis };
    if a < 0 || a >= rank {
        return Err(format!("axis {axis} is out of range for rank {rank}"));
    }
    let a = a as usize;
    let vs = floats(v)?;
    if vs.len() != t.shape[a] {
        return Err(format!("scale_axis: {} factors for an axis of size {}", vs.len(), t.shape[a]));
    }
    // Float weights (a convolution's, scaled per output channel by a folded batch norm) in one
    // pass over the data: element i lies in channel (i / inner) % size of the axis.
    if let TensorData::Float(data) = &t.data {
        if data.len() == t.num_elements() {
            let inner: usize = t.shape[a + 1..].iter().product();
            let scaled = data.iter().enumerate().map(|(i, x)| OrderedFloat(x.0 * vs[(i / inner.max(1)) % vs.len().max(1)])).collect();
            return Ok(Tensor { dtype: DType::Float32, shape: t.shape.clone(), data: TensorData::Float(scaled) });
        }
    }
    let mut shape = vec![1usize; t.shape.len()];
    shape[a] = vs.len();
    broadcast_binary(t, &Tensor::from_f32(shape, vs), |x, y| x * y)
}

/// `t` with its shape left-padded with ones to `rank` (NumPy's broadcast view of a constant).
pub fn to_rank(t: &Tensor, rank: i64) -> Result<Tensor, String> {
    let r = usize::try_from(rank).map_err(|_| format!("to_rank: negative rank {rank}"))?;
    if r < t.shape.len() {
        return Err(format!("to_rank: rank {} is already above {r}", t.shape.len()));
    }
    let mut shape = vec![1usize; r - t.shape.len()];
    shape.extend_from_slice(&t.shape);
    Ok(Tensor { shape, ..t.clone() })
}

/// Elements `[start, end)` of `t` along `axis` (negative axis from the end; the bounds must lie
/// inside the axis): splits a fused weight into its parts (an LSTM's four gates).
pub fn slice_axis(t: &Tensor, axis: i64, start: i64, end: i64) -> Result<Tensor, String> {
    let rank = t.shape.len() as i64;
    let a = if axis < 0 { axis + rank } else { axis };
    if a < 0 || a >= rank {
        return Err(format!("tensor_slice: axis {axis} is out of range for rank {rank}"));
    }
    let a = a as usize;
    let len = t.shape[a] as i64;
    if start < 0 || end < start || end > len {
        return Err(format!("tensor_slice: [{start}, {end}) is outside an axis of size {len}"));
    }
    if t.data.len() != t.num_elements() {
        return Err("tensor data does not match its shape".into());
    }
    let inner: usize = t.shape[a + 1..].iter().product();
    let outer: usize = t.shape[..a].iter().product();
    let (s, e, n) = (start as usize, end as usize, t.shape[a]);
    let rows = |o: usize| (o * n + s) * inner..(o * n + e) * inner;
    let data = match &t.data {
        TensorData::Float(v) => TensorData::Float((0..outer).flat_map(|o| v[rows(o)].iter().copied()).collect()),
        TensorData::Int(v) => TensorData::Int((0..outer).flat_map(|o| v[rows(o)].iter().copied()).collect()),
        TensorData::Bool(v) => TensorData::Bool((0..outer).flat_map(|o| v[rows(o)].iter().copied()).collect()),
    };
    let mut shape = t.shape.clone();
    shape[a] = e - s;
    Ok(Tensor { shape, data, dtype: t.dtype })
}

/// `ts` joined along `axis`: every other dimension and the dtype must agree (reorders a fused
/// weight's blocks, with `slice_axis`).
pub fn concat_axis(ts: &[&Tensor], axis: i64) -> Result<Tensor, String> {
    let first = ts.first().ok_or("tensor_concat: no tensors")?;
    let rank = first.shape.len() as i64;
    let a = if axis < 0 { axis + rank } else { axis };
    if a < 0 || a >= rank {
        return Err(format!("tensor_concat: axis {axis} is out of range for rank {rank}"));
    }
    let a = a as usize;
    for t in ts {
        let same_dims = t.shape.len() == first.shape.len()
            && t.shape.iter().zip(&first.shape).enumerate().all(|(d, (x, y))| d == a || x == y);
        if !same_dims || t.dtype != first.dtype || std::mem::discriminant(&t.data) != std::mem::discriminant(&first.data) {
            return Err(format!("tensor_concat: {} {:?} does not fit {} {:?} along axis {a}", t.dtype, t.shape, first.dtype, first.shape));
        }
        if t.data.len() != t.num_elements() {
            return Err("tensor data does not match its shape".into());
        }
    }
    let outer: usize = first.shape[..a].iter().product();
    let block = |t: &Tensor| t.shape[a..].iter().product::<usize>();
    let mut data = match &first.data {
        TensorData::Float(_) => TensorData::Float(Vec::new()),
        TensorData::Int(_) => TensorData::Int(Vec::new()),
        TensorData::Bool(_) => TensorData::Bool(Vec::new()),
    };
    for o in 0..outer {
        for t in ts {
            let n = block(t);
            let r = o * n..(o + 1) * n;
            match (&mut data, &t.data) {
                (TensorData::Float(d), TensorData::Float(v)) => d.extend_from_slice(&v[r]),
                (TensorData::Int(d), TensorData::Int(v)) => d.extend_from_slice(&v[r]),
                (TensorData::Bool(d), TensorData::Bool(v)) => d.extend_from_slice(&v[r]),
                _ => unreachable!("element types checked above"),
            }
        }
    }
    let mut shape = first.shape.clone();
    shape[a] = ts.iter().map(|t| t.shape[a]).sum();
    Ok(Tensor { shape, data, dtype: first.dtype })
}

/// Every permutation of `0..n` with its sign, in lexicographic order.
fn permutations(n: usize) -> Vec<(Vec<usize>, f32)> {
    fn go(prefix: &mut Vec<usize>, used: &mut [bool], out: &mut Vec<(Vec<usize>, f32)>) {
        let n = used.len();
        if prefix.len() == n {
            let inversions = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).filter(|&(i, j)| prefix[i] > prefix[j]).count();
            out.push((prefix.clone(), if inversions % 2 == 0 { 1.0 } else { -1.0 }));
            return;
        }
        for v in 0..n {
            if !used[v] {
                used[v] = true;
                prefix.push(v);
                go(prefix, used, out);
                prefix.pop();
                used[v] = false;
            }
        }
    }
    let mut out = Vec::new();
    go(&mut Vec::new(), &mut vec![false; n], &mut out);
    out
}

/// The Leibniz selection matrix for `n x n` determinants, stored `[out, in]` =
/// `[n * n!, n * n]`: output row `i * n! + p` picks entry `(i, σ_p(i))` of the row-major
/// flattened matrix, with the sign of `σ_p` put on row `i = 0`. Multiplying a flattened
/// matrix by it, reshaping to `[n, n!]`, taking the product over the `n` rows and the sum
/// over the `n!` permutations gives `det = Σ_σ sign(σ) Π_i a[i, σ(i)]`.
pub fn leibniz_matrix(n: i64) -> Result<Tensor, String> {
    if !(1..=5).contains(&n) {
        return Err(format!("leibniz_matrix({n}): n must be between 1 and 5"));
    }
    let n = n as usize;
    let perms = permutations(n);
    let p = perms.len();
    let cols = n * n;
    let mut data = vec![0f32; n * p * cols];
    for i in 0..n {
        for (k, (sigma, sign)) in perms.iter().enumerate() {
            let row = i * p + k;
            data[row * cols + i * n + sigma[i]] = if i == 0 { *sign } else { 1.0 };
        }
    }
    Ok(Tensor::from_f32(vec![n * p, cols], data))
}

/// The `[n, len(ids)]` 0/1 matrix with a one at `(ids[i], i)`: multiplying it by a tensor whose
/// first axis runs over `i` sums the rows of each id (a segment sum as one matmul). Ids outside
/// `0..n` select nothing, as TF's unsorted segment ops drop negative ids.
pub fn one_hot_matrix(ids: &[i64], n: i64) -> Result<Tensor, String> {
    if !(0..=1 << 16).contains(&n) || ids.len() > 1 << 16 {
        return Err(format!("one_hot_matrix: {n} x {} is out of bounds", ids.len()));
    }
    let (rows, cols) = (n as usize, ids.len());
    let mut data = vec![0f32; rows * cols];
    for (i, &id) in ids.iter().enumerate() {
        if (0..n).contains(&id) {
            data[id as usize * cols + i] = 1.0;
        }
    }
    Ok(Tensor::from_f32(vec![rows, cols], data))
}

/// A rank-2 constant with each row divided by its sum; rows summing to zero stay as they are
/// (an empty segment's mean is 0 in TF, not 0 / 0).
pub fn normalize_rows(t: &Tensor) -> Result<Tensor, String> {
    let [rows, cols] = t.shape[..] else {
        return Err(format!("normalize_rows: expected a rank-2 constant, got shape {:?}", t.shape));
    };
    let mut data = floats(t)?;
    for row in data.chunks_mut(cols.max(1)).take(rows) {
        let s: f32 = row.iter().sum();
        if s != 0.0 {
            row.iter_mut().for_each(|v| *v /= s);
        }
    }
    Ok(Tensor::from_f32(vec![rows, cols], data))
}

/// Guards the size of a generated constant (a rule on a huge matrix must fail, not allocate).
fn checked_elements(what: &str, dims: &[usize]) -> Result<usize, String> {
    let n = dims.iter().try_fold(1usize, |s, d| s.checked_mul(*d)).ok_or_else(|| format!("{what}: size overflows"))?;
    if n > 1 << 24 {
        return Err(format!("{what}: {n} elements is too many for a constant"));
    }
    Ok(n)
}

fn dims2(what: &str, rows: i64, cols: i64) -> Result<(usize, usize), String> {
    if rows < 1 || cols < 1 {
        return Err(format!("{what}: a {rows} x {cols} matrix is empty"));
    }
    Ok((rows as usize, cols as usize))
}

/// `[rows, cols]` 0/1 mask, 1 where `k_lo <= j - i <= k_hi`: the diagonals `k_lo..=k_hi` of a
/// matrix (a band part, a triangle, `np.eye(rows, cols, k)` with `k_lo == k_hi == k`).
pub fn band_mask(rows: i64, cols: i64, k_lo: i64, k_hi: i64) -> Result<Tensor, String> {
    let (r, c) = dims2("band_mask", rows, cols)?;
    checked_elements("band_mask", &[r, c])?;
    let data = (0..r).flat_map(|i| (0..c).map(move |j| if (k_lo..=k_hi).contains(&(j as i64 - i as i64)) { 1.0 } else { 0.0 })).collect();
    Ok(Tensor::from_f32(vec![r, c], data))
}

/// TF's diagonal layout (`MatrixDiagPartV3`): for each diagonal `d = k_hi, k_hi - 1, ..., k_lo`
/// (row `k_hi - d` of the result), position `n` holds entry `(n + y, n + x)` with
/// `y = max(-d, 0) - offset`, `x = max(d, 0) - offset`, where `offset` right-aligns the
/// shorter diagonals as `align` says (its first half for superdiagonals, second for
/// subdiagonals). Yields `(diagonal row, n, Some(flat entry index) | None for padding)`.
fn diag_layout(rows: i64, cols: i64, k_lo: i64, k_hi: i64, align: &str) -> Result<(usize, usize, Vec<Option<usize>>), String> {
    let (r, c) = dims2("diag_layout", rows, cols)?;
    if k_lo > k_hi || k_lo <= -rows || k_hi >= cols {
        return Err(format!("diagonals {k_lo}..={k_hi} are outside a {rows} x {cols} matrix (or k[0] > k[1])"));
    }
    let (sup_right, sub_right) = match align {
        "RIGHT_LEFT" => (true, false),
        "LEFT_RIGHT" => (false, true),
        "LEFT_LEFT" => (false, false),
        "RIGHT_RIGHT" => (true, true),
        a => return Err(format!("unknown diagonal alignment {a:?}")),
    };
    let diag_len = |d: i64| (rows + d.min(0)).min(cols - d.max(0));
    let max_len = (k_lo..=k_hi).map(diag_len).max().unwrap_or(0) as usize;
    let num = (k_hi - k_lo + 1) as usize;
    checked_elements("diag_layout", &[num, max_len, r, c])?;
    let mut entries = Vec::with_capacity(num * max_len);
    for d in (k_lo..=k_hi).rev() {
        let right = if d >= 0 { sup_right } else { sub_right };
        let offset = if right { max_len as i64 - diag_len(d) } else { 0 };
        for n in 0..max_len as i64 {
            let (y, x) = (n + (-d).max(0) - offset, n + d.max(0) - offset);
            entries.push(((0..rows).contains(&y) && (0..cols).contains(&x)).then(|| (y * cols + x) as usize));
        }
    }
    Ok((num, max_len, entries))
}

/// The 0/1 matrix `[num_diags * max_len, rows * cols]` that picks TF's diagonals (see
/// `diag_layout`) out of a row-major flattened `rows x cols` matrix: as `batchedMatmul`
/// weights (stored `[out, in]`) it is `MatrixDiagPartV3`; transposed it puts diagonals back
/// (`MatrixDiagV3`, `MatrixSetDiagV3`). Padding positions are zero rows.
pub fn diag_selection(rows: i64, cols: i64, k_lo: i64, k_hi: i64, align: &str) -> Result<Tensor, String> {
    let (num, max_len, entries) = diag_layout(rows, cols, k_lo, k_hi, align)?;
    let width = (rows * cols) as usize;
    let mut data = vec![0f32; num * max_len * width];
    for (row, e) in entries.iter().enumerate() {
        if let Some(col) = e {
            data[row * width + col] = 1.0;
        }
    }
    Ok(Tensor::from_f32(vec![num * max_len, width], data))
}

/// `[num_diags * max_len]`: 1 at the padding positions of `diag_selection`'s layout, 0 at
/// matrix entries (times the padding value, the bias of `MatrixDiagPartV3`'s product).
pub fn diag_padding(rows: i64, cols: i64, k_lo: i64, k_hi: i64, align: &str) -> Result<Tensor, String> {
    let (num, max_len, entries) = diag_layout(rows, cols, k_lo, k_hi, align)?;
    Ok(Tensor::from_f32(vec![num * max_len], entries.iter().map(|e| if e.is_none() { 1.0 } else { 0.0 }).collect()))
}

/// The adjugate's selection matrix for `n x n` matrices, stored `[out, in]` =
/// `[(n - 1) * n * n * (n - 1)!, n * n]`. `adj(A)[i][j] = ∂det/∂A[j][i] = Σ over permutations
/// σ with σ(j) = i of sign(σ) Π_{r ≠ j} A[r][σ(r)]`; row `m * (n² (n-1)!) + (i n + j) (n-1)! + p`
/// picks the `m`-th factor of the `p`-th such σ (sign on `m = 0`). Reshaped to
/// `[n - 1, n² (n-1)!]`, a product over the factors and a sum over groups of `(n-1)!` give the
/// row-major flattened adjugate; divided by the determinant, the inverse.
pub fn adjugate_matrix(n: i64) -> Result<Tensor, String> {
    if !(2..=5).contains(&n) {
        return Err(format!("adjugate_matrix({n}): n must be between 2 and 5"));
    }
    let n = n as usize;
    let perms = permutations(n);
    let terms = perms.len() / n;
    let cols = n * n;
    let block = n * n * terms;
    let mut data = vec![0f32; (n - 1) * block * cols];
    for i in 0..n {
        for j in 0..n {
            let o = i * n + j;
            for (p, (sigma, sign)) in perms.iter().filter(|(s, _)| s[j] == i).enumerate() {
                for (m, r) in (0..n).filter(|&r| r != j).enumerate() {
                    let row = m * block + o * terms + p;
                    data[row * cols + r * n + sigma[r]] = if m == 0 { *sign } else { 1.0 };
                }
            }
        }
    }
    Ok(Tensor::from_f32(vec![(n - 1) * block, cols], data))
}

/// The DFT of the innermost axis as `batchedMatmul` weights, stored `[out, in]`, on the
/// *halves* layout of a complex vector (its `n` real parts, then its `n` imaginary parts: what
/// `ComplexParts` of `rules/signal.rules` holds). `len` is the transform length; an input
/// longer than it is cropped and a shorter one zero-padded, as TF does, which here is only
/// which rows exist. Kinds:
/// - `"rfft"`: `n` real samples to `2 * (len / 2 + 1)` halves,
/// - `"fft"`, `"ifft"`: `2n` halves to `2 * len` halves (`ifft` scaled by `1 / len`),
/// - `"irfft"`: `2n` halves of `n` bins to `len` real samples, the Hermitian half-spectrum
///   rebuilt (bins past `len / 2` ignored, missing bins zero; the imaginary parts of the DC
///   and, for even `len`, Nyquist bins drop out, as in TF's C2R transform).
pub fn dft_matrix(kind: &str, n: i64, len: i64) -> Result<Tensor, String> {
    let (n, l) = dims2("dft_matrix", n, len)?;
    let angle = |k: usize, t: usize| 2.0 * std::f64::consts::PI * ((k * t) % l) as f64 / l as f64;
    let used = n.min(l);
    let (rows, cols) = match kind {
        "rfft" => (2 * (l / 2 + 1), n),
        "fft" | "ifft" => (2 * l, 2 * n),
        "irfft" => (l, 2 * n),
        k => return Err(format!("dft_matrix: unknown kind {k:?} (rfft, fft, ifft, irfft)")),
    };
    checked_elements("dft_matrix", &[rows, cols])?;
    let mut w = vec![0f64; rows * cols];
    let mut set = |r: usize, c: usize, v: f64| w[r * cols + c] = v;
    match kind {
        "rfft" => {
            let k = l / 2 + 1;
            for b in 0..k {
                for t in 0..used {
                    set(b, t, angle(b, t).cos());
                    set(k + b, t, -angle(b, t).sin());
                }
            }
        }
        "fft" | "ifft" => {
            // forward: (a + ib)(c - is); inverse: (a + ib)(c + is) / len.
            let (sign, scale) = if kind == "fft" { (-1.0, 1.0) } else { (1.0, 1.0 / l as f64) };
            for k in 0..l {
                for t in 0..used {
                    let (c, s) = (angle(k, t).cos() * scale, sign * angle(k, t).sin() * scale);
                    set(k, t, c);
                    set(k, n + t, -s);
                    set(l + k, t, s);
                    set(l + k, n + t, c);
                }
            }
        }
        _ => {
            // x[t] = (1/len) sum_k w_k (Re X_k cos - Im X_k sin), w_0 = 1, w_{len/2} = 1 (even), else 2.
            let bins = n.min(l / 2 + 1);
            for t in 0..l {
                for k in 0..bins {
                    let wk = if k == 0 || 2 * k == l { 1.0 } else { 2.0 } / l as f64;
                    set(t, k, wk * angle(k, t).cos());
                    set(t, n + k, -wk * angle(k, t).sin());
                }
            }
        }
    }
    Ok(Tensor::from_f32(vec![rows, cols], w.into_iter().map(|v| v as f32).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(t: &Tensor) -> Vec<f32> {
        floats(t).unwrap()
    }

    #[test]
    fn slice_axis_takes_a_block_of_every_row() {
        // [2, 4] = [[0 1 2 3], [4 5 6 7]]: columns 1..3 are [[1 2], [5 6]], row 1 is [4 5 6 7].
        let t = Tensor::from_f32(vec![2, 4], (0..8).map(|x| x as f32).collect());
        let c = slice_axis(&t, -1, 1, 3).unwrap();
        assert_eq!((c.shape.clone(), vals(&c)), (vec![2, 2], vec![1.0, 2.0, 5.0, 6.0]));
        let r = slice_axis(&t, 0, 1, 2).unwrap();
        assert_eq!((r.shape.clone(), vals(&r)), (vec![1, 4], vec![4.0, 5.0, 6.0, 7.0]));
        assert!(slice_axis(&t, 1, 2, 5).unwrap_err().contains("outside an axis of size 4"));
        assert!(slice_axis(&t, 2, 0, 1).is_err());
    }

    #[test]
    fn concat_axis_undoes_slice_axis() {
        // [[0 1 2 3], [4 5 6 7]] with its column blocks swapped: [[2 3 0 1], [6 7 4 5]].
        let t = Tensor::from_f32(vec![2, 4], (0..8).map(|x| x as f32).collect());
        let (l, r) = (slice_axis(&t, 1, 0, 2).unwrap(), slice_axis(&t, 1, 2, 4).unwrap());
        let c = concat_axis(&[&r, &l], 1).unwrap();
        assert_eq!((c.shape.clone(), vals(&c)), (vec![2, 4], vec![2.0, 3.0, 0.0, 1.0, 6.0, 7.0, 4.0, 5.0]));
        assert_eq!(vals(&concat_axis(&[&l, &r], -1).unwrap()), vals(&t));
        let rows = concat_axis(&[&slice_axis(&t, 0, 1, 2).unwrap(), &slice_axis(&t, 0, 0, 1).unwrap()], 0).unwrap();
        assert_eq!(vals(&rows), vec![4.0, 5.0, 6.0, 7.0, 0.0, 1.0, 2.0, 3.0]);
        assert!(concat_axis(&[&t, &l], 0).unwrap_err().contains("does not fit"));
    }

    #[test]
    fn one_hot_matrix_rows_are_ids() {
        // ids [1, 0, 1, -1, 5] with n = 2 (worked by hand): row 0 picks column 1, row 1 picks
        // columns 0 and 2; -1 and 5 pick nothing.
        let m = one_hot_matrix(&[1, 0, 1, -1, 5], 2).unwrap();
        assert_eq!(m.shape, vec![2, 5]);
        assert_eq!(vals(&m), vec![0., 1., 0., 0., 0., 1., 0., 1., 0., 0.]);
        let avg = normalize_rows(&m).unwrap();
        assert_eq!(vals(&avg), vec![0., 1., 0., 0., 0., 0.5, 0., 0.5, 0., 0.]);
        let empty = normalize_rows(&one_hot_matrix(&[0, 0], 2).unwrap()).unwrap();
        assert_eq!(vals(&empty), vec![0.5, 0.5, 0., 0.]);
    }

    #[test]
    fn broadcasting_follows_numpy() {
        // [2,1] + [3] -> [2,3]: rows 10, 20 plus columns 1, 2, 3 (worked by hand).
        let a = Tensor::from_f32(vec![2, 1], vec![10., 20.]);
        let b = Tensor::from_f32(vec![3], vec![1., 2., 3.]);
        let c = broadcast_binary(&a, &b, |x, y| x + y).unwrap();
        assert_eq!(c.shape, vec![2, 3]);
        assert_eq!(vals(&c), vec![11., 12., 13., 21., 22., 23.]);
        assert!(broadcast_binary(&Tensor::from_f32(vec![2], vec![1., 2.]), &b, |x, y| x + y).is_err());
    }

    #[test]
    fn scale_axis_is_the_broadcast_product_on_any_axis() {
        let w = Tensor::from_f32(vec![2, 3, 2, 2], (0..24).map(|i| i as f32 * 0.37 - 4.0).collect());
        for (axis, n) in [(0i64, 2usize), (1, 3), (2, 2), (3, 2), (-3, 3)] {
            let v = Tensor::from_f32(vec![n], (0..n).map(|i| 1.5 - i as f32).collect());
            let a = if axis < 0 { (axis + 4) as usize } else { axis as usize };
            let mut shape = vec![1usize; 4];
            shape[a] = n;
            let want = broadcast_binary(&w, &Tensor::from_f32(shape, vals(&v)), |x, y| x * y).unwrap();
            assert_eq!(scale_axis(&w, axis, &v).unwrap(), want, "axis {axis}");
        }
    }

    #[test]
    fn scale_axis_scales_output_channels() {
        // OIHW [2,1,1,2]: channel 0 times 2, channel 1 times -1.
        let w = Tensor::from_f32(vec![2, 1, 1, 2], vec![1., 2., 3., 4.]);
        let s = Tensor::from_f32(vec![2], vec![2., -1.]);
        assert_eq!(vals(&scale_axis(&w, 0, &s).unwrap()), vec![2., 4., -3., -4.]);
        assert!(scale_axis(&w, 1, &s).is_err());
    }

    fn det_by_leibniz(m: &[f32], n: usize) -> f32 {
        let l = leibniz_matrix(n as i64).unwrap();
        let lv = vals(&l);
        let (rows, cols) = (l.shape[0], l.shape[1]);
        let sel: Vec<f32> = (0..rows).map(|r| (0..cols).map(|c| lv[r * cols + c] * m[c]).sum()).collect();
        let p = rows / n;
        (0..p).map(|k| (0..n).map(|i| sel[i * p + k]).product::<f32>()).sum()
    }

    #[test]
    fn leibniz_matrix_gives_determinants() {
        // Determinants computed by hand: [[1,2],[3,4]] -> -2; [[2,0,1],[1,3,2],[1,1,1]] ->
        // 2*(3-2) - 0 + 1*(1-3) = 0; diag(1,2,3,4) with a swap of rows 0,1 -> -24.
        assert_eq!(det_by_leibniz(&[1., 2., 3., 4.], 2), -2.0);
        assert_eq!(det_by_leibniz(&[2., 0., 1., 1., 3., 2., 1., 1., 1.], 3), 0.0);
        let m = [0., 2., 0., 0., 1., 0., 0., 0., 0., 0., 3., 0., 0., 0., 0., 4.];
        assert_eq!(det_by_leibniz(&m, 4), -24.0);
        assert_eq!(leibniz_matrix(3).unwrap().shape, vec![18, 9]);
        assert!(leibniz_matrix(0).is_err() && leibniz_matrix(6).is_err());
    }

    #[test]
    fn band_mask_marks_diagonals() {
        // Diagonals -1..=1 of a 3 x 4 matrix, by hand.
        let m = band_mask(3, 4, -1, 1).unwrap();
        assert_eq!(vals(&m), vec![1., 1., 0., 0., 1., 1., 1., 0., 0., 1., 1., 1.]);
        assert!(band_mask(0, 4, 0, 0).is_err());
    }

    #[test]
    fn diag_layout_follows_tf_alignment() {
        // The main diagonal of a 2 x 3 matrix is entries 0 and 4 (flat row-major).
        let s = diag_selection(2, 3, 0, 0, "RIGHT_LEFT").unwrap();
        assert_eq!(s.shape, vec![2, 6]);
        assert_eq!(vals(&s), vec![1., 0., 0., 0., 0., 0., 0., 0., 0., 0., 1., 0.]);
        // 3 x 3, k = (-1, 1), LEFT_RIGHT: the superdiagonal is left-aligned (padding last),
        // the subdiagonal right-aligned (padding first), as in TF's MatrixDiagPartV3 docs.
        assert_eq!(vals(&diag_padding(3, 3, -1, 1, "LEFT_RIGHT").unwrap()), vec![0., 0., 1., 0., 0., 0., 1., 0., 0.]);
        let s = diag_selection(3, 3, -1, 1, "LEFT_RIGHT").unwrap();
        let picked: Vec<Option<usize>> = vals(&s).chunks(9).map(|r| r.iter().position(|v| *v == 1.0)).collect();
        assert_eq!(picked, vec![Some(1), Some(5), None, Some(0), Some(4), Some(8), None, Some(3), Some(7)]);
        assert!(diag_selection(3, 3, 1, 0, "RIGHT_LEFT").is_err());
        assert!(diag_selection(3, 3, 0, 3, "RIGHT_LEFT").is_err());
        assert!(diag_selection(3, 3, 0, 0, "UP").is_err());
    }

    fn adjugate_by_selection(m: &[f32], n: usize) -> Vec<f32> {
        let l = adjugate_matrix(n as i64).unwrap();
        let lv = vals(&l);
        let (rows, cols) = (l.shape[0], l.shape[1]);
        let sel: Vec<f32> = (0..rows).map(|r| (0..cols).map(|c| lv[r * cols + c] * m[c]).sum()).collect();
        let block = rows / (n - 1);
        let prods: Vec<f32> = (0..block).map(|k| (0..n - 1).map(|f| sel[f * block + k]).product()).collect();
        prods.chunks(block / (n * n)).map(|c| c.iter().sum()).collect()
    }

    #[test]
    fn adjugate_matrix_gives_adjugates() {
        // By hand: adj([[1,2],[3,4]]) = [[4,-2],[-3,1]]; adj(diag(2,3,4)) = diag(12,8,6);
        // adj of [[0,1,0],[1,0,0],[0,0,2]] (a swap, det -2) = -2 * inverse = [[0,-2,0],[-2,0,0],[0,0,-1]].
        assert_eq!(adjugate_by_selection(&[1., 2., 3., 4.], 2), vec![4., -2., -3., 1.]);
        assert_eq!(adjugate_by_selection(&[2., 0., 0., 0., 3., 0., 0., 0., 4.], 3), vec![12., 0., 0., 0., 8., 0., 0., 0., 6.]);
        assert_eq!(adjugate_by_selection(&[0., 1., 0., 1., 0., 0., 0., 0., 2.], 3), vec![0., -2., 0., -2., 0., 0., 0., 0., -1.]);
        assert_eq!(adjugate_matrix(4).unwrap().shape, vec![3 * 16 * 6, 16]);
        assert!(adjugate_matrix(1).is_err() && adjugate_matrix(6).is_err());
    }

    #[test]
    fn dft_matrix_matches_a_hand_computed_transform() {
        // rfft of [1, 2, 0, -1] (len 4, worked by hand): X0 = 2, X1 = 1 - 3i, X2 = 0.
        let w = dft_matrix("rfft", 4, 4).unwrap();
        assert_eq!(w.shape, vec![6, 4]);
        let x = [1.0f32, 2.0, 0.0, -1.0];
        let y: Vec<f32> = vals(&w).chunks(4).map(|r| r.iter().zip(&x).map(|(a, b)| a * b).sum()).collect();
        let want = [2.0, 1.0, 0.0, 0.0, -3.0, 0.0];
        assert!(y.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5), "{y:?}");
        // irfft brings the half-spectrum [2, 1 - 3i, 0] back to the signal.
        let inv = dft_matrix("irfft", 3, 4).unwrap();
        let back: Vec<f32> = vals(&inv).chunks(6).map(|r| r.iter().zip(&y).map(|(a, b)| a * b).sum()).collect();
        assert!(back.iter().zip(&x).all(|(a, b)| (a - b).abs() < 1e-5), "{back:?}");
        // fft of the complex [1, i] (len 2): [1 + i, 1 - i]; halves [1, 0 | 0, 1] -> [1, 1 | 1, -1].
        let f = dft_matrix("fft", 2, 2).unwrap();
        let z = [1.0f32, 0.0, 0.0, 1.0];
        let fz: Vec<f32> = vals(&f).chunks(4).map(|r| r.iter().zip(&z).map(|(a, b)| a * b).sum()).collect();
        assert!(fz.iter().zip(&[1.0, 1.0, 1.0, -1.0]).all(|(a, b)| (a - b).abs() < 1e-6), "{fz:?}");
        // Cropping: rfft of len 2 reads only the first two samples.
        assert_eq!(dft_matrix("rfft", 3, 2).unwrap().shape, vec![4, 3]);
        assert!(dft_matrix("dct", 2, 2).is_err());
    }
}
