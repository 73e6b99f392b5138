//! Tool calling as the three protocols share it: the tools offered, the calls a model
//! makes (assembled from streamed pieces), and the results sent back.

use crate::error::ProviderError;

/// The most calls one reply may make at once. A model asking for more is answering
/// nonsense, and each call is shown to the user.
pub const MAX_TOOL_CALLS: usize = 64;

/// The longest a call's arguments may be (their JSON text, in bytes).
pub const MAX_TOOL_ARGUMENT_BYTES: usize = 1024 * 1024;

/// The longest a tool name may be. Every protocol allows 64 characters of
/// `[A-Za-z0-9_-]`; a longer name from a server is never sent.
pub const MAX_TOOL_NAME_CHARS: usize = 64;

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// The name the model calls it by (`[A-Za-z0-9_-]`, at most 64, first a letter or `_`).
    pub name: String,
    /// What it does.
    pub description: String,
    /// The JSON Schema of its arguments (an object schema).
    pub parameters: serde_json::Value,
}

/// A call the model asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The provider's id for the call, which the result must name. Gemini may give
    /// none (empty): its results are matched by name.
    pub id: String,
    /// The tool's name as offered.
    pub name: String,
    /// The arguments, as the JSON text the model wrote (not checked here: it may be
    /// invalid, which the caller reports back to the model).
    pub arguments: String,
    /// Gemini's `thoughtSignature` on the call's part, sent back with it unchanged.
    pub signature: Option<String>,
}

/// The answer to a call, sent back in the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    /// The call's id (as in [`ToolCall::id`]).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// What the tool said, or why it did not run.
    pub content: String,
    /// The call failed or was refused: the content says why.
    pub is_error: bool,
}

/// Whether `name` is one every protocol accepts as a tool name.
pub fn valid_tool_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && name.len() <= MAX_TOOL_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A call being assembled from streamed pieces.
#[derive(Debug, Default)]
struct Partial {
    /// The protocol's position for the call (OpenAI `index`, Anthropic block index).
    index: Option<u64>,
    id: String,
    name: String,
    arguments: String,
    signature: Option<String>,
}

impl Partial {
    fn into_call(self) -> ToolCall {
        ToolCall {
            id: self.id,
            name: self.name,
            arguments: if self.arguments.trim().is_empty() {
                "{}".to_owned()
            } else {
                self.arguments
            },
            signature: self.signature,
        }
    }
}

/// Collects calls from streamed pieces, within [`MAX_TOOL_CALLS`] and
/// [`MAX_TOOL_ARGUMENT_BYTES`].
#[derive(Debug, Default)]
pub(crate) struct CallAssembler {
    calls: Vec<Partial>,
}

impl CallAssembler {
    /// The call at `index`, or by `id` when the protocol gives no index, or a new one.
    fn slot(
        &mut self,
        index: Option<u64>,
        id: Option<&str>,
    ) -> Result<&mut Partial, ProviderError> {
        let found = match (index, id) {
            (Some(i), _) => self.calls.iter().position(|c| c.index == Some(i)),
            (None, Some(id)) if !id.is_empty() => self.calls.iter().position(|c| c.id == id),
            // No index and no id: a call given whole in one piece.
            _ => None,
        };
        let at = match found {
            Some(at) => at,
            None => {
                if self.calls.len() >= MAX_TOOL_CALLS {
                    return Err(ProviderError::TooLarge {
                        what: "a reply's tool calls",
                        limit: MAX_TOOL_CALLS,
                    });
                }
                self.calls.push(Partial {
                    index,
                    ..Default::default()
                });
                self.calls.len() - 1
            }
        };
        Ok(&mut self.calls[at])
    }

    /// Adds a piece of a call: any of its id, name and a stretch of its arguments.
    pub(crate) fn piece(
        &mut self,
        index: Option<u64>,
        id: Option<&str>,
        name: Option<&str>,
        arguments: Option<&str>,
    ) -> Result<(), ProviderError> {
        let call = self.slot(index, id)?;
        if let Some(id) = id.filter(|i| !i.is_empty()) {
            if call.id.is_empty() {
                call.id = id.to_owned();
            }
        }
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            // Some servers repeat the whole name in every piece; others split it.
            if call.name != name {
                call.name.push_str(name);
            }
            if call.name.len() > 4 * MAX_TOOL_NAME_CHARS {
                return Err(ProviderError::TooLarge {
                    what: "a tool call's name",
                    limit: 4 * MAX_TOOL_NAME_CHARS,
                });
            }
        }
        if let Some(arguments) = arguments {
            if call.arguments.len() + arguments.len() > MAX_TOOL_ARGUMENT_BYTES {
                return Err(ProviderError::TooLarge {
                    what: "a tool call's arguments",
                    limit: MAX_TOOL_ARGUMENT_BYTES,
                });
            }
            call.arguments.push_str(arguments);
        }
        Ok(())
    }

    /// Adds a call given whole (Gemini's `functionCall`).
    pub(crate) fn whole(
        &mut self,
        id: Option<&str>,
        name: &str,
        arguments: String,
        signature: Option<String>,
    ) -> Result<(), ProviderError> {
        if arguments.len() > MAX_TOOL_ARGUMENT_BYTES {
            return Err(ProviderError::TooLarge {
                what: "a tool call's arguments",
                limit: MAX_TOOL_ARGUMENT_BYTES,
            });
        }
        let call = self.slot(None, None)?;
        call.id = id.unwrap_or_default().to_owned();
        call.name = name.to_owned();
        call.arguments = arguments;
        call.signature = signature;
        Ok(())
    }

    /// The calls so far, in the order they began. Arguments never given are `{}`.
    pub(crate) fn finish(&mut self) -> Vec<ToolCall> {
        std::mem::take(&mut self.calls)
            .into_iter()
            .map(Partial::into_call)
            .collect()
    }

    /// Ends the call at `index` (Anthropic's `content_block_stop`), if there is one.
    pub(crate) fn finish_index(&mut self, index: u64) -> Option<ToolCall> {
        let at = self.calls.iter().position(|c| c.index == Some(index))?;
        Some(self.calls.remove(at).into_call())
    }
}

/// A call's arguments as a JSON object, for the protocols that send them back as one:
/// arguments that are not an object (the model wrote invalid JSON, which the result
/// told it) go back as `{}`.
pub(crate) fn arguments_object(arguments: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Value>(arguments) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => serde_json::Value::Object(Default::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_join_by_index_and_names_are_not_doubled() {
        let mut a = CallAssembler::default();
        a.piece(Some(0), Some("call_1"), Some("get_weather"), Some(""))
            .unwrap();
        a.piece(Some(1), Some("call_2"), Some("get_time"), Some("{\"tz\""))
            .unwrap();
        a.piece(Some(0), None, None, Some("{\"city\":")).unwrap();
        a.piece(Some(0), None, Some("get_weather"), Some("\"Paris\"}"))
            .unwrap();
        a.piece(Some(1), None, None, Some(":\"UTC\"}")).unwrap();
        let calls = a.finish();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "call_1");
        assert_eq!(calls[0].name, "get_weather");
        assert_eq!(calls[0].arguments, "{\"city\":\"Paris\"}");
        assert_eq!(calls[1].arguments, "{\"tz\":\"UTC\"}");
    }

    #[test]
    fn calls_without_index_join_by_id_or_stand_alone() {
        let mut a = CallAssembler::default();
        a.piece(None, Some("x"), Some("f"), Some("{\"a\":"))
            .unwrap();
        a.piece(None, Some("x"), None, Some("1}")).unwrap();
        a.piece(None, None, Some("g"), Some("{}")).unwrap();
        a.piece(None, None, Some("h"), None).unwrap();
        let calls = a.finish();
        let got: Vec<(&str, &str)> = calls
            .iter()
            .map(|c| (c.name.as_str(), c.arguments.as_str()))
            .collect();
        assert_eq!(got, vec![("f", "{\"a\":1}"), ("g", "{}"), ("h", "{}")]);
    }

    #[test]
    fn limits_on_count_and_size_are_errors() {
        let mut a = CallAssembler::default();
        for i in 0..MAX_TOOL_CALLS as u64 {
            a.piece(Some(i), None, Some("f"), None).unwrap();
        }
        assert!(matches!(
            a.piece(Some(999), None, Some("f"), None),
            Err(ProviderError::TooLarge { .. })
        ));
        let mut a = CallAssembler::default();
        let big = "x".repeat(MAX_TOOL_ARGUMENT_BYTES / 2 + 1);
        a.piece(Some(0), None, None, Some(&big)).unwrap();
        assert!(matches!(
            a.piece(Some(0), None, None, Some(&big)),
            Err(ProviderError::TooLarge { .. })
        ));
    }

    #[test]
    fn tool_names_are_checked_for_every_protocol() {
        assert!(valid_tool_name("files__read_file"));
        assert!(valid_tool_name("_x-1"));
        assert!(!valid_tool_name("1x"));
        assert!(!valid_tool_name("a.b"));
        assert!(!valid_tool_name(""));
        assert!(!valid_tool_name(&"a".repeat(65)));
    }

    #[test]
    fn arguments_go_back_as_an_object_or_empty() {
        assert_eq!(arguments_object("{\"a\":1}"), serde_json::json!({"a": 1}));
        assert_eq!(arguments_object("{\"a\":"), serde_json::json!({}));
        assert_eq!(arguments_object("[1]"), serde_json::json!({}));
    }
}
