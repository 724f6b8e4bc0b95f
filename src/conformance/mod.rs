//! The thread-join conformance suite.
//!
//! A [`Scenario`] spawns N threads through one [`Api`], optionally waits until
//! the OS reports every one of them fully exited ([`ExitMode::Exited`]), joins
//! them in a given [`Order`] and checks that each join gives back that
//! thread's own exit value. The [`Outcome`] counts spawns, successful joins,
//! failed joins grouped by error, and wrong exit values.
//!
//! Backends ([`Backend`]) run the scenarios on the real OS ([`StdBackend`],
//! [`PthreadBackend`], [`NativeBackend`]) or on a model of the kernel's
//! death-entry table ([`KernelModel`]). The legacy model (32 entries, oldest
//! evicted) makes exactly the exited scenarios with more than 32 threads
//! fail, which proves the suite can see the bug; the fixed model and a
//! correct OS pass all of them with the same snapshot.
//!
//! Entry point of `dead-threads conformance`: [`run`].

pub mod backend;
mod cli;
pub mod exit_watch;
pub mod host;
pub mod model;
pub mod native;
pub mod outcome;
pub mod posix;
pub mod scenario;

pub use backend::{run_scenario, Backend, RunOptions, ThreadSpec};
pub use cli::{run, Args, BackendKind};
pub use model::KernelModel;
pub use native::NativeBackend;
pub use outcome::{OsError, Outcome, SnapshotRow, Verdict};
pub use posix::{PthreadBackend, StdBackend};
pub use scenario::{Api, ExitMode, Matrix, Order, Scenario};

/// Runs `scenarios` for one API on the chosen backend kind, in order.
///
/// `on_start` is called before each scenario (for progress display).
pub fn run_api(
    kind: BackendKind,
    api: Api,
    scenarios: &[Scenario],
    opts: &RunOptions,
    on_start: impl FnMut(&Scenario),
) -> Vec<Outcome> {
    run_api_each(kind, api, scenarios, opts, on_start, |_| {})
}

/// Like [`run_api`], and `on_done` sees each outcome as soon as its
/// scenario has ended (so a report can be written line by line).
pub fn run_api_each(
    kind: BackendKind,
    api: Api,
    scenarios: &[Scenario],
    opts: &RunOptions,
    mut on_start: impl FnMut(&Scenario),
    mut on_done: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    fn all<B: Backend>(
        b: &mut B,
        scenarios: &[Scenario],
        opts: &RunOptions,
        on_start: &mut dyn FnMut(&Scenario),
        on_done: &mut dyn FnMut(&Outcome),
    ) -> Vec<Outcome> {
        scenarios
            .iter()
            .map(|s| {
                on_start(s);
                let o = run_scenario(b, s, opts);
                on_done(&o);
                o
            })
            .collect()
    }
    let start: &mut dyn FnMut(&Scenario) = &mut on_start;
    let done: &mut dyn FnMut(&Outcome) = &mut on_done;
    match (kind, api) {
        (BackendKind::Os, Api::Std) => all(&mut StdBackend, scenarios, opts, start, done),
        (BackendKind::Os, Api::Pthread) => all(&mut PthreadBackend, scenarios, opts, start, done),
        (BackendKind::Os, Api::Native) => all(&mut NativeBackend, scenarios, opts, start, done),
        (BackendKind::LegacyModel, _) => {
            all(&mut KernelModel::legacy(), scenarios, opts, start, done)
        }
        (BackendKind::FixedModel, _) => {
            all(&mut KernelModel::fixed(), scenarios, opts, start, done)
        }
    }
}
