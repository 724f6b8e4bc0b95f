//! Backends that run real threads through the portable APIs: Rust's
//! `std::thread` and POSIX threads (through the libc crate).

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Once};
use std::time::Duration;

use super::backend::{Backend, ThreadCtl, ThreadSpec};
use super::exit_watch::{self, ExitWaitError};
use super::outcome::{errno_name, OsError};
use super::scenario::Api;

/// Stack size of the spawned threads: they do almost nothing, and small
/// stacks keep 10000 exited-but-unjoined threads (whose stacks the C library
/// keeps until the join) cheap.
pub const STACK_SIZE: usize = 32 * 1024;

/// Whether this OS can establish that threads have exited (Linux, Haiku).
fn exit_watch_supported() -> Result<(), String> {
    if cfg!(any(target_os = "linux", target_os = "haiku")) {
        Ok(())
    } else {
        Err(format!(
            "{} is not supported: the suite can only establish thread exit on Linux and Haiku",
            std::env::consts::OS
        ))
    }
}

/// `std::thread::Builder::spawn` + `JoinHandle::join`, as cargo uses them.
///
/// When the underlying `pthread_join` fails, std panics in the joining thread
/// with `failed to join thread: <io error>`; the backend catches that panic
/// and reports the OS error it names (`ESRCH` when the thread was lost).
#[derive(Debug, Default)]
pub struct StdBackend;

/// A thread spawned by [`StdBackend`].
#[derive(Debug)]
pub struct StdHandle {
    handle: std::thread::JoinHandle<i32>,
    ctl: Arc<ThreadCtl>,
}

const JOIN_PANIC: &str = "failed to join thread";

/// Installs (once) a panic hook that keeps std's "failed to join thread"
/// panics, which [`StdBackend::join`] catches and reports, off stderr. Other
/// panics reach the previous hook unchanged.
fn quiet_join_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !panic_message(info.payload()).starts_with(JOIN_PANIC) {
                previous(info);
            }
        }));
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("(non-string panic)")
    }
}

/// Turns std's join panic message into the OS error it names:
/// `failed to join thread: No such process (os error 3)` -> `ESRCH`.
pub fn parse_join_panic(message: &str) -> OsError {
    let code = message
        .rsplit_once("(os error ")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .and_then(|n| n.trim().parse::<i32>().ok());
    match code {
        Some(code) if message.starts_with(JOIN_PANIC) => errno_name(code),
        _ => OsError::new(format!("join panicked: {message}"), None),
    }
}

impl Backend for StdBackend {
    type Handle = StdHandle;

    fn api(&self) -> Api {
        Api::Std
    }

    fn name(&self) -> &str {
        "os"
    }

    fn spawns_real_threads(&self) -> bool {
        true
    }

    fn runnable(&self) -> Result<(), String> {
        exit_watch_supported()
    }

    fn spawn(&mut self, spec: &ThreadSpec) -> Result<StdHandle, OsError> {
        let ctl = ThreadCtl::new(spec);
        let body = Arc::clone(&ctl);
        // unnamed: naming costs a syscall per thread and is not under test
        let handle = std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn(move || body.run())
            .map_err(|e| match e.raw_os_error() {
                Some(code) => errno_name(code),
                None => OsError::new(format!("spawn failed: {e}"), None),
            })?;
        Ok(StdHandle { handle, ctl })
    }

    fn await_exited(
        &mut self,
        handles: &[StdHandle],
        timeout: Duration,
    ) -> Result<(), ExitWaitError> {
        exit_watch::await_exited(handles.iter().map(|h| &*h.ctl), timeout)
    }

    fn release(&mut self, handle: &StdHandle) {
        handle.ctl.release();
    }

    fn join(&mut self, handle: StdHandle) -> Result<i64, OsError> {
        quiet_join_panics();
        match panic::catch_unwind(AssertUnwindSafe(|| handle.handle.join())) {
            Ok(Ok(value)) => Ok(i64::from(value)),
            Ok(Err(payload)) => Err(OsError::new(
                format!("thread panicked: {}", panic_message(&*payload)),
                None,
            )),
            Err(payload) => Err(parse_join_panic(&panic_message(&*payload))),
        }
    }
}

/// `pthread_create` + `pthread_join` through the libc crate; the exit value
/// travels as the thread's `void *` result.
#[derive(Debug, Default)]
pub struct PthreadBackend;

/// A thread spawned by [`PthreadBackend`].
#[derive(Debug)]
pub struct PthreadHandle {
    thread: libc::pthread_t,
    ctl: Arc<ThreadCtl>,
}

extern "C" fn pthread_body(arg: *mut libc::c_void) -> *mut libc::c_void {
    // SAFETY: `arg` is the Box<Arc<ThreadCtl>> leaked by `spawn`; it is
    // reclaimed exactly once, here.
    let ctl: Box<Arc<ThreadCtl>> = unsafe { Box::from_raw(arg.cast()) };
    // A panic must not unwind into C; `run` does not panic (poisoned locks
    // are recovered), but be sure.
    match panic::catch_unwind(AssertUnwindSafe(|| ctl.run())) {
        Ok(v) => v as isize as *mut libc::c_void,
        Err(_) => std::process::abort(),
    }
}

impl Backend for PthreadBackend {
    type Handle = PthreadHandle;

    fn api(&self) -> Api {
        Api::Pthread
    }

    fn name(&self) -> &str {
        "os"
    }

    fn spawns_real_threads(&self) -> bool {
        true
    }

    fn runnable(&self) -> Result<(), String> {
        exit_watch_supported()
    }

    fn spawn(&mut self, spec: &ThreadSpec) -> Result<PthreadHandle, OsError> {
        let ctl = ThreadCtl::new(spec);
        let arg = Box::into_raw(Box::new(Arc::clone(&ctl)));
        // SAFETY: attr is initialised before use and destroyed after;
        // pthread_create gets a valid start routine and argument; on failure
        // the argument is reclaimed since no thread will.
        unsafe {
            let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
            let rc = libc::pthread_attr_init(attr.as_mut_ptr());
            if rc != 0 {
                drop(Box::from_raw(arg));
                return Err(errno_name(rc));
            }
            let mut attr = attr.assume_init();
            let stack = STACK_SIZE.max(libc::PTHREAD_STACK_MIN);
            let rc = libc::pthread_attr_setstacksize(&mut attr, stack);
            if rc != 0 {
                libc::pthread_attr_destroy(&mut attr);
                drop(Box::from_raw(arg));
                return Err(errno_name(rc));
            }
            let mut thread = std::mem::MaybeUninit::<libc::pthread_t>::uninit();
            let rc = libc::pthread_create(thread.as_mut_ptr(), &attr, pthread_body, arg.cast());
            libc::pthread_attr_destroy(&mut attr);
            if rc != 0 {
                drop(Box::from_raw(arg));
                return Err(errno_name(rc));
            }
            Ok(PthreadHandle {
                thread: thread.assume_init(),
                ctl,
            })
        }
    }

    fn await_exited(
        &mut self,
        handles: &[PthreadHandle],
        timeout: Duration,
    ) -> Result<(), ExitWaitError> {
        exit_watch::await_exited(handles.iter().map(|h| &*h.ctl), timeout)
    }

    fn release(&mut self, handle: &PthreadHandle) {
        handle.ctl.release();
    }

    fn join(&mut self, handle: PthreadHandle) -> Result<i64, OsError> {
        let mut value: *mut libc::c_void = std::ptr::null_mut();
        // SAFETY: the thread was created joinable and is joined once.
        let rc = unsafe { libc::pthread_join(handle.thread, &mut value) };
        if rc != 0 {
            return Err(errno_name(rc));
        }
        Ok(value as isize as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_panic_parsing() {
        let e = parse_join_panic(&format!(
            "failed to join thread: No such process (os error {})",
            libc::ESRCH
        ));
        assert_eq!(e.name, "ESRCH");
        let e = parse_join_panic("something else");
        assert!(e.name.starts_with("join panicked"));
    }
}
