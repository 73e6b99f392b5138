//! Small records kept in the vault: provider configurations, settings, and provider
//! API keys for vaults that do not use the OS keychain.

use rusqlite::{params, OptionalExtension};
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};
use crate::{now_ms, Vault};

/// A provider as configured by the user (a built-in one with overrides, or a custom one).
/// Never holds the API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    /// Provider id (`openai`, `ollama`, or the user's own id).
    pub id: String,
    /// Wire protocol: `openai-compatible`, `anthropic` or `gemini`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Base URL override, including the API version segment.
    pub base_url: Option<String>,
    /// Model new chats use.
    pub default_model: Option<String>,
    /// Whether the provider is offered in pickers.
    pub enabled: bool,
    /// Further options as JSON.
    pub extra_json: Option<String>,
}

impl Vault {
    /// Every configured provider, by id.
    pub fn providers(&self) -> Result<Vec<ProviderRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, name, base_url, default_model, enabled, extra_json
             FROM providers ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ProviderRecord {
                id: r.get(0)?,
                kind: r.get(1)?,
                name: r.get(2)?,
                base_url: r.get(3)?,
                default_model: r.get(4)?,
                enabled: r.get(5)?,
                extra_json: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Inserts or replaces a provider record.
    pub fn save_provider(&self, record: &ProviderRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO providers (id, kind, name, base_url, default_model, enabled, extra_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
                 base_url = excluded.base_url, default_model = excluded.default_model,
                 enabled = excluded.enabled, extra_json = excluded.extra_json",
            params![
                record.id,
                record.kind,
                record.name,
                record.base_url,
                record.default_model,
                record.enabled,
                record.extra_json
            ],
        )?;
        Ok(())
    }

    /// Removes a provider record; returns whether there was one.
    pub fn delete_provider(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM providers WHERE id = ?1", [id])?
            > 0)
    }

    /// A setting's JSON value.
    pub fn setting(&self, key: &str) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT value_json FROM settings WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| VaultError::Corrupt(format!("setting `{key}` is not JSON: {e}")))
        })
        .transpose()
    }

    /// Sets a setting to a JSON value.
    pub fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value_json) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json",
            params![key, value.to_string()],
        )?;
        Ok(())
    }

    /// Stores a secret inside the encrypted database (for vaults without a keychain).
    pub fn set_secret(&self, name: &str, value: &[u8]) -> Result<()> {
        self.conn.execute(
            "INSERT INTO secrets (name, value, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![name, value, now_ms()],
        )?;
        Ok(())
    }

    /// Reads a secret stored inside the database.
    pub fn secret(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM secrets WHERE name = ?1", [name], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()?
            .map(Zeroizing::new))
    }

    /// Removes a secret; returns whether there was one.
    pub fn delete_secret(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM secrets WHERE name = ?1", [name])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open::tests::temp_vault;

    #[test]
    fn providers_settings_and_secrets_round_trip() {
        let (_d, _p, _s, vault) = temp_vault();
        let mut record = ProviderRecord {
            id: "ollama".into(),
            kind: "openai-compatible".into(),
            name: "Ollama".into(),
            base_url: Some("http://localhost:11434/v1".into()),
            default_model: None,
            enabled: true,
            extra_json: None,
        };
        vault.save_provider(&record).unwrap();
        record.default_model = Some("llama3".into());
        vault.save_provider(&record).unwrap();
        assert_eq!(vault.providers().unwrap(), vec![record]);
        assert!(vault.delete_provider("ollama").unwrap());

        vault
            .set_setting("default_provider", &serde_json::json!("ollama"))
            .unwrap();
        assert_eq!(
            vault.setting("default_provider").unwrap(),
            Some(serde_json::json!("ollama"))
        );
        assert_eq!(vault.setting("missing").unwrap(), None);

        vault.set_secret("provider-key:openai", b"sk-1").unwrap();
        assert_eq!(
            vault
                .secret("provider-key:openai")
                .unwrap()
                .unwrap()
                .as_slice(),
            b"sk-1"
        );
        assert!(vault.delete_secret("provider-key:openai").unwrap());
        assert!(vault.secret("provider-key:openai").unwrap().is_none());
    }
}
