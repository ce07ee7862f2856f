//! Arithmetic on constant tensors for rule right-hand sides: folding a batch norm into the
//! convolution before it needs `gamma / sqrt(variance + eps)` per output channel and the
//! weights scaled along that channel axis; a determinant by the Leibniz formula needs the
//! 0/±1 matrix that selects each permutation's entries. These run when a rule fires, on
//! constants only, so a rule can compute weights instead of emitting layers for them.

use super::value::{Tensor, TensorData};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(t: &Tensor) -> Vec<f32> {
        floats(t).unwrap()
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
}
