use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

/// The environment variables the tool reads, for `--help` (README.md,
/// "Environment", says the same).
const ENVIRONMENT: &str = "\
Environment:
  HAIKU_TOP                    default for --haiku (the top of a Haiku checkout);
                               set but empty counts as unset
  DEAD_THREADS_JAM             Haiku's jam, when it is not the `jam` in PATH
                               (image, verify)
  DEAD_THREADS_CLANG           the clang for x86_64-unknown-haiku (patch check,
                               module check; default: clang, then clang-20 ...
                               clang-11 in PATH)
  DEAD_THREADS_LIBCXX_INCLUDE  libc++'s headers (.../include/c++/v1) for that clang
  DEAD_THREADS_SERIES          the patch series manifest (default: this source
                               tree's kernel-patch/series.toml)
  CXX                          bench: the host C++ compiler (default: clang++, g++)
  PATH                         where qemu-system-x86_64, jam, clang, cargo and git
                               are looked up";

/// dead-threads: patch, build and verify Haiku's thread death entries.
#[derive(Parser)]
#[command(version, about, propagate_version = true, after_help = ENVIRONMENT)]
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
    /// Judge saved KTAP results: `ktap parse [FILE|-] [--json]`.
    Ktap(dead_threads::ktap::Args),
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
    empty_haiku_top_is_unset();
    let matches = Cli::command().get_matches();
    if let Some(hint) = haiku_inside_a_tree(&matches) {
        eprintln!("error: {hint}");
        return ExitCode::from(2);
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
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
        Command::Ktap(args) => dead_threads::ktap::run(args),
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

/// `HAIKU_TOP=` (set but empty) means no checkout, as an unset variable
/// does, instead of clap's "a value is required for --haiku".
fn empty_haiku_top_is_unset() {
    if std::env::var_os("HAIKU_TOP").is_some_and(|v| v.is_empty()) {
        // At the start of main, before any thread exists.
        std::env::remove_var("HAIKU_TOP");
    }
}

/// The `--haiku` value of the (possibly nested) subcommand.
fn haiku_arg(m: &ArgMatches) -> Option<PathBuf> {
    if let Ok(Some(p)) = m.try_get_one::<PathBuf>("haiku") {
        return Some(p.clone());
    }
    m.subcommand().and_then(|(_, sub)| haiku_arg(sub))
}

/// When `--haiku` (or HAIKU_TOP) names a directory inside a Haiku checkout
/// rather than its top (e.g. its `src/`), the error that says where the
/// top is.
fn haiku_inside_a_tree(m: &ArgMatches) -> Option<String> {
    let dir = haiku_arg(m)?;
    if !dir.is_dir() || dead_threads::sys::tree::is_haiku_top(&dir) {
        return None;
    }
    dead_threads::sys::tree::enclosing_haiku_top(&dir)
        .map(|_| dead_threads::sys::tree::top_hint(&dir))
}
