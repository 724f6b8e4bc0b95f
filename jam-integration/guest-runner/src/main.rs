//! `dead-threads-guest-runner --manifest FILE [--sink serial|stdout] [--poweroff]`
//!
//! See the library documentation. Exit status 0 when every binary passed,
//! 1 when one failed, 2 when the manifest or the arguments are unusable.

use guest_runner::manifest::Manifest;
use guest_runner::sink::{SerialSink, Sink, StdoutSink};
use guest_runner::{ktap, run, DEFAULT_KTAP_PREFIX};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: dead-threads-guest-runner --manifest FILE [--sink serial|stdout] [--poweroff]
  --manifest FILE  manifest.json staged next to the test binaries
  --sink serial    KTAP lines to the kernel debug output (debug_printf); Haiku only, default there
  --sink stdout    KTAP lines to standard output; the default anywhere else
  --poweroff       power the machine off (shutdown -q) when done or when the watchdog fires; Haiku only";

struct Args {
    manifest: PathBuf,
    serial: bool,
    poweroff: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut manifest = None;
    let mut serial = cfg!(target_os = "haiku");
    let mut poweroff = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--manifest" => {
                manifest = Some(PathBuf::from(it.next().ok_or("--manifest needs a file")?))
            }
            "--sink" => match it.next().as_deref() {
                Some("serial") => serial = true,
                Some("stdout") => serial = false,
                other => return Err(format!("--sink must be serial or stdout, not {other:?}")),
            },
            "--poweroff" => poweroff = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if poweroff && !cfg!(target_os = "haiku") {
        return Err("--poweroff needs Haiku; refusing to power this machine off".into());
    }
    Ok(Args {
        manifest: manifest.ok_or("--manifest is required")?,
        serial,
        poweroff,
    })
}

fn make_sink(serial: bool, prefix: &str) -> Result<Box<dyn Sink + Send>, String> {
    if serial {
        Ok(Box::new(SerialSink::new(prefix)?))
    } else {
        Ok(Box::new(StdoutSink::new(prefix)))
    }
}

fn finish(poweroff: bool, code: u8) -> ExitCode {
    if poweroff {
        if let Err(e) = guest_runner::power_off() {
            eprintln!("dead-threads-guest-runner: {e}");
        }
    }
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("dead-threads-guest-runner: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let manifest = std::fs::read_to_string(&args.manifest)
        .map_err(|e| format!("cannot read {}: {e}", args.manifest.display()))
        .and_then(|t| Manifest::parse(&t).map_err(|e| e.to_string()));
    let manifest = match manifest {
        Ok(m) => m,
        Err(reason) => {
            match make_sink(args.serial, DEFAULT_KTAP_PREFIX) {
                Ok(mut sink) => run::manifest_failure(&reason, sink.as_mut()),
                Err(e) => eprintln!("dead-threads-guest-runner: {e}"),
            }
            eprintln!("dead-threads-guest-runner: {reason}");
            return finish(args.poweroff, 2);
        }
    };
    let mut sink = match make_sink(args.serial, &manifest.ktap_prefix) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dead-threads-guest-runner: {e}");
            return ExitCode::from(2);
        }
    };
    // The manifest's directory: binaries are found relative to it, and it is
    // insta's workspace root (absolute, since the binaries run in it).
    let manifest_path = std::path::absolute(&args.manifest).unwrap_or(args.manifest.clone());
    let root = manifest_path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));

    // Watchdog: if the whole run outlives watchdog_secs, say so on the
    // serial port and power off (on Haiku), or exit (elsewhere).
    let watchdog_secs = manifest.watchdog_secs;
    let prefix = manifest.ktap_prefix.clone();
    let (serial, poweroff) = (args.serial, args.poweroff);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(watchdog_secs));
        if let Ok(mut s) = make_sink(serial, &prefix) {
            let _ = s.line(&format!(
                "Bail out! guest watchdog expired after {watchdog_secs} s"
            ));
        }
        let _ = finish(poweroff, 1);
        std::process::exit(1);
    });

    let env = vec![
        (
            "INSTA_WORKSPACE_ROOT".to_string(),
            root.display().to_string(),
        ),
        ("INSTA_UPDATE".to_string(), "no".to_string()),
        ("RUST_BACKTRACE".to_string(), "1".to_string()),
    ];
    let totals = run::run_all(&manifest, &root, &env, sink.as_mut());
    let _ = sink.line(&ktap::diagnostic("", "dead-threads guest runner: done"));
    finish(poweroff, if totals.failed == 0 { 0 } else { 1 })
}
