//! One user's session, start to finish: first run with a passphrase, a provider and key,
//! streaming chat, stop, regenerate, edit, a hostile reply, search, then a restart with
//! the provider gone and the history browsed offline.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::Client;
use hearth_tests::fake_provider::{End, FakeProvider, RecordedRequest, Reply};
use hearth_tests::TestDir;
use serde_json::{json, Value};

use crate::driver::{
    click, eval, find, find_css, hook, messages, screenshot, type_into, wait_for, Driver,
};
use crate::steps::{configure_openai, create_passphrase_vault, openai_stream};

const PASSPHRASE: &str = "correct horse battery staple";
const API_KEY: &str = "sk-e2e-DO-NOT-LEAK-0123456789abcd";

/// A loopback server that only counts connections: the hostile reply points its images
/// here, so any fetch at all shows up.
struct Probe {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl Probe {
    fn start() -> Probe {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the probe");
        let port = listener.local_addr().expect("probe address").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                seen.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        Probe { port, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// The text of the last user message in a chat request.
fn last_user_text(request: &RecordedRequest) -> String {
    request.json()["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Words split so that a reply arrives over about a second and a half.
fn words(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_owned).collect()
}

fn fake_provider(probe_port: u16) -> FakeProvider {
    let replies = AtomicUsize::new(0);
    let stalled = std::sync::atomic::AtomicBool::new(false);
    FakeProvider::start(move |request| {
        if request.path.ends_with("/models") {
            return Reply::json(
                200,
                r#"{"object":"list","data":[{"id":"e2e-model"},{"id":"e2e-other"}]}"#,
            );
        }
        let asked = last_user_text(request);
        // The first time only: asked again (regenerate), it answers normally.
        if asked.contains("STOPME") && !stalled.swap(true, Ordering::SeqCst) {
            // One piece of text, then silence until the client hangs up.
            let mut partial = openai_stream(&["Partial answer, ".into()]);
            partial.truncate(1);
            return Reply::sse(partial).end(End::Stall(Duration::from_secs(120)));
        }
        if asked.contains("PROBE") {
            let hostile = format!(
                "Probe reply <script>window.__hearthProbe='script'</script>\n\n\
                 <img src=\"http://127.0.0.1:{probe_port}/raw.png\" onerror=\"window.__hearthProbe='onerror'\">\n\n\
                 ![remote picture](http://127.0.0.1:{probe_port}/md.png)\n\n\
                 [click me](javascript:window.__hearthProbe='link')\n\n\
                 <svg onload=\"window.__hearthProbe='svg'\"></svg>\n\n\
                 <iframe srcdoc=\"<script>parent.__hearthProbe='iframe'</script>\"></iframe>\n\n\
                 PROBE-END"
            );
            return Reply::sse(openai_stream(&[hostile]));
        }
        let n = replies.fetch_add(1, Ordering::SeqCst) + 1;
        let text = format!(
            "Reply {n} about {asked}. Here is **bold** text, a table and some code.\n\n\
             | Animal | Legs |\n|---|---|\n| zebra | 4 |\n\n\
             ```rust\nfn main() {{\n    println!(\"hello from reply {n}\");\n}}\n```\n"
        );
        Reply::sse(openai_stream(&words(&text))).delay(Duration::from_millis(40))
    })
}

/// The last message with `role` on screen.
async fn last(client: &Client, role: &str) -> Value {
    messages(client)
        .await
        .into_iter()
        .rev()
        .find(|m| m["role"] == role)
        .unwrap_or_else(|| panic!("no {role} message on screen"))
}

/// Waits until the last assistant message has `status`, and returns it.
async fn reply_with_status(client: &Client, status: &str) -> Value {
    let script = format!(
        r#"const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
           const m = all[all.length - 1];
           return m && m.dataset.status === "{status}" ? m.dataset.id : null"#
    );
    wait_for(client, &format!("a reply with status {status}"), &script).await;
    last(client, "assistant").await
}

async fn send(client: &Client, text: &str) {
    type_into(client, "composer", text).await;
    click(client, "send").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_session_from_first_run_to_offline_history() {
    let dir = TestDir::new();
    let probe = Probe::start();
    let fake = fake_provider(probe.port);
    let driver = Driver::start(&dir.data);
    let app = driver.session().await;

    // First run: both ways to protect the vault are offered; choose a passphrase.
    find(&app, "setup-keychain").await;
    find(&app, "setup-passphrase").await;
    screenshot(&app, "01-first-run").await;
    create_passphrase_vault(&app, PASSPHRASE).await;
    assert!(
        dir.data.join("hearth.db").exists(),
        "creating the vault wrote no database"
    );

    // A provider and its key. The key goes in once and is shown only as a hint.
    configure_openai(&app, &fake.base_url("v1"), API_KEY).await;
    // Starting, creating the vault and saving a provider and key contact nobody.
    assert!(
        fake.requests().is_empty(),
        "the app called the provider unasked"
    );
    click(&app, "provider-test").await;
    wait_for(
        &app,
        "a successful connection test",
        r#"const r = document.querySelector('[data-testid="provider-test-result"]');
           return r && /2/.test(r.innerText) ? r.innerText : null"#,
    )
    .await;
    screenshot(&app, "02-settings-providers").await;
    let source = app.source().await.expect("page source");
    assert!(!source.contains(API_KEY), "the API key is in the page");
    click(&app, "settings-close").await;

    // Chat: the reply streams in, then completes with markdown, a table and code.
    click(&app, "new-chat").await;
    send(&app, "Tell me about zebras").await;
    reply_with_status(&app, "streaming").await;
    let reply = reply_with_status(&app, "complete").await;
    let text = reply["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("Reply 1 about Tell me about zebras"),
        "{reply}"
    );
    assert!(text.contains("hello from reply 1"), "{reply}");
    assert_eq!(last(&app, "user").await["text"], "Tell me about zebras");
    let rendered = eval(
        &app,
        r#"const all = document.querySelectorAll('[data-testid="message-content"]');
           const c = all[all.length - 1];
           return {table: !!c.querySelector('table'), strong: !!c.querySelector('strong'),
                   code: !!c.querySelector('pre code')}"#,
    )
    .await;
    assert_eq!(
        rendered,
        json!({"table": true, "strong": true, "code": true}),
        "markdown was not rendered"
    );
    let sent = fake.requests();
    let chat = sent
        .iter()
        .find(|r| r.path.ends_with("/chat/completions"))
        .expect("a chat request");
    assert_eq!(
        chat.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(chat.json()["model"], "e2e-model");
    screenshot(&app, "03-chat").await;

    // Stop keeps the partial reply, marked cancelled, and closes the connection.
    let closed_before = fake.connections_closed_by_client();
    send(&app, "Please STOPME now").await;
    wait_for(
        &app,
        "the partial reply",
        r#"const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
           const m = all[all.length - 1];
           return m && m.dataset.status === "streaming" && m.innerText.includes("Partial answer")"#,
    )
    .await;
    click(&app, "stop").await;
    let stopped = reply_with_status(&app, "cancelled").await;
    assert!(
        stopped["text"]
            .as_str()
            .is_some_and(|t| t.contains("Partial answer")),
        "{stopped}"
    );
    assert!(
        fake.wait_for_closed_by_client(closed_before + 1, Duration::from_secs(10)),
        "stopping did not close the provider connection"
    );

    // Regenerate: a new reply to the same question, with a ‹ 2/2 › switcher.
    click(&app, "regenerate").await;
    let again = reply_with_status(&app, "complete").await;
    assert!(
        again["text"]
            .as_str()
            .is_some_and(|t| t.contains("Reply 2 about Please STOPME now")),
        "{again}"
    );
    let position = find(&app, "branch-position").await;
    assert_eq!(position.text().await.expect("branch text").trim(), "2/2");
    click(&app, "branch-prev").await;
    reply_with_status(&app, "cancelled").await;
    click(&app, "branch-next").await;
    reply_with_status(&app, "complete").await;

    // Edit the last question and send it again: a new branch with its own reply.
    let user_id = last(&app, "user").await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    find_css(
        &app,
        &format!(
            "{}[data-id=\"{user_id}\"] {}",
            hook("message"),
            hook("message-edit")
        ),
    )
    .await
    .click()
    .await
    .expect("click edit");
    type_into(&app, "edit-input", "What about giraffes").await;
    click(&app, "edit-submit").await;
    wait_for(
        &app,
        "the edited question's reply",
        r#"const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
           const m = all[all.length - 1];
           return m && m.dataset.status === "complete" && m.innerText.includes("Reply 3 about What about giraffes")"#,
    )
    .await;
    assert_eq!(last(&app, "user").await["text"], "What about giraffes");
    assert!(
        !messages(&app)
            .await
            .iter()
            .any(|m| m["text"].as_str().is_some_and(|t| t.contains("STOPME"))),
        "the old branch is still shown after the edit"
    );

    // A hostile reply: nothing runs, nothing is fetched, the image becomes a link.
    send(&app, "PROBE the renderer").await;
    wait_for(
        &app,
        "the probe reply",
        r#"const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
           const m = all[all.length - 1];
           return m && m.dataset.status === "complete" && m.innerText.includes("PROBE-END")"#,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let inspected = eval(
        &app,
        r#"const all = document.querySelectorAll('[data-testid="message-content"]');
           const c = all[all.length - 1];
           return {
             probe: window.__hearthProbe === undefined ? null : String(window.__hearthProbe),
             dangerous: c.querySelectorAll('script, img, svg, iframe, object, embed, video, audio, source').length,
             withSrc: document.querySelectorAll('[src*="127.0.0.1"], [srcset], [poster]').length,
             scriptLinks: c.querySelectorAll('a[href^="javascript" i]').length,
             imageLink: Array.from(c.querySelectorAll('a')).map(a => a.getAttribute('href'))
                          .filter(h => h && h.endsWith('/md.png')).length
           }"#,
    )
    .await;
    assert_eq!(
        inspected,
        json!({"probe": null, "dangerous": 0, "withSrc": 0, "scriptLinks": 0, "imageLink": 1}),
        "the hostile reply left something active"
    );
    // Following the image's link asks first, showing the whole address; cancelling opens nothing.
    let link = find_css(
        &app,
        &format!("{} a[href$=\"/md.png\"]", hook("message-content")),
    )
    .await;
    link.click().await.expect("click the image link");
    let shown = find(&app, "external-link-url").await;
    let shown = shown.text().await.expect("dialog text");
    assert_eq!(
        shown.trim(),
        format!("http://127.0.0.1:{}/md.png", probe.port)
    );
    screenshot(&app, "04-link-confirmation").await;
    click(&app, "external-link-cancel").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(probe.connections(), 0, "a hostile reply caused a request");

    // Search finds the conversation and jumps to the message.
    type_into(&app, "search-input", "giraffes").await;
    let hit = find(&app, "search-result").await;
    let target = hit
        .attr("data-message-id")
        .await
        .expect("read the hit")
        .unwrap_or_default();
    let marked = eval(
        &app,
        r#"const r = document.querySelector('[data-testid="search-result"] mark');
           return r ? r.innerText : null"#,
    )
    .await;
    assert!(
        marked
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains("giraffe")),
        "the snippet does not highlight the match: {marked}"
    );
    screenshot(&app, "05-search").await;
    hit.click().await.expect("open the hit");
    wait_for(
        &app,
        "the found message",
        &format!(
            r#"return !!document.querySelector('[data-testid="message"][data-id="{target}"]')"#
        ),
    )
    .await;

    // Restart with the provider gone: unlock and read the history offline.
    let before_restart = messages(&app).await;
    app.close().await.expect("close the app");
    drop(fake);
    let app = driver.session().await;
    find(&app, "unlock-submit").await;
    screenshot(&app, "06-unlock").await;
    type_into(&app, "passphrase-input", "not the passphrase").await;
    click(&app, "unlock-submit").await;
    find(&app, "unlock-error").await;
    type_into(&app, "passphrase-input", PASSPHRASE).await;
    click(&app, "unlock-submit").await;
    find(&app, "conversation-item")
        .await
        .click()
        .await
        .expect("open the conversation");
    wait_for(
        &app,
        "the saved conversation",
        r#"return document.querySelectorAll('[data-testid="message"]').length >= 4"#,
    )
    .await;
    let after_restart = messages(&app).await;
    assert_eq!(
        after_restart, before_restart,
        "the history differs after a restart"
    );
    screenshot(&app, "07-history-offline").await;

    // Sending now fails clearly and keeps the question.
    send(&app, "Anyone there?").await;
    reply_with_status(&app, "error").await;
    find(&app, "error-banner").await;
    assert_eq!(last(&app, "user").await["text"], "Anyone there?");
    app.close().await.expect("close the app");
    assert_eq!(probe.connections(), 0, "something fetched from the probe");
}
