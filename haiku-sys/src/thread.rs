//! Safe wrappers of Haiku's native thread calls.
//!
//! Threads are created with [`spawn`] (suspended, like `spawn_thread`),
//! started with [`Thread::resume`] and joined with [`Thread::wait`] or
//! [`wait_for_thread`], which return the thread's exit value. Every call
//! returns [`Status::NOT_HAIKU`] when the program does not run on Haiku.

use std::ffi::{c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::{bigtime_t, on_haiku, raw, status_t, team_id, thread_id, Status};

/// The closure a spawned thread runs, shared between the [`Thread`] handle
/// and the new thread. Whoever takes it out first owns it: the thread runs
/// it, a handle dropped before the thread was started drops it.
type Slot = Mutex<Option<Box<dyn FnOnce() -> i32 + Send + 'static>>>;

/// Exit value of a thread whose closure panicked.
pub const PANIC_EXIT_VALUE: status_t = raw::B_ERROR;

/// A native Haiku thread created by [`spawn`].
///
/// The thread starts suspended: call [`resume`](Thread::resume). Join it
/// with [`wait`](Thread::wait) to get its exit value.
///
/// Dropping a `Thread` never blocks and never kills the thread:
/// - if it was resumed, the thread runs on, detached from the handle; its
///   exit status stays in the kernel until someone calls
///   [`wait_for_thread`] on its id (this is what dead-threads tests);
/// - if it was never resumed, the closure is dropped right away (releasing
///   what it captured) and the thread is resumed so that it exits at once
///   with [`Status::CANCELED`] as its exit value; nothing leaks in the
///   process.
pub struct Thread {
    id: thread_id,
    /// Set once the thread was resumed.
    started: AtomicBool,
    slot: Arc<Slot>,
}

/// Trampoline run by the new thread: takes the closure out of the slot and
/// runs it. A panic is caught (it must not unwind into Haiku's C code) and
/// turns into [`PANIC_EXIT_VALUE`].
unsafe extern "C" fn trampoline(data: *mut c_void) -> status_t {
    // SAFETY: `data` is the `Arc::into_raw` pointer `spawn` passed to
    // spawn_thread; this thread owns that reference.
    let slot = unsafe { Arc::from_raw(data as *const Slot) };
    let f = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    drop(slot);
    match f {
        Some(f) => catch_unwind(AssertUnwindSafe(f)).unwrap_or(PANIC_EXIT_VALUE),
        None => raw::B_CANCELED,
    }
}

/// Creates a native thread named `name` (at `B_NORMAL_PRIORITY`) that will
/// run `f` and exit with the value `f` returns. The thread is created
/// suspended: call [`Thread::resume`].
///
/// Errors: `B_BAD_VALUE` if `name` contains a NUL byte, `B_NO_MORE_THREADS`
/// or `B_NO_MEMORY` from the kernel, [`Status::NOT_HAIKU`] off Haiku. On any
/// error the closure is dropped and nothing leaks. Haiku truncates names to
/// `B_OS_NAME_LENGTH - 1` bytes.
pub fn spawn<F>(name: &str, f: F) -> Result<Thread, Status>
where
    F: FnOnce() -> i32 + Send + 'static,
{
    spawn_with_priority(name, raw::B_NORMAL_PRIORITY, f)
}

/// [`spawn`] with an explicit priority (`raw::B_*_PRIORITY`).
pub fn spawn_with_priority<F>(name: &str, priority: i32, f: F) -> Result<Thread, Status>
where
    F: FnOnce() -> i32 + Send + 'static,
{
    let c_name = CString::new(name).map_err(|_| Status::BAD_VALUE)?;
    let slot: Arc<Slot> = Arc::new(Mutex::new(Some(Box::new(f))));
    let data = Arc::into_raw(Arc::clone(&slot)) as *mut c_void;
    let result = on_haiku(|| {
        // SAFETY: `trampoline` matches thread_func; `data` stays valid until
        // the thread reclaims it (or we do below, if spawning failed).
        unsafe { raw::spawn_thread(Some(trampoline), c_name.as_ptr(), priority, data) }
    })
    .and_then(crate::check_id);
    match result {
        Ok(id) => Ok(Thread {
            id,
            started: AtomicBool::new(false),
            slot,
        }),
        Err(e) => {
            // No thread took the reference: reclaim it so nothing leaks.
            // SAFETY: `data` came from Arc::into_raw above and no thread
            // exists that could use it.
            drop(unsafe { Arc::from_raw(data as *const Slot) });
            Err(e)
        }
    }
}

impl Thread {
    /// The thread's id.
    pub fn id(&self) -> thread_id {
        self.id
    }

    /// Starts (or continues) the thread: `resume_thread`.
    pub fn resume(&self) -> Result<(), Status> {
        resume(self.id)?;
        self.started.store(true, Ordering::Release);
        Ok(())
    }

    /// Waits until the thread has exited and returns its exit value:
    /// `wait_for_thread`. A thread that was never resumed is resumed first
    /// (Haiku's `wait_for_thread` would wait for it forever).
    ///
    /// `Err(B_BAD_THREAD_ID)` means the kernel no longer knows the thread,
    /// for example because its exit status was discarded (the bug
    /// dead-threads fixes). `Err(B_INTERRUPTED)` means a signal interrupted
    /// the wait; the thread may still be waited for by id.
    pub fn wait(self) -> Result<status_t, Status> {
        if !self.started.load(Ordering::Acquire) {
            self.resume()?;
        }
        wait_for_thread(self.id)
    }
}

impl std::fmt::Debug for Thread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thread")
            .field("id", &self.id)
            .field("started", &self.started.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        if *self.started.get_mut() {
            return;
        }
        // Never started: drop the closure now, then let the thread run its
        // trampoline, which finds the slot empty, frees its reference and
        // exits with B_CANCELED.
        drop(
            self.slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let _ = resume(self.id);
    }
}

/// `resume_thread(id)`: starts a thread created suspended, or continues a
/// suspended one.
pub fn resume(id: thread_id) -> Result<(), Status> {
    on_haiku(|| unsafe { raw::resume_thread(id) }).and_then(crate::check)
}

/// `wait_for_thread(id)`: waits until thread `id` has exited and returns its
/// exit value. `Err(B_BAD_THREAD_ID)` if the kernel does not know the thread
/// (never existed, already waited for, or its exit status was discarded).
pub fn wait_for_thread(id: thread_id) -> Result<status_t, Status> {
    on_haiku(|| {
        let mut exit_value: status_t = 0;
        // SAFETY: the out pointer is valid for the duration of the call.
        let status = unsafe { raw::wait_for_thread(id, &mut exit_value) };
        crate::check(status).map(|()| exit_value)
    })?
}

/// State of a thread, from `thread_info.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThreadState {
    /// `B_THREAD_RUNNING`.
    Running,
    /// `B_THREAD_READY`.
    Ready,
    /// `B_THREAD_RECEIVING`: waiting in `receive_data`.
    Receiving,
    /// `B_THREAD_ASLEEP`: in `snooze`.
    Asleep,
    /// `B_THREAD_SUSPENDED`.
    Suspended,
    /// `B_THREAD_WAITING`: blocked (semaphore, lock, `wait_for_thread`).
    Waiting,
    /// A value this crate does not know.
    Unknown(u32),
}

impl ThreadState {
    /// Converts the raw `thread_state`.
    pub fn from_raw(state: raw::thread_state) -> ThreadState {
        match state {
            raw::B_THREAD_RUNNING => ThreadState::Running,
            raw::B_THREAD_READY => ThreadState::Ready,
            raw::B_THREAD_RECEIVING => ThreadState::Receiving,
            raw::B_THREAD_ASLEEP => ThreadState::Asleep,
            raw::B_THREAD_SUSPENDED => ThreadState::Suspended,
            raw::B_THREAD_WAITING => ThreadState::Waiting,
            other => ThreadState::Unknown(other),
        }
    }
}

/// What `get_thread_info` reports about a live thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    /// The thread's id.
    pub id: thread_id,
    /// The team (process) it belongs to.
    pub team: team_id,
    /// Its name (lossily decoded, up to the first NUL).
    pub name: String,
    /// Its state.
    pub state: ThreadState,
    /// Its priority.
    pub priority: i32,
    /// The semaphore it is blocked on, as the kernel reports it.
    pub sem: i32,
    /// Time spent in user mode, in microseconds.
    pub user_time: bigtime_t,
    /// Time spent in the kernel, in microseconds.
    pub kernel_time: bigtime_t,
    /// Lowest address of its stack.
    pub stack_base: usize,
    /// End of its stack.
    pub stack_end: usize,
}

impl ThreadInfo {
    /// Converts a raw `thread_info`.
    pub fn from_raw(info: &raw::thread_info) -> ThreadInfo {
        let name_bytes: Vec<u8> = info
            .name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        ThreadInfo {
            id: info.thread,
            team: info.team,
            name: String::from_utf8_lossy(&name_bytes).into_owned(),
            state: ThreadState::from_raw(info.state),
            priority: info.priority,
            sem: info.sem,
            user_time: info.user_time,
            kernel_time: info.kernel_time,
            stack_base: info.stack_base as usize,
            stack_end: info.stack_end as usize,
        }
    }
}

/// `get_thread_info(id)`: what the kernel knows about a live thread.
/// `Err(B_BAD_THREAD_ID)` once the thread has exited (its death entry, if
/// any, is not a live thread); dead-threads polls this to establish that a
/// thread has fully exited.
pub fn get_thread_info(id: thread_id) -> Result<ThreadInfo, Status> {
    on_haiku(|| {
        let mut info = raw::thread_info::default();
        // SAFETY: `info` is a valid thread_info and the size is its size.
        let status = unsafe {
            raw::_get_thread_info(id, &mut info, std::mem::size_of::<raw::thread_info>())
        };
        crate::check(status).map(|()| ThreadInfo::from_raw(&info))
    })?
}

/// The calling thread's id: `find_thread(NULL)`.
pub fn current_id() -> Result<thread_id, Status> {
    on_haiku(|| unsafe { raw::find_thread(std::ptr::null()) }).and_then(crate::check_id)
}

/// `snooze(microseconds)`: sleeps the calling thread.
pub fn snooze(microseconds: bigtime_t) -> Result<(), Status> {
    on_haiku(|| unsafe { raw::snooze(microseconds) }).and_then(crate::check)
}

/// `system_time()`: microseconds since boot.
pub fn system_time() -> Result<bigtime_t, Status> {
    on_haiku(|| unsafe { raw::system_time() })
}

/// Writes `text` to the kernel's debug output (the serial port when
/// serial debug output is on): `debug_printf("%s", text)`. The text is
/// written as is: end lines with `'\n'` yourself.
///
/// Errors: `B_BAD_VALUE` if `text` contains a NUL byte,
/// [`Status::NOT_HAIKU`] off Haiku.
pub fn debug_print(text: &str) -> Result<(), Status> {
    let c_text = CString::new(text).map_err(|_| Status::BAD_VALUE)?;
    on_haiku(|| {
        // SAFETY: "%s" with one valid C string argument. The return value
        // (int since 2025, void before) is ignored.
        unsafe {
            raw::debug_printf(c"%s".as_ptr(), c_text.as_ptr());
        }
    })
}
