//! The Spin models of the death-entry protocol (`kernel-patch/model/`),
//! checked with the system's `spin` and C compiler.
//!
//! * Every patched model (`<base>.patched.pml`, plain `spin -run`) holds
//!   every property: 0 errors, exhaustive search.
//! * Every upstream model shows its headline violation with a plain
//!   `spin -run`, and each upstream bug in its own scenario
//!   (`spin -DSCENARIO_<name> -run`); scenarios where the upstream tree has
//!   no bug must hold, so a model that reports everything fails too.
//! * Mutations of the patched models (`spin -DMUTATION_<name> -run`), each
//!   one fix taken out or done wrong, make Spin report the violation the
//!   fix prevents: the models are not vacuous.
//!
//! `spin -run` writes `pan.c`, `pan` and trails into its working directory,
//! so every run copies the models into a temporary directory first.
//! README.md in the model directory lists the same verdicts.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What one `spin -run` found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// `errors: 0`, exhaustive.
    Holds,
    /// `errors: 1`, the named property flag (`assertion violated !(flag)`).
    Violates(String),
    /// `errors: 1`, an invalid end state (deadlock, property 5).
    InvalidEndState,
}

/// The outcome of one run, with the numbers the failure messages show.
struct Run {
    verdict: Verdict,
    states: String,
    output: String,
}

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kernel-patch/model")
}

/// Runs `spin [define] -run <file>` in a fresh temporary directory holding
/// a copy of every model file, and parses pan's report.
fn spin_run(file: &str, define: Option<&str>) -> Run {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    for entry in fs::read_dir(model_dir()).expect("kernel-patch/model/ is missing") {
        let path = entry.expect("cannot list kernel-patch/model/").path();
        if path.extension().is_some_and(|e| e == "pml") {
            fs::copy(&path, dir.path().join(path.file_name().unwrap()))
                .expect("cannot copy a model into the temporary directory");
        }
    }
    let mut cmd = Command::new("spin");
    if let Some(d) = define {
        cmd.arg(format!("-D{d}"));
    }
    cmd.arg("-run").arg(file).current_dir(dir.path());
    let out = cmd
        .output()
        .expect("cannot run spin: install it (apt-get install spin) and gcc");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let what = format!(
        "spin {} -run {file}",
        define.map_or(String::new(), |d| format!("-D{d}"))
    );
    let (verdict, states) = parse_report(&what, &output);
    Run {
        verdict,
        states,
        output,
    }
}

/// Parses pan's report: the verdict and the "N states, stored" line.
/// Panics (naming `what`) on a report that is not a complete exhaustive
/// search.
fn parse_report(what: &str, output: &str) -> (Verdict, String) {
    let errors = output
        .lines()
        .find_map(|l| l.split("errors: ").nth(1))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or_else(|| {
            panic!(
                "{what}: no `errors: N` in the output (did the C compiler run? \
                 spin -run needs gcc):\n{output}"
            )
        });
    assert!(
        output.contains("Full statespace search"),
        "{what}: not an exhaustive search:\n{output}"
    );
    assert!(
        !output.contains("max search depth too small"),
        "{what}: the search was cut at the depth limit, raise it in the model:\n{output}"
    );
    let states = output
        .lines()
        .find(|l| l.contains("states, stored"))
        .map_or_else(String::new, |l| l.trim().to_string());
    let verdict = if errors == 0 {
        Verdict::Holds
    } else if let Some(rest) = output.split("assertion violated").nth(1) {
        let flag = rest
            .split("!(")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .unwrap_or_else(|| panic!("{what}: unnamed assertion:\n{output}"));
        Verdict::Violates(flag.to_string())
    } else if output.contains("invalid end state (") {
        Verdict::InvalidEndState
    } else {
        panic!("{what}: {errors} errors of an unknown kind:\n{output}");
    };
    (verdict, states)
}

fn expect(file: &str, define: Option<&str>, want: Verdict) {
    let run = spin_run(file, define);
    assert_eq!(
        run.verdict,
        want,
        "spin {} -run {file} ({}): wrong verdict; pan said:\n{}",
        define.map_or(String::new(), |d| format!("-D{d}")),
        run.states,
        run.output
    );
}

fn violates(flag: &str) -> Verdict {
    Verdict::Violates(flag.to_string())
}

/// The upstream scenarios of every base and the verdict each must give;
/// `None` is the plain run (the file's default scenario).
fn check_upstream(file: &str, default: &str, cells: &[(&str, Verdict)]) {
    for (scenario, want) in cells {
        let define = format!("SCENARIO_{scenario}");
        let define = (*scenario != default).then_some(define.as_str());
        expect(file, define, want.clone());
    }
}

#[test]
#[cfg_attr(not(has_spin), ignore = "needs spin (apt-get install spin)")]
fn legacy_limited_upstream_loses_status_by_eviction() {
    check_upstream(
        "legacy-limited.upstream.pml",
        "EVICTION",
        &[
            ("EVICTION", violates("p1_lost_status")),
            ("RACE", violates("p1_lost_status")),
            ("PRESSURE", violates("p1_lost_status")),
            // legacy frees the unused entry (free(threadDeathEntry))
            ("WAITER_LEAK", Verdict::Holds),
            ("LATE_WAITER", violates("p3_joined_entry_kept")),
            ("DETACH", violates("p4_detached_entry")),
            ("EXEC", violates("p3_exec_kept")),
        ],
    );
}

#[test]
#[cfg_attr(not(has_spin), ignore = "needs spin (apt-get install spin)")]
fn upstream_unlimited_upstream_leaks_entry_with_a_waiter() {
    check_upstream(
        "upstream-unlimited.upstream.pml",
        "WAITER_LEAK",
        &[
            ("WAITER_LEAK", violates("p3_leak")),
            // no MAX_DEAD_THREADS on this base
            ("EVICTION", Verdict::Holds),
            ("RACE", violates("p1_lost_status")),
            ("PRESSURE", violates("p1_lost_status")),
            ("LATE_WAITER", violates("p3_joined_entry_kept")),
            ("DETACH", violates("p4_detached_entry")),
            ("EXEC", violates("p3_exec_kept")),
        ],
    );
}

#[test]
#[cfg_attr(not(has_spin), ignore = "needs spin (apt-get install spin)")]
fn upstream_current_upstream_loses_status_in_the_join_race() {
    check_upstream(
        "upstream-current.upstream.pml",
        "RACE",
        &[
            ("RACE", violates("p1_lost_status")),
            ("DETACH", violates("p4_detached_entry")),
            ("PRESSURE", violates("p1_lost_status")),
            ("EVICTION", Verdict::Holds),
            // current frees the unused entry (deferred_free())
            ("WAITER_LEAK", Verdict::Holds),
            ("LATE_WAITER", violates("p3_joined_entry_kept")),
            ("EXEC", violates("p3_exec_kept")),
        ],
    );
}

/// A patched model holds with a plain run (every actor, every property)
/// and with two joiners of one thread (wait_for_thread() allows that).
fn check_patched(file: &str) {
    expect(file, None, Verdict::Holds);
    expect(file, Some("SCENARIO_TWO_JOINERS"), Verdict::Holds);
}

#[test]
#[cfg_attr(not(has_spin), ignore = "needs spin (apt-get install spin)")]
fn legacy_limited_patched_holds() {
    check_patched("legacy-limited.patched.pml");
}

#[test]
#[cfg_attr(not(has_spin), ignore = "needs spin (apt-get install spin)")]
fn upstream_unlimited_patched_holds() {
    check_patched("upstream-unlimited.patched.pml");
}

#[test]
#[cfg_attr(not(has_spin), ignore = "needs spin (apt-get install spin)")]
fn upstream_current_patched_holds() {
    check_patched("upstream-current.patched.pml");
}

/// Runs `file` with each `MUTATION_<name>` and expects the property flag.
fn check_mutations(file: &str, mutations: &[(&str, &str)]) {
    for (mutation, flag) in mutations {
        expect(file, Some(&format!("MUTATION_{mutation}")), violates(flag));
    }
}

/// Mutations every patched model must catch: the race fix taken out, the
/// death entry taken from the thread without a lock (which the design
/// must not allow: detach takes it concurrently), and the entry allocated
/// at exit again (upstream's memory-pressure loss).
const COMMON_MUTATIONS: [(&str, &str); 3] = [
    ("NO_RACE_FIX", "p1_lost_status"),
    ("TAKE_ENTRY_UNLOCKED", "p2_double_free"),
    ("ALLOC_AT_EXIT", "p1_lost_status"),
];

#[test]
#[cfg_attr(not(has_spin), ignore = "needs spin (apt-get install spin)")]
fn legacy_limited_patched_mutations_are_caught() {
    let file = "legacy-limited.patched.pml";
    check_mutations(file, &COMMON_MUTATIONS);
    check_mutations(file, &[("KEEP_LIMIT", "p1_lost_status")]);
}

#[test]
#[cfg_attr(not(has_spin), ignore = "needs spin (apt-get install spin)")]
fn upstream_unlimited_patched_mutations_are_caught() {
    check_mutations("upstream-unlimited.patched.pml", &COMMON_MUTATIONS);
}

#[test]
#[cfg_attr(not(has_spin), ignore = "needs spin (apt-get install spin)")]
fn upstream_current_patched_mutations_are_caught() {
    let file = "upstream-current.patched.pml";
    check_mutations(file, &COMMON_MUTATIONS);
    check_mutations(
        file,
        &[
            ("NO_LATE_WAITER", "p3_joined_entry_kept"),
            ("RACE_NO_WAIT", "p2_wrong_status"),
            ("NO_EXEC_FREE", "p3_exec_kept"),
            ("DETACH_KEEPS_DEAD_ENTRY", "p4_detached_entry"),
            ("NO_DTOR_FREE", "p3_leak"),
        ],
    );
}

/// The report parser, on pan's own wording (Spin 6.5.2), without spin.
#[test]
fn parse_report_reads_pan_reports() {
    let violation = "pan:1: assertion violated  !(p1_lost_status) (at depth 83)\n\
        pan: wrote legacy-limited.upstream.pml.trail\n\
        Full statespace search for:\n\
        State-vector 80 byte, depth reached 134, errors: 1\n\
        \x20    2321 states, stored\n";
    let (verdict, states) = parse_report("violation", violation);
    assert_eq!(verdict, violates("p1_lost_status"));
    assert_eq!(states, "2321 states, stored");

    let clean = "Full statespace search for:\n\
        State-vector 92 byte, depth reached 248, errors: 0\n\
        \x20 1444955 states, stored\n";
    assert_eq!(parse_report("clean", clean).0, Verdict::Holds);

    let deadlock = "pan:1: invalid end state (at depth 12)\n\
        Full statespace search for:\n\
        State-vector 56 byte, depth reached 12, errors: 1\n";
    assert_eq!(
        parse_report("deadlock", deadlock).0,
        Verdict::InvalidEndState
    );
}

#[test]
#[should_panic(expected = "not an exhaustive search")]
fn parse_report_refuses_bitstate() {
    parse_report(
        "bitstate",
        "Bit statespace search for:\nState-vector 56 byte, depth reached 3, errors: 0\n",
    );
}
