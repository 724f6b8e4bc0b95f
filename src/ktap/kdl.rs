//! Recognising a Haiku kernel panic and the kernel debugger (KDL) in serial output.
//!
//! Haiku's `panic()` enters the kernel debugger, which writes to the serial port:
//! a `PANIC: <message>` line, `Welcome to Kernel Debugging Land...`, the revision,
//! the current thread and CPU, and (for a panic) a stack trace introduced by
//! `stack trace for thread <id> "<name>"`, one line per frame. Then it prints the
//! prompt `kdebug> ` without a newline and waits for input on the serial port.
//! The boot loader's own panic also prints a `PANIC:` line but no prompt.

use serde::Serialize;

/// Most KDL lines kept (the whole KDL output up to the prompt, normally).
const MAX_KDL_LINES: usize = 200;
/// Most stack-trace lines kept.
const MAX_TRACE_LINES: usize = 100;
/// Most lines of KDL command output kept.
const MAX_COMMAND_LINES: usize = 1000;

/// What was seen of a panic / kernel debugger session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PanicInfo {
    /// The text after `PANIC: ` (first panic only).
    pub message: Option<String>,
    /// Whether `Welcome to Kernel Debugging Land` was seen.
    pub entered_kdl: bool,
    /// Whether the `kdebug>` prompt was seen (KDL waiting for input).
    pub prompt_seen: bool,
    /// The stack trace lines (from `stack trace for thread` on).
    pub backtrace: Vec<String>,
    /// All console lines from the panic / KDL entry on (capped).
    pub output: Vec<String>,
    /// Commands sent to KDL at its prompt (see `QemuConfig::kdl_commands`)
    /// and their output: the lines from the first prompt on (capped).
    pub command_output: Vec<String>,
}

/// Watches console lines (serial lines that are not KTAP) for a panic or KDL.
#[derive(Debug, Default)]
pub struct KdlWatch {
    info: Option<PanicInfo>,
    in_trace: bool,
    /// Prompts seen so far (a prompt is counted once, whether it is first seen
    /// in the unterminated tail or in a completed line).
    prompts: usize,
    tail_prompt_counted: bool,
}

impl KdlWatch {
    /// A watcher that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a panic or the kernel debugger was seen.
    pub fn triggered(&self) -> bool {
        self.info.is_some()
    }

    /// Whether the KDL prompt was seen (nothing more will come without input).
    pub fn prompt_seen(&self) -> bool {
        self.info.as_ref().is_some_and(|i| i.prompt_seen)
    }

    /// How many `kdebug>` prompts have been seen (one per command KDL is
    /// ready to read).
    pub fn prompts(&self) -> usize {
        self.prompts
    }

    /// What was seen, if anything.
    pub fn info(&self) -> Option<&PanicInfo> {
        self.info.as_ref()
    }

    /// Feeds one complete console line. Returns `true` when this line started
    /// the panic/KDL report.
    pub fn line(&mut self, line: &str) -> bool {
        let mut started = false;
        let panic_at = line.find("PANIC: ");
        let welcome = line.contains("Welcome to Kernel Debugging Land");
        let prompt = line.contains("kdebug>");
        if self.info.is_none() && (panic_at.is_some() || welcome || prompt) {
            self.info = Some(PanicInfo::default());
            started = true;
        }
        let Some(info) = self.info.as_mut() else {
            return false;
        };
        if let Some(i) = panic_at {
            if info.message.is_none() {
                info.message = Some(line[i + "PANIC: ".len()..].trim().to_string());
            }
        }
        if welcome {
            info.entered_kdl = true;
        }
        if prompt {
            info.prompt_seen = true;
            self.in_trace = false;
            if !self.tail_prompt_counted {
                self.prompts += 1;
            }
        }
        self.tail_prompt_counted = false;
        if (self.prompts > 0) && info.command_output.len() < MAX_COMMAND_LINES {
            info.command_output.push(line.trim_end().to_string());
        }
        if line.contains("stack trace for thread") {
            self.in_trace = true;
        }
        if self.in_trace && info.backtrace.len() < MAX_TRACE_LINES && !line.trim().is_empty() {
            info.backtrace.push(line.trim_end().to_string());
        }
        if info.output.len() < MAX_KDL_LINES {
            info.output.push(line.trim_end().to_string());
        }
        started
    }

    /// Looks at the unterminated tail of the serial output for the prompt
    /// (`kdebug> ` is printed without a newline).
    pub fn pending(&mut self, tail: &[u8]) {
        if !contains(tail, b"kdebug>") {
            return;
        }
        // A prompt without a preceding panic line (e.g. KDL entered by a
        // keyboard shortcut, or the welcome line lost in noise) counts too.
        let info = self.info.get_or_insert_with(PanicInfo::default);
        info.prompt_seen = true;
        self.in_trace = false;
        if !self.tail_prompt_counted {
            self.tail_prompt_counted = true;
            self.prompts += 1;
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_trace_and_prompt() {
        let mut w = KdlWatch::new();
        assert!(!w.line("usb: some noise"));
        assert!(w.line("PANIC: vm_page_fault: bad address"));
        w.line("Welcome to Kernel Debugging Land...");
        w.line("stack trace for thread 42 \"t\"");
        w.line(" 0 ffffffff81000000 (+  16) ffffffff80001234   <kernel_x86_64> panic + 0x12");
        w.pending(b"kdebug> ");
        let info = w.info().unwrap();
        assert_eq!(info.message.as_deref(), Some("vm_page_fault: bad address"));
        assert!(info.entered_kdl && info.prompt_seen);
        assert_eq!(info.backtrace.len(), 2);
    }

    #[test]
    fn prompts_are_counted_once_each() {
        let mut w = KdlWatch::new();
        w.line("PANIC: x");
        w.pending(b"kdebug> ");
        w.pending(b"kdebug> b");
        assert_eq!(w.prompts(), 1);
        w.line("kdebug> bt");
        assert_eq!(
            w.prompts(),
            1,
            "the completed prompt line was counted already"
        );
        w.line("stack trace for thread 1 \"x\"");
        w.line("kdebug> "); // a prompt that arrived with its newline at once
        assert_eq!(w.prompts(), 2);
        let info = w.info().unwrap();
        assert_eq!(
            info.command_output,
            vec!["kdebug> bt", "stack trace for thread 1 \"x\"", "kdebug>"]
        );
    }

    #[test]
    fn noise_alone_does_not_trigger() {
        let mut w = KdlWatch::new();
        w.line("this driver will not panic");
        w.pending(b"partial line");
        assert!(!w.triggered());
    }
}
