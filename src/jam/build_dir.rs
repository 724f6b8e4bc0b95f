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
    /// `HAIKU_CC_x86_64` from `build/BuildConfig`, if set.
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
            .map(PathBuf::from);
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

    /// The cross gcc: `HAIKU_CC_x86_64` from BuildConfig, else the one in
    /// the build directory's cross tools.
    pub fn cross_gcc(&self) -> PathBuf {
        self.cc.clone().unwrap_or_else(|| {
            self.cross_tools()
                .join("bin")
                .join(format!("{ARCH}-unknown-haiku-gcc"))
        })
    }

    /// The cross gcc's compiled-in sysroot. Haiku's cross-tools build
    /// deletes it when done; verify's sysroot step fills it with the
    /// extracted packages (headers and libraries).
    pub fn sysroot(&self) -> PathBuf {
        self.cross_tools().join("sysroot")
    }

    /// Where our generated files live: `BUILD/dead_threads`.
    pub fn stage(&self) -> PathBuf {
        self.path.join("dead_threads")
    }
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
