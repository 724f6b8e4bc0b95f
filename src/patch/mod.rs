//! `dead-threads patch status|apply|revert|check|series-hash`: recognise a
//! Haiku tree, apply or revert our kernel patch series, and compile-check it.
//!
//! Everything about bases and patches comes from `kernel-patch/series.toml`
//! (see [`series`]), which also records each patch file's SHA-256: every
//! command refuses a series whose files differ ([`Series::verify`]).
//! Patches are applied by our own strict unified-diff applier ([`diff`]):
//! exact context, line offsets allowed, no fuzz, the whole series checked
//! in memory before anything is written.
//!
//! Writing is crash-safe ([`txn`]): a transaction record is written before
//! the first file changes, files are replaced through a temporary file and
//! a rename with SIGINT/SIGTERM deferred, and every command first finishes
//! or rolls back what a killed run left, so the tree is always exactly as
//! before or as after.
//!
//! Safety rules:
//! * git checkout: `apply` never writes a file with uncommitted changes
//!   (anything `git status` reports), unless its only changes are our own
//!   patches (a partly applied series).
//! * plain tree (no git): every hunk's old side must match the file exactly,
//!   so a file that differs where we would change it is refused; changes
//!   elsewhere in the file are kept as they are.
//! * `revert` reverses exactly our hunks, found by content, and keeps every
//!   other change; it refuses, naming the hunk, when lines a hunk of ours
//!   owns were changed since it was applied ([`state::RevertPlan`]).
//! * `check` never touches the user's tree: it copies what the compile
//!   needs to a temporary directory, and compiles each touched translation
//!   unit for x86_64 and 32-bit x86.

pub mod check;
pub mod diff;
pub use crate::sys::fault;
pub mod report;
pub mod series;
pub mod state;
pub mod tree;
pub mod txn;

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

pub use series::Series;
pub use state::{Plan, Status, Unrecognised};
pub use tree::{FileOps, RealFs, Tree};

/// Arguments of `dead-threads patch`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The `patch` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Show the tree's base (with evidence), which of our patches it carries
    /// and what apply and revert would do.
    Status(CommonArgs),
    /// Apply the series for the tree's base: all or nothing, never over
    /// uncommitted changes; a no-op when already applied.
    Apply(ChangeArgs),
    /// Take our patches out again: reverse exactly our hunks, keep every
    /// other change (refuses, naming the hunk, where you changed lines of
    /// ours).
    Revert(ChangeArgs),
    /// Compile every translation unit the series touches, unpatched and
    /// patched, with clang for both architectures: x86_64-unknown-haiku and
    /// 32-bit x86 (i586-unknown-haiku), in a temporary copy.
    Check(CommonArgs),
    /// Compare each patch file with the SHA-256 series.toml records for it;
    /// with --write, record the files' current hashes (after editing a
    /// patch on purpose).
    SeriesHash(SeriesHashArgs),
}

/// Options of `patch series-hash`.
#[derive(clap::Args, Debug)]
pub struct SeriesHashArgs {
    /// The patch series manifest [default: $DEAD_THREADS_SERIES, else this
    /// source tree's kernel-patch/series.toml].
    #[arg(long, value_name = "PATH")]
    pub series: Option<PathBuf>,
    /// Rewrite the manifest with the current hashes (entries become
    /// `{ file = "...", sha256 = "..." }`; order and comments are kept).
    #[arg(long)]
    pub write: bool,
}

/// Options every subcommand takes.
#[derive(clap::Args, Debug)]
pub struct CommonArgs {
    /// Top directory of the Haiku source tree (git checkout or plain tree).
    #[arg(long, env = "HAIKU_TOP", value_name = "DIR")]
    pub haiku: PathBuf,
    /// The patch series manifest [default: $DEAD_THREADS_SERIES, else this
    /// source tree's kernel-patch/series.toml].
    #[arg(long, value_name = "PATH")]
    pub series: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of apply and revert.
#[derive(clap::Args, Debug)]
pub struct ChangeArgs {
    /// Common options.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Say what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Why an operation did not happen, mapped to the exit code.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The tree is not a known base.
    #[error(transparent)]
    Unrecognised(#[from] Unrecognised),
    /// The operation was refused before anything was written (dirty files,
    /// a patch that does not apply).
    #[error("{0}")]
    Refused(String),
    /// Writing failed; the message says whether the rollback succeeded.
    #[error("{0}")]
    WriteFailed(String),
    /// Anything else (I/O, git, the manifest).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl PatchError {
    /// The process exit code: 2 for usage/environment problems (unknown
    /// tree, refused because of the tree's state, I/O), 1 when writing
    /// failed half way.
    pub fn exit_code(&self) -> u8 {
        match self {
            PatchError::WriteFailed(_) => 1,
            _ => 2,
        }
    }
}

/// Reads the series' files from the tree and works out its status.
///
/// In a git checkout, a plan to apply over a file with uncommitted changes
/// becomes [`Plan::Refuse`], as `apply` would refuse it.
///
/// First finishes what a killed `apply` or `revert` left ([`txn::recover`]);
/// [`Status::recovered`] says what that did.
pub fn status(tree: &Tree, series: &Series) -> Result<Status, PatchError> {
    let files: Vec<String> = state::files_of(series).into_iter().collect();
    let recovered = txn::recover(tree, &files)?;
    let contents = tree.read_all(files.iter().map(String::as_str))?;
    let (mut st, base) = state::compute(series, tree, &contents)?;
    st.recovered = recovered;
    if let state::RevertPlan::Revert {
        files,
        keeps_changes_in,
        ..
    } = &mut st.revert
    {
        // Files with changes besides ours: revert keeps those changes.
        let rels: Vec<&str> = files.iter().map(String::as_str).collect();
        let changed = tree.git_changed(&rels)?;
        if !changed.is_empty() {
            let pristine = state::unapply(base, st.applied, &contents).ok();
            for (rel, _) in changed {
                let head = tree.git_head_content(&rel)?;
                let ours_only = pristine
                    .as_ref()
                    .is_some_and(|p| p.get(&rel).cloned().flatten() == head);
                if !ours_only && !keeps_changes_in.contains(&rel) {
                    keeps_changes_in.push(rel);
                }
            }
        }
    }
    if let Plan::Apply { files, .. } = &st.plan {
        if let Some(dirty) = dirty_files(tree, base, st.applied, &contents, files)? {
            st.plan = Plan::Refuse {
                reason: format!(
                    "uncommitted changes in {dirty}; commit or stash them first (git stash)"
                ),
            };
        }
    }
    Ok(st)
}

/// What apply or revert did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Serialize)]
pub struct ChangeOutcome {
    /// `apply` or `revert`.
    pub operation: String,
    /// The tree's status before.
    pub before: Status,
    /// Whether anything was (or would be) written.
    pub changed: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The patches applied or reverted, in the order it happened.
    pub patches: Vec<String>,
    /// Files written (or that would be).
    pub files: Vec<String>,
    /// One line for humans.
    pub message: String,
    /// What finishing an interrupted earlier apply or revert did, if there
    /// was one ([`txn::recover`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
}

/// Applies the rest of the series for the tree's base.
pub fn apply(
    tree: &Tree,
    series: &Series,
    dry_run: bool,
    fs: &dyn FileOps,
) -> Result<ChangeOutcome, PatchError> {
    change(tree, series, dry_run, fs, false)
}

/// Reverts our applied patches.
pub fn revert(
    tree: &Tree,
    series: &Series,
    dry_run: bool,
    fs: &dyn FileOps,
) -> Result<ChangeOutcome, PatchError> {
    change(tree, series, dry_run, fs, true)
}

fn change(
    tree: &Tree,
    series: &Series,
    dry_run: bool,
    fs: &dyn FileOps,
    reverse: bool,
) -> Result<ChangeOutcome, PatchError> {
    let all_files: Vec<String> = state::files_of(series).into_iter().collect();
    // The lock is held from before reading the tree until the files are
    // written (a dry run only takes it when there is something to recover).
    let (lock, recovered) = if dry_run {
        (None, txn::recover(tree, &all_files)?)
    } else {
        let lock = txn::StateLock::acquire(tree)?;
        let recovered = txn::recover_locked(tree, &lock, &all_files)?;
        (Some(lock), recovered)
    };
    let contents = tree.read_all(all_files.iter().map(String::as_str))?;
    let (mut before, base) = state::compute(series, tree, &contents)?;
    before.recovered = recovered.clone();
    let operation = if reverse { "revert" } else { "apply" }.to_string();
    let k = before.applied;
    let n = base.patches.len();
    let nothing = |message: String, before: Status| ChangeOutcome {
        operation: operation.clone(),
        before,
        changed: false,
        dry_run,
        patches: Vec::new(),
        files: Vec::new(),
        message,
        recovered: recovered.clone(),
    };
    if n == 0 {
        return Ok(nothing(
            format!(
                "base {}: the series has no patches for it; nothing to do",
                base.name
            ),
            before,
        ));
    }
    if !reverse {
        if let Plan::Refuse { reason } = &before.plan {
            return Err(PatchError::Refused(format!(
                "not applying anything: {reason}"
            )));
        }
        if k == n {
            return Ok(nothing(
                format!(
                    "base {}: all {n} of our patches are already applied; nothing to do",
                    base.name
                ),
                before,
            ));
        }
    } else if k == 0 {
        return Ok(nothing(
            format!(
                "base {}: none of our patches is applied; nothing to revert",
                base.name
            ),
            before,
        ));
    } else if let state::RevertPlan::Refuse { reason, .. } = &before.revert {
        return Err(PatchError::Refused(format!(
            "not reverting anything: {reason}"
        )));
    }

    let range = if reverse { 0..k } else { k..n };
    let mut next = contents.clone();
    let mut names = Vec::new();
    let mut touched: Vec<String> = Vec::new();
    let order: Vec<usize> = if reverse {
        range.rev().collect()
    } else {
        range.collect()
    };
    for i in order {
        let p = &base.patches[i];
        let files = state::apply_patch(p, &mut next, reverse)
            .map_err(|e| PatchError::Refused(format!("{}: {e}; nothing was changed", p.name)))?;
        names.push(p.name.clone());
        for f in files {
            if !touched.contains(&f.file) {
                touched.push(f.file);
            }
        }
    }
    // Apply never writes over uncommitted changes; revert reverses exactly
    // our hunks (found by content) and keeps every other change.
    if !reverse {
        check_clean(tree, base, k, &contents, &touched)?;
    }

    let mut tx = tree::Transaction::new(tree, &contents);
    for f in &touched {
        tx.set(f, next.get(f).cloned().flatten());
    }
    let mut files: Vec<String> = tx.changed_files().iter().map(|s| s.to_string()).collect();
    files.sort();
    let verb = if reverse { "revert" } else { "apply" };
    if dry_run {
        return Ok(ChangeOutcome {
            operation,
            before,
            changed: !files.is_empty(),
            dry_run,
            message: format!(
                "dry run: would {verb} {} patch(es), changing {}",
                names.len(),
                files.join(", ")
            ),
            patches: names,
            files,
            recovered,
        });
    }
    let lock = lock.expect("taken unless dry run");
    txn::commit(lock, tx, verb, fs).map_err(|e| {
        PatchError::WriteFailed(format!("{verb} failed while writing: {}", e.message))
    })?;
    let done = if reverse { "reverted" } else { "applied" };
    Ok(ChangeOutcome {
        operation,
        before,
        changed: true,
        dry_run,
        message: format!(
            "{done} {} patch(es) for base {}, changed {}",
            names.len(),
            base.name,
            files.join(", ")
        ),
        patches: names,
        files,
        recovered,
    })
}

/// In a git checkout, refuses when a file to be written has changes other
/// than our own applied patches.
fn check_clean(
    tree: &Tree,
    base: &series::Base,
    k: usize,
    contents: &tree::Contents,
    files: &[String],
) -> Result<(), PatchError> {
    match dirty_files(tree, base, k, contents, files)? {
        None => Ok(()),
        Some(dirty) => Err(PatchError::Refused(format!(
            "refusing to touch files with uncommitted changes: {dirty}. Nothing was changed. \
             Commit or stash them first (git stash), then run this again."
        ))),
    }
}

/// The files among `files` (in a git checkout) with changes other than our
/// first `k` patches, listed for a message; `None` when there are none.
fn dirty_files(
    tree: &Tree,
    base: &series::Base,
    k: usize,
    contents: &tree::Contents,
    files: &[String],
) -> Result<Option<String>, PatchError> {
    let rels: Vec<&str> = files.iter().map(String::as_str).collect();
    let changed = tree.git_changed(&rels)?;
    if changed.is_empty() {
        return Ok(None);
    }
    // The file minus the last j of our applied patches, j = 0..=k: if one
    // of them is what HEAD has, the uncommitted changes are ours only (HEAD
    // may carry some of our patches already).
    let mut versions = Vec::new();
    for j in 0..=k {
        let c = state::unapply_last(base, k, j, contents).map_err(|e| anyhow::anyhow!(e))?;
        versions.push(c);
    }
    let mut dirty = Vec::new();
    for (rel, code) in changed {
        let head = tree.git_head_content(&rel)?;
        let ours_only = head.is_some()
            && versions
                .iter()
                .any(|v| v.get(&rel).cloned().flatten() == head);
        if !ours_only {
            dirty.push(format!("{rel} (git status: {code})"));
        }
    }
    if dirty.is_empty() {
        return Ok(None);
    }
    Ok(Some(dirty.join(", ")))
}

fn load_series(common: &CommonArgs) -> anyhow::Result<Series> {
    let path = common.series.clone().unwrap_or_else(Series::default_path);
    Series::load(&path)
}

fn print_json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub(crate) fn report_error(e: &PatchError, json: bool) -> ExitCode {
    if json {
        let kind = match e {
            PatchError::Unrecognised(_) => "unrecognised",
            PatchError::Refused(_) => "refused",
            PatchError::WriteFailed(_) => "write-failed",
            PatchError::Other(_) => "error",
        };
        let v = serde_json::json!({ "error": kind, "message": format!("{e:#}") });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        eprintln!("error: {e:#}");
    }
    ExitCode::from(e.exit_code())
}

/// Runs `dead-threads patch ...`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Status(c) => {
            let series = load_series(&c)?;
            let tree = Tree::open(&c.haiku)?;
            match status(&tree, &series) {
                Ok(st) => {
                    if c.json {
                        print_json(&st)?;
                    } else {
                        print!("{}", report::status_text(&st));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(report_error(&e, c.json)),
            }
        }
        Command::Apply(a) => run_change(a, false),
        Command::Revert(a) => run_change(a, true),
        Command::Check(c) => check::run(&c, &load_series(&c)?),
        Command::SeriesHash(h) => run_series_hash(h),
    }
}

fn run_series_hash(h: SeriesHashArgs) -> anyhow::Result<ExitCode> {
    let path = h.series.unwrap_or_else(Series::default_path);
    let entries = series::record_hashes(&path, h.write)?;
    let mut stale = 0;
    for e in &entries {
        let state = match (&e.recorded, e.matches()) {
            (_, true) => "ok",
            (None, false) => "no hash recorded",
            (Some(_), false) => "CHANGED",
        };
        if !e.matches() {
            stale += 1;
        }
        println!("{} {}: {state}", e.actual, e.file);
        if let (Some(r), false) = (&e.recorded, e.matches()) {
            println!("    recorded: {r}");
        }
    }
    if stale == 0 {
        println!(
            "all {} patch file(s) match {}",
            entries.len(),
            path.display()
        );
        Ok(ExitCode::SUCCESS)
    } else if h.write {
        println!(
            "recorded the hashes of {stale} patch file(s) in {}",
            path.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "{stale} patch file(s) do not match {}; if they were changed on purpose, run `{}`",
            path.display(),
            series::rehash_command(&path)
        );
        Ok(ExitCode::from(1))
    }
}

fn run_change(a: ChangeArgs, reverse: bool) -> anyhow::Result<ExitCode> {
    let series = load_series(&a.common)?;
    let tree = Tree::open(&a.common.haiku)?;
    let r = if reverse {
        revert(&tree, &series, a.dry_run, &RealFs)
    } else {
        apply(&tree, &series, a.dry_run, &RealFs)
    };
    match r {
        Ok(out) => {
            if a.common.json {
                print_json(&out)?;
            } else {
                if let Some(r) = &out.recovered {
                    println!("{r}");
                }
                println!("{}", out.message);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(report_error(&e, a.common.json)),
    }
}
