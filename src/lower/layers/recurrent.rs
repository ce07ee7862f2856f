//! Recurrent layers over rank-5 sequences: `simpleRecurrent`, `gru`, `uniDirectionalLSTM`,
//! `biDirectionalLSTM`.
//!
//! The registry flattens their nested messages (see `rules::layers`): an `ActivationParams` is
//! the name of its `NonlinearityType` case, written as that case's empty message as
//! coremltools' builder does (Core ML fixes the recurrent activations' constants);
//! `LSTMParams` and `LSTMWeightParams` fields are top-level parameters, the bidirectional
//! layer's two weight sets prefixed `forward`/`backward`. Weight element counts are checked
//! against `inputVectorSize` (x) and `outputVectorSize` (h): input matrices `[h, x]`, recursion
//! matrices `[h, h]`, bias and peephole vectors `[h]`.

use super::{check_weight_len, LayerInput};
use crate::lower::error::LowerError;
use crate::lower::params::Params;
use crate::proto::coreml::activation_params::NonlinearityType as N;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::*;

/// The `ActivationParams` of one flattened recurrent activation name.
fn activation(name: &str) -> ActivationParams {
    let n = match name {
        "linear" => N::Linear(ActivationLinear::default()),
        "ReLU" => N::ReLu(ActivationReLu {}),
        "tanh" => N::Tanh(ActivationTanh {}),
        "scaledTanh" => N::ScaledTanh(ActivationScaledTanh::default()),
        "sigmoid" => N::Sigmoid(ActivationSigmoid {}),
        // The registry's enum admits nothing else (`rules::layers::RECURRENT_ACTIVATIONS`).
        _ => N::SigmoidHard(ActivationSigmoidHard::default()),
    };
    ActivationParams { nonlinearity_type: Some(n) }
}

/// A required list of exactly `count` activations (`[f, g]` for GRU, `[f, g, h]` for LSTM).
fn activations(p: &Params, name: &str, count: usize) -> Result<Vec<ActivationParams>, LowerError> {
    p.required(name)?;
    let names = p.choices(name)?;
    if names.len() != count {
        return Err(p.invalid(name, format!("needs {count} activations, got {}", names.len())));
    }
    Ok(names.into_iter().map(activation).collect())
}

/// `(x, h)`: `inputVectorSize` and `outputVectorSize`.
fn sizes(p: &Params) -> Result<(u64, u64), LowerError> {
    Ok((p.required_uint("inputVectorSize")?, p.required_uint("outputVectorSize")?))
}

/// A weight that must be present, with `want` elements.
fn weight(p: &Params, name: &str, want: u64, what: &str) -> Result<Option<WeightParams>, LowerError> {
    let w = p.required_weights(name)?;
    check_weight_len(p, name, want, what)?;
    Ok(Some(w))
}

/// A weight required when `needed`, else optional; `want` elements either way.
fn weight_if(p: &Params, needed: bool, name: &str, want: u64, what: &str) -> Result<Option<WeightParams>, LowerError> {
    if needed {
        return weight(p, name, want, what);
    }
    let w = p.weights(name)?;
    check_weight_len(p, name, want, what)?;
    Ok(w)
}

fn lstm_params(p: &Params) -> Result<LstmParams, LowerError> {
    Ok(LstmParams {
        sequence_output: p.bool("sequenceOutput")?,
        has_bias_vectors: p.bool("hasBiasVectors")?,
        forget_bias: p.bool("forgetBias")?,
        has_peephole_vectors: p.bool("hasPeepholeVectors")?,
        coupled_input_and_forget_gate: p.bool("coupledInputAndForgetGate")?,
        // 0 means Core ML's default (50), as the proto documents.
        cell_clip_threshold: p.float("cellClipThreshold")?,
    })
}

/// One `LSTMWeightParams`, its fields named `prefix` + field name (`forwardInputGateWeightMatrix`)
/// or, with an empty prefix, the field names themselves.
fn lstm_weights(p: &Params, prefix: &str, (x, h): (u64, u64), params: &LstmParams) -> Result<LstmWeightParams, LowerError> {
    let name = |field: &str| {
        if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}{}{}", field[..1].to_uppercase(), &field[1..])
        }
    };
    let input = |f: &str| weight(p, &name(f), h * x, "[outputVectorSize, inputVectorSize]");
    let recursion = |f: &str| weight(p, &name(f), h * h, "[outputVectorSize, outputVectorSize]");
    let bias = |f: &str| weight_if(p, params.has_bias_vectors, &name(f), h, "[outputVectorSize]");
    let peephole = |f: &str| weight_if(p, params.has_peephole_vectors, &name(f), h, "[outputVectorSize]");
    Ok(LstmWeightParams {
        input_gate_weight_matrix: input("inputGateWeightMatrix")?,
        forget_gate_weight_matrix: input("forgetGateWeightMatrix")?,
        block_input_weight_matrix: input("blockInputWeightMatrix")?,
        output_gate_weight_matrix: input("outputGateWeightMatrix")?,
        input_gate_recursion_matrix: recursion("inputGateRecursionMatrix")?,
        forget_gate_recursion_matrix: recursion("forgetGateRecursionMatrix")?,
        block_input_recursion_matrix: recursion("blockInputRecursionMatrix")?,
        output_gate_recursion_matrix: recursion("outputGateRecursionMatrix")?,
        input_gate_bias_vector: bias("inputGateBiasVector")?,
        forget_gate_bias_vector: bias("forgetGateBiasVector")?,
        block_input_bias_vector: bias("blockInputBiasVector")?,
        output_gate_bias_vector: bias("outputGateBiasVector")?,
        input_gate_peephole_vector: peephole("inputGatePeepholeVector")?,
        forget_gate_peephole_vector: peephole("forgetGatePeepholeVector")?,
        output_gate_peephole_vector: peephole("outputGatePeepholeVector")?,
    })
}

pub fn build(i: &LayerInput) -> Result<Option<Layer>, LowerError> {
    let p = i.params;
    const W: &str = "[outputVectorSize, inputVectorSize]";
    const R: &str = "[outputVectorSize, outputVectorSize]";
    const B: &str = "[outputVectorSize]";
    Ok(Some(match p.kind.name {
        "simpleRecurrent" => {
            let (x, h) = sizes(p)?;
            p.required("activation")?;
            let has_bias_vector = p.bool("hasBiasVector")?;
            Layer::SimpleRecurrent(Box::new(SimpleRecurrentLayerParams {
                input_vector_size: x,
                output_vector_size: h,
                activation: Some(activation(p.choice("activation")?)),
                sequence_output: p.bool("sequenceOutput")?,
                has_bias_vector,
                weight_matrix: weight(p, "weightMatrix", h * x, W)?,
                recursion_matrix: weight(p, "recursionMatrix", h * h, R)?,
                bias_vector: weight_if(p, has_bias_vector, "biasVector", h, B)?,
                reverse_input: p.bool("reverseInput")?,
            }))
        }
        "gru" => {
            let (x, h) = sizes(p)?;
            let has_bias_vectors = p.bool("hasBiasVectors")?;
            Layer::Gru(Box::new(GruLayerParams {
                input_vector_size: x,
                output_vector_size: h,
                activations: activations(p, "activations", 2)?,
                sequence_output: p.bool("sequenceOutput")?,
                has_bias_vectors,
                update_gate_weight_matrix: weight(p, "updateGateWeightMatrix", h * x, W)?,
                reset_gate_weight_matrix: weight(p, "resetGateWeightMatrix", h * x, W)?,
                output_gate_weight_matrix: weight(p, "outputGateWeightMatrix", h * x, W)?,
                update_gate_recursion_matrix: weight(p, "updateGateRecursionMatrix", h * h, R)?,
                reset_gate_recursion_matrix: weight(p, "resetGateRecursionMatrix", h * h, R)?,
                output_gate_recursion_matrix: weight(p, "outputGateRecursionMatrix", h * h, R)?,
                update_gate_bias_vector: weight_if(p, has_bias_vectors, "updateGateBiasVector", h, B)?,
                reset_gate_bias_vector: weight_if(p, has_bias_vectors, "resetGateBiasVector", h, B)?,
                output_gate_bias_vector: weight_if(p, has_bias_vectors, "outputGateBiasVector", h, B)?,
                reverse_input: p.bool("reverseInput")?,
            }))
        }
        "uniDirectionalLSTM" => {
            let xh = sizes(p)?;
            let params = lstm_params(p)?;
            Layer::UniDirectionalLstm(Box::new(UniDirectionalLstmLayerParams {
                input_vector_size: xh.0,
                output_vector_size: xh.1,
                activations: activations(p, "activations", 3)?,
                weight_params: Some(lstm_weights(p, "", xh, &params)?),
                params: Some(params),
                reverse_input: p.bool("reverseInput")?,
            }))
        }
        "biDirectionalLSTM" => {
            let xh = sizes(p)?;
            let params = lstm_params(p)?;
            let forward = activations(p, "activationsForwardLSTM", 3)?;
            let backward = activations(p, "activationsBackwardLSTM", 3)?;
            // The proto: "backward LSTM activations must be same as the ones for the forward LSTM".
            if forward != backward {
                return Err(p.invalid("activationsBackwardLSTM", "must equal activationsForwardLSTM (Core ML requires it)"));
            }
            Layer::BiDirectionalLstm(BiDirectionalLstmLayerParams {
                input_vector_size: xh.0,
                output_vector_size: xh.1,
                activations_forward_lstm: forward,
                activations_backward_lstm: backward,
                weight_params: vec![lstm_weights(p, "forward", xh, &params)?, lstm_weights(p, "backward", xh, &params)?],
                params: Some(params),
            })
        }
        _ => return Ok(None),
    }))
}
