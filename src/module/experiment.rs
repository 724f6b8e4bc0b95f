//! The native-thread experiment of tests/haiku_device.rs, written once
//! against [`ThreadBackend`] so that it runs unchanged on Haiku (threads of
//! haiku-sys plus the dead_threads device) and on a model of a kernel's dead
//! list ([`super::model`]), which is how the snapshots are shown to fail
//! against the 32-entry legacy kernel.

use std::time::{Duration, Instant};

use haiku_sys::device::DeadEntry;
use haiku_sys::{status_t, thread_id, Status};

use super::report::NativeOutcome;

/// What the experiment needs from a system.
pub trait ThreadBackend {
    /// Spawns a thread that exits with `value` without being waited for,
    /// and lets it run.
    fn spawn_exiting(&mut self, value: status_t) -> Result<thread_id, Status>;
    /// Whether `id` is still in the thread table (`get_thread_info` does
    /// not yet return `B_BAD_THREAD_ID`).
    fn is_alive(&mut self, id: thread_id) -> Result<bool, Status>;
    /// `wait_for_thread(id)`: the exit value, or why there is none.
    fn join(&mut self, id: thread_id) -> Result<status_t, Status>;
    /// The caller's team's dead list (all of it).
    fn dead_list(&mut self) -> Result<Vec<DeadEntry>, Status>;
    /// Gives exiting threads time to finish (a short sleep on Haiku).
    fn pause(&mut self);
}

/// The exit value of native thread `index`: distinct for every thread and
/// distinct from the kernel scenario's values.
pub const fn native_exit_value(index: u32) -> status_t {
    0x4e00_0000 + index as i32
}

/// Why the experiment could not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A call failed.
    #[error("{what} failed: {status}")]
    Call {
        /// The call.
        what: &'static str,
        /// Its result.
        status: Status,
    },
    /// Threads did not leave the thread table in time (they were joined
    /// before returning).
    #[error("{alive} threads were still alive after {waited:?}; they were joined")]
    StillAlive {
        /// How many.
        alive: usize,
        /// How long the experiment waited.
        waited: Duration,
    },
}

fn call<T>(what: &'static str, r: Result<T, Status>) -> Result<T, ExperimentError> {
    r.map_err(|status| ExperimentError::Call { what, status })
}

/// Spawns `threads` threads in batches of `batch` (so that no more than
/// `batch` live at once: Haiku allows 4096 threads in all), waits after each
/// batch until all of it has left the thread table, reads the dead list,
/// joins every thread in spawn order and reads the dead list again.
///
/// Every spawned thread is joined on every path.
pub fn native_experiment(
    backend: &mut impl ThreadBackend,
    threads: u32,
    batch: u32,
    exit_timeout: Duration,
) -> Result<NativeOutcome, ExperimentError> {
    let mut spawned: Vec<(thread_id, status_t)> = Vec::with_capacity(threads as usize);
    let result = spawn_and_let_exit(backend, threads, batch.max(1), exit_timeout, &mut spawned);
    let after_exit = match result {
        Ok(()) => call("reading the dead list", backend.dead_list()),
        Err(e) => Err(e),
    };
    let joins: Vec<(thread_id, Result<status_t, Status>)> = spawned
        .iter()
        .map(|&(id, _)| (id, backend.join(id)))
        .collect();
    let after_exit = after_exit?;
    let after_join = call("reading the dead list", backend.dead_list())?;
    Ok(NativeOutcome::observe(
        &spawned,
        &after_exit,
        &joins,
        &after_join,
    ))
}

fn spawn_and_let_exit(
    backend: &mut impl ThreadBackend,
    threads: u32,
    batch: u32,
    exit_timeout: Duration,
    spawned: &mut Vec<(thread_id, status_t)>,
) -> Result<(), ExperimentError> {
    let mut index = 0;
    while index < threads {
        let first = spawned.len();
        let end = threads.min(index + batch);
        for i in index..end {
            let value = native_exit_value(i);
            let id = call("spawning a thread", backend.spawn_exiting(value))?;
            spawned.push((id, value));
        }
        index = end;
        let start = Instant::now();
        let mut next = first;
        while next < spawned.len() {
            if !call("get_thread_info", backend.is_alive(spawned[next].0))? {
                next += 1;
                continue;
            }
            if start.elapsed() > exit_timeout {
                return Err(ExperimentError::StillAlive {
                    alive: spawned.len() - next,
                    waited: start.elapsed(),
                });
            }
            backend.pause();
        }
    }
    Ok(())
}
