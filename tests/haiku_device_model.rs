//! Linux self-test of tests/haiku_device.rs: its experiment and its report
//! code, fed by a model of a team's dead list instead of Haiku.
//!
//! * With an unlimited model (a fixed kernel) the outcome must equal the
//!   committed snapshots, the ones the Haiku tests compare against.
//! * With the 32-entry legacy model (an unpatched kernel before hrev54540)
//!   every snapshot must fail, and the diff must name the cause:
//!   `dead_entries: 32` and `B_BAD_THREAD_ID: N - 32`.
//!
//! This proves the Haiku tests are not vacuous; it does not claim that
//! anything ran on Haiku.

use std::path::PathBuf;
use std::time::Duration;

use dead_threads::module::experiment::native_experiment;
use dead_threads::module::model::{DeadListModel, LEGACY_LIMIT};
use dead_threads::module::report::{NativeOutcome, ScenarioOutcome};
use haiku_sys::device::{JoinOrder, Limit};
use similar::{ChangeTag, TextDiff};

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

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s
}

/// Body of a committed snapshot file (after insta's `---` header).
fn snapshot_body(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.snap"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut parts = text.splitn(3, "---\n");
    let (_, _, body) = (parts.next(), parts.next(), parts.next());
    body.unwrap_or_else(|| panic!("{} has no insta header", path.display()))
        .to_owned()
}

/// Lines the actual output has instead of the snapshot's (`+` side of the
/// diff insta would print).
fn added_lines(expected: &str, actual: &str) -> Vec<String> {
    TextDiff::from_lines(expected, actual)
        .iter_all_changes()
        .filter(|c| c.tag() == ChangeTag::Insert)
        .map(|c| c.value().trim_end().to_owned())
        .collect()
}

fn assert_diff_names_cause(name: &str, actual: &str, threads: u32) {
    let expected = snapshot_body(name);
    let added = added_lines(&expected, actual);
    let lost = threads - LEGACY_LIMIT as u32;
    let diff = TextDiff::from_lines(expected.as_str(), actual)
        .unified_diff()
        .header("snapshot", "legacy model")
        .to_string();
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
        settings().bind(|| {
            insta::assert_snapshot!(
                format!("haiku_device__native_{threads}"),
                outcome.to_string()
            );
        });
    }
}

#[test]
fn legacy_model_fails_native_snapshots_naming_the_cause() {
    for threads in NATIVE {
        let outcome = native(&mut DeadListModel::legacy(), threads);
        assert_eq!(outcome.dead_entries, LEGACY_LIMIT as u32);
        assert_diff_names_cause(
            &format!("haiku_device__native_{threads}"),
            &outcome.to_string(),
            threads,
        );
    }
}

#[test]
fn fixed_kernel_model_matches_scenario_snapshots() {
    for order in ORDERS {
        let report = DeadListModel::unlimited().kernel_scenario(1000, order);
        let outcome = ScenarioOutcome::from_report(order.name(), &report);
        settings().bind(|| {
            insta::assert_snapshot!(
                format!("haiku_device__scenario_1000_{}", order.name()),
                outcome.to_string()
            );
        });
    }
}

#[test]
fn legacy_model_fails_scenario_snapshots_naming_the_cause() {
    for order in ORDERS {
        let report = DeadListModel::legacy().kernel_scenario(1000, order);
        let outcome = ScenarioOutcome::from_report(order.name(), &report);
        assert_diff_names_cause(
            &format!("haiku_device__scenario_1000_{}", order.name()),
            &outcome.to_string(),
            1000,
        );
    }
}

#[test]
fn limit_snapshot_fails_on_legacy() {
    let expected = snapshot_body("haiku_device__limit");
    assert_eq!(expected, format!("limit: {}\n", Limit::Unlimited));
    let legacy = format!("limit: {}\n", Limit::Entries(LEGACY_LIMIT as u32));
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
