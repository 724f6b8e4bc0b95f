//! Detached threads leave no death entry; joinable ones stay joinable
//! (`kernel-patch/modern`). Haiku only: on other systems every test is
//! reported ignored ("needs Haiku").
//!
//! The scenarios and their rendering are in `haiku_detached_common`; here
//! they run with real threads: `std::thread`, pthreads through `libc`,
//! native threads and `wait_for_thread` through haiku-sys.
//!
//! # Against the bug
//! On a kernel without the modern series (every Haiku up to now), libroot's
//! `pthread_detach` and `PTHREAD_CREATE_DETACHED` never reach the kernel, so
//! every detached thread leaves an entry: `entries_left` equals the thread
//! count and the snapshots do not match. `tests/haiku_detached_model.rs`
//! shows that on any host with a model of both kernels. The waiter and
//! joinable scenarios pass on every kernel since 2020: they guard against
//! the series breaking joins.

mod common;
#[path = "haiku_detached_common/mod.rs"]
mod detached;

use std::collections::HashSet;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use detached::{DetachKernel, WaiterThenDetach};
use haiku_sys::thread::{self, ThreadState};
use haiku_sys::{thread_id, Status};

/// How long threads may take to leave the thread table.
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

/// The thread function of the pthread scenarios: stores its kernel thread
/// id, then runs until released (`release` is set right away for the
/// scenarios that do not need to hold the thread).
#[derive(Default)]
struct Slot {
    id: AtomicI32,
    release: AtomicBool,
}

extern "C" fn slot_main(arg: *mut c_void) -> *mut c_void {
    // SAFETY: `arg` points to a Slot that outlives the thread (the scenario
    // keeps it until the thread is gone).
    let slot = unsafe { &*(arg as *const Slot) };
    slot.id
        .store(thread::current_id().unwrap_or(-1), Ordering::SeqCst);
    while !slot.release.load(Ordering::SeqCst) {
        let _ = thread::snooze(1000);
    }
    std::ptr::null_mut()
}

/// Starts a pthread running [`slot_main`]; `detached` uses a
/// `PTHREAD_CREATE_DETACHED` attribute.
fn start_pthread(slot: &Slot, detached: bool) -> libc::pthread_t {
    // SAFETY: plain pthread calls with valid pointers; the attribute is
    // destroyed after use, `slot` outlives the thread (see slot_main).
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
            slot_main,
            slot as *const Slot as *mut c_void,
        );
        libc::pthread_attr_destroy(&mut attr);
        assert_eq!(r, 0, "pthread_create");
        pt
    }
}

/// Waits until each thread has stored its id and returns the ids.
fn collected_ids(slots: &[Slot]) -> Vec<thread_id> {
    let deadline = Instant::now() + GONE_TIMEOUT;
    slots
        .iter()
        .map(|slot| loop {
            let id = slot.id.load(Ordering::SeqCst);
            if id != 0 {
                assert!(id > 0, "find_thread(NULL) failed in a thread");
                break id;
            }
            assert!(Instant::now() < deadline, "a thread never ran");
            thread::snooze(1000).expect("snooze");
        })
        .collect()
}

fn released_slots(n: usize) -> Vec<Slot> {
    (0..n)
        .map(|_| Slot {
            id: AtomicI32::new(0),
            release: AtomicBool::new(true),
        })
        .collect()
}

/// The real thing.
struct Haiku;

impl DetachKernel for Haiku {
    fn dropped_handles(&mut self, n: usize) -> Vec<thread_id> {
        let mut ids = Vec::with_capacity(n);
        for start in (0..n).step_by(BATCH) {
            let (tx, rx) = mpsc::channel();
            for _ in start..(start + BATCH).min(n) {
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
        assert_eq!(ids.len(), n, "every thread reported its id");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            n,
            "thread ids are distinct"
        );
        ids
    }

    fn detach_after_death(&mut self, n: usize) -> Vec<thread_id> {
        let slots = released_slots(n);
        let pthreads: Vec<libc::pthread_t> =
            slots.iter().map(|s| start_pthread(s, false)).collect();
        let ids = collected_ids(&slots);
        wait_until_gone(&ids);
        for pt in pthreads {
            // SAFETY: each pthread_t comes from pthread_create and is neither
            // joined nor detached yet.
            assert_eq!(unsafe { libc::pthread_detach(pt) }, 0, "pthread_detach");
        }
        ids
    }

    fn created_detached(&mut self, n: usize) -> Vec<thread_id> {
        let slots = released_slots(n);
        for s in &slots {
            start_pthread(s, true);
        }
        let ids = collected_ids(&slots);
        wait_until_gone(&ids);
        ids
    }

    fn waiter_then_detach(&mut self) -> WaiterThenDetach {
        let target = Box::new(Slot::default());
        let pt = start_pthread(&target, false);
        let target_id = collected_ids(std::slice::from_ref(&*target))[0];

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

        // SAFETY: `pt` comes from pthread_create, not detached or joined.
        let pthread_detach = unsafe { libc::pthread_detach(pt) };
        target.release.store(true, Ordering::SeqCst);
        let waiter_got = waiter.join().expect("waiter thread");
        wait_until_gone(&[target_id]);
        let join_afterwards = thread::wait_for_thread(target_id);
        drop(target);
        WaiterThenDetach {
            waiter_was_waiting,
            pthread_detach,
            waiter_got,
            join_afterwards,
        }
    }

    fn joinable_std(&mut self, n: usize) -> usize {
        let (tx, rx) = mpsc::channel();
        let handles: Vec<_> = (0..n)
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
        handles
            .into_iter()
            .enumerate()
            .rev()
            .map(|(i, h)| h.join().expect("join") == i * 3)
            .filter(|&ok| ok)
            .count()
    }

    fn joinable_native(&mut self, n: usize) -> (usize, Vec<thread_id>) {
        let native: Vec<thread::Thread> = (0..n as i32)
            .map(|i| thread::spawn("joinable", move || 1000 + i).expect("spawn"))
            .collect();
        let ids: Vec<thread_id> = native.iter().map(|t| t.id()).collect();
        for t in &native {
            t.resume().expect("resume");
        }
        wait_until_gone(&ids);
        let ok = native
            .into_iter()
            .enumerate()
            .rev()
            .map(|(i, t)| t.wait() == Ok(1000 + i as i32))
            .filter(|&ok| ok)
            .count();
        (ok, ids)
    }

    fn wait(&mut self, id: thread_id) -> Result<i32, Status> {
        thread::wait_for_thread(id)
    }
}

/// Rust's `std::thread::spawn` with the `JoinHandle` dropped, x 10000.
#[test]
#[cfg_attr(not(target_os = "haiku"), ignore = "needs Haiku")]
fn dropped_join_handles_leave_no_entries() {
    let text = detached::dropped_handles(&mut Haiku);
    common::snapshots::settings()
        .bind(|| insta::assert_snapshot!("haiku_detached__dropped_join_handles", text));
}

#[test]
#[cfg_attr(not(target_os = "haiku"), ignore = "needs Haiku")]
fn pthread_detach_after_death_removes_the_entry() {
    let text = detached::pthread_detach(&mut Haiku);
    common::snapshots::settings()
        .bind(|| insta::assert_snapshot!("haiku_detached__pthread_detach", text));
}

/// A thread that is already being waited for when it is detached still
/// hands its exit status to that waiter; afterwards nobody can join it.
#[test]
#[cfg_attr(not(target_os = "haiku"), ignore = "needs Haiku")]
fn a_waiter_already_waiting_gets_the_status_of_a_detached_thread() {
    let text = detached::waiter_then_detach(&mut Haiku);
    common::snapshots::settings()
        .bind(|| insta::assert_snapshot!("haiku_detached__waiter_then_detach", text));
}

#[test]
#[cfg_attr(not(target_os = "haiku"), ignore = "needs Haiku")]
fn joinable_threads_stay_fully_joinable() {
    let text = detached::joinable(&mut Haiku);
    common::snapshots::settings()
        .bind(|| insta::assert_snapshot!("haiku_detached__joinable", text));
}
