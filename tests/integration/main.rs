//! Hearth's integration tests: one binary, a module per promise.

#![allow(clippy::unwrap_used)]

mod at_rest;
mod attachments;
mod bad_input;
mod chat;
mod cli;
mod crash;
mod export;
mod full_disk;
mod import;
mod keychain;
mod keys;
mod migrations;
mod projects;
mod tools;
mod wire;
mod your_data;
