//! A small unified-diff reader and applier for `git format-patch` files.
//!
//! Why our own: `patch apply` must check the whole series in memory before
//! it writes anything, behave the same on git checkouts and plain trees, and
//! never guess. So the rules are strict and simple:
//!
//! * a hunk applies where its old side (context and removed lines) matches
//!   the file *exactly*, byte for byte; no fuzz, no whitespace leniency;
//! * it may sit at another line than the header says (line offsets, as
//!   `git apply` and `patch` allow): the nearest exact match to the expected
//!   line wins, searching outwards, never before the previous hunk's end;
//! * reversing a patch swaps its old and new sides, with the same rules.
//!
//! Files created (`--- /dev/null`) and deleted (`+++ /dev/null`) are
//! supported; renames, copies, mode changes and binary patches are refused
//! when the patch is parsed.

use std::fmt;

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// ` ` unchanged line.
    Context(String),
    /// `-` line removed.
    Remove(String),
    /// `+` line added.
    Add(String),
}

/// One `@@ -a,b +c,d @@` hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// 1-based start line on the old side (0 for an empty old side).
    pub old_start: usize,
    /// 1-based start line on the new side.
    pub new_start: usize,
    /// The function context after the second `@@`, if any.
    pub section: String,
    /// The lines, each with its trailing newline unless it is the last line
    /// of a file without one.
    pub lines: Vec<Line>,
}

impl Hunk {
    fn side(&self, reverse: bool, old: bool) -> Vec<&str> {
        let want_old = old != reverse;
        self.lines
            .iter()
            .filter_map(|l| match l {
                Line::Context(s) => Some(s.as_str()),
                Line::Remove(s) if want_old => Some(s.as_str()),
                Line::Add(s) if !want_old => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    fn start(&self, reverse: bool) -> usize {
        if reverse {
            self.new_start
        } else {
            self.old_start
        }
    }
}

/// The changes to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePatch {
    /// Path before the change, relative to the tree top (`None`: created).
    pub old_path: Option<String>,
    /// Path after the change (`None`: deleted).
    pub new_path: Option<String>,
    /// The hunks, in file order.
    pub hunks: Vec<Hunk>,
}

impl FilePatch {
    /// The path the patch changes (the new path, or the old one for a
    /// deletion).
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or_default()
    }

    /// Whether the file must exist before applying (`reverse`: before
    /// reverting).
    pub fn expects_existing(&self, reverse: bool) -> bool {
        if reverse {
            self.new_path.is_some()
        } else {
            self.old_path.is_some()
        }
    }

    /// Whether the file exists after applying (`reverse`: after reverting).
    pub fn exists_after(&self, reverse: bool) -> bool {
        self.expects_existing(!reverse)
    }
}

/// A parsed patch file: its commit subject and its file changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// The `Subject:` line, without `[PATCH]`, if present.
    pub subject: Option<String>,
    /// The files it changes, in patch order.
    pub files: Vec<FilePatch>,
}

/// A patch file that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line in the patch file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn perr(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

fn strip_prefix_path(p: &str, line: usize) -> Result<Option<String>, ParseError> {
    let p = p.split('\t').next().unwrap_or(p).trim_end();
    if p == "/dev/null" {
        return Ok(None);
    }
    let rest = p
        .strip_prefix("a/")
        .or_else(|| p.strip_prefix("b/"))
        .ok_or_else(|| perr(line, format!("path {p:?} has no a/ or b/ prefix (-p1)")))?;
    if rest.is_empty()
        || rest.starts_with('/')
        || rest
            .split('/')
            .any(|c| c == ".." || c == "." || c.is_empty())
    {
        return Err(perr(line, format!("unsafe path {p:?}")));
    }
    Ok(Some(rest.to_string()))
}

fn parse_range(s: &str, line: usize) -> Result<(usize, usize), ParseError> {
    let (a, b) = match s.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let start = a
        .parse()
        .map_err(|_| perr(line, format!("bad hunk range {s:?}")))?;
    let count = match b {
        Some(b) => b
            .parse()
            .map_err(|_| perr(line, format!("bad hunk range {s:?}")))?,
        None => 1,
    };
    Ok((start, count))
}

/// Parses a unified diff as `git format-patch` or `git diff` writes it.
pub fn parse(text: &str) -> Result<Patch, ParseError> {
    // Keep line terminators: "\ No newline at end of file" removes one.
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut subject = None;
    let mut files = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim_end_matches('\n');
        if subject.is_none() {
            if let Some(first) = l.strip_prefix("Subject: ") {
                // A long subject is folded onto continuation lines that
                // start with white space (RFC 5322).
                let mut s = first.to_string();
                let mut j = i + 1;
                while let Some(cont) = lines.get(j) {
                    if !(cont.starts_with(' ') || cont.starts_with('\t')) {
                        break;
                    }
                    s.push(' ');
                    s.push_str(cont.trim());
                    j += 1;
                }
                let s = s.as_str();
                // "[PATCH] x", "[PATCH 1/2] x", "[PATCH v2 3/4] x" -> "x"
                let s = match s.strip_prefix('[') {
                    Some(rest) if rest.starts_with("PATCH") => {
                        rest.split_once("] ").map_or(s, |(_, subject)| subject)
                    }
                    _ => s,
                };
                subject = Some(s.to_string());
            }
        }
        if l.starts_with("GIT binary patch") || l.starts_with("Binary files ") {
            return Err(perr(i + 1, "binary patches are not supported"));
        }
        for refused in ["rename from ", "copy from ", "old mode ", "new mode "] {
            if l.starts_with(refused) {
                return Err(perr(
                    i + 1,
                    format!("`{}` is not supported", refused.trim_end()),
                ));
            }
        }
        if let Some(old) = l.strip_prefix("--- ") {
            let next = lines
                .get(i + 1)
                .map(|s| s.trim_end_matches('\n'))
                .unwrap_or("");
            let Some(new) = next.strip_prefix("+++ ") else {
                i += 1;
                continue;
            };
            let old_path = strip_prefix_path(old, i + 1)?;
            let new_path = strip_prefix_path(new, i + 2)?;
            if old_path.is_none() && new_path.is_none() {
                return Err(perr(i + 1, "both sides are /dev/null"));
            }
            if let (Some(a), Some(b)) = (&old_path, &new_path) {
                if a != b {
                    return Err(perr(i + 1, "renames are not supported"));
                }
            }
            i += 2;
            let mut hunks = Vec::new();
            while i < lines.len() && lines[i].starts_with("@@ ") {
                let (hunk, next) = parse_hunk(&lines, i)?;
                hunks.push(hunk);
                i = next;
            }
            if hunks.is_empty() {
                return Err(perr(i + 1, "file header without hunks"));
            }
            files.push(FilePatch {
                old_path,
                new_path,
                hunks,
            });
            continue;
        }
        i += 1;
    }
    if files.is_empty() {
        return Err(perr(1, "no file changes found (is this a unified diff?)"));
    }
    Ok(Patch { subject, files })
}

fn parse_hunk(lines: &[&str], at: usize) -> Result<(Hunk, usize), ParseError> {
    let header = lines[at].trim_end_matches('\n');
    let body = &header[3..];
    let end = body
        .find(" @@")
        .ok_or_else(|| perr(at + 1, "bad hunk header"))?;
    let mut ranges = body[..end].split(' ');
    let old = ranges
        .next()
        .and_then(|r| r.strip_prefix('-'))
        .ok_or_else(|| perr(at + 1, "bad hunk header"))?;
    let new = ranges
        .next()
        .and_then(|r| r.strip_prefix('+'))
        .ok_or_else(|| perr(at + 1, "bad hunk header"))?;
    let (old_start, mut old_left) = parse_range(old, at + 1)?;
    let (new_start, mut new_left) = parse_range(new, at + 1)?;
    let section = body[end + 3..].trim().to_string();
    let mut out = Vec::new();
    let mut i = at + 1;
    while old_left > 0 || new_left > 0 {
        let Some(raw) = lines.get(i) else {
            return Err(perr(i, "hunk ends early"));
        };
        let (tag, text) = match raw.chars().next() {
            Some(c @ (' ' | '-' | '+')) => (c, raw[1..].to_string()),
            // Some tools drop the space of an empty context line.
            Some('\n') => (' ', "\n".to_string()),
            _ => return Err(perr(i + 1, "hunk ends early")),
        };
        match tag {
            ' ' if old_left > 0 && new_left > 0 => {
                old_left -= 1;
                new_left -= 1;
                out.push(Line::Context(text));
            }
            '-' if old_left > 0 => {
                old_left -= 1;
                out.push(Line::Remove(text));
            }
            '+' if new_left > 0 => {
                new_left -= 1;
                out.push(Line::Add(text));
            }
            _ => return Err(perr(i + 1, "hunk has more lines than its header says")),
        }
        i += 1;
        if let Some(next) = lines.get(i) {
            if next.starts_with("\\ ") {
                // "\ No newline at end of file": the previous line has none.
                if let Some(Line::Context(s) | Line::Remove(s) | Line::Add(s)) = out.last_mut() {
                    if s.ends_with('\n') {
                        s.pop();
                    }
                }
                i += 1;
            }
        }
    }
    Ok((
        Hunk {
            old_start,
            new_start,
            section,
            lines: out,
        },
        i,
    ))
}

/// Where one hunk applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HunkPlacement {
    /// 1-based line in the input where the hunk's old side starts.
    pub line: usize,
    /// Lines away from where the hunk header said (positive: later).
    pub offset: isize,
}

/// Why a file patch did not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// A hunk's old side was not found anywhere after the previous hunk.
    #[error("hunk #{hunk} (expected near line {expected}{section}) does not match")]
    HunkMismatch {
        /// 1-based hunk number.
        hunk: usize,
        /// The line the header gave.
        expected: usize,
        /// `, in <function>` when the hunk header names one.
        section: String,
    },
    /// The file should not exist yet but does (creation) or should exist
    /// but does not.
    #[error("{0}")]
    Existence(String),
    /// Deleting the file would drop content the patch does not know.
    #[error("the file has content the deletion does not expect")]
    DeleteMismatch,
}

/// Applies (or, with `reverse`, reverts) one file patch to `input`
/// (`None`: the file does not exist). Returns the new content (`None`: the
/// file is deleted) and where each hunk went.
#[allow(clippy::type_complexity)]
pub fn apply_file(
    fp: &FilePatch,
    input: Option<&str>,
    reverse: bool,
) -> Result<(Option<String>, Vec<HunkPlacement>), ApplyError> {
    match (fp.expects_existing(reverse), input) {
        (true, None) => {
            return Err(ApplyError::Existence("the file does not exist".into()));
        }
        (false, Some(_)) => {
            return Err(ApplyError::Existence(
                "the file already exists (the patch creates it)".into(),
            ));
        }
        _ => {}
    }
    let text = input.unwrap_or("");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len() + 256);
    let mut placements = Vec::new();
    let mut pos = 0usize; // next unconsumed input line (0-based)
    let mut drift: isize = 0; // offset found so far
    for (n, hunk) in fp.hunks.iter().enumerate() {
        let old = hunk.side(reverse, true);
        let new = hunk.side(reverse, false);
        let header_start = hunk.start(reverse);
        // 0-based expected index; an empty old side "starts" after line N.
        let expected = if old.is_empty() {
            header_start
        } else {
            header_start.saturating_sub(1)
        };
        let want = (expected as isize + drift).max(pos as isize) as usize;
        let found =
            find_block(&lines, &old, pos, want).ok_or_else(|| ApplyError::HunkMismatch {
                hunk: n + 1,
                expected: header_start,
                section: if hunk.section.is_empty() {
                    String::new()
                } else {
                    format!(", in {}", hunk.section)
                },
            })?;
        drift = found as isize - expected as isize;
        placements.push(HunkPlacement {
            line: found + 1,
            offset: drift,
        });
        for l in &lines[pos..found] {
            out.push_str(l);
        }
        for l in &new {
            out.push_str(l);
        }
        pos = found + old.len();
    }
    for l in &lines[pos..] {
        out.push_str(l);
    }
    if fp.exists_after(reverse) {
        Ok((Some(out), placements))
    } else if out.is_empty() {
        Ok((None, placements))
    } else {
        Err(ApplyError::DeleteMismatch)
    }
}

/// Finds `block` in `lines[min..]`, nearest to `want` first (later lines
/// win a tie).
fn find_block(lines: &[&str], block: &[&str], min: usize, want: usize) -> Option<usize> {
    if block.is_empty() {
        return Some(want.clamp(min, lines.len().max(min)));
    }
    let max = lines.len().checked_sub(block.len())?;
    if min > max {
        return None;
    }
    let want = want.clamp(min, max);
    let fits = |at: usize| lines[at..at + block.len()] == *block;
    for d in 0..=(max - min) {
        let above_done = want + d > max;
        let below_done = d > want - min;
        if above_done && below_done {
            break;
        }
        if !above_done && fits(want + d) {
            return Some(want + d);
        }
        if d > 0 && !below_done && fits(want - d) {
            return Some(want - d);
        }
    }
    None
}

impl fmt::Display for HunkPlacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.offset == 0 {
            write!(f, "line {}", self.line)
        } else {
            write!(f, "line {} (offset {:+})", self.line, self.offset)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = concat!(
        "From 1 Mon Sep 17 00:00:00 2001\n",
        "Subject: [PATCH] demo: change things\n",
        "\n",
        "body\n",
        "---\n",
        "diff --git a/x/f.txt b/x/f.txt\n",
        "index 1..2 100644\n",
        "--- a/x/f.txt\n",
        "+++ b/x/f.txt\n",
        "@@ -2,3 +2,3 @@ section\n",
        " b\n",
        "-c\n",
        "+C\n",
        " d\n",
        "@@ -7,2 +7,3 @@\n",
        " g\n",
        "+g2\n",
        " h\n",
        "-- \n",
        "2.0\n",
    );

    #[test]
    fn parses_format_patch() {
        let p = parse(P).unwrap();
        assert_eq!(p.subject.as_deref(), Some("demo: change things"));
        assert_eq!(p.files.len(), 1);
        assert_eq!(p.files[0].path(), "x/f.txt");
        assert_eq!(p.files[0].hunks.len(), 2);
        assert_eq!(p.files[0].hunks[0].section, "section");
    }

    #[test]
    fn folded_subject_is_unfolded() {
        let p = parse(&P.replace(
            "Subject: [PATCH] demo: change things\n",
            "Subject: [PATCH 2/7] demo: a subject long enough that git\n format-patch folds it\n",
        ))
        .unwrap();
        assert_eq!(
            p.subject.as_deref(),
            Some("demo: a subject long enough that git format-patch folds it")
        );
    }

    #[test]
    fn applies_with_offset_and_reverts() {
        let p = parse(P).unwrap();
        let orig = "0\n0\na\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let (new, pl) = apply_file(&p.files[0], Some(orig), false).unwrap();
        let new = new.unwrap();
        assert_eq!(new, "0\n0\na\nb\nC\nd\ne\nf\ng\ng2\nh\ni\n");
        assert_eq!(pl[0].offset, 2);
        assert_eq!(pl[1].line, 9);
        let (back, _) = apply_file(&p.files[0], Some(&new), true).unwrap();
        assert_eq!(back.unwrap(), orig);
        // Already applied: the forward direction no longer matches.
        assert!(apply_file(&p.files[0], Some(&new), false).is_err());
    }

    #[test]
    fn no_fuzz_no_whitespace_leniency() {
        let p = parse(P).unwrap();
        let orig = "a\nb \nc\nd\ne\nf\ng\nh\n";
        let e = apply_file(&p.files[0], Some(orig), false).unwrap_err();
        assert!(matches!(e, ApplyError::HunkMismatch { hunk: 1, .. }), "{e}");
    }

    #[test]
    fn creation_and_deletion() {
        let c = "--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n\\ No newline at end of file\n";
        let p = parse(c).unwrap();
        let (out, _) = apply_file(&p.files[0], None, false).unwrap();
        assert_eq!(out.as_deref(), Some("one\ntwo"));
        let (gone, _) = apply_file(&p.files[0], Some("one\ntwo"), true).unwrap();
        assert_eq!(gone, None);
        assert!(apply_file(&p.files[0], Some("x"), false).is_err());
        assert!(apply_file(&p.files[0], Some("one\ntwo\nmore\n"), true).is_err());
    }

    #[test]
    fn refuses_unsafe_paths_and_renames() {
        let bad = "--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n";
        assert!(parse(bad).unwrap_err().message.contains("unsafe"));
        let ren = "diff --git a/x b/y\nrename from x\n";
        assert!(parse(ren).is_err());
        assert!(parse("hello\n").is_err());
    }
}
