//! Child processes as data: a command with its working directory and
//! environment, shown exactly in `--dry-run`, run otherwise.

use std::path::PathBuf;
use std::process::Command;

/// A command with its working directory and extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// Program (name looked up in PATH, or a path).
    pub program: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Variables added to the inherited environment.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: PathBuf,
}

fn quote(s: &str) -> String {
    shlex::try_quote(s)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("{s:?}"))
}

impl CommandSpec {
    /// A command run in `cwd`.
    pub fn new(program: &str, args: &[&str], cwd: impl Into<PathBuf>) -> Self {
        Self {
            program: program.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            cwd: cwd.into(),
        }
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// The command as one shell line: `cd DIR && VAR=... program args`.
    pub fn shell_line(&self) -> String {
        let mut s = format!("cd {} && ", quote(&self.cwd.display().to_string()));
        for (k, v) in &self.env {
            s.push_str(&format!("{k}={} ", quote(v)));
        }
        s.push_str(&quote(&self.program));
        for a in &self.args {
            s.push(' ');
            s.push_str(&quote(a));
        }
        s
    }

    /// A [`Command`] ready to spawn.
    pub fn to_command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args).current_dir(&self.cwd);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }
}

/// Finds an executable in PATH (or checks a path containing `/`).
pub fn find_in_path(program: &str) -> Option<PathBuf> {
    let is_exec = |p: &std::path::Path| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        }
        #[cfg(not(unix))]
        {
            p.is_file()
        }
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_exec(&p).then_some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| is_exec(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_line_quotes() {
        let c = CommandSpec::new("jam", &["-q", "<build>package"], "/b d").env("A", "x y");
        assert_eq!(
            c.shell_line(),
            "cd '/b d' && A='x y' jam -q '<build>package'"
        );
    }
}
