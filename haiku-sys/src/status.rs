//! [`Status`]: Haiku's `status_t` as a Rust error type.

use std::fmt;

use crate::raw;
use crate::status_t;

/// A Haiku status code (`status_t`): `B_OK`, or an error such as
/// `B_BAD_THREAD_ID`.
///
/// Every code haiku-sys binds has a name and a description:
/// `Status::BAD_THREAD_ID` displays as `B_BAD_THREAD_ID (bad thread ID)`.
/// Other values display as `unknown status -2147450000 (0x80008270)`.
/// [`Status::NOT_HAIKU`] is haiku-sys's own code for a Haiku call made on
/// another OS.
///
/// The values are those of the bindings the crate was built with (the
/// bundled declarations, or the Haiku headers build.rs used).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Status(status_t);

/// `(value, name, description)` of every named code. Aliases (`B_NO_ERROR`,
/// `B_NOT_INITIALIZED`) are left out: they share a value with the entry
/// that names it.
const NAMED: &[(status_t, &str, &str)] = &[
    (raw::B_OK, "B_OK", "no error"),
    (raw::B_ERROR, "B_ERROR", "general error"),
    (raw::B_NO_MEMORY, "B_NO_MEMORY", "out of memory"),
    (raw::B_IO_ERROR, "B_IO_ERROR", "I/O error"),
    (
        raw::B_PERMISSION_DENIED,
        "B_PERMISSION_DENIED",
        "permission denied",
    ),
    (raw::B_BAD_INDEX, "B_BAD_INDEX", "index out of range"),
    (raw::B_BAD_TYPE, "B_BAD_TYPE", "bad argument type"),
    (raw::B_BAD_VALUE, "B_BAD_VALUE", "invalid argument"),
    (
        raw::B_MISMATCHED_VALUES,
        "B_MISMATCHED_VALUES",
        "mismatched values",
    ),
    (raw::B_NAME_NOT_FOUND, "B_NAME_NOT_FOUND", "name not found"),
    (raw::B_NAME_IN_USE, "B_NAME_IN_USE", "name in use"),
    (raw::B_TIMED_OUT, "B_TIMED_OUT", "operation timed out"),
    (raw::B_INTERRUPTED, "B_INTERRUPTED", "interrupted"),
    (raw::B_WOULD_BLOCK, "B_WOULD_BLOCK", "operation would block"),
    (raw::B_CANCELED, "B_CANCELED", "operation canceled"),
    (raw::B_NO_INIT, "B_NO_INIT", "not initialized"),
    (raw::B_BUSY, "B_BUSY", "device or resource busy"),
    (raw::B_NOT_ALLOWED, "B_NOT_ALLOWED", "operation not allowed"),
    (raw::B_BAD_DATA, "B_BAD_DATA", "bad data"),
    (raw::B_DONT_DO_THAT, "B_DONT_DO_THAT", "forbidden request"),
    (raw::B_BAD_SEM_ID, "B_BAD_SEM_ID", "bad semaphore ID"),
    (raw::B_NO_MORE_SEMS, "B_NO_MORE_SEMS", "no more semaphores"),
    (raw::B_BAD_THREAD_ID, "B_BAD_THREAD_ID", "bad thread ID"),
    (
        raw::B_NO_MORE_THREADS,
        "B_NO_MORE_THREADS",
        "no more threads",
    ),
    (
        raw::B_BAD_THREAD_STATE,
        "B_BAD_THREAD_STATE",
        "thread is in the wrong state",
    ),
    (raw::B_BAD_TEAM_ID, "B_BAD_TEAM_ID", "bad team ID"),
    (raw::B_NO_MORE_TEAMS, "B_NO_MORE_TEAMS", "no more teams"),
    (raw::B_BAD_PORT_ID, "B_BAD_PORT_ID", "bad port ID"),
    (raw::B_NO_MORE_PORTS, "B_NO_MORE_PORTS", "no more ports"),
    (raw::B_BAD_IMAGE_ID, "B_BAD_IMAGE_ID", "bad image ID"),
    (raw::B_BAD_ADDRESS, "B_BAD_ADDRESS", "bad address"),
    (
        raw::B_NOT_AN_EXECUTABLE,
        "B_NOT_AN_EXECUTABLE",
        "not an executable",
    ),
    (
        raw::B_MISSING_LIBRARY,
        "B_MISSING_LIBRARY",
        "missing library",
    ),
    (raw::B_MISSING_SYMBOL, "B_MISSING_SYMBOL", "missing symbol"),
    (
        raw::B_DEBUGGER_ALREADY_INSTALLED,
        "B_DEBUGGER_ALREADY_INSTALLED",
        "a debugger is already installed",
    ),
    (raw::B_FILE_ERROR, "B_FILE_ERROR", "bad file descriptor"),
    (
        raw::B_ENTRY_NOT_FOUND,
        "B_ENTRY_NOT_FOUND",
        "no such file or directory",
    ),
    (
        raw::B_BUFFER_OVERFLOW,
        "B_BUFFER_OVERFLOW",
        "value too large",
    ),
    (
        raw::B_TOO_MANY_ARGS,
        "B_TOO_MANY_ARGS",
        "argument list too long",
    ),
    (raw::B_FILE_TOO_LARGE, "B_FILE_TOO_LARGE", "file too large"),
    (
        raw::B_RESULT_NOT_REPRESENTABLE,
        "B_RESULT_NOT_REPRESENTABLE",
        "result not representable",
    ),
    (
        raw::B_DEVICE_NOT_FOUND,
        "B_DEVICE_NOT_FOUND",
        "no such device",
    ),
    (
        raw::B_NOT_SUPPORTED,
        "B_NOT_SUPPORTED",
        "operation not supported",
    ),
    (
        raw::B_DEV_INVALID_IOCTL,
        "B_DEV_INVALID_IOCTL",
        "invalid ioctl",
    ),
    (raw::ESRCH, "ESRCH", "no such thread"),
    (raw::EDEADLK, "EDEADLK", "resource deadlock avoided"),
    (
        Status::NOT_HAIKU.0,
        "NOT_HAIKU",
        "needs Haiku: this call is only available on Haiku",
    ),
];

impl Status {
    /// `B_OK`: success.
    pub const OK: Status = Status(raw::B_OK);
    /// `B_ERROR`: general error.
    pub const ERROR: Status = Status(raw::B_ERROR);
    /// `B_NO_MEMORY`.
    pub const NO_MEMORY: Status = Status(raw::B_NO_MEMORY);
    /// `B_BAD_VALUE` (also POSIX `EINVAL` on Haiku).
    pub const BAD_VALUE: Status = Status(raw::B_BAD_VALUE);
    /// `B_TIMED_OUT`.
    pub const TIMED_OUT: Status = Status(raw::B_TIMED_OUT);
    /// `B_INTERRUPTED` (also POSIX `EINTR` on Haiku).
    pub const INTERRUPTED: Status = Status(raw::B_INTERRUPTED);
    /// `B_WOULD_BLOCK` (also POSIX `EAGAIN` on Haiku).
    pub const WOULD_BLOCK: Status = Status(raw::B_WOULD_BLOCK);
    /// `B_CANCELED`: the exit value of a thread whose closure was dropped
    /// without running (see [`crate::thread::Thread`]).
    pub const CANCELED: Status = Status(raw::B_CANCELED);
    /// `B_NOT_ALLOWED` (also POSIX `EPERM` on Haiku).
    pub const NOT_ALLOWED: Status = Status(raw::B_NOT_ALLOWED);
    /// `B_PERMISSION_DENIED` (also POSIX `EACCES` on Haiku).
    pub const PERMISSION_DENIED: Status = Status(raw::B_PERMISSION_DENIED);
    /// `B_BUSY`.
    pub const BUSY: Status = Status(raw::B_BUSY);
    /// `B_BAD_THREAD_ID`: no such thread, or its exit status is gone.
    pub const BAD_THREAD_ID: Status = Status(raw::B_BAD_THREAD_ID);
    /// `B_NO_MORE_THREADS`.
    pub const NO_MORE_THREADS: Status = Status(raw::B_NO_MORE_THREADS);
    /// `B_BAD_THREAD_STATE`.
    pub const BAD_THREAD_STATE: Status = Status(raw::B_BAD_THREAD_STATE);
    /// `B_BAD_TEAM_ID`.
    pub const BAD_TEAM_ID: Status = Status(raw::B_BAD_TEAM_ID);
    /// `B_BAD_ADDRESS` (also POSIX `EFAULT` on Haiku).
    pub const BAD_ADDRESS: Status = Status(raw::B_BAD_ADDRESS);
    /// `B_ENTRY_NOT_FOUND` (also POSIX `ENOENT` on Haiku).
    pub const ENTRY_NOT_FOUND: Status = Status(raw::B_ENTRY_NOT_FOUND);
    /// `B_NOT_SUPPORTED`.
    pub const NOT_SUPPORTED: Status = Status(raw::B_NOT_SUPPORTED);
    /// `B_DEV_INVALID_IOCTL`.
    pub const DEV_INVALID_IOCTL: Status = Status(raw::B_DEV_INVALID_IOCTL);
    /// POSIX `ESRCH` as Haiku defines it: what `pthread_join` (and so Rust's
    /// `JoinHandle::join`) reports for a thread whose exit status is gone
    /// (`-2147454963`, the number in "failed to join thread" reports).
    pub const ESRCH: Status = Status(raw::ESRCH);
    /// POSIX `EDEADLK` as Haiku defines it (joining oneself).
    pub const EDEADLK: Status = Status(raw::EDEADLK);

    /// haiku-sys's own code for "this call needs Haiku": what every call
    /// into Haiku returns when the program runs on another OS.
    ///
    /// Its value, `B_ERRORS_END + 1 + 0xDEAD` (`-2147418259`), lies in the
    /// range Haiku leaves to applications (above `B_ERRORS_END`), so no
    /// Haiku call returns it.
    pub const NOT_HAIKU: Status = Status(i32::MIN + 0x1_0000 + 0xDEAD);

    /// Wraps a raw `status_t` (any value).
    pub const fn from_raw(raw: status_t) -> Status {
        Status(raw)
    }

    /// The raw `status_t`.
    pub const fn raw(self) -> status_t {
        self.0
    }

    /// Whether this is `B_OK`.
    pub const fn is_ok(self) -> bool {
        self.0 == raw::B_OK
    }

    /// The code's name (`"B_BAD_THREAD_ID"`), or `None` if haiku-sys does
    /// not know it. Aliases give the main name (`B_NO_ERROR` -> `"B_OK"`).
    pub fn name(self) -> Option<&'static str> {
        self.entry().map(|(_, name, _)| name)
    }

    /// A short description (`"bad thread ID"`), or `None` if unknown.
    pub fn description(self) -> Option<&'static str> {
        self.entry().map(|(_, _, description)| description)
    }

    /// Every code haiku-sys names, in a fixed order (no duplicates).
    pub fn all() -> impl Iterator<Item = Status> {
        NAMED.iter().map(|&(value, _, _)| Status(value))
    }

    fn entry(self) -> Option<(status_t, &'static str, &'static str)> {
        NAMED.iter().copied().find(|&(value, _, _)| value == self.0)
    }
}

/// Turns a `status_t` a Haiku call returned into a `Result`: `B_OK` is
/// `Ok(())`, anything else `Err(Status)`.
///
/// Calls that return a non-negative value on success (a thread id, a count)
/// need [`check_id`] instead.
pub fn check(s: status_t) -> Result<(), Status> {
    if s == raw::B_OK {
        Ok(())
    } else {
        Err(Status(s))
    }
}

/// For calls that return an id or count on success and a (negative) error
/// code on failure, such as `spawn_thread` and `find_thread`: non-negative
/// values are `Ok(value)`, negative ones `Err(Status)`.
pub fn check_id(value: i32) -> Result<i32, Status> {
    if value >= 0 {
        Ok(value)
    } else {
        Err(Status(value))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry() {
            Some((_, name, description)) => write!(f, "{name} ({description})"),
            None => write!(f, "unknown status {} ({:#010x})", self.0, self.0),
        }
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "Status({name})"),
            None => write!(f, "Status({})", self.0),
        }
    }
}

impl std::error::Error for Status {}

impl From<status_t> for Status {
    fn from(raw: status_t) -> Status {
        Status(raw)
    }
}

impl From<Status> for status_t {
    fn from(status: Status) -> status_t {
        status.0
    }
}
