//! A stdio server's child process: a bare environment, its own process group, a drained
//! and bounded stderr, and a kill that reaches the whole group.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::{Result, ToolError};

/// How much of a server's stderr is kept (the end of it), for error messages.
const STDERR_TAIL_BYTES: usize = 4096;

/// How long stopping waits for the killed child to be reaped.
const REAP_WAIT: Duration = Duration::from_secs(5);

/// How long stopping waits for the last of a dead child's stderr.
const DRAIN_WAIT: Duration = Duration::from_millis(500);

/// The only variables of Hearth's own environment a server inherits: enough to find
/// programs and a home directory, and to pick a language. Everything else (notably
/// `HEARTH_PASSPHRASE` and every other `HEARTH_*`) stays out.
const INHERITED: [&str; 3] = ["PATH", "HOME", "LANG"];

/// The end of a child's stderr, shared with the task that drains it, and the values
/// of the server's configured environment, which never appear in what it gives back.
#[derive(Clone, Default)]
pub(crate) struct StderrTail(Arc<Mutex<Vec<u8>>>, Arc<Vec<String>>);

/// Configured values shorter than this are not hidden (they would hide ordinary words).
const MIN_SECRET_CHARS: usize = 6;

impl StderrTail {
    /// A tail that shows `secrets` (the configured environment's values) as `[secret]`.
    fn hiding<'a>(secrets: impl Iterator<Item = &'a String>) -> StderrTail {
        let mut secrets: Vec<String> = secrets
            .filter(|s| s.chars().count() >= MIN_SECRET_CHARS)
            .cloned()
            .collect();
        // Longer first, so a value that contains another is hidden whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        StderrTail(Arc::default(), Arc::new(secrets))
    }

    fn push(&self, bytes: &[u8]) {
        let Ok(mut tail) = self.0.lock() else { return };
        tail.extend_from_slice(bytes);
        if tail.len() > STDERR_TAIL_BYTES {
            let excess = tail.len() - STDERR_TAIL_BYTES;
            tail.drain(..excess);
        }
    }

    /// The kept text, lossily decoded, with the configured values hidden.
    pub(crate) fn text(&self) -> String {
        let mut text = self
            .0
            .lock()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default();
        for secret in self.1.iter() {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[secret]");
            }
        }
        text
    }
}

/// A running child. Dropping it kills its process group; tokio reaps it.
pub(crate) struct ChildProcess {
    child: Child,
    pid: Option<u32>,
    drain: Option<tokio::task::JoinHandle<()>>,
}

/// Spawns `command` with a cleared environment, in a process group of its own.
pub(crate) fn spawn(
    server: &str,
    command: &str,
    args: &[String],
    env: &BTreeMap<String, String>,
    inherited: &[(&'static str, OsString)],
) -> Result<(ChildProcess, ChildStdout, ChildStdin, StderrTail)> {
    let mut cmd = Command::new(command);
    cmd.args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (key, value) in inherited {
        cmd.env(key, value);
    }
    cmd.envs(env);
    #[cfg(unix)]
    cmd.process_group(0);
    let spawn_error = |source| ToolError::Spawn {
        server: server.to_owned(),
        command: command.to_owned(),
        source,
    };
    let mut child = cmd.spawn().map_err(spawn_error)?;
    let missing = || spawn_error(std::io::Error::other("a standard stream was not piped"));
    let stdout = child.stdout.take().ok_or_else(missing)?;
    let stdin = child.stdin.take().ok_or_else(missing)?;
    let mut stderr = child.stderr.take().ok_or_else(missing)?;
    let tail = StderrTail::hiding(env.values());
    let sink = tail.clone();
    // Drain stderr for as long as the child lives, so a chatty server never blocks on a
    // full pipe; only the end is kept.
    let drain = tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.push(&buf[..n]);
        }
    });
    let pid = child.id();
    Ok((
        ChildProcess {
            child,
            pid,
            drain: Some(drain),
        },
        stdout,
        stdin,
        tail,
    ))
}

/// The inherited part of the environment, read from Hearth's own.
pub(crate) fn inherited_env() -> Vec<(&'static str, OsString)> {
    INHERITED
        .iter()
        .filter_map(|key| std::env::var_os(key).map(|v| (*key, v)))
        .collect()
}

impl ChildProcess {
    /// The child's process id, while it has one.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Sends SIGKILL to the child's whole process group, then to the child itself.
    fn kill_now(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok()) {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                // The group may already be gone; that is the goal anyway.
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
        }
        let _ = self.child.start_kill();
    }

    /// Kills the group and waits (bounded) until the child is reaped.
    pub(crate) async fn kill_and_reap(mut self) {
        self.kill_now();
        if tokio::time::timeout(REAP_WAIT, self.child.wait())
            .await
            .is_err()
        {
            tracing::warn!(pid = self.pid, "an MCP server did not exit after SIGKILL");
        }
        self.pid = None;
        // Let the drain task read what the child wrote last, so an error can show it. A
        // grandchild holding the pipe open must not stall this, hence the bound.
        if let Some(drain) = self.drain.take() {
            let _ = tokio::time::timeout(DRAIN_WAIT, drain).await;
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if self.pid.is_some() {
            self.kill_now();
        }
    }
}
