//! A report written back as a normalised KTAP v1 document.

use super::model::{Outcome, Report, Suite};

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

/// The failed, incomplete and missing tests of a report, one line each,
/// as `parent / child` paths (only the innermost failure of a branch).
pub fn failed_tests(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    collect_failures(&report.root, "", &mut out);
    out
}

fn collect_failures(suite: &Suite, path: &str, out: &mut Vec<String>) {
    for t in &suite.tests {
        let name = if t.name.is_empty() {
            format!("#{}", t.number)
        } else {
            t.name.clone()
        };
        let full = if path.is_empty() {
            name
        } else {
            format!("{path} / {name}")
        };
        let mut leaf_failures = false;
        if let Some(sub) = &t.subtests {
            let before = out.len();
            collect_failures(sub, &full, out);
            for m in &sub.missing {
                out.push(format!("{full} / #{m} (missing)"));
            }
            leaf_failures = out.len() > before;
        }
        if !leaf_failures && matches!(t.outcome, Outcome::Fail | Outcome::Incomplete) {
            let what = if t.outcome == Outcome::Incomplete {
                " (incomplete)"
            } else {
                ""
            };
            out.push(format!("{full}{what}"));
        }
    }
}
