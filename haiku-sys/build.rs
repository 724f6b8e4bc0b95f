//! Build script of haiku-sys: picks where Haiku's declarations come from
//! and writes the Rust bindings to `$OUT_DIR`.
//!
//! Header source, in order:
//! 1. building *for* Haiku (`CARGO_CFG_TARGET_OS=haiku`):
//!    `HAIKU_SYSROOT` (cross build) if set and holding headers; else the
//!    system headers when the build runs on Haiku itself; else `HAIKU_TOP`
//!    (a checkout) if set; else an error that says what to set;
//! 2. `HAIKU_TOP` set on any other host (and `HAIKU_SYS_BUNDLED` unset):
//!    the checkout's headers, parsed for x86_64-unknown-haiku — the
//!    bindings are then that revision's, so Rust code type-checks against it;
//! 3. otherwise the bundled bindings in src/bindings/ (no libclang needed).
//!
//! Every set of bindings (the thread API, the dead_threads test module's
//! ioctl ABI) is a `BindingsSpec` in codegen.rs (`BINDINGS`, shared with the
//! tests) and goes through the same steps ([`run_spec`]): bundled file or
//! bindgen with the source's clang arguments, then its C check with `cc`.
//!
//! The build prints no warning on the normal paths; the source it used is
//! in `haiku_sys::BINDINGS_SOURCE` (and in the build script's output, shown
//! by `cargo build -vv`). Warnings are for a fallback or a failure.

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

    /// Clang arguments (target, include paths) that make `#include <OS.h>`
    /// and our headers' `#include <stdint.h>` work for this source.
    fn clang_args(&self) -> Vec<String> {
        match self {
            // On Haiku itself the compiler's own search path is right.
            HeaderSource::System { target, .. } => vec![format!("--target={target}")],
            HeaderSource::Sysroot { headers, target } => haiku_headers_clang_args(headers, target),
            HeaderSource::Checkout { top, target } => checkout_clang_args(top, target),
            HeaderSource::Bundled { .. } => bundled_clang_args(),
        }
    }
}

/// Compiles `spec`'s C check (`c_check`) with `cc` for the target,
/// warnings as errors, into a static library linked into the crate. Include
/// dirs: the header's dir and the C file's (csrc/haiku_sys_c_facts.h). The
/// compiler is `cc`'s choice for the target. The error names the file.
fn compile_c_check(manifest_dir: &Path, spec: &BindingsSpec, c_check: &str) -> Result<(), String> {
    let source = manifest_dir.join(c_check);
    let c_dir = source.parent().map(Path::to_path_buf).unwrap_or_default();
    // The C file and what it includes from its directory.
    println!("cargo:rerun-if-changed={}", c_dir.display());
    let header = manifest_dir.join(spec.bundled_header);
    let header_dir = header.parent().map(Path::to_path_buf).unwrap_or_default();
    let lib_name = format!("haiku_sys_{}", spec.out_file.trim_end_matches(".rs"));
    cc::Build::new()
        .file(&source)
        .include(header_dir)
        .include(c_dir)
        .warnings(true)
        .warnings_into_errors(true)
        .try_compile(&lib_name)
        .map_err(|e| format!("the C check {c_check} does not compile: {e}"))
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
            match (find_headers(&root), top.clone()) {
                (Ok(headers), _) => return Ok(HeaderSource::Sysroot { headers, target }),
                // A cross-tools sysroot holds headers only once haiku_devel
                // is extracted into it; the checkout has the same headers.
                (Err(e), Some(top)) => {
                    println!("cargo:warning=haiku-sys: HAIKU_SYSROOT: {e}; using HAIKU_TOP");
                    return checkout(top, target);
                }
                (Err(e), None) => return Err(format!("HAIKU_SYSROOT: {e}")),
            }
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

/// Produces `$OUT_DIR/<spec.out_file>` from `source`, and compiles the
/// spec's C check if it has one.
fn run_spec(
    manifest_dir: &Path,
    out_dir: &Path,
    spec: &BindingsSpec,
    source: &HeaderSource,
) -> Result<(), String> {
    println!("cargo:rerun-if-changed={}", spec.bundled_header);
    println!("cargo:rerun-if-changed={}", spec.bundled_bindings);
    let out = out_dir.join(spec.out_file);
    let own_header = manifest_dir.join(spec.bundled_header);
    // The C check includes it whatever the source; bindgen may parse it.
    if !own_header.is_file() {
        return Err(format!(
            "the {} header {} is missing: haiku-sys is built from the \
             dead-threads workspace, which has it",
            spec.name,
            own_header.display()
        ));
    }
    if let HeaderSource::Bundled { .. } = source {
        let bundled = manifest_dir.join(spec.bundled_bindings);
        fs::copy(&bundled, &out).map_err(|e| {
            format!(
                "cannot copy the bundled {} bindings {} to {}: {e}",
                spec.name,
                bundled.display(),
                out.display()
            )
        })?;
    } else {
        libclang_available()?;
        let header = match spec.system_header {
            Some(system_header) => {
                let wrapper = out_dir.join(format!("{}.wrapper.h", spec.out_file));
                fs::write(&wrapper, format!("#include <{system_header}>\n"))
                    .map_err(|e| format!("cannot write {}: {e}", wrapper.display()))?;
                wrapper
            }
            None => own_header.clone(),
        };
        let bindings = (spec.builder)(&header, &source.clang_args(), out_dir)
            .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
            .generate()
            .map_err(|e| {
                format!(
                    "bindgen failed on {} ({}): {e}",
                    header.display(),
                    spec.name
                )
            })?;
        bindings
            .write_to_file(&out)
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    if let Some(c_check) = spec.c_check {
        compile_c_check(manifest_dir, spec, c_check)?;
    }
    Ok(())
}

/// Sets the cfgs haiku-sys's own tests use to report themselves ignored,
/// with the reason, when this machine lacks what they need:
///
/// | cfg | set when |
/// |---|---|
/// | `haiku_top` | `HAIKU_TOP` is set and holds `headers/os/kernel/OS.h` |
/// | `has_libclang` | bindgen can load libclang (`LIBCLANG_PATH` or the system's) |
fn test_cfgs() {
    println!("cargo:rustc-check-cfg=cfg(haiku_top)");
    println!("cargo:rustc-check-cfg=cfg(has_libclang)");
    if env_path("HAIKU_TOP").is_some_and(|top| top.join("headers/os/kernel/OS.h").is_file()) {
        println!("cargo:rustc-cfg=haiku_top");
    }
    if libclang_available().is_ok() {
        println!("cargo:rustc-cfg=has_libclang");
    }
}

fn main() -> ExitCode {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");
    test_cfgs();

    let source = match detect_source() {
        Ok(s) => s,
        Err(e) => {
            println!("cargo:warning=haiku-sys: {e}");
            eprintln!("haiku-sys: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The normal paths print no warning: the source is in BINDINGS_SOURCE
    // and, for `cargo build -vv`, in the build script's output.
    println!("haiku-sys: using {}", source.describe());
    println!(
        "cargo:rustc-env=HAIKU_SYS_BINDINGS_SOURCE={}",
        source.describe()
    );

    // For dependents (`links`): DEP_HAIKU_THREAD_API_INCLUDE names the dir of
    // our bundled header.
    println!("cargo:include={}", manifest_dir.join("include").display());
    println!("cargo:rerun-if-changed=codegen.rs");
    for spec in BINDINGS {
        if let Err(e) = run_spec(&manifest_dir, &out_dir, spec, &source) {
            println!("cargo:warning=haiku-sys: {e}");
            eprintln!("haiku-sys: {e}");
            let for_haiku = env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "haiku");
            if matches!(source, HeaderSource::Checkout { .. }) && !for_haiku {
                println!(
                    "cargo:warning=haiku-sys: to build with the bundled bindings instead, \
                     unset HAIKU_TOP or set HAIKU_SYS_BUNDLED=1"
                );
            }
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
