//! The shell over IPC, on Tauri's mock runtime: each test builds the real app (commands,
//! state, error mapping) around a temporary data directory handed in through managed
//! state, and calls commands the way the webview does.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hearth_desktop::{configure, Hearth};
use hearth_engine::{AppPaths, KdfParams};
use hearth_keychain::MemoryStore;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};

/// A key that must never come back through IPC.
const CANARY_KEY: &str = "sk-canary-DO-NOT-LEAK-4242abcd9876";
const PASSPHRASE: &str = "correct horse battery staple";

/// The app on the mock runtime, and every reply it gave.
struct Harness {
    _dir: tempfile::TempDir,
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    replies: Arc<Mutex<Vec<String>>>,
}

/// An app over an empty data directory, on a machine without a keychain.
fn harness() -> Harness {
    harness_with(MemoryStore::unavailable())
}

/// An app over an empty data directory, with keys kept in `store`.
fn harness_with(store: MemoryStore) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    // OWASP's floor, so that creating and unlocking take milliseconds.
    let kdf = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };
    let hearth = Hearth::new(AppPaths::new(dir.path().join("data")), Arc::new(store)).with_kdf(kdf);
    let app = configure(mock_builder())
        .manage(hearth)
        .build(mock_context(noop_assets()))
        .expect("the app builds");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the window opens");
    Harness {
        _dir: dir,
        _app: app,
        window,
        replies: Arc::default(),
    }
}

fn call(
    window: &WebviewWindow<MockRuntime>,
    replies: &Mutex<Vec<String>>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("url"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: tauri::test::INVOKE_KEY.to_string(),
    };
    let reply = get_ipc_response(window, request)
        .map(|body| body.deserialize::<Value>().expect("a JSON reply"));
    let text = match &reply {
        Ok(v) | Err(v) => v.to_string(),
    };
    replies.lock().expect("replies").push(text);
    reply
}

impl Harness {
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        call(&self.window, &self.replies, cmd, args)
    }

    fn ok(&self, cmd: &str, args: Value) -> Value {
        self.call(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"))
    }

    /// The error kind of a call that must fail.
    fn kind(&self, cmd: &str, args: Value) -> String {
        match self.call(cmd, args) {
            Ok(v) => panic!("{cmd} should fail but returned {v}"),
            Err(e) => e["kind"].as_str().expect("an error kind").to_owned(),
        }
    }

    /// The vault's data directory.
    fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    fn create_passphrase_vault(&self) {
        self.ok(
            "vault_create",
            json!({"protection": "passphrase", "passphrase": PASSPHRASE}),
        );
    }

    /// A custom provider at `base_url` that new chats use.
    fn add_provider(&self, base_url: &str) {
        let change = json!({"change": {"id": "localbox", "kind": "openai-compatible",
            "baseUrl": base_url, "defaultModel": "tiny", "makeDefault": true}});
        self.ok("set_provider", change);
    }
}

#[test]
fn a_passphrase_vault_is_created_locked_and_unlocked_over_ipc() {
    let app = harness();
    let status = app.ok("vault_status", json!({}));
    assert_eq!(status["state"], "notCreated");
    assert_eq!(
        app.kind("list_conversations", json!({"limit": 50, "offset": 0})),
        "Locked"
    );

    app.create_passphrase_vault();
    let status = app.ok("vault_status", json!({}));
    assert_eq!(
        (&status["state"], &status["mode"], &status["conversations"]),
        (&json!("unlocked"), &json!("passphrase"), &json!(0))
    );
    let page = app.ok("list_conversations", json!({"limit": 50, "offset": 0}));
    assert_eq!(page, json!([]));

    app.ok("vault_lock", json!({}));
    assert_eq!(app.ok("vault_status", json!({}))["state"], "locked");
    assert_eq!(
        app.kind("vault_unlock", json!({"passphrase": "not the passphrase"})),
        "WrongPassphrase"
    );
    assert_eq!(app.kind("vault_unlock", json!({})), "PassphraseRequired");
    app.ok("vault_unlock", json!({"passphrase": PASSPHRASE}));
    assert_eq!(app.ok("vault_status", json!({}))["state"], "unlocked");
}

#[test]
fn provider_replies_carry_a_key_hint_and_never_the_key() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider("http://127.0.0.1:9/v1");
    let hint = app.ok(
        "set_api_key",
        json!({"providerId": "localbox", "key": CANARY_KEY}),
    );
    assert_eq!(hint, "…9876");
    let providers = app.ok("list_providers", json!({}));
    let mine = providers
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["id"] == "localbox")
        .expect("the custom provider is listed");
    assert_eq!(mine["keyHint"], "…9876");
    assert_eq!(mine["isDefault"], true);
    assert_eq!(mine["local"], true);
    assert_eq!(
        app.kind(
            "set_api_key",
            json!({"providerId": "nope", "key": CANARY_KEY})
        ),
        "NotFound"
    );
    // Through a lock and unlock too.
    app.ok("vault_lock", json!({}));
    app.ok("vault_unlock", json!({"passphrase": PASSPHRASE}));
    app.ok("list_providers", json!({}));
    assert_eq!(
        app.ok("remove_api_key", json!({"providerId": "localbox"})),
        true
    );

    let replies = app.replies.lock().expect("replies");
    assert!(replies.len() > 5);
    for reply in replies.iter() {
        assert!(!reply.contains("DO-NOT-LEAK"), "the key leaked: {reply}");
    }
}

#[test]
fn keychain_mode_without_a_keychain_says_so() {
    let app = harness();
    assert_eq!(
        app.kind("vault_create", json!({"protection": "keychain"})),
        "KeychainUnavailable"
    );
    assert_eq!(
        app.kind("vault_create", json!({"protection": "both"})),
        "Invalid"
    );
    assert_eq!(
        app.kind(
            "vault_create",
            json!({"protection": "passphrase", "passphrase": "short"})
        ),
        "Invalid"
    );
    assert_eq!(app.ok("vault_status", json!({}))["state"], "notCreated");
}

#[test]
fn open_external_refuses_everything_but_web_and_mail_links() {
    let app = harness();
    for url in [
        "javascript:alert(document.cookie)",
        "file:///etc/passwd",
        "hearth-evil://run",
        "ms-msdt:/id PCWDiagnostic",
        "https://user@example.com/",
        // Recipients that smuggle header fields past the subject/body filter.
        "mailto:a@b.c%3Fattach=/etc/passwd",
        "mailto:a@b.c%0D%0ABcc:%20x@evil.example",
    ] {
        assert_eq!(
            app.kind("open_external", json!({"url": url})),
            "Invalid",
            "{url}"
        );
    }
}

/// A loopback "provider" that accepts connections and answers according to `respond`.
fn provider(respond: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || respond(stream));
        }
    });
    format!("http://127.0.0.1:{port}/v1")
}

/// Reads the request, then says nothing for a minute.
fn silent(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = stream.read(&mut buf);
    std::thread::sleep(Duration::from_secs(60));
}

/// Reads the request, then streams "Hello there" in two pieces.
fn hello(mut stream: TcpStream) {
    let mut buf = [0u8; 65536];
    let _ = stream.read(&mut buf);
    let body = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n"
    );
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn only_conversation(app: &Harness) -> Value {
    let page = app.ok("list_conversations", json!({"limit": 10, "offset": 0}));
    assert_eq!(page.as_array().map(Vec::len), Some(1), "{page}");
    let id = page[0]["id"].clone();
    app.ok("open_conversation", json!({"id": id}))
}

#[test]
fn a_reply_streams_to_completion_and_is_saved() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(hello));
    let started = app.ok(
        "send_message",
        json!({"requestId": "r1", "text": "Hi", "onEvent": "__CHANNEL__:7"}),
    );
    assert_eq!(started["requestId"], "r1");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let view = only_conversation(&app);
        let reply = &view["messages"][1];
        if reply["status"] == "complete" {
            assert_eq!(reply["content"], "Hello there");
            assert_eq!(reply["id"], started["messageId"]);
            assert_eq!(view["messages"][0]["content"], "Hi");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the reply never completed: {view}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn cancelling_before_the_provider_answers_keeps_the_reply_as_cancelled() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(silent));
    let (window, replies) = (app.window.clone(), app.replies.clone());
    let sender = std::thread::spawn(move || {
        call(
            &window,
            &replies,
            "send_message",
            json!({"requestId": "r1", "text": "Hi", "onEvent": "__CHANNEL__:7"}),
        )
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.ok("cancel_reply", json!({"id": "r1"})) != true {
        assert!(Instant::now() < deadline, "the request never registered");
        std::thread::sleep(Duration::from_millis(20));
    }
    let result = sender.join().expect("the sender thread");
    assert_eq!(result.expect_err("cancelled")["kind"], "Cancelled");
    let view = only_conversation(&app);
    let messages = view["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2, "{view}");
    assert_eq!(messages[0]["status"], "complete");
    assert_eq!(messages[1]["status"], "cancelled");
    assert_eq!(app.ok("cancel_reply", json!({"id": "r1"})), false);
}

/// Waits until the conversation's last visible message is a finished reply.
fn settled(app: &Harness) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let view = only_conversation(app);
        let last = view["messages"]
            .as_array()
            .and_then(|m| m.last())
            .cloned()
            .unwrap_or(Value::Null);
        if last["role"] == "assistant" && last["status"] != "streaming" {
            return view;
        }
        assert!(Instant::now() < deadline, "no reply settled: {view}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_branch_switcher_sees_alternatives_and_selects_them() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(hello));
    app.ok(
        "send_message",
        json!({"requestId": "r1", "text": "Hi", "onEvent": "__CHANNEL__:7"}),
    );
    let first = settled(&app);
    let first_reply = first["messages"][1]["id"].clone();
    assert_eq!(first["messages"][1]["siblings"], json!([first_reply]));

    app.ok(
        "regenerate_reply",
        json!({"requestId": "r2", "messageId": first_reply, "onEvent": "__CHANNEL__:8"}),
    );
    let second = settled(&app);
    let second_reply = second["messages"][1]["id"].clone();
    assert_ne!(second_reply, first_reply);
    assert_eq!(
        second["messages"][1]["siblings"],
        json!([first_reply, second_reply])
    );
    // The user message has no alternatives.
    assert_eq!(
        second["messages"][0]["siblings"].as_array().map(Vec::len),
        Some(1)
    );

    let back = app.ok("select_branch", json!({"messageId": first_reply}));
    assert_eq!(back["messages"][1]["id"], first_reply);
    assert_eq!(only_conversation(&app)["messages"][1]["id"], first_reply);
    assert_eq!(
        app.kind("select_branch", json!({"messageId": "no-such-message"})),
        "NotFound"
    );
}

#[test]
fn archived_conversations_are_listed_apart_counted_found_and_restored() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(hello));
    app.ok(
        "send_message",
        json!({"requestId": "r1", "text": "Hi about kumquats", "onEvent": "__CHANNEL__:7"}),
    );
    let id = settled(&app)["conversation"]["id"].clone();

    app.ok("archive_conversation", json!({"id": id, "archived": true}));
    let page = app.ok("list_conversations", json!({"limit": 10, "offset": 0}));
    assert_eq!(page, json!([]), "archived ones leave the default list");
    let archived = app.ok(
        "list_archived_conversations",
        json!({"limit": 10, "offset": 0}),
    );
    assert_eq!(archived[0]["id"], id);
    assert_eq!(archived[0]["archived"], true);
    let hits = app.ok("search_conversations", json!({"query": "kumquats"}));
    assert_eq!(hits[0]["conversationId"], id);
    assert_eq!(hits[0]["archived"], true);
    let inventory = app.ok("data_inventory", json!({}));
    assert_eq!(inventory["conversations"], 1);
    assert_eq!(inventory["archivedConversations"], 1);

    app.ok("archive_conversation", json!({"id": id, "archived": false}));
    let page = app.ok("list_conversations", json!({"limit": 10, "offset": 0}));
    assert_eq!(page[0]["id"], id);
    assert_eq!(
        app.ok(
            "list_archived_conversations",
            json!({"limit": 10, "offset": 0})
        ),
        json!([])
    );
    assert_eq!(
        app.kind(
            "archive_conversation",
            json!({"id": "nope", "archived": true})
        ),
        "NotFound"
    );
}

#[test]
fn system_prompt_and_model_are_set_per_conversation() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(hello));
    app.ok(
        "send_message",
        json!({"requestId": "r1", "text": "Hi", "onEvent": "__CHANNEL__:7"}),
    );
    let id = settled(&app)["conversation"]["id"].clone();

    app.ok(
        "set_system_prompt",
        json!({"id": id, "prompt": "  Be brief.  "}),
    );
    assert_eq!(
        only_conversation(&app)["conversation"]["systemPrompt"],
        "Be brief."
    );
    app.ok("set_system_prompt", json!({"id": id, "prompt": null}));
    assert_eq!(
        only_conversation(&app)["conversation"]["systemPrompt"],
        Value::Null
    );

    app.ok(
        "set_conversation_model",
        json!({"id": id, "providerId": "localbox", "model": "other-model"}),
    );
    assert_eq!(
        only_conversation(&app)["conversation"]["model"],
        "other-model"
    );
    assert_eq!(
        app.kind(
            "set_conversation_model",
            json!({"id": id, "providerId": "nobody", "model": "m"})
        ),
        "NotFound"
    );
    assert_eq!(
        app.kind(
            "set_conversation_model",
            json!({"id": id, "providerId": "localbox", "model": "  "})
        ),
        "Invalid"
    );
}

#[test]
fn settings_round_trip_and_bad_values_are_refused() {
    let app = harness();
    assert_eq!(app.kind("get_settings", json!({})), "Locked");
    app.create_passphrase_vault();
    assert_eq!(
        app.ok("get_settings", json!({})),
        json!({"autoLockMinutes": null, "retentionDays": null})
    );
    app.ok(
        "set_settings",
        json!({"settings": {"autoLockMinutes": 15, "retentionDays": 90}}),
    );
    assert_eq!(
        app.ok("get_settings", json!({})),
        json!({"autoLockMinutes": 15, "retentionDays": 90})
    );
    for bad in [
        json!({"autoLockMinutes": 0}),
        json!({"autoLockMinutes": 100_000}),
        json!({"retentionDays": 0}),
        json!({"retentionDays": 100_000}),
    ] {
        assert_eq!(
            app.kind("set_settings", json!({"settings": bad})),
            "Invalid"
        );
    }
    // Kept across a lock, inside the vault.
    app.ok("vault_lock", json!({}));
    app.ok("vault_unlock", json!({"passphrase": PASSPHRASE}));
    assert_eq!(
        app.ok("get_settings", json!({})),
        json!({"autoLockMinutes": 15, "retentionDays": 90})
    );
}

#[test]
fn a_temporary_chat_streams_and_saves_nothing() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(hello));
    let started = app.ok(
        "send_temporary",
        json!({"requestId": "t1", "turns": [{"fromUser": true, "text": "Hi"}],
               "onEvent": "__CHANNEL__:9"}),
    );
    assert_eq!(
        started,
        json!({"requestId": "t1", "providerId": "localbox", "model": "tiny"})
    );
    // Let the reply finish (the mock channel swallows the events), then look: nothing.
    std::thread::sleep(Duration::from_millis(500));
    let page = app.ok("list_conversations", json!({"limit": 10, "offset": 0}));
    assert_eq!(page, json!([]));
    assert_eq!(app.ok("vault_status", json!({}))["messages"], 0);
    assert_eq!(
        app.kind(
            "send_temporary",
            json!({"requestId": "t2", "turns": [], "onEvent": "__CHANNEL__:10"})
        ),
        "Invalid"
    );
}

#[test]
fn the_inventory_names_files_and_keys_and_erase_needs_the_word() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(hello));
    app.ok(
        "set_api_key",
        json!({"providerId": "localbox", "key": "sk-inventory-DO-NOT-LEAK"}),
    );
    let inventory = app.ok("data_inventory", json!({}));
    assert_eq!(inventory["mode"], "passphrase");
    assert_eq!(inventory["keyLocation"], "vault");
    assert_eq!(inventory["providersWithKeys"], json!(["localbox"]));
    let files: Vec<&str> = inventory["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("hearth.db")), "{files:?}");
    assert!(!inventory.to_string().contains("DO-NOT-LEAK"));

    let data_dir =
        std::path::PathBuf::from(inventory["dataDir"].as_str().expect("the data directory"));
    assert!(data_dir.join("hearth.db").exists());
    for wrong in ["", "yes", "ERASE EVERYTHING"] {
        assert_eq!(
            app.kind("erase_everything", json!({"confirmation": wrong})),
            "Invalid"
        );
    }
    assert!(
        data_dir.join("hearth.db").exists(),
        "a refused erase erased"
    );
    // A vault in its own folder keeps nothing back.
    assert_eq!(
        app.ok("erase_everything", json!({"confirmation": "erase"})),
        json!({"keptKeychainEntries": [], "keptBecause": null})
    );
    assert!(!data_dir.join("hearth.db").exists());
    assert!(!data_dir.join("vault.json").exists());
    assert_eq!(app.ok("vault_status", json!({}))["state"], "notCreated");
}

/// Exports to JSON and to an archive through the (test-answered) save dialog, then
/// imports both into a fresh vault through the (test-answered) open dialog.
/// The folder every dialog of this test binary answers from (`HEARTH_TEST_DIALOGS`, set
/// once for the process, since tests run on threads of one process). Each test uses its
/// own files in it.
fn test_dialogs() -> &'static tempfile::TempDir {
    static DIALOGS: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIALOGS.get_or_init(|| {
        let dialogs = tempfile::tempdir().expect("dialog folder");
        for sub in ["save", "open", "attach"] {
            std::fs::create_dir_all(dialogs.path().join(sub)).expect("dialog subfolder");
        }
        std::env::set_var("HEARTH_TEST_DIALOGS", dialogs.path());
        dialogs
    })
}

#[test]
fn export_and_import_go_through_dialogs_the_webview_never_names_a_path() {
    let dialogs = test_dialogs();

    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(hello));
    app.ok(
        "send_message",
        json!({"requestId": "r1", "text": "Hi", "onEvent": "__CHANNEL__:7"}),
    );
    settled(&app);
    let done = app.ok(
        "export_data",
        json!({"format": "json", "onProgress": "__CHANNEL__:11"}),
    );
    assert_eq!(done["conversations"], 1);
    assert_eq!(done["messages"], 2);
    let json_path = std::path::PathBuf::from(done["path"].as_str().expect("a path"));
    assert!(json_path.starts_with(dialogs.path().join("save")), "{done}");
    assert!(
        app.kind(
            "export_data",
            json!({"format": "json", "onProgress": "__CHANNEL__:12"})
        ) == "Invalid",
        "an export overwrote a file"
    );
    assert_eq!(
        app.kind(
            "export_data",
            json!({"format": "archive", "archivePassphrase": "short", "onProgress": "__CHANNEL__:13"})
        ),
        "Invalid"
    );
    let sealed = app.ok(
        "export_data",
        json!({"format": "archive", "archivePassphrase": "archive passphrase",
               "onProgress": "__CHANNEL__:14"}),
    );
    let archive_path = std::path::PathBuf::from(sealed["path"].as_str().expect("a path"));
    let bytes = std::fs::read(&archive_path).expect("the archive");
    assert!(
        !bytes.windows(5).any(|w| w == b"Hello"),
        "the archive is not sealed"
    );

    // A second app with a fresh vault imports the JSON, then the archive (which adds
    // nothing: the same conversation).
    let other = harness();
    other.create_passphrase_vault();
    std::fs::copy(&json_path, dialogs.path().join("open/export.json")).expect("copy");
    let picked = other.ok("pick_import_file", json!({}));
    assert_eq!(picked["format"], "hearth");
    assert_eq!(picked["name"], "export.json");
    let token = picked["token"].as_str().expect("a token").to_owned();
    assert!(!token.contains('/'), "the token is not a path");
    let imported = other.ok(
        "import_picked",
        json!({"token": token, "onProgress": "__CHANNEL__:15"}),
    );
    assert_eq!(
        imported,
        json!({"added": 1, "skipped": 0, "messages": 2, "notConverted": []})
    );
    assert_eq!(
        only_conversation(&other)["messages"][1]["content"],
        "Hello there"
    );

    std::fs::remove_file(dialogs.path().join("open/export.json")).expect("tidy");
    std::fs::copy(&archive_path, dialogs.path().join("open/export.hearth")).expect("copy");
    let picked = other.ok("pick_import_file", json!({}));
    assert_eq!(picked["format"], "hearthArchive");
    let token = picked["token"].clone();
    assert_eq!(
        other.kind(
            "import_picked",
            json!({"token": token, "archivePassphrase": "not the passphrase",
                   "onProgress": "__CHANNEL__:16"})
        ),
        "WrongPassphrase"
    );
    // The same token still works after a mistyped passphrase.
    let again = other.ok(
        "import_picked",
        json!({"token": token, "archivePassphrase": "archive passphrase",
               "onProgress": "__CHANNEL__:17"}),
    );
    assert_eq!(
        again,
        json!({"added": 0, "skipped": 1, "messages": 0, "notConverted": []})
    );
    assert_eq!(
        other.kind(
            "import_picked",
            json!({"token": "made-up", "onProgress": "__CHANNEL__:18"})
        ),
        "Invalid"
    );
}

/// A loopback listener that answers every request with an empty model list and passes
/// each request's bytes (headers included) to the returned receiver.
fn recording_provider() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let n = stream.read(&mut buf).unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
            let body = "{\"object\":\"list\",\"data\":[]}";
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    (format!("http://127.0.0.1:{port}/v1"), rx)
}

#[test]
fn the_webview_cannot_send_a_stored_key_to_a_new_host() {
    let app = harness();
    app.create_passphrase_vault();
    let (home, home_requests) = recording_provider();
    app.add_provider(&home);
    app.ok(
        "set_api_key",
        json!({"providerId": "localbox", "key": CANARY_KEY}),
    );
    // The key goes where it was entered.
    app.ok("list_models", json!({"providerId": "localbox"}));
    let first = home_requests
        .recv_timeout(Duration::from_secs(10))
        .expect("the provider was asked");
    assert!(
        first.contains(CANARY_KEY),
        "the configured host gets the key"
    );

    // A compromised page points the provider elsewhere and asks for models.
    let (elsewhere, elsewhere_requests) = recording_provider();
    let moved = app.ok(
        "set_provider",
        json!({"change": {"id": "localbox", "baseUrl": elsewhere}}),
    );
    assert_eq!(
        moved["keyHint"],
        Value::Null,
        "the key was removed: {moved}"
    );
    app.ok("list_models", json!({"providerId": "localbox"}));
    let second = elsewhere_requests
        .recv_timeout(Duration::from_secs(10))
        .expect("the new host was asked");
    assert!(
        !second.contains(CANARY_KEY) && !second.to_ascii_lowercase().contains("authorization"),
        "the key travelled to the new host: {second}"
    );
    // Pointing it back does not restore the key either.
    app.ok(
        "set_provider",
        json!({"change": {"id": "localbox", "baseUrl": home}}),
    );
    app.ok("list_models", json!({"providerId": "localbox"}));
    let third = home_requests
        .recv_timeout(Duration::from_secs(10))
        .expect("the provider was asked again");
    assert!(!third.contains(CANARY_KEY), "{third}");
}

/// A loopback provider that streams "Hello there" and passes each request's whole body
/// to the returned receiver.
fn body_recording_provider() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut seen = Vec::new();
            let mut buf = [0u8; 65536];
            let body_start = loop {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                seen.extend_from_slice(&buf[..n]);
                if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(at + 4);
                }
            };
            let Some(body_start) = body_start else {
                continue;
            };
            let head = String::from_utf8_lossy(&seen[..body_start]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while seen.len() < body_start + length {
                let n = stream.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            let _ = tx.send(String::from_utf8_lossy(&seen[body_start..]).into_owned());
            let body = concat!(
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello there\"},\"finish_reason\":\"stop\"}]}\n\n",
                "data: [DONE]\n\n"
            );
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    (format!("http://127.0.0.1:{port}/v1"), rx)
}

impl Harness {
    /// Calls `cmd` with a raw body and headers, as the UI sends pasted bytes.
    fn call_raw(&self, cmd: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Result<Value, Value> {
        let mut map = tauri::http::HeaderMap::new();
        for (name, value) in headers {
            map.insert(
                tauri::http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                tauri::http::HeaderValue::from_str(value).expect("header value"),
            );
        }
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Raw(body),
            headers: map,
            invoke_key: tauri::test::INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request)
            .map(|body| body.deserialize::<Value>().expect("a JSON reply"))
    }

    /// The raw bytes a command answers with.
    fn bytes(&self, cmd: &str, args: Value) -> Result<Vec<u8>, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().expect("url"),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: tauri::test::INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request).map(|body| match body {
            tauri::ipc::InvokeResponseBody::Raw(bytes) => bytes,
            tauri::ipc::InvokeResponseBody::Json(json) => json.into_bytes(),
        })
    }
}

fn icon_png() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../icons/32x32.png");
    std::fs::read(path).expect("the app icon")
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn attached_files_are_sent_saved_shown_as_images_and_saved_back_through_the_dialog() {
    let dialogs = test_dialogs();
    let attach = dialogs.path().join("attach");
    let app = harness();
    app.create_passphrase_vault();
    let (base_url, bodies) = body_recording_provider();
    app.add_provider(&base_url);

    // A pasted image: raw bytes, the name in a header.
    let png = icon_png();
    let pasted = app
        .call_raw(
            "paste_attachment",
            png.clone(),
            &[("x-hearth-file-name", "pasted%20image.png")],
        )
        .expect("a PNG is attachable");
    assert_eq!(pasted["name"], "pasted image.png");
    assert_eq!(pasted["mediaType"], "image/png");
    assert_eq!(pasted["kind"], "image");
    assert_eq!(pasted["size"], png.len());
    let refused = app
        .call_raw("paste_attachment", vec![0u8, 1, 2, 3], &[])
        .expect_err("not a file Hearth attaches");
    assert_eq!(refused["kind"], "Invalid");
    assert!(
        app.call("paste_attachment", json!({"bytes": [1, 2, 3]}))
            .is_err(),
        "bytes as JSON are refused"
    );

    // Two picked files (a hostile name among them), and one refused kind.
    let hostile = "<img src=x onerror=alert(1)>.html";
    std::fs::write(attach.join("notes.txt"), "plain notes\n").expect("write");
    std::fs::write(attach.join(hostile), "<script>alert(1)</script>").expect("write");
    std::fs::write(attach.join("zz.bin"), [0u8, 159, 146, 150]).expect("write");
    let picked = app.ok("pick_attachments", json!({}));
    let files = picked["files"].as_array().expect("files").clone();
    assert_eq!(files.len(), 2, "{picked}");
    assert_eq!(files[1]["name"], "notes.txt");
    assert_eq!(files[0]["name"], hostile);
    assert_eq!(files[0]["mediaType"], "text/plain", "a .html file is text");
    assert!(!picked.to_string().contains(&attach.display().to_string()));
    let refused = picked["refused"].as_array().expect("refused");
    assert_eq!(refused.len(), 1, "{picked}");
    assert!(refused[0].as_str().is_some_and(|r| r.contains("zz.bin")));

    let pasted_token = pasted["token"].clone();
    let notes_token = files[1]["token"].clone();
    app.ok(
        "discard_attachments",
        json!({"tokens": [files[0]["token"].clone()]}),
    );
    let started = app.ok(
        "send_message",
        json!({"requestId": "a1", "text": "Look", "attachments": [pasted_token, notes_token],
               "onEvent": "__CHANNEL__:21"}),
    );
    // Picked files are read again when sent, so they may go only now.
    for name in ["notes.txt", hostile, "zz.bin"] {
        std::fs::remove_file(attach.join(name)).expect("tidy");
    }
    let body = bodies
        .recv_timeout(Duration::from_secs(20))
        .expect("the provider was asked");
    assert!(
        body.contains(&format!("data:image/png;base64,{}", base64(&png))),
        "the image was not sent"
    );
    assert!(body.contains("plain notes"), "the text file was not sent");
    let view = settled(&app);
    let question = &view["messages"][0];
    assert_eq!(question["id"], started["userMessageId"]);
    let stored = question["attachments"].as_array().expect("attachments");
    assert_eq!(stored.len(), 2, "{question}");
    assert_eq!(stored[0]["name"], "pasted image.png");
    assert_eq!(stored[0]["kind"], "image");
    assert_eq!(stored[1]["kind"], "text");
    // A sent file's token is spent.
    assert_eq!(
        app.kind(
            "send_message",
            json!({"requestId": "a2", "text": "Again", "attachments": [pasted_token],
                   "onEvent": "__CHANNEL__:22"})
        ),
        "Invalid"
    );

    // Images come back as bytes; other kinds never do.
    let image_id = stored[0]["id"].clone();
    let notes_id = stored[1]["id"].clone();
    assert_eq!(
        app.bytes("attachment_image", json!({"id": image_id}))
            .expect("image bytes"),
        png
    );
    assert!(app
        .bytes("attachment_image", json!({"id": notes_id}))
        .is_err());

    // Saving goes through the save dialog, to a new file only.
    let saved = app.ok("save_attachment", json!({"id": notes_id}));
    let saved = std::path::PathBuf::from(saved.as_str().expect("a path"));
    assert_eq!(saved, dialogs.path().join("save/notes.txt"));
    assert_eq!(
        std::fs::read(&saved).expect("saved"),
        b"plain notes\n".to_vec()
    );
    assert_eq!(
        app.kind("save_attachment", json!({"id": notes_id})),
        "Invalid"
    );
    std::fs::remove_file(&saved).expect("tidy");

    let inventory = app.ok("data_inventory", json!({}));
    assert_eq!(inventory["attachments"], 2);
    assert_eq!(
        inventory["attachmentBytes"],
        png.len() + "plain notes\n".len()
    );

    // A file that vanished between picking and sending: a clear error, nothing saved.
    std::fs::write(attach.join("gone.txt"), "soon gone").expect("write");
    let picked = app.ok("pick_attachments", json!({}));
    std::fs::remove_file(attach.join("gone.txt")).expect("remove");
    let token = picked["files"][0]["token"].clone();
    let conversation_id = view["conversation"]["id"].clone();
    let error = app
        .call(
            "send_message",
            json!({"requestId": "a3", "conversationId": conversation_id, "text": "Here",
                   "attachments": [token], "onEvent": "__CHANNEL__:23"}),
        )
        .expect_err("the file is gone");
    assert_eq!(error["kind"], "Invalid");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("gone.txt")),
        "{error}"
    );
    assert_eq!(
        only_conversation(&app)["messages"].as_array().map(Vec::len),
        Some(2),
        "nothing was saved"
    );
}

#[test]
fn files_dropped_on_the_window_are_held_by_token_only_while_unlocked() {
    use tauri::Manager;
    let app = harness();
    let handle = app.window.app_handle().clone();
    let pending = || {
        handle
            .state::<hearth_desktop::attachments::PendingFiles>()
            .len()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let dropped = dir.path().join("dropped.txt");
    std::fs::write(&dropped, "dropped text").expect("write");

    app.ok("watch_file_drops", json!({"onDrop": "__CHANNEL__:31"}));
    // Locked (no vault yet): a drop is ignored.
    hearth_desktop::on_file_drop(&handle, vec![dropped.clone()]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(pending(), 0);

    app.create_passphrase_vault();
    hearth_desktop::on_file_drop(&handle, vec![dropped.clone(), dir.path().to_owned()]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while pending() == 0 {
        assert!(Instant::now() < deadline, "the dropped file was not held");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(pending(), 1, "the folder was refused");
    app.ok("vault_lock", json!({}));
    assert_eq!(pending(), 0, "locking forgets waiting files");
}

/// Reads the request, streams "Hel" and then says nothing for a minute, so the reply is
/// alive (holding the vault) when the test locks.
fn trickle(mut stream: TcpStream) {
    let mut buf = [0u8; 65536];
    let _ = stream.read(&mut buf);
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
    let event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n";
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(event.as_bytes());
    let _ = stream.flush();
    std::thread::sleep(Duration::from_secs(60));
}

/// The files under `dir` this process has open, from its `/proc/self/fd` links (other
/// tests in this binary use other directories).
#[cfg(target_os = "linux")]
fn open_files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let dir = std::fs::canonicalize(dir).expect("the data directory exists");
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter(|target| target.starts_with(&dir))
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn lock_stops_a_streaming_reply_and_closes_every_file_of_the_vault() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(trickle));
    let started = app.ok(
        "send_message",
        json!({"requestId": "r1", "text": "Hi", "onEvent": "__CHANNEL__:7"}),
    );
    let open = open_files_under(&app.data_dir());
    let names: Vec<_> = open.iter().filter_map(|p| p.file_name()).collect();
    assert!(
        names.iter().any(|n| *n == "hearth.db") && names.iter().any(|n| *n == "hearth.db-wal"),
        "the unlocked vault has its database open: {open:?}"
    );

    app.ok("vault_lock", json!({}));
    let open = open_files_under(&app.data_dir());
    assert!(open.is_empty(), "files still open after lock: {open:?}");
    for (cmd, args) in [
        ("list_conversations", json!({"limit": 50, "offset": 0})),
        ("get_settings", json!({})),
        ("get_protection", json!({})),
        ("data_inventory", json!({})),
    ] {
        assert_eq!(app.kind(cmd, args), "Locked", "{cmd} after lock");
    }

    // The reply was stopped by the lock, and saved as cancelled before the file closed.
    app.ok("vault_unlock", json!({"passphrase": PASSPHRASE}));
    let view = only_conversation(&app);
    let reply = &view["messages"][1];
    assert_eq!(reply["id"], started["messageId"]);
    assert_eq!(reply["status"], "cancelled", "{view}");
    app.ok("vault_lock", json!({}));
    assert!(open_files_under(&app.data_dir()).is_empty());
}

#[test]
fn the_passphrase_is_changed_only_with_the_current_one_and_then_the_old_one_is_refused() {
    let app = harness();
    app.create_passphrase_vault();
    assert_eq!(
        app.ok("get_protection", json!({})),
        json!({"keychain": false, "passphrase": true, "keychainAvailable": false})
    );
    let new = "a much newer passphrase";
    let change = |current: &str, passphrase: &str| {
        json!({"current": current, "keychain": false,
               "passphrase": {"action": "set", "passphrase": passphrase}})
    };
    assert_eq!(
        app.kind("set_protection", change("not the passphrase", new)),
        "WrongPassphrase"
    );
    let short = app
        .call("set_protection", change(PASSPHRASE, "short"))
        .expect_err("a short passphrase is refused");
    assert_eq!(short["kind"], "Invalid");
    assert!(
        short["message"].as_str().is_some_and(|m| m.contains('8')),
        "{short}"
    );
    let no_current = json!({"keychain": false, "passphrase": {"action": "set", "passphrase": new}});
    assert_eq!(app.kind("set_protection", no_current), "PassphraseRequired");

    let now = app.ok("set_protection", change(PASSPHRASE, new));
    assert_eq!(
        (&now["keychain"], &now["passphrase"]),
        (&json!(false), &json!(true))
    );
    app.ok("vault_lock", json!({}));
    assert_eq!(
        app.kind("vault_unlock", json!({"passphrase": PASSPHRASE})),
        "WrongPassphrase"
    );
    app.ok("vault_unlock", json!({"passphrase": new}));
    assert_eq!(app.ok("vault_status", json!({}))["state"], "unlocked");
}

#[test]
fn the_last_way_in_cannot_be_removed_and_a_missing_keychain_cannot_be_turned_on() {
    let app = harness();
    app.create_passphrase_vault();
    let remove =
        json!({"current": PASSPHRASE, "keychain": false, "passphrase": {"action": "remove"}});
    let refused = app
        .call("set_protection", remove)
        .expect_err("removing the only way in is refused");
    assert_eq!(refused["kind"], "Invalid");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("no way to unlock")),
        "{refused}"
    );
    let keychain_on =
        json!({"current": PASSPHRASE, "keychain": true, "passphrase": {"action": "keep"}});
    assert_eq!(
        app.kind("set_protection", keychain_on),
        "KeychainUnavailable"
    );
    // Nothing changed: the passphrase still opens it, and nothing else does.
    assert_eq!(
        app.ok("get_protection", json!({})),
        json!({"keychain": false, "passphrase": true, "keychainAvailable": false})
    );
    app.ok("vault_lock", json!({}));
    assert_eq!(app.kind("vault_unlock", json!({})), "PassphraseRequired");
    app.ok("vault_unlock", json!({"passphrase": PASSPHRASE}));
}

#[test]
fn the_keychain_and_the_passphrase_are_turned_on_and_off() {
    let app = harness_with(MemoryStore::new());
    app.ok("vault_create", json!({"protection": "keychain"}));
    let protection = |keychain: bool, passphrase: bool| json!({"keychain": keychain, "passphrase": passphrase, "keychainAvailable": true});
    assert_eq!(app.ok("get_protection", json!({})), protection(true, false));
    let add = json!({"keychain": true, "passphrase": {"action": "set", "passphrase": PASSPHRASE}});
    assert_eq!(app.ok("set_protection", add), protection(true, true));
    let keychain_off =
        json!({"current": PASSPHRASE, "keychain": false, "passphrase": {"action": "keep"}});
    assert_eq!(
        app.ok("set_protection", keychain_off),
        protection(false, true)
    );
    app.ok("vault_lock", json!({}));
    assert_eq!(app.kind("vault_unlock", json!({})), "PassphraseRequired");
    app.ok("vault_unlock", json!({"passphrase": PASSPHRASE}));
    let back = json!({"current": PASSPHRASE, "keychain": true, "passphrase": {"action": "remove"}});
    assert_eq!(app.ok("set_protection", back), protection(true, false));
    app.ok("vault_lock", json!({}));
    app.ok("vault_unlock", json!({}));
}

#[test]
fn the_data_key_is_rotated_and_the_vault_opens_with_the_same_conversations() {
    let app = harness();
    app.create_passphrase_vault();
    app.add_provider(&provider(hello));
    app.ok(
        "send_message",
        json!({"requestId": "r1", "text": "Hi", "onEvent": "__CHANNEL__:7"}),
    );
    settled(&app);
    assert_eq!(
        app.kind(
            "rotate_data_key",
            json!({"passphrase": "not the passphrase", "onProgress": "__CHANNEL__:8"})
        ),
        "WrongPassphrase"
    );
    app.ok(
        "rotate_data_key",
        json!({"passphrase": PASSPHRASE, "onProgress": "__CHANNEL__:8"}),
    );
    assert_eq!(
        only_conversation(&app)["messages"][1]["content"],
        "Hello there"
    );
    app.ok("vault_lock", json!({}));
    app.ok("vault_unlock", json!({"passphrase": PASSPHRASE}));
    assert_eq!(
        only_conversation(&app)["messages"][1]["content"],
        "Hello there"
    );
}

/// Waits until conversation `id`'s last visible message is a finished reply.
fn settled_in(app: &Harness, id: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let view = app.ok("open_conversation", json!({"id": id}));
        let last = view["messages"]
            .as_array()
            .and_then(|m| m.last())
            .cloned()
            .unwrap_or(Value::Null);
        if last["role"] == "assistant" && last["status"] != "streaming" {
            return view;
        }
        assert!(Instant::now() < deadline, "no reply settled: {view}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ids(page: &Value) -> Vec<String> {
    page.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().expect("an id").to_owned())
        .collect()
}

#[test]
fn a_project_gives_its_chats_instructions_settings_and_files_and_lists_them_apart() {
    let dialogs = test_dialogs();
    let app = harness();
    app.create_passphrase_vault();
    let (base_url, bodies) = body_recording_provider();
    app.add_provider(&base_url);

    let project = app.ok(
        "create_project",
        json!({"name": "Garden", "instructions": "Answer as a gardener."}),
    );
    let project_id = project["id"].clone();
    assert_eq!(
        project["settings"],
        json!({"temperature": null, "maxTokens": null, "reasoning": null})
    );
    assert_eq!(
        app.kind("create_project", json!({"name": "garden"})),
        "Invalid",
        "names are unique ignoring case"
    );
    let changed = app.ok(
        "change_project",
        json!({"id": project_id, "change": {"settings": {"temperature": 0.5, "reasoning": "high"}}}),
    );
    assert_eq!(changed["settings"]["temperature"], 0.5);
    assert_eq!(changed["settings"]["reasoning"], "high");
    assert_eq!(changed["instructions"], "Answer as a gardener.");
    assert_eq!(
        app.kind(
            "change_project",
            json!({"id": project_id, "change": {"settings": {"temperature": 7}}})
        ),
        "Invalid"
    );

    // A file picked in the (test-answered) dialog goes with every request.
    let attach = dialogs.path().join("attach");
    std::fs::write(attach.join("soil.txt"), "loam and clay\n").expect("write");
    std::fs::write(attach.join("blob.bin"), [0u8, 159, 146, 150]).expect("write");
    let added = app.ok("pick_project_files", json!({"projectId": project_id}));
    for name in ["soil.txt", "blob.bin"] {
        std::fs::remove_file(attach.join(name)).expect("tidy");
    }
    assert_eq!(added["files"].as_array().map(Vec::len), Some(1), "{added}");
    assert_eq!(added["files"][0]["name"], "soil.txt");
    assert!(added["refused"][0]
        .as_str()
        .is_some_and(|r| r.contains("blob.bin")));
    assert!(!added.to_string().contains(&attach.display().to_string()));
    assert_eq!(
        app.ok("list_project_files", json!({"projectId": project_id})),
        added["files"]
    );

    // A chat started in the project: instructions as the system prompt, its settings.
    app.ok(
        "send_message",
        json!({"requestId": "p1", "text": "A question: what grows here?", "projectId": project_id,
               "settings": {"maxTokens": 300}, "onEvent": "__CHANNEL__:41"}),
    );
    let body: Value = serde_json::from_str(
        &bodies
            .recv_timeout(Duration::from_secs(20))
            .expect("the provider was asked"),
    )
    .expect("a JSON body");
    assert_eq!(body["messages"][0]["role"], "system", "{body}");
    assert_eq!(body["messages"][0]["content"], "Answer as a gardener.");
    assert!(body.to_string().contains("loam and clay"), "{body}");
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["max_tokens"], 300);

    let projects = app.ok("list_projects", json!({}));
    assert_eq!(projects[0]["project"]["name"], "Garden");
    assert_eq!(projects[0]["conversations"], 1);
    assert_eq!(projects[0]["files"], 1);
    let in_project = app.ok(
        "list_project_conversations",
        json!({"projectId": project_id, "limit": 10, "offset": 0}),
    );
    let garden_chat = in_project[0]["id"].clone();
    assert_eq!(in_project[0]["projectId"], project_id);
    let view = settled_in(&app, &garden_chat);
    assert_eq!(view["conversation"]["projectId"], project_id);
    assert_eq!(
        view["settings"],
        json!({"temperature": null, "maxTokens": 300, "reasoning": null})
    );

    // Another chat, in no project, then moved in and out.
    app.ok(
        "send_message",
        json!({"requestId": "p2", "text": "Unrelated question", "onEvent": "__CHANNEL__:42"}),
    );
    bodies.recv_timeout(Duration::from_secs(20)).expect("asked");
    let unfiled = app.ok(
        "list_unfiled_conversations",
        json!({"limit": 10, "offset": 0}),
    );
    assert_eq!(unfiled.as_array().map(Vec::len), Some(1), "{unfiled}");
    let other = unfiled[0]["id"].clone();
    settled_in(&app, &other);
    app.ok(
        "move_conversation",
        json!({"id": other, "projectId": project_id}),
    );
    assert_eq!(
        app.ok(
            "list_unfiled_conversations",
            json!({"limit": 10, "offset": 0})
        ),
        json!([])
    );
    assert_eq!(
        ids(&app.ok(
            "list_project_conversations",
            json!({"projectId": project_id, "limit": 10, "offset": 0})
        ))
        .len(),
        2
    );
    assert_eq!(
        app.kind(
            "move_conversation",
            json!({"id": other, "projectId": "nope"})
        ),
        "NotFound"
    );
    app.ok("move_conversation", json!({"id": other}));
    assert_eq!(
        ids(&app.ok(
            "list_unfiled_conversations",
            json!({"limit": 10, "offset": 0})
        )),
        vec![other.as_str().expect("id").to_owned()]
    );

    // Per-conversation settings.
    app.ok(
        "set_conversation_settings",
        json!({"id": other, "settings": {"temperature": 1.2, "maxTokens": null, "reasoning": "low"}}),
    );
    assert_eq!(
        app.ok("get_conversation_settings", json!({"id": other})),
        json!({"temperature": 1.2, "maxTokens": null, "reasoning": "low"})
    );
    assert_eq!(
        app.kind(
            "set_conversation_settings",
            json!({"id": other, "settings": {"maxTokens": 0}})
        ),
        "Invalid"
    );

    // Filtered search: by project, by author, by date.
    let search = |filter: Value| {
        app.ok(
            "search_conversations",
            json!({"query": "question", "filter": filter}),
        )
    };
    let everything = search(json!({}));
    for id in [&garden_chat, &other] {
        assert!(
            everything
                .as_array()
                .is_some_and(|h| h.iter().any(|h| &h["conversationId"] == id)),
            "{everything}"
        );
    }
    let hits = search(json!({"projectId": project_id}));
    assert!(
        hits.as_array()
            .is_some_and(|h| !h.is_empty() && h.iter().all(|h| h["conversationId"] == garden_chat)),
        "{hits}"
    );
    assert_eq!(search(json!({"role": "assistant"})), json!([]));
    assert_eq!(search(json!({"until": 1})), json!([]));
    assert_eq!(
        app.kind(
            "search_conversations",
            json!({"query": "question", "filter": {"since": 10, "until": 5}})
        ),
        "Invalid"
    );

    // Saved prompts.
    let prompt = app.ok(
        "create_prompt",
        json!({"name": "Review", "text": "Review this carefully:"}),
    );
    app.ok(
        "update_prompt",
        json!({"id": prompt["id"], "name": "Code review", "text": "Review this code:"}),
    );
    let prompts = app.ok("list_prompts", json!({}));
    assert_eq!(prompts[0]["name"], "Code review");
    assert_eq!(prompts[0]["text"], "Review this code:");
    app.ok("delete_prompt", json!({"id": prompt["id"]}));
    assert_eq!(app.ok("list_prompts", json!({})), json!([]));
    assert_eq!(
        app.kind("delete_prompt", json!({"id": prompt["id"]})),
        "NotFound"
    );

    // Files go; deleting the project moves its chats out or deletes them.
    app.ok(
        "remove_project_file",
        json!({"id": added["files"][0]["id"]}),
    );
    assert_eq!(
        app.ok("list_project_files", json!({"projectId": project_id})),
        json!([])
    );
    app.ok(
        "move_conversation",
        json!({"id": other, "projectId": project_id}),
    );
    assert_eq!(
        app.ok(
            "delete_project",
            json!({"id": project_id, "deleteConversations": false})
        ),
        0
    );
    assert_eq!(
        ids(&app.ok(
            "list_unfiled_conversations",
            json!({"limit": 10, "offset": 0})
        ))
        .len(),
        2
    );
    let again = app.ok("create_project", json!({"name": "Again"}));
    app.ok(
        "move_conversation",
        json!({"id": other, "projectId": again["id"]}),
    );
    assert_eq!(
        app.ok(
            "delete_project",
            json!({"id": again["id"], "deleteConversations": true})
        ),
        1
    );
    assert_eq!(
        app.kind("open_conversation", json!({"id": other})),
        "NotFound"
    );
    assert_eq!(app.ok("list_projects", json!({})), json!([]));
}
