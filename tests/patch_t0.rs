//! T0 tests of `dead-threads patch` on synthetic fixture trees (written
//! here: only the few lines the detector and the fixture patches need, no
//! Haiku text). Run on any host; git must be installed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::crash;
use common::git::{commit_all, git_in};
use dead_threads::patch::{
    self, state::PatchState, state::RevertPlan, tree::FileOps, Plan, RealFs, Series, Tree,
};

const HEADER: &str = "headers/private/kernel/thread_types.h";
const THREAD: &str = "src/system/kernel/thread.cpp";
const TEAM: &str = "src/system/kernel/team.cpp";

const LEGACY_HEADER: &str =
    "/* Synthetic fixture written for dead-threads' tests: only the lines the
 * base detector and the fixture patches look at. Not Haiku source. */

#define MAX_DEAD_CHILDREN\t32
#define MAX_DEAD_THREADS\t32

struct Team {
\tstruct list\t\tdead_threads;
\tint\t\t\t\tdead_threads_count;
};
";

const LEGACY_THREAD: &str =
    "/* Synthetic fixture written for dead-threads' tests. Not Haiku source. */

void
fixture_thread_exit(Team* team, entry* e)
{
\tlist_add_item(&team->dead_threads, e);
\tteam->dead_threads_count++;
\te = NULL;

\tif (team->dead_threads_count > MAX_DEAD_THREADS) {
\t\te = list_remove_head_item(&team->dead_threads);
\t\tteam->dead_threads_count--;
\t}

\tfree(e);
}
";

const LEGACY_TEAM: &str =
    "/* Synthetic fixture written for dead-threads' tests. Not Haiku source. */

void
fixture_team_init(Team* team)
{
\tlist_init(&team->dead_threads);
\tteam->dead_threads_count = 0;
}
";

fn legacy_files() -> Vec<(&'static str, String)> {
    vec![
        (HEADER, LEGACY_HEADER.to_string()),
        (THREAD, LEGACY_THREAD.to_string()),
        (TEAM, LEGACY_TEAM.to_string()),
        ("README", "an unrelated file of the tree\n".to_string()),
    ]
}

fn unlimited_files() -> Vec<(&'static str, String)> {
    vec![
        (
            HEADER,
            "/* synthetic fixture, not Haiku source */\nstruct Team {\n\tstruct list\t\tdead_threads;\n};\n"
                .to_string(),
        ),
        (
            THREAD,
            "/* synthetic fixture */\n\tlist_add_item(&team->dead_threads, threadDeathEntry);\n"
                .to_string(),
        ),
    ]
}

fn current_files() -> Vec<(&'static str, String)> {
    vec![
        (
            HEADER,
            "/* synthetic fixture, not Haiku source */\n\
             typedef DoublyLinkedList<thread_death_entry> ThreadDeathEntryList;\n\
             struct Team {\n\tThreadDeathEntryList\tdead_threads;\n};\n"
                .to_string(),
        ),
        (
            THREAD,
            "/* synthetic fixture */\n\t\tdeferred_free(threadDeathEntry);\n".to_string(),
        ),
    ]
}

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn write_tree(files: &[(&str, String)], git: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("haiku");
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    if git {
        commit_all(&root, "fixture");
    }
    Fixture { _dir: dir, root }
}

fn fixture_series() -> Series {
    Series::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/series/series.toml"),
    )
    .unwrap()
}

fn real_series() -> Series {
    Series::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("kernel-patch/series.toml")).unwrap()
}

fn status_text(root: &Path, series: &Series) -> String {
    let tree = Tree::open(root).unwrap();
    let st = patch::status(&tree, series).unwrap();
    patch::report::status_text(&st)
        .replace(&root.display().to_string(), "[TREE]")
        .lines()
        .map(|l| {
            // The HEAD hash of a fresh fixture repository changes per run.
            if l.starts_with("Tree:") {
                l.split(" (").next().unwrap().to_string() + " ([vcs])"
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn real_series_parses_and_names_existing_patches() {
    let s = real_series();
    let names: Vec<&str> = s.bases.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        ["legacy-limited", "upstream-unlimited", "upstream-current"]
    );
    for b in &s.bases {
        for p in &b.patches {
            let subject = p.patch.subject.as_deref().unwrap();
            assert!(
                subject.starts_with("kernel: ") || subject.starts_with("libroot: "),
                "{subject}"
            );
        }
    }
}

#[test]
fn real_series_recognises_each_base_from_signature_lines() {
    let s = real_series();
    for (files, want) in [
        (legacy_files(), "legacy-limited"),
        (unlimited_files(), "upstream-unlimited"),
        (current_files(), "upstream-current"),
    ] {
        let fx = write_tree(&files, false);
        let st = patch::status(&Tree::open(&fx.root).unwrap(), &s).unwrap();
        assert_eq!(st.base, want);
        assert_eq!(st.applied, 0);
        assert!(st.evidence.iter().all(|e| e.held));
        assert!(st
            .evidence
            .iter()
            .filter(|e| e.present)
            .all(|e| e.line.is_some()));
    }
    // The real patches were made for Haiku's files, not for these fixtures:
    // apply must refuse, not guess.
    let fx = write_tree(&legacy_files(), false);
    let st = patch::status(&Tree::open(&fx.root).unwrap(), &s).unwrap();
    assert!(matches!(st.plan, Plan::Refuse { .. }), "{:?}", st.plan);
    assert_eq!(st.patches[0].state, PatchState::Conflict);
    insta::assert_snapshot!("real_series_legacy_fixture", status_text(&fx.root, &s));
    let fx = write_tree(&current_files(), false);
    insta::assert_snapshot!("real_series_current_fixture", status_text(&fx.root, &s));
}

#[test]
fn unrecognised_tree_names_what_was_looked_for() {
    let fx = write_tree(&[(HEADER, "struct Team {};\n".to_string())], false);
    let tree = Tree::open(&fx.root).unwrap();
    let e = patch::status(&tree, &real_series()).unwrap_err();
    let msg = e
        .to_string()
        .replace(&fx.root.display().to_string(), "[TREE]");
    assert!(msg.contains("MAX_DEAD_THREADS"));
    assert!(msg.contains("file not found"), "{msg}");
    insta::assert_snapshot!("unrecognised", msg);
}

#[test]
fn status_snapshots_through_the_series() {
    let s = fixture_series();
    let fx = write_tree(&legacy_files(), true);
    insta::assert_snapshot!("fixture_unpatched", status_text(&fx.root, &s));
    let tree = Tree::open(&fx.root).unwrap();
    patch::apply(&tree, &s, false, &RealFs).unwrap();
    insta::assert_snapshot!("fixture_applied", status_text(&fx.root, &s));
}

#[test]
fn apply_then_revert_is_byte_identical_git_and_plain() {
    for git in [true, false] {
        let s = fixture_series();
        let fx = write_tree(&legacy_files(), git);
        let before = crash::snapshot(&fx.root);
        let tree = Tree::open(&fx.root).unwrap();
        assert_eq!(tree.vcs == patch::tree::Vcs::Plain, !git);
        let out = patch::apply(&tree, &s, false, &RealFs).unwrap();
        assert!(out.changed);
        assert_eq!(out.files, [HEADER, TEAM, THREAD]);
        let after = crash::snapshot(&fx.root);
        for f in [HEADER, THREAD, TEAM] {
            let text = String::from_utf8(after[f].clone()).unwrap();
            assert!(!text.contains("dead_threads_count"), "{f}: {text}");
            assert!(!text.contains("MAX_DEAD_THREADS"), "{f}: {text}");
        }
        assert_eq!(after["README"], before["README"]);
        let st = patch::status(&tree, &s).unwrap();
        assert_eq!((st.base.as_str(), st.applied), ("legacy-limited", 2));
        let out = patch::revert(&tree, &s, false, &RealFs).unwrap();
        assert!(out.changed);
        assert_eq!(crash::snapshot(&fx.root), before, "git={git}");
        if git {
            assert_eq!(git_in(&fx.root, &["status", "--porcelain"]), "");
        }
        // Reverting again does nothing.
        let out = patch::revert(&tree, &s, false, &RealFs).unwrap();
        assert!(!out.changed);
    }
}

#[test]
fn apply_matches_git_apply() {
    let s = fixture_series();
    let fx = write_tree(&legacy_files(), true);
    let tree = Tree::open(&fx.root).unwrap();
    patch::apply(&tree, &s, false, &RealFs).unwrap();
    let ours = crash::snapshot(&fx.root);
    git_in(&fx.root, &["checkout", "-q", "--", "."]);
    for p in &s.bases[0].patches {
        git_in(&fx.root, &["apply", p.path.to_str().unwrap()]);
    }
    assert_eq!(crash::snapshot(&fx.root), ours);
}

#[test]
fn apply_twice_is_a_no_op() {
    let s = fixture_series();
    let fx = write_tree(&legacy_files(), true);
    let tree = Tree::open(&fx.root).unwrap();
    patch::apply(&tree, &s, false, &RealFs).unwrap();
    let once = crash::snapshot(&fx.root);
    let out = patch::apply(&tree, &s, false, &RealFs).unwrap();
    assert!(!out.changed);
    assert!(out.message.contains("already applied"), "{}", out.message);
    assert_eq!(crash::snapshot(&fx.root), once);
}

#[test]
fn dry_run_changes_nothing() {
    let s = fixture_series();
    let fx = write_tree(&legacy_files(), true);
    let before = crash::snapshot(&fx.root);
    let tree = Tree::open(&fx.root).unwrap();
    let out = patch::apply(&tree, &s, true, &RealFs).unwrap();
    assert!(out.dry_run && out.changed);
    assert_eq!(out.files.len(), 3);
    assert_eq!(crash::snapshot(&fx.root), before);
}

#[test]
fn dirty_target_file_is_refused_and_left_untouched() {
    let s = fixture_series();
    let fx = write_tree(&legacy_files(), true);
    // A local edit far from any hunk: git sees it, so apply must refuse.
    let team = fx.root.join(TEAM);
    let edited = format!("{LEGACY_TEAM}// my local change\n");
    std::fs::write(&team, &edited).unwrap();
    let before = crash::snapshot(&fx.root);
    let tree = Tree::open(&fx.root).unwrap();
    // status says what apply will do: refuse, naming the file.
    match patch::status(&tree, &s).unwrap().plan {
        Plan::Refuse { reason } => assert!(reason.contains(TEAM), "{reason}"),
        other => panic!("status promises {other:?} over a dirty file"),
    }
    let e = patch::apply(&tree, &s, false, &RealFs).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(TEAM) && msg.contains("uncommitted"), "{msg}");
    assert_eq!(e.exit_code(), 2);
    assert_eq!(crash::snapshot(&fx.root), before);
    // Staged changes count too.
    git_in(&fx.root, &["add", TEAM]);
    assert!(patch::apply(&tree, &s, false, &RealFs).is_err());
    assert_eq!(crash::snapshot(&fx.root), before);
    // Dirty files the series does not touch do not matter.
    git_in(&fx.root, &["reset", "-q", "--hard"]);
    std::fs::write(fx.root.join("README"), "changed\n").unwrap();
    patch::apply(&tree, &s, false, &RealFs).unwrap();
}

/// The fixture tree with the user's own edits: an unrelated file changed
/// and a new one, and (plain trees, where apply allows it) a series file
/// changed outside every hunk.
fn user_edits(root: &Path, git: bool) {
    std::fs::write(root.join("README"), "the user's own text\n").unwrap();
    std::fs::write(root.join("NOTES"), "untracked notes\n").unwrap();
    if !git {
        let team = root.join(TEAM);
        let text = std::fs::read_to_string(&team).unwrap();
        std::fs::write(
            &team,
            text.replace("Not Haiku source.", "Not Haiku source. Mine."),
        )
        .unwrap();
    }
}

#[test]
fn revert_keeps_user_edits_outside_our_hunks() {
    for git in [true, false] {
        let s = fixture_series();
        let fx = write_tree(&legacy_files(), git);
        let tree = Tree::open(&fx.root).unwrap();
        patch::apply(&tree, &s, false, &RealFs).unwrap();
        // Edits in patched files, outside our hunks: a comment at the top
        // of thread.cpp, a debug line at the end of team.cpp.
        let edit = |rel: &str, f: &dyn Fn(&str) -> String| {
            let p = fx.root.join(rel);
            let t = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, f(&t)).unwrap();
        };
        let top = |t: &str| t.replacen("/* Synthetic", "/* My note. Synthetic", 1);
        let end = |t: &str| format!("{t}// debug: trace team init\n");
        edit(THREAD, &top);
        edit(TEAM, &end);
        // status says ahead of time: revert, keeping them.
        let st = patch::status(&tree, &s).unwrap();
        match &st.revert {
            RevertPlan::Revert {
                patches,
                keeps_changes_in,
                ..
            } => {
                assert_eq!(patches.len(), 2);
                if git {
                    assert_eq!(keeps_changes_in, &[TEAM, THREAD], "git={git}");
                }
            }
            other => panic!("status promises {other:?}"),
        }
        assert!(
            patch::report::status_text(&st).contains("Revert would: reverse exactly our hunks"),
            "{}",
            patch::report::status_text(&st)
        );
        let out = patch::revert(&tree, &s, false, &RealFs).unwrap();
        assert!(out.changed);
        // Exactly the originals plus the user's edits.
        let now = crash::snapshot(&fx.root);
        assert_eq!(now[THREAD], top(LEGACY_THREAD).into_bytes(), "git={git}");
        assert_eq!(now[TEAM], end(LEGACY_TEAM).into_bytes(), "git={git}");
        assert_eq!(now[HEADER], LEGACY_HEADER.as_bytes(), "git={git}");
        if git {
            let diff = git_in(&fx.root, &["diff", "--stat"]);
            assert!(
                diff.contains("2 files changed, 2 insertions(+), 1 deletion(-)"),
                "{diff}"
            );
        }
    }
}

#[test]
fn revert_refuses_when_lines_our_hunks_own_changed_and_names_the_hunk() {
    for (changed, needle) in [
        // A line next to what the patch removed (context of its hunk).
        ("\te = NULL;\n", "\te = NULL; /* mine */\n"),
        // The hunk's first context line.
        (
            "\tlist_add_item(&team->dead_threads, e);\n",
            "\tlist_add_item(&team->dead_threads, e); // x\n",
        ),
    ] {
        for git in [true, false] {
            let s = fixture_series();
            let fx = write_tree(&legacy_files(), git);
            let tree = Tree::open(&fx.root).unwrap();
            patch::apply(&tree, &s, false, &RealFs).unwrap();
            let p = fx.root.join(THREAD);
            let t = std::fs::read_to_string(&p).unwrap();
            assert!(t.contains(changed));
            std::fs::write(&p, t.replace(changed, needle)).unwrap();
            let before = crash::snapshot(&fx.root);
            // Still our base with both patches, and status says revert
            // will refuse, naming the hunk.
            let st = patch::status(&tree, &s).unwrap();
            assert_eq!((st.base.as_str(), st.applied), ("legacy-limited", 2));
            let RevertPlan::Refuse { hunks, reason } = &st.revert else {
                panic!("status promises {:?}", st.revert);
            };
            assert_eq!(hunks.len(), 1);
            assert_eq!(hunks[0].file, THREAD);
            assert_eq!(hunks[0].hunk, 1);
            assert_eq!(hunks[0].patch, s.bases[0].patches[1].name);
            assert_eq!(hunks[0].header, "@@ -4,13 +4,7 @@ void");
            assert_eq!(hunks[0].lines, (4, 10));
            assert!(
                reason.contains("src/system/kernel/thread.cpp: hunk #1 of legacy/0002"),
                "{reason}"
            );
            let text = patch::report::status_text(&st);
            assert!(
                text.contains("Revert would: refuse: lines our patches own"),
                "{text}"
            );
            let e = patch::revert(&tree, &s, false, &RealFs).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains(THREAD) && msg.contains("@@ -4,13 +4,7 @@"),
                "{msg}"
            );
            assert_eq!(e.exit_code(), 2);
            assert_eq!(crash::snapshot(&fx.root), before, "git={git}");
            // Putting the line back makes revert possible again.
            std::fs::write(&p, &t).unwrap();
            patch::revert(&tree, &s, false, &RealFs).unwrap();
            assert_eq!(crash::snapshot(&fx.root)[THREAD], LEGACY_THREAD.as_bytes());
        }
    }
}

/// Fails the n-th write (1-based), performs the others.
struct FailingFs {
    fail_at: usize,
    calls: std::cell::Cell<usize>,
}

impl FileOps for FailingFs {
    fn write(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.calls.set(self.calls.get() + 1);
        if self.calls.get() == self.fail_at {
            return Err(std::io::Error::other("injected failure"));
        }
        RealFs.write(path, data)
    }
    fn remove(&self, path: &Path) -> std::io::Result<()> {
        RealFs.remove(path)
    }
}

#[test]
fn failure_half_way_rolls_back() {
    for git in [true, false] {
        for fail_at in [1, 2, 3] {
            let s = fixture_series();
            let fx = write_tree(&legacy_files(), git);
            let before = crash::snapshot(&fx.root);
            let tree = Tree::open(&fx.root).unwrap();
            let fs = FailingFs {
                fail_at,
                calls: 0.into(),
            };
            let e = patch::apply(&tree, &s, false, &fs).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("injected failure"), "{msg}");
            assert!(msg.contains("rolled back"), "{msg}");
            assert_eq!(e.exit_code(), 1);
            assert_eq!(crash::snapshot(&fx.root), before, "fail_at={fail_at}");
            // No temporary files left behind.
            assert!(!crash::snapshot(&fx.root)
                .keys()
                .any(|k| k.contains(".dead-threads-")));
        }
    }
}

#[test]
fn partly_applied_series_is_completed_and_reverted() {
    let s = fixture_series();
    let fx = write_tree(&legacy_files(), true);
    let before = crash::snapshot(&fx.root);
    // Someone applied only the first patch (with git itself).
    git_in(
        &fx.root,
        &["apply", s.bases[0].patches[0].path.to_str().unwrap()],
    );
    let tree = Tree::open(&fx.root).unwrap();
    let st = patch::status(&tree, &s).unwrap();
    assert_eq!((st.base.as_str(), st.applied), ("legacy-limited", 1));
    assert_eq!(st.patches[1].state, PatchState::NotApplied);
    // The first patch's changes are ours, so the dirty check lets them be.
    let out = patch::apply(&tree, &s, false, &RealFs).unwrap();
    assert_eq!(out.patches.len(), 1);
    assert_eq!(patch::status(&tree, &s).unwrap().applied, 2);
    patch::revert(&tree, &s, false, &RealFs).unwrap();
    assert_eq!(crash::snapshot(&fx.root), before);
}

#[test]
fn plain_tree_refuses_a_pre_image_that_does_not_match() {
    let s = fixture_series();
    // A plain tree where a line inside a hunk's context differs.
    let mut files = legacy_files();
    files[1].1 = LEGACY_THREAD.replace("\te = NULL;\n", "\te = 0;\n");
    let fx = write_tree(&files, false);
    let before = crash::snapshot(&fx.root);
    let tree = Tree::open(&fx.root).unwrap();
    let e = patch::apply(&tree, &s, false, &RealFs).unwrap_err();
    assert!(e.to_string().contains(THREAD), "{e}");
    assert_eq!(crash::snapshot(&fx.root), before);
    // Edits outside every hunk are kept, and the series still applies.
    let mut files = legacy_files();
    files[2].1 = format!("// local note\n\n\n\n{LEGACY_TEAM}");
    let fx = write_tree(&files, false);
    let tree = Tree::open(&fx.root).unwrap();
    patch::apply(&tree, &s, false, &RealFs).unwrap();
    let team = std::fs::read_to_string(fx.root.join(TEAM)).unwrap();
    assert!(team.starts_with("// local note\n"));
    assert!(!team.contains("dead_threads_count"));
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dead-threads"))
}

#[test]
fn cli_status_json_apply_and_exit_codes() {
    let series =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/series/series.toml");
    let fx = write_tree(&legacy_files(), true);
    let out = bin()
        .args(["patch", "status", "--json", "--haiku"])
        .arg(&fx.root)
        .arg("--series")
        .arg(&series)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["base"], "legacy-limited");
    assert_eq!(v["applied"], 0);
    assert_eq!(v["plan"]["kind"], "apply");
    assert_eq!(v["revert"]["kind"], "nothing");
    assert!(v.get("recovered").is_none());
    assert_eq!(v["evidence"][0]["file"], HEADER);
    assert_eq!(v["evidence"][0]["line"], 5);

    let out = bin()
        .args(["patch", "apply", "--haiku"])
        .arg(&fx.root)
        .arg("--series")
        .arg(&series)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied 2 patch(es)"));

    // Unrecognised tree: exit 2 with the explanation on stderr.
    let other = write_tree(&[("x", "y\n".to_string())], false);
    let out = bin()
        .args(["patch", "status", "--haiku"])
        .arg(&other.root)
        .arg("--series")
        .arg(&series)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Looked for"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("none of the files it reads exists"));

    // A missing tree: exit 2, says what to pass.
    let out = bin()
        .args(["patch", "status", "--haiku", "/nonexistent/haiku"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--haiku"));
}

#[test]
fn cli_check_without_clang_says_how_to_install() {
    let series =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/series/series.toml");
    let fx = write_tree(&legacy_files(), false);
    let out = bin()
        .args(["patch", "check", "--haiku"])
        .arg(&fx.root)
        .arg("--series")
        .arg(&series)
        .env("DEAD_THREADS_CLANG", "/nonexistent/clang")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("apt-get install clang libc++-dev"), "{err}");
}

#[test]
fn first_patch_committed_second_in_work_tree_reverts() {
    let s = fixture_series();
    let fx = write_tree(&legacy_files(), true);
    let before = crash::snapshot(&fx.root);
    // The first patch is committed (git am), the second only applied.
    git_in(
        &fx.root,
        &["am", "-q", s.bases[0].patches[0].path.to_str().unwrap()],
    );
    git_in(
        &fx.root,
        &["apply", s.bases[0].patches[1].path.to_str().unwrap()],
    );
    let tree = Tree::open(&fx.root).unwrap();
    assert_eq!(patch::status(&tree, &s).unwrap().applied, 2);
    patch::revert(&tree, &s, false, &RealFs).unwrap();
    assert_eq!(crash::snapshot(&fx.root), before);
}

fn fixture_series_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/series/series.toml")
}

/// A fixture tree with the user's edits, and its state before and after
/// a clean apply.
fn crash_fixture(git: bool) -> (Fixture, crash::Snapshot, crash::Snapshot) {
    let fx = write_tree(&legacy_files(), git);
    user_edits(&fx.root, git);
    let unpatched = crash::snapshot(&fx.root);
    let o = crash::run(&fx.root, &fixture_series_path(), "apply", None);
    assert!(o.status.success(), "{o:?}");
    let patched = crash::snapshot(&fx.root);
    assert_ne!(patched, unpatched);
    crash::restore(&fx.root, &unpatched);
    (fx, unpatched, patched)
}

#[test]
fn stopped_at_every_write_the_next_command_leaves_before_or_after() {
    for git in [true, false] {
        let (fx, unpatched, patched) = crash_fixture(git);
        let series = fixture_series_path();
        // Record, then per file a temporary file and its rename, then
        // the record's removal: 1 + 2 * 3 + 1.
        let n = crash::fault_at_every_write(&fx.root, &series, "apply", &unpatched, &patched);
        assert_eq!(n, 8, "git={git}");
        crash::restore(&fx.root, &patched);
        let n = crash::fault_at_every_write(&fx.root, &series, "revert", &patched, &unpatched);
        assert_eq!(n, 8, "git={git}");
        // The user's edits survived all of it.
        crash::restore(&fx.root, &unpatched);
        let st = patch::status(&Tree::open(&fx.root).unwrap(), &fixture_series()).unwrap();
        assert_eq!(st.applied, 0);
        assert_eq!(
            std::fs::read_to_string(fx.root.join("README")).unwrap(),
            "the user's own text\n"
        );
    }
}

#[test]
fn random_kills_during_apply_and_revert_leave_before_or_after() {
    let seed = std::env::var("DEAD_THREADS_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    for (git, kills) in [(false, 50), (true, 50)] {
        let (fx, unpatched, patched) = crash_fixture(git);
        let stats = crash::kill_loop(
            &fx.root,
            &fixture_series_path(),
            &unpatched,
            &patched,
            kills,
            seed,
        );
        eprintln!("git={git} seed={seed} (DEAD_THREADS_KILL_SEED): {stats:?}");
        assert_eq!(stats.kills, kills);
        // Half the kills aim at the writes: some must have hit them (about
        // half of those do on an idle machine).
        assert!(
            stats.rolled_back + stats.completed > 0,
            "no kill hit a transaction: {stats:?}"
        );
    }
}

#[test]
fn an_interrupted_transaction_is_recovered_by_every_patch_command() {
    let series = fixture_series_path();
    for cmd in ["status", "apply", "revert", "check"] {
        let (fx, unpatched, _) = crash_fixture(false);
        // Stopped after the record and the first file's rename.
        let o = crash::run(&fx.root, &series, "apply", Some(3));
        assert!(!o.status.success());
        assert!(fx.root.join(".dead-threads/transaction.json").is_file());
        let o = crash::patch_cmd(&fx.root, &series, cmd)
            .env("DEAD_THREADS_CLANG", "/nonexistent/clang")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        if cmd == "check" {
            // check stops at the missing compiler, but recovered first.
            assert!(!fx.root.join(".dead-threads").exists(), "{all}");
            assert_eq!(crash::snapshot(&fx.root), unpatched);
            continue;
        }
        assert!(o.status.success(), "{cmd}: {all}");
        assert!(
            all.contains("an earlier `dead-threads patch apply`")
                && all.contains("after writing 1 of 3 file(s); rolled back"),
            "{cmd}: {all}"
        );
        crash::assert_no_leftovers(&fx.root, cmd);
        if cmd == "status" || cmd == "revert" {
            assert_eq!(crash::snapshot(&fx.root), unpatched, "{cmd}");
        }
    }
}

#[test]
fn stray_temporary_files_are_removed() {
    let fx = write_tree(&legacy_files(), false);
    let stray = fx.root.join("src/system/kernel/.dead-threads-a1b2c3.tmp");
    std::fs::write(&stray, "left by an old version").unwrap();
    let o = crash::run(&fx.root, &fixture_series_path(), "status", None);
    assert!(o.status.success());
    assert!(!stray.exists());
    assert!(String::from_utf8_lossy(&o.stdout).contains("removed temporary file(s)"));
    crash::assert_no_leftovers(&fx.root, "status");
}

/// A copy of kernel-patch/ (series.toml and the patches) to edit.
fn copy_series(to: &Path) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernel-patch");
    let real = real_series();
    std::fs::copy(from.join("series.toml"), to.join("series.toml")).unwrap();
    for p in real.bases.iter().flat_map(|b| &b.patches) {
        let dst = to.join(&p.name);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&p.path, dst).unwrap();
    }
    to.join("series.toml")
}

/// Changes the first line of `patch` whose first byte is `tag` (inside a
/// hunk: not `+++`), inserting an `X` after the tag.
fn corrupt_first(patch: &Path, tag: char) {
    let text = std::fs::read_to_string(patch).unwrap();
    let mut done = false;
    let mut out = String::new();
    let mut in_hunk = false;
    for l in text.split_inclusive('\n') {
        in_hunk |= l.starts_with("@@ ");
        if !done && in_hunk && l.starts_with(tag) && !l.starts_with("+++") && l.len() > 2 {
            out.push_str(&format!("{tag}X{}", &l[1..]));
            done = true;
        } else {
            out.push_str(l);
        }
    }
    assert!(done);
    std::fs::write(patch, out).unwrap();
}

#[test]
fn real_series_records_each_patch_hash() {
    let s = real_series();
    for p in s.bases.iter().flat_map(|b| &b.patches) {
        assert!(p.hash_matches(), "{}", p.name);
        assert_eq!(
            p.sha256,
            patch::series::sha256_hex(&std::fs::read(&p.path).unwrap())
        );
    }
}

#[test]
fn a_patch_file_that_is_not_the_recorded_one_is_refused_by_every_command() {
    for (which, tag) in [("added line", '+'), ("context line", ' ')] {
        let tmp = tempfile::tempdir().unwrap();
        let series = copy_series(tmp.path());
        let real = real_series();
        let victim = if tag == '+' {
            &real.bases[2].patches[1]
        } else {
            &real.bases[0].patches[0]
        };
        let path = tmp.path().join(&victim.name);
        corrupt_first(&path, tag);
        let new_hash = patch::series::sha256_hex(&std::fs::read(&path).unwrap());
        let e = Series::load(&series).unwrap_err().to_string();
        for want in [
            path.display().to_string(),
            new_hash.clone(),
            victim.sha256.clone(),
            "dead-threads patch series-hash --write --series".to_string(),
        ] {
            assert!(e.contains(&want), "{which}: {want:?} missing from: {e}");
        }
        // Every patch command refuses before looking at the tree.
        let fx = write_tree(&legacy_files(), true);
        let before = crash::snapshot(&fx.root);
        for cmd in ["status", "apply", "revert", "check"] {
            let o = crash::run(&fx.root, &series, cmd, None);
            assert_eq!(o.status.code(), Some(2), "{which}: {cmd}");
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                err.contains(&victim.name) && err.contains(&new_hash),
                "{cmd}: {err}"
            );
        }
        assert_eq!(crash::snapshot(&fx.root), before);
        // series-hash says which file, and --write records it, keeping
        // the order.
        let hash = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_dead-threads"))
                .args(["patch", "series-hash", "--series"])
                .arg(&series)
                .args(args)
                .output()
                .unwrap()
        };
        let o = hash(&[]);
        assert_eq!(o.status.code(), Some(1));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains(&format!("{new_hash} {}: CHANGED", victim.name)),
            "{out}"
        );
        let o = hash(&["--write"]);
        assert!(o.status.success());
        let fixed = Series::load(&series).unwrap();
        let names = |s: &Series| -> Vec<String> {
            s.bases
                .iter()
                .flat_map(|b| b.patches.iter().map(|p| p.name.clone()))
                .collect()
        };
        assert_eq!(names(&fixed), names(&real));
        let text = std::fs::read_to_string(&series).unwrap();
        assert!(text.contains(&format!("sha256 = \"{new_hash}\"")));
        assert!(text.contains("# Patch series of dead-threads"));
        assert!(hash(&[]).status.success());
    }
}

#[test]
fn series_hash_write_turns_bare_entries_into_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let src = fixture_series_path();
    let mut text = std::fs::read_to_string(&src).unwrap();
    let fixture = fixture_series();
    for p in &fixture.bases[0].patches {
        let dst = dir.join(&p.name);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&p.path, dst).unwrap();
        text = text.replace(
            &format!("{{ file = \"{}\", sha256 = \"{}\" }}", p.name, p.sha256),
            &format!("\"{}\"", p.name),
        );
    }
    assert!(!text.contains("sha256"));
    let series = dir.join("series.toml");
    std::fs::write(&series, &text).unwrap();
    let e = Series::load(&series).unwrap_err().to_string();
    assert!(e.contains("no sha256 recorded"), "{e}");
    let entries = patch::series::record_hashes(&series, true).unwrap();
    assert_eq!(entries.len(), 2);
    let s = Series::load(&series).unwrap();
    assert_eq!(
        s.bases[0].patches[0].sha256,
        fixture.bases[0].patches[0].sha256
    );
    assert_eq!(
        std::fs::read_to_string(&series).unwrap(),
        std::fs::read_to_string(&src).unwrap()
    );
}

#[test]
fn ctrl_c_while_files_are_replaced_waits_for_the_last_one() {
    use std::os::unix::process::ExitStatusExt;
    let (fx, unpatched, patched) = crash_fixture(false);
    let series = fixture_series_path();
    let record = fx.root.join(".dead-threads/transaction.json");
    let mut seen = 0;
    for i in 0..20 {
        let (cmd, after) = if i % 2 == 0 {
            ("apply", &patched)
        } else {
            ("revert", &unpatched)
        };
        let mut child = crash::patch_cmd(&fx.root, &series, cmd)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        while !record.exists() && child.try_wait().unwrap().is_none() {
            std::thread::sleep(std::time::Duration::from_micros(20));
        }
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        let out = child.wait_with_output().unwrap();
        // Once the record exists, SIGINT is deferred: the run ends with
        // every file written (killed by the SIGINT, or done before it).
        assert!(
            out.status.success() || out.status.signal() == Some(libc::SIGINT),
            "{cmd}: {out:?}"
        );
        if out.status.signal() == Some(libc::SIGINT) {
            seen += 1;
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("the files were all written first"), "{err}");
        }
        assert_eq!(crash::snapshot(&fx.root), *after, "{cmd} {i}");
        crash::assert_no_leftovers(&fx.root, cmd);
    }
    eprintln!("{seen} of 20 runs were interrupted by the deferred SIGINT");
}

#[test]
fn a_file_changed_by_hand_after_a_crash_is_not_overwritten() {
    let (fx, _, _) = crash_fixture(false);
    let series = fixture_series_path();
    // Stopped after the record and the first file (the header).
    let o = crash::run(&fx.root, &series, "apply", Some(3));
    assert!(!o.status.success());
    let header = fx.root.join(HEADER);
    std::fs::write(&header, "edited by hand after the crash\n").unwrap();
    let mut before = crash::snapshot(&fx.root);
    // (The killed run's lock file goes; the lock itself died with it.)
    before.remove(".dead-threads/lock");
    let o = crash::run(&fx.root, &series, "status", None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&header.display().to_string())
            && err.contains("cannot be restored automatically")
            && err.contains(".dead-threads/transaction.json"),
        "{err}"
    );
    // Nothing was touched, and the record is kept for the user.
    assert_eq!(crash::snapshot(&fx.root), before);
    assert!(fx.root.join(".dead-threads/transaction.json").is_file());
}

/// A synthetic tree the compile check can really compile: an empty `OS.h`
/// (what `haiku_cc` takes as the mark of a Haiku tree), a kernel header and
/// one kernel translation unit. Not Haiku source.
fn compilable_files() -> Vec<(&'static str, String)> {
    vec![
        (
            "headers/os/kernel/OS.h",
            "/* synthetic fixture, not Haiku source */\n".to_string(),
        ),
        (
            HEADER,
            "/* synthetic fixture, not Haiku source */\n\
             #define DEAD_THREADS_FIXTURE_LIMIT\t32\n\
             struct Team {\n\tint\t\t\t\tdead_threads_count;\n};\n"
                .to_string(),
        ),
        (
            THREAD,
            "/* synthetic fixture, not Haiku source */\n\
             #include <thread_types.h>\n\
             \n\
             int\n\
             fixture_count(Team* team)\n\
             {\n\
             \treturn team->dead_threads_count;\n\
             }\n"
            .to_string(),
        ),
    ]
}

/// A series (written to `dir`, hashes recorded) for [`compilable_files`]
/// with one patch that adds `line` to thread.cpp after its `#include`.
fn series_adding(dir: &Path, line: &str) -> Series {
    std::fs::create_dir_all(dir.join("synthetic")).unwrap();
    std::fs::write(
        dir.join("synthetic/0001-add-a-line.patch"),
        format!(
            "diff --git a/{THREAD} b/{THREAD}\n\
             --- a/{THREAD}\n\
             +++ b/{THREAD}\n\
             @@ -2,2 +2,3 @@\n \
             #include <thread_types.h>\n\
             +{line}\n \n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("series.toml"),
        r#"version = 1

[[base]]
name = "synthetic"
description = "synthetic compilable fixture"
patches = ["synthetic/0001-add-a-line.patch"]

[[base.detect]]
what = "the fixture's limit"
file = "headers/private/kernel/thread_types.h"
pattern = '^#define DEAD_THREADS_FIXTURE_LIMIT\b'

[[compile]]
prefix = "src/system/kernel/"
profile = "kernel"
"#,
    )
    .unwrap();
    patch::series::record_hashes(&dir.join("series.toml"), true).unwrap();
    Series::load(&dir.join("series.toml")).unwrap()
}

/// `patch check` compiles every touched unit for x86_64 and 32-bit x86, and
/// the 32-bit compile matters: a patch that assumes 64-bit pointers compiles
/// for x86_64 (verdict ok there) but breaks x86, and the whole check then
/// blames the patch (exit 1), naming the architecture in the text report,
/// in the JSON and in the summary. A patch that is fine on both is green.
#[test]
#[cfg_attr(
    not(has_clang),
    ignore = "needs clang (apt-get install clang libc++-dev)"
)]
fn check_compiles_both_architectures_and_catches_a_32_bit_fault() {
    use dead_threads::haiku_cc::{self, Arch};
    use dead_threads::patch::check::Verdict;

    let clang = haiku_cc::find_clang().expect("clang for the Haiku targets");
    let fx = write_tree(&compilable_files(), false);
    let tree = Tree::open(&fx.root).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Fine on both: four compiles (unpatched and patched per architecture).
    let good = series_adding(
        &dir.path().join("good"),
        "static_assert(sizeof(int) == 4, \"dead-threads fixture: 32-bit int\");",
    );
    let r = patch::check::check(&tree, &good, &clang, false).unwrap();
    assert_eq!(r.architectures, Arch::ALL.to_vec());
    let got: Vec<_> = r
        .files
        .iter()
        .map(|f| (f.file.as_str(), f.arch, f.verdict))
        .collect();
    assert_eq!(
        got,
        vec![
            (THREAD, Arch::X86_64, Verdict::Ok),
            (THREAD, Arch::X86, Verdict::Ok)
        ],
        "{}",
        patch::report::check_text(&r)
    );
    assert_eq!(r.exit_code, 0);

    // Only the 32-bit compile can see this fault.
    let series_dir = dir.path().join("64-bit-only");
    let bad = series_adding(
        &series_dir,
        "static_assert(sizeof(void*) == 8, \"dead-threads fixture: 64-bit pointers\");",
    );
    let r = patch::check::check(&tree, &bad, &clang, false).unwrap();
    let text = patch::report::check_text(&r);
    let x86_64 = r.files.iter().find(|f| f.arch == Arch::X86_64).unwrap();
    let x86 = r.files.iter().find(|f| f.arch == Arch::X86).unwrap();
    assert_eq!(x86_64.verdict, Verdict::Ok, "{text}");
    assert!(x86_64.patched.ok && x86_64.patched.errors.is_empty());
    assert_eq!(x86.verdict, Verdict::PatchBroke, "{text}");
    assert_eq!(x86.target, "i586-unknown-haiku");
    assert!(x86.unpatched.ok, "{text}");
    assert!(
        x86.patched
            .errors
            .iter()
            .any(|e| e.starts_with(&format!("{THREAD}:3:"))
                && e.contains("dead-threads fixture: 64-bit pointers")),
        "{text}"
    );
    assert_eq!(r.exit_code, 1);
    assert!(
        r.summary.contains("1 of 2 compile check(s)")
            && r.summary.ends_with(&format!("{THREAD} (x86)")),
        "{}",
        r.summary
    );
    assert!(text.contains("for x86_64-unknown-haiku (x86_64) and i586-unknown-haiku (x86)"));
    assert!(
        text.contains(&format!("{THREAD} [kernel, x86_64]: ok\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{THREAD} [kernel, x86]: FAILED (the patch's fault"
        )),
        "{text}"
    );

    // The CLI: the same verdict as exit code, the architecture in the JSON.
    let out = bin()
        .args(["patch", "check", "--json", "--haiku"])
        .arg(&fx.root)
        .arg("--series")
        .arg(series_dir.join("series.toml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["architectures"], serde_json::json!(["x86_64", "x86"]));
    let files = json["files"].as_array().unwrap();
    let by_arch: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f["arch"].as_str().unwrap(), f["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(by_arch, vec![("x86_64", "ok"), ("x86", "patch-broke")]);
    assert_eq!(json["exit_code"], 1);
}

/// A patch whose only hunk the user changed is still applied: the tree is
/// not read as "one patch fewer" (which would make revert leave that hunk
/// behind as if it were the user's own), revert refuses and names it.
#[test]
fn a_last_patch_whose_only_hunk_changed_is_named_not_dropped() {
    for git in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        // The fixture series plus a third patch: one hunk that adds lines
        // to team.cpp after the first two are applied.
        let series_dir = dir.path().join("series");
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/patch/series");
        std::fs::create_dir_all(series_dir.join("legacy")).unwrap();
        for p in fixture_series().bases.iter().flat_map(|b| &b.patches) {
            std::fs::copy(&p.path, series_dir.join(&p.name)).unwrap();
        }
        // A file of the tree that only the third patch touches, so that
        // its hunk overlaps none of the first two.
        const EXTRA: &str = "src/system/kernel/fixture_extra.cpp";
        let mut files = legacy_files();
        files.push((
            EXTRA,
            "/* Synthetic fixture. Not Haiku source. */\n\nvoid\nfixture_extra(Team* team)\n{\n\tlist_init(&team->dead_threads);\n}\n"
                .to_string(),
        ));
        let fx = write_tree(&files, git);
        let tree = Tree::open(&fx.root).unwrap();
        patch::apply(&tree, &fixture_series(), false, &RealFs).unwrap();
        let extra_before = std::fs::read_to_string(fx.root.join(EXTRA)).unwrap();
        let added = "\t// Entries are kept until someone waits for them.\n\
                     \tteam->dead_threads_kept = true;\n";
        let extra_after = extra_before.replace(
            "\tlist_init(&team->dead_threads);\n",
            &format!("\tlist_init(&team->dead_threads);\n{added}"),
        );
        assert_ne!(extra_before, extra_after);
        let diff = similar::TextDiff::from_lines(&extra_before, &extra_after)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{EXTRA}"), &format!("b/{EXTRA}"))
            .to_string();
        let third = "legacy/0003-fixture-mark-kept-entries.patch";
        std::fs::write(
            series_dir.join(third),
            format!("Subject: [PATCH] fixture: mark kept entries\n\n---\n{diff}"),
        )
        .unwrap();
        let toml = std::fs::read_to_string(from.join("series.toml")).unwrap();
        // The legacy list, rewritten with three entries.
        let toml = {
            let start = toml.find("patches = [").unwrap();
            let end = start + toml[start..].find("]\n").unwrap() + 2;
            let s = fixture_series();
            let list: Vec<String> = s.bases[0]
                .patches
                .iter()
                .map(|p| format!("    \"{}\",\n", p.name))
                .chain([format!("    \"{third}\",\n")])
                .collect();
            format!(
                "{}patches = [\n{}]\n{}",
                &toml[..start],
                list.concat(),
                &toml[end..]
            )
        };
        let series_toml = series_dir.join("series.toml");
        std::fs::write(&series_toml, toml).unwrap();
        patch::series::record_hashes(&series_toml, true).unwrap();
        let s = Series::load(&series_toml).unwrap();
        assert_eq!(s.bases[0].patches.len(), 3);

        patch::apply(&tree, &s, false, &RealFs).unwrap();
        let st = patch::status(&tree, &s).unwrap();
        assert_eq!((st.base.as_str(), st.applied), ("legacy-limited", 3));
        // The user edits a line our third patch added (its only hunk).
        let p = fx.root.join(EXTRA);
        let patched = std::fs::read_to_string(&p).unwrap();
        std::fs::write(
            &p,
            patched.replace("dead_threads_kept = true;", "dead_threads_kept = 1;"),
        )
        .unwrap();
        let before = crash::snapshot(&fx.root);
        let st = patch::status(&tree, &s).unwrap();
        assert_eq!(
            (st.base.as_str(), st.applied),
            ("legacy-limited", 3),
            "git={git}"
        );
        let RevertPlan::Refuse { hunks, .. } = &st.revert else {
            panic!("git={git}: status promises {:?}", st.revert);
        };
        assert_eq!(hunks.len(), 1, "{hunks:?}");
        assert_eq!(
            (hunks[0].file.as_str(), hunks[0].patch.as_str()),
            (EXTRA, third)
        );
        let e = patch::revert(&tree, &s, false, &RealFs).unwrap_err();
        assert!(e.to_string().contains(EXTRA), "{e}");
        assert_eq!(crash::snapshot(&fx.root), before, "git={git}");
        // With the line put back, revert takes all three out again.
        std::fs::write(&p, &patched).unwrap();
        patch::revert(&tree, &s, false, &RealFs).unwrap();
        let after = crash::snapshot(&fx.root);
        assert_eq!(after[TEAM], LEGACY_TEAM.as_bytes(), "git={git}");
        assert_eq!(
            after[EXTRA],
            files.last().unwrap().1.as_bytes(),
            "git={git}"
        );
    }
}
