//! A model of a team's thread death entries, with or without a per-team
//! limit: what the Rust tests would observe on an unpatched legacy kernel
//! (32 entries, the oldest dropped) and on a fixed one; and a model of a
//! timed join racing the exit ([`JoinRaceModel`]) on an unpatched and a
//! lossless kernel.
//!
//! It only exists to show that the device tests and their snapshots are not
//! vacuous: fed through the same experiment ([`super::experiment`]) and the
//! same report code ([`super::report`]), the legacy model must produce a
//! snapshot diff that names the cause. Nothing here claims to be Haiku.

use std::collections::VecDeque;
use std::time::Duration;

use haiku_sys::device::{scenario_status, DeadEntry, JoinOrder, RaceReport, ScenarioReport};
use haiku_sys::{status_t, thread_id, Status};

use super::experiment::ThreadBackend;

/// `MAX_DEAD_THREADS` of Haiku before hrev54540.
pub const LEGACY_LIMIT: usize = 32;

/// A team's dead list and a thread table, as thread_exit() and
/// wait_for_thread() treat them.
#[derive(Debug, Clone)]
pub struct DeadListModel {
    limit: Option<usize>,
    entries: VecDeque<DeadEntry>,
    next_id: thread_id,
}

impl DeadListModel {
    /// The legacy kernel: at most 32 entries, the oldest dropped.
    pub fn legacy() -> DeadListModel {
        DeadListModel::with_limit(Some(LEGACY_LIMIT))
    }

    /// A kernel that keeps every entry until it is waited for.
    pub fn unlimited() -> DeadListModel {
        DeadListModel::with_limit(None)
    }

    /// A kernel with the given limit (`None`: unlimited).
    pub fn with_limit(limit: Option<usize>) -> DeadListModel {
        DeadListModel {
            limit,
            entries: VecDeque::new(),
            next_id: 1000,
        }
    }

    /// A non-main thread of the team exited with nobody waiting.
    pub fn thread_exited(&mut self, thread: thread_id, status: status_t) {
        self.entries.push_back(DeadEntry { thread, status });
        if let Some(limit) = self.limit {
            while self.entries.len() > limit {
                self.entries.pop_front();
            }
        }
    }

    /// `wait_for_thread` on a thread that has left the thread table.
    pub fn wait_for_thread(&mut self, thread: thread_id) -> Result<status_t, Status> {
        match self.entries.iter().position(|e| e.thread == thread) {
            Some(i) => Ok(self.entries.remove(i).map(|e| e.status).unwrap_or_default()),
            None => Err(Status::BAD_THREAD_ID),
        }
    }

    fn new_id(&mut self) -> thread_id {
        self.next_id += 1;
        self.next_id
    }

    /// What the module's kernel scenario would report on this kernel.
    pub fn kernel_scenario(&mut self, threads: u32, order: JoinOrder) -> ScenarioReport {
        let entries_before = self.entries.len() as u32;
        let ids: Vec<thread_id> = (0..threads)
            .map(|i| {
                let id = self.new_id();
                self.thread_exited(id, scenario_status(i));
                id
            })
            .collect();
        let own =
            |m: &DeadListModel| m.entries.iter().filter(|e| ids.contains(&e.thread)).count() as u32;
        let own_entries_exited = own(self);
        let entries_exited = self.entries.len() as u32;

        let mut indices: Vec<u32> = (0..threads).collect();
        let seed = match order {
            JoinOrder::Forward => 0,
            JoinOrder::Reverse => {
                indices.reverse();
                0
            }
            JoinOrder::Shuffled { seed } => {
                let seed = if seed == 0 { 1 } else { seed };
                let mut state = seed;
                for i in (1..indices.len()).rev() {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    indices.swap(i, (state >> 33) as usize % (i + 1));
                }
                seed
            }
        };
        let mut report = ScenarioReport {
            team: 1,
            threads,
            spawned: threads,
            spawn_error: None,
            seed,
            still_alive: 0,
            joined_ok: 0,
            joined_bad_thread_id: 0,
            joined_other_error: 0,
            first_other_error: None,
            wrong_status: 0,
            entries_before,
            entries_exited,
            entries_after: 0,
            own_entries_exited,
            own_entries_after: 0,
            spawn_time: Duration::ZERO,
            exit_time: Duration::ZERO,
            join_time: Duration::ZERO,
        };
        for i in indices {
            match self.wait_for_thread(ids[i as usize]) {
                Ok(status) => {
                    report.joined_ok += 1;
                    if status != scenario_status(i) {
                        report.wrong_status += 1;
                    }
                }
                Err(s) if s == Status::BAD_THREAD_ID => report.joined_bad_thread_id += 1,
                Err(s) => {
                    report.joined_other_error += 1;
                    report.first_other_error.get_or_insert(s);
                }
            }
        }
        report.entries_after = self.entries.len() as u32;
        report.own_entries_after = own(self);
        report
    }
}

/// Threads of the model exit as soon as they are spawned.
impl ThreadBackend for DeadListModel {
    fn spawn_exiting(&mut self, value: status_t) -> Result<thread_id, Status> {
        let id = self.new_id();
        self.thread_exited(id, value);
        Ok(id)
    }

    fn is_alive(&mut self, _id: thread_id) -> Result<bool, Status> {
        Ok(false)
    }

    fn join(&mut self, id: thread_id) -> Result<status_t, Status> {
        self.wait_for_thread(id)
    }

    fn dead_list(&mut self) -> Result<Vec<DeadEntry>, Status> {
        Ok(self.entries.iter().copied().collect())
    }

    fn pause(&mut self) {}
}

/// Which `wait_for_thread_etc()` a [`JoinRaceModel`] models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaceKernel {
    /// Upstream (and the series before the lossless patches): a waiter
    /// whose wait times out removes itself from the thread's waiters as
    /// long as the thread is still visible, even when thread_exit() has
    /// already decided not to store a death entry because of it.
    Unpatched,
    /// The lossless series: thread_exit() marks `exit.waiters_own_status`
    /// when it stores no entry because waiters are queued; a timed-out
    /// waiter that sees the mark waits for the exit semaphore and returns
    /// the status.
    Lossless,
}

/// Where the joiner's timed wait ends relative to the exit of the thread it
/// waits for (thread_exit(): the *decision* whether to store a death entry,
/// then `visible = false`, then the waiters are filled and the exit
/// semaphore deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeoutAt {
    /// The first wait lasts until the semaphore is deleted: no timeout.
    Never,
    /// Before the decision: no waiter is queued then, the entry is stored.
    BeforeDecision,
    /// Between the decision and `visible = false`, and the next attempt
    /// starts while the thread is still visible.
    WindowRetryVisible,
    /// Between the decision and `visible = false`, and the next attempt
    /// starts once the thread is gone.
    WindowRetryGone,
}

/// The thread state wait_for_thread_etc() and thread_exit() share.
#[derive(Debug, Default)]
struct RaceThread {
    visible: bool,
    waiter_queued: bool,
    waiter_got_status: bool,
    waiters_own_status: bool,
    entry_stored: bool,
}

/// A model of the module's join race scenario
/// (`DeadThreadsDevice::run_join_race`): one joiner with timed waits
/// against one exiting thread at a time, on an unpatched or a lossless
/// kernel. Each thread's exit meets the joiner's waits in one of the four
/// interleavings of [`TimeoutAt`], in turn; on Haiku the module provokes
/// them by spreading the exits over the waits, and which ones happen is a
/// matter of timing. The model makes every interleaving happen, so its
/// counts are what a kernel with that `wait_for_thread_etc()` loses at
/// worst.
#[derive(Debug, Clone)]
pub struct JoinRaceModel {
    kernel: RaceKernel,
}

impl JoinRaceModel {
    /// A model of `kernel`.
    pub fn new(kernel: RaceKernel) -> JoinRaceModel {
        JoinRaceModel { kernel }
    }

    /// One attempt's end when its wait times out: the waiter removes itself
    /// while the thread is visible, unless (lossless) the exit marked the
    /// status as the waiters' own, then it waits for it.
    fn timed_out(&self, t: &mut RaceThread) -> Result<(), ()> {
        if t.visible && !(self.kernel == RaceKernel::Lossless && t.waiters_own_status) {
            t.waiter_queued = false;
            Err(())
        } else {
            // gone (or marked): wait uninterruptibly for the semaphore
            Ok(())
        }
    }

    /// thread_exit()'s decision step.
    fn decide(t: &mut RaceThread) {
        if t.waiter_queued {
            t.waiters_own_status = true;
        } else {
            t.entry_stored = true;
        }
    }

    /// thread_exit() after `visible = false`: fills the queued waiter.
    fn fill(t: &mut RaceThread) {
        if t.waiter_queued {
            t.waiter_got_status = true;
        }
    }

    /// A new attempt: queues on a visible thread, else looks for the entry.
    fn attempt(t: &mut RaceThread) -> Option<Result<(), Status>> {
        if t.visible {
            t.waiter_queued = true;
            None
        } else if std::mem::take(&mut t.entry_stored) {
            Some(Ok(()))
        } else {
            Some(Err(Status::BAD_THREAD_ID))
        }
    }

    /// Joins one thread whose exit meets the waits as `at` says; returns
    /// whether an attempt timed out and the final result.
    fn join_one(&self, at: TimeoutAt) -> (bool, Result<(), Status>) {
        let mut t = RaceThread {
            visible: true,
            ..RaceThread::default()
        };
        let first = Self::attempt(&mut t);
        debug_assert!(
            first.is_none(),
            "the thread is visible at the first attempt"
        );
        let (timed_out, result) = match at {
            TimeoutAt::Never => {
                Self::decide(&mut t);
                t.visible = false;
                Self::fill(&mut t);
                (false, Ok(()))
            }
            TimeoutAt::BeforeDecision => {
                let timed_out = self.timed_out(&mut t).is_err();
                Self::decide(&mut t);
                t.visible = false;
                Self::fill(&mut t);
                (timed_out, Self::attempt(&mut t).unwrap_or(Ok(())))
            }
            TimeoutAt::WindowRetryVisible | TimeoutAt::WindowRetryGone => {
                Self::decide(&mut t);
                match self.timed_out(&mut t) {
                    Ok(()) => {
                        // lossless: the waiter stays queued and is filled
                        t.visible = false;
                        Self::fill(&mut t);
                        (true, Ok(()))
                    }
                    Err(()) if at == TimeoutAt::WindowRetryVisible => {
                        let retry = Self::attempt(&mut t);
                        debug_assert!(retry.is_none());
                        t.visible = false;
                        Self::fill(&mut t);
                        (true, Ok(()))
                    }
                    Err(()) => {
                        t.visible = false;
                        Self::fill(&mut t);
                        (true, Self::attempt(&mut t).unwrap_or(Ok(())))
                    }
                }
            }
        };
        debug_assert!(result.is_err() || !t.waiter_queued || t.waiter_got_status);
        (timed_out, result)
    }

    /// What the module's join race would report for `threads` threads.
    pub fn join_race(&self, threads: u32) -> RaceReport {
        const ORDER: [TimeoutAt; 4] = [
            TimeoutAt::Never,
            TimeoutAt::BeforeDecision,
            TimeoutAt::WindowRetryVisible,
            TimeoutAt::WindowRetryGone,
        ];
        let mut report = RaceReport {
            team: 1,
            threads,
            spawned: threads,
            spawn_error: None,
            joined_ok: 0,
            joined_after_timeout: 0,
            timeouts: 0,
            statuses_lost: 0,
            joined_bad_thread_id: 0,
            joined_other_error: 0,
            first_other_error: None,
            wrong_status: 0,
            still_alive: 0,
            own_entries_after: 0,
            race_time: Duration::ZERO,
        };
        for i in 0..threads {
            let (timed_out, result) = self.join_one(ORDER[i as usize % ORDER.len()]);
            report.timeouts += u32::from(timed_out);
            match result {
                Ok(()) => {
                    report.joined_ok += 1;
                    report.joined_after_timeout += u32::from(timed_out);
                }
                Err(_) if timed_out => report.statuses_lost += 1,
                Err(_) => report.joined_bad_thread_id += 1,
            }
        }
        report
    }
}
