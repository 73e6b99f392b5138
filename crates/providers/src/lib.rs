//! hearth-providers: the model providers Hearth can talk to.
//!
//! For now this crate holds the built-in catalog: every provider Hearth knows out of the
//! box, its wire protocol and its default base URL (with the API version segment, as the
//! provider documents it). The wire protocols themselves live here too as they arrive.

mod base_url;
mod catalog;
pub mod sse;

pub use base_url::{check_base_url, is_loopback, is_loopback_url, BaseUrlError};
pub use catalog::{builtin, Builtin, ProviderKind, UnknownKind, CATALOG};
