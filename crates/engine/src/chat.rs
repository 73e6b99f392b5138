//! The chat pipeline: the user's message is saved before anything leaves the machine, the
//! reply is saved as it streams, and however the reply ends (done, stopped, failed, or the
//! app killed) what had arrived is kept.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use hearth_providers::{
    builtin, start_chat, ChatRequest, ChatRole, ChatStream, ChatTurn, Endpoint, ProviderError,
    ProviderKind, StreamEvent, Usage,
};
use hearth_vault::{MessageStatus, NewConversation, NewMessage, Role, ToolCallStatus, Vault};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

use crate::error::{EngineError, Missing, Result};
use crate::stream_lock::{self, LiveStream};
use crate::tools::{ToolHost, ToolSet};
use crate::Engine;

/// How often a streaming reply's text is written to the vault. Often enough that a crash
/// loses at most a quarter second of text; rarely enough that a fast stream is not a
/// write per token.
pub const PERSIST_INTERVAL: Duration = Duration::from_millis(250);

/// The longest title taken from the first message.
const TITLE_CHARS: usize = 60;

/// What the user sends.
#[derive(Debug, Clone, Default)]
pub struct SendRequest {
    /// An existing conversation, or `None` to start one.
    pub conversation_id: Option<String>,
    /// Provider to use (else the conversation's, else the default).
    pub provider_id: Option<String>,
    /// Model to use (else the conversation's, else the provider's default).
    pub model: Option<String>,
    /// The message.
    pub text: String,
    /// Files sent with it (at most [`MAX_ATTACHMENTS_PER_MESSAGE`](crate::attachment::MAX_ATTACHMENTS_PER_MESSAGE)),
    /// saved with the message in one transaction.
    pub files: Vec<crate::attachment::PickedFile>,
    /// The tool servers the conversation offers from now on (saved with it); `None`
    /// keeps its earlier choice. A new conversation offers none unless given.
    pub tools: Option<Vec<String>>,
    /// Tools allowed to run without asking, for this reply only.
    pub allow: Vec<ToolAllow>,
    /// The project a new conversation starts in (ignored for an existing one): its
    /// provider and model are the defaults, its instructions and files go with every
    /// request.
    pub project_id: Option<String>,
    /// The conversation's own model settings from now on (saved with it); `None` keeps
    /// what it had.
    pub settings: Option<crate::projects::ModelSettings>,
}

/// The most rounds of tool calls one reply may make. A model still asking after this
/// many is stopped with an error; everything so far is kept.
pub const MAX_TOOL_STEPS: usize = 20;

/// What the model is told when the user says no to a call.
pub const DENIED_RESULT: &str = "The user denied this tool call; it did not run.";

/// What a call left unfinished when the reply stopped is recorded as having said.
const CANCELLED_RESULT: &str = "The reply was stopped before this call ended.";

/// A tool the user allowed ahead of time for one request (`hearth chat --allow`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolAllow {
    /// The server.
    pub server: String,
    /// The tool, or `None` for every tool of the server.
    pub tool: Option<String>,
}

impl std::str::FromStr for ToolAllow {
    type Err = EngineError;
    /// `SERVER/TOOL`, or `SERVER/*` for every tool of one server.
    fn from_str(s: &str) -> Result<Self> {
        match s.split_once('/') {
            Some((server, tool)) if !server.is_empty() && !tool.is_empty() => Ok(ToolAllow {
                server: server.to_owned(),
                tool: (tool != "*").then(|| tool.to_owned()),
            }),
            _ => Err(EngineError::Invalid(format!(
                "{s:?} names no tool: write SERVER/TOOL, or SERVER/* for all of one server's tools"
            ))),
        }
    }
}

/// What the user chose for a tool call waiting for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToolDecision {
    /// Do not run it; the model is told it was denied.
    Deny,
    /// Run this call only.
    Once,
    /// Run it, and this tool's later calls in this conversation without asking.
    Conversation,
    /// Run it, and this tool's calls everywhere without asking (until revoked).
    Always,
}

/// A tool call as a front end shows it. Every string is the model's or the tool's:
/// untrusted, and shown neutralised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallView {
    /// Hearth's id for the call.
    pub id: String,
    /// The server (empty when the model named a tool that is not offered).
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The arguments, pretty-printed when they are valid JSON, else as the model wrote.
    pub arguments: String,
    /// What became of it so far.
    pub status: ToolCallStatus,
    /// What the model is told, once the call has ended.
    pub result: Option<String>,
}

/// A piece of a reply, as a front end shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyEvent {
    /// More answer text.
    Text(String),
    /// More reasoning text.
    Reasoning(String),
    /// The model asked for a call that needs the user's answer: call
    /// [`Reply::decide`] before asking for the next piece.
    ToolApproval(ToolCallView),
    /// An allowed call is running.
    ToolStarted(ToolCallView),
    /// A call ended (ran, failed, or was denied); its result goes back to the model.
    ToolResult(ToolCallView),
}

/// The pretty form of a call's arguments for people (the raw text if it is not JSON).
pub fn pretty_arguments(arguments: &str) -> String {
    serde_json::from_str::<serde_json::Value>(arguments)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| arguments.to_owned())
}

impl ToolCallView {
    /// The view of a stored call.
    pub fn of(call: &hearth_vault::ToolCall) -> ToolCallView {
        ToolCallView {
            id: call.id.clone(),
            server: call.server.clone(),
            tool: call.tool.clone(),
            arguments: pretty_arguments(&call.arguments),
            status: call.status,
            result: call.result.clone(),
        }
    }
}

/// How a failed reply's error is stored in the message's `error` column.
///
/// A refused reply is stored as status `error` with kind `refused`; the refusal text the
/// model gave is the message's content, so it is shown and searchable like any reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredError {
    /// Stable kind: one of [`ProviderError::KINDS`] (`auth`, `rate_limited`, `timeout`,
    /// `refused`, `tool_calls_only`, `too_large`, …) or [`StoredError::TOOL_STEPS`],
    /// never text from the provider.
    pub kind: String,
    /// What to tell the user. Provider text in it is scrubbed of keys and capped.
    pub message: String,
}

impl StoredError {
    /// The kind of a reply the model refused to give.
    pub const REFUSED: &'static str = "refused";

    /// The kind of a reply stopped at [`MAX_TOOL_STEPS`].
    pub const TOOL_STEPS: &'static str = "tool_step_limit";

    /// How `error` is stored.
    pub fn from_provider(error: &ProviderError) -> StoredError {
        StoredError {
            kind: error.kind().to_owned(),
            message: error.to_string(),
        }
    }

    /// The JSON written to the `error` column.
    fn to_column(&self) -> String {
        // A struct of two strings always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What a reply needs to ask the provider again after tool calls.
struct NextRequest {
    http: hearth_providers::Http,
    endpoint: Endpoint,
    key: Option<Zeroizing<String>>,
    request: ChatRequest,
    idle: Duration,
}

/// A call the model asked for, recorded, waiting its turn.
struct Queued {
    record: hearth_vault::ToolCall,
    /// The call as it goes back to the provider.
    wire: hearth_providers::ToolCall,
    /// Why it cannot run (unknown tool, arguments that are not a JSON object).
    problem: Option<String>,
    arguments: serde_json::Map<String, serde_json::Value>,
}

/// The tools a reply offers and how it runs them.
struct ReplyTools {
    set: ToolSet,
    host: Arc<ToolHost>,
    configs: std::collections::HashMap<String, hearth_tools::ServerConfig>,
    allow: Vec<ToolAllow>,
    /// Calls the current stream asked for.
    asked: Vec<hearth_providers::ToolCall>,
    /// Recorded calls of this step still to handle, in order.
    queue: std::collections::VecDeque<Queued>,
    /// The call waiting for the user's answer.
    awaiting: Option<Queued>,
    /// The answer given for it.
    decision: Option<ToolDecision>,
    /// An allowed call announced as started, to run at the next pull.
    running: Option<Queued>,
    /// This step's calls and results, in order, once handled.
    calls: Vec<hearth_providers::ToolCall>,
    results: Vec<hearth_providers::ToolResult>,
    /// Rounds of calls made so far.
    step: usize,
    /// Where in the text and reasoning the current step began.
    text_mark: usize,
    reasoning_mark: usize,
}

/// A reply on its way in. Pull pieces with [`Reply::next`]. Dropping it before the end
/// cancels the request (the connection is closed) and keeps the partial text as
/// `cancelled`.
///
/// With tools offered, a reply is a loop: the model asks for calls, each is approved (or
/// was allowed ahead), run, and its result sent back, until the model answers in text or
/// [`MAX_TOOL_STEPS`] rounds have passed. Every call and result is saved with the reply.
pub struct Reply {
    vault: Arc<Mutex<Vault>>,
    stream: Option<ChatStream>,
    next_request: NextRequest,
    tools: ReplyTools,
    conversation_id: String,
    user_message_id: String,
    message_id: String,
    content: String,
    reasoning: String,
    usage: Usage,
    last_saved: Instant,
    /// Text has arrived since the last progress save.
    unsaved: bool,
    /// Signals the end of the progress save in flight, if any.
    saving: Option<mpsc::Receiver<()>>,
    open: bool,
    /// Tells other processes this reply is alive; released after the final save.
    _live: LiveStream,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("conversation_id", &self.conversation_id)
            .field("message_id", &self.message_id)
            .finish_non_exhaustive()
    }
}

impl Reply {
    /// The conversation.
    pub fn conversation_id(&self) -> &str {
        &self.conversation_id
    }

    /// The user message this replies to.
    pub fn user_message_id(&self) -> &str {
        &self.user_message_id
    }

    /// The assistant message being written.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The answer so far.
    pub fn content(&self) -> &str {
        &self.content
    }

    /// Answers the call waiting for approval (the last [`ReplyEvent::ToolApproval`]).
    /// "Conversation" and "always" are saved as grants before the call runs.
    pub fn decide(&mut self, decision: ToolDecision) -> Result<()> {
        let Some(waiting) = &self.tools.awaiting else {
            return Err(EngineError::Invalid(
                "no tool call is waiting for an answer".into(),
            ));
        };
        let (server, tool) = (&waiting.record.server, &waiting.record.tool);
        match decision {
            ToolDecision::Conversation => {
                lock(&self.vault)?.grant_tool(server, tool, Some(&self.conversation_id))?
            }
            ToolDecision::Always => lock(&self.vault)?.grant_tool(server, tool, None)?,
            ToolDecision::Deny | ToolDecision::Once => {}
        }
        self.tools.decision = Some(decision);
        Ok(())
    }

    /// The next piece; `None` when the reply is complete (and saved as such). An error
    /// ends the reply: it is saved as `error` with its kind and message, text kept. A
    /// refusal is such an error ([`ProviderError::Refused`], kind `refused`): its text
    /// has arrived as [`ReplyEvent::Text`] and is the saved content.
    ///
    /// After a [`ReplyEvent::ToolApproval`], call [`Reply::decide`] first: asking for the
    /// next piece without an answer is an error that leaves the call waiting.
    pub async fn next(&mut self) -> Option<Result<ReplyEvent>> {
        loop {
            if !self.open {
                return None;
            }
            if self.stream.is_some() {
                match self.pull().await {
                    Pulled::Event(e) => return Some(e),
                    Pulled::Again => continue,
                    Pulled::Ended => return None,
                }
            }
            if let Some(call) = self.tools.running.take() {
                return Some(Ok(ReplyEvent::ToolResult(self.run(call).await)));
            }
            if self.tools.awaiting.is_some() {
                let Some(decision) = self.tools.decision.take() else {
                    return Some(Err(EngineError::Invalid(
                        "a tool call is waiting for an answer: allow or deny it first".into(),
                    )));
                };
                let Some(call) = self.tools.awaiting.take() else {
                    continue;
                };
                if decision == ToolDecision::Deny {
                    let view = self.end_call(call, ToolCallStatus::Denied, DENIED_RESULT.into());
                    return Some(Ok(ReplyEvent::ToolResult(view)));
                }
                return Some(Ok(ReplyEvent::ToolStarted(self.start_call(call))));
            }
            if let Some(call) = self.tools.queue.pop_front() {
                if let Some(problem) = call.problem.clone() {
                    let view = self.end_call(call, ToolCallStatus::Failed, problem);
                    return Some(Ok(ReplyEvent::ToolResult(view)));
                }
                match self.allowed(&call) {
                    Ok(true) => return Some(Ok(ReplyEvent::ToolStarted(self.start_call(call)))),
                    Ok(false) => {
                        let view = ToolCallView::of(&call.record);
                        self.tools.awaiting = Some(call);
                        return Some(Ok(ReplyEvent::ToolApproval(view)));
                    }
                    Err(e) => {
                        let view = self.end_call(
                            call,
                            ToolCallStatus::Failed,
                            format!("Hearth could not check this call's approval: {e}"),
                        );
                        return Some(Ok(ReplyEvent::ToolResult(view)));
                    }
                }
            }
            if !self.tools.calls.is_empty() {
                if let Err(e) = self.ask_again().await {
                    return Some(Err(e));
                }
                continue;
            }
            // Nothing streaming and nothing to do: the reply is over.
            self.close(MessageStatus::Complete, None);
            return None;
        }
    }

    /// Pulls from the provider's stream.
    async fn pull(&mut self) -> Pulled {
        let Some(stream) = self.stream.as_mut() else {
            return Pulled::Again;
        };
        // Text that arrived just before the provider went quiet is saved on time too,
        // not only when the next delta comes.
        let next = if self.unsaved {
            let due = tokio::time::Instant::from_std(self.last_saved + PERSIST_INTERVAL);
            match tokio::time::timeout_at(due, stream.next()).await {
                Ok(next) => next,
                Err(_) => {
                    self.save_progress();
                    return Pulled::Again;
                }
            }
        } else {
            stream.next().await
        };
        let event = match next {
            None => {
                self.stream = None;
                if self.tools.asked.is_empty() {
                    self.close(MessageStatus::Complete, None);
                    return Pulled::Ended;
                }
                return match self.queue_calls() {
                    Ok(()) => Pulled::Again,
                    Err(e) => Pulled::Event(Err(e)),
                };
            }
            Some(Err(error)) => {
                self.stream = None;
                self.close(
                    MessageStatus::Error,
                    Some(StoredError::from_provider(&error)),
                );
                return Pulled::Event(Err(EngineError::Provider {
                    error,
                    conversation_id: self.conversation_id.clone(),
                }));
            }
            Some(Ok(event)) => event,
        };
        let out = match event {
            StreamEvent::Text(t) => {
                self.content.push_str(&t);
                ReplyEvent::Text(t)
            }
            StreamEvent::Reasoning(r) => {
                self.reasoning.push_str(&r);
                ReplyEvent::Reasoning(r)
            }
            StreamEvent::Usage(u) => {
                self.usage = u;
                return Pulled::Again;
            }
            StreamEvent::ToolCall(call) => {
                self.tools.asked.push(call);
                return Pulled::Again;
            }
        };
        self.unsaved = true;
        if self.last_saved.elapsed() >= PERSIST_INTERVAL {
            self.save_progress();
        }
        Pulled::Event(Ok(out))
    }

    /// Records the calls the stream just asked for and queues them; past the step limit,
    /// ends the reply with an error instead.
    fn queue_calls(&mut self) -> Result<()> {
        let asked = std::mem::take(&mut self.tools.asked);
        if self.tools.step >= MAX_TOOL_STEPS {
            let message = format!(
                "the model was still calling tools after {MAX_TOOL_STEPS} rounds, so Hearth stopped the reply; everything so far is saved"
            );
            self.close(
                MessageStatus::Error,
                Some(StoredError {
                    kind: StoredError::TOOL_STEPS.into(),
                    message: message.clone(),
                }),
            );
            return Err(EngineError::ToolSteps {
                message,
                conversation_id: self.conversation_id.clone(),
            });
        }
        self.save_now();
        let vault = lock(&self.vault)?;
        for call in asked {
            let target = self.tools.set.by_wire.get(&call.name).cloned();
            let (server, tool) = target
                .clone()
                .unwrap_or_else(|| (String::new(), call.name.clone()));
            let record = vault.add_tool_call(hearth_vault::NewToolCall {
                message_id: self.message_id.clone(),
                step: self.tools.step as i64,
                text_offset: self.content.len() as i64,
                reasoning_offset: self.reasoning.len() as i64,
                call_id: call.id.clone(),
                server,
                tool,
                arguments: call.arguments.clone(),
                signature: call.signature.clone(),
            })?;
            let parsed = serde_json::from_str::<serde_json::Value>(&call.arguments);
            let (problem, arguments) = match (&target, parsed) {
                (None, _) => (
                    Some(format!(
                        "There is no tool named {:?}. Use only the tools offered.",
                        call.name
                    )),
                    Default::default(),
                ),
                (_, Ok(serde_json::Value::Object(map))) => (None, map),
                (_, Ok(_)) => (
                    Some("The arguments must be a JSON object; nothing was run.".into()),
                    Default::default(),
                ),
                (_, Err(e)) => (
                    Some(format!(
                        "The arguments are not valid JSON ({e}); nothing was run."
                    )),
                    Default::default(),
                ),
            };
            let mut wire = call;
            if wire.id.is_empty() && self.next_request.endpoint.kind != ProviderKind::Gemini {
                wire.id = synthetic_call_id(&record.id);
            }
            self.tools.queue.push_back(Queued {
                record,
                wire,
                problem,
                arguments,
            });
        }
        Ok(())
    }

    /// Whether a call may run without asking: allowed for this request, or granted.
    fn allowed(&self, call: &Queued) -> Result<bool> {
        let (server, tool) = (&call.record.server, &call.record.tool);
        let ahead = self
            .tools
            .allow
            .iter()
            .any(|a| &a.server == server && a.tool.as_ref().is_none_or(|t| t == tool));
        if ahead {
            return Ok(true);
        }
        Ok(lock(&self.vault)?.tool_granted(server, tool, &self.conversation_id)?)
    }

    fn start_call(&mut self, call: Queued) -> ToolCallView {
        let view = ToolCallView::of(&call.record);
        self.tools.running = Some(call);
        view
    }

    /// Runs an allowed call and records its result.
    async fn run(&mut self, call: Queued) -> ToolCallView {
        let server = call.record.server.clone();
        let Some(config) = self.tools.configs.get(&server).cloned() else {
            let text = format!("The tool server {server:?} is not available.");
            return self.end_call(call, ToolCallStatus::Failed, text);
        };
        let outcome = self
            .tools
            .host
            .call(&config, &call.record.tool, call.arguments.clone())
            .await;
        let (status, text) = match outcome {
            Ok(output) => {
                let mut text = output.content;
                if text.is_empty() {
                    if let Some(structured) = &output.structured {
                        text = structured.to_string();
                    }
                }
                let status = if output.is_error {
                    ToolCallStatus::Failed
                } else {
                    ToolCallStatus::Approved
                };
                (status, text)
            }
            Err(e) => (ToolCallStatus::Failed, e.to_string()),
        };
        self.end_call(call, status, text)
    }

    /// Records how a call ended and keeps its result for the next request.
    fn end_call(&mut self, call: Queued, status: ToolCallStatus, text: String) -> ToolCallView {
        if let Err(e) = lock(&self.vault)
            .and_then(|v| Ok(v.finish_tool_call(&call.record.id, status, &text)?))
        {
            tracing::warn!("could not save a tool call's result: {e}");
        }
        self.tools.results.push(hearth_providers::ToolResult {
            id: call.wire.id.clone(),
            name: call.wire.name.clone(),
            content: text.clone(),
            is_error: status != ToolCallStatus::Approved,
        });
        self.tools.calls.push(call.wire);
        let mut record = call.record;
        record.status = status;
        record.result = Some(text);
        ToolCallView::of(&record)
    }

    /// Sends this step's calls and results back and starts the next stream.
    async fn ask_again(&mut self) -> Result<()> {
        let text = self
            .content
            .get(self.tools.text_mark..)
            .unwrap_or_default()
            .to_owned();
        let reasoning = self
            .reasoning
            .get(self.tools.reasoning_mark..)
            .unwrap_or_default()
            .to_owned();
        let turns = &mut self.next_request.request.turns;
        turns.push(ChatTurn {
            role: ChatRole::Assistant,
            text,
            tool_calls: std::mem::take(&mut self.tools.calls),
            reasoning: (!reasoning.is_empty()).then_some(reasoning),
            ..Default::default()
        });
        turns.push(ChatTurn {
            role: ChatRole::User,
            tool_results: std::mem::take(&mut self.tools.results),
            ..Default::default()
        });
        self.tools.step += 1;
        self.tools.text_mark = self.content.len();
        self.tools.reasoning_mark = self.reasoning.len();
        let next = &self.next_request;
        let key = next.key.as_ref().map(|k| k.as_str());
        match start_chat(&next.http, &next.endpoint, key, &next.request, next.idle).await {
            Ok(stream) => {
                self.stream = Some(stream);
                Ok(())
            }
            Err(error) => {
                self.close(
                    MessageStatus::Error,
                    Some(StoredError::from_provider(&error)),
                );
                Err(EngineError::Provider {
                    error,
                    conversation_id: self.conversation_id.clone(),
                })
            }
        }
    }

    fn reasoning(&self) -> Option<&str> {
        (!self.reasoning.is_empty()).then_some(self.reasoning.as_str())
    }

    /// Saves the text so far and waits for it (before calls are recorded against it).
    fn save_now(&mut self) {
        if let Some(done) = self.saving.take() {
            let _ = done.recv();
        }
        self.last_saved = Instant::now();
        self.unsaved = false;
        let result = lock(&self.vault).and_then(|v| {
            Ok(v.update_streaming(&self.message_id, &self.content, self.reasoning())?)
        });
        if let Err(e) = result {
            tracing::warn!("could not save the streaming reply: {e}");
        }
    }

    /// Saves the text so far. On a Tokio runtime the write runs on the blocking pool, so
    /// a slow disk never delays the next delta; at most one save is in flight, and
    /// [`Reply::close`] waits for it before the final save, so an older text can never
    /// overwrite a newer one.
    fn save_progress(&mut self) {
        if let Some(done) = &self.saving {
            match done.try_recv() {
                Err(mpsc::TryRecvError::Empty) => return,
                _ => self.saving = None,
            }
        }
        self.last_saved = Instant::now();
        self.unsaved = false;
        let vault = self.vault.clone();
        let id = self.message_id.clone();
        let content = self.content.clone();
        let reasoning = self.reasoning().map(str::to_owned);
        let save = move || {
            let result = vault
                .lock()
                .map_err(|_| "vault lock poisoned".to_owned())
                .and_then(|v| {
                    v.update_streaming(&id, &content, reasoning.as_deref())
                        .map_err(|e| e.to_string())
                });
            // The final save will try again; the stream itself is not at fault.
            if let Err(e) = result {
                tracing::warn!("could not save the streaming reply: {e}");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let (tx, rx) = mpsc::channel();
                handle.spawn_blocking(move || {
                    save();
                    let _ = tx.send(());
                });
                self.saving = Some(rx);
            }
            Err(_) => save(),
        }
    }

    /// Saves the final text and how the reply ended. Runs once. Calls still waiting or
    /// running are recorded as cancelled.
    fn close(&mut self, status: MessageStatus, error: Option<StoredError>) {
        if !self.open {
            return;
        }
        self.open = false;
        self.stream = None;
        if let Some(done) = self.saving.take() {
            // A progress save is still writing: let it finish before the final one.
            let _ = done.recv();
        }
        let stored = error.map(|e| e.to_column());
        let to_i64 = |n: Option<u64>| n.and_then(|n| i64::try_from(n).ok());
        let result = self
            .vault
            .lock()
            .map_err(|_| "vault lock poisoned".to_owned())
            .and_then(|v| {
                v.update_streaming(&self.message_id, &self.content, self.reasoning())
                    .and_then(|()| v.cancel_pending_tool_calls(&self.message_id, CANCELLED_RESULT))
                    .and_then(|_| {
                        v.finish_message(
                            &self.message_id,
                            status,
                            stored.as_deref(),
                            to_i64(self.usage.input),
                            to_i64(self.usage.output),
                        )
                    })
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = result {
            // The message stays `streaming` and becomes `interrupted` at the next open.
            tracing::warn!("could not save the end of the reply: {e}");
        }
    }
}

/// What one pull from the stream gave.
enum Pulled {
    Event(Result<ReplyEvent>),
    Again,
    Ended,
}

/// The vault behind a reply, locked for one call.
fn lock(vault: &Mutex<Vault>) -> Result<std::sync::MutexGuard<'_, Vault>> {
    vault.lock().map_err(|_| {
        EngineError::Invalid("an earlier failure left the vault unusable; restart Hearth".into())
    })
}

/// The id a call without one is sent with (protocols other than Gemini need one to
/// match results to calls).
fn synthetic_call_id(record_id: &str) -> String {
    format!("call_{}", record_id.replace('-', ""))
}

impl Drop for Reply {
    /// Stopping a reply is dropping it: the connection closes with the stream, and the
    /// text that arrived is kept as `cancelled`.
    fn drop(&mut self) {
        self.close(MessageStatus::Cancelled, None);
    }
}

/// A reply whose request is still being sent; see [`Engine::start_reply`].
struct Pending {
    vault: Arc<Mutex<Vault>>,
    message_id: String,
    armed: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.armed {
            if let Ok(vault) = self.vault.lock() {
                if let Err(e) = vault.finish_message(
                    &self.message_id,
                    MessageStatus::Cancelled,
                    None,
                    None,
                    None,
                ) {
                    tracing::warn!("could not save the cancelled reply: {e}");
                }
            }
        }
    }
}

/// A title from the first message: its first line, cut at a word near 60 characters.
pub(crate) fn title_from(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() <= TITLE_CHARS {
        return line.to_owned();
    }
    let cut: String = line.chars().take(TITLE_CHARS).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > TITLE_CHARS / 2 => cut[..i].to_owned(),
        _ => cut,
    };
    format!("{}…", cut.trim_end())
}

/// Everything needed to call a provider, settled before anything is written.
pub(crate) struct Target {
    pub(crate) provider_id: String,
    pub(crate) model: String,
    pub(crate) endpoint: Endpoint,
    pub(crate) key: Option<Zeroizing<String>>,
}

impl Engine {
    /// Works out provider, model, endpoint and key, or says what to configure.
    pub(crate) fn target(&self, provider_id: Option<&str>, model: Option<&str>) -> Result<Target> {
        let provider_id = match provider_id {
            Some(p) => p.to_owned(),
            None => self
                .default_provider()?
                .ok_or(EngineError::NotConfigured(Missing::Provider))?,
        };
        let info = self.provider(&provider_id)?;
        let model = model
            .map(str::to_owned)
            .or(info.default_model.clone())
            .ok_or_else(|| EngineError::NotConfigured(Missing::Model(provider_id.clone())))?;
        let kind: ProviderKind = info
            .kind
            .parse()
            .map_err(|e: hearth_providers::UnknownKind| EngineError::Invalid(e.to_string()))?;
        let key = self
            .api_key(&provider_id)?
            .map(|bytes| Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()));
        let needs_key = builtin(&provider_id).is_some_and(|b| !b.local);
        if key.is_none() && needs_key {
            return Err(EngineError::NotConfigured(Missing::Key(provider_id)));
        }
        Ok(Target {
            endpoint: Endpoint {
                provider_id: provider_id.clone(),
                kind,
                base_url: info.base_url.clone(),
            },
            provider_id,
            model,
            key,
        })
    }

    /// Sends a message and starts the reply. The user's message is saved (durably)
    /// before the request leaves the machine.
    pub async fn send(&self, request: SendRequest) -> Result<Reply> {
        let text = request.text.trim_end().to_owned();
        if text.trim().is_empty() {
            return Err(EngineError::Invalid("the message is empty".into()));
        }
        crate::attachment::check_count(request.files.len())?;
        if let Some(settings) = &request.settings {
            settings.check()?;
        }
        let existing = match &request.conversation_id {
            Some(id) => Some(self.conversation(id)?),
            None => None,
        };
        // A new conversation in a project takes the project's provider and model.
        let project = match (&existing, &request.project_id) {
            (None, Some(id)) => Some(self.project(id)?),
            _ => None,
        };
        let (had_provider, had_model) = match (&existing, &project) {
            (Some(c), _) => (c.provider_id.clone(), c.model.clone()),
            (None, Some(p)) => (p.provider_id.clone(), p.model.clone()),
            (None, None) => (None, None),
        };
        let provider = request.provider_id.clone().or_else(|| had_provider.clone());
        // A model saved without a provider (a project's, say) is for the default one.
        let same_provider = match &had_provider {
            Some(_) => had_provider == provider,
            None => request.provider_id.is_none(),
        };
        let model = request
            .model
            .clone()
            .or_else(|| had_model.filter(|_| same_provider));
        let target = self.target(provider.as_deref(), model.as_deref())?;

        if let Some(servers) = &request.tools {
            let vault = self.vault()?;
            for s in servers {
                if vault.tool_server(s)?.is_none() {
                    return Err(EngineError::Invalid(format!(
                        "there is no tool server {s:?}; add it with `hearth tool add` or in Settings → Tools"
                    )));
                }
            }
        }
        let (conversation_id, parent) = {
            let mut vault = self.vault()?;
            let conversation = match existing {
                Some(c) => {
                    if c.provider_id.as_deref() != Some(&target.provider_id)
                        || c.model.as_deref() != Some(&target.model)
                    {
                        vault.set_conversation_model(&c.id, &target.provider_id, &target.model)?;
                    }
                    c
                }
                None => vault.create_conversation(NewConversation {
                    title: title_from(&text),
                    provider_id: Some(target.provider_id.clone()),
                    model: Some(target.model.clone()),
                    project_id: project.map(|p| p.id),
                    ..Default::default()
                })?,
            };
            if let Some(settings) = &request.settings {
                vault.set_conversation_params(&conversation.id, settings.to_json().as_deref())?;
            }
            if let Some(servers) = &request.tools {
                vault.set_conversation_tool_servers(&conversation.id, servers)?;
            }
            let files: Vec<_> = request
                .files
                .iter()
                .map(crate::attachment::PickedFile::as_new)
                .collect();
            let (user, _) = vault.append_message_with(
                NewMessage::complete(
                    &conversation.id,
                    conversation.head_message_id.as_deref(),
                    Role::User,
                    text,
                ),
                &files,
            )?;
            (conversation.id, user.id)
        };
        // The request sends the new message's files from the bytes in hand (shared, not
        // copied); earlier turns' are read back from the vault.
        let fresh: Vec<_> = request
            .files
            .iter()
            .map(crate::attachment::PickedFile::to_turn_file)
            .collect();
        drop(request.files);
        self.start_reply(
            &conversation_id,
            &parent,
            target,
            Some(fresh),
            request.allow,
        )
        .await
    }

    /// Asks again for the reply to the user message that `message_id` answers: a new
    /// sibling reply, which becomes the visible one.
    pub async fn regenerate(&self, message_id: &str) -> Result<Reply> {
        let (conversation, parent) = {
            let vault = self.vault()?;
            let message = vault.message(message_id)?;
            let parent = match message.role {
                Role::Assistant => message.parent_id.clone().ok_or_else(|| {
                    EngineError::Invalid("this reply has no message it answers".into())
                })?,
                // Regenerating from a user message means: answer it again.
                _ => message.id.clone(),
            };
            (vault.conversation(&message.conversation_id)?, parent)
        };
        let target = self.target(
            conversation.provider_id.as_deref(),
            conversation.model.as_deref(),
        )?;
        self.start_reply(&conversation.id, &parent, target, None, Vec::new())
            .await
    }

    /// Edits a user message: the new text becomes a sibling of the old one (the old one
    /// is kept in the tree), is saved, and gets a reply. Only the edited branch is sent.
    pub async fn edit(&self, message_id: &str, text: &str) -> Result<Reply> {
        let text = text.trim_end();
        if text.trim().is_empty() {
            return Err(EngineError::Invalid("the message is empty".into()));
        }
        let (conversation, original) = {
            let vault = self.vault()?;
            let message = vault.message(message_id)?;
            if message.role != Role::User {
                return Err(EngineError::Invalid(
                    "only your own messages can be edited".into(),
                ));
            }
            (vault.conversation(&message.conversation_id)?, message)
        };
        let target = self.target(
            conversation.provider_id.as_deref(),
            conversation.model.as_deref(),
        )?;
        // The edited question keeps the files the original had.
        let user = self.vault()?.append_message_like(
            NewMessage::complete(
                &conversation.id,
                original.parent_id.as_deref(),
                Role::User,
                text,
            ),
            &original.id,
        )?;
        self.start_reply(&conversation.id, &user.id, target, None, Vec::new())
            .await
    }

    /// Creates the streaming reply under `parent` and opens the provider's stream.
    /// `fresh` holds the files of `parent` (the message just saved) when they are at
    /// hand, so they need not be read back.
    async fn start_reply(
        &self,
        conversation_id: &str,
        parent: &str,
        target: Target,
        fresh: Option<Vec<hearth_providers::TurnFile>>,
        allow: Vec<ToolAllow>,
    ) -> Result<Reply> {
        // Everything that can fail without the network comes before the reply is created.
        let http = self.http()?.clone();
        let lock_path = self.vault()?.paths().streams_lock();
        let live = stream_lock::hold(&lock_path).map_err(|e| {
            EngineError::Invalid(format!("cannot use {}: {e}", lock_path.display()))
        })?;
        // The servers the conversation offers start now (a server that will not start
        // is an error before anything is sent), and list their tools.
        let set = self.offered_tools(conversation_id).await?;
        let mut configs = std::collections::HashMap::new();
        for (server, _) in set.by_wire.values() {
            if !configs.contains_key(server) {
                configs.insert(server.clone(), self.server_config(server)?);
            }
        }
        let (request, message_id) = {
            let mut vault = self.vault()?;
            let conversation = vault.conversation(conversation_id)?;
            let context = crate::projects::context_of(&vault, &conversation)?;
            let history = vault.path_to(parent)?;
            let mut files = history_files(&vault, &history, fresh.map(|f| (parent, f)))?;
            // The project's files go with the first question, before its own.
            if let Some(first) = history.iter().find(|m| m.role == Role::User) {
                if !context.files.is_empty() {
                    let own = files.remove(&first.id).unwrap_or_default();
                    let mut all = context.files;
                    all.extend(own);
                    files.insert(first.id.clone(), all);
                }
            }
            let calls = history_calls(&vault, &history)?;
            let shape = CallShape {
                native: !set.specs.is_empty(),
                ids: target.endpoint.kind != ProviderKind::Gemini,
            };
            let turns = request_turns(&history, files, calls, shape);
            let mut reply =
                NewMessage::complete(conversation_id, Some(parent), Role::Assistant, "");
            reply.status = MessageStatus::Streaming;
            reply.provider_id = Some(target.provider_id.clone());
            reply.model = Some(target.model.clone());
            let message = vault.append_message(reply)?;
            (
                ChatRequest {
                    model: target.model.clone(),
                    system: context.system,
                    turns,
                    max_tokens: context.settings.max_tokens,
                    temperature: context.settings.temperature,
                    tools: set.specs.clone(),
                    reasoning: context.settings.reasoning,
                },
                message.id,
            )
        };
        // If the caller gives up while the request is on its way (drops this future),
        // the reply is saved as cancelled rather than left streaming.
        let mut pending = Pending {
            vault: self.vault.clone(),
            message_id: message_id.clone(),
            armed: true,
        };
        let key = target.key.as_ref().map(|k| k.as_str());
        let started = start_chat(&http, &target.endpoint, key, &request, self.idle_timeout).await;
        pending.armed = false;
        match started {
            Ok(stream) => Ok(Reply {
                vault: self.vault.clone(),
                stream: Some(stream),
                next_request: NextRequest {
                    http,
                    endpoint: target.endpoint,
                    key: target.key,
                    request,
                    idle: self.idle_timeout,
                },
                tools: ReplyTools {
                    set,
                    host: self.tool_host(),
                    configs,
                    allow,
                    asked: Vec::new(),
                    queue: Default::default(),
                    awaiting: None,
                    decision: None,
                    running: None,
                    calls: Vec::new(),
                    results: Vec::new(),
                    step: 0,
                    text_mark: 0,
                    reasoning_mark: 0,
                },
                conversation_id: conversation_id.to_owned(),
                user_message_id: parent.to_owned(),
                message_id,
                content: String::new(),
                reasoning: String::new(),
                usage: Usage::default(),
                last_saved: Instant::now(),
                unsaved: false,
                saving: None,
                open: true,
                _live: live,
            }),
            Err(error) => {
                let stored = StoredError::from_provider(&error).to_column();
                self.vault()?.finish_message(
                    &message_id,
                    MessageStatus::Error,
                    Some(&stored),
                    None,
                    None,
                )?;
                Err(EngineError::Provider {
                    error,
                    conversation_id: conversation_id.to_owned(),
                })
            }
        }
    }

    /// Asks a provider which models it offers.
    pub async fn list_models(&self, provider_id: &str) -> Result<Vec<hearth_providers::ModelInfo>> {
        let info = self.provider(provider_id)?;
        let kind: ProviderKind = info
            .kind
            .parse()
            .map_err(|e: hearth_providers::UnknownKind| EngineError::Invalid(e.to_string()))?;
        let key = self
            .api_key(provider_id)?
            .map(|bytes| Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()));
        let endpoint = Endpoint {
            provider_id: provider_id.to_owned(),
            kind,
            base_url: info.base_url,
        };
        let http = self.http()?;
        Ok(hearth_providers::list_models(
            http,
            &endpoint,
            key.as_ref().map(|k| k.as_str()),
            self.idle_timeout,
        )
        .await?)
    }
}

/// How a request carries the tool calls of earlier replies.
#[derive(Debug, Clone, Copy)]
struct CallShape {
    /// In the protocol's own form (tools are offered); otherwise as text, since some
    /// providers refuse calls in a request that offers no tools.
    native: bool,
    /// Every call needs an id (all but Gemini): calls stored without one get Hearth's.
    ids: bool,
}

/// The longest a past tool result may be when it goes back as text.
const MAX_FLAT_RESULT_CHARS: usize = 2000;

/// The turns a request carries for a branch: user messages and the model's answers.
///
/// An empty reply, and a refusal, are not part of what the model said: a refused turn
/// sent back is what the provider asks clients not to do. Turns left next to each other
/// with the same role (a refusal dropped between two questions, or an imported history
/// that split one turn in two) are joined into one, so every protocol gets strictly
/// alternating turns.
///
/// A reply that used tools becomes its steps: for each round, the text that came before
/// its calls and the calls, then a user turn with their results; then the text after.
fn request_turns(
    history: &[hearth_vault::Message],
    mut files: std::collections::HashMap<String, Vec<hearth_providers::TurnFile>>,
    mut calls: std::collections::HashMap<String, Vec<hearth_vault::ToolCall>>,
    shape: CallShape,
) -> Vec<ChatTurn> {
    let mut turns: Vec<ChatTurn> = Vec::with_capacity(history.len());
    let mut push = |turn: ChatTurn| match turns.last_mut() {
        Some(last) if last.role == turn.role && last.tool_calls.is_empty() => {
            if !turn.text.is_empty() {
                if !last.text.is_empty() {
                    last.text.push_str("\n\n");
                }
                last.text.push_str(&turn.text);
            }
            last.files.extend(turn.files);
            last.tool_calls.extend(turn.tool_calls);
            last.tool_results.extend(turn.tool_results);
            if turn.reasoning.is_some() {
                last.reasoning = turn.reasoning;
            }
        }
        _ => turns.push(turn),
    };
    for m in history {
        let attached = files.remove(&m.id).unwrap_or_default();
        let role = match m.role {
            Role::User => ChatRole::User,
            Role::Assistant => ChatRole::Assistant,
            Role::System => continue,
        };
        let made = calls.remove(&m.id).unwrap_or_default();
        if role == ChatRole::Assistant && made.is_empty() && (m.content.is_empty() || is_refusal(m))
        {
            continue;
        }
        if made.is_empty() {
            push(ChatTurn {
                role,
                text: m.content.clone(),
                files: attached,
                ..Default::default()
            });
            continue;
        }
        for turn in reply_steps(m, &made, shape) {
            push(turn);
        }
    }
    turns
}

/// A reply with tool calls as the turns of its steps.
fn reply_steps(
    m: &hearth_vault::Message,
    made: &[hearth_vault::ToolCall],
    shape: CallShape,
) -> Vec<ChatTurn> {
    let slice = |text: &str, from: usize, to: usize| -> String {
        let to = to.min(text.len());
        let from = from.min(to);
        text.get(from..to).unwrap_or_default().to_owned()
    };
    let reasoning = m.reasoning.as_deref().unwrap_or_default();
    let mut out = Vec::new();
    let (mut text_at, mut reasoning_at) = (0usize, 0usize);
    let mut steps: Vec<Vec<&hearth_vault::ToolCall>> = Vec::new();
    for call in made {
        match steps.last_mut() {
            Some(step) if step[0].step == call.step => step.push(call),
            _ => steps.push(vec![call]),
        }
    }
    for step in steps {
        let text_end = usize::try_from(step[0].text_offset).unwrap_or(0);
        let reasoning_end = usize::try_from(step[0].reasoning_offset).unwrap_or(0);
        let text = slice(&m.content, text_at, text_end);
        let step_reasoning = slice(reasoning, reasoning_at, reasoning_end);
        (text_at, reasoning_at) = (text_end.max(text_at), reasoning_end.max(reasoning_at));
        let id = |c: &hearth_vault::ToolCall| {
            if c.call_id.is_empty() && shape.ids {
                synthetic_call_id(&c.id)
            } else {
                c.call_id.clone()
            }
        };
        let result = |c: &hearth_vault::ToolCall| {
            c.result
                .clone()
                .unwrap_or_else(|| CANCELLED_RESULT.to_owned())
        };
        if shape.native {
            out.push(ChatTurn {
                role: ChatRole::Assistant,
                text,
                tool_calls: step
                    .iter()
                    .map(|c| hearth_providers::ToolCall {
                        id: id(c),
                        name: crate::tools::wire_name(&c.server, &c.tool),
                        arguments: c.arguments.clone(),
                        signature: c.signature.clone(),
                    })
                    .collect(),
                reasoning: (!step_reasoning.is_empty()).then_some(step_reasoning),
                ..Default::default()
            });
            out.push(ChatTurn {
                role: ChatRole::User,
                tool_results: step
                    .iter()
                    .map(|c| hearth_providers::ToolResult {
                        id: id(c),
                        name: crate::tools::wire_name(&c.server, &c.tool),
                        content: result(c),
                        is_error: c.status != ToolCallStatus::Approved,
                    })
                    .collect(),
                ..Default::default()
            });
        } else {
            let mut flat = text;
            for c in &step {
                let mut said: String = result(c).chars().take(MAX_FLAT_RESULT_CHARS).collect();
                if said.len() < result(c).len() {
                    said.push('…');
                }
                if !flat.is_empty() {
                    flat.push_str("\n\n");
                }
                flat.push_str(&format!(
                    "[Tool call {}/{} with {} ({}): {said}]",
                    c.server, c.tool, c.arguments, c.status
                ));
            }
            out.push(ChatTurn {
                role: ChatRole::Assistant,
                text: flat,
                ..Default::default()
            });
        }
    }
    let rest = slice(&m.content, text_at, m.content.len());
    if !rest.is_empty() {
        out.push(ChatTurn {
            role: ChatRole::Assistant,
            text: rest,
            ..Default::default()
        });
    }
    out
}

/// The tool calls of the replies in `history`, by message id.
fn history_calls(
    vault: &Vault,
    history: &[hearth_vault::Message],
) -> Result<std::collections::HashMap<String, Vec<hearth_vault::ToolCall>>> {
    let mut out = std::collections::HashMap::new();
    for m in history.iter().filter(|m| m.role == Role::Assistant) {
        let calls = vault.tool_calls_of(&m.id)?;
        if !calls.is_empty() {
            out.insert(m.id.clone(), calls);
        }
    }
    Ok(out)
}

/// The files attached to the user's messages of `history`, by message id, read from the
/// vault (and checked against their SHA-256) to send again with every request.
fn history_files(
    vault: &Vault,
    history: &[hearth_vault::Message],
    known: Option<(&str, Vec<hearth_providers::TurnFile>)>,
) -> Result<std::collections::HashMap<String, Vec<hearth_providers::TurnFile>>> {
    let mut files = std::collections::HashMap::new();
    let known_id = known.as_ref().map(|(id, _)| *id);
    if let Some((id, known)) = known.filter(|(_, f)| !f.is_empty()) {
        files.insert(id.to_owned(), known);
    }
    for m in history
        .iter()
        .filter(|m| m.role == Role::User && Some(m.id.as_str()) != known_id)
    {
        let attached = vault.attachments_of(&m.id)?;
        if attached.is_empty() {
            continue;
        }
        let mut turn_files = Vec::with_capacity(attached.len());
        for a in attached {
            let kind = crate::attachment::kind_of(&a.media_type).ok_or_else(|| {
                EngineError::Invalid(format!(
                    "{} is kept as {}, which Hearth cannot send; remove it from the conversation",
                    a.name, a.media_type
                ))
            })?;
            let mut bytes = Vec::with_capacity(usize::try_from(a.size).unwrap_or(0));
            vault.read_attachment(&a.id, &mut |chunk| {
                bytes.extend_from_slice(chunk);
                Ok(())
            })?;
            turn_files.push(hearth_providers::TurnFile {
                name: a.name,
                media_type: a.media_type,
                kind: crate::attachment::file_kind(kind),
                bytes: bytes.into(),
            });
        }
        files.insert(m.id.clone(), turn_files);
    }
    Ok(files)
}

/// Whether a stored reply is a refusal.
fn is_refusal(m: &hearth_vault::Message) -> bool {
    m.error
        .as_deref()
        .and_then(|e| serde_json::from_str::<StoredError>(e).ok())
        .is_some_and(|e| e.kind == StoredError::REFUSED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_stored_as_its_own_kind() {
        let stored = StoredError::from_provider(&ProviderError::Refused {
            explanation: Some("cyber".into()),
        });
        assert_eq!(stored.kind, StoredError::REFUSED);
        assert_eq!(stored.message, "the model refused to answer (cyber)");
        let column = stored.to_column();
        assert_eq!(
            serde_json::from_str::<StoredError>(&column).unwrap(),
            stored
        );
    }

    fn message(role: Role, content: &str, error: Option<&ProviderError>) -> hearth_vault::Message {
        hearth_vault::Message {
            id: String::new(),
            conversation_id: String::new(),
            parent_id: None,
            role,
            content: content.into(),
            reasoning: None,
            status: if error.is_some() {
                MessageStatus::Error
            } else {
                MessageStatus::Complete
            },
            error: error.map(|e| StoredError::from_provider(e).to_column()),
            provider_id: None,
            model: None,
            tokens_in: None,
            tokens_out: None,
            created_at: 0,
            finished_at: None,
        }
    }

    #[test]
    fn requests_leave_out_refusals_and_empty_replies_and_alternate_roles() {
        let refused = ProviderError::Refused { explanation: None };
        let history = [
            message(Role::System, "ignored here", None),
            message(Role::User, "first", None),
            message(Role::Assistant, "I can't help with that.", Some(&refused)),
            message(Role::User, "second", None),
            message(Role::Assistant, "", Some(&ProviderError::Truncated)),
            message(
                Role::Assistant,
                "a partial answer",
                Some(&ProviderError::Truncated),
            ),
            message(Role::Assistant, "and its continuation", None),
            message(Role::User, "third", None),
        ];
        let turns = request_turns(
            &history,
            Default::default(),
            Default::default(),
            CallShape {
                native: true,
                ids: true,
            },
        );
        let got: Vec<(ChatRole, &str)> = turns.iter().map(|t| (t.role, t.text.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (ChatRole::User, "first\n\nsecond"),
                (
                    ChatRole::Assistant,
                    "a partial answer\n\nand its continuation"
                ),
                (ChatRole::User, "third"),
            ]
        );
    }

    #[test]
    fn titles_come_from_the_first_line() {
        assert_eq!(title_from("\n  Hello there  \nsecond line"), "Hello there");
        let long = "word ".repeat(30);
        let t = title_from(&long);
        assert!(
            t.ends_with('…') && t.chars().count() <= TITLE_CHARS + 1,
            "{t}"
        );
        assert_eq!(
            title_from(&"x".repeat(100)).chars().count(),
            TITLE_CHARS + 1
        );
    }
}
