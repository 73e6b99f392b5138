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
//!
//! The export's projects (`projects.json`, or one `projects/<uuid>.json` each in newer
//! exports) become Hearth projects (`claude:<project uuid>`): the name, the custom
//! instructions (`prompt_template`) followed by the description, and each document of
//! the project knowledge as a text file, within Hearth's limits (see
//! `docs/export-format.md`, "Projects from other apps"). The export does not say which
//! conversations are in which project, so its conversations are in none.

use std::collections::HashMap;
use std::io::Read;

use serde::Deserialize;
use serde_json::Value;

use hearth_vault::{
    Conversation, ConversationTree, Message, MessageStatus, Project, ProjectFile, ProjectTree,
    Role, CHUNK_BYTES,
};

use super::chatgpt::{fenced, latest_leaf, parents_first, title_from_path, Times};
use super::detect::{project_name, read_object, stream_array, stream_items, Piece, Rejected};
use crate::attachment::{clean_name, MAX_ATTACHMENT_BYTES};
use crate::error::Result;
use crate::projects::{MAX_INSTRUCTIONS_BYTES, MAX_PROJECT_FILES};

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

/// Reads a Claude.ai `projects.json` (an array of projects) and hands each project,
/// converted (its files' bytes first), or named with the reason it could not be, to
/// `each`, in file order.
pub fn read_projects(
    reader: impl Read,
    file: &str,
    each: &mut dyn FnMut(Piece) -> Result<()>,
) -> Result<()> {
    stream_items(
        reader,
        file,
        "Claude.ai",
        "project",
        |raw: std::result::Result<RawProject, Rejected>, index| match raw.and_then(convert_project)
        {
            Ok(project) => project.hand_over(each),
            Err(rejected) => each(Piece::NotConverted(
                rejected.locate_as("project", file, index),
            )),
        },
    )
}

/// Reads one project file of a newer Claude.ai export (`projects/<uuid>.json`, a single
/// project object), as [`read_projects`] does.
pub fn read_project(
    reader: impl Read,
    file: &str,
    each: &mut dyn FnMut(Piece) -> Result<()>,
) -> Result<()> {
    match read_object::<RawProject>(reader, file, "Claude.ai project")?.and_then(convert_project) {
        Ok(project) => project.hand_over(each),
        Err(rejected) => each(Piece::NotConverted(rejected.locate_as("project", file, 0))),
    }
}

/// The name of a project without one.
pub const UNTITLED_PROJECT: &str = "Untitled project";

/// The name of the file that holds a project's documents past the first nine, when it
/// has more than Hearth keeps as files.
pub const MORE_DOCUMENTS: &str = "More documents.md";

/// A project as the export has it. Every field may be missing or of another type; only
/// strings are used.
#[derive(Deserialize)]
struct RawProject {
    #[serde(default)]
    uuid: Option<Value>,
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    description: Option<Value>,
    #[serde(default)]
    prompt_template: Option<Value>,
    #[serde(default)]
    created_at: Option<Value>,
    #[serde(default)]
    updated_at: Option<Value>,
    #[serde(default)]
    docs: Option<Value>,
}

/// A document of a project's knowledge, as far as it can be read.
struct Doc<'a> {
    name: String,
    content: &'a str,
    created_at: Option<i64>,
}

/// A converted project: its files' bytes, in the order of its files, and the project.
struct ConvertedProject {
    bytes: Vec<Vec<u8>>,
    tree: ProjectTree,
}

impl ConvertedProject {
    /// Hands over each file's bytes, then the project.
    fn hand_over(self, each: &mut dyn FnMut(Piece) -> Result<()>) -> Result<()> {
        for (bytes, file) in self.bytes.iter().zip(&self.tree.files) {
            each(Piece::FileStart {
                sha256: file.sha256.clone(),
                size: file.size,
            })?;
            for chunk in bytes.chunks(CHUNK_BYTES) {
                each(Piece::FileBytes(chunk.to_vec()))?;
            }
        }
        each(Piece::Project(Box::new(self.tree)))
    }
}

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str)
}

/// Converts one project; see the module documentation.
fn convert_project(raw: RawProject) -> std::result::Result<ConvertedProject, Rejected> {
    let uuid = text(raw.uuid.as_ref())
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    let name = project_name(text(raw.name.as_ref()), UNTITLED_PROJECT);
    let problem = |why: String| Rejected {
        why,
        title: Some(name.clone()),
        id: uuid.clone(),
    };
    let Some(uuid) = uuid.clone() else {
        return Err(problem(
            "this project has no `uuid`, so it could not be told apart from others".into(),
        ));
    };
    let id = format!("{SOURCE}:{uuid}");
    let template = text(raw.prompt_template.as_ref()).unwrap_or("").trim();
    let description = text(raw.description.as_ref()).unwrap_or("").trim();
    let instructions = match (template.is_empty(), description.is_empty()) {
        (_, true) => template.to_owned(),
        (true, false) => format!("Project description: {description}"),
        (false, false) => format!("{template}\n\nProject description: {description}"),
    };
    if instructions.len() > MAX_INSTRUCTIONS_BYTES {
        return Err(problem(format!(
            "this project's instructions and description are {} KiB, more than the {} KiB Hearth keeps",
            instructions.len().div_ceil(1024),
            MAX_INSTRUCTIONS_BYTES >> 10
        )));
    }
    let created = time_of(raw.created_at.as_ref()).or(time_of(raw.updated_at.as_ref()));
    let created = created.unwrap_or_else(hearth_vault::now_ms);
    let updated = time_of(raw.updated_at.as_ref()).unwrap_or(created);

    // Documents with something in them; an empty one would send the model nothing.
    let docs: Vec<Doc<'_>> = match &raw.docs {
        Some(Value::Array(docs)) => docs
            .iter()
            .enumerate()
            .filter_map(|(i, doc)| {
                let content = text(doc.get("content"))?;
                if content.trim().is_empty() {
                    return None;
                }
                let name = match text(doc.get("filename")).map(str::trim) {
                    Some(n) if !n.is_empty() => clean_name(n),
                    _ => format!("Document {}.txt", i + 1),
                };
                Some(Doc {
                    name,
                    content,
                    created_at: time_of(doc.get("created_at")),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    // Up to the limit, one file each; past it, the first nine and the rest in a tenth.
    let (own, rest) = if docs.len() > MAX_PROJECT_FILES {
        docs.split_at(MAX_PROJECT_FILES - 1)
    } else {
        docs.split_at(docs.len())
    };
    let mut files: Vec<(String, Vec<u8>, i64)> = own
        .iter()
        .map(|d| {
            (
                d.name.clone(),
                d.content.as_bytes().to_vec(),
                d.created_at.unwrap_or(created),
            )
        })
        .collect();
    if !rest.is_empty() {
        let at = rest[0].created_at.unwrap_or(created);
        files.push((
            MORE_DOCUMENTS.to_owned(),
            more_documents(rest).into_bytes(),
            at,
        ));
    }
    let mut bytes = Vec::with_capacity(files.len());
    let mut project_files = Vec::with_capacity(files.len());
    for (position, (name, content, at)) in files.into_iter().enumerate() {
        if content.len() as u64 > MAX_ATTACHMENT_BYTES {
            return Err(problem(format!(
                "its document {name} is more than the {} MiB Hearth keeps in a file",
                MAX_ATTACHMENT_BYTES >> 20
            )));
        }
        project_files.push(ProjectFile {
            id: format!("{id}:{position}"),
            project_id: id.clone(),
            position: position as u32,
            media_type: media_type(&name).to_owned(),
            name,
            size: content.len() as u64,
            sha256: sha256_hex(&content),
            created_at: at,
        });
        bytes.push(content);
    }
    Ok(ConvertedProject {
        bytes,
        tree: ProjectTree {
            project: Project {
                id,
                name,
                instructions,
                provider_id: None,
                model: None,
                params_json: None,
                source: Some(SOURCE.into()),
                source_id: Some(uuid),
                created_at: created,
                updated_at: updated,
            },
            files: project_files,
        },
    })
}

/// The documents past the first nine in one Markdown file, each under a heading with its
/// name, in order, up to [`MAX_ATTACHMENT_BYTES`]; those that do not fit are named at its
/// end.
fn more_documents(docs: &[Doc<'_>]) -> String {
    /// Room kept at the end for naming the documents that did not fit.
    const NOTE_ROOM: usize = 64 << 10;
    /// The most documents named in that note.
    const NAMED: usize = 100;
    let limit = MAX_ATTACHMENT_BYTES as usize - NOTE_ROOM;
    let mut out = format!(
        "# More documents\n\nThis project had {} more documents in Claude.ai than a Hearth project keeps as files, so they are joined here, each under its name.\n",
        docs.len()
    );
    let mut left_out = Vec::new();
    for doc in docs {
        let piece = format!("\n---\n\n## {}\n\n{}\n", doc.name, doc.content.trim_end());
        if left_out.is_empty() && out.len() + piece.len() <= limit {
            out.push_str(&piece);
        } else {
            left_out.push(doc.name.as_str());
        }
    }
    if !left_out.is_empty() {
        let mut names: Vec<&str> = left_out.iter().take(NAMED).copied().collect();
        let more = left_out.len() - names.len();
        let extra;
        if more > 0 {
            extra = format!("and {more} more");
            names.push(&extra);
        }
        out.push_str(&format!(
            "\n---\n\nLeft out, as this file would have been more than {} MiB: {}.\n",
            MAX_ATTACHMENT_BYTES >> 20,
            names.join(", ")
        ));
    }
    out
}

/// `text/markdown` for a Markdown file's name, `text/plain` for any other.
fn media_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".md") || lower.ends_with(".markdown") {
        "text/markdown"
    } else {
        "text/plain"
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn time_of(value: Option<&Value>) -> Option<i64> {
    time_ms(text(value))
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

    /// What reading a projects file handed over: each project with its files' bytes,
    /// and the reasons of those left out.
    type ProjectsRead = (Vec<(ProjectTree, Vec<Vec<u8>>)>, Vec<String>);

    fn projects_in(
        read: impl FnOnce(&mut dyn FnMut(Piece) -> Result<()>) -> Result<()>,
    ) -> ProjectsRead {
        let mut projects = Vec::new();
        let mut left_out = Vec::new();
        let mut bytes: Vec<Vec<u8>> = Vec::new();
        let mut sizes: Vec<(String, u64)> = Vec::new();
        read(&mut |piece| {
            match piece {
                Piece::FileStart { sha256, size } => {
                    sizes.push((sha256, size));
                    bytes.push(Vec::new());
                }
                Piece::FileBytes(b) => bytes.last_mut().unwrap().extend_from_slice(&b),
                Piece::Project(tree) => {
                    for (file, (sha256, size)) in tree.files.iter().zip(&sizes) {
                        assert_eq!((&file.sha256, file.size), (sha256, *size));
                    }
                    assert_eq!(tree.files.len(), bytes.len());
                    for (file, b) in tree.files.iter().zip(&bytes) {
                        assert_eq!(sha256_hex(b), file.sha256);
                    }
                    projects.push((*tree, std::mem::take(&mut bytes)));
                    sizes.clear();
                }
                Piece::NotConverted(n) => left_out.push(n.reason),
                Piece::Tree(_) => panic!("a conversation in a projects file"),
            }
            Ok(())
        })
        .unwrap();
        (projects, left_out)
    }

    const FIXTURE: &str =
        include_str!("../../../../tests/data/import/claude-projects/projects.json");

    #[test]
    fn claude_projects_become_projects_with_their_documents_as_files() {
        let (projects, left_out) =
            projects_in(|each| read_projects(FIXTURE.as_bytes(), "projects.json", each));
        assert!(left_out.is_empty(), "{left_out:?}");
        assert_eq!(projects.len(), 2);
        let (garden, bytes) = &projects[0];
        let p = &garden.project;
        assert_eq!(p.id, "claude:01912f3a-6b20-7c41-9d52-3e8f1a2b4c6d");
        assert_eq!(p.name, "Fixture: garden notes");
        assert_eq!(
            p.instructions,
            "Answer in metric units.\nKeep lists short.\n\nProject description: Planting plans and a watering rota for the allotment."
        );
        assert_eq!(
            (p.source.as_deref(), p.source_id.as_deref()),
            (Some("claude"), Some("01912f3a-6b20-7c41-9d52-3e8f1a2b4c6d"))
        );
        assert_eq!(p.created_at, 1_725_040_841_604);
        assert_eq!(p.updated_at, 1_725_150_109_861);
        // The empty document is left out.
        assert_eq!(garden.files.len(), 1);
        let file = &garden.files[0];
        assert_eq!(
            (file.name.as_str(), file.media_type.as_str(), file.position),
            ("Plan — été 2024.md", "text/markdown", 0)
        );
        assert!(String::from_utf8(bytes[0].clone())
            .unwrap()
            .starts_with("# Gartenplan 🌱\n\n- Tomaten: 3 × „San Marzano“\n- 水やり"));
        assert_eq!(file.created_at, 1_725_041_112_337);

        // The starter project: no instructions of its own, its description, no files.
        let (starter, _) = &projects[1];
        assert_eq!(starter.project.name, "Fixture: example project");
        assert_eq!(
            starter.project.instructions,
            "Project description: A starter project every new account gets; it has no documents here."
        );
        assert!(starter.files.is_empty());

        // The same project as a file of its own (newer exports).
        let value: Value = serde_json::from_str(FIXTURE).unwrap();
        let one = value[0].to_string();
        let (single, _) = projects_in(|each| read_project(one.as_bytes(), "p.json", each));
        assert_eq!(single[0].0, projects[0].0);
    }

    #[test]
    fn odd_projects_are_read_leniently_or_left_out_by_name() {
        let text = json!([
            {"uuid": "u1", "name": null, "prompt_template": null, "docs": null},
            {"uuid": "u2", "name": "  Two\nlines\tand  tabs ", "description": 7,
             "docs": [{"content": "no name"}, {"filename": "dir/notes.MD", "content": "x"},
                      {"filename": "blank.txt", "content": " \n "}, "not a doc", {"filename": "n.txt"}]},
            {"name": "No id"},
            {"uuid": "u4", "name": "Long", "prompt_template": "x".repeat((256 << 10) + 1)},
            "not a project",
            {"uuid": "u6", "name": "x".repeat(300)}
        ])
        .to_string();
        let (projects, left_out) =
            projects_in(|each| read_projects(text.as_bytes(), "projects.json", each));
        let names: Vec<&str> = projects.iter().map(|p| p.0.project.name.as_str()).collect();
        assert_eq!(
            names,
            [UNTITLED_PROJECT, "Two lines and tabs", &"x".repeat(200)]
        );
        assert_eq!(projects[0].0.project.instructions, "");
        let files = &projects[1].0.files;
        assert_eq!(
            files
                .iter()
                .map(|f| (f.name.as_str(), f.media_type.as_str()))
                .collect::<Vec<_>>(),
            [
                ("Document 1.txt", "text/plain"),
                ("notes.MD", "text/markdown")
            ]
        );
        assert_eq!(left_out.len(), 3, "{left_out:?}");
        assert!(left_out[0].contains("no `uuid`"), "{left_out:?}");
        assert!(left_out[1].contains("256 KiB"), "{left_out:?}");
        assert!(left_out[2].contains("unexpected shape"), "{left_out:?}");
    }

    #[test]
    fn a_project_with_more_documents_than_files_joins_the_rest_into_a_tenth() {
        let docs: Vec<Value> = (1..=13)
            .map(|i| json!({"filename": format!("doc{i}.txt"), "content": format!("text {i}\n")}))
            .collect();
        let text = json!({"uuid": "many", "name": "Many", "docs": docs}).to_string();
        let (projects, _) = projects_in(|each| read_project(text.as_bytes(), "p.json", each));
        let (tree, bytes) = &projects[0];
        assert_eq!(tree.files.len(), MAX_PROJECT_FILES);
        assert_eq!(tree.files[8].name, "doc9.txt");
        assert_eq!(tree.files[9].name, MORE_DOCUMENTS);
        assert_eq!(tree.files[9].media_type, "text/markdown");
        let joined = String::from_utf8(bytes[9].clone()).unwrap();
        assert!(joined.starts_with("# More documents\n\nThis project had 4 more documents"));
        for i in 10..=13 {
            assert!(
                joined.contains(&format!("## doc{i}.txt\n\ntext {i}\n")),
                "{joined}"
            );
        }
        assert!(!joined.contains("doc9.txt"));
        // Ten exactly stay ten files.
        let docs: Vec<Value> = (1..=10)
            .map(|i| json!({"filename": format!("doc{i}.txt"), "content": "t"}))
            .collect();
        let text = json!({"uuid": "ten", "docs": docs}).to_string();
        let (projects, _) = projects_in(|each| read_project(text.as_bytes(), "p.json", each));
        assert_eq!(projects[0].0.files.len(), 10);
        assert_eq!(projects[0].0.files[9].name, "doc10.txt");
    }

    #[test]
    fn joined_documents_stop_at_the_file_limit_and_name_the_rest() {
        let big = "y".repeat(12 << 20);
        let docs: Vec<Doc<'_>> = (0..4)
            .map(|i| Doc {
                name: format!("big{i}.txt"),
                content: &big,
                created_at: None,
            })
            .collect();
        let joined = more_documents(&docs);
        assert!(joined.len() as u64 <= MAX_ATTACHMENT_BYTES);
        assert!(joined.contains("## big1.txt") && !joined.contains("## big2.txt"));
        assert!(
            joined.ends_with("more than 32 MiB: big2.txt, big3.txt.\n"),
            "{}",
            &joined[joined.len() - 200..]
        );
    }

    #[test]
    fn a_broken_project_file_is_an_error_naming_it() {
        let mut each = |_: Piece| Ok(());
        let e = read_project(&b"{\"uuid\": \"u\""[..], "projects/u.json", &mut each)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("projects/u.json: ") && e.contains("ends early"),
            "{e}"
        );
        let e = read_projects(&b"[{\"uuid\": 1},"[..], "projects.json", &mut each)
            .unwrap_err()
            .to_string();
        assert!(e.contains("project 2") && e.contains("ends early"), "{e}");
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
