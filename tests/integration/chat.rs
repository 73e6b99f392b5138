//! Chatting end to end: the real `hearth` binary and the engine against the loopback fake
//! provider. The user's message is durable before the request leaves; replies are saved
//! while they stream; stopping, failing, or killing the process keeps what arrived.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hearth_engine::{
    AppPaths, Engine, KeyProtection, Passphrase, ProviderUpdate, ReplyEvent, SendRequest,
};
use hearth_tests::fake_provider::*;
use hearth_tests::*;

const PASS: &str = "chat test passphrase";

/// A passphrase vault whose default provider `mock` points at `fake`, with a canary key.
fn setup(fake: &FakeProvider, kind: &str, seg: &str) -> (TestDir, String) {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    use_mock_provider(|| hearth(&t), kind, &fake.base_url(seg));
    let key = canary("apikey");
    let r = run_with_input(hearth(&t).args(["key", "set", "mock"]), key.as_bytes());
    assert!(r.ok(), "{r:?}");
    (t, key)
}

fn hearth(t: &TestDir) -> Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd).env("HEARTH_PASSPHRASE", PASS);
    cmd
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{r:?}"))
}

/// The only conversation's id and its visible messages.
fn only_conversation(t: &TestDir) -> (String, Vec<serde_json::Value>) {
    let list = json(&run_ok(hearth(t).args(["list", "--json"])));
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let id = items[0]["id"].as_str().unwrap().to_owned();
    let shown = json(&run_ok(hearth(t).args(["show", &id, "--format", "json"])));
    (id, shown["messages"].as_array().unwrap().clone())
}

fn assert_key_nowhere(t: &TestDir, key: &str, outputs: &[&Run]) {
    assert_absent(&t.data, key);
    for r in outputs {
        assert!(
            !r.stdout.contains(key) && !r.stderr.contains(key),
            "key leaked: {r:?}"
        );
    }
}

#[test]
fn chat_streams_the_reply_to_stdout_and_saves_both_messages() {
    for (kind, seg, file) in [
        ("openai-compatible", "/v1", "deepseek-reasoning.sse"),
        ("anthropic", "/v1", "anthropic-thinking.sse"),
        ("gemini", "/v1beta", "gemini-basic.sse"),
    ] {
        let fixture = stream_fixture(file);
        let fake = FakeProvider::always(Reply::sse(byte_by_byte(&fixture.bytes())));
        let (t, key) = setup(&fake, kind, seg);
        let r = run_ok(hearth(&t).args(["chat", "What is 17 × 3?"]));
        assert_eq!(
            r.stdout, fixture.text,
            "{kind}: stdout carries exactly the answer"
        );
        assert!(r.stderr.contains("conversation "), "{r:?}");
        let (_, messages) = only_conversation(&t);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            (
                messages[0]["role"].as_str(),
                messages[0]["content"].as_str()
            ),
            (Some("user"), Some("What is 17 × 3?"))
        );
        let reply = &messages[1];
        assert_eq!(reply["status"], "complete", "{reply}");
        assert_eq!(reply["content"], fixture.text.as_str());
        assert_eq!(reply["reasoning"].as_str(), fixture.reasoning.as_deref());
        assert_eq!(reply["tokens_in"].as_u64(), fixture.tokens_in);
        assert_eq!(reply["tokens_out"].as_u64(), fixture.tokens_out);
        assert_eq!(reply["model"], "test-model");
        let requests = fake.requests();
        assert_eq!(requests.len(), 1);
        let in_headers = requests[0]
            .headers
            .iter()
            .filter(|(_, v)| v.contains(&key))
            .count();
        assert_eq!(in_headers, 1, "{kind}: the key goes in exactly one header");
        assert_key_nowhere(&t, &key, &[&r]);
    }
}

#[test]
fn a_second_turn_continues_the_conversation() {
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    run_ok(hearth(&t).args(["chat", "first"]));
    let (id, _) = only_conversation(&t);
    let r = run_with_input(
        hearth(&t).args(["chat", "--conversation", &id, "-"]),
        b"second\n",
    );
    assert!(r.ok(), "{r:?}");
    let body = fake.requests().last().unwrap().json();
    let turns: Vec<(String, String)> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let answer = stream_fixture("openai-basic.sse").text;
    assert_eq!(
        turns,
        [
            ("user".into(), "first".into()),
            ("assistant".into(), answer),
            ("user".into(), "second".into())
        ]
    );
}

/// Each failure: a non-zero exit with one clear line, the user's message kept, and the
/// partial reply kept as `error`.
#[test]
fn each_failure_is_reported_and_keeps_the_message_and_the_partial_reply() {
    let basic = stream_bytes("openai-basic.sse");
    let half = basic.len() / 2;
    let cases: Vec<(&str, Reply, &str, bool)> = vec![
        (
            "401",
            Reply::json(
                401,
                r#"{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}"#,
            ),
            "rejected the API key",
            false,
        ),
        (
            "403",
            Reply::json(403, r#"{"error":{"message":"not allowed"}}"#),
            "rejected the API key",
            false,
        ),
        (
            "429",
            Reply::json(
                429,
                r#"{"error":{"message":"Rate limit reached","code":"rate_limit_exceeded"}}"#,
            )
            .header("retry-after", "20"),
            "try again in 20 s",
            false,
        ),
        (
            "quota",
            Reply::json(
                429,
                r#"{"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}"#,
            ),
            "quota or credit",
            false,
        ),
        (
            "404",
            Reply::json(
                404,
                r#"{"error":{"message":"The model `test-model` does not exist","code":"model_not_found"}}"#,
            ),
            "does not know this model",
            false,
        ),
        (
            "500",
            Reply::json(500, r#"{"error":{"message":"The server had an error"}}"#),
            "server error 500",
            false,
        ),
        (
            "503",
            Reply::json(
                503,
                r#"{"error":{"message":"The engine is currently overloaded"}}"#,
            ),
            "server error 503",
            false,
        ),
        (
            "mid-stream",
            Reply::sse_fixture("openai-midstream-error.sse"),
            "server error",
            true,
        ),
        (
            "reset",
            Reply::sse(vec![basic[..half].to_vec()]).end(End::Reset),
            "network error",
            true,
        ),
        (
            "stall",
            Reply::sse(vec![basic[..half].to_vec()]).end(End::Stall(Duration::from_secs(30))),
            "sent nothing for 1 s",
            true,
        ),
        (
            "eof",
            Reply::sse_fixture("openai-truncated.sse"),
            "ended before the reply was complete",
            true,
        ),
    ];
    for (name, reply, needle, partial) in cases {
        let fake = FakeProvider::always(reply);
        let (t, key) = setup(&fake, "openai-compatible", "/v1");
        let r = run(hearth(&t).args(["chat", "--idle-timeout", "1", "hello there"]));
        assert_clear_failure(&r, needle);
        assert!(r.stderr.contains("saved in conversation"), "{name}: {r:?}");
        let (_, messages) = only_conversation(&t);
        assert_eq!(
            messages[0]["content"], "hello there",
            "{name}: the user's message is kept"
        );
        assert_eq!(messages.len(), 2, "{name}");
        assert_eq!(messages[1]["status"], "error", "{name}");
        let stored: serde_json::Value =
            serde_json::from_str(messages[1]["error"].as_str().unwrap()).unwrap();
        assert!(
            stored["kind"].as_str().is_some_and(|k| !k.is_empty()),
            "{name}: {stored}"
        );
        if partial {
            let content = messages[1]["content"].as_str().unwrap();
            assert!(!content.is_empty(), "{name}: the partial reply is kept");
            assert!(
                r.stdout.starts_with(content) || content.starts_with(r.stdout.trim_end()),
                "{name}: saved = shown"
            );
        }
        assert_key_nowhere(&t, &key, &[&r]);
    }
}

fn slow_reply(file: &str, delay_ms: u64) -> Reply {
    Reply::sse(stream_bytes(file).chunks(24).map(<[u8]>::to_vec).collect())
        .delay(Duration::from_millis(delay_ms))
}

/// Starts `hearth chat` and waits until some of the reply has been printed.
fn start_chat_process(t: &TestDir) -> (std::process::Child, Vec<u8>) {
    let mut child = hearth(t)
        .args(["chat", "tell me a story"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.is_empty() && Instant::now() < deadline {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(!seen.is_empty(), "the reply never started");
    child.stdout = Some(stdout);
    (child, seen)
}

#[test]
fn ctrl_c_stops_the_reply_keeps_it_as_cancelled_and_closes_the_connection() {
    let fake = FakeProvider::always(slow_reply("anthropic-basic.sse", 150));
    let (t, _) = setup(&fake, "anthropic", "/v1");
    let (mut child, _) = start_chat_process(&t);
    std::thread::sleep(Duration::from_millis(400));
    signal(&child, libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "interrupted exit status");
    let mut printed = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    assert!(
        fake.wait_for_closed_by_client(1, Duration::from_secs(5)),
        "the request's connection was closed"
    );
    let (_, messages) = only_conversation(&t);
    let reply = &messages[1];
    assert_eq!(reply["status"], "cancelled");
    let saved = reply["content"].as_str().unwrap();
    assert!(!saved.is_empty());
    let full = stream_fixture("anthropic-basic.sse").text;
    assert!(
        full.starts_with(saved) && saved.len() < full.len(),
        "partial: {saved:?}"
    );
}

#[test]
fn a_killed_chat_leaves_an_interrupted_reply_with_its_text() {
    let fake = FakeProvider::always(slow_reply("openai-basic.sse", 150));
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    let (mut child, _) = start_chat_process(&t);
    // Longer than the save interval, so some text has been saved.
    std::thread::sleep(Duration::from_millis(700));
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, messages) = only_conversation(&t);
    let reply = &messages[1];
    assert_eq!(reply["status"], "interrupted", "{reply}");
    let saved = reply["content"].as_str().unwrap();
    assert!(
        !saved.is_empty(),
        "text saved while streaming survives the kill"
    );
    assert!(stream_fixture("openai-basic.sse").text.starts_with(saved));
}

#[test]
fn piped_output_is_exact_and_a_terminal_gets_escape_sequences_neutralised() {
    let hostile = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"safe \\u001b]0;pwned\\u0007 \\u001b[2J text\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    let fake = FakeProvider::always(Reply::sse(vec![hostile.as_bytes().to_vec()]));
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    let r = run_ok(hearth(&t).args(["chat", "hi"]));
    assert_eq!(
        r.stdout, "safe \x1b]0;pwned\x07 \x1b[2J text",
        "a pipe gets the text unchanged"
    );
    // Under a pseudo-terminal (script), the escape sequences must not reach the terminal.
    let bin = hearth_bin();
    let out = Command::new("script")
        .args(["-qec", &format!("{} chat hi", bin.display()), "/dev/null"])
        .env("HEARTH_DATA_DIR", &t.data)
        .env("HEARTH_PASSPHRASE", PASS)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/hearth-test-bus",
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("safe") && shown.contains("text"),
        "{shown:?}"
    );
    assert!(
        !shown.contains("\x1b]0;pwned") && !shown.contains("\x1b[2J") && !shown.contains('\x07'),
        "{shown:?}"
    );
}

fn signal(child: &std::process::Child, sig: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // `kill(2)` on a child we spawned and still own: no memory is touched.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0);
}

fn engine_with(fake: &FakeProvider) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::create_with_kdf(
        &AppPaths::new(dir.path().join("data")),
        Arc::new(hearth_keychain::MemoryStore::unavailable()),
        KeyProtection::Passphrase(Passphrase::new(PASS)),
        hearth_engine::KdfParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        },
    )
    .unwrap();
    engine
        .set_provider(ProviderUpdate {
            id: "mock".into(),
            kind: Some("openai-compatible".into()),
            base_url: Some(fake.base_url("/v1")),
            default_model: Some("test-model".into()),
            make_default: true,
        })
        .unwrap();
    engine
        .set_api_key("mock", "sk-test-0123456789abcdef")
        .unwrap();
    (dir, engine)
}

async fn drain(mut reply: hearth_engine::Reply) -> String {
    let mut text = String::new();
    while let Some(event) = reply.next().await {
        if let ReplyEvent::Text(t) = event.unwrap() {
            text.push_str(&t);
        }
    }
    text
}

fn sent_turns(fake: &FakeProvider) -> Vec<String> {
    let body = fake.requests().last().unwrap().json();
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}: {}",
                m["role"].as_str().unwrap(),
                m["content"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn history_sends_the_visible_path_system_prompt_first_and_edits_send_their_branch_only() {
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    let (_dir, engine) = engine_with(&fake);
    let answer = stream_fixture("openai-basic.sse").text;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let reply = engine
            .send(SendRequest {
                text: "q1".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let conversation = reply.conversation_id().to_owned();
        let q1 = reply.user_message_id().to_owned();
        assert_eq!(drain(reply).await, answer);
        engine
            .set_system_prompt(&conversation, Some("Be brief."))
            .unwrap();
        let reply = engine
            .send(SendRequest {
                conversation_id: Some(conversation.clone()),
                text: "q2".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let first_reply_to_q2 = reply.message_id().to_owned();
        drain(reply).await;
        assert_eq!(
            sent_turns(&fake),
            [
                "system: Be brief.",
                "user: q1",
                &format!("assistant: {answer}"),
                "user: q2"
            ]
        );

        // Regenerate: the same history, and a sibling reply becomes visible.
        drain(engine.regenerate(&first_reply_to_q2).await.unwrap()).await;
        assert_eq!(
            sent_turns(&fake),
            [
                "system: Be brief.",
                "user: q1",
                &format!("assistant: {answer}"),
                "user: q2"
            ]
        );

        // Edit q1: only the edited branch is sent.
        drain(engine.edit(&q1, "q1 edited").await.unwrap()).await;
        assert_eq!(sent_turns(&fake), ["system: Be brief.", "user: q1 edited"]);
        let visible: Vec<String> = engine
            .visible_messages(&conversation)
            .unwrap()
            .into_iter()
            .map(|m| m.content)
            .collect();
        assert_eq!(visible, ["q1 edited", answer.as_str()]);
        // Nothing was lost: 2 user q1 versions, q2, 2 replies to q2, replies to each q1.
        assert_eq!(engine.all_messages(&conversation).unwrap().len(), 7);
    });
}

#[test]
fn several_conversations_stream_at_once() {
    let fake = FakeProvider::always(slow_reply("openai-basic.sse", 40));
    let (_dir, engine) = engine_with(&fake);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = stream_fixture("openai-basic.sse").text;
    rt.block_on(async {
        let a = engine
            .send(SendRequest {
                text: "one".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let b = engine
            .send(SendRequest {
                text: "two".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_ne!(a.conversation_id(), b.conversation_id());
        let (ids_a, ids_b) = (
            a.conversation_id().to_owned(),
            b.conversation_id().to_owned(),
        );
        let (ta, tb) = tokio::join!(drain(a), drain(b));
        assert_eq!(
            (ta.as_str(), tb.as_str()),
            (answer.as_str(), answer.as_str())
        );
        for id in [ids_a, ids_b] {
            let path = engine.visible_messages(&id).unwrap();
            assert_eq!(path[1].status, hearth_engine::MessageStatus::Complete);
            assert_eq!(path[1].content, answer);
        }
    });
}

#[test]
fn chat_without_configuration_says_what_to_set_and_sends_nothing() {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    assert_clear_failure(&run(hearth(&t).args(["chat", "hi"])), "no provider chosen");
    run_ok(hearth(&t).args(["provider", "set", "openai", "--default"]));
    assert_clear_failure(&run(hearth(&t).args(["chat", "hi"])), "no model chosen");
    run_ok(hearth(&t).args(["provider", "set", "openai", "--default-model", "gpt-x"]));
    assert_clear_failure(
        &run(hearth(&t).args(["chat", "hi"])),
        "hearth key set openai",
    );
    let list = json(&run_ok(hearth(&t).args(["list", "--json"])));
    assert!(
        list.as_array().unwrap().is_empty(),
        "nothing half-done was written"
    );
    assert_clear_failure(
        &run_with_input(hearth(&t).args(["chat"]), b"   \n"),
        "empty",
    );
}

#[test]
fn opening_the_vault_elsewhere_does_not_interrupt_a_live_reply() {
    let fake = FakeProvider::always(slow_reply("openai-basic.sse", 60));
    let (dir, engine) = engine_with(&fake);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut reply = engine
            .send(SendRequest {
                text: "go".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        reply.next().await.unwrap().unwrap();
        // Another process (here: another engine, another connection) opens the vault now.
        let other = Engine::open(
            &AppPaths::new(dir.path().join("data")),
            Arc::new(hearth_keychain::MemoryStore::unavailable()),
            Some(&Passphrase::new(PASS)),
        )
        .unwrap();
        let live = other.visible_messages(reply.conversation_id()).unwrap();
        assert_eq!(
            live[1].status,
            hearth_engine::MessageStatus::Streaming,
            "a live reply is not 'interrupted'"
        );
        let conversation = reply.conversation_id().to_owned();
        drain(reply).await;
        let done = other.visible_messages(&conversation).unwrap();
        assert_eq!(done[1].status, hearth_engine::MessageStatus::Complete);
    });
}

#[test]
fn a_provider_echoing_the_key_in_its_error_never_gets_it_shown_or_stored() {
    let fake = FakeProvider::start(|req: &RecordedRequest| {
        let auth = req.header("authorization").unwrap_or("").to_owned();
        Reply::json(
            401,
            &format!(
                r#"{{"error":{{"message":"Incorrect API key provided: {auth}","code":"invalid_api_key"}}}}"#
            ),
        )
    });
    let (t, key) = setup(&fake, "openai-compatible", "/v1");
    let r = run(hearth(&t).args(["chat", "hi"]));
    assert_clear_failure(&r, "rejected the API key");
    let (id, messages) = only_conversation(&t);
    let stored = messages[1]["error"].as_str().unwrap();
    assert!(
        !stored.contains(&key) && stored.contains("[key]"),
        "{stored}"
    );
    let shown = run_ok(hearth(&t).args(["show", &id]));
    assert_key_nowhere(&t, &key, &[&r, &shown]);
}

#[test]
fn only_sending_and_listing_models_touch_the_network() {
    let fake = FakeProvider::always(Reply::json(
        200,
        r#"{"object":"list","data":[{"id":"m-1"},{"id":"m-2"}]}"#,
    ));
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    for args in [
        vec!["status"],
        vec!["list"],
        vec!["provider", "list"],
        vec!["key", "list"],
        vec!["search", "anything"],
        vec!["check"],
    ] {
        run_ok(hearth(&t).args(&args));
    }
    assert!(
        fake.requests().is_empty(),
        "no command but chat and models may reach the provider: {:?}",
        fake.requests()
    );
    let r = run_ok(hearth(&t).args(["models", "mock", "--json"]));
    let ids: Vec<String> = json(&r)
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["m-1", "m-2"]);
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(fake.requests()[0].path, "/v1/models");
}

#[test]
fn a_keychain_vault_sends_the_key_from_the_secret_service() {
    require_secret_service();
    let fake = FakeProvider::always(Reply::sse_fixture("gemini-basic.sse"));
    let t = TestDir::new();
    run_ok(t.hearth().arg("init"));
    run_ok(t.hearth().args([
        "provider",
        "set",
        "mock",
        "--kind",
        "gemini",
        "--base-url",
        &fake.base_url("/v1beta"),
        "--default-model",
        "gemini-test",
        "--default",
    ]));
    let key = canary("apikey");
    let r = run_with_input(t.hearth().args(["key", "set", "mock"]), key.as_bytes());
    assert!(r.ok() && r.stderr.contains("OS keychain"), "{r:?}");
    let r = run_ok(t.hearth().args(["chat", "hi"]));
    assert_eq!(r.stdout, stream_fixture("gemini-basic.sse").text);
    assert_eq!(
        fake.requests()[0].header("x-goog-api-key"),
        Some(key.as_str())
    );
    assert_key_nowhere(&t, &key, &[&r]);
    run_ok(t.hearth().args(["erase", "--yes"]));
}

#[test]
fn ctrl_c_before_the_reply_begins_saves_it_as_cancelled() {
    let fake = FakeProvider::start(|_req: &RecordedRequest| {
        // A provider slow to accept the request.
        std::thread::sleep(Duration::from_secs(3));
        Reply::sse_fixture("openai-basic.sse")
    });
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    let mut child = hearth(&t)
        .args(["chat", "hello"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        fake.wait_for_requests(1, Duration::from_secs(10)),
        "the request was sent"
    );
    signal(&child, libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let (_, messages) = only_conversation(&t);
    assert_eq!(messages[0]["content"], "hello");
    assert_eq!(messages[1]["status"], "cancelled", "{:?}", messages[1]);
}

#[test]
fn text_that_arrives_before_a_silence_is_saved_during_the_silence() {
    let bytes = stream_bytes("openai-basic.sse");
    let cut = bytes.windows(2).position(|w| w == b"\n\n").unwrap() + 2;
    let second = cut + bytes[cut..].windows(2).position(|w| w == b"\n\n").unwrap() + 2;
    // Two events, then ten seconds of nothing.
    let fake = FakeProvider::always(
        Reply::sse(vec![bytes[..second].to_vec(), bytes[second..].to_vec()])
            .delay(Duration::from_secs(10)),
    );
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    let (mut child, printed) = start_chat_process(&t);
    std::thread::sleep(Duration::from_millis(900));
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, messages) = only_conversation(&t);
    assert_eq!(messages[1]["status"], "interrupted");
    assert_eq!(
        messages[1]["content"].as_str().unwrap().as_bytes(),
        printed.as_slice(),
        "everything shown was saved"
    );
}

#[test]
fn proxy_variables_do_not_divert_a_chat() {
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    let r = run_ok(
        hearth(&t)
            .args(["chat", "hi"])
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("http_proxy", "http://127.0.0.1:9")
            .env("ALL_PROXY", "http://127.0.0.1:9")
            .env("HTTPS_PROXY", "http://127.0.0.1:9"),
    );
    assert_eq!(r.stdout, stream_fixture("openai-basic.sse").text);
    assert_eq!(fake.requests().len(), 1);
}

/// A stream that sends `events` (each one `data:` payload) as server-sent events.
fn sse_events(events: &[String]) -> Reply {
    let body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    Reply::sse(vec![body.into_bytes()])
}

/// Exports every conversation as JSON and returns the file's text.
fn export_json(t: &TestDir) -> String {
    let path = t.root.path().join("export.json");
    let r = run(hearth(t)
        .args(["export", "--format", "json", "--output"])
        .arg(&path));
    assert!(r.ok(), "{r:?}");
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn a_provider_echoing_the_key_in_its_error_kind_never_gets_it_shown_or_stored() {
    // The key comes back in every machine field a provider has: an OpenAI-style error's
    // `type` and `code` (before the stream, and inside it), and Gemini's block reason.
    /// A provider's answer, given the key it was sent.
    type Echo = fn(&str) -> Reply;
    let cases: Vec<(&str, &str, &str, Echo)> = vec![
        ("status error", "openai-compatible", "/v1", |key| {
            Reply::json(
                400,
                &format!(
                    r#"{{"error":{{"message":"bad request","type":"{key}","code":"{key}"}}}}"#
                ),
            )
        }),
        ("stream error", "openai-compatible", "/v1", |key| {
            sse_events(&[
                r#"{"choices":[{"index":0,"delta":{"content":"Part"}}]}"#.to_owned(),
                format!(r#"{{"error":{{"message":"it broke","type":"{key}","code":"{key}"}}}}"#),
            ])
        }),
        ("anthropic error event", "anthropic", "/v1", |key| {
            let body = format!(
                "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"usage\":{{\"input_tokens\":1,\"output_tokens\":1}}}}}}\n\nevent: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"{key}\",\"message\":\"odd\"}}}}\n\n"
            );
            Reply::sse(vec![body.into_bytes()])
        }),
        ("gemini block reason", "gemini", "/v1beta", |key| {
            sse_events(&[format!(
                r#"{{"promptFeedback":{{"blockReason":"{key}"}},"usageMetadata":{{"promptTokenCount":3}}}}"#
            )])
        }),
    ];
    for (name, kind, seg, reply) in cases {
        // The handler reads the key from the request, as a provider echoing it would.
        let fake = FakeProvider::start(move |req: &RecordedRequest| {
            let key = req
                .header("authorization")
                .map(|a| a.trim_start_matches("Bearer ").to_owned())
                .or_else(|| req.header("x-api-key").map(str::to_owned))
                .or_else(|| req.header("x-goog-api-key").map(str::to_owned))
                .unwrap_or_default();
            reply(&key)
        });
        let (t, key) = setup(&fake, kind, seg);
        let r = run(hearth(&t).args(["chat", "hi"]));
        assert!(!r.ok(), "{name}: {r:?}");
        assert_ne!(r.code, Some(101), "{name}: {r:?}");
        let (id, messages) = only_conversation(&t);
        let stored = messages[1]["error"].as_str().unwrap();
        let stored: serde_json::Value = serde_json::from_str(stored).unwrap();
        let kind = stored["kind"].as_str().unwrap();
        assert!(
            hearth_engine::ProviderError::KINDS.contains(&kind),
            "{name}: the stored kind is Hearth's own: {stored}"
        );
        let shown = run_ok(hearth(&t).args(["show", &id, "--format", "json"]));
        let markdown = run_ok(hearth(&t).args(["show", &id]));
        let exported = export_json(&t);
        assert!(!exported.contains(&key), "{name}: key in the export");
        assert!(exported.contains(kind), "{name}: the export has the error");
        assert_key_nowhere(&t, &key, &[&r, &shown, &markdown]);
    }
}

#[test]
fn a_refusal_is_shown_saved_as_refused_and_exits_3() {
    for (kind, seg, file, text) in [
        (
            "openai-compatible",
            "/v1",
            "openai-refusal.sse",
            "I'm sorry, but I can't assist with that request.",
        ),
        ("anthropic", "/v1", "anthropic-refusal.sse", "Hi"),
    ] {
        let fake = FakeProvider::always(Reply::sse_fixture(file));
        let (t, _) = setup(&fake, kind, seg);
        let r = run(hearth(&t).args(["chat", "how do I make anthrax?"]));
        assert_eq!(r.code, Some(3), "{file}: {r:?}");
        // Shown, with the newline a failed reply gets, and one line saying what it was.
        assert_eq!(r.stdout, format!("{text}\n"), "{file}");
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{file}: {r:?}");
        assert!(
            lines[0].starts_with("hearth: the model refused to answer")
                && lines[0].contains("the refusal are saved in conversation"),
            "{file}: {r:?}"
        );
        let (_, messages) = only_conversation(&t);
        assert_eq!(messages[1]["status"], "error", "{file}");
        assert_eq!(
            messages[1]["content"], text,
            "{file}: the refusal is the content"
        );
        let stored: serde_json::Value =
            serde_json::from_str(messages[1]["error"].as_str().unwrap()).unwrap();
        assert_eq!(stored["kind"], "refused", "{file}");
        // Searchable like any reply.
        let word = text
            .split_whitespace()
            .last()
            .unwrap()
            .trim_end_matches('.');
        let found = run_ok(hearth(&t).args(["search", word, "--json"]));
        assert!(found.stdout.contains("assistant"), "{file}: {found:?}");
    }
}

#[test]
fn a_reply_with_only_tool_calls_is_an_error_that_says_so() {
    let openai = sse_events(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}"#.to_owned(),
        r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]}"#.to_owned(),
        r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#.to_owned(),
        "[DONE]".to_owned(),
    ]);
    let anthropic = Reply::sse(vec![concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ).as_bytes().to_vec()]);
    let gemini = sse_events(&[
        r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3}}"#.to_owned(),
    ]);
    for (kind, seg, reply) in [
        ("openai-compatible", "/v1", openai),
        ("anthropic", "/v1", anthropic),
        ("gemini", "/v1beta", gemini),
    ] {
        let fake = FakeProvider::always(reply);
        let (t, _) = setup(&fake, kind, seg);
        let r = run(hearth(&t).args(["chat", "weather in Paris?"]));
        assert_clear_failure(&r, "answered only with a tool call");
        assert_eq!(r.code, Some(1), "{kind}: {r:?}");
        assert!(r.stdout.is_empty(), "{kind}: {r:?}");
        assert!(
            r.stderr.contains("Your message is saved in conversation")
                && !r.stderr.contains("partial reply"),
            "{kind}: {r:?}"
        );
        let (_, messages) = only_conversation(&t);
        assert_eq!(messages[1]["status"], "error", "{kind}");
        let stored: serde_json::Value =
            serde_json::from_str(messages[1]["error"].as_str().unwrap()).unwrap();
        assert_eq!(stored["kind"], "tool_calls_only", "{kind}");
    }
}

#[test]
fn after_a_mid_stream_error_the_piped_reply_ends_with_a_newline() {
    let fake = FakeProvider::always(Reply::sse_fixture("openai-midstream-error.sse"));
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    let r = run(hearth(&t).args(["chat", "hello"]));
    assert_clear_failure(&r, "server error");
    assert_eq!(r.stdout, "Here is a partial\n", "{r:?}");
    assert!(
        r.stderr
            .contains("Your message and the partial reply are saved"),
        "{r:?}"
    );
}

#[test]
fn a_failure_before_any_text_does_not_claim_a_partial_reply() {
    // The stream starts, then fails before a single word of the answer.
    let fake = FakeProvider::always(sse_events(&[
        r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#.to_owned(),
        r#"{"error":{"message":"The server had an error","type":"server_error"}}"#.to_owned(),
    ]));
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    let r = run(hearth(&t).args(["chat", "hello"]));
    assert_clear_failure(&r, "Your message is saved in conversation");
    assert!(!r.stderr.contains("partial reply"), "{r:?}");
    assert_eq!(r.stdout, "", "{r:?}");
}

#[test]
fn ctrl_c_before_any_text_arrived_does_not_claim_a_partial_reply() {
    // The provider accepts the request, sends a keep-alive, then nothing.
    let fake = FakeProvider::always(
        Reply::sse(vec![b": keep-alive\n\n".to_vec()]).end(End::Stall(Duration::from_secs(30))),
    );
    let (t, _) = setup(&fake, "openai-compatible", "/v1");
    let mut child = hearth(&t)
        .args(["chat", "tell me a story"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(fake.wait_for_requests(1, Duration::from_secs(20)));
    // Well past the response headers, which are sent at once.
    std::thread::sleep(Duration::from_millis(1000));
    signal(&child, libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains("Stopped before any text arrived. Your message is saved in conversation"),
        "{stderr}"
    );
    assert!(!stderr.contains("partial reply"), "{stderr}");
    let (_, messages) = only_conversation(&t);
    assert_eq!(messages[1]["status"], "cancelled");
    assert_eq!(messages[1]["content"], "");
}
