//! The fake QEMU used by the runner tests: `fake-qemu.sh`, installed once per
//! test process, replaying a transcript copied next to a dummy image.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Path of the installed fake `qemu-system-x86_64`.
///
/// Written once per process, before any test can spawn it: writing an
/// executable while another thread forks can make exec fail with ETXTBSY.
pub fn qemu() -> &'static Path {
    static FAKE: OnceLock<PathBuf> = OnceLock::new();
    FAKE.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("fake-qemu-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("qemu-system-x86_64");
        let tmp = dir.join("qemu-system-x86_64.tmp");
        std::fs::copy(super::replay::path("fake-qemu.sh"), &tmp).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        path
    })
}

/// The first 4 KiB of a bootable raw `haiku.image` as the runner checks it:
/// the boot signature 0x55 0xAA at byte 510 (makebootable's boot block) and
/// a BFS superblock's magic1 ("BFS1", little-endian) at byte 544. No Haiku
/// bytes: the rest is zeros.
pub fn haiku_like_image() -> Vec<u8> {
    let mut image = vec![0u8; 4096];
    image[510] = 0x55;
    image[511] = 0xaa;
    image[544..548].copy_from_slice(&0x4246_5331u32.to_le_bytes());
    image
}

/// One fake boot: a temp dir with `haiku.image` (dummy), `transcript.txt` and
/// the runner's output directory `out/`.
pub struct Scenario {
    pub dir: tempfile::TempDir,
    pub image: PathBuf,
    pub out: PathBuf,
}

impl Scenario {
    pub fn new(transcript: &str) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("haiku.image");
        std::fs::write(&image, haiku_like_image()).unwrap();
        std::fs::copy(
            super::replay::path(transcript),
            dir.path().join("transcript.txt"),
        )
        .unwrap();
        let out = dir.path().join("out");
        Scenario { dir, image, out }
    }

    fn pid_file(&self, name: &str) -> Option<i32> {
        std::fs::read_to_string(self.dir.path().join(name))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// The fake's pid (it writes it first thing).
    pub fn fake_pid(&self) -> Option<i32> {
        self.pid_file("fake.pid")
    }

    /// The pid of the `sleep` child of `@fake hang`.
    pub fn child_pid(&self) -> Option<i32> {
        self.pid_file("child.pid")
    }

    /// The arguments the fake was started with.
    pub fn argv(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("argv"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Waits until `file` in the output dir contains `needle`.
    pub fn wait_for_output(&self, file: &str, needle: &str, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if std::fs::read_to_string(self.out.join(file)).is_ok_and(|s| s.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Asserts that the fake ran and that neither it nor its child is running.
    pub fn assert_nothing_left(&self) {
        let pid = self.fake_pid().expect("the fake QEMU never started");
        assert!(!alive(pid), "fake QEMU (pid {pid}) is still running");
        if let Some(child) = self.child_pid() {
            // SIGKILL from the runner's group kill is delivered asynchronously:
            // the child gets a moment to finish dying.
            assert!(
                wait_dead(child, Duration::from_secs(2)),
                "the fake's child (pid {child}) is still running"
            );
        }
    }
}

/// Whether `pid` is a running (non-zombie) process.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // state is the field after the parenthesised command name
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Waits up to `limit` for `pid` to stop running.
pub fn wait_dead(pid: i32, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}
