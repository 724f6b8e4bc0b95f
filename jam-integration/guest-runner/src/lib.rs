//! The dead-threads guest runner.
//!
//! Runs inside the Haiku guest from a launch_daemon job: reads the manifest
//! staged next to the test binaries, runs every binary with libtest's pretty
//! output, converts that output into KTAP v1 (one subtest per binary, one
//! nested case per test) and writes each KTAP line, prefixed, to the kernel's
//! debug output, which reaches the serial port. A watchdog bails out and
//! powers the guest off if the whole run takes too long.
//!
//! Everything except the serial sink and the power-off is plain Rust and is
//! tested on Linux, where the sink is standard output.

#![warn(missing_docs)]

pub mod ktap;
pub mod libtest;
pub mod manifest;
pub mod run;
pub mod sink;

/// Default prefix of every KTAP line on the serial port: the host's
/// `dead_threads::ktap::SERIAL_PREFIX` (a host test checks they agree). The
/// manifest carries the prefix the host expects; this value is used when the
/// manifest cannot be read.
pub const DEFAULT_KTAP_PREFIX: &str = "dead-threads-ktap: ";

/// Powers the machine off now (`shutdown -q`: no questions, straight to the
/// kernel). Needs Haiku; anywhere else it refuses and does nothing.
pub fn power_off() -> Result<(), String> {
    if !cfg!(target_os = "haiku") {
        return Err("power-off needs Haiku; refusing to shut this machine down".into());
    }
    let status = std::process::Command::new("/bin/shutdown")
        .arg("-q")
        .status()
        .map_err(|e| format!("/bin/shutdown -q: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("/bin/shutdown -q: {status}"))
    }
}
