//! Anthropic Messages streaming.

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::chat::{
    event_json, ChatRequest, ChatRole, ChatTurn, Endpoint, StreamEvent, StreamParser, Usage,
    DEFAULT_MAX_TOKENS,
};
use crate::error::{provider_code, scrub, ProviderError};
use crate::files::{typed_text, FileKind, Json};
use crate::http::{classify_stream_error, secret_header, Http};
use crate::sse::SseEvent;
use crate::tools::{arguments_object, CallAssembler};

/// The API version Hearth speaks.
const API_VERSION: &str = "2023-06-01";

/// The headers of every request: the key and the API version.
pub(crate) fn headers(key: Option<&str>) -> Result<HeaderMap, ProviderError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        headers.insert("x-api-key", secret_header(key)?);
    }
    headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
    Ok(headers)
}

/// The fewest tokens left for the reply beside a thinking budget.
const MIN_REPLY_BESIDE_THINKING: u32 = 1_024;

/// Builds the streaming request. The system prompt is a top-level field; turns are only
/// `user` and `assistant`.
pub(crate) fn chat_request(
    http: &Http,
    endpoint: &Endpoint,
    key: Option<&str>,
    request: &ChatRequest,
) -> Result<reqwest::RequestBuilder, ProviderError> {
    let messages: Vec<Json<'_>> = request
        .turns
        .iter()
        .map(|t| {
            let role = match t.role {
                ChatRole::User => "user",
                ChatRole::Assistant => "assistant",
            };
            Json::object(vec![("role", role.into()), ("content", content(t))])
        })
        .collect();
    // Extended thinking needs a budget of at least 1,024 tokens below `max_tokens`, so
    // `max_tokens` grows to leave the reply room beside the thinking; and Anthropic
    // refuses any temperature but the default while thinking, so none is sent then.
    let budget = request.reasoning.map(|r| r.budget_tokens());
    let max_tokens = match budget {
        Some(b) => request
            .max_tokens
            .unwrap_or(DEFAULT_MAX_TOKENS)
            .max(b.saturating_add(MIN_REPLY_BESIDE_THINKING)),
        None => request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
    };
    let mut body = vec![
        ("model", request.model.as_str().into()),
        ("max_tokens", max_tokens.into()),
        ("messages", Json::Array(messages)),
        ("stream", true.into()),
    ];
    if let Some(system) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
        body.push(("system", system.into()));
    }
    if let Some(b) = budget {
        body.push((
            "thinking",
            json!({ "type": "enabled", "budget_tokens": b }).into(),
        ));
    } else if let Some(t) = request.temperature {
        body.push(("temperature", crate::chat::wire_number(t).into()));
    }
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "description": t.description,
                    "input_schema": t.parameters,
                })
                .into()
            })
            .collect();
        body.push(("tools", Json::Array(tools)));
    }
    let body = Json::object(body);
    let url = format!("{}/messages", endpoint.base_url);
    Ok(http
        .request(reqwest::Method::POST, &url, headers(key)?)?
        .json(&body))
}

/// A turn's `content`: its text, or blocks. A model's turn with tool calls is its text
/// and a `tool_use` block per call. A user's turn with results or files starts with a
/// `tool_result` block per result (they must come first), then images as `image` and
/// PDFs as `document` blocks with a base64 `source`, text files as text, then its text.
fn content(turn: &ChatTurn) -> Json<'_> {
    if turn.role == ChatRole::Assistant && !turn.tool_calls.is_empty() {
        let mut blocks = Vec::new();
        if !turn.text.is_empty() {
            blocks.push(typed_text(turn.text.clone()));
        }
        for call in &turn.tool_calls {
            blocks.push(
                json!({
                    "type": "tool_use",
                    "id": call.id,
                    "name": call.name,
                    "input": arguments_object(&call.arguments),
                })
                .into(),
            );
        }
        return Json::Array(blocks);
    }
    if turn.role != ChatRole::User || (turn.files.is_empty() && turn.tool_results.is_empty()) {
        return turn.text.as_str().into();
    }
    let results = turn.tool_results.iter().map(|r| {
        let mut block = json!({
            "type": "tool_result",
            "tool_use_id": r.id,
            "content": r.content,
        });
        if r.is_error {
            block["is_error"] = true.into();
        }
        block.into()
    });
    let mut blocks: Vec<Json<'_>> = results.collect();
    blocks.extend(turn.files.iter().map(|f| {
        let source = || {
            Json::object(vec![
                ("type", "base64".into()),
                ("media_type", f.media_type.as_str().into()),
                ("data", Json::base64("", &f.bytes)),
            ])
        };
        match f.kind {
            FileKind::Image => Json::object(vec![("type", "image".into()), ("source", source())]),
            FileKind::Pdf => Json::object(vec![("type", "document".into()), ("source", source())]),
            FileKind::Text => typed_text(f.text_block()),
        }
    }));
    if !turn.text.is_empty() {
        blocks.push(typed_text(turn.text.clone()));
    }
    Json::Array(blocks)
}

/// Reads Messages events until `message_stop`.
pub(crate) struct Parser {
    key: Option<Zeroizing<String>>,
    usage: Usage,
    done: bool,
    /// `stop_reason: "refusal"`, with what `stop_details` said about it.
    refusal: Option<Option<String>>,
    /// A `tool_use` block, or `stop_reason: "tool_use"`.
    tool_call: bool,
    /// `tool_use` blocks being streamed, by block index.
    calls: CallAssembler,
}

impl Parser {
    pub(crate) fn new(key: Option<&str>) -> Self {
        Parser {
            key: key.map(|k| Zeroizing::new(k.to_owned())),
            usage: Usage::default(),
            done: false,
            refusal: None,
            tool_call: false,
            calls: CallAssembler::default(),
        }
    }
}

impl StreamParser for Parser {
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), ProviderError> {
        let Some(value) = event_json(event)? else {
            return Ok(());
        };
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or("");
        match kind {
            "message_start" => {
                if let Some(usage) = value.pointer("/message/usage") {
                    self.usage.input = usage.get("input_tokens").and_then(Value::as_u64);
                    self.usage.output = usage.get("output_tokens").and_then(Value::as_u64);
                    out.push(StreamEvent::Usage(self.usage));
                }
            }
            "content_block_start" => {
                match value.pointer("/content_block/type").and_then(Value::as_str) {
                    Some("text") => {
                        if let Some(t) = value
                            .pointer("/content_block/text")
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty())
                        {
                            out.push(StreamEvent::Text(t.to_owned()));
                        }
                    }
                    Some("tool_use") => {
                        self.tool_call = true;
                        let field = |f: &str| {
                            value
                                .pointer(&format!("/content_block/{f}"))
                                .and_then(Value::as_str)
                        };
                        // The input streams as `input_json_delta`; a non-empty start
                        // input is the whole of it.
                        let start = value
                            .pointer("/content_block/input")
                            .filter(|i| i.as_object().is_some_and(|o| !o.is_empty()))
                            .map(Value::to_string);
                        self.calls.piece(
                            Some(value.get("index").and_then(Value::as_u64).unwrap_or(0)),
                            field("id"),
                            field("name"),
                            start.as_deref(),
                        )?;
                    }
                    Some("thinking") => {
                        if let Some(t) = value
                            .pointer("/content_block/thinking")
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty())
                        {
                            out.push(StreamEvent::Reasoning(t.to_owned()));
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = value.get("delta");
                match delta.and_then(|d| d.get("type")).and_then(Value::as_str) {
                    Some("text_delta") => {
                        if let Some(t) = delta
                            .and_then(|d| d.get("text"))
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty())
                        {
                            out.push(StreamEvent::Text(t.to_owned()));
                        }
                    }
                    Some("thinking_delta") => {
                        if let Some(t) = delta
                            .and_then(|d| d.get("thinking"))
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty())
                        {
                            out.push(StreamEvent::Reasoning(t.to_owned()));
                        }
                    }
                    Some("input_json_delta") => {
                        let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
                        let piece = delta
                            .and_then(|d| d.get("partial_json"))
                            .and_then(Value::as_str);
                        self.calls.piece(Some(index), None, None, piece)?;
                    }
                    // Signatures and citations are not chat text.
                    _ => {}
                }
            }
            "content_block_stop" => {
                let index = value.get("index").and_then(Value::as_u64).unwrap_or(0);
                if let Some(call) = self.calls.finish_index(index) {
                    out.push(StreamEvent::ToolCall(call));
                }
            }
            "message_delta" => {
                match value.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    Some("refusal") => {
                        let key = self.key.as_deref().map(String::as_str);
                        self.refusal = Some(refusal_explanation(
                            value.pointer("/delta/stop_details"),
                            key,
                        ));
                    }
                    Some("tool_use") => self.tool_call = true,
                    _ => {}
                }
                // Cumulative counts: the latest wins.
                if let Some(usage) = value.get("usage") {
                    if let Some(o) = usage.get("output_tokens").and_then(Value::as_u64) {
                        self.usage.output = Some(o);
                    }
                    if let Some(i) = usage.get("input_tokens").and_then(Value::as_u64) {
                        self.usage.input = Some(i);
                    }
                    out.push(StreamEvent::Usage(self.usage));
                }
            }
            "message_stop" => self.done = true,
            "error" => {
                let error = value.get("error").cloned().unwrap_or(Value::Null);
                return Err(classify_stream_error(
                    &error,
                    self.key.as_deref().map(String::as_str),
                ));
            }
            // ping, and event types added later.
            _ => {}
        }
        Ok(())
    }

    fn finished(&self) -> bool {
        self.done
    }

    /// A call whose block never closed is delivered at the end.
    fn flush(&mut self, out: &mut Vec<StreamEvent>) {
        out.extend(self.calls.finish().into_iter().map(StreamEvent::ToolCall));
    }

    fn refusal(&mut self) -> Option<ProviderError> {
        self.refusal
            .take()
            .map(|explanation| ProviderError::Refused { explanation })
    }

    fn saw_tool_call(&self) -> bool {
        self.tool_call
    }
}

/// What a refusal's `stop_details` say: the explanation (scrubbed and capped) and the
/// category (kept only if it is an identifier), e.g. `cyber: This request was declined…`.
fn refusal_explanation(details: Option<&Value>, key: Option<&str>) -> Option<String> {
    let details = details?;
    let category = details
        .get("category")
        .and_then(Value::as_str)
        .and_then(|c| provider_code(c, key));
    let explanation = details
        .get("explanation")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| scrub(e, key));
    match (category, explanation) {
        (Some(c), Some(e)) => Some(format!("{c}: {e}")),
        (c, e) => c.or(e),
    }
}
