//! Command-line interface (clap derive). One module per subcommand.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

pub mod convert;
pub mod explain;
pub mod inspect;
pub mod cputime;
pub mod memory;
pub mod rules;
pub mod run;
pub mod swift;

/// Convert TensorFlow frozen graphs into Core ML Neural Network models, with rules written as data.
#[derive(Debug, Parser)]
#[command(name = "mlrewrite", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert a TensorFlow frozen graph (.pb) into a Core ML model (.mlmodel).
    Convert(convert::Args),
    /// Explain why nodes became custom layers and why rules did not fire.
    Explain(explain::Args),
    /// Summarise a TensorFlow GraphDef (.pb) or a Core ML model (.mlmodel).
    Inspect(inspect::Args),
    /// Check and list conversion rules (rules/*.rules and --rules DIR).
    Rules(rules::Args),
    /// Run a Core ML Neural Network model on .npz inputs with the reference interpreter.
    Run(run::Args),
    /// Write Swift MLCustomLayer stubs for the custom layers of a .mlmodel.
    Swift(swift::Args),
}

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Convert(args) => convert::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Run(args) => run::run(args),
        Command::Swift(args) => swift::run(args),
    }
}

/// Refuses an output path that names one of the command's inputs (also through a link):
/// `convert model.pb -o model.pb` must not overwrite the graph it reads.
pub fn refuse_input_as_output(output: &std::path::Path, inputs: &[&std::path::Path]) -> anyhow::Result<()> {
    let Ok(out) = std::fs::canonicalize(output) else { return Ok(()) };
    for input in inputs {
        if std::fs::canonicalize(input).is_ok_and(|i| i == out) {
            anyhow::bail!("the output {} is the input {}: choose another output path (-o)", output.display(), input.display());
        }
    }
    Ok(())
}

/// The `--input-shape` and `--enumerated-shapes` arguments (`convert`, `explain`) by input
/// name; one input may be named once.
pub fn input_shape_specs(
    input_shape: &[String],
    enumerated: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, mlrewrite::lower::flexible::InputShapeSpec>> {
    use anyhow::Context;
    use mlrewrite::lower::flexible;
    let parsed = input_shape.iter().map(|a| flexible::parse_input_shape(a)).chain(enumerated.iter().map(|a| flexible::parse_enumerated(a)));
    let mut specs = std::collections::BTreeMap::new();
    for p in parsed {
        let (name, spec) = p.context("--input-shape / --enumerated-shapes")?;
        if specs.insert(name.clone(), spec).is_some() {
            anyhow::bail!("input `{name}` is given a shape twice (--input-shape / --enumerated-shapes)");
        }
    }
    Ok(specs)
}

/// The dims every allowed shape of an input agrees on: facts for the import
/// (`ir::load_with_input_dims`), so rules see them as known.
pub fn fixed_dims(
    specs: &std::collections::BTreeMap<String, mlrewrite::lower::flexible::InputShapeSpec>,
) -> std::collections::BTreeMap<String, Vec<Option<u64>>> {
    specs.iter().map(|(n, s)| (n.clone(), (0..s.rank()).map(|a| s.fixed_dim(a)).collect())).collect()
}
