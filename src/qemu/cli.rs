//! `dead-threads qemu`: argument parsing, live display and the final summary.

use super::{
    planned_command, run, shell_line, DiskBus, KvmMode, Observer, QemuConfig, QemuOutcome, RunEvent,
};
use crate::ktap::{Event, Outcome, TestCase};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const AFTER_HELP: &str = "\
Exit status:
  0    every planned test passed and the guest powered off
  1    test failures (or a malformed KTAP stream)
  2    QEMU failed, or a usage/environment error (QEMU or image missing, KVM)
  3    kernel panic / kernel debugger (message and stack trace are shown)
  4    time limit reached before the test plan completed
  5    guest ended without a plan, before the plan completed, or bailed out
  6    tests done but the guest did not power off within the grace period
  7    the guest ran no test (plan 1..0, an empty test manifest)
  130  interrupted (Ctrl-C, SIGTERM); QEMU is stopped on every path

Output files in --out: serial.log (raw serial bytes), results.ktap (the
guest's KTAP lines), results.json (verdict, counts, test tree, panic),
qemu-stderr.log, qemu-command.txt.";

/// Boot a Haiku test image in QEMU and report the KTAP results from its serial port.
///
/// Exit status: 0 all tests passed; 1 test failures; 2 QEMU or environment error;
/// 3 kernel panic / KDL; 4 timeout; 5 guest ended without a plan, before the plan
/// was complete, or bailed out; 6 guest did not power off; 7 no test ran;
/// 130 interrupted.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The Haiku disk image (raw `haiku.image` or anyboot image). Checked
    /// before QEMU starts: an empty file, or a raw one without a boot
    /// signature (0x55AA at byte 510), is refused; one without a BFS volume
    /// or BFS partition boots with a note.
    #[arg(long, value_name = "FILE")]
    pub image: PathBuf,
    /// Use KVM: auto (if /dev/kvm is usable), on (required), off (TCG).
    #[arg(long, value_enum, default_value_t = KvmMode::Auto)]
    pub kvm: KvmMode,
    /// Time limit for the whole run, in seconds.
    #[arg(long, value_name = "S", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Seconds the guest may take to power off after its last result.
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub poweroff_grace: u64,
    /// Guest memory in MiB.
    #[arg(long, value_name = "M", default_value_t = 2048,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub memory: u32,
    /// Number of virtual CPUs.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub cpus: u32,
    /// CPU model passed as `-cpu` (e.g. `host` with KVM); default: QEMU's own.
    #[arg(long, value_name = "MODEL")]
    pub cpu: Option<String>,
    /// Disk controller for the image.
    #[arg(long, value_enum, default_value_t = DiskBus::Ide)]
    pub disk: DiskBus,
    /// QEMU image format of the image file.
    #[arg(long, value_name = "FMT", default_value = "raw")]
    pub format: String,
    /// Kernel debugger command to run if the guest enters KDL (repeatable, run
    /// in order, e.g. `--kdl-command bt --kdl-command threads`).
    #[arg(long = "kdl-command", value_name = "CMD")]
    pub kdl_commands: Vec<String>,
    /// Let the guest write to the image (default: writes are discarded).
    #[arg(long)]
    pub write_image: bool,
    /// The QEMU executable.
    #[arg(long, value_name = "PATH", default_value = "qemu-system-x86_64")]
    pub qemu: PathBuf,
    /// Directory for serial.log, results.ktap, results.json, qemu-stderr.log, qemu-command.txt.
    #[arg(long, value_name = "DIR", default_value = "dead-threads-qemu")]
    pub out: PathBuf,
    /// Also show the guest's console (kernel) lines while running.
    #[arg(long)]
    pub console: bool,
    /// Print the QEMU command line and exit without running it.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the outcome as JSON on stdout (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
    /// Extra arguments for QEMU, after `--`.
    #[arg(last = true, value_name = "QEMU-ARGS")]
    pub extra: Vec<String>,
}

impl Args {
    /// The run configuration these arguments describe.
    pub fn config(&self) -> QemuConfig {
        let mut cfg = QemuConfig::new(self.image.clone(), self.out.clone());
        cfg.qemu = self.qemu.clone();
        cfg.kvm = self.kvm;
        cfg.timeout = Duration::from_secs(self.timeout);
        cfg.poweroff_grace = Duration::from_secs(self.poweroff_grace);
        cfg.memory_mib = self.memory;
        cfg.cpus = self.cpus;
        cfg.cpu = self.cpu.clone();
        cfg.disk = self.disk;
        cfg.format = self.format.clone();
        cfg.snapshot = !self.write_image;
        cfg.kdl_commands = self.kdl_commands.clone();
        cfg.extra_args = self.extra.clone();
        cfg
    }
}

/// Runs `dead-threads qemu`.
pub fn run_cli(args: Args) -> anyhow::Result<ExitCode> {
    let mut cfg = args.config();
    if args.dry_run {
        println!("{}", shell_line(&planned_command(&cfg)?));
        if !args.image.is_file() {
            // Still exit 0: a dry run may plan for an image not built yet.
            eprintln!(
                "note: {} does not exist (yet); build it with `dead-threads image --haiku DIR`",
                args.image.display()
            );
        } else {
            match super::image_check::check(&args.image, &args.format) {
                Ok((_, notes)) => notes.iter().for_each(|n| eprintln!("note: {n}")),
                Err(reason) => eprintln!(
                    "note: a real run would refuse {}: {reason}",
                    args.image.display()
                ),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    cfg.interrupt = Some(super::install_interrupt_handler()?);
    let mut reporter = ConsoleReporter::new(args.console);
    let outcome = run(&cfg, &mut reporter)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome).expect("outcome serialises")
        );
    } else {
        print!("{}", summary(&outcome));
    }
    let _ = std::io::stdout().flush();
    Ok(ExitCode::from(outcome.verdict.exit_code() as u8))
}

/// Live display on stderr: one line per test result, failures with their
/// diagnostics, panics and why the runner stops QEMU.
///
/// Diagnostics are shown for failures whichever KTAP convention the guest
/// uses: those before a failing result line (KTAP's own) are printed with it,
/// and a diagnostic after a failure in the same test list (libtest prints
/// failure output at the end of a binary) is printed as it arrives.
#[derive(Debug)]
pub struct ConsoleReporter {
    console: bool,
    /// Per depth: whether the current test list has had a failure.
    failed_in_list: Vec<bool>,
}

impl ConsoleReporter {
    /// `console`: also echo the guest's non-KTAP serial lines.
    pub fn new(console: bool) -> Self {
        ConsoleReporter {
            console,
            failed_in_list: Vec::new(),
        }
    }

    fn list_failed(&mut self, depth: usize) -> &mut bool {
        if self.failed_in_list.len() <= depth {
            self.failed_in_list.resize(depth + 1, false);
        }
        &mut self.failed_in_list[depth]
    }
}

impl Observer for ConsoleReporter {
    fn event(&mut self, event: &RunEvent<'_>) {
        let mut err = std::io::stderr().lock();
        let _ = match event {
            RunEvent::Started {
                command,
                accel,
                pid,
                serial_log,
            } => writeln!(
                err,
                "qemu: started (pid {pid}, {}); serial log: {}\nqemu: {}",
                accel.as_str(),
                serial_log.display(),
                shell_line(command)
            ),
            RunEvent::Console { at, line } if self.console => {
                writeln!(err, "[{at:7.1}s] | {line}")
            }
            RunEvent::Console { .. } => Ok(()),
            RunEvent::Panic { at, line } => writeln!(err, "[{at:7.1}s] !! {line}"),
            RunEvent::Stopping { at, reason } => {
                writeln!(err, "[{at:7.1}s] stopping QEMU: {reason}")
            }
            RunEvent::Retrying { reason } => writeln!(err, "qemu: {reason}"),
            RunEvent::KdlCommand { at, command, sent } => {
                let how = if *sent {
                    ""
                } else {
                    " (could not write to QEMU)"
                };
                writeln!(err, "[{at:7.1}s] kdebug> {command}{how}")
            }
            RunEvent::WaitingForPowerOff { at, grace } => writeln!(
                err,
                "[{at:7.1}s] tests done; waiting up to {} s for the guest to power off",
                grace.as_secs()
            ),
            RunEvent::Ktap { at, event } => match event {
                Event::Plan { depth: 0, count } => {
                    writeln!(err, "[{at:7.1}s] guest plans {count} top-level tests")
                }
                Event::Subtest { depth, name } => {
                    self.failed_in_list.truncate(*depth);
                    writeln!(err, "[{at:7.1}s] {}{name}", "  ".repeat(depth - 1))
                }
                Event::Result { depth, test } => {
                    if matches!(test.outcome, Outcome::Fail | Outcome::Incomplete) {
                        *self.list_failed(*depth) = true;
                    }
                    let mut r = writeln!(
                        err,
                        "[{at:7.1}s] {}{:<5} {} {}{}",
                        "  ".repeat(*depth),
                        test.outcome.label(),
                        test.number,
                        test.name,
                        reason_suffix(test)
                    );
                    if test.outcome == Outcome::Fail {
                        for d in &test.diagnostics {
                            r = r.and(writeln!(err, "           {}  # {d}", "  ".repeat(*depth)));
                        }
                    }
                    r
                }
                Event::BailOut { reason } => {
                    writeln!(err, "[{at:7.1}s] guest bailed out: {reason}")
                }
                Event::Error(p) => writeln!(err, "[{at:7.1}s] KTAP problem: {p}"),
                Event::PlanComplete => writeln!(err, "[{at:7.1}s] all planned results received"),
                Event::Diagnostic { depth, text } if *self.list_failed(*depth) => {
                    writeln!(err, "           {}  # {text}", "  ".repeat(*depth))
                }
                Event::Version { depth } => {
                    // A new list at this depth: forget the previous one's failures.
                    self.failed_in_list.truncate(*depth);
                    Ok(())
                }
                Event::Plan { .. } | Event::Diagnostic { .. } => Ok(()),
            },
        };
    }
}

fn reason_suffix(t: &TestCase) -> String {
    match (&t.directive, &t.reason) {
        (Some(d), Some(r)) => format!(" # {} {r}", d.as_str()),
        (Some(d), None) => format!(" # {}", d.as_str()),
        _ => String::new(),
    }
}

/// The human summary printed at the end of `dead-threads qemu`.
pub fn summary(o: &QemuOutcome) -> String {
    let mut s = String::new();
    s.push_str(&format!("\n{}: {}\n", o.verdict.label(), o.message));
    for n in &o.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    if o.report.started() {
        s.push_str(&format!("results: {}\n", o.counts));
    }
    let failed = crate::ktap::failed_tests(&o.report);
    if !failed.is_empty() {
        s.push_str("failed:\n");
        for f in &failed {
            s.push_str(&format!("  {f}\n"));
        }
    }
    for p in o.report.errors.iter().take(10) {
        s.push_str(&format!("KTAP problem: {p}\n"));
    }
    if let Some(p) = &o.panic {
        if let Some(m) = &p.message {
            s.push_str(&format!("panic: {m}\n"));
        }
        if !p.backtrace.is_empty() {
            s.push_str("backtrace:\n");
            for l in &p.backtrace {
                s.push_str(&format!("  {l}\n"));
            }
        }
        if p.command_output.len() > 1 {
            s.push_str("kernel debugger:\n");
            for l in &p.command_output {
                s.push_str(&format!("  {l}\n"));
            }
        }
    }
    s.push_str(&format!(
        "qemu: {} after {:.1} s{}\n",
        o.qemu_exit,
        o.elapsed_secs,
        if o.qemu_exited_by_itself {
            ""
        } else {
            ", stopped by dead-threads"
        }
    ));
    s.push_str(&format!(
        "files: {}, {}, {}\n",
        o.files.serial_log.display(),
        o.files.ktap.display(),
        o.files.json.display()
    ));
    s
}
