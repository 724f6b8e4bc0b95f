//! KTAP v1 generation: one subtest per test binary, one nested test case per
//! libtest test.
//!
//! ```text
//! KTAP version 1
//! 1..2
//!   KTAP version 1
//!   # Subtest: conformance
//!   1..3
//!   ok 1 joins_every_thread
//!   not ok 2 keeps_33_entries
//!   ok 3 device_dead_list # SKIP needs Haiku
//!   # keeps_33_entries:   left: 32
//!   # libtest: 1 passed; 1 failed; 1 ignored; ...
//! # conformance: exit status 101
//! # conformance stderr: ...
//! not ok 1 conformance
//! ...
//! ```
//!
//! A binary's own diagnostics (exit status, stderr tail) come before its
//! result line, where KTAP puts diagnostics about a test. A failed case's
//! output can only follow its `not ok` line (libtest prints it after all
//! results); each of those lines starts with the case's name, which is how
//! the host's parser (`src/ktap/mod.rs`) files them under that case.
//!
//! Everything here is pure: it returns lines (without prefix or newline);
//! the caller hands them to a [`crate::sink::Sink`].

use crate::libtest::{Event, LibtestParser, Outcome};

/// The version line every KTAP document (and every subtest) starts with.
pub const VERSION_LINE: &str = "KTAP version 1";

/// Indentation of one nesting level (two spaces, as the host's protocol
/// documentation in `src/ktap/mod.rs` specifies).
pub const INDENT: &str = "  ";

/// Longest line written to the serial port, prefix and newline included:
/// one `debug_printf` chunk, so kernel output cannot split it (the host's
/// `ktap::MAX_LINE_BYTES`).
pub const MAX_LINE_BYTES: usize = 480;

const CUT_MARK: &str = " [cut]";

/// `prefix` + `line`, cut at a character boundary (and marked) so that it
/// plus a newline fits in [`MAX_LINE_BYTES`].
pub fn fit(prefix: &str, line: &str) -> String {
    let full = format!("{prefix}{line}");
    if full.len() < MAX_LINE_BYTES {
        return full;
    }
    let mut end = MAX_LINE_BYTES - 1 - CUT_MARK.len();
    while !full.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT_MARK}", &full[..end])
}

/// Longest diagnostic block copied from one failed test's output.
pub const MAX_FAILURE_LINES: usize = 60;

/// Makes a string safe as a KTAP test name: one line, no `#` (which would
/// start a directive).
pub fn sanitize_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '#' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if cleaned.trim().is_empty() {
        "unnamed".to_string()
    } else {
        cleaned.trim().to_string()
    }
}

/// Makes a string safe as the text of a `#` diagnostic line.
pub fn sanitize_diagnostic(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect()
}

/// The top-level header: version line and plan.
pub fn header(binaries: usize) -> Vec<String> {
    vec![VERSION_LINE.to_string(), format!("1..{binaries}")]
}

/// A result line at any level.
pub fn result_line(
    indent: &str,
    ok: bool,
    number: usize,
    name: &str,
    directive: Option<&str>,
) -> String {
    let status = if ok { "ok" } else { "not ok" };
    let name = sanitize_name(name);
    match directive {
        Some(d) => format!(
            "{indent}{status} {number} {name} # {}",
            sanitize_diagnostic(d)
        ),
        None => format!("{indent}{status} {number} {name}"),
    }
}

/// A diagnostic line at any level.
pub fn diagnostic(indent: &str, text: &str) -> String {
    format!("{indent}# {}", sanitize_diagnostic(text))
}

/// How a test binary ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// It was ended by a signal (or by something else without an exit code).
    Signal(String),
    /// The runner killed it after this many seconds.
    TimedOut(u64),
    /// It could not be started.
    SpawnFailed(String),
}

impl Exit {
    fn describe(&self) -> String {
        match self {
            Exit::Code(c) => format!("exit status {c}"),
            Exit::Signal(s) => format!("killed by {s}"),
            Exit::TimedOut(s) => format!("timed out after {s} s, killed by the guest runner"),
            Exit::SpawnFailed(e) => format!("could not be started: {e}"),
        }
    }
}

/// Converts one test binary's libtest output into a KTAP subtest, line by
/// line, and produces its result line at the end.
#[derive(Debug)]
pub struct SubtestWriter {
    number: usize,
    name: String,
    parser: LibtestParser,
    header_written: bool,
    planned: Option<usize>,
    cases: usize,
    failed: usize,
    summary_ok: Option<bool>,
}

impl SubtestWriter {
    /// Starts subtest `number` (1-based) for the binary called `name`.
    pub fn new(number: usize, name: &str) -> Self {
        Self {
            number,
            name: sanitize_name(name),
            parser: LibtestParser::new(),
            header_written: false,
            planned: None,
            cases: 0,
            failed: 0,
            summary_ok: None,
        }
    }

    fn write_header(&mut self, plan: usize, out: &mut Vec<String>) {
        if !self.header_written {
            self.header_written = true;
            self.planned = Some(plan);
            out.push(format!("{INDENT}{VERSION_LINE}"));
            out.push(diagnostic(INDENT, &format!("Subtest: {}", self.name)));
            out.push(format!("{INDENT}1..{plan}"));
        }
    }

    /// Feeds one line of the binary's standard output; returns the KTAP lines
    /// it produces (often none).
    pub fn stdout_line(&mut self, line: &str) -> Vec<String> {
        let mut out = Vec::new();
        for event in self.parser.feed(line) {
            self.event(event, &mut out);
        }
        out
    }

    fn event(&mut self, event: Event, out: &mut Vec<String>) {
        match event {
            Event::Running { count } => self.write_header(count, out),
            Event::Case { name, outcome } => {
                self.write_header(0, out);
                self.cases += 1;
                let line = match outcome {
                    Outcome::Passed => result_line(INDENT, true, self.cases, &name, None),
                    Outcome::Failed => {
                        self.failed += 1;
                        result_line(INDENT, false, self.cases, &name, None)
                    }
                    Outcome::Ignored(reason) => {
                        let directive = match reason {
                            Some(r) => format!("SKIP {r}"),
                            None => "SKIP".to_string(),
                        };
                        result_line(INDENT, true, self.cases, &name, Some(&directive))
                    }
                };
                out.push(line);
            }
            Event::FailureOutput { name, lines } => {
                let name = sanitize_name(&name);
                let total = lines.len();
                for l in lines.iter().take(MAX_FAILURE_LINES) {
                    out.push(diagnostic(INDENT, &format!("{name}: {l}")));
                }
                if total > MAX_FAILURE_LINES {
                    out.push(diagnostic(
                        INDENT,
                        &format!("{name}: ... {} more lines", total - MAX_FAILURE_LINES),
                    ));
                }
            }
            Event::Summary { ok, detail } => {
                self.summary_ok = Some(ok);
                out.push(diagnostic(INDENT, &format!("libtest: {detail}")));
            }
        }
    }

    /// Ends the subtest: flushes pending output, reports a test that was
    /// running when the binary died, adds `stderr_tail` as diagnostics when
    /// something failed, and returns the lines ending with the binary's
    /// result line. Returns whether the binary passed as the second value.
    pub fn finish(mut self, exit: &Exit, stderr_tail: &[String]) -> (Vec<String>, bool) {
        let mut out = Vec::new();
        for event in self.parser.finish() {
            self.event(event, &mut out);
        }
        if let Some(pending) = self.parser.pending().map(str::to_string) {
            self.write_header(0, &mut out);
            self.cases += 1;
            self.failed += 1;
            out.push(result_line(INDENT, false, self.cases, &pending, None));
            out.push(diagnostic(
                INDENT,
                &format!(
                    "{pending}: was running when the binary ended ({})",
                    exit.describe()
                ),
            ));
        }
        if !self.header_written {
            // No `running N tests` line at all: the binary never got to libtest.
            self.write_header(0, &mut out);
        }
        let plan_kept = self.planned.is_none_or(|p| p == self.cases);
        let passed = *exit == Exit::Code(0)
            && self.failed == 0
            && self.summary_ok == Some(true)
            && plan_kept;
        if !plan_kept {
            out.push(diagnostic(
                "",
                &format!(
                    "{}: planned {} tests, {} reported",
                    self.name,
                    self.planned.unwrap_or(0),
                    self.cases
                ),
            ));
        }
        if !passed {
            out.push(diagnostic(
                "",
                &format!("{}: {}", self.name, exit.describe()),
            ));
            if self.summary_ok.is_none() {
                out.push(diagnostic(
                    "",
                    &format!("{}: no libtest summary line", self.name),
                ));
            }
            for l in stderr_tail {
                out.push(diagnostic("", &format!("{} stderr: {l}", self.name)));
            }
        }
        out.push(result_line("", passed, self.number, &self.name, None));
        (out, passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(text: &str, exit: Exit) -> (Vec<String>, bool) {
        let mut w = SubtestWriter::new(1, "sample");
        let mut lines: Vec<String> = text.lines().flat_map(|l| w.stdout_line(l)).collect();
        let (tail, ok) = w.finish(&exit, &["boom".to_string()]);
        lines.extend(tail);
        (lines, ok)
    }

    #[test]
    fn failing_binary_becomes_not_ok_subtest() {
        let (lines, ok) = convert(
            include_str!("../tests/libtest/sample-failing.txt"),
            Exit::Code(101),
        );
        assert!(!ok);
        assert_eq!(lines[0], "  KTAP version 1");
        assert_eq!(lines[1], "  # Subtest: sample");
        assert_eq!(lines[2], "  1..5");
        assert_eq!(lines[3], "  ok 1 bad_thread_id_panics");
        assert_eq!(lines[4], "  ok 2 device_dead_list # SKIP needs Haiku");
        assert_eq!(lines[6], "  not ok 4 keeps_33_entries");
        assert_eq!(lines[7], "  ok 5 slow_scenario # SKIP");
        assert!(lines.contains(&"  # keeps_33_entries:   left: 32".to_string()));
        assert!(lines.contains(&"# sample: exit status 101".to_string()));
        assert!(lines.contains(&"# sample stderr: boom".to_string()));
        assert_eq!(lines.last().unwrap(), "not ok 1 sample");
    }

    #[test]
    fn passing_binary_is_ok_and_quiet() {
        let (lines, ok) = convert(
            include_str!("../tests/libtest/sample-passing.txt"),
            Exit::Code(0),
        );
        assert!(ok);
        assert!(!lines.iter().any(|l| l.contains("stderr")));
        assert_eq!(lines.last().unwrap(), "ok 1 sample");
    }

    #[test]
    fn this_workspaces_haiku_sys_tests() {
        // Captured from haiku-sys's `status` test binary on Linux with the
        // runner's libtest arguments.
        let (lines, ok) = convert(
            include_str!("../tests/libtest/haiku-sys-status.txt"),
            Exit::Code(0),
        );
        assert!(ok);
        assert_eq!(lines[2], "  1..8");
        assert_eq!(lines.iter().filter(|l| l.starts_with("  ok ")).count(), 8);
        assert_eq!(lines[10], "  ok 8 well_known_values");
    }

    #[test]
    fn passing_output_but_nonzero_exit_fails() {
        let (_, ok) = convert(
            include_str!("../tests/libtest/sample-passing.txt"),
            Exit::Signal("SIGSEGV".into()),
        );
        assert!(!ok);
    }

    #[test]
    fn timeout_mid_test_reports_the_running_test() {
        let (lines, ok) = convert(
            "running 3 tests\ntest a ... ok\ntest b ... ",
            Exit::TimedOut(5),
        );
        assert!(!ok);
        assert!(lines.contains(&"  not ok 2 b".to_string()));
        assert!(lines
            .iter()
            .any(|l| l.contains("planned 3 tests, 2 reported")));
        assert!(lines.iter().any(|l| l.contains("timed out after 5 s")));
    }

    #[test]
    fn binary_that_never_started_still_has_a_plan() {
        let (lines, ok) = convert("", Exit::SpawnFailed("No such file".into()));
        assert!(!ok);
        assert_eq!(lines[2], "  1..0");
        assert_eq!(lines.last().unwrap(), "not ok 1 sample");
    }

    #[test]
    fn long_lines_fit_one_debug_printf_chunk() {
        let long = "é".repeat(400);
        let l = fit("dead-threads-ktap: ", &long);
        assert!(l.len() < MAX_LINE_BYTES);
        assert!(l.ends_with(" [cut]"));
        assert_eq!(fit("p: ", "ok 1 a"), "p: ok 1 a");
    }

    #[test]
    fn names_cannot_inject_directives() {
        assert_eq!(sanitize_name("a # SKIP\nb"), "a _ SKIP b");
        assert_eq!(
            result_line("", true, 3, "x", Some("SKIP why\n")),
            "ok 3 x # SKIP why "
        );
    }
}
