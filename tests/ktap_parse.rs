//! The KTAP reader against transcripts written to the KTAP v1 specification
//! (tests/transcripts/ktap-spec-*.txt; not our runner's output), and
//! `dead-threads ktap parse` as a user runs it on them and on serial logs.

#[path = "transcripts/replay.rs"]
mod replay;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use dead_threads::ktap::{self, judge, read_log, LogForm, LogVerdict, Outcome};

/// `dead-threads ktap parse -` with `input` on stdin.
fn parse_cli(input: &[u8], extra: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .args(["ktap", "parse", "-"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dead-threads");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn judged(name: &str) -> ktap::Judgement {
    judge(read_log(replay::text(name).as_bytes()))
}

#[test]
fn nested_suites_with_skip_todo_and_diagnostics() {
    let j = judged("ktap-spec-nested.txt");
    assert_eq!(j.verdict, LogVerdict::Failed, "{}", j.message);
    assert_eq!(
        (
            j.counts.passed,
            j.counts.failed,
            j.counts.skipped,
            j.counts.todo
        ),
        (3, 1, 1, 1)
    );
    assert!(j.report.errors.is_empty(), "{:?}", j.report.errors);
    let one = &j.report.root.tests[0];
    assert_eq!(one.name, "suite_one");
    let cases = one.subtests.as_ref().unwrap();
    assert_eq!(cases.name.as_deref(), Some("suite_one"));
    let param = &cases.tests[0];
    let leaves = param.subtests.as_ref().unwrap();
    assert_eq!(leaves.tests[1].outcome, Outcome::Fail);
    // a diagnostic belongs to the result line that follows it
    assert_eq!(
        leaves.tests[1].diagnostics,
        ["param_case.large: expected 3, got 4"]
    );
    assert_eq!(cases.tests[1].outcome, Outcome::Skip);
    assert_eq!(cases.tests[1].reason.as_deref(), Some("feature off"));
    assert_eq!(cases.tests[2].outcome, Outcome::Todo);
    assert_eq!(
        ktap::failed_tests(&j.report),
        ["suite_one / param_case / param_case.large"]
    );
}

/// Console noise, a stack trace and odd indentation inside a nested list:
/// ignored, never closing the list (no INCOMPLETE, no "reported twice").
#[test]
fn non_ktap_lines_inside_a_nested_list_are_ignored() {
    let j = judged("ktap-spec-noise.txt");
    assert_eq!(
        j.verdict,
        LogVerdict::Passed,
        "{} {:?}",
        j.message,
        j.errors
    );
    assert!(j.errors.is_empty(), "{:?}", j.errors);
    assert_eq!(
        (j.counts.passed, j.counts.failed, j.counts.incomplete),
        (4, 0, 0)
    );
    let noisy = j.report.root.tests[0].subtests.as_ref().unwrap();
    assert_eq!(noisy.tests.len(), 3);
    assert_eq!(j.report.warnings.len(), 5, "{:?}", j.report.warnings);
}

/// A plan after the results is a plan; `not ok ... # TODO` is no failure.
#[test]
fn late_plan_and_todo_failures() {
    let j = judged("ktap-spec-late-plan.txt");
    assert_eq!(
        j.verdict,
        LogVerdict::Passed,
        "{} {:?}",
        j.message,
        j.errors
    );
    assert_eq!(
        (
            j.counts.passed,
            j.counts.failed,
            j.counts.skipped,
            j.counts.todo
        ),
        (1, 0, 1, 1)
    );
}

/// Without a plan nobody can tell the output is complete.
#[test]
fn missing_plan_is_incomplete() {
    let j = judged("ktap-spec-no-plan.txt");
    assert_eq!(j.verdict, LogVerdict::Incomplete, "{}", j.message);
    assert!(
        j.errors
            .iter()
            .any(|e| e.contains("plan (`1..N`) never appeared")),
        "{:?}",
        j.errors
    );
}

#[test]
fn an_empty_plan_is_no_tests_with_a_failing_exit() {
    let j = judged("ktap-spec-empty-plan.txt");
    assert_eq!(j.verdict, LogVerdict::NoTests, "{}", j.message);
    assert_ne!(j.verdict.exit_code(), 0);
    let out = parse_cli(
        replay::text("ktap-spec-empty-plan.txt").as_bytes(),
        &["--json"],
    );
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(json(&out)["verdict"], "no-tests");
}

/// kunit_tool's rule: what stands before `KTAP version` on its line is cut,
/// by width, from every following line; the boot lines before it are not
/// KTAP.
#[test]
fn a_timestamp_prefix_is_stripped_as_kunit_tool_does() {
    let j = judged("ktap-spec-kernel-log.txt");
    assert_eq!(j.input, LogForm::Ktap);
    assert_eq!(
        j.verdict,
        LogVerdict::Passed,
        "{} {:?}",
        j.message,
        j.errors
    );
    assert_eq!((j.counts.passed, j.counts.skipped), (1, 1));
    assert!(j.report.warnings.is_empty(), "{:?}", j.report.warnings);
    let example = j.report.root.tests[0].subtests.as_ref().unwrap();
    assert_eq!(example.name.as_deref(), Some("example"));
}

#[test]
fn json_has_the_verdict_the_leaf_counts_and_the_errors() {
    let out = parse_cli(replay::text("ktap-spec-nested.txt").as_bytes(), &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["verdict"], "failed");
    assert_eq!(
        (&v["passed"], &v["failed"], &v["skipped"]),
        (&3.into(), &1.into(), &1.into())
    );
    assert!(v["errors"].as_array().is_some_and(|e| e.is_empty()));
    assert_eq!(v["input"], "ktap");
}

/// A serial log: only the prefixed lines are KTAP, and its exit status is
/// the one `dead-threads qemu` gives the same outcome.
#[test]
fn serial_logs_are_judged_like_qemu_judges_them() {
    for (name, code, verdict) in [
        ("serial-pass.txt", 0, "passed"),
        ("serial-failures.txt", 1, "failed"),
        ("serial-panic.txt", 3, "crashed"),
        ("serial-truncated.txt", 5, "incomplete"),
        ("serial-no-ktap.txt", 5, "incomplete"),
        ("serial-bail-out.txt", 5, "incomplete"),
        ("serial-no-tests.txt", 7, "no-tests"),
    ] {
        let out = parse_cli(&replay::serial_bytes(name), &["--json"]);
        assert_eq!(out.status.code(), Some(code), "{name}");
        let v = json(&out);
        assert_eq!(v["verdict"], verdict, "{name}");
        if verdict == "crashed" {
            assert!(
                v["errors"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|e| e.as_str().unwrap().contains("panicked"))),
                "{name}: {v}"
            );
        }
        if name != "serial-no-ktap.txt" {
            assert_eq!(v["input"], "serial", "{name}");
        }
    }
}

#[test]
fn human_output_and_read_errors() {
    let out = parse_cli(replay::text("ktap-spec-nested.txt").as_bytes(), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("FAILED: tests failed"), "{text}");
    assert!(
        text.contains("suite_one / param_case / param_case.large"),
        "{text}"
    );
    let out = parse_cli(b"", &[]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no KTAP output"));
    let out = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .args(["ktap", "parse", "/nonexistent/serial.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

/// In plain KTAP a diagnostic that quotes "PANIC: " is no panic; a console
/// line with Haiku's panic signature among the KTAP lines is.
#[test]
fn a_panic_in_plain_output_is_a_crash_but_a_quoted_one_is_not() {
    let quoted = "KTAP version 1\n1..1\n# checks that PANIC: is never printed\nok 1 quiet\n";
    let j = judge(read_log(quoted.as_bytes()));
    assert_eq!(
        j.verdict,
        LogVerdict::Passed,
        "{} {:?}",
        j.message,
        j.errors
    );
    let crashed = "KTAP version 1\n1..2\nok 1 first\nPANIC: double fault\n\
                   Welcome to Kernel Debugging Land...\nkdebug> ";
    let j = judge(read_log(crashed.as_bytes()));
    assert_eq!(j.verdict, LogVerdict::Crashed, "{}", j.message);
    assert!(j.message.contains("double fault"), "{}", j.message);
    assert_eq!(j.verdict.exit_code(), 3);
}
