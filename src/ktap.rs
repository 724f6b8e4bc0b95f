//! KTAP v1 over Haiku's serial port: the guest/host protocol and an incremental parser.
//!
//! # Serial protocol (guest runner <-> host)
//!
//! The guest (the boot job in `jam-integration/`) reports results as a single
//! [KTAP v1](https://docs.kernel.org/dev-tools/ktap.html) document written to the
//! serial port through `debug_printf()`. Haiku's serial debug output also carries
//! everything the kernel and drivers `dprintf()`, the boot loader's messages and,
//! on a panic, the kernel debugger (KDL). To pick the KTAP lines out of that noise:
//!
//! * every KTAP line is written as [`SERIAL_PREFIX`] followed by the KTAP line
//!   (including its indentation) and a `\n`, e.g.
//!   `dead-threads-ktap: KTAP version 1`, `dead-threads-ktap:   ok 1 join_after_exit`;
//! * each line is written with **one** `debug_printf()` call and is at most
//!   [`MAX_LINE_BYTES`] bytes long including prefix and newline. Haiku's
//!   `_user_debug_output()` copies a user string in 511-byte chunks and writes each
//!   chunk under the debug output spinlock, so a line of that size reaches the
//!   serial port in one piece. Kernel output that was written without a trailing
//!   newline may still precede it on the same serial line: the host looks for the
//!   prefix anywhere in a line and discards what comes before it;
//! * the document starts with `KTAP version 1` and the top-level plan `1..N`,
//!   where N counts the test binaries (or groups); each binary's own tests are
//!   a nested KTAP subtest (indented by two more spaces, with its own version
//!   line, optional `# Subtest: NAME` header and plan) closed by the parent's
//!   `ok N NAME` / `not ok N NAME` line; what the guest has to say about the
//!   binary itself (`# NAME: exit status 101`, its stderr) comes directly
//!   before that line, at the parent's indentation, as KTAP wants diagnostics
//!   before the result they are about;
//! * `# SKIP reason` / `# TODO reason` directives and `# ...` diagnostic lines
//!   are used as in KTAP; `Bail out! reason` aborts the run (the host reports the
//!   run as incomplete);
//! * Haiku's debug output swallows a chunk identical to the previous one and
//!   later prints `Last message repeated N times.` instead; the host puts such
//!   KTAP lines back ([`repeat_count`], [`SerialDemux`]), but the guest should
//!   still avoid identical consecutive lines (e.g. number repeated diagnostics);
//! * after the last top-level result line the guest powers off (`shutdown -q`);
//!   the host gives it a grace period and reports a guest that never powers off.
//!
//! The host side splits the raw serial bytes into lines and extracts the
//! prefixed KTAP lines ([`SerialDemux`], built on [`LineSplitter`] and
//! [`extract_ktap`]) and feeds them to a
//! [`Parser`], which reports [`Event`]s as lines arrive and builds a [`Report`].
//! Everything is byte-oriented: garbage and non-UTF-8 bytes never stop parsing
//! (they are decoded lossily).
//!
//! # Parser behaviour
//!
//! Modelled on Linux's `tools/testing/kunit/kunit_parser.py`, but driven by
//! indentation so that it can work incrementally:
//!
//! * `KTAP version 1` and `TAP version 13`/`14` are accepted as version lines;
//! * a version line, `# Subtest:` header, plan or result line indented deeper than
//!   the current test list opens a subtest list, which is closed by the next
//!   line at a shallower indentation (normally the parent's result line);
//! * result lines are `ok|not ok NUMBER [-] [DESCRIPTION] [# DIRECTIVE [REASON]]`
//!   with directives SKIP, TODO, XFAIL, TIMEOUT and ERROR (case-insensitive);
//!   any other text after `#` is kept as a comment;
//! * diagnostic lines (`# ...`) belong to the next result line of the same list;
//!   those after a list's last result line belong to the list, except that a
//!   trailing `# NAME: ...` whose NAME is a failed test of that list belongs to
//!   that test (libtest prints a failure's output after all results, so the
//!   guest runner writes it after the `not ok` line, prefixed with the name);
//! * out-of-order or duplicate numbers, results beyond the plan, a plan that
//!   appears twice and subtests without a result line are recorded as
//!   [`Problem`]s; unknown lines are kept as warnings and otherwise ignored;
//! * [`Parser::finish`] closes what truncated output left open: a subtest list
//!   without a result line becomes a test with outcome [`Outcome::Incomplete`],
//!   and planned numbers that never appeared are listed in [`Suite::missing`].

use serde::Serialize;
use std::fmt;

/// Prefix of every KTAP line the guest writes to the serial port.
pub const SERIAL_PREFIX: &str = "dead-threads-ktap: ";

/// Longest KTAP line (prefix and newline included) the guest may write; longer
/// diagnostics must be truncated by the guest so that a line stays in one
/// `debug_printf()` chunk.
pub const MAX_LINE_BYTES: usize = 480;

/// Largest plan accepted: a bigger `1..N` (garbage, most likely) is reported and
/// ignored, so that listing missing tests stays cheap.
pub const MAX_PLAN: u32 = 1_000_000;

/// Longest line the host keeps before it cuts a line that never ends.
const MAX_HOST_LINE: usize = 64 * 1024;

/// Splits a byte stream (the raw serial output) into lines.
///
/// Lines end at `\n`; trailing `\r` are removed. A line that grows beyond 64 KiB
/// without a newline is emitted in pieces so that garbage cannot exhaust memory.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    /// A splitter with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `bytes` and calls `line` for every completed line.
    pub fn push(&mut self, bytes: &[u8], mut line: impl FnMut(&[u8])) {
        for &b in bytes {
            if b == b'\n' {
                emit(&mut self.buf, &mut line);
            } else {
                self.buf.push(b);
                if self.buf.len() >= MAX_HOST_LINE {
                    emit(&mut self.buf, &mut line);
                }
            }
        }
    }

    /// The bytes received after the last newline (for example a prompt such as
    /// `kdebug> ` that waits for input).
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Emits the unterminated last line, if any.
    pub fn finish(&mut self, mut line: impl FnMut(&[u8])) {
        if !self.buf.is_empty() {
            emit(&mut self.buf, &mut line);
        }
    }
}

fn emit(buf: &mut Vec<u8>, line: &mut impl FnMut(&[u8])) {
    let mut end = buf.len();
    while end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    line(&buf[..end]);
    buf.clear();
}

/// One serial line split into the console text before the first
/// [`SERIAL_PREFIX`] and the KTAP lines after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialLine {
    /// Text before the first prefix (the whole line if it has no prefix), lossily
    /// decoded.
    pub console: String,
    /// KTAP lines found after prefixes. More than one when the newline of a KTAP
    /// line was lost and the next one was glued to it.
    pub ktap: Vec<String>,
}

/// Splits one serial line into console noise and prefixed KTAP lines.
pub fn extract_ktap(line: &[u8]) -> SerialLine {
    let prefix = SERIAL_PREFIX.as_bytes();
    let mut positions = Vec::new();
    let mut i = 0;
    while i + prefix.len() <= line.len() {
        if &line[i..i + prefix.len()] == prefix {
            positions.push(i);
            i += prefix.len();
        } else {
            i += 1;
        }
    }
    let console_end = positions.first().copied().unwrap_or(line.len());
    let mut ktap = Vec::with_capacity(positions.len());
    for (n, &start) in positions.iter().enumerate() {
        let end = positions.get(n + 1).copied().unwrap_or(line.len());
        ktap.push(clean(&line[start + prefix.len()..end]));
    }
    SerialLine {
        console: clean(&line[..console_end]),
        ktap,
    }
}

/// Lossy UTF-8 decoding; control characters other than tab become U+FFFD so that
/// a terminal showing the text is not confused by garbage.
fn clean(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    String::from_utf8_lossy(&bytes[..end])
        .chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// A KTAP directive after `#` on a result line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Directive {
    /// `# SKIP`: the test was not run.
    Skip,
    /// `# TODO`: a known failure that does not count.
    Todo,
    /// `# XFAIL`: an expected failure.
    Xfail,
    /// `# TIMEOUT`: the test did not finish in time.
    Timeout,
    /// `# ERROR`: the test could not be run properly.
    Error,
}

impl Directive {
    /// The directive as written in KTAP (`SKIP`, `TODO`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Directive::Skip => "SKIP",
            Directive::Todo => "TODO",
            Directive::Xfail => "XFAIL",
            Directive::Timeout => "TIMEOUT",
            Directive::Error => "ERROR",
        }
    }

    fn parse(word: &str) -> Option<Directive> {
        let w = word.to_ascii_uppercase();
        // TAP producers write "SKIP", "skip", "Skipped" ...
        if w.starts_with("SKIP") {
            Some(Directive::Skip)
        } else if w == "TODO" {
            Some(Directive::Todo)
        } else if w == "XFAIL" {
            Some(Directive::Xfail)
        } else if w == "TIMEOUT" {
            Some(Directive::Timeout)
        } else if w == "ERROR" {
            Some(Directive::Error)
        } else {
            None
        }
    }
}

/// What a test's result means for the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// `ok` without a SKIP/TODO directive.
    Pass,
    /// `not ok` (without TODO/XFAIL/SKIP), or a TIMEOUT/ERROR directive.
    Fail,
    /// SKIP directive.
    Skip,
    /// TODO or XFAIL directive: reported, never counted as a failure.
    Todo,
    /// The test's subtests started but its result line never came (truncated
    /// output, crash, bail out).
    Incomplete,
}

impl Outcome {
    /// Short upper-case label for human output.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "SKIP",
            Outcome::Todo => "TODO",
            Outcome::Incomplete => "INCOMPLETE",
        }
    }
}

/// One test result line (with the subtests it closes, if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestCase {
    /// The test number as written.
    pub number: u32,
    /// The description (test name); may be empty.
    pub name: String,
    /// `true` for `ok`, `false` for `not ok` (and for incomplete tests).
    pub ok: bool,
    /// SKIP/TODO/... directive, if any.
    pub directive: Option<Directive>,
    /// Text after the directive, or after `#` when it is no directive.
    pub reason: Option<String>,
    /// What this result means.
    pub outcome: Outcome,
    /// Diagnostic lines (`# ...`, without `# `) printed before the result line.
    pub diagnostics: Vec<String>,
    /// The subtests this result line closes.
    pub subtests: Option<Suite>,
    /// 1-based KTAP line number of the result line (0 for synthesized entries).
    pub line: usize,
}

/// A list of tests at one nesting level: the whole document, or one test's subtests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Suite {
    /// Name from a `# Subtest: NAME` header, if there was one.
    pub name: Option<String>,
    /// The plan `1..N`, if one was seen.
    pub plan: Option<u32>,
    /// Test results in the order they arrived.
    pub tests: Vec<TestCase>,
    /// Diagnostic lines that belong to no test (after the last result).
    pub diagnostics: Vec<String>,
    /// Planned test numbers that never got a result (filled by [`Parser::finish`]).
    pub missing: Vec<u32>,
    /// Test numbers beyond the plan.
    pub extra: Vec<u32>,
}

impl Suite {
    /// Whether every planned test has a result (false without a plan).
    pub fn plan_complete(&self) -> bool {
        match self.plan {
            Some(n) if self.tests.len() >= n as usize => {
                let mut seen = vec![false; n as usize];
                for t in &self.tests {
                    if (1..=n).contains(&t.number) {
                        seen[t.number as usize - 1] = true;
                    }
                }
                seen.iter().all(|&s| s)
            }
            _ => false,
        }
    }
}

/// Totals over a result tree. Tests with subtests are counted through their
/// leaves; a test whose subtests all passed but whose own line says `not ok`
/// counts as one failure on top of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Leaf tests that passed.
    pub passed: usize,
    /// Leaf tests that failed (plus parents that failed without a failing leaf).
    pub failed: usize,
    /// Skipped tests.
    pub skipped: usize,
    /// TODO / XFAIL tests.
    pub todo: usize,
    /// Tests that started but never reported a result.
    pub incomplete: usize,
    /// Planned tests that never appeared.
    pub missing: usize,
}

impl Counts {
    /// Total number of tests accounted for (including missing ones).
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped + self.todo + self.incomplete + self.missing
    }

    fn add_suite(&mut self, suite: &Suite) {
        self.missing += suite.missing.len();
        for t in &suite.tests {
            self.add_test(t);
        }
    }

    fn add_test(&mut self, t: &TestCase) {
        match &t.subtests {
            Some(sub) if !sub.tests.is_empty() || !sub.missing.is_empty() => {
                let before = *self;
                self.add_suite(sub);
                let leaves_bad = self.failed > before.failed
                    || self.incomplete > before.incomplete
                    || self.missing > before.missing;
                match t.outcome {
                    Outcome::Fail if !leaves_bad => self.failed += 1,
                    Outcome::Incomplete if !leaves_bad => self.incomplete += 1,
                    _ => {}
                }
            }
            _ => match t.outcome {
                Outcome::Pass => self.passed += 1,
                Outcome::Fail => self.failed += 1,
                Outcome::Skip => self.skipped += 1,
                Outcome::Todo => self.todo += 1,
                Outcome::Incomplete => self.incomplete += 1,
            },
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tests: {} passed, {} failed, {} skipped",
            self.total(),
            self.passed,
            self.failed,
            self.skipped
        )?;
        if self.todo > 0 {
            write!(f, ", {} todo", self.todo)?;
        }
        if self.incomplete > 0 {
            write!(f, ", {} incomplete", self.incomplete)?;
        }
        if self.missing > 0 {
            write!(f, ", {} missing", self.missing)?;
        }
        Ok(())
    }
}

/// Something wrong with the KTAP stream itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// 1-based KTAP line number (0: at end of input).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "at end of output: {}", self.message)
        } else {
            write!(f, "KTAP line {}: {}", self.line, self.message)
        }
    }
}

/// The parsed KTAP document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The top-level version line (e.g. `KTAP version 1`), if seen.
    pub version: Option<String>,
    /// The top-level test list.
    pub root: Suite,
    /// Reason given by `Bail out!`, if the producer bailed out.
    pub bail_out: Option<String>,
    /// Structural errors (numbering, plan, unterminated subtests, missing version).
    pub errors: Vec<Problem>,
    /// Unrecognised lines and other harmless oddities.
    pub warnings: Vec<Problem>,
    /// Number of KTAP lines fed to the parser.
    pub lines: usize,
}

impl Report {
    /// Totals over the whole tree.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        c.add_suite(&self.root);
        c
    }

    /// Whether a KTAP document was seen at all.
    pub fn started(&self) -> bool {
        self.version.is_some() || self.root.plan.is_some() || !self.root.tests.is_empty()
    }

    /// A complete run: top-level plan present and fully reported, no bail out,
    /// nothing incomplete or missing anywhere.
    pub fn complete(&self) -> bool {
        let c = self.counts();
        self.root.plan_complete() && self.bail_out.is_none() && c.incomplete == 0 && c.missing == 0
    }

    /// Complete, without failures and without structural errors.
    pub fn all_passed(&self) -> bool {
        self.complete() && self.counts().failed == 0 && self.errors.is_empty()
    }
}

/// Something the parser recognised in one line, for live display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A version line; `depth` 0 is the document.
    Version {
        /// Nesting depth.
        depth: usize,
    },
    /// A `# Subtest: NAME` header.
    Subtest {
        /// Nesting depth of the subtest list.
        depth: usize,
        /// The name.
        name: String,
    },
    /// A plan line.
    Plan {
        /// Nesting depth.
        depth: usize,
        /// Number of planned tests.
        count: u32,
    },
    /// A diagnostic line (text without the leading `# `).
    Diagnostic {
        /// Nesting depth.
        depth: usize,
        /// The text.
        text: String,
    },
    /// A result line (the test without its subtests).
    Result {
        /// Nesting depth.
        depth: usize,
        /// The test; `subtests` is `None` here, the tree is in the report.
        test: TestCase,
    },
    /// `Bail out!`.
    BailOut {
        /// The reason, possibly empty.
        reason: String,
    },
    /// A structural error was recorded.
    Error(Problem),
    /// The top-level plan has just been completed.
    PlanComplete,
}

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
            Line::Unknown => {
                self.warn(lineno, format!("unrecognised line ignored: {content:?}"));
            }
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

/// If `console` is Haiku's repeat summary `Last message repeated N times.`,
/// returns N.
///
/// Haiku's kernel debug output (`debug_output()` in
/// `src/system/kernel/debug/debug.cpp`, 2018 to today) does not print a
/// newline-terminated output chunk that equals the previous one; it counts the
/// copies and, at the next different output or after a second, prints the
/// chunk once more (one copy) or this summary (N copies). The summary therefore
/// directly follows the repeated chunk on the serial port.
pub fn repeat_count(console: &str) -> Option<u32> {
    console
        .trim()
        .strip_prefix("Last message repeated ")?
        .strip_suffix(" times.")?
        .parse()
        .ok()
}

/// One item of demultiplexed serial output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialItem<'a> {
    /// A console (non-KTAP) line or the part of a line before the prefix.
    Console(&'a str),
    /// A KTAP line with the prefix removed.
    Ktap(&'a str),
}

/// Splits raw serial bytes into console lines and KTAP lines, and restores KTAP
/// lines that Haiku's repeat suppression replaced by `Last message repeated N
/// times.` (see [`repeat_count`]).
#[derive(Debug, Default)]
pub struct SerialDemux {
    splitter: LineSplitter,
    last_ktap: Option<String>,
}

impl SerialDemux {
    /// A demultiplexer that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes; calls `item` for every console and KTAP line completed.
    pub fn push(&mut self, bytes: &[u8], mut item: impl FnMut(SerialItem<'_>)) {
        let mut lines = Vec::new();
        self.splitter.push(bytes, |l| lines.push(l.to_vec()));
        for l in lines {
            self.line(&l, &mut item);
        }
    }

    /// Ends the input: the unterminated last line, if any, is handled as a line.
    pub fn finish(&mut self, mut item: impl FnMut(SerialItem<'_>)) {
        let mut lines = Vec::new();
        self.splitter.finish(|l| lines.push(l.to_vec()));
        for l in lines {
            self.line(&l, &mut item);
        }
    }

    /// Bytes after the last newline (e.g. a `kdebug> ` prompt).
    pub fn pending(&self) -> &[u8] {
        self.splitter.pending()
    }

    fn line(&mut self, raw: &[u8], item: &mut impl FnMut(SerialItem<'_>)) {
        let split = extract_ktap(raw);
        if split.ktap.is_empty() {
            if let (Some(n), Some(last)) = (repeat_count(&split.console), &self.last_ktap) {
                item(SerialItem::Console(&split.console));
                for _ in 0..n {
                    item(SerialItem::Ktap(last));
                }
                return;
            }
            self.last_ktap = None;
        } else {
            self.last_ktap = split.ktap.last().cloned();
        }
        if !split.console.is_empty() {
            item(SerialItem::Console(&split.console));
        }
        for k in &split.ktap {
            item(SerialItem::Ktap(k));
        }
    }
}

/// Parses a whole text (plain KTAP, or serial output when `prefixed`).
pub fn parse_text(bytes: &[u8], prefixed: bool) -> Report {
    let mut parser = Parser::new();
    if prefixed {
        let mut demux = SerialDemux::new();
        let mut feed = |i: SerialItem<'_>| {
            if let SerialItem::Ktap(k) = i {
                parser.feed_line(k);
            }
        };
        demux.push(bytes, &mut feed);
        demux.finish(&mut feed);
    } else {
        let mut splitter = LineSplitter::new();
        let mut feed = |line: &[u8]| {
            parser.feed_line(&clean(line));
        };
        splitter.push(bytes, &mut feed);
        splitter.finish(&mut feed);
    }
    parser.finish()
}

/// Writes a report back as a KTAP v1 document (normalised: two-space indentation,
/// incomplete tests as `not ok N NAME # ERROR incomplete`).
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    render_suite(&mut out, &report.root, 0);
    if let Some(reason) = &report.bail_out {
        out.push_str("Bail out!");
        if !reason.is_empty() {
            out.push(' ');
            out.push_str(reason);
        }
        out.push('\n');
    }
    out
}

fn render_suite(out: &mut String, suite: &Suite, depth: usize) {
    let pad = "  ".repeat(depth);
    out.push_str(&format!("{pad}KTAP version 1\n"));
    if let Some(name) = &suite.name {
        out.push_str(&format!("{pad}# Subtest: {name}\n"));
    }
    if let Some(n) = suite.plan {
        out.push_str(&format!("{pad}1..{n}\n"));
    }
    for t in &suite.tests {
        if let Some(sub) = &t.subtests {
            render_suite(out, sub, depth + 1);
        }
        for d in &t.diagnostics {
            out.push_str(&format!("{pad}# {d}\n"));
        }
        let word = if t.ok { "ok" } else { "not ok" };
        out.push_str(&format!("{pad}{word} {}", t.number));
        if !t.name.is_empty() {
            out.push(' ');
            out.push_str(&t.name);
        }
        let directive = match (t.outcome, t.directive) {
            (Outcome::Incomplete, _) => Some("ERROR incomplete".to_string()),
            (_, Some(d)) => {
                let word = d.as_str();
                Some(match &t.reason {
                    Some(r) => format!("{word} {r}"),
                    None => word.to_string(),
                })
            }
            (_, None) => t.reason.clone(),
        };
        if let Some(d) = directive {
            out.push_str(" # ");
            out.push_str(&d);
        }
        out.push('\n');
    }
    for d in &suite.diagnostics {
        out.push_str(&format!("{pad}# {d}\n"));
    }
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

    #[test]
    fn prefix_found_mid_line_and_glued_lines_split() {
        let l = extract_ktap(b"vm: noisedead-threads-ktap: ok 1 adead-threads-ktap: ok 2 b\r");
        assert_eq!(l.console, "vm: noise");
        assert_eq!(l.ktap, vec!["ok 1 a".to_string(), "ok 2 b".to_string()]);
    }
}
