//! Conversion as one library call, for embedders (the Python package, `python/`): a model given
//! as a path (frozen `.pb` or SavedModel directory) or as `GraphDef` bytes in, `.mlmodel` bytes
//! or the explanation's JSON out. The steps and the error messages are those of
//! `mlrewrite convert` and `mlrewrite explain`, so a Python user reads what the CLI would say.

use crate::explain::{self, ExplainOptions, Selection};
use crate::ir::{self, Graph};
use crate::lower::{self, LowerOptions};
use crate::rewrite::pipeline::ConvertError;
use crate::rewrite::{convert as rewrite, ConvertOptions};
use crate::rules::compile::Action;
use crate::rules::load::Compiled;
use crate::rules::{LoadOptions, RuleSet};
use anyhow::{Context, Result};
use prost::Message;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to convert.
pub enum Source<'a> {
    /// A frozen GraphDef file or a SavedModel directory.
    Path(&'a Path),
    /// A serialized `GraphDef`; `name` stands for it in messages.
    GraphDef { bytes: &'a [u8], name: &'a str },
}

impl Source<'_> {
    /// The path messages name, as the CLI names its argument.
    fn display_path(&self) -> PathBuf {
        match self {
            Source::Path(p) => p.to_path_buf(),
            Source::GraphDef { name, .. } => PathBuf::from(name),
        }
    }
}

/// The options the CLI's `convert` and `explain` share, with the CLI's defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// User rule files or directories, on top of the standard rules (`--rules`).
    pub rules: Vec<PathBuf>,
    /// Leave the embedded standard rules out (`--no-std-rules`).
    pub no_std_rules: bool,
    /// Extra model outputs (`--outputs`).
    pub outputs: Vec<String>,
    /// Store float weights as float16 (`--fp16-weights`).
    pub fp16_weights: bool,
    /// The SavedModel signature (`--signature`, default `serving_default`).
    pub signature: Option<String>,
    /// Core ML specification version to target (`--target`, 4 to 9).
    pub target: Option<i32>,
    /// Author, license, version, descriptions (`--author` ... `--output-description`).
    pub info: crate::lower::metadata::ModelInfo,
    /// An image input (`--image-input NAME --scale S --bias B,.. [--bgr]`).
    pub image_input: Option<crate::lower::image::ImageInput>,
    /// Make a classifier over these labels (`--class-labels FILE`).
    pub class_labels: Option<crate::lower::classifier::ClassLabels>,
    /// With `class_labels`: the probabilities output (`--probabilities-output NAME`).
    pub probabilities_output: Option<String>,
}

/// The passes after lowering that make the model app-ready, in the CLI's order: metadata, then
/// the image input, then the classifier (which turns the `neuralNetwork` into a
/// `neuralNetworkClassifier`). `path` names the model in errors.
pub fn make_app_ready(model: &mut crate::proto::coreml::Model, options: &Options, path: &Path) -> Result<()> {
    let context = || format!("converting {}", path.display());
    options.info.apply(model).with_context(context)?;
    if let Some(spec) = &options.image_input {
        lower::image::make_image_input(model, spec).with_context(context)?;
    }
    if let Some(labels) = &options.class_labels {
        lower::classifier::make_classifier(model, labels, options.probabilities_output.as_deref()).with_context(context)?;
    }
    Ok(())
}

/// Layer count by kind of a lowered model (`neuralNetwork` or `neuralNetworkClassifier`).
pub fn layer_counts(model: &crate::proto::coreml::Model) -> BTreeMap<String, usize> {
    use crate::proto::coreml::model::Type;
    let layers = match &model.r#type {
        Some(Type::NeuralNetwork(nn)) => nn.layers.as_slice(),
        Some(Type::NeuralNetworkClassifier(nn)) => nn.layers.as_slice(),
        Some(Type::NeuralNetworkRegressor(nn)) => nn.layers.as_slice(),
        _ => &[],
    };
    let mut counts = BTreeMap::new();
    for layer in layers.iter().filter_map(|l| l.layer.as_ref()) {
        *counts.entry(crate::run::layer_kind(layer).to_string()).or_insert(0) += 1;
    }
    counts
}

/// A converted model: its serialized bytes, its layer count by kind, and the names of its
/// inputs and outputs (the TF tensors they stand for).
#[derive(Debug, Clone)]
pub struct Converted {
    pub mlmodel: Vec<u8>,
    pub layers: BTreeMap<String, usize>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

fn rules(options: &Options) -> Result<(RuleSet, Compiled)> {
    let set = RuleSet::load(&LoadOptions { user: options.rules.clone(), no_std: options.no_std_rules })?;
    if set.errors() > 0 {
        let report = crate::rules::diag::render_all(&set.diagnostics, &set.sources, 100);
        anyhow::bail!("{}", report.trim_end());
    }
    let compiled = set.compile()?;
    Ok((set, compiled))
}

fn load(source: &Source, options: &Options, compiled: &Compiled) -> Result<Graph> {
    let graph = match source {
        Source::Path(p) => ir::load_model(p, options.signature.as_deref(), &compiled.shapes, &BTreeMap::new())?.0,
        Source::GraphDef { bytes, name } => {
            let path = Path::new(name);
            let mut g = ir::import_bytes(bytes::Bytes::copy_from_slice(bytes), path)?;
            ir::infer(&mut g, &compiled.shapes).map_err(|cause| ir::LoadError::Infer { path: path.to_owned(), cause })?;
            g
        }
    };
    Ok(graph)
}

/// Converts `source` as `mlrewrite convert` does and returns the model's bytes.
pub fn convert(source: &Source, options: &Options) -> Result<Converted> {
    if let Some(t) = options.target.filter(|t| !(4..=9).contains(t)) {
        anyhow::bail!("target {t}: the Core ML specification version must be 4 (iOS 13) to 9 (iOS 18)");
    }
    let path = source.display_path();
    let (_, compiled) = rules(options)?;
    let graph = load(source, options, &compiled)?;
    let convert_options = ConvertOptions { outputs: options.outputs.clone(), ..ConvertOptions::default() };
    let (dag, _) = match rewrite(&graph, &compiled, &convert_options) {
        Ok(r) => r,
        Err(e @ ConvertError::Unsupported(_)) => anyhow::bail!("{}: {e}", path.display()),
        Err(e) => return Err(e).with_context(|| format!("converting {}", path.display())),
    };
    let regs = compiled.registrations.iter().filter_map(|r| match &r.action {
        Action::Custom(reg) => Some(&**reg),
        _ => None,
    });
    let lower_options = LowerOptions { fp16_weights: options.fp16_weights, target: options.target, ..LowerOptions::default() }.with_registrations(regs);
    let mut model = lower::lower(&dag, &lower_options).with_context(|| format!("lowering {}", path.display()))?;
    make_app_ready(&mut model, options, &path)?;
    let layers = layer_counts(&model);
    let names = |f: &[crate::proto::coreml::FeatureDescription]| f.iter().map(|d| d.name.clone()).collect();
    let (inputs, outputs) = model.description.as_ref().map_or((vec![], vec![]), |d| (names(&d.input), names(&d.output)));
    Ok(Converted { mlmodel: model.encode_to_vec(), layers, inputs, outputs })
}

/// Explains `source`'s custom layers as `mlrewrite explain --format json` does.
pub fn explain_json(source: &Source, options: &Options) -> Result<String> {
    let path = source.display_path();
    let (set, compiled) = rules(options)?;
    let graph = load(source, options, &compiled)?;
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let explain_options = ExplainOptions {
        selection: Selection::CustomLayers,
        convert: ConvertOptions { outputs: options.outputs.clone(), ..ConvertOptions::default() },
    };
    let report = explain::explain(&graph, &name, &set, &compiled, &explain_options).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(explain::to_json(&report))
}

/// What [`run`] computed: every output by name, and for a classifier the predicted label
/// (the feature's name and the label).
#[derive(Debug, Clone)]
pub struct RunResult {
    pub outputs: BTreeMap<String, ndarray::ArrayD<f32>>,
    pub predicted: Option<(String, String)>,
}

/// Runs a `.mlmodel` (its bytes; `name` stands for it in messages) with the reference
/// interpreter, as `mlrewrite run` does: `inputs` by input name (an image input takes pixel
/// values `[C,H,W]` or `[H,W,C]`), `images` PNG files by image input name. A custom layer runs
/// the `reference` of its registration in the standard rules and `options.rules`.
pub fn run(
    mlmodel: &[u8],
    name: &str,
    given: BTreeMap<String, ndarray::ArrayD<f32>>,
    images: &BTreeMap<String, PathBuf>,
    options: &Options,
) -> Result<RunResult> {
    use crate::run::{lookup, Interpreter, RunOptions};
    let model = crate::proto::coreml::Model::decode(mlmodel).with_context(|| format!("{name} is not a Core ML model"))?;
    let mut run_options = RunOptions::default();
    if !crate::reference::custom_classes(&model).is_empty() {
        let (set, compiled) = rules(options)?;
        let rules_only = std::sync::Arc::new(set.compile_rules_only()?);
        run_options.custom_kernels = crate::reference::kernels(&compiled.registrations, rules_only);
    }
    let interp = Interpreter::new(&model, run_options).with_context(|| format!("running {name}"))?;
    let mut inputs = BTreeMap::new();
    for input in interp.input_names() {
        let array = match (images.get(input), lookup(&given, input)) {
            (Some(png), Some((key, _))) => anyhow::bail!("input `{input}` is given twice: as the image {} and as the array `{key}`", png.display()),
            // CHW, so that no image size can make the interpreter read it as HWC.
            (Some(png), None) => crate::run::image_file::image_input(&model, input, png)?.permuted_axes(ndarray::IxDyn(&[2, 0, 1])).as_standard_layout().into_owned(),
            (None, Some((_, a))) => a.clone(),
            (None, None) => anyhow::bail!(
                "running {name}: no value for model input `{input}` (looked for `{input}` and `{input}:0` among the arrays{})",
                if images.is_empty() { "" } else { " and the images" }
            ),
        };
        inputs.insert(input.to_string(), array);
    }
    for image in images.keys().filter(|k| !inputs.contains_key(*k)) {
        // Names the missing input with the model's inputs.
        crate::run::image_file::image_input(&model, image, &images[image])?;
    }
    let mut outputs = interp.run(inputs).with_context(|| format!("running {name}"))?;
    let names: std::collections::BTreeSet<String> = interp.output_names().iter().map(|s| s.to_string()).collect();
    outputs.retain(|k, _| names.contains(k));
    let predicted = interp.predicted_label(&model, &outputs);
    Ok(RunResult { outputs, predicted })
}
