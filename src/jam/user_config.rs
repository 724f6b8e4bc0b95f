//! The one line `dead-threads jam install` adds to `build/jam/UserBuildConfig`.
//!
//! `UserBuildConfig` belongs to the user (Git ignores it; Haiku's Jamrules
//! includes it when present). We add exactly one marked line at its end and
//! remove exactly that line again, so install followed by uninstall gives the
//! file back byte for byte (or no file, if there was none). Everything else
//! in the file is left alone. A file we cannot read safely is not touched:
//! not UTF-8, NUL bytes, carriage returns, a second marked line, a marked
//! line we did not write, or a file that does not end at jam's top level
//! (open `{`, open quote, last statement without `;`), where an appended
//! line would not be a statement of its own.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Every line we add contains this marker; nothing else may.
pub const MARKER: &str = "# dead-threads:";

const ADDED: &str = "# dead-threads: added by 'dead-threads jam install'";
const CREATED: &str = " (which created this file)";
const REMOVE: &str = "; remove with 'dead-threads jam uninstall'";

/// A parsed line of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurLine {
    /// The fragment it includes.
    pub fragment: PathBuf,
    /// Whether `jam install` created UserBuildConfig (uninstall then deletes
    /// the file if nothing else is left in it).
    pub created_file: bool,
}

/// Whether `path` can be written inside a jam string literal as is: no
/// quotes, backslashes, `$` (variable expansion), or control characters.
pub fn jam_safe_path(path: &Path) -> Result<&str> {
    let Some(s) = path.to_str() else {
        bail!(
            "{} is not valid UTF-8; jam cannot include it",
            path.display()
        );
    };
    if s.chars()
        .any(|c| c == '"' || c == '\\' || c == '$' || c.is_control())
    {
        bail!(
            "{s:?} contains a quote, backslash, `$` or control character, which jam would \
             interpret; use a directory whose path has none"
        );
    }
    Ok(s)
}

/// The line for `fragment`.
pub fn render(line: &OurLine) -> Result<String> {
    let path = jam_safe_path(&line.fragment)?;
    let created = if line.created_file { CREATED } else { "" };
    Ok(format!("include \"{path}\" ; {ADDED}{created}{REMOVE}"))
}

/// Parses a line containing [`MARKER`]; `None` if it is not exactly a line
/// we write.
pub fn parse(line: &str) -> Option<OurLine> {
    let rest = line.strip_prefix("include \"")?;
    let (path, rest) = rest.split_once("\" ; ")?;
    let rest = rest.strip_prefix(ADDED)?;
    let (created_file, rest) = match rest.strip_prefix(CREATED) {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if rest != REMOVE || path.is_empty() {
        return None;
    }
    Some(OurLine {
        fragment: PathBuf::from(path),
        created_file,
    })
}

/// Rejects content we will not edit (see the module documentation).
fn check_plain(text: &str) -> Result<()> {
    if text.contains('\0') {
        bail!("it contains NUL bytes");
    }
    if text.contains('\r') {
        bail!("it contains carriage returns (CRLF line ends)");
    }
    Ok(())
}

/// Finds our line(s): (index in `text.lines()`, parsed).
fn find_ours(text: &str) -> Result<Option<(usize, OurLine)>> {
    let mut found = None;
    for (i, l) in text.lines().enumerate() {
        if l.contains(MARKER) {
            let Some(parsed) = parse(l) else {
                bail!(
                    "line {} contains {MARKER:?} but is not a line dead-threads wrote: {l:?}",
                    i + 1
                );
            };
            if found.is_some() {
                bail!(
                    "it contains more than one dead-threads line (line {})",
                    i + 1
                );
            }
            found = Some((i, parsed));
        }
    }
    Ok(found)
}

/// Checks that `text` ends at jam's top level, so a line appended after it
/// is a statement of its own: braces balanced, no open string, and the last
/// token is `;` or `}`. A coarse jam tokenizer: whitespace-separated tokens,
/// `#` at a token start comments to the end of the line, `"` quotes, `\`
/// escapes.
pub fn check_top_level(text: &str) -> Result<()> {
    let mut depth: i64 = 0;
    let mut last_token = String::new();
    let mut token = String::new();
    let mut in_token = false;
    let mut in_quote = false;
    let mut in_comment = false;
    let mut escape = false;
    let mut line = 1;
    let mut open_lines: Vec<usize> = Vec::new();
    let mut end_token =
        |token: &mut String, line: usize, depth: &mut i64, open: &mut Vec<usize>| -> Result<()> {
            match token.as_str() {
                "{" => {
                    *depth += 1;
                    open.push(line);
                }
                "}" => {
                    *depth -= 1;
                    open.pop();
                    if *depth < 0 {
                        bail!("unmatched `}}` on line {line}");
                    }
                }
                _ => {}
            }
            last_token = std::mem::take(token);
            Ok(())
        };
    for c in text.chars() {
        if in_comment {
            if c == '\n' {
                in_comment = false;
                line += 1;
            }
            continue;
        }
        if escape {
            escape = false;
            token.push(c);
            if c == '\n' {
                line += 1;
            }
            continue;
        }
        match c {
            '\\' => {
                escape = true;
                in_token = true;
            }
            '"' => {
                in_quote = !in_quote;
                in_token = true;
                token.push('"');
            }
            '#' if !in_token && !in_quote => in_comment = true,
            c if c.is_whitespace() && !in_quote => {
                if in_token {
                    end_token(&mut token, line, &mut depth, &mut open_lines)?;
                    in_token = false;
                }
                if c == '\n' {
                    line += 1;
                }
            }
            c => {
                if c == '\n' {
                    line += 1;
                }
                in_token = true;
                token.push(c);
            }
        }
    }
    if in_quote {
        bail!("a string is not closed at the end of the file");
    }
    if in_token {
        end_token(&mut token, line, &mut depth, &mut open_lines)?;
    }
    if depth > 0 {
        bail!(
            "a `{{` opened on line {} is not closed at the end of the file",
            open_lines.last().copied().unwrap_or(0)
        );
    }
    if !last_token.is_empty() && last_token != ";" && last_token != "}" {
        bail!("the last statement does not end with `;` (last token {last_token:?})");
    }
    Ok(())
}

/// What an edit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing to do (already installed, or not installed on uninstall).
    Unchanged,
    /// The file did not exist and was created with our line.
    Created,
    /// Our line was appended.
    Appended,
    /// Our existing line was replaced (different fragment path).
    Replaced,
    /// Our line was removed.
    Removed,
    /// Our line was removed and the file, which we had created and which is
    /// now empty, deleted.
    Deleted,
}

/// The new content of UserBuildConfig (`None`: the file is to be deleted or
/// stays absent) after installing `fragment`, given its current content.
pub fn install(existing: Option<&str>, fragment: &Path) -> Result<(Option<String>, Change)> {
    let Some(text) = existing else {
        let line = render(&OurLine {
            fragment: fragment.to_path_buf(),
            created_file: true,
        })?;
        return Ok((Some(format!("{line}\n")), Change::Created));
    };
    check_plain(text).map_err(refuse)?;
    if let Some((index, ours)) = find_ours(text).map_err(refuse)? {
        if ours.fragment == fragment {
            return Ok((Some(text.to_string()), Change::Unchanged));
        }
        let line = render(&OurLine {
            fragment: fragment.to_path_buf(),
            created_file: ours.created_file,
        })?;
        let mut out = String::with_capacity(text.len() + line.len());
        for (i, l) in text.split_inclusive('\n').enumerate() {
            if i == index {
                out.push_str(&line);
                if l.ends_with('\n') {
                    out.push('\n');
                }
            } else {
                out.push_str(l);
            }
        }
        return Ok((Some(out), Change::Replaced));
    }
    check_top_level(text).map_err(refuse)?;
    let line = render(&OurLine {
        fragment: fragment.to_path_buf(),
        created_file: false,
    })?;
    let out = if text.is_empty() || text.ends_with('\n') {
        format!("{text}{line}\n")
    } else {
        // Keep the missing final newline missing after uninstall: our line
        // goes after a newline we add and itself ends without one.
        format!("{text}\n{line}")
    };
    Ok((Some(out), Change::Appended))
}

fn refuse(e: anyhow::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "refusing to edit UserBuildConfig: {e}.\nNothing was changed; fix the file or add/remove the \
         dead-threads line by hand"
    )
}

/// The installed line, if any (for status and uninstall).
pub fn installed(existing: Option<&str>) -> Result<Option<OurLine>> {
    match existing {
        None => Ok(None),
        Some(text) => {
            check_plain(text).map_err(refuse)?;
            Ok(find_ours(text).map_err(refuse)?.map(|(_, l)| l))
        }
    }
}

/// The content after removing our line (`None`: delete the file), what was
/// done, and the line that was removed.
pub fn uninstall(existing: Option<&str>) -> Result<(Option<String>, Change, Option<OurLine>)> {
    let Some(text) = existing else {
        return Ok((None, Change::Unchanged, None));
    };
    check_plain(text).map_err(refuse)?;
    let Some((index, ours)) = find_ours(text).map_err(refuse)? else {
        return Ok((Some(text.to_string()), Change::Unchanged, None));
    };
    let pieces: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    for (i, p) in pieces.iter().enumerate() {
        if i != index {
            out.push_str(p);
        }
    }
    if !pieces[index].ends_with('\n') && out.ends_with('\n') {
        // Our line was last and unterminated: we added the newline before it.
        out.pop();
    }
    if ours.created_file && out.is_empty() {
        return Ok((None, Change::Deleted, Some(ours)));
    }
    Ok((Some(out), Change::Removed, Some(ours)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_round_trips_through_parse() {
        for created in [false, true] {
            let l = OurLine {
                fragment: "/b/generated/dead_threads/UserBuildConfig.jam".into(),
                created_file: created,
            };
            assert_eq!(parse(&render(&l).unwrap()), Some(l));
        }
        assert_eq!(
            parse("include \"/x\" ; # dead-threads: something else"),
            None
        );
    }

    #[test]
    fn refuses_paths_jam_would_expand() {
        assert!(render(&OurLine {
            fragment: "/tmp/$(HOME)/x".into(),
            created_file: false
        })
        .is_err());
    }

    #[test]
    fn top_level_checks() {
        assert!(check_top_level("").is_ok());
        assert!(check_top_level("# only a comment\n").is_ok());
        assert!(check_top_level("HAIKU_IMAGE_SIZE = 100 ;\n").is_ok());
        assert!(check_top_level("rule X {\n\tEcho \"a } b\" ;\n}\n").is_ok());
        assert!(check_top_level("A = \"x\\\"y\" ; # c { \n").is_ok());
        let e = check_top_level("rule X {\n\tEcho a ;\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1"), "{e}");
        assert!(check_top_level("A = 1\n").is_err());
        assert!(check_top_level("A = \"open ;\n").is_err());
        assert!(check_top_level("}\n").is_err());
    }
}
