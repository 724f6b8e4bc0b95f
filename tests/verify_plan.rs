//! `dead-threads verify --dry-run`: a complete plan, nothing changed.
//!
//! T0 on a synthetic tree; T1 against the checkout in `HAIKU_TOP` (reported
//! ignored when it is unset). Neither writes anything: the tests
//! compare the checkout's state before and after.

mod common;

use std::path::Path;
use std::process::Command;

use common::jam_tree::write_checkout;

fn snapshot_state(haiku: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut state = Vec::new();
    for rel in [
        "build/jam/UserBuildConfig",
        "src/system/kernel/thread.cpp",
        "headers/private/kernel/thread_types.h",
        "src/system/kernel/team.cpp",
    ] {
        state.push((rel.to_string(), std::fs::read(haiku.join(rel)).ok()));
    }
    let mut entries: Vec<String> = std::fs::read_dir(haiku)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    state.push((
        "<top-level entries>".into(),
        Some(entries.join("\n").into_bytes()),
    ));
    state
}

fn dry_run(haiku: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .args(["verify", "--dry-run", "--kvm", "off", "--haiku"])
        .arg(haiku)
        .output()
        .expect("run dead-threads");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_complete_plan(text: &str) {
    for needle in [
        "1. patch apply",
        "2. jam install",
        "/UserBuildConfig: ",
        "include \"",
        "3. Haiku libraries into the cross sysroot",
        "4. cross-build the tests for x86_64-unknown-haiku",
        "cargo +nightly test --no-run -Zbuild-std --target x86_64-unknown-haiku",
        "CARGO_TARGET_X86_64_UNKNOWN_HAIKU_LINKER=",
        "--test conformance",
        "-p dead-threads-guest-runner",
        "5. build the image with jam",
        "jam -q -j",
        "@minimum-dead-threads",
        "haiku-dead-threads.image",
        "6. boot in QEMU",
        "qemu-system-x86_64",
        "-accel tcg",
        "-serial stdio",
        "snapshot=on",
        "prerequisites:",
    ] {
        assert!(text.contains(needle), "plan lacks {needle:?}:\n{text}");
    }
}

/// A synthetic checkout (no build directory) with a user's UserBuildConfig.
fn synthetic_checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_checkout(dir.path());
    std::fs::write(dir.path().join("build/jam/UserBuildConfig"), "A = 1 ;\n").unwrap();
    dir
}

#[test]
fn dry_run_on_a_synthetic_tree_changes_nothing() {
    let dir = synthetic_checkout();
    let haiku = dir.path();
    let before = snapshot_state(haiku);
    let (ok, out, err) = dry_run(haiku);
    assert!(ok, "{out}\n{err}");
    assert_complete_plan(&out);
    // The line goes into the build directory's UserBuildConfig; the
    // checkout's own (the user's) is not part of the plan.
    assert!(
        out.contains(&format!(
            "{}: created with one line",
            haiku.join("generated/UserBuildConfig").display()
        )),
        "{out}"
    );
    assert!(!out.contains("build/jam/UserBuildConfig"), "{out}");
    assert!(out.contains("MISSING  configured build directory"), "{out}");
    assert_eq!(snapshot_state(haiku), before);
    assert!(!haiku.join("generated").exists());
}

#[test]
fn dry_run_refuses_what_is_not_a_checkout() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = dry_run(dir.path());
    assert!(!ok);
    assert!(err.contains("is not a Haiku checkout"), "{err}");
}

#[test]
#[cfg_attr(not(haiku_top), ignore = "needs HAIKU_TOP (a Haiku checkout)")]
fn dry_run_against_haiku_top() {
    let top = common::checkout::haiku_top();
    let haiku = top.as_path();
    let before = snapshot_state(haiku);
    let (ok, out, err) = dry_run(haiku);
    assert!(ok, "{out}\n{err}");
    assert_complete_plan(&out);
    // The patch engine was asked what apply would do for this tree's base.
    assert!(
        out.contains("would apply")
            || out.contains("nothing to do")
            || out.contains("patch apply would refuse"),
        "{out}"
    );
    assert_eq!(
        snapshot_state(haiku),
        before,
        "the dry run changed HAIKU_TOP"
    );
    eprintln!("{out}");
}

#[test]
fn verify_without_prerequisites_stops_before_changing_anything() {
    let dir = synthetic_checkout();
    let haiku = dir.path();
    let before = snapshot_state(haiku);
    let out = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .args(["verify", "--kvm", "off", "--haiku"])
        .arg(haiku)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot verify yet; missing:"), "{err}");
    assert!(err.contains("configured build directory"), "{err}");
    assert_eq!(snapshot_state(haiku), before);
}
