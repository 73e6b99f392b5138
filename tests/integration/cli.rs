//! The `hearth` CLI's documented behaviour: JSON shapes, search, delete, and clear errors
//! on bad input.

use hearth_keychain::OsKeychain;
use hearth_tests::*;
use hearth_vault::{NewConversation, NewMessage, Passphrase, Role, Vault, VaultPaths};

const PASS: &str = "cli test passphrase";

/// A new passphrase vault made by `hearth init`, and the vault opened directly.
fn new_vault() -> (TestDir, Vault) {
    let t = TestDir::new();
    run_ok(
        without_dbus(t.hearth().args(["init", "--passphrase", "--no-keychain"]))
            .env("HEARTH_PASSPHRASE", PASS),
    );
    let v = Vault::open(
        &VaultPaths::new(&t.data),
        &OsKeychain::default(),
        Some(&Passphrase::new(PASS)),
    )
    .unwrap();
    (t, v)
}

fn vault_with_two_conversations() -> (TestDir, String, String) {
    let (t, mut v) = new_vault();
    let a = v
        .create_conversation(NewConversation {
            title: "Bread baking".into(),
            ..Default::default()
        })
        .unwrap();
    let q = v
        .append_message(NewMessage::complete(
            &a.id,
            None,
            Role::User,
            "How long does sourdough proof?",
        ))
        .unwrap();
    v.append_message(NewMessage::complete(
        &a.id,
        Some(&q.id),
        Role::Assistant,
        "Overnight in the fridge works well.\x1b[2J",
    ))
    .unwrap();
    let b = v
        .create_conversation(NewConversation {
            title: "Trip".into(),
            ..Default::default()
        })
        .unwrap();
    v.append_message(NewMessage::complete(
        &b.id,
        None,
        Role::User,
        "Trains from Lyon to Turin?",
    ))
    .unwrap();
    v.lock().unwrap();
    (t, a.id, b.id)
}

fn hearth(t: &TestDir) -> std::process::Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd).env("HEARTH_PASSPHRASE", PASS);
    cmd
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{r:?}"))
}

#[test]
fn list_hides_archived_conversations_says_how_many_and_search_marks_them() {
    let (t, bread, trip) = vault_with_two_conversations();
    run_ok(hearth(&t).args(["archive", &bread]));

    let r = run_ok(hearth(&t).args(["list", "--json"]));
    let ids: Vec<_> = json(&r)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, [trip.as_str()]);
    assert!(
        r.stderr
            .contains("1 archived conversation not shown; use --archived"),
        "{r:?}"
    );
    let text = run_ok(hearth(&t).arg("list"));
    assert!(!text.stdout.contains(&bread), "{text:?}");
    assert!(
        text.stderr.contains("1 archived conversation not shown"),
        "{text:?}"
    );

    let r = run_ok(hearth(&t).args(["list", "--archived", "--json"]));
    assert!(!r.stderr.contains("not shown"), "{r:?}");
    let all = json(&r);
    let archived: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["archived"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(archived.contains(&(bread.clone(), true)), "{archived:?}");
    assert!(archived.contains(&(trip.clone(), false)), "{archived:?}");
    let text = run_ok(hearth(&t).args(["list", "--archived"]));
    let line = text.stdout.lines().find(|l| l.starts_with(&bread)).unwrap();
    assert!(line.ends_with("(archived)"), "{line}");

    let hits = json(&run_ok(hearth(&t).args(["search", "sourdough", "--json"])));
    assert_eq!(hits[0]["conversation_id"], bread.as_str());
    assert_eq!(hits[0]["archived"], true);
    let hits = json(&run_ok(hearth(&t).args(["search", "lyon", "--json"])));
    assert_eq!(hits[0]["archived"], false);

    let status = json(&run_ok(hearth(&t).args(["status", "--json"])));
    assert_eq!(status["counts"]["conversations"], 2);
    assert_eq!(status["counts"]["archived_conversations"], 1);

    run_ok(hearth(&t).args(["archive", "--off", &bread]));
    let r = run_ok(hearth(&t).args(["list", "--json"]));
    assert_eq!(json(&r).as_array().unwrap().len(), 2);
    assert!(!r.stderr.contains("not shown"), "{r:?}");
}

#[test]
fn list_search_show_and_delete() {
    let (t, bread, trip) = vault_with_two_conversations();
    let list = json(&run_ok(hearth(&t).args(["list", "--json"])));
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], trip.as_str(), "newest first");
    assert_eq!(items[1]["message_count"], 2);
    for key in ["id", "title", "updated_at", "message_count", "pinned"] {
        assert!(items[0].get(key).is_some(), "{key} missing");
    }

    run_ok(hearth(&t).args(["pin", &bread]));
    let list = json(&run_ok(hearth(&t).args(["list", "--json"])));
    assert_eq!(list[0]["id"], bread.as_str(), "pinned first");

    let hits = json(&run_ok(hearth(&t).args(["search", "sourdough", "--json"])));
    let hit = &hits[0];
    assert_eq!(hit["conversation_id"], bread.as_str());
    assert_eq!(hit["role"], "user");
    assert_eq!(hit["title"], "Bread baking");
    let snippet = hit["snippet"].as_str().unwrap();
    let (s, e) = (
        hit["highlights"][0][0].as_u64().unwrap() as usize,
        hit["highlights"][0][1].as_u64().unwrap() as usize,
    );
    assert_eq!(
        snippet.chars().skip(s).take(e - s).collect::<String>(),
        "sourdough"
    );
    let hits = json(&run_ok(hearth(&t).args(["search", "lyon tur", "--json"])));
    assert_eq!(hits[0]["conversation_id"], trip.as_str());
    let title_hits = json(&run_ok(hearth(&t).args(["search", "baking", "--json"])));
    assert_eq!(title_hits[0]["role"], "title");

    let shown = json(&run_ok(
        hearth(&t).args(["show", &bread, "--format", "json"]),
    ));
    assert_eq!(shown["messages"].as_array().unwrap().len(), 2);
    assert_eq!(shown["messages"][1]["status"], "complete");
    // Piped output is the text as stored, escape and all.
    let md = run_ok(hearth(&t).args(["show", &bread]));
    assert!(
        md.stdout.contains("# Bread baking") && md.stdout.contains("Overnight in the fridge"),
        "{md:?}"
    );

    run_ok(hearth(&t).args(["rename", &trip, "Italy by train"]));
    let list = json(&run_ok(hearth(&t).args(["list", "--json"])));
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["title"] == "Italy by train"));

    run_ok(hearth(&t).args(["delete", &bread]));
    let list = json(&run_ok(hearth(&t).args(["list", "--json"])));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(
        json(&run_ok(hearth(&t).args(["search", "sourdough", "--json"])))
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Deleted for real: the text is gone from the (encrypted) file, not just hidden.
    let key = run_ok(hearth(&t).args(["vault-key", "--reveal"]))
        .stdout
        .trim()
        .to_owned();
    let r = sqlcipher_query(
        &t.data.join("hearth.db"),
        &key,
        "SELECT count(*) FROM messages WHERE content LIKE '%sourdough%'",
    );
    assert_eq!(r.stdout.trim(), "0", "{r:?}");
}

#[test]
fn status_reports_mode_paths_counts_and_versions() {
    let (t, _, _) = vault_with_two_conversations();
    let s = json(&run_ok(hearth(&t).args(["status", "--json"])));
    assert_eq!(s["mode"], "passphrase");
    assert_eq!(s["locked"], false);
    assert_eq!(s["counts"]["conversations"], 2);
    assert_eq!(s["counts"]["messages"], 3);
    assert_eq!(
        s["versions"]["schema"],
        hearth_vault::schema::current_version()
    );
    assert!(
        s["versions"]["sqlcipher"]
            .as_str()
            .unwrap()
            .starts_with('4'),
        "{s}"
    );
    assert_eq!(
        s["paths"]["database"],
        t.data.join("hearth.db").display().to_string()
    );

    // Locked, with no way to ask: it still says what is there.
    let mut cmd = t.hearth();
    let s = json(&run_ok(without_dbus(&mut cmd).args(["status", "--json"])));
    assert_eq!(s["locked"], true);

    let fresh = TestDir::new();
    let s = json(&run_ok(fresh.hearth().args(["status", "--json"])));
    assert_eq!(s["initialized"], false);
    assert!(!fresh.data.exists(), "status must not create anything");
}

#[test]
fn providers_and_keys_are_configured_without_showing_keys() {
    let (t, _, _) = vault_with_two_conversations();
    run_ok(hearth(&t).args([
        "provider",
        "set",
        "ollama",
        "--base-url",
        "http://127.0.0.1:11500/v1",
        "--default-model",
        "llama3",
        "--default",
    ]));
    run_ok(hearth(&t).args([
        "provider",
        "set",
        "mybox",
        "--kind",
        "openai-compatible",
        "--base-url",
        "https://llm.example.org/v1",
    ]));
    let r = run(hearth(&t).args([
        "provider",
        "set",
        "other",
        "--kind",
        "openai-compatible",
        "--base-url",
        "http://192.168.1.2:8000/v1",
    ]));
    assert_clear_failure(&r, "https");
    let r = run(hearth(&t).args(["provider", "set", "newthing"]));
    assert_clear_failure(&r, "--kind");
    let providers = json(&run_ok(hearth(&t).args(["provider", "list", "--json"])));
    let all = providers.as_array().unwrap();
    assert_eq!(all.len(), 11);
    let ollama = all.iter().find(|p| p["id"] == "ollama").unwrap();
    assert_eq!(
        (ollama["base_url"].as_str(), ollama["is_default"].as_bool()),
        (Some("http://127.0.0.1:11500/v1"), Some(true))
    );

    let secret = "sk-proj-ABCDEFGHIJKLMNOP-wxyz";
    let r = run_with_input(
        hearth(&t).args(["key", "set", "openai"]),
        format!("{secret}\n").as_bytes(),
    );
    assert!(
        r.ok() && r.stderr.contains("…wxyz") && !r.stderr.contains(secret),
        "{r:?}"
    );
    let keys = json(&run_ok(hearth(&t).args(["key", "list", "--json"])));
    assert!(!keys.to_string().contains(secret));
    assert_eq!(
        keys.as_array()
            .unwrap()
            .iter()
            .find(|k| k["provider"] == "openai")
            .unwrap()["key_hint"],
        "…wxyz"
    );
    let r = run_with_input(hearth(&t).args(["key", "set", "nosuch"]), b"sk-123");
    assert_clear_failure(&r, "unknown provider");
    run_ok(hearth(&t).args(["key", "remove", "openai"]));
    let keys = json(&run_ok(hearth(&t).args(["key", "list", "--json"])));
    assert!(keys
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["key_hint"].is_null()));
}

#[test]
fn bad_input_gets_one_clear_line_and_no_panic() {
    let (t, _, _) = vault_with_two_conversations();
    assert_clear_failure(
        &run(hearth(&t).args(["show", "no-such-id"])),
        "no conversation",
    );
    assert_clear_failure(
        &run(hearth(&t).args(["delete", "no-such-id"])),
        "no conversation",
    );
    assert_clear_failure(&run(hearth(&t).args(["vault-key"])), "--reveal");
    // Search syntax in user input is only text.
    for q in ["\"", "AND OR NOT", "*", "col:umn", "(", "NEAR(a b)"] {
        let r = run(hearth(&t).args(["search", q, "--json"]));
        assert!(r.ok(), "{q:?}: {r:?}");
    }
    let empty = TestDir::new();
    assert_clear_failure(&run(empty.hearth().arg("list")), "hearth init");
    let r = run(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    assert_clear_failure(&r, "already exists");
    let short = TestDir::new();
    let r = run(without_dbus(
        short
            .hearth()
            .args(["init", "--passphrase", "--no-keychain"]),
    )
    .env("HEARTH_PASSPHRASE", "short"));
    assert_clear_failure(&r, "at least 8");
    assert!(!short.data.join("vault.json").exists());
}

/// Everything an import may carry that could drive a terminal: an OSC title change, a
/// colour, a screen clear, bidi overrides and isolates, and a C1 CSI.
const HOSTILE: &str =
    "\u{1b}]0;pwned\u{7}\u{1b}[31m\u{1b}[2J\u{202e}\u{2066}\u{200f}\u{61c}\u{9b}33m";

/// A vault holding one imported conversation whose id, title, model and text are hostile.
fn vault_with_a_hostile_import() -> (TestDir, String) {
    let (t, v) = new_vault();
    drop(v);
    let id = format!("imported{HOSTILE}id");
    let conversation = serde_json::json!({
        "id": id, "title": format!("Sourdough {HOSTILE} notes"), "created_at": 1, "updated_at": 2,
        "provider_id": format!("prov{HOSTILE}"), "model": format!("model{HOSTILE}"),
        "system_prompt": null, "params": null, "pinned": false, "archived": false,
        "source": null, "source_id": null, "head_message_id": "m2",
        "messages": [
            {"id": "m1", "parent_id": null, "role": "user", "content": format!("sourdough question {HOSTILE}"),
             "reasoning": null, "status": "complete", "error": null, "provider_id": null, "model": null,
             "tokens_in": null, "tokens_out": null, "created_at": 1, "finished_at": 1},
            {"id": "m2", "parent_id": "m1", "role": "assistant", "content": format!("sourdough answer {HOSTILE}"),
             "reasoning": null, "status": "error", "error": format!("{{\"kind\":\"server\",\"message\":\"boom {HOSTILE}\"}}"),
             "provider_id": format!("prov{HOSTILE}"), "model": format!("model{HOSTILE}"),
             "tokens_in": null, "tokens_out": null, "created_at": 2, "finished_at": 2},
        ],
    });
    let export = format!(
        "{{\"format\":\"hearth-export\",\"version\":1,\"exported_at\":3,\"app\":\"test\",\"conversations\":[\n{conversation}\n]}}\n"
    );
    let file = t.root.path().join("hostile.json");
    std::fs::write(&file, export).unwrap();
    let mut import = hearth(&t);
    run_ok(import.arg("import").arg(&file));
    (t, id)
}

/// `program ARGS` (a wrapper that runs `hearth` itself) on the passphrase vault in `t`,
/// with no keychain and nothing on stdin.
fn through(t: &TestDir, program: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .env("HEARTH_DATA_DIR", &t.data)
        .env("HEARTH_PASSPHRASE", PASS)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/hearth-test-bus",
        )
        .stdin(std::process::Stdio::null());
    cmd
}

/// Runs `hearth ARGS` on a pseudo-terminal (util-linux `script`), stdout and stderr both
/// going to it, and returns what the terminal received.
/// `$ID` in `args` is the hostile id, passed through the environment.
fn on_a_terminal(t: &TestDir, id: &str, args: &str) -> String {
    let out = through(
        t,
        "script",
        &[
            "-qec",
            &format!("{} {args}", hearth_bin().display()),
            "/dev/null",
        ],
    )
    .env("ID", id)
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_neutral(shown: &str, what: &str) {
    for bad in [
        "\u{1b}]",
        "\u{7}",
        "\u{1b}[31m",
        "\u{1b}[2J",
        "\u{202e}",
        "\u{2066}",
        "\u{200f}",
        "\u{61c}",
        "\u{9b}",
    ] {
        assert!(
            !shown.contains(bad),
            "{what}: {bad:?} reached the terminal: {shown:?}"
        );
    }
}

#[test]
fn terminal_output_neutralises_ids_titles_models_and_text_from_an_import() {
    let (t, id) = vault_with_a_hostile_import();
    let search = on_a_terminal(&t, &id, "search sourdough");
    assert!(
        search.contains("imported") && search.contains("sourdough"),
        "{search:?}"
    );
    assert_neutral(&search, "search");
    let list = on_a_terminal(&t, &id, "list");
    assert!(list.contains("Sourdough"), "{list:?}");
    assert_neutral(&list, "list");
    let show = on_a_terminal(&t, &id, "show \"$ID\"");
    assert!(
        show.contains("sourdough answer") && show.contains("boom"),
        "{show:?}"
    );
    assert_neutral(&show, "show");

    // JSON on a terminal is still JSON, with the same data, the controls escaped.
    let json_out = on_a_terminal(&t, &id, "search sourdough --json");
    assert_neutral(&json_out, "search --json");
    assert!(
        json_out.contains("\\u202e") && json_out.contains("\\u009b"),
        "{json_out:?}"
    );
    let hits: serde_json::Value = serde_json::from_str(json_out.trim()).unwrap();
    assert!(hits
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["conversation_id"] == id.as_str()));

    // A pipe gets the data exactly as stored.
    let r = run_ok(hearth(&t).args(["search", "sourdough", "--json"]));
    let hits = json(&r);
    assert!(hits
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["conversation_id"] == id.as_str()));
    let r = run_ok(hearth(&t).args(["show", &id]));
    assert!(r.stdout.contains(HOSTILE), "a pipe is exact");
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let (t, mut v) = new_vault();
    let c = v
        .create_conversation(NewConversation {
            title: "Long".into(),
            ..Default::default()
        })
        .unwrap();
    // Far more than a pipe buffers, so the writer meets the closed pipe.
    let long = "line of a long reply\n".repeat(50_000);
    v.append_message(NewMessage::complete(&c.id, None, Role::User, &long))
        .unwrap();
    drop(v);
    for args in [
        format!("show {}", c.id),
        format!("show {} --format json", c.id),
        "list".to_owned(),
    ] {
        // `head -c 10` reads ten bytes and exits; bash reports hearth's own status.
        let out = through(
            &t,
            "bash",
            &[
                "-c",
                &format!(
                    "{} {args} | head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}",
                    hearth_bin().display()
                ),
            ],
        )
        .output()
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args}: {stderr}");
        assert!(stderr.trim().is_empty(), "{args}: {stderr}");
    }
}
