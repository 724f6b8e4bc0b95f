//! Where KTAP lines go.
//!
//! In the Haiku guest the sink is the kernel's debug output
//! ([`SerialSink`], `debug_printf` through `haiku_sys::thread::debug_print`),
//! which the kernel copies to the serial port that QEMU captures. On any other
//! system the runner uses [`StdoutSink`] instead: that choice is explicit
//! (`--sink stdout`, the default off Haiku), and asking for the serial sink
//! off Haiku is an error, never a silent fallback.

use std::io::Write;

/// Receives finished KTAP lines (without prefix or newline).
pub trait Sink {
    /// Writes one line.
    fn line(&mut self, line: &str) -> Result<(), String>;
}

/// Writes `PREFIX LINE\n` to standard output.
#[derive(Debug)]
pub struct StdoutSink {
    prefix: String,
}

impl StdoutSink {
    /// A stdout sink with the given line prefix.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_string(),
        }
    }
}

impl Sink for StdoutSink {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", crate::ktap::fit(&self.prefix, line))
            .and_then(|_| out.flush())
            .map_err(|e| format!("stdout: {e}"))
    }
}

/// Writes `PREFIX LINE\n` with Haiku's `debug_printf`, i.e. to the kernel's
/// debug output (serial port, syslog).
#[derive(Debug)]
pub struct SerialSink {
    prefix: String,
}

impl SerialSink {
    /// A serial sink; fails off Haiku (there is no kernel debug output to
    /// write to).
    pub fn new(prefix: &str) -> Result<Self, String> {
        if !cfg!(target_os = "haiku") {
            return Err("the serial sink needs Haiku (debug_printf); use --sink stdout".into());
        }
        Ok(Self {
            prefix: prefix.to_string(),
        })
    }
}

impl Sink for SerialSink {
    fn line(&mut self, line: &str) -> Result<(), String> {
        // One call per line: the kernel writes it in one piece.
        let text = format!("{}\n", crate::ktap::fit(&self.prefix, line));
        haiku_sys::thread::debug_print(&text).map_err(|e| format!("debug_printf: {e}"))
    }
}

/// Collects lines in memory (tests, and the host's own dry runs).
#[derive(Debug, Default)]
pub struct VecSink {
    /// The lines written so far, without prefix.
    pub lines: Vec<String>,
}

impl Sink for VecSink {
    fn line(&mut self, line: &str) -> Result<(), String> {
        self.lines.push(line.to_string());
        Ok(())
    }
}
