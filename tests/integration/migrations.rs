//! Schema migrations: a new vault gets the current schema, a v1 vault with data migrates
//! forward without loss, a failing migration changes nothing, and a database from a newer
//! Hearth is refused with a clear message.

use std::path::Path;

use hearth_keychain::OsKeychain;
use hearth_tests::*;
use hearth_vault::schema::{current_version, Migration, MIGRATIONS};
use hearth_vault::{Passphrase, Vault, VaultError, VaultPaths};

/// The fixture's passphrase (test data, not a secret).
const FIXTURE_PASS: &str = "fixture passphrase v1";

fn fixture_copy() -> TestDir {
    let t = TestDir::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/vault-v1");
    std::fs::create_dir_all(&t.data).unwrap();
    for f in ["hearth.db", "vault.json"] {
        std::fs::copy(src.join(f), t.data.join(f)).unwrap();
    }
    t
}

fn open_key(t: &TestDir) -> hearth_vault::DataKey {
    Vault::unlock_key(
        &VaultPaths::new(&t.data),
        &OsKeychain::default(),
        Some(&Passphrase::new(FIXTURE_PASS)),
    )
    .unwrap()
}

fn hearth(t: &TestDir) -> std::process::Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd).env("HEARTH_PASSPHRASE", FIXTURE_PASS);
    cmd
}

#[test]
fn a_new_vault_gets_the_current_schema() {
    let t = TestDir::new();
    run_ok(hearth(&t).args(["init", "--passphrase", "--no-keychain"]));
    let s: serde_json::Value =
        serde_json::from_str(&run_ok(hearth(&t).args(["status", "--json"])).stdout).unwrap();
    assert_eq!(s["versions"]["schema"], current_version());
    assert_eq!(s["versions"]["schema_supported"], current_version());
}

#[test]
fn the_v1_fixture_with_data_opens_and_reads() {
    let t = fixture_copy();
    let list: serde_json::Value =
        serde_json::from_str(&run_ok(hearth(&t).args(["list", "--json"])).stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "Fixture: branches")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown: serde_json::Value =
        serde_json::from_str(&run_ok(hearth(&t).args(["show", &id, "--format", "json"])).stdout)
            .unwrap();
    let texts: Vec<&str> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first question", "regenerated answer"]);
    let hits: serde_json::Value =
        serde_json::from_str(&run_ok(hearth(&t).args(["search", "original", "--json"])).stdout)
            .unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 1);
}

const NEXT_OK: Migration = Migration {
    name: "test: message bookmarks",
    sql: "ALTER TABLE messages ADD COLUMN bookmarked INTEGER NOT NULL DEFAULT 0;
          UPDATE messages SET bookmarked = 1 WHERE role = 'user';",
};

const NEXT_BROKEN: Migration = Migration {
    name: "test: broken",
    sql: "ALTER TABLE messages ADD COLUMN bookmarked INTEGER NOT NULL DEFAULT 0;
          UPDATE no_such_table SET x = 1;",
};

#[test]
fn a_later_migration_applies_to_a_v1_vault_with_data() {
    let t = fixture_copy();
    let key = open_key(&t);
    let paths = VaultPaths::new(&t.data);
    let before = Vault::open_with_key(&paths, &key)
        .unwrap()
        .count_messages()
        .unwrap();
    assert!(before > 0);
    let with_next: Vec<Migration> = MIGRATIONS.iter().copied().chain([NEXT_OK]).collect();
    let vault = Vault::open_with_migrations(&paths, &key, &with_next).unwrap();
    assert_eq!(
        vault.status().unwrap().schema_version,
        current_version() + 1
    );
    assert_eq!(vault.count_messages().unwrap(), before, "no message lost");
    vault.lock().unwrap();
    let r = sqlcipher_query(
        &t.data.join("hearth.db"),
        &key.to_hex(),
        "SELECT count(*) FROM messages WHERE bookmarked = 1 AND role = 'user'",
    );
    assert!(r.ok() && r.stdout.trim() != "0", "{r:?}");

    // This build does not know that schema: the upgraded vault is refused, and left alone.
    let snap = snapshot(&t.data);
    let (found, supported) = (current_version() + 1, current_version());
    assert!(matches!(
        Vault::open_with_key(&paths, &key),
        Err(VaultError::NewerSchema { found: f, supported: s }) if f == found && s == supported
    ));
    let r = run(hearth(&t).arg("list"));
    assert_clear_failure(&r, "newer Hearth");
    assert_eq!(snapshot(&t.data), snap);
}

#[test]
fn a_failing_migration_changes_nothing() {
    let t = fixture_copy();
    let key = open_key(&t);
    let paths = VaultPaths::new(&t.data);
    let with_broken: Vec<Migration> = MIGRATIONS.iter().copied().chain([NEXT_BROKEN]).collect();
    let err = Vault::open_with_migrations(&paths, &key, &with_broken).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "migration {} (test: broken) failed",
            current_version() + 1
        )),
        "{err}"
    );
    let r = sqlcipher_query(
        &t.data.join("hearth.db"),
        &key.to_hex(),
        "PRAGMA user_version",
    );
    assert_eq!(r.stdout.trim(), "1", "{r:?}");
    let r = sqlcipher_query(
        &t.data.join("hearth.db"),
        &key.to_hex(),
        "SELECT count(*) FROM pragma_table_info('messages') WHERE name = 'bookmarked'",
    );
    assert_eq!(
        r.stdout.trim(),
        "0",
        "the first statement must be rolled back too: {r:?}"
    );
    run_ok(hearth(&t).arg("list"));
}

#[test]
fn a_future_user_version_is_refused() {
    let t = fixture_copy();
    let key = open_key(&t);
    let r = sqlcipher_query(
        &t.data.join("hearth.db"),
        &key.to_hex(),
        "PRAGMA user_version = 99",
    );
    assert!(r.ok(), "{r:?}");
    let snap = snapshot(&t.data);
    let r = run(hearth(&t).arg("list"));
    assert_clear_failure(&r, "schema 99");
    assert!(r.stderr.contains("update Hearth"), "{r:?}");
    assert_eq!(snapshot(&t.data), snap);
}
