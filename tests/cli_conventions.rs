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
