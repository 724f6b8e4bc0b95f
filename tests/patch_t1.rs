//! T1 tests of `dead-threads patch` against a real Haiku checkout at
//! `HAIKU_TOP`. Reported ignored, with the reason, when `HAIKU_TOP` is unset. They
//! never modify `HAIKU_TOP`: they copy what they need (headers/, build/,
//! src/system/kernel/, the directories of the series' files) to a
//! temporary directory first.
//!
//! `DEAD_THREADS_EXPECT_BASE`, when set, is the base `status` must report.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::checkout::{copy_parts, haiku_top};
use common::git::{commit_all, git_in};
use dead_threads::haiku_cc;
use dead_threads::patch::{self, check::Verdict, Plan, RealFs, Series, Tree};

/// kernel-patch/series.toml, or `$DEAD_THREADS_SERIES` (as the CLI).
fn real_series() -> Series {
    Series::load(&Series::default_path()).unwrap()
}

/// Copies headers/, build/, src/system/kernel/ and the directory of every
/// file the series refers to.
fn copy_subset(top: &Path, to: &Path, series: &Series) {
    let mut parts = vec![
        "headers".to_owned(),
        "build".to_owned(),
        "src/system/kernel".to_owned(),
    ];
    for f in patch::state::files_of(series) {
        if !f.starts_with("headers/") && !f.starts_with("build/") {
            if let Some(parent) = Path::new(&f).parent() {
                if top.join(parent).is_dir() {
                    parts.push(parent.display().to_string());
                }
            }
        }
    }
    copy_parts(top, to, parts);
}

fn read_files(root: &Path, files: &[String]) -> BTreeMap<String, Option<Vec<u8>>> {
    files
        .iter()
        .map(|f| (f.clone(), std::fs::read(root.join(f)).ok()))
        .collect()
}

fn grep_tree(root: &Path, needle: &str) -> Vec<String> {
    let out = Command::new("grep")
        .args([
            "-rln",
            "--include=*.h",
            "--include=*.cpp",
            "--include=*.c",
            needle,
        ])
        .arg(root.join("headers"))
        .arg(root.join("src/system/kernel"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect()
}

#[test]
#[cfg_attr(not(haiku_top), ignore = "needs HAIKU_TOP (a Haiku checkout)")]
fn t1_status_of_haiku_top() {
    let top = haiku_top();
    let tree = Tree::open(&top).unwrap();
    let st = match patch::status(&tree, &real_series()) {
        Ok(st) => st,
        Err(e) => panic!("HAIKU_TOP={}: {e}", top.display()),
    };
    eprintln!("{}", patch::report::status_text(&st));
    assert!(st.evidence.iter().all(|e| e.held));
    if let Ok(want) = std::env::var("DEAD_THREADS_EXPECT_BASE") {
        assert_eq!(st.base, want);
    }
}

#[test]
#[cfg_attr(
    not(all(haiku_top, has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP (a Haiku checkout), clang and libc++ headers"
)]
fn t1_apply_check_revert_on_a_copy() {
    let top = haiku_top();
    let series = real_series();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("haiku");
    copy_subset(&top, &root, &series);
    // A git checkout of the copy, so that apply's git checks run too.
    commit_all(&root, "copy of HAIKU_TOP");
    let tree = Tree::open(&root).unwrap();
    let mut st = patch::status(&tree, &series).unwrap();
    eprintln!("base {} at {}", st.base, top.display());
    let files: Vec<String> = patch::state::files_of(&series).into_iter().collect();
    // A tree that carries our patches already (e.g. one made with git am):
    // revert first, and apply again at the end.
    let carried_ours = st.applied > 0;
    if carried_ours {
        patch::revert(&tree, &series, false, &RealFs).unwrap();
        st = patch::status(&tree, &series).unwrap();
        assert_eq!(st.applied, 0);
        git_in(&root, &["commit", "-q", "-a", "-m", "without ours"]);
    }
    let before = read_files(&root, &files);

    if st.patches.is_empty() {
        assert_eq!(st.plan, Plan::NothingNoPatches);
        let out = patch::apply(&tree, &series, false, &RealFs).unwrap();
        assert!(!out.changed);
        eprintln!("base {}: no patches of ours; apply is a no-op", st.base);
        return;
    }
    let Plan::Apply { files: touched, .. } = &st.plan else {
        panic!("unexpected plan at {}: {:?}", top.display(), st.plan);
    };

    let out = patch::apply(&tree, &series, false, &RealFs).unwrap();
    assert!(out.changed);
    assert_eq!(&out.files, touched);
    let after = patch::status(&tree, &series).unwrap();
    assert_eq!(after.base, st.base);
    assert!(after.fully_applied());
    if st.base == "legacy-limited" {
        assert_eq!(grep_tree(&root, "MAX_DEAD_THREADS"), Vec::<String>::new());
        assert_eq!(grep_tree(&root, "dead_threads_count"), Vec::<String>::new());
    }

    // Same result as GNU patch -p1 (when installed) on a second copy.
    if Command::new("patch").arg("--version").output().is_ok() {
        let other = tmp.path().join("by-patch");
        for f in &files {
            if let Some(Some(b)) = before.get(f) {
                let p = other.join(f);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, b).unwrap();
            }
        }
        let base = series.bases.iter().find(|b| b.name == st.base).unwrap();
        for p in &base.patches {
            let status = Command::new("patch")
                .args(["-p1", "-s", "--no-backup-if-mismatch", "-i"])
                .arg(&p.path)
                .current_dir(&other)
                .status()
                .unwrap();
            assert!(status.success(), "patch -p1 {}", p.name);
        }
        for f in touched {
            assert_eq!(
                std::fs::read(root.join(f)).unwrap(),
                std::fs::read(other.join(f)).unwrap(),
                "{f} differs from patch -p1's result"
            );
        }
    }

    // Compile check, unpatched then patched, in check's own copy.
    let clang = haiku_cc::find_clang().expect("clang for the Haiku target");
    let report = patch::check::check(&tree, &series, &clang, false).unwrap();
    eprintln!("{}", patch::report::check_text(&report));
    assert!(!report.files.is_empty());
    for f in &report.files {
        assert_eq!(f.verdict, Verdict::Ok, "{}", f.file);
    }
    assert_eq!(report.exit_code, 0);
    // check only read the tree.
    assert!(patch::status(&tree, &series).unwrap().fully_applied());

    let out = patch::revert(&tree, &series, false, &RealFs).unwrap();
    assert!(out.changed);
    assert_eq!(read_files(&root, &files), before);
    assert_eq!(git_in(&root, &["status", "--porcelain"]), "");
    if carried_ours {
        patch::apply(&tree, &series, false, &RealFs).unwrap();
        assert_eq!(read_files(&root, &files), read_files(&top, &files));
    } else {
        // The copy matches HAIKU_TOP itself.
        assert_eq!(read_files(&top, &files), before);
    }
}

/// A series whose patch drops Team::dead_threads_count from the header but
/// leaves thread.cpp using it: check must blame the patch for thread.cpp.
/// And a broken environment (no libc++ headers) is blamed on the
/// environment, not the patch.
#[test]
#[cfg_attr(
    not(all(haiku_base = "legacy-limited", has_clang, has_libcxx)),
    ignore = "needs HAIKU_TOP at an unpatched legacy-limited tree, clang and libc++ headers"
)]
fn t1_check_blames_patch_or_environment() {
    let top = haiku_top();
    let real = real_series();
    let tree = Tree::open(&top).unwrap();
    let st = patch::status(&tree, &real).unwrap();
    // build.rs selected this test from thread_types.h alone (MAX_DEAD_THREADS
    // is there, so our patch is not applied); the tool must agree.
    assert!(
        st.base == "legacy-limited" && st.applied == 0,
        "build.rs guessed an unpatched legacy-limited tree at HAIKU_TOP={}, \
         but `patch status` says {} with {} of ours applied: fix guess_base() in build.rs",
        top.display(),
        st.base,
        st.applied
    );
    let legacy = &real.bases[0];
    let text = std::fs::read_to_string(&legacy.patches[0].path).unwrap();
    // Keep the header part, and a thread.cpp part that changes nothing but
    // makes check compile thread.cpp: the hunk removing `count--` only.
    let mut broken = String::new();
    let mut keep = false;
    for chunk in text.split_inclusive('\n') {
        if chunk.starts_with("diff --git ") {
            keep = chunk.contains("thread_types.h");
        }
        if keep {
            broken.push_str(chunk);
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("broken.patch"), &broken).unwrap();
    let thread_hunk = "diff --git a/src/system/kernel/thread.cpp b/src/system/kernel/thread.cpp\n\
--- a/src/system/kernel/thread.cpp\n\
+++ b/src/system/kernel/thread.cpp\n";
    // Find thread_exit's first line that mentions threadDeathEntry->status
    // in the real tree and add a comment after it: harmless on its own.
    let thread = std::fs::read_to_string(top.join("src/system/kernel/thread.cpp")).unwrap();
    let (idx, line) = thread
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("threadDeathEntry->status = thread->exit.status;"))
        .unwrap();
    std::fs::write(
        dir.join("comment.patch"),
        format!(
            "{thread_hunk}@@ -{n},1 +{n},2 @@\n {line}\n+\t\t\t\t// dead-threads test comment\n",
            n = idx + 1
        ),
    )
    .unwrap();
    let toml = std::fs::read_to_string(&real.path).unwrap().replace(
        &format!("patches = [\"{}\"]", legacy.patches[0].name),
        "patches = [\"broken.patch\", \"comment.patch\"]",
    );
    assert!(toml.contains("broken.patch"));
    std::fs::write(dir.join("series.toml"), toml).unwrap();
    for b in &real.bases[1..] {
        for p in &b.patches {
            let dst = dir.join(&p.name);
            std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
            std::fs::copy(&p.path, dst).unwrap();
        }
    }
    let series = Series::load(&dir.join("series.toml")).unwrap();

    let clang = haiku_cc::find_clang().expect("clang for the Haiku target");
    let report = patch::check::check(&tree, &series, &clang, false).unwrap();
    eprintln!("{}", patch::report::check_text(&report));
    let f = &report.files[0];
    assert_eq!(f.file, "src/system/kernel/thread.cpp");
    assert_eq!(f.verdict, Verdict::PatchBroke);
    assert!(f
        .patched
        .errors
        .iter()
        .any(|e| e.contains("dead_threads_count")));
    assert_eq!(report.exit_code, 1);

    // Same series, a compiler without usable C++ headers: both builds fail.
    let bad = haiku_cc::Clang {
        libcxx_include: dir.join("no-libc++"),
        ..clang
    };
    let report = patch::check::check(&tree, &series, &bad, false).unwrap();
    assert_eq!(report.files[0].verdict, Verdict::Environment);
    assert_eq!(report.exit_code, 2);
}
