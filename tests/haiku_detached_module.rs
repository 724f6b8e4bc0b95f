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

#[path = "haiku_detached_common/mod.rs"]
mod common;

use std::sync::{Mutex, MutexGuard, PoisonError};

use common::MODULE_SIZES as SIZES;
use haiku_sys::device::{DeadThreadsDevice, DetachMode, DEVICE_PATH};

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

fn churn(device: &DeadThreadsDevice, detach: DetachMode) -> String {
    let mut out = String::new();
    for &n in &SIZES {
        let r = device
            .run_churn(n, 0, detach, None)
            .unwrap_or_else(|s| panic!("churn scenario, N = {n}, {detach:?}: {s}"));
        eprintln!(
            "# churn N={n} {detach:?}: {} us, {} still alive at a batch deadline",
            r.churn_time.as_micros(),
            r.still_alive
        );
        common::render_churn(&mut out, n, &r);
    }
    out
}

#[test]
fn churn_created_detached_leaves_no_entries() {
    let Some((device, _guard)) = device("churn_created_detached_leaves_no_entries") else {
        return;
    };
    let text = churn(&device, DetachMode::AtCreation);
    common::snapshot_settings()
        .bind(|| insta::assert_snapshot!("haiku_detached_module__churn_at_creation", text));
}

#[test]
fn churn_detached_after_exit_leaves_no_entries() {
    let Some((device, _guard)) = device("churn_detached_after_exit_leaves_no_entries") else {
        return;
    };
    let text = churn(&device, DetachMode::AfterExit);
    common::snapshot_settings()
        .bind(|| insta::assert_snapshot!("haiku_detached_module__churn_after_exit", text));
}

#[test]
fn join_cost_every_dead_thread_joins_in_both_orders() {
    let Some((device, _guard)) = device("join_cost_every_dead_thread_joins_in_both_orders") else {
        return;
    };
    let mut text = String::new();
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
        common::render_join_cost(&mut text, n, &r);
    }
    common::snapshot_settings()
        .bind(|| insta::assert_snapshot!("haiku_detached_module__join_cost", text));
}
