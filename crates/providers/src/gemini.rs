//! Google Gemini `streamGenerateContent?alt=sse`.

use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::chat::{
    event_json, ChatRequest, ChatRole, ChatTurn, Endpoint, StreamEvent, StreamParser, Usage,
};
use crate::error::{provider_code, ProviderError};
use crate::files::{FileKind, Json};
use crate::http::{classify_stream_error, secret_header, Http};
use crate::sse::SseEvent;
use crate::tools::{arguments_object, CallAssembler};

/// The headers of every request: the key in `x-goog-api-key` (never in the URL, where it
/// would end up in logs).
pub(crate) fn headers(key: Option<&str>) -> Result<HeaderMap, ProviderError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        headers.insert("x-goog-api-key", secret_header(key)?);
    }
    Ok(headers)
}

/// A model id without the `models/` prefix the API sometimes reports.
pub(crate) fn bare_model(model: &str) -> &str {
    model.strip_prefix("models/").unwrap_or(model)
}

/// Builds the streaming request.
pub(crate) fn chat_request(
    http: &Http,
    endpoint: &Endpoint,
    key: Option<&str>,
    request: &ChatRequest,
) -> Result<reqwest::RequestBuilder, ProviderError> {
    let contents: Vec<Json<'_>> = request
        .turns
        .iter()
        .map(|t| {
            let role = match t.role {
                ChatRole::User => "user",
                ChatRole::Assistant => "model",
            };
            Json::object(vec![("role", role.into()), ("parts", parts(t))])
        })
        .collect();
    let mut body = vec![("contents", Json::Array(contents))];
    if let Some(system) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
        body.push((
            "systemInstruction",
            json!({ "parts": [{ "text": system }] }).into(),
        ));
    }
    let mut config = serde_json::Map::new();
    if let Some(max) = request.max_tokens {
        config.insert("maxOutputTokens".into(), max.into());
    }
    if let Some(t) = request.temperature {
        config.insert("temperature".into(), crate::chat::wire_number(t).into());
    }
    if let Some(effort) = request.reasoning {
        config.insert(
            "thinkingConfig".into(),
            json!({ "thinkingBudget": effort.budget_tokens() }),
        );
    }
    if !config.is_empty() {
        body.push(("generationConfig", Value::Object(config).into()));
    }
    if !request.tools.is_empty() {
        // `parametersJsonSchema` takes JSON Schema as MCP servers write it; the older
        // `parameters` takes only an OpenAPI subset.
        let declarations: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "description": t.description,
                    "parametersJsonSchema": t.parameters,
                })
            })
            .collect();
        body.push((
            "tools",
            json!([{ "functionDeclarations": declarations }]).into(),
        ));
    }
    let body = Json::object(body);
    let model = bare_model(&request.model);
    if model.is_empty() || model.contains(['/', '?', '#']) {
        return Err(ProviderError::Config(format!(
            "`{model}` is not a Gemini model id"
        )));
    }
    let url = format!(
        "{}/models/{model}:streamGenerateContent?alt=sse",
        endpoint.base_url
    );
    Ok(http
        .request(reqwest::Method::POST, &url, headers(key)?)?
        .json(&body))
}

/// A turn's `parts`. A model's turn: its text, then a `functionCall` part per call with
/// its `thoughtSignature` as it came. A user's turn: a `functionResponse` part per
/// result, then images and PDFs as `inline_data` parts and text files as text, then the
/// turn's text.
fn parts(turn: &ChatTurn) -> Json<'_> {
    let text = |t: String| Json::object(vec![("text", t.into())]);
    let mut parts: Vec<Json<'_>> = Vec::new();
    if turn.role == ChatRole::Assistant && !turn.tool_calls.is_empty() {
        if !turn.text.is_empty() {
            parts.push(text(turn.text.clone()));
        }
        for call in &turn.tool_calls {
            let mut function = json!({
                "name": call.name,
                "args": arguments_object(&call.arguments),
            });
            if !call.id.is_empty() {
                function["id"] = call.id.as_str().into();
            }
            let mut part = json!({ "functionCall": function });
            if let Some(signature) = &call.signature {
                part["thoughtSignature"] = signature.as_str().into();
            }
            parts.push(part.into());
        }
        return Json::Array(parts);
    }
    for r in turn
        .tool_results
        .iter()
        .filter(|_| turn.role == ChatRole::User)
    {
        let field = if r.is_error { "error" } else { "result" };
        let mut function = json!({
            "name": r.name,
            "response": { field: r.content },
        });
        if !r.id.is_empty() {
            function["id"] = r.id.as_str().into();
        }
        parts.push(json!({ "functionResponse": function }).into());
    }
    if turn.role == ChatRole::User {
        for f in &turn.files {
            parts.push(match f.kind {
                FileKind::Image | FileKind::Pdf => Json::object(vec![(
                    "inline_data",
                    Json::object(vec![
                        ("mime_type", f.media_type.as_str().into()),
                        ("data", Json::base64("", &f.bytes)),
                    ]),
                )]),
                FileKind::Text => text(f.text_block()),
            });
        }
    }
    if !turn.text.is_empty() || parts.is_empty() {
        parts.push(text(turn.text.clone()));
    }
    Json::Array(parts)
}

/// The finish reasons that mean a safety system stopped the reply: a refusal.
const REFUSAL_REASONS: &[&str] = &[
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "IMAGE_SAFETY",
];

/// Reads `GenerateContentResponse` chunks; the stream ends at EOF after a finish reason.
pub(crate) struct Parser {
    key: Option<Zeroizing<String>>,
    finish_seen: bool,
    /// The safety finish reason the reply ended with.
    refused: Option<&'static str>,
    /// A `functionCall` part arrived.
    tool_call: bool,
    /// The calls so far (each arrives whole), delivered at the end.
    calls: CallAssembler,
}

impl Parser {
    pub(crate) fn new(key: Option<&str>) -> Self {
        Parser {
            key: key.map(|k| Zeroizing::new(k.to_owned())),
            finish_seen: false,
            refused: None,
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
        let value = match value {
            Value::Array(mut items) if items.len() == 1 => items.remove(0),
            other => other,
        };
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            return Err(classify_stream_error(
                error,
                self.key.as_deref().map(String::as_str),
            ));
        }
        let key = self.key.as_deref().map(String::as_str);
        let candidate = value.pointer("/candidates/0");
        if candidate.is_none() {
            if let Some(reason) = value
                .pointer("/promptFeedback/blockReason")
                .and_then(Value::as_str)
            {
                // The reason is the provider's code: shown only if it is an identifier.
                let reason = provider_code(reason, key);
                return Err(ProviderError::Refused {
                    explanation: Some(match reason {
                        Some(r) => format!("the provider blocked the prompt: {r}"),
                        None => "the provider blocked the prompt".to_owned(),
                    }),
                });
            }
        }
        if let Some(candidate) = candidate {
            let parts = candidate
                .pointer("/content/parts")
                .and_then(Value::as_array);
            for part in parts.into_iter().flatten() {
                if let Some(call) = part.get("functionCall").filter(|c| c.is_object()) {
                    self.tool_call = true;
                    let name = call.get("name").and_then(Value::as_str).unwrap_or("");
                    let arguments = call
                        .get("args")
                        .filter(|a| !a.is_null())
                        .map_or_else(|| "{}".to_owned(), Value::to_string);
                    let signature = part
                        .get("thoughtSignature")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    self.calls.whole(
                        call.get("id").and_then(Value::as_str),
                        name,
                        arguments,
                        signature,
                    )?;
                    continue;
                }
                if let Some(text) = part
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    if part.get("thought").and_then(Value::as_bool) == Some(true) {
                        out.push(StreamEvent::Reasoning(text.to_owned()));
                    } else {
                        out.push(StreamEvent::Text(text.to_owned()));
                    }
                }
            }
            if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
                self.finish_seen = true;
                if let Some(r) = REFUSAL_REASONS.iter().find(|r| **r == reason) {
                    self.refused = Some(r);
                }
            }
        }
        if let Some(usage) = value.get("usageMetadata") {
            out.push(StreamEvent::Usage(Usage {
                input: usage.get("promptTokenCount").and_then(Value::as_u64),
                output: usage
                    .get("candidatesTokenCount")
                    .and_then(Value::as_u64)
                    .map(|c| {
                        c + usage
                            .get("thoughtsTokenCount")
                            .and_then(Value::as_u64)
                            .unwrap_or(0)
                    }),
            }));
        }
        Ok(())
    }

    /// Gemini has no end marker: the stream simply ends.
    fn finished(&self) -> bool {
        false
    }

    fn complete_at_eof(&self) -> bool {
        self.finish_seen
    }

    fn flush(&mut self, out: &mut Vec<StreamEvent>) {
        out.extend(self.calls.finish().into_iter().map(StreamEvent::ToolCall));
    }

    fn refusal(&mut self) -> Option<ProviderError> {
        self.refused.take().map(|reason| ProviderError::Refused {
            explanation: Some(format!(
                "the provider's safety system stopped the reply: {reason}"
            )),
        })
    }

    fn saw_tool_call(&self) -> bool {
        self.tool_call
    }
}
