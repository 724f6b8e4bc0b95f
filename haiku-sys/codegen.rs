// Bindgen configuration shared by build.rs and the tests in tests/.
//
// This file is `include!`d (not a module): by build.rs, which generates the
// bindings the crate is built with, and by the tests, which regenerate the
// bundled bindings (tests/bundled_bindings.rs) and compare them with the
// ones a real Haiku checkout produces (tests/haiku_top_header.rs). Keeping
// the allowlists and the callbacks in one place is what makes those
// comparisons meaningful.
//
// Every set of bindings is one `BindingsSpec` in `BINDINGS`: Haiku's thread
// API (OS.h, stood in for by our include/haiku_thread_api.h) and the
// dead_threads test module's ioctl ABI (kernel-patch/module/
// dead_threads_ioctl.h). Another header is one more entry.

#[allow(unused_imports)]
use std::path::{Path, PathBuf};

/// The clang target the Haiku declarations are parsed for when the build
/// itself does not target Haiku (bundled bindings, `HAIKU_TOP` on any host).
#[allow(dead_code)]
const DEFAULT_HAIKU_CLANG_TARGET: &str = "x86_64-unknown-haiku";

/// Functions of the thread API (OS.h). `get_thread_info` is a macro in
/// OS.h that calls `_get_thread_info` with `sizeof(thread_info)`.
#[allow(dead_code)]
const THREAD_API_FUNCTIONS: &[&str] = &[
    "spawn_thread",
    "kill_thread",
    "resume_thread",
    "suspend_thread",
    "rename_thread",
    "set_thread_priority",
    "exit_thread",
    "wait_for_thread",
    "wait_for_thread_etc",
    "find_thread",
    "snooze",
    "_get_thread_info",
    "system_time",
    "debug_printf",
];

/// Types of the thread API (their dependencies come along).
#[allow(dead_code)]
const THREAD_API_TYPES: &[&str] = &[
    "thread_id",
    "team_id",
    "status_t",
    "bigtime_t",
    "thread_func",
    "thread_info",
    "thread_state",
];

/// Every status code the thread API, the safe layer and the dead_threads
/// device can report (Errors.h). build.rs types them as `status_t`.
#[allow(dead_code)]
const STATUS_CODES: &[&str] = &[
    "B_OK",
    "B_NO_ERROR",
    "B_ERROR",
    // General errors
    "B_NO_MEMORY",
    "B_IO_ERROR",
    "B_PERMISSION_DENIED",
    "B_BAD_INDEX",
    "B_BAD_TYPE",
    "B_BAD_VALUE",
    "B_MISMATCHED_VALUES",
    "B_NAME_NOT_FOUND",
    "B_NAME_IN_USE",
    "B_TIMED_OUT",
    "B_INTERRUPTED",
    "B_WOULD_BLOCK",
    "B_CANCELED",
    "B_NO_INIT",
    "B_NOT_INITIALIZED",
    "B_BUSY",
    "B_NOT_ALLOWED",
    "B_BAD_DATA",
    "B_DONT_DO_THAT",
    // Kernel kit errors
    "B_BAD_SEM_ID",
    "B_NO_MORE_SEMS",
    "B_BAD_THREAD_ID",
    "B_NO_MORE_THREADS",
    "B_BAD_THREAD_STATE",
    "B_BAD_TEAM_ID",
    "B_NO_MORE_TEAMS",
    "B_BAD_PORT_ID",
    "B_NO_MORE_PORTS",
    "B_BAD_IMAGE_ID",
    "B_BAD_ADDRESS",
    "B_NOT_AN_EXECUTABLE",
    "B_MISSING_LIBRARY",
    "B_MISSING_SYMBOL",
    "B_DEBUGGER_ALREADY_INSTALLED",
    // Storage kit errors met when opening a device
    "B_FILE_ERROR",
    "B_ENTRY_NOT_FOUND",
    // Errors defined through their POSIX counterparts
    "B_BUFFER_OVERFLOW",
    "B_TOO_MANY_ARGS",
    "B_FILE_TOO_LARGE",
    "B_RESULT_NOT_REPRESENTABLE",
    "B_DEVICE_NOT_FOUND",
    "B_NOT_SUPPORTED",
    // Device kit errors
    "B_DEV_INVALID_IOCTL",
    // POSIX errors a join can report (pthread_join, Rust's std::thread)
    "ESRCH",
    "EDEADLK",
];

/// Other constants: limits, timeouts, priorities and wait flags.
#[allow(dead_code)]
const THREAD_API_CONSTANTS: &[&str] = &[
    "B_OS_NAME_LENGTH",
    "B_INFINITE_TIMEOUT",
    // Priorities
    "B_IDLE_PRIORITY",
    "B_LOWEST_ACTIVE_PRIORITY",
    "B_LOW_PRIORITY",
    "B_NORMAL_PRIORITY",
    "B_DISPLAY_PRIORITY",
    "B_URGENT_DISPLAY_PRIORITY",
    "B_REAL_TIME_DISPLAY_PRIORITY",
    "B_URGENT_PRIORITY",
    "B_REAL_TIME_PRIORITY",
    "B_FIRST_REAL_TIME_PRIORITY",
    // Flags of wait_for_thread_etc (and the semaphore calls)
    "B_TIMEOUT",
    "B_RELATIVE_TIMEOUT",
    "B_ABSOLUTE_TIMEOUT",
    "B_CAN_INTERRUPT",
    "B_KILL_CAN_INTERRUPT",
];

/// Gives integer macros the C type they are used with, so that
/// `raw::B_BAD_THREAD_ID` is a `status_t` and `raw::B_NORMAL_PRIORITY` an
/// `i32` (spawn_thread's `int32 priority`) instead of bindgen's default
/// `u32`/`i32` guess by value. The same callbacks run on the bundled header
/// and on a real Haiku checkout, so both produce the same Rust types.
#[derive(Debug)]
#[allow(dead_code)]
struct HaikuMacroTypes;

impl bindgen::callbacks::ParseCallbacks for HaikuMacroTypes {
    fn int_macro(&self, name: &str, _value: i64) -> Option<bindgen::callbacks::IntKind> {
        use bindgen::callbacks::IntKind;
        if STATUS_CODES.contains(&name) {
            Some(IntKind::Custom {
                name: "status_t",
                is_signed: true,
            })
        } else if name == "B_INFINITE_TIMEOUT" {
            Some(IntKind::Custom {
                name: "bigtime_t",
                is_signed: true,
            })
        } else if name.ends_with("_PRIORITY") {
            Some(IntKind::I32)
        } else if name == "B_OS_NAME_LENGTH" {
            Some(IntKind::Custom {
                name: "usize",
                is_signed: false,
            })
        } else {
            None
        }
    }
}

/// The Rust version generated code may rely on: the workspace's
/// `rust-version` (1.80), so bindgen does not emit newer syntax such as
/// `unsafe extern` blocks.
#[allow(dead_code)]
fn bindings_rust_target() -> bindgen::RustTarget {
    bindgen::RustTarget::stable(80, 0).unwrap_or_default()
}

/// Regex matching exactly one of `names`.
#[allow(dead_code)]
fn exact_names(names: &[&str]) -> String {
    format!("^({})$", names.join("|"))
}

/// What every set of bindings shares: `header` parsed with `clang_args`
/// (target, include paths), Rust 1.80 syntax, enums as constants, the
/// common derives, bindgen's layout tests, no comments.
#[allow(dead_code)]
fn base_builder(header: &Path, clang_args: &[String]) -> bindgen::Builder {
    bindgen::Builder::default()
        .rust_target(bindings_rust_target())
        .header(header.to_string_lossy())
        .clang_args(clang_args)
        .prepend_enum_name(false)
        .default_enum_style(bindgen::EnumVariation::Consts)
        .derive_debug(true)
        .derive_default(true)
        .derive_copy(true)
        .layout_tests(true)
        .generate_comments(false)
}

/// The bindgen builder for Haiku's thread API, parsing `header` with
/// `clang_args` (target, include paths). Used for the system headers, a
/// checkout's headers and the bundled header alike. `scratch_dir` receives
/// the temporary files of clang's macro evaluation.
#[allow(dead_code)]
fn thread_api_builder(header: &Path, clang_args: &[String], scratch_dir: &Path) -> bindgen::Builder {
    let mut vars: Vec<&str> = STATUS_CODES.to_vec();
    vars.extend_from_slice(THREAD_API_CONSTANTS);
    base_builder(header, clang_args)
        .allowlist_function(exact_names(THREAD_API_FUNCTIONS))
        .allowlist_type(exact_names(THREAD_API_TYPES))
        .allowlist_var(exact_names(&vars))
        .allowlist_recursively(true)
        .merge_extern_blocks(true)
        .parse_callbacks(Box::new(HaikuMacroTypes))
        // Errors.h builds its codes on INT_MIN (a compiler builtin underneath)
        // and B_OK is `((int)0)`: cexpr cannot evaluate either, clang can.
        .clang_macro_fallback()
        .clang_macro_fallback_build_dir(scratch_dir)
}

/// The bindgen builder for the dead_threads test module's ioctl ABI
/// (`dead_threads_*` types, `DEAD_THREADS_*` constants). The header is
/// ours and self-contained (`<stdint.h>` only); its macros are plain
/// integers, so no clang macro fallback (and no `scratch_dir`) is needed.
#[allow(dead_code)]
fn dead_threads_abi_builder(
    header: &Path,
    clang_args: &[String],
    _scratch_dir: &Path,
) -> bindgen::Builder {
    base_builder(header, clang_args)
        .allowlist_type("^dead_threads_.*")
        .allowlist_var("^DEAD_THREADS_.*")
        .translate_enum_integer_types(true)
        .derive_eq(true)
        .use_core()
}

/// Clang arguments that make `#include <OS.h>` resolve to a Haiku
/// checkout's public headers, for the given clang target.
#[allow(dead_code)]
fn checkout_clang_args(haiku_top: &Path, clang_target: &str) -> Vec<String> {
    haiku_headers_clang_args(&haiku_top.join("headers"), clang_target)
}

/// Clang arguments for Haiku's public headers in `headers` (a checkout's
/// `headers/` or a sysroot's `develop/headers/`): the include dirs Haiku's
/// own build passes for userland code.
#[allow(dead_code)]
fn haiku_headers_clang_args(headers: &Path, clang_target: &str) -> Vec<String> {
    // -nostdlibinc: the host's /usr/include must not be searched (clang's
    // own stddef.h/stdarg.h/limits.h stay, Haiku's posix/ supplies libc).
    let mut args = vec![
        format!("--target={clang_target}"),
        "-nostdlibinc".to_owned(),
    ];
    for dir in [
        "",
        "config",
        "os",
        "os/kernel",
        "os/support",
        "os/storage",
        "posix",
    ] {
        args.push("-isystem".to_owned());
        args.push(headers.join(dir).to_string_lossy().into_owned());
    }
    args
}

/// Clang arguments for a bundled header of ours: Haiku target, no include
/// paths but clang's own freestanding headers (stddef.h, stdint.h, ...).
#[allow(dead_code)]
fn bundled_clang_args() -> Vec<String> {
    vec![
        format!("--target={DEFAULT_HAIKU_CLANG_TARGET}"),
        "-nostdlibinc".to_owned(),
        "-ffreestanding".to_owned(),
    ]
}

/// One set of bindings haiku-sys generates with bindgen and bundles (for
/// hosts without libclang). build.rs produces `$OUT_DIR/<out_file>` for
/// each; tests/bundled_bindings.rs checks each bundled file is up to date.
///
/// To add one: write its builder function, add an entry to [`BINDINGS`],
/// `include!` its `out_file` in the crate, and commit the bundled file
/// generated by
/// `HAIKU_SYS_REGENERATE=1 cargo test -p haiku-sys --test bundled_bindings`.
#[allow(dead_code)]
struct BindingsSpec {
    /// Short name used in messages.
    name: &'static str,
    /// Our header (relative to haiku-sys/) the bundled bindings come from.
    bundled_header: &'static str,
    /// The bundled bindings (relative to haiku-sys/).
    bundled_bindings: &'static str,
    /// File written to `$OUT_DIR`, which the crate `include!`s.
    out_file: &'static str,
    /// `Some("OS.h")`: with Haiku headers available (system, sysroot,
    /// checkout), parse `#include <OS.h>` instead of our header, whose job
    /// is only to stand in for it. `None`: our header is the real one (an
    /// ABI header of ours) and is parsed for every source, with the
    /// source's include paths.
    system_header: Option<&'static str>,
    /// `(header, clang_args, scratch_dir) -> builder`.
    builder: fn(&Path, &[String], &Path) -> bindgen::Builder,
    /// A C file (relative to haiku-sys/) compiled with `cc` (warnings as
    /// errors) for the target and linked into the crate: `_Static_assert`s
    /// on the header's layout (a failed assertion fails the build) and a
    /// table of sizes, offsets and values (csrc/haiku_sys_c_facts.h) that a
    /// test compares with Rust's (tests/c_facts/). Include dirs: the
    /// header's dir and the C file's.
    c_check: Option<&'static str>,
}

/// Haiku's thread API (OS.h); the bundled header stands in for OS.h.
#[allow(dead_code)]
const THREAD_API: BindingsSpec = BindingsSpec {
    name: "thread API",
    bundled_header: "include/haiku_thread_api.h",
    bundled_bindings: "src/bindings/thread_api.rs",
    out_file: "thread_api.rs",
    system_header: Some("OS.h"),
    builder: thread_api_builder,
    c_check: Some("csrc/haiku_thread_api_check.c"),
};

/// The dead_threads test module's ioctl ABI. The header lives with the
/// module (haiku-sys builds inside the dead-threads workspace).
#[allow(dead_code)]
const DEAD_THREADS_ABI: BindingsSpec = BindingsSpec {
    name: "dead_threads ABI",
    bundled_header: "../kernel-patch/module/dead_threads_ioctl.h",
    bundled_bindings: "src/bindings/dead_threads_abi.rs",
    out_file: "dead_threads_abi.rs",
    system_header: None,
    builder: dead_threads_abi_builder,
    c_check: Some("csrc/dead_threads_abi_check.c"),
};

/// Every set of bindings haiku-sys builds.
#[allow(dead_code)]
const BINDINGS: &[BindingsSpec] = &[THREAD_API, DEAD_THREADS_ABI];

/// Generates the text the bundled bindings of `spec` must contain, from
/// `spec.bundled_header`.
#[allow(dead_code)]
fn generate_bundled(
    manifest_dir: &Path,
    spec: &BindingsSpec,
    scratch_dir: &Path,
) -> Result<String, String> {
    let header = manifest_dir.join(spec.bundled_header);
    let bindings = (spec.builder)(&header, &bundled_clang_args(), scratch_dir)
        .raw_line(format!(
            "// Generated by haiku-sys from {} (bindgen, target {}).",
            spec.bundled_header, DEFAULT_HAIKU_CLANG_TARGET
        ))
        .raw_line("// Do not edit: regenerate with")
        .raw_line("//   HAIKU_SYS_REGENERATE=1 cargo test -p haiku-sys --test bundled_bindings")
        .generate()
        .map_err(|e| format!("bindgen failed on {}: {e}", header.display()))?;
    Ok(bindings.to_string())
}

/// Checks that libclang can be loaded (bindgen needs it at run time).
/// The error names the fix.
#[allow(dead_code)]
fn libclang_available() -> Result<(), String> {
    if clang_sys::is_loaded() {
        return Ok(());
    }
    clang_sys::load().map_err(|e| {
        format!(
            "libclang is not available ({e}); install it (Debian/Ubuntu: \
             `apt-get install libclang-dev clang`) or set LIBCLANG_PATH to \
             the directory holding libclang.so"
        )
    })
}
