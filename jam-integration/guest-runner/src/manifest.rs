//! The manifest that tells the guest runner what to run.
//!
//! Written on the host by `dead-threads` (next to the staged test binaries),
//! read in the guest. JSON, versioned:
//!
//! ```json
//! {
//!   "version": 1,
//!   "ktap_prefix": "...",
//!   "watchdog_secs": 1800,
//!   "tests": [
//!     { "name": "haiku_threads", "path": "bin/haiku_threads-0123abcd",
//!       "timeout_secs": 600, "args": [] }
//!   ]
//! }
//! ```
//!
//! Paths are relative to the manifest's directory, which is also the
//! directory insta treats as the workspace root (`INSTA_WORKSPACE_ROOT`), so
//! snapshot files shipped as `tests/snapshots/*.snap` next to the manifest
//! are found exactly where `cargo insta` keeps them in the repository.

use serde::{Deserialize, Serialize};
use std::path::{Component, Path};

/// The manifest format this runner understands.
pub const MANIFEST_VERSION: u32 = 1;

/// File name of the manifest inside the staged guest directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// One test binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestBinary {
    /// Name used in KTAP (the cargo target name, e.g. `haiku_threads`).
    pub name: String,
    /// Path relative to the manifest directory.
    pub path: String,
    /// The binary is killed after this many seconds.
    pub timeout_secs: u64,
    /// Extra libtest arguments (filters, `--include-ignored`, ...).
    #[serde(default)]
    pub args: Vec<String>,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Must be [`MANIFEST_VERSION`].
    pub version: u32,
    /// Prefix of every KTAP line on the serial port, so the host can pick our
    /// lines out of kernel noise.
    pub ktap_prefix: String,
    /// The whole run is abandoned (bail out, power off) after this long.
    pub watchdog_secs: u64,
    /// The binaries, run in this order.
    pub tests: Vec<TestBinary>,
}

/// Why a manifest was rejected.
#[derive(Debug)]
pub enum ManifestError {
    /// Not valid JSON of the expected shape.
    Parse(serde_json::Error),
    /// Valid JSON, wrong content.
    Invalid(String),
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestError::Parse(e) => write!(f, "manifest is not valid: {e}"),
            ManifestError::Invalid(m) => write!(f, "manifest is not valid: {m}"),
        }
    }
}

impl std::error::Error for ManifestError {}

fn is_plain_relative(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

impl Manifest {
    /// Parses and validates a manifest.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let m: Manifest = serde_json::from_str(text).map_err(ManifestError::Parse)?;
        m.validate()?;
        Ok(m)
    }

    /// Checks version, names, paths and timeouts.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let bad = |m: String| Err(ManifestError::Invalid(m));
        if self.version != MANIFEST_VERSION {
            return bad(format!(
                "version {} (this runner reads version {MANIFEST_VERSION})",
                self.version
            ));
        }
        if self.ktap_prefix.contains(['\n', '\r']) {
            return bad("ktap_prefix contains a line break".into());
        }
        if self.watchdog_secs == 0 {
            return bad("watchdog_secs is 0".into());
        }
        for t in &self.tests {
            if t.name.trim().is_empty() {
                return bad(format!("test {:?} has an empty name", t.path));
            }
            if !is_plain_relative(&t.path) {
                return bad(format!(
                    "test {}: path {:?} must be relative, without `..`",
                    t.name, t.path
                ));
            }
            if t.timeout_secs == 0 {
                return bad(format!("test {}: timeout_secs is 0", t.name));
            }
        }
        Ok(())
    }

    /// Serialises the manifest (pretty JSON with a trailing newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("manifest serialises");
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            version: 1,
            ktap_prefix: "P: ".into(),
            watchdog_secs: 60,
            tests: vec![TestBinary {
                name: "t".into(),
                path: "bin/t-1".into(),
                timeout_secs: 5,
                args: vec![],
            }],
        }
    }

    #[test]
    fn round_trip() {
        let m = sample();
        assert_eq!(Manifest::parse(&m.to_json()).unwrap(), m);
    }

    #[test]
    fn rejects_escaping_paths_and_bad_versions() {
        let mut m = sample();
        m.tests[0].path = "../etc/passwd".into();
        assert!(Manifest::parse(&m.to_json()).is_err());
        m.tests[0].path = "/bin/sh".into();
        assert!(Manifest::parse(&m.to_json()).is_err());
        let mut m = sample();
        m.version = 2;
        let err = Manifest::parse(&m.to_json()).unwrap_err().to_string();
        assert!(err.contains("version 2"), "{err}");
        assert!(Manifest::parse("{").is_err());
    }
}
