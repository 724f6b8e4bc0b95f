//! What a conformance scenario is: which API, how many threads, whether they
//! have all exited before the first join, and in which order they are joined.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// Thread counts of the default matrix. 32 is the legacy kernel's
/// `MAX_DEAD_THREADS`; 33 is the first count that loses an entry on it; 57 is
/// the count from the original report (cargo building cargo).
pub const DEFAULT_THREADS: [usize; 6] = [1, 32, 33, 57, 1000, 10000];

/// Seed of the shuffled join order when none is given.
pub const DEFAULT_SEED: u64 = 0x5eed_2020;

/// Largest thread count for which [`ExitMode::Live`] scenarios are generated.
///
/// A live scenario keeps every one of its threads alive at once. Haiku's
/// kernel allows 4096 threads system-wide by default (`sMaxThreads` in
/// thread.cpp), so a live scenario with 10000 threads cannot run there, and
/// the snapshot must hold on Haiku as well as on Linux. Joins of running
/// threads never touch the death-entry table, so 1000 covers them; counts
/// above this limit run only in [`ExitMode::Exited`] mode (the mode that
/// exercises the bug). The omission is reported, never silent: see
/// [`Matrix::omitted`].
pub const MAX_LIVE_THREADS: usize = 2000;

/// Largest thread count the suite accepts for one scenario.
pub const MAX_THREADS: usize = 100_000;

/// Name of the scenario that reproduces the original report.
pub const SEED_REPRODUCER: &str = "seed-reproducer";

/// Threads in the seed reproducer (cargo's jobserver helper threads when
/// cargo builds cargo).
pub const SEED_REPRODUCER_THREADS: usize = 57;

/// How long each thread of the seed reproducer sleeps before it exits.
pub const SEED_REPRODUCER_SLEEP: Duration = Duration::from_millis(500);

/// The thread API a scenario exercises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// Rust's `std::thread::spawn` and `JoinHandle::join` (what cargo uses).
    Std,
    /// `pthread_create` and `pthread_join` through the libc crate.
    Pthread,
    /// Haiku's native `spawn_thread`, `resume_thread` and `wait_for_thread`
    /// (through haiku-sys). Runs on Haiku only.
    Native,
}

impl Api {
    /// Every API, in report order.
    pub const ALL: [Api; 3] = [Api::Std, Api::Pthread, Api::Native];

    /// The name used in tables, JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Api::Std => "std",
            Api::Pthread => "pthread",
            Api::Native => "native",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The order in which the spawned threads are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Spawn order: the oldest thread first (the one the legacy kernel
    /// evicts first).
    Forward,
    /// Reverse spawn order: the youngest thread first.
    Reverse,
    /// A permutation drawn from a seeded generator; the seed is part of the
    /// scenario and printed, so a run can be repeated exactly.
    Shuffled,
}

impl Order {
    /// Every order, in report order.
    pub const ALL: [Order; 3] = [Order::Forward, Order::Reverse, Order::Shuffled];

    /// The name used in tables, JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Order::Forward => "forward",
            Order::Reverse => "reverse",
            Order::Shuffled => "shuffled",
        }
    }

    /// The join plan for `threads` threads: element `k` is the spawn index of
    /// the thread joined `k`-th. `seed` is used by [`Order::Shuffled`] only;
    /// the same seed gives the same plan with the same build of this crate
    /// (the generator is `fastrand`'s wyrand, pinned by Cargo.lock).
    pub fn plan(self, threads: usize, seed: u64) -> Vec<usize> {
        let mut plan: Vec<usize> = (0..threads).collect();
        match self {
            Order::Forward => {}
            Order::Reverse => plan.reverse(),
            Order::Shuffled => fastrand::Rng::with_seed(seed).shuffle(&mut plan),
        }
        plan
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the threads are still running when they are joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExitMode {
    /// Every thread has fully exited (as the OS reports it) before the first
    /// join, so each join must find the thread's death entry. The legacy
    /// kernel fails this mode for more than 32 threads.
    Exited,
    /// Every thread is held alive until the main thread is about to join it,
    /// so each join finds a running thread and waits for it. At most one
    /// exited-but-unjoined thread exists at any time.
    Live,
}

impl ExitMode {
    /// Every mode, in report order.
    pub const ALL: [ExitMode; 2] = [ExitMode::Exited, ExitMode::Live];

    /// The name used in tables, JSON and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ExitMode::Exited => "exited",
            ExitMode::Live => "live",
        }
    }
}

impl fmt::Display for ExitMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What each spawned thread does before it returns its exit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Work {
    /// Return at once.
    Return,
    /// Sleep this many milliseconds, then return.
    SleepMs(u64),
}

/// One scenario: everything that determines its outcome except the API and
/// the backend it runs on (so one scenario list, and one snapshot, serves
/// every API).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scenario {
    /// Unique, stable name, e.g. `exited-forward-57` or `seed-reproducer`.
    pub name: String,
    /// Number of threads spawned.
    pub threads: usize,
    /// Whether the threads have exited before the first join.
    pub exit: ExitMode,
    /// Join order.
    pub order: Order,
    /// Seed of the shuffled order (`None` for the other orders).
    pub seed: Option<u64>,
    /// What each thread does.
    pub work: Work,
    /// Whether each thread returns a distinct exit value that the join must
    /// give back (thread `i` returns [`exit_value`]`(i)`).
    pub check_exit_values: bool,
}

impl Scenario {
    /// A matrix scenario with the canonical name `<exit>-<order>-<threads>`.
    pub fn new(threads: usize, exit: ExitMode, order: Order, seed: u64) -> Scenario {
        Scenario {
            name: format!("{exit}-{order}-{threads}"),
            threads,
            exit,
            order,
            seed: (order == Order::Shuffled).then_some(seed),
            work: Work::Return,
            check_exit_values: true,
        }
    }

    /// The reproducer from the original report (nielx, 2020): 57 threads
    /// that each sleep 500 ms, joined in spawn order only after all of them
    /// have exited. On a legacy kernel the first 25 joins fail.
    pub fn seed_reproducer() -> Scenario {
        Scenario {
            name: SEED_REPRODUCER.to_string(),
            threads: SEED_REPRODUCER_THREADS,
            exit: ExitMode::Exited,
            order: Order::Forward,
            seed: None,
            work: Work::SleepMs(SEED_REPRODUCER_SLEEP.as_millis() as u64),
            check_exit_values: true,
        }
    }

    /// The join plan (see [`Order::plan`]).
    pub fn plan(&self) -> Vec<usize> {
        self.order.plan(self.threads, self.seed.unwrap_or(0))
    }
}

/// The exit value thread `index` (0-based spawn index) returns. Distinct for
/// every index, never 0, and small enough for every API's exit channel
/// (`status_t`, a pointer, an `i32`).
pub fn exit_value(index: usize) -> i32 {
    // MAX_THREADS keeps this far below i32::MAX.
    1000 + index as i32
}

/// A set of scenarios: thread counts x exit modes x orders, plus the seed
/// reproducer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    /// Thread counts.
    pub threads: Vec<usize>,
    /// Exit modes.
    pub exits: Vec<ExitMode>,
    /// Join orders.
    pub orders: Vec<Order>,
    /// Seed of the shuffled order.
    pub seed: u64,
    /// Whether to add the seed reproducer ([`Scenario::seed_reproducer`]).
    pub seed_reproducer: bool,
    /// Whether threads return distinct exit values that are checked.
    pub check_exit_values: bool,
}

impl Default for Matrix {
    fn default() -> Matrix {
        Matrix {
            threads: DEFAULT_THREADS.to_vec(),
            exits: ExitMode::ALL.to_vec(),
            orders: Order::ALL.to_vec(),
            seed: DEFAULT_SEED,
            seed_reproducer: true,
            check_exit_values: true,
        }
    }
}

impl Matrix {
    /// The scenarios, in a stable order: the seed reproducer first, then by
    /// exit mode, thread count and order. Live scenarios above
    /// [`MAX_LIVE_THREADS`] are left out (see [`Matrix::omitted`]).
    pub fn scenarios(&self) -> Vec<Scenario> {
        let mut out = Vec::new();
        if self.seed_reproducer {
            let mut s = Scenario::seed_reproducer();
            s.check_exit_values = self.check_exit_values;
            out.push(s);
        }
        for &exit in &dedup(&self.exits) {
            for &threads in &dedup(&self.threads) {
                if exit == ExitMode::Live && threads > MAX_LIVE_THREADS {
                    continue;
                }
                for &order in &dedup(&self.orders) {
                    let mut s = Scenario::new(threads, exit, order, self.seed);
                    s.check_exit_values = self.check_exit_values;
                    out.push(s);
                }
            }
        }
        out
    }

    /// Human-readable notes on the combinations [`Matrix::scenarios`] leaves
    /// out, and why.
    pub fn omitted(&self) -> Vec<String> {
        if !self.exits.contains(&ExitMode::Live) {
            return Vec::new();
        }
        dedup(&self.threads)
            .into_iter()
            .filter(|&n| n > MAX_LIVE_THREADS)
            .map(|n| {
                format!(
                    "live scenarios with {n} threads are not run: they need {n} threads alive \
                     at once, more than Haiku's default system-wide limit of 4096, and the \
                     suite must mean the same on Linux and Haiku (live joins run up to \
                     {MAX_LIVE_THREADS} threads; exited scenarios run at {n})"
                )
            })
            .collect()
    }
}

fn dedup<T: Copy + PartialEq>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for &item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_permutations() {
        for order in Order::ALL {
            let mut plan = order.plan(100, 7);
            plan.sort_unstable();
            assert_eq!(plan, (0..100).collect::<Vec<_>>());
        }
        assert_eq!(Order::Reverse.plan(3, 0), vec![2, 1, 0]);
    }

    #[test]
    fn shuffled_plan_depends_on_seed_only() {
        assert_eq!(Order::Shuffled.plan(50, 1), Order::Shuffled.plan(50, 1));
        assert_ne!(Order::Shuffled.plan(50, 1), Order::Shuffled.plan(50, 2));
        assert_ne!(Order::Shuffled.plan(50, 1), Order::Forward.plan(50, 1));
    }

    #[test]
    fn default_matrix_shape() {
        let m = Matrix::default();
        let s = m.scenarios();
        // reproducer + exited 6x3 + live 5x3 (10000 live is omitted)
        assert_eq!(s.len(), 1 + 18 + 15);
        assert_eq!(s[0].name, SEED_REPRODUCER);
        assert_eq!(m.omitted().len(), 1);
        let mut names: Vec<_> = s.iter().map(|s| s.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), s.len(), "scenario names are unique");
    }

    #[test]
    fn exit_values_are_distinct() {
        assert_ne!(exit_value(0), 0);
        assert_ne!(exit_value(0), exit_value(1));
        assert!(exit_value(MAX_THREADS) > 0);
    }
}
