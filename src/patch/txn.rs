//! Crash-safe apply and revert: the transaction record, the lock, deferred
//! signals and recovery.
//!
//! Before the first file of the user's tree changes, a transaction record
//! (`transaction.json`: the operation, and for every file its original and
//! its intended content) is written, fsynced and renamed into the tree's
//! own place for tool state ([`state_dir`]): `<git dir>/dead-threads/` in a
//! git checkout (`git rev-parse --absolute-git-dir`, so a linked work tree
//! has its own), `.dead-threads/` at the top of a plain tree. Files are then
//! replaced one by one ([`super::tree::RealFs`]: a temporary file with a
//! known name, fsync, rename), with SIGINT, SIGTERM and SIGHUP deferred
//! until the last one is done; the record is removed last.
//!
//! Every `patch` command first looks for a record left by a run that was
//! killed ([`recover`]): it removes the temporary files, and either finds
//! every file already as intended (the change is complete: the record is
//! dropped) or puts back the original content of every file the run had
//! changed. Either way the tree is in one of the two consistent states, and
//! the command says which. A lock (`flock` on `lock` in the same folder)
//! keeps two commands from changing, or recovering, one tree at a time;
//! the kernel drops it when its holder dies, however it dies.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::tree::{self, CommitError, FileOps, RealFs, Transaction, Tree, Vcs};

/// The transaction record's file name in [`state_dir`].
pub const RECORD: &str = "transaction.json";
/// The lock's file name in [`state_dir`].
pub const LOCK: &str = "lock";
/// The folder for tool state at the top of a plain tree.
pub const PLAIN_STATE_DIR: &str = ".dead-threads";
const RECORD_FORMAT: u32 = 1;

/// Where the tool keeps its state for `tree`: `<git dir>/dead-threads` in a
/// git checkout, `<top>/.dead-threads` in a plain tree.
pub fn state_dir(tree: &Tree) -> anyhow::Result<PathBuf> {
    match tree.vcs {
        Vcs::Git { .. } => {
            let dir = tree::git(&tree.root, &["rev-parse", "--absolute-git-dir"])?;
            Ok(PathBuf::from(dir.trim()).join("dead-threads"))
        }
        Vcs::Plain => Ok(tree.root.join(PLAIN_STATE_DIR)),
    }
}

/// One file in a transaction record.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RecordFile {
    /// Tree-relative path.
    path: String,
    /// Content before (`None`: absent).
    before: Option<String>,
    /// Intended content (`None`: removed).
    after: Option<String>,
}

/// The transaction record.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    format: u32,
    /// `apply` or `revert`.
    operation: String,
    /// The process that wrote it.
    pid: u32,
    /// Seconds since the Unix epoch.
    started: u64,
    files: Vec<RecordFile>,
}

/// The exclusive lock on a tree's state folder. Dropping it removes the
/// lock file, and the folder when nothing else is left in it.
#[derive(Debug)]
pub struct StateLock {
    dir: PathBuf,
    file: Option<File>,
}

impl StateLock {
    /// Takes the lock of `tree` (creating its state folder), waiting up to
    /// 10 s for another dead-threads command that holds it.
    pub fn acquire(tree: &Tree) -> anyhow::Result<StateLock> {
        let dir = state_dir(tree)?;
        let path = dir.join(LOCK);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating {} for the tool's state", dir.display()))?;
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("opening the lock {}", path.display()))?;
            // SAFETY: flock on a file descriptor we own.
            let r = unsafe {
                libc::flock(
                    std::os::fd::AsRawFd::as_raw_fd(&file),
                    libc::LOCK_EX | libc::LOCK_NB,
                )
            };
            if r != 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
                    return Err(e).with_context(|| format!("locking {}", path.display()));
                }
                if Instant::now() > deadline {
                    bail!(
                        "another dead-threads command is changing {} (it holds {}); wait for \
                         it to finish, then run this again",
                        tree.root.display(),
                        path.display()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            // The holder before us may have removed the file after we
            // opened it: the lock must be on the file at `path`.
            let same = match (file.metadata(), std::fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            };
            if same {
                return Ok(StateLock {
                    dir,
                    file: Some(file),
                });
            }
        }
    }

    /// The state folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self) -> PathBuf {
        self.dir.join(RECORD)
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(self.dir.join(LOCK));
            // Fails, as it should, while a record is still there.
            let _ = std::fs::remove_dir(&self.dir);
        }
        // Closing the file releases the lock.
        self.file = None;
    }
}

/// Writes `data` to `dir/name` atomically (temporary file, fsync, rename,
/// fsync of the folder).
fn write_state_file(dir: &Path, name: &str, data: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

fn remove_state_file(dir: &Path, name: &str) -> std::io::Result<()> {
    std::fs::remove_file(dir.join(name))?;
    File::open(dir)?.sync_all()
}

/// SIGINT, SIGTERM and SIGHUP held back while files are being replaced:
/// [`DeferredSignals::finish`] then acts on the first one that came, as its
/// default action would have.
pub struct DeferredSignals {
    ids: Vec<signal_hook::SigId>,
    got: Arc<AtomicUsize>,
}

impl DeferredSignals {
    /// Starts deferring.
    pub fn start() -> anyhow::Result<DeferredSignals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let got = Arc::new(AtomicUsize::new(0));
        let mut ids = Vec::new();
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            let got = Arc::clone(&got);
            // SAFETY: the handler only stores into an atomic (async-signal
            // safe); it keeps the first signal.
            let id = unsafe {
                signal_hook::low_level::register(sig, move || {
                    let _ =
                        got.compare_exchange(0, sig as usize, Ordering::SeqCst, Ordering::SeqCst);
                })
            }
            .context("installing signal handlers")?;
            ids.push(id);
        }
        Ok(DeferredSignals { ids, got })
    }

    /// Stops deferring; if a signal came meanwhile, says so and lets it
    /// take its default effect (the process ends).
    pub fn finish(mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
        let sig = self.got.load(Ordering::SeqCst);
        if sig != 0 {
            eprintln!(
                "dead-threads: interrupted (signal {sig}); the files were all written first, \
                 the tree is consistent"
            );
            let _ = signal_hook::low_level::emulate_default_handler(sig as i32);
        }
    }
}

impl Drop for DeferredSignals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Commits `tx` under the transaction record: record first, then the
/// files (signals deferred), record removed last. On a write error the
/// files already written are restored at once (the message says whether
/// that worked); if restoring fails too, the record stays for the next
/// command's recovery. The lock is released (and the state folder removed)
/// before a deferred signal takes effect.
pub fn commit(
    lock: StateLock,
    tx: Transaction<'_>,
    operation: &str,
    fs: &dyn FileOps,
) -> Result<Vec<String>, CommitError> {
    let io = |what: String| {
        move |e: std::io::Error| CommitError {
            message: format!("{what}: {e}; nothing was changed"),
            rolled_back: true,
        }
    };
    let record = Record {
        format: RECORD_FORMAT,
        operation: operation.to_string(),
        pid: std::process::id(),
        started: now_secs(),
        files: tx
            .changes()
            .iter()
            .map(|(rel, after)| RecordFile {
                path: rel.clone(),
                before: tx.original(rel),
                after: after.clone(),
            })
            .collect(),
    };
    let json = serde_json::to_vec(&record).map_err(|e| CommitError {
        message: format!("encoding the transaction record: {e}; nothing was changed"),
        rolled_back: true,
    })?;
    let signals = DeferredSignals::start().map_err(|e| CommitError {
        message: format!("{e:#}; nothing was changed"),
        rolled_back: true,
    })?;
    let record_path = lock.record_path();
    write_state_file(lock.dir(), RECORD, &json).map_err(io(format!(
        "writing the transaction record {}",
        record_path.display()
    )))?;
    super::fault::after_write();
    let r = tx.commit(fs);
    let r = match r {
        Ok(files) => match remove_state_file(lock.dir(), RECORD) {
            Ok(()) => Ok(files),
            Err(e) => Err(CommitError {
                message: format!(
                    "every file was written, but removing the transaction record {} failed: \
                     {e}; the next patch command will find the files complete",
                    record_path.display()
                ),
                rolled_back: false,
            }),
        },
        Err(e) if e.rolled_back => {
            let _ = remove_state_file(lock.dir(), RECORD);
            Err(e)
        }
        Err(e) => Err(CommitError {
            message: format!(
                "{}. The transaction record {} is kept: the next patch command (e.g. \
                 `dead-threads patch status`) will try again to restore the files",
                e.message,
                record_path.display()
            ),
            rolled_back: false,
        }),
    };
    if r.is_ok() {
        super::fault::after_write();
    }
    drop(lock);
    signals.finish();
    r
}

/// Removes temporary files [`RealFs`] left in the folders of `files`
/// (tree-relative); returns the paths removed.
fn sweep_temp_files(tree: &Tree, files: &[String]) -> Vec<String> {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| tree.path(f).parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut removed = Vec::new();
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if tree::is_temp_name(&name) && std::fs::remove_file(e.path()).is_ok() {
                removed.push(
                    e.path()
                        .strip_prefix(&tree.root)
                        .unwrap_or(&e.path())
                        .display()
                        .to_string(),
                );
            }
        }
    }
    removed
}

/// Finishes what a killed `apply` or `revert` left, if anything: see the
/// module documentation. `files` are the series' files (their folders are
/// swept for temporary files too). Returns a message saying what was done,
/// `None` when there was nothing to do. Takes the lock only when there is
/// something to recover; use [`recover_locked`] when holding it.
pub fn recover(tree: &Tree, files: &[String]) -> anyhow::Result<Option<String>> {
    let dir = state_dir(tree)?;
    // Anything in the state folder (a record, its temporary file, a lock
    // file left by a run killed before it wrote the record) is looked at
    // under the lock, and the folder removed when nothing is pending.
    let pending = dir.exists();
    let temps = files.iter().any(|f| {
        let p = tree.path(f);
        let Some(d) = p.parent() else { return false };
        std::fs::read_dir(d).is_ok_and(|rd| {
            rd.flatten()
                .any(|e| tree::is_temp_name(&e.file_name().to_string_lossy()))
        })
    });
    if !pending && !temps {
        return Ok(None);
    }
    let lock = StateLock::acquire(tree)?;
    recover_locked(tree, &lock, files)
}

/// [`recover`], for a caller holding the lock.
pub fn recover_locked(
    tree: &Tree,
    lock: &StateLock,
    files: &[String],
) -> anyhow::Result<Option<String>> {
    let _ = std::fs::remove_file(lock.dir().join(format!("{RECORD}.tmp")));
    let record_path = lock.record_path();
    let text = match std::fs::read(&record_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", record_path.display())),
    };
    let Some(text) = text else {
        let removed = sweep_temp_files(tree, files);
        if removed.is_empty() {
            return Ok(None);
        }
        return Ok(Some(format!(
            "removed temporary file(s) an earlier run left behind: {}",
            removed.join(", ")
        )));
    };
    let record: Record = serde_json::from_slice(&text).with_context(|| {
        format!(
            "{} is not a transaction record this tool can read; it describes an interrupted \
             change to {}: look at it, restore the files it lists, then remove it",
            record_path.display(),
            tree.root.display()
        )
    })?;
    let mut record_files: Vec<String> = record.files.iter().map(|f| f.path.clone()).collect();
    record_files.extend(files.iter().cloned());
    sweep_temp_files(tree, &record_files);
    #[derive(PartialEq)]
    enum Now {
        Before,
        After,
        Other,
    }
    let mut states = Vec::new();
    for f in &record.files {
        let cur = tree::read_opt(&tree.path(&f.path)).ok();
        let now = match cur {
            Some(c) if c == f.after => Now::After,
            Some(c) if c == f.before => Now::Before,
            _ => Now::Other,
        };
        states.push(now);
    }
    let what = format!(
        "an earlier `dead-threads patch {}` (process {}) was interrupted",
        record.operation, record.pid
    );
    let total = record.files.len();
    let done = states.iter().filter(|s| **s == Now::After).count();
    if done == total {
        remove_state_file(lock.dir(), RECORD)
            .with_context(|| format!("removing {}", record_path.display()))?;
        super::fault::after_write();
        let state = if record.operation == "revert" {
            "reverted"
        } else {
            "applied"
        };
        return Ok(Some(format!(
            "{what} after it had written all {total} file(s): its {} is complete (the series \
             is {state})",
            record.operation
        )));
    }
    if let Some(i) = states.iter().position(|s| *s == Now::Other) {
        bail!(
            "{what}, and {} has changed since: it is neither as before nor as the {} would \
             have left it, so it cannot be restored automatically. The transaction record {} \
             holds each file's content before (\"before\") and intended (\"after\"): restore \
             the files from it, then remove it",
            tree.path(&record.files[i].path).display(),
            record.operation,
            record_path.display()
        );
    }
    for (f, now) in record.files.iter().zip(&states) {
        if *now != Now::After || f.after == f.before {
            continue;
        }
        let path = tree.path(&f.path);
        let r = match &f.before {
            Some(c) => RealFs.write(&path, c.as_bytes()),
            None => RealFs.remove(&path),
        };
        r.with_context(|| {
            format!(
                "{what}; restoring {} failed; the transaction record {} is kept for the next try",
                path.display(),
                record_path.display()
            )
        })?;
        let back = tree::read_opt(&path).ok().flatten();
        if back != f.before {
            bail!(
                "{what}; {} does not read back as restored; the transaction record {} is kept \
                 for the next try",
                path.display(),
                record_path.display()
            );
        }
    }
    remove_state_file(lock.dir(), RECORD)
        .with_context(|| format!("removing {}", record_path.display()))?;
    super::fault::after_write();
    let state = if record.operation == "revert" {
        "our patches are applied, as before the revert"
    } else {
        "the tree is as it was before the apply"
    };
    Ok(Some(format!(
        "{what} after writing {done} of {total} file(s); rolled back: {state}. Run it again \
         if you still want it"
    )))
}
