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
    /// Measure the cost of joining dead threads: upstream's list vs. the index.
    Bench(dead_threads::bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => dead_threads::bench::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}
