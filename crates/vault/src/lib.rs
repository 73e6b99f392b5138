//! hearth-vault: Hearth's encrypted store, and the only crate that links SQLCipher.
//!
//! A vault is a folder holding `hearth.db` (a SQLCipher 4 database keyed with a random
//! 256-bit data key) and `vault.json` (the vault id and how the data key is protected:
//! in the OS keychain, wrapped by a passphrase, or both). [`Vault`] owns the one
//! database connection and offers conversations, the message tree, full-text search,
//! attachments, provider records, settings and in-vault secrets to the layers above.

mod attachment;
mod conversation;
mod error;
mod files;
mod header;
mod key;
mod keys;
mod message_tree;
mod open;
mod projects;
mod records;
pub mod schema;
mod search;
mod tool_calls;
mod transfer;

pub use attachment::{Attachment, AttachmentTotals, NewAttachment, StoredFile, CHUNK_BYTES};
pub use conversation::{Conversation, ConversationScope, ConversationSummary, NewConversation};
pub use error::{Result, VaultError};
pub use header::{
    KdfParams, KdfRejected, PassphraseWrap, PendingKey, VaultHeader, MAX_KDF_ITERATIONS,
    MAX_KDF_MEMORY_KIB, MAX_KDF_PARALLELISM, MAX_KDF_WORK_KIB,
};
pub use key::{DataKey, Passphrase, DATA_KEY_LEN};
pub use keys::{next_data_key_account, PassphraseChange, RotationStep};
pub use message_tree::{Message, MessageStatus, NewMessage, Role};
pub use open::{EraseReport, KeyProtection, VaultStatus};
pub use projects::{
    Project, ProjectDeletion, ProjectEdit, ProjectFile, ProjectSummary, ProjectTree, Prompt,
    MAX_NAME_CHARS,
};
pub use records::ProviderRecord;
pub use search::{SearchFilter, SearchHit, Snippet};
pub use tool_calls::{
    NewToolCall, ToolCall, ToolCallStatus, ToolGrant, ToolServerRecord, INTERRUPTED_RESULT,
};
pub use transfer::{ConversationTree, ImportItem, ImportReport, MAX_TOOL_CALL_TEXT_BYTES};

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// File name of the encrypted database inside a data directory.
pub const DATABASE_FILE: &str = "hearth.db";
/// File name of the vault header inside a data directory.
pub const HEADER_FILE: &str = "vault.json";

/// Where a vault's files live. Resolved by the front ends and passed in; the vault never
/// looks at the environment to find them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultPaths {
    dir: PathBuf,
}

impl VaultPaths {
    /// A vault in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        VaultPaths { dir: dir.into() }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The encrypted database.
    pub fn database(&self) -> PathBuf {
        self.dir.join(DATABASE_FILE)
    }

    /// The database's write-ahead log (present while the vault is open or after a crash).
    pub fn wal(&self) -> PathBuf {
        self.dir.join(format!("{DATABASE_FILE}-wal"))
    }

    /// The database's shared-memory index (present while the vault is open).
    pub fn shm(&self) -> PathBuf {
        self.dir.join(format!("{DATABASE_FILE}-shm"))
    }

    /// The lock file that processes with replies streaming hold shared, so that another
    /// process opening the vault can tell a live stream from one a crash cut off. Empty.
    pub fn streams_lock(&self) -> PathBuf {
        self.dir.join("streams.lock")
    }

    /// The lock file every process with the vault open holds shared, so that a change
    /// of the data key (which replaces the database file) can be sure it is alone. Empty.
    pub fn open_lock(&self) -> PathBuf {
        self.dir.join("vault.lock")
    }

    /// The header.
    pub fn header(&self) -> PathBuf {
        self.dir.join(HEADER_FILE)
    }

    /// Whether a vault (its header) exists here.
    pub fn exists(&self) -> bool {
        self.header().exists()
    }
}

/// The keychain account that holds a vault's data key.
pub fn data_key_account(vault_id: &str) -> String {
    format!("vault-key:{vault_id}")
}

/// The keychain account that records which data directory a keychain vault lives in, so
/// that erasing a copy of the folder cannot delete the original's keys.
pub fn vault_home_account(vault_id: &str) -> String {
    format!("vault-home:{vault_id}")
}

/// The keychain account that holds a provider's API key for a vault.
pub fn provider_key_account(vault_id: &str, provider_id: &str) -> String {
    format!("provider-key:{vault_id}:{provider_id}")
}

/// An open, unlocked vault. Dropping it (or calling [`Vault::lock`]) closes the database,
/// and SQLCipher wipes its copy of the key.
pub struct Vault {
    conn: Connection,
    paths: VaultPaths,
    header: VaultHeader,
    /// `vault.lock`, held shared while the vault is open (exclusive while its key is
    /// replaced). `None` only between opening a vault made before the lock file existed
    /// and the end of its migrations, when the file is made: a refused open leaves no
    /// new file behind.
    open_lock: Option<std::fs::File>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.paths.dir)
            .field("vault_id", &self.header.vault_id)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// The vault's paths.
    pub fn paths(&self) -> &VaultPaths {
        &self.paths
    }

    /// The vault's header as read at open.
    pub fn header(&self) -> &VaultHeader {
        &self.header
    }

    /// The vault's id.
    pub fn id(&self) -> &str {
        &self.header.vault_id
    }

    /// Closes the database. The key leaves memory with the connection.
    pub fn lock(self) -> Result<()> {
        self.conn.close().map_err(|(_, e)| VaultError::from(e))
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A new time-ordered id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
