//! `dead-threads ktap parse [FILE|-] [--json]`: judge a saved serial log or
//! KTAP file, like the Linux kernel's `kunit.py parse`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::input::read_log;
use super::render::failed_tests;
use super::verdict::{judge, Judgement};

/// Read KTAP results: judge a saved serial log or KTAP file.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Judge a saved serial log or KTAP file (like `kunit.py parse`).
    ///
    /// A log that holds lines with the serial prefix (`dead-threads-ktap: `)
    /// is read as the test image's serial output: only those lines are
    /// KTAP, the rest is console output watched for a kernel panic. Any
    /// other input is plain KTAP: it starts at the first `KTAP version N` or
    /// `TAP version N` line, and whatever stands before that text on its
    /// line (a timestamp, a log prefix) is cut, by width, from every
    /// following line, as kunit_tool does. Non-KTAP lines are ignored.
    #[command(after_help = "\
Exit status (as `dead-threads qemu` gives the same outcome):
  0  passed: the plan completed and every test passed or was skipped
  1  failed: a test failed, or the KTAP is malformed
  2  the input could not be read (or a usage error)
  3  crashed: a kernel panic or the kernel debugger is in the log
  5  incomplete: no KTAP, a bail out, or output that stops before the plan is done
  7  no tests: the plan was 1..0

Examples:
  dead-threads ktap parse dead-threads-qemu/serial.log
  ssh haiku-box cat /var/log/syslog | dead-threads ktap parse -
  dead-threads ktap parse results.ktap --json | jq .verdict")]
    Parse {
        /// The log or KTAP file; `-` or nothing reads stdin.
        #[arg(value_name = "FILE|-")]
        file: Option<PathBuf>,
        /// Print one JSON object: verdict (passed, failed, crashed,
        /// incomplete, no-tests), passed, failed, skipped (leaf test
        /// cases), errors, and the parsed report.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `dead-threads ktap`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Command::Parse { file, json } = args.command;
    let mut bytes = Vec::new();
    match file.as_deref() {
        None => std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading stdin")?,
        Some(p) if p.as_os_str() == "-" => std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading stdin")?,
        Some(p) => {
            bytes = std::fs::read(p).with_context(|| {
                format!(
                    "cannot read {}; pass a saved serial log or KTAP file, or - for stdin",
                    p.display()
                )
            })?;
            bytes.len()
        }
    };
    let j = judge(read_log(&bytes));
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&j)?)?;
    } else {
        write!(out, "{}", summary(&j))?;
    }
    out.flush()?;
    Ok(ExitCode::from(j.verdict.exit_code()))
}

/// The human summary of a judgement.
pub fn summary(j: &Judgement) -> String {
    let mut s = format!("{}: {}\n", j.verdict.label(), j.message);
    if j.report.started() {
        s.push_str(&format!("results: {}\n", j.report.counts()));
    }
    let failed = failed_tests(&j.report);
    if !failed.is_empty() {
        s.push_str("failed:\n");
        for f in &failed {
            s.push_str(&format!("  {f}\n"));
        }
    }
    for e in j.errors.iter().take(10) {
        s.push_str(&format!("error: {e}\n"));
    }
    if let Some(p) = &j.panic {
        for l in &p.backtrace {
            s.push_str(&format!("  {l}\n"));
        }
    }
    s
}
