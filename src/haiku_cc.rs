//! Compile-check engine: compiles Haiku sources with the host's clang for
//! `x86_64-unknown-haiku` (or, with [`Arch::X86`], 32-bit
//! `i586-unknown-haiku`), using a Haiku checkout's own headers and flags close
//! to its jam rules.
//!
//! Nothing here can build Haiku (there is no Haiku cross toolchain on the
//! host); the point is a faithful *compile* check of a translation unit: the
//! kernel's own headers, defines and code-generation flags, so that a patch
//! that breaks a kernel file is caught before anyone runs jam.
//!
//! # Where the flags come from
//!
//! They mirror `build/jam/ArchitectureRules` (`ArchitectureSetup`,
//! `KernelArchitectureSetup`) and `build/jam/KernelRules` (`SetupKernel`,
//! `KernelObjects`, `KernelAddon`) for the x86_64 architecture:
//!
//! * all profiles: `-nostdinc`, `-fno-strict-aliasing`,
//!   `-fno-delete-null-pointer-checks`, the defines `ARCH_x86_64`,
//!   `__HAIKU_PRIMARY_PACKAGING_ARCH="x86_64"`, `HAIKU_TARGET_PLATFORM_HAIKU`,
//!   the private system headers (`headers/private/system` and its
//!   `arch/x86_64`), the config headers (`build/user_config_headers`,
//!   `build/config_headers`) and the public headers (`headers/os/*`,
//!   `headers/posix`);
//! * kernel profiles add `-ffreestanding -finline -fno-semantic-interposition
//!   -fno-tree-vectorize -fno-exceptions -mno-red-zone -fno-omit-frame-pointer`,
//!   `_KERNEL_MODE`, `HAIKU_ARCH="x86_64"` and the private kernel headers
//!   (`headers/private/kernel`, its `arch/x86`,
//!   `kernel/boot/platform/bios_ia32`, `libroot`, `shared`, `runtime_loader`);
//!   kernel objects also get `-fno-pic -mcmodel=kernel`
//!   (`HAIKU_KERNEL_PIC_CCFLAGS`);
//! * the kernel warning flags (`-Wall -Wno-multichar ...` plus the ones jam
//!   adds for clang) are passed too; warnings are reported but never fail a
//!   check.
//!
//! # What differs from a jam build, and why
//!
//! * Haiku takes its C++ headers and `stddef.h`/`stdarg.h`/`limits.h` from its
//!   gcc cross toolchain. Here they come from Debian's libc++ (`libc++-dev`)
//!   and clang's resource directory, and a small prelude of ours is
//!   force-included (`-include`):
//!   - it includes Haiku's `limits.h` and then clang's, which is what gcc's
//!     `limits.h` does (clang's own does not chain to the system one in
//!     freestanding mode, so `INT_MIN` would be missing);
//!   - in kernel profiles the kernel's private `string.h` defines `memcpy`,
//!     `memmove` and `memcmp` as macros expanding to `__builtin_*`, so
//!     libc++'s `std::memcpy(...)` becomes `std::__builtin_memcpy(...)`; the
//!     prelude defines those three names in namespace `std`, forwarding to
//!     the builtins.
//! * libc++ is told which thread API to assume (`_LIBCPP_HAS_NO_THREADS` in
//!   the kernel, `_LIBCPP_HAS_THREAD_API_PTHREAD` in userland): it does not
//!   know Haiku.
//! * Generated headers from jam's object directory are not available.
//!
//! # Architectures
//!
//! [`Arch::X86_64`] is the default. [`Arch::X86`] is 32-bit x86 as
//! `ArchitectureRules` sets it up for the `x86` architecture (clang's
//! `i586-unknown-haiku`, `-march=pentium`, the `arch/x86` private headers,
//! `ARCH_x86`; the kernel profile uses `-fno-pic` and no code model, and no
//! `-mno-red-zone`, which only x86_64 needs). Haiku's 32-bit userland is
//! built with gcc 2 (`x86_gcc2`) or gcc 13 (`x86`); both lay out the
//! fixed-width structures of an ioctl ABI the same way, which is what the
//! 32-bit check is for.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

/// The target triple passed to clang for [`Arch::X86_64`].
pub const TARGET: &str = "x86_64-unknown-haiku";

/// The target triple passed to clang for [`Arch::X86`] (32-bit; the triple
/// Debian's clang 14 accepts for 32-bit Haiku).
pub const TARGET_X86: &str = "i586-unknown-haiku";

/// The Haiku architecture a translation unit is compiled for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// 64-bit x86 (`x86_64-unknown-haiku`).
    #[default]
    X86_64,
    /// 32-bit x86 (`i586-unknown-haiku`).
    X86,
}

impl Arch {
    /// Every architecture the engine knows.
    pub const ALL: [Arch; 2] = [Arch::X86_64, Arch::X86];

    /// clang's target triple.
    pub fn target(self) -> &'static str {
        match self {
            Arch::X86_64 => TARGET,
            Arch::X86 => TARGET_X86,
        }
    }

    /// Haiku's name for it (`HAIKU_ARCH`, the private headers' `arch/`).
    pub fn haiku_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::X86 => "x86",
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.haiku_name())
    }
}

/// How to install what this module needs on Debian/Ubuntu.
pub const INSTALL_HINT: &str = "install clang with the Haiku target and libc++ headers: \
     `apt-get install clang libc++-dev` (or set DEAD_THREADS_CLANG to a clang binary and \
     DEAD_THREADS_LIBCXX_INCLUDE to a libc++ `include/c++/v1` directory)";

/// Errors of the compile-check engine (environment problems, not compile
/// failures: those are a [`CompileResult`] with `ok == false`).
#[derive(Debug, thiserror::Error)]
pub enum CcError {
    /// No usable clang was found.
    #[error("clang not found ({detail}); {hint}", hint = INSTALL_HINT)]
    ClangNotFound {
        /// What was tried.
        detail: String,
    },
    /// clang was found but libc++'s headers were not.
    #[error("libc++ headers not found (looked in {looked}); {hint}", hint = INSTALL_HINT)]
    LibcxxNotFound {
        /// The directories that were tried.
        looked: String,
    },
    /// The directory does not look like a Haiku checkout.
    #[error(
        "{} is not a Haiku source tree (no headers/os/kernel/OS.h); {}",
        .0.display(),
        crate::sys::tree::top_hint(.0)
    )]
    NotAHaikuTree(PathBuf),
    /// The source file to compile does not exist.
    #[error("source file {0} does not exist")]
    SourceMissing(PathBuf),
    /// Running clang or preparing its temporary files failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CcError {
    let context = context.into();
    move |source| CcError::Io { context, source }
}

/// Which jam rule the translation unit is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Kernel proper (`KernelObjects`/`KernelMergeObject`, e.g.
    /// `src/system/kernel/thread.cpp`): kernel flags, private kernel headers,
    /// `-fno-pic -mcmodel=kernel`.
    Kernel,
    /// Kernel add-ons and drivers (`KernelAddon`): kernel flags and private
    /// kernel headers (as `UsePrivateKernelHeaders` gives them), no kernel
    /// code model.
    KernelAddon,
    /// Userland code of libroot (e.g.
    /// `src/system/libroot/posix/pthread/pthread.cpp`): hosted, PIC, libroot
    /// and system private headers.
    Userland,
}

impl Profile {
    fn is_kernel(self) -> bool {
        matches!(self, Profile::Kernel | Profile::KernelAddon)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Profile::Kernel => "kernel",
            Profile::KernelAddon => "kernel-addon",
            Profile::Userland => "userland",
        })
    }
}

/// A located clang with the pieces the Haiku target needs.
#[derive(Debug, Clone)]
pub struct Clang {
    /// The clang driver binary.
    pub path: PathBuf,
    /// clang's resource directory (`stddef.h`, `limits.h`, ...).
    pub resource_dir: PathBuf,
    /// libc++'s header directory (`.../include/c++/v1`).
    pub libcxx_include: PathBuf,
}

/// Finds clang (`$DEAD_THREADS_CLANG`, else `clang` on `PATH`, else
/// `clang-N`), its resource directory and libc++'s headers, and checks that
/// it accepts the Haiku target.
///
/// The error says how to install what is missing.
pub fn find_clang() -> Result<Clang, CcError> {
    let mut candidates: Vec<OsString> = Vec::new();
    if let Some(c) = std::env::var_os("DEAD_THREADS_CLANG") {
        candidates.push(c);
    } else {
        candidates.push("clang".into());
        for v in (11..=20).rev() {
            candidates.push(format!("clang-{v}").into());
        }
    }
    let mut tried = Vec::new();
    for cand in candidates {
        let out = Command::new(&cand)
            .arg(format!("--target={TARGET}"))
            .arg("-print-resource-dir")
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let resource_dir =
                    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim().to_string());
                let path = which(&cand).unwrap_or_else(|| PathBuf::from(&cand));
                let libcxx_include = find_libcxx(&path, &resource_dir)?;
                return Ok(Clang {
                    path,
                    resource_dir,
                    libcxx_include,
                });
            }
            Ok(o) => tried.push(format!(
                "{} failed: {}",
                cand.to_string_lossy(),
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound || tried.is_empty() {
                    tried.push(format!("{}: {e}", cand.to_string_lossy()));
                }
            }
        }
    }
    Err(CcError::ClangNotFound {
        detail: tried.join("; "),
    })
}

fn which(name: &std::ffi::OsStr) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.components().count() > 1 {
        return Some(p.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|c| c.is_file())
}

fn find_libcxx(clang: &Path, resource_dir: &Path) -> Result<PathBuf, CcError> {
    let mut looked = Vec::new();
    if let Some(p) = std::env::var_os("DEAD_THREADS_LIBCXX_INCLUDE") {
        looked.push(PathBuf::from(p));
    }
    // <prefix>/lib/clang/<ver> -> <prefix>/include/c++/v1
    if let Some(prefix) = resource_dir.ancestors().nth(3) {
        looked.push(prefix.join("include/c++/v1"));
    }
    // <prefix>/bin/clang -> <prefix>/include/c++/v1 (follow symlinks first)
    if let Ok(real) = std::fs::canonicalize(clang) {
        if let Some(prefix) = real.parent().and_then(Path::parent) {
            looked.push(prefix.join("include/c++/v1"));
        }
    }
    looked.push(PathBuf::from("/usr/include/c++/v1"));
    looked.push(PathBuf::from("/usr/local/include/c++/v1"));
    looked
        .iter()
        .find(|d| d.join("__config").is_file())
        .cloned()
        .ok_or_else(|| CcError::LibcxxNotFound {
            looked: looked
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Options beyond the profile: what a driver or a single file needs extra.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Extra `-I` directories, searched before the tree's private headers
    /// (e.g. a driver's own header directory).
    pub extra_includes: Vec<PathBuf>,
    /// Extra `-D` defines, `NAME` or `NAME=VALUE`.
    pub defines: Vec<String>,
    /// The architecture (default x86_64).
    pub arch: Arch,
}

/// Severity of a compiler diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// `error:` or `fatal error:`.
    Error,
    /// `warning:`.
    Warning,
    /// `note:`.
    Note,
}

/// One diagnostic line parsed from clang's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// File the diagnostic points at.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Its severity.
    pub severity: Severity,
    /// The message text.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        write!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// The outcome of compiling one translation unit.
#[derive(Debug, Clone, Serialize)]
pub struct CompileResult {
    /// The source that was compiled.
    pub source: PathBuf,
    /// The profile used.
    pub profile: Profile,
    /// clang exited 0 and produced a non-empty object file.
    pub ok: bool,
    /// Size of the object file in bytes (0 when none was produced).
    pub object_size: u64,
    /// Parsed diagnostics (errors, warnings, notes).
    pub diagnostics: Vec<Diagnostic>,
    /// clang's complete stderr, for display.
    pub stderr: String,
    /// The full command line, for reproducing the check by hand.
    pub command: Vec<String>,
}

impl CompileResult {
    /// The error diagnostics only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }
}

/// Compiles `source` with `profile` against the checkout at `haiku_top`,
/// finding clang first. See [`compile_with`].
pub fn compile(
    haiku_top: &Path,
    profile: Profile,
    source: &Path,
    extra_includes: &[PathBuf],
) -> Result<CompileResult, CcError> {
    let clang = find_clang()?;
    compile_with(
        &clang,
        haiku_top,
        profile,
        source,
        &CompileOptions {
            extra_includes: extra_includes.to_vec(),
            ..CompileOptions::default()
        },
    )
}

/// Compiles `source` to an object file in a temporary directory (removed
/// afterwards) and captures the diagnostics.
///
/// `Err` means the check could not run (no tree, no source, clang could not
/// be started); a compile failure is `Ok` with `ok == false`.
pub fn compile_with(
    clang: &Clang,
    haiku_top: &Path,
    profile: Profile,
    source: &Path,
    opts: &CompileOptions,
) -> Result<CompileResult, CcError> {
    if !haiku_top.join("headers/os/kernel/OS.h").is_file() {
        return Err(CcError::NotAHaikuTree(haiku_top.to_path_buf()));
    }
    if !source.is_file() {
        return Err(CcError::SourceMissing(source.to_path_buf()));
    }
    let tmp = tempfile::Builder::new()
        .prefix("dead-threads-cc")
        .tempdir()
        .map_err(io_err("creating a temporary directory"))?;
    let prelude = tmp.path().join("dead_threads_prelude.h");
    std::fs::write(&prelude, prelude_text(clang, profile))
        .map_err(io_err(format!("writing {}", prelude.display())))?;
    let object = tmp.path().join("out.o");
    let args = command_args(clang, haiku_top, profile, source, opts, &prelude, &object);

    let output = Command::new(&clang.path)
        .args(&args)
        .output()
        .map_err(io_err(format!("running {}", clang.path.display())))?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let object_size = std::fs::metadata(&object).map(|m| m.len()).unwrap_or(0);
    let mut command = vec![clang.path.display().to_string()];
    command.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
    Ok(CompileResult {
        source: source.to_path_buf(),
        profile,
        ok: output.status.success() && object_size > 0,
        object_size,
        diagnostics: parse_diagnostics(&stderr),
        stderr,
        command,
    })
}

/// The force-included prelude (see the module documentation).
fn prelude_text(clang: &Clang, profile: Profile) -> String {
    let clang_limits = clang.resource_dir.join("include/limits.h");
    let mut s = String::from(
        "/* dead-threads compile-check prelude (not part of Haiku). */\n\
         #pragma clang diagnostic push\n\
         #pragma clang diagnostic ignored \"-Winclude-next-absolute-path\"\n\
         /* Haiku's limits.h, then the compiler's, as gcc's limits.h does. */\n\
         #include <limits.h>\n",
    );
    s.push_str(&format!("#include \"{}\"\n", clang_limits.display()));
    s.push_str("#pragma clang diagnostic pop\n");
    if profile.is_kernel() {
        s.push_str(
            "#ifdef __cplusplus\n\
             /* The kernel's string.h turns memcpy/memmove/memcmp into\n\
              * __builtin_* macros, which libc++ then qualifies with std::. */\n\
             namespace std {\n\
             inline void* __builtin_memcpy(void* d, const void* s,\n\
             \tdecltype(sizeof 0) n) { return ::__builtin_memcpy(d, s, n); }\n\
             inline void* __builtin_memmove(void* d, const void* s,\n\
             \tdecltype(sizeof 0) n) { return ::__builtin_memmove(d, s, n); }\n\
             inline int __builtin_memcmp(const void* a, const void* b,\n\
             \tdecltype(sizeof 0) n) { return ::__builtin_memcmp(a, b, n); }\n\
             }\n\
             #endif\n",
        );
    }
    s
}

fn is_cxx(source: &Path) -> bool {
    source.extension().and_then(|e| e.to_str()) != Some("c")
}

/// Builds clang's argument list (without the binary).
fn command_args(
    clang: &Clang,
    top: &Path,
    profile: Profile,
    source: &Path,
    opts: &CompileOptions,
    prelude: &Path,
    object: &Path,
) -> Vec<OsString> {
    let h = top.join("headers");
    let cxx = is_cxx(source);
    let arch = opts.arch;
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |s: &str| a.push(s.into());
    push(&format!("--target={}", arch.target()));
    if cxx {
        push("-xc++");
        push("-std=gnu++17");
    } else {
        push("-xc");
        push("-std=gnu11");
    }
    for f in ["-nostdinc", "-nostdinc++", "-c"] {
        push(f);
    }
    // ArchitectureSetup: ccBaseFlags
    for f in ["-fno-strict-aliasing", "-fno-delete-null-pointer-checks"] {
        push(f);
    }
    // ArchitectureSetup: archFlags
    if arch == Arch::X86 {
        push("-march=pentium");
    }
    if profile.is_kernel() {
        // KernelArchitectureSetup: ccBaseFlags, c++BaseFlags, the
        // architecture's flags
        for f in [
            "-ffreestanding",
            "-finline",
            "-fno-semantic-interposition",
            "-fno-tree-vectorize",
        ] {
            push(f);
        }
        if arch == Arch::X86_64 {
            push("-mno-red-zone");
            push("-fno-omit-frame-pointer");
        }
        if cxx {
            push("-fno-exceptions");
        }
        if profile == Profile::Kernel {
            push("-fno-pic");
            if arch == Arch::X86_64 {
                push("-mcmodel=kernel");
            }
        }
    } else {
        push("-fPIC");
    }
    // Warning flags (HAIKU_WARNING_C(++)FLAGS plus the clang additions).
    for f in [
        "-Wall",
        "-Wno-multichar",
        "-Wpointer-arith",
        "-Wsign-compare",
        "-Wno-unused-private-field",
        "-Wno-gnu-designator",
        "-Wno-builtin-requires-header",
        "-Wno-unknown-warning-option",
    ] {
        push(f);
    }
    if cxx {
        for f in [
            "-Wno-ctor-dtor-privacy",
            "-Woverloaded-virtual",
            "-Wno-non-c-typedef-for-linkage",
            "-Wno-non-power-of-two-alignment",
        ] {
            push(f);
        }
    } else {
        push("-Wmissing-prototypes");
    }
    // Defines.
    let arch_name = arch.haiku_name();
    push("-D__HAIKU__");
    push(&format!("-DARCH_{arch_name}"));
    push(&format!("-D__HAIKU_PRIMARY_PACKAGING_ARCH=\"{arch_name}\""));
    push("-DHAIKU_TARGET_PLATFORM_HAIKU");
    if profile.is_kernel() {
        push("-D_KERNEL_MODE");
        push(&format!("-DHAIKU_ARCH=\"{arch_name}\""));
        push("-D_LIBCPP_HAS_NO_THREADS");
    } else {
        push("-D_LIBCPP_HAS_THREAD_API_PTHREAD");
    }
    for d in &opts.defines {
        push(&format!("-D{d}"));
    }
    a.push("-include".into());
    a.push(prelude.into());

    let inc = |flag: &str, dir: PathBuf, a: &mut Vec<OsString>| {
        if dir.is_dir() {
            a.push(flag.into());
            a.push(dir.into());
        }
    };
    if let Some(dir) = source.parent() {
        inc("-iquote", dir.to_path_buf(), &mut a);
    }
    for d in &opts.extra_includes {
        a.push("-I".into());
        a.push(d.into());
    }
    // Private headers, in the order jam lists them.
    let mut private: Vec<PathBuf> = Vec::new();
    if profile.is_kernel() {
        private.extend([
            h.join("private"),
            h.join("private/kernel"),
            h.join("private/libroot"),
            h.join("private/shared"),
            h.join("private/kernel/boot/platform/bios_ia32"),
            h.join("private/kernel/arch/x86"),
        ]);
        if arch == Arch::X86_64 {
            private.push(h.join("private/kernel/arch/x86_64"));
        }
        private.push(h.join("private/kernel/util"));
    } else {
        private.extend([
            h.join("private"),
            h.join("private/libroot"),
            h.join("private/shared"),
        ]);
    }
    private.extend([
        h.join("private/system"),
        h.join(format!("private/system/arch/{arch_name}")),
        h.join("private/runtime_loader"),
        top.join("build/user_config_headers"),
        top.join("build/config_headers"),
    ]);
    for d in private {
        inc("-I", d, &mut a);
    }
    // System headers: libc++ first (its wrappers include_next the C ones),
    // then Haiku's public headers, then clang's builtin headers.
    if cxx {
        inc("-isystem", clang.libcxx_include.clone(), &mut a);
    }
    let mut public = vec![h.clone(), h.join("config"), h.join("os")];
    if let Ok(rd) = std::fs::read_dir(h.join("os")) {
        let mut kits: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        kits.sort();
        public.extend(kits);
    }
    public.push(h.join("posix"));
    public.push(clang.resource_dir.join("include"));
    for d in public {
        inc("-isystem", d, &mut a);
    }
    a.push("-o".into());
    a.push(object.into());
    a.push(source.into());
    a
}

/// Parses clang's `file:line:col: severity: message` lines.
pub fn parse_diagnostics(stderr: &str) -> Vec<Diagnostic> {
    stderr.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Diagnostic> {
    let (sev, marker) = [
        (Severity::Error, ": fatal error: "),
        (Severity::Error, ": error: "),
        (Severity::Warning, ": warning: "),
        (Severity::Note, ": note: "),
    ]
    .into_iter()
    .find(|(_, m)| line.contains(m))?;
    let idx = line.find(marker)?;
    let (loc, message) = (&line[..idx], &line[idx + marker.len()..]);
    let mut parts = loc.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line_no = parts.next()?.parse().ok()?;
    let file = parts.next()?.to_string();
    Some(Diagnostic {
        file,
        line: line_no,
        column,
        severity: sev,
        message: message.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_clang_diagnostics() {
        let s = "In file included from a.cpp:1:\n\
                 /x/thread.cpp:12:5: error: use of undeclared identifier 'foo'\n\
                 /x/h.h:3:1: warning: unused [-Wunused]\n\
                 /x/h.h:4:2: note: here\n\
                 /x/y.h:9:10: fatal error: 'z.h' file not found\n\
                 1 error generated.\n";
        let d = parse_diagnostics(s);
        assert_eq!(d.len(), 4);
        assert_eq!(d[0].file, "/x/thread.cpp");
        assert_eq!((d[0].line, d[0].column), (12, 5));
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(d[1].severity, Severity::Warning);
        assert_eq!(d[2].severity, Severity::Note);
        assert_eq!(d[3].severity, Severity::Error);
        assert_eq!(d[3].message, "'z.h' file not found");
    }

    #[test]
    fn c_and_cxx_are_told_apart() {
        assert!(is_cxx(Path::new("a/thread.cpp")));
        assert!(is_cxx(Path::new("a/x.cc")));
        assert!(!is_cxx(Path::new("a/linkhack.c")));
    }

    #[test]
    fn the_32_bit_profile_follows_the_x86_rules() {
        let clang = Clang {
            path: "clang".into(),
            resource_dir: "/nonexistent".into(),
            libcxx_include: "/nonexistent".into(),
        };
        let args = |arch: Arch, profile: Profile| -> Vec<String> {
            let opts = CompileOptions {
                arch,
                ..CompileOptions::default()
            };
            command_args(
                &clang,
                Path::new("/top"),
                profile,
                Path::new("/top/a.cpp"),
                &opts,
                Path::new("/p.h"),
                Path::new("/o.o"),
            )
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
        };
        let x86 = args(Arch::X86, Profile::Kernel);
        for flag in [
            "--target=i586-unknown-haiku",
            "-march=pentium",
            "-DARCH_x86",
            "-DHAIKU_ARCH=\"x86\"",
            "-fno-pic",
        ] {
            assert!(x86.iter().any(|a| a == flag), "{flag} missing: {x86:?}");
        }
        for flag in ["-mcmodel=kernel", "-mno-red-zone", "-DARCH_x86_64"] {
            assert!(!x86.iter().any(|a| a == flag), "{flag} present: {x86:?}");
        }
        let x86_64 = args(Arch::default(), Profile::Kernel);
        for flag in [
            "--target=x86_64-unknown-haiku",
            "-mcmodel=kernel",
            "-mno-red-zone",
        ] {
            assert!(
                x86_64.iter().any(|a| a == flag),
                "{flag} missing: {x86_64:?}"
            );
        }
    }

    #[test]
    fn not_a_tree_is_a_clear_error() {
        let clang = Clang {
            path: "clang".into(),
            resource_dir: "/nonexistent".into(),
            libcxx_include: "/nonexistent".into(),
        };
        let d = tempfile::tempdir().unwrap();
        let e = compile_with(
            &clang,
            d.path(),
            Profile::Kernel,
            &d.path().join("x.cpp"),
            &CompileOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(e, CcError::NotAHaikuTree(_)), "{e}");
    }
}
