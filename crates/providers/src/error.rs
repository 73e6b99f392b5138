//! Typed provider errors, and the scrubbing that keeps keys out of their text.
//!
//! Nothing a provider sends reaches a message, a log line, the vault or an export without
//! passing through here: free text through [`scrub`] (keys removed, length capped), and
//! machine codes through [`provider_code`] (kept only if they are a short identifier).
//! The error's kind ([`ProviderError::kind`]) is always one of Hearth's own names.

use std::time::Duration;

/// What went wrong talking to a provider. Every message is safe to show and store: text
/// that came from the provider has been scrubbed of anything that looks like a key, and
/// codes that came from it are short identifiers that do not contain the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the API key (401/403, or Gemini's `API_KEY_INVALID`).
    #[error("the provider rejected the API key ({message}); check it with `hearth key set`")]
    Auth {
        /// The provider's explanation.
        message: String,
    },
    /// Too many requests, or no quota left.
    #[error("{}", rate_limited_text(message, *retry_after, *retryable))]
    RateLimited {
        /// The provider's explanation.
        message: String,
        /// How long the provider asked to wait, if it said.
        retry_after: Option<Duration>,
        /// False for exhausted quota or credit, which waiting will not fix.
        retryable: bool,
    },
    /// The model does not exist or this key cannot use it.
    #[error("the provider does not know this model ({message}); list models with `hearth models`")]
    ModelNotFound {
        /// The provider's explanation.
        message: String,
    },
    /// The provider failed or is overloaded (5xx, 529, or such an error mid-stream).
    #[error("the provider had a server error{} ({message}); try again later", status.map(|s| format!(" {s}")).unwrap_or_default())]
    Server {
        /// HTTP status, when the error came as one (mid-stream errors have none).
        status: Option<u16>,
        /// The provider's explanation.
        message: String,
    },
    /// The provider refused the request itself (other 4xx).
    #[error("the provider refused the request ({status}: {message})")]
    BadRequest {
        /// HTTP status.
        status: u16,
        /// The provider's explanation.
        message: String,
    },
    /// The connection failed or broke.
    #[error("network error talking to the provider ({message})")]
    Network {
        /// What the network layer said.
        message: String,
    },
    /// The provider sent nothing for too long.
    #[error("the provider sent nothing for {} s; the reply was stopped", idle.as_secs())]
    Timeout {
        /// The idle limit that was hit.
        idle: Duration,
    },
    /// The stream ended without the protocol's end marker: the reply is incomplete.
    #[error("the provider's stream ended before the reply was complete")]
    Truncated,
    /// The provider reported an error in the middle of the stream.
    #[error("the provider reported an error mid-reply ({}{message})", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
    StreamError {
        /// The provider's error type or code, if it is a short identifier (see
        /// [`provider_code`]); anything else it sent there is dropped.
        code: Option<String>,
        /// The provider's explanation.
        message: String,
    },
    /// The model (or the provider's safety system) declined to answer. The refusal text,
    /// if any, arrived as ordinary text before this error.
    #[error("the model refused to answer{}", explanation.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())]
    Refused {
        /// Why, when the provider said (scrubbed and capped like any provider text).
        explanation: Option<String>,
    },
    /// The reply held only tool calls. Hearth offers the model no tools, so there is no
    /// answer to show.
    #[error(
        "the model answered only with a tool call, which Hearth does not support; no text arrived"
    )]
    ToolCallsOnly,
    /// The provider sent more than Hearth reads in one piece (see [`crate::sse`]'s
    /// limits and [`crate::MAX_MODEL_LIST_BYTES`]); the read was stopped there.
    #[error("the provider sent {what} larger than {} MiB; Hearth stopped reading it", limit / (1024 * 1024))]
    TooLarge {
        /// What was too large (`"a stream event"`, `"a model list"`).
        what: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The provider sent something that is not its protocol.
    #[error("the provider sent a malformed stream ({message})")]
    Malformed {
        /// What was wrong.
        message: String,
    },
    /// The configuration cannot be used (an insecure URL, a missing key).
    #[error("{0}")]
    Config(String),
}

fn rate_limited_text(message: &str, retry_after: Option<Duration>, retryable: bool) -> String {
    match (retryable, retry_after) {
        (false, _) => {
            format!("the provider says the quota or credit is used up ({message}); check your plan")
        }
        (true, Some(wait)) => format!(
            "the provider is rate limiting ({message}); try again in {} s",
            wait.as_secs().max(1)
        ),
        (true, None) => format!("the provider is rate limiting ({message}); try again shortly"),
    }
}

impl ProviderError {
    /// Every name [`ProviderError::kind`] can return.
    pub const KINDS: &'static [&'static str] = &[
        "auth",
        "rate_limited",
        "model_not_found",
        "server",
        "bad_request",
        "network",
        "timeout",
        "truncated",
        "stream_error",
        "refused",
        "tool_calls_only",
        "too_large",
        "malformed",
        "config",
    ];

    /// A stable name for the kind of error, stored with the message and used by the UI.
    /// Always one of [`ProviderError::KINDS`], never text from the provider.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderError::Auth { .. } => "auth",
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::ModelNotFound { .. } => "model_not_found",
            ProviderError::Server { .. } => "server",
            ProviderError::BadRequest { .. } => "bad_request",
            ProviderError::Network { .. } => "network",
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::Truncated => "truncated",
            ProviderError::StreamError { .. } => "stream_error",
            ProviderError::Refused { .. } => "refused",
            ProviderError::ToolCallsOnly => "tool_calls_only",
            ProviderError::TooLarge { .. } => "too_large",
            ProviderError::Malformed { .. } => "malformed",
            ProviderError::Config(_) => "config",
        }
    }

    /// Whether trying again later may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            ProviderError::RateLimited { retryable, .. } => *retryable,
            ProviderError::Server { .. }
            | ProviderError::Network { .. }
            | ProviderError::Timeout { .. }
            | ProviderError::Truncated
            | ProviderError::StreamError { .. } => true,
            _ => false,
        }
    }
}

/// The longest provider message kept: enough to explain, not a page of HTML.
const MAX_MESSAGE_CHARS: usize = 300;

/// The longest provider error code kept (`invalid_api_key`, `RESOURCE_EXHAUSTED`).
pub const MAX_CODE_CHARS: usize = 64;

/// A provider's machine code (an error `type`/`code`, a block reason), kept only if it
/// is an identifier: 1 to [`MAX_CODE_CHARS`] of `A-Z a-z 0-9 _ . -`, not containing the
/// key, and not itself shaped like a key. Anything else is dropped rather than cleaned,
/// since a code is shown verbatim and a cleaned one would mean nothing.
pub fn provider_code(code: &str, key: Option<&str>) -> Option<String> {
    let code = code.trim();
    let identifier = !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    let has_key = key
        .filter(|k| k.len() >= 4)
        .is_some_and(|k| code.contains(k) || k.contains(code) && code.len() >= 8);
    (identifier && !has_key && scrub(code, None) == code).then(|| code.to_owned())
}

/// Removes secrets from text that came from a provider before it is shown or stored:
/// the key itself wherever it appears, and any token shaped like a provider key.
pub fn scrub(text: &str, key: Option<&str>) -> String {
    let mut text = text.to_owned();
    if let Some(key) = key.filter(|k| k.len() >= 4) {
        text = text.replace(key, "[key]");
    }
    // Shapes of common provider keys: sk-…, sk-ant-…, gsk_…, xai-…, AIza…, and long
    // unbroken token runs that follow "key" wording.
    const PREFIXES: &[&str] = &["sk-", "sk_", "gsk_", "xai-", "AIza", "pk-", "rk-"];
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = word
            .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_' && c != '*');
        let looks_like_key = core.len() >= 12 && PREFIXES.iter().any(|p| core.starts_with(p))
            || core.len() >= 32
                && core
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if looks_like_key {
            out.push_str(&word.replace(core, "[key]"));
        } else {
            out.push_str(word);
        }
    }
    let mut chars = out.chars();
    let mut short: String = chars.by_ref().take(MAX_MESSAGE_CHARS).collect();
    if chars.next().is_some() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_scrubbed_from_provider_text() {
        let key = "sk-proj-CANARYcanary1234567890";
        let text = format!("Incorrect API key provided: {key}. Also sk-other-abcdefghijkl and AIzaSyA1234567890abcdefghij.");
        let clean = scrub(&text, Some(key));
        assert!(!clean.contains("CANARY"), "{clean}");
        assert!(!clean.contains("sk-other-abcdefghijkl"), "{clean}");
        assert!(!clean.contains("AIzaSyA1234567890"), "{clean}");
        assert!(
            clean.starts_with("Incorrect API key provided: [key]"),
            "{clean}"
        );
        // Ordinary words survive.
        assert_eq!(
            scrub("model `gpt-4o` does not exist", None),
            "model `gpt-4o` does not exist"
        );
        assert_eq!(
            scrub(&"word ".repeat(200), None).chars().count(),
            MAX_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn provider_codes_are_short_identifiers_without_the_key() {
        let key = Some("CANARY-apikey-0123456789abcdef");
        assert_eq!(
            provider_code("invalid_api_key", key).as_deref(),
            Some("invalid_api_key")
        );
        assert_eq!(
            provider_code(" RESOURCE_EXHAUSTED ", None).as_deref(),
            Some("RESOURCE_EXHAUSTED")
        );
        assert_eq!(
            provider_code("v1.error-x", None).as_deref(),
            Some("v1.error-x")
        );
        for bad in [
            "",
            "CANARY-apikey-0123456789abcdef",
            "x-CANARY-apikey-0123456789abcdef",
            "apikey-0123456789",
            "two words",
            "\u{1b}[31m",
            "sk-proj-abcdefghijklmnop",
        ] {
            assert_eq!(provider_code(bad, key), None, "{bad:?}");
        }
        assert_eq!(provider_code(&"a".repeat(MAX_CODE_CHARS + 1), None), None);
        assert!(
            provider_code(&"a".repeat(MAX_CODE_CHARS), None).is_none(),
            "shaped like a key"
        );
        assert_eq!(
            provider_code(&"ab.".repeat(MAX_CODE_CHARS / 3), None).map(|c| c.len()),
            Some(MAX_CODE_CHARS - MAX_CODE_CHARS % 3)
        );
    }

    #[test]
    fn every_kind_is_listed() {
        let all = [
            ProviderError::Auth {
                message: String::new(),
            },
            ProviderError::Refused { explanation: None },
            ProviderError::ToolCallsOnly,
            ProviderError::TooLarge {
                what: "a model list",
                limit: 8 << 20,
            },
            ProviderError::StreamError {
                code: None,
                message: String::new(),
            },
            ProviderError::Truncated,
        ];
        for e in all {
            assert!(ProviderError::KINDS.contains(&e.kind()), "{}", e.kind());
        }
        assert_eq!(
            ProviderError::TooLarge {
                what: "a model list",
                limit: 8 << 20
            }
            .to_string(),
            "the provider sent a model list larger than 8 MiB; Hearth stopped reading it"
        );
        assert!(!ProviderError::Refused { explanation: None }.retryable());
    }

    #[test]
    fn kinds_and_retryability() {
        let quota = ProviderError::RateLimited {
            message: "quota".into(),
            retry_after: None,
            retryable: false,
        };
        assert_eq!(quota.kind(), "rate_limited");
        assert!(!quota.retryable());
        assert!(quota.to_string().contains("quota or credit"));
        let wait = ProviderError::RateLimited {
            message: "slow down".into(),
            retry_after: Some(Duration::from_secs(7)),
            retryable: true,
        };
        assert!(wait.to_string().contains("7 s"));
        assert!(ProviderError::Truncated.retryable());
        assert!(!ProviderError::Auth {
            message: "x".into()
        }
        .retryable());
    }
}
