//! No joinable thread's exit status is lost to a join that a signal
//! interrupts, or to a timed or polling join that races the exit
//! (issue 9, section 1): every join returns the thread's own status, never
//! `ESRCH`.
//!
//! Each round starts [`THREADS`] joinable threads that wait for one flag and
//! exit together with distinct statuses; the joiner joins them while another
//! thread sends it `SIGUSR1` in a loop (handler installed without
//! `SA_RESTART`, so every blocking call in the joiner can be interrupted).
//!
//! * `blocking_joins_under_signals_keep_every_status`: `pthread_join`.
//! * `polling_joins_under_signals_keep_every_status`: a try-join, then
//!   timed joins with a short timeout, in a loop until one succeeds. On
//!   Linux (the reference: glibc) `pthread_tryjoin_np` and
//!   `pthread_timedjoin_np`. On Haiku, libroot's `pthread_timedjoin_np`
//!   (a `NULL` time is its try-join: Haiku has no `pthread_tryjoin_np`),
//!   looked up at run time because libroot gained it only in 2024; without
//!   it, the same kernel call it makes, `wait_for_thread_etc` with
//!   `B_RELATIVE_TIMEOUT`, on native threads (looked up too: libroot has it
//!   since 2021; a Haiku with neither has no join that can time out, and the
//!   test says `NOTHING TO CHECK`).
//!
//! Runs on Linux and Haiku (cross-built by `dead-threads verify` and run in
//! the guest image); elsewhere reported ignored. Rounds: 10^4 on Haiku, 300
//! elsewhere, or `DEAD_THREADS_LOSSLESS_ROUNDS`.

#![cfg_attr(
    not(any(target_os = "linux", target_os = "haiku")),
    allow(dead_code, unused_imports)
)]

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Threads that exit together in each round.
const THREADS: usize = 4;

/// The timed joins' timeout.
const TIMED_JOIN: Duration = Duration::from_micros(200);

/// Signals the handler saw (all tests of this binary together).
static SIGNALS: AtomicU64 = AtomicU64::new(0);

/// One test at a time: the signal handler and the signaller are per process.
static SERIAL: Mutex<()> = Mutex::new(());

/// Rounds to run: `DEAD_THREADS_LOSSLESS_ROUNDS`, else 10^4 on Haiku (the
/// guest) and 300 elsewhere (the host's reference run stays short).
fn rounds() -> usize {
    match std::env::var("DEAD_THREADS_LOSSLESS_ROUNDS") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("DEAD_THREADS_LOSSLESS_ROUNDS={v:?} is not a number")),
        Err(_) if cfg!(target_os = "haiku") => 10_000,
        Err(_) => 300,
    }
}

extern "C" fn on_signal(_: c_int) {
    SIGNALS.fetch_add(1, Ordering::Relaxed);
}

/// Installs [`on_signal`] for `SIGUSR1` without `SA_RESTART`.
fn install_handler() {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value;
    // the handler only touches an atomic.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(c_int) as usize;
        sa.sa_flags = 0;
        libc::sigemptyset(&mut sa.sa_mask);
        let r = libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
        assert_eq!(r, 0, "sigaction: {}", std::io::Error::last_os_error());
    }
}

/// A thread that sends `SIGUSR1` to `target` in a loop until dropped.
struct Signaller {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<u64>>,
}

impl Signaller {
    fn start(target: libc::pthread_t) -> Signaller {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        // pthread_t is an integer on Linux and a pointer on Haiku; it is
        // only passed back to pthread_kill.
        let target = SendPthread(target);
        let handle = std::thread::spawn(move || {
            let target = target;
            let mut sent = 0;
            while !flag.load(Ordering::Relaxed) {
                // SAFETY: the target is the joiner, alive until stop is set.
                let r = unsafe { libc::pthread_kill(target.0, libc::SIGUSR1) };
                assert_eq!(r, 0, "pthread_kill");
                sent += 1;
                std::thread::yield_now();
            }
            sent
        });
        Signaller {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops it; the number of signals sent.
    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .expect("running")
            .join()
            .expect("the signaller panicked")
    }
}

impl Drop for Signaller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

struct SendPthread(libc::pthread_t);
// SAFETY: a pthread_t names a thread; any thread may pass it to pthread_kill.
unsafe impl Send for SendPthread {}

/// What a round's threads share: the flag they wait for.
struct Start(AtomicBool);

/// Argument of [`exiting_thread`].
struct Exiting {
    start: Arc<Start>,
    status: usize,
}

extern "C" fn exiting_thread(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` is the Box made in `start_round`, handed over once.
    let arg = unsafe { Box::from_raw(arg as *mut Exiting) };
    while !arg.start.0.load(Ordering::Acquire) {
        std::hint::spin_loop();
    }
    arg.status as *mut c_void
}

/// Starts [`THREADS`] joinable pthreads of `round`; each exits with its own
/// status (returned with it) once the returned flag is set.
fn start_round(round: usize) -> (Arc<Start>, Vec<(libc::pthread_t, usize)>) {
    let start = Arc::new(Start(AtomicBool::new(false)));
    let mut threads = Vec::with_capacity(THREADS);
    for i in 0..THREADS {
        let status = round * THREADS + i + 1;
        let arg = Box::into_raw(Box::new(Exiting {
            start: Arc::clone(&start),
            status,
        }));
        // SAFETY: a zeroed pthread_t is overwritten by pthread_create;
        // default attributes make a joinable thread.
        let mut t: libc::pthread_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::pthread_create(&mut t, std::ptr::null(), exiting_thread, arg as *mut c_void)
        };
        if r != 0 {
            // SAFETY: the thread was not created; the Box is still ours.
            drop(unsafe { Box::from_raw(arg) });
            panic!("pthread_create in round {round}: error {r}");
        }
        threads.push((t, status));
    }
    (start, threads)
}

/// A join that did not return the thread's status (`got`: the status, or
/// the join's error number).
struct Lost {
    round: usize,
    expected: usize,
    got: Result<usize, c_int>,
}

/// Runs `rounds` rounds, joining every thread with `join` while a signaller
/// hammers the joiner. Returns the joins that did not return the status.
fn run(rounds: usize, join: &dyn Fn(libc::pthread_t) -> Result<usize, c_int>) -> Vec<Lost> {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    install_handler();
    let before = SIGNALS.load(Ordering::Relaxed);
    // SAFETY: pthread_self has no preconditions.
    let signaller = Signaller::start(unsafe { libc::pthread_self() });
    let mut lost = Vec::new();
    for round in 0..rounds {
        let (start, threads) = start_round(round);
        start.0.store(true, Ordering::Release);
        for (t, expected) in threads {
            let got = join(t);
            if got != Ok(expected) {
                lost.push(Lost {
                    round,
                    expected,
                    got,
                });
            }
        }
    }
    let sent = signaller.stop();
    let seen = SIGNALS.load(Ordering::Relaxed) - before;
    eprintln!(
        "{rounds} rounds of {THREADS} threads: {sent} signals sent, {seen} handled, {} joins lost",
        lost.len()
    );
    assert!(
        seen > 0,
        "no signal reached the joiner: the test did not test"
    );
    lost
}

fn assert_none_lost(what: &str, lost: &[Lost]) {
    let first: Vec<String> = lost
        .iter()
        .take(5)
        .map(|l| {
            let got = match l.got {
                Ok(s) => format!("status {s}"),
                Err(e) if e == libc::ESRCH => "ESRCH".to_string(),
                Err(e) => format!("error {e}"),
            };
            format!(
                "round {}: expected status {}, got {got}",
                l.round, l.expected
            )
        })
        .collect();
    assert!(
        lost.is_empty(),
        "{what}: {} joins did not return the thread's status; first: {}",
        lost.len(),
        first.join("; ")
    );
}

/// `pthread_join`.
fn blocking_join(t: libc::pthread_t) -> Result<usize, c_int> {
    let mut value: *mut c_void = std::ptr::null_mut();
    // SAFETY: `t` is a joinable thread joined once.
    match unsafe { libc::pthread_join(t, &mut value) } {
        0 => Ok(value as usize),
        e => Err(e),
    }
}

/// The absolute `CLOCK_REALTIME` time `after` from now.
fn deadline(after: Duration) -> libc::timespec {
    // SAFETY: a zeroed timespec is valid; clock_gettime fills it.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
    assert_eq!(r, 0, "clock_gettime");
    let nanos = now.tv_nsec as u64 + after.subsec_nanos() as u64;
    now.tv_sec += (after.as_secs() + nanos / 1_000_000_000) as libc::time_t;
    now.tv_nsec = (nanos % 1_000_000_000) as _;
    now
}

/// `pthread_timedjoin_np`.
type TimedJoin =
    unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void, *const libc::timespec) -> c_int;

/// The try-join and timed join of this system's libc, when it has them.
#[derive(Clone, Copy)]
struct PollingJoin {
    /// `pthread_timedjoin_np`.
    timed: TimedJoin,
    /// The try-join: `pthread_tryjoin_np` (glibc), `None` when a `NULL`
    /// time makes the timed join a try-join (Haiku's libroot).
    try_join: Option<unsafe extern "C" fn(libc::pthread_t, *mut *mut c_void) -> c_int>,
    /// What a join that would block returns.
    busy: &'static [c_int],
}

#[cfg(target_os = "linux")]
fn polling_join() -> Option<PollingJoin> {
    Some(PollingJoin {
        timed: libc::pthread_timedjoin_np,
        try_join: Some(libc::pthread_tryjoin_np),
        busy: &[libc::EBUSY, libc::ETIMEDOUT],
    })
}

#[cfg(target_os = "haiku")]
fn polling_join() -> Option<PollingJoin> {
    // SAFETY: dlsym with RTLD_DEFAULT searches the loaded images; the name
    // is NUL-terminated.
    let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"pthread_timedjoin_np".as_ptr()) };
    if sym.is_null() {
        return None;
    }
    Some(PollingJoin {
        // SAFETY: libroot's pthread_timedjoin_np has this signature
        // (headers/compatibility/gnu/pthread.h).
        timed: unsafe { std::mem::transmute::<*mut c_void, TimedJoin>(sym) },
        try_join: None,
        // libroot maps B_WOULD_BLOCK and B_TIMED_OUT to ETIMEDOUT.
        busy: &[libc::ETIMEDOUT],
    })
}

#[cfg(not(any(target_os = "linux", target_os = "haiku")))]
fn polling_join() -> Option<PollingJoin> {
    None
}

impl PollingJoin {
    /// Try-join first, then timed joins of [`TIMED_JOIN`] until one
    /// succeeds; any other error ends it.
    fn join(&self, t: libc::pthread_t) -> Result<usize, c_int> {
        let mut value: *mut c_void = std::ptr::null_mut();
        // SAFETY: `t` is joinable and not yet joined while these return busy.
        let first = unsafe {
            match self.try_join {
                Some(f) => f(t, &mut value),
                None => (self.timed)(t, &mut value, std::ptr::null()),
            }
        };
        let mut r = first;
        while self.busy.contains(&r) {
            let until = deadline(TIMED_JOIN);
            // SAFETY: as above.
            r = unsafe { (self.timed)(t, &mut value, &until) };
        }
        match r {
            0 => Ok(value as usize),
            e => Err(e),
        }
    }
}

#[test]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "haiku")),
    ignore = "runs on Linux (glibc, the reference) and Haiku"
)]
fn blocking_joins_under_signals_keep_every_status() {
    let lost = run(rounds(), &blocking_join);
    assert_none_lost("pthread_join under signals", &lost);
}

#[test]
#[cfg_attr(
    not(any(target_os = "linux", target_os = "haiku")),
    ignore = "runs on Linux (glibc, the reference) and Haiku"
)]
fn polling_joins_under_signals_keep_every_status() {
    match polling_join() {
        Some(p) => {
            let lost = run(rounds(), &|t| p.join(t));
            assert_none_lost("try/timed joins under signals", &lost);
        }
        None => native_polling_joins(),
    }
}

/// `wait_for_thread_etc`, looked up at run time: libroot has it only since
/// 2021 (legacy trees' OS.h does not declare it).
#[cfg(target_os = "haiku")]
type WaitForThreadEtc = unsafe extern "C" fn(
    haiku_sys::thread_id,
    u32,
    haiku_sys::bigtime_t,
    *mut haiku_sys::status_t,
) -> haiku_sys::status_t;

/// Haiku whose libroot has no `pthread_timedjoin_np`: the kernel call it
/// would make, `wait_for_thread_etc(B_RELATIVE_TIMEOUT)`, on native
/// threads, with a try (timeout 0) first and then short timeouts. A Haiku
/// without either (before 2021) has no timed or polling join at all: then
/// there is nothing that could lose a status, and the test says so.
#[cfg(target_os = "haiku")]
fn native_polling_joins() {
    use haiku_sys::raw;

    // SAFETY: dlsym with RTLD_DEFAULT searches the loaded images; the name
    // is NUL-terminated.
    let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"wait_for_thread_etc".as_ptr()) };
    if sym.is_null() {
        eprintln!(
            "NOTHING TO CHECK: this Haiku's libroot has neither pthread_timedjoin_np nor \
             wait_for_thread_etc, so no join here can time out or poll"
        );
        return;
    }
    // SAFETY: libroot's wait_for_thread_etc has this signature (OS.h).
    let wait_for_thread_etc = unsafe { std::mem::transmute::<*mut c_void, WaitForThreadEtc>(sym) };
    eprintln!(
        "libroot has no pthread_timedjoin_np: joining native threads with wait_for_thread_etc"
    );
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    install_handler();
    let before = SIGNALS.load(Ordering::Relaxed);
    // SAFETY: pthread_self has no preconditions.
    let signaller = Signaller::start(unsafe { libc::pthread_self() });
    let rounds = rounds();
    let mut lost = Vec::new();
    for round in 0..rounds {
        let start = Arc::new(Start(AtomicBool::new(false)));
        let mut threads = Vec::new();
        for i in 0..THREADS {
            let status = (round * THREADS + i + 1) as raw::status_t;
            let s = Arc::clone(&start);
            let t = haiku_sys::thread::spawn("lossless", move || {
                while !s.0.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                status
            })
            .unwrap_or_else(|e| panic!("spawn in round {round}: {e}"));
            t.resume().expect("resume_thread");
            threads.push((t, status));
        }
        start.0.store(true, Ordering::Release);
        for (t, expected) in threads {
            let mut timeout = 0;
            let got = loop {
                let mut status: raw::status_t = 0;
                // SAFETY: plain kernel call on a thread id.
                let r = unsafe {
                    wait_for_thread_etc(t.id(), raw::B_RELATIVE_TIMEOUT, timeout, &mut status)
                };
                match r {
                    0 => break Ok(status as usize),
                    raw::B_WOULD_BLOCK | raw::B_TIMED_OUT | raw::B_INTERRUPTED => {
                        timeout = TIMED_JOIN.as_micros() as raw::bigtime_t;
                    }
                    e => break Err(e),
                }
            };
            if got != Ok(expected as usize) {
                lost.push(Lost {
                    round,
                    expected: expected as usize,
                    got,
                });
            }
        }
    }
    let sent = signaller.stop();
    let seen = SIGNALS.load(Ordering::Relaxed) - before;
    eprintln!(
        "{rounds} rounds: {sent} signals sent, {seen} handled, {} joins lost",
        lost.len()
    );
    assert!(
        seen > 0,
        "no signal reached the joiner: the test did not test"
    );
    assert_none_lost("wait_for_thread_etc with timeouts under signals", &lost);
}

#[cfg(not(target_os = "haiku"))]
fn native_polling_joins() {
    panic!(
        "this system's libc has no pthread_timedjoin_np/pthread_tryjoin_np: \
         the polling test runs on Linux (glibc) and Haiku"
    );
}
