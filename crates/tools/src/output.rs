//! A tool's result as Hearth keeps it, and the bound on its size.

use rmcp::model::{CallToolResult, ContentBlock};

/// The most text (in bytes) kept from one call. Longer text is cut at a character
/// boundary and ends with a note saying how much was left out, so the model sees that
/// the output is incomplete instead of a silent truncation or a refused call. Structured
/// content larger than this (serialized) is dropped, with a note in the text.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// The largest single message read from a server: a JSON reply or SSE event over HTTP,
/// a line over stdio. Over HTTP a larger one fails the call; over stdio the SDK drops the
/// line, so the call ends at its deadline. Either way nothing larger is held in memory.
pub(crate) const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// The result of one tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The text parts, joined with newlines. Other parts (images, audio, resources) are
    /// named by a short placeholder such as `[image: image/png]`.
    pub content: String,
    /// The tool's structured result, if it gave one.
    pub structured: Option<serde_json::Value>,
    /// The tool said the call failed (the text says why). The call itself worked.
    pub is_error: bool,
    /// The text or structured content went over [`MAX_OUTPUT_BYTES`] and was cut.
    pub truncated: bool,
}

impl ToolOutput {
    pub(crate) fn from_result(result: CallToolResult) -> Self {
        let parts: Vec<String> = result.content.iter().map(part_text).collect();
        let mut content = parts.join("\n");
        let mut truncated = false;
        if content.len() > MAX_OUTPUT_BYTES {
            let total = content.len();
            let mut cut = MAX_OUTPUT_BYTES;
            while !content.is_char_boundary(cut) {
                cut -= 1;
            }
            content.truncate(cut);
            content.push_str(&format!(
                "\n[output cut: {} of {total} bytes left out, over the {MAX_OUTPUT_BYTES}-byte limit]",
                total - cut
            ));
            truncated = true;
        }
        let mut structured = result.structured_content;
        if let Some(value) = &structured {
            let size = serde_json::to_vec(value).map_or(usize::MAX, |v| v.len());
            if size > MAX_OUTPUT_BYTES {
                structured = None;
                content.push_str(&format!(
                    "\n[structured output of {size} bytes left out, over the {MAX_OUTPUT_BYTES}-byte limit]"
                ));
                truncated = true;
            }
        }
        ToolOutput {
            content,
            structured,
            is_error: result.is_error.unwrap_or(false),
            truncated,
        }
    }
}

fn part_text(part: &ContentBlock) -> String {
    match part {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => format!("[image: {}]", image.mime_type),
        ContentBlock::Audio(audio) => format!("[audio: {}]", audio.mime_type),
        ContentBlock::Resource(_) => "[embedded resource]".to_owned(),
        ContentBlock::ResourceLink(link) => format!("[resource: {}]", link.uri),
        _ => "[content of a kind Hearth does not show]".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(text: &str) -> CallToolResult {
        serde_json::from_value(serde_json::json!({
            "content": [{"type": "text", "text": text}],
            "isError": false
        }))
        .expect("a valid result")
    }

    #[test]
    fn text_over_the_limit_is_cut_at_a_char_boundary_with_a_note() {
        let text = "é".repeat(MAX_OUTPUT_BYTES); // 2 bytes each
        let out = ToolOutput::from_result(result(&text));
        assert!(out.truncated);
        assert!(out.content.len() < MAX_OUTPUT_BYTES + 200);
        assert!(
            out.content.ends_with("-byte limit]"),
            "{}",
            &out.content[out.content.len() - 80..]
        );
        assert!(out.content.contains(&format!(
            "{MAX_OUTPUT_BYTES} of {} bytes left out",
            2 * MAX_OUTPUT_BYTES
        )));
    }

    #[test]
    fn text_under_the_limit_is_kept_exactly() {
        let out = ToolOutput::from_result(result("a\nb ✓"));
        assert_eq!(out.content, "a\nb ✓");
        assert!(!out.truncated && !out.is_error);
    }
}
