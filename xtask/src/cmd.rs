//! A printable command: every command xtask runs is echoed first, with the
//! environment it sets, so a failed CI log can be replayed by hand.

use std::ffi::OsString;
use std::fmt;
use std::process::{Command, ExitCode, Stdio};

/// A command to run, with the extra environment it gets.
#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(String, OsString)>,
    env_removes: Vec<String>,
    path: Option<OsString>,
}

impl Cmd {
    /// A command running `program` (looked up on `path` when one is set).
    pub(crate) fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            envs: Vec::new(),
            env_removes: Vec::new(),
            path: None,
        }
    }

    pub(crate) fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub(crate) fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets a variable for the child; shown when the command is printed.
    pub(crate) fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.envs.push((key.to_owned(), value.into()));
        self
    }

    /// Removes a variable from the child's environment.
    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.env_removes.push(key.to_owned());
        self
    }

    /// The `PATH` of the child, also used to find the program. Not printed:
    /// it is the same long value for every command.
    pub(crate) fn search_path(mut self, path: OsString) -> Self {
        self.path = Some(path);
        self
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        if let Some(path) = &self.path {
            command.env("PATH", path);
        }
        for key in &self.env_removes {
            command.env_remove(key);
        }
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        command
    }

    /// Prints the command, runs it with inherited stdio, and fails unless it
    /// exits 0.
    pub(crate) fn run(&self) -> Result<(), String> {
        eprintln!("$ {self}");
        let status = self
            .command()
            .status()
            .map_err(|e| format!("could not start `{self}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{self}` failed ({status})"))
        }
    }

    /// Runs the command quietly and returns its trimmed stdout, or `None` when
    /// it cannot start or fails (used to probe installed versions).
    pub(crate) fn probe(&self) -> Option<String> {
        let output = self
            .command()
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Prints the command and replaces this process with it, so signals and
    /// the exit status are the child's own.
    #[cfg(unix)]
    pub(crate) fn exec(&self) -> Result<ExitCode, String> {
        use std::os::unix::process::CommandExt as _;
        eprintln!("$ {self}");
        let error = self.command().exec();
        Err(format!("could not start `{self}`: {error}"))
    }

    /// Prints the command, runs it, and passes its exit status through.
    #[cfg(not(unix))]
    pub(crate) fn exec(&self) -> Result<ExitCode, String> {
        eprintln!("$ {self}");
        let status = self
            .command()
            .status()
            .map_err(|e| format!("could not start `{self}`: {e}"))?;
        let code = status.code().unwrap_or(1);
        Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.env_removes.is_empty() {
            f.write_str("env ")?;
        }
        for key in &self.env_removes {
            write!(f, "-u {key} ")?;
        }
        for (key, value) in &self.envs {
            write!(f, "{key}={} ", quote(value))?;
        }
        f.write_str(&quote(&self.program))?;
        for arg in &self.args {
            write!(f, " {}", quote(arg))?;
        }
        Ok(())
    }
}

/// Shell-style quoting, only where needed, for copy-paste.
fn quote(s: &std::ffi::OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,@+%^".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_commands_can_be_pasted_into_a_shell() {
        let cmd = Cmd::new("trunk")
            .args(["build", "--release", "a b", "it's"])
            .env("TRUNK_SKIP_VERSION_CHECK", "true")
            .env_remove("RUST_LOG");
        assert_eq!(
            cmd.to_string(),
            r"env -u RUST_LOG TRUNK_SKIP_VERSION_CHECK=true trunk build --release 'a b' 'it'\''s'"
        );
    }

    #[test]
    fn probe_returns_trimmed_stdout_of_successful_commands_only() {
        assert_eq!(Cmd::new("echo").arg(" hi ").probe().as_deref(), Some("hi"));
        assert_eq!(Cmd::new("false").probe(), None);
        assert_eq!(Cmd::new("/nonexistent/program").probe(), None);
    }
}
