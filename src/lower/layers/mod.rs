//! One builder per NN layer kind of `rules::layers`, grouped by family: each family's `build`
//! turns a kind's parameters into the `neural_network_layer::Layer` oneof case, or returns
//! `Ok(None)` for a kind it does not own. [`build`] asks each family in turn.

mod activation;
mod conv;
mod elementwise;
mod normalize;
mod pool;
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

const FAMILIES: [Family; 7] = [conv::build, pool::build, activation::build, elementwise::build, reduce::build, shape::build, normalize::build];

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
        }
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
                // A constant's element count must match its shape ([1, 1] above).
                if kind.name.starts_with("loadConstant") {
                    pairs.retain(|(n, _)| &**n != "shape");
                    pairs.push((Name::from("shape"), Value::ints([1])));
                }
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
}
