//! Runs a reply on its own task and forwards its pieces to the UI's `Channel`. The task
//! owns the `Reply`: stopping it (the UI's cancel, locking, or a closed window) drops the
//! reply, which the engine saves as `cancelled` with the text that had arrived.
//!
//! When the model asks for a tool call that needs the user's answer, the task tells the
//! UI (`toolApproval`) and waits, with the reply in hand, for either the answer
//! (`decide_tool_call`, which reaches it through [`Streams::decide`]) or a stop. Only
//! then does it ask the reply for its next piece, as the engine requires.

use std::future::Future;
use std::sync::Arc;

use hearth_engine::{
    Engine, EngineError, MessageStatus, Reply, ReplyEvent, TemporaryReply, ToolDecision,
};
use tauri::ipc::Channel;
use tokio::sync::oneshot;

use crate::dto::{ChatEvent, ReplyStartedDto, TemporaryStartedDto, ToolCallDto, ToolCallStatusDto};
use crate::error::CommandError;
use crate::state::{Controls, StreamEntry, Streams};

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
    /// Answers the tool call the last `ToolApproval` piece asked about.
    fn decide(&mut self, decision: ToolDecision) -> hearth_engine::Result<()>;
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
    fn decide(&mut self, decision: ToolDecision) -> hearth_engine::Result<()> {
        Reply::decide(self, decision)
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
    /// A temporary chat offers no tools, so nothing ever waits for an answer.
    fn decide(&mut self, _: ToolDecision) -> hearth_engine::Result<()> {
        Err(EngineError::Invalid(
            "a temporary chat offers no tools".into(),
        ))
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
    let (entry, mut controls) = streams.register(&request_id)?;
    let (started, started_rx) = oneshot::channel();
    tauri::async_runtime::spawn(async move {
        // Dropping `begin` before it finishes makes the engine save the reply as cancelled.
        let reply = tokio::select! {
            _ = &mut controls.stop => return,
            reply = begin(engine) => reply,
        };
        match reply {
            Ok(reply) => {
                let message_id = reply.message_id(&request_id);
                entry.set_message_id(&message_id);
                let _ = started.send(Ok(reply.started(&request_id)));
                forward(reply, message_id, controls, &entry, &channel).await;
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
    mut controls: Controls,
    entry: &StreamEntry,
    channel: &Channel<ChatEvent>,
) {
    // The UTF-16 length of the text sent so far: where in the reply a call happened, as
    // the UI counts (the engine records the call after the text that came before it).
    let mut text_units = 0usize;
    loop {
        let next = tokio::select! {
            _ = &mut controls.stop => break,
            next = reply.next_piece() => next,
        };
        let event = match next {
            Some(Ok(ReplyEvent::Text(text))) => {
                text_units += text.encode_utf16().count();
                ChatEvent::Text { text }
            }
            Some(Ok(ReplyEvent::Reasoning(text))) => ChatEvent::Reasoning { text },
            Some(Ok(ReplyEvent::ToolApproval(view))) => {
                let call_id = view.id.clone();
                // Before the UI hears of it, so its answer always finds the call waiting.
                entry.set_awaiting(Some(&call_id));
                let call = ToolCallDto::live(view, ToolCallStatusDto::Awaiting, text_units);
                if channel.send(ChatEvent::ToolApproval { call }).is_err() {
                    break;
                }
                match answer(&mut reply, &call_id, &mut controls, entry).await {
                    Answered::Yes => continue,
                    Answered::Stopped => break,
                }
            }
            Some(Ok(ReplyEvent::ToolStarted(view))) => ChatEvent::ToolStarted {
                call: ToolCallDto::live(view, ToolCallStatusDto::Running, text_units),
            },
            Some(Ok(ReplyEvent::ToolResult(view))) => {
                let status = view.status.into();
                ChatEvent::ToolResult {
                    call: ToolCallDto::live(view, status, text_units),
                }
            }
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
    entry.set_awaiting(None);
    // Stopped: the drop saves the partial reply as cancelled before the UI hears of it.
    drop(reply);
    let _ = channel.send(ChatEvent::Done {
        message_id,
        status: MessageStatus::Cancelled.into(),
    });
}

/// How waiting for the user's answer ended.
enum Answered {
    /// The reply took the answer: ask it for the next piece.
    Yes,
    /// The reply is to stop.
    Stopped,
}

/// Waits for the user's answer to `call_id` (or a stop) and hands it to the reply. An
/// answer the engine refuses (a grant it could not save) is reported to the command that
/// brought it, and the call waits on.
async fn answer<R: Streamed>(
    reply: &mut R,
    call_id: &str,
    controls: &mut Controls,
    entry: &StreamEntry,
) -> Answered {
    loop {
        let decision = tokio::select! {
            _ = &mut controls.stop => return Answered::Stopped,
            decision = controls.decisions.recv() => decision,
        };
        let Some(decision) = decision else {
            return Answered::Stopped;
        };
        if decision.call_id != call_id {
            let _ = decision.taken.send(Err(CommandError::invalid(
                "that tool call is not waiting for an answer",
            )));
            continue;
        }
        match reply.decide(decision.decision) {
            Ok(()) => {
                let _ = decision.taken.send(Ok(()));
                return Answered::Yes;
            }
            Err(e) => {
                entry.set_awaiting(Some(call_id));
                let _ = decision.taken.send(Err(e.into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use hearth_engine::{ToolCallStatus, ToolCallView};
    use tauri::ipc::InvokeResponseBody;

    /// A reply that yields `events`, refusing (as the engine does) to go on past an
    /// approval until it is answered.
    struct Scripted {
        events: VecDeque<ReplyEvent>,
        waiting: bool,
        decided: Arc<Mutex<Vec<ToolDecision>>>,
        dropped: Arc<Mutex<bool>>,
    }

    impl Drop for Scripted {
        fn drop(&mut self) {
            *self.dropped.lock().expect("flag") = true;
        }
    }

    impl Streamed for Scripted {
        type Started = ();
        fn started(&self, _: &str) {}
        fn message_id(&self, _: &str) -> String {
            "m1".into()
        }
        fn next_piece(
            &mut self,
        ) -> impl Future<Output = Option<hearth_engine::Result<ReplyEvent>>> + Send {
            let next = if self.waiting {
                Some(Err(EngineError::Invalid("answer first".into())))
            } else {
                let event = self.events.pop_front();
                self.waiting = matches!(event, Some(ReplyEvent::ToolApproval(_)));
                event.map(Ok)
            };
            async move { next }
        }
        fn decide(&mut self, decision: ToolDecision) -> hearth_engine::Result<()> {
            self.decided.lock().expect("decisions").push(decision);
            self.waiting = false;
            Ok(())
        }
    }

    fn view(status: ToolCallStatus, result: Option<&str>) -> ToolCallView {
        ToolCallView {
            id: "call-1".into(),
            server: "py".into(),
            tool: "echo".into(),
            arguments: "{}".into(),
            status,
            result: result.map(str::to_owned),
        }
    }

    struct Run {
        streams: Streams,
        events: Arc<Mutex<Vec<serde_json::Value>>>,
        decided: Arc<Mutex<Vec<ToolDecision>>>,
        dropped: Arc<Mutex<bool>>,
        task: tauri::async_runtime::JoinHandle<()>,
    }

    /// Forwards a reply that says "Hi 🔥", asks to run `echo`, then reports its result.
    fn run() -> Run {
        let streams = Streams::default();
        let (entry, controls) = streams.register("r1").expect("registers");
        entry.set_message_id("m1");
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = events.clone();
        let channel = Channel::new(move |body| {
            if let InvokeResponseBody::Json(json) = body {
                let value = serde_json::from_str(&json).expect("an event is JSON");
                seen.lock().expect("events").push(value);
            }
            Ok(())
        });
        let decided = Arc::new(Mutex::new(Vec::new()));
        let dropped = Arc::new(Mutex::new(false));
        let reply = Scripted {
            events: VecDeque::from([
                ReplyEvent::Text("Hi 🔥".into()),
                ReplyEvent::ToolApproval(view(ToolCallStatus::Pending, None)),
                ReplyEvent::ToolResult(view(ToolCallStatus::Approved, Some("hi"))),
            ]),
            waiting: false,
            decided: decided.clone(),
            dropped: dropped.clone(),
        };
        let task = tauri::async_runtime::spawn(async move {
            forward(reply, "m1".into(), controls, &entry, &channel).await;
        });
        Run {
            streams,
            events,
            decided,
            dropped,
            task,
        }
    }

    /// Waits until `n` events have arrived.
    async fn events(run: &Run, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..500 {
            let seen = run.events.lock().expect("events").clone();
            if seen.len() >= n {
                return seen;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        panic!("only {:?} arrived", run.events.lock().expect("events"));
    }

    #[test]
    fn the_reply_waits_for_the_answer_and_goes_on_with_it() {
        tauri::async_runtime::block_on(async {
            let run = run();
            let seen = events(&run, 2).await;
            assert_eq!(seen[1]["event"], "toolApproval");
            assert_eq!(seen[1]["data"]["call"]["status"], "awaiting");
            // "Hi 🔥" is 5 UTF-16 units: the card goes after them.
            assert_eq!(seen[1]["data"]["call"]["textOffset"], 5);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            assert_eq!(run.events.lock().expect("events").len(), 2, "it waits");

            assert!(run
                .streams
                .decide("m1", "another-call", ToolDecision::Once)
                .is_err());
            let taken = run
                .streams
                .decide("m1", "call-1", ToolDecision::Conversation)
                .expect("the waiting call takes an answer");
            assert_eq!(taken.await.expect("answered"), Ok(()));
            let seen = events(&run, 4).await;
            assert_eq!(seen[2]["event"], "toolResult");
            assert_eq!(seen[2]["data"]["call"]["status"], "approved");
            assert_eq!(seen[2]["data"]["call"]["result"], "hi");
            assert_eq!(seen[3]["event"], "done");
            assert_eq!(seen[3]["data"]["status"], "complete");
            assert_eq!(
                *run.decided.lock().expect("decisions"),
                [ToolDecision::Conversation]
            );
            run.task.await.expect("the task ends");
        });
    }

    #[test]
    fn stop_ends_a_reply_that_waits_for_an_answer() {
        tauri::async_runtime::block_on(async {
            let run = run();
            events(&run, 2).await;
            assert!(run.streams.cancel("r1"));
            let seen = events(&run, 3).await;
            assert_eq!(seen[2]["event"], "done");
            assert_eq!(seen[2]["data"]["status"], "cancelled");
            assert!(*run.dropped.lock().expect("flag"), "the reply was dropped");
            assert!(run.decided.lock().expect("decisions").is_empty());
            run.task.await.expect("the task ends");
            assert!(run.streams.is_empty(), "the entry went with the task");
            assert!(run
                .streams
                .decide("m1", "call-1", ToolDecision::Once)
                .is_err());
        });
    }
}
