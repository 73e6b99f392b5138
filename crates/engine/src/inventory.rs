//! What Hearth keeps, and where: the data inventory behind `hearth status` and the
//! desktop app's "Privacy & data" page. Names and sizes only, never a secret.

use serde::Serialize;

use crate::provider_config::KeyLocation;
use crate::{Engine, Result, Settings, VaultStatus};

/// Everything stored for this vault.
#[derive(Debug, Clone, Serialize)]
pub struct Inventory {
    /// Counts, versions, and every file in the data directory with its size.
    #[serde(skip)]
    pub status: VaultStatus,
    /// Where provider API keys are kept.
    pub key_location: KeyLocation,
    /// This vault's entries in the OS keychain (account names under the service
    /// `Hearth`): its data key and the providers' API keys.
    pub keychain_entries: Vec<String>,
    /// Why the keychain could not be listed, when it could not.
    pub keychain_error: Option<String>,
    /// Providers with an API key stored.
    pub providers_with_keys: Vec<String>,
    /// The user's retention and auto-lock settings.
    #[serde(skip)]
    pub settings: Settings,
}

impl Engine {
    /// Lists what is stored where for this vault.
    pub fn inventory(&self) -> Result<Inventory> {
        let status = self.status()?;
        let vault_id = status.vault_id.clone();
        let ours = |account: &String| {
            account == &hearth_vault::data_key_account(&vault_id)
                || account.starts_with(&format!("provider-key:{vault_id}:"))
                || account.starts_with(&format!("tool-secret:{vault_id}:"))
        };
        let (keychain_entries, keychain_error) = match self.store.accounts() {
            Ok(mut accounts) => {
                accounts.retain(ours);
                accounts.sort();
                (accounts, None)
            }
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let providers_with_keys = self
            .providers()?
            .into_iter()
            .filter(|p| p.key_hint.is_some())
            .map(|p| p.id)
            .collect();
        Ok(Inventory {
            status,
            key_location: self.key_location()?,
            keychain_entries,
            keychain_error,
            providers_with_keys,
            settings: self.settings()?,
        })
    }
}
