//! Swift custom-layer stubs: the app's side of a model's custom-layer contract.
//!
//! A Core ML model with custom layers only loads in an app that provides one `MLCustomLayer`
//! class per `CustomLayerParams.className`. This module reads what the `.mlmodel` itself says
//! about each class (its parameters and their value cases, weights, the layers using it with
//! their inputs and outputs, static output shapes) and, when the registration that emitted it
//! is known, the registration's `input_order` names and output dtypes. [`emit`] renders one
//! Swift class per class name whose unwritten parts are marked `TODO(mlrewrite)` and throw,
//! so a stub never computes a silently wrong result.
//!
//! Everything is read from the model rather than from the conversion so that
//! `mlrewrite swift` works on any Neural Network `.mlmodel`, coremltools' included.

pub mod emit;
pub mod ident;

use crate::proto::coreml::custom_layer_params::custom_layer_param_value::Value as ParamValue;
use crate::proto::coreml::{feature_type, model, neural_network_layer::Layer, Model, NeuralNetworkLayer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why stubs cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum SwiftError {
    #[error("the model is not a Neural Network (classifier or regressor): it has no layers to write custom-layer classes for")]
    NotNeuralNetwork,
    #[error("custom class name `{class}` (layer `{layer}`) is not a Swift identifier, so no Swift class can carry it")]
    BadClassName { class: String, layer: String },
    #[error("custom class `{class}`: parameter `{param}` is {first} in layer `{first_layer}` but {second} in layer `{second_layer}`; one Swift class cannot read both")]
    ParamTypeConflict { class: String, param: String, first: &'static str, first_layer: String, second: &'static str, second_layer: String },
    #[error("custom class `{class}`: layer `{layer}` has no value for parameter `{param}`")]
    EmptyParam { class: String, layer: String, param: String },
    #[error("writing {path}: {cause}")]
    Write { path: PathBuf, cause: std::io::Error },
}

/// The `CustomLayerParamValue` case of a parameter, which fixes its Swift type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamCase {
    Int,
    Long,
    Double,
    Bool,
    String,
}

impl ParamCase {
    fn of(v: &ParamValue) -> ParamCase {
        match v {
            ParamValue::IntValue(_) => ParamCase::Int,
            ParamValue::LongValue(_) => ParamCase::Long,
            ParamValue::DoubleValue(_) => ParamCase::Double,
            ParamValue::BoolValue(_) => ParamCase::Bool,
            ParamValue::StringValue(_) => ParamCase::String,
        }
    }

    /// The proto field name (`intValue`), as error messages and doc comments cite it.
    pub fn proto_name(self) -> &'static str {
        match self {
            ParamCase::Int => "intValue",
            ParamCase::Long => "longValue",
            ParamCase::Double => "doubleValue",
            ParamCase::Bool => "boolValue",
            ParamCase::String => "stringValue",
        }
    }

    /// The Swift type Core ML's `parameters` dictionary value bridges to (`NSNumber` for the
    /// numbers, `String` for strings).
    pub fn swift_type(self) -> &'static str {
        match self {
            ParamCase::Int | ParamCase::Long => "Int",
            ParamCase::Double => "Double",
            ParamCase::Bool => "Bool",
            ParamCase::String => "String",
        }
    }
}

/// A parameter of a class, merged over the layers using it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub case: ParamCase,
    /// Set by every layer of the class; otherwise the Swift property is optional.
    pub always: bool,
}

/// One layer of the model that uses a class.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerUse {
    pub name: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    /// Per output, the shape the model declares statically (a fixed model output, or the
    /// layer's `outputTensor`), if any.
    pub output_shapes: Vec<Option<Vec<u64>>>,
    pub weights: usize,
}

/// What the registration that emitted a class says beyond the model: names and dtypes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Binding {
    /// The registration's `input_order` (pattern variables or OpDef input names).
    pub input_order: Vec<String>,
    /// Declared output dtypes (`outputs = [float32, int32]`), NumPy spelling.
    pub outputs: Option<Vec<String>>,
}

/// Everything a stub needs of one custom class.
#[derive(Debug, Clone, PartialEq)]
pub struct StubClass {
    pub class_name: String,
    pub description: String,
    pub params: BTreeMap<String, Param>,
    pub layers: Vec<LayerUse>,
    pub binding: Option<Binding>,
}

impl StubClass {
    /// The output shapes every layer of the class agrees on, when all are static.
    pub fn static_output_shapes(&self) -> Option<Vec<Vec<u64>>> {
        let first: Vec<Vec<u64>> = self.layers.first()?.output_shapes.iter().cloned().collect::<Option<_>>()?;
        let agree = self.layers.iter().all(|l| l.output_shapes.iter().cloned().collect::<Option<Vec<_>>>().as_ref() == Some(&first));
        agree.then_some(first)
    }

    /// Number of inputs, when every layer of the class agrees on it.
    pub fn input_count(&self) -> Option<usize> {
        let n = self.layers.first()?.inputs.len();
        self.layers.iter().all(|l| l.inputs.len() == n).then_some(n)
    }

    /// Number of weight blobs, when every layer agrees on it.
    pub fn weight_count(&self) -> Option<usize> {
        let n = self.layers.first()?.weights;
        self.layers.iter().all(|l| l.weights == n).then_some(n)
    }
}

/// One generated Swift source file.
#[derive(Debug, Clone, PartialEq)]
pub struct SwiftFile {
    pub file_name: String,
    pub source: String,
}

fn layers_of(m: &Model) -> Result<&[NeuralNetworkLayer], SwiftError> {
    match &m.r#type {
        Some(model::Type::NeuralNetwork(n)) => Ok(&n.layers),
        Some(model::Type::NeuralNetworkClassifier(n)) => Ok(&n.layers),
        Some(model::Type::NeuralNetworkRegressor(n)) => Ok(&n.layers),
        _ => Err(SwiftError::NotNeuralNetwork),
    }
}

/// Model outputs with a fixed multi-array shape, by name.
fn static_outputs(m: &Model) -> BTreeMap<&str, Vec<u64>> {
    let mut out = BTreeMap::new();
    for f in m.description.iter().flat_map(|d| &d.output) {
        if let Some(feature_type::Type::MultiArrayType(a)) = f.r#type.as_ref().and_then(|t| t.r#type.as_ref()) {
            if a.shape_flexibility.is_none() && !a.shape.is_empty() && a.shape.iter().all(|&d| d > 0) {
                out.insert(f.name.as_str(), a.shape.iter().map(|&d| d as u64).collect());
            }
        }
    }
    out
}

/// The custom classes of a model, in order of first use, with their registrations' bindings
/// (by class name) where given.
pub fn classes(m: &Model, bindings: &BTreeMap<String, Binding>) -> Result<Vec<StubClass>, SwiftError> {
    let fixed = static_outputs(m);
    let mut classes: Vec<StubClass> = vec![];
    for l in layers_of(m)? {
        let Some(Layer::Custom(c)) = &l.layer else { continue };
        if !ident::is_identifier(&c.class_name) {
            return Err(SwiftError::BadClassName { class: c.class_name.clone(), layer: l.name.clone() });
        }
        let output_shapes = l
            .output
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let declared = l.output_tensor.get(i).filter(|t| t.rank > 0 && t.dim_value.len() == t.rank as usize && t.dim_value.iter().all(|&d| d > 0));
                declared.map(|t| t.dim_value.iter().map(|&d| d as u64).collect()).or_else(|| fixed.get(o.as_str()).cloned())
            })
            .collect();
        let layer = LayerUse { name: l.name.clone(), inputs: l.input.clone(), outputs: l.output.clone(), output_shapes, weights: c.weights.len() };
        let idx = match classes.iter().position(|k| k.class_name == c.class_name) {
            Some(i) => i,
            None => {
                classes.push(StubClass {
                    class_name: c.class_name.clone(),
                    description: c.description.clone(),
                    params: BTreeMap::new(),
                    layers: vec![],
                    binding: bindings.get(&c.class_name).cloned(),
                });
                classes.len() - 1
            }
        };
        let class = &mut classes[idx];
        let first_use = class.layers.is_empty();
        for (name, v) in &c.parameters {
            let Some(v) = &v.value else {
                return Err(SwiftError::EmptyParam { class: c.class_name.clone(), layer: l.name.clone(), param: name.clone() });
            };
            let case = ParamCase::of(v);
            match class.params.get(name) {
                Some(p) if p.case != case => {
                    return Err(SwiftError::ParamTypeConflict {
                        class: c.class_name.clone(),
                        param: name.clone(),
                        first: p.case.proto_name(),
                        first_layer: class.layers.first().map_or_else(String::new, |l| l.name.clone()),
                        second: case.proto_name(),
                        second_layer: l.name.clone(),
                    })
                }
                Some(_) => {}
                None => {
                    class.params.insert(name.clone(), Param { case, always: first_use });
                }
            }
        }
        for (name, p) in class.params.iter_mut() {
            if !c.parameters.contains_key(name) {
                p.always = false;
            }
        }
        class.layers.push(layer);
    }
    Ok(classes)
}

/// One Swift file per custom class of the model; `model_name` is cited in the header.
pub fn stubs(m: &Model, model_name: &str, bindings: &BTreeMap<String, Binding>) -> Result<Vec<SwiftFile>, SwiftError> {
    Ok(classes(m, bindings)?
        .iter()
        .map(|c| SwiftFile { file_name: format!("{}.swift", c.class_name), source: emit::class_source(c, model_name) })
        .collect())
}

/// Writes the files into `dir` (created when missing); returns the paths written.
pub fn write_stubs(dir: &Path, files: &[SwiftFile]) -> Result<Vec<PathBuf>, SwiftError> {
    std::fs::create_dir_all(dir).map_err(|cause| SwiftError::Write { path: dir.to_owned(), cause })?;
    let mut written = vec![];
    for f in files {
        let path = dir.join(&f.file_name);
        std::fs::write(&path, &f.source).map_err(|cause| SwiftError::Write { path: path.clone(), cause })?;
        written.push(path);
    }
    Ok(written)
}

/// Bindings by class name from compiled registrations (the first registration of a class name
/// wins, as lowering takes the class name from the registration that matched).
pub fn bindings<'a>(regs: impl IntoIterator<Item = &'a crate::rules::compile::Registration>) -> BTreeMap<String, Binding> {
    let mut out = BTreeMap::new();
    for r in regs {
        out.entry(r.class_name.clone()).or_insert_with(|| Binding {
            input_order: r.input_order.clone(),
            outputs: r.outputs.as_ref().map(|ds| ds.iter().map(|d| d.to_string()).collect()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::coreml::custom_layer_params::CustomLayerParamValue;
    use crate::proto::coreml::{CustomLayerParams, NeuralNetwork};

    fn custom(name: &str, class: &str, params: Vec<(&str, ParamValue)>) -> NeuralNetworkLayer {
        NeuralNetworkLayer {
            name: name.into(),
            input: vec!["x".into()],
            output: vec![format!("{name}_out")],
            layer: Some(Layer::Custom(CustomLayerParams {
                class_name: class.into(),
                parameters: params.into_iter().map(|(n, v)| (n.to_string(), CustomLayerParamValue { value: Some(v) })).collect(),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    fn model(layers: Vec<NeuralNetworkLayer>) -> Model {
        Model { r#type: Some(model::Type::NeuralNetwork(NeuralNetwork { layers, ..Default::default() })), ..Default::default() }
    }

    #[test]
    fn a_parameter_missing_from_one_layer_is_optional() {
        let m = model(vec![
            custom("a", "C", vec![("k", ParamValue::IntValue(1)), ("s", ParamValue::StringValue("x".into()))]),
            custom("b", "C", vec![("k", ParamValue::IntValue(2)), ("f", ParamValue::BoolValue(true))]),
        ]);
        let cs = classes(&m, &BTreeMap::new()).unwrap();
        assert_eq!(cs.len(), 1);
        let p = &cs[0].params;
        assert!(p["k"].always);
        assert!(!p["s"].always && !p["f"].always);
        assert_eq!(cs[0].layers.len(), 2);
    }

    #[test]
    fn conflicting_parameter_cases_and_bad_class_names_are_errors() {
        let m = model(vec![custom("a", "C", vec![("k", ParamValue::IntValue(1))]), custom("b", "C", vec![("k", ParamValue::DoubleValue(1.0))])]);
        let e = classes(&m, &BTreeMap::new()).unwrap_err().to_string();
        assert!(e.contains("`k` is intValue in layer `a` but doubleValue in layer `b`"), "{e}");
        let e = classes(&model(vec![custom("a", "my.Class", vec![])]), &BTreeMap::new()).unwrap_err().to_string();
        assert!(e.contains("`my.Class` (layer `a`) is not a Swift identifier"), "{e}");
        assert!(matches!(classes(&Model::default(), &BTreeMap::new()), Err(SwiftError::NotNeuralNetwork)));
    }
}
