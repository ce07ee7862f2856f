//! TensorFlow semantics of ops on constant [`Tensor`]s.
//!
//! One public entry point, [`eval_op`]: the op name, its attrs and its input values give its
//! output values, or `Ok(None)` when the op is not one this evaluator knows (not foldable).
//! Shape inference uses it for partial constant evaluation (shape arithmetic: Shape →
//! StridedSlice → Pack → Reshape); the e-graph's constant folding reuses it unchanged. It owns
//! no graph: it sees values only. Families: `array.rs` (moves elements), `math.rs` (computes).

mod array;
mod math;
pub mod strided_slice;

use super::attr::{AttrError, Attrs};
use super::dtype::DType;
use super::tensor::{Tensor, TensorError};

/// Why an op could not be evaluated on the given values (the caller adds the node name).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("{op}: {cause}")]
    Attr { op: String, cause: AttrError },
    #[error("{op}: expects {expected} inputs, got {got}")]
    Arity { op: String, expected: String, got: usize },
    #[error("{op}: {msg}")]
    Invalid { op: String, msg: String },
    #[error("{op}: {cause}")]
    Tensor { op: String, cause: TensorError },
}

/// Evaluates `op` on constant inputs with TensorFlow's semantics.
///
/// `Ok(None)`: the op is unknown to the evaluator (or has a dtype it does not compute on, such
/// as strings for arithmetic); `Err`: the values are invalid for the op (out-of-range index,
/// incompatible shapes...), which in a graph means the graph itself is invalid.
pub fn eval_op(op: &str, attrs: &Attrs, inputs: &[Tensor]) -> Result<Option<Vec<Tensor>>, EvalError> {
    let cx = Cx { op, attrs, inputs };
    if let Some(r) = array::eval(&cx)? {
        return Ok(Some(r));
    }
    math::eval(&cx)
}

/// Whether [`eval_op`] knows `op` (it may still decline some dtypes).
pub fn is_foldable(op: &str) -> bool {
    array::OPS.contains(&op) || math::OPS.contains(&op)
}

/// Evaluation context: what every family needs, with error helpers.
pub(crate) struct Cx<'a> {
    pub op: &'a str,
    pub attrs: &'a Attrs,
    pub inputs: &'a [Tensor],
}

impl Cx<'_> {
    fn invalid(&self, msg: impl Into<String>) -> EvalError {
        EvalError::Invalid { op: self.op.into(), msg: msg.into() }
    }

    fn attr<T>(&self, r: Result<T, AttrError>) -> Result<T, EvalError> {
        r.map_err(|cause| EvalError::Attr { op: self.op.into(), cause })
    }

    fn tensor<T>(&self, r: Result<T, TensorError>) -> Result<T, EvalError> {
        r.map_err(|cause| EvalError::Tensor { op: self.op.into(), cause })
    }

    fn arity(&self, n: usize) -> Result<(), EvalError> {
        if self.inputs.len() == n {
            Ok(())
        } else {
            Err(EvalError::Arity { op: self.op.into(), expected: n.to_string(), got: self.inputs.len() })
        }
    }

    fn at_least(&self, n: usize) -> Result<(), EvalError> {
        if self.inputs.len() >= n {
            Ok(())
        } else {
            Err(EvalError::Arity { op: self.op.into(), expected: format!("at least {n}"), got: self.inputs.len() })
        }
    }

    /// Integer values of input `i`.
    fn ints(&self, i: usize) -> Result<Vec<i64>, EvalError> {
        let t = &self.inputs[i];
        t.to_i64_vec().ok_or_else(|| self.invalid(format!("input {i} must be an integer tensor, found {}", t.dtype())))
    }

    /// Input `i` as one integer (a scalar or a one-element tensor).
    fn int_scalar(&self, i: usize) -> Result<i64, EvalError> {
        match self.ints(i)?.as_slice() {
            [v] => Ok(*v),
            v => Err(self.invalid(format!("input {i} must hold one value, found {}", v.len()))),
        }
    }

    /// Integer values as non-negative sizes.
    fn sizes(&self, i: usize) -> Result<Vec<usize>, EvalError> {
        self.ints(i)?
            .into_iter()
            .map(|v| usize::try_from(v).map_err(|_| self.invalid(format!("input {i} holds negative size {v}"))))
            .collect()
    }

    fn out_type(&self, attr: &str, default: DType) -> Result<DType, EvalError> {
        Ok(self.attr(self.attrs.opt_type(attr))?.unwrap_or(default))
    }
}

/// Runs `$body` with `$T` bound to the Rust element type of `$dtype`; dtypes without values
/// (resource, variant) make the enclosing function return `Ok(None)`.
macro_rules! with_type {
    ($dtype:expr, $T:ident => $body:expr) => {{
        use $crate::ir::dtype::DType as D;
        match $dtype {
            D::Bool => { type $T = bool; $body }
            D::I8 => { type $T = i8; $body }
            D::I16 => { type $T = i16; $body }
            D::I32 => { type $T = i32; $body }
            D::I64 => { type $T = i64; $body }
            D::U8 => { type $T = u8; $body }
            D::U16 => { type $T = u16; $body }
            D::U32 => { type $T = u32; $body }
            D::U64 => { type $T = u64; $body }
            D::F16 => { type $T = half::f16; $body }
            D::BF16 => { type $T = half::bf16; $body }
            D::F32 => { type $T = f32; $body }
            D::F64 => { type $T = f64; $body }
            D::Complex64 => { type $T = [f32; 2]; $body }
            D::Complex128 => { type $T = [f64; 2]; $body }
            D::String => { type $T = bytes::Bytes; $body }
            D::Resource | D::Variant => return Ok(None),
        }
    }};
}
pub(crate) use with_type;

#[cfg(test)]
mod tests;
