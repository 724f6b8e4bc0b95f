use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// dead-threads: patch, build and verify Haiku's thread death entries.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Recognise a Haiku tree and apply, revert or compile-check the kernel patch series.
    Patch(dead_threads::patch::Args),
    /// The in-kernel test module: compile-check it against a Haiku checkout.
    Module(dead_threads::module::Args),
    /// Measure the cost of joining dead threads: upstream's list vs. the index.
    Bench(dead_threads::bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Patch(args) => dead_threads::patch::run(args),
        Command::Module(args) => dead_threads::module::run(args),
        Command::Bench(args) => dead_threads::bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
