//! A streamed chat reply: the request, the events, and the stream that yields them.

use std::collections::VecDeque;
use std::time::Duration;

use reqwest::header::HeaderMap;
use zeroize::Zeroizing;

use crate::error::{scrub, ProviderError};
use crate::http::{classify_status, network_error, Http};
use crate::sse::{SseDecoder, SseError, SseEvent, SseItem, MAX_EVENT_BYTES, MAX_LINE_BYTES};
use crate::tools::{ToolCall, ToolResult, ToolSpec};
use crate::{anthropic, gemini, openai, ProviderKind};

/// Who said a turn of the conversation sent to the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ChatRole {
    /// The user.
    #[default]
    User,
    /// The model.
    Assistant,
}

/// One turn of history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatTurn {
    /// Who said it.
    pub role: ChatRole,
    /// What was said.
    pub text: String,
    /// Files the user attached to the turn, sent before its text in each protocol's own
    /// form. Files on a model's turn are not sent: no protocol takes them there.
    pub files: Vec<crate::TurnFile>,
    /// On a model's turn: the tools it called after its text.
    pub tool_calls: Vec<ToolCall>,
    /// On a user's turn: the results of the calls the model's turn before made, sent
    /// before the turn's files and text.
    pub tool_results: Vec<ToolResult>,
    /// On a model's turn with tool calls: its reasoning, for the providers that must
    /// have it back (DeepSeek's thinking mode).
    pub reasoning: Option<String>,
}

/// What to send: the model, the system prompt, and the conversation so far (oldest
/// first, ending with the user's new message).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Model id as the provider names it.
    pub model: String,
    /// System prompt, sent the way each protocol wants it.
    pub system: Option<String>,
    /// The turns.
    pub turns: Vec<ChatTurn>,
    /// Reply length limit; Anthropic requires one, so it gets [`DEFAULT_MAX_TOKENS`].
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Tools the model may call. With none, no protocol is told of tools, and a reply
    /// made only of tool calls is [`ProviderError::ToolCallsOnly`].
    pub tools: Vec<ToolSpec>,
    /// How hard a reasoning model should think, sent in each protocol's own field
    /// (OpenAI's `reasoning_effort`, Anthropic's thinking budget, Gemini's
    /// `thinkingBudget`); `None` sends nothing and the model decides.
    pub reasoning: Option<Reasoning>,
}

/// An `f32` as the decimal the user wrote: widening 0.9f32 to `f64` would send
/// 0.8999999761581421.
pub(crate) fn wire_number(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

/// How much a reasoning model should think before it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reasoning {
    /// A little.
    Low,
    /// The usual amount.
    Medium,
    /// As much as it takes.
    High,
}

impl Reasoning {
    /// The name on the wire and in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Reasoning::Low => "low",
            Reasoning::Medium => "medium",
            Reasoning::High => "high",
        }
    }

    /// The thinking budget in tokens for protocols that take a number (Anthropic,
    /// Gemini).
    pub fn budget_tokens(self) -> u32 {
        match self {
            Reasoning::Low => 2_048,
            Reasoning::Medium => 8_192,
            Reasoning::High => 24_576,
        }
    }
}

#[cfg(test)]
mod wire_number_tests {
    #[test]
    fn a_temperature_goes_on_the_wire_as_written() {
        for (t, text) in [(0.9f32, "0.9"), (0.25, "0.25"), (1.0, "1.0"), (0.7, "0.7")] {
            assert_eq!(serde_json::json!(super::wire_number(t)).to_string(), text);
        }
    }
}

impl std::str::FromStr for Reasoning {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Reasoning::Low),
            "medium" => Ok(Reasoning::Medium),
            "high" => Ok(Reasoning::High),
            other => Err(format!(
                "{other:?} is not a reasoning effort: use low, medium or high"
            )),
        }
    }
}

/// The reply length limit sent to Anthropic when the user set none (it is required there).
pub const DEFAULT_MAX_TOKENS: u32 = 8192;

/// Where and how to reach one provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Provider id (decides per-provider touches such as OpenRouter's attribution).
    pub provider_id: String,
    /// Wire protocol.
    pub kind: ProviderKind,
    /// Base URL including the version segment, without a trailing slash.
    pub base_url: String,
}

/// Token counts as reported by the provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub input: Option<u64>,
    /// Reply tokens.
    pub output: Option<u64>,
}

/// One piece of a streamed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// More answer text.
    Text(String),
    /// More reasoning ("thinking") text, kept apart from the answer.
    Reasoning(String),
    /// Token usage so far (the latest report wins).
    Usage(Usage),
    /// A tool call, whole (its streamed pieces joined). Only when tools were offered.
    ToolCall(ToolCall),
}

/// The per-protocol part of reading a stream: events in, reply pieces out.
pub(crate) trait StreamParser: Send {
    /// Handles one decoded SSE event.
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError>;
    /// Whether the protocol's end marker has been seen.
    fn finished(&self) -> bool;
    /// Delivers anything held back, at the end of the stream.
    fn flush(&mut self, _out: &mut Vec<StreamEvent>) {}
    /// Whether the reply counts as complete if the stream ends now.
    fn complete_at_eof(&self) -> bool {
        self.finished()
    }
    /// The refusal, if the provider said the model declined to answer. Asked once, when
    /// the stream has ended complete: the refusal text (if any) was delivered as text.
    fn refusal(&mut self) -> Option<ProviderError> {
        None
    }
    /// Whether the reply carried a tool call.
    fn saw_tool_call(&self) -> bool {
        false
    }
}

/// The typed error for a decoder limit.
fn too_large(error: SseError) -> ProviderError {
    match error {
        SseError::LineTooLong(_) => ProviderError::TooLarge {
            what: "a stream line",
            limit: MAX_LINE_BYTES,
        },
        SseError::EventTooLarge(_) => ProviderError::TooLarge {
            what: "a stream event",
            limit: MAX_EVENT_BYTES,
        },
    }
}

/// An event's data as JSON, or `None` when it carries nothing (pings, keep-alives).
pub(crate) fn event_json(event: &SseEvent) -> Result<Option<serde_json::Value>, ProviderError> {
    let data = event.data.trim();
    if data.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(data)
        .map(Some)
        .map_err(|e| ProviderError::Malformed {
            message: format!("an event is not JSON: {e}"),
        })
}

/// The idle limit used when the caller sets none: generous, because reasoning models can
/// be silent for minutes, and providers that wait send keep-alives that reset it.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// A reply arriving from a provider. Dropping it closes the connection, which is how a
/// reply is cancelled.
pub struct ChatStream {
    response: reqwest::Response,
    decoder: SseDecoder,
    parser: Box<dyn StreamParser>,
    pending: VecDeque<Result<StreamEvent, ProviderError>>,
    items: Vec<SseItem>,
    idle: Duration,
    key: Option<Zeroizing<String>>,
    ended: bool,
    /// Some answer text has been delivered.
    text_seen: bool,
    /// The request offered tools, so calls are delivered.
    tools_offered: bool,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// Sends `request` to `endpoint` and returns the reply stream once the provider has
/// accepted it (status 2xx and an event stream); errors before that are typed.
pub async fn start_chat(
    http: &Http,
    endpoint: &Endpoint,
    key: Option<&str>,
    request: &ChatRequest,
    idle: Duration,
) -> Result<ChatStream, ProviderError> {
    let (builder, parser): (_, Box<dyn StreamParser>) = match endpoint.kind {
        ProviderKind::OpenAiCompatible => (
            openai::chat_request(http, endpoint, key, request)?,
            Box::new(openai::Parser::new(key)),
        ),
        ProviderKind::Anthropic => (
            anthropic::chat_request(http, endpoint, key, request)?,
            Box::new(anthropic::Parser::new(key)),
        ),
        ProviderKind::Gemini => (
            gemini::chat_request(http, endpoint, key, request)?,
            Box::new(gemini::Parser::new(key)),
        ),
    };
    let send = builder.send();
    let response = match tokio::time::timeout(idle, send).await {
        Err(_) => return Err(ProviderError::Timeout { idle }),
        Ok(Err(e)) => return Err(network_error(e, key)),
        Ok(Ok(r)) => r,
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    if !(200..300).contains(&status) {
        let body = read_error_body(response, idle, key).await?;
        return Err(classify_status(status, &headers, &body, key));
    }
    if !is_event_stream(&headers) {
        // A 2xx that is not a stream is usually an error object some servers send with
        // 200; anything else is not a protocol Hearth speaks.
        let body = read_error_body(response, idle, key).await?;
        let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            return Err(crate::http::classify_stream_error(error, key));
        }
        // The content type is the provider's text too: scrubbed and capped.
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| scrub(v, key))
            .unwrap_or_else(|| "no content type".into());
        return Err(ProviderError::Malformed {
            message: format!("expected an event stream, got {content_type}"),
        });
    }
    Ok(ChatStream {
        response,
        decoder: SseDecoder::new(),
        parser,
        pending: VecDeque::new(),
        items: Vec::new(),
        idle,
        key: key.map(|k| Zeroizing::new(k.to_owned())),
        ended: false,
        text_seen: false,
        tools_offered: !request.tools.is_empty(),
    })
}

fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/event-stream"))
}

/// The most of an error body read: enough for any JSON error, bounded against abuse.
const MAX_ERROR_BODY: usize = 64 * 1024;

async fn read_error_body(
    mut response: reqwest::Response,
    idle: Duration,
    key: Option<&str>,
) -> Result<String, ProviderError> {
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout(idle, response.chunk()).await {
            Err(_) => return Err(ProviderError::Timeout { idle }),
            Ok(Err(e)) => return Err(network_error(e, key)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_ERROR_BODY {
                    body.truncate(MAX_ERROR_BODY);
                    break;
                }
            }
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

impl ChatStream {
    /// The next piece of the reply; `None` once the reply is complete. An error is the
    /// last item: whatever arrived before it has been delivered first.
    pub async fn next(&mut self) -> Option<Result<StreamEvent, ProviderError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.ended {
                return None;
            }
            let chunk = match tokio::time::timeout(self.idle, self.response.chunk()).await {
                Err(_) => return Some(self.fail(ProviderError::Timeout { idle: self.idle })),
                Ok(Err(e)) => {
                    let err = network_error(e, self.key.as_deref().map(|k| k.as_str()));
                    return Some(self.fail(err));
                }
                Ok(Ok(chunk)) => chunk,
            };
            let mut items = std::mem::take(&mut self.items);
            items.clear();
            match &chunk {
                Some(bytes) => {
                    if let Err(e) = self.decoder.feed(bytes, &mut items) {
                        // The events completed before the limit was hit still count.
                        let mut out = Vec::new();
                        for item in &items {
                            if let SseItem::Event(event) = item {
                                if self.parser.on_event(event, &mut out).is_err()
                                    || self.parser.finished()
                                {
                                    break;
                                }
                            }
                        }
                        self.items = items;
                        self.ended = true;
                        self.pending.extend(out.into_iter().map(Ok));
                        self.pending.push_back(Err(too_large(e)));
                        continue;
                    }
                }
                None => self.decoder.finish(&mut items),
            }
            let mut out = Vec::new();
            let mut error = None;
            for item in &items {
                if let SseItem::Event(event) = item {
                    if let Err(e) = self.parser.on_event(event, &mut out) {
                        error = Some(e);
                        break;
                    }
                    if self.parser.finished() {
                        break;
                    }
                }
            }
            self.items = items;
            if error.is_none() && (self.parser.finished() || chunk.is_none()) {
                self.parser.flush(&mut out);
            }
            self.text_seen |= out.iter().any(|e| matches!(e, StreamEvent::Text(_)));
            if !self.tools_offered {
                out.retain(|e| !matches!(e, StreamEvent::ToolCall(_)));
            }
            self.pending.extend(out.into_iter().map(Ok));
            if let Some(e) = error {
                self.ended = true;
                self.pending.push_back(Err(e));
            } else if self.parser.finished() {
                self.ended = true;
                self.end_complete();
            } else if chunk.is_none() {
                self.ended = true;
                if self.parser.complete_at_eof() {
                    self.end_complete();
                } else {
                    self.pending.push_back(Err(ProviderError::Truncated));
                }
            }
        }
    }

    /// The stream ended as the protocol says a reply ends. That is a success unless the
    /// model refused, or answered only with tool calls it was not offered: neither is an
    /// empty answer.
    fn end_complete(&mut self) {
        if let Some(refusal) = self.parser.refusal() {
            self.pending.push_back(Err(refusal));
        } else if self.parser.saw_tool_call() && !self.text_seen && !self.tools_offered {
            self.pending.push_back(Err(ProviderError::ToolCallsOnly));
        }
    }

    fn fail(&mut self, err: ProviderError) -> Result<StreamEvent, ProviderError> {
        self.ended = true;
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &str) -> SseEvent {
        SseEvent {
            data: data.into(),
            ..Default::default()
        }
    }

    #[test]
    fn event_data_is_json_nothing_or_a_malformed_stream() {
        assert_eq!(event_json(&event("  ")).unwrap(), None);
        assert_eq!(
            event_json(&event("{\"type\":\"message_stop\"}   ")).unwrap(),
            Some(serde_json::json!({"type": "message_stop"}))
        );
        assert!(matches!(
            event_json(&event("{\"type\": ")),
            Err(ProviderError::Malformed { .. })
        ));
    }
}
