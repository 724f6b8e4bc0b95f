//! Helpers shared by the test crates under `tests/`. Each crate uses the
//! part it needs (`mod common;`), hence `dead_code` is allowed here.
//!
//! * [`checkout`]: the Haiku checkout named by `HAIKU_TOP` (for the tests
//!   ignored without it) and scratch copies of it.
//! * [`crash`]: stopping and killing `patch apply|revert`, and judging the
//!   tree the next command leaves.
//! * [`device`]: the dead_threads test module's device, one test at a time.
//! * [`git`]: git in a scratch tree.
//! * [`jam_tree`]: a synthetic checkout, build directory and repository for
//!   the jam tests, and fake tools.
//! * [`snapshots`]: insta snapshot files shared by two test crates.

#![allow(dead_code)]

pub mod checkout;
pub mod crash;
pub mod device;
pub mod git;
pub mod jam_tree;
pub mod snapshots;
