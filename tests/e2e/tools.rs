//! Tools in the app: an MCP server on the official Python SDK added in Settings → Tools,
//! turned on for one chat, and a model (the fake provider, speaking OpenAI) asking for
//! calls. A denied call never runs and the model is told so; "Allow in this
//! conversation" runs it and lets its next call run without asking; "Always allow" shows
//! up in Settings → Tools, and after Revoke the tool asks again. A hostile argument is
//! text on the card. Stop works while a call waits. Reloaded, the conversation shows every
//! call where it happened. The server logs each call it really runs to `MCP_CALL_LOG`,
//! which the test sets through the form's environment rows. Locking stops the server.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::Client;
use hearth_engine::DENIED_RESULT;
use hearth_tests::fake_provider::{FakeProvider, RecordedRequest, Reply};
use hearth_tests::TestDir;
use serde_json::{json, Value};

use crate::driver::{
    click, eval, find, find_css, hook, screenshot, type_into, wait_for, workspace, Driver, STEP,
};
use crate::steps::{configure_openai, create_passphrase_vault, openai_stream};

const PASSPHRASE: &str = "tools e2e passphrase";
const API_KEY: &str = "sk-e2e-tools-0123456789wxyz";
const HOSTILE: &str = "<img src=x onerror=window.__pwned=1>";
const FIRST_QUESTION: &str = "Please echo something";

/// The interpreter of the venv with PyPI `mcp` that scripts/test.sh makes.
fn mcp_python() -> PathBuf {
    std::env::var_os("HEARTH_MCP_PYTHON")
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "HEARTH_MCP_PYTHON must name a Python with PyPI `mcp` installed; \
                 scripts/test.sh makes one under target/mcp/python-venv"
            )
        })
}

/// An OpenAI stream of `text` (if any), then one tool call of `name` with `arguments`
/// sent in two pieces, ending as `tool_calls`.
fn tool_call_stream(text: &str, id: &str, name: &str, arguments: &Value) -> Vec<Vec<u8>> {
    let event = |v: Value| format!("data: {v}\n\n").into_bytes();
    let mut chunks = Vec::new();
    if !text.is_empty() {
        chunks.push(event(
            json!({"choices": [{"index": 0, "delta": {"content": text}}]}),
        ));
    }
    chunks.push(event(
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}
        ]}}]}),
    ));
    let arguments = arguments.to_string();
    let (a, b) = arguments.split_at(arguments.len() / 2);
    for piece in [a, b] {
        chunks.push(event(
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 0, "function": {"arguments": piece}}
            ]}}]}),
        ));
    }
    chunks.push(event(
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ));
    chunks.push(b"data: [DONE]\n\n".to_vec());
    chunks
}

fn words(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_owned).collect()
}

/// The scripted model: what it asks for depends on the last message of the request.
fn fake_model() -> FakeProvider {
    FakeProvider::start(|request| {
        if !request.path.ends_with("/chat/completions") {
            return Reply::json(404, r#"{"error":{"message":"not here"}}"#);
        }
        let body = request.json();
        let last = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .cloned()
            .unwrap_or_default();
        if last["role"] == "tool" {
            let answer = match last["tool_call_id"].as_str().unwrap_or_default() {
                "call_1" => {
                    return Reply::sse(tool_call_stream(
                        "",
                        "call_2",
                        "py__add",
                        &json!({"a": 2, "b": 3}),
                    ))
                }
                "call_2" => "The sum is 5, as the tool says.",
                "call_3" => "Four and five make 9.",
                "call_4" => "Echoed, and allowed from now on.",
                "call_5" => "Echoed once more.",
                other => return Reply::json(400, &format!(r#"{{"unexpected":"{other}"}}"#)),
            };
            return Reply::sse(openai_stream(&words(answer))).delay(Duration::from_millis(30));
        }
        let asked = last["content"].as_str().unwrap_or_default();
        let (text, id, name, arguments) = if asked == FIRST_QUESTION {
            (
                "Let me ask the echo tool. ",
                "call_1",
                "py__echo",
                json!({"text": HOSTILE}),
            )
        } else if asked.contains("four and five") {
            ("", "call_3", "py__add", json!({"a": 4, "b": 5}))
        } else if asked.contains("always") {
            ("", "call_4", "py__echo", json!({"text": "always"}))
        } else if asked.contains("once more") {
            ("", "call_5", "py__echo", json!({"text": "again"}))
        } else if asked.contains("stop") {
            ("", "call_6", "py__slow", json!({"seconds": 0}))
        } else {
            return Reply::json(400, r#"{"unexpected":"question"}"#);
        };
        Reply::sse(tool_call_stream(text, id, name, &arguments))
    })
}

/// The calls the server ran, one `tool {json}` line each.
fn ran(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits until the server has logged `n` calls.
async fn ran_calls(log: &Path, n: usize) -> Vec<String> {
    let deadline = Instant::now() + STEP;
    loop {
        let lines = ran(log);
        if lines.len() >= n {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "the server ran {lines:?}, waiting for {n} calls"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn chat_requests(fake: &FakeProvider) -> Vec<RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect()
}

/// Waits for the `n`th chat request (1-based) and returns its JSON.
async fn chat_request(fake: &FakeProvider, n: usize) -> Value {
    let deadline = Instant::now() + STEP;
    loop {
        if let Some(r) = chat_requests(fake).get(n - 1) {
            return r.json();
        }
        assert!(Instant::now() < deadline, "chat request {n} never came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The tool message answering `call_id` in a request, and the assistant turn that asked.
fn tool_turns(request: &Value, call_id: &str) -> (Value, Value) {
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let at = messages
        .iter()
        .position(|m| m["role"] == "tool" && m["tool_call_id"] == call_id)
        .unwrap_or_else(|| panic!("no tool message for {call_id}: {request}"));
    let asked = messages[..at]
        .iter()
        .rev()
        .find(|m| m["role"] == "assistant")
        .cloned()
        .unwrap_or_default();
    (asked, messages[at].clone())
}

/// Waits for the card of the `n`th call (1-based) to have `status`.
async fn card(app: &Client, n: usize, status: &str) {
    wait_for(
        app,
        &format!("tool call {n} {status}"),
        &format!(
            r#"const cards = document.querySelectorAll('[data-testid="tool-call"]');
               return cards.length >= {n} && cards[{n} - 1].dataset.status === "{status}""#
        ),
    )
    .await;
}

/// Clicks `button` on the card waiting for an answer.
async fn answer(app: &Client, button: &str) {
    find_css(
        app,
        &format!(
            "{}[data-status=\"awaiting\"] {}",
            hook("tool-call"),
            hook(button)
        ),
    )
    .await
    .click()
    .await
    .unwrap_or_else(|e| panic!("could not click {button}: {e}"));
}

/// Waits until `n` replies are complete and the last one ends with `text`.
async fn replies_complete(app: &Client, n: usize, text: &str) {
    wait_for(
        app,
        &format!("reply {n} complete with {text:?}"),
        &format!(
            r#"const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
               const m = all[all.length - 1];
               return all.length === {n} && m.dataset.status === "complete"
                 && m.querySelector('[data-testid="message-content"]').innerText.includes({text:?})"#
        ),
    )
    .await;
}

/// Types into a field of the settings form, scrolled into the middle of its panel first
/// (WebKitWebDriver will not clear a field the panel cuts off).
async fn fill(app: &Client, id: &str, text: &str) {
    eval(
        app,
        &format!(
            r#"document.querySelector('{}').scrollIntoView({{block: "center"}}); return true"#,
            hook(id)
        ),
    )
    .await;
    type_into(app, id, text).await;
}

async fn send(app: &Client, text: &str) {
    type_into(app, "composer", text).await;
    click(app, "send").await;
}

async fn count(app: &Client, css: &str) -> u64 {
    eval(
        app,
        &format!("return document.querySelectorAll('{css}').length"),
    )
    .await
    .as_u64()
    .unwrap_or(0)
}

async fn not_pwned(app: &Client) {
    assert_eq!(
        eval(
            app,
            "return window.__pwned === undefined ? null : String(window.__pwned)"
        )
        .await,
        Value::Null,
        "a tool call's text ran script"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_calls_an_mcp_tool_only_as_the_user_allows() {
    let python = mcp_python();
    let script = workspace().join("tests/data/mcp/python_server.py");
    let dir = TestDir::new();
    let logs = tempfile::tempdir().expect("a folder for the call log");
    let log = logs.path().join("calls.log");
    let log_text = log.display().to_string();
    let fake = fake_model();
    let driver = Driver::start(&dir.data);
    let app = driver.session().await;
    create_passphrase_vault(&app, PASSPHRASE).await;
    configure_openai(&app, &fake.base_url("v1"), API_KEY).await;

    // Settings → Tools: the server, with its call log as an environment variable.
    click(&app, "settings-tab-tools").await;
    click(&app, "tool-server-add").await;
    fill(&app, "tool-server-name", "py").await;
    fill(&app, "tool-server-command", &python.display().to_string()).await;
    fill(
        &app,
        "tool-server-args",
        // One argument per line: Enter (WebDriver's key, not "\n") starts the next.
        &format!("{}\u{E007}stdio", script.display()),
    )
    .await;
    click(&app, "tool-server-env-add").await;
    fill(&app, "tool-server-env-name", "MCP_CALL_LOG").await;
    fill(&app, "tool-server-env-value", &log_text).await;
    assert_eq!(
        find(&app, "tool-server-env-value")
            .await
            .attr("type")
            .await
            .expect("the value field's type")
            .as_deref(),
        Some("password")
    );
    click(&app, "tool-server-save").await;
    let item = find_css(
        &app,
        &format!("{}[data-name=\"py\"]", hook("tool-server-item")),
    )
    .await;
    let secrets = item
        .find(fantoccini::Locator::Css(&hook("tool-server-secrets")))
        .await
        .expect("the variable names")
        .text()
        .await
        .expect("their text");
    assert!(secrets.contains("MCP_CALL_LOG"), "{secrets}");
    assert_eq!(
        eval(
            &app,
            &format!("return document.documentElement.outerHTML.includes({log_text:?})"),
        )
        .await,
        Value::Bool(false),
        "the variable's value came back to the page"
    );
    click(&app, "tool-server-show-tools").await;
    let tools = wait_for(
        &app,
        "the server's tools",
        r#"const t = Array.from(document.querySelectorAll('[data-testid="tool-server-tool"]')).map(e => e.dataset.name);
           return t.length > 0 ? t : null"#,
    )
    .await;
    for name in ["add", "echo", "env", "slow", "crash", "big"] {
        assert!(
            tools
                .as_array()
                .is_some_and(|t| t.iter().any(|n| n == name)),
            "{name} missing from {tools}"
        );
    }
    screenshot(&app, "31-tools-settings").await;
    assert!(
        ran(&log).is_empty(),
        "listing tools ran one: {:?}",
        ran(&log)
    );
    click(&app, "settings-close").await;

    // A new chat with the server on.
    click(&app, "new-chat").await;
    click(&app, "tool-picker").await;
    find_css(
        &app,
        &format!("{}[data-name=\"py\"]", hook("tool-picker-server")),
    )
    .await
    .click()
    .await
    .expect("turn py on");
    wait_for(
        &app,
        "the picker naming py",
        r#"return document.querySelector('[data-testid="tool-picker"]').innerText.includes("py")"#,
    )
    .await;
    click(&app, "tool-picker").await;
    send(&app, FIRST_QUESTION).await;

    // 1. The approval card, with the hostile argument as text, after the text before it.
    card(&app, 1, "awaiting").await;
    let first = chat_request(&fake, 1).await;
    let offered: Vec<&str> = first["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["function"]["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        offered.contains(&"py__echo") && offered.contains(&"py__add"),
        "{offered:?}"
    );
    let shown = wait_for(
        &app,
        "the arguments on the card",
        r#"const c = document.querySelector('[data-testid="tool-call"]');
           const a = c.querySelector('[data-testid="tool-call-arguments"]');
           return a && a.offsetParent !== null ? {args: a.textContent, name: c.querySelector('[data-testid="tool-call-name"]').textContent,
             imgs: document.querySelectorAll('[data-testid="message"] img').length,
             before: c.previousElementSibling ? c.previousElementSibling.innerText : ""} : null"#,
    )
    .await;
    assert!(
        shown["args"].as_str().is_some_and(|a| a.contains(HOSTILE)),
        "{shown}"
    );
    assert_eq!(shown["name"], "echo");
    assert_eq!(shown["imgs"], 0);
    assert!(
        shown["before"]
            .as_str()
            .is_some_and(|t| t.contains("Let me ask the echo tool.")),
        "{shown}"
    );
    screenshot(&app, "32-tool-approval").await;

    // Deny: nothing runs, and the model hears so.
    answer(&app, "tool-deny").await;
    card(&app, 1, "denied").await;
    let second = chat_request(&fake, 2).await;
    let (asked, told) = tool_turns(&second, "call_1");
    assert_eq!(asked["tool_calls"][0]["id"], "call_1");
    assert_eq!(asked["tool_calls"][0]["function"]["name"], "py__echo");
    assert_eq!(told["content"], DENIED_RESULT);
    assert!(ran(&log).is_empty(), "a denied call ran: {:?}", ran(&log));

    // 2. Allowed in this conversation: it runs, and the model gets its result.
    card(&app, 2, "awaiting").await;
    answer(&app, "tool-allow-conversation").await;
    assert_eq!(ran_calls(&log, 1).await, [r#"add {"a": 2, "b": 3}"#]);
    card(&app, 2, "approved").await;
    let third = chat_request(&fake, 3).await;
    let (asked, told) = tool_turns(&third, "call_2");
    assert_eq!(asked["tool_calls"][0]["function"]["name"], "py__add");
    assert_eq!(told["content"], "5");
    replies_complete(&app, 1, "The sum is 5, as the tool says.").await;
    let result = eval(
        &app,
        r#"const r = document.querySelectorAll('[data-testid="tool-call"]')[1]
                 .querySelector('[data-testid="tool-call-result"]');
           return r ? r.textContent : null"#,
    )
    .await;
    let result = result.as_str().unwrap_or_default();
    assert_eq!(result.trim(), "5");
    not_pwned(&app).await;
    screenshot(&app, "33-tool-result").await;

    // 3. The same tool again in this conversation: no question.
    send(&app, "Now add four and five").await;
    replies_complete(&app, 2, "Four and five make 9.").await;
    assert_eq!(
        ran(&log).last().map(String::as_str),
        Some(r#"add {"a": 4, "b": 5}"#)
    );
    let (_, told) = tool_turns(&chat_request(&fake, 5).await, "call_3");
    assert_eq!(told["content"], "9");
    assert_eq!(
        count(&app, r#"[data-testid="tool-call"][data-status="approved"]"#).await,
        2
    );

    // 4. Always allow.
    send(&app, "Echo, and allow it always").await;
    card(&app, 4, "awaiting").await;
    answer(&app, "tool-allow-always").await;
    replies_complete(&app, 3, "Echoed, and allowed from now on.").await;
    assert_eq!(
        ran(&log).last().map(String::as_str),
        Some(r#"echo {"text": "always"}"#)
    );

    // The grants in Settings → Tools; Revoke the "always" one.
    click(&app, "settings").await;
    click(&app, "settings-tab-tools").await;
    let grants = wait_for(
        &app,
        "both grants",
        r#"const g = Array.from(document.querySelectorAll('[data-testid="tool-grant"]'))
                 .map(e => [e.dataset.scope, e.dataset.server, e.dataset.tool, e.innerText]);
           return g.length === 2 ? g : null"#,
    )
    .await;
    assert_eq!(grants[0][0], "always");
    assert_eq!(
        (&grants[0][1], &grants[0][2]),
        (&json!("py"), &json!("echo"))
    );
    assert_eq!(grants[1][0], "conversation");
    assert_eq!(grants[1][2], "add");
    assert!(
        grants[1][3]
            .as_str()
            .is_some_and(|t| t.contains(FIRST_QUESTION)),
        "the conversation's title is missing: {grants}"
    );
    eval(
        &app,
        r#"document.querySelector('[data-testid="tool-grant"]').scrollIntoView({block: "center"}); return true"#,
    )
    .await;
    screenshot(&app, "34-tool-grants").await;
    find_css(
        &app,
        &format!(
            "{}[data-scope=\"always\"] {}",
            hook("tool-grant"),
            hook("tool-grant-revoke")
        ),
    )
    .await
    .click()
    .await
    .expect("revoke");
    wait_for(
        &app,
        "only the conversation's grant left",
        r#"const g = document.querySelectorAll('[data-testid="tool-grant"]');
           return g.length === 1 && g[0].dataset.scope === "conversation""#,
    )
    .await;
    click(&app, "settings-close").await;

    // 5. Revoked: echo asks again. Allow once.
    send(&app, "Echo once more").await;
    card(&app, 5, "awaiting").await;
    answer(&app, "tool-allow-once").await;
    replies_complete(&app, 4, "Echoed once more.").await;
    assert_eq!(
        ran(&log).last().map(String::as_str),
        Some(r#"echo {"text": "again"}"#)
    );

    // 6. Stop while a call waits: the reply ends, the call never runs.
    send(&app, "Something slow, then stop").await;
    card(&app, 6, "awaiting").await;
    let requests = chat_requests(&fake).len();
    click(&app, "stop").await;
    wait_for(
        &app,
        "the stopped reply",
        r#"const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
           return all.length === 5 && all[4].dataset.status === "cancelled""#,
    )
    .await;
    card(&app, 6, "cancelled").await;
    assert_eq!(ran(&log).len(), 4, "{:?}", ran(&log));
    assert_eq!(chat_requests(&fake).len(), requests);

    // Reloaded from the vault: every call where it happened.
    click(&app, "new-chat").await;
    find(&app, "conversation-item")
        .await
        .click()
        .await
        .expect("open the conversation");
    let statuses = wait_for(
        &app,
        "the saved calls",
        r#"const c = Array.from(document.querySelectorAll('[data-testid="tool-call"]')).map(e => e.dataset.status);
           return c.length === 6 ? c : null"#,
    )
    .await;
    assert_eq!(
        statuses,
        json!([
            "denied",
            "approved",
            "approved",
            "approved",
            "approved",
            "cancelled"
        ])
    );
    let placed = eval(
        &app,
        r#"const first = document.querySelector('[data-testid="tool-call"]');
           return first.previousElementSibling ? first.previousElementSibling.innerText : """#,
    )
    .await;
    assert!(
        placed
            .as_str()
            .is_some_and(|t| t.contains("Let me ask the echo tool.")),
        "{placed}"
    );
    assert_eq!(count(&app, r#"[data-testid="message"] img"#).await, 0);
    not_pwned(&app).await;
    screenshot(&app, "35-tool-calls-reloaded").await;

    // Locking stops the server: the process that has our call log in its environment.
    assert!(
        !servers_with(&log_text).is_empty(),
        "the server should be running before the lock"
    );
    click(&app, "settings").await;
    click(&app, "settings-tab-security").await;
    click(&app, "lock-now").await;
    find(&app, "unlock-submit").await;
    let deadline = Instant::now() + STEP;
    while !servers_with(&log_text).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the MCP server outlived the lock: {:?}",
            servers_with(&log_text)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.close().await.expect("close the app");
}

/// The processes whose environment sets `MCP_CALL_LOG` to `log` (this test's server).
fn servers_with(log: &str) -> Vec<u32> {
    let wanted = format!("MCP_CALL_LOG={log}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == wanted.as_bytes()))
        })
        .collect()
}
