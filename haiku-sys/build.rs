//! Build script of haiku-sys: picks where Haiku's declarations come from
//! and writes the Rust bindings to `$OUT_DIR`.
//!
//! Header source, in order:
//! 1. building *for* Haiku (`CARGO_CFG_TARGET_OS=haiku`):
//!    `HAIKU_SYSROOT` (cross build) if set; else the system headers when the
//!    build runs on Haiku itself; else `HAIKU_TOP` (a checkout) if set;
//!    else an error that says what to set;
//! 2. `HAIKU_TOP` set on any other host (and `HAIKU_SYS_BUNDLED` unset):
//!    the checkout's headers, parsed for x86_64-unknown-haiku — the
//!    bindings are then that revision's, so Rust code type-checks against it;
//! 3. otherwise the bundled bindings in src/bindings/ (no libclang needed).
//!
//! Each bindgen job is one [`BindgenJob`]; a second header (e.g. the test
//! module's ioctl ABI) is one more entry in `jobs()` plus its builder in
//! codegen.rs. [`compile_c_check`] compiles a C file with `cc` (for
//! static-assert checks of an ABI header).

use std::env;
use std::fs;
use std::process::ExitCode;

include!("codegen.rs");

/// Where the Haiku declarations come from.
#[derive(Debug, Clone)]
enum HeaderSource {
    /// Headers installed on the Haiku system the build runs on.
    System { headers: PathBuf, target: String },
    /// A Haiku cross-build sysroot (`HAIKU_SYSROOT`).
    Sysroot { headers: PathBuf, target: String },
    /// A Haiku source checkout (`HAIKU_TOP`).
    Checkout { top: PathBuf, target: String },
    /// The bindings bundled in this crate.
    Bundled { why: String },
}

impl HeaderSource {
    fn describe(&self) -> String {
        match self {
            HeaderSource::System { headers, target } => {
                format!("system headers {} ({target})", headers.display())
            }
            HeaderSource::Sysroot { headers, target } => {
                format!("HAIKU_SYSROOT headers {} ({target})", headers.display())
            }
            HeaderSource::Checkout { top, target } => {
                format!("HAIKU_TOP checkout {} ({target})", top.display())
            }
            HeaderSource::Bundled { why } => format!("bundled bindings ({why})"),
        }
    }

    /// Clang arguments that make `#include <OS.h>` work for this source.
    fn clang_args(&self) -> Vec<String> {
        match self {
            HeaderSource::System { headers, target }
            | HeaderSource::Sysroot { headers, target } => {
                let mut args = vec![format!("--target={target}")];
                for dir in [
                    "",
                    "config",
                    "os",
                    "os/kernel",
                    "os/support",
                    "os/storage",
                    "posix",
                ] {
                    let d = headers.join(dir);
                    if d.is_dir() {
                        args.push("-isystem".to_owned());
                        args.push(d.to_string_lossy().into_owned());
                    }
                }
                args
            }
            HeaderSource::Checkout { top, target } => checkout_clang_args(top, target),
            HeaderSource::Bundled { .. } => bundled_clang_args(),
        }
    }
}

/// One set of bindings to produce.
struct BindgenJob {
    /// Short name used in messages.
    name: &'static str,
    /// File written in `$OUT_DIR` (the crate `include!`s it).
    out_file: &'static str,
    /// Bundled bindings (relative to the crate), used without libclang.
    bundled: &'static str,
    /// Files whose change must rerun the build script.
    inputs: &'static [&'static str],
    /// Builds the bindgen builder for a header source; `None` means this
    /// job always uses its own header (see `own_header`).
    builder: fn(&Path, &HeaderSource) -> bindgen::Builder,
    /// Header parsed for this job, given the crate dir and the source.
    header: fn(&Path, &HeaderSource) -> PathBuf,
}

fn jobs() -> Vec<BindgenJob> {
    vec![BindgenJob {
        name: "thread API",
        out_file: "thread_api.rs",
        bundled: BUNDLED_BINDINGS,
        inputs: &[BUNDLED_HEADER, BUNDLED_BINDINGS, "codegen.rs"],
        builder: |header, source| {
            let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
            thread_api_builder(header, &source.clang_args(), &out_dir)
        },
        header: |manifest_dir, source| match source {
            HeaderSource::Bundled { .. } => manifest_dir.join(BUNDLED_HEADER),
            _ => PathBuf::from(env::var("OUT_DIR").unwrap()).join("haiku_os_wrapper.h"),
        },
    }]
}

/// Compiles a C check file with `cc` into a static library linked into
/// the crate (for `_Static_assert`s on an ABI header). A failing assertion
/// fails the build. The C compiler is the host's unless building for Haiku.
#[allow(dead_code)]
fn compile_c_check(manifest_dir: &Path, source: &str, include_dirs: &[PathBuf], lib_name: &str) {
    println!("cargo:rerun-if-changed={source}");
    let mut build = cc::Build::new();
    build.file(manifest_dir.join(source)).warnings(true);
    for dir in include_dirs {
        build.include(dir);
    }
    build.compile(lib_name);
}

fn env_path(name: &str) -> Option<PathBuf> {
    println!("cargo:rerun-if-env-changed={name}");
    env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Maps a Rust target triple to the clang triple for Haiku.
fn clang_target_for(rust_target: &str) -> String {
    match rust_target.split('-').next() {
        Some("x86_64") => "x86_64-unknown-haiku".to_owned(),
        Some("i686") | Some("i586") => "i586-unknown-haiku".to_owned(),
        Some("aarch64") => "aarch64-unknown-haiku".to_owned(),
        Some(arch) if arch.starts_with("riscv64") => "riscv64-unknown-haiku".to_owned(),
        _ => rust_target.to_owned(),
    }
}

/// Finds the `develop/headers` dir of a Haiku sysroot or installation.
fn find_headers(root: &Path) -> Result<PathBuf, String> {
    let candidates = [
        root.join("boot/system/develop/headers"),
        root.join("system/develop/headers"),
        root.join("develop/headers"),
        root.join("headers"),
    ];
    for c in &candidates {
        if c.join("os/kernel/OS.h").is_file() {
            return Ok(c.clone());
        }
    }
    Err(format!(
        "no os/kernel/OS.h below {} (looked in {})",
        root.display(),
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn checkout(top: PathBuf, target: String) -> Result<HeaderSource, String> {
    if top.join("headers/os/kernel/OS.h").is_file() {
        Ok(HeaderSource::Checkout { top, target })
    } else {
        Err(format!(
            "HAIKU_TOP={} is not a Haiku checkout: headers/os/kernel/OS.h is missing. \
             Point HAIKU_TOP at the top of a haiku/haiku clone, or unset it \
             (or set HAIKU_SYS_BUNDLED=1) to use the bundled bindings.",
            top.display()
        ))
    }
}

fn detect_source() -> Result<HeaderSource, String> {
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let rust_target = env::var("TARGET").unwrap_or_default();
    let sysroot = env_path("HAIKU_SYSROOT");
    let top = env_path("HAIKU_TOP");
    let force_bundled = env_path("HAIKU_SYS_BUNDLED").is_some();

    if target_os == "haiku" {
        let target = clang_target_for(&rust_target);
        if let Some(root) = sysroot {
            let headers = find_headers(&root).map_err(|e| format!("HAIKU_SYSROOT: {e}"))?;
            return Ok(HeaderSource::Sysroot { headers, target });
        }
        // The build script runs on the host: cfg!(target_os) is the host's.
        if cfg!(target_os = "haiku") {
            let headers = find_headers(Path::new("/boot/system"))?;
            return Ok(HeaderSource::System { headers, target });
        }
        if let Some(top) = top {
            return checkout(top, target);
        }
        return Err(format!(
            "cross-building for {rust_target} needs Haiku's headers: set \
             HAIKU_SYSROOT to the cross sysroot (e.g. \
             <haiku build dir>/cross-tools-x86_64/sysroot) or HAIKU_TOP to a \
             haiku/haiku checkout"
        ));
    }
    if force_bundled {
        return Ok(HeaderSource::Bundled {
            why: "HAIKU_SYS_BUNDLED is set".to_owned(),
        });
    }
    if let Some(top) = top {
        return checkout(top, DEFAULT_HAIKU_CLANG_TARGET.to_owned());
    }
    Ok(HeaderSource::Bundled {
        why: "not building for Haiku and HAIKU_TOP is unset".to_owned(),
    })
}

fn run_job(
    manifest_dir: &Path,
    out_dir: &Path,
    job: &BindgenJob,
    source: &HeaderSource,
) -> Result<(), String> {
    for input in job.inputs {
        println!("cargo:rerun-if-changed={input}");
    }
    let out = out_dir.join(job.out_file);
    if let HeaderSource::Bundled { .. } = source {
        let bundled = manifest_dir.join(job.bundled);
        fs::copy(&bundled, &out).map_err(|e| {
            format!(
                "cannot copy the bundled {} bindings {} to {}: {e}",
                job.name,
                bundled.display(),
                out.display()
            )
        })?;
        return Ok(());
    }
    libclang_available()?;
    let header = (job.header)(manifest_dir, source);
    let bindings = (job.builder)(&header, source)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .map_err(|e| format!("bindgen failed on {} ({}): {e}", header.display(), job.name))?;
    bindings
        .write_to_file(&out)
        .map_err(|e| format!("cannot write {}: {e}", out.display()))
}

fn main() -> ExitCode {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");

    let source = match detect_source() {
        Ok(s) => s,
        Err(e) => {
            println!("cargo:warning=haiku-sys: {e}");
            eprintln!("haiku-sys: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !matches!(source, HeaderSource::Bundled { .. }) {
        // The thread API job includes <OS.h> through a wrapper.
        let wrapper = out_dir.join("haiku_os_wrapper.h");
        if let Err(e) = fs::write(&wrapper, "#include <OS.h>\n") {
            println!(
                "cargo:warning=haiku-sys: cannot write {}: {e}",
                wrapper.display()
            );
            return ExitCode::FAILURE;
        }
    }
    println!("cargo:warning=haiku-sys: using {}", source.describe());
    println!(
        "cargo:rustc-env=HAIKU_SYS_BINDINGS_SOURCE={}",
        source.describe()
    );

    for job in jobs() {
        if let Err(e) = run_job(&manifest_dir, &out_dir, &job, &source) {
            println!("cargo:warning=haiku-sys: {e}");
            eprintln!("haiku-sys: {e}");
            if !matches!(source, HeaderSource::Bundled { .. }) {
                println!(
                    "cargo:warning=haiku-sys: the bindings come from {}; to build with \
                     the bundled ones instead, unset HAIKU_TOP or set HAIKU_SYS_BUNDLED=1",
                    source.describe()
                );
            }
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
