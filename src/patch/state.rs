//! Working out what a tree is: its base, which of our patches it carries,
//! the evidence, and what `apply` would do.

use std::collections::BTreeSet;

use serde::Serialize;

use super::diff::{self, HunkPlacement};
use super::series::{Base, Rule, Series, SeriesPatch};
use super::tree::{Contents, Tree, Vcs};

/// One detection rule as evaluated on the tree.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// What the rule looks for.
    pub what: String,
    /// The file it looks in.
    pub file: String,
    /// The pattern.
    pub pattern: String,
    /// Whether the pattern must be present (`false`: must be absent).
    pub present: bool,
    /// Whether the rule held.
    pub held: bool,
    /// 1-based line of the first match, if the pattern matched.
    pub line: Option<usize>,
    /// The matching line's text (trimmed).
    pub text: Option<String>,
    /// Whether the file exists at all.
    pub file_exists: bool,
}

/// Where one file's hunks of a patch are (applied) or would go (not
/// applied).
#[derive(Debug, Clone, Serialize)]
pub struct FileHunks {
    /// Tree-relative path.
    pub file: String,
    /// 1-based line of each hunk.
    pub lines: Vec<usize>,
    /// Offset of each hunk from where the patch says.
    pub offsets: Vec<isize>,
}

/// The state of one of our patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchState {
    /// In the tree (it reverse-applies exactly).
    Applied,
    /// Not in the tree, and it applies.
    NotApplied,
    /// Not in the tree, and it does not apply.
    Conflict,
}

/// One of our patches and its state.
#[derive(Debug, Clone, Serialize)]
pub struct PatchStatus {
    /// Manifest name (path relative to kernel-patch/).
    pub name: String,
    /// The commit subject.
    pub subject: String,
    /// Its state.
    pub state: PatchState,
    /// Where its hunks are or would go.
    pub files: Vec<FileHunks>,
    /// Why it does not apply (for `Conflict`).
    pub problem: Option<String>,
}

/// What `apply` would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Plan {
    /// Every patch is applied already.
    NothingAllApplied,
    /// The base has no patches of ours.
    NothingNoPatches,
    /// Apply these patches (manifest names) touching these files.
    Apply {
        /// Patches, in order.
        patches: Vec<String>,
        /// Files that would change.
        files: Vec<String>,
    },
    /// A patch does not apply: apply would refuse.
    Refuse {
        /// Why.
        reason: String,
    },
}

/// One of our hunks whose lines the user changed after it was applied (its
/// applied text is no longer in the file): revert refuses to touch it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedHunk {
    /// The patch (manifest name).
    pub patch: String,
    /// Tree-relative file.
    pub file: String,
    /// 1-based hunk number within the patch's changes to `file`.
    pub hunk: usize,
    /// The hunk header, `@@ -a,b +c,d @@ section`.
    pub header: String,
    /// The lines the applied hunk covers, as the patch numbers them (the
    /// header's new side), first and last.
    pub lines: (usize, usize),
}

impl std::fmt::Display for ChangedHunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: hunk #{} of {} ({}; lines {}-{} as the patch left them)",
            self.file, self.hunk, self.patch, self.header, self.lines.0, self.lines.1
        )
    }
}

/// What `revert` would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RevertPlan {
    /// None of our patches is applied.
    Nothing,
    /// Reverse exactly our hunks, keeping every other change.
    Revert {
        /// Patches, in the order they are reverted.
        patches: Vec<String>,
        /// Files that would change.
        files: Vec<String>,
        /// Files among them with other uncommitted changes (git checkouts),
        /// which are kept.
        keeps_changes_in: Vec<String>,
    },
    /// The user changed lines our hunks own: revert would refuse.
    Refuse {
        /// Why, naming the hunks.
        reason: String,
        /// The hunks.
        hunks: Vec<ChangedHunk>,
    },
}

/// Everything `patch status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The tree's top directory.
    pub tree: String,
    /// `git` or `plain`.
    pub vcs: String,
    /// `git rev-parse --short HEAD`, for git checkouts.
    pub head: Option<String>,
    /// The base name.
    pub base: String,
    /// The base's description.
    pub description: String,
    /// The base's rules, evaluated on the tree as upstream shipped it (with
    /// our applied patches taken out, when there are any).
    pub evidence: Vec<Evidence>,
    /// Number of our patches in the tree (a prefix of the series).
    pub applied: usize,
    /// Our patches for this base, in order.
    pub patches: Vec<PatchStatus>,
    /// What apply would do.
    pub plan: Plan,
    /// What revert would do.
    pub revert: RevertPlan,
    /// What finishing an interrupted earlier apply or revert did before
    /// the status was taken, if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
}

impl Status {
    /// Whether the whole series is applied (true for an empty series).
    pub fn fully_applied(&self) -> bool {
        self.applied == self.patches.len()
    }
}

/// The tree is none of the known bases (or more than one).
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Unrecognised {
    /// A human explanation listing what was looked for.
    pub message: String,
    /// Every base's rules as evaluated on the tree.
    pub bases: Vec<(String, Vec<Evidence>)>,
}

/// Every file the series' rules or patches refer to.
pub fn files_of(series: &Series) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    for b in &series.bases {
        for r in &b.detect {
            files.insert(r.file.clone());
        }
        for p in &b.patches {
            for f in &p.patch.files {
                files.insert(f.path().to_string());
            }
        }
    }
    files
}

/// Evaluates one rule on file contents.
pub fn eval_rule(rule: &Rule, contents: &Contents) -> Evidence {
    let text = contents.get(&rule.file).cloned().flatten();
    let found = text.as_deref().and_then(|t| {
        t.lines()
            .enumerate()
            .find(|(_, l)| rule.regex.is_match(l))
            .map(|(i, l)| (i + 1, l.trim().to_string()))
    });
    Evidence {
        what: rule.what.clone(),
        file: rule.file.clone(),
        pattern: rule.pattern.clone(),
        present: rule.present,
        held: text.is_some() && found.is_some() == rule.present,
        line: found.as_ref().map(|f| f.0),
        text: found.map(|f| f.1),
        file_exists: text.is_some(),
    }
}

/// Applies (or reverts) a whole patch to a set of contents, in memory.
pub fn apply_patch(
    p: &SeriesPatch,
    contents: &mut Contents,
    reverse: bool,
) -> Result<Vec<FileHunks>, String> {
    let mut placed = Vec::new();
    let mut next = contents.clone();
    for fp in &p.patch.files {
        let rel = fp.path();
        let cur = next.get(rel).cloned().flatten();
        let (out, pl): (Option<String>, Vec<HunkPlacement>) =
            diff::apply_file(fp, cur.as_deref(), reverse).map_err(|e| format!("{rel}: {e}"))?;
        next.insert(rel.to_string(), out);
        placed.push(FileHunks {
            file: rel.to_string(),
            lines: pl.iter().map(|h| h.line).collect(),
            offsets: pl.iter().map(|h| h.offset).collect(),
        });
    }
    *contents = next;
    Ok(placed)
}

/// Reverts the first `k` patches of `base` (last first) from `contents`.
pub fn unapply(base: &Base, k: usize, contents: &Contents) -> Result<Contents, String> {
    unapply_last(base, k, k, contents)
}

/// With the first `k` patches of `base` applied in `contents`, reverts the
/// last `j` of them (patch k-1 first).
pub fn unapply_last(
    base: &Base,
    k: usize,
    j: usize,
    contents: &Contents,
) -> Result<Contents, String> {
    let mut c = contents.clone();
    for p in base.patches[k - j..k].iter().rev() {
        apply_patch(p, &mut c, true)?;
    }
    Ok(c)
}

struct Candidate<'a> {
    base: &'a Base,
    applied: usize,
    evidence: Vec<Evidence>,
    changed: Vec<ChangedHunk>,
    /// Hunks found applied, for readings with changed hunks (more is
    /// better evidence); 0 for strict readings.
    reversed: usize,
}

fn hunk_header(h: &diff::Hunk) -> (String, usize, usize) {
    let old = h
        .lines
        .iter()
        .filter(|l| !matches!(l, diff::Line::Add(_)))
        .count();
    let new = h
        .lines
        .iter()
        .filter(|l| !matches!(l, diff::Line::Remove(_)))
        .count();
    let mut header = format!("@@ -{},{old} +{},{new} @@", h.old_start, h.new_start);
    if !h.section.is_empty() {
        header.push(' ');
        header.push_str(&h.section);
    }
    (header, h.new_start, h.new_start + new.max(1) - 1)
}

/// Reverts the first `k` patches of `base` from `contents` hunk by hunk,
/// leaving the hunks of which neither the applied nor the original text is
/// found, but which are still recognisable (changed by the user), and
/// listing them, with the number of hunks found applied. `None` when a
/// hunk's original text is there or it is not
/// recognisable (that patch is not applied), when a patch creates
/// or deletes a file that is not as it left it, or when none of the hunks
/// of patches `from..k` is found applied or recognised by its added lines
/// (a patch whose only hunk the user changed is still there: revert must
/// name that hunk, not read the tree as one patch fewer).
pub fn unapply_lenient(
    base: &Base,
    from: usize,
    k: usize,
    contents: &Contents,
) -> Option<(Contents, Vec<ChangedHunk>, usize)> {
    let mut c = contents.clone();
    let mut changed = Vec::new();
    let mut found_beyond = false;
    let mut reversed = 0;
    for (i, p) in base.patches[..k].iter().enumerate().rev() {
        let mut found_any = false;
        for fp in &p.patch.files {
            let rel = fp.path();
            let cur = c.get(rel).cloned().flatten();
            if let Ok((out, _)) = diff::apply_file(fp, cur.as_deref(), true) {
                c.insert(rel.to_string(), out);
                found_any = true;
                reversed += fp.hunks.len();
                continue;
            }
            if !(fp.expects_existing(true) && fp.exists_after(true)) {
                return None;
            }
            let cur = cur?;
            let mut keep = Vec::new();
            for (i, h) in fp.hunks.iter().enumerate() {
                let single = diff::FilePatch {
                    hunks: vec![h.clone()],
                    ..fp.clone()
                };
                if diff::apply_file(&single, Some(&cur), true).is_ok() {
                    keep.push(h.clone());
                } else if diff::apply_file(&single, Some(&cur), false).is_ok() {
                    return None;
                } else {
                    match recognisable(h, &cur)? {
                        Recognised::ByItsAdditions => found_any = true,
                        Recognised::ByItsContext => {}
                    }
                    let (header, first, last) = hunk_header(h);
                    changed.push(ChangedHunk {
                        patch: p.name.clone(),
                        file: rel.to_string(),
                        hunk: i + 1,
                        header,
                        lines: (first, last),
                    });
                }
            }
            if keep.is_empty() {
                continue;
            }
            reversed += keep.len();
            let sub = diff::FilePatch {
                hunks: keep,
                ..fp.clone()
            };
            let (out, _) = diff::apply_file(&sub, Some(&cur), true).ok()?;
            c.insert(rel.to_string(), out);
            found_any = true;
        }
        found_beyond |= found_any && i >= from;
    }
    found_beyond.then_some((c, changed, reversed))
}

/// Whether patches `k..` of `base` apply to `contents` (with the first `k`
/// in it).
fn applies_forward(base: &Base, k: usize, contents: &Contents) -> bool {
    let mut c = contents.clone();
    base.patches[k..]
        .iter()
        .all(|p| apply_patch(p, &mut c, false).is_ok())
}

/// Whether a hunk that neither reverse- nor forward-applies is still
/// recognisably there (ours, with lines changed by the user): at least half
/// of its added lines (of its whole new side, when it adds fewer than two),
/// counting lines with at least 4 characters besides white space, are
/// lines of the file. Else it was never applied here (e.g. upstream changed
/// the same place its own way).
fn recognisable(h: &diff::Hunk, text: &str) -> Option<Recognised> {
    let substantive = |s: &&String| s.trim().len() >= 4;
    let adds: Vec<&String> = h
        .lines
        .iter()
        .filter_map(|l| match l {
            diff::Line::Add(s) => Some(s),
            _ => None,
        })
        .filter(substantive)
        .collect();
    let by_adds = adds.len() >= 2;
    let lines: Vec<&String> = if by_adds {
        adds
    } else {
        h.lines
            .iter()
            .filter_map(|l| match l {
                diff::Line::Add(s) | diff::Line::Context(s) => Some(s),
                diff::Line::Remove(_) => None,
            })
            .filter(substantive)
            .collect()
    };
    if lines.is_empty() {
        return None;
    }
    let file: std::collections::HashSet<&str> = text
        .split_inclusive('\n')
        .map(|l| l.trim_end_matches('\n'))
        .collect();
    let found = lines
        .iter()
        .filter(|l| file.contains(l.trim_end_matches('\n')))
        .count();
    (found * 2 >= lines.len()).then_some(if by_adds {
        Recognised::ByItsAdditions
    } else {
        Recognised::ByItsContext
    })
}

/// How a changed hunk was recognised by [`recognisable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recognised {
    /// At least two of its added lines, half of them or more, are in the
    /// file: only our patch put them there, so the hunk is evidence that
    /// its patch is applied, even when it is the patch's only hunk.
    ByItsAdditions,
    /// By its context (it adds fewer than two lines): upstream may have
    /// made the same change its own way, so it proves nothing by itself.
    ByItsContext,
}

/// The reason revert refuses over changed hunks.
pub fn changed_hunks_reason(hunks: &[ChangedHunk]) -> String {
    let list: Vec<String> = hunks.iter().map(|h| h.to_string()).collect();
    format!(
        "lines our patches own were changed after they were applied: {}. Revert only \
         reverses our hunks exactly as they were applied; make those lines as the patch left \
         them again (or take that change out by hand), then revert",
        list.join("; ")
    )
}

/// Works out the state of the tree whose relevant files are `contents`.
pub fn compute<'s>(
    series: &'s Series,
    tree: &Tree,
    contents: &Contents,
) -> Result<(Status, &'s Base), Unrecognised> {
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut lenient: Vec<Candidate> = Vec::new();
    let mut all_evidence = Vec::new();
    for base in &series.bases {
        let mut pristine_evidence = None;
        for k in (0..=base.patches.len()).rev() {
            let Ok(orig) = unapply(base, k, contents) else {
                continue;
            };
            let ev: Vec<Evidence> = base.detect.iter().map(|r| eval_rule(r, &orig)).collect();
            if k == 0 {
                pristine_evidence = Some(ev.clone());
            }
            if ev.iter().all(|e| e.held) {
                candidates.push(Candidate {
                    base,
                    applied: k,
                    evidence: ev,
                    changed: Vec::new(),
                    // Only compared between readings with changed hunks:
                    // strict readings that tie stay an error.
                    reversed: 0,
                });
                break;
            }
        }
        // Our patches applied, with some of their lines changed by the
        // user since: the rules in files without changed hunks must hold.
        let strict_k = candidates
            .iter()
            .find(|c| std::ptr::eq(c.base, base))
            .map(|c| c.applied);
        for k in (strict_k.map_or(1, |s| s + 1)..=base.patches.len()).rev() {
            let from = strict_k.unwrap_or(0);
            let Some((orig, changed, reversed)) = unapply_lenient(base, from, k, contents) else {
                continue;
            };
            if changed.is_empty() {
                continue;
            }
            let ev: Vec<Evidence> = base.detect.iter().map(|r| eval_rule(r, &orig)).collect();
            let judged: Vec<&Evidence> = ev
                .iter()
                .filter(|e| !changed.iter().any(|h| h.file == e.file))
                .collect();
            if judged.iter().any(|e| e.present) && judged.iter().all(|e| e.held) {
                lenient.push(Candidate {
                    base,
                    applied: k,
                    evidence: ev,
                    changed,
                    reversed,
                });
                break;
            }
        }
        all_evidence.push((base.name.clone(), pristine_evidence.unwrap_or_default()));
    }
    // A strict reading that is settled (our patches of its base are all
    // applied, or the rest of them applies, as upstream's own tree or ours
    // would be) always wins: "changed hunks" are only how a tree that no
    // strict reading settles is explained.
    let settled = candidates.iter().any(|c| {
        let n = c.base.patches.len();
        n > 0 && (c.applied == n || applies_forward(c.base, c.applied, contents))
    });
    if !settled {
        candidates.extend(lenient);
    }
    // The most of our patches explains the tree best: a tree carrying our
    // legacy patch also looks like an unpatched later base. Between as
    // many, the one with fewer changed hunks, then with more hunks found.
    let key = |c: &Candidate| {
        (
            std::cmp::Reverse(c.applied),
            c.changed.len(),
            std::cmp::Reverse(c.reversed),
        )
    };
    candidates.sort_by_key(key);
    let best = match candidates.as_slice() {
        [] => return Err(unrecognised(tree, all_evidence, None)),
        [one] => one,
        [a, b, ..] if key(a) < key(b) => a,
        [a, b, ..] => {
            return Err(unrecognised(
                tree,
                all_evidence,
                Some(format!(
                    "it matches more than one base ({} and {}); the manifest's rules overlap",
                    a.base.name, b.base.name
                )),
            ))
        }
    };
    let base = best.base;
    let k = best.applied;
    let mut patches = Vec::new();
    // Applied ones: where they are now (reverse placement on the current
    // content, last first so each sees the content it produced).
    let mut cur = contents.clone();
    let mut applied_status = Vec::new();
    for p in base.patches[..k].iter().rev() {
        let files = apply_patch(p, &mut cur, true).unwrap_or_else(|_| {
            // A patch with changed hunks: the others, where they are.
            let changed_here: Vec<&ChangedHunk> =
                best.changed.iter().filter(|h| h.patch == p.name).collect();
            let mut out = Vec::new();
            for fp in &p.patch.files {
                let rel = fp.path();
                let hunks: Vec<diff::Hunk> = fp
                    .hunks
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| {
                        !changed_here
                            .iter()
                            .any(|h| h.file == rel && h.hunk == i + 1)
                    })
                    .map(|(_, h)| h.clone())
                    .collect();
                if hunks.is_empty() {
                    continue;
                }
                let sub = diff::FilePatch {
                    hunks,
                    ..fp.clone()
                };
                let input = cur.get(rel).cloned().flatten();
                if let Ok((next, pl)) = diff::apply_file(&sub, input.as_deref(), true) {
                    cur.insert(rel.to_string(), next);
                    out.push(FileHunks {
                        file: rel.to_string(),
                        lines: pl.iter().map(|h| h.line).collect(),
                        offsets: pl.iter().map(|h| h.offset).collect(),
                    });
                }
            }
            out
        });
        let changed_here: Vec<String> = best
            .changed
            .iter()
            .filter(|h| h.patch == p.name)
            .map(|h| h.to_string())
            .collect();
        applied_status.push(PatchStatus {
            name: p.name.clone(),
            subject: p.title().to_string(),
            state: PatchState::Applied,
            files,
            problem: (!changed_here.is_empty()).then(|| {
                format!(
                    "applied, but lines of it were changed since: {}",
                    changed_here.join("; ")
                )
            }),
        });
    }
    applied_status.reverse();
    patches.extend(applied_status);
    // The rest: forward from the current content.
    let mut fwd = contents.clone();
    let mut blocked = None;
    let mut to_apply = Vec::new();
    let mut touched = BTreeSet::new();
    for p in &base.patches[k..] {
        if let Some(reason) = &blocked {
            patches.push(PatchStatus {
                name: p.name.clone(),
                subject: p.title().to_string(),
                state: PatchState::Conflict,
                files: Vec::new(),
                problem: Some(format!(
                    "after an earlier patch that does not apply: {reason}"
                )),
            });
            continue;
        }
        match apply_patch(p, &mut fwd, false) {
            Ok(files) => {
                to_apply.push(p.name.clone());
                touched.extend(files.iter().map(|f| f.file.clone()));
                patches.push(PatchStatus {
                    name: p.name.clone(),
                    subject: p.title().to_string(),
                    state: PatchState::NotApplied,
                    files,
                    problem: None,
                });
            }
            Err(e) => {
                blocked = Some(e.clone());
                patches.push(PatchStatus {
                    name: p.name.clone(),
                    subject: p.title().to_string(),
                    state: PatchState::Conflict,
                    files: Vec::new(),
                    problem: Some(e),
                });
            }
        }
    }
    let plan = if base.patches.is_empty() {
        Plan::NothingNoPatches
    } else if !best.changed.is_empty() && k < base.patches.len() {
        Plan::Refuse {
            reason: changed_hunks_reason(&best.changed),
        }
    } else if let Some(reason) = blocked {
        Plan::Refuse {
            reason: format!(
                "{reason} (the file differs from what the patch expects: local changes, \
                 or a revision outside the base's range)"
            ),
        }
    } else if k == base.patches.len() {
        Plan::NothingAllApplied
    } else {
        Plan::Apply {
            patches: to_apply,
            files: touched.into_iter().collect(),
        }
    };
    let revert = if k == 0 {
        RevertPlan::Nothing
    } else if !best.changed.is_empty() {
        RevertPlan::Refuse {
            reason: changed_hunks_reason(&best.changed),
            hunks: best.changed.clone(),
        }
    } else {
        let mut files = BTreeSet::new();
        for p in &base.patches[..k] {
            files.extend(p.patch.files.iter().map(|f| f.path().to_string()));
        }
        RevertPlan::Revert {
            patches: base.patches[..k]
                .iter()
                .rev()
                .map(|p| p.name.clone())
                .collect(),
            files: files.into_iter().collect(),
            keeps_changes_in: Vec::new(),
        }
    };
    let (vcs, head) = match &tree.vcs {
        Vcs::Git { head } => ("git".to_string(), Some(head.clone())),
        Vcs::Plain => ("plain".to_string(), None),
    };
    Ok((
        Status {
            tree: tree.root.display().to_string(),
            vcs,
            head,
            base: base.name.clone(),
            description: base.description.clone(),
            evidence: best.evidence.clone(),
            applied: k,
            patches,
            plan,
            revert,
            recovered: None,
        },
        base,
    ))
}

fn unrecognised(
    tree: &Tree,
    bases: Vec<(String, Vec<Evidence>)>,
    why: Option<String>,
) -> Unrecognised {
    let mut files: Vec<&str> = bases
        .iter()
        .flat_map(|(_, ev)| ev.iter().map(|e| e.file.as_str()))
        .collect();
    files.sort_unstable();
    files.dedup();
    let nothing_there = bases
        .iter()
        .all(|(_, ev)| ev.iter().all(|e| !e.file_exists));
    let why = why.unwrap_or_else(|| {
        if nothing_there && !files.is_empty() {
            format!("none of the files it reads exists ({})", files.join(", "))
        } else {
            "no base matches".into()
        }
    });
    let mut m = format!(
        "{} is not a Haiku tree this tool knows: {why}.\nLooked for:\n",
        tree.root.display(),
    );
    for (name, ev) in &bases {
        m.push_str(&format!("  {name}:\n"));
        for e in ev {
            let verdict = if !e.file_exists {
                "file not found".to_string()
            } else if e.held {
                match e.line {
                    Some(l) => format!("ok ({}:{l})", e.file),
                    None => "ok (absent)".to_string(),
                }
            } else if e.present {
                "NOT FOUND".to_string()
            } else {
                format!("FOUND at {}:{}", e.file, e.line.unwrap_or(0))
            };
            let kind = if e.present { "" } else { " (must be absent)" };
            m.push_str(&format!(
                "    {}{kind} in {} /{}/: {verdict}\n",
                e.what, e.file, e.pattern
            ));
        }
    }
    m.push_str(
        "Pass --haiku the top directory of a haiku/haiku checkout (R1/beta1 2018 or later), \
         or extend kernel-patch/series.toml for this tree.",
    );
    Unrecognised { message: m, bases }
}
