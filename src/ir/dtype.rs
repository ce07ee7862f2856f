//! `DType`: the element types a tensor of the IR can have, and their mapping to and from
//! TensorFlow's `DataType` enum. It owns nothing else: conversions of tensor *content* live in
//! `tensor.rs`.

use crate::proto::tensorflow::DataType;
use std::fmt;

/// Element type of a tensor.
///
/// Only the types a frozen inference graph can carry are listed; TensorFlow's quantized, float8,
/// 4-bit and reference types are refused at import with [`crate::ir::ImportError::UnknownDType`]
/// rather than silently mapped to a neighbour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    BF16,
    F32,
    F64,
    Complex64,
    Complex128,
    String,
    Resource,
    Variant,
}

impl DType {
    /// Every variant, for tables and tests.
    pub const ALL: [DType; 18] = [
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F16,
        DType::BF16,
        DType::F32,
        DType::F64,
        DType::Complex64,
        DType::Complex128,
        DType::String,
        DType::Resource,
        DType::Variant,
    ];

    /// Maps TensorFlow's `DataType` number; `None` for a number we do not support.
    pub fn from_tf(code: i32) -> Option<DType> {
        let dt = DataType::try_from(code).ok()?;
        Some(match dt {
            DataType::DtBool => DType::Bool,
            DataType::DtInt8 => DType::I8,
            DataType::DtInt16 => DType::I16,
            DataType::DtInt32 => DType::I32,
            DataType::DtInt64 => DType::I64,
            DataType::DtUint8 => DType::U8,
            DataType::DtUint16 => DType::U16,
            DataType::DtUint32 => DType::U32,
            DataType::DtUint64 => DType::U64,
            DataType::DtHalf => DType::F16,
            DataType::DtBfloat16 => DType::BF16,
            DataType::DtFloat => DType::F32,
            DataType::DtDouble => DType::F64,
            DataType::DtComplex64 => DType::Complex64,
            DataType::DtComplex128 => DType::Complex128,
            DataType::DtString => DType::String,
            DataType::DtResource => DType::Resource,
            DataType::DtVariant => DType::Variant,
            _ => return None,
        })
    }

    /// TensorFlow's `DataType` number of this type.
    pub fn to_tf(self) -> i32 {
        let dt = match self {
            DType::Bool => DataType::DtBool,
            DType::I8 => DataType::DtInt8,
            DType::I16 => DataType::DtInt16,
            DType::I32 => DataType::DtInt32,
            DType::I64 => DataType::DtInt64,
            DType::U8 => DataType::DtUint8,
            DType::U16 => DataType::DtUint16,
            DType::U32 => DataType::DtUint32,
            DType::U64 => DataType::DtUint64,
            DType::F16 => DataType::DtHalf,
            DType::BF16 => DataType::DtBfloat16,
            DType::F32 => DataType::DtFloat,
            DType::F64 => DataType::DtDouble,
            DType::Complex64 => DataType::DtComplex64,
            DType::Complex128 => DataType::DtComplex128,
            DType::String => DataType::DtString,
            DType::Resource => DataType::DtResource,
            DType::Variant => DataType::DtVariant,
        };
        dt as i32
    }

    /// Parses TensorFlow's spelling (`DT_FLOAT`), as OpDefs and rule files write it.
    pub fn from_tf_name(name: &str) -> Option<DType> {
        DataType::from_str_name(name).and_then(|d| DType::from_tf(d as i32))
    }

    /// TensorFlow's spelling, `DT_FLOAT`.
    pub fn tf_name(self) -> &'static str {
        DataType::try_from(self.to_tf()).map(|d| d.as_str_name()).unwrap_or("DT_INVALID")
    }

    /// Bytes per element in `tensor_content`; `None` for types without a fixed-size encoding.
    pub fn size_of(self) -> Option<usize> {
        Some(match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 | DType::Complex64 => 8,
            DType::Complex128 => 16,
            DType::String | DType::Resource | DType::Variant => return None,
        })
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::BF16 | DType::F32 | DType::F64)
    }

    pub fn is_integer(self) -> bool {
        matches!(
            self,
            DType::I8 | DType::I16 | DType::I32 | DType::I64 | DType::U8 | DType::U16 | DType::U32 | DType::U64
        )
    }

    /// NumPy's name (`float32`), as the corpus metadata and `inspect` print it.
    pub fn numpy_name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::Complex64 => "complex64",
            DType::Complex128 => "complex128",
            DType::String => "string",
            DType::Resource => "resource",
            DType::Variant => "variant",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.numpy_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tf_codes_round_trip() {
        for dt in DType::ALL {
            assert_eq!(DType::from_tf(dt.to_tf()), Some(dt));
            assert_eq!(DType::from_tf_name(dt.tf_name()), Some(dt));
        }
        // DT_QINT8 (11) and DT_FLOAT_REF (101) are not supported; 12345 is no DataType.
        assert_eq!(DType::from_tf(11), None);
        assert_eq!(DType::from_tf(101), None);
        assert_eq!(DType::from_tf(12345), None);
        assert_eq!(DType::from_tf_name("DT_INT32"), Some(DType::I32));
    }
}
