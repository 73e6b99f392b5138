//! Provider configuration and API keys: the built-in catalog merged with the user's
//! overrides and custom endpoints, and each provider's key kept in the OS keychain (or,
//! for vaults without one, in the vault's encrypted `secrets` table).

use serde::Serialize;
use zeroize::Zeroizing;

use hearth_providers::{builtin, check_base_url, same_origin, ProviderKind, CATALOG};
use hearth_vault::{provider_key_account, ProviderRecord};

use crate::error::{EngineError, Result};
use crate::Engine;

/// Setting that names the provider new chats use.
const DEFAULT_PROVIDER_SETTING: &str = "default_provider";

/// Where a provider's API key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyLocation {
    /// The OS keychain.
    Keychain,
    /// The vault's encrypted `secrets` table (vaults without a keychain).
    Vault,
}

/// A provider as the front ends show it. Carries a hint of the key, never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Wire protocol.
    pub kind: String,
    /// Effective base URL.
    pub base_url: String,
    /// Default model, if set.
    pub default_model: Option<String>,
    /// Built into Hearth (as opposed to a custom endpoint)?
    pub builtin: bool,
    /// Runs on this machine?
    pub local: bool,
    /// Whether new chats use it.
    pub is_default: bool,
    /// `…abcd` when a key is set (the last four characters), else `None`.
    pub key_hint: Option<String>,
}

/// A change to a provider's configuration; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ProviderUpdate {
    /// Provider id (built-in, or a new custom id).
    pub id: String,
    /// New base URL.
    pub base_url: Option<String>,
    /// New default model.
    pub default_model: Option<String>,
    /// Wire protocol; required for a new custom provider.
    pub kind: Option<String>,
    /// Make this the provider new chats use.
    pub make_default: bool,
}

/// Shows only the end of a key: enough to tell keys apart, useless to an onlooker.
fn key_hint(key: &[u8]) -> String {
    let text = String::from_utf8_lossy(key);
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 12 {
        return "set".into();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("…{tail}")
}

fn valid_custom_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl Engine {
    /// Where provider keys go for this vault.
    pub fn key_location(&self) -> Result<KeyLocation> {
        Ok(if self.vault()?.header().keychain {
            KeyLocation::Keychain
        } else {
            KeyLocation::Vault
        })
    }

    fn secret_name(&self, provider_id: &str) -> Result<String> {
        Ok(provider_key_account(self.vault()?.id(), provider_id))
    }

    /// Every provider: the built-in catalog (with the user's overrides) and custom ones.
    pub fn providers(&self) -> Result<Vec<ProviderInfo>> {
        let records = self.vault()?.providers()?;
        let default = self.default_provider()?;
        let mut out = Vec::new();
        for b in CATALOG {
            let record = records.iter().find(|r| r.id == b.id);
            out.push(ProviderInfo {
                id: b.id.into(),
                name: b.name.into(),
                kind: b.kind.as_str().into(),
                base_url: record
                    .and_then(|r| r.base_url.clone())
                    .unwrap_or_else(|| b.base_url.into()),
                default_model: record.and_then(|r| r.default_model.clone()),
                builtin: true,
                local: b.local,
                is_default: default.as_deref() == Some(b.id),
                key_hint: None,
            });
        }
        for r in records.iter().filter(|r| builtin(&r.id).is_none()) {
            let local = r
                .base_url
                .as_deref()
                .is_some_and(hearth_providers::is_loopback_url);
            out.push(ProviderInfo {
                id: r.id.clone(),
                name: r.name.clone(),
                kind: r.kind.clone(),
                base_url: r.base_url.clone().unwrap_or_default(),
                default_model: r.default_model.clone(),
                builtin: false,
                local,
                is_default: default.as_deref() == Some(r.id.as_str()),
                key_hint: None,
            });
        }
        for info in &mut out {
            // A keychain that cannot be reached must not hide the providers themselves.
            info.key_hint = match self.api_key(&info.id) {
                Ok(key) => key.map(|k| key_hint(&k)),
                Err(e) => {
                    tracing::info!("cannot read the key of {}: {e}", info.id);
                    None
                }
            };
        }
        Ok(out)
    }

    /// One provider by id.
    pub fn provider(&self, id: &str) -> Result<ProviderInfo> {
        self.providers()?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| EngineError::UnknownProvider(id.to_owned()))
    }

    /// The provider new chats use, if one was chosen.
    pub fn default_provider(&self) -> Result<Option<String>> {
        Ok(self
            .vault()?
            .setting(DEFAULT_PROVIDER_SETTING)?
            .and_then(|v| v.as_str().map(str::to_owned)))
    }

    /// Changes a provider's configuration, or adds a custom OpenAI-compatible,
    /// Anthropic or Gemini endpoint.
    ///
    /// A stored key belongs to the server it was entered for: when the new base URL
    /// points at another origin (scheme, host or port), the provider's key is removed
    /// before the new address is saved, and the user pastes it again. This is the path
    /// the desktop app takes, so no sequence of calls from its webview can send a stored
    /// key to a host of the webview's choosing. A front end where the person typing is
    /// the user (the CLI) may use [`Engine::set_provider_keeping_key`].
    pub fn set_provider(&self, update: ProviderUpdate) -> Result<ProviderInfo> {
        self.configure_provider(update, false)
    }

    /// [`Engine::set_provider`], but a key stays with its provider when the base URL
    /// moves to another host. Only for a front end whose input is the user's own words.
    pub fn set_provider_keeping_key(&self, update: ProviderUpdate) -> Result<ProviderInfo> {
        self.configure_provider(update, true)
    }

    /// Whether changing `id`'s base URL to `new_base_url` moves it to another origin
    /// while it has a stored key (the key would travel to the new host).
    pub fn key_would_move(&self, id: &str, new_base_url: &str) -> Result<bool> {
        Ok(self.moves_origin(id, new_base_url)? && self.api_key(id)?.is_some())
    }

    /// Whether `new_base_url` is another origin than `id`'s current base URL.
    fn moves_origin(&self, id: &str, new_base_url: &str) -> Result<bool> {
        let current = self.vault()?.providers()?.into_iter().find(|r| r.id == id);
        let current = current
            .and_then(|r| r.base_url)
            .or_else(|| builtin(id).map(|b| b.base_url.to_owned()));
        Ok(current.is_some_and(|url| !same_origin(&url, new_base_url)))
    }

    fn configure_provider(&self, update: ProviderUpdate, keep_key: bool) -> Result<ProviderInfo> {
        let id = update.id.trim().to_owned();
        let existing = self.vault()?.providers()?.into_iter().find(|r| r.id == id);
        let builtin = builtin(&id);
        let kind = match (&update.kind, builtin, &existing) {
            (Some(k), Some(b), _) if k != b.kind.as_str() => {
                return Err(EngineError::Invalid(format!(
                    "`{id}` is built in and speaks {}; its kind cannot change",
                    b.kind
                )))
            }
            (_, Some(b), _) => b.kind.as_str().to_owned(),
            (Some(k), None, _) => k
                .parse::<ProviderKind>()
                .map_err(|e| EngineError::Invalid(e.to_string()))?
                .as_str()
                .to_owned(),
            (None, None, Some(r)) => r.kind.clone(),
            (None, None, None) => {
                return Err(EngineError::Invalid(format!(
                    "`{id}` is a new custom provider: give its --kind (openai-compatible, anthropic or gemini) and --base-url"
                )))
            }
        };
        if builtin.is_none() && !valid_custom_id(&id) {
            return Err(EngineError::Invalid(format!(
                "`{id}` is not a usable provider id: use lowercase letters, digits, - and _"
            )));
        }
        let base_url = match &update.base_url {
            Some(u) => Some(check_base_url(u).map_err(|e| EngineError::Invalid(e.to_string()))?),
            None => existing.as_ref().and_then(|r| r.base_url.clone()),
        };
        if builtin.is_none() && base_url.is_none() {
            return Err(EngineError::Invalid(format!(
                "custom provider `{id}` needs a --base-url"
            )));
        }
        let default_model = match &update.default_model {
            Some(m) if m.trim().is_empty() => None,
            Some(m) => Some(m.trim().to_owned()),
            None => existing.as_ref().and_then(|r| r.default_model.clone()),
        };
        // Remove the key before the new address is saved: if removing fails, nothing
        // changed, and the key can never be sent to the new host.
        if !keep_key {
            if let Some(new_url) = update.base_url.as_ref().and(base_url.as_deref()) {
                // Removing also runs when the key cannot be read (a keychain that
                // is down fails here, and then nothing changes).
                if self.moves_origin(&id, new_url)? && self.remove_api_key(&id)? {
                    tracing::info!(
                        "the base URL of {id} moved to another host; its key was removed"
                    );
                }
            }
        }
        let record = ProviderRecord {
            name: builtin
                .map(|b| b.name.to_owned())
                .or_else(|| existing.as_ref().map(|r| r.name.clone()))
                .unwrap_or_else(|| id.clone()),
            id: id.clone(),
            kind,
            base_url,
            default_model,
            enabled: existing.as_ref().is_none_or(|r| r.enabled),
            extra_json: existing.as_ref().and_then(|r| r.extra_json.clone()),
        };
        self.vault()?.save_provider(&record)?;
        if update.make_default {
            self.vault()?.set_setting(
                DEFAULT_PROVIDER_SETTING,
                &serde_json::Value::String(id.clone()),
            )?;
        }
        self.provider(&id)
    }

    /// Stores a provider's API key (replacing any earlier one). Returns its hint.
    pub fn set_api_key(&self, provider_id: &str, key: &str) -> Result<String> {
        self.provider(provider_id)?;
        let key = key.trim();
        if key.is_empty() {
            return Err(EngineError::Invalid("the API key is empty".into()));
        }
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EngineError::Invalid(
                "the API key contains spaces or control characters; paste just the key".into(),
            ));
        }
        let name = self.secret_name(provider_id)?;
        self.put_secret(&name, key.as_bytes())?;
        Ok(key_hint(key.as_bytes()))
    }

    /// Removes a provider's API key; returns whether there was one.
    pub fn remove_api_key(&self, provider_id: &str) -> Result<bool> {
        self.provider(provider_id)?;
        let name = self.secret_name(provider_id)?;
        self.drop_secret(&name)
    }

    /// A provider's API key, for the HTTP layer only. Never shown or logged.
    pub fn api_key(&self, provider_id: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let name = self.secret_name(provider_id)?;
        self.read_secret(&name)
    }

    /// A secret of this vault (an API key, a tool server's token) from where the vault
    /// keeps them: the keychain when it uses the keychain, else its `secrets` table.
    pub(crate) fn read_secret(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        Ok(match self.key_location()? {
            KeyLocation::Keychain => self
                .store
                .get(account)?
                .map(|s| Zeroizing::new(s.expose().to_vec())),
            KeyLocation::Vault => self.vault()?.secret(account)?,
        })
    }

    /// Stores a secret where [`Engine::read_secret`] finds it.
    pub(crate) fn put_secret(&self, account: &str, value: &[u8]) -> Result<()> {
        match self.key_location()? {
            KeyLocation::Keychain => self.store.set(account, value)?,
            KeyLocation::Vault => self.vault()?.set_secret(account, value)?,
        }
        Ok(())
    }

    /// Removes a secret stored by [`Engine::put_secret`]; returns whether there was one.
    pub(crate) fn drop_secret(&self, account: &str) -> Result<bool> {
        Ok(match self.key_location()? {
            KeyLocation::Keychain => self.store.delete(account)?,
            KeyLocation::Vault => self.vault()?.delete_secret(account)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AppPaths, KeyProtection, Passphrase};
    use hearth_keychain::{MemoryStore, SecretStore};
    use std::sync::Arc;

    fn fast() -> hearth_vault::KdfParams {
        hearth_vault::KdfParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }

    /// A new keychain vault in `dir`, with the in-memory keychain it uses.
    fn keychain_engine(dir: &tempfile::TempDir) -> (Engine, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::new());
        let engine = Engine::create_with_kdf(
            &AppPaths::new(dir.path()),
            store.clone(),
            KeyProtection::Keychain,
            fast(),
        )
        .unwrap();
        (engine, store)
    }

    #[test]
    fn keychain_vault_keeps_provider_keys_in_the_keychain() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, store) = keychain_engine(&dir);
        assert_eq!(
            engine
                .set_api_key("openai", " sk-test-canary-1234abcd\n")
                .unwrap(),
            "…abcd"
        );
        let info = engine.provider("openai").unwrap();
        assert_eq!(info.key_hint.as_deref(), Some("…abcd"));
        let accounts = store.accounts().unwrap();
        assert!(
            accounts
                .iter()
                .any(|a| a.starts_with("provider-key:") && a.ends_with(":openai")),
            "{accounts:?}"
        );
        assert!(engine.remove_api_key("openai").unwrap());
        assert_eq!(engine.provider("openai").unwrap().key_hint, None);
        assert!(engine.set_api_key("nope", "sk-123456789012").is_err());
        assert!(engine.set_api_key("openai", "sk 123").is_err());
    }

    #[test]
    fn a_new_host_drops_the_key_unless_the_user_keeps_it() {
        for protection in ["keychain", "passphrase"] {
            let dir = tempfile::tempdir().unwrap();
            let (store, protection) = match protection {
                "keychain" => (Arc::new(MemoryStore::new()), KeyProtection::Keychain),
                _ => (
                    Arc::new(MemoryStore::unavailable()),
                    KeyProtection::Passphrase(Passphrase::new("long enough passphrase")),
                ),
            };
            let engine =
                Engine::create_with_kdf(&AppPaths::new(dir.path()), store, protection, fast())
                    .unwrap();
            let update = |url: &str| ProviderUpdate {
                id: "openai".into(),
                base_url: Some(url.into()),
                ..ProviderUpdate::default()
            };
            engine
                .set_api_key("openai", "sk-test-canary-1234abcd")
                .unwrap();
            // Same origin, another path: the key stays.
            let same = engine
                .set_provider(update("https://api.openai.com/v2"))
                .unwrap();
            assert_eq!(same.key_hint.as_deref(), Some("…abcd"));
            assert!(!engine
                .key_would_move("openai", "https://api.openai.com/v1")
                .unwrap());
            assert!(engine
                .key_would_move("openai", "https://collector.example/v1")
                .unwrap());
            // Another host: the key is gone before the address is saved.
            let moved = engine
                .set_provider(update("https://collector.example/v1"))
                .unwrap();
            assert_eq!(moved.base_url, "https://collector.example/v1");
            assert_eq!(moved.key_hint, None);
            assert!(engine.api_key("openai").unwrap().is_none());
            // Moving back does not bring it back: the user pastes it again.
            let back = engine
                .set_provider(update("https://api.openai.com/v1"))
                .unwrap();
            assert_eq!(back.key_hint, None);
            // The CLI's path keeps it, since there the user typed the address.
            engine
                .set_api_key("openai", "sk-test-canary-1234abcd")
                .unwrap();
            let kept = engine
                .set_provider_keeping_key(update("http://127.0.0.1:9/v1"))
                .unwrap();
            assert_eq!(kept.key_hint.as_deref(), Some("…abcd"));
            // A port is part of the origin.
            let port = engine
                .set_provider(update("http://127.0.0.1:10/v1"))
                .unwrap();
            assert_eq!(port.key_hint, None);
        }
    }

    #[test]
    fn a_keychain_that_fails_keeps_the_old_address() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, store) = keychain_engine(&dir);
        engine
            .set_api_key("openai", "sk-test-canary-1234abcd")
            .unwrap();
        store.set_available(false);
        let moved = engine.set_provider(ProviderUpdate {
            id: "openai".into(),
            base_url: Some("https://collector.example/v1".into()),
            ..ProviderUpdate::default()
        });
        assert!(moved.is_err());
        store.set_available(true);
        let info = engine.provider("openai").unwrap();
        assert_eq!(info.base_url, "https://api.openai.com/v1");
        assert_eq!(info.key_hint.as_deref(), Some("…abcd"));
    }

    #[test]
    fn passphrase_vault_keeps_provider_keys_inside_the_vault() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(MemoryStore::unavailable());
        let engine = Engine::create_with_kdf(
            &AppPaths::new(dir.path()),
            store,
            KeyProtection::Passphrase(Passphrase::new("long enough passphrase")),
            fast(),
        )
        .unwrap();
        assert_eq!(engine.key_location().unwrap(), KeyLocation::Vault);
        engine
            .set_api_key("anthropic", "sk-ant-000000000wxyz")
            .unwrap();
        assert_eq!(
            engine.provider("anthropic").unwrap().key_hint.as_deref(),
            Some("…wxyz")
        );
    }

    #[test]
    fn custom_providers_need_a_kind_and_a_safe_url() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, _) = keychain_engine(&dir);
        let bare = ProviderUpdate {
            id: "mybox".into(),
            ..Default::default()
        };
        assert!(engine.set_provider(bare).is_err());
        let remote_http = ProviderUpdate {
            id: "mybox".into(),
            kind: Some("openai-compatible".into()),
            base_url: Some("http://10.0.0.2:8000/v1".into()),
            ..Default::default()
        };
        assert!(engine
            .set_provider(remote_http)
            .unwrap_err()
            .to_string()
            .contains("https"));
        let ok = ProviderUpdate {
            id: "mybox".into(),
            kind: Some("openai-compatible".into()),
            base_url: Some("http://127.0.0.1:8000/v1/".into()),
            default_model: Some("qwen".into()),
            make_default: true,
        };
        let info = engine.set_provider(ok).unwrap();
        assert_eq!(
            (info.base_url.as_str(), info.local, info.is_default),
            ("http://127.0.0.1:8000/v1", true, true)
        );
        let kind_change = ProviderUpdate {
            id: "openai".into(),
            kind: Some("gemini".into()),
            ..Default::default()
        };
        assert!(engine.set_provider(kind_change).is_err());
        let over = ProviderUpdate {
            id: "ollama".into(),
            base_url: Some("http://localhost:11500/v1".into()),
            ..Default::default()
        };
        assert_eq!(
            engine.set_provider(over).unwrap().base_url,
            "http://localhost:11500/v1"
        );
        assert_eq!(engine.providers().unwrap().len(), 11);
    }
}
