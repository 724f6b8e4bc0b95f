//! dead-threads: verify that Haiku keeps every thread's exit status until it is joined.
#![warn(missing_docs)]

pub mod bench;
pub mod haiku_cc;
pub mod module;
pub mod patch;
pub mod ktap;
pub mod qemu;
pub mod conformance;
