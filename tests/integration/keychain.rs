//! Promise 3: the data key lives in the real OS keychain (or is wrapped by a passphrase),
//! and there is never a silent fallback to plaintext when no keychain exists.

use hearth_tests::*;

fn vault_id(t: &TestDir) -> String {
    let r = run_ok(t.hearth().args(["status", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v["vault_id"].as_str().unwrap().to_owned()
}

#[test]
fn keychain_mode_stores_the_data_key_in_the_secret_service() {
    require_secret_service();
    let t = TestDir::new();
    let r = run_ok(t.hearth().arg("init"));
    assert!(r.stderr.contains("keychain"), "{r:?}");
    let id = vault_id(&t);
    let accounts = secret_tool_accounts();
    assert!(
        accounts.contains(&format!("vault-key:{id}")),
        "secret-tool sees {accounts:?}"
    );

    // The header names no key and no wrapped key: only the keychain can open this vault.
    let header: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.data.join("vault.json")).unwrap()).unwrap();
    assert_eq!(header["keychain"], true);
    assert!(header["passphrase"].is_null());

    // A second process opens it from the keychain alone.
    let r = run_ok(t.hearth().args(["status", "--json"]));
    assert!(r.stdout.contains("\"mode\": \"keychain\""), "{r:?}");

    // Without the keychain entry the vault cannot be opened, and the error says why.
    let status = std::process::Command::new("secret-tool")
        .args([
            "clear",
            "service",
            "Hearth",
            "username",
            &format!("vault-key:{id}"),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let r = run(t.hearth().arg("list"));
    assert_clear_failure(&r, "no data key for vault");
}

#[test]
fn keychain_and_passphrase_mode_opens_with_either() {
    require_secret_service();
    let t = TestDir::new();
    let pass = "a passphrase for both modes";
    run_ok(
        t.hearth()
            .args(["init", "--passphrase"])
            .env("HEARTH_PASSPHRASE", pass),
    );
    let id = vault_id(&t);
    assert!(secret_tool_accounts().contains(&format!("vault-key:{id}")));
    // Without a session bus the keychain is gone, and the passphrase still opens it.
    run_ok(without_dbus(t.hearth().arg("list")).env("HEARTH_PASSPHRASE", pass));
    let r = run(without_dbus(t.hearth().arg("list")));
    assert_clear_failure(&r, "passphrase");
}

#[test]
fn without_a_keychain_init_refuses_and_points_to_passphrase_mode() {
    let t = TestDir::new();
    let r = run(without_dbus(t.hearth().arg("init")));
    assert_clear_failure(&r, "no OS keychain");
    assert!(
        r.stderr.contains("hearth init --passphrase --no-keychain"),
        "{r:?}"
    );
    assert!(
        !t.data.join("vault.json").exists() && !t.data.join("hearth.db").exists(),
        "nothing may be written"
    );

    // Asking for both without a keychain is refused too: no silent downgrade.
    let r = run(without_dbus(t.hearth().args(["init", "--passphrase"]))
        .env("HEARTH_PASSPHRASE", "long enough passphrase"));
    assert_clear_failure(&r, "no OS keychain");
    assert!(!t.data.join("vault.json").exists());

    // --no-keychain alone makes no sense: it would leave the key unprotected.
    let r = run(without_dbus(t.hearth().args(["init", "--no-keychain"])));
    assert_clear_failure(&r, "--no-keychain needs --passphrase");

    // Passphrase mode works without any keychain.
    let r = run_ok(
        without_dbus(t.hearth().args(["init", "--passphrase", "--no-keychain"]))
            .env("HEARTH_PASSPHRASE", "long enough passphrase"),
    );
    assert!(r.stderr.contains("passphrase"), "{r:?}");
    let header: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.data.join("vault.json")).unwrap()).unwrap();
    assert_eq!(header["keychain"], false);
    assert_eq!(header["passphrase"]["kdf"], "argon2id");
    assert!(header["passphrase"]["memory_kib"].as_u64().unwrap() >= 64 * 1024);
    assert!(header["passphrase"]["iterations"].as_u64().unwrap() >= 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["vault.json", "hearth.db"] {
            let mode = std::fs::metadata(t.data.join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
        let mode = std::fs::metadata(&t.data).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}

/// A new keychain vault holding a Groq key, with the vault's id.
fn keychain_vault_with_a_provider_key() -> (TestDir, String) {
    let t = TestDir::new();
    run_ok(t.hearth().arg("init"));
    let id = vault_id(&t);
    let r = run_with_input(
        t.hearth().args(["key", "set", "groq"]),
        b"gsk_0123456789abcdef",
    );
    assert!(r.ok(), "{r:?}");
    (t, id)
}

#[test]
fn erase_removes_every_file_and_every_keychain_entry() {
    require_secret_service();
    let (t, id) = keychain_vault_with_a_provider_key();
    let mine = |a: &String| a.contains(&id);
    // The data key, the provider key, and the record of the vault's folder.
    assert_eq!(secret_tool_accounts().iter().filter(|a| mine(a)).count(), 3);

    let r = run(t.hearth().arg("erase"));
    assert_clear_failure(&r, "--yes");
    assert!(t.data.join("hearth.db").exists());

    run_ok(t.hearth().args(["erase", "--yes"]));
    assert!(!t.data.exists(), "the data directory should be gone");
    assert_eq!(
        secret_tool_accounts().iter().filter(|a| mine(a)).count(),
        0,
        "{:?}",
        secret_tool_accounts()
    );
}

#[test]
fn erase_with_an_unreadable_header_says_what_it_could_not_remove() {
    require_secret_service();
    let t = TestDir::new();
    run_ok(t.hearth().arg("init"));
    let id = vault_id(&t);
    std::fs::write(t.data.join("vault.json"), b"{ not json").unwrap();
    let r = run_ok(t.hearth().args(["erase", "--yes"]));
    assert!(!t.data.exists());
    assert!(r.stderr.contains("could not tell"), "{r:?}");
    // The entry stays (Hearth cannot prove it is this vault's), and the user was told how to remove it.
    assert!(secret_tool_accounts().contains(&format!("vault-key:{id}")));
    let status = std::process::Command::new("secret-tool")
        .args([
            "clear",
            "service",
            "Hearth",
            "username",
            &format!("vault-key:{id}"),
        ])
        .status()
        .unwrap();
    assert!(status.success());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn erasing_a_copy_of_a_keychain_vault_keeps_the_originals_keys() {
    require_secret_service();
    let (t, id) = keychain_vault_with_a_provider_key();
    let mine = |a: &String| a.contains(&id);
    let before: Vec<String> = secret_tool_accounts().into_iter().filter(mine).collect();

    // A backup copy of the folder opens (same vault id, same keychain entries)...
    let copy = t.root.path().join("backup-copy");
    copy_dir(&t.data, &copy);
    let in_copy = |args: &[&str]| {
        let mut cmd = t.hearth();
        cmd.env("HEARTH_DATA_DIR", &copy).args(args);
        cmd
    };
    run_ok(&mut in_copy(&["status"]));
    // ...and erasing it removes its files but not the original's keys.
    let r = run_ok(&mut in_copy(&["erase", "--yes"]));
    assert!(!copy.exists(), "the copy's files are gone");
    assert!(r.stderr.contains("copy"), "{r:?}");
    assert!(r.stderr.contains("secret-tool clear"), "{r:?}");
    let after: Vec<String> = secret_tool_accounts().into_iter().filter(mine).collect();
    assert_eq!(after, before, "the original's keychain entries stay");
    run_ok(t.hearth().arg("list"));
    let r = run_ok(t.hearth().args(["key", "list"]));
    assert!(r.stdout.contains("…cdef"), "{r:?}");

    // A vault moved to another folder is still the vault: erase there removes its keys.
    let moved = t.root.path().join("moved");
    std::fs::rename(&t.data, &moved).unwrap();
    let mut erase = t.hearth();
    erase
        .env("HEARTH_DATA_DIR", &moved)
        .args(["erase", "--yes"]);
    let r = run_ok(&mut erase);
    assert!(!r.stderr.contains("Kept"), "{r:?}");
    assert_eq!(
        secret_tool_accounts().into_iter().filter(mine).count(),
        0,
        "every entry of the erased vault is gone"
    );
}
