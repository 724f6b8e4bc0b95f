//! git in a scratch tree (never in `HAIKU_TOP`).

use std::path::Path;
use std::process::Command;

/// Runs `git -C dir args...` with a fixed identity; panics with git's
/// message unless it succeeds. Returns its stdout.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@invalid"])
        .args(args)
        .output()
        .expect("git must be installed for these tests");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Makes `dir` a git repository whose one commit (`message`) holds
/// everything in it.
pub fn commit_all(dir: &Path, message: &str) {
    git_in(dir, &["init", "-q"]);
    git_in(dir, &["add", "-A"]);
    git_in(dir, &["commit", "-q", "-m", message]);
}
