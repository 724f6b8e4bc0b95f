//! The QEMU runner against a fake qemu-system-x86_64 (tests/transcripts/fake-qemu.sh)
//! that replays hand-written transcripts on its serial port (`-serial stdio`).
//! Every run checks that no fake process is left behind.

#[path = "transcripts/fake.rs"]
mod fake;
#[path = "transcripts/replay.rs"]
mod replay;

use dead_threads::ktap::{self, Outcome};
use dead_threads::qemu::{
    self, command_line, Accel, CommandSpec, DiskBus, KvmMode, QemuConfig, QemuError, QemuOutcome,
    RunEvent, Verdict,
};
use fake::Scenario;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn config(s: &Scenario) -> QemuConfig {
    let mut cfg = QemuConfig::new(s.image.clone(), s.out.clone());
    cfg.qemu = fake::qemu().to_path_buf();
    cfg.kvm = KvmMode::Off;
    cfg.timeout = Duration::from_secs(30);
    // Generous: a loaded CI machine must not turn a power-off into NO POWER-OFF.
    cfg.poweroff_grace = Duration::from_secs(5);
    cfg.kdl_settle = Duration::from_secs(3);
    cfg
}

/// Runs a transcript; returns the outcome and a log of the live events.
fn run(
    transcript: &str,
    tweak: impl FnOnce(&mut QemuConfig),
) -> (QemuOutcome, Scenario, Vec<String>) {
    let s = Scenario::new(transcript);
    let mut cfg = config(&s);
    tweak(&mut cfg);
    let mut log = Vec::new();
    let mut observer = |e: &RunEvent<'_>| {
        log.push(match e {
            RunEvent::Started { .. } => "started".to_string(),
            RunEvent::Console { line, .. } => format!("console {line}"),
            RunEvent::Ktap { event, .. } => format!("ktap {event:?}"),
            RunEvent::Panic { line, .. } => format!("panic {line}"),
            RunEvent::Stopping { reason, .. } => format!("stopping {reason}"),
            RunEvent::WaitingForPowerOff { .. } => "waiting".to_string(),
            RunEvent::Retrying { reason } => format!("retrying {reason}"),
            RunEvent::KdlCommand { command, sent, .. } => format!("kdl {command} {sent}"),
        })
    };
    let outcome = qemu::run(&cfg, &mut observer).expect("run starts");
    s.assert_nothing_left();
    (outcome, s, log)
}

#[test]
fn all_pass_and_power_off() {
    let (o, s, log) = run("serial-pass.txt", |_| {});
    assert_eq!(o.verdict, Verdict::Passed, "{}", o.message);
    assert_eq!(o.verdict.exit_code(), 0);
    assert!(o.qemu_exited_by_itself);
    assert_eq!(o.qemu_exit, "exited with status 0");
    assert_eq!((o.counts.passed, o.counts.failed), (5, 0));
    assert!(
        o.panic.is_none(),
        "a KTAP diagnostic mentioning PANIC: is no panic"
    );
    assert!(o.message.starts_with("All tests passed"), "{}", o.message);
    // The raw serial log is byte-exact.
    let serial = std::fs::read(&o.files.serial_log).unwrap();
    assert_eq!(serial, replay::serial_bytes("serial-pass.txt"));
    // results.ktap holds the extracted KTAP lines and parses to the same report.
    let ktap_text = std::fs::read_to_string(&o.files.ktap).unwrap();
    assert!(
        ktap_text.starts_with("KTAP version 1\n1..2\n  KTAP version 1\n"),
        "{ktap_text}"
    );
    assert!(!ktap_text.contains("dead-threads-ktap"));
    assert_eq!(ktap::parse_text(ktap_text.as_bytes(), false), o.report);
    // results.json is the outcome.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&o.files.json).unwrap()).unwrap();
    assert_eq!(json["verdict"], "passed");
    assert_eq!(json["counts"]["passed"], 5);
    // The fake saw the serial port on stdio and the image on IDE.
    let argv = s.argv();
    let serial_at = argv.iter().position(|a| a == "-serial").unwrap();
    assert_eq!(argv[serial_at + 1], "stdio");
    assert!(argv
        .iter()
        .any(|a| a.contains("if=ide") && a.contains("snapshot=on")));
    let cmd = std::fs::read_to_string(&o.files.command).unwrap();
    assert!(cmd.contains("-serial stdio"), "{cmd}");
    // Live: results were reported before the guest powered off, noise as console.
    assert!(log
        .iter()
        .any(|l| l == "console usb: hub 0 port 1 changed (invented noise)"));
    assert!(log
        .iter()
        .any(|l| l == "console net: link down (no newline, then the next KTAP line)"));
    let first_result = log
        .iter()
        .position(|l| l.starts_with("ktap Result"))
        .unwrap();
    let complete = log.iter().position(|l| l == "ktap PlanComplete").unwrap();
    assert!(first_result < complete);
    assert!(!log.iter().any(|l| l.starts_with("stopping")), "{log:?}");
}

#[test]
fn test_failures() {
    let (o, _s, _) = run("serial-failures.txt", |_| {});
    assert_eq!(o.verdict, Verdict::TestsFailed, "{}", o.message);
    assert_eq!(o.verdict.exit_code(), 1);
    assert_eq!(
        (
            o.counts.passed,
            o.counts.failed,
            o.counts.skipped,
            o.counts.todo
        ),
        (1, 2, 1, 1)
    );
    let conformance = o.report.root.tests[0].subtests.as_ref().unwrap();
    assert_eq!(conformance.tests[1].outcome, Outcome::Fail);
    assert_eq!(
        conformance.tests[1].diagnostics[0],
        "join_after_33_exits: wait_for_thread(thread 33) returned B_BAD_THREAD_ID"
    );
    assert!(o.qemu_exited_by_itself);
}

#[test]
fn kernel_panic_shows_message_and_backtrace_and_stops_at_the_prompt() {
    let started = Instant::now();
    let (o, _, log) = run("serial-panic.txt", |c| {
        c.kdl_settle = Duration::from_secs(20)
    });
    assert_eq!(o.verdict, Verdict::KernelPanic, "{}", o.message);
    assert_eq!(o.verdict.exit_code(), 3);
    let p = o.panic.as_ref().unwrap();
    assert_eq!(
        p.message.as_deref(),
        Some("invented: death entry freed twice")
    );
    assert!(p.entered_kdl && p.prompt_seen);
    assert_eq!(p.backtrace.len(), 5, "{:?}", p.backtrace);
    assert!(p.backtrace[0].starts_with("stack trace for thread 4242"));
    assert!(p.backtrace[4].contains("invented_scenario_frame"));
    assert!(
        o.message.contains("death entry freed twice"),
        "{}",
        o.message
    );
    assert!(!o.qemu_exited_by_itself);
    // Stopped because of the prompt, not after the settle time or the timeout.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(log
        .iter()
        .any(|l| l == "panic PANIC: invented: death entry freed twice"));
    assert!(log
        .iter()
        .any(|l| l == "stopping the guest is in the kernel debugger"));
    // The test that was running is reported as incomplete.
    assert!(!o.report.complete());
}

#[test]
fn panic_without_prompt_stops_after_the_settle_time() {
    let s = Scenario::new("serial-panic.txt");
    // Same transcript without the prompt line.
    let text: String = replay::text("serial-panic.txt")
        .lines()
        .filter(|l| !l.contains("kdebug"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(s.dir.path().join("transcript.txt"), text).unwrap();
    let mut cfg = config(&s);
    cfg.kdl_settle = Duration::from_millis(500);
    let started = Instant::now();
    let o = qemu::run(&cfg, &mut |_: &RunEvent<'_>| {}).unwrap();
    s.assert_nothing_left();
    assert_eq!(o.verdict, Verdict::KernelPanic);
    assert!(!o.panic.as_ref().unwrap().prompt_seen);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn hang_past_the_timeout() {
    let started = Instant::now();
    let (o, s, _) = run("serial-hang.txt", |c| c.timeout = Duration::from_secs(2));
    assert_eq!(o.verdict, Verdict::Timeout, "{}", o.message);
    assert_eq!(o.verdict.exit_code(), 4);
    assert!(
        o.message.contains("1 of 2 top-level results") || o.message.contains("0 of 2"),
        "{}",
        o.message
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(12),
        "{took:?}"
    );
    assert!(
        s.child_pid().is_some(),
        "the hang transcript starts a child"
    );
}

#[test]
fn timeout_with_the_qemu_process_itself_hanging() {
    let (o, _s, _) = run("serial-exec-hang.txt", |c| {
        c.timeout = Duration::from_secs(1)
    });
    assert_eq!(o.verdict, Verdict::Timeout, "{}", o.message);
    assert_eq!(o.qemu_exit, "was killed by signal 15 (SIGTERM)");
}

#[test]
fn no_power_off_after_the_plan() {
    let (o, _, log) = run("serial-no-poweroff.txt", |c| {
        c.poweroff_grace = Duration::from_secs(1)
    });
    assert_eq!(o.verdict, Verdict::NoPowerOff, "{}", o.message);
    assert_eq!(o.verdict.exit_code(), 6);
    assert!(o.report.all_passed());
    assert!(log.iter().any(|l| l == "waiting"));
    assert!(o.message.contains("did not power off"), "{}", o.message);
}

#[test]
fn no_power_off_when_qemu_ignores_sigterm() {
    let started = Instant::now();
    let (o, _s, _) = run("serial-stubborn.txt", |c| {
        c.poweroff_grace = Duration::from_millis(300)
    });
    assert_eq!(o.verdict, Verdict::NoPowerOff, "{}", o.message);
    assert_eq!(o.qemu_exit, "was killed by signal 9 (SIGKILL)");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn failures_then_no_power_off_reports_the_failures() {
    let (o, _s, _) = run("serial-failures-no-poweroff.txt", |c| {
        c.poweroff_grace = Duration::from_millis(300)
    });
    assert_eq!(o.verdict, Verdict::TestsFailed, "{}", o.message);
    assert_eq!(o.notes.len(), 1);
    assert!(o.notes[0].contains("did not power off"));
}

#[test]
fn guest_ends_before_the_plan_is_complete() {
    let (o, _s, _) = run("serial-truncated.txt", |_| {});
    assert_eq!(o.verdict, Verdict::Incomplete, "{}", o.message);
    assert_eq!(o.verdict.exit_code(), 5);
    assert!(o.qemu_exited_by_itself);
    assert!(
        o.message.contains("before its test plan was complete"),
        "{}",
        o.message
    );
    assert!(
        o.message.contains("1 of 2 top-level results") || o.message.contains("0 of 2"),
        "{}",
        o.message
    );
}

#[test]
fn guest_ends_without_any_ktap() {
    let (o, _s, _) = run("serial-no-ktap.txt", |_| {});
    assert_eq!(o.verdict, Verdict::Incomplete, "{}", o.message);
    assert!(
        o.message.contains("without any KTAP output"),
        "{}",
        o.message
    );
}

#[test]
fn guest_bails_out() {
    let (o, _s, _) = run("serial-bail-out.txt", |_| {});
    assert_eq!(o.verdict, Verdict::Incomplete, "{}", o.message);
    assert!(
        o.message
            .contains("bailed out: /dev/misc/dead_threads does not exist"),
        "{}",
        o.message
    );
}

#[test]
fn garbage_bytes_do_not_hurt() {
    let (o, _s, _) = run("serial-garbage.txt", |_| {});
    assert_eq!(o.verdict, Verdict::Passed, "{}", o.message);
    assert_eq!(o.counts.passed, 3);
    assert_eq!(
        std::fs::read(&o.files.serial_log).unwrap(),
        replay::serial_bytes("serial-garbage.txt")
    );
}

#[test]
fn qemu_error_is_reported_with_its_stderr() {
    let (o, _s, _) = run("serial-qemu-error.txt", |_| {});
    assert_eq!(o.verdict, Verdict::QemuFailed, "{}", o.message);
    assert_eq!(o.verdict.exit_code(), 2);
    assert!(
        o.message.contains("QEMU exited with status 1"),
        "{}",
        o.message
    );
    assert!(
        o.message
            .contains("failed to initialize kvm: Permission denied"),
        "{}",
        o.message
    );
    let stderr = std::fs::read_to_string(&o.files.qemu_stderr).unwrap();
    assert!(stderr.contains("Permission denied"));
}

#[test]
fn interrupt_stops_qemu() {
    let s = Scenario::new("serial-hang.txt");
    let mut cfg = config(&s);
    let flag = Arc::new(AtomicBool::new(false));
    cfg.interrupt = Some(flag.clone());
    let started = Instant::now();
    let o = std::thread::scope(|scope| {
        scope.spawn(|| {
            assert!(s.wait_for_output("results.ktap", "ok 1", Duration::from_secs(10)));
            flag.store(true, Ordering::SeqCst);
        });
        qemu::run(&cfg, &mut |_: &RunEvent<'_>| {}).unwrap()
    });
    s.assert_nothing_left();
    assert_eq!(o.verdict, Verdict::Interrupted, "{}", o.message);
    assert_eq!(o.verdict.exit_code(), 130);
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn start_errors_say_what_to_do() {
    let s = Scenario::new("serial-pass.txt");
    let mut cfg = config(&s);
    cfg.image = s.dir.path().join("missing.image");
    let e = qemu::run(&cfg, &mut |_: &RunEvent<'_>| {}).unwrap_err();
    assert!(matches!(e, QemuError::Image { .. }), "{e}");
    assert!(e.to_string().contains("--image"), "{e}");

    let mut cfg = config(&s);
    cfg.qemu = s.dir.path().join("no-such-qemu");
    let e = qemu::run(&cfg, &mut |_: &RunEvent<'_>| {}).unwrap_err();
    assert!(matches!(e, QemuError::QemuNotFound(_)), "{e}");
    assert!(
        e.to_string().contains("apt-get install qemu-system-x86"),
        "{e}"
    );

    let mut cfg = config(&s);
    cfg.image = s.dir.path().to_path_buf();
    let e = qemu::run(&cfg, &mut |_: &RunEvent<'_>| {}).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    assert!(
        s.fake_pid().is_none(),
        "QEMU must not start on a start error"
    );
}

#[test]
fn image_path_with_commas_reaches_qemu_intact() {
    let s = Scenario::new("serial-pass.txt");
    let image = s.dir.path().join("a,b.image");
    std::fs::rename(&s.image, &image).unwrap();
    let mut cfg = config(&s);
    cfg.image = image;
    let o = qemu::run(&cfg, &mut |_: &RunEvent<'_>| {}).unwrap();
    s.assert_nothing_left();
    assert_eq!(o.verdict, Verdict::Passed, "{}", o.message);
}

fn spec<'a>(disk: DiskBus, accel: Accel, extra: &'a [String]) -> CommandSpec<'a> {
    CommandSpec {
        qemu: Path::new("qemu-system-x86_64"),
        image: Path::new("/work/haiku/generated/haiku.image"),
        format: "raw",
        disk,
        accel,
        cpu: None,
        memory_mib: 2048,
        cpus: 2,
        snapshot: true,
        extra,
    }
}

#[test]
fn command_lines() {
    insta::assert_snapshot!(
        "ide_kvm",
        qemu::shell_line(&command_line(&spec(DiskBus::Ide, Accel::Kvm, &[])))
    );
    insta::assert_snapshot!(
        "ide_tcg",
        qemu::shell_line(&command_line(&spec(DiskBus::Ide, Accel::Tcg, &[])))
    );
    insta::assert_snapshot!(
        "ahci",
        qemu::shell_line(&command_line(&spec(DiskBus::Ahci, Accel::Tcg, &[])))
    );
    insta::assert_snapshot!(
        "virtio_scsi",
        qemu::shell_line(&command_line(&spec(DiskBus::VirtioScsi, Accel::Tcg, &[])))
    );
    let extra = vec!["-d".to_string(), "guest_errors".to_string()];
    let mut odd = spec(DiskBus::Ide, Accel::Tcg, &extra);
    let odd_image = Path::new("/tmp/my images/a,b.image");
    odd.image = odd_image;
    odd.snapshot = false;
    odd.memory_mib = 1024;
    odd.cpus = 4;
    odd.cpu = Some("host");
    insta::assert_snapshot!(
        "odd_path_no_snapshot_extra_args",
        qemu::shell_line(&command_line(&odd))
    );
}

#[test]
fn planned_command_resolves_kvm_off() {
    let mut cfg = QemuConfig::new("/x/haiku.image".into(), "/x/out".into());
    cfg.kvm = KvmMode::Off;
    let argv = qemu::planned_command(&cfg).unwrap();
    assert_eq!(argv, command_line(&cfg.spec(Accel::Tcg)));
    assert!(!argv.contains(&"kvm".to_string()));
}

#[test]
fn repeated_lines_suppressed_by_haiku_are_restored() {
    let (o, _s, _) = run("serial-repeats.txt", |_| {});
    assert_eq!(o.verdict, Verdict::Passed, "{}", o.message);
    let ktap_text = std::fs::read_to_string(&o.files.ktap).unwrap();
    assert_eq!(
        ktap_text.matches("# waiting for threads to exit").count(),
        3
    );
    assert_eq!(o.report.root.tests[0].diagnostics.len(), 3);
}

#[test]
fn kdl_commands_are_typed_at_the_prompt_and_their_output_kept() {
    let started = Instant::now();
    let (o, _s, log) = run("serial-kdl.txt", |c| {
        c.kdl_commands = vec!["bt".to_string(), "threads 42".to_string()];
        c.kdl_settle = Duration::from_secs(20);
    });
    assert_eq!(o.verdict, Verdict::KernelPanic, "{}", o.message);
    let p = o.panic.as_ref().unwrap();
    assert_eq!(
        p.message.as_deref(),
        Some("invented: thread_exit with a locked team")
    );
    assert_eq!(
        p.command_output,
        vec![
            "kdebug> bt",
            "stack trace for thread 4242 \"dead_threads_sc\"",
            " 0 ffffffff90004e10 (+  32) ffffffff80012345   <kernel_x86_64> invented_frame + 0x15",
            "kdebug> threads 42",
            "invented output of threads 42",
            "kdebug>",
        ]
    );
    assert!(log.iter().any(|l| l == "kdl bt true"), "{log:?}");
    assert!(log.iter().any(|l| l == "kdl threads 42 true"), "{log:?}");
    // Stopped at the prompt after the last command, not by the settle time.
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn without_kdl_commands_qemu_is_stopped_at_the_first_prompt() {
    let (o, _s, log) = run("serial-kdl.txt", |c| c.kdl_settle = Duration::from_secs(20));
    assert_eq!(o.verdict, Verdict::KernelPanic);
    assert!(o.panic.unwrap().command_output.is_empty());
    assert!(!log.iter().any(|l| l.starts_with("kdl ")));
}

/// Images QEMU cannot boot are refused before QEMU starts, saying what is
/// wrong; a bare boot sector boots, with a note that it is not Haiku's.
#[test]
fn images_that_cannot_boot_are_refused_before_qemu_starts() {
    let s = Scenario::new("serial-pass.txt");
    let bad = s.dir.path().join("bad.image");
    let mut random = vec![0u8; 64 * 1024];
    fastrand::Rng::with_seed(7).fill(&mut random);
    random[510] = 0; // no boot signature, whatever the generator gave
    for (content, expect) in [
        (Vec::new(), "is empty"),
        (vec![0x55; 100], "less than one 512-byte sector"),
        (random, "no boot signature"),
    ] {
        std::fs::write(&bad, &content).unwrap();
        let mut cfg = config(&s);
        cfg.image = bad.clone();
        let e = qemu::run(&cfg, &mut |_: &RunEvent<'_>| {}).unwrap_err();
        assert!(matches!(e, QemuError::Image { .. }), "{e}");
        assert!(e.to_string().contains(expect), "{e}");
        assert!(e.to_string().contains("--image"), "{e}");
        assert!(s.fake_pid().is_none(), "QEMU must not start: {e}");
    }
    let mut qcow = config(&s);
    qcow.format = "qcow2".to_string();
    let e = qemu::run(&qcow, &mut |_: &RunEvent<'_>| {}).unwrap_err();
    assert!(e.to_string().contains("qcow2 magic"), "{e}");

    let mut sector = vec![0u8; 512];
    sector[510] = 0x55;
    sector[511] = 0xaa;
    std::fs::write(&bad, &sector).unwrap();
    let mut cfg = config(&s);
    cfg.image = bad.clone();
    let o = qemu::run(&cfg, &mut |_: &RunEvent<'_>| {}).unwrap();
    s.assert_nothing_left();
    assert_eq!(o.verdict, Verdict::Passed, "{}", o.message);
    assert!(
        o.notes.iter().any(|n| n.contains("not a Haiku image")),
        "{:?}",
        o.notes
    );
}

/// With `--kvm auto` on a host where KVM is usable, QEMU failing before any
/// output is retried with TCG; when it fails again the note must not blame
/// KVM. Without usable KVM there is no retry and no KVM note at all.
#[test]
fn a_failure_that_is_not_kvm_is_not_blamed_on_kvm() {
    let s = Scenario::new("serial-qemu-error.txt");
    let mut cfg = config(&s);
    cfg.kvm = KvmMode::Auto;
    let o = qemu::run(&cfg, &mut |_: &RunEvent<'_>| {}).unwrap();
    s.assert_nothing_left();
    assert_eq!(o.verdict, Verdict::QemuFailed, "{}", o.message);
    let notes = o.notes.join("\n");
    assert!(!notes.contains("KVM was usable"), "{notes}");
    if qemu::kvm_usable().is_ok() {
        assert!(notes.contains("the cause is not KVM"), "{notes}");
    } else {
        assert!(!notes.contains("KVM"), "{notes}");
    }
}

/// A guest that plans `1..0` and powers off ran nothing: its own verdict,
/// with a failing exit status (it used to be PASSED).
#[test]
fn a_run_without_tests_is_no_tests() {
    let (o, _s, _) = run("serial-no-tests.txt", |_| {});
    assert_eq!(o.verdict, Verdict::NoTests, "{}", o.message);
    assert_eq!(o.verdict.exit_code(), 7);
    assert!(o.message.contains("ran no test"), "{}", o.message);
}
