//! Build script of the `dead-threads` package: it only looks at the machine.
//!
//! Tests that need something this machine may lack (a Haiku checkout, a
//! tool) must report themselves *ignored, with the reason* when it is
//! missing, never as passed. They do it with a cfg set here, e.g.
//!
//! ```ignore
//! #[test]
//! #[cfg_attr(not(haiku_top), ignore = "needs HAIKU_TOP (a Haiku checkout)")]
//! fn t1_something() { /* ... */ }
//! ```
//!
//! | cfg | set when |
//! |---|---|
//! | `haiku_top` | `HAIKU_TOP` is set, not empty, and holds `headers/os/kernel/OS.h` |
//! | `has_spin` | `spin` (the Spin model checker) is on `PATH` |
//! | `has_clang` | `$DEAD_THREADS_CLANG` or `clang` is on `PATH` |
//! | `has_qemu` | `qemu-system-x86_64` is on `PATH` |
//! | `has_jam` | `$DEAD_THREADS_JAM` or `jam` is on `PATH` |
//!
//! Cargo re-runs this script when `HAIKU_TOP`, `PATH` or one of the
//! `DEAD_THREADS_*` variables named above changes, so the verdicts follow the
//! environment of the `cargo test` that builds the tests.

use std::env;
use std::path::{Path, PathBuf};

const CFGS: [&str; 5] = ["haiku_top", "has_spin", "has_clang", "has_qemu", "has_jam"];

fn main() {
    for cfg in CFGS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    for var in [
        "HAIKU_TOP",
        "PATH",
        "DEAD_THREADS_CLANG",
        "DEAD_THREADS_JAM",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    println!("cargo::rerun-if-changed=build.rs");

    if let Some(top) = env::var_os("HAIKU_TOP").filter(|v| !v.is_empty()) {
        let os_h = Path::new(&top).join("headers/os/kernel/OS.h");
        if os_h.is_file() {
            println!("cargo::rustc-cfg=haiku_top");
        } else {
            println!(
                "cargo::warning=HAIKU_TOP={} has no headers/os/kernel/OS.h: \
                 the tests that need a Haiku checkout are ignored",
                Path::new(&top).display()
            );
        }
    }
    let found = [
        ("has_spin", tool(None, "spin")),
        ("has_clang", tool(Some("DEAD_THREADS_CLANG"), "clang")),
        ("has_qemu", tool(None, "qemu-system-x86_64")),
        ("has_jam", tool(Some("DEAD_THREADS_JAM"), "jam")),
    ];
    for (cfg, path) in found {
        if path.is_some() {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}

/// The tool named by the environment variable `var` (if set and not empty),
/// else `name` found on `PATH`.
fn tool(var: Option<&str>, name: &str) -> Option<PathBuf> {
    if let Some(v) = var.and_then(env::var_os).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(v);
        return if p.components().count() > 1 {
            p.is_file().then_some(p)
        } else {
            on_path(&p.to_string_lossy())
        };
    }
    on_path(name)
}

fn on_path(name: &str) -> Option<PathBuf> {
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
