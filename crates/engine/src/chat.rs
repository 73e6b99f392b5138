//! The chat pipeline: the user's message is saved before anything leaves the machine, the
//! reply is saved as it streams, and however the reply ends (done, stopped, failed, or the
//! app killed) what had arrived is kept.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use hearth_providers::{
    builtin, start_chat, ChatRequest, ChatRole, ChatStream, ChatTurn, Endpoint, ProviderError,
    ProviderKind, StreamEvent, Usage,
};
use hearth_vault::{MessageStatus, NewConversation, NewMessage, Role, Vault};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

use crate::error::{EngineError, Missing, Result};
use crate::stream_lock::{self, LiveStream};
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
}

/// A piece of a reply, as a front end shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyEvent {
    /// More answer text.
    Text(String),
    /// More reasoning text.
    Reasoning(String),
}

/// How a failed reply's error is stored in the message's `error` column.
///
/// A refused reply is stored as status `error` with kind `refused`; the refusal text the
/// model gave is the message's content, so it is shown and searchable like any reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredError {
    /// Stable kind: one of [`ProviderError::KINDS`] (`auth`, `rate_limited`, `timeout`,
    /// `refused`, `tool_calls_only`, `too_large`, …), never text from the provider.
    pub kind: String,
    /// What to tell the user. Provider text in it is scrubbed of keys and capped.
    pub message: String,
}

impl StoredError {
    /// The kind of a reply the model refused to give.
    pub const REFUSED: &'static str = "refused";

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

/// A reply on its way in. Pull pieces with [`Reply::next`]. Dropping it before the end
/// cancels the request (the connection is closed) and keeps the partial text as
/// `cancelled`.
pub struct Reply {
    vault: Arc<Mutex<Vault>>,
    stream: ChatStream,
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

    /// The next piece; `None` when the reply is complete (and saved as such). An error
    /// ends the reply: it is saved as `error` with its kind and message, text kept. A
    /// refusal is such an error ([`ProviderError::Refused`], kind `refused`): its text
    /// has arrived as [`ReplyEvent::Text`] and is the saved content.
    pub async fn next(&mut self) -> Option<Result<ReplyEvent>> {
        loop {
            if !self.open {
                return None;
            }
            // Text that arrived just before the provider went quiet is saved on time too,
            // not only when the next delta comes.
            let next = if self.unsaved {
                let due = tokio::time::Instant::from_std(self.last_saved + PERSIST_INTERVAL);
                match tokio::time::timeout_at(due, self.stream.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        self.save_progress();
                        continue;
                    }
                }
            } else {
                self.stream.next().await
            };
            let event = match next {
                None => {
                    self.close(MessageStatus::Complete, None);
                    return None;
                }
                Some(Err(error)) => {
                    self.close(MessageStatus::Error, Some(&error));
                    return Some(Err(EngineError::Provider {
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
                    continue;
                }
            };
            self.unsaved = true;
            if self.last_saved.elapsed() >= PERSIST_INTERVAL {
                self.save_progress();
            }
            return Some(Ok(out));
        }
    }

    fn reasoning(&self) -> Option<&str> {
        (!self.reasoning.is_empty()).then_some(self.reasoning.as_str())
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

    /// Saves the final text and how the reply ended. Runs once.
    fn close(&mut self, status: MessageStatus, error: Option<&ProviderError>) {
        if !self.open {
            return;
        }
        self.open = false;
        if let Some(done) = self.saving.take() {
            // A progress save is still writing: let it finish before the final one.
            let _ = done.recv();
        }
        let stored = error.map(|e| StoredError::from_provider(e).to_column());
        let to_i64 = |n: Option<u64>| n.and_then(|n| i64::try_from(n).ok());
        let result = self
            .vault
            .lock()
            .map_err(|_| "vault lock poisoned".to_owned())
            .and_then(|v| {
                v.update_streaming(&self.message_id, &self.content, self.reasoning())
                    .and_then(|()| {
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
        let existing = match &request.conversation_id {
            Some(id) => Some(self.conversation(id)?),
            None => None,
        };
        let provider = request
            .provider_id
            .clone()
            .or_else(|| existing.as_ref().and_then(|c| c.provider_id.clone()));
        let same_provider = existing.as_ref().is_some_and(|c| c.provider_id == provider);
        let model = request.model.clone().or_else(|| {
            existing
                .as_ref()
                .filter(|_| same_provider)
                .and_then(|c| c.model.clone())
        });
        let target = self.target(provider.as_deref(), model.as_deref())?;

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
                    ..Default::default()
                })?,
            };
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
        self.start_reply(&conversation_id, &parent, target, Some(fresh))
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
        self.start_reply(&conversation.id, &parent, target, None)
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
        self.start_reply(&conversation.id, &user.id, target, None)
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
    ) -> Result<Reply> {
        // Everything that can fail without the network comes before the reply is created.
        let http = self.http()?;
        let lock_path = self.vault()?.paths().streams_lock();
        let live = stream_lock::hold(&lock_path).map_err(|e| {
            EngineError::Invalid(format!("cannot use {}: {e}", lock_path.display()))
        })?;
        let (request, message_id) = {
            let mut vault = self.vault()?;
            let conversation = vault.conversation(conversation_id)?;
            let history = vault.path_to(parent)?;
            let files = history_files(&vault, &history, fresh.map(|f| (parent, f)))?;
            let turns = request_turns(&history, files);
            let mut reply =
                NewMessage::complete(conversation_id, Some(parent), Role::Assistant, "");
            reply.status = MessageStatus::Streaming;
            reply.provider_id = Some(target.provider_id.clone());
            reply.model = Some(target.model.clone());
            let message = vault.append_message(reply)?;
            (
                ChatRequest {
                    model: target.model.clone(),
                    system: conversation.system_prompt.clone(),
                    turns,
                    max_tokens: None,
                    temperature: None,
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
        let started = start_chat(http, &target.endpoint, key, &request, self.idle_timeout).await;
        pending.armed = false;
        match started {
            Ok(stream) => Ok(Reply {
                vault: self.vault.clone(),
                stream,
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

/// The turns a request carries for a branch: user messages and the model's answers.
///
/// An empty reply, and a refusal, are not part of what the model said: a refused turn
/// sent back is what the provider asks clients not to do. Turns left next to each other
/// with the same role (a refusal dropped between two questions, or an imported history
/// that split one turn in two) are joined into one, so every protocol gets strictly
/// alternating turns.
fn request_turns(
    history: &[hearth_vault::Message],
    mut files: std::collections::HashMap<String, Vec<hearth_providers::TurnFile>>,
) -> Vec<ChatTurn> {
    let mut turns: Vec<ChatTurn> = Vec::with_capacity(history.len());
    for m in history {
        let attached = files.remove(&m.id).unwrap_or_default();
        let role = match m.role {
            Role::User => ChatRole::User,
            Role::Assistant => ChatRole::Assistant,
            Role::System => continue,
        };
        if role == ChatRole::Assistant && (m.content.is_empty() || is_refusal(m)) {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == role => {
                last.text.push_str("\n\n");
                last.text.push_str(&m.content);
                last.files.extend(attached);
            }
            _ => turns.push(ChatTurn {
                role,
                text: m.content.clone(),
                files: attached,
            }),
        }
    }
    turns
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
        let turns = request_turns(&history, Default::default());
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
