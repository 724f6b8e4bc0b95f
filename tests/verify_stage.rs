//! Staging the cross-built tests for the image: binaries under bin/, the
//! runner, snapshot files at their repository paths (so INSTA_WORKSPACE_ROOT
//! can point at the guest directory), manifest.json and run-tests.sh.

mod common;

use common::jam_tree::JamTree;
use dead_threads::cross::{self, Artifact};
use guest_runner::manifest::Manifest;

#[test]
fn stage_guest_lays_out_the_image_directory() {
    let t = JamTree::new();
    let repo = &t.repo;
    let cargo_out = t.path().join("target");
    for d in [
        repo.join("tests/snapshots"),
        repo.join("target/debug/snapshots"),
        cargo_out.clone(),
    ] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(
        repo.join("tests/snapshots/haiku_threads__n33.snap"),
        "---\ndead_entries: 33\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("target/debug/snapshots/stale.snap"),
        "build output",
    )
    .unwrap();
    let exe = cargo_out.join("haiku_threads-0a1b2c");
    std::fs::write(&exe, "ELF").unwrap();
    let runner = cargo_out.join("dead-threads-guest-runner");
    std::fs::write(&runner, "ELF").unwrap();
    let layout = t.layout();
    let tests = vec![Artifact {
        name: "haiku_threads".into(),
        test: true,
        executable: exe,
    }];

    // Not installed yet: refused with the next step named.
    let err = cross::stage_guest(&layout, &tests, &runner, 300)
        .unwrap_err()
        .to_string();
    assert!(err.contains("jam install"), "{err}");

    t.install();
    let m = cross::stage_guest(&layout, &tests, &runner, 300).unwrap();
    let guest = layout.guest_dir();
    assert!(guest.join("bin/haiku_threads").is_file());
    assert!(guest.join("dead-threads-guest-runner").is_file());
    assert!(guest
        .join("tests/snapshots/haiku_threads__n33.snap")
        .is_file());
    assert!(!guest.join("target").exists(), "build output was staged");
    let on_disk =
        Manifest::parse(&std::fs::read_to_string(guest.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(on_disk, m);
    assert_eq!(m.tests[0].path, "bin/haiku_threads");
    assert_eq!(m.ktap_prefix, dead_threads::ktap::SERIAL_PREFIX);
    let script = std::fs::read_to_string(guest.join("run-tests.sh")).unwrap();
    assert!(
        script.contains(&format!("sleep {} ;", m.watchdog_secs + 60)),
        "{script}"
    );

    // Staging again replaces what was there.
    std::fs::write(guest.join("bin/leftover"), "old").unwrap();
    cross::stage_guest(&layout, &tests, &runner, 300).unwrap();
    assert!(!guest.join("bin/leftover").exists());

    // Nothing to stage is an error, not an empty run.
    assert!(cross::stage_guest(&layout, &[], &runner, 300).is_err());
}
