//! The IPC commands, one module per area. Each is a thin translation: deserialize the
//! arguments, make one engine call, return a DTO or a [`CommandError`](crate::error::CommandError).
//!
//! Every command is `async`, so none runs on the main (UI) thread; the two that derive an
//! Argon2id key move that work to the blocking pool.

pub mod app;
pub mod attachments;
pub mod chat;
pub mod conversations;
pub mod data;
pub mod external;
pub mod projects;
pub mod prompts;
pub mod providers;
pub mod security;
pub mod tools;
pub mod transfer;
pub mod vault;
