//! `dead-threads bench`: what a join of an already dead thread costs, with
//! upstream's death entry list and with the modern series' index.
//!
//! The benchmark itself is C++ (`kernel-patch/bench/join_bench.cpp`, embedded
//! in this binary). It is compiled for the **host** with the host's C++
//! compiler and the Haiku checkout's own container headers
//! (`headers/private/util/DoublyLinkedList.h` and `OpenHashTable.h`), so it
//! measures the very list and hash table code the kernel uses, walked the way
//! `wait_for_thread_etc()` walks it: from the oldest entry. A small shim of
//! ours (`kernel-patch/bench/shim/`) stands in for `<OS.h>` and
//! `<SupportDefs.h>`.
//!
//! For every N it prints the per-join cost joining in the order the threads
//! died ("forward": each entry is at the list's head), newest first
//! ("reverse": each entry is at the tail) and for an ID without entry
//! ("miss"), and the reverse/forward ratio. The expectation the modern series
//! is built on: the index's ratio stays near 1 (at most
//! [`INDEX_RATIO_LIMIT`]) at every N while the list's grows with N. This is a
//! benchmark, not a test: the numbers are measured in one run and printed;
//! the exit code says whether that expectation held in this run.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context as _};
use serde::Serialize;

/// The benchmark's C++ source.
pub const BENCH_SOURCE: &str = include_str!("../../kernel-patch/bench/join_bench.cpp");
/// Our stand-in for Haiku's `<SupportDefs.h>` on the host.
pub const SHIM_SUPPORT_DEFS: &str = include_str!("../../kernel-patch/bench/shim/SupportDefs.h");
/// Our stand-in for Haiku's `<OS.h>` on the host.
pub const SHIM_OS: &str = include_str!("../../kernel-patch/bench/shim/OS.h");

/// The Ns the issue asks for.
pub const DEFAULT_SIZES: [u32; 3] = [1_000, 10_000, 100_000];

/// The largest reverse/forward ratio the index may show at any N.
pub const INDEX_RATIO_LIMIT: f64 = 1.5;

/// The Haiku headers the benchmark compiles.
pub const CONTAINER_HEADERS: [&str; 2] = ["DoublyLinkedList.h", "OpenHashTable.h"];

/// Where checkouts keep them, relative to the checkout: `headers/private/util`
/// in current trees, `headers/private/kernel/util` in older ones.
pub const CONTAINER_DIRS: [&str; 2] = ["headers/private/util", "headers/private/kernel/util"];

/// Arguments of `dead-threads bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Haiku checkout whose container headers to use (read only).
    #[arg(long, env = "HAIKU_TOP", value_name = "DIR")]
    pub haiku: PathBuf,
    /// Number of dead threads per measurement; repeat for several
    /// (default: 1000, 10000, 100000).
    #[arg(long = "n", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub sizes: Vec<u32>,
    /// Host C++ compiler (default: $CXX, then clang++, then g++).
    #[arg(long, value_name = "PATH")]
    pub cxx: Option<PathBuf>,
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Which death entry container a result is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Impl {
    /// Upstream: `Team::dead_threads`, a `DoublyLinkedList` walked from its head.
    List,
    /// Modern series: the same list plus a `BOpenHashTable` keyed by thread ID.
    Index,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::List => "list",
            Impl::Index => "index",
        }
    }
}

/// One measured line of the benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// Container.
    #[serde(rename = "impl")]
    pub imp: Impl,
    /// Number of dead threads.
    pub n: u32,
    /// Nanoseconds per join, oldest first.
    pub forward_ns: f64,
    /// Nanoseconds per join, newest first.
    pub reverse_ns: f64,
    /// Nanoseconds per join of an ID that has no entry.
    pub miss_ns: f64,
    /// `reverse_ns / forward_ns`.
    pub ratio: f64,
}

/// The outcome of one run: all measurements and whether the expectation held.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The checkout whose headers were used.
    pub haiku: PathBuf,
    /// The compiler used.
    pub cxx: PathBuf,
    /// All measurements, in output order.
    pub measurements: Vec<Measurement>,
    /// Index ratio <= [`INDEX_RATIO_LIMIT`] at every N.
    pub index_flat: bool,
    /// List ratio strictly grows with N (needs at least two Ns).
    pub list_grows: bool,
}

/// Parses the benchmark's `RESULT` lines; other lines (comments) are skipped.
///
/// # Errors
/// A `RESULT` line with a missing or malformed field.
pub fn parse_output(stdout: &str) -> anyhow::Result<Vec<Measurement>> {
    let mut out = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("RESULT ") else {
            continue;
        };
        let field = |key: &str| -> anyhow::Result<&str> {
            rest.split_whitespace()
                .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
                .with_context(|| format!("benchmark line without `{key}=`: {line}"))
        };
        let num = |key: &str| -> anyhow::Result<f64> {
            let v = field(key)?;
            let x: f64 = v
                .parse()
                .with_context(|| format!("bad number for `{key}` in: {line}"))?;
            if !x.is_finite() || x < 0.0 {
                bail!("bad number for `{key}` in: {line}");
            }
            Ok(x)
        };
        let imp = match field("impl")? {
            "list" => Impl::List,
            "index" => Impl::Index,
            other => bail!("unknown implementation `{other}` in: {line}"),
        };
        let n: u32 = field("n")?
            .parse()
            .with_context(|| format!("bad N in: {line}"))?;
        out.push(Measurement {
            imp,
            n,
            forward_ns: num("forward_ns")?,
            reverse_ns: num("reverse_ns")?,
            miss_ns: num("miss_ns")?,
            ratio: num("ratio")?,
        });
    }
    Ok(out)
}

fn by_impl(measurements: &[Measurement], imp: Impl) -> Vec<&Measurement> {
    let mut v: Vec<&Measurement> = measurements.iter().filter(|m| m.imp == imp).collect();
    v.sort_by_key(|m| m.n);
    v
}

/// Whether the index's reverse/forward ratio is at most
/// [`INDEX_RATIO_LIMIT`] at every N (false if there is no index result).
pub fn index_is_flat(measurements: &[Measurement]) -> bool {
    let v = by_impl(measurements, Impl::Index);
    !v.is_empty() && v.iter().all(|m| m.ratio <= INDEX_RATIO_LIMIT)
}

/// Whether the list's reverse/forward ratio strictly grows with N (false
/// with fewer than two Ns).
pub fn list_grows(measurements: &[Measurement]) -> bool {
    let v = by_impl(measurements, Impl::List);
    v.len() >= 2
        && v.windows(2)
            .all(|w| w[1].n > w[0].n && w[1].ratio > w[0].ratio)
}

/// Renders the human-readable table.
pub fn render_table(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Join of a dead thread, ns per join (host build of {} with {})",
        report.haiku.display(),
        report.cxx.display()
    );
    let _ = writeln!(
        s,
        "model: thread_exit() appends at the tail, upstream's wait_for_thread_etc() \
         walks from the head (oldest)"
    );
    let _ = writeln!(
        s,
        "{:>8}  {:<6} {:>12} {:>12} {:>12} {:>14}",
        "N", "impl", "forward", "reverse", "miss", "reverse/fwd"
    );
    for m in &report.measurements {
        let _ = writeln!(
            s,
            "{:>8}  {:<6} {:>12.1} {:>12.1} {:>12.1} {:>14.2}",
            m.n,
            m.imp.name(),
            m.forward_ns,
            m.reverse_ns,
            m.miss_ns,
            m.ratio
        );
    }
    let _ = writeln!(
        s,
        "index reverse/forward <= {INDEX_RATIO_LIMIT} at every N: {}",
        if report.index_flat { "yes" } else { "NO" }
    );
    let verdict = if report.list_grows {
        "yes"
    } else if by_impl(&report.measurements, Impl::List).len() < 2 {
        "not judged (one N; give two or more --n)"
    } else {
        "NO"
    };
    let _ = writeln!(s, "list reverse/forward grows with N: {verdict}");
    s
}

/// Checks that `haiku` has the container headers the benchmark needs and
/// returns the directory that holds them (one of [`CONTAINER_DIRS`]).
///
/// # Errors
/// A message naming what was looked for and what to pass instead.
pub fn check_checkout(haiku: &Path) -> anyhow::Result<PathBuf> {
    if !haiku.is_dir() {
        bail!(
            "{} is not a directory; pass --haiku (or HAIKU_TOP) pointing at a Haiku checkout",
            haiku.display()
        );
    }
    CONTAINER_DIRS
        .iter()
        .map(|d| haiku.join(d))
        .find(|d| CONTAINER_HEADERS.iter().all(|h| d.join(h).is_file()))
        .with_context(|| match crate::sys::tree::enclosing_haiku_top(haiku) {
            Some(_) => format!(
                "{} has no {} in {}; {}",
                haiku.display(),
                CONTAINER_HEADERS.join(" and "),
                CONTAINER_DIRS.join(" or "),
                crate::sys::tree::top_hint(haiku)
            ),
            None => format!(
                "{} has no {} in {}; pass --haiku (or HAIKU_TOP) pointing at a Haiku \
                     checkout (its headers/ directory is enough)",
                haiku.display(),
                CONTAINER_HEADERS.join(" and "),
                CONTAINER_DIRS.join(" or ")
            ),
        })
}

/// Finds the host C++ compiler: `explicit`, then `$CXX`, then `clang++`, then `g++`.
///
/// # Errors
/// None found; the message says what to install.
pub fn find_cxx(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<OsString> = Vec::new();
    if let Some(p) = explicit {
        candidates.push(p.as_os_str().to_owned());
    } else {
        if let Some(cxx) = std::env::var_os("CXX").filter(|c| !c.is_empty()) {
            candidates.push(cxx);
        }
        candidates.push("clang++".into());
        candidates.push("g++".into());
    }
    for c in &candidates {
        let ok = Command::new(c)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Ok(PathBuf::from(c));
        }
    }
    bail!(
        "no host C++ compiler found (tried {}); install one (`apt-get install clang` or \
         `apt-get install g++`) or pass --cxx",
        candidates
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Compiles the benchmark against `haiku`'s headers (the containers from
/// `util`, see [`check_checkout`]) into `dir` and returns the executable's
/// path.
///
/// # Errors
/// The compiler failed (its output is included).
pub fn build(haiku: &Path, util: &Path, cxx: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    let shim = dir.join("shim");
    std::fs::create_dir_all(&shim).with_context(|| format!("creating {}", shim.display()))?;
    let source = dir.join("join_bench.cpp");
    for (path, text) in [
        (source.clone(), BENCH_SOURCE),
        (shim.join("SupportDefs.h"), SHIM_SUPPORT_DEFS),
        (shim.join("OS.h"), SHIM_OS),
    ] {
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    let exe = dir.join("join_bench");
    let output = Command::new(cxx)
        .args(["-O2", "-std=c++17", "-Wall"])
        .arg("-I")
        .arg(&shim)
        .arg("-I")
        .arg(util)
        .arg("-I")
        .arg(haiku.join("headers/private/shared"))
        .arg("-o")
        .arg(&exe)
        .arg(&source)
        .output()
        .with_context(|| format!("running {}", cxx.display()))?;
    if !output.status.success() {
        bail!(
            "compiling the benchmark with {} against {} failed:\n{}",
            cxx.display(),
            haiku.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(exe)
}

/// What [`measure_with`] is doing, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Compiling the benchmark.
    Compiling,
    /// Measuring the `index`-th (0-based) of `total` sizes, `n` dead threads.
    Measuring {
        /// Position among the sizes.
        index: usize,
        /// Number of sizes.
        total: usize,
        /// Dead threads in this measurement.
        n: u32,
    },
}

/// Builds and runs the benchmark, returning the report.
///
/// # Errors
/// Bad checkout, no compiler, compile failure, or a benchmark that failed or
/// printed something unexpected.
pub fn measure(haiku: &Path, cxx: Option<&Path>, sizes: &[u32]) -> anyhow::Result<Report> {
    measure_with(haiku, cxx, sizes, |_| {})
}

/// [`measure`], telling `progress` what it is doing. Each N is measured by
/// its own run of the benchmark, so progress is real, whatever buffering
/// the benchmark's stdout has.
///
/// # Errors
/// As [`measure`].
pub fn measure_with(
    haiku: &Path,
    cxx: Option<&Path>,
    sizes: &[u32],
    mut progress: impl FnMut(Step),
) -> anyhow::Result<Report> {
    let util = check_checkout(haiku)?;
    let cxx = find_cxx(cxx)?;
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    progress(Step::Compiling);
    let exe = build(haiku, &util, &cxx, dir.path())?;
    let sizes: Vec<u32> = if sizes.is_empty() {
        DEFAULT_SIZES.to_vec()
    } else {
        sizes.to_vec()
    };
    let mut measurements = Vec::new();
    for (index, n) in sizes.iter().enumerate() {
        progress(Step::Measuring {
            index,
            total: sizes.len(),
            n: *n,
        });
        let output = Command::new(&exe)
            .arg(n.to_string())
            .output()
            .with_context(|| format!("running {}", exe.display()))?;
        if !output.status.success() {
            bail!(
                "the benchmark failed for N = {n} ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        measurements.extend(parse_output(&String::from_utf8_lossy(&output.stdout))?);
    }
    for imp in [Impl::List, Impl::Index] {
        for n in &sizes {
            if !measurements.iter().any(|m| m.imp == imp && m.n == *n) {
                bail!("the benchmark printed no {} result for N = {n}", imp.name());
            }
        }
    }
    Ok(Report {
        haiku: haiku.to_path_buf(),
        cxx,
        index_flat: index_is_flat(&measurements),
        list_grows: list_grows(&measurements),
        measurements,
    })
}

/// A progress display on stderr when it is a terminal; hidden otherwise
/// (pipes, CI logs, tests).
fn progress_bar() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {msg:40} [{bar:20}] {pos}/{len} {elapsed}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Runs `dead-threads bench`: exit 0 if the index stayed flat and the list
/// grew, 1 if not, 2 on environment errors.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Err(e) = check_checkout(&args.haiku) {
        eprintln!("error: {e:#}");
        return Ok(ExitCode::from(2));
    }
    let bar = progress_bar();
    let measured = measure_with(
        &args.haiku,
        args.cxx.as_deref(),
        &args.sizes,
        |step| match step {
            Step::Compiling => bar.set_message("compiling the benchmark"),
            Step::Measuring { index, total, n } => {
                bar.set_length(total as u64);
                bar.set_position(index as u64);
                bar.set_message(format!("measuring N = {n}"));
            }
        },
    );
    bar.finish_and_clear();
    let report = match measured {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_table(&report));
    }
    // With a single N there is nothing to grow: only the index is judged.
    let single_n = by_impl(&report.measurements, Impl::List).len() < 2;
    let ok = report.index_flat && (report.list_grows || single_n);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# comment\n\
        RESULT impl=list n=1000 forward_ns=6.88 reverse_ns=716.58 miss_ns=2231.72 ratio=104.155\n\
        RESULT impl=index n=1000 forward_ns=21.42 reverse_ns=21.91 miss_ns=0.70 ratio=1.023\n\
        RESULT impl=list n=10000 forward_ns=6.83 reverse_ns=7126.82 miss_ns=18695.35 ratio=1044.054\n\
        RESULT impl=index n=10000 forward_ns=20.59 reverse_ns=21.39 miss_ns=0.57 ratio=1.039\n";

    #[test]
    fn parses_result_lines_and_skips_comments() {
        let m = parse_output(SAMPLE).unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].imp, Impl::List);
        assert_eq!(m[0].n, 1000);
        assert!((m[2].ratio - 1044.054).abs() < 1e-9);
        assert!((m[3].miss_ns - 0.57).abs() < 1e-9);
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(parse_output("RESULT impl=list n=10 forward_ns=1 reverse_ns=2 ratio=2").is_err());
        assert!(
            parse_output("RESULT impl=tree n=10 forward_ns=1 reverse_ns=2 miss_ns=1 ratio=2")
                .is_err()
        );
        assert!(
            parse_output("RESULT impl=list n=10 forward_ns=x reverse_ns=2 miss_ns=1 ratio=2")
                .is_err()
        );
        assert!(parse_output(
            "RESULT impl=list n=10 forward_ns=1 reverse_ns=nan miss_ns=1 ratio=2"
        )
        .is_err());
    }

    #[test]
    fn verdict_follows_the_numbers() {
        let m = parse_output(SAMPLE).unwrap();
        assert!(index_is_flat(&m));
        assert!(list_grows(&m));

        // An index that degrades like a list is caught ...
        let mut bad = m.clone();
        bad[3].ratio = 9.0;
        assert!(!index_is_flat(&bad));
        // ... and a list that does not grow is reported as such.
        let mut flat = m.clone();
        flat[2].ratio = 50.0;
        assert!(!list_grows(&flat));
        // Nothing to judge without results.
        assert!(!index_is_flat(&[]));
        assert!(!list_grows(&m[..2]));
    }

    #[test]
    fn table_names_the_model_and_the_verdicts() {
        let m = parse_output(SAMPLE).unwrap();
        let report = Report {
            haiku: "/h".into(),
            cxx: "c++".into(),
            index_flat: index_is_flat(&m),
            list_grows: list_grows(&m),
            measurements: m,
        };
        let t = render_table(&report);
        assert!(t.contains("walks from the head"));
        assert!(t.contains("index reverse/forward <= 1.5 at every N: yes"));
        assert!(t.contains("list reverse/forward grows with N: yes"));
        // One N: growth cannot be judged, and the run does not fail on it.
        let one: Vec<Measurement> = report
            .measurements
            .iter()
            .filter(|x| x.n == report.measurements[0].n)
            .cloned()
            .collect();
        let single = Report {
            list_grows: list_grows(&one),
            measurements: one,
            ..report
        };
        let t = render_table(&single);
        assert!(t.contains("grows with N: not judged (one N"), "{t}");
    }

    #[test]
    fn missing_headers_are_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = check_checkout(dir.path()).unwrap_err().to_string();
        assert!(e.contains("DoublyLinkedList.h"), "{e}");
        assert!(e.contains("--haiku"), "{e}");
    }
}
