//! Finding and reading a configured Haiku build directory (the directory
//! `configure` was run in: `generated/` by default, or `generated.x86_64/`
//! and the like).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The architecture everything here targets.
pub const ARCH: &str = "x86_64";

/// A configured build directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildDir {
    /// The directory (absolute).
    pub path: PathBuf,
    /// `HAIKU_PACKAGING_ARCHS` from `build/BuildConfig`.
    pub packaging_archs: Vec<String>,
    /// The cross gcc named by `HAIKU_CC_x86_64` in `build/BuildConfig`, if
    /// that names a gcc (its first word; `configure --use-clang` puts
    /// `clang -target ...` there, which cannot link Rust's executables).
    pub cc: Option<PathBuf>,
}

/// Where `configure` writes its output when run from `haiku_top` itself.
pub fn default_build_dir(haiku_top: &Path) -> PathBuf {
    haiku_top.join("generated")
}

/// The value of `NAME ?= VALUE ;` (or `=`) in a jam file like BuildConfig.
/// Quotes around single values are removed. Returns the whitespace-separated
/// values.
pub fn jam_assignment(text: &str, name: &str) -> Option<Vec<String>> {
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !rest.starts_with(|c: char| c.is_whitespace() || c == '?' || c == '=') {
            continue;
        }
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix("?=").or_else(|| rest.strip_prefix('=')) else {
            continue;
        };
        let rest = rest.trim();
        let rest = rest.strip_suffix(';').unwrap_or(rest).trim();
        return Some(
            rest.split_whitespace()
                .map(|v| v.trim_matches('"').to_string())
                .filter(|v| !v.is_empty())
                .collect(),
        );
    }
    None
}

impl BuildDir {
    /// Reads `DIR/build/BuildConfig`. Errors say how to configure one.
    pub fn open(dir: &Path) -> Result<Self> {
        let config = dir.join("build").join("BuildConfig");
        if !config.is_file() {
            // Absolute: the suggested commands `cd` into the directory.
            let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
            bail!(
                "{} is not a configured Haiku build directory (no build/BuildConfig).\n\
                 Configure one with the cross tools, e.g.:\n  \
                 mkdir -p {dir} && cd {dir} && <haiku>/configure --cross-tools-source <buildtools> --build-cross-tools {ARCH}",
                dir.display(),
                dir = dir.display()
            );
        }
        let text = std::fs::read_to_string(&config)
            .with_context(|| format!("reading {}", config.display()))?;
        let packaging_archs = jam_assignment(&text, "HAIKU_PACKAGING_ARCHS").unwrap_or_default();
        let cc = jam_assignment(&text, &format!("HAIKU_CC_{ARCH}"))
            .and_then(|v| v.into_iter().next())
            .map(PathBuf::from)
            .filter(|p| is_gcc(p));
        let path = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        Ok(Self {
            path,
            packaging_archs,
            cc,
        })
    }

    /// `--build-dir` if given, else `HAIKU_TOP/generated`, else the only
    /// `HAIKU_TOP/generated*` directory that is configured.
    pub fn find(haiku_top: &Path, explicit: Option<&Path>) -> Result<Self> {
        let top = std::path::absolute(haiku_top).unwrap_or_else(|_| haiku_top.to_path_buf());
        Self::find_inner(haiku_top, explicit).map_err(|e| {
            anyhow::anyhow!(
                "{}",
                format!("{e:#}").replace("<haiku>", &top.display().to_string())
            )
        })
    }

    fn find_inner(haiku_top: &Path, explicit: Option<&Path>) -> Result<Self> {
        if let Some(dir) = explicit {
            return Self::open(dir);
        }
        let default = default_build_dir(haiku_top);
        if default.join("build/BuildConfig").is_file() {
            return Self::open(&default);
        }
        let mut found = Vec::new();
        if let Ok(entries) = std::fs::read_dir(haiku_top) {
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with("generated") && p.join("build/BuildConfig").is_file() {
                    found.push(p);
                }
            }
        }
        found.sort();
        match found.len() {
            1 => Self::open(&found[0]),
            0 => Self::open(&default),
            _ => bail!(
                "several configured build directories in {}: {}; choose one with --build-dir",
                haiku_top.display(),
                found
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// `cross-tools-x86_64` inside the build directory.
    pub fn cross_tools(&self) -> PathBuf {
        self.path.join(format!("cross-tools-{ARCH}"))
    }

    /// The cross gcc: `HAIKU_CC_x86_64` from BuildConfig when it is a gcc,
    /// else the one in the build directory's cross tools.
    pub fn cross_gcc(&self) -> PathBuf {
        self.cc.clone().unwrap_or_else(|| {
            self.cross_tools()
                .join("bin")
                .join(format!("{ARCH}-unknown-haiku-gcc"))
        })
    }

    /// The cross gcc's compiled-in sysroot, as the compiler itself reports
    /// it (`x86_64-unknown-haiku-gcc -print-sysroot`: right also when
    /// configure got `--sysroot`); `cross-tools-x86_64/sysroot`, gcc's
    /// default there, while the compiler cannot be run. Haiku's cross-tools
    /// build deletes that directory when done (unless configure got
    /// `--sysroot`); verify's sysroot step creates and fills it with the
    /// extracted packages (headers and libraries). Runs the compiler on
    /// every call.
    pub fn sysroot(&self) -> PathBuf {
        print_sysroot(&self.cross_gcc()).unwrap_or_else(|| self.cross_tools().join("sysroot"))
    }

    /// Where our generated files live: `BUILD/dead_threads`.
    pub fn stage(&self) -> PathBuf {
        self.path.join("dead_threads")
    }
}

/// Whether `cc` (a path or a name) names a gcc driver
/// (`x86_64-unknown-haiku-gcc`, `gcc`, `gcc-x86_64`).
fn is_gcc(cc: &Path) -> bool {
    cc.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n == "gcc" || n.ends_with("-gcc") || n.starts_with("gcc-")
    })
}

/// `gcc -print-sysroot`: `None` when `gcc` cannot be run, fails, or prints
/// nothing (a gcc built without a sysroot). A relative answer is taken
/// relative to the compiler's directory.
pub fn print_sysroot(gcc: &Path) -> Option<PathBuf> {
    let out = std::process::Command::new(gcc)
        .arg("-print-sysroot")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || text.is_empty() {
        return None;
    }
    let p = PathBuf::from(text);
    Some(if p.is_absolute() {
        p
    } else {
        gcc.parent().unwrap_or(Path::new(".")).join(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_assignments() {
        let text = "HAIKU_PACKAGING_ARCHS\t\t?= x86_64 ;\nHAIKU_CC_x86_64 ?= /b/cross-tools-x86_64/bin/x86_64-unknown-haiku-gcc ;\nGIT_DIR ?= \"/h/.git\" ;\n";
        assert_eq!(
            jam_assignment(text, "HAIKU_PACKAGING_ARCHS"),
            Some(vec!["x86_64".to_string()])
        );
        assert_eq!(
            jam_assignment(text, "GIT_DIR"),
            Some(vec!["/h/.git".to_string()])
        );
        assert_eq!(jam_assignment(text, "HAIKU_CC_x86"), None);
    }

    fn configured(dir: &Path, cc_line: &str) -> BuildDir {
        std::fs::create_dir_all(dir.join("build")).unwrap();
        std::fs::write(
            dir.join("build/BuildConfig"),
            format!("HAIKU_PACKAGING_ARCHS ?= x86_64 ;\n{cc_line}"),
        )
        .unwrap();
        BuildDir::open(dir).unwrap()
    }

    fn fake_tool(path: &Path, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn the_sysroot_is_the_one_the_cross_gcc_reports() {
        let t = tempfile::tempdir().unwrap();
        let b = configured(t.path(), "");
        // No compiler yet: gcc's default place in the cross tools.
        assert_eq!(b.sysroot(), t.path().join("cross-tools-x86_64/sysroot"));
        // configure --sysroot elsewhere: the compiler knows.
        let elsewhere = t.path().join("my-sysroot");
        fake_tool(
            &b.cross_gcc(),
            &format!(
                "[ \"$1\" = -print-sysroot ] && echo {}\n",
                elsewhere.display()
            ),
        );
        assert_eq!(b.sysroot(), elsewhere);
        // A gcc without a sysroot prints an empty line.
        fake_tool(&b.cross_gcc(), "echo\n");
        assert_eq!(b.sysroot(), t.path().join("cross-tools-x86_64/sysroot"));
    }

    #[test]
    fn a_clang_haiku_cc_is_not_taken_for_the_cross_gcc() {
        let t = tempfile::tempdir().unwrap();
        let default = t
            .path()
            .join("cross-tools-x86_64/bin/x86_64-unknown-haiku-gcc");
        let b = configured(
            t.path(),
            "HAIKU_CC_x86_64 ?= clang -target x86_64-unknown-haiku -B /b/cross-tools-x86_64/bin/x86_64-unknown-haiku- ;\n",
        );
        assert_eq!(b.cc, None);
        assert_eq!(b.cross_gcc(), default);
        let b = configured(
            t.path(),
            "HAIKU_CC_x86_64 ?= /opt/cross/bin/x86_64-unknown-haiku-gcc ;\n",
        );
        assert_eq!(
            b.cross_gcc(),
            PathBuf::from("/opt/cross/bin/x86_64-unknown-haiku-gcc")
        );
    }

    #[test]
    fn unconfigured_dir_says_how_to_configure() {
        let t = tempfile::tempdir().unwrap();
        let err = BuildDir::open(t.path()).unwrap_err().to_string();
        assert!(err.contains("--build-cross-tools x86_64"), "{err}");
    }

    #[test]
    fn configure_hint_works_from_a_relative_checkout_path() {
        // The hint `cd`s into the build directory before running configure,
        // so both paths in it must be absolute.
        let cwd = std::env::current_dir().unwrap();
        let err = BuildDir::find(Path::new("no-such-haiku"), None)
            .unwrap_err()
            .to_string();
        let top = cwd.join("no-such-haiku");
        let expected = format!(
            "cd {} && {}/configure ",
            top.join("generated").display(),
            top.display()
        );
        assert!(err.contains(&expected), "{err}");
    }
}
