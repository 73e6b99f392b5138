//! Steps more than one scenario takes.

use fantoccini::Client;
use serde_json::json;

use crate::driver::{click, find, find_css, hook, type_into, wait_for};

/// OpenAI-style server-sent events carrying `pieces`, then usage and `[DONE]`.
pub fn openai_stream(pieces: &[String]) -> Vec<Vec<u8>> {
    let mut chunks: Vec<Vec<u8>> = pieces
        .iter()
        .map(|piece| {
            let event = json!({"choices": [{"index": 0, "delta": {"content": piece}}]});
            format!("data: {event}\n\n").into_bytes()
        })
        .collect();
    let usage = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 21, "completion_tokens": 34}});
    chunks.push(format!("data: {usage}\n\ndata: [DONE]\n\n").into_bytes());
    chunks
}

/// The first-run screen: protect the new vault with `passphrase`.
pub async fn create_passphrase_vault(app: &Client, passphrase: &str) {
    find(app, "setup-keychain").await;
    click(app, "setup-passphrase").await;
    type_into(app, "passphrase-input", passphrase).await;
    type_into(app, "passphrase-confirm", passphrase).await;
    click(app, "setup-create").await;
    find(app, "new-chat").await;
}

/// Settings → Providers: point the built-in OpenAI provider at `base_url`, with model
/// `e2e-model`, used for new chats, with `key`. Leaves the settings open.
pub async fn configure_openai(app: &Client, base_url: &str, key: &str) {
    click(app, "settings").await;
    click(app, "settings-tab-providers").await;
    find_css(
        app,
        &format!("{}[data-id=\"openai\"]", hook("provider-item")),
    )
    .await
    .click()
    .await
    .expect("select the OpenAI provider");
    type_into(app, "provider-base-url", base_url).await;
    type_into(app, "provider-default-model", "e2e-model").await;
    let make_default = find(app, "provider-make-default").await;
    if make_default.prop("checked").await.ok().flatten().as_deref() != Some("true") {
        make_default.click().await.expect("tick use-for-new-chats");
    }
    type_into(app, "provider-key-input", key).await;
    click(app, "provider-save").await;
    let tail = &key[key.len() - 4..];
    wait_for(
        app,
        "the key hint",
        &format!(
            r#"const h = document.querySelector('[data-testid="provider-key-hint"]');
               return h && h.innerText.includes("{tail}")"#
        ),
    )
    .await;
}
