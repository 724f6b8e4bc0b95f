//! dead-threads: verify that Haiku keeps every thread's exit status until it is joined.
#![warn(missing_docs)]

pub mod bench;
pub mod conformance;
pub mod cross;
pub mod haiku_cc;
pub mod image;
pub mod jam;
pub mod ktap;
pub mod module;
pub mod patch;
pub mod qemu;
pub mod sys;
pub mod verify;
