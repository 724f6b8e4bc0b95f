use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// dead-threads: patch, build and verify Haiku's thread death entries.
#[derive(Parser)]
#[command(version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the thread-join conformance suite on this OS (std::thread, pthread, native).
    Conformance(dead_threads::conformance::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Conformance(args) => dead_threads::conformance::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
