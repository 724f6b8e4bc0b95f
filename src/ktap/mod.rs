//! KTAP v1 over Haiku's serial port: the guest/host protocol and an incremental parser.
//!
//! # Serial protocol (guest runner <-> host)
//!
//! The guest (the boot job in `jam-integration/`) reports results as a single
//! [KTAP v1](https://docs.kernel.org/dev-tools/ktap.html) document written to the
//! serial port through `debug_printf()`. Haiku's serial debug output also carries
//! everything the kernel and drivers `dprintf()`, the boot loader's messages and,
//! on a panic, the kernel debugger (KDL). To pick the KTAP lines out of that noise:
//!
//! * every KTAP line is written as [`SERIAL_PREFIX`] followed by the KTAP line
//!   (including its indentation) and a `\n`, e.g.
//!   `dead-threads-ktap: KTAP version 1`, `dead-threads-ktap:   ok 1 join_after_exit`;
//! * each line is written with **one** `debug_printf()` call and is at most
//!   [`MAX_LINE_BYTES`] bytes long including prefix and newline. Haiku's
//!   `_user_debug_output()` copies a user string in 511-byte chunks and writes each
//!   chunk under the debug output spinlock, so a line of that size reaches the
//!   serial port in one piece. Kernel output that was written without a trailing
//!   newline may still precede it on the same serial line: the host looks for the
//!   prefix anywhere in a line and discards what comes before it;
//! * the document starts with `KTAP version 1` and the top-level plan `1..N`,
//!   where N counts the test binaries (or groups); each binary's own tests are
//!   a nested KTAP subtest (indented by two more spaces, with its own version
//!   line, optional `# Subtest: NAME` header and plan) closed by the parent's
//!   `ok N NAME` / `not ok N NAME` line; what the guest has to say about the
//!   binary itself (`# NAME: exit status 101`, its stderr) comes directly
//!   before that line, at the parent's indentation, as KTAP wants diagnostics
//!   before the result they are about;
//! * `# SKIP reason` / `# TODO reason` directives and `# ...` diagnostic lines
//!   are used as in KTAP; `Bail out! reason` aborts the run (the host reports the
//!   run as incomplete);
//! * Haiku's debug output swallows a chunk identical to the previous one and
//!   later prints `Last message repeated N times.` instead; the host puts such
//!   KTAP lines back ([`repeat_count`], [`SerialDemux`]), but the guest should
//!   still avoid identical consecutive lines (e.g. number repeated diagnostics);
//! * after the last top-level result line the guest powers off (`shutdown -q`);
//!   the host gives it a grace period and reports a guest that never powers off.
//!
//! The host side splits the raw serial bytes into lines and extracts the
//! prefixed KTAP lines ([`SerialDemux`], built on [`LineSplitter`] and
//! [`extract_ktap`]) and feeds them to a
//! [`Parser`], which reports [`Event`]s as lines arrive and builds a [`Report`].
//! Everything is byte-oriented: garbage and non-UTF-8 bytes never stop parsing
//! (they are decoded lossily).
//!
//! # Parser behaviour
//!
//! Modelled on Linux's `tools/testing/kunit/kunit_parser.py`, but driven by
//! indentation so that it can work incrementally:
//!
//! * `KTAP version 1` and `TAP version 13`/`14` are accepted as version lines;
//! * a version line, `# Subtest:` header, plan or result line indented deeper than
//!   the current test list opens a subtest list, which is closed by the next
//!   line at a shallower indentation (normally the parent's result line);
//! * result lines are `ok|not ok NUMBER [-] [DESCRIPTION] [# DIRECTIVE [REASON]]`
//!   with directives SKIP, TODO, XFAIL, TIMEOUT and ERROR (case-insensitive);
//!   any other text after `#` is kept as a comment;
//! * diagnostic lines (`# ...`) belong to the next result line of the same list;
//!   those after a list's last result line belong to the list, except that a
//!   trailing `# NAME: ...` whose NAME is a failed test of that list belongs to
//!   that test (libtest prints a failure's output after all results, so the
//!   guest runner writes it after the `not ok` line, prefixed with the name);
//! * out-of-order or duplicate numbers, results beyond the plan, a plan that
//!   appears twice and subtests without a result line are recorded as
//!   [`Problem`]s; lines that are not KTAP (console noise, stack traces,
//!   unindented messages) are kept as warnings and otherwise ignored: they
//!   never open or close a test list, wherever they stand;
//! * [`Parser::finish`] closes what truncated output left open: a subtest list
//!   without a result line becomes a test with outcome [`Outcome::Incomplete`],
//!   and planned numbers that never appeared are listed in [`Suite::missing`].
//!
//! # Pieces
//!
//! * `serial`: raw bytes into lines, prefixed KTAP out of console noise,
//!   Haiku's repeat suppression undone ([`SerialDemux`]);
//! * `kdl`: a kernel panic and the kernel debugger in the console lines
//!   ([`KdlWatch`]);
//! * `model`: the document ([`Report`], [`Suite`], [`TestCase`], [`Counts`]);
//! * `parser`: the incremental parser ([`Parser`]);
//! * `input`: whole saved logs, in our serial form or as plain KTAP found the
//!   way kunit_tool finds it ([`read_log`], [`PlainKtap`]);
//! * `verdict`: the verdict on a saved log ([`judge`]: passed, failed,
//!   crashed, incomplete, no tests) with qemu's exit statuses;
//! * `render`: a report back as KTAP, and the list of failed tests;
//! * `cli`: `dead-threads ktap parse`.

mod cli;
mod input;
mod kdl;
mod model;
mod parser;
mod render;
mod serial;
mod verdict;

pub use cli::{run, summary, Args};
pub use input::{parse_text, read_log, strip_before_version, LogForm, LogParse, PlainKtap};
pub use kdl::{KdlWatch, PanicInfo};
pub use model::{Counts, Directive, Event, Outcome, Problem, Report, Suite, TestCase};
pub use parser::{is_ktap_line, Parser, MAX_PLAN};
pub use render::{failed_tests, render};
pub use serial::{
    extract_ktap, repeat_count, LineSplitter, SerialDemux, SerialItem, SerialLine, MAX_LINE_BYTES,
    SERIAL_PREFIX,
};
pub use verdict::{judge, ran_no_tests, Judgement, LogVerdict};
