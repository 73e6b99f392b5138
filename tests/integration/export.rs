//! Export: `hearth export` in its three formats, driven through the real binary, and
//! what comes back in. JSON and archive exports must reproduce every conversation,
//! branch and message in a fresh vault; broken or tampered files must import nothing;
//! the archive must hold no text in the clear; no export may hold an API key; Markdown
//! file names must stay inside their folder. (Generated trees are covered by the
//! engine's property test; this file checks the files the CLI writes.)

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hearth_engine::{
    AppPaths, Conversation, ConversationTree, Engine, ImportReport, Message, MessageStatus,
    Passphrase, Role, StoredToolCall, ToolCallStatus,
};
use hearth_keychain::MemoryStore;
use hearth_tests::*;
use hearth_vault::{Vault, VaultPaths};

const PASS: &str = "export test vault passphrase";
const ARCHIVE_PASS: &str = "export test archive passphrase";

/// `hearth` on a passphrase vault, with no keychain reachable.
fn hearth(t: &TestDir) -> std::process::Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd)
        .env("HEARTH_PASSPHRASE", PASS)
        .env_remove("HEARTH_ARCHIVE_PASSPHRASE");
    cmd
}

/// A new passphrase vault.
fn setup() -> TestDir {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    t
}

fn open_engine(data: &Path) -> Engine {
    Engine::open(
        &AppPaths::new(data),
        Arc::new(MemoryStore::unavailable()),
        Some(&Passphrase::new(PASS)),
    )
    .unwrap()
}

/// Every conversation in the vault at `data`, every message, as the vault gives them.
fn trees(data: &Path) -> Vec<ConversationTree> {
    let vault = Vault::open(
        &VaultPaths::new(data),
        &MemoryStore::unavailable(),
        Some(&Passphrase::new(PASS)),
    )
    .unwrap();
    let mut out = Vec::new();
    vault
        .for_each_tree(None, |t| {
            out.push(t);
            Ok(())
        })
        .unwrap();
    out
}

fn message(c: &str, id: &str, parent: Option<&str>, role: Role, text: &str, at: i64) -> Message {
    Message {
        id: format!("{c}-{id}"),
        conversation_id: c.into(),
        parent_id: parent.map(|p| format!("{c}-{p}")),
        role,
        content: text.into(),
        reasoning: None,
        status: MessageStatus::Complete,
        error: None,
        provider_id: None,
        model: None,
        tokens_in: None,
        tokens_out: None,
        created_at: at,
        finished_at: Some(at + 1_500),
    }
}

/// A conversation with an edited question and a regenerated answer: three branches,
/// the visible one ending at `a3`.
fn branched(id: &str, title: &str, at: i64, text: &str) -> ConversationTree {
    let mut a1 = message(
        id,
        "a1",
        Some("q1"),
        Role::Assistant,
        "Old answer.",
        at + 60_000,
    );
    a1.model = Some("gpt-test".into());
    a1.provider_id = Some("openai".into());
    let mut a2 = message(
        id,
        "a2",
        Some("q1"),
        Role::Assistant,
        "Cut off",
        at + 120_000,
    );
    a2.status = MessageStatus::Cancelled;
    a2.model = Some("gpt-test".into());
    let mut a3 = message(id, "a3", Some("q2"), Role::Assistant, text, at + 240_000);
    a3.model = Some("claude-test".into());
    a3.provider_id = Some("anthropic".into());
    a3.reasoning = Some("Let me think.".into());
    a3.tokens_in = Some(42);
    a3.tokens_out = Some(7);
    ConversationTree {
        conversation: Conversation {
            id: id.into(),
            title: title.into(),
            created_at: at,
            updated_at: at + 240_000,
            provider_id: Some("anthropic".into()),
            model: Some("claude-test".into()),
            system_prompt: Some("Answer plainly.".into()),
            params_json: Some(r#"{"temperature":0.3}"#.into()),
            pinned: false,
            archived: false,
            source: None,
            source_id: None,
            head_message_id: Some(format!("{id}-a3")),
            project_id: None,
        },
        messages: vec![
            message(id, "q1", None, Role::User, "First question?", at),
            a1,
            a2,
            message(id, "q2", None, Role::User, "Edited question?", at + 180_000),
            a3,
        ],
        attachments: Vec::new(),
        tool_calls: Vec::new(),
    }
}

/// `tree` (from [`branched`]) whose replies used tools: the visible one looked something
/// up before its text, whose result says `result`; the stopped one asked for a call
/// that was cancelled.
fn with_tool_calls(mut tree: ConversationTree, result: &str) -> ConversationTree {
    let id = tree.conversation.id.clone();
    let call = |message: &str, position: i64, status: ToolCallStatus, result: &str| {
        let at = T0 + 250_000 + position;
        StoredToolCall {
            id: format!("{id}-{message}-call{position}"),
            message_id: format!("{id}-{message}"),
            position,
            step: position,
            text_offset: 0,
            reasoning_offset: 0,
            call_id: format!("toolu_{position}"),
            server: "notes".into(),
            tool: "search".into(),
            arguments: r#"{"query":"hearth"}"#.into(),
            signature: Some("c2lnbmF0dXJl".into()),
            status,
            result: Some(result.into()),
            created_at: at,
            finished_at: Some(at + 100),
        }
    };
    tree.tool_calls = vec![
        call("a2", 0, ToolCallStatus::Cancelled, "stopped"),
        call("a3", 0, ToolCallStatus::Approved, result),
        call(
            "a3",
            1,
            ToolCallStatus::Failed,
            "the notes server is not running",
        ),
    ];
    tree
}

/// 2024-05-01 12:00 UTC.
const T0: i64 = 1_714_564_800_000;

/// A vault holding `conversations`.
fn vault_with(conversations: Vec<ConversationTree>) -> TestDir {
    let t = setup();
    let engine = open_engine(&t.data);
    engine
        .import_trees(conversations.into_iter().map(Ok), |_| {})
        .unwrap();
    engine.lock().unwrap();
    t
}

fn standard_vault() -> TestDir {
    vault_with(vec![
        with_tool_calls(
            branched("conv-1", "Hearths", T0, "A fireplace."),
            "hearth: the floor of a fireplace",
        ),
        branched(
            "conv-2",
            "Émoji 🔥 and مرحبا",
            T0 + 3_600_000,
            "🔥\u{202e}txt",
        ),
    ])
}

fn out_path(t: &TestDir, name: &str) -> PathBuf {
    t.root.path().join(name)
}

fn export(t: &TestDir, format: &str, path: &Path, extra: &[&str]) -> Run {
    let mut cmd = hearth(t);
    cmd.env("HEARTH_ARCHIVE_PASSPHRASE", ARCHIVE_PASS)
        .args(["export", "--format", format, "--output"])
        .arg(path)
        .args(extra);
    run(&mut cmd)
}

/// A fresh vault that imported `file` with `import`.
fn import_into_fresh(
    import: impl FnOnce(&Engine, std::fs::File) -> hearth_engine::Result<ImportReport>,
    file: &Path,
) -> (TestDir, ImportReport) {
    let t = setup();
    let engine = open_engine(&t.data);
    let report = import(&engine, std::fs::File::open(file).unwrap()).unwrap();
    engine.lock().unwrap();
    (t, report)
}

fn import_json(e: &Engine, f: std::fs::File) -> hearth_engine::Result<ImportReport> {
    e.import_hearth_json(std::io::BufReader::new(f), |_| {})
}

fn import_archive(e: &Engine, f: std::fs::File) -> hearth_engine::Result<ImportReport> {
    e.import_hearth_archive(
        std::io::BufReader::new(f),
        &Passphrase::new(ARCHIVE_PASS),
        |_| {},
    )
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn json_and_archive_exports_reproduce_every_branch_in_a_fresh_vault() {
    let t = standard_vault();
    let original = trees(&t.data);
    assert_eq!(original.len(), 2);
    assert_eq!(original[0].tool_calls.len(), 3);

    let json = out_path(&t, "export.json");
    let r = export(&t, "json", &json, &[]);
    assert!(r.ok(), "{r:?}");
    assert!(
        r.stderr.contains("Exported 2 conversations (10 messages)"),
        "{r:?}"
    );
    let archive = out_path(&t, "export.hearth");
    assert!(export(&t, "archive", &archive, &[]).ok());
    #[cfg(unix)]
    {
        assert_eq!(mode(&json), 0o600);
        assert_eq!(mode(&archive), 0o600);
    }
    // Only what was asked for: no temp files beside them.
    let mut names: Vec<_> = std::fs::read_dir(t.root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["export.hearth", "export.json", "hearth-data"]);

    let (from_json, report) = import_into_fresh(import_json, &json);
    assert_eq!((report.added, report.messages), (2, 10));
    assert_eq!(trees(&from_json.data), original);
    let (from_archive, report) = import_into_fresh(import_archive, &archive);
    assert_eq!((report.added, report.messages), (2, 10));
    assert_eq!(trees(&from_archive.data), original);

    // Importing the same export again adds nothing.
    let engine = open_engine(&from_json.data);
    let again = import_json(&engine, std::fs::File::open(&json).unwrap()).unwrap();
    assert_eq!((again.added, again.skipped, again.messages), (0, 2, 0));
    let again = import_archive(&engine, std::fs::File::open(&archive).unwrap()).unwrap();
    assert_eq!((again.added, again.skipped), (0, 2));
    engine.lock().unwrap();
    assert_eq!(trees(&from_json.data), original);

    // One conversation.
    let one = out_path(&t, "one.json");
    assert!(export(&t, "json", &one, &["--conversation", "conv-2"]).ok());
    let (single, _) = import_into_fresh(import_json, &one);
    assert_eq!(trees(&single.data), vec![original[1].clone()]);
    let r = export(
        &t,
        "json",
        &out_path(&t, "none.json"),
        &["--conversation", "nope"],
    );
    assert!(!r.ok());
    assert!(!out_path(&t, "none.json").exists());
}

#[test]
fn an_export_never_overwrites_anything() {
    let t = standard_vault();
    for (format, name) in [
        ("json", "taken.json"),
        ("archive", "taken.hearth"),
        ("markdown", "taken"),
    ] {
        let path = out_path(&t, name);
        std::fs::write(&path, b"precious").unwrap();
        let r = export(&t, format, &path, &[]);
        assert_clear_failure(&r, "already exists");
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    }
    let folder = out_path(&t, "folder");
    std::fs::create_dir(&folder).unwrap();
    assert_clear_failure(&export(&t, "markdown", &folder, &[]), "already exists");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
}

#[test]
fn an_archive_needs_its_own_passphrase() {
    let t = standard_vault();
    let path = out_path(&t, "x.hearth");
    let r = run(hearth(&t)
        .args(["export", "--format", "archive", "--output"])
        .arg(&path));
    assert_clear_failure(&r, "HEARTH_ARCHIVE_PASSPHRASE");
    let r = run(hearth(&t)
        .env("HEARTH_ARCHIVE_PASSPHRASE", "short")
        .args(["export", "--format", "archive", "--output"])
        .arg(&path));
    assert_clear_failure(&r, "at least 8 characters");
    assert!(!path.exists());
}

#[test]
fn the_archive_holds_no_text_in_the_clear_and_no_export_holds_an_api_key() {
    let secret = canary("conversation-text");
    let title = canary("title");
    let key = format!("sk-{}", canary("api-key"));
    let tool_result = canary("tool-result");
    let mut tree = with_tool_calls(branched("conv-c", &title, T0, &secret), &tool_result);
    tree.messages[0].content = format!("question {secret}");
    let t = vault_with(vec![tree]);
    let r = run_with_input(hearth(&t).args(["key", "set", "openai"]), key.as_bytes());
    assert!(r.ok(), "{r:?}");

    let sealed = out_path(&t, "sealed");
    let plain = out_path(&t, "plain");
    std::fs::create_dir_all(&sealed).unwrap();
    std::fs::create_dir_all(&plain).unwrap();
    assert!(export(&t, "archive", &sealed.join("all.hearth"), &[]).ok());
    assert!(export(&t, "json", &plain.join("all.json"), &[]).ok());
    assert!(export(&t, "markdown", &plain.join("md"), &[]).ok());
    assert!(export(
        &t,
        "markdown",
        &plain.join("one.md"),
        &["--conversation", "conv-c"]
    )
    .ok());

    // The scan can see text: the plaintext exports hold it.
    assert!(!files_containing(&plain, secret.as_bytes()).is_empty());
    assert!(!files_containing(&plain, title.as_bytes()).is_empty());
    assert!(!files_containing(&plain, tool_result.as_bytes()).is_empty());
    // Markdown shows the visible reply's calls where they happened, before its text.
    let md = std::fs::read_to_string(plain.join("one.md")).unwrap();
    let call = md.find("**Tool call** `notes/search` (approved)").unwrap();
    assert!(md.find(&tool_result).unwrap() > call, "{md}");
    assert!(md.rfind(&secret).unwrap() > call, "{md}");
    assert!(md.contains("**Tool call** `notes/search` (failed)"), "{md}");
    assert!(
        !md.contains("(cancelled)"),
        "the stopped reply is hidden: {md}"
    );
    for needle in [
        &secret,
        &title,
        &tool_result,
        &"Edited question?".to_owned(),
        &"Answer plainly.".to_owned(),
    ] {
        assert_absent(&sealed, needle);
    }
    for dir in [&sealed, &plain] {
        assert_absent(dir, &key);
        assert_absent(dir, &key[key.len() - 12..]);
    }
    // The archive still holds the conversation, its tool calls with it.
    let (back, _) = import_into_fresh(import_archive, &sealed.join("all.hearth"));
    let back = trees(&back.data);
    assert!(back[0].messages[0].content.contains(&secret));
    assert_eq!(
        back[0].tool_calls[1].result.as_deref(),
        Some(tool_result.as_str())
    );
}

/// JSON text of a vault with three conversations, the middle one large.
fn three_conversation_export() -> (TestDir, Vec<u8>) {
    let t = vault_with(vec![
        branched("c1", "one", T0, "first"),
        branched("c2", "two", T0 + 1, &"long answer ".repeat(30_000)),
        branched("c3", "three", T0 + 2, "third"),
    ]);
    let path = out_path(&t, "three.json");
    assert!(export(&t, "json", &path, &[]).ok());
    let bytes = std::fs::read(&path).unwrap();
    (t, bytes)
}

/// Whether the vault behind `engine` holds no conversation at all.
fn is_empty(engine: &Engine) -> bool {
    engine.list_conversations(true, 10, 0).unwrap().is_empty()
}

#[test]
fn a_json_export_cut_short_or_broken_in_the_middle_imports_nothing() {
    let (_t, bytes) = three_conversation_export();
    let dest = setup();
    let engine = open_engine(&dest.data);
    let import = |bytes: &[u8]| {
        let e = engine
            .import_hearth_json(bytes, |_| {})
            .unwrap_err()
            .to_string();
        assert!(is_empty(&engine), "imported something: {e}");
        e
    };
    for cut in [
        1,
        40,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 300,
        bytes.len() - 3,
    ] {
        let e = import(&bytes[..cut]);
        assert!(
            e.contains("line ") && e.ends_with("nothing was imported"),
            "cut at {cut}: {e}"
        );
    }

    // The third conversation broken: the first two must not stay.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let broken = text.replacen(
        r#""id":"c3-q1","parent_id":null,"role":"user""#,
        r#""id":"c3-q1","parent_id":null,"role":42"#,
        1,
    );
    assert_ne!(broken, text);
    let e = import(broken.as_bytes());
    assert!(
        e.contains("conversation 3") && e.contains("line 4 column"),
        "{e}"
    );

    // The middle one with a message before its parent.
    let broken = text.replacen(r#""parent_id":"c2-q1""#, r#""parent_id":"c2-a3""#, 1);
    let e = import(broken.as_bytes());
    assert!(
        e.contains("conversation 2 (c2, ending on line 3)") && e.contains("parent"),
        "{e}"
    );

    // The whole file still imports.
    assert_eq!(
        engine.import_hearth_json(&bytes[..], |_| {}).unwrap().added,
        3
    );
}

/// Archive layout, as docs/export-format.md gives it.
const HEADER: usize = 81;
const CHUNK: usize = 64 * 1024 + 16;

#[test]
fn a_tampered_or_truncated_archive_imports_nothing() {
    let (t, _) = three_conversation_export();
    let path = out_path(&t, "three.hearth");
    assert!(export(&t, "archive", &path, &[]).ok());
    let archive = std::fs::read(&path).unwrap();
    let chunks = (archive.len() - HEADER).div_ceil(CHUNK);
    assert!(chunks >= 4, "{chunks} chunks");
    let chunk =
        |i: usize| &archive[HEADER + i * CHUNK..(HEADER + (i + 1) * CHUNK).min(archive.len())];

    let mut cases: Vec<(String, Vec<u8>, &str)> = Vec::new();
    cases.push((
        "wrong passphrase".into(),
        archive.clone(),
        "wrong archive passphrase",
    ));
    for at in [0, 8, 20, 30, 40, 45, 70] {
        let mut bad = archive.clone();
        bad[at] ^= 0x01;
        cases.push((format!("header byte {at} flipped"), bad, ""));
    }
    for at in [HEADER, HEADER + CHUNK + 100, archive.len() - 1] {
        let mut bad = archive.clone();
        bad[at] ^= 0x80;
        cases.push((format!("byte {at} flipped"), bad, "authenticate"));
    }
    for cut in [
        HEADER - 1,
        HEADER,
        HEADER + 10,
        HEADER + CHUNK,
        HEADER + 2 * CHUNK,
        HEADER + 2 * CHUNK + 1,
        archive.len() - 1,
    ] {
        cases.push((
            format!("cut at {cut}"),
            archive[..cut].to_vec(),
            "cut short",
        ));
    }
    let with = |order: &[usize]| {
        let mut out = archive[..HEADER].to_vec();
        for &i in order {
            out.extend_from_slice(chunk(i));
        }
        out
    };
    let all: Vec<usize> = (0..chunks).collect();
    let mut swapped = all.clone();
    swapped.swap(1, 2);
    cases.push((
        "chunks 2 and 3 swapped".into(),
        with(&swapped),
        "authenticate",
    ));
    let mut doubled = all.clone();
    doubled.insert(1, 1);
    cases.push(("chunk 2 twice".into(), with(&doubled), "authenticate"));
    let mut dropped = all.clone();
    dropped.remove(1);
    cases.push(("chunk 2 dropped".into(), with(&dropped), "authenticate"));
    cases.push((
        "final chunk dropped".into(),
        with(&all[..chunks - 1]),
        "cut short",
    ));

    let dest = setup();
    let engine = open_engine(&dest.data);
    for (what, bytes, needle) in cases {
        let pass = if what == "wrong passphrase" {
            "not the archive passphrase"
        } else {
            ARCHIVE_PASS
        };
        let e = engine
            .import_hearth_archive(&bytes[..], &Passphrase::new(pass), |_| {})
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"))
            .to_string();
        assert!(
            e.contains(needle) && e.ends_with("nothing was imported"),
            "{what}: {e}"
        );
        assert!(is_empty(&engine), "{what}: imported something");
    }
    // The archive itself is fine.
    let report = engine
        .import_hearth_archive(&archive[..], &Passphrase::new(ARCHIVE_PASS), |_| {})
        .unwrap();
    assert_eq!(report.added, 3);
}

#[test]
fn markdown_shows_the_visible_branch_as_written() {
    let t = vault_with(vec![branched(
        "conv-1",
        "Hearths",
        T0,
        "A fireplace.\n\n- warm\n- old",
    )]);
    let path = out_path(&t, "hearths.md");
    let r = export(&t, "markdown", &path, &["--conversation", "conv-1"]);
    assert!(r.ok(), "{r:?}");
    let expected = "\
# Hearths

Created 2024-05-01 12:00 UTC · Updated 2024-05-01 12:04 UTC

---

**System prompt**

Answer plainly.

---

**You** · 2024-05-01 12:03 UTC

Edited question?

---

**Assistant** · claude-test · 2024-05-01 12:04 UTC

<details>
<summary>Reasoning</summary>

Let me think.

</details>

A fireplace.

- warm
- old
";
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn markdown_file_names_from_hostile_titles_stay_in_the_folder() {
    let long = "a very long title ".repeat(40);
    let titles = [
        "../../etc/passwd",
        "CON",
        "",
        &long,
        "🔥🔥🔥",
        "/absolute",
        "..",
        "a\\b:c*?",
    ];
    let conversations = titles
        .iter()
        .enumerate()
        .map(|(i, title)| branched(&format!("conv-{i}"), title, T0 + i as i64, "x"))
        .collect();
    let t = vault_with(conversations);
    let folder = out_path(&t, "md");
    let r = export(&t, "markdown", &folder, &[]);
    assert!(r.ok(), "{r:?}");
    assert!(r.stderr.contains("Wrote 8 Markdown files"), "{r:?}");

    let all = snapshot(t.root.path());
    let outside: Vec<_> = all
        .keys()
        .filter(|p| !p.starts_with(&folder) && !p.starts_with(&t.data))
        .collect();
    assert!(
        outside.is_empty(),
        "written outside the folder: {outside:?}"
    );
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let long_name = format!(
        "{} (conv6).md",
        long.trim().chars().take(60).collect::<String>().trim()
    );
    let mut expected = vec![
        "_.._etc_passwd (conv0).md".to_owned(),
        "_CON (conv1).md".to_owned(),
        "Untitled (conv2).md".to_owned(),
        long_name.replace("(conv6)", "(conv3)"),
        "🔥🔥🔥 (conv4).md".to_owned(),
        "_absolute (conv5).md".to_owned(),
        "Untitled (conv6).md".to_owned(),
        "a_b_c__ (conv7).md".to_owned(),
    ];
    expected.sort();
    assert_eq!(names, expected);
    for name in &names {
        assert!(name.len() <= 255);
    }
}

/// The vault at `data`, opened directly (to read what the CLI does not show).
fn open_vault(data: &Path) -> Vault {
    Vault::open(
        &VaultPaths::new(data),
        &MemoryStore::unavailable(),
        Some(&Passphrase::new(PASS)),
    )
    .unwrap()
}

/// Every project with its files, every saved prompt, and the bytes of every project
/// file (by file id), as the vault at `data` holds them.
#[allow(clippy::type_complexity)]
fn projects_of(
    data: &Path,
) -> (
    Vec<hearth_vault::ProjectTree>,
    Vec<hearth_vault::Prompt>,
    Vec<(String, Vec<u8>)>,
) {
    let vault = open_vault(data);
    let trees = vault.project_trees().unwrap();
    let mut bytes = Vec::new();
    for f in trees.iter().flat_map(|t| &t.files) {
        let mut b = Vec::new();
        vault
            .read_project_file(&f.id, &mut |c| {
                b.extend_from_slice(c);
                Ok(())
            })
            .unwrap();
        bytes.push((f.id.clone(), b));
    }
    (trees, vault.prompts().unwrap(), bytes)
}

#[test]
fn projects_prompts_and_model_settings_survive_json_and_archive_exports_exactly() {
    let instructions = canary("project-instructions");
    let prompt_text = canary("saved-prompt");
    let t = standard_vault();
    let dir = t.root.path();
    std::fs::write(dir.join("instructions.txt"), &instructions).unwrap();
    run_ok(
        hearth(&t)
            .args([
                "project",
                "add",
                "Fireside «notes» 🔥",
                "--instructions-file",
            ])
            .arg(dir.join("instructions.txt")),
    );
    run_ok(hearth(&t).args(["project", "add", "Empty"]));
    run_ok(hearth(&t).args([
        "project",
        "set",
        "Fireside «notes» 🔥",
        "--provider",
        "anthropic",
        "--model",
        "claude-test",
        "--temperature",
        "0.2",
        "--max-tokens",
        "800",
        "--reasoning",
        "high",
    ]));
    // A Markdown file, a picture and a text file; the text file is removed again, so
    // the positions left have a gap.
    let rules = "# Rules\n\nOnly dry, seasoned wood. Ça brûle mieux.\n".as_bytes();
    std::fs::write(dir.join("rules.md"), rules).unwrap();
    std::fs::write(dir.join("gone.txt"), b"removed again").unwrap();
    let photo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/attachments/test.jpg");
    run_ok(
        hearth(&t)
            .args(["project", "attach", "Fireside «notes» 🔥"])
            .arg(dir.join("rules.md"))
            .arg(dir.join("gone.txt"))
            .arg(&photo),
    );
    let shown: serde_json::Value = serde_json::from_str(
        &run_ok(hearth(&t).args(["project", "show", "Fireside «notes» 🔥", "--json"])).stdout,
    )
    .unwrap();
    let gone = shown["files"][1]["id"].as_str().unwrap().to_owned();
    run_ok(hearth(&t).args(["project", "detach", &gone]));
    run_ok(hearth(&t).args(["move", "conv-1", "--project", "Fireside «notes» 🔥"]));
    run_ok(hearth(&t).args(["prompt", "add", "Shorter", "--text", &prompt_text]));
    run_ok(hearth(&t).args([
        "prompt",
        "add",
        "Translate",
        "--text",
        "Translate into French:",
    ]));
    {
        let engine = open_engine(&t.data);
        engine
            .set_conversation_settings(
                "conv-2",
                hearth_engine::ModelSettings {
                    temperature: Some(1.5),
                    max_tokens: Some(200),
                    reasoning: Some(hearth_engine::Reasoning::Low),
                },
            )
            .unwrap();
        engine.lock().unwrap();
    }
    let original = trees(&t.data);
    let (projects, prompts, bytes) = projects_of(&t.data);
    assert_eq!((projects.len(), prompts.len()), (2, 2));
    let fireside = projects
        .iter()
        .find(|p| p.project.name.starts_with("Fireside"))
        .unwrap();
    assert_eq!(
        fireside
            .files
            .iter()
            .map(|f| f.position)
            .collect::<Vec<_>>(),
        [0, 2]
    );
    assert_eq!(
        bytes.iter().map(|(_, b)| sha256_hex(b)).collect::<Vec<_>>(),
        [
            sha256_hex(rules),
            sha256_hex(&std::fs::read(&photo).unwrap())
        ]
    );
    assert_eq!(
        original[0].conversation.project_id.as_deref(),
        Some(fireside.project.id.as_str())
    );

    let json = out_path(&t, "all.json");
    let archive = out_path(&t, "all.hearth");
    assert!(export(&t, "json", &json, &[]).ok());
    assert!(export(&t, "archive", &archive, &[]).ok());
    // Nothing of the projects or prompts is in the archive in the clear.
    for needle in [
        &instructions,
        &prompt_text,
        &"Only dry, seasoned wood".to_owned(),
    ] {
        assert_absent(&archive, needle);
    }
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(value["version"], 4);
    assert_eq!(
        value["projects"][0]["params"],
        serde_json::json!({"temperature": 0.2, "max_tokens": 800, "reasoning": "high"})
    );
    assert_eq!(
        value["conversations"][1]["params"],
        serde_json::json!({"temperature": 1.5, "max_tokens": 200, "reasoning": "low"})
    );

    for (file, with_passphrase) in [(&json, false), (&archive, true)] {
        let fresh = setup();
        let mut cmd = hearth(&fresh);
        if with_passphrase {
            cmd.env("HEARTH_ARCHIVE_PASSPHRASE", ARCHIVE_PASS);
        }
        let r = run_ok(cmd.arg("import").arg(file));
        assert!(
            r.stderr
                .contains("Imported 2 conversations (10 messages); 0 already present."),
            "{r:?}"
        );
        assert_eq!(trees(&fresh.data), original, "{}", file.display());
        assert_eq!(
            projects_of(&fresh.data),
            (projects.clone(), prompts.clone(), bytes.clone())
        );
        // What the CLI shows of them.
        let listed: serde_json::Value =
            serde_json::from_str(&run_ok(hearth(&fresh).args(["list", "--json"])).stdout).unwrap();
        let conv1 = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "conv-1")
            .unwrap();
        assert_eq!(conv1["project"], "Fireside «notes» 🔥");
        let shown: serde_json::Value = serde_json::from_str(
            &run_ok(hearth(&fresh).args(["project", "show", "Fireside «notes» 🔥", "--json"]))
                .stdout,
        )
        .unwrap();
        assert_eq!(shown["instructions"], instructions.as_str());
        assert_eq!(shown["settings"]["reasoning"], "high");
        assert_eq!(shown["files"][0]["sha256"], sha256_hex(rules));

        // Twice adds nothing.
        let mut cmd = hearth(&fresh);
        if with_passphrase {
            cmd.env("HEARTH_ARCHIVE_PASSPHRASE", ARCHIVE_PASS);
        }
        let r = run_ok(cmd.arg("import").arg(file));
        assert!(r.stderr.contains("Imported 0 conversations"), "{r:?}");
        assert_eq!(
            projects_of(&fresh.data),
            (projects.clone(), prompts.clone(), bytes.clone())
        );
        assert_eq!(trees(&fresh.data), original);
    }

    // One conversation carries no project and no prompt, but names its project.
    let one = out_path(&t, "one.json");
    assert!(export(&t, "json", &one, &["--conversation", "conv-1"]).ok());
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&one).unwrap()).unwrap();
    assert_eq!(value["projects"], serde_json::json!([]));
    assert_eq!(value["prompts"], serde_json::json!([]));
    assert_eq!(
        value["conversations"][0]["project_id"],
        fireside.project.id.as_str()
    );
    assert!(!std::fs::read_to_string(&one)
        .unwrap()
        .contains(&instructions));
    let (single, _) = import_into_fresh(import_json, &one);
    assert_eq!(trees(&single.data)[0].conversation.project_id, None);
    let (none, no_prompts, _) = projects_of(&single.data);
    assert!(none.is_empty() && no_prompts.is_empty());
}

#[test]
fn version_3_2_and_1_exports_still_import_as_before() {
    // The documented examples of each version, as their documentation gave them.
    let v3 = r#"{"format":"hearth-export","version":3,"exported_at":1714568400000,"app":"Hearth 0.2.0","files":[
{"sha256":"71596d7979b5b2084e538ff181806f3db5042539d8ed30321dfb5a32932a1f1c","size":16,"data":["b2FrLCBhc2gsIGJpcmNoCg=="]}
],"conversations":[
{"id":"c-v3","title":"Version 3","created_at":1714564800000,"updated_at":1714564920000,"provider_id":"anthropic","model":"claude-sonnet-4-5","system_prompt":null,"params":{"temperature":0.5},"pinned":false,"archived":false,"source":null,"source_id":null,"head_message_id":"m3","messages":[{"id":"m1","parent_id":null,"role":"user","content":"Which wood?","reasoning":null,"status":"complete","error":null,"provider_id":null,"model":null,"tokens_in":null,"tokens_out":null,"created_at":1714564800000,"finished_at":1714564800000,"attachments":[{"id":"a1","name":"woods.txt","media_type":"text/plain","size":16,"sha256":"71596d7979b5b2084e538ff181806f3db5042539d8ed30321dfb5a32932a1f1c"}],"tool_calls":[]},{"id":"m3","parent_id":"m1","role":"assistant","content":"Let me check. Ash.","reasoning":null,"status":"complete","error":null,"provider_id":"anthropic","model":"claude-sonnet-4-5","tokens_in":14,"tokens_out":15,"created_at":1714564920000,"finished_at":1714564922000,"attachments":[],"tool_calls":[{"id":"call-1","position":0,"step":0,"text_offset":14,"reasoning_offset":0,"call_id":"toolu_1","server":"woodpile","tool":"search","arguments":"{}","signature":null,"status":"approved","result":"Ash burns well.","created_at":1714564921000,"finished_at":1714564921500}]}]}
]}"#;
    let v2 = r#"{"format":"hearth-export","version":2,"exported_at":1714568400000,"app":"Hearth 0.2.0","files":[],"conversations":[
{"id":"c-v2","title":"Version 2","created_at":1714564800000,"updated_at":1714564920000,"provider_id":null,"model":null,"system_prompt":"Be brief.","params":{"temperature":0.7},"pinned":true,"archived":false,"source":null,"source_id":null,"head_message_id":"v2m1","messages":[{"id":"v2m1","parent_id":null,"role":"user","content":"Hello","reasoning":null,"status":"complete","error":null,"provider_id":null,"model":null,"tokens_in":null,"tokens_out":null,"created_at":1714564800000,"finished_at":1714564800000,"attachments":[]}]}
]}"#;
    let v1 = r#"{"format":"hearth-export","version":1,"exported_at":1714568400000,"app":"Hearth 0.1.0","conversations":[
{"id":"c-v1","title":"Version 1","created_at":1714564800000,"updated_at":1714564920000,"provider_id":null,"model":null,"system_prompt":null,"params":null,"pinned":false,"archived":true,"source":null,"source_id":null,"head_message_id":"v1m1","messages":[{"id":"v1m1","parent_id":null,"role":"user","content":"Hi","reasoning":null,"status":"complete","error":null,"provider_id":null,"model":null,"tokens_in":null,"tokens_out":null,"created_at":1714564800000,"finished_at":1714564800000}]}
]}"#;
    let t = setup();
    for (name, text, summary) in [
        (
            "v3.json",
            v3,
            "Imported 1 conversations (2 messages); 0 already present.",
        ),
        (
            "v2.json",
            v2,
            "Imported 1 conversations (1 messages); 0 already present.",
        ),
        (
            "v1.json",
            v1,
            "Imported 1 conversations (1 messages); 0 already present.",
        ),
    ] {
        let path = out_path(&t, name);
        std::fs::write(&path, text).unwrap();
        let r = run_ok(hearth(&t).arg("import").arg(&path));
        assert_eq!(r.stderr.trim(), summary, "{name}");
    }
    let back = trees(&t.data);
    assert_eq!(back.len(), 3);
    assert!(back.iter().all(|t| t.conversation.project_id.is_none()));
    let by_id = |id: &str| back.iter().find(|t| t.conversation.id == id).unwrap();
    assert_eq!(
        by_id("c-v3").conversation.params_json.as_deref(),
        Some(r#"{"temperature":0.5}"#)
    );
    assert_eq!(by_id("c-v3").attachments[0].name, "woods.txt");
    assert_eq!(
        by_id("c-v3").tool_calls[0].result.as_deref(),
        Some("Ash burns well.")
    );
    assert_eq!(
        by_id("c-v2").conversation.system_prompt.as_deref(),
        Some("Be brief.")
    );
    assert!(by_id("c-v2").conversation.pinned);
    assert!(by_id("c-v1").conversation.archived);
    let (projects, prompts, _) = projects_of(&t.data);
    assert!(projects.is_empty() && prompts.is_empty());
}
