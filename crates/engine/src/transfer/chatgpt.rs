//! Importing a ChatGPT data export (`conversations.json`).
//!
//! Each conversation's `mapping` is a tree of nodes linked by `parent`; edits and
//! regenerations are siblings, and `current_node` is the leaf the user last saw. Every
//! branch is kept. Turns a reader never saw in ChatGPT (the empty root, system and
//! memory context, the assistant talking to a tool, tool output, reasoning recaps) are
//! left out, and their children hang from the nearest message that is kept, so the tree
//! survives them. The `thoughts` of reasoning models become the next reply's reasoning,
//! and "Continue generating" pieces are joined into one reply.
//!
//! Ids are derived from the export's (`chatgpt:<conversation id>` and
//! `chatgpt:<conversation id>:<node id>`), so importing the same export twice adds
//! nothing, and a node id that two conversations share (a chat continued from another)
//! still gives two messages.
//!
//! The export does not list ChatGPT's projects, but a conversation in one names it: its
//! `gizmo_id` (or `conversation_template_id`) is the project's `g-p-…` id. Conversations
//! naming the same one go into one Hearth project (`chatgpt:g-p-…`), handed over before
//! the first of them; a custom GPT (`g-…` without `p-`) is not a project.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::rc::Rc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use hearth_vault::{
    Conversation, ConversationTree, Message, MessageStatus, Project, ProjectTree, Role,
};

use super::budget::MAX_CONVERSATION_BYTES;
use super::detect::{project_name, stream_array, Piece, Rejected};
use crate::chat::title_from;
use crate::error::Result;

/// The `source` of conversations imported from ChatGPT.
pub const SOURCE: &str = "chatgpt";

/// Content types a reader never sees: reasoning and its recap, memory and custom
/// instruction context, browsing internals, web page snapshots and tool errors.
const HIDDEN_CONTENT: &[&str] = &[
    "thoughts",
    "reasoning_recap",
    "user_editable_context",
    "model_editable_context",
    "tether_browsing_display",
    "sonic_webpage",
    "system_error",
];

/// Reads one ChatGPT export file and hands each conversation, converted (or, if it
/// cannot be, named with the reason), to `each`, in file order. `file` names the file
/// in errors.
///
/// A conversation in a ChatGPT project comes after its project, handed over once per
/// file before the first conversation in it (the vault adds a project once however
/// often it comes).
pub fn read(
    reader: impl Read,
    file: &str,
    each: &mut dyn FnMut(Piece) -> Result<()>,
) -> Result<()> {
    let mut announced: HashSet<String> = HashSet::new();
    stream_array(
        reader,
        file,
        "ChatGPT",
        |raw: std::result::Result<RawConversation, Rejected>, index| {
            let project = raw.as_ref().ok().and_then(project_of);
            match raw.and_then(convert) {
                Ok(tree) => {
                    if let Some(project) = project {
                        if announced.insert(project.gizmo.clone()) {
                            each(Piece::Project(Box::new(project.tree(&tree))))?;
                        }
                    }
                    each(Piece::Tree(Box::new(tree)))
                }
                Err(rejected) => each(Piece::NotConverted(rejected.locate(file, index))),
            }
        },
    )
}

/// How a ChatGPT project's id starts; a custom GPT's starts with `g-` alone.
pub const PROJECT_PREFIX: &str = "g-p-";

/// The name a ChatGPT project gets when the export gives none: this, then the first
/// characters of its id after [`PROJECT_PREFIX`].
pub const PROJECT_NAME: &str = "ChatGPT project";

/// How many characters of the id the name of an unnamed project shows.
const PROJECT_SHORT_ID: usize = 8;

/// The ChatGPT project a conversation is in.
struct InProject {
    /// Its `g-p-…` id.
    gizmo: String,
    /// Its name, if the conversation gives one.
    name: Option<String>,
}

impl InProject {
    /// The Hearth project for it, made with the first conversation in it.
    fn tree(&self, first: &ConversationTree) -> ProjectTree {
        let short: String = self.gizmo[PROJECT_PREFIX.len()..]
            .chars()
            .take(PROJECT_SHORT_ID)
            .collect();
        let fallback = format!("{PROJECT_NAME} {short}");
        ProjectTree {
            project: Project {
                id: project_id(&self.gizmo),
                name: project_name(self.name.as_deref(), &fallback),
                instructions: String::new(),
                provider_id: None,
                model: None,
                params_json: None,
                source: Some(SOURCE.into()),
                source_id: Some(self.gizmo.clone()),
                created_at: first.conversation.created_at,
                updated_at: first.conversation.created_at,
            },
            files: Vec::new(),
        }
    }
}

/// The Hearth id of the ChatGPT project `gizmo`.
fn project_id(gizmo: &str) -> String {
    format!("{SOURCE}:{gizmo}")
}

/// The project a conversation names: its `gizmo_id`, else its
/// `conversation_template_id`, when that is a project's (`g-p-…`), with the name the
/// conversation gives it, if any (today's exports give none).
fn project_of(raw: &RawConversation) -> Option<InProject> {
    let gizmo = [&raw.gizmo_id, &raw.conversation_template_id]
        .into_iter()
        .filter_map(|v| string(v.as_ref()))
        .map(str::trim)
        .find(|id| id.len() > PROJECT_PREFIX.len() && id.starts_with(PROJECT_PREFIX))?;
    let name = [&raw.project_name, &raw.project_title, &raw.gizmo_name]
        .into_iter()
        .filter_map(|v| string(v.as_ref()))
        .map(str::trim)
        .find(|n| !n.is_empty())
        .map(str::to_owned);
    Some(InProject {
        gizmo: gizmo.to_owned(),
        name,
    })
}

/// A conversation as the export has it. Unknown keys are ignored.
#[derive(Deserialize)]
pub(crate) struct RawConversation {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    create_time: Seconds,
    #[serde(default)]
    update_time: Seconds,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    current_node: Option<String>,
    #[serde(default)]
    is_archived: Option<bool>,
    #[serde(default)]
    default_model_slug: Option<Value>,
    /// The custom GPT or the project (`g-p-…`) the conversation is with.
    #[serde(default)]
    gizmo_id: Option<Value>,
    #[serde(default)]
    conversation_template_id: Option<Value>,
    /// Keys that could name a project, should an export carry them.
    #[serde(default)]
    project_name: Option<Value>,
    #[serde(default)]
    project_title: Option<Value>,
    #[serde(default)]
    gizmo_name: Option<Value>,
    #[serde(default)]
    mapping: Option<Mapping>,
}

/// The `mapping` object, in file order (the order decides nothing, but keeps output
/// stable).
struct Mapping(Vec<(String, RawNode)>);

impl<'de> Deserialize<'de> for Mapping {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct MappingVisitor;
        impl<'de> Visitor<'de> for MappingVisitor {
            type Value = Mapping;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of node ids to nodes")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Mapping, A::Error> {
                let mut nodes = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(entry) = map.next_entry::<String, RawNode>()? {
                    nodes.push(entry);
                }
                Ok(Mapping(nodes))
            }
        }
        d.deserialize_map(MappingVisitor)
    }
}

#[derive(Deserialize)]
struct RawNode {
    #[serde(default)]
    message: Option<RawMessage>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    children: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawMessage {
    #[serde(default)]
    author: Option<Author>,
    #[serde(default)]
    create_time: Seconds,
    #[serde(default)]
    update_time: Seconds,
    #[serde(default)]
    content: Option<RawContent>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    recipient: Option<String>,
    #[serde(default)]
    channel: Option<String>,
}

#[derive(Deserialize)]
struct Author {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    name: Option<Value>,
}

#[derive(Deserialize, Default)]
struct RawContent {
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    parts: Option<Vec<Value>>,
    #[serde(default)]
    text: Option<Value>,
    #[serde(default)]
    language: Option<Value>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    thoughts: Option<Value>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    is_visually_hidden_from_conversation: Option<Value>,
    #[serde(default)]
    is_user_system_message: Option<Value>,
    #[serde(default)]
    model_slug: Option<Value>,
    #[serde(default)]
    attachments: Option<Value>,
    #[serde(default)]
    aggregate_result: Option<Value>,
    #[serde(default)]
    canvas: Option<Value>,
}

/// A Unix time in seconds: a float, an integer, a numeric string, or null.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Seconds(Option<f64>);

impl Seconds {
    /// As Unix milliseconds, if present and sane.
    pub(crate) fn ms(self) -> Option<i64> {
        let s = self.0?;
        // Beyond year 9999 or non-finite: not a time.
        (s.is_finite() && s.abs() < 253_402_300_800.0).then(|| (s * 1000.0).round() as i64)
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct SecondsVisitor;
        impl Visitor<'_> for SecondsVisitor {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a time in seconds")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Seconds, E> {
                Ok(Seconds(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Seconds, E> {
                Ok(Seconds(Some(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Seconds, E> {
                Ok(Seconds(Some(v as f64)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Seconds, E> {
                Ok(Seconds(v.trim().parse().ok()))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Seconds, E> {
                Ok(Seconds(None))
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<Seconds, E> {
                Ok(Seconds(None))
            }
        }
        d.deserialize_any(SecondsVisitor)
    }
}

/// `"Title" (id)`, for errors.
pub(crate) fn label(title: Option<&str>, id: Option<&str>) -> String {
    let title = title.filter(|t| !t.trim().is_empty()).map(|t| {
        let short: String = t.chars().take(60).collect();
        format!("\"{}\"", short.replace(['\r', '\n'], " "))
    });
    match (title, id) {
        (Some(t), Some(id)) => format!("{t} ({id})"),
        (Some(t), None) => t,
        (None, Some(id)) => format!("({id})"),
        (None, None) => "(no id)".into(),
    }
}

/// What one node becomes.
enum Turn {
    /// A message a reader sees.
    Kept(Kept),
    /// Left out; any reasoning it carries goes to the next kept message below it.
    Skipped { reasoning: Option<String> },
}

/// Reasoning waiting for the next kept message: each skipped node adds its own piece in
/// front of what it inherited, so a long chain of reasoning steps holds each text once
/// (copying the text so far into every step made a 2.4 MB export take 2 GB).
pub(crate) struct Reasoning {
    text: String,
    before: Option<Rc<Reasoning>>,
}

impl Reasoning {
    /// `text` after `before`.
    pub(crate) fn after(
        before: Option<Rc<Reasoning>>,
        text: Option<String>,
    ) -> Option<Rc<Reasoning>> {
        match text {
            Some(text) => Some(Rc::new(Reasoning { text, before })),
            None => before,
        }
    }

    /// The pieces, oldest first, joined by blank lines.
    pub(crate) fn joined(&self) -> String {
        let mut pieces = Vec::new();
        let mut at = Some(self);
        while let Some(r) = at {
            pieces.push(r.text.as_str());
            at = r.before.as_deref();
        }
        pieces.reverse();
        pieces.join("\n\n")
    }

    /// The bytes this piece holds itself.
    #[cfg(test)]
    fn own_bytes(&self) -> usize {
        self.text.len()
    }
}

impl Drop for Reasoning {
    /// Unlinks the chain a piece at a time: dropping it recursively would overflow the
    /// stack on a long one.
    fn drop(&mut self) {
        let mut next = self.before.take();
        while let Some(piece) = next {
            match Rc::try_unwrap(piece) {
                Ok(mut piece) => next = piece.before.take(),
                // Still shared: whoever else holds it drops the rest.
                Err(_) => break,
            }
        }
    }
}

/// The most text one converted conversation may hold, in bytes: reasoning shared by many
/// branches is copied into each, so a small hostile file could otherwise expand a lot.
const MAX_CONVERTED_BYTES: usize = 2 * MAX_CONVERSATION_BYTES as usize;

struct Kept {
    role: Role,
    content: String,
    model: Option<String>,
    created: Option<i64>,
    finished: Option<i64>,
    /// An assistant text reply to the user: a following one continues it.
    continuable: bool,
    channel: Option<String>,
    /// The images the message shows, as `(asset pointer, name if the export gives one)`;
    /// their files are in the export's zip or folder, found by the pointer's id.
    images: Vec<(String, Option<String>)>,
}

/// Converts one conversation.
fn convert(raw: RawConversation) -> std::result::Result<ConversationTree, Rejected> {
    let project = project_of(&raw).map(|p| project_id(&p.gizmo));
    let source_id = raw
        .conversation_id
        .clone()
        .or_else(|| raw.id.clone())
        .filter(|id| !id.trim().is_empty());
    let problem = |why: String| Rejected {
        why,
        title: raw.title.as_deref().map(|t| t.chars().take(200).collect()),
        id: source_id.clone(),
    };
    let Some(mapping) = raw.mapping else {
        return Err(problem(
            "it has no `mapping` (the tree of its messages)".into(),
        ));
    };
    let Some(source_id) = source_id.clone() else {
        return Err(problem("it has no `conversation_id` or `id`".into()));
    };
    let default_model = string(raw.default_model_slug.as_ref())
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    let (keys, mut nodes): (Vec<String>, Vec<RawNode>) = mapping.0.into_iter().unzip();
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        if index.insert(key.as_str(), i).is_some() {
            return Err(problem(format!("node {key} appears twice in its mapping")));
        }
    }
    let mut parent = Vec::with_capacity(nodes.len());
    for (key, node) in keys.iter().zip(&nodes) {
        parent.push(match &node.parent {
            None => None,
            Some(p) => Some(*index.get(p.as_str()).ok_or_else(|| {
                problem(format!(
                    "node {key} names a parent {p} that is not in its mapping"
                ))
            })?),
        });
    }
    // Siblings in the order their parent lists them (then file order).
    let rank: Vec<usize> = {
        let mut rank = vec![usize::MAX; nodes.len()];
        for (p, node) in nodes.iter().enumerate() {
            for (pos, child) in node.children.iter().flatten().enumerate() {
                if let Some(&c) = index.get(child.as_str()) {
                    if parent[c] == Some(p) && rank[c] == usize::MAX {
                        rank[c] = pos;
                    }
                }
            }
        }
        rank
    };
    let order = parents_first(&parent, |a, b| rank[a].cmp(&rank[b]).then(a.cmp(&b)))
        .map_err(|i| problem(format!("its mapping has a cycle through node {}", keys[i])))?;
    let mut child_count = vec![0u32; nodes.len()];
    for p in parent.iter().flatten() {
        child_count[*p] += 1;
    }

    let id_of = |key: &str| format!("{SOURCE}:{source_id}:{key}");
    let mut out: Vec<Message> = Vec::new();
    let mut images: Vec<(usize, (String, Option<String>))> = Vec::new();
    // For each output message: its parent's position in `out`, and whether its last
    // piece is assistant text (and on which channel), which a following text continues.
    let mut out_parent: Vec<Option<usize>> = Vec::new();
    let mut out_continuable: Vec<(bool, Option<String>)> = Vec::new();
    let mut unknown_time: Vec<bool> = Vec::new();
    let mut out_bytes = 0usize;
    // For each node: the output message that stands for it in the tree (itself, the one
    // it joined, or its nearest kept ancestor), the assistant message a following
    // assistant or tool step on the same unbranched path joins (one turn in ChatGPT),
    // and reasoning waiting for the next kept message.
    let mut anchor: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut turn: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut pending: Vec<Option<Rc<Reasoning>>> = vec![None; nodes.len()];
    let mut canvas = CanvasNames::default();

    for &i in &order {
        let p = parent[i];
        let above = p.and_then(|p| anchor[p]);
        // A step joins the turn above only if it is that node's one child: siblings are
        // regenerations, each its own reply.
        let joins = p.filter(|&p| child_count[p] == 1).and_then(|p| turn[p]);
        let inherited = p.and_then(|p| pending[p].clone());
        match classify(nodes[i].message.take(), &mut canvas) {
            Turn::Skipped { reasoning } => {
                anchor[i] = above;
                turn[i] = joins;
                pending[i] = Reasoning::after(inherited, reasoning);
            }
            Turn::Kept(mut kept) => {
                let shown = std::mem::take(&mut kept.images);
                let reasoning = inherited.map(|r| r.joined());
                out_bytes += kept.content.len() + reasoning.as_ref().map_or(0, String::len);
                if out_bytes > MAX_CONVERTED_BYTES {
                    return Err(problem(format!(
                        "it expands to more than {} MiB of text",
                        MAX_CONVERTED_BYTES >> 20
                    )));
                }
                let model = if kept.role == Role::Assistant {
                    kept.model.or_else(|| default_model.clone())
                } else {
                    None
                };
                match joins.filter(|_| kept.role == Role::Assistant) {
                    Some(o) => {
                        let (text_before, channel_before) = &out_continuable[o];
                        let sep = if *text_before
                            && kept.continuable
                            && reasoning.is_none()
                            && *channel_before == kept.channel
                        {
                            ""
                        } else {
                            "\n\n"
                        };
                        let message = &mut out[o];
                        message.content.push_str(sep);
                        message.content.push_str(&kept.content);
                        if let Some(r) = reasoning {
                            match &mut message.reasoning {
                                Some(before) => {
                                    before.push_str("\n\n");
                                    before.push_str(&r);
                                }
                                None => message.reasoning = Some(r),
                            }
                        }
                        if message.model.is_none() {
                            message.model = model;
                        }
                        if let Some(f) = kept.finished.or(kept.created) {
                            message.finished_at = Some(f);
                        }
                        if unknown_time[o] && kept.created.is_some() {
                            message.created_at = kept.created.unwrap_or(0);
                            unknown_time[o] = false;
                        }
                        out_continuable[o] = (kept.continuable, kept.channel);
                        anchor[i] = Some(o);
                        turn[i] = Some(o);
                        images.extend(shown.into_iter().map(|img| (o, img)));
                    }
                    None => {
                        let o = out.len();
                        unknown_time.push(kept.created.is_none());
                        out.push(Message {
                            id: id_of(&keys[i]),
                            conversation_id: format!("{SOURCE}:{source_id}"),
                            parent_id: above.map(|a| out[a].id.clone()),
                            role: kept.role,
                            content: kept.content,
                            reasoning,
                            status: MessageStatus::Complete,
                            error: None,
                            provider_id: None,
                            model,
                            tokens_in: None,
                            tokens_out: None,
                            created_at: kept.created.unwrap_or(0),
                            finished_at: kept.finished.or(kept.created),
                        });
                        out_parent.push(above);
                        out_continuable.push((kept.continuable, kept.channel));
                        anchor[i] = Some(o);
                        turn[i] = (kept.role == Role::Assistant).then_some(o);
                        images.extend(shown.into_iter().map(|img| (o, img)));
                    }
                }
            }
        }
    }

    for m in &mut out {
        let trimmed = m.content.trim();
        if trimmed.len() != m.content.len() {
            m.content = trimmed.to_owned();
        }
    }
    let head = raw
        .current_node
        .as_deref()
        .and_then(|key| index.get(key))
        .and_then(|&i| anchor[i])
        .or_else(|| latest_leaf(&out, &out_parent));
    let times = Times::settle(
        raw.create_time.ms(),
        raw.update_time.ms(),
        &mut out,
        &unknown_time,
    );
    let title = raw
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| title_from_path(&out, &out_parent, head));
    Ok(ConversationTree {
        conversation: Conversation {
            id: format!("{SOURCE}:{source_id}"),
            title,
            created_at: times.created,
            updated_at: times.updated,
            provider_id: None,
            model: None,
            system_prompt: None,
            params_json: None,
            pinned: false,
            archived: raw.is_archived.unwrap_or(false),
            source: Some(SOURCE.into()),
            source_id: Some(source_id),
            head_message_id: head.map(|h| out[h].id.clone()),
            project_id: project,
        },
        attachments: wanted_images(&out, images),
        messages: out,
        tool_calls: Vec::new(),
    })
}

/// What the images of the messages are, before their files are found: an attachment
/// whose `sha256` is empty and whose `id` is the asset pointer (see
/// [`super::assets`]), numbered per message.
fn wanted_images(
    messages: &[Message],
    images: Vec<(usize, (String, Option<String>))>,
) -> Vec<hearth_vault::Attachment> {
    let mut positions: HashMap<usize, u32> = HashMap::new();
    images
        .into_iter()
        .map(|(o, (pointer, name))| {
            let position = positions.entry(o).or_insert(0);
            let a = hearth_vault::Attachment {
                id: pointer,
                message_id: messages[o].id.clone(),
                position: *position,
                name: name.unwrap_or_default(),
                media_type: String::new(),
                size: 0,
                sha256: String::new(),
            };
            *position += 1;
            a
        })
        .collect()
}

/// A conversation's times, and messages without one given the conversation's.
pub(crate) struct Times {
    pub(crate) created: i64,
    pub(crate) updated: i64,
}

impl Times {
    /// The conversation's creation time is its own, else its earliest message's, else
    /// its update time; its update time is its own, else its latest message's, else its
    /// creation time. A message without a time gets the conversation's creation time.
    pub(crate) fn settle(
        created: Option<i64>,
        updated: Option<i64>,
        messages: &mut [Message],
        unknown: &[bool],
    ) -> Times {
        let known = || {
            messages
                .iter()
                .zip(unknown)
                .filter(|(_, u)| !**u)
                .map(|(m, _)| m.created_at)
        };
        let created = created.or_else(|| known().min()).or(updated).unwrap_or(0);
        let updated = updated
            .or_else(|| known().max())
            .unwrap_or(created)
            .max(created);
        for (m, u) in messages.iter_mut().zip(unknown) {
            if *u {
                m.created_at = created;
                m.finished_at = Some(m.finished_at.unwrap_or(created));
            }
        }
        Times { created, updated }
    }
}

/// A title from the first user message on the visible branch, else "Untitled".
pub(crate) fn title_from_path(
    messages: &[Message],
    parent: &[Option<usize>],
    head: Option<usize>,
) -> String {
    let mut path = Vec::new();
    let mut at = head;
    while let Some(i) = at {
        path.push(i);
        at = parent[i];
    }
    path.iter()
        .rev()
        .map(|&i| &messages[i])
        .find(|m| m.role == Role::User)
        .map(|m| title_from(&m.content))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "Untitled".into())
}

/// The most recent message with no children (the last one on a tie), when the export
/// does not say which branch was visible.
pub(crate) fn latest_leaf(messages: &[Message], parent: &[Option<usize>]) -> Option<usize> {
    let mut has_child = vec![false; messages.len()];
    for p in parent.iter().flatten() {
        has_child[*p] = true;
    }
    (0..messages.len())
        .filter(|&i| !has_child[i])
        .max_by_key(|&i| (messages[i].created_at, i))
}

/// The nodes ordered so that every parent comes before its children (depth first from
/// each root, siblings in `sibling_order`). `Err` names a node in a cycle.
pub(crate) fn parents_first(
    parent: &[Option<usize>],
    sibling_order: impl Fn(usize, usize) -> std::cmp::Ordering,
) -> std::result::Result<Vec<usize>, usize> {
    let n = parent.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        match p {
            Some(p) => children[*p].push(i),
            None => roots.push(i),
        }
    }
    let mut order = Vec::with_capacity(n);
    let mut stack: Vec<usize> = Vec::new();
    roots.sort_by(|&a, &b| sibling_order(a, b));
    stack.extend(roots.iter().rev());
    while let Some(i) = stack.pop() {
        order.push(i);
        let kids = &mut children[i];
        kids.sort_by(|&a, &b| sibling_order(a, b));
        stack.extend(kids.iter().rev());
    }
    if order.len() == n {
        return Ok(order);
    }
    // Whatever was not reached hangs below a cycle: follow parents until one repeats.
    let mut reached = vec![false; n];
    for &i in &order {
        reached[i] = true;
    }
    let start = (0..n).find(|&i| !reached[i]).unwrap_or(0);
    let mut seen = vec![false; n];
    let mut at = start;
    while !seen[at] {
        seen[at] = true;
        match parent[at] {
            Some(p) => at = p,
            None => break,
        }
    }
    Err(at)
}

fn string(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

fn is_true(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true)))
}

/// The names of the Canvas documents made so far in a conversation, for labelling
/// their updates (an update names only the document's id, or nothing).
#[derive(Default)]
struct CanvasNames {
    by_id: HashMap<String, String>,
    last: Option<String>,
}

/// Tools whose work ChatGPT shows behind "show work": the code sent to them and what it
/// printed are kept.
const CODE_TOOLS: &[&str] = &["python", "python_user_visible"];

/// Decides whether a node is shown, and renders it.
fn classify(message: Option<RawMessage>, canvas: &mut CanvasNames) -> Turn {
    let skipped = Turn::Skipped { reasoning: None };
    let Some(m) = message else {
        return skipped;
    };
    let meta = m.metadata.unwrap_or_default();
    let content = m.content.unwrap_or_default();
    let (role, author_name) = match m.author {
        Some(a) => (
            a.role.unwrap_or_default(),
            string(a.name.as_ref()).map(str::to_owned),
        ),
        None => (String::new(), None),
    };
    let kind = content.content_type.as_deref().unwrap_or("text");
    if kind == "thoughts" {
        return Turn::Skipped {
            reasoning: thoughts(content.thoughts.as_ref()),
        };
    }
    if is_true(meta.is_visually_hidden_from_conversation.as_ref()) {
        return skipped;
    }
    if role == "system" && !is_true(meta.is_user_system_message.as_ref()) {
        return skipped;
    }
    let created = m.create_time.ms().or(m.update_time.ms());
    let assistant_step = |text: String| {
        if text.trim().is_empty() {
            return Turn::Skipped { reasoning: None };
        }
        Turn::Kept(Kept {
            role: Role::Assistant,
            content: text,
            model: string(meta.model_slug.as_ref()).map(str::to_owned),
            created,
            finished: m.update_time.ms().or(created),
            continuable: false,
            channel: None,
            images: Vec::new(),
        })
    };
    match m.recipient.as_deref() {
        None | Some("all") => {}
        // The assistant talking to a tool: kept only where ChatGPT shows it.
        Some(tool) if role == "assistant" => {
            let text = string(content.text.as_ref()).unwrap_or("");
            if text.trim().is_empty() {
                return skipped;
            }
            return if CODE_TOOLS.contains(&tool) {
                let language = string(content.language.as_ref())
                    .filter(|l| !l.is_empty() && *l != "unknown")
                    .unwrap_or("python");
                assistant_step(format!("[Code: {language}]\n{}", fenced(language, text)))
            } else if tool == "canmore.create_textdoc" {
                assistant_step(canvas.created(text))
            } else if tool == "canmore.update_textdoc" {
                let id = meta
                    .canvas
                    .as_ref()
                    .and_then(|c| c.get("textdoc_id"))
                    .and_then(Value::as_str);
                assistant_step(canvas.updated(text, id))
            } else {
                skipped
            };
        }
        Some(_) => return skipped,
    }
    let images = tool_images(&content, meta.aggregate_result.as_ref());
    if role == "tool" {
        if kind == "execution_output"
            && author_name
                .as_deref()
                .is_some_and(|n| CODE_TOOLS.contains(&n))
        {
            let mut text = match string(content.text.as_ref()).filter(|t| !t.trim().is_empty()) {
                Some(t) => format!("[Code output]\n{}", fenced("", t)),
                None => String::new(),
            };
            for _ in 0..images {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str("[image]");
            }
            return assistant_step(text);
        }
        // The tool's answer to a new Canvas document gives its id, which updates name.
        if author_name.as_deref() == Some("canmore.create_textdoc") {
            let id = meta
                .canvas
                .as_ref()
                .and_then(|c| c.get("textdoc_id"))
                .and_then(Value::as_str);
            if let (Some(id), Some(name)) = (id, canvas.last.clone()) {
                canvas.name(id, &name);
            }
        }
        // Other tool output is noise, except the images it made (DALL·E, charts).
        if images == 0 || HIDDEN_CONTENT.contains(&kind) {
            return skipped;
        }
        let text = if kind == "execution_output" {
            vec!["[image]"; images].join("\n\n")
        } else {
            render(kind, &content, &mut Vec::new())
        };
        let mut step = assistant_step(strip_citations(&text).into_owned());
        if let Turn::Kept(kept) = &mut step {
            kept.images = image_pointers(&content, &[]);
        }
        return step;
    }
    let role = match role.as_str() {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "system" => Role::System,
        _ => return skipped,
    };
    if HIDDEN_CONTENT.contains(&kind) {
        return skipped;
    }
    let mut attachments = if role == Role::User {
        attachments(meta.attachments.as_ref())
    } else {
        Vec::new()
    };
    let images = image_pointers(&content, &attachments);
    let mut text = render(kind, &content, &mut attachments);
    for a in attachments.iter().filter(|a| !a.used) {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&format!("[Attachment: {}]", a.name));
    }
    // Outer whitespace stays until continuations are joined ("It is a " + "cat.").
    let text = strip_citations(&text).into_owned();
    if text.trim().is_empty() {
        return skipped;
    }
    Turn::Kept(Kept {
        continuable: role == Role::Assistant && kind == "text",
        role,
        content: text,
        model: (role == Role::Assistant)
            .then(|| string(meta.model_slug.as_ref()).map(str::to_owned))
            .flatten(),
        created,
        finished: m.update_time.ms().or(created),
        channel: m.channel,
        images,
    })
}

impl CanvasNames {
    /// A new Canvas document (`{"name", "type", "content"}`), labelled with its name.
    fn created(&mut self, text: &str) -> String {
        let Ok(doc) = serde_json::from_str::<Value>(text) else {
            return format!("[Canvas]\n{}", fenced("", text));
        };
        let name = string(doc.get("name"))
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("Untitled")
            .to_owned();
        let body = string(doc.get("content")).unwrap_or("");
        let info = canvas_language(string(doc.get("type")));
        self.last = Some(name.clone());
        format!("[Canvas: {name}]\n{}", fenced(info, body))
    }

    /// Changes to a Canvas document (`{"updates": [{"pattern", "replacement",
    /// "multiple"}]}`): a full rewrite (pattern `.*`) shows the new text; others show
    /// what was replaced by what.
    fn updated(&mut self, text: &str, id: Option<&str>) -> String {
        let name = id
            .and_then(|id| self.by_id.get(id))
            .or(self.last.as_ref())
            .map(|n| format!("[Canvas update: {n}]"))
            .unwrap_or_else(|| "[Canvas update]".into());
        let updates = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("updates").and_then(Value::as_array).cloned());
        let Some(updates) = updates else {
            return format!("{name}\n{}", fenced("", text));
        };
        let mut out = name;
        for u in &updates {
            let pattern = string(u.get("pattern")).unwrap_or("");
            let replacement = string(u.get("replacement")).unwrap_or("");
            if pattern == ".*" {
                out.push_str(&format!("\n{}", fenced("", replacement)));
            } else {
                let every = if is_true(u.get("multiple")) {
                    "every match of"
                } else {
                    "the first match of"
                };
                out.push_str(&format!(
                    "\nReplace {every}\n{}\nwith\n{}",
                    fenced("", pattern),
                    fenced("", replacement)
                ));
            }
        }
        out
    }

    /// Remembers the name of the document with `id` (from the tool's answer).
    fn name(&mut self, id: &str, name: &str) {
        self.by_id.insert(id.to_owned(), name.to_owned());
    }
}

/// The fence info for a Canvas document's `type`: `document` is Markdown, `code/rust`
/// is Rust.
fn canvas_language(kind: Option<&str>) -> &str {
    match kind {
        Some("document") | None => "markdown",
        Some(k) => k.strip_prefix("code/").unwrap_or(k),
    }
}

/// A file attached to a user message (the file itself is not in the export).
struct Attached<'a> {
    id: Option<&'a str>,
    name: &'a str,
    image: bool,
    /// Already shown where its image part is.
    used: bool,
}

/// The files attached to a message.
fn attachments(attachments: Option<&Value>) -> Vec<Attached<'_>> {
    attachments
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|a| {
                    let name = a.get("name").and_then(Value::as_str)?.trim();
                    (!name.is_empty()).then(|| Attached {
                        id: a
                            .get("id")
                            .and_then(Value::as_str)
                            .filter(|i| !i.is_empty()),
                        name,
                        image: a
                            .get("mime_type")
                            .and_then(Value::as_str)
                            .is_some_and(|m| m.starts_with("image/")),
                        used: false,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The images among a message's parts, each with the name of the upload it is when
/// `attachments` names it by id.
fn image_pointers(
    content: &RawContent,
    attachments: &[Attached<'_>],
) -> Vec<(String, Option<String>)> {
    content
        .parts
        .iter()
        .flatten()
        .filter(|p| p.get("content_type").and_then(Value::as_str) == Some("image_asset_pointer"))
        .filter_map(|p| p.get("asset_pointer").and_then(Value::as_str))
        .filter(|pointer| !pointer.is_empty() && pointer.len() <= 512)
        .map(|pointer| {
            let name = attachments
                .iter()
                .find(|a| a.id.is_some_and(|id| pointer.ends_with(id)))
                .map(|a| a.name.to_owned());
            (pointer.to_owned(), name)
        })
        .collect()
}

/// The marker for an uploaded image: the attachment it is (by id, else the next image
/// attachment not yet shown), by name, once.
fn image_marker(pointer: Option<&str>, attachments: &mut [Attached<'_>]) -> Cow<'static, str> {
    let by_id = pointer.and_then(|p| {
        attachments
            .iter()
            .position(|a| !a.used && a.id.is_some_and(|id| p.ends_with(id)))
    });
    let found = by_id.or_else(|| attachments.iter().position(|a| !a.used && a.image));
    match found {
        Some(i) => {
            attachments[i].used = true;
            Cow::Owned(format!("[Attachment: {}]", attachments[i].name))
        }
        None => Cow::Borrowed("[image]"),
    }
}

/// A message's text: `parts` for text and multimodal messages, a fenced block for code,
/// and for anything else `text`, then `result`, then a marker naming the type.
fn render(kind: &str, content: &RawContent, attachments: &mut [Attached<'_>]) -> String {
    match (kind, &content.parts) {
        ("text", Some(parts)) if parts.iter().all(|p| p.is_string() || p.is_null()) => {
            parts.iter().filter_map(Value::as_str).collect()
        }
        (_, Some(parts)) if kind == "text" || kind == "multimodal_text" => {
            let mut pieces: Vec<Cow<'_, str>> = Vec::new();
            let mut audio = false;
            for part in parts {
                match part {
                    Value::String(s) => pieces.push(Cow::Borrowed(s)),
                    Value::Object(o) => {
                        let kind = o.get("content_type").and_then(Value::as_str);
                        match kind {
                            Some("image_asset_pointer") => {
                                let prompt = o
                                    .get("metadata")
                                    .and_then(|m| m.get("dalle"))
                                    .and_then(|d| d.get("prompt"))
                                    .and_then(Value::as_str)
                                    .map(str::trim)
                                    .filter(|p| !p.is_empty());
                                pieces.push(match prompt {
                                    Some(p) => Cow::Owned(format!("[image: {p}]")),
                                    None => image_marker(
                                        o.get("asset_pointer").and_then(Value::as_str),
                                        attachments,
                                    ),
                                });
                            }
                            Some(
                                "audio_asset_pointer" | "real_time_user_audio_video_asset_pointer",
                            ) => audio = true,
                            _ => match o.get("text").and_then(Value::as_str) {
                                Some(t) => pieces.push(Cow::Borrowed(t)),
                                None => pieces.push(Cow::Owned(format!(
                                    "[unsupported: {}]",
                                    kind.unwrap_or("unknown")
                                ))),
                            },
                        }
                    }
                    _ => {}
                }
            }
            let text = pieces
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            if text.is_empty() && audio {
                "[audio]".into()
            } else {
                text
            }
        }
        ("code", _) => {
            let language = string(content.language.as_ref())
                .filter(|l| *l != "unknown")
                .unwrap_or("");
            fenced(language, string(content.text.as_ref()).unwrap_or(""))
        }
        _ => string(content.text.as_ref())
            .or(string(content.result.as_ref()))
            .map(str::to_owned)
            .unwrap_or_else(|| format!("[unsupported: {kind}]")),
    }
}

/// The reasoning summaries of a `thoughts` message.
fn thoughts(thoughts: Option<&Value>) -> Option<String> {
    let text = thoughts?
        .as_array()?
        .iter()
        .map(|t| {
            [t.get("summary"), t.get("content")]
                .into_iter()
                .filter_map(|v| string(v).map(str::trim))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    (!text.is_empty()).then_some(text)
}

/// How many images a tool message carries (DALL·E results, code-interpreter charts).
fn tool_images(content: &RawContent, aggregate: Option<&Value>) -> usize {
    let in_parts = content
        .parts
        .iter()
        .flatten()
        .filter(|p| p.get("content_type").and_then(Value::as_str) == Some("image_asset_pointer"))
        .count();
    let in_output = aggregate
        .and_then(|a| a.get("messages"))
        .and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .filter(|m| m.get("message_type").and_then(Value::as_str) == Some("image"))
                .count()
        })
        .unwrap_or(0);
    in_parts + in_output
}

/// Removes citation markers a reader would see as garbage: the private-use
/// `U+E200 … U+E201` spans of newer exports and the `【12†source】` marks of older ones.
///
/// One pass: where the next closing mark is, is remembered rather than searched for
/// again at every opening one (searching made 300,000 unclosed markers take 14 s).
fn strip_citations(text: &str) -> Cow<'_, str> {
    if !text.contains(['\u{e200}', '\u{e201}', '\u{e202}', '【']) {
        return Cow::Borrowed(text);
    }
    /// The next `mark` at or after `from`, reusing `cached` while it is still ahead.
    fn next_at(
        text: &str,
        mark: char,
        from: usize,
        cached: &mut Option<Option<usize>>,
    ) -> Option<usize> {
        match *cached {
            Some(Some(at)) if at >= from => Some(at),
            // None found before: there is none further on either.
            Some(None) => None,
            _ => {
                let found = text[from..].find(mark).map(|i| i + from);
                *cached = Some(found);
                found
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut close_span: Option<Option<usize>> = None;
    let mut close_mark: Option<Option<usize>> = None;
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        let after = at + c.len_utf8();
        match c {
            '\u{e200}' => {
                at = match next_at(text, '\u{e201}', after, &mut close_span) {
                    Some(end) => end + '\u{e201}'.len_utf8(),
                    None => after,
                };
                continue;
            }
            '\u{e201}' | '\u{e202}' => {}
            '【' => {
                if let Some(end) = next_at(text, '】', after, &mut close_mark) {
                    // At most 80 characters of at most 4 bytes; longer is no citation.
                    let inner = &text[after..end];
                    if inner.len() <= 320 && inner.contains('†') && inner.chars().count() <= 80 {
                        at = end + '】'.len_utf8();
                        continue;
                    }
                }
                out.push(c);
            }
            _ => out.push(c),
        }
        at = after;
    }
    Cow::Owned(out)
}

/// `text` in a fenced code block whose fence is longer than any run of backticks in it.
pub(crate) fn fenced(info: &str, text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let body = text.strip_suffix('\n').unwrap_or(text);
    format!("{fence}{info}\n{body}\n{fence}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn node(id: &str, parent: Option<&str>, children: &[&str], message: Value) -> (String, Value) {
        (
            id.to_owned(),
            json!({"id": id, "parent": parent, "children": children, "message": message}),
        )
    }

    fn msg(role: &str, text: &str, time: f64) -> Value {
        json!({
            "author": {"role": role, "name": null, "metadata": {}},
            "create_time": time, "update_time": null,
            "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully", "recipient": "all",
            "metadata": {"model_slug": "gpt-4o"}
        })
    }

    fn conversation(nodes: Vec<(String, Value)>, current: &str) -> Value {
        let mapping: serde_json::Map<String, Value> = nodes.into_iter().collect();
        json!({
            "title": "Test", "create_time": 1_700_000_000.25, "update_time": 1_700_000_100.5,
            "conversation_id": "conv-1", "current_node": current, "mapping": mapping,
        })
    }

    fn convert_json(v: Value) -> std::result::Result<ConversationTree, String> {
        let raw: RawConversation = serde_json::from_value(v).unwrap();
        convert(raw).map_err(|p| p.locate("c.json", 0).to_error().to_string())
    }

    fn visible(tree: &ConversationTree) -> Vec<(Role, String)> {
        let by_id: HashMap<&str, &Message> =
            tree.messages.iter().map(|m| (m.id.as_str(), m)).collect();
        let mut path = Vec::new();
        let mut at = tree.conversation.head_message_id.as_deref();
        while let Some(id) = at {
            let m = by_id[id];
            path.push((m.role, m.content.clone()));
            at = m.parent_id.as_deref();
        }
        path.reverse();
        path
    }

    #[test]
    fn conversations_of_a_chatgpt_project_go_into_one_project_made_before_the_first() {
        let chat = |id: &str, gizmo: Value, template: Value, time: f64| {
            let mut c = conversation(
                vec![
                    node("root", None, &["u"], Value::Null),
                    node("u", Some("root"), &[], msg("user", id, time)),
                ],
                "u",
            );
            c["conversation_id"] = id.into();
            c["create_time"] = time.into();
            c["gizmo_id"] = gizmo;
            c["conversation_template_id"] = template;
            c
        };
        let export = json!([
            chat("plain", Value::Null, Value::Null, 1.0),
            chat(
                "in-a",
                "g-p-67f0a2c3b4d58191a1e2f3a4b5c6d7e8".into(),
                "g-p-67f0a2c3b4d58191a1e2f3a4b5c6d7e8".into(),
                2.0
            ),
            chat("gpt", "g-pmuQfob8d".into(), "g-pmuQfob8d".into(), 3.0),
            chat("in-b", Value::Null, "g-p-0123456789abcdef".into(), 4.0),
            chat(
                "in-a-too",
                "g-p-67f0a2c3b4d58191a1e2f3a4b5c6d7e8".into(),
                Value::Null,
                5.0
            ),
            chat("bare-prefix", "g-p-".into(), Value::Null, 6.0),
        ])
        .to_string();
        let mut order = Vec::new();
        let mut projects = Vec::new();
        read(export.as_bytes(), "conversations.json", &mut |piece| {
            match piece {
                Piece::Project(p) => {
                    order.push(format!("project {}", p.project.id));
                    projects.push(*p);
                }
                Piece::Tree(t) => order.push(format!(
                    "{} in {:?}",
                    t.conversation.id, t.conversation.project_id
                )),
                _ => panic!("unexpected piece"),
            }
            Ok(())
        })
        .unwrap();
        let a = "chatgpt:g-p-67f0a2c3b4d58191a1e2f3a4b5c6d7e8";
        let b = "chatgpt:g-p-0123456789abcdef";
        assert_eq!(
            order,
            [
                "chatgpt:plain in None".to_owned(),
                format!("project {a}"),
                format!("chatgpt:in-a in Some({a:?})"),
                "chatgpt:gpt in None".to_owned(),
                format!("project {b}"),
                format!("chatgpt:in-b in Some({b:?})"),
                format!("chatgpt:in-a-too in Some({a:?})"),
                "chatgpt:bare-prefix in None".to_owned(),
            ]
        );
        let p = &projects[0].project;
        assert_eq!(p.name, "ChatGPT project 67f0a2c3");
        assert_eq!(
            (p.source.as_deref(), p.source_id.as_deref()),
            (
                Some("chatgpt"),
                Some("g-p-67f0a2c3b4d58191a1e2f3a4b5c6d7e8")
            )
        );
        assert_eq!((p.created_at, p.updated_at), (2000, 2000));
        assert!(p.instructions.is_empty() && projects[0].files.is_empty());
        assert_eq!(projects[1].project.name, "ChatGPT project 01234567");

        // A name, should the export give one.
        let mut named = chat("n", "g-p-abc".into(), Value::Null, 1.0);
        named["project_name"] = "  Kitchen\nrenovation ".into();
        let raw: RawConversation = serde_json::from_value(named).unwrap();
        let project = project_of(&raw).unwrap();
        let first = convert(raw).ok().unwrap();
        assert_eq!(project.tree(&first).project.name, "Kitchen renovation");
    }

    #[test]
    fn branches_are_kept_and_current_node_is_visible() {
        let tree = convert_json(conversation(
            vec![
                node("root", None, &["sys"], Value::Null),
                node(
                    "sys",
                    Some("root"),
                    &["u1", "u1b"],
                    json!({"author": {"role": "system"}, "content": {"content_type": "text", "parts": [""]}, "recipient": "all"}),
                ),
                node("u1", Some("sys"), &["a1"], msg("user", "first try", 1.0)),
                node("a1", Some("u1"), &[], msg("assistant", "answer one", 2.0)),
                node("u1b", Some("sys"), &["a2", "a3"], msg("user", "edited", 3.0)),
                node("a2", Some("u1b"), &[], msg("assistant", "answer two", 4.0)),
                node("a3", Some("u1b"), &[], msg("assistant", "regenerated", 5.0)),
            ],
            "a3",
        ))
        .unwrap();
        assert_eq!(tree.messages.len(), 5);
        assert_eq!(
            visible(&tree),
            vec![
                (Role::User, "edited".into()),
                (Role::Assistant, "regenerated".into())
            ]
        );
        let u1 = &tree.messages[0];
        assert_eq!(u1.id, "chatgpt:conv-1:u1");
        assert_eq!(u1.parent_id, None, "the hidden system root is skipped");
        assert_eq!(u1.created_at, 1000);
        assert_eq!(tree.conversation.created_at, 1_700_000_000_250);
        assert_eq!(tree.conversation.updated_at, 1_700_000_100_500);
        assert_eq!(tree.messages[4].model.as_deref(), Some("gpt-4o"));
        assert!(tree
            .messages
            .iter()
            .all(|m| m.status == MessageStatus::Complete));
    }

    #[test]
    fn code_and_its_output_are_kept_in_the_reply_and_the_tree_goes_through_hidden_steps() {
        let code = json!({
            "author": {"role": "assistant"}, "recipient": "python", "create_time": 2.0,
            "content": {"content_type": "code", "language": "python", "text": "print(1+1)"}
        });
        let output = json!({
            "author": {"role": "tool", "name": "python"}, "create_time": 3.0, "recipient": "all",
            "content": {"content_type": "execution_output", "text": "2"}
        });
        let thoughts = json!({
            "author": {"role": "assistant"}, "recipient": "all", "create_time": 3.5,
            "content": {"content_type": "thoughts", "thoughts": [{"summary": "Adding", "content": "one plus one"}]}
        });
        let tree = convert_json(conversation(
            vec![
                node("u", None, &["c"], msg("user", "what is 1+1?", 1.0)),
                node("c", Some("u"), &["o"], code),
                node("o", Some("c"), &["t"], output),
                node("t", Some("o"), &["a"], thoughts),
                node("a", Some("t"), &[], msg("assistant", "It is 2.", 4.0)),
            ],
            "a",
        ))
        .unwrap();
        assert_eq!(tree.messages.len(), 2);
        assert_eq!(
            tree.messages[1].parent_id.as_deref(),
            Some("chatgpt:conv-1:u")
        );
        assert_eq!(
            tree.messages[1].content,
            "[Code: python]\n```python\nprint(1+1)\n```\n\n[Code output]\n```\n2\n```\n\nIt is 2."
        );
        assert_eq!(
            tree.messages[1].reasoning.as_deref(),
            Some("Adding\none plus one")
        );
    }

    fn step(role: &str, recipient: &str, content: Value, time: f64) -> Value {
        json!({
            "author": {"role": role, "name": if role == "tool" { json!(recipient) } else { Value::Null }},
            "create_time": time, "recipient": if role == "tool" { "all" } else { recipient },
            "content": content, "metadata": {}
        })
    }

    #[test]
    fn canvas_documents_and_their_updates_are_kept_with_their_title() {
        let doc = json!({"name": "Trip plan", "type": "document", "content": "# Lisbon\n\nDay 1: Alfama"});
        let update = json!({"updates": [
            {"pattern": ".*", "multiple": false, "replacement": "# Lisbon\n\nDay 1: Belém"},
            {"pattern": "Belém", "multiple": true, "replacement": "Sintra"}
        ]});
        let code_doc = json!({"name": "fib", "type": "code/rust", "content": "fn fib() {}"});
        let tree = convert_json(conversation(
            vec![
                node("u", None, &["c"], msg("user", "Plan a trip", 1.0)),
                node("c", Some("u"), &["r"], step("assistant", "canmore.create_textdoc",
                    json!({"content_type": "code", "language": "json", "text": doc.to_string()}), 2.0)),
                node("r", Some("c"), &["a"], {
                    let mut r = step("tool", "canmore.create_textdoc",
                        json!({"content_type": "text", "parts": ["Successfully created text document 'Trip plan'"]}), 3.0);
                    r["metadata"] = json!({"canvas": {"textdoc_id": "doc-1"}});
                    r
                }),
                node("a", Some("r"), &["u2"], msg("assistant", "I drafted it.", 4.0)),
                node("u2", Some("a"), &["e"], msg("user", "Go to Belém, then Sintra", 5.0)),
                node("e", Some("u2"), &["k"], {
                    let mut e = step("assistant", "canmore.update_textdoc",
                        json!({"content_type": "code", "text": update.to_string()}), 6.0);
                    e["metadata"] = json!({"canvas": {"textdoc_id": "doc-1"}});
                    e
                }),
                node("k", Some("e"), &[], step("assistant", "canmore.create_textdoc",
                    json!({"content_type": "code", "text": code_doc.to_string()}), 7.0)),
            ],
            "k",
        ))
        .unwrap();
        let path = visible(&tree);
        assert_eq!(path.len(), 4, "{path:?}");
        assert_eq!(
            path[1].1,
            "[Canvas: Trip plan]\n```markdown\n# Lisbon\n\nDay 1: Alfama\n```\n\nI drafted it."
        );
        assert_eq!(
            path[3].1,
            "[Canvas update: Trip plan]\n```\n# Lisbon\n\nDay 1: Belém\n```\n\
             Replace every match of\n```\nBelém\n```\nwith\n```\nSintra\n```\n\n\
             [Canvas: fib]\n```rust\nfn fib() {}\n```"
        );
        assert!(tree
            .messages
            .iter()
            .all(|m| !m.content.contains("Successfully created")));
    }

    #[test]
    fn a_tool_step_and_the_text_after_it_are_one_turn_and_branches_stay_apart() {
        let dalle = json!({
            "author": {"role": "tool", "name": "dalle.text2im"}, "create_time": 3.0, "recipient": "all",
            "content": {"content_type": "multimodal_text", "parts": [
                {"content_type": "image_asset_pointer", "asset_pointer": "file-service://f", "metadata": {"dalle": {"prompt": "A cat"}}}
            ]}
        });
        let tree = convert_json(conversation(
            vec![
                node("u", None, &["alt", "d"], msg("user", "Draw a cat", 1.0)),
                node(
                    "alt",
                    Some("u"),
                    &[],
                    msg("assistant", "I cannot draw.", 1.5),
                ),
                node(
                    "d",
                    Some("u"),
                    &["i"],
                    step(
                        "assistant",
                        "dalle.text2im",
                        json!({"content_type": "code", "text": "{\"prompt\": \"A cat\"}"}),
                        2.0,
                    ),
                ),
                node("i", Some("d"), &["t2"], dalle),
                node(
                    "t2",
                    Some("i"),
                    &["u2"],
                    msg("assistant", "Here is your cat.", 5.0),
                ),
                node("u2", Some("t2"), &["x"], msg("user", "Thanks", 6.0)),
                node(
                    "x",
                    Some("u2"),
                    &[],
                    msg("assistant", "You're welcome.", 7.0),
                ),
            ],
            "x",
        ))
        .unwrap();
        assert_eq!(
            visible(&tree),
            vec![
                (Role::User, "Draw a cat".into()),
                (
                    Role::Assistant,
                    "[image: A cat]\n\nHere is your cat.".into()
                ),
                (Role::User, "Thanks".into()),
                (Role::Assistant, "You're welcome.".into()),
            ]
        );
        // The other reply to the question stays its own branch beside the turn.
        let under: Vec<&str> = tree
            .messages
            .iter()
            .filter(|m| m.parent_id.as_deref() == Some("chatgpt:conv-1:u"))
            .map(|m| m.content.as_str())
            .collect();
        assert_eq!(
            under,
            vec!["I cannot draw.", "[image: A cat]\n\nHere is your cat."]
        );
        assert_eq!(tree.messages.len(), 5);
        // No two assistant messages in a row on any path.
        let by_id: HashMap<&str, &Message> =
            tree.messages.iter().map(|m| (m.id.as_str(), m)).collect();
        for m in &tree.messages {
            if let Some(p) = m.parent_id.as_deref() {
                assert!(
                    !(m.role == Role::Assistant && by_id[p].role == Role::Assistant),
                    "{m:?}"
                );
            }
        }
    }

    #[test]
    fn replies_without_a_model_get_the_conversations_default() {
        let mut no_model = msg("assistant", "Hi there", 2.0);
        no_model["metadata"] = json!({});
        let mut c = conversation(
            vec![
                node("u", None, &["a"], msg("user", "Hi", 1.0)),
                node("a", Some("u"), &[], no_model),
            ],
            "a",
        );
        c["default_model_slug"] = json!("gpt-4-turbo");
        let tree = convert_json(c).unwrap();
        assert_eq!(tree.messages[1].model.as_deref(), Some("gpt-4-turbo"));
        assert_eq!(tree.messages[0].model, None, "a user message has no model");
    }

    #[test]
    fn an_uploaded_image_is_marked_once_with_its_name() {
        let upload = json!({
            "author": {"role": "user"}, "create_time": 1.0, "recipient": "all",
            "content": {"content_type": "multimodal_text", "parts": [
                {"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_b2"},
                {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-a1"},
                "Compare these"
            ]},
            "metadata": {"attachments": [
                {"id": "file-a1", "name": "first.png", "mime_type": "image/png"},
                {"id": "file_b2", "name": "second.jpg", "mime_type": "image/jpeg"},
                {"id": "file-c3", "name": "notes.pdf", "mime_type": "application/pdf"}
            ]}
        });
        let tree = convert_json(conversation(vec![node("u", None, &[], upload)], "u")).unwrap();
        assert_eq!(
            tree.messages[0].content,
            "[Attachment: second.jpg]\n\n[Attachment: first.png]\n\nCompare these\n\n[Attachment: notes.pdf]"
        );
    }

    #[test]
    fn a_long_reasoning_chain_keeps_each_text_once() {
        // 20,000 reasoning steps of 200 bytes: copying the text so far into every step
        // held 40 GB; each step now holds its own text only.
        const STEPS: usize = 20_000;
        let piece = "x".repeat(190);
        let mut nodes = vec![node("u", None, &["t0"], msg("user", "Think hard", 1.0))];
        for k in 0..STEPS {
            let next = if k + 1 < STEPS {
                format!("t{}", k + 1)
            } else {
                "a".into()
            };
            nodes.push(node(
                &format!("t{k}"),
                Some(&if k == 0 { "u".into() } else { format!("t{}", k - 1) }),
                &[next.as_str()],
                json!({
                    "author": {"role": "assistant"}, "recipient": "all", "create_time": 2.0,
                    "content": {"content_type": "thoughts", "thoughts": [{"summary": format!("{k:06}"), "content": piece}]}
                }),
            ));
        }
        nodes.push(node(
            "a",
            Some(&format!("t{}", STEPS - 1)),
            &[],
            msg("assistant", "Done.", 3.0),
        ));
        let tree = convert_json(conversation(nodes, "a")).unwrap();
        let reasoning = tree.messages[1].reasoning.as_deref().unwrap();
        let one = format!("000000\n{piece}").len();
        assert_eq!(reasoning.len(), STEPS * one + (STEPS - 1) * 2);
        assert!(reasoning.starts_with("000000\n") && reasoning.contains("\n\n019999\n"));

        // The pending chain itself: every step holds only its own piece.
        let mut chain = None;
        for k in 0..STEPS {
            chain = Reasoning::after(chain, Some(format!("{k:06}")));
        }
        let mut held = 0;
        let mut at = chain.as_deref();
        while let Some(r) = at {
            held += r.own_bytes();
            at = r.before.as_deref();
        }
        assert_eq!(held, STEPS * 6);
    }

    #[test]
    fn citations_are_removed_in_one_pass_however_many_markers_are_unclosed() {
        // A million opening markers with no closing one: each is dropped, the text kept.
        let text = "a\u{e200}b".repeat(1_000_000);
        assert_eq!(strip_citations(&text), "ab".repeat(1_000_000));
        let text = "a【b".repeat(1_000_000);
        assert_eq!(strip_citations(&text), text);
        // Unclosed markers before real citations do not hide them.
        assert_eq!(
            strip_citations("Paris\u{e200}cite\u{e202}t1\u{e201} big【3†source】! x\u{e200}y【z"),
            "Paris big! xy【z"
        );
        assert_eq!(
            strip_citations("【1†a】【2†b】 and 【no】 and 【x】"),
            " and 【no】 and 【x】"
        );
        let long = format!("【{}†】", "y".repeat(100));
        assert_eq!(
            strip_citations(&long),
            long,
            "longer than 80 characters: not a citation"
        );
    }

    #[test]
    fn continuations_join_and_images_become_placeholders() {
        let image = json!({
            "author": {"role": "user"}, "create_time": 1.0, "recipient": "all",
            "content": {"content_type": "multimodal_text", "parts": [
                {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-1", "width": 10},
                "what is this?"
            ]},
            "metadata": {"attachments": [{"name": "photo.png", "mime_type": "image/png"}]}
        });
        let tree = convert_json(conversation(
            vec![
                node("u", None, &["a"], image),
                node("a", Some("u"), &["b"], msg("assistant", "It is a ", 2.0)),
                node("b", Some("a"), &[], msg("assistant", "cat.", 3.0)),
            ],
            "b",
        ))
        .unwrap();
        assert_eq!(
            visible(&tree),
            vec![
                (
                    Role::User,
                    "[Attachment: photo.png]\n\nwhat is this?".into()
                ),
                (Role::Assistant, "It is a cat.".into())
            ]
        );
        assert_eq!(tree.messages.len(), 2);
        assert_eq!(tree.messages[1].finished_at, Some(3000));
    }

    #[test]
    fn broken_mappings_are_refused_with_their_place() {
        let cycle = conversation(
            vec![
                node("u", None, &[], msg("user", "hi", 1.0)),
                node("x", Some("y"), &[], msg("user", "x", 1.0)),
                node("y", Some("x"), &[], msg("user", "y", 1.0)),
            ],
            "u",
        );
        let err = convert_json(cycle).unwrap_err();
        assert!(err.contains("cycle through node"), "{err}");
        assert!(err.contains("\"Test\" (conv-1)"), "{err}");

        let orphan = conversation(
            vec![node("u", Some("gone"), &[], msg("user", "hi", 1.0))],
            "u",
        );
        let err = convert_json(orphan).unwrap_err();
        assert!(
            err.contains("parent gone that is not in its mapping"),
            "{err}"
        );

        let mut no_id = conversation(vec![], "u");
        no_id.as_object_mut().unwrap().remove("conversation_id");
        assert!(convert_json(no_id)
            .unwrap_err()
            .contains("no `conversation_id`"));
    }

    #[test]
    fn a_null_title_comes_from_the_first_user_message() {
        let mut c = conversation(
            vec![node(
                "u",
                None,
                &[],
                msg("user", "\n  Plan a trip to Lisbon\nplease", 1.0),
            )],
            "u",
        );
        c["title"] = Value::Null;
        c["create_time"] = Value::Null;
        c["update_time"] = Value::Null;
        let tree = convert_json(c).unwrap();
        assert_eq!(tree.conversation.title, "Plan a trip to Lisbon");
        assert_eq!(tree.conversation.created_at, 1000);
        let empty = conversation(vec![node("r", None, &[], Value::Null)], "r");
        let mut empty = empty;
        empty["title"] = json!("");
        let tree = convert_json(empty).unwrap();
        assert_eq!(tree.conversation.title, "Untitled");
        assert!(tree.messages.is_empty());
        assert_eq!(tree.conversation.head_message_id, None);
    }

    #[test]
    fn citations_and_fences_are_handled() {
        assert_eq!(
            strip_citations("Paris\u{e200}cite\u{e202}turn0search1\u{e201} is big【3†source】."),
            "Paris is big."
        );
        assert_eq!(
            strip_citations("a 【not a citation】"),
            "a 【not a citation】"
        );
        assert_eq!(fenced("py", "x = 1\n"), "```py\nx = 1\n```");
        assert_eq!(fenced("", "a ``` b"), "````\na ``` b\n````");
    }

    #[test]
    fn times_are_read_leniently() {
        let t: Seconds = serde_json::from_str("1690617600.123").unwrap();
        assert_eq!(t.ms(), Some(1_690_617_600_123));
        let t: Seconds = serde_json::from_str("\"1690617600\"").unwrap();
        assert_eq!(t.ms(), Some(1_690_617_600_000));
        let t: Seconds = serde_json::from_str("null").unwrap();
        assert_eq!(t.ms(), None);
        let t: Seconds = serde_json::from_str("1e300").unwrap();
        assert_eq!(t.ms(), None);
    }
}
