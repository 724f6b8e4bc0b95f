//! Verification through the dead_threads test module (/dev/misc/dead_threads)
//! on Haiku: a team keeps one death entry per exited, unjoined thread, and
//! wait_for_thread() returns every exit value.
//!
//! Built for Haiku (the guest image runs it as root with the module
//! installed); on other systems every test is reported ignored. The
//! snapshots in tests/snapshots/haiku_device__*.snap hold the outcome of a
//! fixed kernel; tests/haiku_device_model.rs shows on Linux that a 32-entry
//! legacy kernel fails them with a diff that names the cause, and that a
//! kernel whose timed joins lose the status fails the join race snapshot.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::device::{
    device, native_snapshot, render_limit, scenario_snapshot, LIMIT_SNAPSHOT, RACE_SNAPSHOT,
    RACE_THREADS, SCENARIO_THREADS,
};
use common::snapshots;

use dead_threads::module::experiment::{native_experiment, ThreadBackend};
use dead_threads::module::report::{RaceOutcome, ScenarioOutcome};
use haiku_sys::device::{DeadEntry, DeadThreadsDevice, JoinOrder};
use haiku_sys::thread::{self, Thread};
use haiku_sys::{status_t, thread_id, Status};

/// Native threads from haiku-sys, dead list from the device.
struct HaikuThreads<'a> {
    device: &'a DeadThreadsDevice,
    threads: HashMap<thread_id, Thread>,
}

impl ThreadBackend for HaikuThreads<'_> {
    fn spawn_exiting(&mut self, value: status_t) -> Result<thread_id, Status> {
        let t = thread::spawn("dead-threads native", move || value)?;
        t.resume()?;
        let id = t.id();
        self.threads.insert(id, t);
        Ok(id)
    }

    fn is_alive(&mut self, id: thread_id) -> Result<bool, Status> {
        match thread::get_thread_info(id) {
            Ok(_) => Ok(true),
            Err(s) if s == Status::BAD_THREAD_ID => Ok(false),
            Err(s) => Err(s),
        }
    }

    fn join(&mut self, id: thread_id) -> Result<status_t, Status> {
        match self.threads.remove(&id) {
            Some(t) => t.wait(),
            None => thread::wait_for_thread(id),
        }
    }

    fn dead_list(&mut self) -> Result<Vec<DeadEntry>, Status> {
        let capacity = self.device.info()?.max_list_entries;
        let list = self.device.dead_list(0, capacity)?;
        assert!(
            list.count <= capacity,
            "the team holds {} entries, more than one call returns ({capacity})",
            list.count
        );
        Ok(list.entries)
    }

    fn pause(&mut self) {
        let _ = thread::snooze(1000);
    }
}

fn native(test: &str, threads: u32) {
    let (device, _guard) = device();
    let mut backend = HaikuThreads {
        device: &device,
        threads: HashMap::new(),
    };
    let outcome = native_experiment(&mut backend, threads, 256, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{test}: {e}"));
    snapshots::settings().bind(|| {
        insta::assert_snapshot!(native_snapshot(threads), outcome.to_string());
    });
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn native_33() {
    native("native_33", 33);
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn native_57() {
    native("native_57", 57);
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn native_1000() {
    native("native_1000", 1000);
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn native_10000() {
    native("native_10000", 10000);
}

fn scenario(test: &str, order: JoinOrder) {
    let (device, _guard) = device();
    let report = device
        .run_kernel_scenario(SCENARIO_THREADS, order, None)
        .unwrap_or_else(|s| panic!("{test}: the kernel scenario failed: {s}"));
    eprintln!(
        "{test}: team {} seed {:#x}: spawn {:?}, exit {:?}, join {:?}; team entries \
         before {}, exited {}, after {}",
        report.team,
        report.seed,
        report.spawn_time,
        report.exit_time,
        report.join_time,
        report.entries_before,
        report.entries_exited,
        report.entries_after
    );
    let outcome = ScenarioOutcome::from_report(order.name(), &report);
    snapshots::settings().bind(|| {
        insta::assert_snapshot!(scenario_snapshot(order), outcome.to_string());
    });
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn kernel_scenario_forward() {
    scenario("kernel_scenario_forward", JoinOrder::Forward);
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn kernel_scenario_reverse() {
    scenario("kernel_scenario_reverse", JoinOrder::Reverse);
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn kernel_scenario_shuffled() {
    scenario(
        "kernel_scenario_shuffled",
        JoinOrder::Shuffled {
            seed: 0x5eed_dead_7412,
        },
    );
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn kernel_limit() {
    let (device, _guard) = device();
    let info = device.info().expect("DEAD_THREADS_GET_INFO");
    eprintln!("kernel_limit: {info:?}");
    snapshots::settings().bind(|| {
        insta::assert_snapshot!(LIMIT_SNAPSHOT, render_limit(info.limit));
    });
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn device_rejects_bad_requests() {
    let (device, _guard) = device();
    let info = device.info().expect("DEAD_THREADS_GET_INFO");
    // team ids are positive; -5 is never one
    assert_eq!(device.dead_list(-5, 0).unwrap_err(), Status::BAD_TEAM_ID);
    assert_eq!(
        device.dead_list(0, info.max_list_entries + 1).unwrap_err(),
        Status::BAD_VALUE
    );
    for threads in [0, info.max_scenario_threads + 1] {
        assert_eq!(
            device
                .run_kernel_scenario(threads, JoinOrder::Forward, None)
                .unwrap_err(),
            Status::BAD_VALUE,
            "{threads} threads"
        );
    }
    // at most 512 threads alive at once
    assert_eq!(
        device
            .run_churn(100, 513, haiku_sys::device::DetachMode::AtCreation, None)
            .unwrap_err(),
        Status::BAD_VALUE
    );
    assert_eq!(
        device.run_join_race(0, None, None).unwrap_err(),
        Status::BAD_VALUE
    );
    // 0 means the caller's team
    let own = device.dead_list(0, 0).expect("own dead list");
    assert_eq!(own.team as libc::pid_t, std::process::id() as libc::pid_t);
    assert!(own.entries.is_empty());
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn concurrent_callers() {
    let (device, _guard) = device();
    // Two scenarios and a reader at once: the module runs one scenario at a
    // time and answers B_BUSY to the other caller meanwhile; a scenario
    // that ran must see exactly its own threads' entries.
    let device = &device;
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| s.spawn(move || device.run_kernel_scenario(500, JoinOrder::Reverse, None)))
            .collect();
        let reader = s.spawn(move || {
            (0..200)
                .map(|_| device.dead_list(0, 64).map(|l| l.count))
                .collect::<Result<Vec<_>, _>>()
        });
        let mut ran = 0;
        for run in runs {
            let report = match run.join().expect("scenario thread") {
                Ok(report) => report,
                Err(s) if s == Status::BUSY => continue,
                Err(s) => panic!("scenario: {s}"),
            };
            ran += 1;
            assert_eq!(report.spawned, 500, "{report:?}");
            assert_eq!(report.own_entries_exited, 500, "{report:?}");
            assert_eq!(report.joined_ok, 500, "{report:?}");
            assert_eq!(report.wrong_status, 0, "{report:?}");
            assert_eq!(report.own_entries_after, 0, "{report:?}");
        }
        assert!(ran >= 1, "both scenarios got B_BUSY");
        reader.join().expect("reader thread").expect("dead_list");
    });
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn kernel_join_race() {
    let (device, _guard) = device();
    let report = device
        .run_join_race(RACE_THREADS, None, None)
        .unwrap_or_else(|s| panic!("kernel_join_race: the race scenario failed: {s}"));
    // Timing: how often the waits and the exits met. Printed, not asserted.
    eprintln!(
        "kernel_join_race: team {}: {} timed-out attempts, {} joins after a timeout, {:?}",
        report.team, report.timeouts, report.joined_after_timeout, report.race_time
    );
    let outcome = RaceOutcome::from_report(&report);
    snapshots::settings().bind(|| {
        insta::assert_snapshot!(RACE_SNAPSHOT, outcome.to_string());
    });
}

#[test]
#[cfg_attr(
    not(target_os = "haiku"),
    ignore = "needs Haiku with the dead_threads module"
)]
fn descriptor_of_root_does_not_work_for_another_user() {
    let (device, _guard) = device();
    device.info().expect("root may use the device");
    // A child inherits the open descriptor, drops its effective user id,
    // and must be refused on the next ioctl (the module checks geteuid()
    // on every call, not only on open).
    // SAFETY: the child only calls async-signal-safe functions and the
    // device's ioctl, then _exit()s.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        let code = unsafe {
            if libc::seteuid(1000) != 0 {
                2
            } else if device.info().err() == Some(Status::PERMISSION_DENIED) {
                0
            } else {
                1
            }
        };
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: child is our child process; status is a valid out pointer.
    let waited = unsafe { libc::waitpid(child, &mut status, 0) };
    assert_eq!(waited, child);
    assert!(
        libc::WIFEXITED(status),
        "the child did not exit: {status:#x}"
    );
    match libc::WEXITSTATUS(status) {
        0 => {}
        2 => panic!("the child could not drop its effective user id"),
        _ => panic!("a non-root effective user could use the inherited descriptor"),
    }
}
