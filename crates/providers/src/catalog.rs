//! The built-in provider catalog.

use std::fmt;
use std::str::FromStr;

/// The wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// OpenAI Chat Completions (also Groq, Mistral, OpenRouter, DeepSeek, xAI, Ollama,
    /// LM Studio and any compatible server).
    OpenAiCompatible,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini `generateContent`.
    Gemini,
}

impl ProviderKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAiCompatible => "openai-compatible",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider kind Hearth does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider kind `{0}`; use openai-compatible, anthropic or gemini")]
pub struct UnknownKind(pub String);

impl FromStr for ProviderKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, UnknownKind> {
        match s {
            "openai-compatible" => Ok(ProviderKind::OpenAiCompatible),
            "anthropic" => Ok(ProviderKind::Anthropic),
            "gemini" => Ok(ProviderKind::Gemini),
            other => Err(UnknownKind(other.to_owned())),
        }
    }
}

/// A provider Hearth knows out of the box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    /// Stable id (`openai`, `ollama`, …).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Wire protocol.
    pub kind: ProviderKind,
    /// Default base URL, including the API version segment.
    pub base_url: &'static str,
    /// Whether it runs on the user's machine (no API key needed, plain HTTP allowed).
    pub local: bool,
}

/// Every built-in provider, in the order pickers show them.
pub const CATALOG: &[Builtin] = &[
    Builtin {
        id: "openai",
        name: "OpenAI",
        kind: ProviderKind::OpenAiCompatible,
        base_url: "https://api.openai.com/v1",
        local: false,
    },
    Builtin {
        id: "anthropic",
        name: "Anthropic",
        kind: ProviderKind::Anthropic,
        base_url: "https://api.anthropic.com/v1",
        local: false,
    },
    Builtin {
        id: "gemini",
        name: "Google Gemini",
        kind: ProviderKind::Gemini,
        base_url: "https://generativelanguage.googleapis.com/v1beta",
        local: false,
    },
    Builtin {
        id: "groq",
        name: "Groq",
        kind: ProviderKind::OpenAiCompatible,
        base_url: "https://api.groq.com/openai/v1",
        local: false,
    },
    Builtin {
        id: "mistral",
        name: "Mistral",
        kind: ProviderKind::OpenAiCompatible,
        base_url: "https://api.mistral.ai/v1",
        local: false,
    },
    Builtin {
        id: "openrouter",
        name: "OpenRouter",
        kind: ProviderKind::OpenAiCompatible,
        base_url: "https://openrouter.ai/api/v1",
        local: false,
    },
    Builtin {
        id: "deepseek",
        name: "DeepSeek",
        kind: ProviderKind::OpenAiCompatible,
        base_url: "https://api.deepseek.com/v1",
        local: false,
    },
    Builtin {
        id: "xai",
        name: "xAI",
        kind: ProviderKind::OpenAiCompatible,
        base_url: "https://api.x.ai/v1",
        local: false,
    },
    Builtin {
        id: "ollama",
        name: "Ollama",
        kind: ProviderKind::OpenAiCompatible,
        base_url: "http://localhost:11434/v1",
        local: true,
    },
    Builtin {
        id: "lmstudio",
        name: "LM Studio",
        kind: ProviderKind::OpenAiCompatible,
        base_url: "http://localhost:1234/v1",
        local: true,
    },
];

/// The built-in provider with this id, if any.
pub fn builtin(id: &str) -> Option<&'static Builtin> {
    CATALOG.iter().find(|b| b.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_urls_are_https_unless_local() {
        for (i, a) in CATALOG.iter().enumerate() {
            assert!(
                CATALOG[i + 1..].iter().all(|b| b.id != a.id),
                "duplicate {}",
                a.id
            );
            if a.local {
                assert!(a.base_url.starts_with("http://localhost:"), "{}", a.id);
            } else {
                assert!(a.base_url.starts_with("https://"), "{}", a.id);
            }
            assert!(!a.base_url.ends_with('/'), "{}", a.id);
        }
        assert_eq!(CATALOG.len(), 10);
    }

    #[test]
    fn kinds_parse_back() {
        for kind in [
            ProviderKind::OpenAiCompatible,
            ProviderKind::Anthropic,
            ProviderKind::Gemini,
        ] {
            assert_eq!(kind.as_str().parse::<ProviderKind>().unwrap(), kind);
        }
        assert!("soap".parse::<ProviderKind>().is_err());
    }
}
