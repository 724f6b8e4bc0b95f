//! A model of the kernel's thread death entries, used as a test backend.
//!
//! It models what `thread_exit()` and `wait_for_thread_etc()` do with a
//! team's dead-thread list, not threads themselves:
//!
//! - A thread that exits while nobody waits for it leaves a death entry
//!   (id + exit status) in its team's list. With a limit (the legacy kernel,
//!   `MAX_DEAD_THREADS` = 32, before hrev54540) the list keeps at most that
//!   many entries: adding the 33rd evicts the oldest.
//! - Joining a thread that is still running waits for it; the exit then goes
//!   straight to the waiter and leaves no entry.
//! - Joining a dead thread consumes its entry; if there is none (evicted),
//!   the join fails with `B_BAD_THREAD_ID`.
//!
//! The schedule is deterministic: in [`ExitMode::Exited`](super::ExitMode)
//! scenarios the threads exit in spawn order when the harness waits for
//! them; in live scenarios a thread runs until it is joined. Thread bodies
//! (work, gates) are not simulated; exit values are.
//!
//! With no limit ([`KernelModel::fixed`]) it models the patched kernel, and
//! the suite gives the same snapshot as on Linux.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::backend::{Backend, ThreadSpec};
use super::exit_watch::ExitWaitError;
use super::outcome::OsError;
use super::scenario::Api;

/// The legacy kernel's `MAX_DEAD_THREADS`.
pub const LEGACY_MAX_DEAD_THREADS: usize = 32;

/// Name of the error a join of a lost thread gets from `wait_for_thread`.
pub const BAD_THREAD_ID: &str = "B_BAD_THREAD_ID";

/// A model of one team's threads and dead-thread list.
#[derive(Debug)]
pub struct KernelModel {
    limit: Option<usize>,
    next_id: i32,
    live: HashMap<i32, i32>,
    /// Death entries, oldest first: entry sequence number -> (id, status).
    dead: BTreeMap<u64, (i32, i32)>,
    /// Thread id -> sequence number of its death entry.
    dead_index: HashMap<i32, u64>,
    next_seq: u64,
    evicted: usize,
}

impl KernelModel {
    /// The pre-hrev54540 kernel: at most 32 death entries, oldest evicted.
    pub fn legacy() -> KernelModel {
        KernelModel::with_limit(Some(LEGACY_MAX_DEAD_THREADS))
    }

    /// The patched kernel: no limit on death entries.
    pub fn fixed() -> KernelModel {
        KernelModel::with_limit(None)
    }

    /// A kernel keeping at most `limit` death entries (`None`: no limit).
    pub fn with_limit(limit: Option<usize>) -> KernelModel {
        KernelModel {
            limit,
            // Haiku thread ids are positive; any start works
            next_id: 100,
            live: HashMap::new(),
            dead: BTreeMap::new(),
            dead_index: HashMap::new(),
            next_seq: 0,
            evicted: 0,
        }
    }

    /// Entries evicted so far.
    pub fn evicted(&self) -> usize {
        self.evicted
    }

    /// Entries currently in the dead list.
    pub fn dead_entries(&self) -> usize {
        self.dead.len()
    }

    /// `thread_exit()` with no waiter: record a death entry, evicting the
    /// oldest beyond the limit.
    fn exit_unwaited(&mut self, id: i32) {
        let Some(status) = self.live.remove(&id) else {
            return;
        };
        self.dead.insert(self.next_seq, (id, status));
        self.dead_index.insert(id, self.next_seq);
        self.next_seq += 1;
        if let Some(limit) = self.limit {
            while self.dead.len() > limit {
                if let Some((_, (old, _))) = self.dead.pop_first() {
                    self.dead_index.remove(&old);
                    self.evicted += 1;
                }
            }
        }
    }
}

impl Backend for KernelModel {
    type Handle = i32;

    fn api(&self) -> Api {
        Api::Native
    }

    fn name(&self) -> &str {
        if self.limit.is_some() {
            "legacy-model"
        } else {
            "fixed-model"
        }
    }

    fn runnable(&self) -> Result<(), String> {
        Ok(())
    }

    fn spawn(&mut self, spec: &ThreadSpec) -> Result<i32, OsError> {
        let id = self.next_id;
        self.next_id += 1;
        self.live.insert(id, spec.exit_value);
        Ok(id)
    }

    fn await_exited(&mut self, handles: &[i32], _timeout: Duration) -> Result<(), ExitWaitError> {
        for &id in handles {
            self.exit_unwaited(id);
        }
        Ok(())
    }

    fn release(&mut self, _handle: &i32) {
        // the thread exits once its joiner waits (see `join`)
    }

    fn join(&mut self, id: i32) -> Result<i64, OsError> {
        if let Some(status) = self.live.remove(&id) {
            // wait_for_thread on a live thread: the exit status goes to the
            // waiter, no entry is created
            return Ok(i64::from(status));
        }
        if let Some(seq) = self.dead_index.remove(&id) {
            if let Some((_, status)) = self.dead.remove(&seq) {
                return Ok(i64::from(status));
            }
        }
        Err(OsError::new(BAD_THREAD_ID, None))
    }
}
