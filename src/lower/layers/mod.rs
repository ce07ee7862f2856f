//! One builder per NN layer kind of `rules::layers`, grouped by family: each family's `build`
//! turns a kind's parameters into the `neural_network_layer::Layer` oneof case, or returns
//! `Ok(None)` for a kind it does not own. [`build`] asks each family in turn.

mod activation;
mod control;
mod conv;
mod elementwise;
mod normalize;
mod pool;
mod random;
mod recurrent;
mod reduce;
mod shape;

use super::error::LowerError;
use super::params::Params;
use crate::proto::coreml::border_amounts::EdgeSizes;
use crate::proto::coreml::neural_network_layer::Layer;
use crate::proto::coreml::BorderAmounts;

/// What a family builder sees: the parameters and how many inputs the layer has (some layers
/// take weights either as a parameter or as a second input).
pub struct LayerInput<'a, 'p> {
    pub params: &'a Params<'p>,
    pub n_inputs: usize,
}

type Family = fn(&LayerInput) -> Result<Option<Layer>, LowerError>;

const FAMILIES: [Family; 10] = [
    conv::build,
    pool::build,
    activation::build,
    elementwise::build,
    reduce::build,
    shape::build,
    normalize::build,
    random::build,
    recurrent::build,
    control::build,
];

/// Builds the layer oneof for `input.params.kind`.
pub fn build(input: &LayerInput) -> Result<Layer, LowerError> {
    for family in FAMILIES {
        if let Some(layer) = family(input)? {
            return Ok(layer);
        }
    }
    let p = input.params;
    Err(LowerError::UnknownLayerKind { layer: p.layer.into(), kind: p.kind.name.into(), hint: " (in rules::layers but without a lowering builder)".into() })
}

/// `[top, bottom, left, right]` (the registry's flattened `paddingAmounts`) as `BorderAmounts`:
/// one start/end pair per spatial axis.
pub(crate) fn border_amounts(p: &Params, name: &str) -> Result<Option<BorderAmounts>, LowerError> {
    let v = p.uints(name)?;
    if v.is_empty() {
        return Ok(None);
    }
    if v.len() % 2 != 0 {
        return Err(p.invalid(name, format!("needs start/end pairs, got {} values", v.len())));
    }
    let border_amounts = v.chunks(2).map(|c| EdgeSizes { start_edge_size: c[0], end_edge_size: c[1] }).collect();
    Ok(Some(BorderAmounts { border_amounts }))
}

/// The six `customPadding*` fields of the 3-D layers (front, back, top, bottom, left, right),
/// each >= 0. Core ML rejects them unless `paddingType` is `"CUSTOM"`, so a rule that sets one
/// with another padding type is an error here rather than an invalid model.
pub(crate) fn custom_padding_3d(p: &Params) -> Result<[i32; 6], LowerError> {
    const NAMES: [&str; 6] = ["customPaddingFront", "customPaddingBack", "customPaddingTop", "customPaddingBottom", "customPaddingLeft", "customPaddingRight"];
    let custom = p.choice("paddingType")? == "CUSTOM";
    let mut out = [0; 6];
    for (o, name) in out.iter_mut().zip(NAMES) {
        *o = p.int32(name, 0, 0)?;
        if *o != 0 && !custom {
            return Err(p.invalid(name, format!("is only allowed with paddingType = \"CUSTOM\", not \"{}\"", p.choice("paddingType")?)));
        }
    }
    Ok(out)
}

/// Checks that weight parameter `name` holds `want` values (when present).
pub(crate) fn check_weight_len(p: &Params, name: &str, want: u64, what: &str) -> Result<(), LowerError> {
    let got = p.weight_len(name) as u64;
    if p.has(name) && got != want {
        return Err(p.invalid(name, format!("has {got} values, {what} needs {want}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::lang::{Attrs, Name};
    use crate::rules::layers::{ParamType, LAYERS};
    use crate::rules::value::{Tensor, Value};
    use std::sync::Arc;

    /// Every kind a rule may emit has a builder: with no parameters it either builds (every
    /// parameter defaulted) or asks for a required one, never "unknown kind".
    #[test]
    fn every_registry_kind_has_a_builder() {
        let attrs = Attrs::default();
        for kind in LAYERS {
            let p = Params::new("l", kind, &attrs, false).unwrap();
            let n_inputs = kind.min_inputs;
            match build(&LayerInput { params: &p, n_inputs }) {
                Ok(_) | Err(LowerError::MissingParameter { .. }) | Err(LowerError::InvalidParameter { .. }) => {}
                Err(e) => panic!("{}: {e}", kind.name),
            }
        }
    }

    /// A valid value of each parameter type; `case` picks the enum case (oneof branches read
    /// different parameters).
    fn sample(t: ParamType, case: usize) -> Value {
        match t {
            ParamType::Int | ParamType::UInt => Value::Int(1),
            ParamType::Float => Value::float(1.0),
            ParamType::Bool => Value::Bool(true),
            ParamType::Str => Value::Str("s".into()),
            ParamType::Ints | ParamType::UInts => Value::ints([1, 1]),
            ParamType::Floats => Value::List(vec![Value::float(1.0)]),
            ParamType::Bools => Value::List(vec![Value::Bool(true)]),
            ParamType::Weights => Value::Tensor(Arc::new(Tensor::from_f32(vec![1], vec![1.0]))),
            ParamType::Enum(vs) => Value::Str(vs[case.min(vs.len() - 1)].into()),
            ParamType::Enums(vs) => Value::List(vec![Value::Str(vs[case.min(vs.len() - 1)].into())]),
        }
    }

    /// Parameters whose sample must differ from [`sample`] for the kind to build: sizes with a
    /// lower bound, lists of a fixed length, fields only allowed with one enum case.
    fn fix_samples(kind: &str, case: usize, pairs: &mut Vec<(Name, Value)>) {
        let set = |pairs: &mut Vec<(Name, Value)>, name: &str, v: Value| {
            pairs.retain(|(n, _)| &**n != name);
            pairs.push((Name::from(name), v));
        };
        let acts = |n: usize| Value::List(vec![Value::Str(crate::rules::layers::RECURRENT_ACTIVATIONS[case % 6].into()); n]);
        match kind {
            // A constant's element count must match its shape ([1, 1] in `sample`).
            "loadConstant" | "loadConstantND" => set(pairs, "shape", Value::ints([1])),
            "reorganizeData" => set(pairs, "blockSize", Value::Int(2)),
            "gru" => set(pairs, "activations", acts(2)),
            "uniDirectionalLSTM" => set(pairs, "activations", acts(3)),
            "biDirectionalLSTM" => {
                set(pairs, "activationsForwardLSTM", acts(3));
                set(pairs, "activationsBackwardLSTM", acts(3));
            }
            // Custom paddings are only allowed with paddingType CUSTOM (case 0).
            "convolution3d" | "pooling3d" if case != 0 => {
                pairs.retain(|(n, _)| !n.starts_with("customPadding"));
                if kind == "convolution3d" {
                    set(pairs, "outputShape", Value::ints([1, 1, 1]));
                }
            }
            "convolution3d" => set(pairs, "outputShape", Value::ints([1, 1, 1])),
            _ => {}
        }
    }

    /// Every case of the spec's `NeuralNetworkLayer.layer` oneof is what some registry kind
    /// lowers to (the interpreter's name of the built case is the oneof field), except the
    /// cases lowered elsewhere: `custom` (`lower::custom`), `loop` (`program::lower_loop`) and
    /// `branch`, which is never emitted (an `If` becomes a select, docs/architecture.md).
    #[test]
    fn every_oneof_case_is_lowered_from_a_registry_kind() {
        let mut built = std::collections::BTreeSet::new();
        for kind in LAYERS {
            let mut pairs: Vec<(Name, Value)> = kind.params.iter().map(|(n, t)| (Name::from(*n), sample(*t, 0))).collect();
            fix_samples(kind.name, 0, &mut pairs);
            let attrs = Attrs::new(pairs);
            let p = Params::new("l", kind, &attrs, false).unwrap();
            let layer = build(&LayerInput { params: &p, n_inputs: kind.min_inputs }).unwrap_or_else(|e| panic!("{}: {e}", kind.name));
            built.insert(crate::run::layer_kind(&layer));
        }
        let missing: Vec<&str> =
            crate::rules::layers::spec_cases().into_iter().filter(|c| !built.contains(c) && !["custom", "loop", "branch"].contains(c)).collect();
        assert!(missing.is_empty(), "oneof cases no registry kind lowers to: {missing:?}");
    }

    /// With every parameter set, each builder reads every parameter its kind declares (over
    /// every case of its enums): none is dropped on the way to the proto.
    #[test]
    fn every_declared_parameter_is_read() {
        for kind in LAYERS {
            let mut read = std::collections::BTreeSet::new();
            let cases = kind.params.iter().map(|(_, t)| if let ParamType::Enum(vs) = t { vs.len() } else { 1 }).max().unwrap_or(1);
            for case in 0..cases {
                let mut pairs: Vec<(Name, Value)> = kind.params.iter().map(|(n, t)| (Name::from(*n), sample(*t, case))).collect();
                fix_samples(kind.name, case, &mut pairs);
                let attrs = Attrs::new(pairs);
                let p = Params::new("l", kind, &attrs, false).unwrap();
                if let Err(e) = build(&LayerInput { params: &p, n_inputs: kind.min_inputs }) {
                    panic!("{}: {e}", kind.name);
                }
                read.extend(p.read_names());
            }
            let unread: Vec<_> = kind.params.iter().map(|(n, _)| *n).filter(|n| !read.contains(*n)).collect();
            assert!(unread.is_empty(), "{} never reads {unread:?}", kind.name);
        }
    }

    fn lower(kind: &str, n_inputs: usize, pairs: Vec<(&str, Value)>) -> Result<Layer, LowerError> {
        let k = crate::rules::layers::layer_kind(kind).unwrap();
        let attrs = Attrs::new(pairs.into_iter().map(|(n, v)| (Name::from(n), v)).collect());
        let p = Params::new("l", k, &attrs, false)?;
        build(&LayerInput { params: &p, n_inputs })
    }

    fn weights(n: usize) -> Value {
        Value::Tensor(Arc::new(Tensor::from_f32(vec![n], (0..n).map(|i| i as f32).collect())))
    }

    #[test]
    fn reorganize_data_fills_mode_and_block_size() {
        use crate::proto::coreml::reorganize_data_layer_params::ReorganizationType;
        let l = lower("reorganizeData", 1, vec![("mode", Value::Str("DEPTH_TO_SPACE".into())), ("blockSize", Value::Int(2))]).unwrap();
        let Layer::ReorganizeData(r) = l else { panic!("{l:?}") };
        assert_eq!((r.mode, r.block_size), (ReorganizationType::DepthToSpace as i32, 2));
        // Unset mode is the proto3 default, SPACE_TO_DEPTH; a block size of 1 is rejected.
        let Layer::ReorganizeData(r) = lower("reorganizeData", 1, vec![("blockSize", Value::Int(3))]).unwrap() else { panic!() };
        assert_eq!(r.mode, ReorganizationType::SpaceToDepth as i32);
        let e = lower("reorganizeData", 1, vec![("blockSize", Value::Int(1))]).unwrap_err();
        assert!(e.to_string().contains("blockSize"), "{e}");
    }

    #[test]
    fn convolution3d_fills_every_field_and_defaults_strides_to_one() {
        use crate::proto::coreml::convolution3_d_layer_params::PaddingType;
        let l = lower(
            "convolution3d",
            1,
            vec![
                ("outputChannels", Value::Int(2)),
                ("inputChannels", Value::Int(3)),
                ("kernelDepth", Value::Int(1)),
                ("kernelHeight", Value::Int(2)),
                ("kernelWidth", Value::Int(2)),
                ("strideHeight", Value::Int(2)),
                ("paddingType", Value::Str("CUSTOM".into())),
                ("customPaddingFront", Value::Int(1)),
                ("customPaddingRight", Value::Int(2)),
                ("hasBias", Value::Bool(true)),
                ("weights", weights(24)),
                ("bias", weights(2)),
            ],
        )
        .unwrap();
        let Layer::Convolution3d(c) = l else { panic!("{l:?}") };
        assert_eq!((c.output_channels, c.input_channels, c.n_groups), (2, 3, 1));
        assert_eq!((c.kernel_depth, c.kernel_height, c.kernel_width), (1, 2, 2));
        assert_eq!((c.stride_depth, c.stride_height, c.stride_width), (1, 2, 1));
        assert_eq!((c.dilation_depth, c.dilation_height, c.dilation_width), (1, 1, 1));
        assert_eq!(c.padding_type, PaddingType::Custom as i32);
        assert_eq!([c.custom_padding_front, c.custom_padding_back, c.custom_padding_top, c.custom_padding_bottom, c.custom_padding_left, c.custom_padding_right], [1, 0, 0, 0, 0, 2]);
        assert_eq!(c.weights.unwrap().float_value.len(), 24);
        assert_eq!(c.bias.unwrap().float_value, vec![0.0, 1.0]);
        // Custom paddings with SAME padding would be an invalid model: an error names the field.
        let e = lower(
            "convolution3d",
            1,
            vec![("outputChannels", Value::Int(1)), ("inputChannels", Value::Int(1)), ("kernelDepth", Value::Int(1)), ("kernelHeight", Value::Int(1)), ("kernelWidth", Value::Int(1)), ("weights", weights(1)), ("paddingType", Value::Str("SAME".into())), ("customPaddingTop", Value::Int(1))],
        )
        .unwrap_err();
        assert!(e.to_string().contains("customPaddingTop"), "{e}");
        // A weight count that does not match [out, in / groups, D, H, W] names the field.
        let base = |w: usize, deconv: bool| {
            vec![
                ("outputChannels", Value::Int(4)),
                ("inputChannels", Value::Int(2)),
                ("nGroups", Value::Int(2)),
                ("kernelDepth", Value::Int(1)),
                ("kernelHeight", Value::Int(1)),
                ("kernelWidth", Value::Int(3)),
                ("isDeconvolution", Value::Bool(deconv)),
                ("weights", weights(w)),
            ]
        };
        // Convolution: 4 x (2 / 2) x 3 = 12; deconvolution: 2 x (4 / 2) x 3 = 12 as well, 8 for neither.
        assert!(lower("convolution3d", 1, base(12, false)).is_ok());
        assert!(lower("convolution3d", 1, base(12, true)).is_ok());
        let e = lower("convolution3d", 1, base(8, false)).unwrap_err();
        assert!(e.to_string().contains("weights") && e.to_string().contains("12"), "{e}");
        let mut odd = base(12, true);
        odd.push(("outputShape", Value::ints([2, 2])));
        let e = lower("convolution3d", 1, odd).unwrap_err();
        assert!(e.to_string().contains("outputShape"), "{e}");
    }

    #[test]
    fn lstm_flattening_maps_activations_and_weights() {
        use crate::proto::coreml::activation_params::NonlinearityType as N;
        // x = 2, h = 1: input matrices have 2 values, recursion matrices and biases 1.
        let mut named: Vec<(String, Value)> = vec![
            ("inputVectorSize".into(), Value::Int(2)),
            ("outputVectorSize".into(), Value::Int(1)),
            ("activations".into(), Value::List(["sigmoid", "tanh", "sigmoidHard"].iter().map(|s| Value::Str(s.to_string())).collect())),
            ("hasBiasVectors".into(), Value::Bool(true)),
        ];
        for g in ["inputGate", "forgetGate", "blockInput", "outputGate"] {
            named.push((format!("{g}WeightMatrix"), weights(2)));
            named.push((format!("{g}RecursionMatrix"), weights(1)));
            named.push((format!("{g}BiasVector"), weights(1)));
        }
        let mut pairs: Vec<(&str, Value)> = named.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        let Layer::UniDirectionalLstm(l) = lower("uniDirectionalLSTM", 1, pairs.clone()).unwrap() else { panic!() };
        let kinds: Vec<_> = l.activations.iter().map(|a| a.nonlinearity_type.clone()).collect();
        assert!(matches!(kinds[..], [Some(N::Sigmoid(_)), Some(N::Tanh(_)), Some(N::SigmoidHard(_))]), "{kinds:?}");
        let w = l.weight_params.unwrap();
        assert_eq!(w.forget_gate_weight_matrix.unwrap().float_value, vec![0.0, 1.0]);
        assert!(w.output_gate_bias_vector.is_some() && w.input_gate_peephole_vector.is_none());
        assert!(l.params.unwrap().has_bias_vectors);
        // A recursion matrix of the wrong size is an error naming it.
        pairs.retain(|(n, _)| *n != "blockInputRecursionMatrix");
        pairs.push(("blockInputRecursionMatrix", weights(2)));
        let e = lower("uniDirectionalLSTM", 1, pairs).unwrap_err();
        assert!(e.to_string().contains("blockInputRecursionMatrix"), "{e}");
    }
}
