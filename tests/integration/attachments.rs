//! Files attached to messages, through the real `hearth` binary against the loopback fake
//! provider: each protocol gets the files in its own shape with their exact bytes, with
//! the message and again with every later turn; bad files are refused before anything is
//! saved or sent; the bytes come back whole through every export and `attachment save`;
//! a temporary chat's files are never written.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use hearth_tests::fake_provider::*;
use hearth_tests::*;
use serde_json::Value;

const PASS: &str = "attachments test passphrase";

fn hearth(t: &TestDir) -> Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd).env("HEARTH_PASSPHRASE", PASS);
    cmd
}

fn setup(fake: &FakeProvider, kind: &str, seg: &str) -> TestDir {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    use_mock_provider(|| hearth(&t), kind, &fake.base_url(seg));
    let r = run_with_input(
        hearth(&t).args(["key", "set", "mock"]),
        b"sk-attachments-test",
    );
    assert!(r.ok(), "{r:?}");
    t
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A real PNG, a real PDF and a text file, written into `dir`.
struct Files {
    png: PathBuf,
    pdf: PathBuf,
    text: PathBuf,
}

fn files(dir: &Path) -> Files {
    let files = Files {
        png: dir.join("icon.png"),
        pdf: dir.join("paper.pdf"),
        text: dir.join("notes.md"),
    };
    std::fs::copy(root().join("icons/32x32.png"), &files.png).unwrap();
    std::fs::copy(
        root().join("tests/data/attachments/minimal-document.pdf"),
        &files.pdf,
    )
    .unwrap();
    std::fs::write(&files.text, "# Notes\nünïcödé \"quoted\"\n").unwrap();
    files
}

/// `hearth chat --attach` with the PNG, the PDF and the text file, and `message`.
fn send_all_three(t: &TestDir, f: &Files, message: &str) {
    run_ok(
        hearth(t)
            .arg("chat")
            .args(["--attach".as_ref(), f.png.as_os_str()])
            .args(["--attach".as_ref(), f.pdf.as_os_str()])
            .args(["--attach".as_ref(), f.text.as_os_str()])
            .arg(message),
    );
}

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{r:?}"))
}

fn only_conversation(t: &TestDir) -> String {
    let list = json(&run_ok(hearth(t).args(["list", "--json"])));
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    items[0]["id"].as_str().unwrap().to_owned()
}

fn decoded(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

const TEXT_BLOCK: &str =
    "<file name=\"notes.md\" type=\"text/markdown\">\n# Notes\nünïcödé \"quoted\"\n</file>";

/// Checks that the user turn `turn` of `body` carries the three files, in order, then the
/// text `question`, in `protocol`'s own shape, with exactly the files' bytes.
fn assert_files_in(kind: &str, body: &Value, turn: usize, f: &Files, question: &str) {
    let png = std::fs::read(&f.png).unwrap();
    let pdf = std::fs::read(&f.pdf).unwrap();
    match kind {
        "openai-compatible" => {
            let parts = body["messages"][turn]["content"].as_array().unwrap();
            assert_eq!(parts.len(), 4, "{parts:?}");
            let url = parts[0]["image_url"]["url"].as_str().unwrap();
            assert_eq!(
                decoded(url.strip_prefix("data:image/png;base64,").unwrap()),
                png
            );
            assert_eq!(parts[1]["type"], "file");
            assert_eq!(parts[1]["file"]["filename"], "paper.pdf");
            let url = parts[1]["file"]["file_data"].as_str().unwrap();
            assert_eq!(
                decoded(url.strip_prefix("data:application/pdf;base64,").unwrap()),
                pdf
            );
            assert_eq!(
                parts[2],
                serde_json::json!({"type": "text", "text": TEXT_BLOCK})
            );
            assert_eq!(parts[3]["text"], question);
        }
        "anthropic" => {
            let blocks = body["messages"][turn]["content"].as_array().unwrap();
            assert_eq!(blocks.len(), 4, "{blocks:?}");
            assert_eq!(blocks[0]["type"], "image");
            assert_eq!(blocks[0]["source"]["media_type"], "image/png");
            assert_eq!(decoded(blocks[0]["source"]["data"].as_str().unwrap()), png);
            assert_eq!(blocks[1]["type"], "document");
            assert_eq!(blocks[1]["source"]["media_type"], "application/pdf");
            assert_eq!(decoded(blocks[1]["source"]["data"].as_str().unwrap()), pdf);
            assert_eq!(
                blocks[2],
                serde_json::json!({"type": "text", "text": TEXT_BLOCK})
            );
            assert_eq!(blocks[3]["text"], question);
        }
        _ => {
            let parts = body["contents"][turn]["parts"].as_array().unwrap();
            assert_eq!(parts.len(), 4, "{parts:?}");
            assert_eq!(parts[0]["inline_data"]["mime_type"], "image/png");
            assert_eq!(
                decoded(parts[0]["inline_data"]["data"].as_str().unwrap()),
                png
            );
            assert_eq!(parts[1]["inline_data"]["mime_type"], "application/pdf");
            assert_eq!(
                decoded(parts[1]["inline_data"]["data"].as_str().unwrap()),
                pdf
            );
            assert_eq!(parts[2], serde_json::json!({"text": TEXT_BLOCK}));
            assert_eq!(parts[3], serde_json::json!({"text": question}));
        }
    }
}

#[test]
fn each_protocol_gets_the_files_with_the_message_and_again_in_the_next_turns_history() {
    for (kind, seg, fixture) in [
        ("openai-compatible", "/v1", "openai-basic.sse"),
        ("anthropic", "/v1", "anthropic-basic.sse"),
        ("gemini", "/v1beta", "gemini-basic.sse"),
    ] {
        let fake = FakeProvider::always(Reply::sse_fixture(fixture));
        let t = setup(&fake, kind, seg);
        let f = files(t.root.path());
        send_all_three(&t, &f, "look at these");
        let id = only_conversation(&t);
        run_ok(hearth(&t).args(["chat", "--conversation", &id, "and again?"]));
        let requests = fake.requests();
        assert_eq!(requests.len(), 2, "{kind}");
        let first = requests[0].json();
        let second = requests[1].json();
        // Anthropic and Gemini have no system turn; OpenAI's first message is the user's.
        assert_files_in(kind, &first, 0, &f, "look at these");
        assert_files_in(kind, &second, 0, &f, "look at these");
        // The new question carries no files of its own.
        let last = match kind {
            "gemini" => second["contents"][2]["parts"].clone(),
            _ => second["messages"][2]["content"].clone(),
        };
        assert!(
            !last.to_string().contains("base64") && !last.to_string().contains("inline_data"),
            "{kind}: {last}"
        );

        // `show` lists the files with the message, and `attachment save` gives the bytes
        // back, private, never over an existing file.
        let shown = json(&run_ok(hearth(&t).args(["show", &id, "--format", "json"])));
        let attachments = shown["messages"][0]["attachments"].as_array().unwrap();
        let names: Vec<&str> = attachments
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["icon.png", "paper.pdf", "notes.md"]);
        assert_eq!(attachments[1]["media_type"], "application/pdf");
        assert!(shown["messages"][1]["attachments"]
            .as_array()
            .unwrap()
            .is_empty());
        for (a, path) in attachments.iter().zip([&f.png, &f.pdf, &f.text]) {
            let original = std::fs::read(path).unwrap();
            assert_eq!(a["sha256"], sha256_hex(&original));
            assert_eq!(a["size"], original.len());
            let out = t
                .root
                .path()
                .join(format!("saved-{}", a["name"].as_str().unwrap()));
            let id = a["id"].as_str().unwrap();
            assert_eq!(saved_attachment(hearth(&t), id, &out), original);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&out).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600);
            }
            let again = run(hearth(&t)
                .args(["attachment", "save", id, "--output"])
                .arg(&out));
            assert_clear_failure(&again, "already exists");
            assert_eq!(std::fs::read(&out).unwrap(), original);
        }
        let md = run_ok(hearth(&t).args(["show", &id]));
        assert!(md.stdout.contains("- paper.pdf (application/pdf"), "{md:?}");
        let status = json(&run_ok(hearth(&t).args(["status", "--json"])));
        assert_eq!(status["counts"]["attachments"], 3);
        let total: u64 = [&f.png, &f.pdf, &f.text]
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum();
        assert_eq!(status["counts"]["attachment_bytes"], total);
    }
}

#[test]
fn a_provider_that_refuses_a_kind_is_shown_as_it_is_and_the_message_and_files_are_kept() {
    let refusal = r#"{"error":{"message":"Invalid content type. image_url is only supported by certain models.","type":"invalid_request_error","param":"messages.[0].content.[0].type","code":null}}"#;
    let fake = FakeProvider::always(Reply::json(400, refusal));
    let t = setup(&fake, "openai-compatible", "/v1");
    let f = files(t.root.path());
    let r = run(hearth(&t).args(["chat", "--attach", f.png.to_str().unwrap(), "what is this?"]));
    assert!(!r.ok(), "{r:?}");
    assert!(
        r.stderr
            .contains("image_url is only supported by certain models"),
        "{r:?}"
    );
    assert!(r.stderr.contains("Your message is saved"), "{r:?}");
    let id = only_conversation(&t);
    let shown = json(&run_ok(hearth(&t).args(["show", &id, "--format", "json"])));
    assert_eq!(shown["messages"][0]["content"], "what is this?");
    assert_eq!(shown["messages"][0]["attachments"][0]["name"], "icon.png");
    assert_eq!(shown["messages"][1]["status"], "error");
}

#[test]
fn bad_files_are_refused_clearly_before_anything_is_saved_or_sent() {
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    let t = setup(&fake, "openai-compatible", "/v1");
    let f = files(t.root.path());
    let png = std::fs::read(&f.png).unwrap();
    let cut = t.root.path().join("cut.png");
    std::fs::write(&cut, &png[..png.len() - 20]).unwrap();
    let big = t.root.path().join("big.txt");
    let file = std::fs::File::create(&big).unwrap();
    // Sparse: 33 MiB of nothing on disk, refused before it is read.
    file.set_len((32 << 20) + 1).unwrap();
    drop(file);
    let unknown = t.root.path().join("tool.exe");
    std::fs::write(
        &unknown,
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
    )
    .unwrap();
    let folder = t.root.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    let vanished = t.root.path().join("vanished.pdf");
    let eleven: Vec<String> = (0..11)
        .map(|_| f.text.to_str().unwrap().to_owned())
        .collect();
    let mut too_many = vec!["chat".to_owned()];
    for p in &eleven {
        too_many.push("--attach".into());
        too_many.push(p.clone());
    }
    too_many.push("hello".into());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![cut.clone()],
            "cannot attach cut.png: the file starts like image/png but is cut short or damaged",
        ),
        (
            vec![big.clone()],
            "cannot attach big.txt: the file is 32.0 MiB; Hearth attaches files of up to 32 MiB",
        ),
        (
            vec![unknown.clone()],
            "this kind of file cannot be attached: Hearth attaches images (PNG, JPEG, WebP, GIF), PDFs and text files",
        ),
        (vec![folder.clone()], "this is a folder, not a file"),
        (vec![vanished.clone()], "cannot attach vanished.pdf: the file could not be read"),
    ]
    .into_iter()
    .map(|(paths, needle): (Vec<PathBuf>, &str)| {
        let mut args = vec!["chat".to_owned(), "--attach".into(), f.png.to_str().unwrap().into()];
        for p in paths {
            args.push("--attach".into());
            args.push(p.to_str().unwrap().into());
        }
        args.push("hello".into());
        (args, needle)
    })
    .chain([(too_many, "a message takes at most 10 files, and this one has 11")])
    .collect();
    for (args, needle) in cases {
        let r = run(hearth(&t).args(&args));
        assert_clear_failure(&r, needle);
        let list = json(&run_ok(hearth(&t).args(["list", "--json"])));
        assert_eq!(list, serde_json::json!([]), "{needle}: something was saved");
        assert!(fake.requests().is_empty(), "{needle}: something was sent");
    }
    let status = json(&run_ok(hearth(&t).args(["status", "--json"])));
    assert_eq!(status["counts"]["attachments"], 0);
    assert_eq!(status["counts"]["messages"], 0);
}

#[test]
fn files_come_back_byte_for_byte_through_a_json_export_and_an_archive() {
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    let t = setup(&fake, "openai-compatible", "/v1");
    let f = files(t.root.path());
    send_all_three(&t, &f, "keep these");
    let id = only_conversation(&t);
    let json_out = t.root.path().join("backup.json");
    let archive_out = t.root.path().join("backup.hearth");
    run_ok(hearth(&t).args([
        "export",
        "--format",
        "json",
        "--output",
        json_out.to_str().unwrap(),
    ]));
    run_ok(
        hearth(&t)
            .env("HEARTH_ARCHIVE_PASSPHRASE", "archive passphrase 1")
            .args([
                "export",
                "--format",
                "archive",
                "--output",
                archive_out.to_str().unwrap(),
            ]),
    );
    let shown = json(&run_ok(hearth(&t).args(["show", &id, "--format", "json"])));
    let original = shown["messages"][0]["attachments"].clone();

    for export in [&json_out, &archive_out] {
        let fresh = TestDir::new();
        run_ok(hearth(&fresh).args(["init", "--passphrase", "--no-keychain"]));
        run_ok(
            hearth(&fresh)
                .env("HEARTH_ARCHIVE_PASSPHRASE", "archive passphrase 1")
                .args(["import", export.to_str().unwrap()]),
        );
        let back = json(&run_ok(
            hearth(&fresh).args(["show", &id, "--format", "json"]),
        ));
        assert_eq!(back["messages"][0]["attachments"], original);
        for (a, path) in original
            .as_array()
            .unwrap()
            .iter()
            .zip([&f.png, &f.pdf, &f.text])
        {
            let out = fresh.root.path().join(a["name"].as_str().unwrap());
            let bytes = saved_attachment(hearth(&fresh), a["id"].as_str().unwrap(), &out);
            assert_eq!(
                sha256_hex(&bytes),
                sha256_hex(&std::fs::read(path).unwrap())
            );
        }
        // The archive holds nothing of the files in the clear.
        if export == &archive_out {
            let sealed = std::fs::read(export).unwrap();
            let pdf = std::fs::read(&f.pdf).unwrap();
            assert!(!sealed.windows(64).any(|w| w == &pdf[..64]));
        }
    }
}

#[test]
fn a_temporary_chats_files_are_sent_and_never_written() {
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    let t = setup(&fake, "openai-compatible", "/v1");
    let secret = canary("temporary-attachment");
    let file = t.root.path().join("secret.txt");
    std::fs::write(&file, format!("the code is {secret}\n")).unwrap();
    run_ok(hearth(&t).args([
        "chat",
        "--temporary",
        "--attach",
        file.to_str().unwrap(),
        "what is the code?",
    ]));
    let body = fake.requests()[0].json();
    assert!(body.to_string().contains(&secret), "{body}");
    assert_absent(&t.data, &secret);
    let key = run_ok(hearth(&t).args(["vault-key", "--reveal"]))
        .stdout
        .trim()
        .to_owned();
    let pages = decrypted_pages(&t.data.join("hearth.db"), &key);
    assert!(!pages.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let status = json(&run_ok(hearth(&t).args(["status", "--json"])));
    assert_eq!(status["counts"]["attachments"], 0);
}
