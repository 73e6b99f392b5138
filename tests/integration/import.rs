//! Importing other apps' data exports through `hearth import`: the visible conversation
//! exactly as the reader saw it, every hidden branch kept, the same result from a JSON
//! file, a split folder and a zip, nothing added twice, and nothing at all from a broken
//! file. The fixtures are in `tests/data/import/` (its README says what each shows).

use std::path::{Path, PathBuf};

use hearth_tests::*;
use serde_json::Value;

const PASS: &str = "import test passphrase";

fn hearth(t: &TestDir) -> std::process::Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd).env("HEARTH_PASSPHRASE", PASS);
    cmd
}

fn vault() -> TestDir {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    t
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/import")
        .join(name)
}

fn import(t: &TestDir, path: &Path, extra: &[&str]) -> Run {
    run(hearth(t).arg("import").arg(path).args(extra))
}

/// Imports and returns the summary line.
fn import_ok(t: &TestDir, path: &Path) -> String {
    let r = import(t, path, &[]);
    assert!(r.ok(), "import of {} failed:\n{r:?}", path.display());
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{r:?}");
    lines[0].to_owned()
}

fn list(t: &TestDir) -> Vec<Value> {
    let r = run_ok(hearth(t).args(["list", "--all", "--json"]));
    serde_json::from_str::<Value>(&r.stdout)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap()
}

fn show(t: &TestDir, id: &str) -> Value {
    let r = run_ok(hearth(t).args(["show", id, "--format", "json"]));
    serde_json::from_str(&r.stdout).unwrap()
}

/// The visible conversation as (role, content) pairs.
fn visible(t: &TestDir, id: &str) -> Vec<(String, String)> {
    show(t, id)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(r, c)| ((*r).to_owned(), (*c).to_owned()))
        .collect()
}

/// Titles with their message counts (every branch), sorted by title.
fn titles(t: &TestDir) -> Vec<(String, i64)> {
    let mut rows: Vec<(String, i64)> = list(t)
        .iter()
        .map(|c| {
            (
                c["title"].as_str().unwrap().to_owned(),
                c["message_count"].as_i64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// Everything a user can see of the vault: the list and each conversation shown.
fn everything(t: &TestDir) -> Vec<Value> {
    let mut all = vec![Value::Array(list(t))];
    let mut ids: Vec<String> = list(t)
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    for id in ids {
        all.push(show(t, &id));
    }
    all
}

fn assert_empty(t: &TestDir) {
    assert!(list(t).is_empty(), "something was imported: {:?}", list(t));
    let status: Value =
        serde_json::from_str(&run_ok(hearth(t).args(["status", "--json"])).stdout).unwrap();
    let text = status.to_string();
    assert!(
        text.contains("\"messages\":0") && text.contains("\"conversations\":0"),
        "{text}"
    );
}

const CAPITALS: &str = "chatgpt:6a1f0c1e-0000-4000-8000-00000000000a";
const CHART: &str = "chatgpt:6a1f0c1e-0000-4000-8000-00000000000b";
const UNTITLED: &str = "chatgpt:6a1f0c1e-0000-4000-8000-00000000000c";
const VOICE: &str = "chatgpt:6a1f0c1e-0000-4000-8000-00000000000d";

#[test]
fn a_chatgpt_export_shows_what_the_reader_saw_and_keeps_every_branch() {
    let t = vault();
    let summary = import_ok(&t, &fixture("chatgpt/conversations.json"));
    assert_eq!(
        summary,
        "Imported 4 conversations (13 messages); 0 already present."
    );
    assert_eq!(
        titles(&t),
        vec![
            ("Capitals".to_owned(), 5),
            ("Chart and code".to_owned(), 2),
            ("How do I boil an egg?".to_owned(), 2),
            ("Voice and pictures".to_owned(), 4),
        ]
    );

    // The edited question and the regenerated reply (current_node) are visible; the
    // first question, its answer and the first reply stay as hidden branches.
    assert_eq!(
        visible(&t, CAPITALS),
        pairs(&[
            ("user", "What is the capital of Italy?"),
            ("assistant", "The capital of Italy is Rome."),
        ])
    );
    let capitals = show(&t, CAPITALS);
    assert_eq!(
        capitals["conversation"]["created_at"],
        1_700_000_000_123_i64
    );
    assert_eq!(
        capitals["conversation"]["updated_at"],
        1_700_000_300_500_i64
    );
    let reply = &capitals["messages"][1];
    assert_eq!(reply["model"], "gpt-4o-mini");
    assert_eq!(reply["status"], "complete");
    assert_eq!(reply["created_at"], 1_700_000_200_000_i64);
    assert_eq!(
        capitals["messages"][0]["parent_id"],
        Value::Null,
        "the hidden system message is not in the tree"
    );

    // The uploaded picture marked once, by name; reasoning kept as reasoning; the code,
    // its output and its chart, and the reply after them, one turn (as ChatGPT shows it
    // behind "show work"); a citation marker removed, and the continuation joined.
    assert_eq!(
        visible(&t, CHART),
        pairs(&[
            (
                "user",
                "[Attachment: numbers.png]\n\nPlot the numbers in this picture and add them up."
            ),
            (
                "assistant",
                "[Code: python]\n```python\nprint(12 + 30)\n```\n\n[Code output]\n```\n42\n```\n\n[image]\n\n\
                 The numbers add up to 42, and the chart shows both bars. The larger one is 30. Anything else?"
            ),
        ])
    );
    let chart = show(&t, CHART);
    assert_eq!(
        chart["messages"][1]["reasoning"],
        "Reading the picture\nThe image lists 12 and 30."
    );
    assert_eq!(chart["messages"][1]["model"], "gpt-4o");
    let shown = chart.to_string();
    for noise in ["Thought for 4 seconds", "turn0search0"] {
        assert!(!shown.contains(noise), "`{noise}` leaked into {shown}");
    }

    // No title, no conversation times, a message without a time, hidden context.
    let untitled = show(&t, UNTITLED);
    assert_eq!(untitled["conversation"]["title"], "How do I boil an egg?");
    assert_eq!(
        untitled["conversation"]["created_at"],
        1_700_002_000_000_i64
    );
    assert_eq!(untitled["messages"][1]["created_at"], 1_700_002_000_000_i64);
    assert_eq!(
        visible(&t, UNTITLED),
        pairs(&[
            ("user", "How do I boil an egg?\nThanks!"),
            ("assistant", "Put it in boiling water for 9 minutes."),
        ])
    );
    assert!(!untitled.to_string().contains("Be brief"));

    assert_eq!(
        visible(&t, VOICE),
        pairs(&[
            ("user", "Tell me a joke."),
            ("assistant", "Why did the cat sit on the computer?"),
            ("user", "Draw that cat."),
            (
                "assistant",
                "[image: A cat sitting on a laptop]\n\nTo keep an eye on the mouse!"
            ),
        ])
    );
}

#[test]
fn importing_the_same_export_again_adds_nothing() {
    let t = vault();
    import_ok(&t, &fixture("chatgpt/conversations.json"));
    let before = everything(&t);
    let summary = import_ok(&t, &fixture("chatgpt/conversations.json"));
    assert_eq!(
        summary,
        "Imported 0 conversations (0 messages); 4 already present."
    );
    // The zip of the same export is the same conversations, so it adds nothing either.
    let summary = import_ok(&t, &fixture("chatgpt-export.zip"));
    assert_eq!(
        summary,
        "Imported 0 conversations (0 messages); 4 already present."
    );
    assert_eq!(everything(&t), before);

    import_ok(&t, &fixture("claude/conversations.json"));
    let with_claude = everything(&t);
    let summary = import_ok(&t, &fixture("claude-export.zip"));
    assert_eq!(
        summary,
        "Imported 0 conversations (0 messages); 2 already present."
    );
    assert_eq!(everything(&t), with_claude);
}

#[test]
fn json_split_folder_and_zips_give_identical_results() {
    let reference = vault();
    import_ok(&reference, &fixture("chatgpt/conversations.json"));
    let expected = everything(&reference);
    assert_eq!(expected.len(), 5);
    for source in [
        "chatgpt-split",
        "chatgpt-split/conversations-000.json",
        "chatgpt-export.zip",
        "chatgpt-split-export.zip",
    ] {
        let t = vault();
        import_ok(&t, &fixture(source));
        if source.ends_with("000.json") {
            // One part alone holds its own conversations only.
            assert_eq!(list(&t).len(), 2, "{source}");
            import_ok(&t, &fixture("chatgpt-split/conversations-001.json"));
        }
        assert_eq!(everything(&t), expected, "{source}");
    }

    let reference = vault();
    import_ok(&reference, &fixture("claude/conversations.json"));
    let t = vault();
    import_ok(&t, &fixture("claude-export.zip"));
    assert_eq!(everything(&t), everything(&reference));
}

const CLAUDE_BRANCHES: &str = "claude:28d595a3-5db0-492d-a49a-af74f13de505";
const CLAUDE_LINEAR: &str = "claude:5b3c0d1e-1111-4222-8333-444455556666";

#[test]
fn a_claude_export_uses_content_blocks_thinking_and_attachments() {
    let t = vault();
    let summary = import_ok(&t, &fixture("claude/conversations.json"));
    assert_eq!(
        summary,
        "Imported 2 conversations (7 messages); 0 already present."
    );
    assert_eq!(
        titles(&t),
        vec![
            ("Rust main".to_owned(), 5),
            ("Summarise my notes".to_owned(), 2)
        ]
    );
    // The latest branch is visible; the retry "An empty program." stays hidden.
    assert_eq!(
        visible(&t, CLAUDE_BRANCHES),
        pairs(&[
            (
                "user",
                "Explain this file\n\n[Attachment: lib.rs]\n```\nfn main() {}\n```\n\n[File: diagram.png]"
            ),
            ("assistant", "It defines an empty `main` function."),
            ("user", "Can it print?"),
            (
                "assistant",
                "Let me check.\n\n[Tool call: web_search]\n```json\n{\n  \"query\": \"rust println\"\n}\n```\n\n\
                 [Tool result: web_search]\n```json\n[\n  {\n    \"text\": \"println! prints a line\",\n    \"type\": \"text\"\n  }\n]\n```\n\n\
                 Use `println!`."
            ),
        ])
    );
    let branches = show(&t, CLAUDE_BRANCHES);
    assert_eq!(
        branches["messages"][1]["reasoning"],
        "The user wants the file explained."
    );
    assert_eq!(
        branches["conversation"]["created_at"],
        1_723_144_326_120_i64
    );
    assert_eq!(branches["messages"][3]["created_at"], 1_723_144_560_000_i64);
    let search = run_ok(hearth(&t).args(["search", "empty program", "--json"]));
    assert!(
        search
            .stdout
            .contains("claude:28d595a3-5db0-492d-a49a-af74f13de505:m3"),
        "the hidden retry is kept: {}",
        search.stdout
    );
    assert!(
        !everything(&t).iter().any(|v| v
            .to_string()
            .contains("not supported on your current device")),
        "the placeholder text was used"
    );

    // No lineage: one line in order; no name: the first message gives the title; no
    // content blocks: the text field.
    assert_eq!(
        visible(&t, CLAUDE_LINEAR),
        pairs(&[
            (
                "user",
                "Summarise my notes\n\n[Attachment: pasted text]\n```\nBuy milk\nCall mom\n```"
            ),
            ("assistant", "Buy milk, then call your mother."),
        ])
    );
}

/// Cuts `source` at `cut` bytes into a new file.
fn truncated(t: &TestDir, source: &str, cut: usize) -> PathBuf {
    let bytes = std::fs::read(fixture(source)).unwrap();
    let path = t.root.path().join(format!("cut-{cut}.json"));
    std::fs::write(&path, &bytes[..cut]).unwrap();
    path
}

#[test]
fn a_truncated_export_adds_nothing_and_says_so() {
    let t = vault();
    for source in ["chatgpt/conversations.json", "claude/conversations.json"] {
        let len = std::fs::metadata(fixture(source)).unwrap().len() as usize;
        for cut in [1, 40, len / 3, len / 2, len - 200, len - 3] {
            let path = truncated(&t, source, cut);
            let r = import(&t, &path, &[]);
            assert_clear_failure(&r, "ends early");
            assert_clear_failure(&r, &format!("cut-{cut}.json"));
            assert_clear_failure(&r, "nothing was imported");
            assert_empty(&t);
        }
    }
    // A cut zip is not a zip any more.
    let bytes = std::fs::read(fixture("chatgpt-export.zip")).unwrap();
    let path = t.root.path().join("cut.zip");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_clear_failure(&import(&t, &path, &[]), "cut.zip");
    assert_empty(&t);
}

/// Asserts an import that added what it could and left conversations out: exit status
/// 3, the summary line, one line per conversation left out, and the closing `hearth:`
/// line. Returns the lines naming those left out.
fn assert_left_out(r: &Run, summary: &str, count: usize) -> Vec<String> {
    assert_eq!(r.code, Some(3), "{r:?}");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), count + 3, "{r:?}");
    assert_eq!(lines[0], summary, "{r:?}");
    assert_eq!(lines[1], "Left out (could not be converted):", "{r:?}");
    assert!(
        lines[count + 2].starts_with(&format!("hearth: {count} conversation")),
        "{r:?}"
    );
    lines[2..count + 2]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

#[test]
fn one_odd_conversation_is_left_out_by_name_and_the_others_are_imported() {
    let t = vault();
    let r = import(&t, &fixture("chatgpt-bad-parent.json"), &[]);
    let named = assert_left_out(
        &r,
        "Imported 2 conversations (7 messages); 0 already present.",
        1,
    );
    assert!(
        named[0].contains("chatgpt-bad-parent.json: conversation 2 \"Broken tree\" (6a1f0c1e-0000-4000-8000-0000000000ee)")
            && named[0].contains("d9-missing"),
        "{named:?}"
    );
    assert_eq!(list(&t).len(), 2);
    // Again: nothing added twice, and the odd one named again.
    let r = import(&t, &fixture("chatgpt-bad-parent.json"), &[]);
    assert_left_out(
        &r,
        "Imported 0 conversations (0 messages); 2 already present.",
        1,
    );
    assert_eq!(list(&t).len(), 2);

    // A well-formed conversation of the wrong shape is left out the same way.
    let t = vault();
    let r = import(&t, &fixture("chatgpt-bad-shape.json"), &[]);
    let named = assert_left_out(
        &r,
        "Imported 2 conversations (9 messages); 0 already present.",
        1,
    );
    assert!(
        named[0].contains("conversation 2 \"Wrong shape\""),
        "{named:?}"
    );

    // So is a Claude.ai conversation that does not convert.
    let t = vault();
    let r = import(&t, &fixture("claude-bad-parent.json"), &[]);
    let named = assert_left_out(
        &r,
        "Imported 2 conversations (7 messages); 0 already present.",
        1,
    );
    assert!(
        named[0].contains("claude-bad-parent.json: conversation 2 \"Lost parent\"")
            && named[0].contains("not-here"),
        "{named:?}"
    );

    // --strict keeps all or nothing.
    let t = vault();
    for file in [
        "chatgpt-bad-parent.json",
        "chatgpt-bad-shape.json",
        "claude-bad-parent.json",
    ] {
        let r = import(&t, &fixture(file), &["--strict"]);
        assert_clear_failure(&r, &format!("{file}: conversation 2"));
        assert_clear_failure(&r, "nothing was imported");
        assert_eq!(r.code, Some(1));
        assert_empty(&t);
    }
}

const TOOLS: &str = "chatgpt:6a1f0c1e-0000-4000-8000-00000000000f";

#[test]
fn canvas_documents_code_and_its_output_are_kept_in_one_turn_and_the_report_is_json() {
    let t = vault();
    // The first conversation has no `mapping` (as current exports hold), so the format
    // is recognised from a later one.
    let r = import(&t, &fixture("chatgpt-tools.json"), &["--json"]);
    assert_eq!(r.code, Some(3), "{r:?}");
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["added"], 2);
    assert_eq!(report["messages"], 6);
    assert_eq!(report["already_present"], 0);
    let left_out = report["not_converted"].as_array().unwrap();
    assert_eq!(left_out.len(), 2);
    assert_eq!(left_out[0]["number"], 1);
    assert_eq!(left_out[0]["title"], "Only a stub");
    assert_eq!(left_out[0]["id"], "6a1f0c1e-0000-4000-8000-0000000000aa");
    assert!(left_out[0]["reason"]
        .as_str()
        .unwrap()
        .contains("no `mapping`"));
    assert_eq!(left_out[1]["number"], 3);
    assert_eq!(left_out[1]["title"], "Wrong shape");

    assert_eq!(
        visible(&t, TOOLS),
        pairs(&[
            ("user", "Make me a packing list."),
            (
                "assistant",
                "[Canvas: Packing list]\n```markdown\n# Packing\n\n- passport\n- charger\n```\n\nThe list is in the canvas."
            ),
            ("user", "Add a sun hat, then count the items in Python."),
            (
                "assistant",
                "[Canvas update: Packing list]\nReplace the first match of\n```\n- charger\n```\nwith\n```\n- charger\n- sun hat\n```\n\n\
                 [Code: python]\n```python\nitems = ['passport', 'charger', 'sun hat']\nlen(items)\n```\n\n\
                 [Code output]\n```\n3\n```\n\nAdded the hat. There are 3 items."
            ),
        ])
    );
    let tools = show(&t, TOOLS);
    // No `model_slug` on the replies: the conversation's default.
    assert_eq!(tools["messages"][1]["model"], "gpt-5");
    assert_eq!(tools["messages"][3]["model"], "gpt-5");
    assert!(!tools.to_string().contains("Successfully created"));
}

/// A zip of `entry` holding `body`, deflated.
fn zip_of(path: &Path, entry: &str, body: impl FnOnce(&mut dyn std::io::Write)) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    w.start_file(entry, options).unwrap();
    body(&mut w);
    w.finish().unwrap();
}

#[test]
fn a_zip_bomb_is_refused_and_nothing_is_imported() {
    let t = vault();
    let bomb = t.root.path().join("bomb.zip");
    // Valid JSON that unpacks to 48 MiB from a zip of about 50 KB: more than the 32 MiB
    // plus 100 times the zip's size that Hearth reads.
    let good = std::fs::read(fixture("chatgpt/conversations.json")).unwrap();
    zip_of(&bomb, "conversations.json", |w| {
        w.write_all(&good[..good.len() - 2]).unwrap();
        w.write_all(b",").unwrap();
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..48 {
            w.write_all(&spaces).unwrap();
        }
        w.write_all(b"]").unwrap();
    });
    let size = std::fs::metadata(&bomb).unwrap().len();
    assert!(size < 300_000, "{size}");
    let r = import(&t, &bomb, &[]);
    assert_clear_failure(&r, "bomb.zip");
    assert_clear_failure(&r, "zip bomb");
    assert_clear_failure(&r, "nothing was imported");
    assert_empty(&t);
}

#[test]
fn a_conversation_with_a_huge_title_or_message_is_left_out_by_name() {
    let t = vault();
    let good: Vec<Value> =
        serde_json::from_slice(&std::fs::read(fixture("chatgpt/conversations.json")).unwrap())
            .unwrap();
    let huge = "a".repeat(17 << 20);
    let mut long_title = good[2].clone();
    long_title["title"] = Value::String(format!("Huge {huge}"));
    long_title["conversation_id"] = "huge-title".into();
    let mut long_message = good[1].clone();
    long_message["conversation_id"] = "huge-message".into();
    long_message["title"] = "Huge message".into();
    long_message["mapping"]["b7"]["message"]["content"]["parts"][0] = Value::String(huge);
    let path = t.root.path().join("conversations.json");
    let all = vec![good[0].clone(), long_title, long_message, good[3].clone()];
    std::fs::write(&path, serde_json::to_vec(&all).unwrap()).unwrap();

    let r = import(&t, &path, &[]);
    let named = assert_left_out(
        &r,
        "Imported 2 conversations (9 messages); 0 already present.",
        2,
    );
    assert!(
        named[0].contains("conversation 2 \"Huge aaaa") && named[0].contains("(huge-title)"),
        "{named:?}"
    );
    assert!(
        named[1].contains("conversation 3 \"Huge message\" (huge-message)")
            && named[1].contains("more than 16 MiB"),
        "{named:?}"
    );
    assert!(named.iter().all(|l| l.len() < 400), "{named:?}");
    let r = import(&vault(), &path, &["--strict"]);
    assert_clear_failure(&r, "more than 16 MiB");
}

#[test]
fn files_that_are_not_exports_are_refused_clearly() {
    let t = vault();
    let dir = t.root.path();
    let cases: Vec<(PathBuf, &[u8], &str)> = vec![
        (dir.join("notes.txt"), b"just some notes\n", "not a ChatGPT"),
        (dir.join("other.json"), br#"[{"foo": 1}]"#, "--format"),
        (
            dir.join("object.json"),
            br#"{"hello": "world"}"#,
            "--format",
        ),
        (dir.join("empty.zip"), b"PK\x05\x06", "zip"),
    ];
    for (path, body, needle) in cases {
        std::fs::write(&path, body).unwrap();
        assert_clear_failure(&import(&t, &path, &[]), needle);
    }
    assert_clear_failure(&import(&t, &dir.join("missing.json"), &[]), "cannot read");
    assert_clear_failure(&import(&t, dir, &[]), "no conversations.json");

    // The wrong format, forced, is refused rather than half-read.
    let r = import(
        &t,
        &fixture("chatgpt/conversations.json"),
        &["--format", "claude"],
    );
    assert_clear_failure(&r, "no `uuid`");
    let r = import(
        &t,
        &fixture("claude/conversations.json"),
        &["--format", "chatgpt"],
    );
    assert_clear_failure(&r, "mapping");
    assert_empty(&t);

    // An empty export is fine and adds nothing.
    let empty = dir.join("conversations.json");
    std::fs::write(&empty, b"[]").unwrap();
    assert_eq!(
        import_ok(&t, &empty),
        "Imported 0 conversations (0 messages); 0 already present."
    );
}

#[test]
fn hearth_exports_and_archives_import_back_through_detection() {
    let from = vault();
    import_ok(&from, &fixture("chatgpt/conversations.json"));
    import_ok(&from, &fixture("claude/conversations.json"));
    let expected = everything(&from);
    let json = from.root.path().join("export.json");
    let archive = from.root.path().join("export.hearth");
    run_ok(
        hearth(&from)
            .args(["export", "--format", "json", "--output"])
            .arg(&json),
    );
    run_ok(
        hearth(&from)
            .env("HEARTH_ARCHIVE_PASSPHRASE", "archive passphrase")
            .args(["export", "--format", "archive", "--output"])
            .arg(&archive),
    );

    let t = vault();
    assert_eq!(
        import_ok(&t, &json),
        "Imported 6 conversations (20 messages); 0 already present."
    );
    assert_eq!(everything(&t), expected);

    let t = vault();
    // Without its passphrase an archive is refused, and nothing is imported.
    assert_clear_failure(&import(&t, &archive, &[]), "HEARTH_ARCHIVE_PASSPHRASE");
    let r = run(hearth(&t)
        .env("HEARTH_ARCHIVE_PASSPHRASE", "not the passphrase")
        .arg("import")
        .arg(&archive));
    assert!(!r.ok(), "{r:?}");
    assert_empty(&t);
    assert_clear_failure(
        &import(&t, &archive, &["--format", "chatgpt"]),
        "encrypted Hearth archive",
    );
    let r = run_ok(
        hearth(&t)
            .env("HEARTH_ARCHIVE_PASSPHRASE", "archive passphrase")
            .arg("import")
            .arg(&archive),
    );
    assert_eq!(
        r.stderr.trim(),
        "Imported 6 conversations (20 messages); 0 already present."
    );
    assert_eq!(everything(&t), expected);
    // The same conversations from the other apps' exports are already there.
    assert_eq!(
        import_ok(&t, &fixture("chatgpt-export.zip")),
        "Imported 0 conversations (0 messages); 4 already present."
    );
}

/// A ChatGPT export shaped like a real one: an uploaded photo (`file-service://`, named
/// in the message's attachments), a DALL·E image (`sediment://`, under
/// `dalle-generations/`), an image whose file the export lacks, and a "picture" whose
/// file is text.
fn chatgpt_export_with_images() -> (Value, Vec<(String, Vec<u8>)>) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/attachments");
    let photo = std::fs::read(data.join("test.jpg")).unwrap();
    let generated = std::fs::read(data.join("2-color.webp")).unwrap();
    let node = |id: &str, parent: Option<&str>, children: &[&str], message: Value| serde_json::json!({"id": id, "parent": parent, "children": children, "message": message});
    let conversation = serde_json::json!([{
        "title": "What is in the picture?",
        "create_time": 1_714_564_800.0,
        "update_time": 1_714_564_900.0,
        "conversation_id": "c0ffee00-0000-4000-8000-000000000001",
        "current_node": "n4",
        "mapping": {
            "root": node("root", None, &["n1"], Value::Null),
            "n1": node("n1", Some("root"), &["n2"], serde_json::json!({
                "id": "n1", "author": {"role": "user"}, "create_time": 1_714_564_800.0,
                "content": {"content_type": "multimodal_text", "parts": [
                    {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-Upload123abc", "width": 10, "height": 10},
                    {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-Missing999999"},
                    {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-NotImage12345"},
                    "What is in this photo? Draw me one too."
                ]},
                "metadata": {"attachments": [
                    {"id": "file-Upload123abc", "name": "cat photo.jpg", "mime_type": "image/jpeg"},
                    {"id": "file-Missing999999", "name": "lost.png", "mime_type": "image/png"},
                    {"id": "file-NotImage12345", "name": "fake.png", "mime_type": "image/png"}
                ]}
            })),
            "n2": node("n2", Some("n1"), &["n3"], serde_json::json!({
                "id": "n2", "author": {"role": "assistant"}, "create_time": 1_714_564_810.0,
                "content": {"content_type": "text", "parts": ["A cat. Here is one:"]},
                "metadata": {"model_slug": "gpt-4o"}
            })),
            "n3": node("n3", Some("n2"), &["n4"], serde_json::json!({
                "id": "n3", "author": {"role": "tool", "name": "dalle.text2im"}, "create_time": 1_714_564_820.0,
                "content": {"content_type": "multimodal_text", "parts": [
                    {"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_00000000deadbeef12345678",
                     "metadata": {"dalle": {"prompt": "A cat on a hearth"}}}
                ]},
                "metadata": {}
            })),
            "n4": node("n4", Some("n3"), &[], serde_json::json!({
                "id": "n4", "author": {"role": "assistant"}, "create_time": 1_714_564_830.0,
                "content": {"content_type": "text", "parts": ["There it is."]},
                "metadata": {"model_slug": "gpt-4o"}
            }))
        }
    }]);
    let files = vec![
        ("file-Upload123abc-cat photo.jpg".to_owned(), photo),
        (
            "dalle-generations/file_00000000deadbeef12345678-7b2c5d.webp".to_owned(),
            generated,
        ),
        (
            "file-NotImage12345-fake.png".to_owned(),
            b"not a picture at all".to_vec(),
        ),
    ];
    (conversation, files)
}

#[test]
fn a_chatgpt_zip_attaches_the_images_it_holds_to_their_messages() {
    let (conversations, files) = chatgpt_export_with_images();
    let t = vault();
    let zip = t.root.path().join("chatgpt-export.zip");
    {
        let file = std::fs::File::create(&zip).unwrap();
        let mut w = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default();
        w.start_file("conversations.json", options).unwrap();
        std::io::Write::write_all(&mut w, conversations.to_string().as_bytes()).unwrap();
        for (name, bytes) in &files {
            w.start_file(name, options).unwrap();
            std::io::Write::write_all(&mut w, bytes).unwrap();
        }
        w.start_file("user.json", options).unwrap();
        std::io::Write::write_all(&mut w, b"{}").unwrap();
        w.finish().unwrap();
    }
    // The same export unzipped into a folder.
    let folder = t.root.path().join("unzipped");
    std::fs::create_dir_all(folder.join("dalle-generations")).unwrap();
    std::fs::write(folder.join("conversations.json"), conversations.to_string()).unwrap();
    for (name, bytes) in &files {
        std::fs::write(folder.join(name), bytes).unwrap();
    }

    for source in [&zip, &folder] {
        let t = vault();
        import_ok(&t, source);
        let id = list(&t)[0]["id"].as_str().unwrap().to_owned();
        let shown = show(&t, &id);
        let messages = shown["messages"].as_array().unwrap();
        let attached: Vec<(String, String)> = messages
            .iter()
            .flat_map(|m| m["attachments"].as_array().unwrap().clone())
            .map(|a| {
                (
                    a["name"].as_str().unwrap().to_owned(),
                    a["media_type"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            attached,
            [
                ("cat photo.jpg".to_owned(), "image/jpeg".to_owned()),
                ("7b2c5d.webp".to_owned(), "image/webp".to_owned())
            ],
            "{}",
            source.display()
        );
        // The photo is on the question; the picture on the reply that shows it.
        assert_eq!(messages[0]["attachments"][0]["name"], "cat photo.jpg");
        let with_picture = messages
            .iter()
            .find(|m| !m["attachments"].as_array().unwrap().is_empty() && m["role"] == "assistant")
            .unwrap();
        assert!(
            with_picture["content"]
                .as_str()
                .unwrap()
                .contains("[image: A cat on a hearth]"),
            "{with_picture}"
        );
        // Images the export lacks, or that are not images, keep their marker only.
        let question = messages[0]["content"].as_str().unwrap();
        assert!(question.contains("[Attachment: lost.png]"), "{question}");
        assert!(question.contains("[Attachment: fake.png]"), "{question}");

        // Byte for byte, through `hearth attachment save`.
        for (m, original) in [(&messages[0], &files[0].1), (with_picture, &files[1].1)] {
            let a = &m["attachments"][0];
            let out = t
                .root
                .path()
                .join(format!("saved-{}", a["name"].as_str().unwrap()));
            let bytes = saved_attachment(hearth(&t), a["id"].as_str().unwrap(), &out);
            assert_eq!(sha256_hex(&bytes), sha256_hex(original));
            assert_eq!(a["sha256"], sha256_hex(original));
        }

        // Again: nothing added, no bytes stored twice.
        let before = run_ok(hearth(&t).args(["status", "--json"])).stdout;
        import_ok(&t, source);
        let after = run_ok(hearth(&t).args(["status", "--json"])).stdout;
        let counts = |s: &str| serde_json::from_str::<Value>(s).unwrap()["counts"].clone();
        assert_eq!(counts(&before), counts(&after));
        assert_eq!(counts(&after)["attachments"], 2);
    }
}

/// `hearth project list --json`, by name.
fn projects(t: &TestDir) -> Vec<Value> {
    let r = run_ok(hearth(t).args(["project", "list", "--json"]));
    let mut all = serde_json::from_str::<Value>(&r.stdout)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap();
    all.sort_by_key(|p| p["name"].as_str().unwrap().to_owned());
    all
}

/// `hearth project show NAME --json`.
fn project(t: &TestDir, name: &str) -> Value {
    let r = run_ok(hearth(t).args(["project", "show", name, "--json"]));
    serde_json::from_str(&r.stdout).unwrap()
}

const GARDEN: &str = "Fixture: garden notes";
const STARTER: &str = "Fixture: example project";

/// The Claude.ai projects fixture as the vault shows them: each project and its files.
fn claude_projects(t: &TestDir) -> Vec<Value> {
    vec![project(t, STARTER), project(t, GARDEN)]
}

#[test]
fn a_claude_export_brings_its_projects_and_their_documents_once() {
    let fixture_projects: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("claude-projects/projects.json")).unwrap(),
    )
    .unwrap();
    let plan = fixture_projects[0]["docs"][0]["content"].as_str().unwrap();
    let t = vault();
    assert_eq!(
        import_ok(&t, &fixture("claude-projects")),
        "Imported 1 conversations (2 messages); 0 already present. Added 2 projects and 0 saved prompts."
    );
    let listed = projects(&t);
    let names: Vec<&str> = listed.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, [STARTER, GARDEN]);

    let garden = project(&t, GARDEN);
    assert_eq!(
        garden["instructions"],
        "Answer in metric units.\nKeep lists short.\n\nProject description: Planting plans and a watering rota for the allotment."
    );
    assert_eq!(garden["id"], "claude:01912f3a-6b20-7c41-9d52-3e8f1a2b4c6d");
    assert_eq!(garden["created_at"], 1_725_040_841_604_i64);
    // The Markdown document, byte for byte; the empty one is left out.
    let files = garden["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{garden}");
    assert_eq!(files[0]["name"], "Plan — été 2024.md");
    assert_eq!(files[0]["media_type"], "text/markdown");
    assert_eq!(files[0]["size"], plan.len());
    assert_eq!(files[0]["sha256"], sha256_hex(plan.as_bytes()));
    let starter = project(&t, STARTER);
    assert_eq!(
        starter["instructions"],
        "Project description: A starter project every new account gets; it has no documents here."
    );
    assert_eq!(starter["files"], serde_json::json!([]));
    // Claude.ai does not say which project a conversation was in.
    assert_eq!(list(&t)[0]["project_id"], Value::Null);
    let expected = claude_projects(&t);

    // Importing again, or the same projects in the newer layout (one file each), adds
    // nothing.
    assert_eq!(
        import_ok(&t, &fixture("claude-projects")),
        "Imported 0 conversations (0 messages); 1 already present."
    );
    import_ok(&t, &fixture("claude-projects-2026"));
    assert_eq!(projects(&t).len(), 2);
    assert_eq!(claude_projects(&t), expected);

    // The newer layout on its own, as the zip Claude.ai offers (`projects-000.zip`),
    // gives the same projects; so does `projects.json` on its own.
    let zip = t.root.path().join("projects-000.zip");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
        let dir = fixture("claude-projects-2026/projects");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        for name in names {
            w.start_file(
                format!("projects/{name}"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            std::io::Write::write_all(&mut w, &std::fs::read(dir.join(&name)).unwrap()).unwrap();
        }
        w.finish().unwrap();
    }
    for source in [zip, fixture("claude-projects/projects.json")] {
        let fresh = vault();
        assert_eq!(
            import_ok(&fresh, &source),
            "Imported 0 conversations (0 messages); 0 already present. Added 2 projects and 0 saved prompts."
        );
        assert_eq!(claude_projects(&fresh), expected, "{}", source.display());
    }

    // A project of the same name already in the vault keeps it; the import is renamed.
    let fresh = vault();
    run_ok(hearth(&fresh).args(["project", "add", GARDEN]));
    import_ok(&fresh, &fixture("claude-projects"));
    let names: Vec<String> = projects(&fresh)
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            STARTER.to_owned(),
            GARDEN.to_owned(),
            format!("{GARDEN} (imported)")
        ]
    );
}

/// A ChatGPT conversation of one question, with `gizmo_id` and
/// `conversation_template_id` as given.
fn chatgpt_chat(id: &str, title: &str, gizmo: Value, template: Value, time: f64) -> Value {
    serde_json::json!({
        "title": title,
        "create_time": time,
        "update_time": time + 10.0,
        "conversation_id": id,
        "current_node": "u",
        "gizmo_id": gizmo,
        "gizmo_type": if gizmo.is_null() { Value::Null } else { "snorlax".into() },
        "conversation_template_id": template,
        "mapping": {
            "root": {"id": "root", "parent": null, "children": ["u"], "message": null},
            "u": {"id": "u", "parent": "root", "children": [], "message": {
                "id": "u", "author": {"role": "user"}, "create_time": time,
                "content": {"content_type": "text", "parts": [title]}
            }}
        }
    })
}

#[test]
fn chatgpt_conversations_of_one_project_go_into_one_project_and_custom_gpts_into_none() {
    const KITCHEN: &str = "g-p-67f0a2c3b4d58191a1e2f3a4b5c6d7e8";
    const TRIP: &str = "g-p-1a2b3c4d5e6f";
    let export = serde_json::json!([
        chatgpt_chat(
            "c-1",
            "Tiles",
            KITCHEN.into(),
            KITCHEN.into(),
            1_714_564_800.0
        ),
        chatgpt_chat(
            "c-2",
            "A custom GPT",
            "g-pmuQfob8d".into(),
            "g-pmuQfob8d".into(),
            1_714_564_900.0
        ),
        chatgpt_chat("c-3", "Trains", Value::Null, TRIP.into(), 1_714_565_000.0),
        chatgpt_chat(
            "c-4",
            "Worktop",
            KITCHEN.into(),
            Value::Null,
            1_714_565_100.0
        ),
        chatgpt_chat("c-5", "Plain", Value::Null, Value::Null, 1_714_565_200.0),
    ]);
    let t = vault();
    let path = t.root.path().join("conversations.json");
    std::fs::write(&path, export.to_string()).unwrap();
    assert_eq!(
        import_ok(&t, &path),
        "Imported 5 conversations (5 messages); 0 already present. Added 2 projects and 0 saved prompts."
    );
    let listed = projects(&t);
    let names: Vec<&str> = listed.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["ChatGPT project 1a2b3c4d", "ChatGPT project 67f0a2c3"]
    );
    let kitchen = project(&t, "ChatGPT project 67f0a2c3");
    assert_eq!(kitchen["id"], format!("chatgpt:{KITCHEN}"));
    assert_eq!(kitchen["instructions"], "");
    assert_eq!(kitchen["files"], serde_json::json!([]));
    assert_eq!(kitchen["created_at"], 1_714_564_800_000_i64);
    let in_project = |t: &TestDir| -> Vec<(String, Value)> {
        let mut rows: Vec<(String, Value)> = list(t)
            .iter()
            .map(|c| {
                (
                    c["title"].as_str().unwrap().to_owned(),
                    c["project"].clone(),
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    };
    let expected = vec![
        ("A custom GPT".to_owned(), Value::Null),
        ("Plain".to_owned(), Value::Null),
        ("Tiles".to_owned(), "ChatGPT project 67f0a2c3".into()),
        ("Trains".to_owned(), "ChatGPT project 1a2b3c4d".into()),
        ("Worktop".to_owned(), "ChatGPT project 67f0a2c3".into()),
    ];
    assert_eq!(in_project(&t), expected);

    // The name can be changed; importing again adds nothing and keeps the new name.
    run_ok(hearth(&t).args(["project", "rename", "ChatGPT project 67f0a2c3", "Kitchen"]));
    assert_eq!(
        import_ok(&t, &path),
        "Imported 0 conversations (0 messages); 5 already present."
    );
    let names: Vec<String> = projects(&t)
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["ChatGPT project 1a2b3c4d", "Kitchen"]);
    // A later export with a new conversation in the project files it there.
    let later = serde_json::json!([chatgpt_chat(
        "c-6",
        "Lights",
        KITCHEN.into(),
        KITCHEN.into(),
        1_714_565_300.0
    )]);
    std::fs::write(&path, later.to_string()).unwrap();
    import_ok(&t, &path);
    assert_eq!(projects(&t).len(), 2);
    let lights = list(&t)
        .into_iter()
        .find(|c| c["title"] == "Lights")
        .unwrap();
    assert_eq!(lights["project"], "Kitchen");
}
