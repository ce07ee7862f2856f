//! `Tensor`: a constant of the IR (a `Const` node's value, a folded shape, an attr `tensor`).
//!
//! The data is an `ndarray::ArcArray`, so cloning a tensor (into an e-node, a folded result,
//! an attribute) never copies the weights. Equality, hashing and ordering are by dtype, shape
//! and content (floats by bit pattern), which is what the e-graph needs to hash-cons constants.
//! This module owns decoding `TensorProto` (every field TensorFlow may use) and nothing about
//! graphs.

use super::dtype::DType;
use crate::proto::tensorflow::{TensorProto, TensorShapeProto};
use bytes::Bytes;
use half::{bf16, f16};
use ndarray::{ArcArray, ArrayD, IxDyn};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Element storage of a [`Tensor`], one variant per [`DType`] that can hold values.
/// Complex numbers are `[re, im]` pairs.
#[derive(Clone, Debug)]
pub enum TensorData {
    Bool(ArcArray<bool, IxDyn>),
    I8(ArcArray<i8, IxDyn>),
    I16(ArcArray<i16, IxDyn>),
    I32(ArcArray<i32, IxDyn>),
    I64(ArcArray<i64, IxDyn>),
    U8(ArcArray<u8, IxDyn>),
    U16(ArcArray<u16, IxDyn>),
    U32(ArcArray<u32, IxDyn>),
    U64(ArcArray<u64, IxDyn>),
    F16(ArcArray<f16, IxDyn>),
    BF16(ArcArray<bf16, IxDyn>),
    F32(ArcArray<f32, IxDyn>),
    F64(ArcArray<f64, IxDyn>),
    Complex64(ArcArray<[f32; 2], IxDyn>),
    Complex128(ArcArray<[f64; 2], IxDyn>),
    String(ArcArray<Bytes, IxDyn>),
}

/// Applies `$body` to the array inside any variant, bound as `$a`.
macro_rules! with_array {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            TensorData::Bool($a) => $body,
            TensorData::I8($a) => $body,
            TensorData::I16($a) => $body,
            TensorData::I32($a) => $body,
            TensorData::I64($a) => $body,
            TensorData::U8($a) => $body,
            TensorData::U16($a) => $body,
            TensorData::U32($a) => $body,
            TensorData::U64($a) => $body,
            TensorData::F16($a) => $body,
            TensorData::BF16($a) => $body,
            TensorData::F32($a) => $body,
            TensorData::F64($a) => $body,
            TensorData::Complex64($a) => $body,
            TensorData::Complex128($a) => $body,
            TensorData::String($a) => $body,
        }
    };
}
#[allow(unused_imports)]
pub(crate) use with_array;

/// A Rust type that can be the element of a [`Tensor`].
pub trait Element: Clone + Send + Sync + fmt::Debug + 'static {
    const DTYPE: DType;
    fn wrap(a: ArcArray<Self, IxDyn>) -> TensorData;
    fn unwrap(d: &TensorData) -> Option<&ArcArray<Self, IxDyn>>;
    /// Total order consistent with bit equality (floats by bit pattern).
    fn cmp_bits(&self, other: &Self) -> Ordering;
    fn hash_bits<H: Hasher>(&self, h: &mut H);
}

macro_rules! element_bits {
    ($t:ty, $v:ident, $dt:expr, |$x:ident| $bits:expr) => {
        impl Element for $t {
            const DTYPE: DType = $dt;
            fn wrap(a: ArcArray<Self, IxDyn>) -> TensorData {
                TensorData::$v(a)
            }
            fn unwrap(d: &TensorData) -> Option<&ArcArray<Self, IxDyn>> {
                match d {
                    TensorData::$v(a) => Some(a),
                    _ => None,
                }
            }
            fn cmp_bits(&self, other: &Self) -> Ordering {
                let f = |$x: &Self| $bits;
                f(self).cmp(&f(other))
            }
            fn hash_bits<H: Hasher>(&self, h: &mut H) {
                let f = |$x: &Self| $bits;
                f(self).hash(h)
            }
        }
    };
}
// Ordered types are their own key (a copy, or a clone of an Arc'd `Bytes`); floats compare and
// hash by bit pattern.
element_bits!(bool, Bool, DType::Bool, |x| *x);
element_bits!(i8, I8, DType::I8, |x| *x);
element_bits!(i16, I16, DType::I16, |x| *x);
element_bits!(i32, I32, DType::I32, |x| *x);
element_bits!(i64, I64, DType::I64, |x| *x);
element_bits!(u8, U8, DType::U8, |x| *x);
element_bits!(u16, U16, DType::U16, |x| *x);
element_bits!(u32, U32, DType::U32, |x| *x);
element_bits!(u64, U64, DType::U64, |x| *x);
element_bits!(Bytes, String, DType::String, |x| x.clone());
element_bits!(f16, F16, DType::F16, |x| x.to_bits());
element_bits!(bf16, BF16, DType::BF16, |x| x.to_bits());
element_bits!(f32, F32, DType::F32, |x| x.to_bits());
element_bits!(f64, F64, DType::F64, |x| x.to_bits());
element_bits!([f32; 2], Complex64, DType::Complex64, |x| (x[0].to_bits(), x[1].to_bits()));
element_bits!([f64; 2], Complex128, DType::Complex128, |x| (x[0].to_bits(), x[1].to_bits()));

/// Why a `TensorProto` could not become a [`Tensor`] (the caller adds the node name).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TensorError {
    #[error("unknown dtype {0} (DataType number)")]
    UnknownDType(i32),
    #[error("{0} tensors are not supported")]
    UnsupportedDType(DType),
    #[error("tensor shape {0:?} has an unknown or negative dim")]
    UnknownShape(Vec<i64>),
    #[error("tensor has no shape (unknown rank)")]
    UnknownRank,
    #[error("tensor of shape {shape:?} has too many elements")]
    TooLarge { shape: Vec<i64> },
    #[error("tensor_content holds {got} bytes, but {elements} {dtype} elements need {want}")]
    ContentSize { got: usize, want: usize, elements: usize, dtype: DType },
    #[error("{field} holds {got} values, more than the {elements} elements of the shape")]
    TooManyValues { field: &'static str, got: usize, elements: usize },
    #[error("{field} holds an odd number of floats ({got}); complex values come in pairs")]
    OddComplex { field: &'static str, got: usize },
    #[error("data of {len} elements does not fit shape {shape:?}")]
    ShapeData { shape: Vec<usize>, len: usize },
    #[error("cannot convert {from} to {to}")]
    Cast { from: DType, to: DType },
}

/// Largest element count a `TensorProto` may declare: a constant filled from a single repeated
/// value (TensorFlow's encoding of `tf.zeros`) would otherwise let a corrupt file ask for
/// terabytes.
pub const MAX_ELEMENTS: u64 = 1 << 28;

/// Largest tensor a typed value field may fill by repeating its last value (256 MiB, a
/// `tf.zeros([8192, 8192])`): the repetition amplifies a few bytes of file into memory.
pub const MAX_REPEATED_BYTES: usize = 256 << 20;

/// A constant tensor; cheap to clone.
#[derive(Clone, Debug)]
pub struct Tensor {
    data: TensorData,
}

impl Tensor {
    pub fn from_data(data: TensorData) -> Tensor {
        Tensor { data }
    }

    pub fn from_array<T: Element>(a: ArrayD<T>) -> Tensor {
        Tensor { data: T::wrap(a.into_shared()) }
    }

    /// A tensor of `shape` holding `values` in row-major order.
    pub fn from_vec<T: Element>(shape: &[usize], values: Vec<T>) -> Result<Tensor, TensorError> {
        let len = values.len();
        ArrayD::from_shape_vec(IxDyn(shape), values)
            .map(Tensor::from_array)
            .map_err(|_| TensorError::ShapeData { shape: shape.to_vec(), len })
    }

    pub fn scalar<T: Element>(v: T) -> Tensor {
        Tensor::from_array(ArrayD::from_elem(IxDyn(&[]), v))
    }

    /// A rank-1 tensor.
    pub fn vector<T: Element>(values: Vec<T>) -> Tensor {
        let n = values.len();
        Tensor::from_array(ArrayD::from_shape_vec(IxDyn(&[n]), values).expect("a vector fits its own length"))
    }

    pub fn data(&self) -> &TensorData {
        &self.data
    }

    pub fn dtype(&self) -> DType {
        match &self.data {
            TensorData::Bool(_) => DType::Bool,
            TensorData::I8(_) => DType::I8,
            TensorData::I16(_) => DType::I16,
            TensorData::I32(_) => DType::I32,
            TensorData::I64(_) => DType::I64,
            TensorData::U8(_) => DType::U8,
            TensorData::U16(_) => DType::U16,
            TensorData::U32(_) => DType::U32,
            TensorData::U64(_) => DType::U64,
            TensorData::F16(_) => DType::F16,
            TensorData::BF16(_) => DType::BF16,
            TensorData::F32(_) => DType::F32,
            TensorData::F64(_) => DType::F64,
            TensorData::Complex64(_) => DType::Complex64,
            TensorData::Complex128(_) => DType::Complex128,
            TensorData::String(_) => DType::String,
        }
    }

    pub fn shape(&self) -> &[usize] {
        with_array!(&self.data, a => a.shape())
    }

    pub fn rank(&self) -> usize {
        self.shape().len()
    }

    pub fn len(&self) -> usize {
        with_array!(&self.data, a => a.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the values occupy (strings: their lengths).
    pub fn byte_size(&self) -> usize {
        match (&self.data, self.dtype().size_of()) {
            (TensorData::String(a), _) => a.iter().map(|s| s.len()).sum(),
            (_, Some(sz)) => sz * self.len(),
            (_, None) => 0,
        }
    }

    /// The array, when the element type is `T`.
    pub fn array<T: Element>(&self) -> Option<&ArcArray<T, IxDyn>> {
        T::unwrap(&self.data)
    }

    /// Integer (or bool) values widened to `i64`, row-major; `None` for floats and strings.
    pub fn to_i64_vec(&self) -> Option<Vec<i64>> {
        Some(match &self.data {
            TensorData::Bool(a) => a.iter().map(|&v| v as i64).collect(),
            TensorData::I8(a) => a.iter().map(|&v| v as i64).collect(),
            TensorData::I16(a) => a.iter().map(|&v| v as i64).collect(),
            TensorData::I32(a) => a.iter().map(|&v| v as i64).collect(),
            TensorData::I64(a) => a.iter().copied().collect(),
            TensorData::U8(a) => a.iter().map(|&v| v as i64).collect(),
            TensorData::U16(a) => a.iter().map(|&v| v as i64).collect(),
            TensorData::U32(a) => a.iter().map(|&v| v as i64).collect(),
            TensorData::U64(a) => a.iter().map(|&v| v as i64).collect(),
            _ => return None,
        })
    }

    /// Real numeric values as `f64`, row-major; `None` for complex and strings.
    pub fn to_f64_vec(&self) -> Option<Vec<f64>> {
        Some(match &self.data {
            TensorData::F16(a) => a.iter().map(|v| v.to_f64()).collect(),
            TensorData::BF16(a) => a.iter().map(|v| v.to_f64()).collect(),
            TensorData::F32(a) => a.iter().map(|&v| v as f64).collect(),
            TensorData::F64(a) => a.iter().copied().collect(),
            TensorData::U64(a) => a.iter().map(|&v| v as f64).collect(),
            _ => self.to_i64_vec()?.into_iter().map(|v| v as f64).collect(),
        })
    }

    /// Builds a numeric tensor of `dtype` from `i64` values (wrapping like a C++ cast).
    pub fn from_i64s(dtype: DType, shape: &[usize], v: Vec<i64>) -> Result<Tensor, TensorError> {
        let cast = |to| TensorError::Cast { from: DType::I64, to };
        match dtype {
            DType::Bool => Tensor::from_vec(shape, v.into_iter().map(|x| x != 0).collect()),
            DType::I8 => Tensor::from_vec(shape, v.into_iter().map(|x| x as i8).collect()),
            DType::I16 => Tensor::from_vec(shape, v.into_iter().map(|x| x as i16).collect()),
            DType::I32 => Tensor::from_vec(shape, v.into_iter().map(|x| x as i32).collect()),
            DType::I64 => Tensor::from_vec(shape, v),
            DType::U8 => Tensor::from_vec(shape, v.into_iter().map(|x| x as u8).collect()),
            DType::U16 => Tensor::from_vec(shape, v.into_iter().map(|x| x as u16).collect()),
            DType::U32 => Tensor::from_vec(shape, v.into_iter().map(|x| x as u32).collect()),
            DType::U64 => Tensor::from_vec(shape, v.into_iter().map(|x| x as u64).collect()),
            DType::F16 | DType::BF16 | DType::F32 | DType::F64 => {
                Tensor::from_f64s(dtype, shape, v.into_iter().map(|x| x as f64).collect())
            }
            other => Err(cast(other)),
        }
    }

    /// Builds a numeric tensor of `dtype` from `f64` values (float to int truncates toward
    /// zero and saturates, as Rust's `as`; TensorFlow's `Cast` truncates too).
    pub fn from_f64s(dtype: DType, shape: &[usize], v: Vec<f64>) -> Result<Tensor, TensorError> {
        match dtype {
            DType::F16 => Tensor::from_vec(shape, v.into_iter().map(f16::from_f64).collect()),
            DType::BF16 => Tensor::from_vec(shape, v.into_iter().map(bf16::from_f64).collect()),
            DType::F32 => Tensor::from_vec(shape, v.into_iter().map(|x| x as f32).collect()),
            DType::F64 => Tensor::from_vec(shape, v),
            DType::Bool => Tensor::from_vec(shape, v.into_iter().map(|x| x != 0.0).collect()),
            DType::U64 => Tensor::from_vec(shape, v.into_iter().map(|x| x as u64).collect()),
            d if d.is_integer() => Tensor::from_i64s(d, shape, v.into_iter().map(|x| x as i64).collect()),
            other => Err(TensorError::Cast { from: DType::F64, to: other }),
        }
    }

    /// TensorFlow `Cast` between real numeric types and bool.
    pub fn cast(&self, to: DType) -> Result<Tensor, TensorError> {
        let from = self.dtype();
        if from == to {
            return Ok(self.clone());
        }
        let shape = self.shape().to_vec();
        if from.is_float() {
            let v = self.to_f64_vec().ok_or(TensorError::Cast { from, to })?;
            return Tensor::from_f64s(to, &shape, v);
        }
        if from == DType::U64 && to.is_float() {
            let v = self.to_f64_vec().ok_or(TensorError::Cast { from, to })?;
            return Tensor::from_f64s(to, &shape, v);
        }
        let v = self.to_i64_vec().ok_or(TensorError::Cast { from, to })?;
        Tensor::from_i64s(to, &shape, v)
    }

    /// The same values under another shape of equal element count (no copy when contiguous).
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor, TensorError> {
        let err = || TensorError::ShapeData { shape: shape.to_vec(), len: self.len() };
        let data = with_array!(&self.data, a => {
            let a = if a.is_standard_layout() { a.clone() } else { a.as_standard_layout().into_owned().into_shared() };
            let r = a.into_shape_with_order(IxDyn(shape)).map_err(|_| err())?;
            Element::wrap(r)
        });
        Ok(Tensor { data })
    }

    /// Decodes a `TensorProto`: `tensor_content` (little-endian), or the typed value field,
    /// where fewer values than elements means "repeat the last one" and none means zeros.
    /// Each value is copied once, from the protobuf buffer into the array.
    pub fn from_proto(p: &TensorProto) -> Result<Tensor, TensorError> {
        let dtype = DType::from_tf(p.dtype).ok_or(TensorError::UnknownDType(p.dtype))?;
        let shape = proto_shape(p.tensor_shape.as_ref())?;
        let n: usize = shape.iter().product();
        if !p.tensor_content.is_empty() {
            return decode_content(dtype, &shape, n, &p.tensor_content);
        }
        match dtype {
            DType::F32 => filled(&shape, n, "float_val", &p.float_val, |&v| v),
            DType::F64 => filled(&shape, n, "double_val", &p.double_val, |&v| v),
            DType::I32 => filled(&shape, n, "int_val", &p.int_val, |&v| v),
            DType::I16 => filled(&shape, n, "int_val", &p.int_val, |&v| v as i16),
            DType::I8 => filled(&shape, n, "int_val", &p.int_val, |&v| v as i8),
            DType::U8 => filled(&shape, n, "int_val", &p.int_val, |&v| v as u8),
            DType::U16 => filled(&shape, n, "int_val", &p.int_val, |&v| v as u16),
            DType::I64 => filled(&shape, n, "int64_val", &p.int64_val, |&v| v),
            DType::U32 => filled(&shape, n, "uint32_val", &p.uint32_val, |&v| v),
            DType::U64 => filled(&shape, n, "uint64_val", &p.uint64_val, |&v| v),
            DType::Bool => filled(&shape, n, "bool_val", &p.bool_val, |&v| v),
            DType::F16 => filled(&shape, n, "half_val", &p.half_val, |&v| f16::from_bits(v as u16)),
            DType::BF16 => filled(&shape, n, "half_val", &p.half_val, |&v| bf16::from_bits(v as u16)),
            DType::String => filled(&shape, n, "string_val", &p.string_val, |v| v.clone()),
            DType::Complex64 => {
                let pairs = complex_pairs("scomplex_val", &p.scomplex_val)?;
                filled(&shape, n, "scomplex_val", &pairs, |&v| v)
            }
            DType::Complex128 => {
                let pairs = complex_pairs("dcomplex_val", &p.dcomplex_val)?;
                filled(&shape, n, "dcomplex_val", &pairs, |&v| v)
            }
            DType::Resource | DType::Variant => Err(TensorError::UnsupportedDType(dtype)),
        }
    }

    /// Encodes as a `TensorProto` with `tensor_content` (strings use `string_val`).
    pub fn to_proto(&self) -> TensorProto {
        let mut p = TensorProto {
            dtype: self.dtype().to_tf(),
            tensor_shape: Some(super::shape::Shape::from_usize(self.shape()).to_proto()),
            ..Default::default()
        };
        let mut out: Vec<u8> = Vec::with_capacity(self.byte_size());
        match &self.data {
            TensorData::String(a) => p.string_val = a.iter().cloned().collect(),
            TensorData::Bool(a) => out.extend(a.iter().map(|&b| b as u8)),
            TensorData::I8(a) => out.extend(a.iter().map(|&b| b as u8)),
            TensorData::U8(a) => out.extend(a.iter().copied()),
            TensorData::I16(a) => a.iter().for_each(|v| out.extend(v.to_le_bytes())),
            TensorData::I32(a) => a.iter().for_each(|v| out.extend(v.to_le_bytes())),
            TensorData::I64(a) => a.iter().for_each(|v| out.extend(v.to_le_bytes())),
            TensorData::U16(a) => a.iter().for_each(|v| out.extend(v.to_le_bytes())),
            TensorData::U32(a) => a.iter().for_each(|v| out.extend(v.to_le_bytes())),
            TensorData::U64(a) => a.iter().for_each(|v| out.extend(v.to_le_bytes())),
            TensorData::F16(a) => a.iter().for_each(|v| out.extend(v.to_bits().to_le_bytes())),
            TensorData::BF16(a) => a.iter().for_each(|v| out.extend(v.to_bits().to_le_bytes())),
            TensorData::F32(a) => a.iter().for_each(|v| out.extend(v.to_le_bytes())),
            TensorData::F64(a) => a.iter().for_each(|v| out.extend(v.to_le_bytes())),
            TensorData::Complex64(a) => a.iter().for_each(|v| v.iter().for_each(|x| out.extend(x.to_le_bytes()))),
            TensorData::Complex128(a) => a.iter().for_each(|v| v.iter().for_each(|x| out.extend(x.to_le_bytes()))),
        }
        p.tensor_content = Bytes::from(out);
        p
    }
}

fn proto_shape(p: Option<&TensorShapeProto>) -> Result<Vec<usize>, TensorError> {
    let Some(p) = p else { return Ok(Vec::new()) };
    if p.unknown_rank {
        return Err(TensorError::UnknownRank);
    }
    let dims: Vec<i64> = p.dim.iter().map(|d| d.size).collect();
    if dims.iter().any(|&d| d < 0) {
        return Err(TensorError::UnknownShape(dims));
    }
    let total = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    match total {
        Some(t) if t <= MAX_ELEMENTS => Ok(dims.iter().map(|&d| d as usize).collect()),
        _ => Err(TensorError::TooLarge { shape: dims }),
    }
}

fn complex_pairs<F: Copy>(field: &'static str, v: &[F]) -> Result<Vec<[F; 2]>, TensorError> {
    if !v.len().is_multiple_of(2) {
        return Err(TensorError::OddComplex { field, got: v.len() });
    }
    Ok(v.chunks_exact(2).map(|c| [c[0], c[1]]).collect())
}

/// A typed value field: `n` values, the last repeated when fewer are given, zeros when none.
fn filled<S, T: Element + Default>(
    shape: &[usize],
    n: usize,
    field: &'static str,
    src: &[S],
    conv: impl Fn(&S) -> T,
) -> Result<Tensor, TensorError> {
    if src.len() > n {
        return Err(TensorError::TooManyValues { field, got: src.len(), elements: n });
    }
    if src.len() < n && n.saturating_mul(std::mem::size_of::<T>()) > MAX_REPEATED_BYTES {
        return Err(TensorError::TooLarge { shape: shape.iter().map(|&d| d as i64).collect() });
    }
    let mut v: Vec<T> = Vec::with_capacity(n);
    v.extend(src.iter().map(&conv));
    let last = v.last().cloned().unwrap_or_default();
    v.resize(n, last);
    Tensor::from_vec(shape, v)
}

fn decode_content(dtype: DType, shape: &[usize], n: usize, c: &[u8]) -> Result<Tensor, TensorError> {
    let size = dtype.size_of().ok_or(TensorError::UnsupportedDType(dtype))?;
    if c.len() != n * size {
        return Err(TensorError::ContentSize { got: c.len(), want: n * size, elements: n, dtype });
    }
    macro_rules! le {
        ($t:ty, $w:expr) => {
            Tensor::from_vec(shape, c.chunks_exact($w).map(|b| <$t>::from_le_bytes(b.try_into().expect("chunk of exact width"))).collect())
        };
    }
    match dtype {
        DType::Bool => Tensor::from_vec(shape, c.iter().map(|&b| b != 0).collect()),
        DType::I8 => Tensor::from_vec(shape, c.iter().map(|&b| b as i8).collect()),
        DType::U8 => Tensor::from_vec(shape, c.to_vec()),
        DType::I16 => le!(i16, 2),
        DType::U16 => le!(u16, 2),
        DType::I32 => le!(i32, 4),
        DType::U32 => le!(u32, 4),
        DType::I64 => le!(i64, 8),
        DType::U64 => le!(u64, 8),
        DType::F32 => le!(f32, 4),
        DType::F64 => le!(f64, 8),
        DType::F16 => Tensor::from_vec(shape, c.chunks_exact(2).map(|b| f16::from_bits(u16::from_le_bytes([b[0], b[1]]))).collect()),
        DType::BF16 => Tensor::from_vec(shape, c.chunks_exact(2).map(|b| bf16::from_bits(u16::from_le_bytes([b[0], b[1]]))).collect()),
        DType::Complex64 => Tensor::from_vec(
            shape,
            c.chunks_exact(8)
                .map(|b| [f32::from_le_bytes([b[0], b[1], b[2], b[3]]), f32::from_le_bytes([b[4], b[5], b[6], b[7]])])
                .collect(),
        ),
        DType::Complex128 => Tensor::from_vec(
            shape,
            c.chunks_exact(16)
                .map(|b| {
                    let re: [u8; 8] = b[..8].try_into().expect("8 bytes");
                    let im: [u8; 8] = b[8..].try_into().expect("8 bytes");
                    [f64::from_le_bytes(re), f64::from_le_bytes(im)]
                })
                .collect(),
        ),
        DType::String | DType::Resource | DType::Variant => Err(TensorError::UnsupportedDType(dtype)),
    }
}

fn cmp_arrays<T: Element>(a: &ArcArray<T, IxDyn>, b: &ArcArray<T, IxDyn>) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        match x.cmp_bits(y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

impl Ord for Tensor {
    fn cmp(&self, other: &Self) -> Ordering {
        self.dtype()
            .cmp(&other.dtype())
            .then_with(|| self.shape().cmp(other.shape()))
            .then_with(|| match (&self.data, &other.data) {
                (TensorData::Bool(a), TensorData::Bool(b)) => cmp_arrays(a, b),
                (TensorData::I8(a), TensorData::I8(b)) => cmp_arrays(a, b),
                (TensorData::I16(a), TensorData::I16(b)) => cmp_arrays(a, b),
                (TensorData::I32(a), TensorData::I32(b)) => cmp_arrays(a, b),
                (TensorData::I64(a), TensorData::I64(b)) => cmp_arrays(a, b),
                (TensorData::U8(a), TensorData::U8(b)) => cmp_arrays(a, b),
                (TensorData::U16(a), TensorData::U16(b)) => cmp_arrays(a, b),
                (TensorData::U32(a), TensorData::U32(b)) => cmp_arrays(a, b),
                (TensorData::U64(a), TensorData::U64(b)) => cmp_arrays(a, b),
                (TensorData::F16(a), TensorData::F16(b)) => cmp_arrays(a, b),
                (TensorData::BF16(a), TensorData::BF16(b)) => cmp_arrays(a, b),
                (TensorData::F32(a), TensorData::F32(b)) => cmp_arrays(a, b),
                (TensorData::F64(a), TensorData::F64(b)) => cmp_arrays(a, b),
                (TensorData::Complex64(a), TensorData::Complex64(b)) => cmp_arrays(a, b),
                (TensorData::Complex128(a), TensorData::Complex128(b)) => cmp_arrays(a, b),
                (TensorData::String(a), TensorData::String(b)) => cmp_arrays(a, b),
                // Same dtype implies same variant.
                _ => Ordering::Equal,
            })
    }
}

impl PartialOrd for Tensor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Tensor {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Tensor {}

impl Hash for Tensor {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.dtype().hash(state);
        self.shape().hash(state);
        with_array!(&self.data, a => a.iter().for_each(|x| x.hash_bits(state)));
    }
}

impl fmt::Display for Tensor {
    /// `f32[2, 3] 1, 2, 3, 4, 5, 6`, at most 8 values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:?}", self.dtype(), self.shape())?;
        let shown = 8;
        with_array!(&self.data, a => {
            for (i, v) in a.iter().take(shown).enumerate() {
                write!(f, "{}{:?}", if i == 0 { " " } else { ", " }, v)?;
            }
        });
        if self.len() > shown {
            write!(f, ", …")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::tensor_shape_proto::Dim as PDim;

    fn shape(d: &[i64]) -> Option<TensorShapeProto> {
        Some(TensorShapeProto { dim: d.iter().map(|&size| PDim { size, name: String::new() }).collect(), unknown_rank: false })
    }

    #[test]
    fn typed_field_repeats_last_value() {
        let p = TensorProto { dtype: DType::F32.to_tf(), tensor_shape: shape(&[2, 2]), float_val: vec![1.0, 2.5], ..Default::default() };
        let t = Tensor::from_proto(&p).unwrap();
        assert_eq!(t.to_f64_vec().unwrap(), vec![1.0, 2.5, 2.5, 2.5]);
        let empty = TensorProto { dtype: DType::I32.to_tf(), tensor_shape: shape(&[3]), ..Default::default() };
        assert_eq!(Tensor::from_proto(&empty).unwrap().to_i64_vec().unwrap(), vec![0, 0, 0]);
    }

    #[test]
    fn every_typed_field_decodes() {
        let base = |dtype: DType, dims: &[i64]| TensorProto { dtype: dtype.to_tf(), tensor_shape: shape(dims), ..Default::default() };
        let t = Tensor::from_proto(&TensorProto { int64_val: vec![-5, 7], ..base(DType::I64, &[2]) }).unwrap();
        assert_eq!(t, Tensor::vector(vec![-5i64, 7]));
        let t = Tensor::from_proto(&TensorProto { bool_val: vec![true], ..base(DType::Bool, &[3]) }).unwrap();
        assert_eq!(t, Tensor::vector(vec![true, true, true]));
        let t = Tensor::from_proto(&TensorProto { int_val: vec![200, 3], ..base(DType::U8, &[2]) }).unwrap();
        assert_eq!(t, Tensor::vector(vec![200u8, 3]));
        let t = Tensor::from_proto(&TensorProto { uint32_val: vec![4_000_000_000], ..base(DType::U32, &[]) }).unwrap();
        assert_eq!(t, Tensor::scalar(4_000_000_000u32));
        let t = Tensor::from_proto(&TensorProto { uint64_val: vec![1, 2], ..base(DType::U64, &[2]) }).unwrap();
        assert_eq!(t, Tensor::vector(vec![1u64, 2]));
        let t = Tensor::from_proto(&TensorProto { double_val: vec![0.25], ..base(DType::F64, &[2]) }).unwrap();
        assert_eq!(t, Tensor::vector(vec![0.25f64, 0.25]));
        let t = Tensor::from_proto(&TensorProto { string_val: vec![Bytes::from_static(b"ab")], ..base(DType::String, &[1]) }).unwrap();
        assert_eq!(t, Tensor::vector(vec![Bytes::from_static(b"ab")]));
        // complex64: (re, im) pairs; one pair repeated.
        let t = Tensor::from_proto(&TensorProto { scomplex_val: vec![1.0, -1.0], ..base(DType::Complex64, &[2]) }).unwrap();
        assert_eq!(t, Tensor::vector(vec![[1.0f32, -1.0], [1.0, -1.0]]));
        let odd = TensorProto { scomplex_val: vec![1.0], ..base(DType::Complex64, &[1]) };
        assert!(matches!(Tensor::from_proto(&odd), Err(TensorError::OddComplex { .. })));
        let many = TensorProto { float_val: vec![1.0, 2.0, 3.0], ..base(DType::F32, &[2]) };
        assert!(matches!(Tensor::from_proto(&many), Err(TensorError::TooManyValues { got: 3, elements: 2, .. })));
        // bfloat16 in half_val: 0x3F80 is 1.0 (the top half of f32 1.0, 0x3F800000).
        let t = Tensor::from_proto(&TensorProto { half_val: vec![0x3F80], ..base(DType::BF16, &[1]) }).unwrap();
        assert_eq!(t.to_f64_vec().unwrap(), vec![1.0]);
        // A repeated fill beyond MAX_REPEATED_BYTES is refused; tensor_content of any size is not amplified.
        let huge = TensorProto { float_val: vec![0.0], ..base(DType::F32, &[1 << 14, 1 << 14, 2]) };
        assert!(matches!(Tensor::from_proto(&huge), Err(TensorError::TooLarge { .. })));
    }

    #[test]
    fn tensor_content_is_little_endian_for_every_width() {
        let cases: Vec<Tensor> = vec![
            Tensor::vector(vec![true, false]),
            Tensor::vector(vec![-1i8, 2]),
            Tensor::vector(vec![-300i16, 2]),
            Tensor::vector(vec![70000u32]),
            Tensor::vector(vec![i64::MIN, 3]),
            Tensor::vector(vec![f16::from_f32(0.5), f16::from_f32(-2.0)]),
            Tensor::vector(vec![1.0e300f64]),
            Tensor::vector(vec![[1.5f64, -2.5]]),
        ];
        for t in cases {
            let p = t.to_proto();
            assert_eq!(Tensor::from_proto(&p).unwrap(), t, "{t}");
        }
        // 0x01020304 little-endian, by hand.
        let p = TensorProto { dtype: DType::I32.to_tf(), tensor_shape: shape(&[1]), tensor_content: Bytes::from_static(&[4, 3, 2, 1]), ..Default::default() };
        assert_eq!(Tensor::from_proto(&p).unwrap(), Tensor::vector(vec![0x01020304i32]));
    }

    #[test]
    fn half_val_holds_bit_patterns() {
        // 0x3C00 is 1.0 in IEEE half, 0x4000 is 2.0 (by hand from the half-precision layout).
        let p = TensorProto { dtype: DType::F16.to_tf(), tensor_shape: shape(&[3]), half_val: vec![0x3C00, 0x4000], ..Default::default() };
        assert_eq!(Tensor::from_proto(&p).unwrap().to_f64_vec().unwrap(), vec![1.0, 2.0, 2.0]);
    }

    #[test]
    fn content_round_trips_and_is_checked() {
        let t = Tensor::from_vec(&[2, 3], vec![1.5f32, -2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let p = t.to_proto();
        assert_eq!(Tensor::from_proto(&p).unwrap(), t);
        let mut bad = p.clone();
        bad.tensor_content = bad.tensor_content.slice(..7);
        assert!(matches!(Tensor::from_proto(&bad), Err(TensorError::ContentSize { got: 7, want: 24, .. })));
        let big = TensorProto { dtype: DType::F32.to_tf(), tensor_shape: shape(&[1 << 20, 1 << 20]), ..Default::default() };
        assert!(matches!(Tensor::from_proto(&big), Err(TensorError::TooLarge { .. })));
        let unknown = TensorProto { dtype: 11, ..Default::default() };
        assert_eq!(Tensor::from_proto(&unknown), Err(TensorError::UnknownDType(11)));
    }

    #[test]
    fn equality_and_hash_are_by_content() {
        use std::collections::hash_map::DefaultHasher;
        let h = |t: &Tensor| {
            let mut s = DefaultHasher::new();
            t.hash(&mut s);
            s.finish()
        };
        let a = Tensor::vector(vec![1i32, 2, 3]);
        let b = Tensor::vector(vec![1i32, 2, 3]);
        let c = Tensor::from_vec(&[3, 1], vec![1i32, 2, 3]).unwrap();
        assert_eq!(a, b);
        assert_eq!(h(&a), h(&b));
        assert_ne!(a, c);
        assert_ne!(a, Tensor::vector(vec![1i64, 2, 3]));
        assert_eq!(Tensor::scalar(f32::NAN), Tensor::scalar(f32::NAN));
        assert_ne!(Tensor::scalar(0.0f32), Tensor::scalar(-0.0f32));
        assert!(Tensor::vector(vec![1i32, 2]) < Tensor::vector(vec![1i32, 3]));
    }

    #[test]
    fn cast_truncates_toward_zero() {
        let t = Tensor::vector(vec![1.7f32, -1.7, 3.0]);
        assert_eq!(t.cast(DType::I32).unwrap(), Tensor::vector(vec![1i32, -1, 3]));
        assert_eq!(Tensor::vector(vec![2i32]).cast(DType::F32).unwrap(), Tensor::vector(vec![2.0f32]));
    }
}
