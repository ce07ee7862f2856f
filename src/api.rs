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
    options.info.apply(&mut model).with_context(|| format!("converting {}", path.display()))?;
    let mut layers = BTreeMap::new();
    if let Some(crate::proto::coreml::model::Type::NeuralNetwork(nn)) = &model.r#type {
        for layer in nn.layers.iter().filter_map(|l| l.layer.as_ref()) {
            *layers.entry(crate::run::layer_kind(layer).to_string()).or_insert(0) += 1;
        }
    }
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
