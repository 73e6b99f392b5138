//! Providers and their API keys. A key goes in and never comes out: replies carry only
//! its hint.

use serde::Deserialize;
use tauri::State;
use ts_rs::TS;

use hearth_engine::ProviderUpdate;

use crate::dto::{ModelDto, ProviderDto};
use crate::error::CommandError;
use crate::state::Hearth;

/// A change to a provider; absent fields stay as they are.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields = nullable)]
pub struct ProviderChange {
    /// Built-in id, or a new custom id.
    pub id: String,
    /// New base URL.
    pub base_url: Option<String>,
    /// New default model (empty clears it).
    pub default_model: Option<String>,
    /// Wire protocol; required for a new custom provider.
    pub kind: Option<String>,
    /// Make it the provider new chats use.
    #[serde(default)]
    #[ts(as = "Option<_>", optional)]
    pub make_default: bool,
}

/// Every provider, built in and custom.
#[tauri::command]
pub async fn list_providers(hearth: State<'_, Hearth>) -> Result<Vec<ProviderDto>, CommandError> {
    let providers = hearth.engine()?.providers()?;
    Ok(providers.into_iter().map(Into::into).collect())
}

/// Changes a provider, or adds a custom one.
#[tauri::command]
pub async fn set_provider(
    hearth: State<'_, Hearth>,
    change: ProviderChange,
) -> Result<ProviderDto, CommandError> {
    let update = ProviderUpdate {
        id: change.id,
        base_url: change.base_url,
        default_model: change.default_model,
        kind: change.kind,
        make_default: change.make_default,
    };
    Ok(hearth.engine()?.set_provider(update)?.into())
}

/// Stores a provider's API key; returns only its hint.
#[tauri::command]
pub async fn set_api_key(
    hearth: State<'_, Hearth>,
    provider_id: String,
    key: String,
) -> Result<String, CommandError> {
    let key = zeroize::Zeroizing::new(key);
    Ok(hearth.engine()?.set_api_key(&provider_id, &key)?)
}

/// Removes a provider's API key; returns whether there was one.
#[tauri::command]
pub async fn remove_api_key(
    hearth: State<'_, Hearth>,
    provider_id: String,
) -> Result<bool, CommandError> {
    Ok(hearth.engine()?.remove_api_key(&provider_id)?)
}

/// Asks a provider which models it offers (a network request).
#[tauri::command]
pub async fn list_models(
    hearth: State<'_, Hearth>,
    provider_id: String,
) -> Result<Vec<ModelDto>, CommandError> {
    let models = hearth.engine()?.list_models(&provider_id).await?;
    Ok(models.into_iter().map(Into::into).collect())
}
