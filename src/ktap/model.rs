//! What a KTAP document says: tests, suites, counts, problems, the report,
//! and the events the parser emits while it reads.

use serde::Serialize;
use std::fmt;

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

    pub(super) fn parse(word: &str) -> Option<Directive> {
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
    /// Planned test numbers that never got a result (filled by [`Parser::finish`](super::Parser::finish)).
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

    pub(super) fn add_suite(&mut self, suite: &Suite) {
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
