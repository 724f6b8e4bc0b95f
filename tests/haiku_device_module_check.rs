//! `dead-threads module check` against a real Haiku checkout (T1): the test
//! module and its ABI header must compile without errors or warnings.
//!
//! Needs `HAIKU_TOP` (a haiku/haiku checkout, only read) and clang with the
//! Haiku target; without them the tests that need them are reported
//! ignored, with the reason. The checkout is never modified: broken variants of the module
//! are written to a temporary directory.

mod common;

use std::path::Path;
use std::process::Command;

use common::checkout::haiku_top;
use dead_threads::module::{check, default_module_dir, CheckReport, ABI_HEADER, DRIVER_SOURCE};

/// `module check` against `top` of a copy of the module (in a temporary
/// directory) whose driver source is `edit(text)`.
fn check_edited_driver(top: &Path, edit: impl FnOnce(&str) -> String) -> CheckReport {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in [DRIVER_SOURCE, ABI_HEADER] {
        std::fs::copy(default_module_dir().join(f), dir.path().join(f)).expect("copy the module");
    }
    let driver = dir.path().join(DRIVER_SOURCE);
    let text = std::fs::read_to_string(&driver).expect("read driver");
    std::fs::write(&driver, edit(&text)).expect("write driver");
    check(top, dir.path()).expect("module check could not run")
}

#[test]
#[cfg_attr(
    not(all(haiku_top, has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP (a Haiku checkout), clang and libc++ headers"
)]
fn module_compiles_cleanly_against_haiku_top() {
    let top = haiku_top();
    let report = check(&top, &default_module_dir()).expect("module check could not run");
    for unit in &report.units {
        assert!(
            unit.clean,
            "{} does not compile cleanly against {}:\n{}",
            unit.unit,
            top.display(),
            unit.result.stderr
        );
        assert!(unit.result.object_size > 0);
    }
    assert_eq!(report.units.len(), 2);
}

#[test]
#[cfg_attr(
    not(all(haiku_top, has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP (a Haiku checkout), clang and libc++ headers"
)]
fn a_warning_fails_the_check() {
    let top = haiku_top();
    let report = check_edited_driver(&top, |text| {
        format!("{text}\n\nstatic int\nunused_helper()\n{{\n\treturn 0;\n}}\n")
    });
    let driver_unit = &report.units[0];
    assert!(driver_unit.result.ok, "{}", driver_unit.result.stderr);
    assert!(!driver_unit.clean, "an unused function must fail the check");
    assert!(!report.clean());
}

#[test]
#[cfg_attr(
    not(all(haiku_top, has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP (a Haiku checkout), clang and libc++ headers"
)]
fn a_kernel_field_that_is_gone_fails_the_check() {
    let top = haiku_top();
    // A module that reads a field no tree has must not compile.
    let report = check_edited_driver(&top, |text| {
        let broken = text.replacen(
            "\tuint32 count = 0;\n",
            "\tuint32 count = team->dead_threads_entries_gone;\n",
            1,
        );
        assert_ne!(broken, text, "the driver changed: update this test");
        broken
    });
    assert!(!report.units[0].result.ok);
    assert!(report.units[0]
        .result
        .diagnostics
        .iter()
        .any(|d| d.message.contains("dead_threads_entries_gone")));
}

#[test]
fn cli_exit_code_2_for_a_missing_checkout() {
    let exe = env!("CARGO_BIN_EXE_dead-threads");
    let missing = Command::new(exe)
        .args(["module", "check", "--haiku", "/nonexistent/haiku"])
        .output()
        .expect("run dead-threads");
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/haiku"));
}

#[test]
#[cfg_attr(
    not(all(haiku_top, has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP (a Haiku checkout), clang and libc++ headers"
)]
fn cli_exit_code_0_and_json_against_haiku_top() {
    let exe = env!("CARGO_BIN_EXE_dead-threads");
    let top = haiku_top();
    let out = Command::new(exe)
        .args(["module", "check", "--json", "--haiku"])
        .arg(&top)
        .output()
        .expect("run dead-threads");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(json["units"].as_array().map(Vec::len), Some(2));
}
