//! Projects, saved prompts and model settings, through the real `hearth` binary against
//! the loopback fake provider: a project's instructions and files reach every request of
//! its conversations in each protocol's shape and stop when a conversation moves out;
//! model settings appear only when set, each in its protocol's own field; moving,
//! archiving, deleting a project (both ways) and retention leave no conversation
//! unreachable and no row orphaned (checked with an independent SQLCipher client); and
//! search filters return exactly the expected hits on a generated vault.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

use hearth_engine::{AppPaths, Engine, Passphrase};
use hearth_keychain::MemoryStore;
use hearth_tests::fake_provider::*;
use hearth_tests::*;
use serde_json::Value;

const PASS: &str = "projects test passphrase";
const INSTRUCTIONS: &str = "Answer as a careful archivist; cite the notes.";
const NOTES: &str = "# Field notes\nThe hearth stones are granite.\n";
const NOTES_BLOCK: &str =
    "<file name=\"notes.md\" type=\"text/markdown\">\n# Field notes\nThe hearth stones are granite.\n</file>";

fn hearth(t: &TestDir) -> Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd).env("HEARTH_PASSPHRASE", PASS);
    cmd
}

fn setup(fake: &FakeProvider, kind: &str, seg: &str) -> TestDir {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    use_mock_provider(|| hearth(&t), kind, &fake.base_url(seg));
    let r = run_with_input(hearth(&t).args(["key", "set", "mock"]), b"sk-projects-test");
    assert!(r.ok(), "{r:?}");
    t
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{r:?}"))
}

fn list(t: &TestDir, extra: &[&str]) -> Vec<Value> {
    let r = run_ok(hearth(t).args(["list", "--json"]).args(extra));
    json(&r).as_array().cloned().unwrap()
}

fn fixture(kind: &str) -> &'static str {
    match kind {
        "openai-compatible" => "openai-basic.sse",
        "anthropic" => "anthropic-basic.sse",
        _ => "gemini-basic.sse",
    }
}

const PROTOCOLS: [(&str, &str); 3] = [
    ("openai-compatible", "/v1"),
    ("anthropic", "/v1"),
    ("gemini", "/v1beta"),
];

/// The system prompt `body` carries, in `kind`'s own place.
fn system_of(kind: &str, body: &Value) -> Option<String> {
    match kind {
        "openai-compatible" => {
            let first = &body["messages"][0];
            (first["role"] == "system").then(|| first["content"].as_str().unwrap().to_owned())
        }
        "anthropic" => body["system"].as_str().map(str::to_owned),
        _ => body["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .map(str::to_owned),
    }
}

/// The text parts of the first user turn of `body`.
fn first_question_texts(kind: &str, body: &Value) -> Vec<String> {
    let content = match kind {
        "openai-compatible" => {
            let messages = body["messages"].as_array().unwrap();
            let first = messages.iter().find(|m| m["role"] == "user").unwrap();
            first["content"].clone()
        }
        "anthropic" => body["messages"][0]["content"].clone(),
        _ => body["contents"][0]["parts"].clone(),
    };
    match content {
        Value::String(s) => vec![s],
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str().map(str::to_owned))
            .collect(),
        other => panic!("{kind}: unexpected content {other}"),
    }
}

#[test]
fn a_projects_instructions_and_files_reach_every_request_and_stop_when_it_moves_out() {
    for (kind, seg) in PROTOCOLS {
        let fake = FakeProvider::always(Reply::sse_fixture(fixture(kind)));
        let t = setup(&fake, kind, seg);
        let instructions = t.root.path().join("instructions.txt");
        std::fs::write(&instructions, INSTRUCTIONS).unwrap();
        let notes = t.root.path().join("notes.md");
        std::fs::write(&notes, NOTES).unwrap();
        run_ok(
            hearth(&t)
                .args(["project", "add", "Archive work", "--instructions-file"])
                .arg(&instructions),
        );
        run_ok(
            hearth(&t)
                .args(["project", "attach", "archive WORK"])
                .arg(&notes),
        );
        run_ok(hearth(&t).args(["chat", "--project", "Archive work", "first question"]));
        let id = list(&t, &[])[0]["id"].as_str().unwrap().to_owned();
        let projects = json(&run_ok(hearth(&t).args(["project", "list", "--json"])));
        assert_eq!(list(&t, &[])[0]["project_id"], projects[0]["id"], "{kind}");
        let shown = json(&run_ok(hearth(&t).args(["show", &id, "--format", "json"])));
        assert_eq!(
            shown["conversation"]["project_id"], projects[0]["id"],
            "{kind}"
        );
        run_ok(hearth(&t).args(["chat", "--conversation", &id, "second question"]));
        run_ok(hearth(&t).args(["move", &id, "--none"]));
        run_ok(hearth(&t).args(["chat", "--conversation", &id, "third question"]));

        let requests = fake.requests();
        assert_eq!(requests.len(), 3, "{kind}");
        for (n, request) in requests.iter().take(2).enumerate() {
            let body = request.json();
            assert_eq!(
                system_of(kind, &body).as_deref(),
                Some(INSTRUCTIONS),
                "{kind}, request {n}"
            );
            assert_eq!(
                first_question_texts(kind, &body),
                [NOTES_BLOCK, "first question"],
                "{kind}, request {n}: the project's file goes first with the first question"
            );
        }
        // Out of the project: neither its instructions nor its file.
        let body = requests[2].json();
        assert_eq!(system_of(kind, &body), None, "{kind}");
        assert_eq!(
            first_question_texts(kind, &body),
            ["first question"],
            "{kind}"
        );
        assert!(!requests[2].body_text().contains("granite"), "{kind}");
        // Nothing of the project was ever in a file on disk in the clear.
        assert_absent(&t.data, "hearth stones are granite");
        assert_absent(&t.data, "careful archivist");
    }
}

#[test]
fn model_settings_are_sent_only_when_set_each_in_its_protocols_own_field() {
    for (kind, seg) in PROTOCOLS {
        let fake = FakeProvider::always(Reply::sse_fixture(fixture(kind)));
        let t = setup(&fake, kind, seg);
        run_ok(hearth(&t).args(["chat", "plain"]));
        run_ok(hearth(&t).args([
            "chat",
            "--temperature",
            "0.25",
            "--max-tokens",
            "900",
            "with settings",
        ]));
        let id = list(&t, &[])[0]["id"].as_str().unwrap().to_owned();
        let shown = json(&run_ok(hearth(&t).args(["show", &id, "--format", "json"])));
        assert_eq!(
            shown["conversation"]["settings"],
            serde_json::json!({"temperature": 0.25, "max_tokens": 900, "reasoning": null})
        );
        // The conversation keeps its settings for the next request.
        run_ok(hearth(&t).args(["chat", "--conversation", &id, "again"]));
        run_ok(hearth(&t).args([
            "chat",
            "--temperature",
            "0.25",
            "--reasoning",
            "high",
            "think hard",
        ]));
        // A project's defaults apply to its conversations; their own settings win.
        run_ok(hearth(&t).args(["project", "add", "Tuned"]));
        run_ok(hearth(&t).args([
            "project",
            "set",
            "Tuned",
            "--temperature",
            "0.5",
            "--max-tokens",
            "700",
        ]));
        run_ok(hearth(&t).args(["chat", "--project", "Tuned", "--max-tokens", "300", "mixed"]));
        // A project's model without a provider is the default provider's.
        run_ok(hearth(&t).args(["project", "set", "Tuned", "--model", "project-model"]));
        run_ok(hearth(&t).args(["chat", "--project", "Tuned", "own model"]));

        let requests = fake.requests();
        let own_model = requests.last().unwrap();
        match kind {
            "gemini" => assert!(
                own_model.path_only().contains("/models/project-model:"),
                "{}",
                own_model.path_only()
            ),
            _ => assert_eq!(own_model.json()["model"], "project-model", "{kind}"),
        }
        let bodies: Vec<Value> = requests[..5].iter().map(|r| r.json()).collect();
        let (plain, set, again, reasoning, mixed) =
            (&bodies[0], &bodies[1], &bodies[2], &bodies[3], &bodies[4]);
        match kind {
            "openai-compatible" => {
                for key in [
                    "temperature",
                    "max_tokens",
                    "max_completion_tokens",
                    "reasoning_effort",
                ] {
                    assert!(plain.get(key).is_none(), "{key} sent unset: {plain}");
                }
                for b in [set, again] {
                    assert_eq!(b["temperature"], 0.25);
                    assert_eq!(b["max_tokens"], 900);
                    assert!(b.get("reasoning_effort").is_none());
                }
                assert_eq!(reasoning["reasoning_effort"], "high");
                assert_eq!(reasoning["temperature"], 0.25);
                assert!(reasoning.get("max_tokens").is_none());
                assert_eq!(mixed["temperature"], 0.5);
                assert_eq!(mixed["max_tokens"], 300);
            }
            "anthropic" => {
                // Anthropic requires max_tokens: Hearth's default when unset.
                assert_eq!(plain["max_tokens"], 8192);
                assert!(plain.get("temperature").is_none() && plain.get("thinking").is_none());
                for b in [set, again] {
                    assert_eq!(b["temperature"], 0.25);
                    assert_eq!(b["max_tokens"], 900);
                }
                assert_eq!(
                    reasoning["thinking"],
                    serde_json::json!({"type": "enabled", "budget_tokens": 24576})
                );
                // Room for the reply beside the thinking, and no temperature with it.
                assert!(reasoning["max_tokens"].as_u64().unwrap() >= 24576 + 1024);
                assert!(reasoning.get("temperature").is_none(), "{reasoning}");
                assert_eq!(mixed["temperature"], 0.5);
                assert_eq!(mixed["max_tokens"], 300);
            }
            _ => {
                assert!(plain.get("generationConfig").is_none(), "{plain}");
                for b in [set, again] {
                    assert_eq!(b["generationConfig"]["temperature"], 0.25);
                    assert_eq!(b["generationConfig"]["maxOutputTokens"], 900);
                    assert!(b["generationConfig"].get("thinkingConfig").is_none());
                }
                assert_eq!(
                    reasoning["generationConfig"]["thinkingConfig"],
                    serde_json::json!({"thinkingBudget": 24576})
                );
                assert_eq!(mixed["generationConfig"]["temperature"], 0.5);
                assert_eq!(mixed["generationConfig"]["maxOutputTokens"], 300);
            }
        }
        // Bad values are refused before anything is sent or saved.
        let before = fake.requests().len();
        let r = run(hearth(&t).args(["chat", "--temperature", "3", "too hot"]));
        assert_clear_failure(&r, "temperature must be between 0 and 2");
        assert_eq!(fake.requests().len(), before);
        assert_eq!(list(&t, &["--all"]).len(), 5, "{kind}: nothing saved");
    }
}

#[test]
fn openai_itself_gets_max_completion_tokens() {
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    run_ok(hearth(&t).args([
        "provider",
        "set",
        "openai",
        "--base-url",
        &fake.base_url("/v1"),
        "--default-model",
        "gpt-test",
        "--default",
    ]));
    let r = run_with_input(hearth(&t).args(["key", "set", "openai"]), b"sk-openai-test");
    assert!(r.ok(), "{r:?}");
    run_ok(hearth(&t).args(["chat", "--max-tokens", "640", "--reasoning", "low", "hi"]));
    let body = fake.requests()[0].json();
    assert_eq!(body["max_completion_tokens"], 640, "{body}");
    assert!(body.get("max_tokens").is_none(), "{body}");
    assert_eq!(body["reasoning_effort"], "low");
}

fn key_hex(t: &TestDir) -> String {
    run_ok(hearth(t).args(["vault-key", "--reveal"]))
        .stdout
        .trim()
        .to_owned()
}

/// Rows that point at nothing, counted by an independent SQLCipher client: each count
/// must be 0.
fn orphans(t: &TestDir) -> Vec<(String, i64)> {
    let checks = [
        ("conversations in no existing project", "SELECT count(*) FROM conversations WHERE project_id IS NOT NULL AND project_id NOT IN (SELECT id FROM projects)"),
        ("project files of no project", "SELECT count(*) FROM project_files WHERE project_id NOT IN (SELECT id FROM projects)"),
        ("messages of no conversation", "SELECT count(*) FROM messages WHERE conversation_id NOT IN (SELECT id FROM conversations)"),
        ("blobs nothing names", "SELECT count(*) FROM attachment_blobs b WHERE NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.blob_seq = b.seq) AND NOT EXISTS (SELECT 1 FROM project_files f WHERE f.blob_seq = b.seq)"),
        ("chunks of no blob", "SELECT count(*) FROM attachment_chunks WHERE blob_seq NOT IN (SELECT seq FROM attachment_blobs)"),
        ("foreign key violations", "SELECT count(*) FROM pragma_foreign_key_check"),
    ];
    let key = key_hex(t);
    checks
        .iter()
        .map(|(what, sql)| {
            let r = sqlcipher_query(&t.data.join("hearth.db"), &key, sql);
            assert!(r.ok(), "{what}: {r:?}");
            (what.to_string(), r.stdout.trim().parse().unwrap())
        })
        .collect()
}

fn assert_no_orphans(t: &TestDir, when: &str) {
    for (what, n) in orphans(t) {
        assert_eq!(n, 0, "{what} after {when}");
    }
}

fn count(t: &TestDir, sql: &str) -> i64 {
    let r = sqlcipher_query(&t.data.join("hearth.db"), &key_hex(t), sql);
    assert!(r.ok(), "{r:?}");
    r.stdout.trim().parse().unwrap()
}

fn ids(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn moving_archiving_deleting_projects_and_retention_leave_nothing_unreachable_or_orphaned() {
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    let t = setup(&fake, "openai-compatible", "/v1");
    let shared = t.root.path().join("shared.txt");
    std::fs::write(&shared, "shared by both projects").unwrap();
    let own = t.root.path().join("own.txt");
    std::fs::write(&own, "only the second project has this").unwrap();
    let attached = t.root.path().join("attached.txt");
    std::fs::write(&attached, "shared by both projects").unwrap();
    for name in ["Keep", "Drop"] {
        run_ok(hearth(&t).args(["project", "add", name]));
        run_ok(hearth(&t).args(["project", "attach", name]).arg(&shared));
    }
    run_ok(hearth(&t).args(["project", "attach", "Drop"]).arg(&own));
    let mut made = Vec::new();
    for (project, text) in [
        (Some("Keep"), "keep one"),
        (Some("Keep"), "keep two"),
        (Some("Drop"), "drop one"),
        (Some("Drop"), "drop two"),
        (None, "loose"),
    ] {
        let mut cmd = hearth(&t);
        cmd.arg("chat");
        if let Some(p) = project {
            cmd.args(["--project", p]);
        }
        // A message's own file with the same bytes as a project file.
        if text == "drop one" {
            cmd.arg("--attach").arg(&attached);
        }
        run_ok(cmd.arg(text));
        made.push(list(&t, &["--all"])[0]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(count(&t, "SELECT count(*) FROM attachment_blobs"), 2);
    let status = json(&run_ok(hearth(&t).args(["status", "--json"])));
    assert_eq!(status["counts"]["projects"], 2);
    assert_eq!(status["counts"]["project_files"], 3);
    assert_no_orphans(&t, "setup");

    // Moving and archiving change lists, never reachability.
    run_ok(hearth(&t).args(["move", &made[4], "--project", "Keep"]));
    run_ok(hearth(&t).args(["archive", &made[0]]));
    let keep = list(&t, &["--project", "Keep"]);
    assert_eq!(ids(&keep), ids(&[json_id(&made[1]), json_id(&made[4])]));
    assert!(list(&t, &["--unfiled"]).is_empty());
    assert_eq!(list(&t, &["--all"]).len(), 5);
    run_ok(hearth(&t).args(["move", &made[4], "--none"]));
    assert_eq!(ids(&list(&t, &["--unfiled"])), ids(&[json_id(&made[4])]));
    let r = run(hearth(&t).args(["move", &made[4], "--project", "Nowhere"]));
    assert_clear_failure(&r, "no project named \"Nowhere\"");
    assert_no_orphans(&t, "moving and archiving");

    // Deleting Keep keeps its conversations (the archived one too), in no project.
    run_ok(hearth(&t).args(["project", "remove", "Keep"]));
    let all = list(&t, &["--all"]);
    assert_eq!(all.len(), 5);
    for id in [&made[0], &made[1]] {
        let row = all.iter().find(|r| r["id"] == id.as_str()).unwrap();
        assert_eq!(row["project_id"], Value::Null);
    }
    assert_eq!(
        count(&t, "SELECT count(*) FROM attachment_blobs"),
        2,
        "Drop still names both"
    );
    assert_no_orphans(&t, "deleting a project and keeping its conversations");

    // Deleting Drop with its conversations deletes exactly those.
    run_ok(hearth(&t).args(["project", "remove", "Drop", "--with-conversations"]));
    assert_eq!(
        ids(&list(&t, &["--all"])),
        ids(&[json_id(&made[0]), json_id(&made[1]), json_id(&made[4])])
    );
    assert_eq!(count(&t, "SELECT count(*) FROM attachment_blobs"), 0);
    assert_eq!(count(&t, "SELECT count(*) FROM projects"), 0);
    assert_no_orphans(&t, "deleting a project with its conversations");

    // Retention deletes old conversations in a project like any other, archived ones
    // too, and leaves the project (now empty) and nothing dangling.
    run_ok(hearth(&t).args(["project", "add", "Later"]));
    run_ok(hearth(&t).args(["project", "attach", "Later"]).arg(&own));
    run_ok(hearth(&t).args(["move", &made[0], "--project", "Later"]));
    run_ok(hearth(&t).args(["pin", &made[1]]));
    {
        let engine = Engine::open(
            &AppPaths::new(&t.data),
            Arc::new(MemoryStore::unavailable()),
            Some(&Passphrase::new(PASS)),
        )
        .unwrap();
        engine
            .set_settings(hearth_engine::Settings {
                retention_days: Some(30),
                ..Default::default()
            })
            .unwrap();
        let later = hearth_vault::now_ms() + 31 * 86_400_000;
        assert_eq!(engine.apply_retention_at(later).unwrap(), 2);
    }
    assert_eq!(
        ids(&list(&t, &["--all"])),
        ids(&[json_id(&made[1])]),
        "the pinned one stays"
    );
    let projects = json(&run_ok(hearth(&t).args(["project", "list", "--json"])));
    assert_eq!(projects[0]["conversations"], 0);
    assert_eq!(projects[0]["files"], 1);
    assert_no_orphans(&t, "retention");
}

fn json_id(id: &str) -> Value {
    serde_json::json!({ "id": id })
}

#[test]
fn prompts_are_saved_listed_and_removed_through_the_cli() {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    run_ok(hearth(&t).args(["prompt", "add", "Review", "--text", "Review this code:\n"]));
    let r = run_with_input(
        hearth(&t).args(["prompt", "add", "Summarise"]),
        "Summarise in three bullet points.\n".as_bytes(),
    );
    assert!(r.ok(), "{r:?}");
    let r = run(hearth(&t).args(["prompt", "add", "review", "--text", "again"]));
    assert_clear_failure(&r, "already a prompt named");
    let prompts = json(&run_ok(hearth(&t).args(["prompt", "list", "--json"])));
    let names: Vec<&str> = prompts
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Review", "Summarise"]);
    assert_eq!(prompts[1]["text"], "Summarise in three bullet points.");
    let shown = run_ok(hearth(&t).args(["prompt", "show", "summarise"]));
    assert_eq!(shown.stdout, "Summarise in three bullet points.\n");
    run_ok(hearth(&t).args(["prompt", "remove", "Review"]));
    let r = run(hearth(&t).args(["prompt", "remove", "Review"]));
    assert_clear_failure(&r, "no saved prompt named");
    assert_absent(&t.data, "three bullet points");
}

/// One generated message: where it lives and what it is.
struct Made {
    message: String,
    project: Option<&'static str>,
    archived: bool,
    role: &'static str,
    day: i64,
}

#[test]
fn search_filters_return_exactly_the_expected_hits_on_a_generated_vault() {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    for name in ["Alpha", "Beta"] {
        run_ok(hearth(&t).args(["project", "add", name]));
    }
    let projects = json(&run_ok(hearth(&t).args(["project", "list", "--json"])));
    let project_id = |name: &str| {
        projects
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (alpha, beta) = (project_id("Alpha"), project_id("Beta"));
    // 36 conversations: no project, Alpha or Beta; archived or not; six days in 2026.
    // Each holds a question and a reply that both say "quokka". Their times come in
    // through the engine's import, the way old conversations arrive.
    let day_ms = 86_400_000i64;
    let jan1 = 1_767_225_600_000i64; // 2026-01-01T00:00:00Z
    let mut made = Vec::new();
    let mut trees = Vec::new();
    let mut n = 0;
    for project in [None, Some("Alpha"), Some("Beta")] {
        for archived in [false, true] {
            for day in 0..6i64 {
                n += 1;
                let at = jan1 + day * day_ms + 3_600_000;
                let id = format!("conv-{n}");
                let q = format!("{id}-q");
                let a = format!("{id}-a");
                let message = |mid: &str, parent: Option<&str>, role, text: String, t| {
                    hearth_vault::Message {
                        id: mid.to_owned(),
                        conversation_id: id.clone(),
                        parent_id: parent.map(str::to_owned),
                        role,
                        content: text,
                        reasoning: None,
                        status: hearth_vault::MessageStatus::Complete,
                        error: None,
                        provider_id: None,
                        model: None,
                        tokens_in: None,
                        tokens_out: None,
                        created_at: t,
                        finished_at: Some(t),
                    }
                };
                trees.push(Ok::<_, hearth_engine::EngineError>(
                    hearth_engine::ConversationTree {
                        conversation: hearth_vault::Conversation {
                            id: id.clone(),
                            title: format!("generated {n}"),
                            created_at: at,
                            updated_at: at + 1,
                            provider_id: None,
                            model: None,
                            system_prompt: None,
                            params_json: None,
                            pinned: false,
                            archived,
                            source: None,
                            source_id: None,
                            head_message_id: Some(a.clone()),
                            project_id: project.map(|p| {
                                if p == "Alpha" {
                                    alpha.clone()
                                } else {
                                    beta.clone()
                                }
                            }),
                        },
                        messages: vec![
                            message(
                                &q,
                                None,
                                hearth_vault::Role::User,
                                format!("quokka question {n}"),
                                at,
                            ),
                            message(
                                &a,
                                Some(&q),
                                hearth_vault::Role::Assistant,
                                format!("quokka answer {n}"),
                                at + 1,
                            ),
                        ],
                        attachments: Vec::new(),
                        tool_calls: Vec::new(),
                    },
                ));
                for (mid, role) in [(q, "user"), (a, "assistant")] {
                    made.push(Made {
                        message: mid,
                        project,
                        archived,
                        role,
                        day,
                    });
                }
            }
        }
    }
    {
        let engine = Engine::open(
            &AppPaths::new(&t.data),
            Arc::new(MemoryStore::unavailable()),
            Some(&Passphrase::new(PASS)),
        )
        .unwrap();
        engine.import_trees(trees, |_| {}).unwrap();
    }
    let search = |args: &[&str]| -> BTreeSet<String> {
        let r = run_ok(
            hearth(&t)
                .args(["search", "quokka", "--limit", "1000", "--json"])
                .args(args),
        );
        json(&r)
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                assert!(h["message_id"].is_string(), "titles do not say quokka: {h}");
                h["message_id"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    type Pred = Box<dyn Fn(&Made) -> bool>;
    let cases: Vec<(Vec<&str>, Pred)> = vec![
        (vec![], Box::new(|_| true)),
        (
            vec!["--project", "alpha"],
            Box::new(|m| m.project == Some("Alpha")),
        ),
        (vec!["--archived"], Box::new(|m| m.archived)),
        (
            vec!["--active", "--role", "user"],
            Box::new(|m| !m.archived && m.role == "user"),
        ),
        (
            vec![
                "--role",
                "assistant",
                "--since",
                "2026-01-02",
                "--until",
                "2026-01-04",
            ],
            Box::new(|m| m.role == "assistant" && (1..=3).contains(&m.day)),
        ),
        (
            vec!["--project", "Beta", "--archived", "--since", "2026-01-05"],
            Box::new(|m| m.project == Some("Beta") && m.archived && m.day >= 4),
        ),
        (vec!["--until", "2026-01-01"], Box::new(|m| m.day == 0)),
    ];
    for (args, keep) in cases {
        let expected: BTreeSet<String> = made
            .iter()
            .filter(|m| keep(m))
            .map(|m| m.message.clone())
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(search(&args), expected, "search {args:?}");
    }
    // Title hits obey the project filter and vanish with a role filter.
    let titles = |args: &[&str]| {
        let r = run_ok(
            hearth(&t)
                .args(["search", "generated", "--limit", "1000", "--json"])
                .args(args),
        );
        json(&r).as_array().unwrap().len()
    };
    assert_eq!(titles(&[]), 36);
    assert_eq!(titles(&["--project", "Alpha"]), 12);
    assert_eq!(titles(&["--role", "user"]), 0);
    // Bad filters are clear errors.
    assert_clear_failure(
        &run(hearth(&t).args(["search", "quokka", "--since", "January"])),
        "YYYY-MM-DD",
    );
    assert_clear_failure(
        &run(hearth(&t).args(["search", "quokka", "--project", "Gamma"])),
        "no project named",
    );
    assert_clear_failure(
        &run(hearth(&t).args([
            "search",
            "quokka",
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-01",
        ])),
        "nothing can match",
    );
}

#[test]
fn a_temporary_chat_sends_its_settings_and_saves_nothing() {
    let fake = FakeProvider::always(Reply::sse_fixture("anthropic-basic.sse"));
    let t = setup(&fake, "anthropic", "/v1");
    run_ok(hearth(&t).args([
        "chat",
        "--temporary",
        "--temperature",
        "0.9",
        "--max-tokens",
        "123",
        "just this once",
    ]));
    let body = fake.requests()[0].json();
    assert_eq!(body["temperature"], 0.9);
    assert_eq!(body["max_tokens"], 123);
    assert!(list(&t, &["--all"]).is_empty());
    assert_absent(&t.data, "just this once");
}
