//! The Haiku checkout a T1 test runs against, and scratch copies of it:
//! `HAIKU_TOP` is only ever read.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The checkout named by `HAIKU_TOP`.
///
/// A test calling this is marked
/// `#[cfg_attr(not(haiku_top), ignore = "needs HAIKU_TOP (a Haiku checkout)")]`
/// (cfg set by build.rs), so it runs only when `HAIKU_TOP` was set for the
/// build. Run anyway (`--include-ignored`) without it, it fails saying so:
/// a test that checked nothing never passes.
///
/// # Panics
/// When `HAIKU_TOP` is unset or empty.
pub fn haiku_top() -> PathBuf {
    match std::env::var_os("HAIKU_TOP").filter(|v| !v.is_empty()) {
        Some(top) => PathBuf::from(top),
        None => panic!(
            "HAIKU_TOP is not set: point it at a Haiku checkout \
             (HAIKU_TOP=~/haiku cargo test --workspace)"
        ),
    }
}

/// Copies the directories `parts` (relative paths) of the checkout `top` to
/// the same places under `to`, with `cp -a` (modes and symlinks kept). A
/// part inside another part is copied once, with its parent. Every part must
/// exist in `top`.
pub fn copy_parts<S: AsRef<str>>(top: &Path, to: &Path, parts: impl IntoIterator<Item = S>) {
    let mut parts: Vec<String> = parts.into_iter().map(|p| p.as_ref().to_owned()).collect();
    parts.sort();
    parts.dedup();
    // Sorted, a directory comes before everything inside it.
    let mut copied: Vec<String> = Vec::new();
    for part in parts {
        if copied.iter().any(|c| part.starts_with(&format!("{c}/"))) {
            continue;
        }
        let from = top.join(&part);
        assert!(from.is_dir(), "{} is not a directory", from.display());
        let dst = to.join(&part);
        std::fs::create_dir_all(dst.parent().expect("a relative part")).expect("mkdir");
        let st = Command::new("cp")
            .arg("-a")
            .arg(&from)
            .arg(&dst)
            .status()
            .expect("run cp");
        assert!(st.success(), "copying {part}");
        copied.push(part);
    }
}
