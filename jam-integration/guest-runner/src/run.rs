//! Running the test binaries: one child process at a time, output streamed
//! into KTAP as it arrives, a per-binary timeout, the stderr tail kept for
//! diagnostics.

use crate::ktap::{self, Exit, SubtestWriter};
use crate::manifest::{Manifest, TestBinary};
use crate::sink::Sink;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Arguments every binary gets: one test at a time (so each result line is
/// printed whole, right after its test) in libtest's stable pretty format.
pub const LIBTEST_ARGS: [&str; 3] = ["--test-threads=1", "--format=pretty", "--color=never"];

/// stderr lines kept per binary for the diagnostics of a failure.
pub const STDERR_TAIL: usize = 40;

/// How long output still in the pipe is collected after a binary ended.
pub const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Totals of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Binaries that passed.
    pub passed: usize,
    /// Binaries that failed (including timeouts and crashes).
    pub failed: usize,
}

enum Msg {
    Out(String),
    OutDone,
}

/// Renders an exit status; on Unix a signal is named by number.
fn exit_of(status: std::process::ExitStatus) -> Exit {
    match status.code() {
        Some(c) => Exit::Code(c),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                if let Some(sig) = status.signal() {
                    return Exit::Signal(format!("signal {sig}"));
                }
            }
            Exit::Signal(format!("{status}"))
        }
    }
}

fn lossy_lines<R: Read + Send + 'static>(r: R, mut each: impl FnMut(String) + Send + 'static) {
    let mut reader = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                each(String::from_utf8_lossy(&buf).into_owned());
            }
        }
    }
}

fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs one binary, writing its KTAP subtest (number `number`) to `sink`.
/// Returns whether it passed.
pub fn run_binary(
    number: usize,
    test: &TestBinary,
    root: &Path,
    env: &[(String, String)],
    sink: &mut dyn Sink,
) -> bool {
    let mut writer = SubtestWriter::new(number, &test.name);
    let emit = |lines: Vec<String>, sink: &mut dyn Sink| {
        for l in lines {
            // A sink error cannot be reported anywhere better; keep going so
            // the run still ends and powers off.
            let _ = sink.line(&l);
        }
    };
    let mut cmd = Command::new(root.join(&test.path));
    cmd.args(LIBTEST_ARGS)
        .args(&test.args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let (lines, ok) = writer.finish(&Exit::SpawnFailed(e.to_string()), &[]);
            emit(lines, sink);
            return ok;
        }
    };

    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout is piped");
    let out_tx = tx.clone();
    let out_thread = std::thread::spawn(move || {
        let tx2 = out_tx.clone();
        lossy_lines(stdout, move |l| {
            let _ = tx2.send(Msg::Out(l));
        });
        let _ = out_tx.send(Msg::OutDone);
    });
    drop(tx);
    let stderr = child.stderr.take().expect("stderr is piped");
    let err_thread = std::thread::spawn(move || {
        let tail = std::sync::Arc::new(std::sync::Mutex::new(VecDeque::new()));
        let t2 = tail.clone();
        lossy_lines(stderr, move |l| {
            let mut t = t2.lock().expect("stderr tail lock");
            if t.len() == STDERR_TAIL {
                t.pop_front();
            }
            t.push_back(l);
        });
        let t = tail.lock().expect("stderr tail lock");
        t.iter().cloned().collect::<Vec<String>>()
    });

    let deadline = Instant::now() + Duration::from_secs(test.timeout_secs);
    let mut timed_out = false;
    loop {
        let now = Instant::now();
        if now >= deadline {
            timed_out = true;
            break;
        }
        match rx.recv_timeout(deadline - now) {
            Ok(Msg::Out(line)) => emit(writer.stdout_line(&line), sink),
            Ok(Msg::OutDone) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                timed_out = true;
                break;
            }
        }
    }
    let exit = if timed_out {
        kill_and_reap(&mut child);
        Exit::TimedOut(test.timeout_secs)
    } else {
        // stdout is closed; the process is exiting (or closed stdout and
        // keeps running: the same deadline applies).
        loop {
            match child.try_wait() {
                Ok(Some(status)) => break exit_of(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    kill_and_reap(&mut child);
                    break Exit::TimedOut(test.timeout_secs);
                }
                Err(e) => {
                    kill_and_reap(&mut child);
                    break Exit::Signal(format!("wait failed: {e}"));
                }
            }
        }
    };
    // The pipes close once the child is gone; collect what is still in
    // flight, including a last line without newline (`test NAME ... ` of the
    // test that was running). If the child left processes of its own holding
    // the pipe, give up after a short grace and abandon the reader threads.
    let grace = Instant::now() + DRAIN_GRACE;
    loop {
        let now = Instant::now();
        if now >= grace {
            break;
        }
        match rx.recv_timeout(grace - now) {
            Ok(Msg::Out(line)) => emit(writer.stdout_line(&line), sink),
            Ok(Msg::OutDone) | Err(_) => break,
        }
    }
    while !err_thread.is_finished() && Instant::now() < grace {
        std::thread::sleep(Duration::from_millis(10));
    }
    let stderr_tail = if err_thread.is_finished() {
        err_thread.join().unwrap_or_default()
    } else {
        vec!["(stderr still open after the binary ended)".to_string()]
    };
    if out_thread.is_finished() {
        let _ = out_thread.join();
    }
    let (lines, ok) = writer.finish(&exit, &stderr_tail);
    emit(lines, sink);
    ok
}

/// Runs every binary of `manifest` (paths relative to `root`) and writes the
/// whole KTAP document to `sink`: header and plan first, one subtest per
/// binary, a closing diagnostic with the totals.
pub fn run_all(
    manifest: &Manifest,
    root: &Path,
    env: &[(String, String)],
    sink: &mut dyn Sink,
) -> Totals {
    for l in ktap::header(manifest.tests.len()) {
        let _ = sink.line(&l);
    }
    let mut totals = Totals::default();
    for (i, test) in manifest.tests.iter().enumerate() {
        if run_binary(i + 1, test, root, env, sink) {
            totals.passed += 1;
        } else {
            totals.failed += 1;
        }
    }
    let _ = sink.line(&ktap::diagnostic(
        "",
        &format!(
            "dead-threads guest runner: {} binaries, {} passed, {} failed",
            manifest.tests.len(),
            totals.passed,
            totals.failed
        ),
    ));
    totals
}

/// The document written when the manifest itself cannot be used: still a
/// complete KTAP document with a plan and one failed test, so the host
/// reports the reason instead of a missing plan.
pub fn manifest_failure(reason: &str, sink: &mut dyn Sink) {
    for l in ktap::header(1) {
        let _ = sink.line(&l);
    }
    let _ = sink.line(&ktap::diagnostic("", reason));
    let _ = sink.line(&ktap::result_line("", false, 1, "manifest", None));
}
