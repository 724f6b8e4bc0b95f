//! The bundled bindings (src/bindings/thread_api.rs) must be exactly what
//! bindgen makes of the bundled header (include/haiku_thread_api.h).
//!
//! Needs libclang; without it the test says so and is skipped. To
//! regenerate the bundled bindings after editing the header or codegen.rs:
//!
//! ```sh
//! HAIKU_SYS_REGENERATE=1 cargo test -p haiku-sys --test bundled_bindings
//! ```

use std::fs;

include!("../codegen.rs");

#[test]
fn bundled_bindings_are_up_to_date() {
    if let Err(why) = libclang_available() {
        eprintln!("SKIPPED bundled_bindings_are_up_to_date: {why}");
        return;
    }
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("create a temporary directory");
    let fresh = generate_bundled(manifest_dir, scratch.path()).unwrap_or_else(|e| panic!("{e}"));
    let path = manifest_dir.join(BUNDLED_BINDINGS);
    if std::env::var_os("HAIKU_SYS_REGENERATE").is_some() {
        fs::write(&path, &fresh).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        eprintln!("regenerated {}", path.display());
        return;
    }
    let current = fs::read_to_string(&path).unwrap_or_default();
    if current != fresh {
        let first_diff = current
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| current.lines().count().min(fresh.lines().count()));
        panic!(
            "{} is stale: it differs from bindgen's output for {} from line {} on \
             (committed: {:?}, fresh: {:?}).\nRegenerate it with\n  \
             HAIKU_SYS_REGENERATE=1 cargo test -p haiku-sys --test bundled_bindings",
            path.display(),
            BUNDLED_HEADER,
            first_diff + 1,
            current.lines().nth(first_diff),
            fresh.lines().nth(first_diff),
        );
    }
}
