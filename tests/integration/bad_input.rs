//! Promise 6: a wrong passphrase, a tampered or truncated file, or a broken header gives
//! a clear error and changes nothing on disk.

use std::process::Command;

use hearth_keychain::OsKeychain;
use hearth_tests::*;
use hearth_vault::{NewConversation, NewMessage, Passphrase, Role, Vault, VaultPaths};

const PASS: &str = "correct horse battery staple";

/// A passphrase vault with a few hundred messages (so the file has many pages), closed.
fn filled_vault() -> (TestDir, String) {
    let t = TestDir::new();
    run_ok(without_dbus(
        t.hearth()
            .args(["init", "--passphrase", "--no-keychain"])
            .env("HEARTH_PASSPHRASE", PASS),
    ));
    let paths = VaultPaths::new(&t.data);
    let mut vault =
        Vault::open(&paths, &OsKeychain::default(), Some(&Passphrase::new(PASS))).unwrap();
    let c = vault
        .create_conversation(NewConversation {
            title: "notes".into(),
            ..Default::default()
        })
        .unwrap();
    let mut parent = None;
    for i in 0..400 {
        let m = vault
            .append_message(NewMessage::complete(
                &c.id,
                parent.as_deref(),
                Role::User,
                format!("message number {i} {}", "lorem ipsum ".repeat(20)),
            ))
            .unwrap();
        parent = Some(m.id);
    }
    vault.lock().unwrap();
    (t, c.id)
}

fn hearth(t: &TestDir, pass: &str) -> Command {
    let mut cmd = t.hearth();
    cmd.env("HEARTH_PASSPHRASE", pass);
    without_dbus(&mut cmd);
    cmd
}

/// Runs every read command; each must either work or fail clearly with `needle`.
fn every_command_fails_clearly_or_works(t: &TestDir, conversation: &str, needle: &str) -> usize {
    let mut failures = 0;
    for args in [
        vec!["list"],
        vec!["show", conversation],
        vec!["search", "lorem"],
        vec!["status"],
        vec!["check"],
    ] {
        let r = run(hearth(t, PASS).args(&args));
        if !r.ok() {
            failures += 1;
            if args[0] != "check" {
                assert_clear_failure(&r, needle);
            } else {
                assert_ne!(r.code, Some(101), "{r:?}");
                assert!(
                    r.stderr.lines().last().unwrap_or("").contains(needle),
                    "{r:?}"
                );
            }
        }
    }
    failures
}

#[test]
fn wrong_passphrase_is_refused_and_changes_nothing() {
    let (t, _) = filled_vault();
    let before = snapshot(&t.data);
    let r = run(hearth(&t, "not the passphrase").arg("list"));
    assert_clear_failure(&r, "wrong passphrase");
    let r = run(hearth(&t, "").arg("list"));
    assert_clear_failure(&r, "wrong passphrase");
    assert_eq!(snapshot(&t.data), before);
    // No passphrase at all, and no terminal to ask on: say how to give one.
    let mut cmd = t.hearth();
    let r = run(without_dbus(&mut cmd).arg("list"));
    assert_clear_failure(&r, "HEARTH_PASSPHRASE");
    assert_eq!(snapshot(&t.data), before);
}

#[test]
fn a_tampered_page_is_detected_and_changes_nothing() {
    let (t, conversation) = filled_vault();
    let db = t.data.join("hearth.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let pages = bytes.len() / 4096;
    assert!(
        pages > 20,
        "the test needs a multi-page file, got {pages} pages"
    );
    // Flip one bit in every page of the second half: wherever the data is, it is damaged.
    for page in pages / 2..pages {
        bytes[page * 4096 + 1000] ^= 0x01;
    }
    std::fs::write(&db, &bytes).unwrap();
    let before = snapshot(&t.data);
    let failures = every_command_fails_clearly_or_works(&t, &conversation, "damaged");
    assert!(failures >= 1, "nothing noticed the damage");
    let r = run(hearth(&t, PASS).arg("check"));
    assert!(
        !r.ok() && (r.stderr.contains("HMAC") || r.stderr.contains("page")),
        "check should name the bad pages: {r:?}"
    );
    assert_eq!(snapshot(&t.data), before, "a read must not change any file");
}

#[test]
fn a_tampered_first_page_is_refused_and_changes_nothing() {
    let (t, _) = filled_vault();
    let db = t.data.join("hearth.db");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[200] ^= 0x80;
    std::fs::write(&db, &bytes).unwrap();
    let before = snapshot(&t.data);
    let r = run(hearth(&t, PASS).arg("list"));
    assert_clear_failure(&r, "nothing was changed");
    assert_eq!(snapshot(&t.data), before);
}

#[test]
fn a_truncated_file_is_refused_and_changes_nothing() {
    let (t, conversation) = filled_vault();
    let db = t.data.join("hearth.db");
    let full = std::fs::read(&db).unwrap();
    for keep in [full.len() / 2, full.len() - 4096, full.len() - 1, 100, 0] {
        std::fs::write(&db, &full[..keep]).unwrap();
        let before = snapshot(&t.data);
        let r = run(hearth(&t, PASS).arg("list"));
        assert_clear_failure(&r, "nothing was changed");
        if keep % 4096 != 0 {
            assert!(r.stderr.contains("truncated"), "{r:?}");
        }
        every_command_fails_clearly_or_works(&t, &conversation, "nothing was changed");
        assert_eq!(snapshot(&t.data), before, "kept {keep} bytes");
    }
}

#[test]
fn a_broken_or_weakened_header_is_refused_and_changes_nothing() {
    let (t, _) = filled_vault();
    let header = t.data.join("vault.json");
    let good = std::fs::read_to_string(&header).unwrap();

    std::fs::write(&header, &good[..good.len() / 2]).unwrap();
    let before = snapshot(&t.data);
    let r = run(hearth(&t, PASS).arg("list"));
    assert_clear_failure(&r, "vault.json");
    assert_eq!(snapshot(&t.data), before);

    // An attacker lowering the KDF cost to speed up guessing is refused outright.
    let mut value: serde_json::Value = serde_json::from_str(&good).unwrap();
    value["passphrase"]["memory_kib"] = 1024.into();
    std::fs::write(&header, value.to_string()).unwrap();
    let before = snapshot(&t.data);
    let r = run(hearth(&t, PASS).arg("list"));
    assert_clear_failure(&r, "below the minimum");
    assert_eq!(snapshot(&t.data), before);

    std::fs::write(&header, &good).unwrap();
    run_ok(hearth(&t, PASS).arg("list"));
}
