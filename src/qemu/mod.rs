//! Boot a Haiku test image in QEMU, read KTAP from its serial port, give a verdict.
//!
//! Library entry point for other commands (`verify`): build a [`QemuConfig`],
//! call [`run`] with an [`Observer`] (for example [`ConsoleReporter`], or a closure
//! `|e: &RunEvent<'_>| ...`), and read the [`QemuOutcome`]: its [`Verdict`] gives the
//! exit code ([`Verdict::exit_code`]) and message, and [`summary`] renders the
//! same end-of-run text as `dead-threads qemu`. [`install_interrupt_handler`]
//! makes Ctrl-C / SIGTERM stop QEMU cleanly; pass its flag in
//! [`QemuConfig::interrupt`]. [`planned_command`] gives the exact command line for
//! a dry run.
//!
//! ```no_run
//! use dead_threads::qemu::{self, QemuConfig, ConsoleReporter};
//! let mut cfg = QemuConfig::new("generated/haiku.image".into(), "results".into());
//! cfg.interrupt = Some(qemu::install_interrupt_handler()?);
//! let outcome = qemu::run(&cfg, &mut ConsoleReporter::new(false))?;
//! print!("{}", qemu::summary(&outcome));
//! std::process::exit(outcome.verdict.exit_code());
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! The serial protocol is described in [`crate::ktap`].

mod cli;
mod command;
pub mod image_check;
mod process;

pub use crate::ktap::{KdlWatch, PanicInfo};
pub use cli::{run_cli as run_command, summary, Args, ConsoleReporter};
pub use command::{
    command_line, find_program, kvm_usable, qemu_opt_escape, resolve_accel, shell_line, Accel,
    CommandSpec, DiskBus, KvmMode, KvmUnavailable,
};

use crate::ktap::{self, Counts, Parser, Report, SerialDemux, SerialItem};
use crate::sys::fs::{FileOps, RealFs};
use process::{describe_status, GroupChild};
use serde::Serialize;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

/// File names written into [`QemuConfig::out_dir`].
pub mod files {
    /// Raw bytes from the guest's serial port, exactly as received.
    pub const SERIAL_LOG: &str = "serial.log";
    /// The KTAP lines extracted from the serial output (prefix removed).
    pub const KTAP: &str = "results.ktap";
    /// The [`super::QemuOutcome`] as JSON.
    pub const JSON: &str = "results.json";
    /// QEMU's own stderr.
    pub const QEMU_STDERR: &str = "qemu-stderr.log";
    /// The QEMU command line, shell-quoted.
    pub const COMMAND: &str = "qemu-command.txt";
}

/// Everything [`run`] needs. Start from [`QemuConfig::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct QemuConfig {
    /// The QEMU executable (name looked up in PATH, or a path).
    pub qemu: PathBuf,
    /// The Haiku disk image.
    pub image: PathBuf,
    /// QEMU image format name (`raw` for Haiku's `haiku.image` and anyboot images).
    pub format: String,
    /// Disk controller.
    pub disk: DiskBus,
    /// KVM choice.
    pub kvm: KvmMode,
    /// Guest memory (MiB).
    pub memory_mib: u32,
    /// Virtual CPUs.
    pub cpus: u32,
    /// CPU model for `-cpu` (e.g. `host` with KVM); `None`: QEMU's default.
    pub cpu: Option<String>,
    /// Wall-clock limit for the whole run, from QEMU's start.
    pub timeout: Duration,
    /// How long the guest may take to power off after the last top-level result
    /// (or after `Bail out!`).
    pub poweroff_grace: Duration,
    /// How long to keep reading after a panic / KDL entry before stopping QEMU,
    /// if the `kdebug>` prompt does not come first.
    pub kdl_settle: Duration,
    /// Kernel debugger commands to run when the guest enters KDL (e.g. `bt`,
    /// `threads`, or the test module's dead-list command), one per `kdebug>`
    /// prompt, sent over the serial port; their output ends up in
    /// [`PanicInfo::command_output`]. Each command gets [`QemuConfig::kdl_settle`]
    /// to finish. Empty: QEMU is stopped at the first prompt.
    pub kdl_commands: Vec<String>,
    /// Discard the guest's writes to the image (QEMU `snapshot=on`).
    pub snapshot: bool,
    /// Output directory (created if missing).
    pub out_dir: PathBuf,
    /// Extra QEMU arguments, appended verbatim.
    pub extra_args: Vec<String>,
    /// Set to `true` (e.g. from a signal handler) to stop the run.
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl QemuConfig {
    /// Defaults: `qemu-system-x86_64`, raw image on IDE, KVM auto, 2048 MiB,
    /// 2 CPUs of QEMU's default model, 15 min timeout, 60 s power-off grace, 5 s KDL settle, snapshot on.
    pub fn new(image: PathBuf, out_dir: PathBuf) -> Self {
        QemuConfig {
            qemu: PathBuf::from("qemu-system-x86_64"),
            image,
            format: "raw".to_string(),
            disk: DiskBus::Ide,
            kvm: KvmMode::Auto,
            memory_mib: 2048,
            cpus: 2,
            cpu: None,
            timeout: Duration::from_secs(900),
            poweroff_grace: Duration::from_secs(60),
            kdl_settle: Duration::from_secs(5),
            kdl_commands: Vec::new(),
            snapshot: true,
            out_dir,
            extra_args: Vec::new(),
            interrupt: None,
        }
    }

    /// The command-line inputs for a given accelerator.
    pub fn spec(&self, accel: Accel) -> CommandSpec<'_> {
        CommandSpec {
            qemu: &self.qemu,
            image: &self.image,
            format: &self.format,
            disk: self.disk,
            accel,
            cpu: self.cpu.as_deref(),
            memory_mib: self.memory_mib,
            cpus: self.cpus,
            snapshot: self.snapshot,
            extra: &self.extra_args,
        }
    }
}

/// The command line [`run`] would use on this machine (KVM resolved now).
pub fn planned_command(cfg: &QemuConfig) -> Result<Vec<String>, QemuError> {
    let accel = resolve_accel(cfg.kvm).map_err(|e| QemuError::Kvm(e.0))?;
    Ok(command_line(&cfg.spec(accel)))
}

/// Errors that prevent a run from starting (a run that started ends in a
/// [`QemuOutcome`], whatever happened in the guest).
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    /// The QEMU executable was not found.
    #[error("QEMU not found: `{0}` is not an executable file or in PATH; install QEMU (Debian/Ubuntu: `apt-get install qemu-system-x86`) or pass --qemu PATH")]
    QemuNotFound(PathBuf),
    /// The image is missing or not a file.
    #[error("image {path}: {reason}; build it with `dead-threads image --haiku DIR` (or jam) and pass its path with --image")]
    Image {
        /// The path given.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `--kvm on` but /dev/kvm is not usable.
    #[error("KVM was requested but is not usable ({0}); enable virtualisation, add yourself to the `kvm` group, or use --kvm auto/off")]
    Kvm(String),
    /// The output directory or a file in it could not be written.
    #[error("cannot write {path}: {source}; pass a writable --out DIR")]
    Output {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// QEMU could not be started.
    #[error("cannot start {qemu}: {source}")]
    Spawn {
        /// The executable.
        qemu: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// How the run ended, from the parsed serial stream and QEMU's exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every planned test reported, none failed, the guest powered off.
    Passed,
    /// The plan completed and at least one test failed (or the KTAP stream had
    /// structural errors such as duplicate numbers).
    TestsFailed,
    /// QEMU itself failed (for example it exited with an error before the guest
    /// produced any KTAP).
    QemuFailed,
    /// The guest kernel panicked or entered the kernel debugger.
    KernelPanic,
    /// The time limit passed before the plan completed.
    Timeout,
    /// The guest stopped without a plan, before the plan completed, or bailed out.
    Incomplete,
    /// The plan completed but the guest did not power off within the grace period.
    NoPowerOff,
    /// The guest's plan completed without running a single test (`1..0`,
    /// an empty test manifest): nothing was verified.
    NoTests,
    /// Stopped by Ctrl-C / SIGTERM.
    Interrupted,
}

impl Verdict {
    /// The process exit code for this verdict (0 only for [`Verdict::Passed`]).
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Passed => 0,
            Verdict::TestsFailed => 1,
            Verdict::QemuFailed => 2,
            Verdict::KernelPanic => 3,
            Verdict::Timeout => 4,
            Verdict::Incomplete => 5,
            Verdict::NoPowerOff => 6,
            Verdict::NoTests => 7,
            Verdict::Interrupted => 130,
        }
    }

    /// A short label (`PASSED`, `KERNEL PANIC`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::TestsFailed => "TESTS FAILED",
            Verdict::QemuFailed => "QEMU FAILED",
            Verdict::KernelPanic => "KERNEL PANIC",
            Verdict::Timeout => "TIMEOUT",
            Verdict::Incomplete => "INCOMPLETE",
            Verdict::NoPowerOff => "NO POWER-OFF",
            Verdict::NoTests => "NO TESTS",
            Verdict::Interrupted => "INTERRUPTED",
        }
    }
}

/// Paths of the files a run wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputFiles {
    /// See [`files::SERIAL_LOG`].
    pub serial_log: PathBuf,
    /// See [`files::KTAP`].
    pub ktap: PathBuf,
    /// See [`files::JSON`].
    pub json: PathBuf,
    /// See [`files::QEMU_STDERR`].
    pub qemu_stderr: PathBuf,
    /// See [`files::COMMAND`].
    pub command: PathBuf,
}

impl OutputFiles {
    fn new(dir: &Path) -> Self {
        OutputFiles {
            serial_log: dir.join(files::SERIAL_LOG),
            ktap: dir.join(files::KTAP),
            json: dir.join(files::JSON),
            qemu_stderr: dir.join(files::QEMU_STDERR),
            command: dir.join(files::COMMAND),
        }
    }
}

/// Everything known at the end of a run. Serialised to `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct QemuOutcome {
    /// The verdict.
    pub verdict: Verdict,
    /// One-paragraph explanation, naming what to look at next.
    pub message: String,
    /// Secondary findings (e.g. no power-off after failed tests).
    pub notes: Vec<String>,
    /// Totals over the KTAP tree.
    pub counts: Counts,
    /// The parsed KTAP document.
    pub report: Report,
    /// Panic / KDL details, if the kernel debugger was entered.
    pub panic: Option<PanicInfo>,
    /// How QEMU ended (`exited with status 0`, `was killed by signal 15 (SIGTERM)`, ...).
    pub qemu_exit: String,
    /// Whether QEMU exited by itself (guest power-off or QEMU error), rather
    /// than being stopped by the runner.
    pub qemu_exited_by_itself: bool,
    /// Last lines of QEMU's stderr.
    pub qemu_stderr_tail: Vec<String>,
    /// The accelerator used.
    pub accel: Accel,
    /// The command line used.
    pub command: Vec<String>,
    /// Seconds from QEMU's start to its end.
    pub elapsed_secs: f64,
    /// Files written.
    pub files: OutputFiles,
}

/// Progress reported while a run is going on.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// QEMU was started.
    Started {
        /// The command line.
        command: &'a [String],
        /// The accelerator.
        accel: Accel,
        /// QEMU's process id.
        pid: u32,
        /// Where the serial log goes.
        serial_log: &'a Path,
    },
    /// A serial line that is not KTAP (kernel and boot noise).
    Console {
        /// Seconds since start.
        at: f64,
        /// The text.
        line: &'a str,
    },
    /// Something recognised in a KTAP line.
    Ktap {
        /// Seconds since start.
        at: f64,
        /// The parser event.
        event: &'a ktap::Event,
    },
    /// A panic or the kernel debugger was detected.
    Panic {
        /// Seconds since start.
        at: f64,
        /// The line that showed it.
        line: &'a str,
    },
    /// The runner is about to stop QEMU, and why.
    Stopping {
        /// Seconds since start.
        at: f64,
        /// Why.
        reason: &'a str,
    },
    /// A command was typed at the kernel debugger's prompt.
    KdlCommand {
        /// Seconds since start.
        at: f64,
        /// The command.
        command: &'a str,
        /// Whether it could be written to QEMU's serial input.
        sent: bool,
    },
    /// `--kvm auto`: QEMU failed with KVM, the run starts again with TCG.
    Retrying {
        /// Why.
        reason: &'a str,
    },
    /// The plan is complete (or the guest bailed out); waiting for power-off.
    WaitingForPowerOff {
        /// Seconds since start.
        at: f64,
        /// How long the runner waits.
        grace: Duration,
    },
}

/// Receives [`RunEvent`]s during [`run`].
pub trait Observer {
    /// Called for every event, on the thread that called [`run`].
    fn event(&mut self, event: &RunEvent<'_>);
}

impl<F: FnMut(&RunEvent<'_>)> Observer for F {
    fn event(&mut self, event: &RunEvent<'_>) {
        self(event)
    }
}

/// Registers SIGINT, SIGTERM and SIGHUP handlers that set the returned flag
/// (same flag on every call). A second signal while the flag is set exits the
/// process at once with status 130; on Linux QEMU then dies with it
/// (`PR_SET_PDEATHSIG`).
pub fn install_interrupt_handler() -> std::io::Result<Arc<AtomicBool>> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    if let Some(f) = FLAG.get() {
        return Ok(f.clone());
    }
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        // Order matters: the conditional shutdown must see the flag before the
        // first handler sets it.
        signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone())?;
        signal_hook::flag::register(sig, flag.clone())?;
    }
    Ok(FLAG.get_or_init(|| flag).clone())
}

enum Msg {
    Serial(Vec<u8>),
    SerialEof,
    Stderr(Vec<u8>),
    StderrEof,
}

fn reader(mut r: impl Read + Send + 'static, tx: mpsc::Sender<Msg>, serial: bool) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let chunk = buf[..n].to_vec();
                    let msg = if serial {
                        Msg::Serial(chunk)
                    } else {
                        Msg::Stderr(chunk)
                    };
                    if tx.send(msg).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = tx.send(if serial {
            Msg::SerialEof
        } else {
            Msg::StderrEof
        });
    });
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Exited,
    Timeout,
    NoPowerOff,
    Kdl,
    Interrupted,
}

/// Serial-stream state shared by the main loop and the final drain.
struct Stream<'o> {
    start: Instant,
    demux: SerialDemux,
    parser: Parser,
    kdl: KdlWatch,
    kdl_since: Option<Instant>,
    serial_log: File,
    ktap_file: File,
    observer: &'o mut dyn Observer,
    write_error: Option<(PathBuf, std::io::Error)>,
    paths: OutputFiles,
}

impl Stream<'_> {
    fn at(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    fn bytes(&mut self, bytes: &[u8]) {
        if let Err(e) = self.serial_log.write_all(bytes) {
            self.write_error
                .get_or_insert((self.paths.serial_log.clone(), e));
        }
        let mut items = Vec::new();
        self.demux.push(bytes, |i| items.push(owned(i)));
        self.items(items);
        let had = self.kdl.triggered();
        let tail = self.demux.pending().to_vec();
        self.kdl.pending(&tail);
        if !had && self.kdl.triggered() {
            self.kdl_since = Some(Instant::now());
            let at = self.at();
            let text = String::from_utf8_lossy(&tail).into_owned();
            self.observer.event(&RunEvent::Panic { at, line: &text });
        }
    }

    fn finish(&mut self) {
        let mut items = Vec::new();
        self.demux.finish(|i| items.push(owned(i)));
        self.items(items);
        let _ = self.serial_log.flush();
        let _ = self.ktap_file.flush();
    }

    fn items(&mut self, items: Vec<(bool, String)>) {
        let at = self.at();
        for (is_ktap, text) in items {
            if !is_ktap {
                if self.kdl.line(&text) {
                    self.kdl_since = Some(Instant::now());
                    self.observer.event(&RunEvent::Panic { at, line: &text });
                }
                self.observer.event(&RunEvent::Console { at, line: &text });
                continue;
            }
            if let Err(e) = writeln!(self.ktap_file, "{text}") {
                self.write_error.get_or_insert((self.paths.ktap.clone(), e));
            }
            for event in self.parser.feed_line(&text) {
                self.observer.event(&RunEvent::Ktap { at, event: &event });
            }
        }
    }
}

/// (is KTAP, text) of a demultiplexed serial item.
fn owned(i: SerialItem<'_>) -> (bool, String) {
    match i {
        SerialItem::Console(t) => (false, t.to_string()),
        SerialItem::Ktap(t) => (true, t.to_string()),
    }
}

fn create(path: &Path) -> Result<File, QemuError> {
    File::create(path).map_err(|source| QemuError::Output {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `data` to `path` atomically (see [`crate::sys::fs::RealFs`]): a
/// run that is killed never leaves a half-written results.json.
fn write_output(path: &Path, data: &str) -> Result<(), QemuError> {
    RealFs
        .write(path, data.as_bytes())
        .map_err(|source| QemuError::Output {
            path: path.to_path_buf(),
            source,
        })
}

/// Boots the image and supervises QEMU until a verdict is reached.
///
/// Returns `Err` only if QEMU could not be started (missing QEMU, an image
/// that cannot boot (see [`image_check`]), unusable KVM with `--kvm on`,
/// unwritable output directory). Every run that started returns a
/// [`QemuOutcome`]; QEMU and everything in its process group have been
/// stopped and reaped by then, and the output files are written.
///
/// With [`KvmMode::Auto`], a KVM run in which QEMU fails before the guest
/// wrote anything (some hosts, e.g. nested virtualisation, open /dev/kvm but
/// cannot run a guest with it) is repeated once with TCG; the outcome's notes
/// say so and quote QEMU's error. When QEMU fails the same way with TCG, KVM
/// was not the cause and the notes say that instead.
pub fn run(cfg: &QemuConfig, observer: &mut dyn Observer) -> Result<QemuOutcome, QemuError> {
    let first = run_once(cfg, None, observer)?;
    let kvm_failed_early =
        cfg.kvm == KvmMode::Auto && first.accel == Accel::Kvm && failed_before_output(&first);
    if !kvm_failed_early {
        return Ok(first);
    }
    let why = last_stderr_line(&first);
    let reason = format!("QEMU failed with KVM ({why}); retrying with TCG");
    observer.event(&RunEvent::Retrying { reason: &reason });
    // `-cpu host` exists only with KVM.
    let mut tcg_cfg = cfg.clone();
    if tcg_cfg.cpu.as_deref() == Some("host") {
        tcg_cfg.cpu = None;
    }
    let mut second = run_once(&tcg_cfg, Some(Accel::Tcg), observer)?;
    let note = if failed_before_output(&second) {
        format!(
            "QEMU failed with KVM ({why}) and again with TCG ({}): the cause is not KVM.",
            last_stderr_line(&second)
        )
    } else {
        format!(
            "KVM was usable but QEMU failed with it ({why}); this run used TCG. Use --kvm off \
             to skip the attempt."
        )
    };
    second.notes.insert(0, note);
    write_output(
        &second.files.json,
        &(serde_json::to_string_pretty(&second).expect("outcome serialises") + "\n"),
    )?;
    Ok(second)
}

/// Whether QEMU failed before the guest wrote anything to the serial port.
fn failed_before_output(o: &QemuOutcome) -> bool {
    o.verdict == Verdict::QemuFailed
        && std::fs::metadata(&o.files.serial_log).is_ok_and(|m| m.len() == 0)
}

/// QEMU's last non-empty stderr line, or how it ended.
fn last_stderr_line(o: &QemuOutcome) -> String {
    o.qemu_stderr_tail
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| o.qemu_exit.clone())
}

/// One QEMU run: prepare, start, supervise, stop, judge.
fn run_once(
    cfg: &QemuConfig,
    accel: Option<Accel>,
    observer: &mut dyn Observer,
) -> Result<QemuOutcome, QemuError> {
    let plan = prepare(cfg, accel)?;
    let mut stderr_log = create(&plan.paths.qemu_stderr)?;
    let mut s = Stream {
        start: Instant::now(),
        demux: SerialDemux::new(),
        parser: Parser::new(),
        kdl: KdlWatch::new(),
        kdl_since: None,
        serial_log: create(&plan.paths.serial_log)?,
        ktap_file: create(&plan.paths.ktap)?,
        observer,
        write_error: None,
        paths: plan.paths.clone(),
    };
    let (mut child, mut pipes, serial_in) = start(cfg, &plan, &mut stderr_log)?;
    s.start = pipes.started;
    s.observer.event(&RunEvent::Started {
        command: &plan.argv,
        accel: plan.accel,
        pid: child.pid(),
        serial_log: &plan.paths.serial_log,
    });
    let end = supervise(cfg, &mut s, &mut pipes, &mut child, serial_in);
    let at = s.at();
    if let Some(reason) = stop_reason(cfg, &end) {
        s.observer.event(&RunEvent::Stopping {
            at,
            reason: &reason,
        });
    }
    let status = child.stop(Duration::from_secs(3));
    let elapsed = pipes.started.elapsed();
    pipes.drain(&mut s, Duration::from_secs(2));
    s.finish();
    let _ = pipes.stderr_log.flush();
    conclude(cfg, plan, s, &pipes, end, status, elapsed)
}

/// What [`prepare`] settled before QEMU starts.
struct Plan {
    argv: Vec<String>,
    accel: Accel,
    paths: OutputFiles,
    /// Notes from the image check.
    notes: Vec<String>,
    qemu: PathBuf,
}

/// Finds QEMU, checks the image, resolves the accelerator, creates the
/// output directory and writes the command file.
fn prepare(cfg: &QemuConfig, accel: Option<Accel>) -> Result<Plan, QemuError> {
    let qemu = find_program(&cfg.qemu).ok_or_else(|| QemuError::QemuNotFound(cfg.qemu.clone()))?;
    let image_error = |reason: String| QemuError::Image {
        path: cfg.image.clone(),
        reason,
    };
    let (_, notes) = image_check::check(&cfg.image, &cfg.format).map_err(image_error)?;
    let image = std::fs::canonicalize(&cfg.image).map_err(|e| image_error(e.to_string()))?;
    let accel = match accel {
        Some(a) => a,
        None => resolve_accel(cfg.kvm).map_err(|e| QemuError::Kvm(e.0))?,
    };
    std::fs::create_dir_all(&cfg.out_dir).map_err(|source| QemuError::Output {
        path: cfg.out_dir.clone(),
        source,
    })?;
    let paths = OutputFiles::new(&cfg.out_dir);
    let resolved = QemuConfig {
        qemu: qemu.clone(),
        image,
        ..cfg.clone()
    };
    let argv = command_line(&resolved.spec(accel));
    write_output(&paths.command, &format!("{}\n", shell_line(&argv)))?;
    Ok(Plan {
        argv,
        accel,
        paths,
        notes,
        qemu,
    })
}

/// QEMU's output as it arrives: the reader threads' channel, which pipes
/// have ended, and QEMU's stderr (logged, and its tail kept).
struct Output<'l> {
    rx: mpsc::Receiver<Msg>,
    started: Instant,
    serial_eof: bool,
    stderr_eof: bool,
    stderr_log: &'l mut File,
    stderr_tail: Vec<u8>,
}

impl Output<'_> {
    /// Handles one message from a reader thread.
    fn handle(&mut self, msg: Msg, s: &mut Stream<'_>) {
        match msg {
            Msg::Serial(b) => s.bytes(&b),
            Msg::SerialEof => self.serial_eof = true,
            Msg::Stderr(b) => {
                let _ = self.stderr_log.write_all(&b);
                self.stderr_tail.extend_from_slice(&b);
                if self.stderr_tail.len() > 16 * 1024 {
                    let cut = self.stderr_tail.len() - 16 * 1024;
                    self.stderr_tail.drain(..cut);
                }
            }
            Msg::StderrEof => self.stderr_eof = true,
        }
    }

    /// Waits up to `tick` for output and handles it.
    fn poll(&mut self, s: &mut Stream<'_>, tick: Duration) {
        match self.rx.recv_timeout(tick) {
            Ok(msg) => self.handle(msg, s),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                self.serial_eof = true;
                self.stderr_eof = true;
            }
        }
    }

    fn ended(&self) -> bool {
        self.serial_eof && self.stderr_eof
    }

    /// Reads what the readers still have (they end when the group's pipes
    /// close), for at most `limit`.
    fn drain(&mut self, s: &mut Stream<'_>, limit: Duration) {
        let until = Instant::now() + limit;
        while !self.ended() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.rx.recv_timeout(left) {
                Ok(msg) => self.handle(msg, s),
                Err(_) => break,
            }
        }
    }

    /// The last 20 lines of QEMU's stderr.
    fn stderr_lines(&self) -> Vec<String> {
        let lines: Vec<String> = String::from_utf8_lossy(&self.stderr_tail)
            .lines()
            .map(str::to_string)
            .collect();
        lines[lines.len().saturating_sub(20)..].to_vec()
    }
}

/// Starts QEMU in its own process group with reader threads on its stdout
/// (the serial port) and stderr.
fn start<'l>(
    cfg: &QemuConfig,
    plan: &Plan,
    stderr_log: &'l mut File,
) -> Result<(GroupChild, Output<'l>, Option<std::process::ChildStdin>), QemuError> {
    let mut cmd = Command::new(&plan.argv[0]);
    // The serial port's input is QEMU's stdin: a pipe only when there are KDL
    // commands to type.
    let stdin = if cfg.kdl_commands.is_empty() {
        Stdio::null()
    } else {
        Stdio::piped()
    };
    cmd.args(&plan.argv[1..])
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (child, pipes) = GroupChild::spawn(&mut cmd).map_err(|source| QemuError::Spawn {
        qemu: plan.qemu.clone(),
        source,
    })?;
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    if let Some(out) = pipes.stdout {
        reader(out, tx.clone(), true);
    }
    if let Some(err) = pipes.stderr {
        reader(err, tx.clone(), false);
    }
    drop(tx);
    let output = Output {
        rx,
        started,
        serial_eof: false,
        stderr_eof: false,
        stderr_log,
        stderr_tail: Vec::new(),
    };
    Ok((child, output, pipes.stdin))
}

/// Reads QEMU's output until the run must end, and says why: QEMU exited,
/// the guest is in the kernel debugger (after typing the configured
/// commands), the tests are done but the guest does not power off, the
/// time limit, or an interrupt.
fn supervise(
    cfg: &QemuConfig,
    s: &mut Stream<'_>,
    out: &mut Output<'_>,
    child: &mut GroupChild,
    mut serial_in: Option<std::process::ChildStdin>,
) -> End {
    let mut kdl_sent = 0usize;
    let mut exited_at: Option<Instant> = None;
    let mut done_at: Option<Instant> = None;
    let deadline = out.started + cfg.timeout;
    let tick = Duration::from_millis(50);
    loop {
        out.poll(s, tick);
        let now = Instant::now();
        if exited_at.is_none() && child.has_exited() {
            exited_at = Some(now);
        }
        if let Some(t) = exited_at {
            // Read what is still in the pipes; stop waiting if something outside
            // the group keeps them open.
            if out.ended() || now.duration_since(t) > Duration::from_secs(2) {
                return End::Exited;
            }
            continue;
        }
        if cfg
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst))
        {
            return End::Interrupted;
        }
        if let Some(t) = s.kdl_since {
            match kdl_step(cfg, s, &mut serial_in, &mut kdl_sent, t, now) {
                Some(end) => return end,
                None => continue,
            }
        }
        if done_at.is_none() && (s.parser.plan_complete() || s.parser.bailed_out()) {
            done_at = Some(now);
            let at = s.at();
            s.observer.event(&RunEvent::WaitingForPowerOff {
                at,
                grace: cfg.poweroff_grace,
            });
        }
        if done_at.is_some_and(|t| now.duration_since(t) >= cfg.poweroff_grace) {
            return End::NoPowerOff;
        }
        if now >= deadline {
            return if done_at.is_some() {
                End::NoPowerOff
            } else {
                End::Timeout
            };
        }
    }
}

/// In the kernel debugger: types the next configured command at a new
/// `kdebug>` prompt, or ends the run when the commands are done (or the
/// prompt does not come within [`QemuConfig::kdl_settle`]).
fn kdl_step(
    cfg: &QemuConfig,
    s: &mut Stream<'_>,
    serial_in: &mut Option<std::process::ChildStdin>,
    kdl_sent: &mut usize,
    since: Instant,
    now: Instant,
) -> Option<End> {
    let prompts = s.kdl.prompts();
    if prompts > *kdl_sent && *kdl_sent < cfg.kdl_commands.len() {
        // KDL reads a line from the serial port; `\r` ends it.
        let command = &cfg.kdl_commands[*kdl_sent];
        *kdl_sent += 1;
        let sent = serial_in
            .as_mut()
            .is_some_and(|w| w.write_all(format!("{command}\r").as_bytes()).is_ok());
        let at = s.at();
        s.observer
            .event(&RunEvent::KdlCommand { at, command, sent });
        s.kdl_since = Some(now);
        return None;
    }
    (prompts > *kdl_sent || now.duration_since(since) >= cfg.kdl_settle).then_some(End::Kdl)
}

/// Why the runner stops QEMU (`None`: QEMU exited by itself).
fn stop_reason(cfg: &QemuConfig, end: &End) -> Option<String> {
    match end {
        End::Exited => None,
        End::Timeout => Some(format!(
            "time limit of {} s reached",
            cfg.timeout.as_secs_f64()
        )),
        End::NoPowerOff => Some(format!(
            "the guest did not power off within {} s after its last result",
            cfg.poweroff_grace.as_secs_f64()
        )),
        End::Kdl => Some("the guest is in the kernel debugger".to_string()),
        End::Interrupted => Some("interrupted".to_string()),
    }
}

/// Judges the finished run and writes results.json.
fn conclude(
    cfg: &QemuConfig,
    plan: Plan,
    mut s: Stream<'_>,
    out: &Output<'_>,
    end: End,
    status: ExitStatus,
    elapsed: Duration,
) -> Result<QemuOutcome, QemuError> {
    let write_error = s.write_error.take();
    let mut kdl = s.kdl.info().cloned();
    if let (Some(info), true) = (kdl.as_mut(), cfg.kdl_commands.is_empty()) {
        // Only the prompt itself: no command was typed.
        info.command_output.clear();
    }
    let report = s.parser.finish();
    let stderr_tail = out.stderr_lines();
    let (verdict, message, mut notes) =
        decide(cfg, &end, status, &report, kdl.as_ref(), &stderr_tail);
    notes.splice(0..0, plan.notes);
    if let Some((path, e)) = &write_error {
        notes.push(format!("could not write {}: {e}", path.display()));
    }
    let outcome = QemuOutcome {
        verdict,
        message,
        notes,
        counts: report.counts(),
        report,
        panic: kdl,
        qemu_exit: describe_status(status),
        qemu_exited_by_itself: end == End::Exited,
        qemu_stderr_tail: stderr_tail,
        accel: plan.accel,
        command: plan.argv,
        elapsed_secs: elapsed.as_secs_f64(),
        files: plan.paths,
    };
    let json = serde_json::to_string_pretty(&outcome).expect("outcome serialises");
    write_output(&outcome.files.json, &(json + "\n"))?;
    Ok(outcome)
}

fn decide(
    cfg: &QemuConfig,
    end: &End,
    status: ExitStatus,
    report: &Report,
    kdl: Option<&PanicInfo>,
    stderr_tail: &[String],
) -> (Verdict, String, Vec<String>) {
    let counts = report.counts();
    let mut notes = Vec::new();
    let planned = report.root.plan;
    let progress = match planned {
        Some(n) => format!(
            "{} of {} top-level results arrived",
            report.root.tests.len(),
            n
        ),
        None => "no top-level plan arrived".to_string(),
    };
    if *end == End::Interrupted {
        return (
            Verdict::Interrupted,
            format!("Interrupted; QEMU was stopped ({progress})."),
            notes,
        );
    }
    if let Some(info) = kdl {
        let what = match &info.message {
            Some(m) => format!("The guest kernel panicked: {m}"),
            None => "The guest entered the kernel debugger (KDL)".to_string(),
        };
        let trace = if info.backtrace.is_empty() {
            "no stack trace was printed"
        } else {
            "its stack trace is shown below"
        };
        return (
            Verdict::KernelPanic,
            format!("{what}. {trace}; the full KDL output is in serial.log ({progress})."),
            notes,
        );
    }
    match end {
        End::Timeout => {
            let hint = if report.started() {
                "a test hangs or the guest is too slow; see serial.log, raise --timeout, or use KVM"
            } else {
                "no KTAP output came: the guest did not boot, or the boot job did not run; see serial.log"
            };
            return (
                Verdict::Timeout,
                format!(
                    "Timed out after {} s ({progress}): {hint}.",
                    cfg.timeout.as_secs_f64()
                ),
                notes,
            );
        }
        End::NoPowerOff if report.complete() => {
            let msg = format!(
                "The guest did not power off within {} s after its last result; the boot job's `shutdown -q` did not work (see serial.log).",
                cfg.poweroff_grace.as_secs_f64()
            );
            if counts.failed > 0 || !report.errors.is_empty() {
                notes.push(msg);
                return (Verdict::TestsFailed, failure_message(report), notes);
            }
            return (Verdict::NoPowerOff, msg, notes);
        }
        End::NoPowerOff => {
            // Bail out, then no power-off.
            notes.push(format!(
                "the guest did not power off within {} s after `Bail out!`",
                cfg.poweroff_grace.as_secs_f64()
            ));
        }
        End::Exited => {
            if !status.success() && !report.started() {
                let detail = stderr_tail
                    .iter()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(|l| format!(": {l}"))
                    .unwrap_or_default();
                return (
                    Verdict::QemuFailed,
                    format!(
                        "QEMU {} before the guest reported anything{detail} (see qemu-stderr.log).",
                        describe_status(status)
                    ),
                    notes,
                );
            }
            if !status.success() {
                notes.push(format!(
                    "QEMU {} (see qemu-stderr.log)",
                    describe_status(status)
                ));
            }
        }
        End::Kdl | End::Interrupted => {}
    }
    if let Some(reason) = &report.bail_out {
        let reason = if reason.is_empty() {
            "no reason given"
        } else {
            reason
        };
        return (
            Verdict::Incomplete,
            format!("The guest bailed out: {reason} ({progress})."),
            notes,
        );
    }
    if !report.started() {
        return (
            Verdict::Incomplete,
            "The guest powered off without any KTAP output: the test boot job did not run or could not write to the serial port (see serial.log).".to_string(),
            notes,
        );
    }
    if !report.complete() {
        let mut what = progress.clone();
        if counts.incomplete > 0 || counts.missing > 0 {
            what = format!("{what}; {counts}");
        }
        return (
            Verdict::Incomplete,
            format!("The guest stopped (powered off, rebooted or crashed) before its test plan was complete ({what}); see serial.log for where it stopped."),
            notes,
        );
    }
    if counts.failed > 0 || !report.errors.is_empty() {
        return (Verdict::TestsFailed, failure_message(report), notes);
    }
    if ktap::ran_no_tests(&counts) {
        return (
            Verdict::NoTests,
            "The guest ran no test (its plan was `1..0`: an empty test manifest?); nothing was verified. Check the image's test list (see serial.log).".to_string(),
            notes,
        );
    }
    (
        Verdict::Passed,
        format!("All tests passed ({counts})."),
        notes,
    )
}

fn failure_message(report: &Report) -> String {
    let counts = report.counts();
    if counts.failed > 0 {
        format!("Tests failed ({counts}).")
    } else {
        format!(
            "The KTAP output had {} structural error(s) ({counts}); the first: {}.",
            report.errors.len(),
            report.errors[0]
        )
    }
}
