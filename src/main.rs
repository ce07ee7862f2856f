//! The `mlrewrite` command line. Each subcommand lives in `src/cli/<name>.rs`; this file only
//! parses arguments and turns errors into one message and a non-zero exit code.

mod cli;

use clap::Parser;

/// mimalloc instead of glibc's allocator: conversion allocates and frees many small e-nodes,
/// attribute maps and cost-set nodes, and glibc's malloc/free/consolidate took about 30% of a
/// 30,000-op conversion's time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    restore_default_sigpipe();
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a closed pipe (`mlrewrite inspect m.pb | head`) makes
/// `println!` panic. A command-line tool should end quietly instead, as `cat` does: restore the
/// default action.
#[cfg(unix)]
fn restore_default_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_default_sigpipe() {}
