//! Detached threads leave no death entry; joinable ones stay joinable
//! (`kernel-patch/modern`). Haiku only: on other systems every test prints
//! `SKIPPED ...: needs Haiku` and passes without checking anything.
//!
//! # How an entry is seen from userland
//! Once a thread is gone (`get_thread_info` answers `B_BAD_THREAD_ID`),
//! `wait_for_thread(id)` succeeds exactly when the kernel kept a death entry
//! for it (and consumes that entry). So after all threads of a test are gone,
//! one `wait_for_thread` per thread counts the entries that were left — no
//! test module needed. The kernel module's churn scenario checks the same
//! from inside the kernel.
//!
//! # Against the bug
//! On a kernel without the modern series (every Haiku up to now), libroot's
//! `pthread_detach` and `PTHREAD_CREATE_DETACHED` never reach the kernel, so
//! every detached thread leaves an entry: `entries_left` equals the thread
//! count and the snapshots below do not match. The joinable-thread test
//! passes on every kernel since the 2020 fix: it guards against the series
//! breaking joins.

use std::collections::HashSet;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use haiku_sys::thread::{self, ThreadState};
use haiku_sys::{require_haiku, thread_id, Status};
use serde::Serialize;

/// How long a batch of threads may take to leave the thread table.
const GONE_TIMEOUT: Duration = Duration::from_secs(60);

/// Threads alive at a time: far below Haiku's default thread limit (4096).
const BATCH: usize = 100;

/// Waits until none of `ids` is a live thread any more.
///
/// # Panics
/// If a thread is still alive after [`GONE_TIMEOUT`].
fn wait_until_gone(ids: &[thread_id]) {
    let deadline = Instant::now() + GONE_TIMEOUT;
    for &id in ids {
        loop {
            match thread::get_thread_info(id) {
                Err(s) if s == Status::BAD_THREAD_ID => break,
                Err(s) => panic!("get_thread_info({id}): {s}"),
                Ok(_) => {
                    assert!(
                        Instant::now() < deadline,
                        "thread {id} still alive after {GONE_TIMEOUT:?}"
                    );
                    thread::snooze(1000).expect("snooze");
                }
            }
        }
    }
}

/// What one `wait_for_thread` per gone thread found.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
struct EntryCount {
    /// Threads looked at.
    threads: usize,
    /// `wait_for_thread` succeeded: the kernel had kept a death entry.
    entries_left: usize,
    /// `wait_for_thread` failed with `B_BAD_THREAD_ID`: no entry.
    bad_thread_id: usize,
    /// Any other result (listed).
    other: Vec<String>,
}

/// Joins every (gone) thread once and counts what that found. This also
/// frees whatever entries a kernel without the fix kept.
fn count_entries(ids: &[thread_id]) -> EntryCount {
    let mut count = EntryCount {
        threads: ids.len(),
        ..EntryCount::default()
    };
    for &id in ids {
        match thread::wait_for_thread(id) {
            Ok(_) => count.entries_left += 1,
            Err(s) if s == Status::BAD_THREAD_ID => count.bad_thread_id += 1,
            Err(s) => count.other.push(format!("thread {id}: {s}")),
        }
    }
    count
}

/// Rust's `std::thread::spawn` with the `JoinHandle` dropped: std detaches
/// the thread (`pthread_detach`) when the handle is dropped, either while
/// the thread still runs or after it has exited; both happen here.
#[test]
fn dropped_join_handles_leave_no_entries() {
    if !require_haiku("dropped_join_handles_leave_no_entries") {
        return;
    }
    const THREADS: usize = 10_000;
    let mut ids = Vec::with_capacity(THREADS);
    for batch_start in (0..THREADS).step_by(BATCH) {
        let (tx, rx) = mpsc::channel();
        for _ in batch_start..(batch_start + BATCH).min(THREADS) {
            let tx = tx.clone();
            drop(std::thread::spawn(move || {
                let id = thread::current_id().expect("find_thread(NULL)");
                tx.send(id).expect("send the thread id");
            }));
        }
        drop(tx);
        let batch: Vec<thread_id> = rx.iter().collect();
        wait_until_gone(&batch);
        ids.extend(batch);
    }
    assert_eq!(ids.len(), THREADS, "every thread reported its id");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        THREADS,
        "thread ids are distinct"
    );

    insta::assert_yaml_snapshot!("dropped_join_handles", count_entries(&ids));
}

/// The thread function of the pthread tests: stores its kernel thread id.
extern "C" fn store_id(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` points to an AtomicI32 that outlives the thread (the
    // test keeps it until the thread is gone).
    let slot = unsafe { &*(arg as *const AtomicI32) };
    slot.store(thread::current_id().unwrap_or(-1), Ordering::SeqCst);
    std::ptr::null_mut()
}

/// Starts a pthread running [`store_id`]; `detached` uses a
/// `PTHREAD_CREATE_DETACHED` attribute.
fn start_pthread(slot: &AtomicI32, detached: bool) -> libc::pthread_t {
    // SAFETY: plain pthread calls with valid pointers; the attribute is
    // destroyed after use, `slot` outlives the thread (see store_id).
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        assert_eq!(libc::pthread_attr_init(&mut attr), 0);
        let state = if detached {
            libc::PTHREAD_CREATE_DETACHED
        } else {
            libc::PTHREAD_CREATE_JOINABLE
        };
        assert_eq!(libc::pthread_attr_setdetachstate(&mut attr, state), 0);
        let mut pt: libc::pthread_t = std::mem::zeroed();
        let r = libc::pthread_create(
            &mut pt,
            &attr,
            store_id,
            slot as *const AtomicI32 as *mut c_void,
        );
        libc::pthread_attr_destroy(&mut attr);
        assert_eq!(r, 0, "pthread_create");
        pt
    }
}

/// Waits until each thread has stored its id and returns the ids.
fn collected_ids(slots: &[AtomicI32]) -> Vec<thread_id> {
    let deadline = Instant::now() + GONE_TIMEOUT;
    slots
        .iter()
        .map(|slot| loop {
            let id = slot.load(Ordering::SeqCst);
            if id != 0 {
                assert!(id > 0, "find_thread(NULL) failed in a thread");
                break id;
            }
            assert!(Instant::now() < deadline, "a thread never ran");
            thread::snooze(1000).expect("snooze");
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct PthreadDetach {
    /// `pthread_detach` after the thread was gone.
    detached_after_death: EntryCount,
    /// Created with `PTHREAD_CREATE_DETACHED`.
    created_detached: EntryCount,
}

#[test]
fn pthread_detach_after_death_removes_the_entry() {
    if !require_haiku("pthread_detach_after_death_removes_the_entry") {
        return;
    }
    const THREADS: usize = 100;

    // joinable, gone, then detached
    let slots: Vec<AtomicI32> = (0..THREADS).map(|_| AtomicI32::new(0)).collect();
    let pthreads: Vec<libc::pthread_t> = slots.iter().map(|s| start_pthread(s, false)).collect();
    let ids = collected_ids(&slots);
    wait_until_gone(&ids);
    for pt in pthreads {
        // SAFETY: each pthread_t comes from pthread_create and is neither
        // joined nor detached yet.
        assert_eq!(unsafe { libc::pthread_detach(pt) }, 0, "pthread_detach");
    }
    let detached_after_death = count_entries(&ids);

    // created detached
    let slots: Vec<AtomicI32> = (0..THREADS).map(|_| AtomicI32::new(0)).collect();
    for s in &slots {
        start_pthread(s, true);
    }
    let ids = collected_ids(&slots);
    wait_until_gone(&ids);
    let created_detached = count_entries(&ids);

    insta::assert_yaml_snapshot!(
        "pthread_detach",
        PthreadDetach {
            detached_after_death,
            created_detached,
        }
    );
}

/// The target of the waiter test: stores its id, then runs until released.
#[derive(Default)]
struct Target {
    id: AtomicI32,
    release: AtomicBool,
}

extern "C" fn target_main(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` points to a Target that outlives the thread (the test
    // keeps it until the thread is gone).
    let target = unsafe { &*(arg as *const Target) };
    target
        .id
        .store(thread::current_id().unwrap_or(-1), Ordering::SeqCst);
    while !target.release.load(Ordering::SeqCst) {
        let _ = thread::snooze(1000);
    }
    std::ptr::null_mut()
}

#[derive(Debug, Serialize)]
struct WaiterThenDetach {
    /// The waiter was seen blocked (B_THREAD_WAITING) before the detach.
    waiter_was_waiting: bool,
    /// pthread_detach's result.
    pthread_detach: i32,
    /// What the waiter's wait_for_thread returned: the exit status.
    waiter_got: Result<i32, String>,
    /// A wait_for_thread once the detached thread is gone.
    join_afterwards: Result<i32, String>,
}

/// A thread that is already being waited for when it is detached still
/// hands its exit status to that waiter; afterwards nobody can join it.
#[test]
fn a_waiter_already_waiting_gets_the_status_of_a_detached_thread() {
    if !require_haiku("a_waiter_already_waiting_gets_the_status_of_a_detached_thread") {
        return;
    }
    let target = Box::new(Target::default());
    let mut pt: libc::pthread_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers; `target` outlives the thread.
    let r = unsafe {
        libc::pthread_create(
            &mut pt,
            std::ptr::null(),
            target_main,
            &*target as *const Target as *mut c_void,
        )
    };
    assert_eq!(r, 0, "pthread_create");
    let target_id = collected_ids(std::slice::from_ref(&target.id))[0];

    // The waiter waits for the target natively.
    let (id_tx, id_rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        id_tx
            .send(thread::current_id().expect("find_thread(NULL)"))
            .expect("send the waiter's id");
        thread::wait_for_thread(target_id)
    });
    let waiter_id = id_rx.recv().expect("the waiter's id");
    let deadline = Instant::now() + GONE_TIMEOUT;
    let waiter_was_waiting = loop {
        let waiting = matches!(
            thread::get_thread_info(waiter_id),
            Ok(info) if info.state == ThreadState::Waiting
        );
        if waiting || Instant::now() >= deadline {
            break waiting;
        }
        thread::snooze(1000).expect("snooze");
    };

    // SAFETY: `pt` comes from pthread_create and is not detached or joined.
    let pthread_detach = unsafe { libc::pthread_detach(pt) };
    target.release.store(true, Ordering::SeqCst);
    let waiter_got = waiter
        .join()
        .expect("waiter thread")
        .map_err(|s| s.to_string());
    wait_until_gone(&[target_id]);
    let join_afterwards = thread::wait_for_thread(target_id).map_err(|s| s.to_string());
    drop(target);

    insta::assert_yaml_snapshot!(
        "waiter_then_detach",
        WaiterThenDetach {
            waiter_was_waiting,
            pthread_detach,
            waiter_got,
            join_afterwards,
        }
    );
}

#[derive(Debug, Serialize)]
struct Joinable {
    threads: usize,
    /// Joined (newest first, after all were gone) with the right value.
    joined_with_value: usize,
    /// Native threads joined newest first with their exit status.
    native_joined_with_status: usize,
    /// A second `wait_for_thread` of a joined native thread.
    native_second_join: EntryCount,
}

#[test]
fn joinable_threads_stay_fully_joinable() {
    if !require_haiku("joinable_threads_stay_fully_joinable") {
        return;
    }
    const THREADS: usize = 1000;

    // std threads: all exit, then join newest first
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                tx.send(thread::current_id().expect("find_thread(NULL)"))
                    .expect("send the thread id");
                i * 3
            })
        })
        .collect();
    drop(tx);
    let ids: Vec<thread_id> = rx.iter().collect();
    wait_until_gone(&ids);
    let mut joined_with_value = 0;
    for (i, h) in handles.into_iter().enumerate().rev() {
        if h.join().expect("join") == i * 3 {
            joined_with_value += 1;
        }
    }

    // native threads: exit statuses, newest first, exactly once
    let native: Vec<thread::Thread> = (0..BATCH as i32)
        .map(|i| thread::spawn("joinable", move || 1000 + i).expect("spawn"))
        .collect();
    let native_ids: Vec<thread_id> = native.iter().map(|t| t.id()).collect();
    for t in &native {
        t.resume().expect("resume");
    }
    wait_until_gone(&native_ids);
    let mut native_joined_with_status = 0;
    for (i, t) in native.into_iter().enumerate().rev() {
        if t.wait() == Ok(1000 + i as i32) {
            native_joined_with_status += 1;
        }
    }

    insta::assert_yaml_snapshot!(
        "joinable",
        Joinable {
            threads: THREADS,
            joined_with_value,
            native_joined_with_status,
            native_second_join: count_entries(&native_ids),
        }
    );
}
