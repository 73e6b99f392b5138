//! Managed state: where the vault lives, the unlocked engine (absent while locked), and
//! the replies streaming right now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use hearth_engine::{AppPaths, Engine, KdfParams, SecretStore};
use tokio::sync::oneshot;

use crate::error::CommandError;

/// The vault as the shell sees it. The engine sits behind a std lock that is only held to
/// clone or swap the `Arc`, never across an `await`; the engine guards its own vault.
pub struct Hearth {
    paths: AppPaths,
    store: Arc<dyn SecretStore>,
    kdf: KdfParams,
    engine: RwLock<Option<Arc<Engine>>>,
}

impl Hearth {
    /// A locked Hearth over the vault at `paths`, with keys kept in `store`.
    pub fn new(paths: AppPaths, store: Arc<dyn SecretStore>) -> Self {
        Hearth {
            paths,
            store,
            kdf: KdfParams::default(),
            engine: RwLock::new(None),
        }
    }

    /// Sets the Argon2id cost of vaults created from now on. The engine refuses anything
    /// below OWASP's floor; tests use the floor to stay fast.
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }

    /// The resolved paths.
    pub fn paths(&self) -> &AppPaths {
        &self.paths
    }

    /// The key store vaults are created and opened with.
    pub fn store(&self) -> Arc<dyn SecretStore> {
        self.store.clone()
    }

    /// The Argon2id cost for new vaults.
    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    /// The unlocked engine, or a `Locked` error.
    pub fn engine(&self) -> Result<Arc<Engine>, CommandError> {
        self.engine
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(CommandError::locked)
    }

    /// Whether an engine is unlocked.
    pub fn is_unlocked(&self) -> bool {
        self.engine().is_ok()
    }

    /// Installs a freshly unlocked engine.
    pub fn set_engine(&self, engine: Engine) {
        *self.engine.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(engine));
    }

    /// Removes the engine, leaving the vault locked for new commands.
    pub fn take_engine(&self) -> Option<Arc<Engine>> {
        self.engine
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Locks the vault and closes it. New commands fail with `Locked` from the first
    /// moment; every reply is stopped (and saved as cancelled). The engine is closed only
    /// once nothing holds it any more: a stopped reply lets go within moments, while an
    /// export, import or key rotation already running is waited for rather than cut off.
    /// When this returns, the database connection is closed, and with it the data key.
    pub async fn lock(&self, streams: &Streams) -> Result<(), CommandError> {
        let Some(mut engine) = self.take_engine() else {
            return Ok(());
        };
        streams.cancel_all();
        loop {
            // A reply holds the vault itself, not only the engine: wait for both to go.
            if streams.is_empty() {
                match Arc::try_unwrap(engine) {
                    Ok(engine) => return Ok(engine.lock()?),
                    Err(shared) => engine = shared,
                }
            }
            // A reply that started just after the first stop is stopped too, unless the
            // user has unlocked again meanwhile and the replies are the new session's.
            if !self.is_unlocked() {
                streams.cancel_all();
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
    }
}

/// How often [`Hearth::lock`] looks whether the last holder of the engine let go.
const LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// A reply in flight: how to stop it, and its message id once the reply has started.
struct Live {
    message_id: Option<String>,
    stop: Option<oneshot::Sender<()>>,
}

/// The replies streaming now, by the request id the UI chose. Stopping one sends on its
/// oneshot; the task streaming it then drops the `Reply`, which saves it as cancelled.
#[derive(Clone, Default)]
pub struct Streams {
    live: Arc<Mutex<HashMap<String, Live>>>,
}

impl Streams {
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new request; the entry goes away when the returned guard drops.
    pub fn register(
        &self,
        request_id: &str,
    ) -> Result<(StreamEntry, oneshot::Receiver<()>), CommandError> {
        if request_id.is_empty() || request_id.len() > 128 {
            return Err(CommandError::invalid("a request id is 1 to 128 characters"));
        }
        let (stop, stopped) = oneshot::channel();
        let mut live = self.live();
        if live.contains_key(request_id) {
            return Err(CommandError::invalid(format!(
                "request {request_id} is already running"
            )));
        }
        live.insert(
            request_id.to_owned(),
            Live {
                message_id: None,
                stop: Some(stop),
            },
        );
        let entry = StreamEntry {
            streams: self.clone(),
            request_id: request_id.to_owned(),
        };
        Ok((entry, stopped))
    }

    /// Stops the reply with this request id or assistant message id; false if none runs.
    pub fn cancel(&self, id: &str) -> bool {
        let mut live = self.live();
        let found = live
            .iter_mut()
            .find(|(request, l)| request.as_str() == id || l.message_id.as_deref() == Some(id));
        match found.and_then(|(_, l)| l.stop.take()) {
            Some(stop) => stop.send(()).is_ok(),
            None => false,
        }
    }

    /// Stops every reply (the vault is being locked).
    pub fn cancel_all(&self) {
        for live in self.live().values_mut() {
            if let Some(stop) = live.stop.take() {
                let _ = stop.send(());
            }
        }
    }

    /// How many replies are registered.
    pub fn len(&self) -> usize {
        self.live().len()
    }

    /// Whether no reply is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A registered request; dropping it removes the request from [`Streams`].
pub struct StreamEntry {
    streams: Streams,
    request_id: String,
}

impl StreamEntry {
    /// Records the assistant message id, so the UI can cancel by message too.
    pub fn set_message_id(&self, message_id: &str) {
        if let Some(live) = self.streams.live().get_mut(&self.request_id) {
            live.message_id = Some(message_id.to_owned());
        }
    }
}

impl Drop for StreamEntry {
    fn drop(&mut self) {
        self.streams.live().remove(&self.request_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_by_request_or_message_id_and_cleanup_on_drop() {
        let streams = Streams::default();
        let (entry, mut stopped) = streams.register("r1").expect("registers");
        assert!(streams.register("r1").is_err(), "duplicate ids are refused");
        entry.set_message_id("m1");
        assert!(!streams.cancel("other"));
        assert!(streams.cancel("m1"));
        assert_eq!(stopped.try_recv(), Ok(()));
        assert!(!streams.cancel("r1"), "a stop is sent once");
        drop(entry);
        assert!(streams.is_empty());
        let (_entry, mut stopped) = streams.register("r2").expect("registers");
        streams.cancel_all();
        assert_eq!(stopped.try_recv(), Ok(()));
    }
}
