//! `jam install` / `jam uninstall` on a synthetic tree: exact round trips,
//! idempotence, user content kept, unsafe files refused untouched.
//!
//! The tree (`common::jam_tree`): a `Jamrules` and `build/jam/` (all the checkout
//! check looks for), a build directory with a one-line `build/BuildConfig`,
//! and a repository with a module Jamfile of the shape the real one has.

mod common;

use common::jam_tree::{write_build_dir, JamTree};
use dead_threads::jam::build_dir::BuildDir;
use dead_threads::jam::fragment::{Layout, OWNER_MARKER};
use dead_threads::jam::user_config::{Change, MARKER};
use dead_threads::jam::{
    self, apply_install, apply_uninstall, describe_install, plan_install, plan_uninstall,
};
use std::path::Path;

fn read(p: &Path) -> Option<Vec<u8>> {
    std::fs::read(p).ok()
}

#[test]
fn finds_the_only_configured_build_dir() {
    let t = JamTree::new();
    assert_eq!(t.layout().build.path, t.build);
}

#[test]
fn without_user_build_config_install_creates_and_uninstall_deletes() {
    let t = JamTree::new();
    assert_eq!(t.install(), Change::Created);
    let text = std::fs::read_to_string(t.ubc()).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains("(which created this file)"));
    assert!(t.stage().join(OWNER_MARKER).is_file());
    assert!(t.stage().join("UserBuildConfig.jam").is_file());
    assert!(t
        .stage()
        .join("jam/src/add-ons/kernel/drivers/misc/dead_threads/Jamfile")
        .is_file());
    assert_eq!(t.install(), Change::Unchanged);
    assert_eq!(t.uninstall(), Change::Deleted);
    assert!(!t.ubc().exists());
    assert!(!t.stage().exists());
    assert_eq!(t.uninstall(), Change::Unchanged);
}

#[test]
fn round_trip_is_exact_and_install_is_idempotent() {
    for original in [
        "# my settings\nHAIKU_IMAGE_SIZE = 800 ;\n",
        "HAIKU_IMAGE_SIZE = 800 ;",
        "",
        "rule UserBuildConfigRulePostBuildTargets\n{\n\tEcho \"built\" ;\n}\n\n\n",
    ] {
        let t = JamTree::new();
        std::fs::write(t.ubc(), original).unwrap();
        assert_eq!(t.install(), Change::Appended, "{original:?}");
        let installed = read(&t.ubc()).unwrap();
        assert!(installed.starts_with(original.as_bytes()));
        assert_eq!(t.install(), Change::Unchanged);
        assert_eq!(
            read(&t.ubc()).unwrap(),
            installed,
            "second install changed the file"
        );
        assert_eq!(t.uninstall(), Change::Removed);
        assert_eq!(read(&t.ubc()).unwrap(), original.as_bytes(), "{original:?}");
        assert!(!t.stage().exists());
    }
}

#[test]
fn user_lines_added_after_install_are_kept() {
    let t = JamTree::new();
    std::fs::write(t.ubc(), "A = 1 ;\n").unwrap();
    t.install();
    let mut text = std::fs::read_to_string(t.ubc()).unwrap();
    text.push_str("B = 2 ;\n");
    std::fs::write(t.ubc(), &text).unwrap();
    t.uninstall();
    assert_eq!(
        std::fs::read_to_string(t.ubc()).unwrap(),
        "A = 1 ;\nB = 2 ;\n"
    );
}

#[test]
fn a_created_file_with_user_content_is_kept_on_uninstall() {
    let t = JamTree::new();
    t.install();
    let mut text = std::fs::read_to_string(t.ubc()).unwrap();
    text.push_str("B = 2 ;\n");
    std::fs::write(t.ubc(), &text).unwrap();
    assert_eq!(t.uninstall(), Change::Removed);
    assert_eq!(std::fs::read_to_string(t.ubc()).unwrap(), "B = 2 ;\n");
}

#[test]
fn each_build_dir_has_its_own_line_and_the_checkout_none() {
    let t = JamTree::new();
    std::fs::write(t.ubc(), "A = 1 ;\n").unwrap();
    t.install();
    let first = std::fs::read_to_string(t.ubc()).unwrap();
    let other = t.haiku.join("generated");
    write_build_dir(&other);
    let layout = Layout {
        repo: t.repo.clone(),
        build: BuildDir::open(&other).unwrap(),
    };
    let plan = plan_install(&t.haiku, &layout).unwrap();
    assert_eq!(plan.change, Change::Created);
    assert_eq!(plan.user_config, other.join("UserBuildConfig"));
    apply_install(&plan).unwrap();
    let text = std::fs::read_to_string(other.join("UserBuildConfig")).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains(&format!(
        "{}/dead_threads/UserBuildConfig.jam",
        other.display()
    )));
    // The first build directory's file is untouched, the checkout has none.
    assert_eq!(std::fs::read_to_string(t.ubc()).unwrap(), first);
    assert!(!t.old_ubc().exists());
    apply_uninstall(&plan_uninstall(&t.haiku, Some(&layout.build)).unwrap()).unwrap();
    assert!(!other.join("UserBuildConfig").exists());
    assert_eq!(std::fs::read_to_string(t.ubc()).unwrap(), first);
    t.uninstall();
    assert_eq!(std::fs::read_to_string(t.ubc()).unwrap(), "A = 1 ;\n");
}

/// An earlier version put the line into build/jam/UserBuildConfig: install
/// moves it to the build directory, uninstall removes it wherever it is.
#[test]
fn an_earlier_versions_line_in_build_jam_is_removed() {
    let t = JamTree::new();
    let old_line = format!(
        "include \"{}/dead_threads/UserBuildConfig.jam\" ; # dead-threads: added by \
         'dead-threads jam install'; remove with 'dead-threads jam uninstall'\n",
        t.build.display()
    );
    assert!(dead_threads::jam::user_config::parse(old_line.trim_end()).is_some());
    let user = "HAIKU_IMAGE_SIZE = 900 ;\n";
    std::fs::write(t.old_ubc(), format!("{user}{old_line}")).unwrap();

    // uninstall alone (no build directory known) removes it.
    let plan = plan_uninstall(&t.haiku, None).unwrap();
    assert!(plan.old_line.is_some());
    apply_uninstall(&plan).unwrap();
    assert_eq!(std::fs::read_to_string(t.old_ubc()).unwrap(), user);

    // install removes it too, and puts the line into the build directory.
    std::fs::write(t.old_ubc(), format!("{user}{old_line}")).unwrap();
    let plan = plan_install(&t.haiku, &t.layout()).unwrap();
    assert!(describe_install(&plan).contains("an earlier version's line"));
    apply_install(&plan).unwrap();
    assert_eq!(std::fs::read_to_string(t.old_ubc()).unwrap(), user);
    assert!(std::fs::read_to_string(t.ubc()).unwrap().contains(MARKER));
    t.uninstall();
    assert!(!t.ubc().exists());
    assert_eq!(std::fs::read_to_string(t.old_ubc()).unwrap(), user);
}

#[test]
fn unsafe_files_are_refused_and_left_alone() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("open brace", b"rule X {\n\tEcho x ;\n".to_vec()),
        ("open string", b"A = \"x ;\n".to_vec()),
        ("no semicolon", b"A = 1\n".to_vec()),
        ("crlf", b"A = 1 ;\r\n".to_vec()),
        ("not utf-8", b"A = \xff ;\n".to_vec()),
        (
            "tampered marker",
            b"include \"/x\" ; # dead-threads: edited by hand\n".to_vec(),
        ),
    ];
    for (what, bytes) in cases {
        let t = JamTree::new();
        std::fs::write(t.ubc(), &bytes).unwrap();
        let err = plan_install(&t.haiku, &t.layout()).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("refusing"), "{what}: {msg}");
        assert_eq!(read(&t.ubc()).unwrap(), bytes, "{what}");
        assert!(!t.stage().exists(), "{what}");
    }
}

#[test]
fn two_marked_lines_are_refused_by_uninstall() {
    let t = JamTree::new();
    t.install();
    let text = std::fs::read_to_string(t.ubc()).unwrap();
    let doubled = format!("{text}{text}");
    std::fs::write(t.ubc(), &doubled).unwrap();
    let err = format!(
        "{:#}",
        plan_uninstall(&t.haiku, Some(&t.layout().build)).unwrap_err()
    );
    assert!(err.contains("more than one"), "{err}");
    assert_eq!(std::fs::read_to_string(t.ubc()).unwrap(), doubled);
}

#[test]
fn a_foreign_stage_directory_is_not_taken_over() {
    let t = JamTree::new();
    std::fs::create_dir_all(t.stage()).unwrap();
    std::fs::write(t.stage().join("notes.txt"), "mine").unwrap();
    let err = format!("{:#}", plan_install(&t.haiku, &t.layout()).unwrap_err());
    assert!(err.contains("not created by dead-threads"), "{err}");
    assert!(!t.ubc().exists());
}

#[test]
fn uninstall_keeps_a_stage_directory_without_our_marker() {
    let t = JamTree::new();
    t.install();
    std::fs::remove_file(t.stage().join(OWNER_MARKER)).unwrap();
    t.uninstall();
    assert!(!t.ubc().exists());
    assert!(t.stage().exists());
}

#[test]
fn not_a_checkout_is_refused() {
    let t = JamTree::new();
    let err = format!("{:#}", plan_uninstall(&t.repo, None).unwrap_err());
    assert!(err.contains("is not a Haiku checkout"), "{err}");
    assert!(jam::check_checkout(&t.haiku).is_ok());
}

#[test]
#[cfg_attr(not(haiku_top), ignore = "needs HAIKU_TOP (a Haiku checkout)")]
fn round_trip_over_haikus_own_user_build_config_examples() {
    let top = common::checkout::haiku_top();
    // Haiku's UserBuildConfig.sample and .ReadMe as a user's UserBuildConfig
    // (copied into the synthetic tree; HAIKU_TOP is only read).
    for name in ["UserBuildConfig.sample", "UserBuildConfig.ReadMe"] {
        let original = std::fs::read(top.join("build/jam").join(name)).unwrap();
        let t = JamTree::new();
        std::fs::write(t.ubc(), &original).unwrap();
        assert_eq!(t.install(), Change::Appended, "{name}");
        assert_eq!(t.install(), Change::Unchanged, "{name}");
        assert_eq!(t.uninstall(), Change::Removed, "{name}");
        assert_eq!(read(&t.ubc()).unwrap(), original, "{name}");
    }
}

#[test]
fn a_symlinked_user_build_config_stays_a_symlink() {
    let t = JamTree::new();
    let elsewhere = t.repo.join("my-UserBuildConfig");
    std::fs::write(&elsewhere, "A = 1 ;\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, t.ubc()).unwrap();
    assert_eq!(t.install(), Change::Appended);
    assert!(std::fs::symlink_metadata(t.ubc())
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&elsewhere)
        .unwrap()
        .contains(MARKER));
    assert_eq!(t.uninstall(), Change::Removed);
    assert!(std::fs::symlink_metadata(t.ubc())
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "A = 1 ;\n");
}
