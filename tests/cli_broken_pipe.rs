//! `dead-threads ... | head`: a closed stdout ends the process like any Unix
//! tool (SIGPIPE), not with a Rust panic and exit status 101.

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
