//! Listing the models a provider offers.

use std::time::Duration;

use serde_json::Value;

use crate::chat::Endpoint;
use crate::error::ProviderError;
use crate::http::{classify_status, network_error, Http};
use crate::{anthropic, gemini, openai, ProviderKind};

/// A model a provider offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The id to send in requests.
    pub id: String,
    /// A display name, when the provider gives one.
    pub name: Option<String>,
}

/// A pagination token made safe for a query string.
fn encode(token: &str) -> String {
    url::form_urlencoded::byte_serialize(token.as_bytes()).collect()
}

/// Adds the models of a `{"data": [{"id": …}]}` page (OpenAI-compatible and Anthropic),
/// with the display name from `name_field` when there is one.
fn push_listed(page: &Value, name_field: &str, key: Option<&str>, models: &mut Vec<ModelInfo>) {
    for m in page
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(id) = m.get("id").and_then(Value::as_str) {
            let name = m.get(name_field).and_then(Value::as_str);
            models.extend(model(id, name, key));
        }
    }
}

/// The most pages followed when a provider paginates its model list.
const MAX_PAGES: usize = 20;

/// The largest model list page read, in bytes. OpenRouter's list of several hundred
/// models, the largest known, is under 1 MiB; a body past 8 MiB is not a model list, and
/// reading it whole would let a broken or hostile server exhaust memory.
pub const MAX_MODEL_LIST_BYTES: usize = 8 * 1024 * 1024;

/// The longest model id kept; a longer one is dropped (no real id is near it).
const MAX_ID_CHARS: usize = 256;

/// The longest display name kept; a longer one is cut.
const MAX_NAME_CHARS: usize = 200;

/// A model from the provider's list, if it is safe to show and store: an id that is not
/// absurdly long and does not contain the key, and a display name cut to length with
/// the key removed.
fn model(id: &str, name: Option<&str>, key: Option<&str>) -> Option<ModelInfo> {
    let has_key = |text: &str| {
        key.filter(|k| k.len() >= 4)
            .is_some_and(|k| text.contains(k))
    };
    if id.is_empty() || id.chars().count() > MAX_ID_CHARS || has_key(id) {
        return None;
    }
    let name = name.map(|n| {
        let n = match key.filter(|k| k.len() >= 4) {
            Some(k) => n.replace(k, "[key]"),
            None => n.to_owned(),
        };
        n.chars().take(MAX_NAME_CHARS).collect()
    });
    Some(ModelInfo {
        id: id.to_owned(),
        name,
    })
}

/// Reads a response body up to [`MAX_MODEL_LIST_BYTES`], within `deadline`.
async fn read_body(
    mut response: reqwest::Response,
    deadline: tokio::time::Instant,
    timeout: Duration,
    key: Option<&str>,
) -> Result<String, ProviderError> {
    let mut body = Vec::new();
    loop {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .map_err(|_| ProviderError::Timeout { idle: timeout })?
            .map_err(|e| network_error(e, key))?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > MAX_MODEL_LIST_BYTES {
            return Err(ProviderError::TooLarge {
                what: "a model list",
                limit: MAX_MODEL_LIST_BYTES,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Asks the provider for its models.
pub async fn list_models(
    http: &Http,
    endpoint: &Endpoint,
    key: Option<&str>,
    timeout: Duration,
) -> Result<Vec<ModelInfo>, ProviderError> {
    let mut models = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let (url, headers) = match endpoint.kind {
            ProviderKind::OpenAiCompatible => (
                format!("{}/models", endpoint.base_url),
                openai::headers(endpoint, key)?,
            ),
            ProviderKind::Anthropic => (
                match &cursor {
                    Some(after) => {
                        format!(
                            "{}/models?limit=1000&after_id={}",
                            endpoint.base_url,
                            encode(after)
                        )
                    }
                    None => format!("{}/models?limit=1000", endpoint.base_url),
                },
                anthropic::headers(key)?,
            ),
            ProviderKind::Gemini => (
                match &cursor {
                    Some(token) => format!(
                        "{}/models?pageSize=1000&pageToken={}",
                        endpoint.base_url,
                        encode(token)
                    ),
                    None => format!("{}/models?pageSize=1000", endpoint.base_url),
                },
                gemini::headers(key)?,
            ),
        };
        let request = http.request(reqwest::Method::GET, &url, headers)?.send();
        let response = tokio::time::timeout(timeout, request)
            .await
            .map_err(|_| ProviderError::Timeout { idle: timeout })?
            .map_err(|e| network_error(e, key))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let deadline = tokio::time::Instant::now() + timeout;
        let body = read_body(response, deadline, timeout, key).await?;
        if !(200..300).contains(&status) {
            return Err(classify_status(status, &headers, &body, key));
        }
        let value: Value = serde_json::from_str(&body).map_err(|e| ProviderError::Malformed {
            message: format!("the model list is not JSON: {e}"),
        })?;
        cursor = None;
        match endpoint.kind {
            ProviderKind::OpenAiCompatible => push_listed(&value, "name", key, &mut models),
            ProviderKind::Anthropic => {
                push_listed(&value, "display_name", key, &mut models);
                if value.get("has_more").and_then(Value::as_bool) == Some(true) {
                    cursor = value
                        .get("last_id")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
            }
            ProviderKind::Gemini => {
                for m in value
                    .get("models")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let chat_capable = m
                        .get("supportedGenerationMethods")
                        .and_then(Value::as_array)
                        .is_none_or(|methods| methods.iter().any(|x| x == "generateContent"));
                    if let (true, Some(name)) =
                        (chat_capable, m.get("name").and_then(Value::as_str))
                    {
                        let display = m.get("displayName").and_then(Value::as_str);
                        models.extend(model(gemini::bare_model(name), display, key));
                    }
                }
                cursor = value
                    .get("nextPageToken")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned);
            }
        }
        if cursor.is_none() {
            break;
        }
    }
    Ok(models)
}
