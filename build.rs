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
//! | `has_libcxx` | libc++'s headers (`include/c++/v1/__config`) are where `haiku_cc` looks |
//! | `link_log` | `DEAD_THREADS_LINK_LOG` names a directory (link lines recorded by `.ci/record-link`) |
//! | `haiku_base = "..."` | `haiku_top`, and the checkout's `thread_types.h` looks like that base |
//!
//! `haiku_base` is a coarse, file-content guess (`legacy-limited`,
//! `upstream-unlimited` or `upstream-current`) that only selects which
//! base-specific tests run; `dead-threads patch status` is the authority,
//! and a test selected by it checks the base itself and fails, saying so,
//! when the guess was wrong. A legacy tree with our patch applied has lost
//! `MAX_DEAD_THREADS` and is guessed `upstream-unlimited`: no test is
//! selected by that value.
//!
//! Cargo re-runs this script when `HAIKU_TOP`, `PATH` or one of the
//! `DEAD_THREADS_*` variables named above changes, so the verdicts follow the
//! environment of the `cargo test` that builds the tests.

use std::env;
use std::path::{Path, PathBuf};

const CFGS: [&str; 7] = [
    "haiku_top",
    "has_spin",
    "has_clang",
    "has_qemu",
    "has_jam",
    "has_libcxx",
    "link_log",
];

/// The values of `haiku_base`: the base names of kernel-patch/series.toml.
const BASES: [&str; 3] = ["legacy-limited", "upstream-unlimited", "upstream-current"];

fn main() {
    for cfg in CFGS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    let values: Vec<String> = BASES.iter().map(|b| format!("\"{b}\"")).collect();
    println!(
        "cargo::rustc-check-cfg=cfg(haiku_base, values({}))",
        values.join(", ")
    );
    for var in [
        "HAIKU_TOP",
        "PATH",
        "DEAD_THREADS_CLANG",
        "DEAD_THREADS_JAM",
        "DEAD_THREADS_LIBCXX_INCLUDE",
        "DEAD_THREADS_LINK_LOG",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    println!("cargo::rerun-if-changed=build.rs");

    if let Some(top) = env::var_os("HAIKU_TOP").filter(|v| !v.is_empty()) {
        let os_h = Path::new(&top).join("headers/os/kernel/OS.h");
        if os_h.is_file() {
            println!("cargo::rustc-cfg=haiku_top");
            let types = Path::new(&top).join("headers/private/kernel/thread_types.h");
            println!("cargo::rerun-if-changed={}", types.display());
            if let Some(base) = std::fs::read_to_string(&types)
                .ok()
                .and_then(|t| guess_base(&t))
            {
                println!("cargo::rustc-cfg=haiku_base=\"{base}\"");
            }
        } else {
            println!(
                "cargo::warning=HAIKU_TOP={} has no headers/os/kernel/OS.h: \
                 the tests that need a Haiku checkout are ignored",
                Path::new(&top).display()
            );
        }
    }
    if env::var_os("DEAD_THREADS_LINK_LOG").is_some_and(|d| Path::new(&d).is_dir()) {
        println!("cargo::rustc-cfg=link_log");
    }
    let clang = tool(Some("DEAD_THREADS_CLANG"), "clang");
    if libcxx_headers(clang.as_deref()).is_some() {
        println!("cargo::rustc-cfg=has_libcxx");
    }
    let found = [
        ("has_spin", tool(None, "spin")),
        ("has_clang", clang),
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

/// The base `thread_types.h` (its text) looks like, from the declarations
/// kernel-patch/series.toml's rules look for in that file.
fn guess_base(types: &str) -> Option<&'static str> {
    // Each line as words, a leading `#` (preprocessor) kept as its own word.
    let lines: Vec<Vec<&str>> = types
        .lines()
        .map(|l| match l.trim_start().strip_prefix('#') {
            Some(rest) => std::iter::once("#")
                .chain(rest.split_whitespace())
                .collect(),
            None => l.split_whitespace().collect(),
        })
        .collect();
    let any = |pred: &dyn Fn(&[&str]) -> bool| lines.iter().any(|w| pred(w));
    if any(&|w| w.first() == Some(&"typedef") && w.last() == Some(&"ThreadDeathEntryList;")) {
        Some("upstream-current")
    } else if any(&|w| w.starts_with(&["#", "define", "MAX_DEAD_THREADS"])) {
        Some("legacy-limited")
    } else if any(&|w| w == ["struct", "list", "dead_threads;"]) {
        Some("upstream-unlimited")
    } else {
        None
    }
}

/// libc++'s header directory where `src/haiku_cc.rs` looks for it:
/// `$DEAD_THREADS_LIBCXX_INCLUDE`, next to clang's installation prefix, or
/// in /usr(/local)/include/c++/v1.
fn libcxx_headers(clang: Option<&Path>) -> Option<PathBuf> {
    let mut looked = Vec::new();
    if let Some(p) = env::var_os("DEAD_THREADS_LIBCXX_INCLUDE").filter(|v| !v.is_empty()) {
        looked.push(PathBuf::from(p));
    }
    if let Some(real) = clang.and_then(|c| std::fs::canonicalize(c).ok()) {
        if let Some(prefix) = real.parent().and_then(Path::parent) {
            looked.push(prefix.join("include/c++/v1"));
        }
    }
    looked.push(PathBuf::from("/usr/include/c++/v1"));
    looked.push(PathBuf::from("/usr/local/include/c++/v1"));
    looked.into_iter().find(|d| d.join("__config").is_file())
}
