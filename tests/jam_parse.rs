//! The generated jam text read by a real jam interpreter.
//!
//! Haiku's jam is a fork of Perforce jam 2.5; Debian's `jam` package
//! (Perforce jam 2.6.1) reads the same language and has the same Jambase
//! `SubDir`/`SubInclude` logic for a root variable set from outside. This
//! test installs into a synthetic tree, then lets that jam read
//! UserBuildConfig (user content + our line), our fragment and the re-rooted
//! module Jamfile, with Haiku's image rules replaced by stubs that echo their
//! arguments. It checks that everything parses and that the rules get the
//! arguments we mean. It does not build anything (no Haiku jam, no image).
//! Reported ignored when no jam is installed (`apt-get install jam`).

mod common;

use common::jam_tree::JamTree;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's Perforce jam. The tests calling this are ignored unless build.rs
/// found a jam (`has_jam`).
///
/// # Panics
/// When no jam 2.x interpreter answers `jam -v`.
fn perforce_jam() -> PathBuf {
    for candidate in ["jam.perforce", "jam"] {
        let Ok(out) = Command::new(candidate).arg("-v").output() else {
            continue;
        };
        let v = String::from_utf8_lossy(&out.stdout);
        if v.starts_with("Jam 2.") {
            return PathBuf::from(candidate);
        }
    }
    panic!("no jam 2.x interpreter in PATH (apt-get install jam)");
}

/// Stubs for the Haiku rules the fragment and the module Jamfile call, and a
/// stand-in for ExecuteDeferredSubIncludes.
const HARNESS: &str = r#"
rule DefineBuildProfile { Echo "DefineBuildProfile" $(1) ":" $(2) ":" $(3) ; }
rule DeferredSubInclude { DEFERRED += $(1) ; Echo "DeferredSubInclude" $(1) ; }
rule AddDriversToHaikuImage { Echo "AddDriversToHaikuImage" $(1) ":" $(2) ; }
rule CopyDirectoryToHaikuImage { Echo "CopyDirectoryToHaikuImage" $(1) ":" $(2) ":" $(3) ; }
rule AddFilesToHaikuImage { Echo "AddFilesToHaikuImage" $(1) ":" $(2) ; }
rule UsePrivateKernelHeaders { Echo "UsePrivateKernelHeaders" ; }
rule KernelAddon {
	Echo "KernelAddon" $(1) ":" $(2) ;
	Echo "SUBDIR" $(SUBDIR) ;
	Echo "SEARCH_SOURCE" $(SEARCH_SOURCE) ;
}
HAIKU_IMAGE_SIZE = $(USER_IMAGE_SIZE) ;
include $(UBC) ;
Echo "HAIKU_IMAGE_SIZE" $(HAIKU_IMAGE_SIZE) ;
Echo "LOCATE kernel" [ on <driver-settings>kernel return $(LOCATE) ] ;
Echo "SEARCH job" [ on <dead-threads>dead_threads return $(SEARCH) ] ;
if $(DEFERRED) { SubInclude $(DEFERRED) ; }
"#;

fn run_jam(jam: &Path, dir: &Path, ubc: &Path, profile: &str) -> String {
    std::fs::write(dir.join("Jamfile"), HARNESS).unwrap();
    let out = Command::new(jam)
        .current_dir(dir)
        .arg("-n")
        .arg(format!("-sUBC={}", ubc.display()))
        .arg(format!("-sHAIKU_BUILD_PROFILE={profile}"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "jam failed:\n{text}");
    text
}

#[test]
#[cfg_attr(not(has_jam), ignore = "needs jam 2.x (apt-get install jam)")]
fn jam_reads_the_installed_configuration() {
    let jam = perforce_jam();
    let t = JamTree::new();
    let harness = t.path().join("harness");
    std::fs::create_dir(&harness).unwrap();
    let ubc = t.ubc();
    let user =
        "# mine\nEcho \"user content read\" ;\nrule UserBuildConfigRulePreImage { Echo pre ; }\n";
    std::fs::write(&ubc, user).unwrap();

    t.install();

    let out = run_jam(&jam, &harness, &ubc, "minimum-dead-threads");
    let stage = t.stage();
    let expect = [
        "user content read".to_string(),
        format!(
            "DefineBuildProfile minimum-dead-threads : image : {}",
            t.build.join("haiku-dead-threads.image").display()
        ),
        "DeferredSubInclude DEAD_THREADS_TOP src add-ons kernel drivers misc dead_threads".into(),
        "AddDriversToHaikuImage misc : <driver>dead_threads".into(),
        format!(
            "CopyDirectoryToHaikuImage system non-packaged data : {}/guest : dead_threads",
            stage.display()
        ),
        "AddFilesToHaikuImage system non-packaged data launch : <dead-threads>dead_threads".into(),
        "HAIKU_IMAGE_SIZE 900".into(),
        format!("LOCATE kernel {}/settings", stage.display()),
        format!("SEARCH job {}/launch", stage.display()),
        "UsePrivateKernelHeaders".into(),
        "KernelAddon <driver>dead_threads : dead_threads.cpp".into(),
        format!(
            "SUBDIR {}/jam/src/add-ons/kernel/drivers/misc/dead_threads",
            stage.display()
        ),
        format!(
            "SEARCH_SOURCE {}/kernel-patch/module {}/jam/src/add-ons/kernel/drivers/misc/dead_threads",
            t.repo.display(),
            stage.display()
        ),
    ];
    for e in &expect {
        assert!(
            out.lines().any(|l| l.trim() == e),
            "missing {e:?} in jam output:\n{out}"
        );
    }
    // The files the fragment points jam at exist.
    assert!(stage.join("settings/kernel").is_file());
    assert!(stage.join("launch/dead_threads").is_file());
    assert!(stage.join("guest/run-tests.sh").is_file());

    // Another profile: only the profile definition, nothing added.
    let out = run_jam(&jam, &harness, &ubc, "nightly-raw");
    assert!(out.contains("user content read"));
    assert!(out.contains("DefineBuildProfile minimum-dead-threads"));
    for absent in [
        "AddDriversToHaikuImage",
        "CopyDirectoryToHaikuImage",
        "KernelAddon",
        "LOCATE kernel /",
    ] {
        assert!(
            !out.contains(absent),
            "{absent} outside our profile:\n{out}"
        );
    }

    // A user's own image size wins.
    let out = Command::new(&jam)
        .current_dir(&harness)
        .args([
            "-n",
            &format!("-sUBC={}", ubc.display()),
            "-sHAIKU_BUILD_PROFILE=minimum-dead-threads",
            "-sUSER_IMAGE_SIZE=2000",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("HAIKU_IMAGE_SIZE 2000"));

    // Uninstalled: jam reads exactly the user's file again.
    t.uninstall();
    assert_eq!(std::fs::read_to_string(&ubc).unwrap(), user);
    let out = run_jam(&jam, &harness, &ubc, "minimum-dead-threads");
    assert!(out.contains("user content read"));
    assert!(!out.contains("DefineBuildProfile"), "{out}");
}

#[test]
#[cfg_attr(not(has_jam), ignore = "needs jam 2.x (apt-get install jam)")]
fn jam_reroots_this_repositorys_module_jamfile() {
    let jam = perforce_jam();
    // kernel-patch/module/Jamfile as committed (helper d's module), in a
    // synthetic tree; rules the stubs do not define only give jam warnings.
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernel-patch/module/Jamfile");
    let t = JamTree::new();
    let harness = t.path().join("harness");
    std::fs::create_dir(&harness).unwrap();
    std::fs::copy(&real, t.repo.join("kernel-patch/module/Jamfile")).unwrap();
    t.install();
    let ubc = t.ubc();
    let out = run_jam(&jam, &harness, &ubc, "minimum-dead-threads");
    let module = dead_threads::jam::fragment::read_module_jamfile(&t.repo).unwrap();
    let subdir = t
        .build
        .join("dead_threads/jam")
        .join(module.tokens.join("/"));
    assert!(
        out.lines()
            .any(|l| l.trim() == format!("SUBDIR {}", subdir.display())),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.trim().starts_with(&format!(
            "SEARCH_SOURCE {}/kernel-patch/module ",
            t.repo.display()
        ))),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l
            .trim()
            .starts_with(&format!("KernelAddon {} :", module.target))),
        "{out}"
    );
}
