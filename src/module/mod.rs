//! `dead-threads module`: the in-kernel test module (`kernel-patch/module/`).
//!
//! `module check --haiku DIR` compiles the driver (`dead_threads.cpp`, with
//! the `KernelAddon` profile of [`crate::haiku_cc`]) and a userland C file
//! that includes its ioctl ABI header against a Haiku checkout, each for
//! x86_64 and for 32-bit x86: the header's static assertions pin one layout
//! for both. A check passes only when every unit compiles without errors
//! *and* without warnings.
//!
//! The submodules hold what the device tests (tests/haiku_device*.rs) share
//! with their Linux self-test: [`experiment`] (the native-thread
//! experiment), [`report`] (outcome -> snapshot text) and [`model`] (a
//! legacy/unlimited model of a team's dead list, and an unpatched/lossless
//! model of the join race).

pub mod experiment;
pub mod model;
pub mod report;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::haiku_cc::{self, Arch, CompileOptions, CompileResult, Profile, Severity};

/// `dead-threads module ...`
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Compile the test module and its ABI header against a Haiku checkout
    /// (clang --target=x86_64-unknown-haiku and i586-unknown-haiku with the
    /// checkout's headers).
    Check {
        /// The Haiku checkout (its top directory; never modified).
        #[arg(long, env = "HAIKU_TOP", value_name = "DIR")]
        haiku: PathBuf,
        /// The module's sources (default: this repository's
        /// kernel-patch/module).
        #[arg(long, value_name = "DIR")]
        module_dir: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The module's sources in this repository.
pub fn default_module_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kernel-patch/module")
}

/// The driver's translation unit inside the module directory.
pub const DRIVER_SOURCE: &str = "dead_threads.cpp";
/// The ioctl ABI header inside the module directory.
pub const ABI_HEADER: &str = "dead_threads_ioctl.h";

/// The result of compiling one translation unit.
#[derive(Debug, Serialize)]
pub struct UnitCheck {
    /// What was compiled, e.g. "driver (kernel add-on, x86_64)".
    pub unit: String,
    /// The architecture it was compiled for.
    pub arch: Arch,
    /// Compiled without errors and without warnings.
    pub clean: bool,
    /// The engine's result (diagnostics, command line).
    pub result: CompileResult,
}

/// The result of `module check` against one checkout.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// The checkout.
    pub haiku: PathBuf,
    /// One entry per translation unit.
    pub units: Vec<UnitCheck>,
}

impl CheckReport {
    /// Every unit compiled cleanly.
    pub fn clean(&self) -> bool {
        self.units.iter().all(|u| u.clean)
    }
}

/// Userland C that includes the ABI header as a Haiku program would
/// (written next to a copy of the header in a temporary directory).
const USERLAND_PROBE: &str = r#"/* dead-threads: the ABI header as userland C sees it. */
#include <OS.h>
#include <Drivers.h>

#include "dead_threads_ioctl.h"

_Static_assert(DEAD_THREADS_OP_BASE == B_DEVICE_OP_CODES_END + 1,
	"opcode base");
_Static_assert(sizeof(thread_id) == sizeof(int32_t), "thread_id");
_Static_assert(sizeof(status_t) == sizeof(int32_t), "status_t");

int dead_threads_probe(void);

int
dead_threads_probe(void)
{
	dead_threads_race_request request = { DEAD_THREADS_ABI_VERSION,
		sizeof(request), 0 };
	return (int)request.size;
}
"#;

/// Compiles the module's driver and a userland probe of its ABI header
/// against `haiku` (never modified: only read).
pub fn check(haiku: &Path, module_dir: &Path) -> anyhow::Result<CheckReport> {
    let clang = haiku_cc::find_clang()?;
    let driver = module_dir.join(DRIVER_SOURCE);
    let header = module_dir.join(ABI_HEADER);
    for f in [&driver, &header] {
        anyhow::ensure!(
            f.is_file(),
            "{} is missing: pass --module-dir pointing at kernel-patch/module",
            f.display()
        );
    }

    let tmp = tempfile::Builder::new()
        .prefix("dead-threads-module")
        .tempdir()
        .context("creating a temporary directory")?;
    let probe = tmp.path().join("abi_probe.c");
    std::fs::write(&probe, USERLAND_PROBE).context("writing the ABI probe")?;

    let mut units = Vec::new();
    for arch in Arch::ALL {
        let result = haiku_cc::compile_with(
            &clang,
            haiku,
            Profile::KernelAddon,
            &driver,
            &CompileOptions {
                arch,
                ..CompileOptions::default()
            },
        )?;
        units.push(unit(
            &format!("driver (kernel add-on, {arch})"),
            arch,
            result,
        ));
        let result = haiku_cc::compile_with(
            &clang,
            haiku,
            Profile::Userland,
            &probe,
            &CompileOptions {
                extra_includes: vec![module_dir.to_path_buf()],
                arch,
                ..CompileOptions::default()
            },
        )?;
        units.push(unit(
            &format!("ABI header (userland C, {arch})"),
            arch,
            result,
        ));
    }

    Ok(CheckReport {
        haiku: haiku.to_path_buf(),
        units,
    })
}

fn unit(name: &str, arch: Arch, result: CompileResult) -> UnitCheck {
    let clean = result.ok
        && !result
            .diagnostics
            .iter()
            .any(|d| matches!(d.severity, Severity::Error | Severity::Warning));
    UnitCheck {
        unit: name.to_string(),
        arch,
        clean,
        result,
    }
}

/// Entry point of `dead-threads module`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Check {
            haiku,
            module_dir,
            json,
        } => {
            let module_dir = module_dir.unwrap_or_else(default_module_dir);
            let report = match check(&haiku, &module_dir) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return Ok(ExitCode::from(2));
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_human(&report);
            }
            Ok(if report.clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn print_human(report: &CheckReport) {
    println!("module check against {}", report.haiku.display());
    for u in &report.units {
        let verdict = if u.clean { "clean" } else { "FAILED" };
        println!(
            "  {:<36} {} ({} warnings, {} errors)",
            u.unit,
            verdict,
            u.result.warning_count(),
            u.result.errors().count()
        );
        for d in &u.result.diagnostics {
            if d.severity != Severity::Note {
                println!("    {d}");
            }
        }
        if !u.clean && u.result.diagnostics.is_empty() {
            println!("    {}", u.result.stderr.trim());
        }
    }
    if report.clean() {
        println!("module compiles cleanly");
    } else {
        println!(
            "module does not compile cleanly: fix the diagnostics above \
             (kernel-patch/module/) and run the check again"
        );
    }
}
