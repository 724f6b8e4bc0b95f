//! A streaming parser for libtest's human ("pretty") output.
//!
//! The guest runner starts every test binary with
//! `--test-threads=1 --format=pretty --color=never`, so each test is reported
//! on one line (`test NAME ... ok`) as soon as it has finished, and the
//! captured output of failed tests follows in `---- NAME stdout ----`
//! sections. The parser turns those lines into [`Event`]s one line at a time,
//! so results can be streamed to the serial port while the binary runs. It is
//! pure: no I/O, no clock.

/// The result libtest printed for one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `ok`
    Passed,
    /// `FAILED`
    Failed,
    /// `ignored` or `ignored, REASON`
    Ignored(Option<String>),
}

/// Something the parser recognised in libtest's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `running N tests`: the binary's plan.
    Running {
        /// Number of tests libtest is about to run.
        count: usize,
    },
    /// One finished test.
    Case {
        /// The test's path, without libtest's ` - should panic` decoration.
        name: String,
        /// What libtest reported.
        outcome: Outcome,
    },
    /// The captured output of one failed test (`---- NAME stdout ----`).
    FailureOutput {
        /// The test's name.
        name: String,
        /// Its captured lines, trailing blank lines removed.
        lines: Vec<String>,
    },
    /// `test result: ok. 2 passed; 1 failed; ...`
    Summary {
        /// Whether libtest said `ok` (as opposed to `FAILED`).
        ok: bool,
        /// The rest of the line after `ok.`/`FAILED.`, e.g. `2 passed; ...`.
        detail: String,
    },
}

#[derive(Debug, Default, PartialEq, Eq)]
enum Section {
    #[default]
    Tests,
    /// Inside the first `failures:` block, optionally inside one test's output.
    Failures(Option<(String, Vec<String>)>),
    /// The closing `failures:` list of names, until `test result:`.
    FailureList,
}

/// Streaming parser; see the module documentation.
#[derive(Debug, Default)]
pub struct LibtestParser {
    section: Section,
    /// A `test NAME ... ` line whose result has not been printed yet (the
    /// binary is running that test, or died while running it).
    pending: Option<String>,
}

const SHOULD_PANIC: &str = " - should panic";

fn clean_name(name: &str) -> String {
    name.strip_suffix(SHOULD_PANIC).unwrap_or(name).to_string()
}

fn parse_outcome(word: &str) -> Option<Outcome> {
    let word = word.trim_end();
    match word {
        "ok" => Some(Outcome::Passed),
        "FAILED" => Some(Outcome::Failed),
        "ignored" => Some(Outcome::Ignored(None)),
        _ => word
            .strip_prefix("ignored, ")
            .map(|reason| Outcome::Ignored(Some(reason.to_string()))),
    }
}

impl LibtestParser {
    /// A parser at the start of a binary's output.
    pub fn new() -> Self {
        Self::default()
    }

    /// The test that has started but not finished, if any. When the binary
    /// dies or is killed, this is the test that was running.
    pub fn pending(&self) -> Option<&str> {
        self.pending.as_deref()
    }

    /// Feeds one line (without its line terminator).
    pub fn feed(&mut self, line: &str) -> Vec<Event> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut events = Vec::new();
        if let Some(rest) = line.strip_prefix("test result: ") {
            self.flush_failure(&mut events);
            self.section = Section::Tests;
            let (ok, detail) = match rest.split_once(". ") {
                Some((verdict, detail)) => (verdict == "ok", detail.to_string()),
                None => (rest.starts_with("ok"), rest.to_string()),
            };
            events.push(Event::Summary { ok, detail });
            return events;
        }
        match &mut self.section {
            Section::Tests => self.feed_tests(line, &mut events),
            Section::Failures(_) => {
                if line == "failures:" {
                    self.flush_failure(&mut events);
                    self.section = Section::FailureList;
                } else if let Some(name) = line
                    .strip_prefix("---- ")
                    .and_then(|l| l.strip_suffix(" stdout ----"))
                {
                    self.flush_failure(&mut events);
                    self.section = Section::Failures(Some((clean_name(name), Vec::new())));
                } else if let Section::Failures(Some((_, lines))) = &mut self.section {
                    lines.push(line.to_string());
                }
            }
            Section::FailureList => {}
        }
        events
    }

    fn feed_tests(&mut self, line: &str, events: &mut Vec<Event>) {
        if let Some(count) = line
            .strip_prefix("running ")
            .and_then(|l| l.strip_suffix(" tests").or_else(|| l.strip_suffix(" test")))
            .and_then(|n| n.parse().ok())
        {
            events.push(Event::Running { count });
        } else if line == "failures:" {
            self.section = Section::Failures(None);
        } else if let Some(rest) = line.strip_prefix("test ") {
            if let Some((name, result)) = rest.rsplit_once(" ... ") {
                match parse_outcome(result) {
                    Some(outcome) => {
                        self.pending = None;
                        events.push(Event::Case {
                            name: clean_name(name),
                            outcome,
                        });
                    }
                    // The test is running (its result is printed later on
                    // the same line) or it wrote to stdout past the capture.
                    None => self.pending = Some(clean_name(name)),
                }
            } else if let Some(name) = rest.strip_suffix(" ...") {
                self.pending = Some(clean_name(name));
            }
        } else if let (Some(name), Some(outcome)) = (self.pending.clone(), parse_outcome(line)) {
            // The result arrived on a line of its own after stray output.
            self.pending = None;
            events.push(Event::Case { name, outcome });
        }
    }

    fn flush_failure(&mut self, events: &mut Vec<Event>) {
        if let Section::Failures(current) = &mut self.section {
            if let Some((name, mut lines)) = current.take() {
                while lines.last().is_some_and(|l| l.trim().is_empty()) {
                    lines.pop();
                }
                events.push(Event::FailureOutput { name, lines });
            }
        }
    }

    /// Call at end of output: flushes an unterminated failure section.
    pub fn finish(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        self.flush_failure(&mut events);
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Event>, Option<String>) {
        let mut p = LibtestParser::new();
        let mut events: Vec<Event> = text.lines().flat_map(|l| p.feed(l)).collect();
        events.extend(p.finish());
        (events, p.pending().map(str::to_string))
    }

    #[test]
    fn real_failing_run() {
        let (events, pending) = parse(include_str!("../tests/libtest/sample-failing.txt"));
        assert_eq!(pending, None);
        assert_eq!(events[0], Event::Running { count: 5 });
        let cases: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Case { name, outcome } => Some((name.as_str(), outcome.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            cases,
            vec![
                ("bad_thread_id_panics", Outcome::Passed),
                (
                    "device_dead_list",
                    Outcome::Ignored(Some("needs Haiku".into()))
                ),
                ("joins_every_thread", Outcome::Passed),
                ("keeps_33_entries", Outcome::Failed),
                ("slow_scenario", Outcome::Ignored(None)),
            ]
        );
        let failure = events
            .iter()
            .find_map(|e| match e {
                Event::FailureOutput { name, lines } => Some((name, lines)),
                _ => None,
            })
            .expect("failure output");
        assert_eq!(failure.0, "keeps_33_entries");
        assert_eq!(failure.1[0], "spawned 33 threads");
        assert!(failure.1.iter().any(|l| l == "  left: 32"));
        assert_eq!(failure.1.last().unwrap(), " right: 33");
        assert!(
            matches!(events.last(), Some(Event::Summary { ok: false, detail }) if detail.starts_with("2 passed; 1 failed"))
        );
    }

    #[test]
    fn real_passing_run() {
        let (events, _) = parse(include_str!("../tests/libtest/sample-passing.txt"));
        assert_eq!(events.len(), 6);
        assert!(matches!(
            events.last(),
            Some(Event::Summary { ok: true, .. })
        ));
    }

    #[test]
    fn crash_mid_test_leaves_it_pending() {
        let (events, pending) = parse("\nrunning 2 tests\ntest a ... ok\ntest b ... ");
        assert_eq!(events.len(), 2);
        assert_eq!(pending.as_deref(), Some("b"));
    }

    #[test]
    fn stray_output_between_name_and_result() {
        let (events, pending) = parse("running 1 test\ntest a ... hello from a\nok\n");
        assert_eq!(pending, None);
        assert_eq!(
            events[1],
            Event::Case {
                name: "a".into(),
                outcome: Outcome::Passed
            }
        );
    }
}
