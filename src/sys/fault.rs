//! Test-only fault injection for the crash-safety tests.
//!
//! `DEAD_THREADS_FAULT_AFTER_WRITES=k` (a positive number) makes the process
//! kill itself with SIGKILL right after its k-th write to disk through
//! [`super::fs::RealFs`] or the patch transaction record, during
//! `patch apply`, `patch revert` or a recovery: the transaction record
//! written, a file's temporary copy written, a file replaced or removed,
//! the record removed. Nothing is cleaned up, exactly as if the process
//! had been killed there. It exists so that `tests/patch_t0.rs` can stop
//! the tool at every write; it is not for users, and unset (or not a
//! positive number) it does nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The variable's name.
pub const ENV: &str = "DEAD_THREADS_FAULT_AFTER_WRITES";

static WRITES: AtomicUsize = AtomicUsize::new(0);

fn limit() -> Option<usize> {
    static LIMIT: OnceLock<Option<usize>> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::env::var(ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|&k: &usize| k > 0)
    })
}

/// Counts one write; when it is the k-th, the process dies (SIGKILL).
pub fn after_write() {
    let Some(k) = limit() else {
        return;
    };
    if WRITES.fetch_add(1, Ordering::SeqCst) + 1 == k {
        // SAFETY: getpid and kill have no preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        std::process::abort();
    }
}
