//! Off Haiku every call into Haiku must return `Status::NOT_HAIKU` (and the
//! binary must link: this file calls every safe wrapper). On Haiku the same
//! calls run for real.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use haiku_sys::thread::{self, ThreadState};
use haiku_sys::{raw, Status};

#[test]
#[cfg_attr(target_os = "haiku", ignore = "checks the behaviour off Haiku")]
fn every_call_returns_not_haiku() {
    assert_eq!(thread::wait_for_thread(1).unwrap_err(), Status::NOT_HAIKU);
    assert_eq!(thread::get_thread_info(1).unwrap_err(), Status::NOT_HAIKU);
    assert_eq!(thread::resume(1).unwrap_err(), Status::NOT_HAIKU);
    assert_eq!(thread::current_id().unwrap_err(), Status::NOT_HAIKU);
    assert_eq!(thread::snooze(1).unwrap_err(), Status::NOT_HAIKU);
    assert_eq!(thread::system_time().unwrap_err(), Status::NOT_HAIKU);
    assert_eq!(thread::debug_print("x\n").unwrap_err(), Status::NOT_HAIKU);
    assert_eq!(
        haiku_sys::on_haiku(|| unreachable!("must not run off Haiku")).unwrap_err(),
        Status::NOT_HAIKU
    );
    assert!(!haiku_sys::require_haiku(
        "every_call_returns_not_haiku (self-check)"
    ));
}

#[test]
#[cfg_attr(target_os = "haiku", ignore = "checks the behaviour off Haiku")]
fn failed_spawn_drops_the_closure_and_leaks_nothing() {
    // The closure owns an Arc; if spawn leaked the boxed closure, the
    // strong count would stay at 2.
    let witness = Arc::new(AtomicBool::new(false));
    let captured = Arc::clone(&witness);
    let err = thread::spawn("never", move || {
        captured.store(true, Ordering::SeqCst);
        0
    })
    .unwrap_err();
    assert_eq!(err, Status::NOT_HAIKU);
    assert_eq!(Arc::strong_count(&witness), 1, "the closure leaked");
    assert!(!witness.load(Ordering::SeqCst), "the closure ran");
}

#[test]
fn names_with_nul_are_bad_value_everywhere() {
    let witness = Arc::new(());
    let captured = Arc::clone(&witness);
    let err = thread::spawn("bad\0name", move || {
        drop(captured);
        0
    })
    .unwrap_err();
    assert_eq!(err, Status::BAD_VALUE);
    assert_eq!(Arc::strong_count(&witness), 1, "the closure leaked");
    assert_eq!(thread::debug_print("a\0b").unwrap_err(), Status::BAD_VALUE);
}

#[test]
fn thread_state_from_raw() {
    assert_eq!(
        ThreadState::from_raw(raw::B_THREAD_RUNNING),
        ThreadState::Running
    );
    assert_eq!(
        ThreadState::from_raw(raw::B_THREAD_READY),
        ThreadState::Ready
    );
    assert_eq!(
        ThreadState::from_raw(raw::B_THREAD_RECEIVING),
        ThreadState::Receiving
    );
    assert_eq!(
        ThreadState::from_raw(raw::B_THREAD_ASLEEP),
        ThreadState::Asleep
    );
    assert_eq!(
        ThreadState::from_raw(raw::B_THREAD_SUSPENDED),
        ThreadState::Suspended
    );
    assert_eq!(
        ThreadState::from_raw(raw::B_THREAD_WAITING),
        ThreadState::Waiting
    );
    assert_eq!(ThreadState::from_raw(77), ThreadState::Unknown(77));
}

#[test]
fn thread_info_from_raw_decodes_the_name() {
    let mut info = raw::thread_info {
        thread: 42,
        team: 7,
        state: raw::B_THREAD_WAITING,
        priority: raw::B_NORMAL_PRIORITY,
        sem: 99,
        user_time: 1000,
        kernel_time: 2000,
        ..Default::default()
    };
    for (dst, src) in info.name.iter_mut().zip(b"worker 3\0garbage") {
        *dst = *src as std::os::raw::c_char;
    }
    let safe = thread::ThreadInfo::from_raw(&info);
    assert_eq!(safe.id, 42);
    assert_eq!(safe.team, 7);
    assert_eq!(safe.name, "worker 3");
    assert_eq!(safe.state, ThreadState::Waiting);
    assert_eq!(safe.priority, 10);
    assert_eq!(safe.sem, 99);
    assert_eq!((safe.user_time, safe.kernel_time), (1000, 2000));
    // A name filling the whole array (no NUL) is taken whole.
    info.name = [b'x' as std::os::raw::c_char; raw::B_OS_NAME_LENGTH];
    assert_eq!(
        thread::ThreadInfo::from_raw(&info).name.len(),
        raw::B_OS_NAME_LENGTH
    );
}

/// On Haiku: the whole life cycle for real.
#[test]
#[cfg_attr(not(target_os = "haiku"), ignore = "needs Haiku")]
fn spawn_resume_wait_on_haiku() {
    let t = thread::spawn("haiku-sys test", || 1234).expect("spawn");
    let id = t.id();
    assert!(id > 0);
    let info = thread::get_thread_info(id).expect("info of a suspended thread");
    assert_eq!(info.state, ThreadState::Suspended);
    assert_eq!(info.name, "haiku-sys test");
    t.resume().expect("resume");
    assert_eq!(t.wait(), Ok(1234));
    assert_eq!(thread::wait_for_thread(id), Err(Status::BAD_THREAD_ID));
    assert_eq!(
        thread::get_thread_info(id).unwrap_err(),
        Status::BAD_THREAD_ID
    );
    // Dropping a never-resumed handle lets the thread exit with B_CANCELED.
    let t = thread::spawn("dropped", || 1).expect("spawn");
    let id = t.id();
    drop(t);
    assert_eq!(thread::wait_for_thread(id), Ok(Status::CANCELED.raw()));
    // A panicking closure exits with PANIC_EXIT_VALUE.
    let t = thread::spawn("panics", || panic!("expected panic")).expect("spawn");
    assert_eq!(t.wait(), Ok(thread::PANIC_EXIT_VALUE));
}
