//! Projects in the app: a project made with instructions, a chat started in it (the fake
//! provider's request carries the instructions as the system prompt, and the settings
//! chosen beside the model picker), another conversation dragged onto the project with the
//! mouse (a real HTML5 drag in WebKitGTK, the pointer moved through XTEST), a saved
//! prompt inserted with `/`, find in the open conversation, a conversation archived and
//! restored, and search narrowed to the project.

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::Client;
use hearth_tests::fake_provider::{FakeProvider, RecordedRequest, Reply};
use hearth_tests::TestDir;
use serde_json::{json, Value};

use crate::driver::{
    click, eval, find, find_css, hook, screenshot, type_into, wait_for, workspace, Driver,
};
use crate::steps::{configure_openai, create_passphrase_vault, openai_stream};

const PASSPHRASE: &str = "projects e2e passphrase";
const API_KEY: &str = "sk-e2e-projects-0123456789wxyz";
const INSTRUCTIONS: &str = "Answer as a gardener, in one short paragraph.";
const PROMPT_TEXT: &str = "List five plants that grow in deep shade.";

fn chat_requests(fake: &FakeProvider) -> Vec<RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect()
}

/// The text of the last user message of a request.
fn last_user_text(request: &Value) -> String {
    request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Sends `text` in the composer and waits for the reply to it.
async fn send_and_wait(app: &Client, fake: &FakeProvider, text: &str) -> Value {
    let before = chat_requests(fake).len();
    type_into(app, "composer", text).await;
    click(app, "send").await;
    wait_for(
        app,
        "the reply",
        &format!(
            r#"const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
               const m = all[all.length - 1];
               return m && m.dataset.status === "complete" && m.innerText.includes({})"#,
            json!(format!("Noted: {text}"))
        ),
    )
    .await;
    assert!(
        fake.wait_for_requests(before + 1, Duration::from_secs(10)),
        "no chat request for {text:?}"
    );
    chat_requests(fake)
        .last()
        .map(RecordedRequest::json)
        .expect("a request")
}

/// The ids of the conversation rows on screen, top first.
async fn row_ids(app: &Client) -> Vec<String> {
    let ids = eval(
        app,
        r#"return Array.from(document.querySelectorAll('[data-testid="conversation-item"]')).map(r => r.dataset.id)"#,
    )
    .await;
    serde_json::from_value(ids).unwrap_or_default()
}

/// The id of the conversation open now (its row is the active one).
async fn open_conversation_id(app: &Client, title_part: &str) -> String {
    wait_for(
        app,
        &format!("the open conversation about {title_part}"),
        &format!(
            r#"const r = Array.from(document.querySelectorAll('[data-testid="conversation-item"]'))
                 .find(r => r.querySelector('[aria-current="page"]') && r.innerText.includes({}));
               return r ? r.dataset.id : null"#,
            json!(title_part)
        ),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

async fn project_count(app: &Client, project_id: &str) -> Value {
    eval(
        app,
        &format!(
            r#"const p = Array.from(document.querySelectorAll('[data-testid="project-item"]'))
                 .find(p => p.dataset.id === {});
               return p ? p.querySelector('[data-testid="project-count"]').innerText : null"#,
            json!(project_id)
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_gives_its_chats_instructions_and_keeps_them_together() {
    let dir = TestDir::new();
    let fake = FakeProvider::start(|request| {
        let asked = last_user_text(&request.json());
        Reply::sse(openai_stream(&[format!("Noted: {asked}")]))
    });
    let driver = Driver::start(&dir.data);
    let app = driver.session().await;
    create_passphrase_vault(&app, PASSPHRASE).await;
    configure_openai(&app, &fake.base_url("v1"), API_KEY).await;
    click(&app, "settings-close").await;

    // A project with instructions; it opens in the sidebar once made.
    click(&app, "project-new").await;
    type_into(&app, "project-name-input", "Garden").await;
    type_into(&app, "project-instructions", INSTRUCTIONS).await;
    click(&app, "project-save").await;
    wait_for(
        &app,
        "the project open in the sidebar",
        r#"const h = document.querySelector('[data-testid="project-heading-name"]');
           return h && h.innerText === "Garden""#,
    )
    .await;
    let project_id = eval(
        &app,
        r#"return document.querySelector('[data-testid="project-item"]').dataset.id"#,
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned();

    // A chat started in the project, with a temperature set beside the model picker: the
    // instructions go first as the system prompt, the temperature with the request.
    click(&app, "project-new-chat").await;
    find(&app, "chat-project").await;
    click(&app, "model-settings").await;
    type_into(&app, "model-settings-temperature", "0.3\u{E007}").await;
    wait_for(
        &app,
        "the settings label",
        r#"return document.querySelector('[data-testid="model-settings"]').innerText.trim() === "T 0.3""#,
    )
    .await;
    click(&app, "model-settings").await;
    screenshot(&app, "projects-01-new-chat-in-project").await;
    let request = send_and_wait(&app, &fake, "What grows in shade?").await;
    assert_eq!(request["messages"][0]["role"], "system", "{request}");
    assert_eq!(request["messages"][0]["content"], INSTRUCTIONS);
    assert_eq!(request["temperature"], 0.3);
    let in_project = open_conversation_id(&app, "What grows in shade").await;
    assert_eq!(project_count(&app, &project_id).await, "1");

    // Two conversations in no project.
    click(&app, "project-close").await;
    click(&app, "new-chat").await;
    let unfiled = send_and_wait(&app, &fake, "Do zebras like shade?").await;
    assert_eq!(
        unfiled["messages"][0]["role"], "user",
        "a chat in no project has no project instructions: {unfiled}"
    );
    let zebras = open_conversation_id(&app, "zebras like shade").await;
    click(&app, "new-chat").await;
    send_and_wait(&app, &fake, "Shade sails for a patio").await;
    let sails = open_conversation_id(&app, "Shade sails").await;
    assert_eq!(row_ids(&app).await, vec![sails.clone(), zebras.clone()]);

    // Drag the zebra conversation onto the project with the real mouse pointer. WebKit's
    // own drag machinery runs (dragstart on the row, dragover and drop on the project),
    // with Tauri's file-drop handler in place. WebKitWebDriver's pointer actions cannot
    // do this: they make mouse events but never start an HTML5 drag, so the pointer is
    // moved through XTEST instead (tests/e2e/xtest_drag.py). The page records the drag
    // events it saw, to show that the move came from a drag.
    let points = eval(
        &app,
        &format!(
            r#"const row = Array.from(document.querySelectorAll('[data-testid="conversation-item"]'))
                 .find(r => r.dataset.id === {zebras}).querySelector('[data-testid="conversation-title"]');
               const target = Array.from(document.querySelectorAll('[data-testid="project-item"]'))
                 .find(p => p.dataset.id === {project});
               window.__hearthDrags = [];
               for (const type of ["dragstart", "drop"]) {{
                 document.addEventListener(type, e => window.__hearthDrags.push(type), true);
               }}
               const a = row.getBoundingClientRect(), b = target.getBoundingClientRect();
               // The page's coordinates on the screen (no window manager under Xvfb: the
               // window's origin is its content's).
               return [window.screenX + a.left + 12, window.screenY + a.top + a.height / 2,
                       window.screenX + b.left + b.width / 2, window.screenY + b.top + b.height / 2]"#,
            zebras = json!(zebras),
            project = json!(project_id),
        ),
    )
    .await;
    let points: Vec<String> = points
        .as_array()
        .expect("four numbers")
        .iter()
        .map(|p| p.as_f64().expect("a number").round().to_string())
        .collect();
    let dragged = std::process::Command::new("python3")
        .arg(workspace().join("tests/e2e/xtest_drag.py"))
        .args(&points)
        .output()
        .expect("run python3 for the mouse drag");
    assert!(
        dragged.status.success(),
        "the mouse drag failed: {}",
        String::from_utf8_lossy(&dragged.stderr)
    );
    wait_for(
        &app,
        "the dragged conversation in the project",
        &format!(
            r#"const rows = Array.from(document.querySelectorAll('[data-testid="conversation-item"]')).map(r => r.dataset.id);
               const p = Array.from(document.querySelectorAll('[data-testid="project-item"]')).find(p => p.dataset.id === {});
               return !rows.includes({}) && p.querySelector('[data-testid="project-count"]').innerText === "2""#,
            json!(project_id),
            json!(zebras)
        ),
    )
    .await;
    assert_eq!(row_ids(&app).await, vec![sails.clone()]);
    assert_eq!(
        eval(&app, "return window.__hearthDrags").await,
        json!(["dragstart", "drop"]),
        "the conversation moved, but not by a drag"
    );
    find_css(
        &app,
        &format!(
            "{}[data-id=\"{project_id}\"] {}",
            hook("project-item"),
            hook("project-open")
        ),
    )
    .await
    .click()
    .await
    .expect("open the project");
    wait_for(
        &app,
        "both conversations in the project",
        &format!(
            r#"const rows = Array.from(document.querySelectorAll('[data-testid="conversation-item"]')).map(r => r.dataset.id);
               return rows.length === 2 && rows.includes({}) && rows.includes({})"#,
            json!(zebras),
            json!(in_project)
        ),
    )
    .await;
    screenshot(&app, "projects-02-project-list").await;
    // A conversation moved in gets the instructions from now on.
    find_css(
        &app,
        &format!("{}[data-id=\"{zebras}\"] .open", hook("conversation-item")),
    )
    .await
    .click()
    .await
    .expect("open the moved conversation");
    let moved = send_and_wait(&app, &fake, "And which shade trees?").await;
    assert_eq!(moved["messages"][0]["content"], INSTRUCTIONS, "{moved}");

    // A saved prompt, inserted with / and chosen with the keyboard.
    click(&app, "settings").await;
    click(&app, "settings-tab-prompts").await;
    click(&app, "prompt-add").await;
    type_into(&app, "prompt-name", "Shade plants").await;
    type_into(&app, "prompt-text", PROMPT_TEXT).await;
    click(&app, "prompt-save").await;
    find(&app, "prompt-item").await;
    click(&app, "settings-close").await;
    find_css(
        &app,
        &format!(
            "{}[data-id=\"{in_project}\"] .open",
            hook("conversation-item")
        ),
    )
    .await
    .click()
    .await
    .expect("open the project's first conversation");
    type_into(&app, "composer", "/sha").await;
    wait_for(
        &app,
        "the prompt picker",
        r#"const o = document.querySelectorAll('[data-testid="prompt-option"]');
           return o.length === 1 && o[0].innerText.includes("Shade plants")"#,
    )
    .await;
    screenshot(&app, "projects-03-prompt-picker").await;
    find(&app, "composer")
        .await
        .send_keys(&Key::Enter.to_string())
        .await
        .expect("press Enter");
    wait_for(
        &app,
        "the prompt's text in the composer",
        &format!(
            r#"return document.querySelector('[data-testid="composer"]').value === {}
                 && !document.querySelector('[data-testid="prompt-picker"]')"#,
            json!(PROMPT_TEXT)
        ),
    )
    .await;
    click(&app, "send").await;
    wait_for(
        &app,
        "the reply to the prompt",
        &format!(
            r#"return document.body.innerText.includes({})"#,
            json!(format!("Noted: {PROMPT_TEXT}"))
        ),
    )
    .await;
    let sent = chat_requests(&fake)
        .last()
        .map(RecordedRequest::json)
        .unwrap_or_default();
    assert_eq!(last_user_text(&sent), PROMPT_TEXT);

    // Find in the conversation: Ctrl+F, every match counted, Enter steps.
    find(&app, "composer")
        .await
        .send_keys(&format!("{}f{}", Key::Control, Key::Null))
        .await
        .expect("press Ctrl+F");
    type_into(&app, "find-input", "shade").await;
    wait_for(
        &app,
        "the matches counted",
        r#"const c = document.querySelector('[data-testid="find-count"]');
           return c && c.innerText === "1 of 4""#,
    )
    .await;
    let painted = eval(
        &app,
        r#"return typeof CSS !== "undefined" && !!CSS.highlights && typeof Highlight === "function""#,
    )
    .await;
    eprintln!("the CSS Custom Highlight API paints the matches: {painted}");
    find(&app, "find-input")
        .await
        .send_keys(&Key::Enter.to_string())
        .await
        .expect("press Enter");
    wait_for(
        &app,
        "the second match",
        r#"return document.querySelector('[data-testid="find-count"]').innerText === "2 of 4""#,
    )
    .await;
    screenshot(&app, "projects-04-find").await;
    find(&app, "find-input")
        .await
        .send_keys(&Key::Escape.to_string())
        .await
        .expect("press Escape");
    wait_for(
        &app,
        "the find bar closed",
        r#"return !document.querySelector('[data-testid="find-bar"]')"#,
    )
    .await;

    // Archive the unfiled conversation and restore it from the Archived view.
    click(&app, "project-close").await;
    find_css(
        &app,
        &format!("{}[data-id=\"{sails}\"] .open", hook("conversation-item")),
    )
    .await
    .click()
    .await
    .expect("open the sails conversation");
    find_css(
        &app,
        &format!(
            "{}[data-id=\"{sails}\"] {}",
            hook("conversation-item"),
            hook("conversation-archive")
        ),
    )
    .await
    .click()
    .await
    .expect("archive it");
    wait_for(
        &app,
        "the archived conversation gone from the list",
        &format!(
            r#"return !Array.from(document.querySelectorAll('[data-testid="conversation-item"]')).some(r => r.dataset.id === {})"#,
            json!(sails)
        ),
    )
    .await;
    click(&app, "archived-toggle").await;
    find(&app, "archived-heading").await;
    find_css(
        &app,
        &format!(
            "{}[data-id=\"{sails}\"] {}",
            hook("conversation-item"),
            hook("conversation-restore")
        ),
    )
    .await
    .click()
    .await
    .expect("restore it");
    find(&app, "archived-empty").await;
    click(&app, "archived-toggle").await;
    wait_for(
        &app,
        "the restored conversation back in the list",
        &format!(
            r#"return Array.from(document.querySelectorAll('[data-testid="conversation-item"]')).some(r => r.dataset.id === {})"#,
            json!(sails)
        ),
    )
    .await;

    // Search "shade": all three conversations; narrowed to the project, only its two.
    let hits = r#"return Array.from(document.querySelectorAll('[data-testid="search-result"]'))
                    .map(r => r.dataset.conversationId)"#;
    type_into(&app, "search-input", "shade").await;
    wait_for(
        &app,
        "results from every conversation",
        &format!(
            r#"const ids = new Set(Array.from(document.querySelectorAll('[data-testid="search-result"]')).map(r => r.dataset.conversationId));
               return ids.size === 3 && ids.has({})"#,
            json!(sails)
        ),
    )
    .await;
    click(&app, "search-filters-toggle").await;
    let select = find(&app, "search-filter-project").await;
    select
        .select_by_value(&project_id)
        .await
        .expect("choose the project");
    wait_for(
        &app,
        "results from the project only",
        &format!(
            r#"const ids = new Set(Array.from(document.querySelectorAll('[data-testid="search-result"]')).map(r => r.dataset.conversationId));
               return ids.size === 2 && ids.has({}) && ids.has({})"#,
            json!(in_project),
            json!(zebras)
        ),
    )
    .await;
    let shown = eval(&app, hits).await;
    assert!(
        !shown
            .as_array()
            .is_some_and(|ids| ids.iter().any(|id| id == sails.as_str())),
        "a conversation outside the project was found: {shown}"
    );
    screenshot(&app, "projects-05-search-filtered").await;
    app.close().await.expect("close the app");
}
