//! hearth-tools: the one door to MCP (Model Context Protocol) servers.
//!
//! A [`ServerConfig`] names a server and how to reach it: a child process spoken to over
//! stdio, or a Streamable HTTP endpoint. [`Server::start`] runs the initialize handshake;
//! the running [`Server`] lists its tools and calls them. Every step has a deadline, a
//! dead or hung server becomes a typed [`ToolError`], and a tool's output is bounded
//! ([`MAX_OUTPUT_BYTES`]). The crate knows nothing about the vault or the UI.

mod config;
mod error;
mod http;
mod output;
mod server;
mod stdio;

pub use config::{ServerConfig, Transport, MAX_NAME_LEN};
pub use error::ToolError;
pub use output::{ToolOutput, MAX_OUTPUT_BYTES};
pub use server::{Server, Timeouts, ToolInfo};

/// The result type of this crate.
pub type Result<T, E = ToolError> = std::result::Result<T, E>;
