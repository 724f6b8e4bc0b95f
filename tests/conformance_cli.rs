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

/// `--spawn-limit`: refused spawns give the HOST LIMIT verdict and exit 3,
/// and never advise patching the kernel.
#[test]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "haiku")),
    ignore = "the suite runs on Linux and Haiku only"
)]
fn refused_spawns_exit_3_and_do_not_blame_the_kernel() {
    let out = run(&[
        "--threads",
        "57",
        "--api",
        "pthread",
        "--exit",
        "exited",
        "--order",
        "forward",
        "--no-reproducer",
        "--spawn-limit",
        "10",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("SPAWN"), "{text}");
    assert!(text.contains("HOST LIMIT"), "{text}");
    assert!(!text.contains("apply the patch"), "{text}");
}

/// More exited std threads than `vm.max_map_count` allows (each keeps its
/// stack mapped until the join): the run must stop spawning in time, name
/// the limit and exit 3, not abort ("failed to initiate panic").
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "reads vm.max_map_count from Linux's /proc"
)]
fn the_map_count_limit_stops_spawning_instead_of_aborting() {
    let max: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .expect("read vm.max_map_count")
        .trim()
        .parse()
        .expect("a number");
    // two mappings (stack and guard page) per exited, unjoined thread
    let threads = (max / 2 + 1000).min(100_000);
    let out = run(&[
        "--threads",
        &threads.to_string(),
        "--api",
        "std",
        "--exit",
        "exited",
        "--order",
        "forward",
        "--no-reproducer",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("fatal runtime error"), "{stderr}");
    if max / 2 + 1000 > 100_000 {
        // a host with a raised limit may run them all
        assert!(matches!(out.status.code(), Some(0 | 3)), "{stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let o = &json_lines(&out)[0];
    assert_eq!(o["verdict"], "spawn_failed");
    assert_eq!(o["joined_ok"], o["spawned"]);
    assert!(o["spawn_failures"]
        .as_object()
        .is_some_and(|m| m.contains_key("host limit vm.max_map_count")));
    assert!(o["host_limit"]
        .as_str()
        .is_some_and(|s| s.contains("likely vm.max_map_count")));
}

/// Threads (tasks) that user `uid` has on the system now.
#[cfg(target_os = "linux")]
fn tasks_of(uid: u32) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(status) = std::fs::read_to_string(e.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
        };
        if field("Uid:") == Some(u64::from(uid)) {
            n += field("Threads:").unwrap_or(1);
        }
    }
    n
}

/// A real RLIMIT_NPROC (60 tasks above what the user already runs) against
/// 100 live threads: spawns fail with EAGAIN, the verdict is SPAWN with
/// RLIMIT_NPROC named as the likely limit, never a kernel failure. Root
/// ignores RLIMIT_NPROC, so as root the child runs as `nobody`.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "RLIMIT_NPROC as Linux enforces it")]
fn a_real_rlimit_nproc_is_named_as_the_limit() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: getuid has no preconditions.
        let root = unsafe { libc::getuid() } == 0;
        let uid: u32 = if root {
            65534
        } else {
            unsafe { libc::getuid() }
        };
        let limit = tasks_of(uid) + 60;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dead-threads"));
        cmd.args(["conformance", "--threads", "100", "--api", "pthread"])
            .args([
                "--exit",
                "live",
                "--order",
                "forward",
                "--no-reproducer",
                "--json",
            ]);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if root
                    && (libc::setgroups(0, std::ptr::null()) != 0
                        || libc::setgid(65534) != 0
                        || libc::setuid(65534) != 0)
                {
                    return Err(std::io::Error::last_os_error());
                }
                let lim = libc::rlimit {
                    rlim_cur: limit as libc::rlim_t,
                    rlim_max: limit as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_NPROC, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = cmd.output().expect(
            "run dead-threads (as root the test runs it as nobody: the target \
             directory must be readable by others)",
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        let o = &json_lines(&out)[0];
        assert_eq!(o["verdict"], "spawn_failed", "{o}");
        assert_eq!(o["joined_ok"], o["spawned"]);
        assert!(
            o["spawn_failures"]["EAGAIN"]
                .as_u64()
                .is_some_and(|n| n > 0),
            "{o}"
        );
        let why = o["host_limit"].as_str().unwrap_or_default();
        assert!(why.contains("likely RLIMIT_NPROC"), "{why}");
        assert!(stderr.contains("HOST LIMIT"), "{stderr}");
    }
}
