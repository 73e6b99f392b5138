//! Promise 5's foundation: a process killed at any moment leaves a vault that opens,
//! passes SQLite's and SQLCipher's integrity checks, and holds every message whose write
//! had returned.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use hearth_keychain::MemoryStore;
use hearth_tests::*;
use hearth_vault::{
    data_key_account, DataKey, KdfParams, KeyProtection, MessageStatus, Vault, VaultPaths,
};
use rand::Rng;

const KILLS: usize = 50;

#[test]
fn sigkill_at_random_moments_loses_nothing_that_was_acknowledged() {
    let t = TestDir::new();
    let paths = VaultPaths::new(&t.data);
    let store = MemoryStore::new();
    let vault = Vault::create(
        &paths,
        &store,
        KeyProtection::Keychain,
        KdfParams::default(),
    )
    .unwrap();
    let key_hex = {
        use hearth_keychain::SecretStore;
        let secret = store.get(&data_key_account(vault.id())).unwrap().unwrap();
        String::from_utf8(secret.expose().to_vec()).unwrap()
    };
    vault.lock().unwrap();
    let key = DataKey::from_hex(&key_hex).unwrap();

    let mut acknowledged: Vec<String> = Vec::new();
    let mut rng = rand::thread_rng();
    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hearth-crash-writer"))
            .arg(&t.data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{key_hex}\n").as_bytes())
            .unwrap();
        // Kill anywhere from during open to well into the writing.
        std::thread::sleep(Duration::from_millis(rng.gen_range(1..120)));
        // SIGKILL: no destructor, no flush, no checkpoint.
        child.kill().unwrap();
        child.wait().unwrap();
        let ids: Vec<String> = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .collect();
        acknowledged.extend(ids);

        let vault = Vault::open_with_key(&paths, &key)
            .unwrap_or_else(|e| panic!("round {round}: the vault did not reopen: {e}"));
        let problems = vault.check_integrity().unwrap();
        assert!(problems.is_empty(), "round {round}: {problems:?}");
        for id in &acknowledged {
            let m = vault.message(id).unwrap_or_else(|e| {
                panic!("round {round}: acknowledged message {id} is gone: {e}")
            });
            assert!(m.content.starts_with("message "), "{m:?}");
        }
        // A reply cut off mid-stream is recovered with its text, never lost.
        vault.recover_interrupted().unwrap();
        vault.lock().unwrap();
    }
    assert!(
        acknowledged.len() > KILLS,
        "the writer should have got some writes in: {}",
        acknowledged.len()
    );

    let vault = Vault::open_with_key(&paths, &key).unwrap();
    for id in &acknowledged {
        assert_ne!(vault.message(id).unwrap().status, MessageStatus::Streaming);
    }
}
