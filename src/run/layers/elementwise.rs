//! Elementwise layers of several inputs: the legacy add/multiply/average/max/min (numpy
//! broadcasting, which covers the `[B,C,1,1]`/`[B,1,H,W]` forms the proto lists), the
//! `*Broadcastable` family, comparisons, logical ops, where, bias, scale and dot.

use super::arity;
use crate::kbail;
use crate::proto::coreml::{BiasLayerParams, DotProductLayerParams, ScaleLayerParams};
use crate::run::float::Float;
use crate::run::util::{bchw, broadcast_shapes, broadcast_to, element_count, from_vec, zip2};
use crate::run::weights::decode_len;
use crate::run::KernelError;
use ndarray::{ArrayD, Zip};

fn fold<T: Float>(ins: &[&ArrayD<T>], f: impl Fn(T, T) -> T + Copy) -> Result<ArrayD<T>, KernelError> {
    let mut acc = ins[0].to_owned();
    for b in &ins[1..] {
        acc = zip2(&acc, b, f)?;
    }
    Ok(acc)
}

/// `add`: the sum of the inputs, or `x + alpha` with one input.
pub fn add<T: Float>(alpha: f32, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, usize::MAX)?;
    if ins.len() == 1 {
        let a = T::from_f32(alpha);
        return Ok(ins[0].mapv(|x| x + a));
    }
    fold(ins, |a, b| a + b)
}

/// `multiply`: the product of the inputs, or `alpha * x` with one input.
pub fn multiply<T: Float>(alpha: f32, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, usize::MAX)?;
    if ins.len() == 1 {
        let a = T::from_f32(alpha);
        return Ok(ins[0].mapv(|x| a * x));
    }
    fold(ins, |a, b| a * b)
}

pub fn average<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, usize::MAX)?;
    let n = T::from_usize(ins.len());
    Ok(fold(ins, |a, b| a + b)?.mapv(|v| v / n))
}

/// Legacy `max` / `min` over all inputs.
pub fn fold_legacy<T: Float>(ins: &[&ArrayD<T>], f: fn(T, T) -> T) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, usize::MAX)?;
    fold(ins, f)
}

/// The two-input `*Broadcastable` layers, by proto field name.
pub fn broadcastable<T: Float>(kind: &str, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    let f: fn(T, T) -> T = match kind {
        "addBroadcastable" => |a, b| a + b,
        "subtractBroadcastable" => |a, b| a - b,
        "multiplyBroadcastable" => |a, b| a * b,
        "divideBroadcastable" => |a, b| a / b,
        "maxBroadcastable" => T::max_nan,
        "minBroadcastable" => T::min_nan,
        "powBroadcastable" => T::powf,
        // numpy / TensorFlow floor semantics: the remainder has the divisor's sign. From the
        // exact `fmod` (Rust's float `%`), not `a - floor(a / b) * b`, whose rounded quotient
        // is off by one near a multiple of b (-2.5 mod -0.001 would give 0, not -0.00099988).
        "modBroadcastable" => floor_mod,
        "floorDivBroadcastable" => |a, b| (a / b).floor(),
        other => kbail!("{other} is not a broadcastable binary layer"),
    };
    zip2(ins[0], ins[1], f)
}

/// numpy's `npy_divmod` remainder: `fmod`, moved into the divisor's sign when it is not.
fn floor_mod<T: Float>(a: T, b: T) -> T {
    let r = a % b;
    if r != T::zero() && ((r < T::zero()) != (b < T::zero())) {
        r + b
    } else {
        r
    }
}

fn flag<T: Float>(b: bool) -> T {
    if b {
        T::one()
    } else {
        T::zero()
    }
}

/// Comparisons: two inputs broadcast, or one input against `alpha`. Output 1.0 / 0.0.
pub fn compare<T: Float>(ins: &[&ArrayD<T>], alpha: f32, p: fn(T, T) -> bool) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 2)?;
    if ins.len() == 1 {
        let a = T::from_f32(alpha);
        return Ok(ins[0].mapv(|x| flag(p(x, a))));
    }
    zip2(ins[0], ins[1], |a, b| flag(p(a, b)))
}

/// Logical and/or/xor: an input is true when it is not 0.0.
pub fn logical<T: Float>(ins: &[&ArrayD<T>], p: fn(bool, bool) -> bool) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    zip2(ins[0], ins[1], |a, b| flag(p(a != T::zero(), b != T::zero())))
}

pub fn logical_not<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    Ok(ins[0].mapv(|a| flag(a == T::zero())))
}

/// `whereBroadcastable(cond, x, y)`, all three broadcast to a common shape.
pub fn where_<T: Float>(ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 3, 3)?;
    let shape = broadcast_shapes(&[ins[0].shape(), ins[1].shape(), ins[2].shape()])?;
    let c = broadcast_to(ins[0], &shape)?;
    let x = broadcast_to(ins[1], &shape)?;
    let y = broadcast_to(ins[2], &shape)?;
    Ok(Zip::from(&c).and(&x).and(&y).map_collect(|&c, &x, &y| if c != T::zero() { x } else { y }))
}

/// A bias or scale parameter of shape `[1]`, `[C]`, `[1,H,W]` or `[C,H,W]`, as an array that
/// broadcasts against the trailing `[C,H,W]` axes (`[C]` becomes `[C,1,1]`).
fn chw_param<T: Float>(
    shape: &[u64],
    w: Option<&crate::proto::coreml::WeightParams>,
    what: &str,
    x: &ArrayD<T>,
) -> Result<ArrayD<T>, KernelError> {
    let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let (_, c, h, wd) = bchw(x.shape(), 3)?;
    let n = element_count(&shape)?;
    let v = decode_len::<T>(w, what, n)?;
    let full = match shape.as_slice() {
        [1] | [] => vec![1, 1, 1],
        [cc] if *cc == c => vec![c, 1, 1],
        [a, b, d] if (*a == 1 || *a == c) && *b == h && *d == wd => vec![*a, *b, *d],
        _ => kbail!("{what} shape {:?} is none of [1], [C], [1,H,W], [C,H,W] for input {:?}", shape, x.shape()),
    };
    from_vec(full, v)
}

pub fn bias<T: Float>(p: &BiasLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let b = chw_param(&p.shape, p.bias.as_ref(), "bias", ins[0])?;
    zip2(ins[0], &b, |x, b| x + b)
}

pub fn scale<T: Float>(p: &ScaleLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let s = chw_param(&p.shape_scale, p.scale.as_ref(), "scale", ins[0])?;
    let y = zip2(ins[0], &s, |x, s| x * s)?;
    if !p.has_bias {
        return Ok(y);
    }
    let b = chw_param(&p.shape_bias, p.bias.as_ref(), "bias", ins[0])?;
    zip2(&y, &b, |x, b| x + b)
}

/// Dot product over the C axis of `[..., C, 1, 1]` inputs; output `[..., 1, 1, 1]`.
pub fn dot<T: Float>(p: &DotProductLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 2, 2)?;
    let (a, b) = (ins[0], ins[1]);
    if a.shape() != b.shape() {
        kbail!("inputs have different shapes {:?} and {:?}", a.shape(), b.shape());
    }
    let (batch, c, h, w) = bchw(a.shape(), 3)?;
    if h != 1 || w != 1 {
        kbail!("the last two dimensions must be 1, got shape {:?}", a.shape());
    }
    let av: Vec<T> = a.iter().copied().collect();
    let bv: Vec<T> = b.iter().copied().collect();
    let mut out = Vec::with_capacity(batch);
    for i in 0..batch {
        let (x, y) = (&av[i * c..(i + 1) * c], &bv[i * c..(i + 1) * c]);
        let d: T = x.iter().zip(y).map(|(&p, &q)| p * q).sum();
        if p.cosine_similarity {
            let nx: T = x.iter().map(|&v| v * v).sum();
            let ny: T = y.iter().map(|&v| v * v).sum();
            out.push(d / (nx.sqrt() * ny.sqrt()));
        } else {
            out.push(d);
        }
    }
    let mut shape = a.shape().to_vec();
    let r = shape.len();
    shape[r - 3] = 1;
    from_vec(shape, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr1, arr2};

    #[test]
    fn mod_and_floor_div_follow_numpy_signs() {
        // numpy: np.mod([-7, 7], [3, -3]) = [2, -2]; np.floor_divide = [-3, -3].
        let a = arr1(&[-7.0f32, 7.0]).into_dyn();
        let b = arr1(&[3.0f32, -3.0]).into_dyn();
        assert_eq!(broadcastable("modBroadcastable", &[&a, &b]).unwrap().as_slice().unwrap(), &[2.0, -2.0]);
        assert_eq!(broadcastable("floorDivBroadcastable", &[&a, &b]).unwrap().as_slice().unwrap(), &[-3.0, -3.0]);
    }

    #[test]
    fn mod_is_exact_near_a_multiple_of_the_divisor() {
        // numpy: np.mod(np.float32(-2.5), np.float32(-0.001)) = -0.0009998813 (the float32
        // divisor is slightly above 0.001, so -2.5 is not a multiple of it);
        // np.mod(np.float32(5.0), np.float32(-2.0)) = -1.0; np.mod(-0.0, 2.0) = 0.0.
        let a = arr1(&[-2.5f32, 5.0, 0.0]).into_dyn();
        let b = arr1(&[-0.001f32, -2.0, 2.0]).into_dyn();
        let y = broadcastable("modBroadcastable", &[&a, &b]).unwrap();
        assert_eq!(y.as_slice().unwrap(), &[-0.0009998813f32, -1.0, 0.0]);
    }

    #[test]
    fn broadcasting_rank_and_ones() {
        // [2,1] + [3] -> [2,3]: [[0],[10]] + [1,2,3] = [[1,2,3],[11,12,13]] (by hand).
        let a = arr2(&[[0.0f32], [10.0]]).into_dyn();
        let b = arr1(&[1.0f32, 2.0, 3.0]).into_dyn();
        let y = broadcastable("addBroadcastable", &[&a, &b]).unwrap();
        assert_eq!(y.shape(), &[2, 3]);
        assert_eq!(y.iter().copied().collect::<Vec<_>>(), vec![1.0, 2.0, 3.0, 11.0, 12.0, 13.0]);
        let bad = arr1(&[1.0f32, 2.0]).into_dyn();
        assert!(broadcastable("addBroadcastable", &[&b, &bad]).is_err());
    }
}
