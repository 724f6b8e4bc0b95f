//! The dead_threads test module's device (`/dev/misc/dead_threads`) for the
//! tests that run in the Haiku guest, and the names of the snapshots that
//! `tests/haiku_device.rs` (on Haiku) and `tests/haiku_device_model.rs` (its
//! host self-test) both check.

use std::sync::{Mutex, MutexGuard, PoisonError};

use haiku_sys::device::{DeadThreadsDevice, JoinOrder, Limit, DEVICE_PATH};

/// The tests look at the whole team's dead list: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Opens the device, holding the lock that keeps the tests of this binary
/// apart. The tests calling this are marked
/// `#[cfg_attr(not(target_os = "haiku"), ignore = "needs Haiku with the dead_threads module")]`.
///
/// # Panics
/// Elsewhere than on Haiku (run with `--include-ignored`), and on Haiku when
/// the device cannot be opened, saying how to install the module.
pub fn device() -> (DeadThreadsDevice, MutexGuard<'static, ()>) {
    if !cfg!(target_os = "haiku") {
        panic!("needs Haiku with the dead_threads module ({DEVICE_PATH})");
    }
    let guard = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let device = DeadThreadsDevice::open().unwrap_or_else(|s| {
        panic!(
            "cannot open {DEVICE_PATH}: {s}. Install the module built from the \
             same tree as the running kernel (B_NOT_SUPPORTED: its ABI revision is \
             not this client's; see kernel-patch/module/README.md) and run the tests \
             as root."
        )
    });
    (device, guard)
}

/// Threads of each kernel scenario.
pub const SCENARIO_THREADS: u32 = 1000;

/// The snapshot of the native experiment with `threads` threads.
pub fn native_snapshot(threads: u32) -> String {
    format!("haiku_device__native_{threads}")
}

/// The snapshot of the kernel scenario joining in `order`.
pub fn scenario_snapshot(order: JoinOrder) -> String {
    format!("haiku_device__scenario_{SCENARIO_THREADS}_{}", order.name())
}

/// The snapshot of the kernel's death-entry limit, and its text.
pub const LIMIT_SNAPSHOT: &str = "haiku_device__limit";

/// The text of [`LIMIT_SNAPSHOT`].
pub fn render_limit(limit: Limit) -> String {
    format!("limit: {limit}\n")
}

/// Threads of the join race scenario.
pub const RACE_THREADS: u32 = 1000;

/// The snapshot of the join race scenario.
pub const RACE_SNAPSHOT: &str = "haiku_device__race_1000";
