//! Creating, unlocking, checking and erasing a vault.

use std::fs;
use std::path::{Path, PathBuf};

use hearth_keychain::{KeychainError, SecretStore};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::{Result, VaultError};
use crate::files::{create_private_file, ensure_private_dir, sync_dir};
use crate::header::{KdfParams, VaultHeader, HEADER_FORMAT};
use crate::key::{DataKey, Passphrase};
use crate::schema::{self, Migration, MIGRATIONS};
use crate::{data_key_account, new_id, now_ms, vault_home_account, Vault, VaultPaths};

/// How a new vault's data key is protected.
#[derive(Debug, Clone)]
pub enum KeyProtection {
    /// The data key lives in the OS keychain only.
    Keychain,
    /// The data key is wrapped by a passphrase only; the keychain is not used at all.
    Passphrase(Passphrase),
    /// Both: the keychain for everyday unlocking, the passphrase as a second way in.
    KeychainAndPassphrase(Passphrase),
}

/// What [`Vault::erase`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EraseReport {
    /// Keychain entries of this vault that were deleted.
    pub keychain_entries_removed: usize,
    /// Hearth keychain entries left alone because the header was unreadable, so they
    /// could not be tied to this vault.
    pub unattributed_keychain_entries: usize,
    /// This vault's keychain entries that were kept because Hearth could not tell that
    /// they belong to this data directory rather than to another copy of the vault.
    pub kept_keychain_entries: Vec<String>,
    /// Why they were kept, in words for the user.
    pub kept_because: Option<String>,
}

/// Whose keychain entries these are, as far as erase can tell.
enum Ownership {
    /// This data directory is the vault's recorded home (or the recorded home no longer
    /// holds this vault, so this folder is where it went).
    Ours,
    /// Another folder holds this vault and is its recorded home: this is a copy.
    Copy(PathBuf),
    /// No home was recorded (a vault not opened since Hearth began recording it).
    Unknown,
}

/// What `hearth status` and the data inventory show about an open vault.
#[derive(Debug, Clone, Serialize)]
pub struct VaultStatus {
    /// The vault's id.
    pub vault_id: String,
    /// `keychain`, `passphrase` or `keychain+passphrase`.
    pub mode: String,
    /// Schema version of the database.
    pub schema_version: i64,
    /// Schema version this build writes.
    pub schema_supported: i64,
    /// SQLCipher's version string.
    pub sqlcipher_version: String,
    /// The SQLite version under SQLCipher.
    pub sqlite_version: String,
    /// Number of conversations, archived ones included.
    pub conversations: i64,
    /// How many of them are archived.
    pub archived_conversations: i64,
    /// Number of messages.
    pub messages: i64,
    /// Attachments of messages (a file attached twice counts twice).
    pub attachments: i64,
    /// Bytes of attached files stored (each distinct file once), projects' files included.
    pub attachment_bytes: i64,
    /// Number of projects.
    pub projects: i64,
    /// Files of projects.
    pub project_files: i64,
    /// Saved prompts.
    pub prompts: i64,
    /// Every file in the data directory with its size in bytes.
    pub files: Vec<(String, u64)>,
}

fn mode_name(header: &VaultHeader) -> &'static str {
    match (header.keychain, header.passphrase.is_some()) {
        (true, true) => "keychain+passphrase",
        (true, false) => "keychain",
        _ => "passphrase",
    }
}

impl Vault {
    /// Reads the header of the vault at `paths` without unlocking anything.
    pub fn read_header(paths: &VaultPaths) -> Result<VaultHeader> {
        if !paths.exists() {
            return Err(VaultError::NoVault(paths.dir().to_owned()));
        }
        VaultHeader::read(&paths.header())
    }

    /// Creates a new vault in `paths` (which must not hold one) protected as asked.
    pub fn create(
        paths: &VaultPaths,
        store: &dyn SecretStore,
        protection: KeyProtection,
        kdf: KdfParams,
    ) -> Result<Vault> {
        if paths.exists() || paths.database().exists() {
            return Err(VaultError::AlreadyExists(paths.dir().to_owned()));
        }
        let (use_keychain, passphrase) = match protection {
            KeyProtection::Keychain => (true, None),
            KeyProtection::Passphrase(p) => (false, Some(p)),
            KeyProtection::KeychainAndPassphrase(p) => (true, Some(p)),
        };
        if let Some(p) = &passphrase {
            p.check_strength()?;
        }
        if use_keychain {
            // Fail before anything is written: never a silent fallback to something weaker.
            store.probe().map_err(crate::keys::keychain_error)?;
        }

        let key = DataKey::generate()?;
        let mut header = VaultHeader {
            format: HEADER_FORMAT,
            vault_id: new_id(),
            created_at: now_ms(),
            keychain: use_keychain,
            passphrase: None,
            pending: None,
        };
        if let Some(p) = &passphrase {
            header.set_passphrase(&key, p, kdf)?;
        }

        ensure_private_dir(paths.dir())?;
        let account = data_key_account(&header.vault_id);
        let result = (|| {
            if use_keychain {
                store
                    .set(&account, key.to_hex().as_bytes())
                    .map_err(keychain_error)?;
            }
            create_private_file(&paths.database())?;
            let mut conn = connect(paths, &key, true)?;
            schema::migrate(&mut conn, MIGRATIONS)?;
            header.write(&paths.header())?;
            Ok(conn)
        })();
        match result {
            Ok(conn) => {
                record_home(paths, store, &header);
                Ok(Vault {
                    conn,
                    paths: paths.clone(),
                    header,
                    open_lock: Some(hold_open_lock(paths, true)?),
                })
            }
            Err(e) => {
                // Undo a half-made vault so the user can simply try again.
                for path in [paths.database(), paths.wal(), paths.shm(), paths.header()] {
                    let _ = fs::remove_file(path);
                }
                if use_keychain {
                    let _ = store.delete(&account);
                }
                Err(e)
            }
        }
    }

    /// Obtains the data key: with the passphrase when one is given and the vault has a
    /// passphrase, otherwise from the keychain if the vault uses it.
    pub fn unlock_key(
        paths: &VaultPaths,
        store: &dyn SecretStore,
        passphrase: Option<&Passphrase>,
    ) -> Result<DataKey> {
        let header = Vault::read_header(paths)?;
        let header = if header.pending.is_some() {
            // A change of the data key a kill interrupted: settled first, so the key
            // returned is the one the database is under.
            crate::keys::settle_rotation(paths, store, passphrase)?;
            Vault::read_header(paths)?
        } else {
            header
        };
        if let (Some(p), Some(_)) = (passphrase, &header.passphrase) {
            return header.unwrap_key(p, &paths.header());
        }
        if !header.keychain {
            return Err(VaultError::PassphraseRequired);
        }
        let account = data_key_account(&header.vault_id);
        let found = match store.get(&account) {
            Ok(found) => found,
            Err(e) if header.passphrase.is_some() => {
                tracing::info!("keychain unusable ({e}); the vault's passphrase is needed");
                return Err(VaultError::PassphraseRequired);
            }
            Err(e) => return Err(keychain_error(e)),
        };
        match found {
            Some(secret) => crate::keys::key_from_entry(secret.expose(), &account),
            None if header.passphrase.is_some() => Err(VaultError::PassphraseRequired),
            None => Err(VaultError::KeyMissing {
                vault_id: header.vault_id,
            }),
        }
    }

    /// Opens the vault at `paths`, unlocking it as [`Vault::unlock_key`] does.
    pub fn open(
        paths: &VaultPaths,
        store: &dyn SecretStore,
        passphrase: Option<&Passphrase>,
    ) -> Result<Vault> {
        let key = Vault::unlock_key(paths, store, passphrase)?;
        let vault = Vault::open_with_key(paths, &key)?;
        record_home(paths, store, &vault.header);
        Ok(vault)
    }

    /// Opens the vault with its raw data key.
    pub fn open_with_key(paths: &VaultPaths, key: &DataKey) -> Result<Vault> {
        Vault::open_with_migrations(paths, key, MIGRATIONS)
    }

    /// Opens the vault and applies `migrations` (the real list, or a longer one in tests).
    #[doc(hidden)]
    pub fn open_with_migrations(
        paths: &VaultPaths,
        key: &DataKey,
        migrations: &[Migration],
    ) -> Result<Vault> {
        let mut vault = Vault::open_unmigrated(paths, key)?;
        schema::migrate(&mut vault.conn, migrations)?;
        if vault.open_lock.is_none() {
            vault.open_lock = Some(hold_open_lock(paths, true)?);
        }
        Ok(vault)
    }

    /// Opens the vault without migrating it or changing anything: for integrity checks of
    /// a vault that may be damaged or newer than this build.
    pub fn open_unmigrated(paths: &VaultPaths, key: &DataKey) -> Result<Vault> {
        let header = Vault::read_header(paths)?;
        if !paths.database().exists() {
            return Err(VaultError::Corrupt(format!(
                "the header is present but {} is missing",
                paths.database().display()
            )));
        }
        let open_lock = match paths.open_lock().exists() {
            true => Some(hold_open_lock(paths, false)?),
            false => None,
        };
        let conn = connect(paths, key, false)?;
        Ok(Vault {
            conn,
            paths: paths.clone(),
            header,
            open_lock,
        })
    }

    /// A summary of the vault for `hearth status` and the data inventory.
    pub fn status(&self) -> Result<VaultStatus> {
        let q = |sql: &str| -> Result<i64> { Ok(self.conn.query_row(sql, [], |r| r.get(0))?) };
        let attachments = self.attachment_totals()?;
        Ok(VaultStatus {
            vault_id: self.header.vault_id.clone(),
            mode: mode_name(&self.header).into(),
            schema_version: q("PRAGMA user_version")?,
            schema_supported: schema::current_version(),
            sqlcipher_version: self
                .conn
                .query_row("PRAGMA cipher_version", [], |r| r.get(0))?,
            sqlite_version: self
                .conn
                .query_row("SELECT sqlite_version()", [], |r| r.get(0))?,
            conversations: q("SELECT count(*) FROM conversations")?,
            archived_conversations: q("SELECT count(*) FROM conversations WHERE archived = 1")?,
            attachments: attachments.attachments as i64,
            attachment_bytes: attachments.stored_bytes as i64,
            messages: q("SELECT count(*) FROM messages")?,
            projects: q("SELECT count(*) FROM projects")?,
            project_files: q("SELECT count(*) FROM project_files")?,
            prompts: q("SELECT count(*) FROM prompts")?,
            files: list_files(self.paths.dir())?,
        })
    }

    /// Runs SQLite's and SQLCipher's full integrity checks; returns the problems found
    /// (empty when the file is sound). Reads every page, so it takes time on big vaults.
    pub fn check_integrity(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for row in rows {
            problems.push(row?);
        }
        // Pages that fail authentication would stop SQLite's structural check with an
        // error; the page-level report is the more useful one then.
        if !problems.is_empty() {
            return Ok(problems);
        }
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for row in rows {
            let row = row?;
            if row != "ok" {
                problems.push(row);
            }
        }
        Ok(problems)
    }

    /// Erases the vault at `paths`: its keychain entries (data key and provider keys),
    /// then every Hearth file, then the folder if nothing else is in it. Works on a locked
    /// vault, so a forgotten passphrase does not stand in the way.
    ///
    /// If the vault keeps its key in the keychain and the keychain cannot be reached,
    /// nothing is deleted: removing the files while the key stays behind would leave a
    /// Hearth entry the user believes is gone.
    pub fn erase(paths: &VaultPaths, store: &dyn SecretStore) -> Result<EraseReport> {
        let mut report = EraseReport::default();
        match Vault::read_header(paths) {
            Ok(header) => {
                let accounts = match store.accounts() {
                    Ok(accounts) => accounts,
                    Err(e) if header.keychain => return Err(keychain_error(e)),
                    // A passphrase-only vault never wrote to the keychain.
                    Err(_) => Vec::new(),
                };
                let ours: Vec<&String> = accounts
                    .iter()
                    .filter(|a| belongs_to(a, &header.vault_id))
                    .collect();
                let ownership = if ours.is_empty() {
                    Ownership::Ours
                } else {
                    ownership(paths, store, &header.vault_id)?
                };
                match ownership {
                    Ownership::Ours => {
                        for account in ours {
                            store.delete(account).map_err(keychain_error)?;
                            report.keychain_entries_removed += 1;
                        }
                    }
                    Ownership::Copy(home) => {
                        report.kept_keychain_entries = ours.into_iter().cloned().collect();
                        report.kept_because = Some(format!(
                            "this folder is a copy of the vault in {}, which still uses them",
                            home.display()
                        ));
                    }
                    Ownership::Unknown => {
                        report.kept_keychain_entries = ours.into_iter().cloned().collect();
                        report.kept_because = Some(
                            "Hearth cannot tell whether they belong to this folder or to another copy of the vault"
                                .into(),
                        );
                    }
                }
            }
            // Without a readable header there is no vault id to tell this vault's
            // keychain entries from another vault's: say so rather than guess.
            Err(VaultError::NoVault(_)) => {}
            Err(_) => {
                report.unattributed_keychain_entries =
                    store.accounts().map(|a| a.len()).unwrap_or(0);
            }
        }
        let dir = paths.dir();
        for path in [
            paths.database(),
            paths.wal(),
            paths.shm(),
            paths.header(),
            paths.streams_lock(),
            paths.open_lock(),
        ] {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(VaultError::io(
                        format!("cannot remove {}", path.display()),
                        e,
                    ))
                }
            }
        }
        // Leftovers from interrupted atomic writes.
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && name.ends_with(".tmp") {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        if dir.exists() {
            sync_dir(dir)?;
            // Only an empty folder goes: anything else in it is not Hearth's to delete.
            let _ = fs::remove_dir(dir);
        }
        Ok(report)
    }
}

fn belongs_to(account: &str, vault_id: &str) -> bool {
    account == data_key_account(vault_id)
        || account == vault_home_account(vault_id)
        || account.starts_with(&format!("provider-key:{vault_id}:"))
        || account.starts_with(&format!("tool-secret:{vault_id}:"))
}

/// The data directory as recorded in the keychain: absolute, symlinks resolved.
fn home_of(paths: &VaultPaths) -> PathBuf {
    fs::canonicalize(paths.dir()).unwrap_or_else(|_| paths.dir().to_path_buf())
}

/// Whether `dir` holds a vault header naming `vault_id`.
fn holds_vault(dir: &Path, vault_id: &str) -> bool {
    VaultHeader::read(&dir.join(crate::HEADER_FILE)).is_ok_and(|h| h.vault_id == vault_id)
}

/// The home recorded in the keychain for `vault_id`, if any.
fn recorded_home(store: &dyn SecretStore, vault_id: &str) -> Result<Option<PathBuf>> {
    let Some(secret) = store
        .get(&vault_home_account(vault_id))
        .map_err(keychain_error)?
    else {
        return Ok(None);
    };
    Ok(std::str::from_utf8(secret.expose()).ok().map(PathBuf::from))
}

fn ownership(paths: &VaultPaths, store: &dyn SecretStore, vault_id: &str) -> Result<Ownership> {
    let here = home_of(paths);
    Ok(match recorded_home(store, vault_id)? {
        None => Ownership::Unknown,
        Some(home) if home == here => Ownership::Ours,
        Some(home) if holds_vault(&home, vault_id) => Ownership::Copy(home),
        // The recorded home no longer holds this vault: the folder was moved here.
        Some(_) => Ownership::Ours,
    })
}

/// Records this data directory as the vault's home in the keychain, unless another
/// folder that still holds the vault is recorded (then this one is a copy, and the
/// original keeps its claim). Keychain trouble is logged, not fatal: the record only
/// guides erase, which keeps entries it cannot attribute.
fn record_home(paths: &VaultPaths, store: &dyn SecretStore, header: &VaultHeader) {
    if !header.keychain {
        return;
    }
    let here = home_of(paths);
    let result = (|| -> Result<()> {
        match recorded_home(store, &header.vault_id)? {
            Some(home) if home == here => return Ok(()),
            Some(home) if holds_vault(&home, &header.vault_id) => return Ok(()),
            _ => {}
        }
        let text = here.to_str().ok_or_else(|| {
            VaultError::Invalid("the data directory's path is not valid UTF-8".into())
        })?;
        store
            .set(&vault_home_account(&header.vault_id), text.as_bytes())
            .map_err(keychain_error)
    })();
    if let Err(e) = result {
        tracing::info!("cannot record the vault's folder in the keychain: {e}");
    }
}

fn keychain_error(e: KeychainError) -> VaultError {
    VaultError::Keychain(e)
}

fn list_files(dir: &Path) -> Result<Vec<(String, u64)>> {
    let mut files = Vec::new();
    let entries = fs::read_dir(dir)
        .map_err(|e| VaultError::io(format!("cannot list {}", dir.display()), e))?;
    for entry in entries.flatten() {
        if let Ok(meta) = entry.metadata() {
            if meta.is_file() {
                files.push((entry.path().display().to_string(), meta.len()));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// SQLCipher 4's default page size, which Hearth never changes.
pub(crate) const CIPHER_PAGE_SIZE: u64 = 4096;

/// Opens the database connection: fail closed without SQLCipher, key it, prove the key,
/// check the file is whole, then set the pragmas every connection needs.
/// Takes `vault.lock` shared (creating it, empty and private): refused while another
/// process is replacing the data key.
pub(crate) fn hold_open_lock(paths: &VaultPaths, create: bool) -> Result<fs::File> {
    let path = paths.open_lock();
    let mut options = fs::OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(create)
        .truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(&path)
        .map_err(|e| VaultError::io(format!("cannot open {}", path.display()), e))?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(VaultError::Invalid(
            "another Hearth is changing this vault's data key; try again when it has finished"
                .into(),
        )),
        Err(fs::TryLockError::Error(e)) => {
            Err(VaultError::io(format!("cannot lock {}", path.display()), e))
        }
    }
}

/// A connection to the database file `path` keyed with `key`, with nothing set and
/// nothing changed: to tell which key a file is under, or to check a copy. A wrong key
/// is [`VaultError::WrongKey`].
pub(crate) fn connect_file(path: &Path, key: &DataKey) -> Result<Connection> {
    let conn = keyed_connection(path, key)?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(conn),
        Err(e) => Err(match e.sqlite_error_code() {
            Some(rusqlite::ffi::ErrorCode::NotADatabase) => VaultError::WrongKey(path.to_owned()),
            _ => VaultError::from(e),
        }),
    }
}

/// A connection to `path` with SQLCipher checked and `key` set, nothing read yet.
fn keyed_connection(path: &Path, key: &DataKey) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    // The one door to the database.
    #[allow(clippy::disallowed_methods)]
    let conn = Connection::open_with_flags(path, flags)?;
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .ok();
    if cipher.as_deref().is_none_or(str::is_empty) {
        return Err(VaultError::NoCipher);
    }
    // A wrong key makes SQLCipher log to stderr; the error we return says it better.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let keying = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", key.to_hex().as_str()));
    conn.execute_batch(&keying)?;
    drop(keying);
    Ok(conn)
}

/// [`connect_file`] on the vault's database.
pub(crate) fn connect_only(paths: &VaultPaths, key: &DataKey) -> Result<Connection> {
    connect_file(&paths.database(), key)
}

fn connect(paths: &VaultPaths, key: &DataKey, creating: bool) -> Result<Connection> {
    let db_path = paths.database();
    // Whether a write-ahead log with content survives from a crash: then the main file may
    // legitimately be shorter than the database's page count.
    let wal_has_frames = fs::metadata(paths.wal())
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if !creating {
        let actual = fs::metadata(&db_path)
            .map_err(|e| VaultError::io(format!("cannot read {}", db_path.display()), e))?
            .len();
        // SQLite would happily treat an empty file as a new database and write a schema
        // into it; an existing vault is never empty.
        if actual == 0 {
            return Err(VaultError::Truncated {
                expected: CIPHER_PAGE_SIZE,
                actual,
            });
        }
    }
    let conn = keyed_connection(&db_path, key)?;

    // Reading the schema decrypts page 1: this is where a wrong key shows.
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        // SQLCipher files are whole pages: a ragged length means the end was cut off.
        let actual = fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0);
        if !wal_has_frames && !actual.is_multiple_of(CIPHER_PAGE_SIZE) {
            return Err(VaultError::Truncated {
                expected: actual.div_ceil(CIPHER_PAGE_SIZE) * CIPHER_PAGE_SIZE,
                actual,
            });
        }
        return Err(match e.sqlite_error_code() {
            Some(rusqlite::ffi::ErrorCode::NotADatabase) => VaultError::WrongKey(db_path),
            _ => VaultError::from(e),
        });
    }

    if !creating && !wal_has_frames {
        let page_count: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        // SQLCipher answers `page_size` with its own cipher_page_size, as text.
        let page_size: i64 = match conn.query_row("PRAGMA page_size", [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })? {
            rusqlite::types::Value::Integer(n) => n,
            rusqlite::types::Value::Text(t) => t.trim().parse().unwrap_or(0),
            _ => 0,
        };
        let expected = (page_count.max(0) as u64) * (page_size.max(0) as u64);
        let actual = fs::metadata(&db_path)
            .map_err(|e| VaultError::io(format!("cannot read {}", db_path.display()), e))?
            .len();
        if actual < expected {
            return Err(VaultError::Truncated { expected, actual });
        }
    }

    // WAL keeps readers and the writer apart and makes each commit one fsync'd append;
    // FULL sync makes a returned commit survive power loss; secure_delete overwrites
    // freed pages; temp_store keeps sort and temp tables out of temp files; a 32 MiB
    // page cache keeps decrypted pages for search and lists instead of decrypting again.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(VaultError::Invalid(format!(
            "the database refused write-ahead logging (journal mode {mode})"
        )));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32768;",
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::header::{MIN_KDF_ITERATIONS, MIN_KDF_MEMORY_KIB};
    use hearth_keychain::MemoryStore;

    pub(crate) fn fast_kdf() -> KdfParams {
        KdfParams {
            memory_kib: MIN_KDF_MEMORY_KIB,
            iterations: MIN_KDF_ITERATIONS,
            parallelism: 1,
        }
    }

    /// A fresh keychain-mode vault in a temp dir.
    pub(crate) fn temp_vault() -> (tempfile::TempDir, VaultPaths, MemoryStore, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let paths = VaultPaths::new(dir.path().join("data"));
        let store = MemoryStore::new();
        let vault = Vault::create(&paths, &store, KeyProtection::Keychain, fast_kdf()).unwrap();
        (dir, paths, store, vault)
    }

    #[test]
    fn keychain_vault_reopens_from_the_keychain() {
        let (_dir, paths, store, vault) = temp_vault();
        let id = vault.id().to_owned();
        vault.lock().unwrap();
        let vault = Vault::open(&paths, &store, None).unwrap();
        assert_eq!(vault.id(), id);
        assert_eq!(vault.status().unwrap().mode, "keychain");
        assert_eq!(
            store.accounts().unwrap(),
            vec![vault_home_account(&id), data_key_account(&id)]
        );
        // The folder it lives in is recorded, as an absolute path.
        let home = store.get(&vault_home_account(&id)).unwrap().unwrap();
        assert_eq!(
            Path::new(std::str::from_utf8(home.expose()).unwrap()),
            fs::canonicalize(paths.dir()).unwrap()
        );
    }

    #[test]
    fn passphrase_vault_needs_the_right_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let paths = VaultPaths::new(dir.path());
        let store = MemoryStore::unavailable();
        let pass = Passphrase::new("a long passphrase");
        Vault::create(
            &paths,
            &store,
            KeyProtection::Passphrase(pass.clone()),
            fast_kdf(),
        )
        .unwrap()
        .lock()
        .unwrap();
        assert!(matches!(
            Vault::open(&paths, &store, None),
            Err(VaultError::PassphraseRequired)
        ));
        assert!(matches!(
            Vault::open(&paths, &store, Some(&Passphrase::new("not the passphrase"))),
            Err(VaultError::WrongPassphrase)
        ));
        let vault = Vault::open(&paths, &store, Some(&pass)).unwrap();
        assert_eq!(vault.status().unwrap().mode, "passphrase");
    }

    #[test]
    fn no_keychain_refuses_keychain_mode_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let paths = VaultPaths::new(dir.path().join("data"));
        let err = Vault::create(
            &paths,
            &MemoryStore::unavailable(),
            KeyProtection::Keychain,
            fast_kdf(),
        )
        .unwrap_err();
        assert!(matches!(err, VaultError::KeychainUnavailable(_)));
        assert!(err.to_string().contains("--passphrase"), "{err}");
        assert!(!paths.dir().exists());
    }

    #[test]
    fn both_mode_opens_either_way() {
        let dir = tempfile::tempdir().unwrap();
        let paths = VaultPaths::new(dir.path());
        let store = MemoryStore::new();
        let pass = Passphrase::new("a long passphrase");
        let id = Vault::create(
            &paths,
            &store,
            KeyProtection::KeychainAndPassphrase(pass.clone()),
            fast_kdf(),
        )
        .unwrap()
        .id()
        .to_owned();
        Vault::open(&paths, &store, None).unwrap().lock().unwrap();
        store.delete(&data_key_account(&id)).unwrap();
        assert!(matches!(
            Vault::open(&paths, &store, None),
            Err(VaultError::PassphraseRequired)
        ));
        Vault::open(&paths, &store, Some(&pass)).unwrap();
    }

    #[test]
    fn a_second_create_is_refused() {
        let (_dir, paths, store, vault) = temp_vault();
        drop(vault);
        assert!(matches!(
            Vault::create(&paths, &store, KeyProtection::Keychain, fast_kdf()),
            Err(VaultError::AlreadyExists(_))
        ));
    }

    #[test]
    fn wrong_key_is_reported_as_such() {
        let (_dir, paths, _store, vault) = temp_vault();
        vault.lock().unwrap();
        let other = DataKey::generate().unwrap();
        assert!(matches!(
            Vault::open_with_key(&paths, &other),
            Err(VaultError::WrongKey(_))
        ));
    }

    #[test]
    fn short_passphrases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let paths = VaultPaths::new(dir.path());
        let err = Vault::create(
            &paths,
            &MemoryStore::new(),
            KeyProtection::Passphrase(Passphrase::new("short")),
            fast_kdf(),
        )
        .unwrap_err();
        assert!(matches!(err, VaultError::PassphraseTooShort(_)));
    }

    fn copy_folder(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }

    #[test]
    fn erasing_a_copy_keeps_the_originals_entries_and_a_moved_vault_takes_them() {
        let (dir, paths, store, vault) = temp_vault();
        let id = vault.id().to_owned();
        vault.lock().unwrap();
        let all = store.accounts().unwrap();
        let copy = VaultPaths::new(dir.path().join("copy"));
        copy_folder(paths.dir(), copy.dir());
        // Opening the copy does not take over the record.
        Vault::open(&copy, &store, None).unwrap().lock().unwrap();
        let report = Vault::erase(&copy, &store).unwrap();
        assert_eq!(report.keychain_entries_removed, 0);
        assert_eq!(report.kept_keychain_entries, all);
        assert!(report.kept_because.unwrap().contains("copy"));
        assert!(!copy.dir().exists());
        Vault::open(&paths, &store, None).unwrap().lock().unwrap();

        // Moved: the recorded folder no longer holds the vault, so this one is it.
        let moved = VaultPaths::new(dir.path().join("moved"));
        fs::rename(paths.dir(), moved.dir()).unwrap();
        Vault::open(&moved, &store, None).unwrap().lock().unwrap();
        let home = store.get(&vault_home_account(&id)).unwrap().unwrap();
        assert_eq!(
            Path::new(std::str::from_utf8(home.expose()).unwrap()),
            fs::canonicalize(moved.dir()).unwrap()
        );
        let report = Vault::erase(&moved, &store).unwrap();
        assert_eq!(report.keychain_entries_removed, 2);
        assert!(store.accounts().unwrap().is_empty());
    }

    #[test]
    fn without_a_recorded_folder_erase_keeps_the_entries_and_says_why() {
        let (_dir, paths, store, vault) = temp_vault();
        let id = vault.id().to_owned();
        vault.lock().unwrap();
        store.delete(&vault_home_account(&id)).unwrap();
        let report = Vault::erase(&paths, &store).unwrap();
        assert_eq!(report.kept_keychain_entries, vec![data_key_account(&id)]);
        assert!(report.kept_because.unwrap().contains("cannot tell"));
        assert!(!paths.dir().exists());
    }

    #[test]
    fn erase_removes_files_and_this_vaults_entries_only() {
        let (_dir, paths, store, vault) = temp_vault();
        let id = vault.id().to_owned();
        vault.lock().unwrap();
        store
            .set(&crate::provider_key_account(&id, "openai"), b"sk-x")
            .unwrap();
        store
            .set("provider-key:another-vault:openai", b"sk-y")
            .unwrap();
        let report = Vault::erase(&paths, &store).unwrap();
        assert_eq!(report.keychain_entries_removed, 3);
        assert!(report.kept_keychain_entries.is_empty());
        assert!(!paths.dir().exists());
        assert_eq!(
            store.accounts().unwrap(),
            vec!["provider-key:another-vault:openai".to_string()]
        );
    }

    #[test]
    fn files_are_private() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let (_dir, paths, _store, _vault) = temp_vault();
            for p in [paths.database(), paths.header(), paths.wal()] {
                let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", p.display());
            }
            let mode = fs::metadata(paths.dir()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
    }
}
