//! `dead-threads module check` against a real Haiku checkout (T1): the test
//! module and its ABI header must compile without errors or warnings.
//!
//! Needs `HAIKU_TOP` (a haiku/haiku checkout, only read) and clang with the
//! Haiku target; without them the tests that need them are reported
//! ignored, with the reason. The ABI header's layout assertions need only
//! clang: they are compiled for 64-bit and 32-bit Haiku without a checkout.
//! The checkout is never modified: broken variants of the module
//! are written to a temporary directory.

mod common;

use std::path::Path;
use std::process::Command;

use common::checkout::haiku_top;
use dead_threads::haiku_cc::{Arch, TARGET, TARGET_X86};
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
    // driver and ABI header, each for x86_64 and 32-bit x86
    assert_eq!(report.units.len(), 4);
    assert_eq!(
        report.units.iter().filter(|u| u.arch == Arch::X86).count(),
        2
    );
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
    assert_eq!(json["units"].as_array().map(Vec::len), Some(4));
}

/// Compiles a C (or C++) file that includes `header_dir`'s ABI header with
/// clang for `target`, freestanding (clang's own stdint.h): the header's
/// static assertions are all that can fail. Returns clang's stderr on
/// failure.
fn compile_abi_header(header_dir: &Path, target: &str, cxx: bool) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("abi.c");
    std::fs::write(&source, format!("#include \"{ABI_HEADER}\"\n")).expect("write probe");
    let clang = std::env::var_os("DEAD_THREADS_CLANG").unwrap_or_else(|| "clang".into());
    let language: &[&str] = if cxx {
        &["-xc++", "-std=c++11"]
    } else {
        &["-xc", "-std=c11"]
    };
    let out = Command::new(clang)
        .arg(format!("--target={target}"))
        .args(language)
        .args([
            "-ffreestanding",
            "-nostdlibinc",
            "-fsyntax-only",
            "-Werror",
            "-I",
        ])
        .arg(header_dir)
        .arg(&source)
        .output()
        .expect("run clang");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
#[cfg_attr(not(has_clang), ignore = "needs clang (apt-get install clang)")]
fn abi_header_layout_holds_for_64_and_32_bit_haiku() {
    for target in [TARGET, TARGET_X86] {
        for cxx in [false, true] {
            compile_abi_header(&default_module_dir(), target, cxx).unwrap_or_else(|e| {
                panic!("{ABI_HEADER} for {target} (C++: {cxx}) fails its assertions:\n{e}")
            });
        }
    }
}

#[test]
#[cfg_attr(not(has_clang), ignore = "needs clang (apt-get install clang)")]
fn abi_header_assertions_catch_a_layout_change() {
    // A 64-bit field narrowed to 32 bits at the end of the race request:
    // on x86_64 the struct's 8-byte alignment pads it back to the same
    // size, so only the 32-bit compile (4-byte alignment of 64-bit fields
    // on i386) sees the change. This is why the header is checked for both.
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(default_module_dir().join(ABI_HEADER)).expect("read");
    let broken = text.replacen("\tint64_t\t\trace_time;", "\tint32_t\t\trace_time;", 1);
    assert_ne!(broken, text, "the header changed: update this test");
    std::fs::write(dir.path().join(ABI_HEADER), broken).expect("write");
    compile_abi_header(dir.path(), TARGET, false)
        .expect("x86_64 pads the narrowed field back to the same layout");
    let e = compile_abi_header(dir.path(), TARGET_X86, false)
        .expect_err("the 32-bit layout changed: the header's assertions must fail");
    assert!(e.contains("dead_threads_race_request"), "{TARGET_X86}: {e}");
}
