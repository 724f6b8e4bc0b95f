//! `Status`: names, descriptions, Display, conversions, and agreement with
//! the status codes build.rs allowlists.

use std::collections::BTreeSet;

use haiku_sys::{check, check_id, raw, status_t, Status};

include!("../codegen.rs");

/// Allowlisted names that are aliases of another name's value.
const ALIASES: &[(&str, &str)] = &[("B_NO_ERROR", "B_OK"), ("B_NOT_INITIALIZED", "B_NO_INIT")];

#[test]
fn every_allowlisted_status_code_has_a_name() {
    let named: BTreeSet<&str> = Status::all().filter_map(Status::name).collect();
    let expected: BTreeSet<&str> = STATUS_CODES
        .iter()
        .copied()
        .filter(|n| !ALIASES.iter().any(|(alias, _)| alias == n))
        .chain(["NOT_HAIKU"])
        .collect();
    assert_eq!(named, expected);
}

#[test]
fn aliases_share_the_value_and_give_the_main_name() {
    assert_eq!(raw::B_NO_ERROR, raw::B_OK);
    assert_eq!(raw::B_NOT_INITIALIZED, raw::B_NO_INIT);
    assert_eq!(Status::from_raw(raw::B_NO_ERROR).name(), Some("B_OK"));
    assert_eq!(
        Status::from_raw(raw::B_NOT_INITIALIZED).name(),
        Some("B_NO_INIT")
    );
}

#[test]
fn values_are_unique_and_display_names_them() {
    let mut seen = BTreeSet::new();
    for status in Status::all() {
        assert!(
            seen.insert(status.raw()),
            "duplicate value {}",
            status.raw()
        );
        let name = status.name().expect("named");
        let description = status.description().expect("described");
        assert!(!description.is_empty());
        assert_eq!(status.to_string(), format!("{name} ({description})"));
        assert_eq!(Status::from_raw(status.raw()), status);
        assert_eq!(status_t::from(status), status.raw());
        assert_eq!(Status::from(status.raw()), status);
        assert_eq!(format!("{status:?}"), format!("Status({name})"));
    }
    assert_eq!(seen.len(), STATUS_CODES.len() - ALIASES.len() + 1);
}

#[test]
fn display_matches_the_documented_form() {
    assert_eq!(
        Status::BAD_THREAD_ID.to_string(),
        "B_BAD_THREAD_ID (bad thread ID)"
    );
    assert_eq!(Status::OK.to_string(), "B_OK (no error)");
    assert_eq!(
        Status::NOT_HAIKU.to_string(),
        "NOT_HAIKU (needs Haiku: this call is only available on Haiku)"
    );
    assert_eq!(
        Status::from_raw(-5).to_string(),
        "unknown status -5 (0xfffffffb)"
    );
    assert_eq!(Status::from_raw(7).name(), None);
    assert_eq!(format!("{:?}", Status::from_raw(7)), "Status(7)");
    // Usable as a boxed error.
    let e: Box<dyn std::error::Error> = Box::new(Status::BAD_VALUE);
    assert_eq!(e.to_string(), "B_BAD_VALUE (invalid argument)");
}

/// Values as Haiku's Errors.h defines them (INT_MIN-based), written out:
/// the bundled header must reproduce them (and tests/haiku_top_header.rs
/// checks the header against a real checkout).
#[test]
fn well_known_values() {
    assert_eq!(raw::B_OK, 0);
    assert_eq!(raw::B_ERROR, -1);
    assert_eq!(raw::B_NO_MEMORY, i32::MIN);
    assert_eq!(raw::B_BAD_VALUE, i32::MIN + 5);
    assert_eq!(raw::B_BAD_THREAD_ID, -2147479296);
    assert_eq!(raw::B_BAD_THREAD_ID, i32::MIN + 0x1000 + 0x100);
    assert_eq!(raw::B_BAD_TEAM_ID, i32::MIN + 0x1000 + 0x103);
    assert_eq!(raw::ESRCH, -2147454963);
    assert_eq!(raw::B_NOT_SUPPORTED, i32::MIN + 0x7000 + 43);
    assert_eq!(raw::B_DEV_INVALID_IOCTL, i32::MIN + 0xa000);
    assert_eq!(raw::B_NORMAL_PRIORITY, 10);
    assert_eq!(raw::B_RELATIVE_TIMEOUT, 8);
    assert_eq!(raw::B_CAN_INTERRUPT, 1);
    assert_eq!(raw::B_INFINITE_TIMEOUT, i64::MAX);
    assert_eq!(raw::B_OS_NAME_LENGTH, 32);
}

#[test]
fn not_haiku_is_distinct_from_every_haiku_code() {
    let not_haiku = Status::NOT_HAIKU.raw();
    for status in Status::all().filter(|s| *s != Status::NOT_HAIKU) {
        assert_ne!(status.raw(), not_haiku);
    }
    // Above B_ERRORS_END (INT_MIN + 0xffff): the range Haiku leaves to
    // applications.
    assert!(not_haiku > i32::MIN + 0xffff && not_haiku < 0);
}

#[test]
fn check_and_check_id() {
    assert_eq!(check(raw::B_OK), Ok(()));
    assert_eq!(check(raw::B_BAD_THREAD_ID), Err(Status::BAD_THREAD_ID));
    assert_eq!(check(1), Err(Status::from_raw(1)));
    assert_eq!(check_id(0), Ok(0));
    assert_eq!(check_id(4711), Ok(4711));
    assert_eq!(
        check_id(raw::B_NO_MORE_THREADS),
        Err(Status::NO_MORE_THREADS)
    );
    assert!(Status::OK.is_ok() && !Status::ERROR.is_ok());
}

#[test]
fn thread_info_layout_is_haikus() {
    use std::mem::{align_of, offset_of, size_of};
    // x86_64 Haiku: the same numbers bindgen's layout tests check.
    assert_eq!(size_of::<raw::thread_info>(), 88);
    assert_eq!(align_of::<raw::thread_info>(), 8);
    assert_eq!(offset_of!(raw::thread_info, name), 8);
    assert_eq!(offset_of!(raw::thread_info, state), 40);
    assert_eq!(offset_of!(raw::thread_info, user_time), 56);
    assert_eq!(offset_of!(raw::thread_info, stack_end), 80);
    assert_eq!(size_of::<raw::status_t>(), 4);
    assert_eq!(size_of::<raw::bigtime_t>(), 8);
    assert_eq!(size_of::<raw::thread_id>(), 4);
}
