//! Cross-building the Rust tests for `x86_64-unknown-haiku` and staging them
//! for the image.
//!
//! Rust's Haiku target is tier 3: there is no prebuilt standard library, so
//! the tests are built with nightly cargo and `-Zbuild-std` (which needs the
//! `rust-src` component). Linking uses the gcc of the checkout's generated
//! cross tools (`BUILD/cross-tools-x86_64/bin/x86_64-unknown-haiku-gcc`),
//! whose sysroot has Haiku's headers; the libraries (libroot.so and the
//! rest) come from Haiku's `haiku.hpkg`/`haiku_devel.hpkg`, built by jam and
//! extracted into that sysroot ([`sysroot_steps`]). haiku-sys's build script
//! runs bindgen against the checkout's headers (`HAIKU_TOP`,
//! `HAIKU_SYSROOT`).
//!
//! [`check_prerequisites`] says exactly what is missing and how to get it.

use crate::jam::build_dir::{BuildDir, ARCH};
use crate::jam::command::{find_in_path, CommandSpec};
use crate::jam::fragment::{self, Layout};
use anyhow::{bail, Context, Result};
use guest_runner::manifest::{Manifest, TestBinary, MANIFEST_FILE, MANIFEST_VERSION};
use std::path::{Path, PathBuf};

/// The Rust target.
pub const TARGET: &str = "x86_64-unknown-haiku";

/// The integration tests that run in the guest, by cargo target name: the
/// conformance suite and the tests that need Haiku (the test module's device
/// tests, detached threads with and without the module). The other
/// `tests/haiku_*` files are host self-tests (models, compile checks,
/// benchmarks, patch series) and stay out, as do the CLI, jam, QEMU and
/// patch tests.
pub const GUEST_TESTS: &[&str] = &[
    "conformance",
    "haiku_device",
    "haiku_detached",
    "haiku_detached_module",
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

/// The packages dir jam builds haiku.hpkg and haiku_devel.hpkg into.
pub fn packages_dir(build: &BuildDir) -> PathBuf {
    build
        .path
        .join(format!("objects/haiku/{ARCH}/packaging/packages"))
}

/// The host `package` tool jam builds (`<build>package`).
pub fn package_tool(build: &BuildDir) -> PathBuf {
    build.path.join(format!(
        "objects/{}/{}/release/tools/package/package",
        std::env::consts::OS,
        std::env::consts::ARCH
    ))
}

/// Commands that put Haiku's libraries into the cross sysroot: jam builds
/// the packages and the host `package` tool, which extracts them.
pub fn sysroot_steps(build: &BuildDir, jobs: usize) -> Vec<CommandSpec> {
    let mut steps = vec![CommandSpec::new(
        &crate::jam::command::jam_program(),
        &[
            "-q",
            &format!("-j{jobs}"),
            "haiku.hpkg",
            "haiku_devel.hpkg",
            "<build>package",
        ],
        &build.path,
    )];
    let dest = build.sysroot().join("boot/system");
    let lib_dir = build
        .path
        .join(format!("objects/{}/lib", std::env::consts::OS));
    for pkg in ["haiku.hpkg", "haiku_devel.hpkg"] {
        let tool = package_tool(build).display().to_string();
        let dest = dest.display().to_string();
        let pkg = packages_dir(build).join(pkg).display().to_string();
        steps.push(
            CommandSpec::new(&tool, &["extract", "-C", &dest, &pkg], &build.path)
                .env("LD_LIBRARY_PATH", lib_dir.display().to_string()),
        );
    }
    steps
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
            out.push(if libroot.is_file() {
                Prerequisite::ok(
                    "Haiku libraries in the cross sysroot",
                    libroot.display().to_string(),
                )
            } else {
                Prerequisite::missing(
                    "Haiku libraries in the cross sysroot",
                    format!(
                        "{} not found (verify builds and extracts them; by hand: {})",
                        libroot.display(),
                        sysroot_steps(b, 2)
                            .iter()
                            .map(CommandSpec::shell_line)
                            .collect::<Vec<_>>()
                            .join(" ; ")
                    ),
                )
            });
        }
        Err(e) => out.push(Prerequisite::missing("configured build directory", e)),
    }
    out.push(haiku_jam());
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

/// The cargo command that builds the guest test targets `tests` (JSON
/// messages on stdout).
pub fn test_build_command(
    repo: &Path,
    haiku_top: &Path,
    build: &BuildDir,
    tests: &[String],
) -> CommandSpec {
    let mut args: Vec<String> = [
        "+nightly",
        "test",
        "--no-run",
        "-Zbuild-std",
        "--target",
        TARGET,
        "--message-format=json-render-diagnostics",
        "-p",
        "dead-threads",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for t in tests {
        args.push("--test".into());
        args.push(t.clone());
    }
    let c = CommandSpec {
        program: "cargo".into(),
        args,
        env: vec![],
        cwd: repo.to_path_buf(),
    };
    with_cross_env(c, haiku_top, build)
}

/// The cargo command that builds the guest runner.
pub fn runner_build_command(repo: &Path, haiku_top: &Path, build: &BuildDir) -> CommandSpec {
    let c = CommandSpec::new(
        "cargo",
        &[
            "+nightly",
            "build",
            "--release",
            "-Zbuild-std",
            "--target",
            TARGET,
            "--message-format=json-render-diagnostics",
            "-p",
            RUNNER_PACKAGE,
            "--bin",
            RUNNER_PACKAGE,
        ],
        repo,
    );
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
