//! Temporary chats: a conversation that lives only in the front end's memory. The engine
//! reads the provider's settings and key from the vault, sends the turns it is given and
//! streams the answer back; it writes nothing, so when the front end forgets the turns
//! (the window closes, the chat is closed) nothing of them is left on disk.

use hearth_providers::{
    start_chat, ChatRequest, ChatRole, ChatStream, ChatTurn, StreamEvent, Usage,
};

use crate::chat::ReplyEvent;
use crate::error::{EngineError, Result};
use crate::Engine;

/// One earlier turn of a temporary chat, as the front end remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporaryTurn {
    /// `true` for the user's turns, `false` for the model's.
    pub from_user: bool,
    /// What was said.
    pub text: String,
    /// Files the user sent with it (held by the front end, never saved).
    pub files: Vec<crate::attachment::PickedFile>,
}

/// A temporary chat's reply on its way in. Dropping it closes the connection.
pub struct TemporaryReply {
    stream: ChatStream,
    provider_id: String,
    model: String,
    usage: Usage,
}

impl std::fmt::Debug for TemporaryReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporaryReply")
            .field("provider_id", &self.provider_id)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl TemporaryReply {
    /// The provider answering.
    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    /// The model answering.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Token usage as last reported.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The next piece; `None` when the reply is complete.
    pub async fn next(&mut self) -> Option<Result<ReplyEvent>> {
        loop {
            return match self.stream.next().await? {
                Err(error) => Some(Err(EngineError::Setup(error))),
                Ok(StreamEvent::Text(t)) => Some(Ok(ReplyEvent::Text(t))),
                Ok(StreamEvent::Reasoning(r)) => Some(Ok(ReplyEvent::Reasoning(r))),
                Ok(StreamEvent::Usage(u)) => {
                    self.usage = u;
                    continue;
                }
                // A temporary chat offers no tools, so the stream delivers no calls.
                Ok(StreamEvent::ToolCall(_)) => continue,
            };
        }
    }
}

impl Engine {
    /// Sends a temporary chat's turns (the last one the user's new message) and starts
    /// the reply. Nothing is written to the vault.
    pub async fn send_temporary(
        &self,
        turns: &[TemporaryTurn],
        system_prompt: Option<&str>,
        provider_id: Option<&str>,
        model: Option<&str>,
    ) -> Result<TemporaryReply> {
        self.send_temporary_with(
            turns,
            system_prompt,
            provider_id,
            model,
            crate::ModelSettings::default(),
        )
        .await
    }

    /// [`Engine::send_temporary`] with model settings (kept by the front end, like the
    /// turns).
    pub async fn send_temporary_with(
        &self,
        turns: &[TemporaryTurn],
        system_prompt: Option<&str>,
        provider_id: Option<&str>,
        model: Option<&str>,
        settings: crate::ModelSettings,
    ) -> Result<TemporaryReply> {
        settings.check()?;
        match turns.last() {
            Some(last) if last.from_user && !last.text.trim().is_empty() => {}
            _ => return Err(EngineError::Invalid("the message is empty".into())),
        }
        for turn in turns {
            crate::attachment::check_count(turn.files.len())?;
        }
        let target = self.target(provider_id, model)?;
        let request = ChatRequest {
            model: target.model.clone(),
            system: system_prompt
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
            turns: turns
                .iter()
                .filter(|t| t.from_user || !t.text.is_empty())
                .map(|t| ChatTurn {
                    role: if t.from_user {
                        ChatRole::User
                    } else {
                        ChatRole::Assistant
                    },
                    text: t.text.clone(),
                    files: if t.from_user {
                        t.files
                            .iter()
                            .map(crate::attachment::PickedFile::to_turn_file)
                            .collect()
                    } else {
                        Vec::new()
                    },
                    ..Default::default()
                })
                .collect(),
            max_tokens: settings.max_tokens,
            temperature: settings.temperature,
            tools: Vec::new(),
            reasoning: settings.reasoning,
        };
        let http = self.http()?;
        let key = target.key.as_ref().map(|k| k.as_str());
        let stream = start_chat(http, &target.endpoint, key, &request, self.idle_timeout)
            .await
            .map_err(EngineError::Setup)?;
        Ok(TemporaryReply {
            stream,
            provider_id: target.provider_id,
            model: target.model,
            usage: Usage::default(),
        })
    }
}
