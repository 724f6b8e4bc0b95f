//! The guest runner end to end on Linux: it runs real libtest binaries (this
//! test binary itself, filtered to the fixture tests below), converts their
//! output into KTAP, and the host's KTAP parser (`dead_threads::ktap`) reads
//! that document back with the verdicts we expect and no structural errors.
//! The sink is in memory here; on Linux the runner's binary writes to stdout.

use dead_threads::ktap::{self, Outcome};
use guest_runner::manifest::{Manifest, TestBinary, MANIFEST_VERSION};
use guest_runner::run::run_all;
use guest_runner::sink::VecSink;
use std::time::Duration;

#[test]
fn fixture_pass() {}

#[test]
fn fixture_fail() {
    if std::env::var_os("DT_FIXTURE_FAIL").is_some() {
        assert_eq!(32, 33, "dead_entries after 33 exits");
    }
}

#[test]
#[ignore = "needs Haiku"]
fn fixture_skip() {}

#[test]
fn hang_fixture() {
    if std::env::var_os("DT_FIXTURE_HANG").is_some() {
        std::thread::sleep(Duration::from_secs(60));
    }
}

fn binary(name: &str, args: &[&str], timeout_secs: u64) -> TestBinary {
    TestBinary {
        name: name.into(),
        path: "bin/self".into(),
        timeout_secs,
        args: args.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn guest_runner_output_parses_with_the_host_parser() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(
        std::env::current_exe().unwrap(),
        dir.path().join("bin/self"),
    )
    .unwrap();
    let mut missing = binary("missing", &[], 5);
    missing.path = "bin/does-not-exist".into();
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        ktap_prefix: ktap::SERIAL_PREFIX.into(),
        watchdog_secs: 600,
        tests: vec![
            binary("fixtures", &["fixture_"], 60),
            binary("passing", &["fixture_pass", "--exact"], 60),
            missing,
            // Long enough for the binary to start and announce its test even on a
            // loaded machine; the fixture itself sleeps 60 s.
            binary("hang", &["hang_fixture", "--exact"], 8),
        ],
    };
    manifest.validate().unwrap();
    let env = vec![
        ("DT_FIXTURE_FAIL".to_string(), "1".to_string()),
        ("DT_FIXTURE_HANG".to_string(), "1".to_string()),
    ];
    let mut sink = VecSink::default();
    let started = std::time::Instant::now();
    let totals = run_all(&manifest, dir.path(), &env, &mut sink);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the 2 s timeout was not enforced"
    );
    assert_eq!((totals.passed, totals.failed), (1, 3));

    // What goes over the serial port: prefixed lines, mixed with kernel noise.
    let mut serial = String::from("KERN: boot noise\n");
    for l in &sink.lines {
        serial.push_str(&format!("{}{l}\n", ktap::SERIAL_PREFIX));
        assert!(l.len() + ktap::SERIAL_PREFIX.len() < ktap::MAX_LINE_BYTES);
    }
    if std::env::var_os("DT_SHOW_KTAP").is_some() {
        eprintln!("{serial}");
    }
    let report = ktap::parse_text(serial.as_bytes(), true);
    assert!(
        report.errors.is_empty(),
        "{:#?}\n{}",
        report.errors,
        sink.lines.join("\n")
    );
    assert!(report.root.plan_complete());
    let tests = &report.root.tests;
    assert_eq!(tests.len(), 4);
    assert_eq!(
        tests
            .iter()
            .map(|t| (t.name.as_str(), t.ok))
            .collect::<Vec<_>>(),
        vec![
            ("fixtures", false),
            ("passing", true),
            ("missing", false),
            ("hang", false)
        ]
    );
    let subs = tests[0].subtests.as_ref().expect("fixtures has subtests");
    assert_eq!(subs.name.as_deref(), Some("fixtures"));
    let cases: Vec<(&str, Outcome)> = subs
        .tests
        .iter()
        .map(|t| (t.name.as_str(), t.outcome))
        .collect();
    assert_eq!(
        cases,
        vec![
            ("fixture_fail", Outcome::Fail),
            ("fixture_pass", Outcome::Pass),
            ("fixture_skip", Outcome::Skip),
        ]
    );
    // The assertion message travels with the failed case.
    let all = sink.lines.join("\n");
    assert!(all.contains("fixture_fail:   left: 32"), "{all}");
    assert!(all.contains("missing: could not be started"), "{all}");
    let hang = tests[3].subtests.as_ref().expect("hang has subtests");
    assert_eq!(hang.tests.len(), 1, "{all}");
    assert_eq!(hang.tests[0].name, "hang_fixture");
    assert_eq!(hang.tests[0].outcome, Outcome::Fail);
    assert!(all.contains("timed out after 8 s"), "{all}");
}

#[test]
fn guest_runner_prefix_is_the_host_parsers() {
    assert_eq!(guest_runner::DEFAULT_KTAP_PREFIX, ktap::SERIAL_PREFIX);
    assert_eq!(dead_threads::jam::KTAP_PREFIX, ktap::SERIAL_PREFIX);
    assert_eq!(guest_runner::ktap::MAX_LINE_BYTES, ktap::MAX_LINE_BYTES);
}
