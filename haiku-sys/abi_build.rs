// build.rs part for the dead_threads test module's ioctl ABI
// (kernel-patch/module/dead_threads_ioctl.h). `include!`d by build.rs, after
// codegen.rs and abi_codegen.rs.

/// Writes `$OUT_DIR/dead_threads_abi.rs` and compiles the C layout check.
///
/// The header is ours and self-contained, so on hosts that do not build for
/// Haiku the bundled bindings (generated for x86_64-unknown-haiku, kept fresh
/// by tests/dead_threads_abi.rs) are used and no libclang is needed. When
/// building for Haiku, bindgen parses the header for the target's clang
/// triple. Either way the C check (static assertions on every size and
/// offset, compiled with the target's C compiler) is linked in, and
/// tests/dead_threads_abi.rs compares its table with the Rust layout.
fn build_dead_threads_abi(manifest_dir: &Path, out_dir: &Path) -> Result<(), String> {
    let header = manifest_dir.join(DEAD_THREADS_ABI_HEADER);
    for input in [DEAD_THREADS_ABI_HEADER, DEAD_THREADS_ABI_BINDINGS, "abi_codegen.rs", "abi_build.rs"] {
        println!("cargo:rerun-if-changed={input}");
    }
    if !header.is_file() {
        return Err(format!(
            "the dead_threads ABI header {} is missing: haiku-sys is built from the \
             dead-threads workspace, which has it in kernel-patch/module/",
            header.display()
        ));
    }
    let out = out_dir.join("dead_threads_abi.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "haiku" {
        let rust_target = std::env::var("TARGET").unwrap_or_default();
        let clang_target = clang_target_for(&rust_target);
        libclang_available()?;
        dead_threads_abi_builder(&header, &dead_threads_abi_clang_args(&clang_target))
            .generate()
            .map_err(|e| format!("bindgen failed on {}: {e}", header.display()))?
            .write_to_file(&out)
            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    } else {
        let bundled = manifest_dir.join(DEAD_THREADS_ABI_BINDINGS);
        std::fs::copy(&bundled, &out)
            .map_err(|e| format!("cannot copy {} to {}: {e}", bundled.display(), out.display()))?;
    }
    let module_dir = header.parent().expect("header has a directory").to_path_buf();
    compile_c_check(
        manifest_dir,
        DEAD_THREADS_ABI_CHECK,
        &[module_dir],
        "haiku_sys_dead_threads_abi_check",
    );
    Ok(())
}
