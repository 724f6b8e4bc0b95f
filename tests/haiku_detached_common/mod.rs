//! Scenarios shared by `tests/haiku_detached.rs` (real threads on Haiku)
//! and `tests/haiku_detached_model.rs` (a model of the kernel's death
//! entries on any host): the same steps, the same rendered outcome, the same
//! snapshot files.
//!
//! An entry is seen from userland like this: once a thread is gone,
//! `wait_for_thread(id)` succeeds exactly when the kernel kept a death entry
//! for it (and consumes that entry).

#![allow(dead_code)] // each test crate uses its own part

use std::fmt::Write as _;

use haiku_sys::{thread_id, Status};

/// Thread counts of the scenarios.
pub const DROPPED_HANDLES: usize = 10_000;
/// Threads per pthread scenario.
pub const PTHREADS: usize = 100;
/// std threads of the joinable scenario.
pub const JOINABLE_STD: usize = 1000;
/// Native threads of the joinable scenario.
pub const JOINABLE_NATIVE: usize = 100;
/// The Ns of the module scenarios: 10^2 .. 10^5.
pub const MODULE_SIZES: [u32; 4] = [100, 1_000, 10_000, 100_000];

/// What a scenario needs from the system under test. Every method returns
/// only once the threads it made are gone (no longer live threads).
pub trait DetachKernel {
    /// `n` threads made with `std::thread::spawn` whose `JoinHandle` is
    /// dropped (std then calls `pthread_detach`, while the thread runs or
    /// after it exited). Returns their thread ids.
    fn dropped_handles(&mut self, n: usize) -> Vec<thread_id>;
    /// `n` joinable pthreads; once all are gone each is `pthread_detach`ed
    /// (which must return 0). Returns their thread ids.
    fn detach_after_death(&mut self, n: usize) -> Vec<thread_id>;
    /// `n` pthreads created with `PTHREAD_CREATE_DETACHED`.
    fn created_detached(&mut self, n: usize) -> Vec<thread_id>;
    /// A pthread that a second thread is already waiting for (seen blocked)
    /// when it is `pthread_detach`ed; then it exits.
    fn waiter_then_detach(&mut self) -> WaiterThenDetach;
    /// `std` threads returning `i * 3` that all exit, then are joined newest
    /// first; returns how many joins returned the right value.
    fn joinable_std(&mut self, n: usize) -> usize;
    /// Native threads exiting with `1000 + i` that all exit, then are waited
    /// for newest first; returns how many got the right status, and their ids.
    fn joinable_native(&mut self, n: usize) -> (usize, Vec<thread_id>);
    /// `wait_for_thread(id)`: the exit status, or why not.
    fn wait(&mut self, id: thread_id) -> Result<i32, Status>;
}

/// What one `wait_for_thread` per gone thread found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EntryCount {
    /// Threads looked at.
    pub threads: usize,
    /// `wait_for_thread` succeeded: the kernel had kept a death entry.
    pub entries_left: usize,
    /// `wait_for_thread` failed with `B_BAD_THREAD_ID`: no entry.
    pub bad_thread_id: usize,
    /// Any other result.
    pub other: Vec<String>,
}

/// Joins every (gone) thread once and counts what that found. This also
/// frees whatever entries a kernel without the fix kept.
pub fn count_entries(kernel: &mut dyn DetachKernel, ids: &[thread_id]) -> EntryCount {
    let mut count = EntryCount {
        threads: ids.len(),
        ..EntryCount::default()
    };
    for &id in ids {
        match kernel.wait(id) {
            Ok(_) => count.entries_left += 1,
            Err(s) if s == Status::BAD_THREAD_ID => count.bad_thread_id += 1,
            Err(s) => count.other.push(format!("thread {id}: {s}")),
        }
    }
    count
}

fn render_count(out: &mut String, indent: &str, c: &EntryCount) {
    let _ = writeln!(out, "{indent}threads: {}", c.threads);
    let _ = writeln!(out, "{indent}entries_left: {}", c.entries_left);
    let _ = writeln!(out, "{indent}bad_thread_id: {}", c.bad_thread_id);
    if c.other.is_empty() {
        let _ = writeln!(out, "{indent}other: none");
    } else {
        let _ = writeln!(out, "{indent}other:");
        for o in &c.other {
            let _ = writeln!(out, "{indent}  - {o}");
        }
    }
}

/// What the waiter scenario saw.
#[derive(Debug, PartialEq, Eq)]
pub struct WaiterThenDetach {
    /// The waiter was seen blocked (`B_THREAD_WAITING`) before the detach.
    pub waiter_was_waiting: bool,
    /// `pthread_detach`'s result.
    pub pthread_detach: i32,
    /// What the waiter's `wait_for_thread` returned.
    pub waiter_got: Result<i32, Status>,
    /// A `wait_for_thread` once the detached thread is gone.
    pub join_afterwards: Result<i32, Status>,
}

fn render_result(r: &Result<i32, Status>) -> String {
    match r {
        Ok(v) => format!("status {v}"),
        Err(s) => s.to_string(),
    }
}

/// Scenario: dropped `JoinHandle`s leave no entries.
pub fn dropped_handles(kernel: &mut dyn DetachKernel) -> String {
    let ids = kernel.dropped_handles(DROPPED_HANDLES);
    let mut out = String::new();
    render_count(&mut out, "", &count_entries(kernel, &ids));
    out
}

/// Scenario: `pthread_detach` after death and `PTHREAD_CREATE_DETACHED`.
pub fn pthread_detach(kernel: &mut dyn DetachKernel) -> String {
    let after = kernel.detach_after_death(PTHREADS);
    let after = count_entries(kernel, &after);
    let created = kernel.created_detached(PTHREADS);
    let created = count_entries(kernel, &created);
    let mut out = String::from("detached_after_death:\n");
    render_count(&mut out, "  ", &after);
    out.push_str("created_detached:\n");
    render_count(&mut out, "  ", &created);
    out
}

/// Scenario: a waiter already waiting keeps getting the status.
pub fn waiter_then_detach(kernel: &mut dyn DetachKernel) -> String {
    let w = kernel.waiter_then_detach();
    format!(
        "waiter_was_waiting: {}\npthread_detach: {}\nwaiter_got: {}\njoin_afterwards: {}\n",
        w.waiter_was_waiting,
        w.pthread_detach,
        render_result(&w.waiter_got),
        render_result(&w.join_afterwards)
    )
}

/// Scenario: joinable threads stay fully joinable, exactly once.
pub fn joinable(kernel: &mut dyn DetachKernel) -> String {
    let std_ok = kernel.joinable_std(JOINABLE_STD);
    let (native_ok, native_ids) = kernel.joinable_native(JOINABLE_NATIVE);
    let second = count_entries(kernel, &native_ids);
    let mut out = format!(
        "std_threads: {JOINABLE_STD}\nstd_joined_with_value: {std_ok}\n\
         native_threads: {JOINABLE_NATIVE}\nnative_joined_with_status: {native_ok}\n\
         native_second_join:\n"
    );
    render_count(&mut out, "  ", &second);
    out
}

/// Renders what must not depend on timing of a churn run.
pub fn render_churn(out: &mut String, n: u32, r: &haiku_sys::device::ChurnReport) {
    let _ = writeln!(out, "- n: {n}");
    let _ = writeln!(out, "  kernel_knows_detached: {}", r.kernel_knows_detached);
    let _ = writeln!(out, "  spawned: {}", r.spawned);
    let _ = writeln!(out, "  spawn_error: {}", render_status(r.spawn_error));
    let _ = writeln!(out, "  detach_errors: {}", r.detach_errors);
    let _ = writeln!(out, "  own_entries_max: {}", r.own_entries_max);
    let _ = writeln!(out, "  own_entries_after: {}", r.own_entries_after);
    let _ = writeln!(out, "  joined_bad_thread_id: {}", r.joined_bad_thread_id);
    let _ = writeln!(out, "  joined_ok: {}", r.joined_ok);
    let _ = writeln!(out, "  joined_other_error: {}", r.joined_other_error);
}

/// Renders what must not depend on timing of a join-cost run.
pub fn render_join_cost(out: &mut String, n: u32, r: &haiku_sys::device::JoinCostReport) {
    let _ = writeln!(out, "- n: {n}");
    let _ = writeln!(out, "  spawn_error: {}", render_status(r.spawn_error));
    let _ = writeln!(out, "  forward_joined_ok: {}", r.forward_joined_ok);
    let _ = writeln!(out, "  forward_failed: {}", r.forward_failed);
    let _ = writeln!(out, "  reverse_joined_ok: {}", r.reverse_joined_ok);
    let _ = writeln!(out, "  reverse_failed: {}", r.reverse_failed);
}

fn render_status(s: Option<Status>) -> String {
    s.map_or_else(|| "none".to_owned(), |s| s.to_string())
}
