//! The backend trait, the shared thread body, and the harness that runs a
//! scenario on a backend.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

use super::exit_watch::ExitWaitError;
use super::host::{HostLimits, SpawnGuard, INJECTED_LIMIT};
use super::outcome::{OsError, Outcome, Verdict};
use super::scenario::{exit_value, Api, ExitMode, Scenario, Work};

/// What the harness asks a backend to spawn.
#[derive(Clone, Copy, Debug)]
pub struct ThreadSpec {
    /// 0-based spawn index.
    pub index: usize,
    /// The value the thread must return.
    pub exit_value: i32,
    /// What the thread does before returning.
    pub work: Work,
    /// If true the thread must not return before [`Backend::release`] is
    /// called for it ([`ExitMode::Live`]).
    pub gated: bool,
}

/// A way to spawn, wait for and join threads: the real OS through one thread
/// API, or a model of a kernel.
///
/// The harness ([`run_scenario`]) drives it: spawn every thread, then in
/// [`ExitMode::Exited`] wait until all have fully exited, then join them in
/// the scenario's order (in [`ExitMode::Live`], release each thread just
/// before joining it).
pub trait Backend {
    /// A spawned thread.
    type Handle;

    /// The API this backend exercises (or models).
    fn api(&self) -> Api;

    /// Short backend name for reports (`os`, `legacy-model`, ...).
    fn name(&self) -> &str;

    /// `Err(reason)` if this backend cannot run on this OS. The harness then
    /// reports the scenario as not runnable and attempts nothing.
    fn runnable(&self) -> Result<(), String>;

    /// Spawns one thread running `spec`.
    fn spawn(&mut self, spec: &ThreadSpec) -> Result<Self::Handle, OsError>;

    /// Returns once every thread in `handles` has fully exited, as the OS
    /// (or model) reports it, or fails after `timeout`.
    fn await_exited(
        &mut self,
        handles: &[Self::Handle],
        timeout: Duration,
    ) -> Result<(), ExitWaitError>;

    /// Lets a gated thread run to its end.
    fn release(&mut self, handle: &Self::Handle);

    /// Joins a thread and returns the exit value the join gave back.
    fn join(&mut self, handle: Self::Handle) -> Result<i64, OsError>;

    /// Whether this backend spawns real threads in this process, so the
    /// harness must stop before the host's per-process limits
    /// ([`SpawnGuard`]). Models return `false` (the default).
    fn spawns_real_threads(&self) -> bool {
        false
    }
}

/// In [`ExitMode::Exited`] scenarios at most this many spawned threads may
/// not yet have exited: before spawning thread `i` the harness waits until
/// thread `i - SPAWN_WINDOW` has fully exited. This keeps a 10000-thread
/// scenario far below Haiku's system-wide limit of 4096 threads however the
/// scheduler orders spawning and exiting, and changes nothing else: every
/// thread has still exited before the first join, in spawn order or close
/// to it.
pub const SPAWN_WINDOW: usize = 256;

/// Default time [`Backend::await_exited`] is given.
pub const DEFAULT_EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of a run that are not part of the scenario.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// How long to wait for the threads to exit before failing the scenario.
    pub exit_timeout: Duration,
    /// Progress bar to advance (one tick per spawn and per join); use
    /// [`ProgressBar::hidden`] for none.
    pub progress: ProgressBar,
    /// Fail every spawn after this many in a scenario, as a host limit
    /// would (with [`INJECTED_LIMIT`]): lets tests and users see how the
    /// suite reports a host that refuses threads. `None`: no injected limit.
    pub spawn_limit: Option<usize>,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            exit_timeout: DEFAULT_EXIT_TIMEOUT,
            progress: ProgressBar::hidden(),
            spawn_limit: None,
        }
    }
}

/// Runs one scenario on a backend.
///
/// Never hangs on a thread that does not exit in [`ExitMode::Exited`]: after
/// the timeout the scenario fails with the error and no join is attempted
/// (the threads are left to the OS). A spawn failure stops spawning: the
/// outcome records it with the host limits that explain it (see
/// [`HostLimits::explain`]), and the threads spawned so far are still
/// joined. Real backends never spawn past the point where the host's
/// per-process limits would abort the process ([`SpawnGuard`]).
pub fn run_scenario<B: Backend>(
    backend: &mut B,
    scenario: &Scenario,
    opts: &RunOptions,
) -> Outcome {
    let mut out = Outcome::start(backend.api(), backend.name(), scenario);
    if let Err(reason) = backend.runnable() {
        out.verdict = Verdict::NotRunnable;
        out.note = Some(reason);
        return out;
    }
    let started = Instant::now();
    let gated = scenario.exit == ExitMode::Live;
    let mut handles: Vec<Option<B::Handle>> = Vec::with_capacity(scenario.threads);
    let mut guard = backend
        .spawns_real_threads()
        .then(SpawnGuard::new)
        .flatten();
    for index in 0..scenario.threads {
        if !gated && index >= SPAWN_WINDOW {
            if let Some(Some(old)) = handles.get(index - SPAWN_WINDOW) {
                if let Err(e) = backend.await_exited(std::slice::from_ref(old), opts.exit_timeout) {
                    out.spawned = handles.len();
                    out.note = Some(e.to_string());
                    out.finish(started.elapsed());
                    return out;
                }
            }
        }
        let spec = ThreadSpec {
            index,
            exit_value: exit_value(index),
            work: scenario.work,
            gated,
        };
        let spawned = if opts.spawn_limit.is_some_and(|limit| index >= limit) {
            Err(OsError::new(INJECTED_LIMIT, None))
        } else if let Some(Err(e)) = guard.as_mut().map(SpawnGuard::admit) {
            Err(e)
        } else {
            backend.spawn(&spec)
        };
        match spawned {
            Ok(h) => handles.push(Some(h)),
            Err(e) => {
                *out.spawn_failures.entry(e.name.clone()).or_default() += scenario.threads - index;
                out.host_limit = Some(HostLimits::read().explain(index, &e.to_string()));
                break;
            }
        }
        opts.progress.inc(1);
    }
    out.spawned = handles.len();

    if scenario.exit == ExitMode::Exited {
        let spawned: Vec<B::Handle> = handles.iter_mut().map(|h| h.take().unwrap()).collect();
        if let Err(e) = backend.await_exited(&spawned, opts.exit_timeout) {
            out.note = Some(e.to_string());
            out.finish(started.elapsed());
            return out;
        }
        handles = spawned.into_iter().map(Some).collect();
    }

    for (position, thread) in scenario.plan().into_iter().enumerate() {
        let Some(handle) = handles.get_mut(thread).and_then(Option::take) else {
            continue; // never spawned
        };
        if gated {
            backend.release(&handle);
        }
        match backend.join(handle) {
            Ok(got) => {
                out.joined_ok += 1;
                let expected = i64::from(exit_value(thread));
                if scenario.check_exit_values && got != expected {
                    out.record_wrong_value(thread, expected, got);
                }
            }
            Err(e) => out.record_failure(&e, position, thread),
        }
        opts.progress.inc(1);
    }
    out.finish(started.elapsed());
    out
}

/// A one-shot gate a thread waits on until the harness opens it.
#[derive(Debug, Default)]
pub struct Gate {
    open: Mutex<bool>,
    cond: Condvar,
}

impl Gate {
    /// Opens the gate (idempotent).
    pub fn open(&self) {
        *self.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cond.notify_all();
    }

    /// Blocks until the gate is open.
    pub fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while !*open {
            open = self.cond.wait(open).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Shared state of one real thread: its OS thread id (published by the
/// thread itself as its first action) and its gate.
#[derive(Debug)]
pub struct ThreadCtl {
    spec: ThreadSpec,
    tid: AtomicI64,
    gate: Gate,
}

/// Value of [`ThreadCtl::tid`] before the thread has published its id.
const TID_UNKNOWN: i64 = i64::MIN;

impl ThreadCtl {
    /// Control block for a thread about to be spawned.
    pub fn new(spec: &ThreadSpec) -> Arc<ThreadCtl> {
        Arc::new(ThreadCtl {
            spec: *spec,
            tid: AtomicI64::new(TID_UNKNOWN),
            gate: Gate::default(),
        })
    }

    /// The body every real backend runs in the new thread: publish the OS
    /// thread id, do the work, wait at the gate if gated, return the exit
    /// value.
    pub fn run(&self) -> i32 {
        let tid = super::exit_watch::current_os_thread_id().unwrap_or(TID_UNKNOWN + 1);
        self.tid.store(tid, Ordering::Release);
        if let Work::SleepMs(ms) = self.spec.work {
            std::thread::sleep(Duration::from_millis(ms));
        }
        if self.spec.gated {
            self.gate.wait();
        }
        self.spec.exit_value
    }

    /// The thread's OS id, once it has started.
    pub fn tid(&self) -> Option<i64> {
        match self.tid.load(Ordering::Acquire) {
            TID_UNKNOWN => None,
            t => Some(t),
        }
    }

    /// Opens the thread's gate.
    pub fn release(&self) {
        self.gate.open();
    }
}
