//! What unlocks the vault, changed while it is open: the keychain on or off, the
//! passphrase set, changed or removed, and a new data key. Passphrases arrive as strings
//! (as they do for unlock) and are moved at once into `Passphrase`, which wipes them on drop.

use hearth_engine::{Engine, Passphrase, PassphraseChange, RotationStep};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;

use crate::error::CommandError;
use crate::state::Hearth;

/// How the vault is protected now, and whether the keychain answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProtectionDto {
    /// The data key is kept in the OS keychain.
    pub keychain: bool,
    /// The data key is wrapped by a passphrase.
    pub passphrase: bool,
    /// The OS keychain answered just now (so turning it on can work).
    pub keychain_available: bool,
}

/// What to do with the passphrase.
#[derive(Deserialize, TS)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum PassphraseChangeDto {
    /// Keep it as it is (or keep having none).
    Keep,
    /// Set this one, new or in place of the old.
    Set {
        /// The new passphrase.
        passphrase: String,
    },
    /// Remove it.
    Remove,
}

/// How far a key rotation has got, sent on its progress channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "step", rename_all = "camelCase")]
pub enum RotationProgressDto {
    /// The new key is ready and recorded.
    Prepared,
    /// Pages re-encrypted so far, of all.
    Copying {
        /// Pages written under the new key.
        done: u64,
        /// Pages in all.
        total: u64,
    },
    /// The re-encrypted database is in place.
    Swapped,
    /// The new key is the key; the old one opens nothing.
    Finished,
}

impl From<RotationStep> for RotationProgressDto {
    fn from(step: RotationStep) -> Self {
        match step {
            RotationStep::Prepared => RotationProgressDto::Prepared,
            RotationStep::Copying { done, total } => RotationProgressDto::Copying { done, total },
            RotationStep::Swapped => RotationProgressDto::Swapped,
            RotationStep::Finished => RotationProgressDto::Finished,
        }
    }
}

/// The protection recorded in the vault's header, with a fresh keychain probe.
async fn protection(hearth: &Hearth) -> Result<ProtectionDto, CommandError> {
    let header = Engine::header(hearth.paths())?;
    let store = hearth.store();
    let keychain_available = tauri::async_runtime::spawn_blocking(move || store.probe().is_ok())
        .await
        .unwrap_or(false);
    Ok(ProtectionDto {
        keychain: header.keychain,
        passphrase: header.passphrase.is_some(),
        keychain_available,
    })
}

/// How the open vault is protected now.
#[tauri::command]
pub async fn get_protection(hearth: State<'_, Hearth>) -> Result<ProtectionDto, CommandError> {
    hearth.engine()?;
    protection(&hearth).await
}

/// Changes what unlocks the vault. `current` is the passphrase it has now (needed when it
/// has one). The engine refuses to remove the last way in and proves what remains first.
#[tauri::command]
pub async fn set_protection(
    hearth: State<'_, Hearth>,
    current: Option<String>,
    keychain: bool,
    passphrase: PassphraseChangeDto,
) -> Result<ProtectionDto, CommandError> {
    let engine = hearth.engine()?;
    let current = current.map(Passphrase::new);
    let change = match passphrase {
        PassphraseChangeDto::Keep => PassphraseChange::Keep,
        PassphraseChangeDto::Set { passphrase } => {
            PassphraseChange::Set(Passphrase::new(passphrase))
        }
        PassphraseChangeDto::Remove => PassphraseChange::Remove,
    };
    tauri::async_runtime::spawn_blocking(move || {
        engine.set_protection(current.as_ref(), keychain, change)
    })
    .await
    .map_err(|e| CommandError::internal(format!("changing the protection stopped: {e}")))??;
    protection(&hearth).await
}

/// Re-encrypts the whole vault under a new data key, reporting each step on `on_progress`.
/// `passphrase` is needed when the vault has one (the new key is wrapped by it too).
#[tauri::command]
pub async fn rotate_data_key(
    hearth: State<'_, Hearth>,
    passphrase: Option<String>,
    on_progress: Channel<RotationProgressDto>,
) -> Result<(), CommandError> {
    let engine = hearth.engine()?;
    let passphrase = passphrase.map(Passphrase::new);
    tauri::async_runtime::spawn_blocking(move || {
        engine.rotate_key(passphrase.as_ref(), |step| {
            let _ = on_progress.send(step.into());
        })
    })
    .await
    .map_err(|e| CommandError::internal(format!("the key rotation stopped: {e}")))??;
    Ok(())
}
