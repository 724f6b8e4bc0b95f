//! Building the qemu-system-x86_64 command line.
//!
//! Facts this relies on (read from Haiku checkouts, see the README's qemu section):
//!
//! * Haiku's x86_64 images (`haiku.image`, `haiku-anyboot.iso`/`.image`) are raw
//!   disk images with a BIOS-bootable MBR (anyboot adds an ISO 9660 and an EFI
//!   partition). QEMU's default `pc` machine boots them with SeaBIOS.
//! * The IDE bus manager (`ata`) with `generic_ide_pci`, and `ahci`, are in every
//!   x86_64 image from R1/beta1 (2018) to today (`build/jam/packages/Haiku`).
//!   `virtio_block` is not: upstream limits it to arm/arm64/riscv64 (head of 2026-08),
//!   so `-drive if=virtio` cannot boot a current x86_64 image. `virtio_scsi` is
//!   packaged on all architectures. IDE is therefore the default; AHCI and
//!   virtio-scsi are options.
//! * Haiku's kernel writes its debug output (and KDL) to the first serial port
//!   when `serial_debug_output` is on (the default in `data/settings/kernel/
//!   drivers/kernel`). QEMU's `-serial stdio` connects it to QEMU's stdout, which
//!   the runner reads through a pipe.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// The user's choice for KVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KvmMode {
    /// Use KVM when /dev/kvm can be opened read-write, else TCG.
    Auto,
    /// Require KVM; fail with an explanation if /dev/kvm is not usable.
    On,
    /// Never use KVM (TCG emulation; slow but works everywhere).
    Off,
}

/// The accelerator actually used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    /// Hardware virtualisation (`-accel kvm`).
    Kvm,
    /// QEMU's emulator (`-accel tcg`).
    Tcg,
}

impl Accel {
    /// Name as used on the QEMU command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// How the image is attached to the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiskBus {
    /// Legacy IDE on the `pc` machine (Haiku: ata + generic_ide_pci). Default.
    Ide,
    /// An AHCI (SATA) controller (Haiku: ahci).
    Ahci,
    /// A virtio-scsi controller (Haiku: virtio_pci + virtio_scsi).
    VirtioScsi,
}

/// Why KVM cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvmUnavailable(pub String);

/// Checks whether /dev/kvm can be opened for reading and writing.
pub fn kvm_usable() -> Result<(), KvmUnavailable> {
    kvm_usable_at(Path::new("/dev/kvm"))
}

fn kvm_usable_at(dev: &Path) -> Result<(), KvmUnavailable> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)
        .map(drop)
        .map_err(|e| KvmUnavailable(format!("{}: {e}", dev.display())))
}

/// Resolves `auto`/`on`/`off` against this machine.
pub fn resolve_accel(mode: KvmMode) -> Result<Accel, KvmUnavailable> {
    match mode {
        KvmMode::Off => Ok(Accel::Tcg),
        KvmMode::On => kvm_usable().map(|()| Accel::Kvm),
        KvmMode::Auto => Ok(if kvm_usable().is_ok() {
            Accel::Kvm
        } else {
            Accel::Tcg
        }),
    }
}

/// Escapes a value for QEMU's `key=value,...` option syntax (commas are doubled).
pub fn qemu_opt_escape(value: &str) -> String {
    value.replace(',', ",,")
}

/// Everything the command line depends on (a subset of [`super::QemuConfig`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec<'a> {
    /// The QEMU executable.
    pub qemu: &'a Path,
    /// The disk image.
    pub image: &'a Path,
    /// QEMU's name for the image format (`raw`, `vmdk`, ...).
    pub format: &'a str,
    /// The disk controller.
    pub disk: DiskBus,
    /// Accelerator.
    pub accel: Accel,
    /// CPU model (`-cpu`); `None` keeps QEMU's default (`qemu64`, which runs
    /// Haiku x86_64 under both KVM and TCG).
    pub cpu: Option<&'a str>,
    /// Guest memory in MiB.
    pub memory_mib: u32,
    /// Virtual CPUs.
    pub cpus: u32,
    /// Discard guest writes (`snapshot=on`).
    pub snapshot: bool,
    /// Extra arguments appended verbatim.
    pub extra: &'a [String],
}

/// The full argument vector, program first.
pub fn command_line(spec: &CommandSpec<'_>) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
    push(&[&spec.qemu.to_string_lossy()]);
    push(&["-name", "dead-threads", "-machine", "pc"]);
    push(&["-accel", spec.accel.as_str()]);
    if let Some(cpu) = spec.cpu {
        push(&["-cpu", cpu]);
    }
    push(&["-m", &spec.memory_mib.to_string()]);
    push(&["-smp", &spec.cpus.to_string()]);
    // Headless: no window, no monitor; the first serial port is QEMU's stdout.
    push(&["-display", "none", "-monitor", "none", "-parallel", "none"]);
    push(&["-serial", "stdio"]);
    push(&["-nic", "none"]);
    // A guest reboot (triple fault, `shutdown -r`) ends QEMU instead of looping.
    push(&["-no-reboot"]);
    let file = qemu_opt_escape(&spec.image.to_string_lossy());
    let snapshot = if spec.snapshot { ",snapshot=on" } else { "" };
    let format = qemu_opt_escape(spec.format);
    match spec.disk {
        DiskBus::Ide => push(&[
            "-drive",
            &format!("file={file},format={format},if=ide,index=0,media=disk{snapshot}"),
        ]),
        DiskBus::Ahci => push(&[
            "-device",
            "ahci,id=ahci0",
            "-drive",
            &format!("id=disk0,if=none,file={file},format={format}{snapshot}"),
            "-device",
            "ide-hd,drive=disk0,bus=ahci0.0,bootindex=0",
        ]),
        DiskBus::VirtioScsi => push(&[
            "-device",
            "virtio-scsi-pci,id=scsi0",
            "-drive",
            &format!("id=disk0,if=none,file={file},format={format}{snapshot}"),
            "-device",
            "scsi-hd,drive=disk0,bus=scsi0.0,bootindex=0",
        ]),
    }
    a.extend(spec.extra.iter().cloned());
    a
}

/// The command line as one shell-quoted string (for logs and dry runs).
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|s| {
            shlex::try_quote(s)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| format!("{s:?}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Finds `program` like a shell would: as given when it contains a `/`,
/// otherwise in `PATH`.
pub fn find_program(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 || program.is_absolute() {
        return is_executable(program).then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_are_doubled() {
        assert_eq!(qemu_opt_escape("a,b,,c"), "a,,b,,,,c");
    }

    #[test]
    fn kvm_check_reports_the_device() {
        let e = kvm_usable_at(Path::new("/nonexistent/kvm")).unwrap_err();
        assert!(e.0.contains("/nonexistent/kvm"), "{}", e.0);
    }
}
