use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// dead-threads: patch, build and verify Haiku's thread death entries.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Boot a Haiku test image in QEMU and report the KTAP results from its serial port.
    Qemu(dead_threads::qemu::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Qemu(args) => dead_threads::qemu::run_command(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
