//! The incremental, indentation-driven KTAP parser.

use super::model::{Counts, Directive, Event, Outcome, Problem, Report, Suite, TestCase};

/// Largest plan accepted: a bigger `1..N` (garbage, most likely) is reported and
/// ignored, so that listing missing tests stays cheap.
pub const MAX_PLAN: u32 = 1_000_000;

#[derive(Debug)]
enum Line<'a> {
    Version(&'a str),
    Plan(u32, Option<&'a str>),
    Result(ResultLine<'a>),
    Subtest(&'a str),
    Diagnostic(&'a str),
    BailOut(&'a str),
    Unknown,
}

#[derive(Debug)]
struct ResultLine<'a> {
    ok: bool,
    number: Option<u32>,
    name: &'a str,
    directive: Option<Directive>,
    reason: Option<&'a str>,
}

fn classify(s: &str) -> Line<'_> {
    if let Some(rest) = s
        .strip_prefix("KTAP version ")
        .or_else(|| s.strip_prefix("TAP version "))
    {
        if !rest.trim().is_empty() && rest.trim().chars().all(|c| c.is_ascii_digit()) {
            return Line::Version(s);
        }
    }
    if let Some(rest) = s.strip_prefix("1..") {
        let (num, comment) = match rest.find('#') {
            Some(i) => (rest[..i].trim(), Some(rest[i + 1..].trim())),
            None => (rest.trim(), None),
        };
        if let Ok(n) = num.parse::<u32>() {
            return Line::Plan(n, comment);
        }
    }
    if let Some(rest) = s.strip_prefix("Bail out!") {
        return Line::BailOut(rest.trim());
    }
    if let Some(rest) = s.strip_prefix('#') {
        let text = rest.trim();
        if let Some(name) = text.strip_prefix("Subtest:") {
            return Line::Subtest(name.trim());
        }
        return Line::Diagnostic(text);
    }
    let (ok, rest) = if let Some(r) = s.strip_prefix("not ok") {
        (false, r)
    } else if let Some(r) = s.strip_prefix("ok") {
        (true, r)
    } else {
        return Line::Unknown;
    };
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return Line::Unknown;
    }
    let rest = rest.trim_start();
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let number = rest[..digits].parse::<u32>().ok();
    let mut rest = rest[digits..].trim_start();
    if let Some(r) = rest.strip_prefix("- ") {
        rest = r;
    } else if rest == "-" {
        rest = "";
    }
    let (name, comment) = match rest.find('#') {
        Some(i) if i == 0 || rest[..i].ends_with([' ', '\t']) => {
            (rest[..i].trim(), Some(rest[i + 1..].trim()))
        }
        _ => (rest.trim(), None),
    };
    let (directive, reason) = match comment {
        Some(c) => {
            let word_end = c.find(char::is_whitespace).unwrap_or(c.len());
            match Directive::parse(&c[..word_end]) {
                Some(d) => {
                    let r = c[word_end..].trim();
                    (Some(d), (!r.is_empty()).then_some(r))
                }
                None => (None, (!c.is_empty()).then_some(c)),
            }
        }
        None => (None, None),
    };
    Line::Result(ResultLine {
        ok,
        number,
        name,
        directive,
        reason,
    })
}

/// Whether `line` (prefix removed, indentation allowed) is a KTAP line: a
/// version, plan, result, `# Subtest:` header, diagnostic or `Bail out!`.
pub fn is_ktap_line(line: &str) -> bool {
    let content = line.trim();
    !content.is_empty() && !matches!(classify(content), Line::Unknown)
}

fn outcome(ok: bool, directive: Option<Directive>) -> Outcome {
    match directive {
        Some(Directive::Skip) => Outcome::Skip,
        Some(Directive::Todo) | Some(Directive::Xfail) => Outcome::Todo,
        Some(Directive::Timeout) | Some(Directive::Error) => Outcome::Fail,
        None if ok => Outcome::Pass,
        None => Outcome::Fail,
    }
}

#[derive(Debug)]
struct Frame {
    indent: usize,
    suite: Suite,
    pending_diags: Vec<String>,
    /// A closed subtest list waiting for this frame's next result line.
    pending_child: Option<Suite>,
    version_seen: bool,
}

impl Frame {
    fn new(indent: usize) -> Self {
        Frame {
            indent,
            suite: Suite::default(),
            pending_diags: Vec::new(),
            pending_child: None,
            version_seen: false,
        }
    }

    fn is_fresh(&self) -> bool {
        self.suite.plan.is_none() && self.suite.tests.is_empty() && self.pending_child.is_none()
    }
}

/// Incremental KTAP parser: feed lines as they arrive, then [`Parser::finish`].
#[derive(Debug, Default)]
pub struct Parser {
    stack: Vec<Frame>,
    report: Report,
    preamble: Vec<String>,
    bailed: bool,
    completed: bool,
}

impl Parser {
    /// A parser that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the top-level plan has been fully reported (all lists closed).
    pub fn plan_complete(&self) -> bool {
        self.completed
    }

    /// Whether the producer bailed out.
    pub fn bailed_out(&self) -> bool {
        self.bailed
    }

    /// Whether any KTAP line has been seen.
    pub fn started(&self) -> bool {
        !self.stack.is_empty()
    }

    /// Parses one KTAP line (prefix already removed, no newline) and returns what
    /// it meant.
    pub fn feed_line(&mut self, raw: &str) -> Vec<Event> {
        self.report.lines += 1;
        let lineno = self.report.lines;
        let mut events = Vec::new();
        let trimmed = raw.trim_end();
        let content = trimmed.trim_start();
        if content.is_empty() {
            return events;
        }
        let indent = trimmed.len() - content.len();
        let kind = classify(content);
        if self.bailed {
            self.warn(lineno, "line after `Bail out!` ignored");
            return events;
        }
        if let Line::BailOut(reason) = kind {
            self.bailed = true;
            self.report.bail_out = Some(reason.to_string());
            events.push(Event::BailOut {
                reason: reason.to_string(),
            });
            return events;
        }
        let structural = matches!(
            kind,
            Line::Version(_) | Line::Plan(..) | Line::Result(_) | Line::Subtest(_)
        );
        if self.stack.is_empty() {
            if !structural {
                // Text before the document starts.
                match kind {
                    Line::Diagnostic(t) => self.preamble.push(t.to_string()),
                    _ => self.warn(
                        lineno,
                        format!("unrecognised line before `KTAP version`: {content:?}"),
                    ),
                }
                return events;
            }
            self.stack.push(Frame::new(indent));
            if !matches!(kind, Line::Version(_)) {
                self.error(
                    &mut events,
                    lineno,
                    "KTAP output does not start with a version line",
                );
            }
        }

        if let Line::Unknown = kind {
            // Not KTAP (console noise, a stack trace, an unindented message):
            // ignored wherever it stands, so it never closes a nested list.
            self.warn(lineno, format!("unrecognised line ignored: {content:?}"));
            return events;
        }
        // Close subtest lists that this line is shallower than.
        while self.stack.len() > 1 && indent < self.stack.last().map_or(0, |f| f.indent) {
            self.close_top(&mut events, lineno);
        }
        let top_indent = self.stack.last().map_or(0, |f| f.indent);
        // A version line at the depth of a subtest list that already has content
        // starts the next sibling list: close the current one first.
        if matches!(kind, Line::Version(_))
            && self.stack.len() > 1
            && indent == top_indent
            && self
                .stack
                .last()
                .is_some_and(|f| !f.is_fresh() || f.version_seen)
        {
            self.close_top(&mut events, lineno);
        }
        let top_indent = self.stack.last().map_or(0, |f| f.indent);
        if structural && indent > top_indent {
            if self.stack.last().is_some_and(|f| f.pending_child.is_some()) {
                self.error(
                    &mut events,
                    lineno,
                    "a new subtest list starts before the previous one got its result line",
                );
                self.synthesize_incomplete(&mut events, lineno);
            }
            self.stack.push(Frame::new(indent));
        }
        let depth = self.stack.len() - 1;
        match kind {
            Line::Version(v) => {
                let frame = self.stack.last_mut().expect("stack not empty");
                if frame.version_seen || !frame.is_fresh() {
                    self.error(
                        &mut events,
                        lineno,
                        format!("unexpected `{v}` in the middle of a test list"),
                    );
                } else {
                    frame.version_seen = true;
                    if depth == 0 {
                        self.report.version = Some(v.to_string());
                    }
                    events.push(Event::Version { depth });
                }
            }
            Line::Subtest(name) => {
                let frame = self.stack.last_mut().expect("stack not empty");
                if frame.is_fresh() && frame.suite.name.is_none() && depth > 0 {
                    frame.suite.name = Some(name.to_string());
                    events.push(Event::Subtest {
                        depth,
                        name: name.to_string(),
                    });
                } else {
                    frame.pending_diags.push(format!("Subtest: {name}"));
                }
            }
            Line::Plan(n, _) if n > MAX_PLAN => {
                self.error(
                    &mut events,
                    lineno,
                    format!("plan 1..{n} is implausibly large (over {MAX_PLAN}); ignored"),
                );
            }
            Line::Plan(n, _comment) => {
                let frame = self.stack.last_mut().expect("stack not empty");
                if frame.suite.plan.is_some() {
                    self.error(&mut events, lineno, "second plan line in one test list");
                } else {
                    frame.suite.plan = Some(n);
                    if frame.suite.tests.iter().any(|t| t.number > n) {
                        let extra: Vec<u32> = frame
                            .suite
                            .tests
                            .iter()
                            .map(|t| t.number)
                            .filter(|&k| k > n)
                            .collect();
                        frame.suite.extra.extend(extra);
                    }
                    events.push(Event::Plan { depth, count: n });
                }
            }
            Line::Diagnostic(text) => {
                let frame = self.stack.last_mut().expect("stack not empty");
                if frame.is_fresh() {
                    // Before the plan: a header of the list, not of its first test.
                    frame.suite.diagnostics.push(text.to_string());
                } else {
                    frame.pending_diags.push(text.to_string());
                }
                events.push(Event::Diagnostic {
                    depth,
                    text: text.to_string(),
                });
            }
            Line::Unknown => unreachable!("handled above"),
            Line::Result(r) => self.add_result(&mut events, lineno, r),
            Line::BailOut(_) => unreachable!("handled above"),
        }
        self.check_complete(&mut events);
        events
    }

    fn add_result(&mut self, events: &mut Vec<Event>, lineno: usize, r: ResultLine<'_>) {
        let depth = self.stack.len() - 1;
        let frame = self.stack.last_mut().expect("stack not empty");
        let expected = frame
            .suite
            .tests
            .last()
            .map_or(1, |t| t.number.saturating_add(1));
        let number = r.number.unwrap_or(expected);
        let mut problems = Vec::new();
        if r.number.is_none() {
            problems.push(format!(
                "result line without a test number (taken as {number})"
            ));
        } else if frame.suite.tests.iter().any(|t| t.number == number) {
            problems.push(format!("test number {number} reported twice"));
        } else if number != expected {
            problems.push(format!(
                "test number {number} out of order (expected {expected})"
            ));
        }
        if let Some(plan) = frame.suite.plan {
            if number > plan || number == 0 {
                frame.suite.extra.push(number);
                problems.push(format!(
                    "test number {number} is outside the plan 1..{plan}"
                ));
            }
        }
        let subtests = frame.pending_child.take();
        let mut out = outcome(r.ok, r.directive);
        if let Some(sub) = &subtests {
            let mut c = Counts::default();
            c.add_suite(sub);
            if r.ok && r.directive.is_none() && (c.failed > 0 || c.incomplete > 0) {
                problems.push(format!(
                    "test {number} is reported ok although its subtests did not all pass ({c})"
                ));
                out = Outcome::Fail;
            }
        }
        let test = TestCase {
            number,
            name: r.name.to_string(),
            ok: r.ok,
            directive: r.directive,
            reason: r.reason.map(str::to_string),
            outcome: out,
            diagnostics: std::mem::take(&mut frame.pending_diags),
            subtests: None,
            line: lineno,
        };
        events.push(Event::Result {
            depth,
            test: test.clone(),
        });
        frame.suite.tests.push(TestCase { subtests, ..test });
        for p in problems {
            self.error(events, lineno, p);
        }
    }

    fn close_top(&mut self, events: &mut Vec<Event>, lineno: usize) {
        let mut frame = self.stack.pop().expect("close_top on a non-empty stack");
        if frame.pending_child.is_some() {
            // The nested list inside this one never got its result line either.
            self.stack.push(frame);
            self.synthesize_incomplete(events, lineno);
            frame = self.stack.pop().expect("just pushed");
        }
        finish_suite(&mut frame);
        let parent = self.stack.last_mut().expect("parent frame");
        if parent.pending_child.is_some() {
            // Two sibling lists with no result line between them.
            self.synthesize_incomplete(events, lineno);
        }
        let parent = self.stack.last_mut().expect("parent frame");
        parent.pending_child = Some(frame.suite);
    }

    /// Turns the pending subtest list of the top frame into an incomplete test.
    fn synthesize_incomplete(&mut self, events: &mut Vec<Event>, lineno: usize) {
        let depth = self.stack.len() - 1;
        let frame = self.stack.last_mut().expect("stack not empty");
        let Some(sub) = frame.pending_child.take() else {
            return;
        };
        let number = frame
            .suite
            .tests
            .last()
            .map_or(1, |t| t.number.saturating_add(1));
        let name = sub.name.clone().unwrap_or_default();
        let test = TestCase {
            number,
            name: name.clone(),
            ok: false,
            directive: None,
            reason: Some("no result line".to_string()),
            outcome: Outcome::Incomplete,
            diagnostics: std::mem::take(&mut frame.pending_diags),
            subtests: None,
            line: 0,
        };
        events.push(Event::Result {
            depth,
            test: test.clone(),
        });
        frame.suite.tests.push(TestCase {
            subtests: Some(sub),
            ..test
        });
        let label = if name.is_empty() {
            "(unnamed)".to_string()
        } else {
            format!("`{name}`")
        };
        self.error(
            events,
            lineno,
            format!("subtest {number} {label} ended without a result line"),
        );
    }

    fn check_complete(&mut self, events: &mut Vec<Event>) {
        if self.completed || self.stack.len() != 1 {
            return;
        }
        let root = &self.stack[0];
        if root.pending_child.is_none() && root.suite.plan_complete() {
            self.completed = true;
            events.push(Event::PlanComplete);
        }
    }

    fn error(&mut self, events: &mut Vec<Event>, line: usize, message: impl Into<String>) {
        let p = Problem {
            line,
            message: message.into(),
        };
        events.push(Event::Error(p.clone()));
        self.report.errors.push(p);
    }

    fn warn(&mut self, line: usize, message: impl Into<String>) {
        self.report.warnings.push(Problem {
            line,
            message: message.into(),
        });
    }

    /// The report so far, with open lists closed as if the output ended here.
    pub fn snapshot(&self) -> Report {
        let mut copy = Parser {
            stack: self
                .stack
                .iter()
                .map(|f| Frame {
                    indent: f.indent,
                    suite: f.suite.clone(),
                    pending_diags: f.pending_diags.clone(),
                    pending_child: f.pending_child.clone(),
                    version_seen: f.version_seen,
                })
                .collect(),
            report: self.report.clone(),
            preamble: self.preamble.clone(),
            bailed: self.bailed,
            completed: self.completed,
        };
        copy.finish_in_place();
        copy.report
    }

    /// Ends the input: closes open subtest lists (truncated output), lists planned
    /// tests that never appeared and returns the report.
    pub fn finish(mut self) -> Report {
        self.finish_in_place();
        self.report
    }

    fn finish_in_place(&mut self) {
        let mut events = Vec::new();
        while self.stack.len() > 1 {
            self.close_top(&mut events, 0);
        }
        if let Some(mut root) = self.stack.pop() {
            if root.pending_child.is_some() {
                self.stack.push(root);
                self.synthesize_incomplete(&mut events, 0);
                root = self.stack.pop().expect("just pushed");
            }
            finish_suite(&mut root);
            self.report.root = root.suite;
        } else {
            self.report.root.diagnostics = std::mem::take(&mut self.preamble);
            return;
        }
        let mut diags = std::mem::take(&mut self.preamble);
        diags.append(&mut self.report.root.diagnostics);
        self.report.root.diagnostics = diags;
        if self.report.root.plan.is_none() {
            self.report.errors.push(Problem {
                line: 0,
                message: "the top-level plan (`1..N`) never appeared".to_string(),
            });
        }
    }
}

fn finish_suite(frame: &mut Frame) {
    let suite = &mut frame.suite;
    for d in std::mem::take(&mut frame.pending_diags) {
        match failed_test_named(&mut suite.tests, &d) {
            Some(t) => t.diagnostics.push(d),
            None => suite.diagnostics.push(d),
        }
    }
    if let Some(n) = suite.plan {
        let seen: std::collections::HashSet<u32> = suite.tests.iter().map(|t| t.number).collect();
        suite.missing = (1..=n).filter(|k| !seen.contains(k)).collect();
    }
}

/// The failed test of a closing list that a trailing diagnostic `NAME: text`
/// names (the longest such NAME wins).
///
/// libtest prints a failed test's output only after all of its results, so
/// the guest runner can only write it after the `not ok` line, as diagnostics
/// prefixed with the test's name; they belong to that test, not to the list.
fn failed_test_named<'a>(tests: &'a mut [TestCase], diagnostic: &str) -> Option<&'a mut TestCase> {
    tests
        .iter_mut()
        .filter(|t| !t.ok && !t.name.is_empty())
        .filter(|t| {
            diagnostic
                .strip_prefix(t.name.as_str())
                .is_some_and(|rest| rest.starts_with(": "))
        })
        .max_by_key(|t| t.name.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_line_fields() {
        match classify("not ok 3 - join after exit # TODO legacy kernels") {
            Line::Result(r) => {
                assert!(!r.ok);
                assert_eq!(r.number, Some(3));
                assert_eq!(r.name, "join after exit");
                assert_eq!(r.directive, Some(Directive::Todo));
                assert_eq!(r.reason, Some("legacy kernels"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(classify("okay 1"), Line::Unknown));
        assert!(matches!(classify("1..x"), Line::Unknown));
        match classify("ok 1 name#hash") {
            Line::Result(r) => assert_eq!((r.name, r.directive), ("name#hash", None)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn snapshot_mid_stream_closes_open_lists_without_consuming_the_parser() {
        let mut p = Parser::new();
        for l in [
            "KTAP version 1",
            "1..2",
            "  KTAP version 1",
            "  1..2",
            "  ok 1 a",
        ] {
            p.feed_line(l);
        }
        let mid = p.snapshot();
        assert_eq!(mid.root.tests.len(), 1);
        assert_eq!(mid.root.tests[0].outcome, Outcome::Incomplete);
        assert!(!p.plan_complete());
        for l in ["  ok 2 b", "ok 1 first", "ok 2 second"] {
            p.feed_line(l);
        }
        assert!(p.plan_complete());
        let done = p.finish();
        assert!(done.all_passed(), "{done:?}");
        assert_eq!(done.counts().passed, 3);
    }

    #[test]
    fn huge_plans_are_refused_cheaply() {
        let mut p = Parser::new();
        p.feed_line("KTAP version 1");
        p.feed_line("1..4294967295");
        p.feed_line("ok 1 a");
        let r = p.finish();
        assert_eq!(r.root.plan, None);
        assert!(r
            .errors
            .iter()
            .any(|e| e.message.contains("implausibly large")));
        assert!(!r.complete());
    }

    /// What the guest runner writes for a failing libtest binary (the order
    /// of `jam-integration/guest-runner`): the failure's output after the
    /// nested results, the binary's own diagnostics before its result line.
    #[test]
    fn guest_runner_diagnostics_land_on_the_test_they_are_about() {
        let mut p = Parser::new();
        for l in [
            "KTAP version 1",
            "1..2",
            "  KTAP version 1",
            "  # Subtest: conformance",
            "  1..3",
            "  not ok 1 keeps_33",
            "  not ok 2 model",
            "  not ok 3 keeps_33_entries",
            "  # keeps_33_entries: assertion `left == right` failed",
            "  # keeps_33_entries:   left: 32",
            "  # keeps_33: panicked",
            "  # model::inner: names no test of this list",
            "  # libtest: 0 passed; 3 failed",
            "# conformance: exit status 101",
            "# conformance stderr: error: test failed",
            "not ok 1 conformance",
            "  KTAP version 1",
            "  # Subtest: module",
            "  1..1",
            "  ok 1 dead_entry_count",
            "  # dead_entry_count: not a failure, stays with the list",
            "ok 2 module",
        ] {
            p.feed_line(l);
        }
        let r = p.finish();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let conformance = &r.root.tests[0];
        assert_eq!(
            conformance.diagnostics,
            [
                "conformance: exit status 101",
                "conformance stderr: error: test failed"
            ]
        );
        let cases = conformance.subtests.as_ref().unwrap();
        assert_eq!(cases.tests[0].diagnostics, ["keeps_33: panicked"]);
        // `model` starts that line, but not followed by ": ".
        assert!(cases.tests[1].diagnostics.is_empty());
        assert_eq!(
            cases.tests[2].diagnostics,
            [
                "keeps_33_entries: assertion `left == right` failed",
                "keeps_33_entries:   left: 32"
            ]
        );
        assert_eq!(
            cases.diagnostics,
            [
                "model::inner: names no test of this list",
                "libtest: 0 passed; 3 failed"
            ]
        );
        let module = &r.root.tests[1];
        assert!(module.diagnostics.is_empty());
        assert_eq!(
            module.subtests.as_ref().unwrap().diagnostics,
            ["dead_entry_count: not a failure, stays with the list"]
        );
        assert!(r.root.diagnostics.is_empty());
    }
}
