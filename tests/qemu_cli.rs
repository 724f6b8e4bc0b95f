//! `dead-threads qemu` as a user runs it, against the fake QEMU: exit codes,
//! output, --json, --dry-run, and Ctrl-C / kill -9 never leaving QEMU behind.

#[path = "transcripts/fake.rs"]
mod fake;
#[path = "transcripts/replay.rs"]
mod replay;

use fake::Scenario;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `dead-threads qemu` on the scenario; `opts` override the defaults below.
fn cmd(s: &Scenario, opts: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dead-threads"));
    c.arg("qemu");
    let given = |flag: &str| opts.contains(&flag);
    if !given("--image") {
        c.arg("--image").arg(&s.image);
    }
    c.arg("--out").arg(&s.out).arg("--qemu").arg(fake::qemu());
    for (flag, value) in [
        ("--kvm", "off"),
        ("--timeout", "20"),
        ("--poweroff-grace", "5"),
    ] {
        if !given(flag) {
            c.args([flag, value]);
        }
    }
    c.args(opts);
    c
}

fn run(transcript: &str, opts: &[&str]) -> (Output, Scenario) {
    let s = Scenario::new(transcript);
    let out = cmd(&s, opts).output().unwrap();
    s.assert_nothing_left();
    (out, s)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn exit_codes_follow_the_verdict() {
    for (transcript, code, headline) in [
        ("serial-pass.txt", 0, "PASSED: All tests passed"),
        ("serial-failures.txt", 1, "TESTS FAILED: Tests failed"),
        (
            "serial-qemu-error.txt",
            2,
            "QEMU FAILED: QEMU exited with status 1",
        ),
        (
            "serial-panic.txt",
            3,
            "KERNEL PANIC: The guest kernel panicked",
        ),
        (
            "serial-truncated.txt",
            5,
            "INCOMPLETE: The guest stopped (powered off, rebooted or crashed) before",
        ),
        (
            "serial-no-poweroff.txt",
            6,
            "NO POWER-OFF: The guest did not power off",
        ),
    ] {
        // Short grace only where the guest never powers off.
        let grace = if code == 6 { "1" } else { "5" };
        let (out, _s) = run(transcript, &["--poweroff-grace", grace]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{transcript}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(stdout.contains(headline), "{transcript}: {stdout}");
    }
    let (out, _s) = run("serial-hang.txt", &["--timeout", "1"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(text(&out.stdout).contains("TIMEOUT: Timed out after 1 s"));
}

#[test]
fn failures_are_shown_live_and_in_the_summary() {
    let (out, s) = run("serial-failures.txt", &[]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("FAIL  2 join_after_33_exits"), "{stderr}");
    assert!(
        stderr
            .contains("# join_after_33_exits: wait_for_thread(thread 33) returned B_BAD_THREAD_ID"),
        "{stderr}"
    );
    assert!(stderr
        .contains("SKIP  3 detached_threads_leave_no_entry # SKIP needs the modern patch series"));
    let out_dir = s.out.display().to_string();
    let summary: String = text(&out.stdout)
        .replace(&out_dir, "<out>")
        .lines()
        .map(|l| {
            if l.starts_with("qemu: ") {
                "qemu: <elided>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(summary);
}

#[test]
fn json_output_is_the_outcome() {
    let (out, s) = run("serial-panic.txt", &["--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["verdict"], "kernel-panic");
    assert_eq!(v["panic"]["message"], "invented: death entry freed twice");
    assert_eq!(v["panic"]["backtrace"].as_array().unwrap().len(), 5);
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.out.join("results.json")).unwrap()).unwrap();
    assert_eq!(v, file);
}

#[test]
fn dry_run_prints_the_command_and_starts_nothing() {
    let s = Scenario::new("serial-pass.txt");
    let out = cmd(&s, &["--dry-run", "--memory", "1024"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line = text(&out.stdout);
    assert!(line.contains(" -accel tcg -m 1024 -smp 2 "), "{line}");
    assert!(line.contains("-serial stdio"), "{line}");
    assert!(s.fake_pid().is_none(), "dry run must not start QEMU");
    assert!(!s.out.exists(), "dry run must not write output");
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    let s = Scenario::new("serial-pass.txt");
    let out = cmd(&s, &["--image", "/nonexistent/haiku.image"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("build it with `dead-threads image"),
        "{}",
        text(&out.stderr)
    );
    assert!(s.fake_pid().is_none());
}

fn wait_started(s: &Scenario) {
    assert!(
        s.wait_for_output("results.ktap", "ok 1", Duration::from_secs(10)),
        "the fake did not get going"
    );
}

#[test]
fn ctrl_c_stops_qemu_and_exits_130() {
    let s = Scenario::new("serial-hang.txt");
    let child = cmd(&s, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_started(&s);
    let started = Instant::now();
    // SAFETY: plain syscall on our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("INTERRUPTED"));
    s.assert_nothing_left();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.out.join("results.json")).unwrap()).unwrap();
    assert_eq!(v["verdict"], "interrupted");
}

#[test]
fn sigterm_stops_qemu_too() {
    let s = Scenario::new("serial-stubborn.txt");
    let mut child = cmd(&s, &["--poweroff-grace", "60"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_started(&s);
    // SAFETY: plain syscall on our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    s.assert_nothing_left();
}

#[test]
fn kill_9_of_dead_threads_takes_qemu_with_it() {
    let s = Scenario::new("serial-exec-hang.txt");
    let mut child = cmd(&s, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_started(&s);
    let fake_pid = s.fake_pid().unwrap();
    assert!(fake::alive(fake_pid));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        fake::wait_dead(fake_pid, Duration::from_secs(5)),
        "QEMU (pid {fake_pid}) survived kill -9 of dead-threads"
    );
}

#[test]
fn diagnostics_after_a_failure_are_shown_live() {
    let (out, _s) = run("serial-libtest-style.txt", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("# keeps_33_entries:   left: 32"),
        "{stderr}"
    );
    assert!(
        stderr.contains("# conformance: exit status 101"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("test result: ok. 1 passed"),
        "diagnostics of a passing list stay quiet: {stderr}"
    );
}

/// Zero is refused for the counts and limits where it can only be a mistake.
#[test]
fn zero_timeout_cpus_and_memory_are_usage_errors() {
    let s = Scenario::new("serial-pass.txt");
    for flag in ["--timeout", "--cpus", "--memory"] {
        let out = cmd(&s, &[flag, "0"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let err = text(&out.stderr);
        assert!(err.contains("0 is not in 1.."), "{flag}: {err}");
    }
    assert!(s.fake_pid().is_none(), "QEMU must not start");
    let out = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .args(["image", "--haiku", "/nonexistent", "-j", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("must be at least 1"));
}

/// An image that cannot boot: the run exits 2 naming what is wrong before
/// QEMU starts; a dry run still prints the command (exit 0) and says that a
/// real run would refuse it.
#[test]
fn an_image_without_a_boot_sector_is_refused_and_the_dry_run_says_so() {
    let s = Scenario::new("serial-pass.txt");
    std::fs::write(&s.image, vec![0u8; 4096]).unwrap();
    let out = cmd(&s, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("no boot signature"), "{err}");
    assert!(!err.contains("KVM"), "{err}");
    assert!(s.fake_pid().is_none(), "QEMU must not start");
    let out = cmd(&s, &["--dry-run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("a real run would refuse"), "{err}");
}
