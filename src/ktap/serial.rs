//! The serial side: raw bytes into lines, our prefixed KTAP lines out of
//! console noise, and Haiku's repeat suppression undone.

/// Prefix of every KTAP line the guest writes to the serial port.
pub const SERIAL_PREFIX: &str = "dead-threads-ktap: ";

/// Longest KTAP line (prefix and newline included) the guest may write; longer
/// diagnostics must be truncated by the guest so that a line stays in one
/// `debug_printf()` chunk.
pub const MAX_LINE_BYTES: usize = 480;

/// Longest line the host keeps before it cuts a line that never ends.
const MAX_HOST_LINE: usize = 64 * 1024;

/// Splits a byte stream (the raw serial output) into lines.
///
/// Lines end at `\n`; trailing `\r` are removed. A line that grows beyond 64 KiB
/// without a newline is emitted in pieces so that garbage cannot exhaust memory.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    /// A splitter with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `bytes` and calls `line` for every completed line.
    pub fn push(&mut self, bytes: &[u8], mut line: impl FnMut(&[u8])) {
        for &b in bytes {
            if b == b'\n' {
                emit(&mut self.buf, &mut line);
            } else {
                self.buf.push(b);
                if self.buf.len() >= MAX_HOST_LINE {
                    emit(&mut self.buf, &mut line);
                }
            }
        }
    }

    /// The bytes received after the last newline (for example a prompt such as
    /// `kdebug> ` that waits for input).
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Emits the unterminated last line, if any.
    pub fn finish(&mut self, mut line: impl FnMut(&[u8])) {
        if !self.buf.is_empty() {
            emit(&mut self.buf, &mut line);
        }
    }
}

fn emit(buf: &mut Vec<u8>, line: &mut impl FnMut(&[u8])) {
    let mut end = buf.len();
    while end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    line(&buf[..end]);
    buf.clear();
}

/// One serial line split into the console text before the first
/// [`SERIAL_PREFIX`] and the KTAP lines after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialLine {
    /// Text before the first prefix (the whole line if it has no prefix), lossily
    /// decoded.
    pub console: String,
    /// KTAP lines found after prefixes. More than one when the newline of a KTAP
    /// line was lost and the next one was glued to it.
    pub ktap: Vec<String>,
}

/// Splits one serial line into console noise and prefixed KTAP lines.
pub fn extract_ktap(line: &[u8]) -> SerialLine {
    let prefix = SERIAL_PREFIX.as_bytes();
    let mut positions = Vec::new();
    let mut i = 0;
    while i + prefix.len() <= line.len() {
        if &line[i..i + prefix.len()] == prefix {
            positions.push(i);
            i += prefix.len();
        } else {
            i += 1;
        }
    }
    let console_end = positions.first().copied().unwrap_or(line.len());
    let mut ktap = Vec::with_capacity(positions.len());
    for (n, &start) in positions.iter().enumerate() {
        let end = positions.get(n + 1).copied().unwrap_or(line.len());
        ktap.push(clean(&line[start + prefix.len()..end]));
    }
    SerialLine {
        console: clean(&line[..console_end]),
        ktap,
    }
}

/// Lossy UTF-8 decoding; control characters other than tab become U+FFFD so that
/// a terminal showing the text is not confused by garbage.
pub(super) fn clean(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    String::from_utf8_lossy(&bytes[..end])
        .chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// If `console` is Haiku's repeat summary `Last message repeated N times.`,
/// returns N.
///
/// Haiku's kernel debug output (`debug_output()` in
/// `src/system/kernel/debug/debug.cpp`, 2018 to today) does not print a
/// newline-terminated output chunk that equals the previous one; it counts the
/// copies and, at the next different output or after a second, prints the
/// chunk once more (one copy) or this summary (N copies). The summary therefore
/// directly follows the repeated chunk on the serial port.
pub fn repeat_count(console: &str) -> Option<u32> {
    console
        .trim()
        .strip_prefix("Last message repeated ")?
        .strip_suffix(" times.")?
        .parse()
        .ok()
}

/// One item of demultiplexed serial output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialItem<'a> {
    /// A console (non-KTAP) line or the part of a line before the prefix.
    Console(&'a str),
    /// A KTAP line with the prefix removed.
    Ktap(&'a str),
}

/// Splits raw serial bytes into console lines and KTAP lines, and restores KTAP
/// lines that Haiku's repeat suppression replaced by `Last message repeated N
/// times.` (see [`repeat_count`]).
#[derive(Debug, Default)]
pub struct SerialDemux {
    splitter: LineSplitter,
    last_ktap: Option<String>,
}

impl SerialDemux {
    /// A demultiplexer that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes; calls `item` for every console and KTAP line completed.
    pub fn push(&mut self, bytes: &[u8], mut item: impl FnMut(SerialItem<'_>)) {
        let mut lines = Vec::new();
        self.splitter.push(bytes, |l| lines.push(l.to_vec()));
        for l in lines {
            self.line(&l, &mut item);
        }
    }

    /// Ends the input: the unterminated last line, if any, is handled as a line.
    pub fn finish(&mut self, mut item: impl FnMut(SerialItem<'_>)) {
        let mut lines = Vec::new();
        self.splitter.finish(|l| lines.push(l.to_vec()));
        for l in lines {
            self.line(&l, &mut item);
        }
    }

    /// Bytes after the last newline (e.g. a `kdebug> ` prompt).
    pub fn pending(&self) -> &[u8] {
        self.splitter.pending()
    }

    fn line(&mut self, raw: &[u8], item: &mut impl FnMut(SerialItem<'_>)) {
        let split = extract_ktap(raw);
        if split.ktap.is_empty() {
            if let (Some(n), Some(last)) = (repeat_count(&split.console), &self.last_ktap) {
                item(SerialItem::Console(&split.console));
                for _ in 0..n {
                    item(SerialItem::Ktap(last));
                }
                return;
            }
            self.last_ktap = None;
        } else {
            self.last_ktap = split.ktap.last().cloned();
        }
        if !split.console.is_empty() {
            item(SerialItem::Console(&split.console));
        }
        for k in &split.ktap {
            item(SerialItem::Ktap(k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_found_mid_line_and_glued_lines_split() {
        let l = extract_ktap(b"vm: noisedead-threads-ktap: ok 1 adead-threads-ktap: ok 2 b\r");
        assert_eq!(l.console, "vm: noise");
        assert_eq!(l.ktap, vec!["ok 1 a".to_string(), "ok 2 b".to_string()]);
    }
}
