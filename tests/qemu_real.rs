//! The QEMU runner against the real qemu-system-x86_64, booting a synthetic
//! 512-byte boot sector (built here) that writes serial-protocol lines to COM1
//! and then powers off through ACPI or hangs. This checks our command line,
//! `-serial stdio` capture, power-off detection and the killing of a real QEMU.
//! It boots no Haiku. Reported ignored when QEMU is not installed.

#[path = "transcripts/fake.rs"]
mod fake;
#[path = "transcripts/replay.rs"]
mod replay;

use dead_threads::qemu::{self, KvmMode, QemuConfig, RunEvent, Verdict};
use std::time::Duration;

/// What the boot sector does after writing its message.
#[derive(Clone, Copy, PartialEq)]
enum Then {
    /// `outw 0x604, 0x2000`: SLP_EN in PM1a_CNT of the `pc` machine's PIIX4
    /// ACPI block as SeaBIOS maps it: QEMU powers off.
    PowerOff,
    /// Halt forever.
    Hang,
    /// Act like KDL: echo what arrives on the serial input; at `\r` answer with
    /// `reply` (a stack trace and a new prompt).
    Kdl(&'static str),
}

/// A BIOS boot sector (16-bit real mode, hand-assembled) that writes `msg` to
/// the UART at 0x3f8, polling the line status register, then does `then`.
fn boot_sector(msg: &str, then: Then) -> Vec<u8> {
    let mut c: Vec<u8> = vec![0xfa, 0x31, 0xc0, 0x8e, 0xd8]; // cli; xor ax,ax; mov ds,ax
    let mut abs16 = Vec::new(); // (position, which string)
    let mut call_print = Vec::new(); // positions of rel16 operands
    c.push(0xbe); // mov si, msg
    abs16.push((c.len(), 0));
    c.extend([0, 0]);
    c.push(0xe8); // call print
    call_print.push(c.len());
    c.extend([0, 0]);
    match then {
        Then::PowerOff => {
            c.extend([0xba, 0x04, 0x06, 0xb8, 0x00, 0x20, 0xef]); // mov dx,0x604; mov ax,0x2000; out dx,ax
            c.extend([0xf4, 0xeb, 0xfd]); // hlt; jmp $-1
        }
        Then::Hang => c.extend([0xf4, 0xeb, 0xfd]),
        Then::Kdl(_) => {
            let read_loop = c.len();
            c.extend([0xba, 0xfd, 0x03]); // mov dx,0x3fd
            c.extend([0xec, 0xa8, 0x01, 0x74, 0xfb]); // in al,dx; test al,1 (data ready); jz -5
            c.extend([0xba, 0xf8, 0x03, 0xec, 0xee]); // mov dx,0x3f8; in al,dx; out dx,al (echo)
            c.extend([0x3c, 0x0d, 0x75]); // cmp al,0x0d; jne read_loop
            c.push((read_loop as i32 - (c.len() as i32 + 1)) as u8);
            c.push(0xbe); // mov si, reply
            abs16.push((c.len(), 1));
            c.extend([0, 0]);
            c.push(0xe8); // call print
            call_print.push(c.len());
            c.extend([0, 0]);
            c.push(0xeb); // jmp read_loop
            c.push((read_loop as i32 - (c.len() as i32 + 1)) as u8);
        }
    }
    // print: write the NUL-terminated string at ds:si
    let print = c.len();
    c.extend([0xac, 0x08, 0xc0, 0x74]); // lodsb; or al,al; jz ret
    let jz_ret = c.len();
    c.push(0);
    c.extend([0x88, 0xc3, 0xba, 0xfd, 0x03]); // mov bl,al; mov dx,0x3fd
    c.extend([0xec, 0xa8, 0x20, 0x74, 0xfb]); // in al,dx; test al,0x20 (THR empty); jz -5
    c.extend([0xba, 0xf8, 0x03, 0x88, 0xd8, 0xee]); // mov dx,0x3f8; mov al,bl; out dx,al
    c.push(0xeb); // jmp print
    c.push((print as i32 - (c.len() as i32 + 1)) as u8);
    c[jz_ret] = (c.len() - (jz_ret + 1)) as u8;
    c.push(0xc3); // ret
    for at in call_print {
        let rel = (print as i32 - (at as i32 + 2)) as i16;
        c[at..at + 2].copy_from_slice(&rel.to_le_bytes());
    }
    let reply = match then {
        Then::Kdl(r) => r,
        _ => "",
    };
    let mut strings = Vec::new();
    for text in [msg, reply] {
        strings.push(0x7c00 + c.len());
        c.extend(text.replace('\n', "\r\n").as_bytes());
        c.push(0);
    }
    for (at, which) in abs16 {
        c[at..at + 2].copy_from_slice(&(strings[which] as u16).to_le_bytes());
    }
    assert!(c.len() <= 510, "boot sector too long: {}", c.len());
    c.resize(510, 0);
    c.extend([0x55, 0xaa]);
    c.resize(64 * 1024, 0);
    c
}

fn boot(msg: &str, then: Then, tweak: impl FnOnce(&mut QemuConfig)) -> qemu::QemuOutcome {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("boot.img");
    std::fs::write(&image, boot_sector(msg, then)).unwrap();
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
#[cfg_attr(
    not(has_qemu),
    ignore = "needs qemu-system-x86_64 (apt-get install qemu-system-x86)"
)]
fn real_qemu_pass_and_power_off() {
    let o = boot(PASS, Then::PowerOff, |_| {});
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
#[cfg_attr(
    not(has_qemu),
    ignore = "needs qemu-system-x86_64 (apt-get install qemu-system-x86)"
)]
fn real_qemu_no_power_off_is_stopped() {
    let o = boot(PASS, Then::Hang, |_| {});
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
#[cfg_attr(
    not(has_qemu),
    ignore = "needs qemu-system-x86_64 (apt-get install qemu-system-x86)"
)]
fn real_qemu_panic_prompt() {
    let msg = "dead-threads-ktap: KTAP version 1\n\
dead-threads-ktap: 1..1\n\
PANIC: synthetic panic from a boot sector\n\
Welcome to Kernel Debugging Land...\n\
stack trace for thread 1 \"boot\"\n\
 0 0000000000007c00 (+   0) 0000000000007c00   <boot> sector + 0x0\n\
kdebug> ";
    let o = boot(msg, Then::Hang, |_| {});
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
#[cfg_attr(
    not(has_qemu),
    ignore = "needs qemu-system-x86_64 (apt-get install qemu-system-x86)"
)]
fn real_qemu_timeout() {
    let msg = "dead-threads-ktap: KTAP version 1\ndead-threads-ktap: 1..3\n";
    let o = boot(msg, Then::Hang, |c| c.timeout = Duration::from_secs(8));
    assert_eq!(o.verdict, Verdict::Timeout, "{}", o.message);
    assert!(
        o.message.contains("0 of 3 top-level results"),
        "{}",
        o.message
    );
}

#[test]
#[cfg_attr(
    not(has_qemu),
    ignore = "needs qemu-system-x86_64 (apt-get install qemu-system-x86)"
)]
fn real_qemu_power_off_before_plan_complete() {
    let msg =
        "dead-threads-ktap: KTAP version 1\ndead-threads-ktap: 1..3\ndead-threads-ktap: ok 1 a\n";
    let o = boot(msg, Then::PowerOff, |_| {});
    assert_eq!(o.verdict, Verdict::Incomplete, "{}", o.message);
    assert!(o.qemu_exited_by_itself);
}

#[test]
#[cfg_attr(
    not(has_qemu),
    ignore = "needs qemu-system-x86_64 (apt-get install qemu-system-x86)"
)]
fn real_qemu_kdl_commands_reach_the_serial_input() {
    let msg = "dead-threads-ktap: KTAP version 1\n\
dead-threads-ktap: 1..1\n\
PANIC: synthetic panic\n\
kdebug> ";
    let reply = "\nstack trace for thread 1 \"boot\"\n 0 <boot> frame\nkdebug> ";
    let o = boot(msg, Then::Kdl(reply), |c| {
        c.kdl_commands = vec!["bt".to_string(), "threads 1".to_string()];
    });
    assert_eq!(o.verdict, Verdict::KernelPanic, "{}", o.message);
    let p = o.panic.unwrap();
    assert_eq!(
        p.command_output,
        vec![
            "kdebug> bt",
            "stack trace for thread 1 \"boot\"",
            " 0 <boot> frame",
            "kdebug> threads 1",
            "stack trace for thread 1 \"boot\"",
            " 0 <boot> frame",
            "kdebug>",
        ]
    );
}
