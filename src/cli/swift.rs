//! `mlrewrite swift`: writes one Swift `MLCustomLayer` stub per custom class of a `.mlmodel`
//! (see `mlrewrite::swift`). The rule set is read only for the registrations' `input_order`
//! names and output dtypes, which the model does not store.

use anyhow::{Context, Result};
use mlrewrite::rules::compile::Action;
use mlrewrite::rules::load::Compiled;
use mlrewrite::rules::{LoadOptions, RuleSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A Core ML Neural Network model (.mlmodel) with custom layers.
    pub model: PathBuf,
    /// Directory to write `CLASS.swift` files into (created when missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Rule files (directory or file) whose registrations name the inputs, on top of the
    /// standard library.
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules of --rules, not the embedded standard library.
    #[arg(long)]
    pub no_std_rules: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let set = RuleSet::load(&LoadOptions { user: args.rules.clone(), no_std: args.no_std_rules })?;
    if set.errors() > 0 {
        eprint!("{}", mlrewrite::rules::diag::render_all(&set.diagnostics, &set.sources, 100));
    }
    let rules = set.compile()?;
    let model = mlrewrite::lower::mlmodel::read_model(&args.model)?;
    let written = write(&args.model, &model, &rules, &args.output)?;
    if written.is_empty() {
        anyhow::bail!("{}: the model has no custom layers, so there is no Swift class to write", args.model.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the stubs of `model` (read from or written to `source`) into `dir`, reporting each
/// file on stderr; returns the paths (none when the model has no custom layers).
pub fn write(source: &Path, model: &mlrewrite::proto::coreml::Model, rules: &Compiled, dir: &Path) -> Result<Vec<PathBuf>> {
    let regs = rules.registrations.iter().filter_map(|r| match &r.action {
        Action::Custom(reg) => Some(&**reg),
        _ => None,
    });
    let bindings = mlrewrite::swift::bindings(regs);
    let name = source.file_name().map_or_else(|| source.display().to_string(), |n| n.to_string_lossy().into_owned());
    let files = mlrewrite::swift::stubs(model, &name, &bindings).with_context(|| format!("Swift stubs for {}", source.display()))?;
    let written = mlrewrite::swift::write_stubs(dir, &files)?;
    for p in &written {
        eprintln!("Swift custom-layer stub written to {}", p.display());
    }
    Ok(written)
}
