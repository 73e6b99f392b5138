//! Promise 1 and 2: nothing readable reaches the disk, and the database is a standard
//! SQLCipher 4 file that plain SQLite cannot read.

use hearth_keychain::OsKeychain;
use hearth_tests::*;
use hearth_vault::{NewConversation, NewMessage, Passphrase, Role, Vault, VaultPaths};

/// Writes a conversation whose title and messages carry canaries; returns the canaries.
/// Leaves the vault open while the data directory is scanned, so the WAL and SHM files
/// are checked too, then scans again after closing.
fn write_canaries_and_scan(t: &TestDir, passphrase: Option<&Passphrase>) -> Vec<String> {
    let title = canary("title");
    let question = canary("question");
    let reply = canary("reply");
    let reasoning = canary("reasoning");
    let paths = VaultPaths::new(&t.data);
    let mut vault = Vault::open(&paths, &OsKeychain::default(), passphrase).unwrap();
    let c = vault
        .create_conversation(NewConversation {
            title: title.clone(),
            ..Default::default()
        })
        .unwrap();
    let q = vault
        .append_message(NewMessage::complete(
            &c.id,
            None,
            Role::User,
            format!("Please remember {question} ünïcödé"),
        ))
        .unwrap();
    let mut r = NewMessage::complete(
        &c.id,
        Some(&q.id),
        Role::Assistant,
        format!("Sure: {reply}"),
    );
    r.reasoning = Some(format!("thinking about {reasoning}"));
    vault.append_message(r).unwrap();
    // A few hundred more messages so pages spill and the WAL is busy.
    for i in 0..300 {
        vault
            .append_message(NewMessage::complete(
                &c.id,
                None,
                Role::User,
                format!("filler {i} {question}"),
            ))
            .unwrap();
    }
    let all = vec![title, question, reply, reasoning];
    assert!(
        paths.wal().exists(),
        "the WAL should exist while the vault is open"
    );
    for c in &all {
        assert_absent(&t.data, c);
    }
    vault.lock().unwrap();
    for c in &all {
        assert_absent(&t.data, c);
    }
    all
}

fn reveal_key(t: &TestDir, passphrase: Option<&str>) -> String {
    let mut cmd = t.hearth();
    cmd.args(["vault-key", "--reveal"]);
    if let Some(p) = passphrase {
        cmd.env("HEARTH_PASSPHRASE", p);
    }
    let r = run_ok(&mut cmd);
    assert!(r.stderr.contains("Warning"), "{r:?}");
    let key = r.stdout.trim().to_owned();
    assert_eq!(key.len(), 64, "{r:?}");
    key
}

fn assert_plain_sqlite_cannot_read(t: &TestDir) {
    let db = t.data.join("hearth.db");
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT count(*) FROM sqlite_master;")
        .output()
        .expect("sqlite3 is missing: scripts/test.sh installs it");
    assert!(
        !out.status.success(),
        "plain sqlite3 read the vault: {out:?}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a database"), "{err}");
    // And the file does not even start with SQLite's plaintext magic.
    let bytes = std::fs::read(&db).unwrap();
    assert!(!bytes.starts_with(b"SQLite format 3\0"));
}

fn assert_external_client_reads(t: &TestDir, key: &str, expected: &[String]) {
    let db = t.data.join("hearth.db");
    let r = sqlcipher_query(
        &db,
        key,
        "SELECT content FROM messages ORDER BY seq LIMIT 2",
    );
    assert!(r.ok(), "{r:?}");
    assert!(r.stdout.contains(&expected[1]), "{r:?}");
    assert!(r.stdout.contains(&expected[2]), "{r:?}");
    let r = sqlcipher_query(&db, key, "SELECT title FROM conversations");
    assert!(r.ok() && r.stdout.contains(&expected[0]), "{r:?}");
    // Full-text search works from outside too: the index is part of the file.
    let r = sqlcipher_query(
        &db,
        key,
        &format!(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"{}\"'",
            expected[2]
        ),
    );
    assert!(r.ok() && r.stdout.trim() == "1", "{r:?}");
    // A wrong key gets nothing.
    let wrong = "00".repeat(32);
    let r = sqlcipher_query(&db, &wrong, "SELECT count(*) FROM messages");
    assert!(!r.ok(), "a wrong key opened the vault: {r:?}");
}

#[test]
fn keychain_vault_at_rest_is_unreadable_without_the_key() {
    require_secret_service();
    let t = TestDir::new();
    run_ok(t.hearth().arg("init"));
    let api_key = canary("apikey");
    let r = run_with_input(
        t.hearth().args(["key", "set", "openai"]),
        api_key.as_bytes(),
    );
    assert!(r.ok(), "{r:?}");
    assert!(!r.stderr.contains(&api_key) && !r.stdout.contains(&api_key));
    let canaries = write_canaries_and_scan(&t, None);
    assert_absent(&t.data, &api_key);
    let key = reveal_key(&t, None);
    // The data key itself is not on disk either, in hex or raw.
    assert_absent(&t.data, &key);
    assert!(files_containing(&t.data, &hex::decode(&key).unwrap()).is_empty());
    assert_plain_sqlite_cannot_read(&t);
    assert_external_client_reads(&t, &key, &canaries);
    // The provider key is in the keychain, not in the database.
    let r = sqlcipher_query(
        &t.data.join("hearth.db"),
        &key,
        "SELECT count(*) FROM secrets",
    );
    assert_eq!(r.stdout.trim(), "0", "{r:?}");
    // Listing keys shows only a hint.
    let r = run_ok(t.hearth().args(["key", "list"]));
    assert!(!r.stdout.contains(&api_key));
    assert!(
        r.stdout
            .contains(&format!("…{}", &api_key[api_key.len() - 4..])),
        "{r:?}"
    );
}

#[test]
fn passphrase_vault_at_rest_is_unreadable_without_the_key() {
    let t = TestDir::new();
    let pass = canary("passphrase");
    run_ok(without_dbus(
        t.hearth()
            .args(["init", "--passphrase", "--no-keychain"])
            .env("HEARTH_PASSPHRASE", &pass),
    ));
    let api_key = canary("apikey");
    let r = run_with_input(
        without_dbus(
            t.hearth()
                .args(["key", "set", "anthropic"])
                .env("HEARTH_PASSPHRASE", &pass),
        ),
        api_key.as_bytes(),
    );
    assert!(r.ok() && r.stderr.contains("encrypted vault"), "{r:?}");
    let canaries = write_canaries_and_scan(&t, Some(&Passphrase::new(pass.clone())));
    assert_absent(&t.data, &pass);
    assert_absent(&t.data, &api_key);
    let key = reveal_key(&t, Some(&pass));
    assert_absent(&t.data, &key);
    assert!(files_containing(&t.data, &hex::decode(&key).unwrap()).is_empty());
    assert_plain_sqlite_cannot_read(&t);
    assert_external_client_reads(&t, &key, &canaries);
    // The API key lives inside the encrypted file, readable only with the data key.
    let r = sqlcipher_query(&t.data.join("hearth.db"), &key, "SELECT value FROM secrets");
    assert!(r.stdout.contains(&api_key), "{r:?}");
}
