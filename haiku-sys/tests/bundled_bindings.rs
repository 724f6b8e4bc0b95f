//! Every bundled bindings file (src/bindings/*.rs) must be exactly what
//! bindgen makes of its header (codegen.rs, `BINDINGS`).
//!
//! Needs libclang; without it the tests are reported ignored. To
//! regenerate the bundled bindings after editing a header or codegen.rs:
//!
//! ```sh
//! HAIKU_SYS_REGENERATE=1 cargo test -p haiku-sys --test bundled_bindings
//! ```

use std::fs;

include!("../codegen.rs");

/// Where `committed` and `fresh` first differ, for the failure message.
fn first_difference(committed: &str, fresh: &str) -> String {
    let line = committed
        .lines()
        .zip(fresh.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()));
    format!(
        "from line {}: committed {:?}, fresh {:?}",
        line + 1,
        committed.lines().nth(line),
        fresh.lines().nth(line)
    )
}

#[test]
#[cfg_attr(
    not(has_libclang),
    ignore = "needs libclang (apt-get install libclang-dev, or set LIBCLANG_PATH)"
)]
fn bundled_bindings_are_up_to_date() {
    if let Err(why) = libclang_available() {
        panic!("build.rs found libclang, this test cannot load it: {why}");
    }
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let regenerate = std::env::var_os("HAIKU_SYS_REGENERATE").is_some();
    let mut stale = Vec::new();
    for spec in BINDINGS {
        let scratch = tempfile::tempdir().expect("create a temporary directory");
        let fresh = generate_bundled(manifest_dir, spec, scratch.path())
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
        let path = manifest_dir.join(spec.bundled_bindings);
        if regenerate {
            fs::write(&path, &fresh).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            eprintln!(
                "regenerated {} from {}",
                path.display(),
                spec.bundled_header
            );
            continue;
        }
        let committed = fs::read_to_string(&path).unwrap_or_default();
        if committed != fresh {
            stale.push(format!(
                "{} ({}) differs from bindgen's output for {} {}",
                path.display(),
                spec.name,
                spec.bundled_header,
                first_difference(&committed, &fresh)
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "stale bundled bindings:\n{}\nRegenerate them with\n  \
         HAIKU_SYS_REGENERATE=1 cargo test -p haiku-sys --test bundled_bindings",
        stale.join("\n")
    );
}

/// The comparison above is sensitive: a header that differs in one value
/// yields bindings that differ from the committed ones.
#[test]
#[cfg_attr(
    not(has_libclang),
    ignore = "needs libclang (apt-get install libclang-dev, or set LIBCLANG_PATH)"
)]
fn a_changed_header_gives_different_bindings() {
    if let Err(why) = libclang_available() {
        panic!("build.rs found libclang, this test cannot load it: {why}");
    }
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = &THREAD_API;
    let original = fs::read_to_string(manifest_dir.join(spec.bundled_header)).unwrap();
    let changed = original.replace(
        "(HAIKU_SYS_OS_ERROR_BASE + 0x100)",
        "(HAIKU_SYS_OS_ERROR_BASE + 0x101)",
    );
    assert_ne!(
        changed, original,
        "the header no longer defines B_BAD_THREAD_ID this way"
    );
    let scratch = tempfile::tempdir().unwrap();
    let header = scratch.path().join("haiku_thread_api.h");
    fs::write(&header, changed).unwrap();
    let fresh = (spec.builder)(&header, &bundled_clang_args(), scratch.path())
        .generate()
        .unwrap()
        .to_string();
    assert!(fresh.contains("pub const B_BAD_THREAD_ID: status_t = -2147479295;"));
    let committed = fs::read_to_string(manifest_dir.join(spec.bundled_bindings)).unwrap();
    assert!(committed.contains("pub const B_BAD_THREAD_ID: status_t = -2147479296;"));
}
