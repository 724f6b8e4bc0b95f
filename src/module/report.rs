//! Outcomes of the device experiments, in the text form the snapshots
//! record (tests/snapshots/haiku_device__*.snap).
//!
//! The text holds only what is deterministic on a correct kernel (counts,
//! not ids or times) and ends with a verdict line that names the cause when
//! something was lost, so a snapshot diff against an unpatched legacy kernel
//! reads e.g. `dead_entries: 32`, `B_BAD_THREAD_ID: 968`.

use std::collections::HashMap;
use std::fmt;

use haiku_sys::device::{DeadEntry, RaceReport, ScenarioReport};
use haiku_sys::{status_t, thread_id, Status};

/// Joins of one experiment, by result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JoinTally {
    /// `wait_for_thread` returned `B_OK`.
    pub ok: u32,
    /// It returned `B_BAD_THREAD_ID`: the death entry was gone.
    pub bad_thread_id: u32,
    /// It returned something else.
    pub other: u32,
    /// The first of those other results.
    pub first_other: Option<Status>,
    /// `B_OK` joins whose exit value was not the thread's own.
    pub wrong_exit_values: u32,
}

impl JoinTally {
    /// Counts one join of a thread that exited with `expected`.
    pub fn add(&mut self, result: Result<status_t, Status>, expected: status_t) {
        match result {
            Ok(value) => {
                self.ok += 1;
                if value != expected {
                    self.wrong_exit_values += 1;
                }
            }
            Err(s) if s == Status::BAD_THREAD_ID => self.bad_thread_id += 1,
            Err(s) => {
                self.other += 1;
                self.first_other.get_or_insert(s);
            }
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "joins:")?;
        writeln!(f, "  B_OK: {}", self.ok)?;
        writeln!(f, "  B_BAD_THREAD_ID: {}", self.bad_thread_id)?;
        match self.first_other {
            Some(first) => writeln!(f, "  other_errors: {} (first: {first})", self.other)?,
            None => writeln!(f, "  other_errors: {}", self.other)?,
        }
        writeln!(f, "wrong_exit_values: {}", self.wrong_exit_values)
    }
}

/// Explains what an experiment with `threads` threads saw; the last line
/// of every snapshot.
fn verdict(threads: u32, dead_entries: u32, joins: &JoinTally, left_after: u32) -> String {
    let mut problems = Vec::new();
    if dead_entries < threads {
        problems.push(format!(
            "death entries were dropped: the team held {dead_entries} of {threads} \
             (a per-team limit such as MAX_DEAD_THREADS)"
        ));
    }
    if joins.bad_thread_id > 0 {
        problems.push(format!(
            "wait_for_thread lost {} exit statuses (B_BAD_THREAD_ID for exited threads)",
            joins.bad_thread_id
        ));
    }
    if joins.other > 0 {
        problems.push(format!("{} joins failed otherwise", joins.other));
    }
    if joins.wrong_exit_values > 0 {
        problems.push(format!(
            "{} joins returned another thread's exit value",
            joins.wrong_exit_values
        ));
    }
    if left_after > 0 {
        problems.push(format!("{left_after} death entries leaked after joining"));
    }
    if problems.is_empty() {
        "every exit status was kept until joined".to_owned()
    } else {
        problems.join("; ")
    }
}

/// The native-thread experiment: N threads spawned by the test, all exited,
/// then joined with `wait_for_thread`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeOutcome {
    /// Threads spawned.
    pub threads: u32,
    /// Entries of those threads in the team's dead list once all had
    /// exited.
    pub dead_entries: u32,
    /// The joins.
    pub joins: JoinTally,
    /// Entries of those threads left after all joins.
    pub dead_entries_after_join: u32,
}

impl NativeOutcome {
    /// Builds the outcome from what was observed: the threads with their
    /// exit values, the team's dead list once all had exited, the result of
    /// joining each, and the dead list after the joins. Entries of other
    /// threads of the team (the test harness's) are not counted.
    pub fn observe(
        threads: &[(thread_id, status_t)],
        after_exit: &[DeadEntry],
        joins: &[(thread_id, Result<status_t, Status>)],
        after_join: &[DeadEntry],
    ) -> NativeOutcome {
        let expected: HashMap<thread_id, status_t> = threads.iter().copied().collect();
        let own = |list: &[DeadEntry]| {
            list.iter()
                .filter(|e| expected.contains_key(&e.thread))
                .count() as u32
        };
        let mut tally = JoinTally::default();
        for &(id, result) in joins {
            tally.add(result, expected.get(&id).copied().unwrap_or(i32::MIN));
        }
        NativeOutcome {
            threads: threads.len() as u32,
            dead_entries: own(after_exit),
            joins: tally,
            dead_entries_after_join: own(after_join),
        }
    }
}

/// The lines both outcomes end with: entries after exit, the joins, entries
/// after the joins and the verdict over `threads` threads.
fn write_entries_and_joins(
    f: &mut fmt::Formatter<'_>,
    threads: u32,
    dead_entries: u32,
    joins: &JoinTally,
    dead_entries_after_join: u32,
) -> fmt::Result {
    writeln!(f, "dead_entries: {dead_entries}")?;
    joins.write(f)?;
    writeln!(f, "dead_entries_after_join: {dead_entries_after_join}")?;
    writeln!(
        f,
        "verdict: {}",
        verdict(threads, dead_entries, joins, dead_entries_after_join)
    )
}

impl fmt::Display for NativeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "threads: {}", self.threads)?;
        write_entries_and_joins(
            f,
            self.threads,
            self.dead_entries,
            &self.joins,
            self.dead_entries_after_join,
        )
    }
}

/// The kernel scenario, as the snapshot records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioOutcome {
    /// Threads asked for.
    pub threads: u32,
    /// Join order name.
    pub order: &'static str,
    /// Threads spawned.
    pub spawned: u32,
    /// Threads that had not left the thread table in time.
    pub still_alive: u32,
    /// Entries of the scenario's threads once all had exited.
    pub dead_entries: u32,
    /// The joins.
    pub joins: JoinTally,
    /// Entries of the scenario's threads left after all joins.
    pub dead_entries_after_join: u32,
}

impl ScenarioOutcome {
    /// The deterministic part of a module report.
    pub fn from_report(order: &'static str, r: &ScenarioReport) -> ScenarioOutcome {
        ScenarioOutcome {
            threads: r.threads,
            order,
            spawned: r.spawned,
            still_alive: r.still_alive,
            dead_entries: r.own_entries_exited,
            joins: JoinTally {
                ok: r.joined_ok,
                bad_thread_id: r.joined_bad_thread_id,
                other: r.joined_other_error,
                first_other: r.first_other_error,
                wrong_exit_values: r.wrong_status,
            },
            dead_entries_after_join: r.own_entries_after,
        }
    }
}

impl fmt::Display for ScenarioOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "threads: {}", self.threads)?;
        writeln!(f, "order: {}", self.order)?;
        writeln!(f, "spawned: {}", self.spawned)?;
        writeln!(f, "still_alive: {}", self.still_alive)?;
        write_entries_and_joins(
            f,
            self.spawned,
            self.dead_entries,
            &self.joins,
            self.dead_entries_after_join,
        )
    }
}

/// The join race scenario, as the snapshot records it: only what is
/// deterministic on a kernel that loses nothing (how many waits timed out
/// is timing, and printed by the test instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaceOutcome {
    /// Threads asked for.
    pub threads: u32,
    /// Threads spawned.
    pub spawned: u32,
    /// Threads still timing out when their exit timeout had passed.
    pub still_alive: u32,
    /// Joins that returned `B_OK`.
    pub joined_ok: u32,
    /// `B_BAD_THREAD_ID` after a timed-out attempt: statuses lost.
    pub statuses_lost: u32,
    /// `B_BAD_THREAD_ID` at the first attempt.
    pub bad_thread_id_first: u32,
    /// Other results, and the first of them.
    pub other: u32,
    /// The first other result.
    pub first_other: Option<Status>,
    /// `B_OK` joins with another thread's status.
    pub wrong_exit_values: u32,
    /// Entries of the scenario's threads left after all joins.
    pub dead_entries_after_join: u32,
}

impl RaceOutcome {
    /// The deterministic part of a module report.
    pub fn from_report(r: &RaceReport) -> RaceOutcome {
        RaceOutcome {
            threads: r.threads,
            spawned: r.spawned,
            still_alive: r.still_alive,
            joined_ok: r.joined_ok,
            statuses_lost: r.statuses_lost,
            bad_thread_id_first: r.joined_bad_thread_id,
            other: r.joined_other_error,
            first_other: r.first_other_error,
            wrong_exit_values: r.wrong_status,
            dead_entries_after_join: r.own_entries_after,
        }
    }

    fn verdict(&self) -> String {
        let mut problems = Vec::new();
        if self.statuses_lost > 0 {
            problems.push(format!(
                "{} exit statuses lost: B_BAD_THREAD_ID after a timed-out join (the exit \
                 handed the status to a waiter whose wait then timed out, and stored no \
                 death entry)",
                self.statuses_lost
            ));
        }
        if self.bad_thread_id_first > 0 {
            problems.push(format!(
                "{} joins found neither the thread nor its entry",
                self.bad_thread_id_first
            ));
        }
        if self.other > 0 {
            problems.push(format!("{} joins failed otherwise", self.other));
        }
        if self.wrong_exit_values > 0 {
            problems.push(format!(
                "{} joins returned another thread's exit value",
                self.wrong_exit_values
            ));
        }
        if self.dead_entries_after_join > 0 {
            problems.push(format!(
                "{} death entries leaked after joining",
                self.dead_entries_after_join
            ));
        }
        if problems.is_empty() {
            "every exit status reached its timed joiner".to_owned()
        } else {
            problems.join("; ")
        }
    }
}

impl fmt::Display for RaceOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "threads: {}", self.threads)?;
        writeln!(f, "spawned: {}", self.spawned)?;
        writeln!(f, "still_alive: {}", self.still_alive)?;
        writeln!(f, "joins:")?;
        writeln!(f, "  B_OK: {}", self.joined_ok)?;
        writeln!(f, "  statuses_lost: {}", self.statuses_lost)?;
        writeln!(f, "  B_BAD_THREAD_ID_first: {}", self.bad_thread_id_first)?;
        match self.first_other {
            Some(first) => writeln!(f, "  other_errors: {} (first: {first})", self.other)?,
            None => writeln!(f, "  other_errors: {}", self.other)?,
        }
        writeln!(f, "wrong_exit_values: {}", self.wrong_exit_values)?;
        writeln!(
            f,
            "dead_entries_after_join: {}",
            self.dead_entries_after_join
        )?;
        writeln!(f, "verdict: {}", self.verdict())
    }
}
