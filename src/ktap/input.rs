//! Reading a whole saved log: our serial protocol when the log carries its
//! prefix, otherwise plain KTAP located and unwrapped the way the Linux
//! kernel's kunit_tool does it.

use super::kdl::KdlWatch;
use super::model::Report;
use super::parser::{is_ktap_line, Parser};
use super::serial::{clean, LineSplitter, SerialDemux, SerialItem, SERIAL_PREFIX};

/// Parses a whole text (plain KTAP, or serial output when `prefixed`).
/// Plain text is read from its first line on, as the parser's own tests
/// want it; [`read_log`] is what `ktap parse` uses.
pub fn parse_text(bytes: &[u8], prefixed: bool) -> Report {
    let mut parser = Parser::new();
    if prefixed {
        let mut demux = SerialDemux::new();
        let mut feed = |i: SerialItem<'_>| {
            if let SerialItem::Ktap(k) = i {
                parser.feed_line(k);
            }
        };
        demux.push(bytes, &mut feed);
        demux.finish(&mut feed);
    } else {
        let mut splitter = LineSplitter::new();
        let mut feed = |line: &[u8]| {
            parser.feed_line(&clean(line));
        };
        splitter.push(bytes, &mut feed);
        splitter.finish(&mut feed);
    }
    parser.finish()
}

/// If `line` contains a version line (`KTAP version N` / `TAP version N`
/// ending the line), the number of characters before it: kunit_tool
/// strips that many characters from every following line (a console
/// timestamp or log-level prefix of constant width).
pub fn strip_before_version(line: &str) -> Option<usize> {
    for marker in ["KTAP version ", "TAP version "] {
        if let Some(at) = line.find(marker) {
            let rest = line[at + marker.len()..].trim_end();
            if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()) {
                return Some(line[..at].chars().count());
            }
        }
    }
    None
}

/// Plain KTAP inside other output, as kunit_tool's `extract_tap_lines()`
/// finds it: nothing before the first version line is KTAP; on that line
/// and every following one the same number of leading characters (what
/// stood before `KTAP version`) is removed.
#[derive(Debug, Default)]
pub struct PlainKtap {
    prefix_chars: Option<usize>,
}

impl PlainKtap {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The KTAP line `line` carries, or `None` before the document starts.
    pub fn line(&mut self, line: &str) -> Option<String> {
        if self.prefix_chars.is_none() {
            self.prefix_chars = strip_before_version(line);
        }
        let n = self.prefix_chars?;
        Some(line.chars().skip(n).collect())
    }
}

/// Which of the two input forms a log was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogForm {
    /// Serial output with our [`SERIAL_PREFIX`] lines.
    Serial,
    /// Plain KTAP (possibly after other output and behind a fixed-width
    /// prefix).
    Ktap,
}

/// A saved log, parsed.
#[derive(Debug)]
pub struct LogParse {
    /// How the log was read.
    pub form: LogForm,
    /// The KTAP report.
    pub report: Report,
    /// The kernel debugger watch over the non-KTAP lines.
    pub kdl: KdlWatch,
}

/// Reads a saved serial log or KTAP file: lines carrying
/// [`SERIAL_PREFIX`] when there are any, otherwise plain KTAP found as
/// [`PlainKtap`] does. Every other line is watched for a kernel panic or
/// the kernel debugger.
pub fn read_log(bytes: &[u8]) -> LogParse {
    let prefix = SERIAL_PREFIX.as_bytes();
    let serial = bytes.windows(prefix.len()).any(|w| w == prefix);
    let mut parser = Parser::new();
    let mut kdl = KdlWatch::new();
    if serial {
        let mut demux = SerialDemux::new();
        let mut feed = |i: SerialItem<'_>| match i {
            SerialItem::Ktap(k) => {
                parser.feed_line(k);
            }
            SerialItem::Console(c) => {
                kdl.line(c);
            }
        };
        demux.push(bytes, &mut feed);
        let tail = demux.pending().to_vec();
        demux.finish(&mut feed);
        kdl.pending(&tail);
    } else {
        let mut plain = PlainKtap::new();
        let mut splitter = LineSplitter::new();
        let mut feed = |raw: &[u8]| {
            let line = clean(raw);
            match plain.line(&line) {
                // A KTAP line (a diagnostic may well quote "PANIC: ") is
                // no console output.
                Some(k) if is_ktap_line(&k) => {
                    parser.feed_line(&k);
                }
                Some(k) => {
                    kdl.line(&line);
                    parser.feed_line(&k);
                }
                None => {
                    kdl.line(&line);
                }
            }
        };
        splitter.push(bytes, &mut feed);
        let tail = splitter.pending().to_vec();
        splitter.finish(&mut feed);
        kdl.pending(&tail);
    }
    LogParse {
        form: if serial {
            LogForm::Serial
        } else {
            LogForm::Ktap
        },
        report: parser.finish(),
        kdl,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_before_the_version_line_is_stripped_by_width() {
        assert_eq!(strip_before_version("[    1.5] KTAP version 1"), Some(10));
        assert_eq!(strip_before_version("TAP version 14"), Some(0));
        assert_eq!(strip_before_version("KTAP version one"), None);
        assert_eq!(strip_before_version("say KTAP version 1 later"), None);
        let mut p = PlainKtap::new();
        assert_eq!(p.line("booting"), None);
        assert_eq!(
            p.line("[ 0.1] KTAP version 1").as_deref(),
            Some("KTAP version 1")
        );
        assert_eq!(p.line("[ 0.2] 1..1").as_deref(), Some("1..1"));
        assert_eq!(p.line("[ 0.3]   ok 1 x").as_deref(), Some("  ok 1 x"));
    }
}
