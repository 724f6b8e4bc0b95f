//! The QEMU child process: its own process group, killed and reaped on every path.
//!
//! * QEMU runs as the leader of a new process group, so a terminal's Ctrl-C
//!   reaches only `dead-threads`, which then stops QEMU itself, and so that
//!   anything QEMU started is killed with it (`killpg`).
//! * On Linux the child asks for `SIGKILL` when its parent dies
//!   (`PR_SET_PDEATHSIG`), so QEMU does not outlive even a `kill -9` of
//!   `dead-threads`.
//! * Stopping sends `SIGTERM` to the group (QEMU exits cleanly on it), waits a
//!   little, then sends `SIGKILL` to the group and reaps the leader. Exit is
//!   detected with `waitid(WNOWAIT)` so the leader stays a zombie (and its
//!   process group id cannot be reused) until the final group kill is done.
//! * [`Drop`] does the same, so an early return or a panic cannot leak QEMU.

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A running child in its own process group.
#[derive(Debug)]
pub struct GroupChild {
    child: Child,
    pid: libc::pid_t,
    status: Option<ExitStatus>,
}

impl GroupChild {
    /// Spawns `cmd` as the leader of a new process group.
    pub fn spawn(cmd: &mut Command) -> io::Result<(GroupChild, Pipes)> {
        cmd.process_group(0);
        #[cfg(target_os = "linux")]
        {
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    // The parent may have died before prctl took effect.
                    if libc::getppid() != parent {
                        libc::_exit(1);
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd.spawn()?;
        let pid = child.id() as libc::pid_t;
        // Hand the pipes to the caller; we keep the handle for waiting.
        let pipes = Pipes {
            stdin: child.stdin.take(),
            stdout: child.stdout.take(),
            stderr: child.stderr.take(),
        };
        Ok((
            GroupChild {
                child,
                pid,
                status: None,
            },
            pipes,
        ))
    }

    /// The leader's process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// Whether the leader has exited (without reaping it).
    pub fn has_exited(&self) -> bool {
        if self.status.is_some() {
            return true;
        }
        // SAFETY: waitid with a zeroed siginfo_t out-parameter.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let r = libc::waitid(
                libc::P_PID,
                self.pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            );
            r == 0 && info.si_pid() != 0
        }
    }

    fn signal_group(&self, sig: libc::c_int) {
        // SAFETY: plain syscall; ESRCH (group gone) is fine.
        unsafe {
            libc::killpg(self.pid, sig);
        }
    }

    /// Stops the whole group and reaps the leader: SIGTERM unless the leader has
    /// already exited, up to `term_grace` for it to exit, then SIGKILL to the group.
    pub fn stop(&mut self, term_grace: Duration) -> ExitStatus {
        if let Some(s) = self.status {
            return s;
        }
        if !self.has_exited() {
            self.signal_group(libc::SIGTERM);
            let until = Instant::now() + term_grace;
            while !self.has_exited() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Sweep the group (stragglers, or a leader that ignored SIGTERM) while
        // the leader is at most a zombie, so the group id is still ours.
        self.signal_group(libc::SIGKILL);
        let status = match self.child.wait() {
            Ok(s) => s,
            Err(_) => ExitStatus::from_raw(libc::SIGKILL),
        };
        self.status = Some(status);
        status
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        if self.status.is_none() {
            self.stop(Duration::ZERO);
        }
    }
}

/// The child's output pipes (those that were requested as piped).
#[derive(Debug)]
pub struct Pipes {
    /// The child's stdin.
    pub stdin: Option<std::process::ChildStdin>,
    /// The child's stdout.
    pub stdout: Option<std::process::ChildStdout>,
    /// The child's stderr.
    pub stderr: Option<std::process::ChildStderr>,
}

/// Describes an exit status the way a user wants to read it
/// (`exited with status 1`, `was killed by signal 6 (SIGABRT)`).
pub fn describe_status(s: ExitStatus) -> String {
    if let Some(code) = s.code() {
        format!("exited with status {code}")
    } else if let Some(sig) = s.signal() {
        let name = match sig {
            libc::SIGHUP => " (SIGHUP)",
            libc::SIGINT => " (SIGINT)",
            libc::SIGABRT => " (SIGABRT)",
            libc::SIGKILL => " (SIGKILL)",
            libc::SIGSEGV => " (SIGSEGV)",
            libc::SIGTERM => " (SIGTERM)",
            _ => "",
        };
        format!("was killed by signal {sig}{name}")
    } else {
        format!("ended ({s})")
    }
}
