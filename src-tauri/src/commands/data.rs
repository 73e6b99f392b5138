//! The user's data as a whole: what is stored where, and erasing all of it.

use hearth_engine::{Engine, KeyLocation};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use crate::attachments::PendingFiles;
use crate::error::CommandError;
use crate::state::{Hearth, Streams};

/// The word the UI's second confirmation step makes the user type.
pub const ERASE_CONFIRMATION: &str = "erase";

/// One file in the data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StoredFileDto {
    /// Its path.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What is stored where: the "Privacy & data" page. Names and sizes, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InventoryDto {
    /// The data directory.
    pub data_dir: String,
    /// `keychain`, `passphrase` or `keychain+passphrase`.
    pub mode: String,
    /// Every file in the data directory.
    pub files: Vec<StoredFileDto>,
    /// `keychain` or `vault`: where provider API keys are kept.
    pub key_location: String,
    /// This vault's entries in the OS keychain (service `Hearth`).
    pub keychain_entries: Vec<String>,
    /// Why the keychain could not be listed, when it could not.
    pub keychain_error: Option<String>,
    /// Providers with an API key stored.
    pub providers_with_keys: Vec<String>,
    /// Conversations in the vault.
    pub conversations: i64,
    /// How many of those are archived (hidden from the sidebar's default list).
    pub archived_conversations: i64,
    /// Messages in the vault.
    pub messages: i64,
    /// Files attached to messages (a file attached twice counts twice).
    pub attachments: i64,
    /// Bytes of attached files stored, inside the encrypted file (each distinct file once).
    pub attachment_bytes: i64,
    /// SQLCipher's version.
    pub sqlcipher_version: String,
    /// The database schema version.
    pub schema_version: i64,
}

/// What is stored where.
#[tauri::command]
pub async fn data_inventory(hearth: State<'_, Hearth>) -> Result<InventoryDto, CommandError> {
    let engine = hearth.engine()?;
    let inventory = tauri::async_runtime::spawn_blocking(move || engine.inventory())
        .await
        .map_err(|e| CommandError::internal(format!("listing the data stopped: {e}")))??;
    let s = inventory.status;
    Ok(InventoryDto {
        data_dir: hearth.paths().data_dir().display().to_string(),
        mode: s.mode,
        files: s
            .files
            .into_iter()
            .map(|(path, bytes)| StoredFileDto { path, bytes })
            .collect(),
        key_location: match inventory.key_location {
            KeyLocation::Keychain => "keychain",
            KeyLocation::Vault => "vault",
        }
        .into(),
        keychain_entries: inventory.keychain_entries,
        keychain_error: inventory.keychain_error,
        providers_with_keys: inventory.providers_with_keys,
        conversations: s.conversations,
        archived_conversations: s.archived_conversations,
        messages: s.messages,
        attachments: s.attachments,
        attachment_bytes: s.attachment_bytes,
        sqlcipher_version: s.sqlcipher_version,
        schema_version: s.schema_version,
    })
}

/// What an erase left behind: nothing, except the keychain entries of a vault whose
/// folder Hearth could not prove is this one (a copy of another vault's folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EraseResultDto {
    /// Keychain entries kept (service `Hearth`), by account name; never a secret.
    pub kept_keychain_entries: Vec<String>,
    /// Why they were kept, in words for the user.
    pub kept_because: Option<String>,
}

/// Erases everything: stops every reply, closes the vault, destroys the data key and
/// the provider keys in the keychain, and removes every Hearth file. `confirmation`
/// must be the word the UI asked the user to type, so no single stray call can do it.
#[tauri::command]
pub async fn erase_everything(
    hearth: State<'_, Hearth>,
    streams: State<'_, Streams>,
    pending: State<'_, PendingFiles>,
    confirmation: String,
) -> Result<EraseResultDto, CommandError> {
    if confirmation.trim() != ERASE_CONFIRMATION {
        return Err(CommandError::invalid(format!(
            "type `{ERASE_CONFIRMATION}` to confirm"
        )));
    }
    pending.clear();
    // Closed first, so nothing is half-written when the files go.
    hearth.lock(&streams).await?;
    let (paths, store) = (hearth.paths().clone(), hearth.store());
    let report =
        tauri::async_runtime::spawn_blocking(move || Engine::erase(&paths, store.as_ref()))
            .await
            .map_err(|e| CommandError::internal(format!("erasing stopped: {e}")))??;
    tracing::info!(
        keychain_entries = report.keychain_entries_removed,
        "erased every Hearth file"
    );
    if let Some(why) = &report.kept_because {
        // Only a copy of another vault's folder gets here; the app shows the entries
        // and how to remove them, as `hearth erase` does.
        tracing::warn!(
            kept = report.kept_keychain_entries.len(),
            "kept this vault's keychain entries: {why}"
        );
    }
    Ok(EraseResultDto {
        kept_keychain_entries: report.kept_keychain_entries,
        kept_because: report.kept_because,
    })
}
