//! Elementwise functions of one input: `ActivationParams` (every nonlinearity), GELU, the
//! legacy unary function layer, clip, clamped ReLU and the ND math layers (erf, trig, rounding).

use super::arity;
use crate::kbail;
use crate::proto::coreml::{
    activation_params::NonlinearityType as N, gelu_layer_params::GeluMode,
    unary_function_layer_params::Operation, ActivationParams, ClampedReLuLayerParams, ClipLayerParams,
    GeluLayerParams, UnaryFunctionLayerParams,
};
use crate::run::float::Float;
use crate::run::util::axis;
use crate::run::weights::decode_per_channel;
use crate::run::KernelError;
use ndarray::{ArrayD, Axis};

/// A scalar nonlinearity (every kind except the per-channel PReLU and parametric softplus),
/// also used by the recurrent layers.
pub fn scalar_fn<T: Float>(p: &ActivationParams) -> Result<Box<dyn Fn(T) -> T + Send + Sync>, KernelError> {
    let z = T::zero();
    let one = T::one();
    Ok(match &p.nonlinearity_type {
        Some(N::Linear(a)) => {
            let (al, be) = (T::from_f32(a.alpha), T::from_f32(a.beta));
            Box::new(move |x| al * x + be)
        }
        Some(N::ReLu(_)) => Box::new(move |x: T| if x > z || x.is_nan() { x } else { z }),
        Some(N::LeakyReLu(a)) => {
            let al = T::from_f32(a.alpha);
            Box::new(move |x| if x >= z { x } else { al * x })
        }
        // Proto: f(x) = x if x >= alpha, else 0.
        Some(N::ThresholdedReLu(a)) => {
            let al = T::from_f32(a.alpha);
            Box::new(move |x| if x >= al { x } else { z })
        }
        Some(N::Tanh(_)) => Box::new(|x: T| x.tanh()),
        Some(N::ScaledTanh(a)) => {
            let (al, be) = (T::from_f32(a.alpha), T::from_f32(a.beta));
            Box::new(move |x: T| al * (be * x).tanh())
        }
        Some(N::Sigmoid(_)) => Box::new(move |x: T| sigmoid(x)),
        Some(N::SigmoidHard(a)) => {
            let (al, be) = (T::from_f32(a.alpha), T::from_f32(a.beta));
            Box::new(move |x: T| (al * x + be).max_nan(z).min_nan(one))
        }
        Some(N::Elu(a)) => {
            let al = T::from_f32(a.alpha);
            Box::new(move |x: T| if x >= z { x } else { al * (x.exp() - one) })
        }
        Some(N::Softsign(_)) => Box::new(move |x: T| x / (one + x.abs())),
        Some(N::Softplus(_)) => Box::new(move |x: T| softplus(x)),
        Some(N::PReLu(_)) | Some(N::ParametricSoftplus(_)) => {
            kbail!("PReLU and parametricSoftplus have per-channel parameters and no scalar form")
        }
        None => kbail!("activation has no nonlinearity type set"),
    })
}

/// 1/(1+e^-x), written to avoid overflow of e^-x for very negative x.
pub fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// log(1+e^x) without overflow: max(x,0) + log(1+e^-|x|).
fn softplus<T: Float>(x: T) -> T {
    x.max_nan(T::zero()) + (T::one() + (-x.abs()).exp()).ln()
}

pub fn activation<T: Float>(p: &ActivationParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let x = ins[0];
    match &p.nonlinearity_type {
        Some(N::PReLu(a)) => {
            let c_axis = channel_axis(x)?;
            let alpha = decode_per_channel::<T>(a.alpha.as_ref(), "PReLU alpha", x.shape()[c_axis])?;
            let mut y = x.to_owned();
            for (c, mut lane) in y.axis_iter_mut(Axis(c_axis)).enumerate() {
                let al = alpha[c];
                lane.mapv_inplace(|v| if v >= T::zero() { v } else { al * v });
            }
            Ok(y)
        }
        Some(N::ParametricSoftplus(a)) => {
            let c_axis = channel_axis(x)?;
            let c = x.shape()[c_axis];
            let alpha = decode_per_channel::<T>(a.alpha.as_ref(), "parametricSoftplus alpha", c)?;
            let beta = decode_per_channel::<T>(a.beta.as_ref(), "parametricSoftplus beta", c)?;
            let mut y = x.to_owned();
            for (c, mut lane) in y.axis_iter_mut(Axis(c_axis)).enumerate() {
                let (al, be) = (alpha[c], beta[c]);
                lane.mapv_inplace(|v| al * softplus(be * v));
            }
            Ok(y)
        }
        _ => {
            let f = scalar_fn::<T>(p)?;
            Ok(x.mapv(f))
        }
    }
}

/// Axis -3 ("C"): PReLU and parametric softplus demand rank >= 3.
fn channel_axis<T>(x: &ArrayD<T>) -> Result<usize, KernelError> {
    if x.ndim() < 3 {
        kbail!("input must have rank >= 3 (channel axis -3), got shape {:?}", x.shape());
    }
    axis(-3, x.ndim())
}

pub fn gelu<T: Float>(p: &GeluLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let half = T::from_f64(0.5);
    let one = T::one();
    Ok(match GeluMode::try_from(p.mode) {
        Ok(GeluMode::Exact) => {
            let r2 = T::from_f64(std::f64::consts::SQRT_2);
            ins[0].mapv(|x| half * x * (one + (x / r2).erf()))
        }
        Ok(GeluMode::TanhApproximation) => {
            let k = T::from_f64((2.0 / std::f64::consts::PI).sqrt());
            let c = T::from_f64(0.044715);
            ins[0].mapv(|x| half * x * (one + (k * (x + c * x * x * x)).tanh()))
        }
        Ok(GeluMode::SigmoidApproximation) => {
            let k = T::from_f64(1.702);
            ins[0].mapv(|x| x * sigmoid(k * x))
        }
        Err(_) => kbail!("unknown GELU mode {}", p.mode),
    })
}

pub fn unary<T: Float>(p: &UnaryFunctionLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    // Proto defaults: scale 1 when unset or 0, epsilon 1e-6 when unset or 0.
    let scale = T::from_f32(if p.scale == 0.0 { 1.0 } else { p.scale });
    let shift = T::from_f32(p.shift);
    let eps = T::from_f32(if p.epsilon == 0.0 { 1e-6 } else { p.epsilon });
    let alpha = T::from_f32(p.alpha);
    let one = T::one();
    let f: Box<dyn Fn(T) -> T> = match Operation::try_from(p.r#type) {
        Ok(Operation::Sqrt) => Box::new(|x: T| x.sqrt()),
        Ok(Operation::Rsqrt) => Box::new(move |x: T| one / (x + eps).sqrt()),
        Ok(Operation::Inverse) => Box::new(move |x: T| one / (x + eps)),
        Ok(Operation::Power) => Box::new(move |x: T| x.powf(alpha)),
        Ok(Operation::Exp) => Box::new(|x: T| x.exp()),
        Ok(Operation::Log) => Box::new(|x: T| x.ln()),
        Ok(Operation::Abs) => Box::new(|x: T| x.abs()),
        Ok(Operation::Threshold) => Box::new(move |x: T| x.max_nan(alpha)),
        Err(_) => kbail!("unknown unary operation {}", p.r#type),
    };
    Ok(ins[0].mapv(|x| f(scale * x + shift)))
}

pub fn clip<T: Float>(p: &ClipLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let (lo, hi) = (T::from_f32(p.min_val), T::from_f32(p.max_val));
    Ok(ins[0].mapv(|x| x.max_nan(lo).min_nan(hi)))
}

pub fn clamped_relu<T: Float>(p: &ClampedReLuLayerParams, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let (al, be) = (T::from_f32(p.alpha), T::from_f32(p.beta));
    Ok(ins[0].mapv(|x| if x >= T::zero() { x.min_nan(be) } else { (al * x).min_nan(be) }))
}

/// The ND elementwise math layers, by their proto field name.
pub fn math<T: Float>(kind: &str, ins: &[&ArrayD<T>]) -> Result<ArrayD<T>, KernelError> {
    arity(ins, 1, 1)?;
    let f: fn(T) -> T = match kind {
        "erf" => T::erf,
        "ceil" => T::ceil,
        "floor" => T::floor,
        "round" => T::round_even,
        "sign" => T::signum0,
        "exp2" => T::exp2,
        "sin" => T::sin,
        "cos" => T::cos,
        "tan" => T::tan,
        "asin" => T::asin,
        "acos" => T::acos,
        "atan" => T::atan,
        "sinh" => T::sinh,
        "cosh" => T::cosh,
        "tanh" => T::tanh,
        "asinh" => T::asinh,
        "acosh" => T::acosh,
        "atanh" => T::atanh,
        other => kbail!("{other} is not an elementwise math layer"),
    };
    Ok(ins[0].mapv(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::{ActivationLeakyReLu, ActivationPReLu, WeightParams};
    use ndarray::{arr1, ArrayD, IxDyn};

    #[test]
    fn leaky_relu_and_prelu_by_hand() {
        // leakyReLU(alpha=0.1): [-2, 3] -> [-0.2, 3] (by hand).
        let p = ActivationParams { nonlinearity_type: Some(N::LeakyReLu(ActivationLeakyReLu { alpha: 0.1 })) };
        let x = arr1(&[-2.0f64, 3.0]).into_dyn();
        let y = activation(&p, &[&x]).unwrap();
        // alpha is stored as f32, so compare with the f32 value of 0.1.
        assert_eq!(y.as_slice().unwrap(), &[-2.0 * (0.1f32 as f64), 3.0]);
        // PReLU per channel on shape [2,1,1]: alphas [0.5, 2]; x = [-1, -1] -> [-0.5, -2].
        let p = ActivationParams {
            nonlinearity_type: Some(N::PReLu(ActivationPReLu {
                alpha: Some(WeightParams { float_value: vec![0.5, 2.0], ..Default::default() }),
            })),
        };
        let x = ArrayD::from_shape_vec(IxDyn(&[2, 1, 1]), vec![-1.0f32, -1.0]).unwrap();
        let y = activation(&p, &[&x]).unwrap();
        assert_eq!(y.as_slice().unwrap(), &[-0.5, -2.0]);
    }

    #[test]
    fn unary_threshold_and_rsqrt_defaults() {
        // THRESHOLD alpha=-6: max(-6, x); scale 0 means 1.
        let p = UnaryFunctionLayerParams { r#type: Operation::Threshold as i32, alpha: -6.0, ..Default::default() };
        let x = arr1(&[-7.0f32, 2.0]).into_dyn();
        assert_eq!(unary(&p, &[&x]).unwrap().as_slice().unwrap(), &[-6.0, 2.0]);
        // RSQRT with epsilon unset (1e-6): 1/sqrt(4 + 1e-6) = 0.49999993750001... (by hand).
        let p = UnaryFunctionLayerParams { r#type: Operation::Rsqrt as i32, ..Default::default() };
        let x = arr1(&[4.0f64]).into_dyn();
        let y = unary(&p, &[&x]).unwrap()[0];
        assert!((y - 1.0 / (4.000001f64).sqrt()).abs() < 1e-15);
    }
}
