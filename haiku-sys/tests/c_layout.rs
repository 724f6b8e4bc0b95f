//! The Rust bindings and the C compiler agree on the bundled header: the
//! C file compiled by build.rs (include/haiku_thread_api_check.c) reports
//! the C layout of `thread_info` and two status values; they must equal
//! Rust's view of the bindings in use.

use std::mem::{align_of, offset_of, size_of};

use haiku_sys::raw;

extern "C" {
    static haiku_sys_c_thread_info_size: usize;
    static haiku_sys_c_thread_info_align: usize;
    static haiku_sys_c_thread_info_offsets: [usize; 10];
    static haiku_sys_c_b_bad_thread_id: i32;
    static haiku_sys_c_esrch: i32;
}

#[test]
fn rust_and_c_agree_on_thread_info() {
    // SAFETY: plain constants defined by the linked C object.
    let (size, align, offsets, bad_thread_id, esrch) = unsafe {
        (
            haiku_sys_c_thread_info_size,
            haiku_sys_c_thread_info_align,
            haiku_sys_c_thread_info_offsets,
            haiku_sys_c_b_bad_thread_id,
            haiku_sys_c_esrch,
        )
    };
    assert_eq!(size, size_of::<raw::thread_info>());
    assert_eq!(align, align_of::<raw::thread_info>());
    let rust_offsets = [
        offset_of!(raw::thread_info, thread),
        offset_of!(raw::thread_info, team),
        offset_of!(raw::thread_info, name),
        offset_of!(raw::thread_info, state),
        offset_of!(raw::thread_info, priority),
        offset_of!(raw::thread_info, sem),
        offset_of!(raw::thread_info, user_time),
        offset_of!(raw::thread_info, kernel_time),
        offset_of!(raw::thread_info, stack_base),
        offset_of!(raw::thread_info, stack_end),
    ];
    assert_eq!(offsets, rust_offsets);
    assert_eq!(bad_thread_id, raw::B_BAD_THREAD_ID);
    assert_eq!(esrch, raw::ESRCH);
}
