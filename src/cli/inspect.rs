//! `mlrewrite inspect`.
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A frozen TensorFlow graph (.pb) or a Core ML model (.mlmodel).
    pub model: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("inspect of {} is not implemented yet", args.model.display())
}
