//! Self-test of `tests/haiku_detached.rs` on any host: its scenarios and
//! rendering, fed by a model of a team's death entries instead of Haiku.
//!
//! * With the modern model (the kernel learns about detached threads, as
//!   with `kernel-patch/modern`) every outcome equals the committed
//!   snapshots, the ones the Haiku tests compare against.
//! * With the upstream model (libroot's detach never reaches the kernel: an
//!   entry for every thread that exits unwaited, which is current Haiku) the
//!   detach snapshots fail, and the diff names the leak (`entries_left`
//!   equal to the thread count), while the waiter and joinable snapshots,
//!   which guard joins, still pass.
//!
//! This proves the Haiku tests are not vacuous; it does not claim that
//! anything ran on Haiku.

mod common;
#[path = "haiku_detached_common/mod.rs"]
mod detached;

use std::collections::HashMap;

use common::snapshots::{added_lines, committed_body, unified_diff};
use detached::{DetachKernel, WaiterThenDetach};
use haiku_sys::{thread_id, Status};

/// A team's death entries, as the kernel keeps them.
struct Model {
    /// Whether `pthread_detach`/`PTHREAD_CREATE_DETACHED` reach the kernel.
    detach_reaches_kernel: bool,
    next_id: thread_id,
    entries: HashMap<thread_id, i32>,
}

impl Model {
    fn new(detach_reaches_kernel: bool) -> Model {
        Model {
            detach_reaches_kernel,
            next_id: 1000,
            entries: HashMap::new(),
        }
    }

    fn new_id(&mut self) -> thread_id {
        self.next_id += 1;
        self.next_id
    }

    /// A thread exits with nobody waiting: `thread_exit()` keeps an entry
    /// unless the kernel knows the thread is detached.
    fn exit_unwaited(&mut self, id: thread_id, status: i32, detached: bool) {
        if !(detached && self.detach_reaches_kernel) {
            self.entries.insert(id, status);
        }
    }

    /// `pthread_detach` of a gone thread: `thread_detach()` drops its entry.
    fn detach_gone(&mut self, id: thread_id) {
        if self.detach_reaches_kernel {
            self.entries.remove(&id);
        }
    }
}

impl DetachKernel for Model {
    fn dropped_handles(&mut self, n: usize) -> Vec<thread_id> {
        (0..n)
            .map(|i| {
                let id = self.new_id();
                // Dropping the handle races with the thread's exit: model both.
                if i % 2 == 0 {
                    self.exit_unwaited(id, 0, true);
                } else {
                    self.exit_unwaited(id, 0, false);
                    self.detach_gone(id);
                }
                id
            })
            .collect()
    }

    fn detach_after_death(&mut self, n: usize) -> Vec<thread_id> {
        let ids: Vec<thread_id> = (0..n).map(|_| self.new_id()).collect();
        for &id in &ids {
            self.exit_unwaited(id, 0, false);
        }
        for &id in &ids {
            self.detach_gone(id);
        }
        ids
    }

    fn created_detached(&mut self, n: usize) -> Vec<thread_id> {
        (0..n)
            .map(|_| {
                let id = self.new_id();
                self.exit_unwaited(id, 0, true);
                id
            })
            .collect()
    }

    fn waiter_then_detach(&mut self) -> WaiterThenDetach {
        // The waiter is queued when the thread exits: the exit status goes to
        // it and no entry is stored, detached or not.
        let id = self.new_id();
        WaiterThenDetach {
            waiter_was_waiting: true,
            pthread_detach: 0,
            waiter_got: Ok(0),
            join_afterwards: self.wait(id),
        }
    }

    fn joinable_std(&mut self, n: usize) -> usize {
        let ids: Vec<thread_id> = (0..n).map(|_| self.new_id()).collect();
        for (i, &id) in ids.iter().enumerate() {
            self.exit_unwaited(id, (i * 3) as i32, false);
        }
        ids.iter()
            .enumerate()
            .rev()
            .filter(|(i, &id)| self.wait(id) == Ok((i * 3) as i32))
            .count()
    }

    fn joinable_native(&mut self, n: usize) -> (usize, Vec<thread_id>) {
        let ids: Vec<thread_id> = (0..n).map(|_| self.new_id()).collect();
        for (i, &id) in ids.iter().enumerate() {
            self.exit_unwaited(id, 1000 + i as i32, false);
        }
        let ok = ids
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, &id)| self.wait(id) == Ok(1000 + *i as i32))
            .count();
        (ok, ids)
    }

    fn wait(&mut self, id: thread_id) -> Result<i32, Status> {
        self.entries.remove(&id).ok_or(Status::BAD_THREAD_ID)
    }
}

type Scenario = fn(&mut dyn DetachKernel) -> String;

const SCENARIOS: [(&str, Scenario); 4] = [
    (
        "haiku_detached__dropped_join_handles",
        detached::dropped_handles,
    ),
    ("haiku_detached__pthread_detach", detached::pthread_detach),
    (
        "haiku_detached__waiter_then_detach",
        detached::waiter_then_detach,
    ),
    ("haiku_detached__joinable", detached::joinable),
];

#[test]
fn modern_model_matches_every_snapshot() {
    for (name, scenario) in SCENARIOS {
        let text = scenario(&mut Model::new(true));
        common::snapshots::settings().bind(|| insta::assert_snapshot!(name, text));
    }
}

#[test]
fn upstream_model_fails_the_detach_snapshots_naming_the_leak() {
    for (name, scenario, leaked) in [
        (
            SCENARIOS[0].0,
            SCENARIOS[0].1,
            vec![format!("entries_left: {}", detached::DROPPED_HANDLES)],
        ),
        (
            SCENARIOS[1].0,
            SCENARIOS[1].1,
            vec![format!("  entries_left: {}", detached::PTHREADS); 2],
        ),
    ] {
        let text = scenario(&mut Model::new(false));
        let expected = committed_body(name);
        let added = added_lines(&expected, &text);
        eprintln!(
            "{name}, upstream model:\n{}",
            unified_diff(&expected, &text, "upstream model")
        );
        assert_ne!(text, expected, "{name} must fail on the upstream model");
        for line in leaked {
            assert!(
                added.iter().filter(|a| **a == line).count()
                    >= text.lines().filter(|l| *l == line).count(),
                "{name}: the diff lacks `{line}`"
            );
        }
    }
}

#[test]
fn upstream_model_passes_the_guard_snapshots() {
    for (name, scenario) in &SCENARIOS[2..] {
        let text = scenario(&mut Model::new(false));
        assert_eq!(
            text,
            committed_body(name),
            "{name} guards joins on every kernel"
        );
    }
}

/// The test module's churn scenario as a kernel with (`modern`) or without
/// the series reports it: without, the module cannot tell the kernel, and
/// each batch's threads (256 at a time) keep their entries until the final
/// joins consume them.
fn churn_report(n: u32, modern: bool) -> haiku_sys::device::ChurnReport {
    haiku_sys::device::ChurnReport {
        team: 100,
        kernel_knows_detached: modern,
        spawned: n,
        spawn_error: None,
        still_alive: 0,
        detach_errors: 0,
        first_detach_error: None,
        entries_before: 0,
        own_entries_max: if modern { 0 } else { n.min(256) },
        own_entries_after: if modern { 0 } else { n },
        entries_after: if modern { 0 } else { n },
        joined_ok: if modern { 0 } else { n },
        joined_bad_thread_id: if modern { n } else { 0 },
        joined_other_error: 0,
        churn_time: std::time::Duration::ZERO,
    }
}

fn join_cost_report(n: u32) -> haiku_sys::device::JoinCostReport {
    haiku_sys::device::JoinCostReport {
        team: 100,
        spawn_error: None,
        forward_spawned: n,
        forward_joined_ok: n,
        forward_failed: 0,
        reverse_spawned: n,
        reverse_joined_ok: n,
        reverse_failed: 0,
        still_alive: 0,
        forward_join_time: std::time::Duration::ZERO,
        reverse_join_time: std::time::Duration::ZERO,
    }
}

fn churn_text(modern: bool) -> String {
    let mut out = String::new();
    for n in detached::MODULE_SIZES {
        detached::render_churn(&mut out, n, &churn_report(n, modern));
    }
    out
}

#[test]
fn module_snapshots_hold_for_the_modern_kernel_and_fail_for_upstream() {
    let join_cost = {
        let mut out = String::new();
        for n in detached::MODULE_SIZES {
            detached::render_join_cost(&mut out, n, &join_cost_report(n));
        }
        out
    };
    for name in [
        "haiku_detached_module__churn_at_creation",
        "haiku_detached_module__churn_after_exit",
    ] {
        let modern = churn_text(true);
        common::snapshots::settings().bind(|| insta::assert_snapshot!(name, modern));
        let upstream = churn_text(false);
        let expected = committed_body(name);
        assert_ne!(upstream, expected, "{name} must fail for upstream");
        let added = added_lines(&expected, &upstream);
        for n in detached::MODULE_SIZES {
            let line = format!("  own_entries_after: {n}");
            assert!(added.contains(&line), "{name}: the diff lacks `{line}`");
        }
    }
    common::snapshots::settings()
        .bind(|| insta::assert_snapshot!("haiku_detached_module__join_cost", join_cost));
}
