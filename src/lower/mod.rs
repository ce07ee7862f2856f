//! Lowering: the extracted term DAG ([`TermDag`], the rewrite stage's only output) becomes a
//! Core ML Neural Network [`Model`], and the model is written as a `.mlmodel`.
//!
//! Owns: the per-kind layer builders ([`layers`], one file per family, reading parameters by
//! the names of `rules::layers` through [`params`]), blob/layer naming ([`names`]), model
//! input/output descriptions ([`features`]), custom layers ([`custom`]), the
//! `specificationVersion` choice ([`version`]) and `.mlmodel` I/O ([`mlmodel`]). The walk over
//! the DAG is in `program`.

pub mod classifier;
pub mod custom;
pub mod error;
pub mod features;
pub mod flexible;
pub mod image;
pub mod layers;
pub mod metadata;
pub mod mlmodel;
pub mod names;
pub mod params;
mod program;
pub mod version;

pub use custom::{CustomClass, CustomParamType};
pub use error::LowerError;

use crate::proto::coreml::{
    model, Metadata, Model, ModelDescription, NeuralNetwork, NeuralNetworkImageShapeMapping, NeuralNetworkMultiArrayShapeMapping,
};
use crate::rewrite::term::TermDag;
use crate::rules::compile::Registration;
use std::collections::BTreeMap;

/// Metadata key holding the mlrewrite version that wrote the model.
pub const VERSION_KEY: &str = "mlrewrite.version";
/// Metadata key listing the outputs that are inner tensors of the TF graph (`convert
/// --outputs`), comma-separated: `run --compare` compares them with an RMS-scaled atol.
pub const INNER_OUTPUTS_KEY: &str = "mlrewrite.inner_outputs";
/// Metadata key coremltools uses for the source framework (`tensorflow==2.12.1`).
pub const SOURCE_KEY: &str = "com.github.apple.coremltools.source";

/// How to lower.
#[derive(Debug, Clone, Default)]
pub struct LowerOptions {
    /// Store float weights as IEEE half floats (`WeightParams.float16Value`).
    pub fp16_weights: bool,
    /// Minimum `specificationVersion`: the model's version is raised to it, never lowered.
    pub target: Option<i32>,
    /// Custom-layer bindings by registration name (`Node::Custom::reg`).
    pub custom_layers: BTreeMap<String, CustomClass>,
    /// Source framework for the `com.github.apple.coremltools.source` metadata, e.g.
    /// `tensorflow==2.12.1`; omitted when `None`.
    pub source: Option<String>,
    /// Flexible shapes declared for inputs by name (`convert --input-shape` and
    /// `--enumerated-shapes`); an input with unknown dims not listed gets `[1, unbounded)` per
    /// unknown dim.
    pub input_shapes: BTreeMap<String, flexible::InputShapeSpec>,
}

impl LowerOptions {
    /// Adds the bindings of compiled registrations (`rules::Compiled::registrations`).
    pub fn with_registrations<'a>(mut self, regs: impl IntoIterator<Item = &'a Registration>) -> LowerOptions {
        for r in regs {
            self.custom_layers.insert(r.name.clone(), CustomClass::from(r));
        }
        self
    }

    /// Adds the bindings of every registration of a compiled rule set.
    pub fn with_compiled(self, compiled: &crate::rules::load::Compiled) -> LowerOptions {
        let regs: Vec<_> = compiled
            .registrations
            .iter()
            .filter_map(|r| match &r.action {
                crate::rules::compile::Action::Custom(reg) => Some(reg.clone()),
                _ => None,
            })
            .collect();
        self.with_registrations(regs.iter().map(|r| &**r))
    }
}

/// Lowers an extracted program into a Core ML Neural Network model. Deterministic: the same
/// DAG and options give the same model, byte for byte once encoded.
pub fn lower(dag: &TermDag, options: &LowerOptions) -> Result<Model, LowerError> {
    let lowered = program::lower_layers(dag, options)?;
    let mut defined = dag.inputs.iter().map(|i| i.name.clone()).collect();
    program::check_blob_names(&lowered.layers, &mut defined, false)?;
    if let Some(name) = options.input_shapes.keys().find(|n| !dag.inputs.iter().any(|i| &i.name == *n)) {
        let inputs = dag.inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(LowerError::UnknownShapeInput { name: name.clone(), inputs });
    }
    let input = dag
        .inputs
        .iter()
        .map(|i| features::input_feature(&i.name, i.dtype, &i.shape, options.input_shapes.get(&i.name)))
        .collect::<Result<Vec<_>, _>>()?;
    let output = dag.outputs.iter().map(|o| features::output_feature(&o.name, o.dtype, &o.shape)).collect::<Result<Vec<_>, _>>()?;
    let mut user_defined = BTreeMap::new();
    user_defined.insert(VERSION_KEY.to_string(), env!("CARGO_PKG_VERSION").to_string());
    if let Some(s) = &options.source {
        user_defined.insert(SOURCE_KEY.to_string(), s.clone());
    }
    let inner: Vec<&str> = dag.outputs.iter().filter(|o| o.inner).map(|o| o.name.as_str()).collect();
    if !inner.is_empty() {
        user_defined.insert(INNER_OUTPUTS_KEY.to_string(), inner.join(","));
    }
    let specification_version = version::model_version(&lowered.layers, options.target);
    Ok(Model {
        specification_version,
        description: Some(ModelDescription { input, output, metadata: Some(Metadata { user_defined, ..Default::default() }), ..Default::default() }),
        r#type: Some(model::Type::NeuralNetwork(NeuralNetwork {
            layers: lowered.layers,
            array_input_shape_mapping: NeuralNetworkMultiArrayShapeMapping::ExactArrayMapping.into(),
            image_input_shape_mapping: NeuralNetworkImageShapeMapping::Rank4ImageMapping.into(),
            ..Default::default()
        })),
        ..Default::default()
    })
}

/// The outputs a model marks as inner tensors ([`INNER_OUTPUTS_KEY`]); empty for other models.
pub fn inner_outputs(model: &Model) -> std::collections::BTreeSet<String> {
    model
        .description
        .as_ref()
        .and_then(|d| d.metadata.as_ref())
        .and_then(|m| m.user_defined.get(INNER_OUTPUTS_KEY))
        .map(|v| v.split(',').filter(|s| !s.is_empty()).map(String::from).collect())
        .unwrap_or_default()
}
