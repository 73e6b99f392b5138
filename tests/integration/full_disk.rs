//! A full disk and a read-only data directory while chatting, importing and rotating the
//! key, on a small tmpfs the test mounts (the tests run as root, as scripts/test.sh does
//! on a fresh machine): each gives a clear error, loses nothing already saved, and the
//! vault opens afterwards.

use std::path::{Path, PathBuf};
use std::process::Command;

use hearth_tests::fake_provider::*;
use hearth_tests::*;
use serde_json::Value;

const PASS: &str = "full disk test passphrase";

/// A tmpfs of `mib` MiB, unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
    _root: tempfile::TempDir,
}

impl SmallDisk {
    fn new(mib: u32) -> SmallDisk {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("disk");
        std::fs::create_dir(&dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={mib}m,mode=0700"),
                "tmpfs",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cannot mount a small tmpfs ({}): run the tests as root, as scripts/test.sh does on a fresh machine",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        SmallDisk { dir, _root: root }
    }

    fn remount(&self, options: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }

    /// Fills the disk until at most `leave` bytes are free; returns the filler's path.
    fn fill(&self, leave: u64) -> PathBuf {
        let filler = self.dir.join("filler");
        let free = free_bytes(&self.dir);
        let size = free.saturating_sub(leave);
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0x5au8; 64 * 1024];
        let mut written = 0u64;
        while written < size {
            let n = block.len().min((size - written) as usize);
            if std::io::Write::write_all(&mut f, &block[..n]).is_err() {
                break;
            }
            written += n as u64;
        }
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap()
}

fn hearth(data: &Path) -> Command {
    let mut cmd = Command::new(hearth_bin());
    cmd.env("HEARTH_DATA_DIR", data)
        .env("HEARTH_PASSPHRASE", PASS)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null());
    without_dbus(&mut cmd);
    cmd
}

fn counts(data: &Path) -> Value {
    let r = run_ok(hearth(data).args(["status", "--json"]));
    serde_json::from_str::<Value>(&r.stdout).unwrap()["counts"].clone()
}

/// A Hearth export of `n` conversations of two messages, each `size` bytes of text.
fn export(path: &Path, n: usize, size: usize) {
    export_as(path, "c", n, size)
}

/// [`export`] with conversation ids starting with `prefix`.
fn export_as(path: &Path, prefix: &str, n: usize, size: usize) {
    let text = "w".repeat(size);
    let mut json = String::from(
        r#"{"format":"hearth-export","version":1,"exported_at":0,"app":"test","conversations":["#,
    );
    for c in 0..n {
        if c > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            r#"{{"id":"{prefix}{c}","title":"{prefix}{c}","created_at":1,"updated_at":1,"pinned":false,"archived":false,"head_message_id":"{prefix}{c}-a","messages":[{{"id":"{prefix}{c}-q","role":"user","content":"{text}","status":"complete","created_at":1}},{{"id":"{prefix}{c}-a","parent_id":"{prefix}{c}-q","role":"assistant","content":"{text}","status":"complete","created_at":2}}]}}"#
        ));
    }
    json.push_str("]}");
    std::fs::write(path, json).unwrap();
}

fn assert_opens_with(data: &Path, expected: &Value, what: &str) {
    assert_eq!(&counts(data), expected, "{what}: something was lost");
    let check = run(hearth(data).arg("check"));
    assert!(check.ok(), "{what}: {check:?}");
}

#[test]
fn a_full_disk_while_importing_chatting_or_rotating_loses_nothing_and_the_vault_opens_after() {
    let disk = SmallDisk::new(8);
    let data = disk.dir.join("hearth");
    let seed = tempfile::tempdir().unwrap();
    run_ok(hearth(&data).args(["init", "--passphrase", "--no-keychain"]));
    let small = seed.path().join("small.json");
    export(&small, 40, 2_000);
    run_ok(hearth(&data).arg("import").arg(&small));
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    use_mock_provider(|| hearth(&data), "openai-compatible", &fake.base_url("/v1"));
    run_ok(hearth(&data).args(["chat", "a question before the disk filled up"]));
    let before = counts(&data);

    // Importing more than the disk holds.
    let big = seed.path().join("big.json");
    export(&big, 400, 20_000);
    let r = run(hearth(&data).arg("import").arg(&big));
    assert_clear_failure(&r, "full");
    assert_opens_with(&data, &before, "import");

    // Chatting on a full disk: the message cannot be saved, so nothing is sent.
    let filler = disk.fill(0);
    let r = run(hearth(&data).args(["chat", "a question on a full disk"]));
    assert!(!r.ok(), "{r:?}");
    assert_ne!(r.code, Some(101), "panicked: {r:?}");
    assert!(
        r.stderr.contains("full") || r.stderr.contains("space"),
        "{r:?}"
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "a message that was not saved was sent"
    );
    std::fs::remove_file(&filler).unwrap();
    assert_opens_with(&data, &before, "chat");

    // Rotating needs room for a whole copy; with less, it is undone.
    let key = run_ok(hearth(&data).args(["vault-key", "--reveal"])).stdout;
    let db = std::fs::metadata(data.join("hearth.db")).unwrap().len();
    let filler = disk.fill(db / 2);
    let r = run(hearth(&data).arg("rekey"));
    assert!(!r.ok(), "{r:?}");
    assert_ne!(r.code, Some(101), "panicked: {r:?}");
    std::fs::remove_file(&filler).unwrap();
    assert_opens_with(&data, &before, "rekey");
    let after = run_ok(hearth(&data).args(["vault-key", "--reveal"])).stdout;
    assert_eq!(after, key, "the key changed although the rotation failed");
    assert!(!data.join("hearth.db.rekey").exists());
}

#[test]
fn a_read_only_data_directory_gives_a_clear_error_and_loses_nothing() {
    let disk = SmallDisk::new(8);
    let data = disk.dir.join("hearth");
    let seed = tempfile::tempdir().unwrap();
    run_ok(hearth(&data).args(["init", "--passphrase", "--no-keychain"]));
    let small = seed.path().join("small.json");
    export(&small, 10, 100);
    run_ok(hearth(&data).arg("import").arg(&small));
    let before = counts(&data);
    let more = seed.path().join("more.json");
    export_as(&more, "d", 5, 100);
    let fake = FakeProvider::always(Reply::sse_fixture("openai-basic.sse"));
    use_mock_provider(|| hearth(&data), "openai-compatible", &fake.base_url("/v1"));
    disk.remount("ro");
    for args in [
        vec!["import", more.to_str().unwrap()],
        vec!["rekey"],
        vec!["chat", "a question to a read-only vault"],
    ] {
        let r = run(hearth(&data).args(&args));
        assert!(!r.ok(), "{args:?}: {r:?}");
        assert_ne!(r.code, Some(101), "{args:?} panicked: {r:?}");
        let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("hearth: ") && l.to_lowercase().contains("read-only")),
            "{args:?}: {r:?}"
        );
    }
    assert!(
        fake.requests().is_empty(),
        "a message that was not saved was sent"
    );
    disk.remount("rw");
    assert_opens_with(&data, &before, "read-only");
    run_ok(hearth(&data).arg("import").arg(&more));
    assert_eq!(counts(&data)["conversations"], 15);
}
