//! Managed state: where the vault lives, the unlocked engine (absent while locked), and
//! the replies streaming right now, with the way to stop each one and to answer the tool
//! call it waits on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use hearth_engine::{AppPaths, Engine, KdfParams, SecretStore, ToolDecision};
use tokio::sync::{mpsc, oneshot};

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
        // MCP servers stop now (a server a stopping reply still holds goes with it).
        engine.stop_tool_servers().await;
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

/// A reply in flight: how to stop it, its message id once the reply has started, and the
/// tool call it waits on, if any, with the way to answer it.
struct Live {
    message_id: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    decisions: mpsc::UnboundedSender<Decision>,
    awaiting: Option<String>,
}

/// The user's answer to the tool call a reply waits on, on its way to the task that
/// drives the reply. `taken` says whether the reply took it.
pub struct Decision {
    /// The call answered.
    pub call_id: String,
    /// The answer.
    pub decision: ToolDecision,
    /// Where the task says whether the engine accepted it.
    pub taken: oneshot::Sender<Result<(), CommandError>>,
}

/// What the task driving a reply listens to: a stop, and answers to tool calls.
pub struct Controls {
    /// Fires once when the reply is to stop.
    pub stop: oneshot::Receiver<()>,
    /// The user's answers, in order.
    pub decisions: mpsc::UnboundedReceiver<Decision>,
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
    pub fn register(&self, request_id: &str) -> Result<(StreamEntry, Controls), CommandError> {
        if request_id.is_empty() || request_id.len() > 128 {
            return Err(CommandError::invalid("a request id is 1 to 128 characters"));
        }
        let (stop, stopped) = oneshot::channel();
        let (decisions, answers) = mpsc::unbounded_channel();
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
                decisions,
                awaiting: None,
            },
        );
        let entry = StreamEntry {
            streams: self.clone(),
            request_id: request_id.to_owned(),
        };
        let controls = Controls {
            stop: stopped,
            decisions: answers,
        };
        Ok((entry, controls))
    }

    /// Hands the user's answer for tool call `call_id` to the reply (by request id or
    /// assistant message id) that waits on it. The receiver says whether the reply took
    /// it. A call that is not waiting (answered already, or never asked) is refused, so
    /// one approval card cannot answer twice.
    pub fn decide(
        &self,
        id: &str,
        call_id: &str,
        decision: ToolDecision,
    ) -> Result<oneshot::Receiver<Result<(), CommandError>>, CommandError> {
        let mut live = self.live();
        let found = live
            .iter_mut()
            .find(|(request, l)| request.as_str() == id || l.message_id.as_deref() == Some(id))
            .map(|(_, l)| l);
        let Some(reply) = found else {
            return Err(CommandError::new(
                crate::error::ErrorKind::NotFound,
                "that reply is no longer running",
            ));
        };
        if reply.awaiting.as_deref() != Some(call_id) {
            return Err(CommandError::invalid(
                "that tool call is not waiting for an answer",
            ));
        }
        let (taken, answer) = oneshot::channel();
        let sent = reply.decisions.send(Decision {
            call_id: call_id.to_owned(),
            decision,
            taken,
        });
        if sent.is_err() {
            return Err(CommandError::cancelled());
        }
        reply.awaiting = None;
        Ok(answer)
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

    /// Records the tool call the reply now waits on (`None` once it is answered).
    pub fn set_awaiting(&self, call_id: Option<&str>) {
        if let Some(live) = self.streams.live().get_mut(&self.request_id) {
            live.awaiting = call_id.map(str::to_owned);
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
        let (entry, controls) = streams.register("r1").expect("registers");
        let mut stopped = controls.stop;
        assert!(streams.register("r1").is_err(), "duplicate ids are refused");
        entry.set_message_id("m1");
        assert!(!streams.cancel("other"));
        assert!(streams.cancel("m1"));
        assert_eq!(stopped.try_recv(), Ok(()));
        assert!(!streams.cancel("r1"), "a stop is sent once");
        drop(entry);
        assert!(streams.is_empty());
        let (_entry, mut controls) = streams.register("r2").expect("registers");
        streams.cancel_all();
        assert_eq!(controls.stop.try_recv(), Ok(()));
    }

    #[test]
    fn a_decision_reaches_only_the_call_the_reply_waits_on_and_only_once() {
        let streams = Streams::default();
        let (entry, mut controls) = streams.register("r1").expect("registers");
        entry.set_message_id("m1");
        let refused = streams.decide("m1", "call-a", ToolDecision::Once);
        assert!(refused.is_err(), "nothing is waiting yet");
        entry.set_awaiting(Some("call-a"));
        assert!(
            streams.decide("m1", "call-b", ToolDecision::Once).is_err(),
            "another call's card cannot answer this one"
        );
        assert_eq!(
            streams
                .decide("nobody", "call-a", ToolDecision::Once)
                .map(|_| ())
                .map_err(|e| e.kind),
            Err(crate::error::ErrorKind::NotFound)
        );
        let mut answer = streams
            .decide("m1", "call-a", ToolDecision::Conversation)
            .expect("the waiting call takes an answer");
        assert!(
            streams.decide("r1", "call-a", ToolDecision::Deny).is_err(),
            "a second answer to the same call is refused"
        );
        let decision = controls.decisions.try_recv().expect("the answer arrived");
        assert_eq!(
            (decision.call_id.as_str(), decision.decision),
            ("call-a", ToolDecision::Conversation)
        );
        assert!(controls.decisions.try_recv().is_err(), "exactly one answer");
        decision
            .taken
            .send(Ok(()))
            .expect("the command still listens");
        assert_eq!(answer.try_recv(), Ok(Ok(())));
    }
}
