//! The one error every command returns: a stable `kind` the UI branches on, and a message
//! to show. Kinds are picked by matching the engine's typed errors, never by reading text.

use hearth_engine::{EngineError, Missing, ProviderError, ToolError, VaultError};
use serde::Serialize;
use ts_rs::TS;

/// What went wrong, in terms the UI can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub enum ErrorKind {
    /// The passphrase did not unlock the vault.
    WrongPassphrase,
    /// The OS keychain cannot be reached, refused access, or lacks the vault's key.
    KeychainUnavailable,
    /// The vault needs its passphrase.
    PassphraseRequired,
    /// The vault is locked (or not created yet): unlock it first.
    Locked,
    /// A conversation, message or provider that does not exist.
    NotFound,
    /// Input that cannot be used; the message says why.
    Invalid,
    /// The provider rejected the API key.
    ProviderAuth,
    /// The provider is rate limiting, or the quota is used up.
    RateLimited,
    /// The model declined to answer; the reply's text is its refusal.
    Refused,
    /// Any other provider or network failure.
    ProviderError,
    /// An MCP tool server would not start, answer or keep running; the message names it.
    ToolServer,
    /// The request was cancelled before the reply started.
    Cancelled,
    /// Something the user cannot fix from here (a damaged file, a disk error).
    Internal,
}

/// A command's failure, as the UI receives it. Messages never contain an API key: the
/// engine scrubs provider text before it becomes an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CommandError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// One sentence for the user.
    pub message: String,
}

impl CommandError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CommandError {
            kind,
            message: message.into(),
        }
    }

    /// The vault must be unlocked first.
    pub fn locked() -> Self {
        CommandError::new(ErrorKind::Locked, "the vault is locked; unlock it first")
    }

    /// The request was stopped before a reply started.
    pub fn cancelled() -> Self {
        CommandError::new(ErrorKind::Cancelled, "the request was cancelled")
    }

    /// Input the shell itself refuses.
    pub fn invalid(message: impl Into<String>) -> Self {
        CommandError::new(ErrorKind::Invalid, message)
    }

    /// A failure inside the shell.
    pub fn internal(message: impl Into<String>) -> Self {
        CommandError::new(ErrorKind::Internal, message)
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for CommandError {}

fn vault_kind(error: &VaultError) -> ErrorKind {
    match error {
        VaultError::WrongPassphrase => ErrorKind::WrongPassphrase,
        VaultError::PassphraseRequired => ErrorKind::PassphraseRequired,
        VaultError::KeychainUnavailable(_)
        | VaultError::Keychain(_)
        | VaultError::KeyMissing { .. } => ErrorKind::KeychainUnavailable,
        VaultError::NoVault(_)
        | VaultError::ConversationNotFound(_)
        | VaultError::MessageNotFound(_)
        | VaultError::AttachmentNotFound(_)
        | VaultError::ProjectNotFound(_)
        | VaultError::PromptNotFound(_) => ErrorKind::NotFound,
        VaultError::PassphraseTooShort(_)
        | VaultError::NameTaken { .. }
        | VaultError::AlreadyExists(_)
        | VaultError::Invalid(_) => ErrorKind::Invalid,
        VaultError::WrongKey(_)
        | VaultError::Corrupt(_)
        | VaultError::Truncated { .. }
        | VaultError::BadHeader { .. }
        | VaultError::NewerSchema { .. }
        | VaultError::NoCipher
        | VaultError::Io { .. }
        | VaultError::DiskFull(_)
        | VaultError::ReadOnly(_)
        | VaultError::DiskError(_)
        | VaultError::Database(_) => ErrorKind::Internal,
    }
}

fn provider_kind(error: &ProviderError) -> ErrorKind {
    match error {
        ProviderError::Auth { .. } => ErrorKind::ProviderAuth,
        ProviderError::RateLimited { .. } => ErrorKind::RateLimited,
        ProviderError::Config(_) => ErrorKind::Invalid,
        ProviderError::Refused { .. } => ErrorKind::Refused,
        ProviderError::ModelNotFound { .. }
        | ProviderError::Server { .. }
        | ProviderError::BadRequest { .. }
        | ProviderError::Network { .. }
        | ProviderError::Timeout { .. }
        | ProviderError::Truncated
        | ProviderError::StreamError { .. }
        | ProviderError::Malformed { .. }
        | ProviderError::ToolCallsOnly
        | ProviderError::TooLarge { .. } => ErrorKind::ProviderError,
    }
}

impl From<EngineError> for CommandError {
    fn from(error: EngineError) -> Self {
        let kind = match &error {
            EngineError::Vault(e) => vault_kind(e),
            EngineError::Keychain(_) => ErrorKind::KeychainUnavailable,
            EngineError::UnknownProvider(_) => ErrorKind::NotFound,
            EngineError::Provider { error, .. } | EngineError::Setup(error) => provider_kind(error),
            EngineError::Invalid(_) | EngineError::NotConfigured(_) => ErrorKind::Invalid,
            EngineError::WrongArchivePassphrase => ErrorKind::WrongPassphrase,
            EngineError::Tool(ToolError::InvalidConfig { .. }) => ErrorKind::Invalid,
            EngineError::Tool(_) => ErrorKind::ToolServer,
            EngineError::ToolSteps { .. } => ErrorKind::ProviderError,
        };
        let message = match &error {
            EngineError::NotConfigured(missing) => format!(
                "{missing}: {}",
                match missing {
                    Missing::Provider => "choose one in the model picker, or mark one \"Use for new chats\" in Settings → Providers",
                    Missing::Model(_) => "type a model name in the model picker, or set a default model in Settings → Providers",
                    Missing::Key(_) => "add its API key in Settings → Providers",
                }
            ),
            EngineError::UnknownProvider(id) => {
                format!("unknown provider `{id}`: add it in Settings → Providers")
            }
            _ => error.to_string(),
        };
        CommandError::new(kind, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn kind(error: EngineError) -> ErrorKind {
        CommandError::from(error).kind
    }

    #[test]
    fn missing_setup_points_at_the_settings_not_the_cli() {
        for missing in [
            Missing::Provider,
            Missing::Model("openai".into()),
            Missing::Key("openai".into()),
        ] {
            let error = CommandError::from(EngineError::NotConfigured(missing.clone()));
            assert_eq!(error.kind, ErrorKind::Invalid);
            assert!(error.message.starts_with(&missing.to_string()), "{error:?}");
            assert!(error.message.contains("Settings"), "{error:?}");
            assert!(!error.message.contains("hearth "), "{error:?}");
        }
    }

    #[test]
    fn kinds_follow_the_engine_variants() {
        assert_eq!(
            kind(VaultError::WrongPassphrase.into()),
            ErrorKind::WrongPassphrase
        );
        assert_eq!(
            kind(VaultError::PassphraseRequired.into()),
            ErrorKind::PassphraseRequired
        );
        assert_eq!(
            kind(VaultError::ConversationNotFound("x".into()).into()),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(EngineError::UnknownProvider("x".into())),
            ErrorKind::NotFound
        );
        let provider = |error| EngineError::Provider {
            error,
            conversation_id: "c".into(),
        };
        assert_eq!(
            kind(provider(ProviderError::Auth {
                message: "bad key".into()
            })),
            ErrorKind::ProviderAuth
        );
        assert_eq!(
            kind(provider(ProviderError::RateLimited {
                message: "slow".into(),
                retry_after: Some(Duration::from_secs(3)),
                retryable: true,
            })),
            ErrorKind::RateLimited
        );
        assert_eq!(
            kind(provider(ProviderError::Truncated)),
            ErrorKind::ProviderError
        );
        assert_eq!(
            kind(EngineError::Setup(ProviderError::Config(
                "http only".into()
            ))),
            ErrorKind::Invalid
        );
    }

    #[test]
    fn a_server_that_will_not_start_is_a_tool_server_error_and_a_bad_setting_is_invalid() {
        let handshake = ToolError::Handshake {
            server: "files".into(),
            reason: "it exited".into(),
            stderr: String::new(),
        };
        let error = CommandError::from(EngineError::Tool(handshake));
        assert_eq!(error.kind, ErrorKind::ToolServer);
        assert!(error.message.contains("files"), "{error:?}");
        let invalid = ToolError::InvalidConfig {
            server: "files".into(),
            reason: "a name is lowercase".into(),
        };
        assert_eq!(kind(EngineError::Tool(invalid)), ErrorKind::Invalid);
    }

    #[test]
    fn serializes_as_kind_and_message() {
        let json = serde_json::to_value(CommandError::locked()).expect("serializes");
        assert_eq!(json["kind"], "Locked");
        assert!(json["message"]
            .as_str()
            .is_some_and(|m| m.contains("locked")));
    }
}
