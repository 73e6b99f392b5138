//! OpenAI Chat Completions streaming, spoken by OpenAI and most other providers
//! (Groq, Mistral, OpenRouter, DeepSeek, xAI, Ollama, LM Studio, custom servers).

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::chat::{
    event_json, ChatRequest, ChatRole, ChatTurn, Endpoint, StreamEvent, StreamParser, Usage,
};
use crate::error::ProviderError;
use crate::files::{typed_text, FileKind, Json};
use crate::http::{classify_stream_error, secret_header, Http};
use crate::sse::SseEvent;
use crate::think::ThinkSplitter;
use crate::tools::CallAssembler;

/// Builds the streaming request.
pub(crate) fn chat_request(
    http: &Http,
    endpoint: &Endpoint,
    key: Option<&str>,
    request: &ChatRequest,
) -> Result<reqwest::RequestBuilder, ProviderError> {
    let mut messages = Vec::new();
    if let Some(system) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
        messages.push(Json::object(vec![
            ("role", "system".into()),
            ("content", system.into()),
        ]));
    }
    let reasoning_back = endpoint.provider_id == "deepseek";
    for turn in &request.turns {
        match turn.role {
            ChatRole::User => {
                // Results go as `tool` messages right after the calls' message.
                for result in &turn.tool_results {
                    messages.push(Json::object(vec![
                        ("role", "tool".into()),
                        ("tool_call_id", result.id.as_str().into()),
                        ("content", result.content.as_str().into()),
                    ]));
                }
                if turn.tool_results.is_empty() || !turn.text.is_empty() || !turn.files.is_empty() {
                    messages.push(Json::object(vec![
                        ("role", "user".into()),
                        ("content", content(turn)),
                    ]));
                }
            }
            ChatRole::Assistant if turn.tool_calls.is_empty() => {
                messages.push(Json::object(vec![
                    ("role", "assistant".into()),
                    ("content", content(turn)),
                ]));
            }
            ChatRole::Assistant => {
                let calls = turn
                    .tool_calls
                    .iter()
                    .map(|c| {
                        json!({
                            "id": c.id,
                            "type": "function",
                            "function": { "name": c.name, "arguments": c.arguments },
                        })
                        .into()
                    })
                    .collect();
                let text: Json<'_> = if turn.text.is_empty() {
                    Value::Null.into()
                } else {
                    turn.text.as_str().into()
                };
                let mut message = vec![
                    ("role", "assistant".into()),
                    ("content", text),
                    ("tool_calls", Json::Array(calls)),
                ];
                // DeepSeek's thinking mode refuses a tool turn without its reasoning.
                if let Some(r) = turn.reasoning.as_deref().filter(|_| reasoning_back) {
                    message.push(("reasoning_content", r.into()));
                }
                messages.push(Json::object(message));
            }
        }
    }
    let mut body = vec![
        ("model", request.model.as_str().into()),
        ("messages", Json::Array(messages)),
        ("stream", true.into()),
        ("stream_options", json!({ "include_usage": true }).into()),
    ];
    if let Some(max) = request.max_tokens {
        // OpenAI's reasoning models refuse `max_tokens`, which it deprecated for
        // `max_completion_tokens`; other OpenAI-compatible servers know only the first.
        let field = if endpoint.provider_id == "openai" {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.push((field, max.into()));
    }
    if let Some(t) = request.temperature {
        body.push(("temperature", crate::chat::wire_number(t).into()));
    }
    if let Some(effort) = request.reasoning {
        body.push(("reasoning_effort", effort.as_str().into()));
    }
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                })
                .into()
            })
            .collect();
        body.push(("tools", Json::Array(tools)));
    }
    let body = Json::object(body);
    let url = format!("{}/chat/completions", endpoint.base_url);
    Ok(http
        .request(reqwest::Method::POST, &url, headers(endpoint, key)?)?
        .json(&body))
}

/// A turn's `content`: its text, or with files, parts: images as `image_url` data URLs,
/// PDFs as `file` parts (`file_data`), text files as text, then the turn's text.
fn content(turn: &ChatTurn) -> Json<'_> {
    if turn.role != ChatRole::User || turn.files.is_empty() {
        return turn.text.as_str().into();
    }
    let mut parts: Vec<Json<'_>> = turn
        .files
        .iter()
        .map(|f| {
            let data_url = || Json::base64(format!("data:{};base64,", f.media_type), &f.bytes);
            match f.kind {
                FileKind::Image => Json::object(vec![
                    ("type", "image_url".into()),
                    ("image_url", Json::object(vec![("url", data_url())])),
                ]),
                FileKind::Pdf => Json::object(vec![
                    ("type", "file".into()),
                    (
                        "file",
                        Json::object(vec![
                            ("filename", f.name.as_str().into()),
                            ("file_data", data_url()),
                        ]),
                    ),
                ]),
                FileKind::Text => typed_text(f.text_block()),
            }
        })
        .collect();
    if !turn.text.is_empty() {
        parts.push(typed_text(turn.text.clone()));
    }
    Json::Array(parts)
}

/// The headers of every request: the key as a bearer token, and OpenRouter's
/// attribution naming Hearth.
pub(crate) fn headers(endpoint: &Endpoint, key: Option<&str>) -> Result<HeaderMap, ProviderError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        headers.insert(AUTHORIZATION, secret_header(&format!("Bearer {key}"))?);
    }
    if endpoint.provider_id == "openrouter" {
        headers.insert("X-OpenRouter-Title", HeaderValue::from_static("Hearth"));
        headers.insert("X-Title", HeaderValue::from_static("Hearth"));
    }
    Ok(headers)
}

/// Reads `chat.completion.chunk` events until `[DONE]` (or a finish reason and EOF).
pub(crate) struct Parser {
    key: Option<Zeroizing<String>>,
    done: bool,
    finish_seen: bool,
    think: ThinkSplitter,
    /// `delta.refusal` text arrived, or the reply ended with `content_filter`.
    refused: bool,
    /// The reply ended with `content_filter` (the provider's filter, not the model).
    filtered: bool,
    /// `delta.tool_calls` or `delta.function_call` arrived.
    tool_call: bool,
    /// The calls, assembled from their pieces; delivered at the end.
    calls: CallAssembler,
}

impl Parser {
    pub(crate) fn new(key: Option<&str>) -> Self {
        Parser {
            key: key.map(|k| Zeroizing::new(k.to_owned())),
            done: false,
            finish_seen: false,
            think: ThinkSplitter::default(),
            refused: false,
            filtered: false,
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
        let data = event.data.trim();
        if data.is_empty() {
            return Ok(());
        }
        if data.starts_with("[DONE]") {
            self.done = true;
            return Ok(());
        }
        if !data.starts_with('{') {
            // Data-only keep-alives some gateways send (`data: : keep-alive`).
            return Ok(());
        }
        let Some(chunk) = event_json(event)? else {
            return Ok(());
        };
        if let Some(error) = chunk
            .get("error")
            .filter(|e| !e.is_null() && *e != &Value::Bool(false))
        {
            return Err(classify_stream_error(
                error,
                self.key.as_deref().map(String::as_str),
            ));
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            out.push(StreamEvent::Usage(Usage {
                input: usage.get("prompt_tokens").and_then(Value::as_u64),
                output: usage.get("completion_tokens").and_then(Value::as_u64),
            }));
        }
        let choices = chunk.get("choices").and_then(Value::as_array);
        for choice in choices.into_iter().flatten() {
            if let Some(delta) = choice.get("delta") {
                let reasoning = delta
                    .get("reasoning_content")
                    .and_then(Value::as_str)
                    .or_else(|| delta.get("reasoning").and_then(Value::as_str));
                if let Some(r) = reasoning.filter(|r| !r.is_empty()) {
                    out.push(StreamEvent::Reasoning(r.to_owned()));
                }
                // A refusal streams like an answer, in its own field: it is what the user
                // sees, so it is delivered as text, and the end marks the reply refused.
                if let Some(refusal) = delta
                    .get("refusal")
                    .and_then(Value::as_str)
                    .filter(|r| !r.is_empty())
                {
                    self.refused = true;
                    out.push(StreamEvent::Text(refusal.to_owned()));
                }
                let calls = delta.get("tool_calls").and_then(Value::as_array);
                for call in calls.into_iter().flatten() {
                    self.tool_call = true;
                    let text = |field: &str| call.pointer(field).and_then(Value::as_str);
                    self.calls.piece(
                        call.get("index").and_then(Value::as_u64),
                        text("/id"),
                        text("/function/name"),
                        text("/function/arguments"),
                    )?;
                }
                // The deprecated single `function_call`, still sent by some servers.
                if let Some(call) = delta.get("function_call").filter(|c| c.is_object()) {
                    self.tool_call = true;
                    self.calls.piece(
                        Some(u64::MAX),
                        None,
                        call.get("name").and_then(Value::as_str),
                        call.get("arguments").and_then(Value::as_str),
                    )?;
                }
                match delta.get("content") {
                    Some(Value::String(text)) if !text.is_empty() => {
                        self.think.push(text, out);
                    }
                    // Mistral's reasoning models send content as typed parts.
                    Some(Value::Array(parts)) => {
                        for part in parts {
                            match part.get("type").and_then(Value::as_str) {
                                Some("text") => {
                                    if let Some(t) = part.get("text").and_then(Value::as_str) {
                                        out.push(StreamEvent::Text(t.to_owned()));
                                    }
                                }
                                Some("thinking") => {
                                    let texts = part.get("thinking").and_then(Value::as_array);
                                    for t in texts.into_iter().flatten() {
                                        if let Some(t) = t.get("text").and_then(Value::as_str) {
                                            out.push(StreamEvent::Reasoning(t.to_owned()));
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            match choice.get("finish_reason").and_then(Value::as_str) {
                Some("error") => {
                    return Err(ProviderError::StreamError {
                        code: None,
                        message: "the provider ended the reply with an error".into(),
                    })
                }
                Some(reason) => {
                    self.finish_seen = true;
                    match reason {
                        "content_filter" => {
                            self.refused = true;
                            self.filtered = true;
                        }
                        "tool_calls" | "function_call" => self.tool_call = true,
                        _ => {}
                    }
                }
                None => {}
            }
        }
        Ok(())
    }

    fn finished(&self) -> bool {
        self.done
    }

    fn flush(&mut self, out: &mut Vec<StreamEvent>) {
        self.think.finish(out);
        for (n, mut call) in self.calls.finish().into_iter().enumerate() {
            if call.id.is_empty() {
                // The legacy form has no id; the result still needs one to name.
                call.id = format!("call_{n}");
            }
            out.push(StreamEvent::ToolCall(call));
        }
    }

    /// A stream that saw a finish reason and then simply ended is complete: some
    /// compatible servers omit `[DONE]`.
    fn complete_at_eof(&self) -> bool {
        self.done || self.finish_seen
    }

    fn refusal(&mut self) -> Option<ProviderError> {
        self.refused.then(|| ProviderError::Refused {
            explanation: self
                .filtered
                .then(|| "the provider's content filter stopped the reply".to_owned()),
        })
    }

    fn saw_tool_call(&self) -> bool {
        self.tool_call
    }
}
