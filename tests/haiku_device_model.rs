//! Linux self-test of tests/haiku_device.rs: its experiment and its report
//! code, fed by a model of a team's dead list instead of Haiku.
//!
//! * With an unlimited model (a fixed kernel) the outcome must equal the
//!   committed snapshots, the ones the Haiku tests compare against.
//! * With the 32-entry legacy model (an unpatched kernel before hrev54540)
//!   every snapshot must fail, and the diff must name the cause:
//!   `dead_entries: 32` and `B_BAD_THREAD_ID: N - 32`.
//!
//! * The join race: a model of the lossless kernel's timed join must equal
//!   the committed snapshot; the unpatched one must lose statuses, and the
//!   diff must say how many (`statuses_lost: N`).
//!
//! This proves the Haiku tests are not vacuous; it does not claim that
//! anything ran on Haiku.

mod common;

use std::time::Duration;

use common::device::{
    native_snapshot, render_limit, scenario_snapshot, LIMIT_SNAPSHOT, RACE_SNAPSHOT, RACE_THREADS,
    SCENARIO_THREADS,
};
use common::snapshots::{self, added_lines, committed_body, unified_diff};
use dead_threads::module::experiment::native_experiment;
use dead_threads::module::model::{DeadListModel, JoinRaceModel, RaceKernel, LEGACY_LIMIT};
use dead_threads::module::report::{NativeOutcome, RaceOutcome, ScenarioOutcome};
use haiku_sys::device::{JoinOrder, Limit};

const NATIVE: [u32; 4] = [33, 57, 1000, 10000];
const ORDERS: [JoinOrder; 3] = [
    JoinOrder::Forward,
    JoinOrder::Reverse,
    JoinOrder::Shuffled {
        seed: 0x5eed_dead_7412,
    },
];

fn native(model: &mut DeadListModel, threads: u32) -> NativeOutcome {
    native_experiment(model, threads, 256, Duration::from_secs(1)).expect("model experiment")
}

fn assert_diff_names_cause(name: &str, actual: &str, threads: u32) {
    let expected = committed_body(name);
    let added = added_lines(&expected, actual);
    let lost = threads - LEGACY_LIMIT as u32;
    let diff = unified_diff(&expected, actual, "legacy model");
    eprintln!("{name}, legacy model:\n{diff}");
    for line in [
        format!("dead_entries: {LEGACY_LIMIT}"),
        format!("  B_OK: {LEGACY_LIMIT}"),
        format!("  B_BAD_THREAD_ID: {lost}"),
    ] {
        assert!(
            added.contains(&line),
            "{name}: the legacy diff lacks `{line}`:\n{diff}"
        );
    }
    assert!(
        added
            .iter()
            .any(|l| l.starts_with("verdict: death entries were dropped")
                && l.contains(&format!("held {LEGACY_LIMIT} of {threads}"))),
        "{name}: the verdict does not name the cause:\n{diff}"
    );
}

#[test]
fn fixed_kernel_model_matches_native_snapshots() {
    for threads in NATIVE {
        let outcome = native(&mut DeadListModel::unlimited(), threads);
        snapshots::settings().bind(|| {
            insta::assert_snapshot!(native_snapshot(threads), outcome.to_string());
        });
    }
}

#[test]
fn legacy_model_fails_native_snapshots_naming_the_cause() {
    for threads in NATIVE {
        let outcome = native(&mut DeadListModel::legacy(), threads);
        assert_eq!(outcome.dead_entries, LEGACY_LIMIT as u32);
        assert_diff_names_cause(&native_snapshot(threads), &outcome.to_string(), threads);
    }
}

#[test]
fn fixed_kernel_model_matches_scenario_snapshots() {
    for order in ORDERS {
        let report = DeadListModel::unlimited().kernel_scenario(SCENARIO_THREADS, order);
        let outcome = ScenarioOutcome::from_report(order.name(), &report);
        snapshots::settings().bind(|| {
            insta::assert_snapshot!(scenario_snapshot(order), outcome.to_string());
        });
    }
}

#[test]
fn legacy_model_fails_scenario_snapshots_naming_the_cause() {
    for order in ORDERS {
        let report = DeadListModel::legacy().kernel_scenario(SCENARIO_THREADS, order);
        let outcome = ScenarioOutcome::from_report(order.name(), &report);
        assert_diff_names_cause(
            &scenario_snapshot(order),
            &outcome.to_string(),
            SCENARIO_THREADS,
        );
    }
}

#[test]
fn limit_snapshot_fails_on_legacy() {
    let expected = committed_body(LIMIT_SNAPSHOT);
    assert_eq!(expected, render_limit(Limit::Unlimited));
    let legacy = render_limit(Limit::Entries(LEGACY_LIMIT as u32));
    assert_eq!(
        added_lines(&expected, &legacy),
        vec!["limit: 32".to_owned()]
    );
}

#[test]
fn small_teams_pass_even_on_legacy() {
    // 32 or fewer threads never hit the limit: the tests use 33 and more.
    let outcome = native(&mut DeadListModel::legacy(), 32);
    assert_eq!(
        outcome.to_string(),
        native(&mut DeadListModel::unlimited(), 32).to_string()
    );
}

#[test]
fn entries_of_other_threads_are_not_counted() {
    let mut model = DeadListModel::unlimited();
    // a thread of the harness that exited unjoined before the experiment
    model.thread_exited(1, 0);
    let outcome = native(&mut model, 57);
    assert_eq!(outcome.dead_entries, 57);
    assert_eq!(outcome.dead_entries_after_join, 0);
}

fn race(kernel: RaceKernel) -> RaceOutcome {
    RaceOutcome::from_report(&JoinRaceModel::new(kernel).join_race(RACE_THREADS))
}

#[test]
fn lossless_model_matches_race_snapshot() {
    let outcome = race(RaceKernel::Lossless);
    assert_eq!(outcome.statuses_lost, 0);
    snapshots::settings().bind(|| {
        insta::assert_snapshot!(RACE_SNAPSHOT, outcome.to_string());
    });
}

#[test]
fn unpatched_model_loses_statuses_and_fails_the_race_snapshot() {
    let outcome = race(RaceKernel::Unpatched);
    // one interleaving in four times out in the window and retries once the
    // thread is gone
    let lost = RACE_THREADS / 4;
    assert_eq!(outcome.statuses_lost, lost);
    assert_eq!(outcome.joined_ok, RACE_THREADS - lost);
    let expected = committed_body(RACE_SNAPSHOT);
    let actual = outcome.to_string();
    let added = added_lines(&expected, &actual);
    let diff = unified_diff(&expected, &actual, "unpatched model");
    eprintln!("{RACE_SNAPSHOT}, unpatched model:\n{diff}");
    assert!(
        added.contains(&format!("  statuses_lost: {lost}")),
        "the diff lacks the lost statuses:\n{diff}"
    );
    assert!(
        added
            .iter()
            .any(|l| l.starts_with(&format!("verdict: {lost} exit statuses lost"))),
        "the verdict does not name the cause:\n{diff}"
    );
}

#[test]
fn both_race_models_time_out_in_the_same_places() {
    // The difference is only what a timed-out waiter does in the window.
    let unpatched = JoinRaceModel::new(RaceKernel::Unpatched).join_race(RACE_THREADS);
    let lossless = JoinRaceModel::new(RaceKernel::Lossless).join_race(RACE_THREADS);
    assert_eq!(unpatched.timeouts, lossless.timeouts);
    assert_eq!(lossless.joined_after_timeout, lossless.timeouts);
    assert_eq!(lossless.joined_ok, RACE_THREADS);
}
