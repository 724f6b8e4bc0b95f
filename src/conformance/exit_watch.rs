//! Establishing that threads have fully exited, from the OS itself rather
//! than by sleeping.
//!
//! - Linux: a thread's directory `/proc/self/task/<tid>` disappears when the
//!   kernel releases the task, after it has run its exit path. The watcher
//!   reads `/proc/self/task` until none of the threads' ids is listed. (A
//!   tid reused by an unrelated new thread can only delay the wait, never end
//!   it early: two live tasks never share a tid.)
//! - Haiku: `get_thread_info()` on a thread that has exited fails with
//!   `B_BAD_THREAD_ID`; the watcher polls each thread until it does. The
//!   kernel's `thread_exit()` stores the death entry before it makes the
//!   thread invisible to lookups, so once `get_thread_info()` fails, a join
//!   must find the entry (unless the kernel evicted it: the bug).
//! - Elsewhere: not supported; the error says so.
//!
//! The threads publish their OS id as their first action (see
//! [`super::backend::ThreadCtl::run`]), so the watcher first waits until every
//! thread has started.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use thiserror::Error;

use super::backend::ThreadCtl;

/// Why waiting for threads to exit failed.
#[derive(Debug, Error)]
pub enum ExitWaitError {
    /// Some threads were still there when the timeout expired.
    #[error(
        "{alive} of {total} threads had not {what} after {timeout:?} (first ids: {first}); \
         the system may be overloaded: retry, or raise --exit-timeout"
    )]
    Timeout {
        /// Threads not yet started/exited.
        alive: usize,
        /// Threads waited for.
        total: usize,
        /// `started` or `fully exited`.
        what: &'static str,
        /// The timeout.
        timeout: Duration,
        /// Some of the ids still present.
        first: String,
    },
    /// The OS gave an unexpected answer.
    #[error("cannot watch threads exit: {0}")]
    Os(String),
    /// This OS has no supported way to establish that a thread has exited.
    #[error("establishing that threads have exited is only implemented for Linux and Haiku")]
    Unsupported,
}

/// The calling thread's OS id: `gettid()` on Linux, `find_thread(NULL)` on
/// Haiku, `None` elsewhere.
pub fn current_os_thread_id() -> Option<i64> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions.
        Some(unsafe { libc::syscall(libc::SYS_gettid) })
    }
    #[cfg(not(target_os = "linux"))]
    {
        haiku_sys::on_haiku(|| {
            // SAFETY: find_thread(NULL) returns the calling thread's id.
            i64::from(unsafe { haiku_sys::raw::find_thread(std::ptr::null()) })
        })
        .ok()
    }
}

/// Polls with a growing interval (50 us up to 5 ms).
struct Backoff(Duration);

impl Backoff {
    fn new() -> Backoff {
        Backoff(Duration::from_micros(50))
    }

    fn sleep(&mut self) {
        std::thread::sleep(self.0);
        self.0 = (self.0 * 2).min(Duration::from_millis(5));
    }
}

fn first_ids(ids: impl Iterator<Item = i64>) -> String {
    let v: Vec<String> = ids.take(5).map(|t| t.to_string()).collect();
    v.join(", ")
}

/// Waits until every thread in `threads` has started and then fully exited.
pub fn await_exited<'a>(
    threads: impl IntoIterator<Item = &'a ThreadCtl>,
    timeout: Duration,
) -> Result<(), ExitWaitError> {
    let deadline = Instant::now() + timeout;
    let threads: Vec<&ThreadCtl> = threads.into_iter().collect();
    if !cfg!(any(target_os = "linux", target_os = "haiku")) {
        return Err(ExitWaitError::Unsupported);
    }

    // 1. every thread has published its id
    let mut backoff = Backoff::new();
    loop {
        let missing = threads.iter().filter(|t| t.tid().is_none()).count();
        if missing == 0 {
            break;
        }
        if Instant::now() >= deadline {
            return Err(ExitWaitError::Timeout {
                alive: missing,
                total: threads.len(),
                what: "started",
                timeout,
                first: "unknown".into(),
            });
        }
        backoff.sleep();
    }
    let mut alive: HashSet<i64> = threads.iter().filter_map(|t| t.tid()).collect();
    let total = threads.len();

    // 2. every id is gone
    let mut backoff = Backoff::new();
    loop {
        if cfg!(target_os = "linux") {
            if alive.len() <= FEW {
                alive.retain(|t| Path::new(&format!("/proc/self/task/{t}")).exists());
            } else {
                let listed = linux_task_ids()?;
                alive.retain(|t| listed.contains(t));
            }
        } else {
            let mut still = HashSet::new();
            for &t in &alive {
                if haiku_thread_alive(t)? {
                    still.insert(t);
                }
            }
            alive = still;
        }
        if alive.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let mut ids: Vec<i64> = alive.iter().copied().collect();
            ids.sort_unstable();
            return Err(ExitWaitError::Timeout {
                alive: alive.len(),
                total,
                what: "fully exited",
                timeout,
                first: first_ids(ids.into_iter()),
            });
        }
        backoff.sleep();
    }
}

/// Up to this many ids are checked one by one on Linux (a `stat` each);
/// more are checked against one listing of `/proc/self/task`.
const FEW: usize = 32;

/// The ids listed in `/proc/self/task`.
fn linux_task_ids() -> Result<HashSet<i64>, ExitWaitError> {
    let dir = std::fs::read_dir("/proc/self/task").map_err(|e| {
        ExitWaitError::Os(format!("reading /proc/self/task: {e} (is /proc mounted?)"))
    })?;
    let mut ids = HashSet::new();
    for entry in dir {
        let entry =
            entry.map_err(|e| ExitWaitError::Os(format!("reading /proc/self/task: {e}")))?;
        if let Some(id) = entry.file_name().to_str().and_then(|s| s.parse().ok()) {
            ids.insert(id);
        }
    }
    Ok(ids)
}

/// Whether Haiku still knows thread `id` (`get_thread_info` succeeds).
fn haiku_thread_alive(id: i64) -> Result<bool, ExitWaitError> {
    let Ok(id) = haiku_sys::thread_id::try_from(id) else {
        return Err(ExitWaitError::Os(format!("thread id {id} out of range")));
    };
    match haiku_sys::thread::get_thread_info(id) {
        Ok(_) => Ok(true),
        Err(s) if s.raw() == haiku_sys::raw::B_BAD_THREAD_ID => Ok(false),
        Err(s) => Err(ExitWaitError::Os(format!("get_thread_info({id}): {s}"))),
    }
}
