//! Vault lifecycle: whether one exists, first-run creation, unlock and lock.

use hearth_engine::{Engine, KeyProtection, Passphrase};
use serde::Deserialize;
use tauri::State;
use ts_rs::TS;

use crate::dto::{mode_name, SettingsDto, VaultState, VaultStatusDto};
use crate::error::CommandError;
use crate::state::{Hearth, Streams};

/// How a new vault's data key is protected.
#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Protection {
    /// The OS keychain only.
    Keychain,
    /// A passphrase only.
    Passphrase,
    /// The keychain for everyday use, the passphrase as a second way in.
    Both,
}

/// Whether a vault exists, how it unlocks, and (when open) what it holds.
#[tauri::command]
pub async fn vault_status(hearth: State<'_, Hearth>) -> Result<VaultStatusDto, CommandError> {
    let data_dir = hearth.paths().data_dir().display().to_string();
    if let Ok(engine) = hearth.engine() {
        let status = engine.status()?;
        return Ok(VaultStatusDto {
            state: VaultState::Unlocked,
            keychain_available: status.mode.contains("keychain"),
            mode: Some(status.mode),
            data_dir,
            conversations: Some(status.conversations),
            messages: Some(status.messages),
        });
    }
    if Engine::exists(hearth.paths()) {
        let header = Engine::header(hearth.paths())?;
        return Ok(VaultStatusDto {
            state: VaultState::Locked,
            mode: Some(mode_name(header.keychain, header.passphrase.is_some()).to_owned()),
            keychain_available: header.keychain,
            data_dir,
            conversations: None,
            messages: None,
        });
    }
    // Before the first vault exists, ask the keychain whether it answers, so the
    // first-run screen offers it only when it can work.
    let store = hearth.store();
    let keychain_available = tauri::async_runtime::spawn_blocking(move || store.probe().is_ok())
        .await
        .unwrap_or(false);
    Ok(VaultStatusDto {
        state: VaultState::NotCreated,
        mode: None,
        keychain_available,
        data_dir,
        conversations: None,
        messages: None,
    })
}

/// Creates the vault and leaves it unlocked.
#[tauri::command]
pub async fn vault_create(
    hearth: State<'_, Hearth>,
    protection: Protection,
    passphrase: Option<String>,
) -> Result<(), CommandError> {
    let passphrase = passphrase.map(Passphrase::new);
    let protection = match (protection, passphrase) {
        (Protection::Keychain, _) => KeyProtection::Keychain,
        (Protection::Passphrase, Some(p)) => KeyProtection::Passphrase(p),
        (Protection::Both, Some(p)) => KeyProtection::KeychainAndPassphrase(p),
        (_, None) => return Err(CommandError::invalid("choose a passphrase")),
    };
    let (paths, store, kdf) = (hearth.paths().clone(), hearth.store(), hearth.kdf());
    let engine = tauri::async_runtime::spawn_blocking(move || {
        Engine::create_with_kdf(&paths, store, protection, kdf)
    })
    .await
    .map_err(|e| CommandError::internal(format!("vault creation stopped: {e}")))??;
    hearth.set_engine(engine);
    Ok(())
}

/// Unlocks the vault: with the passphrase when given, else from the OS keychain.
#[tauri::command]
pub async fn vault_unlock(
    hearth: State<'_, Hearth>,
    passphrase: Option<String>,
) -> Result<(), CommandError> {
    if hearth.is_unlocked() {
        return Ok(());
    }
    let passphrase = passphrase.map(Passphrase::new);
    let (paths, store) = (hearth.paths().clone(), hearth.store());
    let engine = tauri::async_runtime::spawn_blocking(move || {
        Engine::open(&paths, store, passphrase.as_ref())
    })
    .await
    .map_err(|e| CommandError::internal(format!("unlocking stopped: {e}")))??;
    hearth.set_engine(engine);
    Ok(())
}

/// Stops every reply and closes the vault; see [`Hearth::lock`].
#[tauri::command]
pub async fn vault_lock(
    hearth: State<'_, Hearth>,
    streams: State<'_, Streams>,
    pending: State<'_, crate::attachments::PendingFiles>,
) -> Result<(), CommandError> {
    // Files waiting to be sent (pasted images among them) go with the unlocked session.
    pending.clear();
    hearth.lock(&streams).await
}

/// The app's preferences (kept inside the vault).
#[tauri::command]
pub async fn get_settings(hearth: State<'_, Hearth>) -> Result<SettingsDto, CommandError> {
    Ok(hearth.engine()?.settings()?.into())
}

/// Saves the app's preferences and returns them as stored.
#[tauri::command]
pub async fn set_settings(
    hearth: State<'_, Hearth>,
    settings: SettingsDto,
) -> Result<SettingsDto, CommandError> {
    Ok(hearth.engine()?.set_settings(settings.into())?.into())
}
