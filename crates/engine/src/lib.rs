//! hearth-engine: the composition root shared by the `hearth` CLI and the desktop app.
//!
//! [`Engine`] owns the open vault and the keychain handle and offers every operation a
//! front end needs, so that the CLI and the desktop shell stay thin translations. Paths
//! come in through [`AppPaths`]; the engine never reads the environment.

pub mod attachment;
mod chat;
mod error;
mod harden;
mod inventory;
mod projects;
mod provider_config;
mod settings;
mod stream_lock;
mod temporary;
mod tools;
pub mod transfer;

pub use attachment::PickedFile;
pub use chat::{
    pretty_arguments, Reply, ReplyEvent, SendRequest, StoredError, ToolAllow, ToolCallView,
    ToolDecision, DENIED_RESULT, MAX_TOOL_STEPS,
};
pub use error::{EngineError, Missing, Result};
pub use harden::{harden_process, Hardened};
pub use hearth_keychain::{OsKeychain, SecretStore};
pub use hearth_providers::{ModelInfo, ProviderError, Reasoning};
pub use hearth_tools::{Timeouts as ToolTimeouts, ToolError, ToolInfo};
pub use hearth_vault::{
    Attachment, AttachmentTotals, Conversation, ConversationSummary, ConversationTree, DataKey,
    EraseReport, ImportReport, KdfParams, KeyProtection, Message, MessageStatus, Passphrase,
    PassphraseChange, Role, RotationStep, SearchHit, Snippet, VaultError, VaultHeader, VaultStatus,
};
pub use hearth_vault::{
    ConversationScope, Project, ProjectFile, ProjectSummary, Prompt, SearchFilter,
};
pub use hearth_vault::{ToolCall as StoredToolCall, ToolCallStatus};
pub use inventory::Inventory;
pub use projects::{
    system_prompt, ModelSettings, ProjectChange, MAX_INSTRUCTIONS_BYTES, MAX_OUTPUT_TOKENS,
    MAX_PROJECT_FILES, MAX_TEMPERATURE,
};
pub use provider_config::{KeyLocation, ProviderInfo, ProviderUpdate};
pub use settings::{Settings, MAX_AUTO_LOCK_MINUTES, MAX_RETENTION_DAYS};
pub use temporary::{TemporaryReply, TemporaryTurn};
pub use tools::{reply_markdown, wire_name, ToolGrantInfo, ToolServerInfo, ToolTransport};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use hearth_providers::Http;

use hearth_vault::{Vault, VaultPaths};

/// Where Hearth keeps its files, as resolved by a front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPaths {
    data_dir: PathBuf,
}

impl AppPaths {
    /// Everything lives in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        AppPaths {
            data_dir: data_dir.into(),
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The encrypted database file.
    pub fn database(&self) -> PathBuf {
        self.vault().database()
    }

    /// The vault header file.
    pub fn header(&self) -> PathBuf {
        self.vault().header()
    }

    fn vault(&self) -> VaultPaths {
        VaultPaths::new(&self.data_dir)
    }
}

/// An unlocked Hearth: the vault, the keychain, and the HTTP client for providers.
///
/// The vault sits behind a mutex so that several replies can stream at once, each saving
/// its text as it arrives; every lock is held for one short database call, never across
/// an `await`.
pub struct Engine {
    vault: Arc<Mutex<Vault>>,
    store: Arc<dyn SecretStore>,
    http: OnceLock<Http>,
    idle_timeout: Duration,
    /// The MCP servers running for this unlock; dropped (and so stopped) with it.
    tools: Arc<tools::ToolHost>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}

/// The most conversations one list call returns.
pub const MAX_PAGE: u32 = 10_000;

impl Engine {
    /// Whether a vault exists at `paths`.
    pub fn exists(paths: &AppPaths) -> bool {
        paths.vault().exists()
    }

    /// The vault's header (its id and how it unlocks), readable while locked.
    pub fn header(paths: &AppPaths) -> Result<VaultHeader> {
        Ok(Vault::read_header(&paths.vault())?)
    }

    /// Creates a new vault.
    pub fn create(
        paths: &AppPaths,
        store: Arc<dyn SecretStore>,
        protection: KeyProtection,
    ) -> Result<Engine> {
        Engine::create_with_kdf(paths, store, protection, KdfParams::default())
    }

    /// Creates a new vault with explicit Argon2id costs (never below the floor).
    pub fn create_with_kdf(
        paths: &AppPaths,
        store: Arc<dyn SecretStore>,
        protection: KeyProtection,
        kdf: KdfParams,
    ) -> Result<Engine> {
        let vault = Vault::create(&paths.vault(), store.as_ref(), protection, kdf)?;
        Ok(Engine::new(vault, store))
    }

    /// Opens and unlocks the vault, recovers replies a crash left `streaming`, and
    /// applies the retention setting (if the user turned it on).
    pub fn open(
        paths: &AppPaths,
        store: Arc<dyn SecretStore>,
        passphrase: Option<&Passphrase>,
    ) -> Result<Engine> {
        let vault = Vault::open(&paths.vault(), store.as_ref(), passphrase)?;
        // Only when no other process is streaming: its replies are alive, not cut off.
        let lock = paths.vault().streams_lock();
        let recovered = vault.recover_interrupted_if(|| stream_lock::nobody_streaming(&lock))?;
        if recovered > 0 {
            tracing::info!(
                recovered,
                "marked replies cut off by a crash as interrupted"
            );
        }
        let engine = Engine::new(vault, store);
        // Retention failing must not keep the user out of their vault.
        if let Err(e) = engine.apply_retention() {
            tracing::warn!("retention did not run: {e}");
        }
        Ok(engine)
    }

    fn new(vault: Vault, store: Arc<dyn SecretStore>) -> Engine {
        Engine {
            vault: Arc::new(Mutex::new(vault)),
            store,
            http: OnceLock::new(),
            idle_timeout: hearth_providers::DEFAULT_IDLE_TIMEOUT,
            tools: Arc::new(tools::ToolHost::new()),
        }
    }

    /// How long a reply may stay silent before it is stopped with a timeout error.
    pub fn set_idle_timeout(&mut self, idle: Duration) {
        self.idle_timeout = idle;
    }

    /// The vault, locked for one call.
    pub(crate) fn vault(&self) -> Result<MutexGuard<'_, Vault>> {
        self.vault.lock().map_err(|_| {
            EngineError::Invalid(
                "an earlier failure left the vault unusable; restart Hearth".into(),
            )
        })
    }

    /// The HTTP client, built on first use (building it opens no connection).
    pub(crate) fn http(&self) -> Result<&Http> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let http = Http::new()?;
        Ok(self.http.get_or_init(|| http))
    }

    /// The raw data key, for the user's own escape hatch (`hearth vault-key --reveal`).
    pub fn reveal_data_key(
        paths: &AppPaths,
        store: &dyn SecretStore,
        passphrase: Option<&Passphrase>,
    ) -> Result<DataKey> {
        let key = Vault::unlock_key(&paths.vault(), store, passphrase)?;
        // Prove the key opens the file before handing it out.
        Vault::open_with_key(&paths.vault(), &key)?.lock()?;
        Ok(key)
    }

    /// Changes what unlocks the vault: the keychain on or off, the passphrase kept, set
    /// or removed. `current` is the passphrase now (needed when the vault has one). See
    /// [`Vault::set_protection`].
    pub fn set_protection(
        &self,
        current: Option<&Passphrase>,
        keychain: bool,
        passphrase: PassphraseChange,
    ) -> Result<()> {
        Ok(self
            .vault()?
            .set_protection(self.store.as_ref(), current, keychain, passphrase)?)
    }

    /// Replaces the data key, re-encrypting every page; `passphrase` is needed when the
    /// vault has one. Safe at any kill. See [`Vault::rotate_key`].
    pub fn rotate_key(
        &self,
        passphrase: Option<&Passphrase>,
        progress: impl FnMut(RotationStep),
    ) -> Result<()> {
        Ok(self
            .vault()?
            .rotate_key(self.store.as_ref(), passphrase, progress)?)
    }

    /// Erases everything: keychain entries, then every Hearth file. Needs no unlock.
    pub fn erase(paths: &AppPaths, store: &dyn SecretStore) -> Result<EraseReport> {
        Ok(Vault::erase(&paths.vault(), store)?)
    }

    /// Closes the vault. Replies still streaming keep it open until they end.
    pub fn lock(self) -> Result<()> {
        match Arc::try_unwrap(self.vault) {
            Ok(mutex) => {
                let vault = mutex
                    .into_inner()
                    .map_err(|_| EngineError::Invalid("the vault was left unusable".into()))?;
                Ok(vault.lock()?)
            }
            Err(_) => Ok(()),
        }
    }

    /// Summary for `hearth status` and the data inventory.
    pub fn status(&self) -> Result<VaultStatus> {
        Ok(self.vault()?.status()?)
    }

    /// Unlocks the vault and runs the full integrity check, touching nothing else (no
    /// crash recovery, no migration), so a damaged vault can still be examined. Returns
    /// the problems found.
    pub fn check(
        paths: &AppPaths,
        store: &dyn SecretStore,
        passphrase: Option<&Passphrase>,
    ) -> Result<Vec<String>> {
        let key = Vault::unlock_key(&paths.vault(), store, passphrase)?;
        let vault = Vault::open_unmigrated(&paths.vault(), &key)?;
        let problems = vault.check_integrity()?;
        vault.lock()?;
        Ok(problems)
    }

    /// A page of conversations, pinned first then newest.
    pub fn list_conversations(
        &self,
        include_archived: bool,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ConversationSummary>> {
        Ok(self
            .vault()?
            .list_conversations(include_archived, limit.min(MAX_PAGE), offset)?)
    }

    /// A page of archived conversations only, pinned first then newest.
    pub fn list_archived_conversations(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ConversationSummary>> {
        Ok(self
            .vault()?
            .list_archived_conversations(limit.min(MAX_PAGE), offset)?)
    }

    /// How many conversations are archived (and so left out of the default list).
    pub fn count_archived_conversations(&self) -> Result<i64> {
        Ok(self.vault()?.count_archived_conversations()?)
    }

    /// Archives a conversation (`true`) or restores it (`false`). Neither changes its
    /// recency, and search finds it either way.
    pub fn set_archived(&self, id: &str, archived: bool) -> Result<()> {
        Ok(self.vault()?.set_archived(id, archived)?)
    }

    /// One conversation.
    pub fn conversation(&self, id: &str) -> Result<Conversation> {
        Ok(self.vault()?.conversation(id)?)
    }

    /// The visible branch of a conversation, oldest first.
    pub fn visible_messages(&self, id: &str) -> Result<Vec<Message>> {
        Ok(self.vault()?.visible_path(id)?)
    }

    /// The visible branch of a conversation, oldest first, each message with the ids of
    /// its alternatives (itself included, oldest first) for a branch switcher.
    pub fn visible_messages_with_siblings(&self, id: &str) -> Result<Vec<(Message, Vec<String>)>> {
        let vault = self.vault()?;
        let path = vault.visible_path(id)?;
        let mut out = Vec::with_capacity(path.len());
        for message in path {
            let siblings = vault.siblings(&message.id)?;
            out.push((message, siblings));
        }
        Ok(out)
    }

    /// Makes the branch through `message_id` the visible one (its newest leaf becomes
    /// the head). Returns the conversation's id.
    pub fn select_branch(&self, message_id: &str) -> Result<String> {
        let vault = self.vault()?;
        let conversation_id = vault.message(message_id)?.conversation_id;
        vault.select_branch(message_id)?;
        Ok(conversation_id)
    }

    /// Sets the provider and model the next replies in a conversation use.
    pub fn set_conversation_model(&self, id: &str, provider_id: &str, model: &str) -> Result<()> {
        let model = model.trim();
        if model.is_empty() {
            return Err(EngineError::Invalid("choose a model".into()));
        }
        // Refuses an unknown provider with the same error a chat would give.
        self.provider(provider_id)?;
        Ok(self
            .vault()?
            .set_conversation_model(id, provider_id, model)?)
    }

    /// Searches messages and titles.
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        Ok(self.vault()?.search(query, limit)?)
    }

    /// Renames a conversation.
    pub fn rename_conversation(&self, id: &str, title: &str) -> Result<()> {
        Ok(self.vault()?.rename_conversation(id, title.trim())?)
    }

    /// Sets or clears a conversation's system prompt (sent first with every request).
    pub fn set_system_prompt(&self, id: &str, prompt: Option<&str>) -> Result<()> {
        let prompt = prompt.map(str::trim).filter(|p| !p.is_empty());
        Ok(self.vault()?.set_system_prompt(id, prompt)?)
    }

    /// Every message of a conversation, all branches, oldest first.
    pub fn all_messages(&self, id: &str) -> Result<Vec<Message>> {
        Ok(self.vault()?.messages(id)?)
    }

    /// Pins or unpins a conversation.
    pub fn set_pinned(&self, id: &str, pinned: bool) -> Result<()> {
        Ok(self.vault()?.set_pinned(id, pinned)?)
    }

    /// Adds whole conversations (from an importer) in one transaction: all or nothing,
    /// and skipping those already present. See [`Vault::import`].
    pub fn import_trees<I>(
        &self,
        source: I,
        progress: impl FnMut(&ImportReport),
    ) -> Result<ImportReport>
    where
        I: IntoIterator<Item = Result<ConversationTree>>,
    {
        self.vault()?.import(source, progress)
    }

    /// Deletes a conversation for real.
    pub fn delete_conversation(&self, id: &str) -> Result<()> {
        Ok(self.vault()?.delete_conversation(id)?)
    }
}
