//! T1 checks of the modern series (`kernel-patch/modern/`) against a real
//! upstream-current Haiku checkout named by `HAIKU_TOP` (never modified: a
//! copy is patched; patches of the series the checkout already carries are
//! reverted in the copy first). Without `HAIKU_TOP`, clang or libc++'s
//! headers, or with a checkout of another base (build.rs's `haiku_base`),
//! the tests are reported ignored, with the reason.
//!
//! What is checked: the series applies in order and reverts to the exact
//! original files; every touched kernel and libroot file compiles for
//! `x86_64-unknown-haiku` with the checkout's headers (`haiku_cc`), after the
//! whole series and after each of its patches (every fix stands without the
//! ones after it); the new syscall's userland and kernel declarations agree
//! (what gensyscalls relies on); the test module builds against the patched
//! tree; and the compile check has teeth: libroot's patch alone does not
//! compile.
//! Nothing here builds or boots Haiku.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::checkout::{copy_parts, haiku_top};
use dead_threads::haiku_cc::{self, Profile};

const SERIES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/kernel-patch/modern");
const MODULE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/kernel-patch/module");

/// What must be copied for the compile checks.
const COPIED: [&str; 4] = [
    "headers",
    "build",
    "src/system/kernel",
    "src/system/libroot",
];

fn series() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(SERIES_DIR)
        .expect("kernel-patch/modern")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "patch"))
        .collect();
    v.sort();
    assert!(v.len() >= 4, "the series has its patches: {v:?}");
    v
}

/// The files a patch touches (`diff --git a/X b/X`).
fn touched(patch: &Path) -> Vec<String> {
    std::fs::read_to_string(patch)
        .expect("read patch")
        .lines()
        .filter_map(|l| l.strip_prefix("diff --git a/"))
        .map(|rest| rest.split(" b/").next().expect("b/ path").to_string())
        .collect()
}

/// A scratch copy of the parts of `top` the checks need, without our
/// series: patches of it that the checkout carries (a prefix of the series,
/// e.g. after `patch apply` or `git am`) are reverted in the copy, last
/// first.
fn scratch_copy(top: &Path) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("dead-threads-modern")
        .tempdir()
        .expect("tempdir");
    let present = COPIED.into_iter().filter(|part| top.join(part).is_dir());
    copy_parts(top, dir.path(), present);
    let patches = series();
    let carried = (0..=patches.len())
        .rev()
        // The last carried patch is the last one that reverts cleanly; the
        // ones before it must then revert too (checked below).
        .find(|&k| k == 0 || git_apply_check(dir.path(), &patches[k - 1], true))
        .unwrap_or(0);
    for p in patches[..carried].iter().rev() {
        git_apply(dir.path(), p, true).unwrap_or_else(|e| {
            panic!(
                "HAIKU_TOP={} carries {carried} patches of the series, but {} does not revert: {e}",
                top.display(),
                p.display()
            )
        });
    }
    if carried > 0 {
        eprintln!(
            "HAIKU_TOP={} carries the first {carried} patches of the series: reverted in the copy",
            top.display()
        );
    }
    let types = std::fs::read_to_string(dir.path().join("headers/private/kernel/thread_types.h"))
        .expect("thread_types.h in the copy");
    assert!(
        types.contains("ThreadDeathEntryList") && !types.contains("dead_threads_index"),
        "build.rs guessed an upstream-current tree at HAIKU_TOP={}, but its copy without \
         our series has no ThreadDeathEntryList: fix guess_base() in build.rs",
        top.display()
    );
    dir
}

/// `git apply --check` (reversed if `reverse`) of `patch` in `tree`.
fn git_apply_check(tree: &Path, patch: &Path, reverse: bool) -> bool {
    let mut cmd = Command::new("git");
    cmd.current_dir(tree)
        .args(["apply", "--check", "-p1", "--whitespace=nowarn"]);
    if reverse {
        cmd.arg("-R");
    }
    cmd.arg(patch)
        .output()
        .expect("run git apply")
        .status
        .success()
}

fn git_apply(tree: &Path, patch: &Path, reverse: bool) -> Result<(), String> {
    let mut cmd = Command::new("git");
    cmd.current_dir(tree)
        .args(["apply", "-p1", "--whitespace=nowarn"]);
    if reverse {
        cmd.arg("-R");
    }
    let out = cmd.arg(patch).output().expect("run git apply");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn compile_ok(tree: &Path, profile: Profile, source: &Path, includes: &[PathBuf]) -> Vec<String> {
    let result = haiku_cc::compile(tree, profile, source, includes)
        .unwrap_or_else(|e| panic!("cannot run the compile check: {e}"));
    result.errors().map(|d| d.to_string()).collect()
}

/// The files each touched source is compiled as.
fn profile_of(file: &str) -> Option<Profile> {
    if !file.ends_with(".cpp") && !file.ends_with(".c") {
        return None;
    }
    if file.starts_with("src/system/kernel/") {
        Some(Profile::Kernel)
    } else if file.starts_with("src/system/libroot/") {
        Some(Profile::Userland)
    } else {
        None
    }
}

/// Declarations gensyscalls pairs by name must have the same type.
const SYSCALL_CHECK: &str = r#"
#include <syscalls.h>
#include <thread.h>
#include <thread_defs.h>
#include <type_traits>

static_assert(std::is_same<decltype(_kern_detach_thread),
	decltype(_user_detach_thread)>::value,
	"_kern_detach_thread and _user_detach_thread differ");
static_assert((THREAD_CREATION_FLAG_DETACHED
	& THREAD_CREATION_FLAG_DEFER_SIGNALS) == 0, "creation flags overlap");
static_assert(std::is_same<decltype(&thread_detach),
	status_t (*)(thread_id)>::value, "thread_detach");
"#;

#[test]
#[cfg_attr(
    not(all(haiku_base = "upstream-current", has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP at an upstream-current tree, clang and libc++ headers"
)]
fn series_applies_compiles_and_reverts() {
    let top = haiku_top();
    let scratch = scratch_copy(&top);
    let tree = scratch.path();
    let patches = series();
    let mut originals = std::collections::BTreeMap::new();
    for p in &patches {
        for f in touched(p) {
            originals
                .entry(f.clone())
                .or_insert_with(|| std::fs::read(tree.join(&f)).ok());
        }
    }

    let mut files: Vec<String> = Vec::new();
    for p in &patches {
        git_apply(tree, p, false).unwrap_or_else(|e| panic!("{} does not apply: {e}", p.display()));
        for f in touched(p) {
            if !files.contains(&f) {
                files.push(f);
            }
        }
    }

    let mut failures = Vec::new();
    let mut compiled = 0;
    for f in &files {
        let Some(profile) = profile_of(f) else {
            continue;
        };
        compiled += 1;
        for e in compile_ok(tree, profile, &tree.join(f), &[]) {
            failures.push(format!("{f} ({profile}): {e}"));
        }
    }
    assert!(
        compiled >= 4,
        "kernel and libroot sources were compiled: {files:?}"
    );

    let check = tree.join("src/system/kernel/dead_threads_syscall_check.cpp");
    std::fs::write(&check, SYSCALL_CHECK).expect("write check");
    for e in compile_ok(tree, Profile::Kernel, &check, &[]) {
        failures.push(format!("syscall check: {e}"));
    }
    std::fs::remove_file(&check).expect("remove check");

    let module = PathBuf::from(MODULE_DIR);
    for e in compile_ok(
        tree,
        Profile::KernelAddon,
        &module.join("dead_threads.cpp"),
        std::slice::from_ref(&module),
    ) {
        failures.push(format!("test module: {e}"));
    }
    assert!(
        failures.is_empty(),
        "compile errors:\n{}",
        failures.join("\n")
    );

    for p in patches.iter().rev() {
        git_apply(tree, p, true).unwrap_or_else(|e| panic!("{} does not revert: {e}", p.display()));
    }
    for f in &files {
        let original = originals[f].as_ref();
        let reverted = std::fs::read(tree.join(f)).ok();
        assert!(
            original == reverted.as_ref(),
            "{f} differs from the original after reverting"
        );
    }
}

/// Every prefix of the series compiles: each fix stands without the ones
/// after it. After each patch, every kernel and libroot source the whole
/// series touches is compiled (a header change can break a source that only
/// a later patch touches).
#[test]
#[cfg_attr(
    not(all(haiku_base = "upstream-current", has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP at an upstream-current tree, clang and libc++ headers"
)]
fn every_prefix_of_the_series_compiles() {
    let top = haiku_top();
    let scratch = scratch_copy(&top);
    let tree = scratch.path();
    let patches = series();

    let mut sources: Vec<String> = Vec::new();
    for p in &patches {
        for f in touched(p) {
            if profile_of(&f).is_some() && !sources.contains(&f) {
                sources.push(f);
            }
        }
    }

    let mut failures = Vec::new();
    for p in &patches {
        git_apply(tree, p, false).unwrap_or_else(|e| panic!("{} does not apply: {e}", p.display()));
        let name = p.file_name().expect("patch name").to_string_lossy();
        for f in &sources {
            let profile = profile_of(f).expect("a source");
            for e in compile_ok(tree, profile, &tree.join(f), &[]) {
                failures.push(format!("after {name}: {f} ({profile}): {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "a prefix of the series does not compile:\n{}",
        failures.join("\n")
    );
}

/// The compile check is not vacuous: libroot's patch alone uses what only the
/// kernel patches declare, and must fail to compile.
#[test]
#[cfg_attr(
    not(all(haiku_base = "upstream-current", has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP at an upstream-current tree, clang and libc++ headers"
)]
fn libroot_patch_alone_does_not_compile() {
    let top = haiku_top();
    let scratch = scratch_copy(&top);
    let tree = scratch.path();
    let libroot = series()
        .into_iter()
        .find(|p| {
            touched(p)
                .iter()
                .all(|f| f.starts_with("src/system/libroot/"))
        })
        .expect("a libroot-only patch");
    git_apply(tree, &libroot, false).expect("the libroot patch applies on its own");

    let errors = compile_ok(
        tree,
        Profile::Userland,
        &tree.join("src/system/libroot/posix/pthread/pthread.cpp"),
        &[],
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("_kern_detach_thread")
                || e.contains("THREAD_CREATION_FLAG_DETACHED")),
        "expected errors naming the kernel's new declarations, got: {errors:?}"
    );
}
