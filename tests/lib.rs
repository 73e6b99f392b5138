//! hearth-tests: the harness shared by Hearth's integration tests.
//!
//! Tests drive the real `hearth` binary (built by `scripts/test.sh` before the tests
//! run), the real Secret Service (gnome-keyring in a private D-Bus session), plain
//! `sqlite3`, and an independent SQLCipher 4 client (PyPI `sqlcipher3-binary`).

#![allow(clippy::unwrap_used)]

pub mod fake_provider;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temporary folder per test; `data` is the Hearth data directory inside it.
pub struct TestDir {
    /// Keeps the folder alive.
    pub root: tempfile::TempDir,
    /// The data directory handed to Hearth.
    pub data: PathBuf,
}

impl TestDir {
    /// A new, empty test folder.
    pub fn new() -> TestDir {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("hearth-data");
        TestDir { root, data }
    }

    /// A `hearth` command using this data directory, with no passphrase in its environment.
    pub fn hearth(&self) -> Command {
        let mut cmd = Command::new(hearth_bin());
        cmd.env("HEARTH_DATA_DIR", &self.data)
            .env_remove("HEARTH_PASSPHRASE")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        cmd
    }
}

impl Default for TestDir {
    fn default() -> Self {
        TestDir::new()
    }
}

/// The `hearth` binary next to this test binary (target/debug/hearth).
pub fn hearth_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join(format!("hearth{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with scripts/test.sh (it builds the binaries first)",
        bin.display()
    );
    bin
}

/// What a finished command printed, as text.
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Whether it exited with 0.
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn to_run(out: Output) -> Run {
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs a command to the end.
pub fn run(cmd: &mut Command) -> Run {
    to_run(cmd.output().unwrap())
}

/// Runs a command with `input` on its standard input.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    to_run(child.wait_with_output().unwrap())
}

/// Runs a command that must succeed, and returns what it printed.
pub fn run_ok(cmd: &mut Command) -> Run {
    let r = run(cmd);
    assert!(r.ok(), "command failed: {cmd:?}\n{r:?}");
    r
}

/// Asserts a failure that a user can act on: non-zero exit (not a panic), and exactly one
/// line on stderr starting `hearth:`, containing `needle`.
pub fn assert_clear_failure(r: &Run, needle: &str) {
    assert!(!r.ok(), "expected a failure:\n{r:?}");
    assert_ne!(r.code, Some(101), "hearth panicked:\n{r:?}");
    assert!(!r.stderr.contains("panicked"), "hearth panicked:\n{r:?}");
    let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line of error:\n{r:?}");
    assert!(lines[0].starts_with("hearth: "), "{r:?}");
    assert!(
        lines[0].to_lowercase().contains(&needle.to_lowercase()),
        "expected `{needle}` in the error:\n{r:?}"
    );
}

/// Every file below `dir` with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.insert(path, bytes);
            }
        }
    }
    files
}

/// The files below `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    snapshot(dir)
        .into_iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
        .map(|(p, _)| p)
        .collect()
}

/// Asserts that no file below `dir` contains `needle` in UTF-8, UTF-16LE or (for ASCII)
/// upper/lower case variants.
pub fn assert_absent(dir: &Path, needle: &str) {
    let utf16: Vec<u8> = needle
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    for form in [
        needle.as_bytes().to_vec(),
        utf16,
        needle.to_uppercase().into_bytes(),
    ] {
        let found = files_containing(dir, &form);
        assert!(
            found.is_empty(),
            "`{needle}` found in plaintext in {found:?}"
        );
    }
}

/// The independent SQLCipher 4 client: a Python with `sqlcipher3` (set up by scripts/test.sh).
pub fn sqlcipher_python() -> PathBuf {
    let path = std::env::var_os("HEARTH_SQLCIPHER_PYTHON").map(PathBuf::from).expect(
        "HEARTH_SQLCIPHER_PYTHON is not set: run the tests with scripts/test.sh, which installs the independent SQLCipher client",
    );
    assert!(path.exists(), "{} does not exist", path.display());
    path
}

/// Runs `sql` in the independent SQLCipher client against `db` keyed with `key_hex`;
/// returns each row as a tab-joined line.
pub fn sqlcipher_query(db: &Path, key_hex: &str, sql: &str) -> Run {
    let script = r#"
import sys, sqlcipher3
db, key, sql = sys.argv[1], sys.stdin.readline().strip(), sys.argv[2]
con = sqlcipher3.connect(db)
con.execute(f"PRAGMA key = \"x'{key}'\"")
for row in con.execute(sql):
    print("\t".join(str(v) for v in row))
"#;
    let mut cmd = Command::new(sqlcipher_python());
    cmd.arg("-c").arg(script).arg(db).arg(sql);
    run_with_input(&mut cmd, format!("{key_hex}\n").as_bytes())
}

/// Fails the test unless a Secret Service is reachable: the keychain tests must run
/// against the real one, never silently skip.
pub fn require_secret_service() {
    use hearth_keychain::SecretStore;
    let probe = hearth_keychain::OsKeychain::default().probe();
    assert!(
        probe.is_ok(),
        "no Secret Service ({probe:?}): run the tests with scripts/test.sh, which starts gnome-keyring in a private D-Bus session"
    );
}

/// `secret-tool search --all service Hearth`: what the keychain holds for Hearth, as seen
/// from outside Hearth.
pub fn secret_tool_accounts() -> Vec<String> {
    // A search while another test adds or removes entries can miss some of them.
    let _alone = keychain_changes();
    let out = Command::new("secret-tool")
        .args(["search", "--all", "--unlock", "service", "Hearth"])
        .output()
        .expect("secret-tool is missing: scripts/test.sh installs libsecret-tools");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("attribute.username = "))
        .map(str::to_owned)
        .collect()
}

/// Held while a test adds and removes keychain entries in bulk (or lists them all), so
/// that `secret-tool search` never runs while entries come and go under it.
pub fn keychain_changes() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An environment in which no D-Bus session (hence no Secret Service) can be reached.
pub fn without_dbus(cmd: &mut Command) -> &mut Command {
    let empty = std::env::temp_dir().join("hearth-no-runtime-dir");
    let _ = std::fs::create_dir_all(&empty);
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/hearth-test-bus",
    )
    .env("XDG_RUNTIME_DIR", &empty)
    .env_remove("DISPLAY")
}

/// A unique string that must never reach the disk in the clear.
pub fn canary(label: &str) -> String {
    format!("CANARY-{label}-{:016x}", rand::random::<u64>())
}

/// SQLCipher 4's page layout with the defaults Hearth uses: 4096-byte pages ending in an
/// 80-byte reserve (16-byte IV, 64-byte HMAC); page 1 starts with the 16-byte salt.
const PAGE: usize = 4096;
const RESERVE: usize = 80;

/// Every page of the SQLCipher database `db` decrypted with the raw `key_hex`, written
/// without Hearth's code (AES-256-CBC as SQLCipher 4 uses it with a raw key), free and
/// unused pages included, and the pages in its write-ahead log (`db-wal`) too: what a
/// forensic look at the disk would find with the key. Deleted text still in freed pages
/// shows up here, where SQL would never return it.
pub fn decrypted_pages(db: &Path, key_hex: &str) -> Vec<u8> {
    let key = hex::decode(key_hex).expect("a hex key");
    let file = std::fs::read(db).expect("read the database");
    assert_eq!(file.len() % PAGE, 0, "not whole pages: {}", db.display());
    let mut plain = Vec::with_capacity(file.len());
    for (i, page) in file.chunks(PAGE).enumerate() {
        decrypt_page(&key, page, i == 0, &mut plain);
    }
    // The log: a 32-byte header, then frames of a 24-byte header and one page each.
    let mut wal_name = db.as_os_str().to_owned();
    wal_name.push("-wal");
    if let Ok(wal) = std::fs::read(Path::new(&wal_name)) {
        for frame in wal.get(32..).unwrap_or_default().chunks(24 + PAGE) {
            if frame.len() == 24 + PAGE {
                let page_number = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
                decrypt_page(&key, &frame[24..], page_number == 1, &mut plain);
            }
        }
    }
    plain
}

fn decrypt_page(key: &[u8], page: &[u8], first: bool, out: &mut Vec<u8>) {
    use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
    let start = if first { 16 } else { 0 };
    let iv = &page[PAGE - RESERVE..PAGE - RESERVE + 16];
    let mut body = page[start..PAGE - RESERVE].to_vec();
    cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
        .expect("key and IV sizes")
        .decrypt_padded::<cbc::cipher::block_padding::NoPadding>(&mut body)
        .expect("whole blocks");
    out.extend_from_slice(&body);
}

/// Makes `mock` the default provider: `kind` at `base_url`, model `test-model`. `hearth`
/// gives a command for the vault (with its passphrase, say).
pub fn use_mock_provider(hearth: impl Fn() -> Command, kind: &str, base_url: &str) {
    run_ok(hearth().args([
        "provider",
        "set",
        "mock",
        "--kind",
        kind,
        "--base-url",
        base_url,
        "--default-model",
        "test-model",
        "--default",
    ]));
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// Saves attachment `id` to the new file `out` with `hearth attachment save` (through
/// `cmd`, a command for the vault) and returns the bytes written.
pub fn saved_attachment(mut cmd: Command, id: &str, out: &Path) -> Vec<u8> {
    run_ok(cmd.args(["attachment", "save", id, "--output"]).arg(out));
    std::fs::read(out).unwrap()
}
