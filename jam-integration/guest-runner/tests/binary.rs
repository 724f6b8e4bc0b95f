//! The guest runner's executable on Linux: stdout sink, exit codes, and the
//! Haiku-only options refused instead of doing something else.

use std::path::Path;
use std::process::{Command, Output};

const RUNNER: &str = env!("CARGO_BIN_EXE_dead-threads-guest-runner");

#[test]
fn fixture_ok() {}

fn run(args: &[&str]) -> Output {
    Command::new(RUNNER).args(args).output().unwrap()
}

fn write_manifest(dir: &Path, tests: &str) -> String {
    let path = dir.join("manifest.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"version":1,"ktap_prefix":"dead-threads-ktap: ","watchdog_secs":300,"tests":[{tests}]}}"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn runs_a_manifest_and_writes_prefixed_ktap_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(
        std::env::current_exe().unwrap(),
        dir.path().join("bin/self"),
    )
    .unwrap();
    let manifest = write_manifest(
        dir.path(),
        r#"{"name":"self","path":"bin/self","timeout_secs":60,"args":["fixture_ok","--exact"]}"#,
    );
    let out = run(&["--manifest", &manifest, "--sink", "stdout"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().all(|l| l.starts_with("dead-threads-ktap: ")),
        "{stdout}"
    );
    assert_eq!(lines[0], "dead-threads-ktap: KTAP version 1");
    assert_eq!(lines[1], "dead-threads-ktap: 1..1");
    assert!(lines.contains(&"dead-threads-ktap:   ok 1 fixture_ok"));
    assert!(lines.contains(&"dead-threads-ktap: ok 1 self"));
    assert_eq!(
        lines.last().unwrap(),
        &"dead-threads-ktap: # dead-threads guest runner: done"
    );
}

#[test]
fn a_failing_binary_gives_exit_status_1() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(
        dir.path(),
        r#"{"name":"gone","path":"bin/gone","timeout_secs":5}"#,
    );
    let out = run(&["--manifest", &manifest]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("dead-threads-ktap: not ok 1 gone"));
}

#[test]
fn an_unreadable_manifest_still_gives_a_plan_and_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.json");
    std::fs::write(&manifest, "{\"version\": 7").unwrap();
    let out = run(&["--manifest", manifest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("dead-threads-ktap: 1..1"), "{stdout}");
    assert!(
        stdout.contains("dead-threads-ktap: not ok 1 manifest"),
        "{stdout}"
    );
}

#[test]
#[cfg_attr(target_os = "haiku", ignore = "checks the refusal on other systems")]
fn haiku_only_options_are_refused_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), "");
    let out = run(&["--manifest", &manifest, "--poweroff"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs Haiku"));
    assert!(out.stdout.is_empty());
    let out = run(&["--manifest", &manifest, "--sink", "serial"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs Haiku"));
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
