//! Reading a C check's fact table (csrc/haiku_sys_c_facts.h) and comparing
//! it with the facts Rust computes, shared by tests/c_layout.rs and
//! tests/dead_threads_abi.rs.

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr};

/// One entry of a C check's table (`haiku_sys_c_fact`).
#[repr(C)]
pub struct Fact {
    name: *const c_char,
    value: i64,
}

/// The accessor a C check defines with `HAIKU_SYS_C_FACTS()`.
pub type FactsFn = unsafe extern "C" fn(count: *mut usize) -> *const Fact;

/// `name -> value` of every fact `facts` exports.
///
/// # Safety
/// `facts` must be an accessor defined with `HAIKU_SYS_C_FACTS()` (it
/// returns a static array of `count` facts with static NUL-terminated
/// names, and calls nothing else).
pub unsafe fn read(facts: FactsFn) -> BTreeMap<String, i64> {
    let mut count = 0usize;
    // SAFETY: see the function's contract.
    unsafe {
        let table = facts(&mut count);
        std::slice::from_raw_parts(table, count)
            .iter()
            .map(|f| {
                (
                    CStr::from_ptr(f.name).to_string_lossy().into_owned(),
                    f.value,
                )
            })
            .collect()
    }
}

/// Every fact on which C and Rust disagree, or that only one side has.
pub fn disagreements(c: &BTreeMap<String, i64>, rust: &BTreeMap<String, i64>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, value) in c {
        match rust.get(name) {
            Some(r) if r == value => {}
            Some(r) => problems.push(format!("{name}: C {value}, Rust {r}")),
            None => problems.push(format!("{name}: C {value}, not checked in Rust")),
        }
    }
    for name in rust.keys().filter(|n| !c.contains_key(*n)) {
        problems.push(format!("{name}: checked in Rust, missing from the C table"));
    }
    problems
}
