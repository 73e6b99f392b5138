//! Attachments in the app: an image picked through the attach dialog and one pasted into
//! the composer go to the provider byte for byte and come back as thumbnails, from the
//! vault, after a restart with the provider gone; a hostile SVG and a file named like HTML
//! are shown by name, as text, and run nothing. The attach dialog is answered through
//! `HEARTH_TEST_DIALOGS` (every file in its `attach/` folder; debug builds only).

use base64::Engine as _;
use fantoccini::Client;
use hearth_tests::fake_provider::{FakeProvider, RecordedRequest, Reply};
use hearth_tests::TestDir;
use serde_json::Value;

use crate::driver::{click, eval, find, screenshot, type_into, wait_for, workspace, Driver};
use crate::steps::{configure_openai, create_passphrase_vault, openai_stream};

const PASSPHRASE: &str = "attachments e2e passphrase";
const API_KEY: &str = "sk-e2e-attachments-0123456789wxyz";
const HOSTILE_NAME: &str = "<img src=x onerror=window.__pwned=1>.html";

/// The images of the last user turn of a chat request, decoded from their data URLs.
fn sent_images(request: &RecordedRequest) -> Vec<Vec<u8>> {
    let json = request.json();
    let Some(user) = json["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
    else {
        return Vec::new();
    };
    user["content"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p["image_url"]["url"].as_str())
                .filter_map(|url| url.strip_prefix("data:image/png;base64,"))
                .map(|b64| {
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .expect("valid base64")
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn count(app: &Client, css: &str) -> usize {
    eval(
        app,
        &format!("return document.querySelectorAll('{css}').length"),
    )
    .await
    .as_u64()
    .unwrap_or(0) as usize
}

async fn last_reply_complete(app: &Client) {
    wait_for(
        app,
        "a complete reply",
        r#"const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
           const m = all[all.length - 1];
           return m && m.dataset.status === "complete" && m.innerText.includes("Got the files.")"#,
    )
    .await;
}

/// Waits until `n` attached images have loaded (decoded from their blob: URLs).
async fn thumbnails_loaded(app: &Client, n: usize) {
    wait_for(
        app,
        &format!("{n} loaded thumbnails"),
        &format!(
            r#"const imgs = Array.from(document.querySelectorAll('[data-testid="attachment-image"]'));
               return imgs.length === {n} && imgs.every(i => i.complete && i.naturalWidth > 0
                 && i.src.startsWith("blob:"))"#
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_images_reach_the_provider_and_show_offline_and_hostile_files_stay_text() {
    let dir = TestDir::new();
    let dialogs = tempfile::tempdir().expect("dialog folder");
    let attach = dialogs.path().join("attach");
    std::fs::create_dir_all(&attach).expect("attach folder");
    let picked = std::fs::read(workspace().join("icons/32x32.png")).expect("an icon");
    let pasted = std::fs::read(workspace().join("icons/64x64.png")).expect("an icon");
    let fake = FakeProvider::start(|_| Reply::sse(openai_stream(&["Got the files.".into()])));
    let driver = Driver::start_with(&dir.data, &[("HEARTH_TEST_DIALOGS", dialogs.path())]);
    let app = driver.session().await;
    create_passphrase_vault(&app, PASSPHRASE).await;
    configure_openai(&app, &fake.base_url("v1"), API_KEY).await;
    click(&app, "settings-close").await;
    click(&app, "new-chat").await;

    // One image through the attach dialog, one pasted as a File built from its bytes.
    std::fs::write(attach.join("picked.png"), &picked).expect("offer the image");
    click(&app, "attach").await;
    wait_for(
        &app,
        "the picked file's chip",
        r#"return document.querySelectorAll('[data-testid="pending-attachment"]').length === 1"#,
    )
    .await;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&pasted);
    eval(
        &app,
        &format!(
            r#"const bytes = Uint8Array.from(atob("{b64}"), c => c.charCodeAt(0));
               const file = new File([bytes], "pasted.png", {{type: "image/png"}});
               const event = new Event("paste", {{bubbles: true, cancelable: true}});
               Object.defineProperty(event, "clipboardData", {{value: {{files: [file], items: []}}}});
               document.querySelector('[data-testid="composer"]').dispatchEvent(event);
               return true"#
        ),
    )
    .await;
    wait_for(
        &app,
        "the pasted file's chip",
        r#"return Array.from(document.querySelectorAll('[data-testid="pending-attachment-name"]'))
                 .map(n => n.innerText).join("|") === "picked.png|pasted.png""#,
    )
    .await;
    screenshot(&app, "21-attachments-pending").await;

    type_into(&app, "composer", "Describe these pictures").await;
    click(&app, "send").await;
    last_reply_complete(&app).await;
    // A picked file is read again when the message is sent, so it goes only now.
    std::fs::remove_file(attach.join("picked.png")).expect("tidy");
    let chat = fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/chat/completions"))
        .expect("a chat request");
    assert_eq!(
        sent_images(&chat),
        vec![picked.clone(), pasted.clone()],
        "the provider did not get the images' exact bytes"
    );
    assert_eq!(
        count(&app, r#"[data-testid="pending-attachment"]"#).await,
        0,
        "the chips stayed after sending"
    );
    thumbnails_loaded(&app, 2).await;
    click(&app, "attachment-thumbnail").await;
    let full = find(&app, "attachment-full").await;
    assert!(
        full.find(fantoccini::Locator::Css("img")).await.is_ok(),
        "the full-size image is missing"
    );
    screenshot(&app, "22-attachment-full-size").await;
    click(&app, "attachment-full-close").await;

    // Hostile files: an SVG with script (Hearth takes it as text) and HTML under a name
    // that is itself markup. Both are names on chips; nothing runs.
    std::fs::write(
        attach.join("evil.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned='svg'"><script>window.__pwned='script'</script></svg>"#,
    )
    .expect("write the SVG");
    std::fs::write(
        attach.join(HOSTILE_NAME),
        "<script>window.__pwned='html'</script>",
    )
    .expect("write the HTML");
    click(&app, "attach").await;
    let names = wait_for(
        &app,
        "the hostile files' chips",
        r#"const n = Array.from(document.querySelectorAll('[data-testid="pending-attachment-name"]'))
                 .map(n => n.innerText);
           return n.length === 2 ? n : null"#,
    )
    .await;
    assert_eq!(names, serde_json::json!([HOSTILE_NAME, "evil.svg"]));
    type_into(&app, "composer", "And these files").await;
    click(&app, "send").await;
    wait_for(
        &app,
        "the second reply",
        r#"return document.querySelectorAll('[data-testid="message"][data-role="assistant"][data-status="complete"]').length === 2"#,
    )
    .await;
    let shown = wait_for(
        &app,
        "the hostile files shown by name",
        r#"const users = document.querySelectorAll('[data-testid="message"][data-role="user"]');
           const last = users[users.length - 1];
           const names = Array.from(last.querySelectorAll('[data-testid="attachment-name"]')).map(n => n.innerText);
           return names.length === 2 ? {names, imgs: last.querySelectorAll('img, svg:not(.icon), script, iframe').length} : null"#,
    )
    .await;
    assert_eq!(
        shown,
        serde_json::json!({"names": [HOSTILE_NAME, "evil.svg"], "imgs": 0})
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        eval(
            &app,
            "return window.__pwned === undefined ? null : String(window.__pwned)"
        )
        .await,
        Value::Null,
        "a hostile file ran script"
    );
    screenshot(&app, "23-attachments-hostile-names").await;

    // The Privacy page counts them.
    click(&app, "settings").await;
    click(&app, "settings-tab-about").await;
    let counted = find(&app, "inventory-attachments")
        .await
        .attr("data-count")
        .await
        .expect("the count")
        .unwrap_or_default();
    assert_eq!(counted, "4");
    click(&app, "settings-close").await;

    // Restart with the provider gone: the thumbnails come from the vault alone.
    app.close().await.expect("close the app");
    drop(fake);
    let app = driver.session().await;
    type_into(&app, "passphrase-input", PASSPHRASE).await;
    click(&app, "unlock-submit").await;
    find(&app, "conversation-item")
        .await
        .click()
        .await
        .expect("open the conversation");
    thumbnails_loaded(&app, 2).await;
    screenshot(&app, "24-attachments-offline").await;
    assert_eq!(
        eval(
            &app,
            "return window.__pwned === undefined ? null : String(window.__pwned)"
        )
        .await,
        Value::Null
    );
    app.close().await.expect("close the app");
}
