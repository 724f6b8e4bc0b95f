//! The Rust bindings and the C compiler agree on the bundled header: the
//! C check compiled by build.rs (csrc/haiku_thread_api_check.c) reports
//! the C layout of `thread_info` and two status values; they must equal
//! Rust's view of the bindings in use.

mod c_facts;

use std::collections::BTreeMap;
use std::mem::{align_of, offset_of, size_of};

use haiku_sys::raw;

extern "C" {
    fn haiku_sys_thread_api_facts(count: *mut usize) -> *const c_facts::Fact;
}

#[test]
fn rust_and_c_agree_on_thread_info() {
    // SAFETY: defined with HAIKU_SYS_C_FACTS() by the linked C check.
    let c = unsafe { c_facts::read(haiku_sys_thread_api_facts) };
    let mut rust = BTreeMap::new();
    rust.insert(
        "sizeof thread_info".to_owned(),
        size_of::<raw::thread_info>() as i64,
    );
    rust.insert(
        "alignof thread_info".to_owned(),
        align_of::<raw::thread_info>() as i64,
    );
    let offsets = [
        ("thread", offset_of!(raw::thread_info, thread)),
        ("team", offset_of!(raw::thread_info, team)),
        ("name", offset_of!(raw::thread_info, name)),
        ("state", offset_of!(raw::thread_info, state)),
        ("priority", offset_of!(raw::thread_info, priority)),
        ("sem", offset_of!(raw::thread_info, sem)),
        ("user_time", offset_of!(raw::thread_info, user_time)),
        ("kernel_time", offset_of!(raw::thread_info, kernel_time)),
        ("stack_base", offset_of!(raw::thread_info, stack_base)),
        ("stack_end", offset_of!(raw::thread_info, stack_end)),
    ];
    for (field, offset) in offsets {
        rust.insert(format!("thread_info.{field}"), offset as i64);
    }
    rust.insert(
        "B_BAD_THREAD_ID".to_owned(),
        i64::from(raw::B_BAD_THREAD_ID),
    );
    rust.insert("ESRCH".to_owned(), i64::from(raw::ESRCH));

    let problems = c_facts::disagreements(&c, &rust);
    assert!(
        problems.is_empty(),
        "C and Rust disagree on the thread API ({}):\n  {}\n\
         Keep include/haiku_thread_api.h, its bundled bindings and \
         csrc/haiku_thread_api_check.c in step.",
        haiku_sys::BINDINGS_SOURCE,
        problems.join("\n  ")
    );
}
