//! Human-readable rendering of `patch status` and `patch check`.

use std::fmt::Write;

use super::check::{CheckReport, Verdict};
use super::state::{FileHunks, PatchState, Plan, RevertPlan, Status};

fn hunks(f: &FileHunks) -> String {
    f.lines
        .iter()
        .zip(&f.offsets)
        .map(|(l, o)| {
            if *o == 0 {
                l.to_string()
            } else {
                format!("{l} (offset {o:+})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text `patch status` prints.
pub fn status_text(st: &Status) -> String {
    let mut s = String::new();
    if let Some(r) = &st.recovered {
        let _ = writeln!(s, "Recovered: {r}");
    }
    let vcs = match &st.head {
        Some(h) => format!("git checkout, HEAD {h}"),
        None => "plain tree, no git".to_string(),
    };
    let _ = writeln!(s, "Tree:   {} ({vcs})", st.tree);
    let _ = writeln!(s, "Base:   {}", st.base);
    let _ = writeln!(s, "        {}", st.description);
    if st.applied > 0 {
        let _ = writeln!(s, "Evidence (in the tree with our patches taken out):");
    } else {
        let _ = writeln!(s, "Evidence:");
    }
    for e in &st.evidence {
        match (e.present, e.line) {
            (true, Some(l)) => {
                let _ = writeln!(
                    s,
                    "  {}:{l}: {}\n      {}",
                    e.file,
                    e.what,
                    e.text.as_deref().unwrap_or("")
                );
            }
            _ => {
                let _ = writeln!(s, "  {}: {}: absent, as expected", e.file, e.what);
            }
        }
    }
    let n = st.patches.len();
    if n == 0 {
        let _ = writeln!(s, "Our patches: none for this base");
    } else {
        let _ = writeln!(s, "Our patches ({} of {n} applied):", st.applied);
        for p in &st.patches {
            let state = match p.state {
                PatchState::Applied => "applied",
                PatchState::NotApplied => "not applied",
                PatchState::Conflict => "DOES NOT APPLY",
            };
            let _ = writeln!(s, "  [{state}] {}", p.name);
            let _ = writeln!(s, "      {}", p.subject);
            for f in &p.files {
                let at = match p.state {
                    PatchState::Applied => "at",
                    _ => "would apply at",
                };
                let line = if f.lines.len() == 1 { "line" } else { "lines" };
                let _ = writeln!(s, "      {}: {at} {line} {}", f.file, hunks(f));
            }
            if let Some(problem) = &p.problem {
                let _ = writeln!(s, "      problem: {problem}");
            }
        }
    }
    let _ = match &st.plan {
        Plan::NothingAllApplied => writeln!(s, "Apply would: nothing (already applied)"),
        Plan::NothingNoPatches => writeln!(s, "Apply would: nothing (no patches for this base)"),
        Plan::Apply { patches, files } => writeln!(
            s,
            "Apply would: apply {} patch(es), changing {}",
            patches.len(),
            files.join(", ")
        ),
        Plan::Refuse { reason } => writeln!(s, "Apply would: refuse: {reason}"),
    };
    let _ = match &st.revert {
        RevertPlan::Nothing => writeln!(s, "Revert would: nothing (none of ours applied)"),
        RevertPlan::Revert {
            patches,
            files,
            keeps_changes_in,
        } => {
            let _ = write!(
                s,
                "Revert would: reverse exactly our hunks of {} patch(es), changing {}",
                patches.len(),
                files.join(", ")
            );
            if keeps_changes_in.is_empty() {
                writeln!(s)
            } else {
                writeln!(
                    s,
                    "; your other changes in {} are kept",
                    keeps_changes_in.join(", ")
                )
            }
        }
        RevertPlan::Refuse { reason, .. } => writeln!(s, "Revert would: refuse: {reason}"),
    };
    s
}

/// The text `patch check` prints.
pub fn check_text(r: &CheckReport) -> String {
    let mut s = String::new();
    let targets = r
        .architectures
        .iter()
        .map(|a| format!("{} ({a})", a.target()))
        .collect::<Vec<_>>()
        .join(" and ");
    let _ = writeln!(
        s,
        "Base {} ({} patch(es)); clang {} for {targets}",
        r.base,
        r.patches.len(),
        r.clang
    );
    for f in &r.files {
        let verdict = match f.verdict {
            Verdict::Ok => "ok",
            Verdict::PatchBroke => "FAILED (the patch's fault: compiles unpatched, not patched)",
            Verdict::Environment => {
                "FAILED (environment: fails unpatched too; not the patch's fault)"
            }
            Verdict::FixedByPatch => "ok patched (fails unpatched: environment)",
            Verdict::NewWarnings => {
                "FAILED (the patch's fault: it adds warnings, and Haiku builds this with -Werror)"
            }
        };
        let _ = writeln!(s, "{} [{}, {}]: {verdict}", f.file, f.profile, f.arch);
        for (label, c) in [("unpatched", &f.unpatched), ("patched", &f.patched)] {
            let _ = writeln!(
                s,
                "  {label}: {} ({} errors, {} warnings)",
                if c.ok { "ok" } else { "failed" },
                c.errors.len(),
                c.warnings
            );
            if !c.ok {
                for e in c.errors.iter().take(10) {
                    let _ = writeln!(s, "    {e}");
                }
                if c.errors.is_empty() {
                    for l in c.stderr.lines().take(10) {
                        let _ = writeln!(s, "    {l}");
                    }
                }
            }
        }
        for w in f.new_warnings.iter().take(10) {
            let _ = writeln!(s, "  new with the patch: warning: {w}");
        }
    }
    let _ = writeln!(s, "{}", r.summary);
    s
}
