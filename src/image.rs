//! `dead-threads image --haiku DIR [--build-dir DIR]`: builds the test image
//! with the checkout's jam (`jam -q -jN @minimum-dead-threads` in the build
//! directory, after `dead-threads jam install`), with a progress display and
//! a log file; on failure it shows the log lines that matter.

use crate::jam::build_dir::BuildDir;
use crate::jam::fragment::{self, Layout};
use crate::sys::process::CommandSpec;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

/// `dead-threads image`
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The Haiku checkout (its top directory).
    #[arg(long, env = "HAIKU_TOP", value_name = "DIR")]
    pub haiku: PathBuf,
    /// The configured build directory [default: HAIKU_TOP/generated, or the
    /// only configured HAIKU_TOP/generated*].
    #[arg(long, value_name = "DIR")]
    pub build_dir: Option<PathBuf>,
    /// Parallel jam jobs [default: number of CPUs].
    #[arg(long, short = 'j', value_parser = positive_usize)]
    pub jobs: Option<usize>,
    /// Print the command without running it.
    #[arg(long)]
    pub dry_run: bool,
}

/// Parses a count that must be at least 1 (`-j 0` would build nothing).
pub fn positive_usize(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// Default job count.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The jam command that builds the test image.
pub fn jam_command(build: &BuildDir, jobs: usize) -> CommandSpec {
    CommandSpec::new(
        &crate::jam::command::jam_program(),
        &[
            "-q",
            &format!("-j{jobs}"),
            &format!("@{}", fragment::PROFILE),
        ],
        &build.path,
    )
}

/// The build log.
pub fn log_path(build: &BuildDir) -> PathBuf {
    build.stage().join("image.log")
}

/// Whether a jam output line is worth showing after a failure.
pub fn is_important(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("...failed")
        || l.starts_with("...skipped")
        || l.contains("don't know how to make")
        || l.contains("error:")
        || l.contains("Error:")
        || l.contains("ERROR")
        || l.contains("undefined reference")
        || l.starts_with("warning: ") && l.contains("not found")
        || l.contains("No such file or directory")
        || l.contains("Permission denied")
        || l.contains("Build profile") && l.contains("not defined")
}

/// The lines to show after a failure: every important line (at most `max`,
/// the last ones), each with one line of context before it.
pub fn important_lines(log: &[String], max: usize) -> Vec<String> {
    let mut picked: Vec<usize> = Vec::new();
    for (i, l) in log.iter().enumerate() {
        if is_important(l) {
            if i > 0 && !picked.contains(&(i - 1)) && !is_important(&log[i - 1]) {
                picked.push(i - 1);
            }
            picked.push(i);
        }
    }
    let start = picked.len().saturating_sub(max);
    picked[start..].iter().map(|&i| log[i].clone()).collect()
}

/// Short progress text for a jam output line (`Cc ...`, `Link ...`).
fn progress_text(line: &str) -> String {
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (Some(action), Some(target)) => {
            let target = Path::new(
                target
                    .trim_start_matches('<')
                    .split('>')
                    .next_back()
                    .unwrap_or(target),
            )
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
            format!("{action} {target}")
        }
        (Some(a), None) => a.to_string(),
        _ => String::new(),
    }
}

/// Runs jam, logging everything to `log`. Returns the image path.
pub fn build_image(layout: &Layout, jobs: usize) -> Result<PathBuf> {
    let build = &layout.build;
    if !layout.fragment_path().is_file() {
        bail!(
            "the test image is not set up in {}: run `dead-threads jam install --haiku HAIKU_TOP --build-dir {}` first",
            build.path.display(),
            build.path.display()
        );
    }
    let cmd = jam_command(build, jobs);
    let log = log_path(build);
    let mut log_file =
        std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    writeln!(log_file, "$ {}", cmd.shell_line())?;
    // One pipe for stdout and stderr, as `2>&1` would: the log and the
    // lines shown on failure keep jam's own order (an error line next to
    // the target it belongs to).
    let (output, output_writer) = std::io::pipe().context("creating a pipe for jam's output")?;
    let mut child = cmd
        .to_command()
        .stdin(Stdio::null())
        .stdout(output_writer.try_clone()?)
        .stderr(output_writer)
        .spawn()
        .with_context(|| {
            format!(
                "starting jam (is Haiku's jam in PATH?): {}",
                cmd.shell_line()
            )
        })?;
    // The Command and with it our copies of the pipe's write end are gone
    // now, so reading ends when jam (and whatever it started) closes it.
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] jam: {pos} lines  {wide_msg}",
        )
        .expect("valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let mut lines = Vec::new();
    for line in BufReader::new(output).split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line).trim_end().to_string();
        writeln!(log_file, "{line}")?;
        bar.inc(1);
        let p = progress_text(&line);
        if !p.is_empty() {
            bar.set_message(p);
        }
        lines.push(line);
    }
    let status = child.wait()?;
    bar.finish_and_clear();
    if !status.success() {
        let shown = important_lines(&lines, 40);
        let mut msg = format!("jam failed ({status}); the lines that matter:\n");
        for l in &shown {
            msg.push_str(&format!("  {l}\n"));
        }
        if shown.is_empty() {
            for l in lines.iter().rev().take(20).rev() {
                msg.push_str(&format!("  {l}\n"));
            }
        }
        msg.push_str(&format!("full log: {}", log.display()));
        bail!(msg);
    }
    let image = layout.image_path();
    if !image.is_file() {
        bail!(
            "jam succeeded but {} does not exist; see {}",
            image.display(),
            log.display()
        );
    }
    Ok(image)
}

/// Entry point of `dead-threads image`.
pub fn run(args: Args) -> Result<ExitCode> {
    crate::jam::check_checkout(&args.haiku)?;
    let build = BuildDir::find(&args.haiku, args.build_dir.as_deref())?;
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    let layout = Layout {
        repo: PathBuf::from(crate::jam::THIS_REPO),
        build,
    };
    let install = format!(
        "dead-threads jam install --haiku {} --build-dir {}",
        std::path::absolute(&args.haiku)
            .unwrap_or_else(|_| args.haiku.clone())
            .display(),
        layout.build.path.display()
    );
    if args.dry_run {
        println!("{}", jam_command(&layout.build, jobs).shell_line());
        println!(
            "  -> {} (log {})",
            layout.image_path().display(),
            log_path(&layout.build).display()
        );
        if !layout.fragment_path().is_file() {
            println!("note: the test image is not set up yet: run `{install}` first");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !layout.fragment_path().is_file() {
        bail!(
            "the test image is not set up in {}: run `{install}` first",
            layout.build.path.display()
        );
    }
    let image = build_image(&layout, jobs)?;
    println!("image: {}", image.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_failures_with_context() {
        let log: Vec<String> = [
            "C++ generated/objects/x/thread.o",
            "src/system/kernel/thread.cpp:12: error: 'x' was not declared",
            "...failed C++ generated/objects/x/thread.o ...",
            "Link kernel_x86_64",
            "don't know how to make <driver>dead_threads",
            "...skipped haiku-dead-threads.image for lack of kernel_x86_64...",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let shown = important_lines(&log, 40);
        assert_eq!(shown[0], "C++ generated/objects/x/thread.o");
        assert_eq!(shown.len(), 6);
        assert!(!important_lines(&log[..1], 40)
            .iter()
            .any(|l| l.contains("C++")));
    }

    #[test]
    fn progress_shows_action_and_file() {
        assert_eq!(
            progress_text("C++ /g/objects/haiku/x86_64/release/system/kernel/thread.o"),
            "C++ thread.o"
        );
        assert_eq!(
            progress_text("Link <driver>dead_threads"),
            "Link dead_threads"
        );
    }
}
