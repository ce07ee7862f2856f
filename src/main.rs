//! The `mlrewrite` command line. Each subcommand lives in `src/cli/<name>.rs`; this file only
//! parses arguments and turns errors into one message and a non-zero exit code.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}
