//! Haiku's jam as an external command. The command type itself lives in
//! [`crate::sys::process`], shared with `cross`, `image` and `verify`.

pub use crate::sys::process::{find_in_path, CommandSpec};

/// Environment variable naming Haiku's jam when it is not the `jam` in PATH.
pub const JAM_ENV: &str = "DEAD_THREADS_JAM";

/// The jam to run: `$DEAD_THREADS_JAM`, else `jam` from PATH.
pub fn jam_program() -> String {
    std::env::var(JAM_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "jam".to_string())
}
