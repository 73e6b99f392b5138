//! What crosses the IPC boundary, and the conversions from engine types (the engine's
//! domain types are not wire formats). Field names are camelCase, as TypeScript expects.
//! No DTO carries an API key: providers show only the key's hint.

use hearth_engine::{
    Attachment, Conversation, ConversationSummary, Message, MessageStatus, ModelInfo,
    ModelSettings, Project, ProjectFile, ProjectSummary, Prompt, ProviderInfo, Reasoning, Reply,
    Role, SearchHit, Settings, StoredError, StoredToolCall, ToolCallStatus, ToolCallView,
    ToolGrantInfo, ToolInfo, ToolServerInfo,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::CommandError;

/// Whether a vault exists and is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum VaultState {
    /// No vault in the data directory: show first-run setup.
    NotCreated,
    /// A vault exists and is locked.
    Locked,
    /// The vault is open.
    Unlocked,
}

/// The vault as the setup, unlock and settings screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VaultStatusDto {
    /// Whether it exists and is open.
    pub state: VaultState,
    /// `keychain`, `passphrase` or `keychain+passphrase`, when a vault exists.
    pub mode: Option<String>,
    /// The data directory.
    pub data_dir: String,
    /// Number of conversations, when unlocked.
    pub conversations: Option<i64>,
    /// Number of messages, when unlocked.
    pub messages: Option<i64>,
    /// Before a vault exists: whether the OS keychain answers (the first-run screen
    /// offers it only then). Afterwards: whether this vault uses the keychain.
    pub keychain_available: bool,
}

/// The mode name for a vault protected by the keychain, a passphrase, or both.
pub fn mode_name(keychain: bool, passphrase: bool) -> &'static str {
    match (keychain, passphrase) {
        (true, true) => "keychain+passphrase",
        (true, false) => "keychain",
        _ => "passphrase",
    }
}

/// A row of the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummaryDto {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
    /// Messages in all branches.
    pub message_count: i64,
    /// Pinned to the top.
    pub pinned: bool,
    /// Archived.
    pub archived: bool,
    /// The project it belongs to, if any.
    pub project_id: Option<String>,
}

impl From<ConversationSummary> for ConversationSummaryDto {
    fn from(c: ConversationSummary) -> Self {
        ConversationSummaryDto {
            id: c.id,
            title: c.title,
            updated_at: c.updated_at,
            message_count: c.message_count,
            pinned: c.pinned,
            archived: c.archived,
            project_id: c.project_id,
        }
    }
}

/// A conversation's settings, shown above its messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationDto {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
    /// Provider used last.
    pub provider_id: Option<String>,
    /// Model used last.
    pub model: Option<String>,
    /// System prompt.
    pub system_prompt: Option<String>,
    /// Pinned to the top.
    pub pinned: bool,
    /// Archived.
    pub archived: bool,
    /// The message that ends the visible branch.
    pub head_message_id: Option<String>,
    /// The project it belongs to, if any.
    pub project_id: Option<String>,
}

impl From<Conversation> for ConversationDto {
    fn from(c: Conversation) -> Self {
        ConversationDto {
            id: c.id,
            title: c.title,
            created_at: c.created_at,
            updated_at: c.updated_at,
            provider_id: c.provider_id,
            model: c.model,
            system_prompt: c.system_prompt,
            pinned: c.pinned,
            archived: c.archived,
            head_message_id: c.head_message_id,
            project_id: c.project_id,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum RoleDto {
    /// A system prompt stored in the tree.
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
}

impl From<RoleDto> for Role {
    fn from(role: RoleDto) -> Self {
        match role {
            RoleDto::System => Role::System,
            RoleDto::User => Role::User,
            RoleDto::Assistant => Role::Assistant,
        }
    }
}

impl From<Role> for RoleDto {
    fn from(role: Role) -> Self {
        match role {
            Role::System => RoleDto::System,
            Role::User => RoleDto::User,
            Role::Assistant => RoleDto::Assistant,
        }
    }
}

/// Where a message is in its life (the `data-status` of a rendered message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatusDto {
    /// Still arriving.
    Streaming,
    /// Finished.
    Complete,
    /// Stopped by the user; partial text kept.
    Cancelled,
    /// The provider failed; partial text kept.
    Error,
    /// The app stopped mid-reply; partial text kept.
    Interrupted,
}

impl From<MessageStatus> for MessageStatusDto {
    fn from(status: MessageStatus) -> Self {
        match status {
            MessageStatus::Streaming => MessageStatusDto::Streaming,
            MessageStatus::Complete => MessageStatusDto::Complete,
            MessageStatus::Cancelled => MessageStatusDto::Cancelled,
            MessageStatus::Error => MessageStatusDto::Error,
            MessageStatus::Interrupted => MessageStatusDto::Interrupted,
        }
    }
}

/// Why a stored reply failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MessageErrorDto {
    /// The provider error's stable kind (`auth`, `rate_limited`, `timeout`, …).
    pub kind: String,
    /// What to tell the user.
    pub message: String,
}

impl MessageErrorDto {
    /// Reads the `error` column; text that is not the stored JSON is shown as it is.
    fn parse(stored: &str) -> Self {
        match serde_json::from_str::<StoredError>(stored) {
            Ok(e) => MessageErrorDto {
                kind: e.kind,
                message: e.message,
            },
            Err(_) => MessageErrorDto {
                kind: "unknown".into(),
                message: stored.to_owned(),
            },
        }
    }
}

/// One message of the visible branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MessageDto {
    /// Id.
    pub id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// The message it follows.
    pub parent_id: Option<String>,
    /// Author.
    pub role: RoleDto,
    /// Text (markdown for replies; untrusted).
    pub content: String,
    /// Reasoning text, when the model gave some.
    pub reasoning: Option<String>,
    /// Status.
    pub status: MessageStatusDto,
    /// Why the reply failed.
    pub error: Option<MessageErrorDto>,
    /// Provider that wrote the reply.
    pub provider_id: Option<String>,
    /// Model that wrote the reply.
    pub model: Option<String>,
    /// Input tokens, when reported.
    pub tokens_in: Option<i64>,
    /// Output tokens, when reported.
    pub tokens_out: Option<i64>,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// When the reply ended, Unix milliseconds.
    pub finished_at: Option<i64>,
    /// This message and its alternatives (same parent), oldest first: what a branch
    /// switcher shows as ‹ 2/3 ›. Just this message's id when there are none.
    pub siblings: Vec<String>,
    /// Files attached to it, in order.
    pub attachments: Vec<AttachmentDto>,
    /// The tool calls a reply made, in order, each placed in the text by `textOffset`.
    pub tool_calls: Vec<ToolCallDto>,
}

/// A file attached to a stored message: what the conversation view shows. Its bytes come
/// from `attachment_image` (images only) or go to disk through `save_attachment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentDto {
    /// Id (for `attachment_image` and `save_attachment`).
    pub id: String,
    /// The message it belongs to.
    pub message_id: String,
    /// The file's name (untrusted text).
    pub name: String,
    /// Its media type, one of the engine's (an SVG is `text/plain`, never an image).
    pub media_type: String,
    /// `image`, `pdf` or `text`.
    pub kind: String,
    /// Its size in bytes.
    pub size: u64,
}

impl From<Attachment> for AttachmentDto {
    fn from(a: Attachment) -> Self {
        let kind = hearth_engine::attachment::kind_of(&a.media_type)
            .map_or("text", crate::attachments::kind_name);
        AttachmentDto {
            kind: kind.to_owned(),
            id: a.id,
            message_id: a.message_id,
            name: hearth_engine::attachment::clean_name(&a.name),
            media_type: a.media_type,
            size: a.size,
        }
    }
}

impl MessageDto {
    /// A message with its alternatives.
    pub fn with_siblings(message: Message, siblings: Vec<String>) -> Self {
        let mut dto = MessageDto::from(message);
        if !siblings.is_empty() {
            dto.siblings = siblings;
        }
        dto
    }
}

impl From<Message> for MessageDto {
    fn from(m: Message) -> Self {
        MessageDto {
            siblings: vec![m.id.clone()],
            attachments: Vec::new(),
            tool_calls: Vec::new(),
            id: m.id,
            conversation_id: m.conversation_id,
            parent_id: m.parent_id,
            role: m.role.into(),
            content: m.content,
            reasoning: m.reasoning,
            status: m.status.into(),
            error: m.error.as_deref().map(MessageErrorDto::parse),
            provider_id: m.provider_id,
            model: m.model,
            tokens_in: m.tokens_in,
            tokens_out: m.tokens_out,
            created_at: m.created_at,
            finished_at: m.finished_at,
        }
    }
}

/// An open conversation: its settings and its visible branch, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConversationViewDto {
    /// The conversation.
    pub conversation: ConversationDto,
    /// The visible branch.
    pub messages: Vec<MessageDto>,
    /// The tool servers this conversation offers its model (none unless the user chose).
    pub tool_servers: Vec<String>,
    /// Its own model settings (its project's defaults apply to what is unset).
    pub settings: ModelSettingsDto,
}

/// A search result.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchHitDto {
    /// The conversation.
    pub conversation_id: String,
    /// The matching message (`None` when the title matched).
    pub message_id: Option<String>,
    /// The message's author.
    pub role: Option<RoleDto>,
    /// Text around the match.
    pub snippet: String,
    /// Highlighted ranges as `[start, end)` character offsets into `snippet`.
    pub highlights: Vec<[usize; 2]>,
    /// The conversation is archived (search covers those too; the sidebar's default list does not).
    pub archived: bool,
    /// The conversation's title (empty when it has none).
    pub title: String,
}

impl From<SearchHit> for SearchHitDto {
    fn from(h: SearchHit) -> Self {
        SearchHitDto {
            conversation_id: h.conversation_id,
            message_id: h.message_id,
            role: h.role.map(Into::into),
            highlights: h.snippet.highlights.iter().map(|&(s, e)| [s, e]).collect(),
            snippet: h.snippet.text,
            archived: h.archived,
            title: h.title,
        }
    }
}

/// How hard a reasoning model thinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningDto {
    /// A little.
    Low,
    /// The usual amount.
    Medium,
    /// As much as it takes.
    High,
}

impl From<Reasoning> for ReasoningDto {
    fn from(r: Reasoning) -> Self {
        match r {
            Reasoning::Low => ReasoningDto::Low,
            Reasoning::Medium => ReasoningDto::Medium,
            Reasoning::High => ReasoningDto::High,
        }
    }
}

impl From<ReasoningDto> for Reasoning {
    fn from(r: ReasoningDto) -> Self {
        match r {
            ReasoningDto::Low => Reasoning::Low,
            ReasoningDto::Medium => Reasoning::Medium,
            ReasoningDto::High => Reasoning::High,
        }
    }
}

/// Temperature, reply length and reasoning effort, both ways across IPC; each `null`
/// when unset (the provider's own default, or the project's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelSettingsDto {
    /// Sampling temperature, 0 to 2.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// The most tokens the reply may have.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// How hard a reasoning model thinks.
    #[serde(default)]
    pub reasoning: Option<ReasoningDto>,
}

impl From<ModelSettings> for ModelSettingsDto {
    fn from(s: ModelSettings) -> Self {
        ModelSettingsDto {
            temperature: s.temperature,
            max_tokens: s.max_tokens,
            reasoning: s.reasoning.map(Into::into),
        }
    }
}

impl From<ModelSettingsDto> for ModelSettings {
    fn from(s: ModelSettingsDto) -> Self {
        ModelSettings {
            temperature: s.temperature,
            max_tokens: s.max_tokens,
            reasoning: s.reasoning.map(Into::into),
        }
    }
}

/// A project: its instructions, defaults and settings (what the project dialog edits).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectDto {
    /// Id.
    pub id: String,
    /// Name (the user's or an import's: text).
    pub name: String,
    /// Sent before each of its conversations' own system prompt.
    pub instructions: String,
    /// The provider its new conversations use.
    pub provider_id: Option<String>,
    /// The model its new conversations use.
    pub model: Option<String>,
    /// The settings its conversations use unless they set their own.
    pub settings: ModelSettingsDto,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
}

impl From<Project> for ProjectDto {
    fn from(p: Project) -> Self {
        ProjectDto {
            settings: ModelSettings::from_json(p.params_json.as_deref()).into(),
            id: p.id,
            name: p.name,
            instructions: p.instructions,
            provider_id: p.provider_id,
            model: p.model,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A project in the sidebar, with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSummaryDto {
    /// The project.
    pub project: ProjectDto,
    /// Its conversations that are not archived.
    pub conversations: i64,
    /// Its files.
    pub files: i64,
}

impl From<ProjectSummary> for ProjectSummaryDto {
    fn from(s: ProjectSummary) -> Self {
        ProjectSummaryDto {
            project: s.project.into(),
            conversations: s.conversations,
            files: s.files,
        }
    }
}

/// A file kept with a project (sent with every request of its conversations). Its
/// bytes never cross IPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectFileDto {
    /// Id (for `remove_project_file`).
    pub id: String,
    /// The project.
    pub project_id: String,
    /// The file's name (untrusted text).
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// `image`, `pdf` or `text`.
    pub kind: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was added, Unix milliseconds.
    pub created_at: i64,
}

impl From<ProjectFile> for ProjectFileDto {
    fn from(f: ProjectFile) -> Self {
        let kind = hearth_engine::attachment::kind_of(&f.media_type)
            .map_or("text", crate::attachments::kind_name);
        ProjectFileDto {
            kind: kind.to_owned(),
            name: hearth_engine::attachment::clean_name(&f.name),
            id: f.id,
            project_id: f.project_id,
            media_type: f.media_type,
            size: f.size,
            created_at: f.created_at,
        }
    }
}

/// What adding files to a project gave: the project's files now, and why others were
/// not added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProjectFilesAddedDto {
    /// Every file of the project, in order, the new ones last.
    pub files: Vec<ProjectFileDto>,
    /// One sentence per file that was refused; nothing of those was kept.
    pub refused: Vec<String>,
}

/// A saved prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PromptDto {
    /// Id.
    pub id: String,
    /// Its name (what the `/` picker matches).
    pub name: String,
    /// The text it puts in the composer.
    pub text: String,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Last change, Unix milliseconds.
    pub updated_at: i64,
}

impl From<Prompt> for PromptDto {
    fn from(p: Prompt) -> Self {
        PromptDto {
            id: p.id,
            name: p.name,
            text: p.text,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A provider in settings and the model picker. Carries the key's hint, never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProviderDto {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Wire protocol: `openai-compatible`, `anthropic` or `gemini`.
    pub kind: String,
    /// Effective base URL.
    pub base_url: String,
    /// Default model.
    pub default_model: Option<String>,
    /// Built into Hearth.
    pub builtin: bool,
    /// Runs on this machine.
    pub local: bool,
    /// New chats use it.
    pub is_default: bool,
    /// `…abcd` (or `set` for short keys) when a key is stored.
    pub key_hint: Option<String>,
}

impl From<ProviderInfo> for ProviderDto {
    fn from(p: ProviderInfo) -> Self {
        ProviderDto {
            id: p.id,
            name: p.name,
            kind: p.kind,
            base_url: p.base_url,
            default_model: p.default_model,
            builtin: p.builtin,
            local: p.local,
            is_default: p.is_default,
            key_hint: p.key_hint,
        }
    }
}

/// The app's preferences, both ways across IPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDto {
    /// Lock after this many idle minutes; `null` never locks by itself.
    pub auto_lock_minutes: Option<u32>,
    /// Delete conversations untouched for this many days (pinned ones are kept); `null`
    /// keeps everything.
    pub retention_days: Option<u32>,
}

impl From<Settings> for SettingsDto {
    fn from(s: Settings) -> Self {
        SettingsDto {
            auto_lock_minutes: s.auto_lock_minutes,
            retention_days: s.retention_days,
        }
    }
}

impl From<SettingsDto> for Settings {
    fn from(s: SettingsDto) -> Self {
        Settings {
            auto_lock_minutes: s.auto_lock_minutes,
            retention_days: s.retention_days,
        }
    }
}

/// A model a provider offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModelDto {
    /// The id to send.
    pub id: String,
    /// Display name, when the provider gives one.
    pub name: Option<String>,
}

impl From<ModelInfo> for ModelDto {
    fn from(m: ModelInfo) -> Self {
        ModelDto {
            id: m.id,
            name: m.name,
        }
    }
}

/// A reply that has started: what the UI needs to place it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReplyStartedDto {
    /// The request id the UI chose (cancel with it).
    pub request_id: String,
    /// The conversation (new when the message started one).
    pub conversation_id: String,
    /// The user message, saved before the request left.
    pub user_message_id: String,
    /// The assistant message being written (cancel with it too).
    pub message_id: String,
}

impl ReplyStartedDto {
    /// The ids of a reply that has started.
    pub fn new(request_id: &str, reply: &Reply) -> Self {
        ReplyStartedDto {
            request_id: request_id.to_owned(),
            conversation_id: reply.conversation_id().to_owned(),
            user_message_id: reply.user_message_id().to_owned(),
            message_id: reply.message_id().to_owned(),
        }
    }
}

/// A temporary chat's reply has started. Its `done`/`error` events carry the request id
/// as their message id; nothing of it is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TemporaryStartedDto {
    /// The request.
    pub request_id: String,
    /// The provider answering.
    pub provider_id: String,
    /// The model answering.
    pub model: String,
}

/// One earlier turn of a temporary chat, as the UI remembers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TemporaryTurnDto {
    /// `true` for the user's turns.
    pub from_user: bool,
    /// What was said.
    pub text: String,
    /// Tokens of the files sent with a user's turn (see `pick_attachments`).
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// A piece of a streaming reply, sent over the request's `Channel`. Every stream ends
/// with exactly one `done` or `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(
    tag = "event",
    content = "data",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ChatEvent {
    /// More answer text.
    Text {
        /// The new text.
        text: String,
    },
    /// More reasoning text.
    Reasoning {
        /// The new text.
        text: String,
    },
    /// The model asked for a tool call that needs the user's answer: the reply waits
    /// until `decide_tool_call` answers it (or the reply is stopped).
    ToolApproval {
        /// The call, with status `awaiting`.
        call: ToolCallDto,
    },
    /// An allowed call is running.
    ToolStarted {
        /// The call, with status `running`.
        call: ToolCallDto,
    },
    /// A call ended (ran, failed, or was denied); its result goes back to the model.
    ToolResult {
        /// The call, with its result.
        call: ToolCallDto,
    },
    /// The reply ended and is saved: `complete`, or `cancelled` when stopped.
    Done {
        /// The assistant message.
        message_id: String,
        /// How it ended.
        status: MessageStatusDto,
    },
    /// The provider failed; the partial reply is saved with status `error`.
    Error {
        /// The assistant message.
        message_id: String,
        /// What went wrong.
        error: CommandError,
    },
}

/// What became of a tool call, as the chat shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum ToolCallStatusDto {
    /// The reply streaming now waits for the user's answer (the card offers its buttons).
    Awaiting,
    /// Saved as waiting, with no reply here to answer it.
    Pending,
    /// Allowed and running.
    Running,
    /// Allowed, run, and the tool gave a result.
    Approved,
    /// The user said no; the model was told so.
    Denied,
    /// It could not run, or the tool reported an error; the result says why.
    Failed,
    /// The reply was stopped before the call ended.
    Cancelled,
}

impl From<ToolCallStatus> for ToolCallStatusDto {
    fn from(status: ToolCallStatus) -> Self {
        match status {
            ToolCallStatus::Pending => ToolCallStatusDto::Pending,
            ToolCallStatus::Approved => ToolCallStatusDto::Approved,
            ToolCallStatus::Denied => ToolCallStatusDto::Denied,
            ToolCallStatus::Failed => ToolCallStatusDto::Failed,
            ToolCallStatus::Cancelled => ToolCallStatusDto::Cancelled,
        }
    }
}

/// A tool call inside a reply. Every string but `id` and `status` is the model's or the
/// tool's: untrusted, shown as plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolCallDto {
    /// Hearth's id for the call (what `decide_tool_call` names).
    pub id: String,
    /// The server (empty when the model named a tool that is not offered).
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The arguments, pretty-printed when they are JSON.
    pub arguments: String,
    /// What became of it so far.
    pub status: ToolCallStatusDto,
    /// What the model was told, once the call ended.
    pub result: Option<String>,
    /// Where in the reply's text the call happened, in UTF-16 code units (JavaScript
    /// string indices): the text before it was written before the call was made.
    pub text_offset: u32,
}

impl ToolCallDto {
    /// A call of the reply streaming now; `text_offset` is the UTF-16 length of the text
    /// forwarded before it.
    pub fn live(view: ToolCallView, status: ToolCallStatusDto, text_offset: usize) -> Self {
        ToolCallDto {
            id: view.id,
            server: view.server,
            tool: view.tool,
            arguments: view.arguments,
            status,
            result: view.result,
            text_offset: u32::try_from(text_offset).unwrap_or(u32::MAX),
        }
    }

    /// A saved call of the reply whose text is `content`.
    pub fn stored(call: StoredToolCall, content: &str) -> Self {
        ToolCallDto {
            text_offset: utf16_offset(content, call.text_offset),
            arguments: hearth_engine::pretty_arguments(&call.arguments),
            status: call.status.into(),
            id: call.id,
            server: call.server,
            tool: call.tool,
            result: call.result,
        }
    }
}

/// The UTF-16 index in `content` of the byte offset `bytes` (clamped into the text, and
/// back to a character boundary should it fall inside one).
pub fn utf16_offset(content: &str, bytes: i64) -> u32 {
    let mut at = usize::try_from(bytes).unwrap_or(0).min(content.len());
    while !content.is_char_boundary(at) {
        at -= 1;
    }
    let units = content[..at].encode_utf16().count();
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// A configured MCP server, as Settings → Tools lists it: the names of its environment
/// variables and headers, never their values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolServerDto {
    /// Its name (what the model sees before each tool's name).
    pub name: String,
    /// `stdio` or `http`.
    pub transport: String,
    /// The program (stdio).
    pub command: Option<String>,
    /// Its arguments (stdio).
    pub args: Vec<String>,
    /// The URL (HTTP).
    pub url: Option<String>,
    /// The names of the environment variables it gets (stdio).
    pub env_names: Vec<String>,
    /// The names of the headers it gets (HTTP).
    pub header_names: Vec<String>,
    /// Whether conversations may use it.
    pub enabled: bool,
}

impl From<ToolServerInfo> for ToolServerDto {
    fn from(s: ToolServerInfo) -> Self {
        ToolServerDto {
            name: s.name,
            transport: s.transport,
            command: s.command,
            args: s.args,
            url: s.url,
            env_names: s.env_names,
            header_names: s.header_names,
            enabled: s.enabled,
        }
    }
}

/// A tool a server offers. Both strings are the server's: shown as plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolInfoDto {
    /// The tool's name.
    pub name: String,
    /// What the server says it does.
    pub description: String,
}

impl From<ToolInfo> for ToolInfoDto {
    fn from(t: ToolInfo) -> Self {
        ToolInfoDto {
            name: t.name,
            description: t.description,
        }
    }
}

/// A standing permission for a tool to run without asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ToolGrantDto {
    /// The server.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The conversation it holds in; `null` for "always".
    pub conversation_id: Option<String>,
    /// That conversation's title, when it still exists.
    pub conversation_title: Option<String>,
    /// When it was given, Unix milliseconds.
    pub created_at: i64,
}

impl ToolGrantDto {
    /// A grant, with the title of its conversation when it has one.
    pub fn new(grant: ToolGrantInfo, conversation_title: Option<String>) -> Self {
        ToolGrantDto {
            server: grant.server,
            tool: grant.tool,
            conversation_id: grant.conversation_id,
            conversation_title,
            created_at: grant.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde_json::json;

    #[test]
    fn chat_events_have_a_stable_shape() {
        let text = ChatEvent::Text { text: "Hi".into() };
        assert_eq!(
            serde_json::to_value(text).expect("serializes"),
            json!({"event": "text", "data": {"text": "Hi"}})
        );
        let done = ChatEvent::Done {
            message_id: "m1".into(),
            status: MessageStatus::Cancelled.into(),
        };
        assert_eq!(
            serde_json::to_value(done).expect("serializes"),
            json!({"event": "done", "data": {"messageId": "m1", "status": "cancelled"}})
        );
        let error = ChatEvent::Error {
            message_id: "m1".into(),
            error: CommandError::new(ErrorKind::RateLimited, "slow down"),
        };
        assert_eq!(
            serde_json::to_value(error).expect("serializes"),
            json!({"event": "error", "data": {"messageId": "m1",
                "error": {"kind": "RateLimited", "message": "slow down"}}})
        );
    }

    #[test]
    fn a_tool_call_is_placed_in_javascript_string_units() {
        // "é" is 2 bytes and 1 unit; "🔥" 4 bytes and 2 units.
        let text = "é🔥ab";
        assert_eq!(utf16_offset(text, 0), 0);
        assert_eq!(utf16_offset(text, 2), 1);
        assert_eq!(utf16_offset(text, 6), 3);
        assert_eq!(
            utf16_offset(text, 4),
            1,
            "inside a character: back to its start"
        );
        assert_eq!(utf16_offset(text, 99), 5, "past the end: the end");
        assert_eq!(utf16_offset(text, -3), 0);
    }

    #[test]
    fn tool_events_carry_the_call() {
        let view = ToolCallView {
            id: "t1".into(),
            server: "files".into(),
            tool: "read".into(),
            arguments: "{}".into(),
            status: ToolCallStatus::Pending,
            result: None,
        };
        let event = ChatEvent::ToolApproval {
            call: ToolCallDto::live(view, ToolCallStatusDto::Awaiting, 7),
        };
        assert_eq!(
            serde_json::to_value(event).expect("serializes"),
            json!({"event": "toolApproval", "data": {"call": {"id": "t1", "server": "files",
                "tool": "read", "arguments": "{}", "status": "awaiting", "result": null,
                "textOffset": 7}}})
        );
    }

    #[test]
    fn stored_errors_are_parsed_for_the_ui() {
        let stored = r#"{"kind":"auth","message":"the provider rejected the API key"}"#;
        assert_eq!(
            MessageErrorDto::parse(stored),
            MessageErrorDto {
                kind: "auth".into(),
                message: "the provider rejected the API key".into()
            }
        );
        assert_eq!(MessageErrorDto::parse("plain text").kind, "unknown");
    }
}
