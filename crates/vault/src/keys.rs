//! Changing how the vault is locked: its passphrase, whether the keychain holds its key,
//! and the data key itself. Each change is ordered so that a kill at any moment leaves a
//! vault that opens, through the usual unlock, with every message.
//!
//! **Protection** (passphrase and keychain) changes only what wraps the data key, never
//! the database. A keychain entry being added is written and read back before anything
//! else changes; the remaining ways in are proved (unwrapped, and a connection keyed with
//! them) before the header is replaced, in one atomic write; a keychain entry being
//! removed goes only after the header no longer names it. A kill therefore leaves the old
//! header or the new one, and either opens.
//!
//! **Rotation** re-encrypts every page under a new random key:
//! 1. the new key's wrappings are recorded beside the old ones: under the passphrase in
//!    the header's `pending`, in the keychain under `vault-key-next:<id>` (read back), and
//!    the header is written;
//! 2. the database is exported under the new key to `hearth.db.rekey`
//!    (`sqlcipher_export`), which is checked (it opens with the new key and holds as many
//!    rows) and synced;
//! 3. the old database is checkpointed and its write-ahead log removed, then
//!    `hearth.db.rekey` is renamed over `hearth.db` and the folder synced;
//! 4. the new key becomes the key: the keychain's `vault-key:<id>` (read back), then the
//!    header (the pending wrap becomes the wrap), then the `-next` entry goes.
//!
//! Until step 3's rename the database is under the old key, after it under the new;
//! the rename is atomic. Every unlock first settles an unfinished rotation
//! ([`Vault::unlock_key`]): it tries the old key and the new on the database; under the
//! old, the rotation is undone (the new file and wrappings removed); under the new, step
//! 4 is finished. Either way no manual step is needed and nothing is lost.

use std::fs;

use crate::error::{Result, VaultError};
use crate::header::{KdfParams, PendingKey, VaultHeader};
use crate::key::{DataKey, Passphrase};
use crate::{data_key_account, now_ms, Vault, VaultPaths};
use hearth_keychain::SecretStore;

/// The keychain account that holds a rotation's new data key until it is finished.
pub fn next_data_key_account(vault_id: &str) -> String {
    format!("vault-key-next:{vault_id}")
}

/// What to do with the vault's passphrase.
#[derive(Debug)]
pub enum PassphraseChange {
    /// Keep it as it is (or keep having none).
    Keep,
    /// Set this one (new, or in place of the old).
    Set(Passphrase),
    /// Remove it.
    Remove,
}

/// How far a rotation has got, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStep {
    /// The new key's wrappings are recorded.
    Prepared,
    /// Pages re-encrypted so far, of all.
    Copying {
        /// Pages written under the new key.
        done: u64,
        /// Pages in all.
        total: u64,
    },
    /// The new database is in place.
    Swapped,
    /// The new key is the key.
    Finished,
}

fn rekey_path(paths: &VaultPaths) -> std::path::PathBuf {
    paths.dir().join("hearth.db.rekey")
}

/// Every file a rotation's copy may leave.
fn rekey_files(paths: &VaultPaths) -> [std::path::PathBuf; 4] {
    let base = rekey_path(paths);
    let with = |suffix: &str| {
        let mut name = base.clone().into_os_string();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    [base.clone(), with("-journal"), with("-wal"), with("-shm")]
}

fn remove_if_present(path: &std::path::Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(VaultError::io(
            format!("cannot remove {}", path.display()),
            e,
        )),
    }
}

/// A keychain failure as the vault reports it: no keychain at all is its own error.
pub(crate) fn keychain_error(e: hearth_keychain::KeychainError) -> VaultError {
    match e {
        hearth_keychain::KeychainError::Unavailable(_) => VaultError::KeychainUnavailable(e),
        other => VaultError::Keychain(other),
    }
}

/// Stores `key` under `account` and reads it back: the keychain really holds it.
fn store_key(store: &dyn SecretStore, account: &str, key: &DataKey) -> Result<()> {
    store
        .set(account, key.to_hex().as_bytes())
        .map_err(keychain_error)?;
    let back = store.get(account).map_err(keychain_error)?;
    match back {
        Some(secret) if secret.expose() == key.to_hex().as_bytes() => Ok(()),
        _ => Err(VaultError::Invalid(format!(
            "the keychain did not keep the key written to {account}; nothing was changed"
        ))),
    }
}

fn read_key(store: &dyn SecretStore, account: &str) -> Result<Option<DataKey>> {
    match store.get(account).map_err(keychain_error)? {
        Some(secret) => Ok(Some(key_from_entry(secret.expose(), account)?)),
        None => Ok(None),
    }
}

/// The data key a keychain entry (`account`) holds, as 64 hex characters.
pub(crate) fn key_from_entry(bytes: &[u8], account: &str) -> Result<DataKey> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        VaultError::Invalid(format!("the keychain entry {account} is not a data key"))
    })?;
    DataKey::from_hex(text)
}

/// Whether `key` opens the database at `paths` (a connection is keyed and reads the
/// schema). Other failures (a damaged file) are errors.
fn opens(paths: &VaultPaths, key: &DataKey) -> Result<bool> {
    match crate::open::connect_only(paths, key) {
        Ok(conn) => {
            drop(conn);
            Ok(true)
        }
        Err(VaultError::WrongKey(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

impl Vault {
    /// The data key, recovered the way the user just proved they can: with `current`
    /// when the vault has a passphrase, else from the keychain; checked on the database.
    fn current_key(
        &self,
        store: &dyn SecretStore,
        current: Option<&Passphrase>,
    ) -> Result<DataKey> {
        let key = match (&self.header.passphrase, current) {
            (Some(_), Some(p)) => self.header.unwrap_key(p, &self.paths.header())?,
            (Some(_), None) if !self.header.keychain => return Err(VaultError::PassphraseRequired),
            _ => read_key(store, &data_key_account(&self.header.vault_id))?.ok_or_else(|| {
                VaultError::KeyMissing {
                    vault_id: self.header.vault_id.clone(),
                }
            })?,
        };
        if !opens(&self.paths, &key)? {
            return Err(VaultError::WrongKey(self.paths.database()));
        }
        Ok(key)
    }

    /// The Argon2id costs of a new wrap: those of the passphrase now, else the defaults.
    fn wrap_params(&self) -> KdfParams {
        self.header
            .passphrase
            .as_ref()
            .map(|w| w.params)
            .unwrap_or_default()
    }

    fn refuse_unfinished(&self) -> Result<()> {
        if self.header.pending.is_some() {
            return Err(VaultError::Invalid(
                "a change of the data key did not finish; open the vault again to complete it"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Changes what unlocks the vault: the keychain on or off, and the passphrase kept,
    /// set (added or changed) or removed. `current` is the passphrase now, needed when
    /// the vault has one (and always when it changes or is removed). At least one way in
    /// must remain; each remaining one is proved before anything is replaced.
    pub fn set_protection(
        &mut self,
        store: &dyn SecretStore,
        current: Option<&Passphrase>,
        keychain: bool,
        passphrase: PassphraseChange,
    ) -> Result<()> {
        self.refuse_unfinished()?;
        let had_passphrase = self.header.passphrase.is_some();
        if had_passphrase && current.is_none() && !matches!(passphrase, PassphraseChange::Keep) {
            return Err(VaultError::PassphraseRequired);
        }
        let will_have_passphrase = match &passphrase {
            PassphraseChange::Keep => had_passphrase,
            PassphraseChange::Set(_) => true,
            PassphraseChange::Remove => false,
        };
        if !keychain && !will_have_passphrase {
            return Err(VaultError::Invalid(
                "that would leave no way to unlock the vault: keep the keychain or a passphrase"
                    .into(),
            ));
        }
        if let PassphraseChange::Set(p) = &passphrase {
            p.check_strength()?;
        }
        // With a passphrase the user must prove it even when only the keychain changes.
        let key = self.current_key(store, current.filter(|_| had_passphrase))?;
        let account = data_key_account(&self.header.vault_id);

        let mut header = self.header.clone();
        header.keychain = keychain;
        match &passphrase {
            PassphraseChange::Keep => {}
            PassphraseChange::Set(p) => header.set_passphrase(&key, p, self.wrap_params())?,
            PassphraseChange::Remove => header.passphrase = None,
        }
        let had_keychain = self.header.keychain;
        let adding_keychain = keychain && !had_keychain;
        if keychain {
            // Written (or rewritten) and read back before anything else changes.
            store_key(store, &account, &key)?;
        }
        let proved = (|| {
            if let (Some(_), PassphraseChange::Set(p)) = (&header.passphrase, &passphrase) {
                let back = header.unwrap_key(p, &self.paths.header())?;
                if back.expose() != key.expose() || !opens(&self.paths, &back)? {
                    return Err(VaultError::Invalid(
                        "the new passphrase did not give back the key; nothing was changed".into(),
                    ));
                }
            }
            if keychain {
                let back = read_key(store, &account)?;
                let good = match back {
                    Some(k) => k.expose() == key.expose() && opens(&self.paths, &k)?,
                    None => false,
                };
                if !good {
                    return Err(VaultError::Invalid(
                        "the keychain does not give back the key; nothing was changed".into(),
                    ));
                }
            }
            header.write(&self.paths.header())
        })();
        if let Err(e) = proved {
            if adding_keychain {
                let _ = store.delete(&account);
            }
            return Err(e);
        }
        self.header = header;
        if !keychain && had_keychain {
            // The header no longer names the entry: removing it is tidying up.
            if let Err(e) = store.delete(&account) {
                tracing::warn!("the keychain entry {account} could not be removed: {e}");
            }
        }
        Ok(())
    }

    /// Replaces the data key: every page re-encrypted under a new random key, and every
    /// wrapping of the key (keychain entry, passphrase) replaced. `passphrase` is the
    /// vault's passphrase, needed when it has one. Safe at any kill (module docs).
    pub fn rotate_key(
        &mut self,
        store: &dyn SecretStore,
        passphrase: Option<&Passphrase>,
        mut progress: impl FnMut(RotationStep),
    ) -> Result<()> {
        self.refuse_unfinished()?;
        // Alone: the database file is about to be replaced, and another process with
        // it open would go on writing to the old one.
        let Some(lock) = self.open_lock.as_ref() else {
            return Err(VaultError::Invalid(
                "the vault is not fully open; open it again and retry".into(),
            ));
        };
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(VaultError::Invalid(
                    "the vault is open in another Hearth (the app, or another command); close it and try again"
                        .into(),
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(VaultError::io("cannot lock vault.lock".to_owned(), e))
            }
        }
        let result = self.rotate_alone(store, passphrase, &mut progress);
        // Shared again, as every open vault holds it (the reopened one takes its own).
        if let Some(Err(e)) = self.open_lock.as_ref().map(std::fs::File::lock_shared) {
            tracing::warn!("could not share vault.lock again: {e}");
        }
        if result.is_ok() {
            let reopened =
                Vault::open_with_key(&self.paths, &self.current_key(store, passphrase)?)?;
            *self = reopened;
            progress(RotationStep::Finished);
        }
        result
    }

    fn rotate_alone(
        &mut self,
        store: &dyn SecretStore,
        passphrase: Option<&Passphrase>,
        progress: &mut impl FnMut(RotationStep),
    ) -> Result<()> {
        let old = self.current_key(store, passphrase)?;
        let new = DataKey::generate()?;
        let paths = self.paths.clone();
        let vault_id = self.header.vault_id.clone();

        // 1. The new key's wrappings, beside the old ones.
        for f in rekey_files(&paths) {
            remove_if_present(&f)?;
        }
        let mut header = self.header.clone();
        let pending_wrap = match (&self.header.passphrase, passphrase) {
            (Some(_), Some(p)) => Some(header.wrap(&new, p, self.wrap_params())?),
            _ => None,
        };
        if self.header.keychain {
            store_key(store, &next_data_key_account(&vault_id), &new)?;
        }
        header.pending = Some(PendingKey {
            passphrase: pending_wrap,
            keychain: self.header.keychain,
            started_at: now_ms(),
        });
        header.write(&paths.header())?;
        self.header = header;
        progress(RotationStep::Prepared);

        // 2. The copy under the new key.
        let copied = self.export_rekeyed(&new, progress);
        if let Err(e) = copied {
            // Undo: the database was never touched.
            let _ = self.abandon_rotation(store);
            return Err(e);
        }

        // 3. The swap. The old log is emptied into the file first, so no frame of it
        // can be replayed into the new one.
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        // An empty in-memory database holds the place while no file is open.
        #[allow(clippy::disallowed_methods)]
        let placeholder = rusqlite::Connection::open_in_memory()?;
        let old_conn = std::mem::replace(&mut self.conn, placeholder);
        old_conn.close().map_err(|(_, e)| VaultError::from(e))?;
        remove_if_present(&paths.wal())?;
        remove_if_present(&paths.shm())?;
        fs::rename(rekey_path(&paths), paths.database()).map_err(|e| {
            VaultError::io(
                "cannot put the re-encrypted database in place".to_owned(),
                e,
            )
        })?;
        crate::files::sync_dir(paths.dir())?;
        progress(RotationStep::Swapped);
        drop(old);

        // 4. The new key is the key.
        finish_rotation(&paths, store, &new)?;
        self.header = VaultHeader::read(&paths.header())?;
        Ok(())
    }

    /// Step 2: `hearth.db.rekey` under `key`, checked and synced.
    fn export_rekeyed(
        &mut self,
        key: &DataKey,
        progress: &mut impl FnMut(RotationStep),
    ) -> Result<()> {
        let target = rekey_path(&self.paths);
        crate::files::create_private_file(&target)?;
        let total: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let total = total.max(0) as u64;
        progress(RotationStep::Copying { done: 0, total });
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let path = target
            .to_str()
            .ok_or_else(|| VaultError::Invalid("the data folder's path is not UTF-8".into()))?
            .replace('\'', "''");
        let attach = zeroize::Zeroizing::new(format!(
            "ATTACH DATABASE '{path}' AS rekeyed KEY \"x'{}'\";",
            key.to_hex().as_str()
        ));
        self.conn.execute_batch(&attach)?;
        drop(attach);
        // The export runs on a thread of its own while this one reports how far the
        // copy has grown, in pages.
        let conn = &mut self.conn;
        let exported = std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                conn.query_row("SELECT sqlcipher_export('rekeyed')", [], |_| Ok(()))
                    .and_then(|()| {
                        conn.execute_batch(&format!("PRAGMA rekeyed.user_version = {version};"))
                    })
            });
            while !worker.is_finished() {
                std::thread::sleep(std::time::Duration::from_millis(100));
                let written = fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
                let done = (written / crate::open::CIPHER_PAGE_SIZE).min(total);
                progress(RotationStep::Copying { done, total });
            }
            worker.join()
        })
        .map_err(|_| VaultError::Invalid("re-encrypting the database stopped".into()))?;
        let detached = self.conn.execute_batch("DETACH DATABASE rekeyed;");
        exported?;
        detached?;
        progress(RotationStep::Copying { done: total, total });
        // Checked with a connection of its own, under the new key.
        let counts = |conn: &rusqlite::Connection| -> Result<(i64, i64, i64)> {
            Ok(conn.query_row(
                "SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages),
                        (SELECT count(*) FROM attachment_chunks)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        };
        let expected = counts(&self.conn)?;
        let copy = crate::open::connect_file(&target, key)?;
        let got = counts(&copy)?;
        copy.close().map_err(|(_, e)| VaultError::from(e))?;
        if got != expected {
            return Err(VaultError::Corrupt(format!(
                "the re-encrypted copy holds {got:?} rows where the vault holds {expected:?}; nothing was changed"
            )));
        }
        fs::File::open(&target)
            .and_then(|f| f.sync_all())
            .map_err(|e| VaultError::io(format!("cannot sync {}", target.display()), e))?;
        crate::files::sync_dir(self.paths.dir())
    }

    /// Undoes an unfinished rotation whose database is still under the old key.
    fn abandon_rotation(&mut self, store: &dyn SecretStore) -> Result<()> {
        let mut header = self.header.clone();
        abandon(&self.paths, store, &mut header)?;
        self.header = header;
        Ok(())
    }
}

/// Removes a rotation's copy and the new key's wrappings; the header keeps the old key.
fn abandon(paths: &VaultPaths, store: &dyn SecretStore, header: &mut VaultHeader) -> Result<()> {
    for f in rekey_files(paths) {
        remove_if_present(&f)?;
    }
    let had_next = header.pending.as_ref().is_some_and(|p| p.keychain);
    header.pending = None;
    header.write(&paths.header())?;
    if had_next {
        if let Err(e) = store.delete(&next_data_key_account(&header.vault_id)) {
            tracing::warn!("a rotation's unused keychain entry could not be removed: {e}");
        }
    }
    Ok(())
}

/// Step 4: `key` (which the database is now under) becomes the vault's key everywhere.
fn finish_rotation(paths: &VaultPaths, store: &dyn SecretStore, key: &DataKey) -> Result<()> {
    let mut header = VaultHeader::read(&paths.header())?;
    let Some(pending) = header.pending.take() else {
        return Ok(());
    };
    if header.keychain {
        store_key(store, &data_key_account(&header.vault_id), key)?;
    }
    if header.passphrase.is_some() {
        header.passphrase = Some(pending.passphrase.ok_or_else(|| {
            VaultError::Corrupt(
                "an unfinished key change has no passphrase wrap for the new key".into(),
            )
        })?);
    }
    header.write(&paths.header())?;
    if pending.keychain {
        if let Err(e) = store.delete(&next_data_key_account(&header.vault_id)) {
            tracing::warn!("a rotation's keychain entry could not be removed: {e}");
        }
    }
    for f in rekey_files(paths) {
        remove_if_present(&f)?;
    }
    Ok(())
}

/// Settles a rotation a kill left unfinished, before any unlock: the database is under
/// the old key (the rotation is undone) or the new one (it is finished). Does nothing
/// when none is pending. `passphrase` unwraps both keys when the vault has one.
pub(crate) fn settle_rotation(
    paths: &VaultPaths,
    store: &dyn SecretStore,
    passphrase: Option<&Passphrase>,
) -> Result<()> {
    let mut header = VaultHeader::read(&paths.header())?;
    let Some(pending) = header.pending.clone() else {
        return Ok(());
    };
    let path = paths.header();
    let (old, new) = match (&header.passphrase, &pending.passphrase, passphrase) {
        (Some(_), Some(wrap), Some(p)) => (
            Some(header.unwrap_key(p, &path)?),
            Some(header.unwrap_with(wrap, p, &path)?),
        ),
        _ if header.keychain => {
            let both = read_key(store, &data_key_account(&header.vault_id)).and_then(|old| {
                Ok((
                    old,
                    read_key(store, &next_data_key_account(&header.vault_id))?,
                ))
            });
            match both {
                Ok(both) => both,
                // The passphrase settles it when the keychain cannot.
                Err(_) if header.passphrase.is_some() => {
                    return Err(VaultError::PassphraseRequired)
                }
                Err(e) => return Err(e),
            }
        }
        _ => return Err(VaultError::PassphraseRequired),
    };
    // The new key first: once the database is under it the rotation must be finished,
    // even when the keychain already gives it as the vault's key.
    if let Some(new) = &new {
        if opens(paths, new)? {
            tracing::info!("finishing a change of the data key that a stop interrupted");
            return finish_rotation(paths, store, new);
        }
    }
    if let Some(old) = &old {
        if opens(paths, old)? {
            tracing::info!("undoing a change of the data key that did not finish");
            return abandon(paths, store, &mut header);
        }
    }
    Err(VaultError::WrongKey(paths.database()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open::tests::fast_kdf;
    use crate::{KeyProtection, NewConversation, NewMessage, Role};
    use hearth_keychain::MemoryStore;

    const OLD: &str = "the old passphrase";
    const NEW: &str = "a brand new passphrase";

    fn vault(protection: KeyProtection) -> (tempfile::TempDir, VaultPaths, MemoryStore, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let paths = VaultPaths::new(dir.path().join("data"));
        let store = MemoryStore::new();
        let mut vault = Vault::create(&paths, &store, protection, fast_kdf()).unwrap();
        let c = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        vault
            .append_message(NewMessage::complete(
                &c.id,
                None,
                Role::User,
                "kept across every change",
            ))
            .unwrap();
        (dir, paths, store, vault)
    }

    fn modes() -> [(&'static str, KeyProtection); 3] {
        [
            ("keychain", KeyProtection::Keychain),
            (
                "passphrase",
                KeyProtection::Passphrase(Passphrase::new(OLD)),
            ),
            (
                "keychain+passphrase",
                KeyProtection::KeychainAndPassphrase(Passphrase::new(OLD)),
            ),
        ]
    }

    /// Opens through the usual unlock, with the passphrase or the keychain, and checks the
    /// message is there.
    fn opens_with(paths: &VaultPaths, store: &MemoryStore, passphrase: Option<&str>) -> bool {
        let p = passphrase.map(Passphrase::new);
        match Vault::open(paths, store, p.as_ref()) {
            Ok(v) => {
                assert_eq!(v.count_messages().unwrap(), 1);
                true
            }
            Err(_) => false,
        }
    }

    #[test]
    fn every_mode_switches_to_every_other_and_only_the_chosen_ways_open_it() {
        for (from, protection) in modes() {
            for (to, _) in modes() {
                let (_d, paths, store, mut v) = vault(protection.clone());
                let has_passphrase = from != "keychain";
                let current = has_passphrase.then(|| Passphrase::new(OLD));
                let (keychain, change) = match to {
                    "keychain" => (true, PassphraseChange::Remove),
                    "passphrase" => (false, PassphraseChange::Set(Passphrase::new(NEW))),
                    _ => (true, PassphraseChange::Set(Passphrase::new(NEW))),
                };
                v.set_protection(&store, current.as_ref(), keychain, change)
                    .unwrap_or_else(|e| panic!("{from} -> {to}: {e}"));
                assert_eq!(v.status().unwrap().mode, to, "{from} -> {to}");
                drop(v);
                let id = Vault::read_header(&paths).unwrap().vault_id;
                let in_keychain = store.get(&data_key_account(&id)).unwrap().is_some();
                assert_eq!(in_keychain, keychain, "{from} -> {to}: keychain entry");
                let empty = MemoryStore::new();
                // The new passphrase opens it without the keychain, the old one never.
                assert_eq!(
                    opens_with(&paths, &empty, Some(NEW)),
                    to != "keychain",
                    "{from} -> {to}"
                );
                assert!(
                    !opens_with(&paths, &empty, Some(OLD)),
                    "{from} -> {to}: old passphrase"
                );
                assert_eq!(opens_with(&paths, &store, None), keychain, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn the_last_way_in_is_never_removed_and_a_wrong_passphrase_changes_nothing() {
        for (from, protection) in modes() {
            let (_d, paths, store, mut v) = vault(protection);
            let header = std::fs::read(paths.header()).unwrap();
            let current = (from != "keychain").then(|| Passphrase::new(OLD));
            let err = v
                .set_protection(&store, current.as_ref(), false, PassphraseChange::Remove)
                .unwrap_err();
            assert!(
                err.to_string().contains("no way to unlock"),
                "{from}: {err}"
            );
            if from != "keychain" {
                let wrong = Passphrase::new("not the passphrase");
                let err = v
                    .set_protection(
                        &store,
                        Some(&wrong),
                        true,
                        PassphraseChange::Set(Passphrase::new(NEW)),
                    )
                    .unwrap_err();
                assert!(matches!(err, VaultError::WrongPassphrase), "{from}: {err}");
                let err = v
                    .set_protection(&store, None, true, PassphraseChange::Remove)
                    .unwrap_err();
                assert!(
                    matches!(err, VaultError::PassphraseRequired),
                    "{from}: {err}"
                );
            }
            assert_eq!(
                std::fs::read(paths.header()).unwrap(),
                header,
                "{from}: header changed"
            );
            drop(v);
            assert!(opens_with(&paths, &MemoryStore::new(), Some(OLD)) || from == "keychain");
        }
    }

    #[test]
    fn a_keychain_that_goes_away_mid_switch_changes_nothing() {
        let (_d, paths, store, mut v) = vault(KeyProtection::Passphrase(Passphrase::new(OLD)));
        let header = std::fs::read(paths.header()).unwrap();
        store.set_available(false);
        let err = v
            .set_protection(
                &store,
                Some(&Passphrase::new(OLD)),
                true,
                PassphraseChange::Remove,
            )
            .unwrap_err();
        assert!(matches!(err, VaultError::KeychainUnavailable(_)), "{err}");
        assert_eq!(std::fs::read(paths.header()).unwrap(), header);
        store.set_available(true);
        assert!(store
            .accounts()
            .unwrap()
            .iter()
            .all(|a| !a.starts_with("vault-key:")));
        drop(v);
        assert!(opens_with(&paths, &store, Some(OLD)));
    }

    fn key_of(paths: &VaultPaths, store: &MemoryStore, passphrase: Option<&str>) -> DataKey {
        Vault::unlock_key(paths, store, passphrase.map(Passphrase::new).as_ref()).unwrap()
    }

    #[test]
    fn a_rotation_re_encrypts_everything_and_the_old_key_opens_nothing() {
        for (mode, protection) in modes() {
            let (_d, paths, store, mut v) = vault(protection);
            let passphrase = (mode != "keychain").then_some(OLD);
            let old = key_of(&paths, &store, passphrase);
            let mut steps = Vec::new();
            v.rotate_key(&store, passphrase.map(Passphrase::new).as_ref(), |s| {
                steps.push(s)
            })
            .unwrap();
            assert_eq!(steps.first(), Some(&RotationStep::Prepared));
            assert_eq!(steps.last(), Some(&RotationStep::Finished));
            assert_eq!(v.count_messages().unwrap(), 1);
            assert_eq!(
                v.search("every change", 5).unwrap().len(),
                1,
                "{mode}: search"
            );
            drop(v);
            let new = key_of(&paths, &store, passphrase);
            assert_ne!(new.expose(), old.expose(), "{mode}");
            assert!(matches!(
                crate::open::connect_only(&paths, &old),
                Err(VaultError::WrongKey(_))
            ));
            assert!(opens(&paths, &new).unwrap());
            let header = Vault::read_header(&paths).unwrap();
            assert!(header.pending.is_none());
            assert!(rekey_files(&paths).iter().all(|f| !f.exists()));
            assert!(store
                .get(&next_data_key_account(&header.vault_id))
                .unwrap()
                .is_none());
            if mode != "keychain" {
                assert!(opens_with(&paths, &MemoryStore::new(), Some(OLD)));
            }
        }
    }

    /// Step 1 of a rotation by hand: a new key's wrappings recorded beside the old.
    fn record_pending(
        v: &Vault,
        store: &MemoryStore,
        p: Option<&Passphrase>,
    ) -> (DataKey, VaultHeader) {
        let mut header = v.header().clone();
        let new = DataKey::generate().unwrap();
        header.pending = Some(PendingKey {
            passphrase: p.map(|p| header.wrap(&new, p, fast_kdf()).unwrap()),
            keychain: header.keychain,
            started_at: 0,
        });
        if header.keychain {
            store_key(store, &next_data_key_account(&header.vault_id), &new).unwrap();
        }
        header.write(&v.paths.header()).unwrap();
        (new, header)
    }

    #[test]
    fn an_unfinished_rotation_is_undone_or_finished_at_the_next_unlock() {
        for (mode, protection) in modes() {
            let passphrase = (mode != "keychain").then_some(OLD);
            let p = passphrase.map(Passphrase::new);
            // Stopped after its wrappings were recorded and part of the copy written:
            // the database is under the old key, so the rotation is undone.
            let (_d, paths, store, v) = vault(protection.clone());
            let old = key_of(&paths, &store, passphrase);
            record_pending(&v, &store, p.as_ref());
            std::fs::write(rekey_path(&paths), b"half a copy").unwrap();
            drop(v);
            assert!(opens_with(&paths, &store, passphrase), "{mode}");
            assert_eq!(key_of(&paths, &store, passphrase).expose(), old.expose());
            assert!(Vault::read_header(&paths).unwrap().pending.is_none());
            assert!(!rekey_path(&paths).exists());

            // Stopped just after the swap: the database is under the new key, so the
            // rotation is finished, through either way in.
            let (_d, paths, store, mut v) = vault(protection);
            let (new, header) = record_pending(&v, &store, p.as_ref());
            v.header = header;
            v.export_rekeyed(&new, &mut |_| {}).unwrap();
            v.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .unwrap();
            drop(v);
            std::fs::rename(rekey_path(&paths), paths.database()).unwrap();
            let _ = std::fs::remove_file(paths.wal());
            assert!(opens_with(&paths, &store, passphrase), "{mode}: finished");
            assert_eq!(key_of(&paths, &store, passphrase).expose(), new.expose());
            let header = Vault::read_header(&paths).unwrap();
            assert!(header.pending.is_none());
            if mode != "passphrase" {
                assert_eq!(
                    read_key(&store, &data_key_account(&header.vault_id))
                        .unwrap()
                        .unwrap()
                        .expose(),
                    new.expose()
                );
            }
        }
    }

    #[test]
    fn a_rotation_waits_for_no_one_and_is_refused_while_another_has_the_vault_open() {
        let (_d, paths, store, mut v) = vault(KeyProtection::Keychain);
        let other = Vault::open(&paths, &store, None).unwrap();
        let err = v.rotate_key(&store, None, |_| {}).unwrap_err();
        assert!(err.to_string().contains("open in another Hearth"), "{err}");
        assert!(Vault::read_header(&paths).unwrap().pending.is_none());
        drop(other);
        v.rotate_key(&store, None, |_| {}).unwrap();
        // Open again, beside this one, as usual.
        let again = Vault::open(&paths, &store, None).unwrap();
        assert_eq!(again.count_messages().unwrap(), 1);
        assert_eq!(v.count_messages().unwrap(), 1);
    }
}
