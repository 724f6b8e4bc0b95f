//! The modern series seen from inside the kernel, through the dead_threads
//! test module's revision 2 scenarios (`/dev/misc/dead_threads`): detached
//! threads leave no death entry at any N, and joins of dead threads work in
//! any order at any N.
//!
//! Built for Haiku (the guest image runs it as root with the module
//! installed); on other systems every test prints that it was skipped.
//! A module built against a tree without the modern series reports
//! `kernel_knows_detached: false`, and its threads keep their entries: the
//! snapshots then fail, naming how many entries were left.
//!
//! The join-cost scenario's times are printed, never asserted: this is not a
//! timed test. `dead-threads bench` measures the same lookup pattern on the
//! host.

use std::sync::{Mutex, MutexGuard, PoisonError};

use haiku_sys::device::{DeadThreadsDevice, DetachMode, DEVICE_PATH};
use serde::Serialize;

/// The Ns of the issue: 10^2 .. 10^5.
const SIZES: [u32; 4] = [100, 1_000, 10_000, 100_000];

/// The scenarios look at the whole team's dead list: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn device(test: &str) -> Option<(DeadThreadsDevice, MutexGuard<'static, ()>)> {
    if !cfg!(target_os = "haiku") {
        eprintln!("SKIPPED {test}: needs Haiku with the dead_threads module ({DEVICE_PATH})");
        return None;
    }
    let guard = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let device = DeadThreadsDevice::open().unwrap_or_else(|s| {
        panic!(
            "cannot open {DEVICE_PATH}: {s}. Install the module (see \
             kernel-patch/module/README.md) and run the tests as root."
        )
    });
    Some((device, guard))
}

/// The part of a churn report that must not depend on timing.
#[derive(Debug, Serialize)]
struct Churn {
    n: u32,
    kernel_knows_detached: bool,
    spawned: u32,
    spawn_error: Option<String>,
    detach_errors: u32,
    /// Most entries of one batch's threads after that batch: must be 0.
    own_entries_max: u32,
    /// Entries of all the scenario's threads at the end: must be 0.
    own_entries_after: u32,
    /// Joining each gone thread afterwards: all `B_BAD_THREAD_ID`.
    joined_bad_thread_id: u32,
    joined_ok: u32,
    joined_other_error: u32,
}

fn churn(device: &DeadThreadsDevice, n: u32, detach: DetachMode) -> Churn {
    let r = device
        .run_churn(n, 0, detach, None)
        .unwrap_or_else(|s| panic!("churn scenario, N = {n}, {detach:?}: {s}"));
    eprintln!(
        "# churn N={n} {detach:?}: {} us, {} still alive at a batch deadline",
        r.churn_time.as_micros(),
        r.still_alive
    );
    Churn {
        n,
        kernel_knows_detached: r.kernel_knows_detached,
        spawned: r.spawned,
        spawn_error: r.spawn_error.map(|s| s.to_string()),
        detach_errors: r.detach_errors,
        own_entries_max: r.own_entries_max,
        own_entries_after: r.own_entries_after,
        joined_bad_thread_id: r.joined_bad_thread_id,
        joined_ok: r.joined_ok,
        joined_other_error: r.joined_other_error,
    }
}

#[test]
fn churn_created_detached_leaves_no_entries() {
    let Some((device, _guard)) = device("churn_created_detached_leaves_no_entries") else {
        return;
    };
    let runs: Vec<Churn> = SIZES
        .iter()
        .map(|&n| churn(&device, n, DetachMode::AtCreation))
        .collect();
    insta::assert_yaml_snapshot!("churn_at_creation", runs);
}

#[test]
fn churn_detached_after_exit_leaves_no_entries() {
    let Some((device, _guard)) = device("churn_detached_after_exit_leaves_no_entries") else {
        return;
    };
    let runs: Vec<Churn> = SIZES
        .iter()
        .map(|&n| churn(&device, n, DetachMode::AfterExit))
        .collect();
    insta::assert_yaml_snapshot!("churn_after_exit", runs);
}

/// The part of a join-cost report that must not depend on timing.
#[derive(Debug, Serialize)]
struct JoinCost {
    n: u32,
    spawn_error: Option<String>,
    forward_joined_ok: u32,
    forward_failed: u32,
    reverse_joined_ok: u32,
    reverse_failed: u32,
}

#[test]
fn join_cost_every_dead_thread_joins_in_both_orders() {
    let Some((device, _guard)) = device("join_cost_every_dead_thread_joins_in_both_orders") else {
        return;
    };
    let mut runs = Vec::new();
    for &n in &SIZES {
        let r = device
            .run_join_cost(n, 0, None)
            .unwrap_or_else(|s| panic!("join-cost scenario, N = {n}: {s}"));
        let (forward, reverse) = (r.forward_ns_per_join(), r.reverse_ns_per_join());
        // Measured, printed, not asserted.
        eprintln!(
            "# join cost N={n}: forward {forward:.0} ns/join, reverse {reverse:.0} ns/join, \
             reverse/forward {:.2}",
            if forward > 0.0 {
                reverse / forward
            } else {
                f64::NAN
            }
        );
        runs.push(JoinCost {
            n,
            spawn_error: r.spawn_error.map(|s| s.to_string()),
            forward_joined_ok: r.forward_joined_ok,
            forward_failed: r.forward_failed,
            reverse_joined_ok: r.reverse_joined_ok,
            reverse_failed: r.reverse_failed,
        });
    }
    insta::assert_yaml_snapshot!("join_cost", runs);
}
