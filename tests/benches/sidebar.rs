//! The desktop app's sidebar with 50 projects and 10,000 conversations: how long the real
//! app, in its WebKitGTK window, takes from a click on a project to showing that
//! project's conversations. A benchmark, not a test: it prints numbers for
//! docs/PERFORMANCE.md and asserts nothing about them.
//!
//! Needs what the end-to-end tests need (an X display, `tauri-driver`, the app built with
//! `custom-protocol`); `scripts/measure-desktop.sh --sidebar` runs it under Xvfb in a
//! private D-Bus session:
//! `cargo bench -p hearth-tests --features e2e --bench sidebar`.

#[allow(dead_code, clippy::unwrap_used)]
#[path = "../e2e/driver.rs"]
mod driver;

use std::sync::Arc;
use std::time::Duration;

use driver::{click, find, type_into, wait_for, Driver};
use hearth_engine::{AppPaths, ConversationTree, Engine, KeyProtection, Passphrase};
use hearth_vault::{Conversation, Message, MessageStatus, Role};
use serde_json::{json, Value};

const PASSPHRASE: &str = "sidebar benchmark passphrase";
const PROJECTS: usize = 50;
const CONVERSATIONS: usize = 10_000;
const ROUNDS: usize = 40;

fn tree(c: usize, project: Option<String>) -> ConversationTree {
    let id = format!("bench-{c:05}");
    let at = 1_700_000_000_000 + c as i64 * 60_000;
    let message = |m: usize, role, text: String| Message {
        id: format!("{id}-{m}"),
        conversation_id: id.clone(),
        parent_id: (m > 0).then(|| format!("{id}-0")),
        role,
        content: text,
        reasoning: None,
        status: MessageStatus::Complete,
        error: None,
        provider_id: None,
        model: None,
        tokens_in: None,
        tokens_out: None,
        created_at: at + m as i64,
        finished_at: Some(at + m as i64),
    };
    ConversationTree {
        conversation: Conversation {
            id: id.clone(),
            title: format!("Conversation {c}"),
            created_at: at,
            updated_at: at + 1,
            provider_id: None,
            model: None,
            system_prompt: None,
            params_json: None,
            pinned: false,
            archived: false,
            source: None,
            source_id: None,
            head_message_id: Some(format!("{id}-1")),
            project_id: project,
        },
        messages: vec![
            message(0, Role::User, format!("Question {c} about the hearth")),
            message(1, Role::Assistant, format!("Answer {c}, at some length.")),
        ],
        attachments: Vec::new(),
        tool_calls: Vec::new(),
    }
}

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (n={})",
        at(0.5),
        at(0.95),
        at(1.0),
        ms.len()
    )
}

/// Clicks project `index` in the sidebar and resolves, in the page, when its heading
/// names it and its newest conversation is the first row (`dom`), and after the next
/// frame is drawn (`frame`), in ms from the click.
const MEASURE: &str = r#"
const [index, name, first, done] = arguments;
const buttons = document.querySelectorAll('[data-testid="project-open"]');
const ready = () => {
  const heading = document.querySelector('[data-testid="project-heading-name"]');
  const row = document.querySelector('[data-testid="conversation-item"] [data-testid="conversation-title"]');
  return heading && heading.innerText === name && row && row.innerText === first;
};
const start = performance.now();
let settled = false;
const finish = () => {
  if (settled || !ready()) return;
  settled = true;
  observer.disconnect();
  const dom = performance.now() - start;
  requestAnimationFrame(() => requestAnimationFrame(() =>
    done({ dom, frame: performance.now() - start })));
};
const observer = new MutationObserver(finish);
observer.observe(document.body, { subtree: true, childList: true, characterData: true });
setTimeout(() => { if (!settled) { observer.disconnect(); done({ timeout: true }); } }, 10000);
buttons[index].click();
"#;

fn main() {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        println!("sidebar: skipped in test mode");
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let data = home.path().join("hearth");
    let started = std::time::Instant::now();
    let mut firsts = Vec::new();
    {
        let engine = Engine::create(
            &AppPaths::new(&data),
            Arc::new(hearth_keychain::MemoryStore::unavailable()),
            KeyProtection::Passphrase(Passphrase::new(PASSPHRASE)),
        )
        .expect("vault");
        let projects: Vec<_> = (0..PROJECTS)
            .map(|p| {
                engine
                    .create_project(&format!("Project {p:02}"), "Be brief.")
                    .expect("project")
            })
            .collect();
        // Every tenth conversation is in no project; the others go round the projects.
        let mut newest = vec![String::new(); PROJECTS];
        let mut filed = 0usize;
        let trees: Vec<_> = (0..CONVERSATIONS)
            .map(|c| {
                let project = (!c.is_multiple_of(10)).then(|| {
                    filed += 1;
                    let p = filed % PROJECTS;
                    newest[p] = format!("Conversation {c}");
                    projects[p].id.clone()
                });
                Ok::<_, hearth_engine::EngineError>(tree(c, project))
            })
            .collect();
        engine.import_trees(trees, |_| {}).expect("import");
        // The sidebar lists projects by name: Project 00, 01, …
        firsts.extend(newest);
    }
    println!(
        "built {PROJECTS} projects and {CONVERSATIONS} conversations in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let driver = Driver::start(&data);
        let app = driver.session().await;
        type_into(&app, "passphrase-input", PASSPHRASE).await;
        click(&app, "unlock-submit").await;
        find(&app, "new-chat").await;
        wait_for(
            &app,
            "the projects",
            &format!(
                "return document.querySelectorAll('[data-testid=\"project-open\"]').length === {PROJECTS}"
            ),
        )
        .await;
        let (mut dom, mut frame) = (Vec::new(), Vec::new());
        // Warm-up: each project once (the first opening of each, as after an unlock).
        let mut first_open = Vec::new();
        for round in 0..PROJECTS + ROUNDS {
            // Never the project already open: p, then p + 7, … around the list.
            let index = (round * 7) % PROJECTS;
            let args = vec![
                json!(index),
                json!(format!("Project {index:02}")),
                json!(firsts[index]),
            ];
            let got: Value = app
                .execute_async(MEASURE, args)
                .await
                .expect("the measuring script");
            if got.get("timeout").is_some() {
                panic!("project {index} never showed its conversations");
            }
            let (d, f) = (
                got["dom"].as_f64().unwrap_or(f64::NAN),
                got["frame"].as_f64().unwrap_or(f64::NAN),
            );
            if round < PROJECTS {
                first_open.push(f);
            } else {
                dom.push(d);
                frame.push(f);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!("first opening of each project, click to drawn: {}", percentiles(first_open));
        println!("opening a project again, click to rows in the page: {}", percentiles(dom));
        println!("opening a project again, click to drawn: {}", percentiles(frame));
        app.close().await.ok();
    });
}
