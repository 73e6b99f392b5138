//! The engine's error type: the vault's errors plus what the engine itself checks.

use hearth_vault::VaultError;

/// Everything that can go wrong in the engine. Messages are one actionable sentence.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// From the vault.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// From the keychain, outside vault operations.
    #[error(transparent)]
    Keychain(#[from] hearth_keychain::KeychainError),
    /// A provider id that is neither built in nor configured.
    #[error("unknown provider `{0}`")]
    UnknownProvider(String),
    /// A chat cannot start until the user configures something. Each front end says
    /// where (the CLI names its command, the app its settings page).
    #[error("{0}")]
    NotConfigured(Missing),
    /// A provider failed; the user's message and any partial reply are saved.
    #[error("{error}")]
    Provider {
        /// What the provider did.
        error: hearth_providers::ProviderError,
        /// The conversation holding the saved messages.
        conversation_id: String,
    },
    /// Provider configuration problems found before anything was sent.
    #[error(transparent)]
    Setup(#[from] hearth_providers::ProviderError),
    /// An encrypted archive's passphrase does not open it (or its header is damaged:
    /// the two cannot be told apart). Nothing was imported.
    #[error("wrong archive passphrase, or the archive's header is damaged; nothing was imported")]
    WrongArchivePassphrase,
    /// A tool server could not be started, listed or called before a reply began.
    #[error(transparent)]
    Tool(#[from] hearth_tools::ToolError),
    /// The model kept calling tools past the step limit; the reply is saved as an error.
    #[error("{message}")]
    ToolSteps {
        /// What to tell the user.
        message: String,
        /// The conversation holding the saved reply.
        conversation_id: String,
    },
    /// Input that cannot be used, with the reason.
    #[error("{0}")]
    Invalid(String),
}

/// What a chat still needs before it can start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    /// No provider was given and none is the default.
    #[error("no provider chosen")]
    Provider,
    /// The provider has no default model and none was given.
    #[error("no model chosen for {0}")]
    Model(String),
    /// The provider needs an API key and has none.
    #[error("no API key for {0}")]
    Key(String),
}

/// The engine's result type.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
