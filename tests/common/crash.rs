//! Crash tests of `dead-threads patch apply|revert`, shared by the T0
//! (synthetic trees) and T1 (copies of a Haiku checkout) crates: the
//! binary is stopped at every write (`DEAD_THREADS_FAULT_AFTER_WRITES`, a
//! test-only switch) or killed at random moments, and the next `patch`
//! command must leave the tree exactly as before or exactly as after.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Every file of the tree except `.git/`, as bytes.
pub type Snapshot = BTreeMap<String, Vec<u8>>;

/// Takes a [`Snapshot`] of `root`.
pub fn snapshot(root: &Path) -> Snapshot {
    fn walk(base: &Path, dir: &Path, out: &mut Snapshot) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_name() == ".git" {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = Snapshot::new();
    walk(root, root, &mut out);
    out
}

/// Makes the tree's files (outside `.git/`) what `snap` holds.
pub fn restore(root: &Path, snap: &Snapshot) {
    for rel in snapshot(root).keys() {
        if !snap.contains_key(rel) {
            std::fs::remove_file(root.join(rel)).unwrap();
        }
    }
    for (rel, bytes) in snap {
        let p = root.join(rel);
        if std::fs::read(&p).ok().as_ref() != Some(bytes) {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, bytes).unwrap();
        }
    }
}

/// `dead-threads patch <cmd> --haiku root --series series`.
pub fn patch_cmd(root: &Path, series: &Path, cmd: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dead-threads"));
    c.args(["patch", cmd, "--haiku"])
        .arg(root)
        .arg("--series")
        .arg(series)
        .env_remove("DEAD_THREADS_FAULT_AFTER_WRITES")
        .stdin(Stdio::null());
    c
}

/// Runs [`patch_cmd`], with the fault switch set to `fault` if given.
pub fn run(root: &Path, series: &Path, cmd: &str, fault: Option<usize>) -> Output {
    let mut c = patch_cmd(root, series, cmd);
    if let Some(k) = fault {
        c.env("DEAD_THREADS_FAULT_AFTER_WRITES", k.to_string());
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts that no state folder, lock, temporary file or git index lock
/// is left in or for the tree.
pub fn assert_no_leftovers(root: &Path, what: &str) {
    for p in [".dead-threads", ".git/dead-threads", ".git/index.lock"] {
        assert!(!root.join(p).exists(), "{what}: {p} is left behind");
    }
    let temps: Vec<String> = snapshot(root)
        .into_keys()
        .filter(|k| k.rsplit('/').next().unwrap().starts_with(".dead-threads-"))
        .collect();
    assert!(temps.is_empty(), "{what}: temporary files left: {temps:?}");
}

/// Which of the two consistent states a tree is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// As before the operation.
    Before,
    /// As after it.
    After,
}

/// Runs `patch status` (the next command after a crash), asserts it
/// succeeds, that the tree is byte-identical to `before` or to `after` and
/// that nothing is left behind. Returns the side and status's stdout.
pub fn recover_and_judge(
    root: &Path,
    series: &Path,
    before: &Snapshot,
    after: &Snapshot,
    what: &str,
) -> (Side, String) {
    let o = run(root, series, "status", None);
    assert!(
        o.status.success(),
        "{what}: patch status after the crash failed:\n{}",
        text(&o)
    );
    let now = snapshot(root);
    let side = if now == *before {
        Side::Before
    } else if now == *after {
        Side::After
    } else {
        let differ: Vec<&String> = now
            .keys()
            .chain(before.keys())
            .filter(|k| now.get(*k) != before.get(*k) && now.get(*k) != after.get(*k))
            .collect();
        panic!(
            "{what}: the tree is neither as before nor as after; files differing from both: \
             {differ:?}\n{}",
            text(&o)
        );
    };
    assert_no_leftovers(root, what);
    (side, String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Stops `patch <cmd>` after its k-th write for k = 1, 2, ... until it
/// runs to the end; after each stop, checks [`recover_and_judge`]. Every
/// run starts from `before`; `after` is what the command makes of it. For
/// every odd k, the recovery itself is first stopped at its first write and
/// must be recoverable too. Returns the number of writes the command makes.
pub fn fault_at_every_write(
    root: &Path,
    series: &Path,
    cmd: &str,
    before: &Snapshot,
    after: &Snapshot,
) -> usize {
    for k in 1.. {
        restore(root, before);
        let what = format!("{cmd} stopped after write {k}");
        let o = run(root, series, cmd, Some(k));
        if o.status.success() {
            assert_eq!(snapshot(root), *after, "{what}: ran to the end");
            assert_no_leftovers(root, &what);
            restore(root, before);
            return k - 1;
        }
        assert_eq!(
            o.status.signal(),
            Some(libc::SIGKILL),
            "{what}: expected the injected SIGKILL:\n{}",
            text(&o)
        );
        if k % 2 == 1 {
            // A crash while recovering is recovered by the next command.
            let o = run(root, series, "status", Some(1));
            assert!(
                o.status.success() || o.status.signal() == Some(libc::SIGKILL),
                "{what}: {}",
                text(&o)
            );
        }
        let (side, out) = recover_and_judge(root, series, before, after, &what);
        if side == Side::Before && k > 1 {
            assert!(
                out.contains("Recovered:") && out.contains("rolled back"),
                "{what}: rolled back without saying so:\n{out}"
            );
        }
        assert!(k < 1000, "{cmd} never finished");
    }
    unreachable!()
}

/// What [`kill_loop`] saw.
#[derive(Debug, Default)]
pub struct KillStats {
    /// Kills in total.
    pub kills: usize,
    /// Runs that had ended before the kill came.
    pub finished_first: usize,
    /// Kills after which the next command rolled a change back.
    pub rolled_back: usize,
    /// Kills after which the next command found a change complete.
    pub completed: usize,
}

/// Alternates `patch apply` (from `unpatched`) and `patch revert` (from
/// `patched`), killing each with SIGKILL `kills` times, after each checking
/// [`recover_and_judge`]. Every other kill comes after a random delay up to
/// a little more than a clean run takes; the others come at a random moment
/// of up to 0.8 ms after the transaction record appeared, while files are
/// being replaced.
pub fn kill_loop(
    root: &Path,
    series: &Path,
    unpatched: &Snapshot,
    patched: &Snapshot,
    kills: usize,
    seed: u64,
) -> KillStats {
    restore(root, unpatched);
    // How long a clean run of each takes (the shortest of three): the
    // files are written at the end of it.
    let mut took = [Duration::MAX; 2];
    for _ in 0..3 {
        for (i, cmd) in ["apply", "revert"].into_iter().enumerate() {
            let t = Instant::now();
            let o = run(root, series, cmd, None);
            assert!(o.status.success(), "{}", text(&o));
            took[i] = took[i].min(t.elapsed());
        }
    }
    assert_eq!(snapshot(root), *unpatched);
    let records = [
        root.join(".dead-threads/transaction.json"),
        root.join(".git/dead-threads/transaction.json"),
    ];
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut stats = KillStats::default();
    let mut side = Side::Before;
    for i in 0..kills {
        let (cmd, before, after, t) = match side {
            Side::Before => ("apply", unpatched, patched, took[0]),
            Side::After => ("revert", patched, unpatched, took[1]),
        };
        let mut child = patch_cmd(root, series, cmd)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = if i % 2 == 0 {
            // Any moment of the run.
            let d = t.mul_f64(1.1 * rng.f64());
            std::thread::sleep(d);
            d
        } else {
            // A moment while files are being replaced: once the
            // transaction record is there, up to 0.8 ms later.
            let start = Instant::now();
            while !records.iter().any(|r| r.exists())
                && start.elapsed() < t * 3
                && child.try_wait().unwrap().is_none()
            {
                std::thread::sleep(Duration::from_micros(50));
            }
            std::thread::sleep(Duration::from_micros(rng.u64(0..800)));
            start.elapsed()
        };
        if child.try_wait().unwrap().is_some() {
            stats.finished_first += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        stats.kills += 1;
        let what = format!("kill {i} (seed {seed}) of {cmd} after {delay:?}");
        let (now, out) = recover_and_judge(root, series, before, after, &what);
        if out.contains("Recovered:") {
            if out.contains("rolled back") {
                stats.rolled_back += 1;
            } else {
                stats.completed += 1;
            }
        }
        side = match (side, now) {
            (Side::Before, Side::Before) | (Side::After, Side::After) => side,
            (Side::Before, Side::After) => Side::After,
            (Side::After, Side::Before) => Side::Before,
        };
    }
    stats
}
