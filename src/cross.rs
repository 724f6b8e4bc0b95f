//! Cross-building the Rust tests for `x86_64-unknown-haiku` and staging them
//! for the image.
//!
//! Rust's Haiku target is tier 3: there is no prebuilt standard library, so
//! the tests are built with nightly cargo and `-Zbuild-std` (which needs the
//! `rust-src` component). Linking uses the gcc of the checkout's generated
//! cross tools (`BUILD/cross-tools-x86_64/bin/x86_64-unknown-haiku-gcc`),
//! whose compiled-in sysroot is `BUILD/cross-tools-x86_64/sysroot` (Haiku's
//! `build_cross_tools_gcc4` deletes that directory after building gcc, and
//! builds gcc with `--disable-shared`, so there is no `libgcc_s.so` either).
//! The sysroot is filled from Haiku's `haiku.hpkg`/`haiku_devel.hpkg`, built
//! by jam under the test image's build profile, and from the
//! `gcc_syslibs`/`gcc_syslibs_devel` packages jam downloaded (`libgcc_s`,
//! which Rust's std links on Haiku) ([`sysroot_steps`],
//! [`gcc_syslibs_packages`], [`fix_sysroot_links`]). haiku-sys's build script
//! runs bindgen against the checkout's headers (`HAIKU_TOP`,
//! `HAIKU_SYSROOT`).
//!
//! [`check_prerequisites`] says exactly what is missing and how to get it.

use crate::jam::build_dir::{BuildDir, ARCH};
use crate::jam::fragment::{self, Layout};
use crate::sys::process::{find_in_path, CommandSpec};
use anyhow::{bail, Context, Result};
use guest_runner::manifest::{Manifest, TestBinary, MANIFEST_FILE, MANIFEST_VERSION};
use std::path::{Path, PathBuf};

/// The Rust target.
pub const TARGET: &str = "x86_64-unknown-haiku";

/// The integration tests that run in the guest, by cargo target name: the
/// conformance suite and the tests that need Haiku (the test module's device
/// tests, detached threads with and without the module, joins that keep
/// every status under signals and timeouts). The other
/// `tests/haiku_*` files are host self-tests (models, compile checks,
/// benchmarks, patch series) and stay out, as do the CLI, jam, QEMU and
/// patch tests.
pub const GUEST_TESTS: &[&str] = &[
    "conformance",
    "haiku_device",
    "haiku_detached",
    "haiku_detached_module",
    "haiku_lossless",
];

/// The [`GUEST_TESTS`] present in `REPO/tests` (as `NAME.rs`), in that
/// order. Passed to cargo by name, so the plan shows exactly what is built.
pub fn guest_test_targets(repo: &Path) -> Result<Vec<String>> {
    let dir = repo.join("tests");
    let names: Vec<String> = GUEST_TESTS
        .iter()
        .filter(|n| dir.join(format!("{n}.rs")).is_file())
        .map(|n| n.to_string())
        .collect();
    if names.is_empty() {
        bail!(
            "none of the guest tests {GUEST_TESTS:?} is in {}",
            dir.display()
        );
    }
    Ok(names)
}

/// Default time limit per test binary in the guest.
pub const DEFAULT_TEST_TIMEOUT_SECS: u64 = 600;

/// The guest runner's package and binary.
pub const RUNNER_PACKAGE: &str = "dead-threads-guest-runner";

/// One prerequisite and whether it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prerequisite {
    /// What.
    pub name: &'static str,
    /// Found (with what was found) or missing.
    pub found: Result<String, String>,
}

impl Prerequisite {
    fn ok(name: &'static str, what: impl Into<String>) -> Self {
        Self {
            name,
            found: Ok(what.into()),
        }
    }
    fn missing(name: &'static str, how: impl Into<String>) -> Self {
        Self {
            name,
            found: Err(how.into()),
        }
    }
}

/// `libroot.so` where the cross linker finds it once haiku_devel is extracted.
pub fn sysroot_libroot(build: &BuildDir) -> PathBuf {
    build.sysroot().join("boot/system/develop/lib/libroot.so")
}

/// `libgcc_s.so` where the cross linker finds it: Rust's std links
/// `-lgcc_s` on Haiku, and the cross tools have no shared libgcc.
pub fn sysroot_libgcc_s(build: &BuildDir) -> PathBuf {
    build.sysroot().join("boot/system/develop/lib/libgcc_s.so")
}

/// Whether the cross sysroot has the libraries a Rust executable links
/// against (following symlinks: a dangling link does not count).
pub fn sysroot_ready(build: &BuildDir) -> bool {
    sysroot_libroot(build).is_file() && sysroot_libgcc_s(build).is_file()
}

/// Where Haiku's jam downloads HaikuPorts packages (`HAIKU_DOWNLOAD_DIR`).
pub fn download_dir(build: &BuildDir) -> PathBuf {
    build.path.join("download")
}

/// The `gcc_syslibs` and `gcc_syslibs_devel` packages jam downloaded into
/// [`download_dir`] for its build features (names carry versions, so they
/// are found after jam ran). The last by name of each, in that order.
pub fn gcc_syslibs_packages(build: &BuildDir) -> Result<Vec<PathBuf>> {
    let dir = download_dir(build);
    let mut names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => bail!("reading {}: {e}", dir.display()),
    };
    names.sort();
    let mut out = Vec::new();
    for family in ["gcc_syslibs", "gcc_syslibs_devel"] {
        let prefix = format!("{family}-");
        let Some(name) = names
            .iter()
            .rfind(|n| n.starts_with(&prefix) && n.ends_with(".hpkg"))
        else {
            bail!(
                "no {family}-*.hpkg in {}: jam downloads it while building haiku.hpkg \
                 (build feature {family}); run the sysroot step's jam command again",
                dir.display()
            );
        };
        out.push(dir.join(name));
    }
    Ok(out)
}

/// `package extract` of `pkg` into the sysroot's `boot/system` (which
/// [`mkdir_sysroot_command`] creates: the package tool does not).
pub fn extract_command(build: &BuildDir, pkg: &Path) -> CommandSpec {
    let tool = package_tool(build).display().to_string();
    let dest = build.sysroot().join("boot/system").display().to_string();
    let lib_dir = build.path.join(format!("objects/{}/lib", host_platform()));
    CommandSpec::new(
        &tool,
        &["extract", "-C", &dest, &pkg.display().to_string()],
        &build.path,
    )
    .env("LD_LIBRARY_PATH", lib_dir.display().to_string())
}

/// Makes the extracted packages usable by the cross linker, in
/// `system` (the sysroot's `boot/system`):
/// - symlinks under `develop/lib` whose target is absolute inside the Haiku
///   installation (`/system/...`, `/boot/system/...`) are made relative, so
///   they resolve inside the sysroot: haiku_devel.hpkg made its
///   `develop/lib/*.so` links absolute (`/system/lib/libroot.so`) until
///   Haiku 8f362bfdfc (July 2021), i.e. in every legacy tree;
/// - `develop/lib/libgcc_s.so` is linked to `lib/libgcc_s.so.1` (from
///   gcc_syslibs) when it does not resolve.
///
/// Returns one line per change.
pub fn fix_sysroot_links(system: &Path) -> Result<Vec<String>> {
    fn walk(system: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => bail!("reading {}: {e}", dir.display()),
        };
        for e in rd {
            let path = e?.path();
            let meta = std::fs::symlink_metadata(&path)?;
            if meta.is_dir() {
                walk(system, &path, out)?;
                continue;
            }
            if !meta.file_type().is_symlink() {
                continue;
            }
            let target = std::fs::read_link(&path)?;
            let Some(inside) = ["/boot/system", "/system"]
                .iter()
                .find_map(|root| target.strip_prefix(root).ok())
            else {
                continue;
            };
            let depth = path
                .parent()
                .and_then(|p| p.strip_prefix(system).ok())
                .map(|p| p.components().count())
                .context("symlink outside the sysroot")?;
            let mut rel = PathBuf::new();
            for _ in 0..depth {
                rel.push("..");
            }
            rel.push(inside);
            std::fs::remove_file(&path)?;
            std::os::unix::fs::symlink(&rel, &path)
                .with_context(|| format!("relinking {}", path.display()))?;
            out.push(format!(
                "{}: {} -> {}",
                path.display(),
                target.display(),
                rel.display()
            ));
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(system, &system.join("develop/lib"), &mut out)?;
    let gcc_s = system.join("develop/lib/libgcc_s.so");
    if !gcc_s.is_file() && system.join("lib/libgcc_s.so.1").is_file() {
        if std::fs::symlink_metadata(&gcc_s).is_ok() {
            std::fs::remove_file(&gcc_s)?;
        }
        std::fs::create_dir_all(system.join("develop/lib"))?;
        std::os::unix::fs::symlink("../../lib/libgcc_s.so.1", &gcc_s)
            .with_context(|| format!("linking {}", gcc_s.display()))?;
        out.push(format!("{} -> ../../lib/libgcc_s.so.1", gcc_s.display()));
    }
    Ok(out)
}

/// The packages dir jam builds haiku.hpkg and haiku_devel.hpkg into.
pub fn packages_dir(build: &BuildDir) -> PathBuf {
    build
        .path
        .join(format!("objects/haiku/{ARCH}/packaging/packages"))
}

/// `mkdir -p` of the sysroot's `boot/system`: Haiku's
/// `build_cross_tools_gcc4` deletes the sysroot after building gcc (unless
/// configure got `--sysroot`), and `package extract -C DIR` exits when it
/// cannot open DIR (Haiku's own extract actions create it first,
/// build/jam/FileRules).
pub fn mkdir_sysroot_command(build: &BuildDir) -> CommandSpec {
    let dest = build.sysroot().join("boot/system").display().to_string();
    CommandSpec::new("mkdir", &["-p", &dest], &build.path)
}

/// Haiku's name for the build host's platform, as configure sets
/// `HOST_PLATFORM` (the `objects/<platform>` directory of host tools).
pub fn host_platform() -> &'static str {
    host_platform_of(std::env::consts::OS)
}

/// [`host_platform`] for Rust's OS name `os`.
pub fn host_platform_of(os: &'static str) -> &'static str {
    match os {
        "macos" => "darwin",
        "haiku" => "haiku_host",
        // linux, freebsd, openbsd, netbsd: the same word.
        other => other,
    }
}

/// Haiku's name for the build host's CPU architecture, as BuildSetup sets
/// `HOST_ARCH` (jam's `OSPLAT` in lower case, 64-bit ARM and RISC-V
/// renamed): the `objects/<platform>/<arch>` directory of host tools.
pub fn host_arch() -> &'static str {
    host_arch_of(std::env::consts::ARCH)
}

/// [`host_arch`] for Rust's architecture name `arch`.
pub fn host_arch_of(arch: &'static str) -> &'static str {
    match arch {
        "aarch64" => "arm64",
        "powerpc" | "powerpc64" => "ppc",
        "sparc64" => "sparc",
        // x86_64, x86, arm, riscv64, m68k: the same word.
        other => other,
    }
}

/// The host `package` tool jam builds (`<build>package`).
pub fn package_tool(build: &BuildDir) -> PathBuf {
    build.path.join(format!(
        "objects/{}/{}/release/tools/package/package",
        host_platform(),
        host_arch()
    ))
}

/// Commands that put Haiku's libraries into the cross sysroot: jam builds
/// the packages and the host `package` tool, `mkdir -p` creates the
/// sysroot, the package tool extracts the packages into it. jam runs
/// under the test image's build profile ([`fragment::PROFILE`], installed
/// by step 2): haiku.hpkg's package info depends on the build type
/// (`HAIKU_MINIMUM_BUILD` vs `HAIKU_REGULAR_BUILD`), and jam would not
/// rebuild a package built for another type when the image is built. After
/// these, [`gcc_syslibs_packages`] are extracted with [`extract_command`]
/// and [`fix_sysroot_links`] runs.
pub fn sysroot_steps(build: &BuildDir, jobs: usize) -> Vec<CommandSpec> {
    let profile = format!("@{}", fragment::PROFILE);
    let mut steps = vec![CommandSpec::new(
        &crate::jam::command::jam_program(),
        &[
            "-q",
            &format!("-j{jobs}"),
            &profile,
            "build",
            "haiku.hpkg",
            "haiku_devel.hpkg",
            "<build>package",
        ],
        &build.path,
    )];
    steps.push(mkdir_sysroot_command(build));
    for pkg in ["haiku.hpkg", "haiku_devel.hpkg"] {
        steps.push(extract_command(build, &packages_dir(build).join(pkg)));
    }
    steps
}

/// The libclang that bindgen would load, in the places clang-sys (bindgen's
/// loader) searches: `$LIBCLANG_PATH` (a file, or a directory) when set,
/// else `llvm-config --libdir` and the usual system directories. haiku-sys's
/// build script runs bindgen on Haiku's headers whenever it builds for the
/// Haiku target, so the cross build needs it.
pub fn find_libclang() -> Option<PathBuf> {
    let var = std::env::var_os("LIBCLANG_PATH")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let mut dirs = Vec::new();
    if var.is_none() {
        if let Ok(o) = std::process::Command::new("llvm-config")
            .arg("--libdir")
            .output()
        {
            let d = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if o.status.success() && !d.is_empty() {
                dirs.push(PathBuf::from(d));
            }
        }
        for base in ["/usr/lib", "/usr/lib64", "/usr/local/lib"] {
            dirs.push(PathBuf::from(base));
            // Debian's /usr/lib/llvm-N/lib and multiarch /usr/lib/<triple>.
            if let Ok(rd) = std::fs::read_dir(base) {
                let mut more: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| {
                        let n = p.file_name().unwrap_or_default().to_string_lossy();
                        n.starts_with("llvm") || n.ends_with("-linux-gnu")
                    })
                    .map(|p| {
                        if p.join("lib").is_dir() {
                            p.join("lib")
                        } else {
                            p
                        }
                    })
                    .collect();
                more.sort();
                more.reverse();
                dirs.extend(more);
            }
        }
    }
    find_libclang_in(var.as_deref(), &dirs)
}

/// [`find_libclang`] with `LIBCLANG_PATH` = `libclang_path` and the search
/// directories `dirs` (used only when `libclang_path` is `None`).
pub fn find_libclang_in(libclang_path: Option<&Path>, dirs: &[PathBuf]) -> Option<PathBuf> {
    fn is_libclang(name: &str) -> bool {
        // libclang.so, libclang.so.1, libclang-14.so.1; not libclang-cpp
        // (LLVM's C++ API library).
        let stem = name
            .strip_prefix("libclang")
            .filter(|rest| rest.starts_with('.') || rest.starts_with('-'))
            .filter(|rest| !rest.starts_with("-cpp"));
        stem.is_some_and(|rest| rest.contains(".so") || rest.ends_with(".dylib"))
    }
    fn in_dir(dir: &Path) -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file() && is_libclang(&p.file_name().unwrap().to_string_lossy()))
            .collect();
        found.sort();
        found.pop()
    }
    match libclang_path {
        Some(p) if p.is_file() => Some(p.to_path_buf()),
        Some(p) => in_dir(p),
        None => dirs.iter().find_map(|d| in_dir(d)),
    }
}

/// The prerequisite "libclang", with the fix when it is missing.
pub fn libclang_prerequisite(found: Option<PathBuf>) -> Prerequisite {
    match found {
        Some(p) => Prerequisite::ok("libclang (bindgen)", p.display().to_string()),
        None => Prerequisite::missing(
            "libclang (bindgen)",
            "haiku-sys's build script runs bindgen on Haiku's headers for the Haiku target and \
             needs libclang: apt-get install libclang-dev (Debian/Ubuntu; any LLVM >= 11), or \
             set LIBCLANG_PATH to the directory holding libclang.so",
        ),
    }
}

fn nightly_sysroot() -> Option<PathBuf> {
    let out = std::process::Command::new("rustc")
        .args(["+nightly", "--print", "sysroot"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// Checks everything the cross build (and the rest of verify) needs.
pub fn check_prerequisites(
    haiku_top: &Path,
    build: Result<&BuildDir, String>,
) -> Vec<Prerequisite> {
    let mut out = Vec::new();
    match build {
        Ok(b) => {
            out.push(Prerequisite::ok(
                "configured build directory",
                b.path.display().to_string(),
            ));
            let gcc = b.cross_gcc();
            out.push(if gcc.is_file() {
                Prerequisite::ok("cross gcc", gcc.display().to_string())
            } else {
                Prerequisite::missing(
                    "cross gcc",
                    format!(
                        "{} not found: configure the build directory with the cross tools: cd {} && {}/configure --cross-tools-source <buildtools checkout> --build-cross-tools {ARCH}",
                        gcc.display(),
                        b.path.display(),
                        haiku_top.display()
                    ),
                )
            });
            let libroot = sysroot_libroot(b);
            out.push(if sysroot_ready(b) {
                Prerequisite::ok(
                    "Haiku libraries in the cross sysroot",
                    libroot.display().to_string(),
                )
            } else {
                Prerequisite::missing(
                    "Haiku libraries in the cross sysroot",
                    format!(
                        "{} or {} not found (verify builds and extracts them; by hand: {} ; \
                         then extract {}/gcc_syslibs{{,_devel}}-*.hpkg the same way)",
                        libroot.display(),
                        sysroot_libgcc_s(b).display(),
                        sysroot_steps(b, 2)
                            .iter()
                            .map(CommandSpec::shell_line)
                            .collect::<Vec<_>>()
                            .join(" ; "),
                        download_dir(b).display()
                    ),
                )
            });
        }
        Err(e) => out.push(Prerequisite::missing("configured build directory", e)),
    }
    out.push(haiku_jam());
    out.push(libclang_prerequisite(find_libclang()));
    match nightly_sysroot() {
        Some(sysroot) => {
            out.push(Prerequisite::ok("nightly Rust", sysroot.display().to_string()));
            let src = sysroot.join("lib/rustlib/src/rust/library");
            out.push(if src.is_dir() {
                Prerequisite::ok("rust-src", src.display().to_string())
            } else {
                Prerequisite::missing(
                    "rust-src",
                    "nightly has no rust-src (needed by -Zbuild-std): rustup component add rust-src --toolchain nightly",
                )
            });
        }
        None => out.push(Prerequisite::missing(
            "nightly Rust",
            "no nightly toolchain (x86_64-unknown-haiku is tier 3 and needs -Zbuild-std): rustup toolchain install nightly --component rust-src",
        )),
    }
    out.push(match find_in_path("qemu-system-x86_64") {
        Some(p) => Prerequisite::ok("QEMU", p.display().to_string()),
        None => Prerequisite::missing(
            "QEMU",
            "qemu-system-x86_64 is not in PATH: apt-get install qemu-system-x86 (or your system's package)",
        ),
    });
    out
}

const BUILD_JAM: &str =
    "build it from Haiku's buildtools: cd buildtools/jam && make && sudo ./jam0 install";

/// Whether a `jam -v` banner is Haiku's jam (`Jam 2.5-haiku-...`), which
/// Haiku's build needs; other jams (Perforce jam, FT-Jam) cannot build it.
pub fn is_haiku_jam(version: &str) -> bool {
    version.starts_with("Jam ") && version.contains("-haiku")
}

fn haiku_jam() -> Prerequisite {
    let program = crate::jam::command::jam_program();
    let Some(path) = find_in_path(&program) else {
        return Prerequisite::missing(
            "Haiku's jam",
            format!("{program} is not in PATH; {BUILD_JAM}"),
        );
    };
    let banner = std::process::Command::new(&path)
        .arg("-v")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_default();
    if is_haiku_jam(&banner) {
        Prerequisite::ok("Haiku's jam", format!("{} ({banner})", path.display()))
    } else {
        Prerequisite::missing(
            "Haiku's jam",
            format!(
                "{} is not Haiku's jam ({:?}); {BUILD_JAM}, and put it first in PATH \
                 or name it in ${}",
                path.display(),
                banner,
                crate::jam::command::JAM_ENV
            ),
        )
    }
}

fn with_cross_env(mut c: CommandSpec, haiku_top: &Path, build: &BuildDir) -> CommandSpec {
    let t = TARGET.replace('-', "_");
    let gcc = build.cross_gcc();
    let tool = |name: &str| {
        gcc.with_file_name(format!("{ARCH}-unknown-haiku-{name}"))
            .display()
            .to_string()
    };
    c = c
        .env(
            &format!("CARGO_TARGET_{}_LINKER", t.to_uppercase()),
            gcc.display().to_string(),
        )
        .env(&format!("CC_{t}"), gcc.display().to_string())
        .env(&format!("CXX_{t}"), tool("g++"))
        .env(&format!("AR_{t}"), tool("ar"))
        .env("HAIKU_TOP", haiku_top.display().to_string())
        .env("HAIKU_SYSROOT", build.sysroot().display().to_string());
    c
}

/// The cargo package and target options that select the guest test targets
/// `tests` (what [`test_build_command`] builds).
pub fn test_selection(tests: &[String]) -> Vec<String> {
    let mut args = vec!["-p".to_string(), "dead-threads".to_string()];
    for t in tests {
        args.push("--test".into());
        args.push(t.clone());
    }
    args
}

/// The cargo package and target options that select the guest runner (what
/// [`runner_build_command`] builds).
pub fn runner_selection() -> Vec<String> {
    ["-p", RUNNER_PACKAGE, "--bin", RUNNER_PACKAGE]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// `dead-threads cross-targets` (hidden): prints what `verify` cross-builds
/// for the Haiku target in `repo`, one cargo invocation's package and
/// target options per line, so that CI type-checks exactly that
/// (`cargo +nightly check -Zbuild-std --target x86_64-unknown-haiku ...`).
pub fn print_cross_targets(repo: &Path) -> Result<()> {
    println!("{}", test_selection(&guest_test_targets(repo)?).join(" "));
    println!("{}", runner_selection().join(" "));
    Ok(())
}

/// The cargo command that builds the guest test targets `tests` (JSON
/// messages on stdout).
pub fn test_build_command(
    repo: &Path,
    haiku_top: &Path,
    build: &BuildDir,
    tests: &[String],
) -> CommandSpec {
    nightly_cargo(
        repo,
        haiku_top,
        build,
        &["test", "--no-run"],
        test_selection(tests),
    )
}

/// The cargo command that builds the guest runner.
pub fn runner_build_command(repo: &Path, haiku_top: &Path, build: &BuildDir) -> CommandSpec {
    nightly_cargo(
        repo,
        haiku_top,
        build,
        &["build", "--release"],
        runner_selection(),
    )
}

/// `cargo +nightly <subcommand> -Zbuild-std --target <Haiku>` with JSON
/// messages on stdout, for the packages and targets `selection`, in the
/// cross environment.
fn nightly_cargo(
    repo: &Path,
    haiku_top: &Path,
    build: &BuildDir,
    subcommand: &[&str],
    selection: Vec<String>,
) -> CommandSpec {
    let mut args: Vec<String> = std::iter::once("+nightly")
        .chain(subcommand.iter().copied())
        .chain([
            "-Zbuild-std",
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
        ])
        .map(str::to_string)
        .collect();
    args.extend(selection);
    let c = CommandSpec {
        program: "cargo".into(),
        args,
        env: vec![],
        cwd: repo.to_path_buf(),
    };
    with_cross_env(c, haiku_top, build)
}

/// An executable cargo built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// The cargo target name (`haiku_threads`).
    pub name: String,
    /// Whether it is a test harness build.
    pub test: bool,
    /// Where it is.
    pub executable: PathBuf,
}

/// Picks the executables out of cargo's `--message-format=json` stdout.
pub fn artifacts_from_json(stdout: &str) -> Result<Vec<Artifact>> {
    let mut out: Vec<Artifact> = Vec::new();
    for (i, line) in stdout.lines().enumerate() {
        if !line.starts_with('{') {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("cargo JSON message {} is not valid JSON", i + 1))?;
        if v["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(exe) = v["executable"].as_str() else {
            continue;
        };
        let name = v["target"]["name"]
            .as_str()
            .context("compiler-artifact without target.name")?
            .to_string();
        let a = Artifact {
            name,
            test: v["profile"]["test"].as_bool().unwrap_or(false),
            executable: PathBuf::from(exe),
        };
        if !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

/// Every `*.snap` file of the repository (outside `target/` and hidden
/// directories), relative to the repository root.
pub fn snapshot_files(repo: &Path) -> Result<Vec<PathBuf>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let e = e?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            let path = e.path();
            let ft = e.file_type()?;
            if ft.is_dir() {
                if name.starts_with('.') || (dir == root && name == "target") {
                    continue;
                }
                walk(root, &path, out)?;
            } else if ft.is_file()
                && name.ends_with(".snap")
                && path.parent().and_then(Path::file_name) == Some("snapshots".as_ref())
            {
                out.push(path.strip_prefix(root).expect("under root").to_path_buf());
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(repo, repo, &mut out)?;
    out.sort();
    Ok(out)
}

/// The manifest for these test executables.
pub fn manifest_for(tests: &[Artifact], timeout_secs: u64) -> Manifest {
    let tests: Vec<TestBinary> = tests
        .iter()
        .map(|a| TestBinary {
            name: a.name.clone(),
            path: format!("bin/{}", a.name),
            timeout_secs,
            args: vec![],
        })
        .collect();
    let watchdog_secs = tests.iter().map(|t| t.timeout_secs).sum::<u64>() + 120;
    Manifest {
        version: MANIFEST_VERSION,
        ktap_prefix: crate::jam::KTAP_PREFIX.to_string(),
        watchdog_secs,
        tests,
    }
}

/// Fills `BUILD/dead_threads/guest` (which `jam install` created): test
/// binaries as `bin/NAME`, the runner, snapshot files at their repository
/// paths, manifest.json and run-tests.sh. Replaces what was there.
pub fn stage_guest(
    layout: &Layout,
    tests: &[Artifact],
    runner: &Path,
    timeout_secs: u64,
) -> Result<Manifest> {
    let stage = layout.stage();
    if !stage.join(fragment::OWNER_MARKER).is_file() {
        bail!(
            "{} is not set up; run `dead-threads jam install --haiku HAIKU_TOP --build-dir {}` first",
            stage.display(),
            layout.build.path.display()
        );
    }
    if tests.is_empty() {
        bail!("cargo built no test executables for the guest (patterns {GUEST_TESTS:?})");
    }
    let guest = layout.guest_dir();
    if guest.exists() {
        std::fs::remove_dir_all(&guest).with_context(|| format!("clearing {}", guest.display()))?;
    }
    std::fs::create_dir_all(guest.join("bin"))?;
    for t in tests {
        let dest = guest.join("bin").join(&t.name);
        std::fs::copy(&t.executable, &dest)
            .with_context(|| format!("copying {}", t.executable.display()))?;
    }
    std::fs::copy(runner, guest.join(RUNNER_PACKAGE))
        .with_context(|| format!("copying {}", runner.display()))?;
    for rel in snapshot_files(&layout.repo)? {
        let dest = guest.join(&rel);
        std::fs::create_dir_all(dest.parent().expect("has parent"))?;
        std::fs::copy(layout.repo.join(&rel), &dest)?;
    }
    let manifest = manifest_for(tests, timeout_secs);
    fragment::write_atomic(
        &guest.join(MANIFEST_FILE),
        manifest.to_json().as_bytes(),
        false,
    )?;
    fragment::write_atomic(
        &guest.join("run-tests.sh"),
        fragment::run_tests_script(&manifest.ktap_prefix, manifest.watchdog_secs)?.as_bytes(),
        true,
    )?;
    Ok(manifest)
}

/// Runs a cargo command whose stdout is JSON messages; diagnostics go to the
/// terminal. Returns its artifacts.
pub fn run_cargo(cmd: &CommandSpec) -> Result<Vec<Artifact>> {
    let out = cmd
        .to_command()
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("starting {}", cmd.shell_line()))?;
    if !out.status.success() {
        bail!(
            "the cross build failed ({}); cargo's messages are above. Command:\n  {}",
            out.status,
            cmd.shell_line()
        );
    }
    artifacts_from_json(&String::from_utf8_lossy(&out.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_test_executables_from_cargo_json() {
        let json = r#"{"reason":"compiler-artifact","package_id":"x","target":{"kind":["lib"],"name":"haiku_sys"},"profile":{"test":false},"executable":null}
{"reason":"compiler-artifact","package_id":"y","target":{"kind":["test"],"name":"haiku_threads"},"profile":{"test":true},"executable":"/r/target/x86_64-unknown-haiku/debug/deps/haiku_threads-0a1b"}
{"reason":"compiler-artifact","package_id":"y","target":{"kind":["test"],"name":"haiku_threads"},"profile":{"test":true},"executable":"/r/target/x86_64-unknown-haiku/debug/deps/haiku_threads-0a1b"}
{"reason":"build-finished","success":true}
"#;
        let a = artifacts_from_json(json).unwrap();
        assert_eq!(
            a,
            vec![Artifact {
                name: "haiku_threads".into(),
                test: true,
                executable: "/r/target/x86_64-unknown-haiku/debug/deps/haiku_threads-0a1b".into()
            }]
        );
        assert!(artifacts_from_json("{not json").is_err());
    }

    #[test]
    fn guest_tests_are_picked_by_name() {
        let here = guest_test_targets(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(here[0], "conformance");
        assert!(here.iter().all(|n| GUEST_TESTS.contains(&n.as_str())));
        let empty = tempfile::tempdir().unwrap();
        std::fs::create_dir(empty.path().join("tests")).unwrap();
        std::fs::write(empty.path().join("tests/haiku_device_model.rs"), "").unwrap();
        assert!(guest_test_targets(empty.path()).is_err());
    }

    fn build_dir_in(dir: &Path) -> BuildDir {
        std::fs::create_dir_all(dir.join("build")).unwrap();
        std::fs::write(
            dir.join("build/BuildConfig"),
            "HAIKU_PACKAGING_ARCHS ?= x86_64 ;\n",
        )
        .unwrap();
        BuildDir::open(dir).unwrap()
    }

    #[test]
    fn legacy_haiku_devel_links_are_made_relative_and_libgcc_s_linked() {
        use std::os::unix::fs::symlink;
        let t = tempfile::tempdir().unwrap();
        let b = build_dir_in(t.path());
        let system = b.sysroot().join("boot/system");
        std::fs::create_dir_all(system.join("lib")).unwrap();
        std::fs::create_dir_all(system.join("develop/lib")).unwrap();
        std::fs::write(system.join("lib/libroot.so"), "elf").unwrap();
        std::fs::write(system.join("lib/libgcc_s.so.1"), "elf").unwrap();
        std::fs::write(system.join("develop/lib/start_dyn.o"), "o").unwrap();
        // haiku_devel.hpkg before Haiku 8f362bfdfc: absolute links.
        symlink(
            "/system/lib/libroot.so",
            system.join("develop/lib/libroot.so"),
        )
        .unwrap();
        symlink(
            "../../lib/libroot.so",
            system.join("develop/lib/libkeep.so"),
        )
        .unwrap();
        assert!(!sysroot_ready(&b), "dangling links do not count");

        let changes = fix_sysroot_links(&system).unwrap();
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(
            std::fs::read_link(system.join("develop/lib/libroot.so")).unwrap(),
            PathBuf::from("../../lib/libroot.so")
        );
        assert_eq!(
            std::fs::read_link(system.join("develop/lib/libkeep.so")).unwrap(),
            PathBuf::from("../../lib/libroot.so")
        );
        assert!(sysroot_ready(&b));
        // A second run changes nothing.
        assert!(fix_sysroot_links(&system).unwrap().is_empty());
    }

    #[test]
    fn finds_the_downloaded_gcc_syslibs_packages() {
        let t = tempfile::tempdir().unwrap();
        let b = build_dir_in(t.path());
        let dl = download_dir(&b);
        std::fs::create_dir_all(&dl).unwrap();
        std::fs::write(dl.join("gcc_syslibs-13.3.0_2023_08_10-1-x86_64.hpkg"), "").unwrap();
        let err = gcc_syslibs_packages(&b).unwrap_err().to_string();
        assert!(err.contains("no gcc_syslibs_devel-*.hpkg"), "{err}");
        std::fs::write(
            dl.join("gcc_syslibs_devel-13.3.0_2023_08_10-1-x86_64.hpkg"),
            "",
        )
        .unwrap();
        std::fs::write(
            dl.join("gcc_syslibs-13.3.0_2023_08_10-1-x86_64.hpkg.part"),
            "",
        )
        .unwrap();
        let names: Vec<String> = gcc_syslibs_packages(&b)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "gcc_syslibs-13.3.0_2023_08_10-1-x86_64.hpkg",
                "gcc_syslibs_devel-13.3.0_2023_08_10-1-x86_64.hpkg"
            ]
        );
    }

    #[test]
    fn sysroot_jam_runs_under_the_image_profile() {
        let t = tempfile::tempdir().unwrap();
        let b = build_dir_in(t.path());
        let jam = &sysroot_steps(&b, 2)[0];
        assert_eq!(
            jam.args[2..5],
            [
                format!("@{}", fragment::PROFILE),
                "build".into(),
                "haiku.hpkg".into()
            ]
        );
    }

    #[test]
    fn finds_libclang_where_clang_sys_looks() {
        let t = tempfile::tempdir().unwrap();
        let empty = t.path().join("empty");
        let llvm = t.path().join("llvm-14/lib");
        std::fs::create_dir_all(&empty).unwrap();
        std::fs::create_dir_all(&llvm).unwrap();
        std::fs::write(llvm.join("libclang-cpp.so.14"), "").unwrap();
        std::fs::write(llvm.join("libclangBasic.a"), "").unwrap();
        // Neither is libclang itself.
        assert_eq!(find_libclang_in(None, &[empty.clone(), llvm.clone()]), None);
        std::fs::write(llvm.join("libclang.so.1"), "").unwrap();
        assert_eq!(
            find_libclang_in(None, &[empty.clone(), llvm.clone()]),
            Some(llvm.join("libclang.so.1"))
        );
        // LIBCLANG_PATH wins, and only it is searched.
        assert_eq!(
            find_libclang_in(Some(&empty), std::slice::from_ref(&llvm)),
            None
        );
        assert_eq!(
            find_libclang_in(Some(&llvm.join("libclang.so.1")), &[]),
            Some(llvm.join("libclang.so.1"))
        );
        let missing = libclang_prerequisite(None);
        let how = missing.found.unwrap_err();
        assert!(how.contains("apt-get install libclang-dev"), "{how}");
        assert!(how.contains("LIBCLANG_PATH"), "{how}");
    }

    #[test]
    fn host_names_are_haikus() {
        // configure's HOST_PLATFORM and BuildSetup's HOST_ARCH.
        assert_eq!(host_platform_of("linux"), "linux");
        assert_eq!(host_platform_of("macos"), "darwin");
        assert_eq!(host_platform_of("haiku"), "haiku_host");
        assert_eq!(host_arch_of("x86_64"), "x86_64");
        assert_eq!(host_arch_of("aarch64"), "arm64");
        assert_eq!(host_arch_of("riscv64"), "riscv64");
        let t = tempfile::tempdir().unwrap();
        let b = build_dir_in(t.path());
        let tool = package_tool(&b).display().to_string();
        assert!(
            tool.contains(&format!(
                "/objects/{}/{}/release/",
                host_platform(),
                host_arch()
            )),
            "{tool}"
        );
    }

    /// The package tool does not create the `-C` directory, and the cross
    /// tools build deleted the sysroot: mkdir -p comes before every extract.
    #[test]
    fn the_sysroot_is_created_before_anything_is_extracted_into_it() {
        let t = tempfile::tempdir().unwrap();
        let b = build_dir_in(t.path());
        let steps = sysroot_steps(&b, 2);
        let dest = b.sysroot().join("boot/system").display().to_string();
        let mkdir = steps
            .iter()
            .position(|c| c.program == "mkdir" && c.args == ["-p".to_string(), dest.clone()])
            .expect("a mkdir -p of the sysroot");
        let first_extract = steps
            .iter()
            .position(|c| c.args.first().is_some_and(|a| a == "extract"))
            .expect("extract steps");
        assert!(mkdir < first_extract);
        for c in steps
            .iter()
            .filter(|c| c.args.first().is_some_and(|a| a == "extract"))
        {
            assert_eq!(c.args[1..3], ["-C".to_string(), dest.clone()]);
        }
    }

    #[test]
    fn tells_haikus_jam_from_others() {
        assert!(is_haiku_jam(
            "Jam 2.5-haiku-20111222. OS=LINUX. Copyright 1993-2002 Christopher Seiwald."
        ));
        assert!(!is_haiku_jam(
            "Jam 2.6.1. OS=LINUX. OSPLAT=X86_64. Copyright 1993-2010 Christopher Seiwald."
        ));
        assert!(!is_haiku_jam(""));
    }

    #[test]
    fn manifest_has_a_watchdog_longer_than_all_timeouts() {
        let a = Artifact {
            name: "t".into(),
            test: true,
            executable: "/x".into(),
        };
        let m = manifest_for(&[a.clone(), a], 10);
        assert_eq!(m.watchdog_secs, 140);
        assert_eq!(m.tests[1].path, "bin/t");
        m.validate().unwrap();
    }
}
