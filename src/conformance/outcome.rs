//! What running a scenario produced, and its OS-independent snapshot view.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::scenario::{Api, ExitMode, Order, Scenario};

/// An error a thread API returned, named the way the API names it.
///
/// Outcomes group failures by [`OsError::name`], never by the numeric code:
/// POSIX APIs report errno names (`ESRCH`, `EINVAL`, ...) whose values differ
/// between Linux (`ESRCH` = 3) and Haiku (`ESRCH` = `B_POSIX_ERROR_BASE` + 13)
/// but whose meaning is the same, so the name is what a snapshot holds. The
/// native API reports Haiku's `B_*` names. A `B_BAD_THREAD_ID` from
/// `wait_for_thread` is NOT renamed to `ESRCH`: the two come from different
/// APIs, and each API's scenarios report their own API's name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OsError {
    /// Symbolic name (`ESRCH`, `B_BAD_THREAD_ID`, `thread panicked`, ...).
    pub name: String,
    /// The raw code on this OS, when there is one (not part of snapshots).
    pub code: Option<i64>,
}

impl OsError {
    /// An error with a name and a raw code.
    pub fn new(name: impl Into<String>, code: Option<i64>) -> OsError {
        OsError {
            name: name.into(),
            code,
        }
    }
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "{} ({code})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

impl std::error::Error for OsError {}

/// The errno name of a POSIX error code on this OS (`ESRCH`, ...), or
/// `errno <n>` for codes the suite does not expect.
pub fn errno_name(code: i32) -> OsError {
    let known = [
        (libc::ESRCH, "ESRCH"),
        (libc::EINVAL, "EINVAL"),
        (libc::EDEADLK, "EDEADLK"),
        (libc::EAGAIN, "EAGAIN"),
        (libc::ENOMEM, "ENOMEM"),
        (libc::EPERM, "EPERM"),
    ];
    let name = known
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("errno {code}"));
    OsError::new(name, Some(code.into()))
}

/// A sorted set of 1-based numbers, shown compactly as `1-25, 27, 30-31`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ranges(Vec<(usize, usize)>);

impl Ranges {
    /// Adds `n` (in any order; runs are merged).
    pub fn insert(&mut self, n: usize) {
        // index of the first range that starts after n
        let i = self.0.partition_point(|&(a, _)| a <= n);
        if i > 0 && self.0[i - 1].1 >= n {
            return; // already present
        }
        let joins_prev = i > 0 && self.0[i - 1].1 + 1 == n;
        let joins_next = i < self.0.len() && self.0[i].0 == n + 1;
        match (joins_prev, joins_next) {
            (true, true) => {
                self.0[i - 1].1 = self.0[i].1;
                self.0.remove(i);
            }
            (true, false) => self.0[i - 1].1 = n,
            (false, true) => self.0[i].0 = n,
            (false, false) => self.0.insert(i, (n, n)),
        }
    }

    /// Every number in the set, increasing.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().flat_map(|&(a, b)| a..=b)
    }

    /// How many numbers the set holds.
    pub fn len(&self) -> usize {
        self.0.iter().map(|&(a, b)| b - a + 1).sum()
    }

    /// Like `Display`, but at most `max` runs, then `… (+K more)`.
    pub fn short(&self, max: usize) -> String {
        if self.0.len() <= max {
            return self.to_string();
        }
        let head: Ranges = Ranges(self.0[..max].to_vec());
        format!("{head}, … (+{} more)", self.len() - head.len())
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<usize> for Ranges {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Ranges {
        let mut r = Ranges::default();
        for n in iter {
            r.insert(n);
        }
        r
    }
}

impl fmt::Display for Ranges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(a, b)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else {
                write!(f, "{a}-{b}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Ranges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The joins that failed with one error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FailureGroup {
    /// How many joins failed with this error.
    pub count: usize,
    /// Which joins failed: 1-based positions in the join order.
    pub joins: Ranges,
    /// Which threads they joined: 1-based spawn order (thread 1 is the
    /// oldest).
    pub threads: Ranges,
}

/// A join that succeeded but gave back the wrong exit value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WrongValue {
    /// 1-based spawn order of the thread.
    pub thread: usize,
    /// The value the thread returned.
    pub expected: i64,
    /// The value the join gave back.
    pub got: i64,
}

/// How many wrong exit values an outcome lists individually.
pub const WRONG_VALUES_LISTED: usize = 8;

/// The verdict of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every thread spawned, every join succeeded with the right value.
    Pass,
    /// A join failed or gave back a wrong value, or the threads did not
    /// exit in time (see the outcome's fields).
    Fail,
    /// Every spawned thread joined correctly, but the host refused to spawn
    /// all of them (a limit such as `vm.max_map_count` or
    /// `kernel.threads-max`; see [`Outcome::host_limit`]). Says nothing
    /// about the kernel's death entries at this thread count.
    SpawnFailed,
    /// The API cannot run on this OS (e.g. the native API on Linux); nothing
    /// was attempted and nothing was substituted.
    NotRunnable,
}

/// The outcome of one scenario on one API.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The API (or, for a model backend, the API it models).
    pub api: Api,
    /// The backend that ran it (`os`, `legacy-model`, `fixed-model`).
    pub backend: String,
    /// Scenario name.
    pub name: String,
    /// Threads requested.
    pub threads: usize,
    /// Exit mode.
    pub exit: ExitMode,
    /// Join order.
    pub order: Order,
    /// Seed of the shuffled order.
    pub seed: Option<u64>,
    /// Pass, fail or not runnable.
    pub verdict: Verdict,
    /// Why the scenario was not runnable, or the error that stopped it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Threads actually spawned.
    pub spawned: usize,
    /// Joins that succeeded (whatever value they gave back).
    pub joined_ok: usize,
    /// Failed joins grouped by error name.
    pub failures: BTreeMap<String, FailureGroup>,
    /// Failed spawns grouped by error name (count).
    pub spawn_failures: BTreeMap<String, usize>,
    /// When a spawn failed: the host limits that explain it, the likely one
    /// and what to do ([`HostLimits::explain`](super::host::HostLimits::explain)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_limit: Option<String>,
    /// Number of successful joins that gave back a wrong exit value.
    pub wrong_exit_values: usize,
    /// The first [`WRONG_VALUES_LISTED`] wrong values.
    pub wrong_exit_value_samples: Vec<WrongValue>,
    /// Wall time of the scenario (spawn to last join), in milliseconds.
    #[serde(rename = "elapsed_ms", serialize_with = "ser_ms")]
    pub elapsed: Duration,
}

fn ser_ms<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3)
}

impl Outcome {
    /// An empty outcome for `scenario` (nothing spawned yet).
    pub fn start(api: Api, backend: &str, scenario: &Scenario) -> Outcome {
        Outcome {
            api,
            backend: backend.to_string(),
            name: scenario.name.clone(),
            threads: scenario.threads,
            exit: scenario.exit,
            order: scenario.order,
            seed: scenario.seed,
            verdict: Verdict::Fail,
            note: None,
            spawned: 0,
            joined_ok: 0,
            failures: BTreeMap::new(),
            spawn_failures: BTreeMap::new(),
            host_limit: None,
            wrong_exit_values: 0,
            wrong_exit_value_samples: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// Records a failed join: `position` is the 0-based join position,
    /// `thread` the 0-based spawn index.
    pub fn record_failure(&mut self, error: &OsError, position: usize, thread: usize) {
        let g = self.failures.entry(error.name.clone()).or_default();
        g.count += 1;
        g.joins.insert(position + 1);
        g.threads.insert(thread + 1);
    }

    /// Records a join that gave back `got` instead of `expected`.
    pub fn record_wrong_value(&mut self, thread: usize, expected: i64, got: i64) {
        self.wrong_exit_values += 1;
        if self.wrong_exit_value_samples.len() < WRONG_VALUES_LISTED {
            self.wrong_exit_value_samples.push(WrongValue {
                thread: thread + 1,
                expected,
                got,
            });
        }
    }

    /// Sets the verdict from the counts (unless the scenario was not
    /// runnable). Only what the spawned threads did can fail a scenario;
    /// spawns the host refused make it [`Verdict::SpawnFailed`].
    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
        if self.verdict == Verdict::NotRunnable {
            return;
        }
        let joins_clean = self.note.is_none()
            && self.joined_ok == self.spawned
            && self.failures.is_empty()
            && self.wrong_exit_values == 0;
        self.verdict = if !joins_clean {
            Verdict::Fail
        } else if self.spawned < self.threads || !self.spawn_failures.is_empty() {
            Verdict::SpawnFailed
        } else {
            Verdict::Pass
        };
    }

    /// The failures as one short line: `25 B_BAD_THREAD_ID (joins 1-25)`.
    pub fn failure_summary(&self) -> String {
        let mut parts: Vec<String> = self
            .failures
            .iter()
            .map(|(name, g)| format!("{} {name} (joins {})", g.count, g.joins.short(6)))
            .collect();
        parts.extend(
            self.spawn_failures
                .iter()
                .map(|(name, n)| format!("{n} spawns {name}")),
        );
        if self.wrong_exit_values > 0 {
            parts.push(format!("{} wrong exit values", self.wrong_exit_values));
        }
        if let Some(note) = &self.note {
            if self.verdict != Verdict::NotRunnable {
                parts.push(note.clone());
            }
        }
        parts.join("; ")
    }

    /// The view that goes into snapshots: everything that must be the same
    /// on every OS and API — no API, backend, timing or raw error codes.
    pub fn snapshot_view(&self) -> SnapshotRow {
        SnapshotRow {
            name: self.name.clone(),
            threads: self.threads,
            exit: self.exit,
            order: self.order,
            seed: self.seed,
            verdict: self.verdict,
            spawned: self.spawned,
            joined_ok: self.joined_ok,
            failures: self.failures.clone(),
            spawn_failures: self.spawn_failures.clone(),
            wrong_exit_values: self.wrong_exit_values,
            error: self.note.clone(),
        }
    }
}

/// The OS- and API-independent part of an [`Outcome`] (see
/// [`Outcome::snapshot_view`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SnapshotRow {
    /// Scenario name.
    pub name: String,
    /// Threads requested.
    pub threads: usize,
    /// Exit mode.
    pub exit: ExitMode,
    /// Join order.
    pub order: Order,
    /// Shuffle seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Verdict.
    pub verdict: Verdict,
    /// Threads spawned.
    pub spawned: usize,
    /// Successful joins.
    pub joined_ok: usize,
    /// Failed joins by error name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<String, FailureGroup>,
    /// Failed spawns by error name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub spawn_failures: BTreeMap<String, usize>,
    /// Wrong exit values.
    pub wrong_exit_values: usize,
    /// Error that stopped the scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_compact() {
        let r: Ranges = [1, 2, 3, 5, 7, 8].into_iter().collect();
        assert_eq!(r.to_string(), "1-3, 5, 7-8");
        assert_eq!(r.short(2), "1-3, 5, … (+2 more)");
        assert_eq!(r.short(3), "1-3, 5, 7-8");
        assert_eq!(r.len(), 6);
        let mut r = Ranges::default();
        for n in [4, 2, 9, 3, 7, 8, 3, 1] {
            r.insert(n);
        }
        assert_eq!(r.to_string(), "1-4, 7-9");
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![1, 2, 3, 4, 7, 8, 9]);
    }

    #[test]
    fn errno_names_are_symbolic() {
        assert_eq!(errno_name(libc::ESRCH).name, "ESRCH");
        assert_eq!(errno_name(-12345).name, "errno -12345");
    }
}
