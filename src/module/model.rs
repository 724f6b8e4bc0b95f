//! A model of a team's thread death entries, with or without a per-team
//! limit: what the Rust tests would observe on an unpatched legacy kernel
//! (32 entries, the oldest dropped) and on a fixed one.
//!
//! It only exists to show that the device tests and their snapshots are not
//! vacuous: fed through the same experiment ([`super::experiment`]) and the
//! same report code ([`super::report`]), the legacy model must produce a
//! snapshot diff that names the cause. Nothing here claims to be Haiku.

use std::collections::VecDeque;
use std::time::Duration;

use haiku_sys::device::{scenario_status, DeadEntry, JoinOrder, ScenarioReport};
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
