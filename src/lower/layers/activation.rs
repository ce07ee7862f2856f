//! Activations: the `activation*` kinds (one per `ActivationParams.NonlinearityType` case),
//! `clampedReLU`, `gelu`, `softmax`, `softmaxND`.

use super::LayerInput;
use crate::lower::error::LowerError;
use crate::proto::coreml::activation_params::NonlinearityType as N;
use crate::proto::coreml::gelu_layer_params::GeluMode;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::*;

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    let p = i.params;
    let act = |n: N| Ok(Some(Layer::Activation(Box::new(ActivationParams { nonlinearity_type: Some(n) }))));
    match p.kind.name {
        "activationLinear" => act(N::Linear(ActivationLinear { alpha: p.float("alpha")?, beta: p.float("beta")? })),
        "activationReLU" => act(N::ReLu(ActivationReLu {})),
        "activationLeakyReLU" => act(N::LeakyReLu(ActivationLeakyReLu { alpha: p.float("alpha")? })),
        "activationThresholdedReLU" => act(N::ThresholdedReLu(ActivationThresholdedReLu { alpha: p.float("alpha")? })),
        "activationPReLU" => act(N::PReLu(ActivationPReLu { alpha: Some(p.required_weights("alpha")?) })),
        "activationTanh" => act(N::Tanh(ActivationTanh {})),
        "activationScaledTanh" => act(N::ScaledTanh(ActivationScaledTanh { alpha: p.float("alpha")?, beta: p.float("beta")? })),
        "activationSigmoid" => act(N::Sigmoid(ActivationSigmoid {})),
        "activationSigmoidHard" => act(N::SigmoidHard(ActivationSigmoidHard { alpha: p.float("alpha")?, beta: p.float("beta")? })),
        "activationELU" => act(N::Elu(ActivationElu { alpha: p.float("alpha")? })),
        "activationSoftsign" => act(N::Softsign(ActivationSoftsign {})),
        "activationSoftplus" => act(N::Softplus(ActivationSoftplus {})),
        "activationParametricSoftplus" => act(N::ParametricSoftplus(ActivationParametricSoftplus {
            alpha: Some(p.required_weights("alpha")?),
            beta: Some(p.required_weights("beta")?),
        })),
        "clampedReLU" => Ok(Some(Layer::ClampedReLu(ClampedReLuLayerParams { alpha: p.float("alpha")?, beta: p.float("beta")? }))),
        "gelu" => Ok(Some(Layer::Gelu(GeluLayerParams { mode: p.proto_enum("mode", GeluMode::from_str_name)? }))),
        "softmax" => Ok(Some(Layer::Softmax(SoftmaxLayerParams {}))),
        "softmaxND" => Ok(Some(Layer::SoftmaxNd(SoftmaxNdLayerParams { axis: p.int("axis")? }))),
        _ => Ok(None),
    }
}
