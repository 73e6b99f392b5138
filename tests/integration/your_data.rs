//! Your data: deleting for real, retention, temporary chats, and the inventory of what is
//! stored where. "For real" is checked on the decrypted pages of the file (free pages
//! included), not through SQL: deleted text must not linger anywhere in it.

use std::sync::Arc;

use hearth_engine::{AppPaths, Engine, KeyProtection, Passphrase, Settings};
use hearth_tests::fake_provider::*;
use hearth_tests::*;
use serde_json::Value;

const PASS: &str = "your data test passphrase";

/// An OpenAI-style stream whose answer is `text`.
fn answer(text: &str) -> Reply {
    let delta = serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}}]});
    let end = serde_json::json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    Reply::sse(vec![
        format!("data: {delta}\n\n").into_bytes(),
        format!("data: {end}\n\ndata: [DONE]\n\n").into_bytes(),
    ])
}

fn hearth(t: &TestDir) -> std::process::Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd).env("HEARTH_PASSPHRASE", PASS);
    cmd
}

/// A passphrase vault whose default provider is `fake`.
fn setup(fake: &FakeProvider) -> TestDir {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    use_mock_provider(|| hearth(&t), "openai-compatible", &fake.base_url("/v1"));
    t
}

fn key_hex(t: &TestDir) -> String {
    run_ok(hearth(t).args(["vault-key", "--reveal"]))
        .stdout
        .trim()
        .to_owned()
}

fn list(t: &TestDir) -> Vec<Value> {
    let r = run_ok(hearth(t).args(["list", "--json"]));
    serde_json::from_str::<Value>(&r.stdout)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Everything the data directory holds, decrypted where it is the database.
fn assert_nowhere(t: &TestDir, needle: &str) {
    assert_absent(&t.data, needle);
    let pages = decrypted_pages(&t.data.join("hearth.db"), &key_hex(t));
    assert!(
        !contains(&pages, needle),
        "`{needle}` is still in the database's pages"
    );
}

#[test]
fn a_deleted_conversation_leaves_no_trace_in_the_file() {
    let gone_q = canary("deleted-question");
    let gone_a = canary("deleted-answer");
    let kept_q = canary("kept-question");
    let fake = FakeProvider::sequence(vec![answer(&gone_a), answer("kept answer")]);
    let t = setup(&fake);
    run_ok(hearth(&t).args(["chat", &gone_q]));
    run_ok(hearth(&t).args(["chat", &kept_q]));
    let pages = decrypted_pages(&t.data.join("hearth.db"), &key_hex(&t));
    // The scan can see text: both conversations are there before the delete.
    assert!(contains(&pages, &gone_q) && contains(&pages, &kept_q));

    let gone = list(&t)
        .into_iter()
        .find(|c| {
            c["title"]
                .as_str()
                .is_some_and(|s| s.contains("deleted-question"))
        })
        .unwrap();
    run_ok(hearth(&t).args(["delete", gone["id"].as_str().unwrap()]));
    assert_nowhere(&t, &gone_q);
    assert_nowhere(&t, &gone_a);
    let pages = decrypted_pages(&t.data.join("hearth.db"), &key_hex(&t));
    assert!(contains(&pages, &kept_q), "the other conversation went too");
    assert_eq!(list(&t).len(), 1);
}

#[test]
fn a_temporary_chat_is_never_written() {
    let question = canary("temporary-question");
    let reply = canary("temporary-answer");
    let saved = canary("saved-question");
    let fake = FakeProvider::sequence(vec![answer("saved answer"), answer(&reply)]);
    let t = setup(&fake);
    // A saved chat first: the page scan does find saved text.
    run_ok(hearth(&t).args(["chat", &saved]));
    let pages = decrypted_pages(&t.data.join("hearth.db"), &key_hex(&t));
    assert!(contains(&pages, &saved), "the scan cannot see saved text");
    let r = run_ok(hearth(&t).args(["chat", "--temporary", &question]));
    assert_eq!(r.stdout, reply, "{r:?}");
    assert!(r.stderr.contains("nothing was saved"), "{r:?}");
    // The question really went to the provider...
    assert!(fake.requests()[1].body_text().contains(&question));
    // ...and nothing of the exchange is anywhere in the data directory.
    assert_eq!(list(&t).len(), 1);
    assert_nowhere(&t, &question);
    assert_nowhere(&t, &reply);
    // A temporary chat cannot continue a saved conversation.
    let r = run(hearth(&t).args(["chat", "--temporary", "--conversation", "x", "hi"]));
    assert!(!r.ok() && r.stderr.contains("--conversation"), "{r:?}");
    assert_eq!(fake.requests().len(), 2);
}

fn engine(dir: &tempfile::TempDir) -> Engine {
    Engine::create_with_kdf(
        &AppPaths::new(dir.path().join("data")),
        Arc::new(hearth_keychain::MemoryStore::unavailable()),
        KeyProtection::Passphrase(Passphrase::new(PASS)),
        hearth_engine::KdfParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        },
    )
    .unwrap()
}

#[test]
fn retention_deletes_untouched_unpinned_conversations_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&dir);
    let day = 24 * 60 * 60 * 1000;
    let now = hearth_vault::now_ms();
    let old = canary("old-title");
    // Conversations as the vault makes them; their times are set through an import of
    // the same trees with older timestamps, which is how old conversations arrive.
    let mut trees = Vec::new();
    for (title, age_days, pinned) in [
        (old.as_str(), 40, false),
        ("old but pinned", 40, true),
        ("recent", 3, false),
    ] {
        let conversation = hearth_vault::Conversation {
            id: format!("conv-{age_days}-{pinned}"),
            title: title.to_owned(),
            created_at: now - age_days * day,
            updated_at: now - age_days * day,
            provider_id: None,
            model: None,
            system_prompt: None,
            params_json: None,
            pinned,
            archived: false,
            source: None,
            source_id: None,
            head_message_id: None,
            project_id: None,
        };
        trees.push(Ok::<_, hearth_engine::EngineError>(
            hearth_engine::ConversationTree {
                conversation,
                messages: Vec::new(),
                attachments: Vec::new(),
                tool_calls: Vec::new(),
            },
        ));
    }
    engine.import_trees(trees, |_| {}).unwrap();
    assert_eq!(engine.list_conversations(false, 10, 0).unwrap().len(), 3);

    // Off by default: nothing goes, however old.
    assert_eq!(engine.settings().unwrap(), Settings::default());
    assert_eq!(engine.apply_retention_at(now + 365 * day).unwrap(), 0);
    assert!(!engine.retention_due(now).unwrap());

    // Thirty days: the old unpinned one goes as soon as the setting is saved.
    engine
        .set_settings(Settings {
            retention_days: Some(30),
            ..Settings::default()
        })
        .unwrap();
    let titles: Vec<String> = engine
        .list_conversations(false, 10, 0)
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(!titles.contains(&old), "{titles:?}");
    assert!(!engine.retention_due(now).unwrap(), "it just ran");
    assert!(
        engine.retention_due(now + day + 60_000).unwrap(),
        "a day later it is due"
    );

    // Later, the recent one ages out too; the pinned one stays.
    assert_eq!(engine.apply_retention_at(now + 28 * day).unwrap(), 1);
    let left = engine.list_conversations(false, 10, 0).unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].pinned);

    for bad in [0, hearth_engine::MAX_RETENTION_DAYS + 1] {
        assert!(engine
            .set_settings(Settings {
                retention_days: Some(bad),
                ..Settings::default()
            })
            .is_err());
    }
}

#[test]
fn retention_is_set_from_the_cli_and_applied_when_the_vault_opens() {
    let fake = FakeProvider::always(answer("hi"));
    let t = setup(&fake);
    run_ok(hearth(&t).args(["chat", "keep me"]));
    let r = run_ok(hearth(&t).args(["retention"]));
    assert!(r.stderr.contains("off"), "{r:?}");
    let r = run_ok(hearth(&t).args(["retention", "7"]));
    assert!(r.stderr.contains("7 days"), "{r:?}");
    // A fresh conversation is untouched by a 7-day retention.
    assert_eq!(list(&t).len(), 1);
    let status = run_ok(hearth(&t).args(["status", "--json"]));
    let status: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["retention_days"], 7);
    assert_clear_failure(
        &run(hearth(&t).args(["retention", "soon"])),
        "number of days",
    );
    run_ok(hearth(&t).args(["retention", "off"]));
    let status: Value =
        serde_json::from_str(&run_ok(hearth(&t).args(["status", "--json"])).stdout).unwrap();
    assert_eq!(status["retention_days"], Value::Null);
}

#[test]
fn status_lists_what_is_stored_where() {
    require_secret_service();
    let t = TestDir::new();
    let mut init = t.hearth();
    run_ok(init.args(["init"]));
    let key = canary("inventory-key");
    let r = run_with_input(t.hearth().args(["key", "set", "openai"]), key.as_bytes());
    assert!(r.ok(), "{r:?}");
    let status = run_ok(t.hearth().args(["status", "--json"]));
    let json: Value = serde_json::from_str(&status.stdout).unwrap();
    let id = json["vault_id"].as_str().unwrap().to_owned();
    let entries: Vec<String> = json["keychain_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        entries,
        vec![
            format!("provider-key:{id}:openai"),
            format!("vault-key:{id}")
        ]
    );
    // What Hearth reports is what the Secret Service holds, seen from outside.
    let outside = secret_tool_accounts();
    for e in &entries {
        assert!(outside.contains(e), "{e} not in {outside:?}");
    }
    assert_eq!(json["providers_with_keys"], serde_json::json!(["openai"]));
    assert_eq!(json["provider_keys"], "keychain");
    let files: Vec<&str> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("hearth.db")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("vault.json")), "{files:?}");
    let text = run_ok(t.hearth().args(["status"]));
    assert!(text.stdout.contains(&format!("vault-key:{id}")), "{text:?}");
    assert!(!text.stdout.contains(&key) && !status.stdout.contains(&key));
    run_ok(t.hearth().args(["erase", "--yes"]));
}

#[test]
fn an_attachments_bytes_are_never_plain_on_disk_and_go_with_their_conversation() {
    use hearth_vault::{NewAttachment, NewConversation, NewMessage, Role, Vault, VaultPaths};
    let hidden = canary("inside-the-image");
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    // A real image's bytes, repeated to span several storage chunks, the canary inside.
    let mut image = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots/chat.png"),
    )
    .unwrap()
    .repeat(12);
    let at = image.len() / 2 + 7;
    image.splice(at..at, hidden.bytes());
    let paths = VaultPaths::new(&t.data);
    let mut vault = Vault::open(
        &paths,
        &hearth_keychain::MemoryStore::unavailable(),
        Some(&hearth_vault::Passphrase::new(PASS)),
    )
    .unwrap();
    let c = vault
        .create_conversation(NewConversation::default())
        .unwrap();
    let m = vault
        .append_message(NewMessage::complete(&c.id, None, Role::User, "see this"))
        .unwrap();
    let added = vault
        .add_attachments(
            &m.id,
            &[NewAttachment {
                name: "chat.png",
                media_type: "image/png",
                bytes: &image,
            }],
        )
        .unwrap();
    assert!(added[0].size as usize > 2 * hearth_vault::CHUNK_BYTES);
    // Open, with the WAL live, then closed.
    assert!(paths.wal().exists());
    assert_absent(&t.data, &hidden);
    vault.lock().unwrap();
    assert_absent(&t.data, &hidden);
    // The scan does see the bytes while the vault holds them...
    let pages = decrypted_pages(&t.data.join("hearth.db"), &key_hex(&t));
    assert!(
        contains(&pages, &hidden),
        "the page scan cannot see the image"
    );
    // ...and nothing of them once the conversation is deleted.
    run_ok(hearth(&t).args(["delete", &c.id]));
    assert_nowhere(&t, &hidden);
}
