//! The one error type of hearth-tools: each variant says what went wrong with which server.

use std::time::Duration;

/// Why a server could not be started or a call did not give a result.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The configuration is refused before anything runs.
    #[error("MCP server {server:?}: {reason}")]
    InvalidConfig {
        /// The server's name.
        server: String,
        /// What to change.
        reason: String,
    },
    /// The command could not be run at all (not found, not executable).
    #[error("MCP server {server:?}: could not run {command:?}: {source}")]
    Spawn {
        /// The server's name.
        server: String,
        /// The command that failed.
        command: String,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The initialize handshake failed: the server exited, answered nonsense, or the
    /// HTTP endpoint refused.
    #[error("MCP server {server:?} did not start: {reason}{}", stderr_note(stderr))]
    Handshake {
        /// The server's name.
        server: String,
        /// What the handshake saw.
        reason: String,
        /// The end of the server's stderr, if it wrote any.
        stderr: String,
    },
    /// A deadline passed: starting, listing or calling. The server has been stopped.
    #[error("MCP server {server:?}: {what} took longer than {}s; the server was stopped", after.as_secs_f32())]
    TimedOut {
        /// The server's name.
        server: String,
        /// `"starting"`, `"listing tools"` or `"calling <tool>"`.
        what: String,
        /// The deadline.
        after: Duration,
    },
    /// The server went away (crashed, exited, or the connection closed).
    #[error("MCP server {server:?} stopped unexpectedly{}", stderr_note(stderr))]
    Exited {
        /// The server's name.
        server: String,
        /// The end of the server's stderr, if it wrote any.
        stderr: String,
    },
    /// The server answered a request with an error (unknown tool, bad arguments…).
    #[error("MCP server {server:?} refused: {message}")]
    Refused {
        /// The server's name.
        server: String,
        /// The server's message.
        message: String,
    },
    /// The connection failed for another reason (HTTP status, TLS, an unexpected reply).
    #[error("MCP server {server:?}: {reason}")]
    Transport {
        /// The server's name.
        server: String,
        /// What failed.
        reason: String,
    },
    /// The server was stopped (after a timeout or by [`crate::Server::stop`]).
    #[error("MCP server {server:?} is stopped; start it again")]
    Stopped {
        /// The server's name.
        server: String,
    },
}

fn stderr_note(stderr: &str) -> String {
    let tail = stderr.trim();
    if tail.is_empty() {
        String::new()
    } else {
        format!("; its last output was: {tail}")
    }
}
