//! The QEMU runner against the real qemu-system-x86_64, booting a synthetic
//! 512-byte boot sector (built here) that writes serial-protocol lines to COM1
//! and then powers off through ACPI or hangs. This checks our command line,
//! `-serial stdio` capture, power-off detection and the killing of a real QEMU.
//! It boots no Haiku. Skipped (with a message) when QEMU is not installed.

#[path = "transcripts/fake.rs"]
mod fake;
#[path = "transcripts/replay.rs"]
mod replay;

use dead_threads::qemu::{self, KvmMode, QemuConfig, RunEvent, Verdict};
use std::path::Path;
use std::time::Duration;

fn qemu_available() -> bool {
    if qemu::find_program(Path::new("qemu-system-x86_64")).is_some() {
        return true;
    }
    eprintln!(
        "SKIPPED: qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)"
    );
    false
}

/// A BIOS boot sector: writes `msg` to the UART at 0x3f8 (polling the line
/// status register), then either powers off (`outw 0x604, 0x2000`: SLP_EN in
/// PM1a_CNT of the `pc` machine's PIIX4 ACPI block as SeaBIOS maps it) or halts
/// forever.
fn boot_sector(msg: &str, power_off: bool) -> Vec<u8> {
    let mut c: Vec<u8> = vec![0xfa, 0x31, 0xc0, 0x8e, 0xd8]; // cli; xor ax,ax; mov ds,ax
    let si_at = c.len() + 1;
    c.extend([0xbe, 0, 0]); // mov si, msg
    let next = c.len();
    c.extend([0xac, 0x08, 0xc0, 0x74, 0]); // lodsb; or al,al; jz done
    let jz_at = c.len() - 1;
    c.extend([0x88, 0xc3, 0xba, 0xfd, 0x03]); // mov bl,al; mov dx,0x3fd
    let wait = c.len();
    c.extend([0xec, 0xa8, 0x20, 0x74]); // in al,dx; test al,0x20; jz wait
    c.push((wait as i32 - (c.len() as i32 + 1)) as u8);
    c.extend([0xba, 0xf8, 0x03, 0x88, 0xd8, 0xee]); // mov dx,0x3f8; mov al,bl; out dx,al
    c.push(0xeb); // jmp next
    c.push((next as i32 - (c.len() as i32 + 1)) as u8);
    let done = c.len();
    c[jz_at] = (done - (jz_at + 1)) as u8;
    if power_off {
        c.extend([0xba, 0x04, 0x06, 0xb8, 0x00, 0x20, 0xef]); // mov dx,0x604; mov ax,0x2000; out dx,ax
    }
    c.extend([0xf4, 0xeb, 0xfd]); // hlt; jmp $-1
    let addr = 0x7c00 + c.len();
    c[si_at] = addr as u8;
    c[si_at + 1] = (addr >> 8) as u8;
    c.extend(msg.replace('\n', "\r\n").as_bytes());
    c.push(0);
    assert!(c.len() <= 510, "boot sector too long: {}", c.len());
    c.resize(510, 0);
    c.extend([0x55, 0xaa]);
    c.resize(64 * 1024, 0);
    c
}

fn boot(msg: &str, power_off: bool, tweak: impl FnOnce(&mut QemuConfig)) -> qemu::QemuOutcome {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("boot.img");
    std::fs::write(&image, boot_sector(msg, power_off)).unwrap();
    let mut cfg = QemuConfig::new(image, dir.path().join("out"));
    cfg.kvm = KvmMode::Off;
    cfg.memory_mib = 64;
    cfg.cpus = 1;
    cfg.timeout = Duration::from_secs(60);
    cfg.poweroff_grace = Duration::from_secs(3);
    cfg.kdl_settle = Duration::from_secs(10);
    tweak(&mut cfg);
    let mut pid = None;
    let o = qemu::run(&cfg, &mut |e: &RunEvent<'_>| {
        if let RunEvent::Started { pid: p, .. } = e {
            pid = Some(*p as i32);
        }
    })
    .expect("QEMU starts");
    let pid = pid.expect("Started event");
    assert!(!fake::alive(pid), "QEMU (pid {pid}) outlived the run");
    o
}

const PASS: &str = "synthetic guest\n\
dead-threads-ktap: KTAP version 1\n\
dead-threads-ktap: 1..2\n\
dead-threads-ktap: ok 1 real_qemu_serial\n\
noise dead-threads-ktap: ok 2 real_qemu_poweroff\n";

#[test]
fn real_qemu_pass_and_power_off() {
    if !qemu_available() {
        return;
    }
    let o = boot(PASS, true, |_| {});
    assert_eq!(
        o.verdict,
        Verdict::Passed,
        "{} {:?}",
        o.message,
        o.qemu_stderr_tail
    );
    assert!(o.qemu_exited_by_itself);
    assert_eq!(o.qemu_exit, "exited with status 0");
    assert_eq!(o.counts.passed, 2);
}

#[test]
fn real_qemu_no_power_off_is_stopped() {
    if !qemu_available() {
        return;
    }
    let o = boot(PASS, false, |_| {});
    assert_eq!(o.verdict, Verdict::NoPowerOff, "{}", o.message);
    assert!(!o.qemu_exited_by_itself);
    // QEMU exits cleanly (status 0) on the runner's SIGTERM and says so.
    assert!(
        o.qemu_stderr_tail
            .iter()
            .any(|l| l.contains("terminating on signal 15")),
        "{:?}",
        o.qemu_stderr_tail
    );
}

#[test]
fn real_qemu_panic_prompt() {
    if !qemu_available() {
        return;
    }
    let msg = "dead-threads-ktap: KTAP version 1\n\
dead-threads-ktap: 1..1\n\
PANIC: synthetic panic from a boot sector\n\
Welcome to Kernel Debugging Land...\n\
stack trace for thread 1 \"boot\"\n\
 0 0000000000007c00 (+   0) 0000000000007c00   <boot> sector + 0x0\n\
kdebug> ";
    let o = boot(msg, false, |_| {});
    assert_eq!(o.verdict, Verdict::KernelPanic, "{}", o.message);
    let p = o.panic.unwrap();
    assert_eq!(
        p.message.as_deref(),
        Some("synthetic panic from a boot sector")
    );
    assert!(p.prompt_seen);
    assert_eq!(p.backtrace.len(), 2);
    assert!(
        o.elapsed_secs < 10.0,
        "stopped at the prompt, not after the settle time"
    );
}

#[test]
fn real_qemu_timeout() {
    if !qemu_available() {
        return;
    }
    let msg = "dead-threads-ktap: KTAP version 1\ndead-threads-ktap: 1..3\n";
    let o = boot(msg, false, |c| c.timeout = Duration::from_secs(8));
    assert_eq!(o.verdict, Verdict::Timeout, "{}", o.message);
    assert!(
        o.message.contains("0 of 3 top-level results"),
        "{}",
        o.message
    );
}

#[test]
fn real_qemu_power_off_before_plan_complete() {
    if !qemu_available() {
        return;
    }
    let msg =
        "dead-threads-ktap: KTAP version 1\ndead-threads-ktap: 1..3\ndead-threads-ktap: ok 1 a\n";
    let o = boot(msg, true, |_| {});
    assert_eq!(o.verdict, Verdict::Incomplete, "{}", o.message);
    assert!(o.qemu_exited_by_itself);
}
