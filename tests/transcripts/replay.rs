//! Shared by the KTAP and QEMU tests: reading transcripts and turning them into
//! the bytes the fake QEMU writes to the serial port.
#![allow(dead_code)]

use std::path::PathBuf;

/// Directory holding the transcripts.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts")
}

/// Path of one transcript.
pub fn path(name: &str) -> PathBuf {
    dir().join(name)
}

/// The transcript's text.
pub fn text(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The bytes `fake-qemu.sh` writes to the serial port for this transcript
/// (same rules as its `@fake` directives; stops where the fake stops writing).
pub fn serial_bytes(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text(name).lines() {
        if let Some(rest) = line.strip_prefix("@fake ") {
            if let Some(fmt) = rest.strip_prefix("raw ") {
                out.extend(printf_format(fmt));
            } else if rest == "hang" || rest == "exec-hang" || rest.starts_with("exit ") {
                break;
            }
        } else {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// printf(1) format escapes used by the transcripts: `\NNN` (octal), `\n`, `\r`,
/// `\t`, `\\`.
fn printf_format(fmt: &str) -> Vec<u8> {
    let b = fmt.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let c = b[i + 1];
            match c {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'\\' => out.push(b'\\'),
                b'0'..=b'7' => {
                    let mut v: u32 = 0;
                    let mut j = i + 1;
                    while j < b.len() && j < i + 4 && (b'0'..=b'7').contains(&b[j]) {
                        v = v * 8 + u32::from(b[j] - b'0');
                        j += 1;
                    }
                    out.push(v as u8);
                    i = j;
                    continue;
                }
                other => {
                    out.push(b'\\');
                    out.push(other);
                }
            }
            i += 2;
        } else {
            assert_ne!(b[i], b'%', "transcripts must not use % in raw lines");
            out.push(b[i]);
            i += 1;
        }
    }
    out
}
