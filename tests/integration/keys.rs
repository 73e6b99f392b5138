//! Changing what unlocks the vault and replacing its data key, through the real `hearth`
//! binary, killed with SIGKILL at random moments: after every kill the vault opens
//! through the usual unlock, passes both integrity checks, holds every message, and the
//! independent SQLCipher client opens it with the key `vault-key --reveal` prints. After
//! a finished rotation the old key opens nothing in the data directory.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hearth_tests::*;
use rand::Rng;
use serde_json::Value;

const PASS: &str = "keys test passphrase";
const OTHER: &str = "another keys passphrase";

fn hearth(t: &TestDir, passphrase: &str) -> Command {
    let mut cmd = t.hearth();
    without_dbus(&mut cmd).env("HEARTH_PASSPHRASE", passphrase);
    cmd
}

/// A passphrase vault holding `conversations` × `per` messages, one of them `canary`.
fn vault_with(conversations: usize, per: usize, canary: &str) -> TestDir {
    let t = TestDir::new();
    run_ok(hearth(&t, PASS).args(["init", "--passphrase", "--no-keychain"]));
    let mut json = String::from(
        r#"{"format":"hearth-export","version":1,"exported_at":0,"app":"test","conversations":["#,
    );
    for c in 0..conversations {
        if c > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            r#"{{"id":"c{c}","title":"conversation {c}","created_at":{c},"updated_at":{c},"pinned":false,"archived":false,"head_message_id":"c{c}-m{}","messages":["#,
            per - 1
        ));
        for m in 0..per {
            if m > 0 {
                json.push(',');
            }
            let parent = if m == 0 {
                "null".to_owned()
            } else {
                format!("\"c{c}-m{}\"", m - 1)
            };
            let text = if c == 0 && m == 0 {
                canary.to_owned()
            } else {
                format!("message {m} of conversation {c}, with some words to index")
            };
            json.push_str(&format!(
                r#"{{"id":"c{c}-m{m}","parent_id":{parent},"role":"{}","content":"{text}","status":"complete","created_at":{m}}}"#,
                if m % 2 == 0 { "user" } else { "assistant" }
            ));
        }
        json.push_str("]}");
    }
    json.push_str("]}");
    let file = t.root.path().join("seed.json");
    std::fs::write(&file, json).unwrap();
    run_ok(hearth(&t, PASS).arg("import").arg(&file));
    t
}

fn messages(t: &TestDir, passphrase: &str) -> i64 {
    let r = run_ok(hearth(t, passphrase).args(["status", "--json"]));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["counts"]["messages"].as_i64().unwrap()
}

fn key_hex(t: &TestDir, passphrase: &str) -> String {
    run_ok(hearth(t, passphrase).args(["vault-key", "--reveal"]))
        .stdout
        .trim()
        .to_owned()
}

/// After a kill: opens through the usual unlock with `passphrase`, both integrity checks
/// pass, every message is there, and the independent client agrees with the key.
fn assert_whole(t: &TestDir, passphrase: &str, expected: i64, round: usize) {
    assert_eq!(messages(t, passphrase), expected, "round {round}");
    let check = run(hearth(t, passphrase).arg("check"));
    assert!(check.ok(), "round {round}: {check:?}");
    let key = key_hex(t, passphrase);
    let r = sqlcipher_query(
        &t.data.join("hearth.db"),
        &key,
        "SELECT count(*) FROM messages",
    );
    assert!(r.ok(), "round {round}: {r:?}");
    assert_eq!(r.stdout.trim(), expected.to_string(), "round {round}");
    let leftovers: Vec<_> = std::fs::read_dir(&t.data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // A header's temp file a kill left is stale and replaced at the next write.
        .filter(|n| n.contains("rekey"))
        .collect();
    assert!(leftovers.is_empty(), "round {round}: {leftovers:?}");
}

/// Runs `args` and kills it after `after`, or lets it finish.
fn run_killed(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if start.elapsed() >= after {
            child.kill().unwrap();
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn rekey_killed_at_fifty_random_moments_loses_nothing_and_the_old_key_opens_nothing() {
    const CONVERSATIONS: usize = 1_000;
    const PER: usize = 100;
    let secret = canary("rekey");
    let t = vault_with(CONVERSATIONS, PER, &secret);
    let total = (CONVERSATIONS * PER) as i64;
    let before = key_hex(&t, PASS);

    // One whole rotation: its time bounds where the kills land.
    let start = Instant::now();
    run_ok(hearth(&t, PASS).arg("rekey"));
    let whole = start.elapsed();
    let after = key_hex(&t, PASS);
    assert_ne!(before, after);
    assert_whole(&t, PASS, total, 0);
    // The old key opens nothing: not the database with the independent client, and no
    // page of it or of its log decrypts to the text under it.
    let r = sqlcipher_query(
        &t.data.join("hearth.db"),
        &before,
        "SELECT count(*) FROM messages",
    );
    assert!(!r.ok(), "the old key still opens the database: {r:?}");
    for entry in std::fs::read_dir(&t.data).unwrap() {
        let path = entry.unwrap().path();
        let len = std::fs::metadata(&path).unwrap().len();
        if len >= 4096 && len % 4096 == 0 {
            assert!(
                !contains(&decrypted_pages(&path, &before), &secret),
                "{} holds pages under the old key",
                path.display()
            );
        }
    }
    assert!(contains(
        &decrypted_pages(&t.data.join("hearth.db"), &after),
        &secret
    ));

    let mut rng = rand::thread_rng();
    let mut finished = 0;
    for round in 1..=50 {
        let at = Duration::from_micros(rng.gen_range(1_000..=whole.as_micros().max(2_000) as u64));
        let mut cmd = hearth(&t, PASS);
        cmd.arg("rekey");
        if run_killed(cmd, at) {
            finished += 1;
        }
        assert_whole(&t, PASS, total, round);
    }
    assert!(finished < 50, "every rekey finished before its kill");
}

#[test]
fn passphrase_change_and_protect_killed_at_random_moments_leave_a_vault_that_opens() {
    let secret = canary("protect");
    let t = vault_with(20, 10, &secret);
    let mut rng = rand::thread_rng();
    // Which passphrase opens it now: the old one until a change finishes.
    let mut current = PASS.to_owned();
    for round in 0..20 {
        let next = if current == PASS { OTHER } else { PASS };
        let mut cmd = hearth(&t, &current);
        cmd.env("HEARTH_NEW_PASSPHRASE", next)
            .args(["passphrase", "change"]);
        let done = run_killed(cmd, Duration::from_millis(rng.gen_range(1..600)));
        // Exactly one of the two opens it, and that one holds everything.
        let opens = |p: &str| run(hearth(&t, p).args(["status", "--json"])).ok();
        let (old_opens, new_opens) = (opens(&current), opens(next));
        assert!(
            old_opens != new_opens,
            "round {round}: old {old_opens}, new {new_opens}"
        );
        if new_opens {
            current = next.to_owned();
        } else {
            assert!(
                !done,
                "round {round}: finished but the new passphrase fails"
            );
        }
        assert_whole(&t, &current, 200, round);
    }
}

#[test]
fn protect_killed_at_random_moments_leaves_a_vault_that_opens_both_ways_it_says() {
    require_secret_service();
    let t = vault_with(20, 10, &canary("protect"));
    // With the real Secret Service of the test session.
    let with_keychain = |passphrase: Option<&str>| {
        let mut cmd = t.hearth();
        if let Some(p) = passphrase {
            cmd.env("HEARTH_PASSPHRASE", p);
        }
        cmd
    };
    let mut rng = rand::thread_rng();
    for round in 0..20 {
        let _alone = keychain_changes();
        let on = round % 2 == 0;
        let mut cmd = with_keychain(Some(PASS));
        cmd.args(["protect", "--keychain", if on { "on" } else { "off" }]);
        run_killed(cmd, Duration::from_millis(rng.gen_range(1..800)));
        // The passphrase always opens it; the keychain does whenever the header says so.
        assert_whole(&t, PASS, 200, round);
        let header: Value =
            serde_json::from_slice(&std::fs::read(t.data.join("vault.json")).unwrap()).unwrap();
        if header["keychain"] == true {
            let r = run(with_keychain(None).args(["status", "--json"]));
            assert!(
                r.ok(),
                "round {round}: the keychain does not open it: {r:?}"
            );
        }
    }
    let _alone = keychain_changes();
    run_ok(with_keychain(Some(PASS)).args(["erase", "--yes"]));
}

#[test]
fn protect_switches_modes_and_refuses_to_remove_the_last_way_in() {
    let t = vault_with(1, 2, &canary("modes"));
    // Without a keychain (no D-Bus here), the keychain cannot be turned on.
    let r = run(hearth(&t, PASS).args(["protect", "--keychain", "on"]));
    assert_clear_failure(&r, "keychain");
    let r = run(hearth(&t, PASS).args(["protect", "--passphrase", "off"]));
    assert_clear_failure(&r, "no way to unlock");
    let before = snapshot(&t.data);
    let r = run(hearth(&t, "a wrong passphrase")
        .env("HEARTH_NEW_PASSPHRASE", OTHER)
        .args(["passphrase", "change"]));
    assert_clear_failure(&r, "passphrase");
    assert_eq!(
        snapshot(&t.data),
        before,
        "a wrong passphrase changed a file"
    );
    run_ok(
        hearth(&t, PASS)
            .env("HEARTH_NEW_PASSPHRASE", OTHER)
            .args(["passphrase", "change"]),
    );
    assert!(!run(hearth(&t, PASS).args(["status", "--json"])).ok());
    assert_eq!(messages(&t, OTHER), 2);
}

#[test]
fn the_cli_dumps_no_core_and_cannot_be_traced_by_the_users_other_processes() {
    let t = vault_with(1, 2, &canary("harden"));
    let r = run_ok(hearth(&t, PASS).args(["status", "--json"]));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["process"]["core_dumps_off"], true, "{v}");
    assert_eq!(v["process"]["not_dumpable"], true, "{v}");
}

#[test]
fn after_a_rotation_provider_keys_move_with_the_vault_and_retention_and_erase_still_work() {
    let t = vault_with(3, 4, &canary("after"));
    let provider_key = canary("sk-provider");
    let r = run_with_input(
        hearth(&t, PASS).args(["key", "set", "openai"]),
        provider_key.as_bytes(),
    );
    assert!(r.ok(), "{r:?}");
    run_ok(hearth(&t, PASS).arg("rekey"));
    let listed = run_ok(hearth(&t, PASS).args(["key", "list", "--json"])).stdout;
    assert!(listed.contains("openai"), "{listed}");
    assert!(
        listed.contains(&provider_key[provider_key.len() - 4..]),
        "{listed}"
    );
    // The conversations are from 1970: a one-day retention deletes them all.
    run_ok(hearth(&t, PASS).args(["retention", "1"]));
    assert_eq!(messages(&t, PASS), 0);
    run_ok(hearth(&t, PASS).args(["erase", "--yes"]));
    assert!(
        !t.data.exists() || std::fs::read_dir(&t.data).unwrap().next().is_none(),
        "erase left files behind"
    );
}
