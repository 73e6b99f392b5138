//! Your data, in the app: a temporary chat leaves nothing in the vault file; the
//! inventory names what is stored where; export to JSON, delete, import it back;
//! retention; erase everything returns to first run with no Hearth file left.
//! File dialogs are answered through `HEARTH_TEST_DIALOGS` (debug builds only).

use std::path::Path;
use std::time::Duration;

use fantoccini::Client;
use hearth_tests::fake_provider::{FakeProvider, Reply};
use hearth_tests::{canary, decrypted_pages, TestDir};

use crate::driver::{click, eval, find, screenshot, type_into, wait_for, Driver};
use crate::steps::{configure_openai, create_passphrase_vault, openai_stream};

const PASSPHRASE: &str = "your data e2e passphrase";
const API_KEY: &str = "sk-e2e-your-data-0123456789wxyz";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The vault's raw key, read with the CLI (which may open the vault beside the app).
fn key_hex(dir: &TestDir) -> String {
    let out = dir
        .hearth()
        .env("HEARTH_PASSPHRASE", PASSPHRASE)
        .args(["vault-key", "--reveal"])
        .output()
        .expect("run hearth vault-key");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn pages(dir: &TestDir) -> Vec<u8> {
    decrypted_pages(&dir.data.join("hearth.db"), &key_hex(dir))
}

async fn last_reply_complete(app: &Client, text: &str) {
    wait_for(
        app,
        &format!("a complete reply with {text}"),
        &format!(
            r#"const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
               const m = all[all.length - 1];
               return m && m.dataset.status === "complete" && m.innerText.includes("{text}")"#
        ),
    )
    .await;
}

async fn send(app: &Client, text: &str) {
    type_into(app, "composer", text).await;
    click(app, "send").await;
}

async fn open_your_data(app: &Client) {
    click(app, "settings").await;
    click(app, "settings-tab-data").await;
}

async fn text_of(app: &Client, id: &str) -> String {
    find(app, id)
        .await
        .text()
        .await
        .unwrap_or_else(|e| panic!("no text in {id}: {e}"))
}

fn only_file_in(dir: &Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(dir)
        .expect("read the folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn your_data_temporary_chat_inventory_export_import_retention_erase() {
    let dir = TestDir::new();
    let dialogs = tempfile::tempdir().expect("dialog folder");
    let (save, open) = (dialogs.path().join("save"), dialogs.path().join("open"));
    std::fs::create_dir_all(&save).expect("save folder");
    std::fs::create_dir_all(&open).expect("open folder");
    let saved_question = canary("saved-question");
    let temporary_question = canary("temporary-question");
    let temporary_answer = canary("temporary-answer");
    let answer = temporary_answer.clone();
    let fake = FakeProvider::start(move |request| {
        let body = request.body_text();
        let text = if body.contains("temporary-question") {
            answer.clone()
        } else {
            "Saved answer.".to_owned()
        };
        Reply::sse(openai_stream(&[text]))
    });
    let driver = Driver::start_with(&dir.data, &[("HEARTH_TEST_DIALOGS", dialogs.path())]);
    let app = driver.session().await;
    create_passphrase_vault(&app, PASSPHRASE).await;
    configure_openai(&app, &fake.base_url("v1"), API_KEY).await;
    click(&app, "settings-close").await;

    // A saved chat, so there is something to export, and a control for the page scan.
    click(&app, "new-chat").await;
    send(&app, &saved_question).await;
    last_reply_complete(&app, "Saved answer.").await;
    assert!(
        contains(&pages(&dir), &saved_question),
        "the scan cannot see saved text"
    );

    // A temporary chat: it streams like any other, and nothing of it reaches the file.
    click(&app, "temporary-chat").await;
    find(&app, "temporary-banner").await;
    send(&app, &temporary_question).await;
    last_reply_complete(&app, &temporary_answer).await;
    screenshot(&app, "11-temporary-chat").await;
    click(&app, "temporary-close").await;
    if let Ok(confirm) = app
        .wait()
        .at_most(Duration::from_secs(2))
        .for_element(fantoccini::Locator::Css(
            r#"[data-testid="temporary-discard-confirm"]"#,
        ))
        .await
    {
        confirm.click().await.expect("discard the temporary chat");
    }
    let body = eval(&app, "return document.body.innerText").await;
    assert!(
        !body
            .as_str()
            .unwrap_or_default()
            .contains(&temporary_answer),
        "the temporary chat is still on screen"
    );
    let scanned = pages(&dir);
    assert!(
        !contains(&scanned, &temporary_question),
        "the temporary question was saved"
    );
    assert!(
        !contains(&scanned, &temporary_answer),
        "the temporary answer was saved"
    );

    // The inventory (Settings → Privacy) names the files; the API key appears nowhere.
    click(&app, "settings").await;
    click(&app, "settings-tab-about").await;
    find(&app, "inventory").await;
    let files = eval(
        &app,
        r#"return Array.from(document.querySelectorAll('[data-testid="inventory-file"]')).map(f => f.innerText).join("\n")"#,
    )
    .await;
    let files = files.as_str().unwrap_or_default().to_owned();
    assert!(
        files.contains("hearth.db") && files.contains("vault.json"),
        "{files}"
    );
    let source = app.source().await.expect("page source");
    assert!(!source.contains(API_KEY), "the API key is in the page");

    // Export everything as JSON (Settings → Your data); the save dialog answers save/.
    click(&app, "settings-tab-data").await;
    click(&app, "export-json").await;
    let result = text_of(&app, "export-result").await;
    let exported = only_file_in(&save);
    assert!(result.contains("1 conversation"), "{result}");
    let json = std::fs::read_to_string(&exported).expect("the export");
    assert!(
        json.contains("\"format\":\"hearth-export\"")
            || json.contains("\"format\": \"hearth-export\"")
    );
    assert!(json.contains(&saved_question));
    assert!(!json.contains(&temporary_question) && !json.contains(API_KEY));
    screenshot(&app, "12-your-data").await;
    click(&app, "settings-close").await;

    // Delete the conversation (for real), then import the export back.
    click(&app, "conversation-delete").await;
    click(&app, "confirm-delete").await;
    wait_for(
        &app,
        "an empty sidebar",
        r#"return document.querySelectorAll('[data-testid="conversation-item"]').length === 0"#,
    )
    .await;
    assert!(
        !contains(&pages(&dir), &saved_question),
        "the deleted chat lingers in the file"
    );
    std::fs::copy(&exported, open.join("export.json")).expect("offer the export");
    open_your_data(&app).await;
    click(&app, "import-start").await;
    assert_eq!(
        text_of(&app, "import-file-name").await.trim(),
        "export.json"
    );
    let format = find(&app, "import-format")
        .await
        .attr("data-format")
        .await
        .expect("the format")
        .unwrap_or_default();
    assert_eq!(format, "hearth");
    click(&app, "import-confirm").await;
    let imported = text_of(&app, "import-result").await;
    assert!(imported.contains("1"), "{imported}");
    click(&app, "settings-close").await;
    wait_for(
        &app,
        "the imported conversation in the sidebar",
        r#"return document.querySelectorAll('[data-testid="conversation-item"]').length === 1"#,
    )
    .await;
    find(&app, "conversation-item")
        .await
        .click()
        .await
        .expect("open it");
    wait_for(
        &app,
        "the imported messages",
        &format!(
            r#"return document.body.innerText.includes("{saved_question}") && document.body.innerText.includes("Saved answer.")"#
        ),
    )
    .await;

    // Retention: off by default; 30 days keeps this fresh conversation.
    open_your_data(&app).await;
    let retention = find(&app, "retention-days").await;
    assert_eq!(
        retention.prop("value").await.ok().flatten().as_deref(),
        Some("off")
    );
    retention
        .select_by_value("30")
        .await
        .expect("choose 30 days");
    click(&app, "retention-save").await;
    if let Ok(confirm) = app
        .wait()
        .at_most(Duration::from_secs(2))
        .for_element(fantoccini::Locator::Css(
            r#"[data-testid="retention-confirm"]"#,
        ))
        .await
    {
        confirm.click().await.expect("confirm the retention");
    }
    find(&app, "retention-status").await;
    let status = dir
        .hearth()
        .env("HEARTH_PASSPHRASE", PASSPHRASE)
        .args(["status", "--json"])
        .output()
        .expect("hearth status");
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    assert_eq!(status["retention_days"], 30);
    assert_eq!(status["counts"]["conversations"], 1);

    // Erase everything: two steps, then first run again and no Hearth file left.
    click(&app, "erase-start").await;
    let confirm = find(&app, "erase-confirm").await;
    assert!(
        !confirm.is_enabled().await.unwrap_or(true),
        "erase is one click away"
    );
    type_into(&app, "erase-confirm-input", "erase").await;
    click(&app, "erase-confirm").await;
    find(&app, "setup-passphrase").await;
    screenshot(&app, "13-after-erase").await;
    let left: Vec<_> = std::fs::read_dir(&dir.data)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "files left after erase: {left:?}");
    app.close().await.expect("close the app");

    // Nothing the user typed or set went to the app's output (its logs) either.
    let output = driver.output();
    for secret in [
        &saved_question,
        &temporary_question,
        &temporary_answer,
        API_KEY,
    ] {
        assert!(
            !contains(&output, secret),
            "`{secret}` is in the app's output"
        );
    }
}
