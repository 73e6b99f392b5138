//! The vault's one error type: each variant says what happened and what the user can do.

use std::path::PathBuf;

use hearth_keychain::KeychainError;

/// Everything that can go wrong in the vault.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// There is no vault in the data directory.
    #[error("no Hearth vault in {0}; create one with `hearth init`")]
    NoVault(PathBuf),
    /// `create` found a vault (or part of one) already there.
    #[error("a Hearth vault already exists in {0}; open it, or erase it first")]
    AlreadyExists(PathBuf),
    /// The passphrase did not unwrap the data key.
    #[error("wrong passphrase for this vault; nothing was changed")]
    WrongPassphrase,
    /// The vault is passphrase-protected and no passphrase was given.
    #[error("this vault is protected by a passphrase; provide it (HEARTH_PASSPHRASE, --passphrase-file, or the prompt)")]
    PassphraseRequired,
    /// The passphrase given when creating a vault is too weak.
    #[error("the passphrase must be at least {0} characters long")]
    PassphraseTooShort(usize),
    /// The OS keychain cannot be used, and the request needed it.
    #[error("{0}. Create the vault with a passphrase instead (`hearth init --passphrase --no-keychain`)")]
    KeychainUnavailable(KeychainError),
    /// The OS keychain answered with an error while this vault needed it.
    #[error("{0}; this vault keeps its key in the OS keychain, so unlock the keychain (or start its service) and try again")]
    Keychain(KeychainError),
    /// The keychain holds no data key for this vault.
    #[error("the OS keychain has no data key for vault {vault_id}; unlock with the vault's passphrase if it has one, or restore the keychain entry")]
    KeyMissing {
        /// The vault whose key is missing.
        vault_id: String,
    },
    /// The data key does not open the database file.
    #[error("the data key does not open {0}: the key is wrong or the file's first page is damaged; nothing was changed")]
    WrongKey(PathBuf),
    /// The database file is damaged.
    #[error("the vault database is damaged ({0}); nothing was changed. Restore it from a backup or an export")]
    Corrupt(String),
    /// The database file is shorter than its own header says.
    #[error("the vault database is truncated: it should be at least {expected} bytes but is {actual}; nothing was changed. Restore it from a backup")]
    Truncated {
        /// Bytes the database header promises.
        expected: u64,
        /// Bytes actually on disk.
        actual: u64,
    },
    /// `vault.json` cannot be used.
    #[error("the vault header {path} is unusable: {reason}")]
    BadHeader {
        /// The header file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The database was written by a newer Hearth.
    #[error("this vault was written by a newer Hearth (schema {found}, this build knows up to {supported}); update Hearth to open it")]
    NewerSchema {
        /// The database's schema version.
        found: i64,
        /// The newest schema this build knows.
        supported: i64,
    },
    /// The SQLite library linked into this build has no encryption.
    #[error("this build of Hearth is linked without SQLCipher and refuses to store anything unencrypted")]
    NoCipher,
    /// A conversation id that does not exist.
    #[error("no conversation with id {0}")]
    ConversationNotFound(String),
    /// A project id that does not exist.
    #[error("no project with id {0}")]
    ProjectNotFound(String),
    /// A saved prompt id that does not exist.
    #[error("no saved prompt with id {0}")]
    PromptNotFound(String),
    /// A project or saved prompt name already in use (names are compared ignoring case).
    #[error("there is already a {kind} named {name:?}; choose another name")]
    NameTaken {
        /// `project` or `prompt`.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// A message id that does not exist.
    #[error("no message with id {0}")]
    MessageNotFound(String),
    /// An attachment id that does not exist.
    #[error("no attachment with id {0}")]
    AttachmentNotFound(String),
    /// A request that makes no sense for the data (e.g. a parent in another conversation).
    #[error("{0}")]
    Invalid(String),
    /// A file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What Hearth was doing.
        context: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The disk is full (or the file system refused to grow a file).
    #[error("the disk holding the vault is full ({0}); free some space and try again; what was saved before is kept")]
    DiskFull(rusqlite::Error),
    /// The data directory, or its file system, is read-only.
    #[error("the vault's folder is read-only ({0}); Hearth needs to write there; what was saved is kept")]
    ReadOnly(rusqlite::Error),
    /// The database could not read or write the disk.
    #[error("a disk error ({0}): the disk may be full, read-only or failing; what was saved before is kept")]
    DiskError(rusqlite::Error),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(rusqlite::Error),
}

impl VaultError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        VaultError::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<rusqlite::Error> for VaultError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
                VaultError::Corrupt(err.to_string())
            }
            Some(ErrorCode::DiskFull) => VaultError::DiskFull(err),
            Some(ErrorCode::ReadOnly) => VaultError::ReadOnly(err),
            Some(ErrorCode::SystemIoFailure) => VaultError::DiskError(err),
            _ => VaultError::Database(err),
        }
    }
}

/// The vault's result type.
pub type Result<T, E = VaultError> = std::result::Result<T, E>;
