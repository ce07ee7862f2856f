//! `mlrewrite explain`: for the custom layers of a model (or any node, or every node of an
//! op), the rules rooted at its op and where each failed, and the registration that won.
//! The work is in `mlrewrite::explain`; this file reads arguments and prints.

use anyhow::Result;
use clap::{Args as ClapArgs, ValueEnum};
use mlrewrite::explain::{self, ExplainOptions, Selection};
use mlrewrite::ir;
use mlrewrite::rewrite::{ConvertOptions, Limits};
use mlrewrite::rules::{LoadOptions, RuleSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The frozen TensorFlow graph (GraphDef .pb), or a SavedModel directory.
    pub model: PathBuf,
    /// The SavedModel signature to convert (its inputs and outputs).
    #[arg(long, value_name = "NAME", default_value = mlrewrite::ir::savedmodel::DEFAULT_SIGNATURE)]
    pub signature: String,
    /// Explain this node (any node), instead of every custom layer.
    #[arg(long, value_name = "NAME", conflicts_with = "op")]
    pub node: Option<String>,
    /// Explain every node of this TF op.
    #[arg(long, value_name = "OP")]
    pub op: Option<String>,
    /// Add the rule files of this directory (or file) on top of the standard library.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules of --rules, not the embedded standard library.
    #[arg(long)]
    pub no_std_rules: bool,
    /// Extra model outputs, as for `convert`.
    #[arg(long, value_delimiter = ',', value_name = "TENSOR,...")]
    pub outputs: Vec<String>,
    /// Input shapes, as for `convert` (dims they fix are known to the rules, so the
    /// explanation must see them too).
    #[arg(long = "input-shape", value_name = "NAME=DIMS")]
    pub input_shape: Vec<String>,
    /// Enumerated input shapes, as for `convert`.
    #[arg(long = "enumerated-shapes", value_name = "NAME=SHAPE;SHAPE...")]
    pub enumerated_shapes: Vec<String>,
    /// Output format: text, or JSON with the schema of docs/explain.md.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Saturation budgets, as for `convert` (an explanation must see the same e-graph).
    #[arg(long, value_name = "N", default_value_t = Limits::default().nodes)]
    pub node_limit: usize,
    #[arg(long, value_name = "N", default_value_t = Limits::default().iterations)]
    pub iter_limit: usize,
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().time.as_secs_f64())]
    pub time_limit: f64,
}

/// The name a report shows for a model: its file name.
pub fn model_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

pub fn limits(node_limit: usize, iter_limit: usize, time_limit: f64) -> Result<Limits> {
    if !(time_limit >= 0.0 && time_limit.is_finite()) {
        anyhow::bail!("--time-limit must be a number of seconds >= 0, got {time_limit}");
    }
    Ok(Limits { nodes: node_limit, iterations: iter_limit, time: Duration::from_secs_f64(time_limit) })
}

pub fn run(args: Args) -> Result<ExitCode> {
    let set = RuleSet::load(&LoadOptions { user: args.rules.clone(), no_std: args.no_std_rules })?;
    if set.errors() > 0 {
        eprint!("{}", mlrewrite::rules::diag::render_all(&set.diagnostics, &set.sources, 100));
    }
    let rules = set.compile()?;
    // Imported with the rules' shape functions (their `infer` items), as `convert` does.
    let specs = super::input_shape_specs(&args.input_shape, &args.enumerated_shapes)?;
    let (graph, _) = ir::load_model(&args.model, Some(&args.signature), &rules.shapes, &super::fixed_dims(&specs))?;
    let selection = match (&args.node, &args.op) {
        (Some(n), _) => Selection::Node(n.clone()),
        (None, Some(op)) => Selection::Op(op.clone()),
        (None, None) => Selection::CustomLayers,
    };
    let convert = ConvertOptions { limits: limits(args.node_limit, args.iter_limit, args.time_limit)?, outputs: args.outputs.clone(), ..Default::default() };
    let report = match explain::explain(&graph, &model_name(&args.model), &set, &rules, &ExplainOptions { selection, convert }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", args.model.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    match args.format {
        Format::Text => print!("{}", explain::text::render(&report)),
        Format::Json => print!("{}", explain::to_json(&report)),
    }
    Ok(ExitCode::SUCCESS)
}
