//! `dead-threads conformance` as a user runs it: exit codes, table, JSON.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .arg("conformance")
        .args(args)
        .output()
        .expect("run dead-threads")
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "haiku")),
    ignore = "the suite runs on Linux and Haiku only"
)]
fn passes_on_this_os_with_json_objects_per_scenario() {
    let out = run(&[
        "--threads",
        "1,33",
        "--api",
        "std,pthread",
        "--no-reproducer",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objs = json_lines(&out);
    // 2 APIs x 2 counts x 2 exit modes x 3 orders
    assert_eq!(objs.len(), 24);
    for o in &objs {
        for key in [
            "api",
            "threads",
            "order",
            "spawned",
            "joined_ok",
            "failures",
        ] {
            assert!(o.get(key).is_some(), "missing {key}: {o}");
        }
        assert_eq!(o["verdict"], "pass", "{o}");
        assert_eq!(o["spawned"], o["threads"]);
        assert_eq!(o["joined_ok"], o["threads"]);
    }
    let shuffled = objs.iter().find(|o| o["order"] == "shuffled").unwrap();
    assert!(shuffled["seed"].is_u64(), "the seed is printed: {shuffled}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("verdict: PASS"));
}

#[test]
fn table_and_verdict_on_stdout() {
    let out = run(&[
        "--threads",
        "2",
        "--order",
        "forward",
        "--exit",
        "exited",
        "--api",
        "pthread",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    if cfg!(any(target_os = "linux", target_os = "haiku")) {
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(text.contains("exited-forward-2"), "{text}");
        assert!(text.contains("seed-reproducer"), "{text}");
        assert!(text.contains("verdict: PASS"), "{text}");
    }
}

#[test]
fn legacy_model_fails_with_exit_1_and_names_the_lost_joins() {
    let out = run(&[
        "--backend",
        "legacy-model",
        "--threads",
        "32,57",
        "--exit",
        "exited",
        "--order",
        "forward,reverse",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let objs = json_lines(&out);
    let get = |name: &str| objs.iter().find(|o| o["name"] == name).unwrap().clone();
    assert_eq!(get("exited-forward-32")["verdict"], "pass");
    let f = get("exited-forward-57");
    assert_eq!(f["verdict"], "fail");
    assert_eq!(f["joined_ok"], 32);
    assert_eq!(f["failures"]["B_BAD_THREAD_ID"]["count"], 25);
    assert_eq!(f["failures"]["B_BAD_THREAD_ID"]["joins"], "1-25");
    assert_eq!(
        get("exited-reverse-57")["failures"]["B_BAD_THREAD_ID"]["joins"],
        "33-57"
    );
    assert_eq!(
        get("seed-reproducer")["failures"]["B_BAD_THREAD_ID"]["joins"],
        "1-25"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("verdict: FAIL"));
}

#[test]
fn fixed_model_passes() {
    let out = run(&["--backend", "fixed-model", "--threads", "57,1000"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn usage_errors_exit_2() {
    for bad in [
        &["--threads", "0"][..],
        &["--threads", "abc"],
        &["--order", "sideways"],
        &["--api", "win32"],
        &["--exit-timeout", "0"],
    ] {
        let out = run(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(!out.stderr.is_empty(), "{bad:?} explains itself");
    }
}

#[test]
#[cfg_attr(target_os = "haiku", ignore = "on Haiku the native API runs")]
fn native_only_elsewhere_than_haiku_is_exit_2_and_explicit() {
    let out = run(&["--api", "native", "--threads", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("needs Haiku"), "{text}");
    assert!(text.contains("NOTHING RAN"), "{text}");
}
