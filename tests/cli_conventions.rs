//! Conventions every subcommand follows: a closed stdout (`dead-threads ...
//! | head`) ends the process like any Unix tool (SIGPIPE), not with a Rust
//! panic and exit status 101; `--haiku` falls back to `$HAIKU_TOP`.

#![cfg(unix)]

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

#[test]
fn closed_stdout_is_a_quiet_sigpipe() {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe() returns.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned here only.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read_end); // the reader is gone before the first write
    let out = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .args(["conformance", "--api", "std", "--threads", "1"])
        .args([
            "--exit",
            "live",
            "--order",
            "forward",
            "--no-reproducer",
            "--json",
        ])
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn haiku_top_stands_in_for_a_missing_haiku_option() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("build/jam")).unwrap();
    std::fs::write(t.path().join("Jamrules"), "").unwrap();
    let bin = env!("CARGO_BIN_EXE_dead-threads");
    let out = Command::new(bin)
        .args(["jam", "status"])
        .env("HAIKU_TOP", t.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout.starts_with("not installed"), "{stdout}");
    // Without either, the usage error names the option.
    let out = Command::new(bin)
        .args(["patch", "status"])
        .env_remove("HAIKU_TOP")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--haiku"));
}

/// Every environment variable the tool reads is named in `--help` (and the
/// list matches what the sources read: see the README's "Environment").
#[test]
fn help_names_every_environment_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "HAIKU_TOP",
        "DEAD_THREADS_JAM",
        "DEAD_THREADS_CLANG",
        "DEAD_THREADS_LIBCXX_INCLUDE",
        "DEAD_THREADS_SERIES",
        "CXX",
        "PATH",
    ] {
        assert!(
            help.contains(&format!("\n  {var} ")),
            "{var} missing:\n{help}"
        );
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for var in [
        "DEAD_THREADS_JAM",
        "DEAD_THREADS_LIBCXX_INCLUDE",
        "DEAD_THREADS_SERIES",
    ] {
        assert!(readme.contains(var), "README does not document {var}");
    }
}

/// `HAIKU_TOP=` (empty) is no checkout: the usage error names the option,
/// as with the variable unset, not "a value is required".
#[test]
fn empty_haiku_top_counts_as_unset() {
    let out = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .args(["jam", "status"])
        .env("HAIKU_TOP", "")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("required arguments were not provided"),
        "{err}"
    );
    assert!(err.contains("--haiku"), "{err}");
}

/// `--haiku` naming a directory inside a checkout: the error says where its
/// top is, whatever the subcommand.
#[test]
fn haiku_inside_a_tree_names_the_top() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("build/jam")).unwrap();
    std::fs::create_dir_all(t.path().join("src/system")).unwrap();
    std::fs::write(t.path().join("Jamrules"), "").unwrap();
    let top = std::fs::canonicalize(t.path()).unwrap();
    for args in [
        &["patch", "status"][..],
        &["jam", "status"],
        &["image", "--dry-run"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
            .args(args)
            .arg("--haiku")
            .arg(top.join("src/system"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("pass --haiku {}", top.display())),
            "{args:?}: {err}"
        );
    }
}

/// `jam install --dry-run` on an unconfigured tree: the plan, the missing
/// build directory as MISSING with how to configure it, exit 0, and
/// nothing written.
#[test]
fn jam_install_dry_run_lists_what_is_missing_and_exits_0() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("build/jam")).unwrap();
    std::fs::write(t.path().join("Jamrules"), "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .args(["jam", "install", "--dry-run", "--haiku"])
        .arg(t.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("install would write"), "{text}");
    assert!(text.contains("ok       Haiku checkout"), "{text}");
    assert!(
        text.contains("MISSING  configured build directory"),
        "{text}"
    );
    assert!(text.contains("--build-cross-tools"), "{text}");
    assert!(!t.path().join("build/jam/UserBuildConfig").exists());
    assert!(!t.path().join("generated").exists());
}

/// `conformance --json` writes each line when its scenario ends, not in a
/// burst per API: the first line (the 0.5 s seed reproducer) arrives while
/// the 10000-thread scenarios after it are still running.
#[test]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "haiku")),
    ignore = "the suite runs on Linux and Haiku only"
)]
fn conformance_json_lines_arrive_as_scenarios_end() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_dead-threads"))
        .args(["conformance", "--api", "std", "--threads", "10000"])
        .args([
            "--exit",
            "exited",
            "--order",
            "forward,reverse,shuffled",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let first_at = std::time::Instant::now();
    let still_running = child.try_wait().unwrap().is_none();
    assert!(first.contains("seed-reproducer"), "{first}");
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    // 30000 threads spawned, waited for and joined after the first line:
    // far more than the milliseconds a burst of lines would take.
    let after_first = first_at.elapsed();
    assert_eq!(rest.len(), 3, "{rest:?}");
    assert!(
        after_first > std::time::Duration::from_millis(100),
        "the other lines came {after_first:?} after the first: a burst"
    );
    assert!(status.success(), "{status:?}");
    assert!(
        still_running,
        "the first JSON line came only when the run was over"
    );
}
