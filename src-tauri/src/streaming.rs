//! Runs a reply on its own task and forwards its pieces to the UI's `Channel`. The task
//! owns the `Reply`: stopping it (the UI's cancel, locking, or a closed window) drops the
//! reply, which the engine saves as `cancelled` with the text that had arrived.

use std::future::Future;
use std::sync::Arc;

use hearth_engine::{Engine, MessageStatus, Reply, ReplyEvent, TemporaryReply};
use tauri::ipc::Channel;
use tokio::sync::oneshot;

use crate::dto::{ChatEvent, ReplyStartedDto, TemporaryStartedDto};
use crate::error::CommandError;
use crate::state::Streams;

/// A reply the UI receives piece by piece: a saved one, or a temporary chat's.
pub trait Streamed: Send + 'static {
    /// What the command returns once the reply has started.
    type Started: Send + 'static;
    /// That value, for the request `request_id`.
    fn started(&self, request_id: &str) -> Self::Started;
    /// The id `done` and `error` events carry, and by which it can be cancelled.
    fn message_id(&self, request_id: &str) -> String;
    /// The next piece; `None` at the end.
    fn next_piece(
        &mut self,
    ) -> impl Future<Output = Option<hearth_engine::Result<ReplyEvent>>> + Send;
}

impl Streamed for Reply {
    type Started = ReplyStartedDto;
    fn started(&self, request_id: &str) -> ReplyStartedDto {
        ReplyStartedDto::new(request_id, self)
    }
    fn message_id(&self, _: &str) -> String {
        Reply::message_id(self).to_owned()
    }
    fn next_piece(
        &mut self,
    ) -> impl Future<Output = Option<hearth_engine::Result<ReplyEvent>>> + Send {
        self.next()
    }
}

/// A temporary reply has no message id: the request id stands in for it.
impl Streamed for TemporaryReply {
    type Started = TemporaryStartedDto;
    fn started(&self, request_id: &str) -> TemporaryStartedDto {
        TemporaryStartedDto {
            request_id: request_id.to_owned(),
            provider_id: self.provider_id().to_owned(),
            model: self.model().to_owned(),
        }
    }
    fn message_id(&self, request_id: &str) -> String {
        request_id.to_owned()
    }
    fn next_piece(
        &mut self,
    ) -> impl Future<Output = Option<hearth_engine::Result<ReplyEvent>>> + Send {
        self.next()
    }
}

/// Starts `begin` (a send, regenerate, edit or temporary send) under `request_id` and
/// returns once the reply has started, or failed, or was cancelled before it started.
/// The reply's pieces then arrive on `channel`.
pub async fn start<F, Fut, R>(
    streams: &Streams,
    engine: Arc<Engine>,
    request_id: String,
    channel: Channel<ChatEvent>,
    begin: F,
) -> Result<R::Started, CommandError>
where
    F: FnOnce(Arc<Engine>) -> Fut + Send + 'static,
    Fut: Future<Output = hearth_engine::Result<R>> + Send + 'static,
    R: Streamed,
{
    let (entry, mut stop) = streams.register(&request_id)?;
    let (started, started_rx) = oneshot::channel();
    tauri::async_runtime::spawn(async move {
        // Dropping `begin` before it finishes makes the engine save the reply as cancelled.
        let reply = tokio::select! {
            _ = &mut stop => return,
            reply = begin(engine) => reply,
        };
        match reply {
            Ok(reply) => {
                let message_id = reply.message_id(&request_id);
                entry.set_message_id(&message_id);
                let _ = started.send(Ok(reply.started(&request_id)));
                forward(reply, message_id, stop, &channel).await;
            }
            Err(e) => {
                let _ = started.send(Err(e.into()));
            }
        }
        drop(entry);
    });
    started_rx
        .await
        .unwrap_or_else(|_| Err(CommandError::cancelled()))
}

/// Sends each piece of `reply` to `channel` until it ends, fails, or is stopped.
async fn forward<R: Streamed>(
    mut reply: R,
    message_id: String,
    mut stop: oneshot::Receiver<()>,
    channel: &Channel<ChatEvent>,
) {
    loop {
        let next = tokio::select! {
            _ = &mut stop => break,
            next = reply.next_piece() => next,
        };
        let event = match next {
            Some(Ok(ReplyEvent::Text(text))) => ChatEvent::Text { text },
            Some(Ok(ReplyEvent::Reasoning(text))) => ChatEvent::Reasoning { text },
            // The app offers no tools yet, so no call reaches here.
            Some(Ok(
                ReplyEvent::ToolApproval(_)
                | ReplyEvent::ToolStarted(_)
                | ReplyEvent::ToolResult(_),
            )) => continue,
            Some(Err(error)) => {
                let _ = channel.send(ChatEvent::Error {
                    message_id,
                    error: error.into(),
                });
                return;
            }
            None => {
                let _ = channel.send(ChatEvent::Done {
                    message_id,
                    status: MessageStatus::Complete.into(),
                });
                return;
            }
        };
        if channel.send(event).is_err() {
            // Nobody is listening any more (the window went away): stop the reply.
            break;
        }
    }
    // Stopped: the drop saves the partial reply as cancelled before the UI hears of it.
    drop(reply);
    let _ = channel.send(ChatEvent::Done {
        message_id,
        status: MessageStatus::Cancelled.into(),
    });
}
