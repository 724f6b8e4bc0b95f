//! The modern series seen from inside the kernel, through the dead_threads
//! test module's revision 2 scenarios (`/dev/misc/dead_threads`): detached
//! threads leave no death entry at any N, and joins of dead threads work in
//! any order at any N.
//!
//! Built for Haiku (the guest image runs it as root with the module
//! installed); on other systems every test is reported ignored, with the
//! reason.
//! A module built against a tree without the modern series reports
//! `kernel_knows_detached: false`, and its threads keep their entries: the
//! snapshots then fail, naming how many entries were left.
//!
//! The join-cost scenario's times are printed, never asserted: this is not a
//! timed test. `dead-threads bench` measures the same lookup pattern on the
//! host.

mod common;
#[path = "haiku_detached_common/mod.rs"]
mod detached;

use common::device::device;
use detached::MODULE_SIZES as SIZES;
use haiku_sys::device::{DeadThreadsDevice, DetachMode};

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
        detached::render_churn(&mut out, n, &r);
    }
    out
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn churn_created_detached_leaves_no_entries() {
    let (device, _guard) = device();
    let text = churn(&device, DetachMode::AtCreation);
    common::snapshots::settings()
        .bind(|| insta::assert_snapshot!("haiku_detached_module__churn_at_creation", text));
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn churn_detached_after_exit_leaves_no_entries() {
    let (device, _guard) = device();
    let text = churn(&device, DetachMode::AfterExit);
    common::snapshots::settings()
        .bind(|| insta::assert_snapshot!("haiku_detached_module__churn_after_exit", text));
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn join_cost_every_dead_thread_joins_in_both_orders() {
    let (device, _guard) = device();
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
        detached::render_join_cost(&mut text, n, &r);
    }
    common::snapshots::settings()
        .bind(|| insta::assert_snapshot!("haiku_detached_module__join_cost", text));
}
