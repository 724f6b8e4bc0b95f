//! The verdict on a saved log (`dead-threads ktap parse`), with the exit
//! status `dead-threads qemu` gives the same outcome.

use serde::Serialize;

use super::input::{LogForm, LogParse};
use super::kdl::PanicInfo;
use super::model::{Counts, Report};

/// How a logged run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogVerdict {
    /// The plan completed, every test passed (or was skipped).
    Passed,
    /// The plan completed with failures, or the KTAP had structural errors.
    Failed,
    /// The kernel panicked or entered the kernel debugger.
    Crashed,
    /// No KTAP, a bail out, or output that stops before the plan is done.
    Incomplete,
    /// A complete document that ran no test (`1..0`, an empty manifest).
    NoTests,
}

impl LogVerdict {
    /// The exit status, as `dead-threads qemu` uses it: 0 passed, 1 failed,
    /// 3 crashed (kernel panic), 5 incomplete, 7 no tests.
    pub fn exit_code(self) -> u8 {
        match self {
            LogVerdict::Passed => 0,
            LogVerdict::Failed => 1,
            LogVerdict::Crashed => 3,
            LogVerdict::Incomplete => 5,
            LogVerdict::NoTests => 7,
        }
    }

    /// Upper-case label for people.
    pub fn label(self) -> &'static str {
        match self {
            LogVerdict::Passed => "PASSED",
            LogVerdict::Failed => "FAILED",
            LogVerdict::Crashed => "CRASHED",
            LogVerdict::Incomplete => "INCOMPLETE",
            LogVerdict::NoTests => "NO TESTS",
        }
    }
}

/// Whether a report with these counts ran no test at all.
pub fn ran_no_tests(counts: &Counts) -> bool {
    counts.total() == 0
}

/// The judgement of a log: what `ktap parse --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    /// The verdict.
    pub verdict: LogVerdict,
    /// One sentence on why.
    pub message: String,
    /// Leaf test case counts (flattened: `passed`, `failed`, `skipped`,
    /// `todo`, `incomplete`, `missing` at the top level of the JSON).
    #[serde(flatten)]
    pub counts: Counts,
    /// Structural KTAP errors, and the panic if there was one.
    pub errors: Vec<String>,
    /// How the log was read: `serial` (our prefix) or `ktap`.
    pub input: LogForm,
    /// The panic or kernel debugger session, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panic: Option<PanicInfo>,
    /// The parsed document.
    pub report: Report,
}

/// Judges a parsed log. The order is qemu's: a panic first, then a bail
/// out, no KTAP, an unfinished plan, failures, no tests, and a pass.
pub fn judge(log: LogParse) -> Judgement {
    let report = log.report;
    let counts = report.counts();
    let mut errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    let panic = log.kdl.info().cloned();
    let (verdict, message) = if let Some(p) = &panic {
        let what = match &p.message {
            Some(m) => format!("the kernel panicked: {m}"),
            None => "the kernel entered the kernel debugger".to_string(),
        };
        errors.push(what.clone());
        (LogVerdict::Crashed, what)
    } else if let Some(reason) = &report.bail_out {
        (
            LogVerdict::Incomplete,
            format!("the producer bailed out: {reason}"),
        )
    } else if !report.started() {
        errors.push("no KTAP output found".to_string());
        let what = match log.form {
            LogForm::Serial => "no KTAP line carries the serial prefix",
            LogForm::Ktap => "no `KTAP version` or `TAP version` line",
        };
        (LogVerdict::Incomplete, format!("no KTAP output: {what}"))
    } else if !report.complete() {
        (
            LogVerdict::Incomplete,
            format!("the output ends before the plan is complete ({counts})"),
        )
    } else if counts.failed > 0 || !report.errors.is_empty() {
        (LogVerdict::Failed, format!("tests failed ({counts})"))
    } else if ran_no_tests(&counts) {
        (
            LogVerdict::NoTests,
            "no test ran (an empty plan `1..0`): nothing was verified".to_string(),
        )
    } else {
        (LogVerdict::Passed, format!("all tests passed ({counts})"))
    };
    Judgement {
        verdict,
        message,
        counts,
        errors,
        input: log.form,
        panic,
        report,
    }
}
