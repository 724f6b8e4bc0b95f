//! Access to the user's Haiku tree: reading files, telling whether git sees
//! changes in them, and writing a set of files all-or-nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// How the tree is versioned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vcs {
    /// A git checkout (or a directory inside one): `git status` tells which
    /// files have uncommitted changes.
    Git {
        /// `git rev-parse --short HEAD`.
        head: String,
    },
    /// A plain source tree: every hunk's old side must match exactly.
    Plain,
}

/// A Haiku source tree on disk.
#[derive(Debug, Clone)]
pub struct Tree {
    /// Its top directory.
    pub root: PathBuf,
    /// git or plain.
    pub vcs: Vcs,
}

/// Contents of a set of tree-relative files (`None`: the file is absent).
pub type Contents = BTreeMap<String, Option<String>>;

impl Tree {
    /// Opens `root`, finding out whether it is a git checkout.
    pub fn open(root: &Path) -> anyhow::Result<Tree> {
        let meta = std::fs::metadata(root).with_context(|| {
            format!(
                "cannot open the Haiku tree {} (pass --haiku with the top directory of a \
                 haiku/haiku checkout)",
                root.display()
            )
        })?;
        if !meta.is_dir() {
            bail!("{} is not a directory", root.display());
        }
        // A git checkout only when `root` is the top of the work tree: a
        // plain tree unpacked inside some other repository is plain.
        let top = git(root, &["rev-parse", "--show-toplevel"])
            .ok()
            .and_then(|t| std::fs::canonicalize(t.trim()).ok());
        let is_top = top.is_some() && top == std::fs::canonicalize(root).ok();
        let vcs = match git(root, &["rev-parse", "--verify", "--short", "HEAD"]) {
            Ok(out) if is_top => Vcs::Git {
                head: out.trim().to_string(),
            },
            _ => Vcs::Plain,
        };
        Ok(Tree {
            root: root.to_path_buf(),
            vcs,
        })
    }

    /// Absolute path of a tree-relative file.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Reads one file; `None` when it does not exist.
    pub fn read(&self, rel: &str) -> anyhow::Result<Option<String>> {
        read_opt(&self.path(rel))
    }

    /// Reads several files.
    pub fn read_all<'a>(
        &self,
        rels: impl IntoIterator<Item = &'a str>,
    ) -> anyhow::Result<Contents> {
        let mut out = Contents::new();
        for r in rels {
            out.insert(r.to_string(), self.read(r)?);
        }
        Ok(out)
    }

    /// In a git checkout, the files among `rels` that `git status` reports
    /// (modified, staged, untracked, ...), with its two-letter code.
    pub fn git_changed(&self, rels: &[&str]) -> anyhow::Result<Vec<(String, String)>> {
        if self.vcs == Vcs::Plain || rels.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec!["status", "--porcelain=v1", "--untracked-files=all", "--"];
        args.extend(rels.iter().copied());
        let out = git(&self.root, &args)?;
        let mut changed = Vec::new();
        for line in out.lines() {
            if line.len() < 4 {
                continue;
            }
            let (code, path) = line.split_at(3);
            // Paths are relative to the repository top; match by suffix.
            let path = path.trim().trim_matches('"');
            let rel = rels
                .iter()
                .find(|r| path == **r || path.ends_with(&format!("/{r}")))
                .map(|r| r.to_string())
                .unwrap_or_else(|| path.to_string());
            changed.push((rel, code.trim().to_string()));
        }
        Ok(changed)
    }

    /// In a git checkout, the committed (HEAD) content of a file.
    pub fn git_head_content(&self, rel: &str) -> anyhow::Result<Option<String>> {
        if self.vcs == Vcs::Plain {
            return Ok(None);
        }
        let out = git_command(&self.root)
            .arg("show")
            .arg(format!("HEAD:./{rel}"))
            .output()
            .context("running git show")?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(Some(String::from_utf8(out.stdout).with_context(|| {
            format!("{rel} at HEAD is not UTF-8 text")
        })?))
    }
}

pub(crate) fn read_opt(path: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8(bytes).with_context(|| {
            format!(
                "{} is not UTF-8 text; it cannot be patched safely",
                path.display()
            )
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// `git -C dir` that never takes optional locks: `git status` would
/// otherwise refresh the index under `.git/index.lock`, which a killed
/// run could leave behind.
fn git_command(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.env("GIT_OPTIONAL_LOCKS", "0")
        .arg("--no-optional-locks")
        .arg("-C")
        .arg(dir);
    c
}

pub(crate) fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = git_command(dir)
        .args(args)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub use crate::sys::fs::{is_temp_name, temp_path_for, FileOps, RealFs, TEMP_PREFIX, TEMP_SUFFIX};

/// The outcome of a failed [`Transaction::commit`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CommitError {
    /// What failed, and whether the rollback restored everything.
    pub message: String,
    /// Whether every file is back to its original content.
    pub rolled_back: bool,
}

/// A set of file changes written all-or-nothing: if any write fails, the
/// files already written are restored from the originals.
pub struct Transaction<'a> {
    tree: &'a Tree,
    originals: &'a Contents,
    changes: Vec<(String, Option<String>)>,
}

impl<'a> Transaction<'a> {
    /// A transaction over `tree`, where `originals` holds the current
    /// content of every file that may change.
    pub fn new(tree: &'a Tree, originals: &'a Contents) -> Self {
        Transaction {
            tree,
            originals,
            changes: Vec::new(),
        }
    }

    /// Schedules the new content of a file (`None`: delete it). Files whose
    /// content does not change are skipped.
    pub fn set(&mut self, rel: &str, content: Option<String>) {
        if self.originals.get(rel) != Some(&content) {
            self.changes.push((rel.to_string(), content));
        }
    }

    /// The scheduled changes: file and new content (`None`: delete).
    pub fn changes(&self) -> &[(String, Option<String>)] {
        &self.changes
    }

    /// The original content of a file the transaction was given.
    pub fn original(&self, rel: &str) -> Option<String> {
        self.originals.get(rel).cloned().flatten()
    }

    /// The tree it writes.
    pub fn tree(&self) -> &Tree {
        self.tree
    }

    /// The files that will change.
    pub fn changed_files(&self) -> Vec<&str> {
        self.changes.iter().map(|(r, _)| r.as_str()).collect()
    }

    /// Writes every change, then reads each file back to verify it. On any
    /// failure, restores the files already changed.
    pub fn commit(self, fs: &dyn FileOps) -> Result<Vec<String>, CommitError> {
        let mut done: Vec<&str> = Vec::new();
        let mut failure = None;
        for (rel, content) in &self.changes {
            let path = self.tree.path(rel);
            let r = match content {
                Some(c) => fs.write(&path, c.as_bytes()),
                None => fs.remove(&path),
            };
            match r {
                Ok(()) => {
                    done.push(rel);
                    match read_opt(&path) {
                        Ok(back) if back == *content => {}
                        _ => {
                            failure =
                                Some(format!("{} does not read back as written", path.display()));
                            break;
                        }
                    }
                }
                Err(e) => {
                    failure = Some(format!("writing {}: {e}", path.display()));
                    break;
                }
            }
        }
        let Some(failure) = failure else {
            return Ok(self.changes.into_iter().map(|(r, _)| r).collect());
        };
        // Roll back, newest first.
        let mut problems = Vec::new();
        for rel in done.iter().rev() {
            let path = self.tree.path(rel);
            let orig = self.originals.get(*rel).cloned().flatten();
            let r = match &orig {
                Some(c) => fs.write(&path, c.as_bytes()),
                None => fs.remove(&path),
            };
            let ok = r.is_ok() && matches!(read_opt(&path), Ok(ref back) if *back == orig);
            if !ok {
                problems.push(path.display().to_string());
            }
        }
        if problems.is_empty() {
            Err(CommitError {
                message: format!(
                    "{failure}; rolled back: every file is as it was before ({} restored)",
                    done.len()
                ),
                rolled_back: true,
            })
        } else {
            Err(CommitError {
                message: format!(
                    "{failure}; ROLLBACK FAILED for {}: check these files (e.g. git diff)",
                    problems.join(", ")
                ),
                rolled_back: false,
            })
        }
    }
}
