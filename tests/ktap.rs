//! KTAP parser tests on hand-written transcripts (tests/transcripts; none is a
//! real Haiku log).

#[path = "transcripts/replay.rs"]
mod replay;

use dead_threads::ktap::{
    self, Event, LineSplitter, Outcome, Parser, Report, SerialDemux, SerialItem,
};

fn parse_plain(name: &str) -> Report {
    ktap::parse_text(replay::text(name).as_bytes(), false)
}

fn parse_serial(name: &str) -> Report {
    ktap::parse_text(&replay::serial_bytes(name), true)
}

/// Feeds serial bytes in chunks of `chunk` bytes through the same path as the
/// QEMU runner and returns the report and events (with the serial line count at
/// which each event happened).
fn parse_serial_chunked(bytes: &[u8], chunk: usize) -> (Report, Vec<(usize, Event)>) {
    let mut demux = SerialDemux::new();
    let mut parser = Parser::new();
    let mut events = Vec::new();
    let mut line_no = 0;
    let mut feed = |i: SerialItem<'_>| match i {
        SerialItem::Console(_) => line_no += 1,
        SerialItem::Ktap(k) => {
            line_no += 1;
            events.extend(parser.feed_line(k).into_iter().map(|e| (line_no, e)));
        }
    };
    for piece in bytes.chunks(chunk) {
        demux.push(piece, &mut feed);
    }
    demux.finish(&mut feed);
    (parser.finish(), events)
}

#[test]
fn nested_subtests_skip_todo_diagnostics() {
    let r = parse_plain("ktap-nested.txt");
    insta::assert_yaml_snapshot!(r);
    let c = r.counts();
    assert_eq!(
        (
            c.passed,
            c.failed,
            c.skipped,
            c.todo,
            c.incomplete,
            c.missing
        ),
        (4, 1, 1, 1, 0, 0)
    );
    assert!(r.complete());
    assert!(!r.all_passed());
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let threads = &r.root.tests[0];
    assert_eq!(
        threads.subtests.as_ref().unwrap().name.as_deref(),
        Some("threads")
    );
    let todo = &threads.subtests.as_ref().unwrap().tests[2];
    assert_eq!(
        (todo.outcome, todo.diagnostics.clone()),
        (Outcome::Todo, vec!["about to fail".to_string()])
    );
    let broken = &r.root.tests[2].subtests.as_ref().unwrap().tests[1];
    assert_eq!(
        broken.diagnostics,
        vec!["failure detail line 1", "failure detail line 2"]
    );
    assert_eq!(
        r.root.diagnostics,
        vec!["a diagnostic before the plan", "trailing diagnostic"]
    );
}

#[test]
fn tap_style_indentation_dashes_and_directives() {
    let r = parse_plain("ktap-tap-style.txt");
    insta::assert_yaml_snapshot!(r);
    let c = r.counts();
    assert_eq!((c.passed, c.failed, c.skipped, c.todo), (1, 1, 2, 1));
    assert!(r.complete());
}

#[test]
fn numbering_problems_are_reported() {
    let r = parse_plain("ktap-numbering.txt");
    insta::assert_yaml_snapshot!(r);
    assert_eq!(r.root.plan, Some(4));
    assert_eq!(r.root.missing, vec![4]);
    assert_eq!(r.root.extra, vec![5]);
    let msgs: Vec<&str> = r.errors.iter().map(|p| p.message.as_str()).collect();
    assert!(
        msgs.iter().any(|m| m.contains("reported twice")),
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|m| m.contains("out of order")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("second plan")), "{msgs:?}");
    assert!(!r.complete());
}

#[test]
fn truncated_output_closes_open_subtests_as_incomplete() {
    let r = parse_plain("ktap-truncated.txt");
    insta::assert_yaml_snapshot!(r);
    let c = r.counts();
    assert_eq!(
        c.incomplete, 0,
        "incomplete parents are counted through their leaves"
    );
    // Planned but never seen: deep #2, second #3 and #4, top #3.
    assert_eq!(c.missing, 4);
    assert_eq!(r.root.tests[1].outcome, Outcome::Incomplete);
    assert_eq!(r.root.tests[1].name, "second");
    assert!(!r.complete());
}

#[test]
fn missing_version_line_is_an_error_but_results_count() {
    let r = parse_plain("ktap-no-version.txt");
    assert_eq!(r.counts().passed, 2);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(r.errors[0].message.contains("version line"));
    assert_eq!(r.warnings.len(), 1);
    assert!(!r.all_passed());
}

#[test]
fn parent_ok_with_failing_subtest_and_stray_lists() {
    let r = parse_plain("ktap-inconsistent.txt");
    insta::assert_yaml_snapshot!(r);
    assert_eq!(r.root.tests[0].outcome, Outcome::Fail);
    assert!(r
        .errors
        .iter()
        .any(|p| p.message.contains("reported ok although")));
    assert!(r
        .errors
        .iter()
        .any(|p| p.message.contains("without a result line")));
    assert!(r
        .errors
        .iter()
        .any(|p| p.message.contains("unexpected `KTAP version 1`")));
    assert!(!r.all_passed());
}

#[test]
fn bail_out_stops_parsing() {
    let r = parse_plain("ktap-bail-out.txt");
    insta::assert_yaml_snapshot!(r);
    assert_eq!(r.bail_out.as_deref(), Some("out of memory"));
    assert_eq!(
        r.root.tests.len(),
        2,
        "the open subtest becomes incomplete, line after bail-out ignored"
    );
    assert_eq!(r.root.missing, vec![3]);
    assert!(!r.complete());
}

#[test]
fn serial_pass_with_noise() {
    let r = parse_serial("serial-pass.txt");
    insta::assert_yaml_snapshot!(r);
    assert!(r.all_passed(), "{r:#?}");
    assert_eq!(r.counts().passed, 5);
}

#[test]
fn serial_failures() {
    let r = parse_serial("serial-failures.txt");
    insta::assert_yaml_snapshot!(r);
    let c = r.counts();
    assert_eq!((c.passed, c.failed, c.skipped, c.todo), (1, 2, 1, 1));
    assert!(r.complete() && !r.all_passed());
}

#[test]
fn serial_garbage_bytes() {
    let r = parse_serial("serial-garbage.txt");
    insta::assert_yaml_snapshot!(r);
    assert!(r.all_passed(), "{r:#?}");
    assert_eq!(r.root.tests[0].name, "name_with_bad_utf8_\u{fffd}(_kept");
    assert_eq!(
        r.root.tests[2].reason.as_deref(),
        Some("unknown comment after the name")
    );
    assert_eq!(r.root.tests.len(), 3, "an unprefixed `ok 4` is noise");
}

#[test]
fn serial_truncated_mid_line() {
    let r = parse_serial("serial-truncated.txt");
    insta::assert_yaml_snapshot!(r);
    assert!(!r.complete());
    // The cut line is still a (partial) result line; test 3 and top-level 2 are missing.
    assert_eq!(r.counts().missing, 2);
}

#[test]
fn serial_without_ktap() {
    let r = parse_serial("serial-no-ktap.txt");
    assert!(!r.started());
    assert!(!r.complete());
    assert_eq!(r.lines, 0);
}

#[test]
fn incremental_feeding_gives_the_same_report_and_live_events() {
    for name in [
        "serial-pass.txt",
        "serial-failures.txt",
        "serial-garbage.txt",
        "serial-truncated.txt",
        "serial-panic.txt",
        "serial-repeats.txt",
    ] {
        let bytes = replay::serial_bytes(name);
        let whole = ktap::parse_text(&bytes, true);
        for chunk in [1, 3, 64, bytes.len().max(1)] {
            let (r, _) = parse_serial_chunked(&bytes, chunk);
            assert_eq!(r, whole, "{name} in chunks of {chunk}");
        }
    }
    // Results are reported as their line arrives, and the plan completes at the
    // last top-level result line, not at the end of input.
    let bytes = replay::serial_bytes("serial-pass.txt");
    let (_, events) = parse_serial_chunked(&bytes, 7);
    let results: Vec<usize> = events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Result { .. }))
        .map(|(l, _)| *l)
        .collect();
    assert_eq!(results.len(), 7);
    assert!(results.windows(2).all(|w| w[0] < w[1]), "{results:?}");
    let complete: Vec<usize> = events
        .iter()
        .filter(|(_, e)| matches!(e, Event::PlanComplete))
        .map(|(l, _)| *l)
        .collect();
    let mut items = 0;
    let mut demux = SerialDemux::new();
    demux.push(&bytes, |_| items += 1);
    demux.finish(|_| items += 1);
    assert_eq!(
        complete,
        vec![items - 1],
        "plan completes at the last result, before the last (noise) line"
    );
}

#[test]
fn render_round_trips() {
    for name in [
        "ktap-nested.txt",
        "ktap-tap-style.txt",
        "ktap-bail-out.txt",
        "ktap-truncated.txt",
    ] {
        let r = parse_plain(name);
        let text = ktap::render(&r);
        let again = ktap::parse_text(text.as_bytes(), false);
        assert_eq!(again.counts(), r.counts(), "{name}:\n{text}");
        assert_eq!(ktap::render(&again), text, "{name}");
    }
    insta::assert_snapshot!(ktap::render(&parse_plain("ktap-nested.txt")));
}

#[test]
fn long_line_without_newline_is_cut() {
    let mut s = LineSplitter::new();
    let mut n = 0;
    s.push(&vec![b'x'; 200_000], |_| n += 1);
    assert_eq!(n, 3);
    assert!(s.pending().len() < 64 * 1024);
}

#[test]
fn haiku_repeat_suppression_is_undone() {
    let r = parse_serial("serial-repeats.txt");
    assert!(r.all_passed(), "{r:#?}");
    assert_eq!(
        r.root.tests[0].diagnostics,
        vec!["waiting for threads to exit"; 3]
    );
    // The summary after a noise line repeats the noise, not KTAP.
    assert_eq!(r.root.tests[1].diagnostics, vec!["once more"; 2]);
    assert_eq!(
        ktap::repeat_count("Last message repeated 12 times."),
        Some(12)
    );
    assert_eq!(
        ktap::repeat_count("Last message repeated many times."),
        None
    );
}
