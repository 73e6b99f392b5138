//! Importing a Claude.ai data export (`conversations.json`).
//!
//! Each conversation's `chat_messages` are in order. Newer exports link each message to
//! its parent (`parent_message_uuid`), which gives edit and retry branches; without the
//! links the conversation is one line. The text comes from the ordered `content` blocks,
//! not from the flattened `text` field, which holds placeholders where tool and artifact
//! blocks were ("This block is not supported on your current device yet."). Thinking
//! blocks become the reply's reasoning, and the extracted text of attached files is kept
//! in the user's message, in a marked block.
//!
//! Ids are derived from the export's (`claude:<conversation uuid>` and
//! `claude:<conversation uuid>:<message uuid>`), so importing twice adds nothing.

use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;
use serde_json::Value;

use hearth_vault::{Conversation, ConversationTree, Message, MessageStatus, Role};

use super::chatgpt::{fenced, latest_leaf, parents_first, title_from_path, Times};
use super::detect::{stream_array, Piece, Rejected};
use crate::error::Result;

/// The `source` of conversations imported from Claude.ai.
pub const SOURCE: &str = "claude";

/// Reads one Claude.ai export file and hands each conversation, converted (or, if it
/// cannot be, named with the reason), to `each`, in file order. `file` names the file
/// in errors.
pub fn read(
    reader: impl Read,
    file: &str,
    each: &mut dyn FnMut(Piece) -> Result<()>,
) -> Result<()> {
    stream_array(
        reader,
        file,
        "Claude.ai",
        |raw: std::result::Result<RawConversation, Rejected>, index| {
            each(match raw.and_then(convert) {
                Ok(tree) => Piece::Tree(Box::new(tree)),
                Err(rejected) => Piece::NotConverted(rejected.locate(file, index)),
            })
        },
    )
}

/// A conversation as the export has it. Unknown keys are ignored.
#[derive(Deserialize)]
struct RawConversation {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    current_leaf_message_uuid: Option<String>,
    #[serde(default)]
    chat_messages: Option<Vec<RawMessage>>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    sender: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    text: Option<Value>,
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    attachments: Option<Vec<Attachment>>,
    #[serde(default)]
    files: Option<Vec<Value>>,
    #[serde(default)]
    parent_message_uuid: Option<String>,
}

#[derive(Deserialize)]
struct Attachment {
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    extracted_content: Option<String>,
}

/// Converts one conversation.
fn convert(raw: RawConversation) -> std::result::Result<ConversationTree, Rejected> {
    let uuid = raw.uuid.clone().filter(|u| !u.trim().is_empty());
    let problem = |why: String| Rejected {
        why,
        title: raw.name.as_deref().map(|t| t.chars().take(200).collect()),
        id: uuid.clone(),
    };
    let Some(uuid) = uuid.clone() else {
        return Err(problem("it has no `uuid`".into()));
    };
    let conversation_id = format!("{SOURCE}:{uuid}");
    let raw_messages = raw.chat_messages.unwrap_or_default();
    let keys: Vec<String> = raw_messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m.uuid
                .clone()
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| format!("#{}", i + 1))
        })
        .collect();
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        if index.insert(key.as_str(), i).is_some() {
            return Err(problem(format!("message {key} appears twice")));
        }
    }
    // With lineage, each message hangs from its named parent (a message without one
    // follows the one before it); without, the conversation is one line in array order.
    let mut parent = Vec::with_capacity(keys.len());
    for (i, m) in raw_messages.iter().enumerate() {
        parent.push(match m.parent_message_uuid.as_deref().map(str::trim) {
            Some(p) if is_root(p) => None,
            Some(p) => Some(*index.get(p).ok_or_else(|| {
                problem(format!(
                    "message {} names a parent {p} that is not in the conversation",
                    keys[i]
                ))
            })?),
            None => i.checked_sub(1),
        });
    }
    let order = parents_first(&parent, |a, b| a.cmp(&b))
        .map_err(|i| problem(format!("its messages form a cycle through {}", keys[i])))?;

    let mut out: Vec<Message> = Vec::new();
    let mut out_parent: Vec<Option<usize>> = Vec::new();
    let mut unknown_time: Vec<bool> = Vec::new();
    // For each message: the output message standing for it (itself, or the nearest
    // kept ancestor when it is skipped).
    let mut anchor: Vec<Option<usize>> = vec![None; keys.len()];
    for &i in &order {
        let m = &raw_messages[i];
        let above = parent[i].and_then(|p| anchor[p]);
        let role = match m.sender.as_deref().or(m.role.as_deref()) {
            Some("human" | "user") => Role::User,
            Some("assistant") => Role::Assistant,
            _ => {
                anchor[i] = above;
                continue;
            }
        };
        let (content, reasoning) = render(m);
        let created = time_ms(m.created_at.as_deref()).or(time_ms(m.updated_at.as_deref()));
        anchor[i] = Some(out.len());
        unknown_time.push(created.is_none());
        out.push(Message {
            id: format!("{conversation_id}:{}", keys[i]),
            conversation_id: conversation_id.clone(),
            parent_id: above.map(|a| out[a].id.clone()),
            role,
            content,
            reasoning,
            status: MessageStatus::Complete,
            error: None,
            provider_id: None,
            model: None,
            tokens_in: None,
            tokens_out: None,
            created_at: created.unwrap_or(0),
            finished_at: time_ms(m.updated_at.as_deref()).or(created),
        });
        out_parent.push(above);
    }

    let times = Times::settle(
        time_ms(raw.created_at.as_deref()),
        time_ms(raw.updated_at.as_deref()),
        &mut out,
        &unknown_time,
    );
    let head = raw
        .current_leaf_message_uuid
        .as_deref()
        .and_then(|u| index.get(u))
        .and_then(|&i| anchor[i])
        .or_else(|| latest_leaf(&out, &out_parent));
    let title = raw
        .name
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| title_from_path(&out, &out_parent, head));
    Ok(ConversationTree {
        conversation: Conversation {
            id: conversation_id,
            title,
            created_at: times.created,
            updated_at: times.updated,
            provider_id: None,
            model: None,
            system_prompt: None,
            params_json: None,
            pinned: false,
            archived: false,
            source: Some(SOURCE.into()),
            source_id: Some(uuid),
            head_message_id: head.map(|h| out[h].id.clone()),
            project_id: None,
        },
        messages: out,
        attachments: Vec::new(),
        tool_calls: Vec::new(),
    })
}

/// Whether a parent uuid means "no parent": empty, or the all-zero uuid the export uses
/// for a conversation's first message.
fn is_root(parent: &str) -> bool {
    parent.is_empty()
        || parent == "00000000-0000-4000-8000-000000000000"
        || parent.bytes().all(|b| b == b'0' || b == b'-')
}

/// A message's text and reasoning. The `content` blocks in order: text as it is
/// (adjacent text blocks run together), thinking into the reasoning, tool calls and
/// results as fenced JSON, images as a placeholder, other blocks kept as fenced JSON.
/// Without blocks, the `text` field. Attachments follow.
fn render(m: &RawMessage) -> (String, Option<String>) {
    let mut segments: Vec<String> = Vec::new();
    let mut thinking: Vec<String> = Vec::new();
    let mut after_text = false;
    match &m.content {
        Some(Value::Array(blocks)) if !blocks.is_empty() => {
            for block in blocks {
                let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
                let text_of = |key: &str| block.get(key).and_then(Value::as_str).unwrap_or("");
                let piece = match kind {
                    "text" => {
                        let text = text_of("text");
                        match segments.last_mut() {
                            Some(last) if after_text => last.push_str(text),
                            _ => segments.push(text.to_owned()),
                        }
                        after_text = true;
                        continue;
                    }
                    "thinking" => {
                        let t = text_of("thinking").trim();
                        if !t.is_empty() {
                            thinking.push(t.to_owned());
                        }
                        continue;
                    }
                    "token_budget" => continue,
                    "tool_use" => format!(
                        "[Tool call: {}]\n{}",
                        text_of("name"),
                        fenced("json", &pretty(block.get("input")))
                    ),
                    "tool_result" => format!(
                        "[{}: {}]\n{}",
                        if block.get("is_error") == Some(&Value::Bool(true)) {
                            "Tool error"
                        } else {
                            "Tool result"
                        },
                        text_of("name"),
                        fenced("json", &pretty(block.get("content")))
                    ),
                    "image" => "[image]".to_owned(),
                    "voice_note" if !text_of("text").is_empty() => text_of("text").to_owned(),
                    other => format!(
                        "[{}]\n{}",
                        if other.is_empty() { "unknown" } else { other },
                        fenced("json", &pretty(Some(block)))
                    ),
                };
                segments.push(piece);
                after_text = false;
            }
        }
        Some(Value::String(s)) if !s.is_empty() => segments.push(s.clone()),
        _ => {
            if let Some(text) = m.text.as_ref().and_then(Value::as_str) {
                segments.push(text.to_owned());
            } else if let Some(text) = m
                .content
                .as_ref()
                .and_then(|c| c.get("text"))
                .and_then(Value::as_str)
            {
                segments.push(text.to_owned());
            }
        }
    }
    for attachment in m.attachments.iter().flatten() {
        let name = attachment
            .file_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("pasted text");
        segments.push(match attachment.extracted_content.as_deref() {
            Some(text) if !text.trim().is_empty() => {
                format!("[Attachment: {name}]\n{}", fenced("", text))
            }
            _ => format!("[Attachment: {name}]"),
        });
    }
    for file in m.files.iter().flatten() {
        if let Some(name) = file
            .get("file_name")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            segments.push(format!("[File: {name}]"));
        }
    }
    let content = segments
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let reasoning = (!thinking.is_empty()).then(|| thinking.join("\n\n"));
    (content, reasoning)
}

fn pretty(value: Option<&Value>) -> String {
    value
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .unwrap_or_else(|| "null".into())
}

/// An ISO-8601 time (`2024-08-08T19:12:06.120414Z`, `+00:00`, or without a zone, read
/// as UTC) as Unix milliseconds.
fn time_ms(text: Option<&str>) -> Option<i64> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    use time::{OffsetDateTime, PrimitiveDateTime};
    let text = text?.trim();
    let at = OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
        .or_else(|_| PrimitiveDateTime::parse(text, &Iso8601::DEFAULT).map(|t| t.assume_utc()))
        .ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn convert_json(v: Value) -> std::result::Result<ConversationTree, String> {
        let raw: RawConversation = serde_json::from_value(v).unwrap();
        convert(raw).map_err(|p| p.locate("c.json", 2).to_error().to_string())
    }

    fn visible(tree: &ConversationTree) -> Vec<String> {
        let by_id: HashMap<&str, &Message> =
            tree.messages.iter().map(|m| (m.id.as_str(), m)).collect();
        let mut path = Vec::new();
        let mut at = tree.conversation.head_message_id.as_deref();
        while let Some(id) = at {
            let m = by_id[id];
            path.push(m.content.clone());
            at = m.parent_id.as_deref();
        }
        path.reverse();
        path
    }

    #[test]
    fn iso_times_parse_leniently() {
        assert_eq!(
            time_ms(Some("2024-08-08T19:12:06.120414Z")),
            Some(1_723_144_326_120)
        );
        assert_eq!(
            time_ms(Some("2024-08-08T21:12:06.120+02:00")),
            Some(1_723_144_326_120)
        );
        assert_eq!(
            time_ms(Some("2024-08-08T19:12:06")),
            Some(1_723_144_326_000)
        );
        assert_eq!(time_ms(Some("yesterday")), None);
        assert_eq!(time_ms(None), None);
    }

    #[test]
    fn content_blocks_win_over_the_placeholder_text() {
        let tree = convert_json(json!({
            "uuid": "c1", "name": "", "created_at": "2024-01-01T00:00:00Z",
            "chat_messages": [
                {"uuid": "m1", "sender": "human", "text": "hi", "content": [{"type": "text", "text": "hi"}],
                 "attachments": [{"file_name": "a.txt", "extracted_content": "alpha\n"}],
                 "files": [{"file_name": "b.png"}],
                 "created_at": "2024-01-01T00:00:01Z"},
                {"uuid": "m2", "sender": "assistant",
                 "text": "```\nThis block is not supported on your current device yet.\n```",
                 "content": [
                    {"type": "thinking", "thinking": "Let me look."},
                    {"type": "text", "text": "Result: "},
                    {"type": "text", "text": "done."},
                    {"type": "tool_use", "name": "web_search", "input": {"query": "x"}},
                    {"type": "token_budget"},
                    {"type": "text", "text": "After."}
                 ],
                 "created_at": "2024-01-01T00:00:02Z"}
            ]
        }))
        .unwrap();
        assert_eq!(tree.conversation.title, "hi");
        assert_eq!(
            visible(&tree),
            vec![
                "hi\n\n[Attachment: a.txt]\n```\nalpha\n```\n\n[File: b.png]".to_owned(),
                "Result: done.\n\n[Tool call: web_search]\n```json\n{\n  \"query\": \"x\"\n}\n```\n\nAfter."
                    .to_owned()
            ]
        );
        assert_eq!(tree.messages[1].reasoning.as_deref(), Some("Let me look."));
        assert_eq!(tree.messages[1].parent_id.as_deref(), Some("claude:c1:m1"));
        assert_eq!(tree.messages[0].created_at, 1_704_067_201_000);
    }

    #[test]
    fn parent_links_make_branches_and_the_latest_leaf_is_visible() {
        let m = |id: &str, parent: &str, sender: &str, text: &str, t: u32| {
            json!({"uuid": id, "parent_message_uuid": parent, "sender": sender,
                   "content": [{"type": "text", "text": text}],
                   "created_at": format!("2024-01-01T00:00:{t:02}Z")})
        };
        let root = "00000000-0000-4000-8000-000000000000";
        let conv = json!({
            "uuid": "c2", "name": "Branches",
            "chat_messages": [
                m("q", root, "human", "question", 1),
                m("a1", "q", "assistant", "first", 2),
                m("a2", "q", "assistant", "retry", 3),
                m("q2", "a1", "human", "follow-up on first", 4),
            ]
        });
        let tree = convert_json(conv.clone()).unwrap();
        assert_eq!(tree.messages.len(), 4);
        assert_eq!(
            visible(&tree),
            vec!["question", "first", "follow-up on first"]
        );

        let mut chosen = conv.clone();
        chosen["current_leaf_message_uuid"] = json!("a2");
        assert_eq!(
            visible(&convert_json(chosen).unwrap()),
            vec!["question", "retry"]
        );

        let mut broken = conv;
        broken["chat_messages"][1]["parent_message_uuid"] = json!("nope");
        let err = convert_json(broken).unwrap_err();
        assert!(
            err.contains("conversation 3 \"Branches\" (c2)") && err.contains("parent nope"),
            "{err}"
        );
    }

    #[test]
    fn unknown_senders_are_skipped_and_the_line_goes_on() {
        let tree = convert_json(json!({
            "uuid": "c3", "name": "x",
            "chat_messages": [
                {"uuid": "1", "sender": "human", "text": "one"},
                {"uuid": "2", "sender": "system", "text": "noise"},
                {"uuid": "3", "sender": "assistant", "text": "two"}
            ]
        }))
        .unwrap();
        assert_eq!(visible(&tree), vec!["one", "two"]);
        assert_eq!(tree.messages.len(), 2);
    }
}
