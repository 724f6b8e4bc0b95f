//! T1 tests of the compile-check engine against a real Haiku checkout
//! (`HAIKU_TOP`). Reported ignored, with the reason, without `HAIKU_TOP`,
//! clang or libc++'s headers.

mod common;

use common::checkout::haiku_top;
use dead_threads::haiku_cc::{self, Arch, CompileOptions, Profile};

#[test]
#[cfg_attr(
    not(all(haiku_top, has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP (a Haiku checkout), clang and libc++ headers"
)]
fn kernel_thread_and_team_compile() {
    let top = haiku_top();
    let clang = haiku_cc::find_clang().expect("clang for the Haiku target");
    for arch in Arch::ALL {
        for tu in ["thread.cpp", "team.cpp"] {
            let src = top.join("src/system/kernel").join(tu);
            let r = haiku_cc::compile_with(
                &clang,
                &top,
                Profile::Kernel,
                &src,
                &CompileOptions {
                    arch,
                    ..CompileOptions::default()
                },
            )
            .unwrap();
            assert!(
                r.ok,
                "{tu} ({arch}) failed:\n{}\n{}",
                r.stderr,
                r.command.join(" ")
            );
            assert!(r.object_size > 0);
            assert_eq!(r.errors().count(), 0);
        }
    }
}

#[test]
#[cfg_attr(
    not(all(haiku_top, has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP (a Haiku checkout), clang and libc++ headers"
)]
fn libroot_pthread_compiles_in_userland_profile() {
    let top = haiku_top();
    let clang = haiku_cc::find_clang().expect("clang for the Haiku target");
    let src = top.join("src/system/libroot/posix/pthread/pthread.cpp");
    for arch in Arch::ALL {
        let opts = CompileOptions {
            arch,
            ..CompileOptions::default()
        };
        let r = haiku_cc::compile_with(&clang, &top, Profile::Userland, &src, &opts).unwrap();
        assert!(r.ok, "pthread.cpp ({arch}) failed:\n{}", r.stderr);
    }
}

#[test]
#[cfg_attr(
    not(all(haiku_top, has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP (a Haiku checkout), clang and libc++ headers"
)]
fn a_wrong_kernel_source_fails_with_diagnostics() {
    let top = haiku_top();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("bad.cpp");
    // Uses the real kernel headers, then a field Thread does not have.
    std::fs::write(
        &src,
        "#include <thread.h>\n\
         int probe(Thread* t) { return t->dead_threads_probe_no_such_field; }\n",
    )
    .unwrap();
    let r = haiku_cc::compile(&top, Profile::Kernel, &src, &[]).unwrap();
    assert!(!r.ok);
    let errs: Vec<_> = r.errors().collect();
    assert!(
        errs.iter()
            .any(|d| d.message.contains("dead_threads_probe_no_such_field") && d.line == 2),
        "{}",
        r.stderr
    );
    // The same probe without the bad field compiles: the failure above is
    // the field, not the environment.
    std::fs::write(
        &src,
        "#include <thread.h>\nint probe(Thread* t) { return t->id; }\n",
    )
    .unwrap();
    let r = haiku_cc::compile(&top, Profile::Kernel, &src, &[]).unwrap();
    assert!(r.ok, "{}", r.stderr);
}
