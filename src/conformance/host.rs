//! The host's limits on threads, and a guard that stops spawning before the
//! process runs into one of them.
//!
//! A spawn the host refuses says nothing about the kernel's death entries.
//! Most refusals are ordinary errors (`pthread_create` and
//! `std::thread::Builder::spawn` return `EAGAIN` when `kernel.threads-max`
//! or `RLIMIT_NPROC` is reached) and the harness records them as spawn
//! failures. One is not: when the process has used up `vm.max_map_count`
//! (each exited-but-unjoined thread keeps its stack mapping until the join),
//! a thread that std did create cannot map its signal stack and std aborts
//! the whole process ("failed to initiate panic"). [`SpawnGuard`] therefore
//! stops spawning, with a spawn failure named after the limit, while a
//! margin of mappings (and address space, under a finite `RLIMIT_AS`) is
//! still free.
//!
//! [`HostLimits::read`] collects the limits for the message that explains a
//! spawn failure ([`HostLimits::explain`]); it never blames the kernel.

use std::fmt::Write as _;

use super::outcome::OsError;

/// Name of the spawn failure the guard records when the process's mappings
/// would exceed `vm.max_map_count`.
pub const MAP_LIMIT: &str = "host limit vm.max_map_count";

/// Name of the spawn failure the guard records when the process's address
/// space would exceed `RLIMIT_AS`.
pub const AS_LIMIT: &str = "host limit RLIMIT_AS";

/// Name of the spawn failure of an injected limit
/// ([`RunOptions::spawn_limit`](super::RunOptions::spawn_limit)).
pub const INJECTED_LIMIT: &str = "EAGAIN (injected spawn limit)";

/// Mappings one thread may add at most: its stack and guard page, and (std)
/// its signal stack and guard page.
const MAPS_PER_THREAD: u64 = 4;

/// Mappings kept free for everything else the process does (allocator
/// arenas, files): running out of them aborts the process on the next
/// allocation that needs a mapping.
const MAP_MARGIN: u64 = 2048;

/// Address space one thread may add at most (stack, guard pages, signal
/// stack), generously rounded up.
const BYTES_PER_THREAD: u64 = 256 * 1024;

/// Address space kept free under a finite `RLIMIT_AS`.
const AS_MARGIN: u64 = 64 * 1024 * 1024;

/// The host limits that bound how many threads one process can have.
/// `None` where the value could not be read (not Linux, no /proc).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostLimits {
    /// `kernel.threads-max`: threads system-wide.
    pub threads_max: Option<u64>,
    /// Threads on the system now (`/proc/loadavg`).
    pub threads_now: Option<u64>,
    /// `vm.max_map_count`: mappings per process.
    pub max_map_count: Option<u64>,
    /// Mappings of this process now (`/proc/self/maps`).
    pub maps_now: Option<u64>,
    /// `RLIMIT_NPROC` (soft), `None` when unlimited or unknown.
    pub nproc: Option<u64>,
    /// `RLIMIT_AS` (soft), `None` when unlimited or unknown.
    pub address_space: Option<u64>,
    /// `MemAvailable` from `/proc/meminfo`, in bytes.
    pub mem_available: Option<u64>,
}

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Number of mappings of this process (`None` without /proc).
pub fn current_maps() -> Option<u64> {
    let maps = std::fs::read(format!("/proc/{}/maps", std::process::id())).ok()?;
    Some(maps.iter().filter(|&&b| b == b'\n').count() as u64)
}

/// Virtual size of this process in bytes (`VmSize`), `None` without /proc.
fn current_vm_size() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Which soft resource limit [`rlimit`] reads.
#[derive(Clone, Copy)]
enum Limit {
    Nproc,
    AddressSpace,
}

/// A soft resource limit, `None` when unlimited or unknown.
#[cfg(target_os = "linux")]
fn rlimit(which: Limit) -> Option<u64> {
    let resource = match which {
        Limit::Nproc => libc::RLIMIT_NPROC,
        Limit::AddressSpace => libc::RLIMIT_AS,
    };
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    let rc = unsafe { libc::getrlimit(resource, &mut lim) };
    // rlim_t is u32 on 32-bit Linux.
    #[allow(clippy::unnecessary_cast)]
    let cur = lim.rlim_cur as u64;
    (rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(cur)
}

/// A soft resource limit: only read on Linux, where the guard is needed.
#[cfg(not(target_os = "linux"))]
fn rlimit(_which: Limit) -> Option<u64> {
    None
}

impl HostLimits {
    /// Reads the limits now.
    pub fn read() -> HostLimits {
        let threads_now = std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| {
            let field = s.split_whitespace().nth(3)?.to_string();
            field.split_once('/')?.1.parse().ok()
        });
        let mem_available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        });
        HostLimits {
            threads_max: read_u64("/proc/sys/kernel/threads-max"),
            threads_now,
            max_map_count: read_u64("/proc/sys/vm/max_map_count"),
            maps_now: current_maps(),
            nproc: rlimit(Limit::Nproc),
            address_space: rlimit(Limit::AddressSpace),
            mem_available,
        }
    }

    /// The limit that most likely refused a spawn with `error`, or `None`
    /// when none of them is near.
    pub fn likely_cause(&self, error: &str) -> Option<&'static str> {
        let near = |now: Option<u64>, max: Option<u64>, slack: u64| match (now, max) {
            (Some(n), Some(m)) => n + slack >= m,
            _ => false,
        };
        if error.starts_with(INJECTED_LIMIT) {
            Some("the injected --spawn-limit")
        } else if error.starts_with(MAP_LIMIT)
            || near(self.maps_now, self.max_map_count, MAP_MARGIN)
        {
            Some("vm.max_map_count")
        } else if error.starts_with(AS_LIMIT) {
            Some("RLIMIT_AS")
        } else if near(self.threads_now, self.threads_max, 64) {
            Some("kernel.threads-max")
        } else if self.mem_available.is_some_and(|m| m < 64 * 1024 * 1024) {
            Some("memory")
        } else if self.nproc.is_some() && error.starts_with("EAGAIN") {
            Some("RLIMIT_NPROC")
        } else {
            None
        }
    }

    /// A sentence that explains spawn failures: what the host refused, the
    /// limits with their values, the likely one, and what to do. Never
    /// blames the kernel's death entries.
    pub fn explain(&self, spawned: usize, error: &str) -> String {
        let show = |v: Option<u64>| v.map_or_else(|| "unknown".to_string(), |v| v.to_string());
        let mut s = format!(
            "the host refused thread {} ({error}); a host limit, not the kernel's death \
             entries: kernel.threads-max {} ({} threads now), vm.max_map_count {} \
             ({} mappings in this process), RLIMIT_NPROC {}, RLIMIT_AS {}, MemAvailable {}",
            spawned + 1,
            show(self.threads_max),
            show(self.threads_now),
            show(self.max_map_count),
            show(self.maps_now),
            self.nproc
                .map_or_else(|| "unlimited".to_string(), |v| v.to_string()),
            self.address_space
                .map_or_else(|| "unlimited".to_string(), |v| format!("{v} bytes")),
            self.mem_available
                .map_or_else(|| "unknown".to_string(), |v| format!("{} MiB", v >> 20)),
        );
        match self.likely_cause(error) {
            Some("vm.max_map_count") => s.push_str(
                "; likely vm.max_map_count (every exited, unjoined thread keeps its stack \
                 mapped): run fewer --threads or raise it (sysctl vm.max_map_count=262144)",
            ),
            Some(cause) => {
                let _ = write!(s, "; likely {cause}: run fewer --threads or raise it");
            }
            None => s.push_str("; run fewer --threads"),
        }
        s
    }
}

/// Decides before each spawn whether the process can afford another thread
/// without running into `vm.max_map_count` or `RLIMIT_AS` (see the module
/// doc). Reads `/proc/self/maps` only when its estimate comes near a limit,
/// so a 10000-thread scenario reads it a few times, not per thread.
#[derive(Debug)]
pub struct SpawnGuard {
    max_map_count: Option<u64>,
    address_space: Option<u64>,
    /// Mappings / address space measured at the last check.
    maps_checked: u64,
    vm_checked: u64,
    /// Spawns since the last check.
    since_check: u64,
}

impl SpawnGuard {
    /// A guard for this process's limits, `None` when there is nothing to
    /// guard (no /proc, unlimited).
    pub fn new() -> Option<SpawnGuard> {
        let max_map_count = read_u64("/proc/sys/vm/max_map_count");
        let address_space = rlimit(Limit::AddressSpace);
        if max_map_count.is_none() && address_space.is_none() {
            return None;
        }
        let mut g = SpawnGuard {
            max_map_count,
            address_space,
            maps_checked: 0,
            vm_checked: 0,
            since_check: 0,
        };
        g.measure();
        Some(g)
    }

    fn measure(&mut self) {
        self.maps_checked = current_maps().unwrap_or(0);
        self.vm_checked = current_vm_size().unwrap_or(0);
        self.since_check = 0;
    }

    fn exceeds(&self) -> Option<&'static str> {
        let n = self.since_check + 1;
        if let Some(max) = self.max_map_count {
            if self.maps_checked + n * MAPS_PER_THREAD + MAP_MARGIN > max {
                return Some(MAP_LIMIT);
            }
        }
        if let Some(max) = self.address_space {
            if self.vm_checked + n * BYTES_PER_THREAD + AS_MARGIN > max {
                return Some(AS_LIMIT);
            }
        }
        None
    }

    /// `Err` naming the limit if one more thread could exceed it; `Ok` (and
    /// the spawn is counted) otherwise.
    pub fn admit(&mut self) -> Result<(), OsError> {
        if self.exceeds().is_some() {
            self.measure();
            if let Some(limit) = self.exceeds() {
                return Err(OsError::new(limit, None));
            }
        }
        self.since_check += 1;
        Ok(())
    }
}
