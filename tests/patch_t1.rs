//! T1 tests of `dead-threads patch` against a real Haiku checkout at
//! `HAIKU_TOP`. Reported ignored, with the reason, when `HAIKU_TOP` is unset. They
//! never modify `HAIKU_TOP`: they copy what they need (headers/, build/,
//! src/system/kernel/, the directories of the series' files) to a
//! temporary directory first.
//!
//! `DEAD_THREADS_EXPECT_BASE`, when set, is the base `status` must report.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::checkout::{copy_parts, haiku_top};
use common::crash;
use common::git::{commit_all, git_in};
use dead_threads::haiku_cc::{self, Arch};
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
    // Every translation unit the base's patches touch, once per
    // architecture, each unit's architectures together.
    let base = series.bases.iter().find(|b| b.name == st.base).unwrap();
    let units: BTreeSet<String> = base
        .patches
        .iter()
        .flat_map(|p| &p.patch.files)
        .filter(|f| f.new_path.is_some())
        .map(|f| f.path().to_string())
        .filter(|f| [".c", ".cpp", ".cc", ".cxx"].iter().any(|e| f.ends_with(e)))
        .collect();
    assert!(!units.is_empty());
    assert_eq!(report.architectures, Arch::ALL.to_vec());
    let want: Vec<(&str, Arch)> = units
        .iter()
        .flat_map(|u| Arch::ALL.map(|a| (u.as_str(), a)))
        .collect();
    let got: Vec<(&str, Arch)> = report
        .files
        .iter()
        .map(|f| (f.file.as_str(), f.arch))
        .collect();
    assert_eq!(got, want);
    for f in &report.files {
        assert_eq!(f.verdict, Verdict::Ok, "{} ({})", f.file, f.arch);
        assert_eq!(f.target, f.arch.target());
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
    // Replace the legacy base's whole patch list (one line or several).
    let original = std::fs::read_to_string(&real.path).unwrap();
    let base_at = original
        .find(&format!("name = \"{}\"", legacy.name))
        .expect("the legacy base in series.toml");
    let list_at = base_at + original[base_at..].find("patches = [").unwrap();
    let list_end = list_at + original[list_at..].find(']').unwrap() + 1;
    assert!(original[list_at..list_end].contains(&legacy.patches[0].name));
    let toml = format!(
        "{}patches = [\"broken.patch\", \"comment.patch\"]{}",
        &original[..list_at],
        &original[list_end..]
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
    // Record the hashes of the two new patches, as after editing a series.
    patch::series::record_hashes(&dir.join("series.toml"), true).unwrap();
    let series = Series::load(&dir.join("series.toml")).unwrap();

    let clang = haiku_cc::find_clang().expect("clang for the Haiku target");
    let report = patch::check::check(&tree, &series, &clang, false).unwrap();
    eprintln!("{}", patch::report::check_text(&report));
    // thread.cpp, once per architecture: the patch broke both.
    let arches: Vec<Arch> = report.files.iter().map(|f| f.arch).collect();
    assert_eq!(arches, Arch::ALL.to_vec());
    for f in &report.files {
        assert_eq!(f.file, "src/system/kernel/thread.cpp");
        assert_eq!(f.verdict, Verdict::PatchBroke, "{}", f.arch);
        assert!(
            f.patched
                .errors
                .iter()
                .any(|e| e.contains("dead_threads_count")),
            "{}",
            f.arch
        );
    }
    assert_eq!(report.exit_code, 1);

    // Same series, a compiler without usable C++ headers: both builds fail.
    let bad = haiku_cc::Clang {
        libcxx_include: dir.join("no-libc++"),
        ..clang
    };
    let report = patch::check::check(&tree, &series, &bad, false).unwrap();
    assert_eq!(report.files.len(), Arch::ALL.len());
    for f in &report.files {
        assert_eq!(f.verdict, Verdict::Environment, "{}", f.arch);
    }
    assert_eq!(report.exit_code, 2);
}

/// The x86 compile of a real kernel file catches what x86_64 alone does
/// not: a patch that prints a `bigtime_t` with `%ld` (right on x86_64, where
/// `int64` is `long`; a -Wformat warning on x86, where it is `long long`, and
/// Haiku builds the kernel with -Werror; `B_PRId64` is the portable way).
/// `check` must find thread.cpp fine on x86_64 and blame the patch on x86.
/// Any base: the series is written here, recognising any tree whose
/// thread.cpp has `thread_exit(void)`.
#[test]
#[cfg_attr(
    not(all(haiku_top, has_clang)),
    ignore = "needs HAIKU_TOP (a Haiku checkout) and clang (apt-get install clang libc++-dev)"
)]
fn t1_check_x86_catches_what_x86_64_does_not() {
    let top = std::path::PathBuf::from(std::env::var_os("HAIKU_TOP").unwrap());
    let thread = "src/system/kernel/thread.cpp";
    let text = std::fs::read_to_string(top.join(thread)).unwrap();
    assert!(text.ends_with('\n'));
    let n = text.lines().count();
    let last = text.lines().last().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("0001-print-a-bigtime_t-with-ld.patch"),
        format!(
            "diff --git a/{thread} b/{thread}\n\
             --- a/{thread}\n\
             +++ b/{thread}\n\
             @@ -{n},1 +{n},8 @@\n \
             {last}\n\
             +\n\
             +\n\
             +void\n\
             +dead_threads_probe(void)\n\
             +{{\n\
             +\tdprintf(\"dead-threads probe at %ld\\n\", system_time());\n\
             +}}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("series.toml"),
        r#"version = 1

[[base]]
name = "any"
description = "any Haiku tree with thread_exit()"
patches = ["0001-print-a-bigtime_t-with-ld.patch"]

[[base.detect]]
what = "thread_exit()"
file = "src/system/kernel/thread.cpp"
pattern = '^thread_exit\(void\)'

[[compile]]
prefix = "src/system/kernel/"
profile = "kernel"
"#,
    )
    .unwrap();
    patch::series::record_hashes(&dir.join("series.toml"), true).unwrap();
    let series = Series::load(&dir.join("series.toml")).unwrap();
    let tree = Tree::open(&top).unwrap();
    let clang = haiku_cc::find_clang().expect("clang for the Haiku targets");
    let report = patch::check::check(&tree, &series, &clang, false).unwrap();
    let text = patch::report::check_text(&report);
    eprintln!("{text}");
    let got: Vec<(&str, Arch, Verdict)> = report
        .files
        .iter()
        .map(|f| (f.file.as_str(), f.arch, f.verdict))
        .collect();
    assert_eq!(
        got,
        vec![
            (thread, Arch::X86_64, Verdict::Ok),
            (thread, Arch::X86, Verdict::NewWarnings)
        ],
        "{text}"
    );
    let x86 = &report.files[1];
    assert!(
        x86.new_warnings
            .iter()
            .any(|w| w.starts_with(thread) && w.contains("-Wformat") && w.contains("long long")),
        "{:?}",
        x86.new_warnings
    );
    assert_eq!(report.exit_code, 1);
    assert!(
        report.summary.ends_with(&format!("{thread} (x86)")),
        "{}",
        report.summary
    );
}

/// A copy of the series' files of `HAIKU_TOP` (git or plain), with the
/// user's own edits (an unrelated new file; in the plain tree also a line
/// at the top of the first file the series changes), and its states before
/// and after a clean apply.
fn crash_copy(
    top: &Path,
    series_path: &Path,
    to: &Path,
    git: bool,
) -> (crash::Snapshot, crash::Snapshot) {
    let series = Series::load(series_path).unwrap();
    for f in patch::state::files_of(&series) {
        if let Ok(bytes) = std::fs::read(top.join(&f)) {
            let dst = to.join(&f);
            std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
            std::fs::write(dst, bytes).unwrap();
        }
    }
    if git {
        commit_all(to, "the series' files of HAIKU_TOP");
    }
    let tree = Tree::open(to).unwrap();
    let st = patch::status(&tree, &series).unwrap();
    if st.applied > 0 {
        // A tree carrying ours: start from the one without.
        patch::revert(&tree, &series, false, &RealFs).unwrap();
        if git {
            git_in(to, &["commit", "-q", "-a", "-m", "without ours"]);
        }
    }
    let st = patch::status(&tree, &series).unwrap();
    let Plan::Apply { files, .. } = &st.plan else {
        panic!("{}: nothing to apply: {:?}", top.display(), st.plan);
    };
    std::fs::write(to.join("NOTES"), "the user's notes\n").unwrap();
    if !git {
        let first = to.join(&files[0]);
        let text = std::fs::read_to_string(&first).unwrap();
        std::fs::write(&first, format!("// the user's line\n{text}")).unwrap();
    }
    let unpatched = crash::snapshot(to);
    let o = crash::run(to, series_path, "apply", None);
    assert!(o.status.success(), "{o:?}");
    let patched = crash::snapshot(to);
    crash::restore(to, &unpatched);
    (unpatched, patched)
}

#[test]
#[cfg_attr(not(haiku_top), ignore = "needs HAIKU_TOP (a Haiku checkout)")]
fn t1_crash_safe_apply_and_revert_on_a_copy() {
    let top = std::path::PathBuf::from(std::env::var_os("HAIKU_TOP").unwrap());
    let series = Series::default_path();
    let seed = fastrand::u64(..);
    for git in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("haiku");
        let (unpatched, patched) = crash_copy(&top, &series, &root, git);
        let n = crash::fault_at_every_write(&root, &series, "apply", &unpatched, &patched);
        crash::restore(&root, &patched);
        let m = crash::fault_at_every_write(&root, &series, "revert", &patched, &unpatched);
        eprintln!("git={git}: {n} writes to apply, {m} to revert");
        assert_eq!(n, m);
        assert!(n >= 4, "{n}");
        let stats = crash::kill_loop(&root, &series, &unpatched, &patched, 50, seed);
        eprintln!("git={git} seed={seed}: {stats:?}");
        assert!(stats.rolled_back + stats.completed > 0, "{stats:?}");
    }
}

#[test]
#[cfg_attr(not(haiku_top), ignore = "needs HAIKU_TOP (a Haiku checkout)")]
fn t1_revert_keeps_user_edits_and_names_a_changed_hunk() {
    use dead_threads::patch::diff::Line;
    use dead_threads::patch::state::RevertPlan;
    let top = std::path::PathBuf::from(std::env::var_os("HAIKU_TOP").unwrap());
    let series_path = Series::default_path();
    let series = Series::load(&series_path).unwrap();
    for git in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("haiku");
        let (unpatched, _) = crash_copy(&top, &series_path, &root, git);
        let tree = Tree::open(&root).unwrap();
        patch::apply(&tree, &series, false, &RealFs).unwrap();
        let st = patch::status(&tree, &series).unwrap();
        let base = series.bases.iter().find(|b| b.name == st.base).unwrap();
        // The user's edits outside our hunks: a line at the top of every
        // file the series changed.
        let RevertPlan::Revert { files, .. } = &st.revert else {
            panic!("{:?}", st.revert);
        };
        for f in files {
            let p = root.join(f);
            let t = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, format!("// user's note\n{t}")).unwrap();
        }
        // And a change to a line the last patch added.
        let last = base.patches.last().unwrap();
        let (file, added) = last
            .patch
            .files
            .iter()
            .find_map(|fp| {
                fp.hunks
                    .iter()
                    .flat_map(|h| &h.lines)
                    .find_map(|l| match l {
                        Line::Add(s) if s.trim().len() > 8 => {
                            Some((fp.path().to_string(), s.clone()))
                        }
                        _ => None,
                    })
            })
            .expect("an added line");
        let p = root.join(&file);
        let patched_text = std::fs::read_to_string(&p).unwrap();
        let changed = patched_text.replacen(
            &added,
            &format!("{} /* user */\n", added.trim_end_matches('\n')),
            1,
        );
        std::fs::write(&p, &changed).unwrap();
        let st = patch::status(&tree, &series).unwrap();
        assert_eq!(st.base, base.name);
        let RevertPlan::Refuse { hunks, .. } = &st.revert else {
            panic!("git={git}: {:?}", st.revert);
        };
        // The refusal names the last patch's hunk that owns the line, and
        // nothing outside that file. An earlier patch whose hunk overlaps
        // the same lines (modern 0001 and 0008 both touch team.h's
        // declarations) cannot be reversed past the changed line either,
        // so it may be named too.
        assert!(hunks.iter().all(|h| h.file == file), "{hunks:?}");
        assert!(hunks.iter().any(|h| h.patch == last.name), "{hunks:?}");
        let e = patch::revert(&tree, &series, false, &RealFs).unwrap_err();
        assert!(e.to_string().contains(&file), "{e}");
        // Put the line back: revert keeps the notes, drops exactly ours.
        std::fs::write(&p, &patched_text).unwrap();
        let out = patch::revert(&tree, &series, false, &RealFs).unwrap();
        assert!(out.changed);
        let now = crash::snapshot(&root);
        for (rel, bytes) in &unpatched {
            let want = if files.contains(rel) {
                [b"// user's note\n".as_slice(), bytes].concat()
            } else {
                bytes.clone()
            };
            assert_eq!(now[rel], want, "git={git}: {rel}");
        }
    }
}
