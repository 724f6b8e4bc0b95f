use clap::Parser;

/// dead-threads: patch, build and verify Haiku's thread death entries.
#[derive(Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
}
