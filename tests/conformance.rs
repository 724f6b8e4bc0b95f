//! The conformance suite against the real OS, the kernel models, and a
//! relocated copy of its snapshots.
//!
//! One snapshot, `conformance__outcomes.snap`, holds the outcome every
//! correct system must produce for the default matrix: Linux's std::thread
//! and pthread, Haiku's three APIs on a patched kernel, and the fixed kernel
//! model. `conformance__legacy_model.snap` holds what the legacy (32-entry)
//! model produces. Snapshots carry no API, timing or raw error code (see
//! `dead_threads::conformance::outcome`).
//!
//! On another machine (the Haiku guest) set `INSTA_WORKSPACE_ROOT` to a
//! directory holding `tests/snapshots/` (see README, "Running the tests
//! elsewhere").

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use dead_threads::conformance::model::{KernelModel, BAD_THREAD_ID, LEGACY_MAX_DEAD_THREADS};
use dead_threads::conformance::outcome::Verdict;
use dead_threads::conformance::{
    run_api, run_scenario, Api, Backend, BackendKind, ExitMode, Matrix, OsError, Outcome,
    RunOptions, Scenario, SnapshotRow, StdBackend, ThreadSpec,
};

/// Tests that run real threads take this lock, so they never overlap even
/// when the harness runs tests in parallel: on Haiku every test of this
/// binary shares one team (its death-entry list) and a 4096-thread system
/// limit.
static REAL_THREADS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn real_threads() -> std::sync::MutexGuard<'static, ()> {
    REAL_THREADS.lock().unwrap_or_else(|e| e.into_inner())
}

fn run_default(kind: BackendKind, api: Api) -> Vec<Outcome> {
    let _serial = (kind == BackendKind::Os).then(real_threads);
    let scenarios = Matrix::default().scenarios();
    run_api(kind, api, &scenarios, &RunOptions::default(), |_| {})
}

fn rows(outcomes: &[Outcome]) -> Vec<SnapshotRow> {
    outcomes.iter().map(Outcome::snapshot_view).collect()
}

fn assert_all_pass(outcomes: &[Outcome]) {
    let bad: Vec<String> = outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::Pass)
        .map(|o| {
            format!(
                "{} {}: {:?} {}",
                o.api,
                o.name,
                o.verdict,
                o.failure_summary()
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "scenarios did not pass:\n{}",
        bad.join("\n")
    );
}

#[test]
fn os_std_thread_matches_snapshot() {
    let outcomes = run_default(BackendKind::Os, Api::Std);
    assert_all_pass(&outcomes);
    insta::assert_yaml_snapshot!("outcomes", rows(&outcomes));
}

#[test]
fn os_pthread_matches_snapshot() {
    let outcomes = run_default(BackendKind::Os, Api::Pthread);
    assert_all_pass(&outcomes);
    insta::assert_yaml_snapshot!("outcomes", rows(&outcomes));
}

#[test]
fn os_native_matches_snapshot_on_haiku_and_is_not_runnable_elsewhere() {
    let outcomes = run_default(BackendKind::Os, Api::Native);
    if cfg!(target_os = "haiku") {
        assert_all_pass(&outcomes);
        insta::assert_yaml_snapshot!("outcomes", rows(&outcomes));
    } else {
        eprintln!("native API scenarios skipped: they need Haiku (checked that each says so)");
        for o in &outcomes {
            assert_eq!(o.verdict, Verdict::NotRunnable, "{}", o.name);
            assert_eq!(o.spawned, 0);
            assert!(
                o.note.as_deref().unwrap_or("").contains("needs Haiku"),
                "{:?}",
                o.note
            );
        }
    }
}

#[test]
fn fixed_model_matches_snapshot() {
    let outcomes = run_default(BackendKind::FixedModel, Api::Native);
    assert_all_pass(&outcomes);
    insta::assert_yaml_snapshot!("outcomes", rows(&outcomes));
}

#[test]
fn legacy_model_snapshot() {
    let outcomes = run_default(BackendKind::LegacyModel, Api::Native);
    insta::assert_yaml_snapshot!("legacy_model", rows(&outcomes));
}

/// The suite's power: against the legacy model exactly the scenarios whose
/// threads had all exited before the first join AND that have more than 32
/// threads fail, each with B_BAD_THREAD_ID on precisely the joins of the
/// N - 32 oldest threads.
#[test]
fn legacy_model_fails_exactly_the_exited_scenarios_above_32() {
    let scenarios = Matrix::default().scenarios();
    let outcomes = run_api(
        BackendKind::LegacyModel,
        Api::Native,
        &scenarios,
        &RunOptions::default(),
        |_| {},
    );
    let mut failing = 0;
    for (s, o) in scenarios.iter().zip(&outcomes) {
        let lost = if s.exit == ExitMode::Exited && s.threads > LEGACY_MAX_DEAD_THREADS {
            s.threads - LEGACY_MAX_DEAD_THREADS
        } else {
            0
        };
        assert_eq!(o.spawned, s.threads, "{}", s.name);
        assert_eq!(o.wrong_exit_values, 0, "{}", s.name);
        if lost == 0 {
            assert_eq!(
                o.verdict,
                Verdict::Pass,
                "{} must pass: {}",
                s.name,
                o.failure_summary()
            );
            continue;
        }
        failing += 1;
        assert_eq!(o.verdict, Verdict::Fail, "{} must fail", s.name);
        assert_eq!(o.joined_ok, LEGACY_MAX_DEAD_THREADS, "{}", s.name);
        let names: Vec<&String> = o.failures.keys().collect();
        assert_eq!(names, vec![BAD_THREAD_ID], "{}", s.name);
        let g = &o.failures[BAD_THREAD_ID];
        assert_eq!(g.count, lost, "{}", s.name);
        // the oldest `lost` threads (1-based 1..=lost) are the ones lost ...
        assert_eq!(
            g.threads.iter().collect::<Vec<_>>(),
            (1..=lost).collect::<Vec<_>>()
        );
        // ... and the failed joins are where the plan joins them
        let expected_joins: Vec<usize> = s
            .plan()
            .iter()
            .enumerate()
            .filter(|&(_, &t)| t < lost)
            .map(|(pos, _)| pos + 1)
            .collect();
        assert_eq!(
            g.joins.iter().collect::<Vec<_>>(),
            expected_joins,
            "{}",
            s.name
        );
    }
    // 33, 57, 1000, 10000 x 3 orders, plus the seed reproducer
    assert_eq!(failing, 4 * 3 + 1);

    let by_name = |n: &str| outcomes.iter().find(|o| o.name == n).unwrap();
    let f = &by_name("exited-forward-57").failures[BAD_THREAD_ID];
    assert_eq!((f.count, f.joins.to_string()), (25, "1-25".to_string()));
    let r = &by_name("exited-reverse-57").failures[BAD_THREAD_ID];
    assert_eq!(r.joins.to_string(), "33-57");
    let seed = &by_name("seed-reproducer").failures[BAD_THREAD_ID];
    assert_eq!(seed.joins.to_string(), "1-25");
}

/// A backend that hands back a wrong exit value for one thread: the exit
/// value check must catch it.
struct SwappedValue(KernelModel);

impl Backend for SwappedValue {
    type Handle = i32;
    fn api(&self) -> Api {
        Api::Native
    }
    fn name(&self) -> &str {
        "swapped-value"
    }
    fn runnable(&self) -> Result<(), String> {
        Ok(())
    }
    fn spawn(&mut self, spec: &ThreadSpec) -> Result<i32, OsError> {
        let mut spec = *spec;
        if spec.index == 4 {
            spec.exit_value = 7;
        }
        self.0.spawn(&spec)
    }
    fn await_exited(
        &mut self,
        h: &[i32],
        t: Duration,
    ) -> Result<(), dead_threads::conformance::exit_watch::ExitWaitError> {
        self.0.await_exited(h, t)
    }
    fn release(&mut self, h: &i32) {
        self.0.release(h)
    }
    fn join(&mut self, h: i32) -> Result<i64, OsError> {
        self.0.join(h)
    }
}

#[test]
fn wrong_exit_values_are_caught() {
    let s = Scenario::new(
        10,
        ExitMode::Exited,
        dead_threads::conformance::Order::Reverse,
        0,
    );
    let o = run_scenario(
        &mut SwappedValue(KernelModel::fixed()),
        &s,
        &RunOptions::default(),
    );
    assert_eq!(o.verdict, Verdict::Fail);
    assert_eq!(o.joined_ok, 10);
    assert_eq!(o.wrong_exit_values, 1);
    let w = &o.wrong_exit_value_samples[0];
    assert_eq!((w.thread, w.expected, w.got), (5, 1004, 7));
}

/// The exit watch must wait for a thread that is still running (and time out
/// with an error rather than hang), and see it go once it has exited.
#[test]
fn exit_watch_sees_running_and_exited_threads() {
    let _serial = real_threads();
    let mut b = StdBackend;
    let spec = ThreadSpec {
        index: 0,
        exit_value: 42,
        work: dead_threads::conformance::scenario::Work::Return,
        gated: true,
    };
    let h = b.spawn(&spec).expect("spawn");
    let err = b
        .await_exited(std::slice::from_ref(&h), Duration::from_millis(200))
        .expect_err("a gated thread has not exited");
    assert!(err.to_string().contains("not fully exited"), "{err}");
    b.release(&h);
    b.await_exited(std::slice::from_ref(&h), Duration::from_secs(30))
        .expect("released thread exits");
    assert_eq!(b.join(h).expect("join"), 42);
}

// ---- relocation: snapshots travel with the test binary ---------------------

/// Where this run's snapshots are: `$INSTA_WORKSPACE_ROOT` if set (as in the
/// Haiku guest), else this crate's source tree.
fn snapshot_root() -> PathBuf {
    std::env::var_os("INSTA_WORKSPACE_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Runs one test of this binary in a child process with insta pointed at
/// `root`, never allowed to write snapshots.
fn run_child(test: &str, root: &Path) -> std::process::Output {
    Command::new(std::env::current_exe().expect("test binary path"))
        .args([test, "--exact", "--test-threads=1"])
        .env("INSTA_WORKSPACE_ROOT", root)
        .env("INSTA_UPDATE", "no")
        .env_remove("INSTA_FORCE_PASS")
        .env_remove("INSTA_SNAPSHOT_REFERENCES_FILE")
        .output()
        .expect("run the test binary")
}

fn list_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in walk(dir) {
        out.push(e.strip_prefix(dir).unwrap().to_path_buf());
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// insta finds snapshot files at run time under `$INSTA_WORKSPACE_ROOT` +
/// the test file's directory (`tests/`) + `snapshots/`. This test copies the
/// snapshots to a temporary directory and proves that a test run against
/// the copy (a) passes, (b) fails when the copy is altered — so the copy,
/// not the source tree, was read — and (c) fails without writing anything
/// when the copy is missing.
#[test]
fn relocated_snapshots_are_used() {
    const CHILD_TEST: &str = "fixed_model_matches_snapshot";
    let source = snapshot_root().join("tests/snapshots/conformance__outcomes.snap");
    assert!(
        source.is_file(),
        "{} is missing: ship tests/snapshots/ under INSTA_WORKSPACE_ROOT",
        source.display()
    );

    let tmp = tempfile::tempdir().expect("temp dir");
    let copy_dir = tmp.path().join("tests/snapshots");
    std::fs::create_dir_all(&copy_dir).unwrap();
    let copy = copy_dir.join("conformance__outcomes.snap");
    std::fs::copy(&source, &copy).unwrap();

    // (a) the relocated copy is found and matches
    let out = run_child(CHILD_TEST, tmp.path());
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "relocated run failed:\n{log}");
    assert!(log.contains("1 passed"), "child ran no test:\n{log}");

    // (b) altering the copy makes the same run fail: the copy is what is read
    let text = std::fs::read_to_string(&copy).unwrap();
    let altered = text.replacen("joined_ok: 57", "joined_ok: 56", 1);
    assert_ne!(text, altered, "snapshot has no 57-thread row to alter");
    std::fs::write(&copy, altered).unwrap();
    let out = run_child(CHILD_TEST, tmp.path());
    assert!(
        !out.status.success(),
        "run against an altered snapshot passed"
    );

    // (c) no snapshot at the root: fails, and INSTA_UPDATE=no writes nothing
    let empty = tempfile::tempdir().expect("temp dir");
    let out = run_child(CHILD_TEST, empty.path());
    assert!(!out.status.success(), "run without snapshots passed");
    assert_eq!(
        list_files(empty.path()),
        Vec::<PathBuf>::new(),
        "files were written"
    );
}

/// A model backend that records how many threads were alive (spawned, not
/// yet exited) at most.
struct CountingModel {
    model: KernelModel,
    alive: usize,
    peak: usize,
}

impl Backend for CountingModel {
    type Handle = i32;
    fn api(&self) -> Api {
        Api::Native
    }
    fn name(&self) -> &str {
        "counting"
    }
    fn runnable(&self) -> Result<(), String> {
        Ok(())
    }
    fn spawn(&mut self, spec: &ThreadSpec) -> Result<i32, OsError> {
        self.alive += 1;
        self.peak = self.peak.max(self.alive);
        self.model.spawn(spec)
    }
    fn await_exited(
        &mut self,
        h: &[i32],
        t: Duration,
    ) -> Result<(), dead_threads::conformance::exit_watch::ExitWaitError> {
        let before = self.model.dead_entries();
        self.model.await_exited(h, t)?;
        self.alive -= self.model.dead_entries() - before;
        Ok(())
    }
    fn release(&mut self, h: &i32) {
        self.model.release(h)
    }
    fn join(&mut self, h: i32) -> Result<i64, OsError> {
        self.model.join(h)
    }
}

/// Exited scenarios never have more than SPAWN_WINDOW threads alive at once
/// (Haiku allows 4096 threads system-wide), and still pass.
#[test]
fn exited_scenarios_bound_live_threads() {
    use dead_threads::conformance::backend::SPAWN_WINDOW;
    let mut b = CountingModel {
        model: KernelModel::fixed(),
        alive: 0,
        peak: 0,
    };
    let s = Scenario::new(
        10000,
        ExitMode::Exited,
        dead_threads::conformance::Order::Shuffled,
        3,
    );
    let o = run_scenario(&mut b, &s, &RunOptions::default());
    assert_eq!(o.verdict, Verdict::Pass, "{}", o.failure_summary());
    assert_eq!(b.peak, SPAWN_WINDOW);
}

/// A backend whose threads never exit: the scenario must fail with the
/// timeout message, attempt no join, and return (not hang).
struct NeverExits(KernelModel);

impl Backend for NeverExits {
    type Handle = i32;
    fn api(&self) -> Api {
        Api::Native
    }
    fn name(&self) -> &str {
        "never-exits"
    }
    fn runnable(&self) -> Result<(), String> {
        Ok(())
    }
    fn spawn(&mut self, spec: &ThreadSpec) -> Result<i32, OsError> {
        self.0.spawn(spec)
    }
    fn await_exited(
        &mut self,
        h: &[i32],
        timeout: Duration,
    ) -> Result<(), dead_threads::conformance::exit_watch::ExitWaitError> {
        Err(
            dead_threads::conformance::exit_watch::ExitWaitError::Timeout {
                alive: h.len(),
                total: h.len(),
                what: "fully exited",
                timeout,
                first: h
                    .iter()
                    .take(5)
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
        )
    }
    fn release(&mut self, h: &i32) {
        self.0.release(h)
    }
    fn join(&mut self, _h: i32) -> Result<i64, OsError> {
        panic!("no join may be attempted after the exit wait failed");
    }
}

#[test]
fn threads_that_never_exit_fail_the_scenario_clearly() {
    let s = Scenario::new(
        3,
        ExitMode::Exited,
        dead_threads::conformance::Order::Forward,
        0,
    );
    let o = run_scenario(
        &mut NeverExits(KernelModel::fixed()),
        &s,
        &RunOptions::default(),
    );
    assert_eq!(o.verdict, Verdict::Fail);
    assert_eq!((o.spawned, o.joined_ok), (3, 0));
    let note = o.note.clone().unwrap_or_default();
    assert!(
        note.contains("3 of 3 threads had not fully exited"),
        "{note}"
    );
    assert!(
        o.failure_summary().contains("--exit-timeout"),
        "{}",
        o.failure_summary()
    );
}

/// A host that refuses threads (here an injected limit: every spawn after
/// the 40th fails) gives a separate verdict that names the limit, never a
/// kernel failure; every thread that was spawned is still joined.
#[test]
fn refused_spawns_are_a_host_limit_not_a_kernel_failure() {
    use dead_threads::conformance::host::INJECTED_LIMIT;
    use dead_threads::conformance::PthreadBackend;
    let _serial = real_threads();
    let opts = RunOptions {
        spawn_limit: Some(40),
        ..RunOptions::default()
    };
    for exit in [ExitMode::Exited, ExitMode::Live] {
        let s = Scenario::new(57, exit, dead_threads::conformance::Order::Forward, 0);
        let outcomes = [
            run_scenario(&mut StdBackend, &s, &opts),
            run_scenario(&mut PthreadBackend, &s, &opts),
        ];
        for o in outcomes {
            if cfg!(not(any(target_os = "linux", target_os = "haiku"))) {
                assert_eq!(o.verdict, Verdict::NotRunnable);
                continue;
            }
            assert_eq!(o.verdict, Verdict::SpawnFailed, "{} {}", o.api, s.name);
            assert_eq!((o.spawned, o.joined_ok), (40, 40));
            assert!(o.failures.is_empty(), "{:?}", o.failures);
            assert_eq!(o.spawn_failures.get(INJECTED_LIMIT), Some(&17));
            let why = o.host_limit.clone().unwrap_or_default();
            assert!(why.contains("not the kernel"), "{why}");
            assert!(why.contains("refused thread 41"), "{why}");
        }
    }
}

/// Spawn failures and lost death entries together: on the legacy model
/// only the spawned threads are joined, so the lost entries are exactly
/// those beyond 32 among the 50 spawned (18), never the 7 refused spawns.
#[test]
fn a_join_failure_counts_only_for_spawned_threads() {
    let opts = RunOptions {
        spawn_limit: Some(50),
        ..RunOptions::default()
    };
    let s = Scenario::new(
        57,
        ExitMode::Exited,
        dead_threads::conformance::Order::Forward,
        0,
    );
    let o = run_scenario(&mut KernelModel::legacy(), &s, &opts);
    assert_eq!(o.verdict, Verdict::Fail);
    assert_eq!(o.spawned, 50);
    assert_eq!(
        o.failures[BAD_THREAD_ID].count,
        50 - LEGACY_MAX_DEAD_THREADS
    );
    assert_eq!(o.failures[BAD_THREAD_ID].threads.to_string(), "1-18");
    assert_eq!(o.joined_ok, LEGACY_MAX_DEAD_THREADS);
    assert_eq!(o.spawn_failures.values().sum::<usize>(), 7);
}
