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
    /// Recognise a Haiku tree and apply, revert or compile-check the kernel patch series.
    Patch(dead_threads::patch::Args),
    /// The in-kernel test module: compile-check it against a Haiku checkout.
    Module(dead_threads::module::Args),
    /// Hook the test image into a Haiku checkout's jam build (install, uninstall, status).
    Jam(dead_threads::jam::Args),
    /// Build the test image with the checkout's jam.
    Image(dead_threads::image::Args),
    /// Boot a Haiku test image in QEMU and report the KTAP results from its serial port.
    Qemu(dead_threads::qemu::Args),
    /// Patch, build, boot and verify in one go: patch apply, jam install, cross-build, image, qemu.
    Verify(dead_threads::verify::Args),
    /// Benchmark death-entry lookup: upstream's list against the modern series' index.
    Bench(dead_threads::bench::Args),
    /// What `verify` cross-builds for Haiku, as cargo options (for CI).
    #[command(hide = true)]
    CrossTargets {
        /// The dead-threads repository.
        #[arg(long, value_name = "DIR", default_value = dead_threads::jam::THIS_REPO)]
        repo: std::path::PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Qemu(_) | Command::Verify(_)) {
        default_sigpipe();
    }
    let result = match cli.command {
        Command::Conformance(args) => dead_threads::conformance::run(args),
        Command::Patch(args) => dead_threads::patch::run(args),
        Command::Module(args) => dead_threads::module::run(args),
        Command::Jam(args) => dead_threads::jam::run(args),
        Command::Image(args) => dead_threads::image::run(args),
        Command::Qemu(args) => dead_threads::qemu::run_command(args),
        Command::Verify(args) => dead_threads::verify::run(args),
        Command::Bench(args) => dead_threads::bench::run(args),
        Command::CrossTargets { repo } => {
            dead_threads::cross::print_cross_targets(&repo).map(|()| ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(2)
    })
}

/// `dead-threads patch status --json | head` ends quietly, as Unix tools do,
/// instead of panicking on a closed stdout. Not for `qemu` and `verify`: they
/// write KDL commands to QEMU's stdin and must see EPIPE as an error there.
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: at the start of main, before any thread exists; SIG_DFL is a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
