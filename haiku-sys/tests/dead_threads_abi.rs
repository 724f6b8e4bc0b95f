//! The dead_threads ioctl ABI: C and Rust agree on it.
//!
//! build.rs compiled csrc/dead_threads_abi_check.c (static assertions on
//! every size and offset) with the target's C compiler; it exports its
//! sizes, offsets and constants, which must equal what Rust computes for the
//! bindgen'd types. That the bundled Rust bindings are what bindgen makes of
//! the header is checked with the other bundled bindings, by
//! tests/bundled_bindings.rs (`DEAD_THREADS_ABI` in codegen.rs). To
//! regenerate them:
//!
//! ```sh
//! HAIKU_SYS_REGENERATE=1 cargo test -p haiku-sys --test bundled_bindings
//! ```
//!
//! (When new Rust code already uses a constant the bundled bindings lack,
//! the crate does not compile yet: regenerate before using it.)

mod c_facts;

use std::collections::BTreeMap;
use std::mem::{align_of, offset_of, size_of};

use haiku_sys::device::abi::*;

extern "C" {
    fn haiku_sys_dead_threads_abi_facts(count: *mut usize) -> *const c_facts::Fact;
}

fn rust_facts() -> BTreeMap<String, i64> {
    let mut f = BTreeMap::new();
    let mut put = |name: &str, value: i64| {
        f.insert(name.to_owned(), value);
    };
    macro_rules! size {
        ($t:ident) => {
            put(concat!("sizeof ", stringify!($t)), size_of::<$t>() as i64);
            put(concat!("alignof ", stringify!($t)), align_of::<$t>() as i64);
        };
    }
    macro_rules! offset {
        ($t:ident, $($field:ident),+) => {
            $(put(concat!(stringify!($t), ".", stringify!($field)), offset_of!($t, $field) as i64);)+
        };
    }
    macro_rules! value {
        ($($name:ident),+) => {
            $(put(stringify!($name), $name as i64);)+
        };
    }
    size!(dead_threads_entry);
    offset!(dead_threads_entry, thread, status);
    size!(dead_threads_info_request);
    offset!(
        dead_threads_info_request,
        version,
        size,
        limit,
        list_kind,
        max_list_entries,
        max_scenario_threads
    );
    size!(dead_threads_list_request);
    offset!(
        dead_threads_list_request,
        version,
        size,
        team,
        capacity,
        entries,
        resolved_team,
        count,
        returned,
        reserved
    );
    size!(dead_threads_scenario_request);
    offset!(
        dead_threads_scenario_request,
        version,
        size,
        thread_count,
        order,
        seed,
        exit_timeout,
        team,
        spawned,
        spawn_error,
        still_alive,
        joined_ok,
        joined_bad_thread_id,
        joined_other_error,
        first_other_error,
        wrong_status,
        entries_before,
        entries_exited,
        entries_after,
        own_entries_exited,
        own_entries_after,
        spawn_time,
        exit_time,
        join_time
    );
    size!(dead_threads_churn_request);
    offset!(
        dead_threads_churn_request,
        version,
        size,
        thread_count,
        batch,
        detach,
        reserved,
        exit_timeout,
        team,
        kernel_support,
        spawned,
        spawn_error,
        still_alive,
        detach_errors,
        first_detach_error,
        entries_before,
        own_entries_max,
        own_entries_after,
        entries_after,
        joined_ok,
        joined_bad_thread_id,
        joined_other_error,
        churn_time
    );
    size!(dead_threads_join_cost_request);
    offset!(
        dead_threads_join_cost_request,
        version,
        size,
        thread_count,
        batch,
        exit_timeout,
        team,
        spawn_error,
        forward_spawned,
        forward_joined_ok,
        forward_failed,
        reverse_spawned,
        reverse_joined_ok,
        reverse_failed,
        still_alive,
        reserved,
        forward_join_time,
        reverse_join_time
    );
    size!(dead_threads_revision_request);
    offset!(
        dead_threads_revision_request,
        version,
        size,
        revision,
        reserved
    );
    size!(dead_threads_race_request);
    offset!(
        dead_threads_race_request,
        version,
        size,
        thread_count,
        join_timeout,
        exit_timeout,
        team,
        spawn_error,
        spawned,
        joined_ok,
        joined_after_timeout,
        timeouts,
        statuses_lost,
        joined_bad_thread_id,
        joined_other_error,
        first_other_error,
        wrong_status,
        still_alive,
        own_entries_after,
        reserved,
        race_time
    );
    value!(
        DEAD_THREADS_ABI_VERSION,
        DEAD_THREADS_OP_BASE,
        DEAD_THREADS_GET_INFO,
        DEAD_THREADS_GET_DEAD_LIST,
        DEAD_THREADS_RUN_SCENARIO,
        DEAD_THREADS_RUN_CHURN,
        DEAD_THREADS_RUN_JOIN_COST,
        DEAD_THREADS_MAX_LIST_ENTRIES,
        DEAD_THREADS_MAX_SCENARIO_THREADS,
        DEAD_THREADS_LIMIT_UNLIMITED,
        DEAD_THREADS_LIST_KIND_LIST,
        DEAD_THREADS_LIST_KIND_DOUBLY_LINKED,
        DEAD_THREADS_ORDER_FORWARD,
        DEAD_THREADS_ORDER_REVERSE,
        DEAD_THREADS_ORDER_SHUFFLED,
        DEAD_THREADS_SCENARIO_STATUS_BASE,
        DEAD_THREADS_DEFAULT_EXIT_TIMEOUT,
        DEAD_THREADS_ABI_REVISION,
        DEAD_THREADS_MAX_CHURN_THREADS,
        DEAD_THREADS_MAX_JOIN_COST_THREADS,
        DEAD_THREADS_DEFAULT_BATCH,
        DEAD_THREADS_DETACH_AT_CREATION,
        DEAD_THREADS_DETACH_AFTER_EXIT,
        DEAD_THREADS_DETACH_UNSUPPORTED,
        DEAD_THREADS_DETACH_SUPPORTED,
        DEAD_THREADS_MAX_EXIT_TIMEOUT,
        DEAD_THREADS_GET_REVISION,
        DEAD_THREADS_RUN_RACE,
        DEAD_THREADS_MAX_BATCH,
        DEAD_THREADS_MAX_RACE_THREADS,
        DEAD_THREADS_DEFAULT_RACE_JOIN_TIMEOUT,
        DEAD_THREADS_MAX_RACE_JOIN_TIMEOUT
    );
    // The function-like macro DEAD_THREADS_SCENARIO_STATUS(i) is
    // reimplemented in Rust.
    put(
        "DEAD_THREADS_SCENARIO_STATUS(0)",
        haiku_sys::device::scenario_status(0) as i64,
    );
    put(
        "DEAD_THREADS_SCENARIO_STATUS(1999)",
        haiku_sys::device::scenario_status(1999) as i64,
    );
    f
}

#[test]
fn c_and_rust_layouts_agree() {
    // SAFETY: defined with HAIKU_SYS_C_FACTS() by the linked C check.
    let c = unsafe { c_facts::read(haiku_sys_dead_threads_abi_facts) };
    let rust = rust_facts();
    assert!(c.len() > 60, "the C check exported only {} facts", c.len());
    let problems = c_facts::disagreements(&c, &rust);
    assert!(
        problems.is_empty(),
        "C and Rust disagree on the dead_threads ABI (kernel-patch/module/dead_threads_ioctl.h):\n  {}\n\
         Regenerate the bundled bindings (HAIKU_SYS_REGENERATE=1 cargo test -p haiku-sys \
         --test bundled_bindings) and keep csrc/dead_threads_abi_check.c in step.",
        problems.join("\n  ")
    );
}
