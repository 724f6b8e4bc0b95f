//! `dead-threads conformance`: run the suite on this OS, print a table (or
//! JSON lines) and a verdict.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};

use super::backend::RunOptions;
use super::outcome::{Outcome, Verdict};
use super::scenario::{Api, ExitMode, Matrix, Order, DEFAULT_SEED, DEFAULT_THREADS, MAX_THREADS};

/// Where the scenarios run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// The real OS, through the selected APIs.
    Os,
    /// A model of the pre-hrev54540 kernel (32 death entries, oldest
    /// evicted). Shows what the suite reports on an unpatched kernel; runs
    /// the scenarios once, as the native API (wait_for_thread).
    LegacyModel,
    /// A model of the patched kernel (no limit). Runs once, as the native API.
    FixedModel,
}

/// Run the thread-join conformance suite on this OS.
///
/// Spawns N threads per scenario, optionally waits until the OS reports all
/// of them fully exited, joins them in the given order and checks each exit
/// value. On a kernel that loses exited threads (Haiku before hrev54540)
/// joins fail with B_BAD_THREAD_ID / ESRCH. A spawn the host refuses
/// (kernel.threads-max, vm.max_map_count, RLIMIT_NPROC, memory) is not a
/// kernel failure: the scenario's result is SPAWN and names the limit.
/// Exit status: 0 if every scenario passed, 1 if any failed, 3 if none
/// failed but some could not spawn all their threads, 2 on a usage error or
/// when nothing could run.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Scenarios: the seed reproducer (57 threads sleeping 500 ms, joined in spawn order after all \
exited) plus every combination of --threads x --exit x --order. Live scenarios run only up \
to 2000 threads (Haiku allows 4096 threads system-wide); the output says when one is left out.

Examples:
  dead-threads conformance
  dead-threads conformance --threads 57 --order forward --api pthread
  dead-threads conformance --backend legacy-model        # what an unpatched kernel gives
  dead-threads conformance --json | jq 'select(.verdict != \"pass\")'")]
pub struct Args {
    /// Thread counts, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "N,...",
          value_parser = clap::value_parser!(u32).range(1..=MAX_THREADS as i64),
          default_values_t = DEFAULT_THREADS.map(|n| n as u32))]
    pub threads: Vec<u32>,

    /// Join orders, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Order::ALL)]
    pub order: Vec<Order>,

    /// Whether threads have exited before the first join (`exited`) or are
    /// joined while running (`live`), comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = ExitMode::ALL)]
    pub exit: Vec<ExitMode>,

    /// Seed of the shuffled order (printed with every shuffled scenario).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Thread APIs, comma-separated. `native` runs on Haiku only; elsewhere
    /// it is reported as not runnable.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Api::ALL)]
    pub api: Vec<Api>,

    /// Where to run the scenarios.
    #[arg(long, value_enum, default_value_t = BackendKind::Os)]
    pub backend: BackendKind,

    /// Leave out the seed reproducer (57 threads x 500 ms).
    #[arg(long)]
    pub no_reproducer: bool,

    /// Do not check the exit values the joins give back.
    #[arg(long)]
    pub no_exit_check: bool,

    /// Seconds to wait for the threads of one scenario to exit before
    /// failing it.
    #[arg(long, default_value_t = 30, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub exit_timeout: u64,

    /// Print one JSON object per scenario (JSON lines) instead of the
    /// table, each as soon as its scenario has ended.
    #[arg(long)]
    pub json: bool,

    /// Make every spawn after the first N of a scenario fail, as a host
    /// limit would: shows how the suite reports a host that refuses
    /// threads.
    #[arg(long, value_name = "N")]
    pub spawn_limit: Option<usize>,
}

impl Args {
    /// The scenario matrix these arguments select.
    pub fn matrix(&self) -> Matrix {
        Matrix {
            threads: self.threads.iter().map(|&n| n as usize).collect(),
            exits: self.exit.clone(),
            orders: self.order.clone(),
            seed: self.seed,
            seed_reproducer: !self.no_reproducer,
            check_exit_values: !self.no_exit_check,
        }
    }
}

/// Runs `dead-threads conformance`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let matrix = args.matrix();
    let scenarios = matrix.scenarios();
    let apis: Vec<Api> = match args.backend {
        BackendKind::Os => super::scenario::dedup(&args.api),
        _ => vec![Api::Native],
    };
    let mut notes = matrix.omitted();
    if args.backend != BackendKind::Os {
        notes.push(format!(
            "backend {}: a model of the kernel's death-entry table, not this OS; \
             scenarios run once, as the native API",
            args.backend
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
        ));
    }
    let stderr_tty = std::io::stderr().is_terminal();
    for n in &notes {
        eprintln!("note: {n}");
    }

    let started = Instant::now();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut stdout = std::io::stdout().lock();
    if !args.json {
        writeln!(stdout, "{}", header())?;
    }
    for &api in &apis {
        let bar = if stderr_tty {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template("{prefix:>8} {msg:28} [{bar:30}] {pos}/{len}")
                    .context("progress bar template")?
                    .progress_chars("=> "),
            );
            b.set_prefix(api.name());
            b
        } else {
            ProgressBar::hidden()
        };
        let opts = RunOptions {
            exit_timeout: Duration::from_secs(args.exit_timeout),
            progress: bar.clone(),
            spawn_limit: args.spawn_limit,
        };
        let mut write_error: Option<anyhow::Error> = None;
        let results = super::run_api_each(
            args.backend,
            api,
            &scenarios,
            &opts,
            |s| {
                bar.set_message(s.name.clone());
                bar.set_length(2 * s.threads as u64);
                bar.set_position(0);
            },
            |o| {
                if args.json && write_error.is_none() {
                    if let Err(e) = json_line(&mut stdout, o) {
                        write_error = Some(e);
                    }
                }
            },
        );
        bar.finish_and_clear();
        if let Some(e) = write_error {
            return Err(e);
        }
        if args.json {
            // written as each scenario ended
        } else if let Some(line) = all_not_runnable(api, &results) {
            writeln!(stdout, "{line}")?;
        } else {
            for o in &results {
                writeln!(stdout, "{}", row(o))?;
            }
        }
        outcomes.extend(results);
    }
    let elapsed = started.elapsed();
    let verdict = Summary::of(&outcomes);
    // The verdict goes to stderr with --json so stdout stays pure JSON lines.
    let line = verdict.line(elapsed, args.backend);
    if args.json {
        eprintln!("{line}");
    } else {
        writeln!(stdout, "\n{line}")?;
    }
    Ok(verdict.exit_code())
}

/// Writes one JSON line and flushes it, so a reader sees each scenario as it
/// ends.
fn json_line(out: &mut impl Write, o: &Outcome) -> anyhow::Result<()> {
    writeln!(out, "{}", serde_json::to_string(o)?)?;
    out.flush()?;
    Ok(())
}

/// One table line for an API none of whose scenarios can run here.
fn all_not_runnable(api: Api, results: &[Outcome]) -> Option<String> {
    let first = results.first()?;
    let same = results
        .iter()
        .all(|o| o.verdict == Verdict::NotRunnable && o.note == first.note);
    same.then(|| {
        format!(
            "{:<8} {:<24} {:>6} {:<8} {:<8} {:>7} {:>7} {:>9}  {:<6} {}",
            api.name(),
            format!("({} scenarios)", results.len()),
            "-",
            "-",
            "-",
            0,
            0,
            "-",
            "n/a",
            first.note.as_deref().unwrap_or("")
        )
    })
}

fn header() -> String {
    format!(
        "{:<8} {:<24} {:>6} {:<8} {:<8} {:>7} {:>7} {:>9}  {:<6} details",
        "api", "scenario", "N", "exit", "order", "spawned", "joined", "ms", "result"
    )
}

fn row(o: &Outcome) -> String {
    let (result, details) = match o.verdict {
        Verdict::Pass => ("pass", String::new()),
        Verdict::Fail => ("FAIL", o.failure_summary()),
        Verdict::SpawnFailed => (
            "SPAWN",
            match &o.host_limit {
                Some(limit) => format!("{}; {limit}", o.failure_summary()),
                None => o.failure_summary(),
            },
        ),
        Verdict::NotRunnable => ("n/a", o.note.clone().unwrap_or_default()),
    };
    let mut details = details;
    if let Some(seed) = o.seed {
        details = if details.is_empty() {
            format!("seed {seed}")
        } else {
            format!("seed {seed}; {details}")
        };
    }
    let ms = if o.verdict == Verdict::NotRunnable {
        "-".to_string()
    } else {
        format!("{:.1}", o.elapsed.as_secs_f64() * 1e3)
    };
    format!(
        "{:<8} {:<24} {:>6} {:<8} {:<8} {:>7} {:>7} {:>9}  {:<6} {}",
        o.api.name(),
        o.name,
        o.threads,
        o.exit.name(),
        o.order.name(),
        o.spawned,
        o.joined_ok,
        ms,
        result,
        details
    )
}

/// Counts for the verdict line.
struct Summary {
    passed: usize,
    failed: usize,
    spawn_failed: usize,
    /// Failed scenarios with a join that failed with B_BAD_THREAD_ID/ESRCH.
    lost_entries: usize,
    not_runnable: usize,
    joins: usize,
}

impl Summary {
    fn of(outcomes: &[Outcome]) -> Summary {
        let count = |v| outcomes.iter().filter(|o| o.verdict == v).count();
        Summary {
            passed: count(Verdict::Pass),
            failed: count(Verdict::Fail),
            spawn_failed: count(Verdict::SpawnFailed),
            lost_entries: outcomes
                .iter()
                .filter(|o| {
                    o.verdict == Verdict::Fail
                        && o.failures
                            .keys()
                            .any(|k| k == "ESRCH" || k == super::model::BAD_THREAD_ID)
                })
                .count(),
            not_runnable: count(Verdict::NotRunnable),
            joins: outcomes.iter().map(|o| o.joined_ok).sum(),
        }
    }

    fn line(&self, elapsed: Duration, backend: BackendKind) -> String {
        let ran = self.passed + self.failed + self.spawn_failed;
        let mut na = if self.not_runnable > 0 {
            format!(", {} not runnable here", self.not_runnable)
        } else {
            String::new()
        };
        if self.spawn_failed > 0 && self.failed > 0 {
            na.push_str(&format!(
                ", {} could not spawn all their threads (a host limit, not the kernel)",
                self.spawn_failed
            ));
        }
        let secs = elapsed.as_secs_f64();
        if self.failed > 0 && backend == BackendKind::LegacyModel {
            format!(
                "verdict: FAIL — {} of {ran} scenarios failed ({} joins ok): this is what a \
                 kernel with the 32-entry limit gives (the legacy model, not this OS)",
                self.failed, self.joins
            )
        } else if self.lost_entries > 0 {
            format!(
                "verdict: FAIL — {} of {ran} scenarios failed{na} ({} joins ok, {secs:.2} s). \
                 A join of a spawned thread that fails with B_BAD_THREAD_ID/ESRCH after the \
                 thread exited means the kernel lost its death entry: apply the patch \
                 (dead-threads patch status).",
                self.failed, self.joins
            )
        } else if self.failed > 0 {
            format!(
                "verdict: FAIL — {} of {ran} scenarios failed{na} ({} joins ok, {secs:.2} s): \
                 see the details of each; no join failed with B_BAD_THREAD_ID/ESRCH.",
                self.failed, self.joins
            )
        } else if self.spawn_failed > 0 {
            format!(
                "verdict: HOST LIMIT — {} of {ran} scenarios could not spawn all their \
                 threads{na}: the host refused them (the details name the limit), not the \
                 kernel; every thread that was spawned joined correctly ({} joins ok, \
                 {secs:.2} s). Run fewer --threads or raise the limit.",
                self.spawn_failed, self.joins
            )
        } else if ran == 0 {
            format!(
                "verdict: NOTHING RAN — no selected scenario can run on {}{na}; \
                 choose --api std,pthread here, or run on Haiku",
                std::env::consts::OS
            )
        } else {
            format!(
                "verdict: PASS — {ran} scenarios, {} joins ok{na} ({secs:.2} s)",
                self.joins
            )
        }
    }

    fn exit_code(&self) -> ExitCode {
        if self.failed > 0 {
            ExitCode::from(1)
        } else if self.spawn_failed > 0 {
            ExitCode::from(3)
        } else if self.passed == 0 {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        }
    }
}
