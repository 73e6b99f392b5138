//! hearth-providers: the model providers Hearth talks to, and how.
//!
//! The built-in catalog ([`CATALOG`]), the base-URL policy (HTTPS, or HTTP to this
//! machine only), the one HTTP client factory ([`Http`]), one byte-level SSE decoder
//! ([`sse`]) shared by the three wire protocols (OpenAI Chat Completions, Anthropic
//! Messages, Gemini `streamGenerateContent`), typed errors ([`ProviderError`]), and model
//! lists. It knows nothing about storage.

mod anthropic;
mod base_url;
mod catalog;
mod chat;
mod error;
mod files;
mod gemini;
mod http;
mod models;
mod openai;
pub mod sse;
mod think;
mod tools;

pub use base_url::{
    check_base_url, check_request_url, is_loopback, is_loopback_url, same_origin, BaseUrlError,
};
pub use catalog::{builtin, Builtin, ProviderKind, UnknownKind, CATALOG};
pub use chat::{
    start_chat, ChatRequest, ChatRole, ChatStream, ChatTurn, Endpoint, Reasoning, StreamEvent,
    Usage, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_TOKENS,
};
pub use error::{provider_code, scrub, ProviderError, MAX_CODE_CHARS};
pub use files::{FileKind, TurnFile};
pub use http::{Http, CONNECT_TIMEOUT, MAX_RETRY_AFTER};
pub use models::{list_models, ModelInfo, MAX_MODEL_LIST_BYTES};
pub use tools::{
    valid_tool_name, ToolCall, ToolResult, ToolSpec, MAX_TOOL_ARGUMENT_BYTES, MAX_TOOL_CALLS,
    MAX_TOOL_NAME_CHARS,
};
