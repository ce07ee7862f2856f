//! Decoding `WeightParams` into floats. Owns the rules of which storage field is used; says
//! "not supported" for quantized weights rather than guessing at their meaning.

use super::float::Float;
use super::KernelError;
use crate::proto::coreml::WeightParams;

/// Values of a `WeightParams`, in row-major order, converted to `T`.
///
/// Exactly one storage is read: `floatValue`, else `float16Value` (little-endian IEEE half),
/// else `rawValue` read as little-endian f32 when it is not quantized. `what` names the
/// parameter in errors ("weights", "bias", ...).
pub fn decode<T: Float>(w: Option<&WeightParams>, what: &str) -> Result<Vec<T>, KernelError> {
    let Some(w) = w else {
        return Err(KernelError(format!("{what} is missing")));
    };
    if w.quantization.is_some() || !w.int8_raw_value.is_empty() {
        return Err(KernelError(format!(
            "{what}: quantized weights are not supported (dequantize the model first)"
        )));
    }
    if !w.float_value.is_empty() {
        return Ok(w.float_value.iter().map(|&v| T::from_f32(v)).collect());
    }
    if !w.float16_value.is_empty() {
        let b = &w.float16_value;
        if b.len() % 2 != 0 {
            return Err(KernelError(format!("{what}: float16Value has an odd byte count {}", b.len())));
        }
        return Ok(b
            .chunks_exact(2)
            .map(|c| T::from_f32(half::f16::from_le_bytes([c[0], c[1]]).to_f32()))
            .collect());
    }
    if !w.raw_value.is_empty() {
        let b = &w.raw_value;
        if b.len() % 4 != 0 {
            return Err(KernelError(format!(
                "{what}: rawValue of {} bytes is neither float32 data nor described by quantization \
                 parameters (quantized weights are not supported)",
                b.len()
            )));
        }
        return Ok(b
            .chunks_exact(4)
            .map(|c| T::from_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect());
    }
    Ok(Vec::new())
}

/// Like [`decode`], but checks the number of values.
pub fn decode_len<T: Float>(w: Option<&WeightParams>, what: &str, len: usize) -> Result<Vec<T>, KernelError> {
    let v = decode(w, what)?;
    if v.len() != len {
        return Err(KernelError(format!("{what} has {} values, expected {len}", v.len())));
    }
    Ok(v)
}

/// A per-channel parameter of length C or 1 (PReLU alpha, parametric softplus), expanded to C.
pub fn decode_per_channel<T: Float>(w: Option<&WeightParams>, what: &str, c: usize) -> Result<Vec<T>, KernelError> {
    let v = decode(w, what)?;
    match v.len() {
        1 => Ok(vec![v[0]; c]),
        n if n == c => Ok(v),
        n => Err(KernelError(format!("{what} has {n} values, expected 1 or {c} (channels)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::QuantizationParams;

    #[test]
    fn float16_bytes_are_little_endian_halves() {
        // 0x3C00 = 1.0, 0xC000 = -2.0, 0x3800 = 0.5 (IEEE 754 binary16 encodings).
        let w = WeightParams { float16_value: vec![0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38].into(), ..Default::default() };
        assert_eq!(decode::<f32>(Some(&w), "w").unwrap(), vec![1.0, -2.0, 0.5]);
    }

    #[test]
    fn raw_value_is_f32_and_quantized_is_refused() {
        let mut raw = Vec::new();
        for v in [1.5f32, -3.0] {
            raw.extend_from_slice(&v.to_le_bytes());
        }
        let w = WeightParams { raw_value: raw.into(), ..Default::default() };
        assert_eq!(decode::<f64>(Some(&w), "w").unwrap(), vec![1.5, -3.0]);
        let q = WeightParams {
            raw_value: vec![1, 2, 3].into(),
            quantization: Some(QuantizationParams { number_of_bits: 8, ..Default::default() }),
            ..Default::default()
        };
        let err = decode::<f32>(Some(&q), "weights").unwrap_err();
        assert!(err.0.contains("quantized weights are not supported"), "{}", err.0);
    }
}
