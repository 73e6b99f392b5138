//! Runs a reply on its own task and forwards its pieces to the UI's `Channel`. The task
//! owns the `Reply`: stopping it (the UI's cancel, locking, or a closed window) drops the
//! reply, which the engine saves as `cancelled` with the text that had arrived.

use std::future::Future;
use std::sync::Arc;

use hearth_engine::{Engine, MessageStatus, Reply, ReplyEvent};
use tauri::ipc::Channel;
use tokio::sync::oneshot;

use crate::dto::{ChatEvent, ReplyStartedDto};
use crate::error::CommandError;
use crate::state::Streams;

/// Starts `begin` (a send, regenerate or edit) under `request_id` and returns once the
/// reply has started, or failed, or was cancelled before it started. The reply's pieces
/// then arrive on `channel`.
pub async fn start<F, Fut>(
    streams: &Streams,
    engine: Arc<Engine>,
    request_id: String,
    channel: Channel<ChatEvent>,
    begin: F,
) -> Result<ReplyStartedDto, CommandError>
where
    F: FnOnce(Arc<Engine>) -> Fut + Send + 'static,
    Fut: Future<Output = hearth_engine::Result<Reply>> + Send + 'static,
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
                entry.set_message_id(reply.message_id());
                let _ = started.send(Ok(ReplyStartedDto::new(&request_id, &reply)));
                forward(reply, stop, &channel).await;
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
async fn forward(mut reply: Reply, mut stop: oneshot::Receiver<()>, channel: &Channel<ChatEvent>) {
    let message_id = reply.message_id().to_owned();
    loop {
        let next = tokio::select! {
            _ = &mut stop => break,
            next = reply.next() => next,
        };
        let event = match next {
            Some(Ok(ReplyEvent::Text(text))) => ChatEvent::Text { text },
            Some(Ok(ReplyEvent::Reasoning(text))) => ChatEvent::Reasoning { text },
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
