//! hearth-keychain: the one door to the operating system's keychain.
//!
//! Everything Hearth keeps in a keychain (the vault's data key, provider API keys) goes
//! through [`SecretStore`]. [`OsKeychain`] talks to the platform store through the
//! `keyring` crate (Secret Service on Linux, Keychain Services on macOS, Credential
//! Manager on Windows); [`MemoryStore`] is an in-process store for unit tests only.
//!
//! Every keychain call runs on its own thread with a deadline, so a keychain that hangs
//! (a locked collection waiting on a prompt nobody answers, a wedged D-Bus daemon)
//! produces [`KeychainError::TimedOut`] instead of freezing the app.

use std::collections::HashMap;
use std::fmt;
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::Duration;

use zeroize::Zeroizing;

/// The service name under which every Hearth entry lives in the OS keychain.
pub const SERVICE: &str = "Hearth";

/// How long one keychain call may take before Hearth gives up on it.
///
/// Long enough for a slow D-Bus round trip or an unlock prompt the user answers at once,
/// short enough that a hung keychain does not look like a hung app.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// A secret read from a keychain. Its bytes are wiped when it is dropped, and its
/// `Debug` output never shows them.
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps bytes as a secret.
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(Zeroizing::new(bytes))
    }

    /// The secret's bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// What can go wrong talking to a keychain. Every variant says what the user can do.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    /// No keychain service could be reached (on Linux: no Secret Service on the session bus).
    #[error("no OS keychain is available ({0})")]
    Unavailable(String),
    /// The keychain exists but refused access, usually because it is locked.
    #[error("the OS keychain refused access ({0}); unlock your keychain and try again")]
    Denied(String),
    /// The keychain did not answer in time.
    #[error("the OS keychain did not answer within {0:?}; check that it is unlocked and not waiting on a prompt")]
    TimedOut(Duration),
    /// Any other failure reported by the keychain.
    #[error("the OS keychain failed: {0}")]
    Failed(String),
}

/// A place to keep small secrets by account name, all under the service [`SERVICE`].
pub trait SecretStore: Send + Sync {
    /// Reads the secret stored for `account`, or `None` if there is none.
    fn get(&self, account: &str) -> Result<Option<Secret>, KeychainError>;
    /// Stores `secret` for `account`, replacing any earlier one.
    fn set(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError>;
    /// Removes the secret for `account`; returns whether there was one.
    fn delete(&self, account: &str) -> Result<bool, KeychainError>;
    /// Lists every account that has a secret under [`SERVICE`].
    fn accounts(&self) -> Result<Vec<String>, KeychainError>;
    /// Checks that the store can be used at all, without touching any entry.
    fn probe(&self) -> Result<(), KeychainError>;
}

/// The operating system's keychain, reached through the `keyring` crate.
#[derive(Debug, Clone)]
pub struct OsKeychain {
    timeout: Duration,
}

impl Default for OsKeychain {
    fn default() -> Self {
        OsKeychain {
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl OsKeychain {
    /// A keychain handle whose calls give up after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        OsKeychain { timeout }
    }

    /// Runs one keychain operation on a worker thread, waiting at most `self.timeout`.
    ///
    /// A timed-out worker is left to finish on its own: the keyring API has no way to
    /// cancel a call in flight, and a leaked blocked thread is better than a frozen app.
    fn run<T, F>(&self, op: F) -> Result<T, KeychainError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, KeychainError> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name("hearth-keychain".into())
            .spawn(move || {
                // The receiver may be gone after a timeout; nothing to do then.
                let _ = tx.send(op());
            })
            .map_err(|e| {
                KeychainError::Failed(format!("could not start a keychain thread: {e}"))
            })?;
        match rx.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(KeychainError::TimedOut(self.timeout)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(KeychainError::Failed(
                "the keychain thread stopped without an answer".into(),
            )),
        }
    }
}

/// The one door to the OS keychain.
#[allow(clippy::disallowed_methods)]
fn entry(account: &str) -> Result<keyring::Entry, KeychainError> {
    keyring::Entry::new(SERVICE, account).map_err(from_keyring)
}

/// Translates the keyring crate's errors into ours. Error text from the platform never
/// contains the secret itself (the keyring crate does not put secrets in errors).
fn from_keyring(err: keyring::Error) -> KeychainError {
    use keyring::Error as E;
    match err {
        E::NoDefaultStore => {
            KeychainError::Unavailable("no Secret Service or keychain was found".into())
        }
        E::NoStorageAccess(e) => KeychainError::Denied(e.to_string()),
        E::PlatformFailure(e) => {
            let text = e.to_string();
            // zbus reports a missing session bus or service as a platform failure.
            if text.contains("org.freedesktop.secrets")
                || text.contains("ServiceUnknown")
                || text.contains("No such file or directory")
                || text.contains("Connection refused")
            {
                KeychainError::Unavailable(text)
            } else {
                KeychainError::Failed(text)
            }
        }
        other => KeychainError::Failed(other.to_string()),
    }
}

impl SecretStore for OsKeychain {
    fn get(&self, account: &str) -> Result<Option<Secret>, KeychainError> {
        let account = account.to_owned();
        self.run(move || match entry(&account)?.get_secret() {
            Ok(bytes) => Ok(Some(Secret::new(bytes))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(from_keyring(e)),
        })
    }

    fn set(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError> {
        let account = account.to_owned();
        let secret = Zeroizing::new(secret.to_vec());
        self.run(move || entry(&account)?.set_secret(&secret).map_err(from_keyring))
    }

    fn delete(&self, account: &str) -> Result<bool, KeychainError> {
        let account = account.to_owned();
        self.run(move || match entry(&account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(from_keyring(e)),
        })
    }

    fn accounts(&self) -> Result<Vec<String>, KeychainError> {
        self.run(|| {
            // Initialises the platform store (once per process) before searching it.
            if let Err(e) = keyring::Entry::store_status() {
                return Err(match e {
                    keyring::Error::NoDefaultStore => {
                        KeychainError::Unavailable("no Secret Service or keychain was found".into())
                    }
                    other => KeychainError::Unavailable(other.to_string()),
                });
            }
            let spec = HashMap::from([("service", SERVICE)]);
            let found = keyring_core::Entry::search(&spec).map_err(from_keyring)?;
            let mut accounts: Vec<String> = found
                .iter()
                .filter_map(|e| e.get_specifiers())
                .filter(|(service, _)| service == SERVICE)
                .map(|(_, account)| account)
                .collect();
            accounts.sort();
            accounts.dedup();
            Ok(accounts)
        })
    }

    fn probe(&self) -> Result<(), KeychainError> {
        // Reading an entry that does not exist exercises the whole path (bus, service,
        // unlocked collection) without creating anything.
        self.get("probe").map(|_| ())
    }
}

type Entries = HashMap<String, Zeroizing<Vec<u8>>>;

/// An in-memory [`SecretStore`] for unit tests. The front ends never use it.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<Entries>,
    unavailable: std::sync::atomic::AtomicBool,
}

impl MemoryStore {
    /// An empty, working store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// A store that behaves like a machine without a keychain: every call fails with
    /// [`KeychainError::Unavailable`].
    pub fn unavailable() -> Self {
        MemoryStore {
            entries: Mutex::default(),
            unavailable: true.into(),
        }
    }

    /// Makes the store fail (`false`) or work again (`true`), as a keychain that locks
    /// or goes away while Hearth runs; the entries are kept.
    pub fn set_available(&self, available: bool) {
        self.unavailable
            .store(!available, std::sync::atomic::Ordering::SeqCst);
    }

    fn entries(&self) -> Result<std::sync::MutexGuard<'_, Entries>, KeychainError> {
        if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(KeychainError::Unavailable(
                "test store without a keychain".into(),
            ));
        }
        self.entries
            .lock()
            .map_err(|_| KeychainError::Failed("memory store lock poisoned".into()))
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<Secret>, KeychainError> {
        Ok(self
            .entries()?
            .get(account)
            .map(|v| Secret::new(v.to_vec())))
    }

    fn set(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError> {
        self.entries()?
            .insert(account.to_owned(), Zeroizing::new(secret.to_vec()));
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<bool, KeychainError> {
        Ok(self.entries()?.remove(account).is_some())
    }

    fn accounts(&self) -> Result<Vec<String>, KeychainError> {
        let mut names: Vec<String> = self.entries()?.keys().cloned().collect();
        names.sort();
        Ok(names)
    }

    fn probe(&self) -> Result<(), KeychainError> {
        self.entries().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trip_and_delete() {
        let store = MemoryStore::new();
        assert!(store.get("a").unwrap().is_none());
        store.set("a", b"one").unwrap();
        store.set("a", b"two").unwrap();
        assert_eq!(store.get("a").unwrap().unwrap().expose(), b"two");
        assert_eq!(store.accounts().unwrap(), vec!["a".to_string()]);
        assert!(store.delete("a").unwrap());
        assert!(!store.delete("a").unwrap());
        assert!(store.get("a").unwrap().is_none());
    }

    #[test]
    fn unavailable_store_says_so() {
        let store = MemoryStore::unavailable();
        assert!(matches!(store.probe(), Err(KeychainError::Unavailable(_))));
        assert!(matches!(
            store.set("a", b"x"),
            Err(KeychainError::Unavailable(_))
        ));
    }

    #[test]
    fn secret_debug_hides_bytes() {
        let s = Secret::new(b"sk-canary-123".to_vec());
        let shown = format!("{s:?}");
        assert!(!shown.contains("canary"), "{shown}");
    }

    #[test]
    fn hung_call_times_out() {
        let keychain = OsKeychain::with_timeout(Duration::from_millis(50));
        let result: Result<(), _> = keychain.run(|| {
            thread::sleep(Duration::from_secs(2));
            Ok(())
        });
        assert!(matches!(result, Err(KeychainError::TimedOut(_))));
    }
}
