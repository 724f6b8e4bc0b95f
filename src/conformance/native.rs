//! Backend for Haiku's native thread API (`spawn_thread`, `resume_thread`,
//! `wait_for_thread`) through haiku-sys.
//!
//! It compiles on every host, but only runs on Haiku: elsewhere
//! [`Backend::runnable`] says so and the harness reports every native
//! scenario as not runnable. Nothing is substituted.

use std::sync::Arc;
use std::time::Duration;

use super::backend::{Backend, ThreadCtl, ThreadSpec};
use super::exit_watch::{self, ExitWaitError};
use super::outcome::OsError;
use super::scenario::Api;

/// The native Haiku thread API.
#[derive(Debug, Default)]
pub struct NativeBackend;

/// A thread spawned by [`NativeBackend`].
pub struct NativeHandle {
    thread: haiku_sys::thread::Thread,
    ctl: Arc<ThreadCtl>,
}

/// Converts a haiku-sys status into an [`OsError`] named after its `B_*`
/// (or POSIX) constant.
pub fn status_error(status: haiku_sys::Status) -> OsError {
    let name = status
        .name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("status {}", status.raw()));
    OsError::new(name, Some(i64::from(status.raw())))
}

impl Backend for NativeBackend {
    type Handle = NativeHandle;

    fn api(&self) -> Api {
        Api::Native
    }

    fn name(&self) -> &str {
        "os"
    }

    fn spawns_real_threads(&self) -> bool {
        true
    }

    fn runnable(&self) -> Result<(), String> {
        if cfg!(target_os = "haiku") {
            Ok(())
        } else {
            Err(format!(
                "the native Haiku thread API (spawn_thread/wait_for_thread) needs Haiku; \
                 this is {}",
                std::env::consts::OS
            ))
        }
    }

    fn spawn(&mut self, spec: &ThreadSpec) -> Result<NativeHandle, OsError> {
        let ctl = ThreadCtl::new(spec);
        let body = Arc::clone(&ctl);
        let thread = haiku_sys::thread::spawn(&format!("dt-{}", spec.index), move || body.run())
            .map_err(status_error)?;
        thread.resume().map_err(status_error)?;
        Ok(NativeHandle { thread, ctl })
    }

    fn await_exited(
        &mut self,
        handles: &[NativeHandle],
        timeout: Duration,
    ) -> Result<(), ExitWaitError> {
        exit_watch::await_exited(handles.iter().map(|h| &*h.ctl), timeout)
    }

    fn release(&mut self, handle: &NativeHandle) {
        handle.ctl.release();
    }

    fn join(&mut self, handle: NativeHandle) -> Result<i64, OsError> {
        handle.thread.wait().map(i64::from).map_err(status_error)
    }
}
