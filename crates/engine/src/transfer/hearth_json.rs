//! Hearth's own lossless JSON export, format `hearth-export` version 4
//! (`docs/export-format.md`): writing it piece by piece, and reading it back one piece
//! at a time.
//!
//! Neither side holds the whole file. The writer first writes the bytes of every
//! attached file and project file, one stored chunk at a time, then every project (its
//! fields and its files by SHA-256) and every saved prompt, then takes each conversation
//! (with its project and model settings) from
//! [`Vault::for_each_tree`](hearth_vault::Vault::for_each_tree) and writes it on its own
//! line; the reader walks the `files`, `projects`, `prompts` and `conversations` arrays
//! with serde visitors and hands each piece on in that order (bytes before the project
//! naming them, projects before the conversations in them), so memory holds one chunk,
//! project or conversation however large the file is. An export of one conversation
//! carries no projects and no prompts. Providers, API keys, settings, tool servers and
//! tool grants are never part of an export; the tool calls replies made are, with their
//! messages. Versions 1 to 3 still read as they always did: they have no projects, no
//! prompts, and no conversation is in a project.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use base64::Engine as _;
use hearth_vault::{
    Attachment, Conversation, ConversationTree, ImportItem, ImportReport, Message, MessageStatus,
    Project, ProjectFile, ProjectTree, Prompt, Role, ToolCall, ToolCallStatus,
};

use super::budget::{GuardState, JsonGuard, MAX_STRING_BYTES};
use crate::error::{EngineError, Result};
use crate::Engine;

/// The `format` of a Hearth export.
pub const FORMAT: &str = "hearth-export";

/// The export format version this build writes, and the newest it reads. Version 2
/// added attached files (`files`, and `attachments` on messages); version 3 added the
/// tool calls replies made (`tool_calls` on messages); version 4 added projects, saved
/// prompts and each conversation's `project_id`.
pub const VERSION: u64 = 4;

/// Conversations parsed ahead of the vault writer at most, so memory stays bounded
/// however fast parsing is.
const PIPE_DEPTH: usize = 16;

/// The reader's own buffer (the JSON parser asks for one byte at a time).
const READ_BUFFER: usize = 64 * 1024;

/// How far an export or an import has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportProgress {
    /// Conversations written so far.
    pub conversations: u64,
    /// Messages written so far.
    pub messages: u64,
    /// Conversations the export will hold in all.
    pub total_conversations: u64,
}

/// What an export's header says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportInfo {
    /// The format version.
    pub version: u64,
    /// When it was written, Unix milliseconds, if it says.
    pub exported_at: Option<i64>,
    /// The app that wrote it (`Hearth 0.1.0`), if it says.
    pub app: Option<String>,
    /// Conversations read.
    pub conversations: u64,
    /// Projects read (version 4).
    pub projects: u64,
    /// Saved prompts read (version 4).
    pub prompts: u64,
}

/// The `app` value this build writes.
pub fn app_name() -> String {
    format!("Hearth {}", env!("CARGO_PKG_VERSION"))
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// Writes an export: the header first, then the files (each on a line of its own, its
/// bytes as base64 pieces), then one project per line, one saved prompt per line, one
/// conversation per line, then the end. Nothing is held but the piece being written.
pub struct JsonWriter<W: Write> {
    out: W,
    /// The array being written.
    section: Section,
    /// Entries written in that array so far.
    in_section: u64,
    /// Pieces written of the file being written, while one is.
    pieces: Option<u64>,
}

/// The arrays of an export, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Files,
    Projects,
    Prompts,
    Conversations,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Files => "files",
            Section::Projects => "projects",
            Section::Prompts => "prompts",
            Section::Conversations => "conversations",
        }
    }

    fn next(self) -> Section {
        match self {
            Section::Files => Section::Projects,
            Section::Projects => Section::Prompts,
            Section::Prompts | Section::Conversations => Section::Conversations,
        }
    }
}

impl<W: Write> JsonWriter<W> {
    /// Starts an export written at `exported_at` (Unix milliseconds).
    pub fn new(mut out: W, exported_at: i64) -> Result<Self> {
        #[derive(Serialize)]
        struct Header<'a> {
            format: &'a str,
            version: u64,
            exported_at: i64,
            app: &'a str,
        }
        let header = serde_json::to_string(&Header {
            format: FORMAT,
            version: VERSION,
            exported_at,
            app: &app_name(),
        })
        .map_err(|e| EngineError::Invalid(format!("cannot write the export: {e}")))?;
        // The header object, reopened to add the arrays: `{"format":…,"app":"…"` + `,"files":[`.
        let open = header.strip_suffix('}').unwrap_or(&header);
        out.write_all(open.as_bytes())
            .and_then(|()| out.write_all(b",\"files\":["))
            .map_err(write_failed)?;
        Ok(JsonWriter {
            out,
            section: Section::Files,
            in_section: 0,
            pieces: None,
        })
    }

    /// Closes the arrays before `to` and opens `to`; refuses to go back.
    fn enter(&mut self, to: Section) -> Result<()> {
        if self.pieces.is_some() {
            return Err(EngineError::Invalid(
                "cannot write the export: a file was not ended".into(),
            ));
        }
        if to < self.section {
            return Err(EngineError::Invalid(format!(
                "cannot write the export: {} after {}",
                to.key(),
                self.section.key()
            )));
        }
        while self.section < to {
            let close: &[u8] = if self.in_section == 0 { b"]" } else { b"\n]" };
            let next = self.section.next();
            self.out
                .write_all(close)
                .and_then(|()| write!(self.out, ",\"{}\":[", next.key()))
                .map_err(write_failed)?;
            self.section = next;
            self.in_section = 0;
        }
        Ok(())
    }

    /// The separator before the next entry of the array being written.
    fn separate(&mut self) -> Result<()> {
        let separator: &[u8] = if self.in_section == 0 { b"\n" } else { b",\n" };
        self.in_section += 1;
        self.out.write_all(separator).map_err(write_failed)
    }

    /// Starts the bytes of the stored file `sha256` of `size` bytes; give them with
    /// [`JsonWriter::file_bytes`] and end with [`JsonWriter::end_file`]. Files come
    /// before every project and conversation.
    pub fn begin_file(&mut self, sha256: &str, size: u64) -> Result<()> {
        if self.section != Section::Files || self.pieces.is_some() {
            return Err(EngineError::Invalid(
                "cannot write the export: a file after the projects or conversations, or inside another file"
                    .into(),
            ));
        }
        let sha256 = serde_json::to_string(sha256)
            .map_err(|e| EngineError::Invalid(format!("cannot write the export: {e}")))?;
        self.separate()?;
        write!(self.out, "{{\"sha256\":{sha256},\"size\":{size},\"data\":[")
            .map_err(write_failed)?;
        self.pieces = Some(0);
        Ok(())
    }

    /// The next bytes of the file begun, as one base64 piece.
    pub fn file_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let Some(pieces) = self.pieces.as_mut() else {
            return Err(EngineError::Invalid(
                "cannot write the export: file bytes outside a file".into(),
            ));
        };
        let separator: &[u8] = if *pieces == 0 { b"\"" } else { b",\"" };
        *pieces += 1;
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.out
            .write_all(separator)
            .and_then(|()| self.out.write_all(encoded.as_bytes()))
            .and_then(|()| self.out.write_all(b"\""))
            .map_err(write_failed)
    }

    /// Ends the file begun.
    pub fn end_file(&mut self) -> Result<()> {
        if self.pieces.take().is_none() {
            return Err(EngineError::Invalid(
                "cannot write the export: no file to end".into(),
            ));
        }
        self.out.write_all(b"]}").map_err(write_failed)
    }

    /// Writes one project with its files (by SHA-256; their bytes are among the files
    /// written before). Projects come after the files and before the prompts.
    pub fn write_project(&mut self, tree: &ProjectTree) -> Result<()> {
        self.enter(Section::Projects)?;
        let p = &tree.project;
        let params = p.params_json.as_deref().map(params_value);
        let out = ProjectOut {
            id: &p.id,
            name: &p.name,
            instructions: &p.instructions,
            provider_id: p.provider_id.as_deref(),
            model: p.model.as_deref(),
            params: params.as_deref(),
            source: p.source.as_deref(),
            source_id: p.source_id.as_deref(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            files: ProjectFilesOut(&tree.files),
        };
        self.separate()?;
        serde_json::to_writer(&mut self.out, &out)
            .map_err(|e| EngineError::Invalid(format!("cannot write project {}: {e}", p.id)))
    }

    /// Writes one saved prompt. Prompts come after the projects and before the
    /// conversations.
    pub fn write_prompt(&mut self, prompt: &Prompt) -> Result<()> {
        self.enter(Section::Prompts)?;
        let out = PromptOut {
            id: &prompt.id,
            name: &prompt.name,
            text: &prompt.text,
            created_at: prompt.created_at,
            updated_at: prompt.updated_at,
        };
        self.separate()?;
        serde_json::to_writer(&mut self.out, &out).map_err(|e| {
            EngineError::Invalid(format!("cannot write saved prompt {}: {e}", prompt.id))
        })
    }

    /// Writes one conversation with every message of every branch, parents first.
    pub fn write(&mut self, tree: &ConversationTree) -> Result<()> {
        self.enter(Section::Conversations)?;
        let c = &tree.conversation;
        let order = parents_first(&tree.messages).map_err(|m| {
            EngineError::Invalid(format!(
                "cannot export conversation {}: its messages loop back on themselves at {m}; run `hearth check`",
                c.id
            ))
        })?;
        let params = c.params_json.as_deref().map(params_value);
        let mut attachments: HashMap<&str, Vec<&Attachment>> = HashMap::new();
        for a in &tree.attachments {
            attachments
                .entry(a.message_id.as_str())
                .or_default()
                .push(a);
        }
        let mut tool_calls: HashMap<&str, Vec<&ToolCall>> = HashMap::new();
        for call in &tree.tool_calls {
            tool_calls
                .entry(call.message_id.as_str())
                .or_default()
                .push(call);
        }
        let out = ConversationOut {
            id: &c.id,
            title: &c.title,
            created_at: c.created_at,
            updated_at: c.updated_at,
            provider_id: c.provider_id.as_deref(),
            model: c.model.as_deref(),
            system_prompt: c.system_prompt.as_deref(),
            params: params.as_deref(),
            pinned: c.pinned,
            archived: c.archived,
            project_id: c.project_id.as_deref(),
            source: c.source.as_deref(),
            source_id: c.source_id.as_deref(),
            head_message_id: c.head_message_id.as_deref(),
            messages: MessagesOut {
                messages: &tree.messages,
                order: &order,
                attachments: &attachments,
                tool_calls: &tool_calls,
            },
        };
        self.separate()?;
        serde_json::to_writer(&mut self.out, &out)
            .map_err(|e| EngineError::Invalid(format!("cannot write conversation {}: {e}", c.id)))
    }

    /// Closes the arrays and the object, flushes, and hands back the writer.
    pub fn finish(mut self) -> Result<W> {
        self.enter(Section::Conversations)?;
        self.out
            .write_all(b"\n]}\n")
            .and_then(|()| self.out.flush())
            .map_err(write_failed)?;
        Ok(self.out)
    }
}

fn write_failed(e: io::Error) -> EngineError {
    EngineError::Invalid(format!("cannot write the export: {e}"))
}

/// A conversation's stored parameters as a JSON value, written as they are stored.
/// Text that is not JSON (Hearth never stores such) is kept as a JSON string.
fn params_value(text: &str) -> Box<RawValue> {
    match RawValue::from_string(text.trim().to_owned()) {
        Ok(raw) => raw,
        Err(_) => {
            let quoted = serde_json::to_string(text).unwrap_or_else(|_| "null".into());
            RawValue::from_string(quoted).unwrap_or_else(|_| {
                // Unreachable: a serialized string is valid JSON.
                RawValue::NULL.to_owned()
            })
        }
    }
}

/// The order to write messages in: as stored, except that a message whose parent comes
/// later (a child timed before its parent, which imports can hold) waits for it. Returns
/// the index positions, or the id of a message on a parent loop.
fn parents_first(messages: &[Message]) -> std::result::Result<Vec<usize>, String> {
    let index: std::collections::HashMap<&str, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let mut placed = vec![false; messages.len()];
    let mut order = Vec::with_capacity(messages.len());
    let mut chain = Vec::new();
    for start in 0..messages.len() {
        // Walk up to the first ancestor already placed (or the root), then place the
        // walked chain top down.
        let mut at = start;
        while !placed[at] {
            if chain.len() > messages.len() {
                return Err(messages[start].id.clone());
            }
            chain.push(at);
            match messages[at].parent_id.as_deref().and_then(|p| index.get(p)) {
                Some(&parent) => at = parent,
                None => break,
            }
        }
        while let Some(i) = chain.pop() {
            if !placed[i] {
                placed[i] = true;
                order.push(i);
            }
        }
    }
    Ok(order)
}

#[derive(Serialize)]
struct ConversationOut<'a> {
    id: &'a str,
    title: &'a str,
    created_at: i64,
    updated_at: i64,
    provider_id: Option<&'a str>,
    model: Option<&'a str>,
    system_prompt: Option<&'a str>,
    params: Option<&'a RawValue>,
    pinned: bool,
    archived: bool,
    project_id: Option<&'a str>,
    source: Option<&'a str>,
    source_id: Option<&'a str>,
    head_message_id: Option<&'a str>,
    messages: MessagesOut<'a>,
}

#[derive(Serialize)]
struct ProjectOut<'a> {
    id: &'a str,
    name: &'a str,
    instructions: &'a str,
    provider_id: Option<&'a str>,
    model: Option<&'a str>,
    params: Option<&'a RawValue>,
    source: Option<&'a str>,
    source_id: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
    files: ProjectFilesOut<'a>,
}

/// A project's files in order (by position), each naming its bytes by SHA-256.
struct ProjectFilesOut<'a>(&'a [ProjectFile]);

impl Serialize for ProjectFilesOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut files: Vec<&ProjectFile> = self.0.iter().collect();
        files.sort_by_key(|f| f.position);
        s.collect_seq(files.into_iter().map(|f| ProjectFileOut {
            id: &f.id,
            position: f.position,
            name: &f.name,
            media_type: &f.media_type,
            size: f.size,
            sha256: &f.sha256,
            created_at: f.created_at,
        }))
    }
}

#[derive(Serialize)]
struct ProjectFileOut<'a> {
    id: &'a str,
    position: u32,
    name: &'a str,
    media_type: &'a str,
    size: u64,
    sha256: &'a str,
    created_at: i64,
}

#[derive(Serialize)]
struct PromptOut<'a> {
    id: &'a str,
    name: &'a str,
    text: &'a str,
    created_at: i64,
    updated_at: i64,
}

struct MessagesOut<'a> {
    messages: &'a [Message],
    order: &'a [usize],
    attachments: &'a HashMap<&'a str, Vec<&'a Attachment>>,
    tool_calls: &'a HashMap<&'a str, Vec<&'a ToolCall>>,
}

impl Serialize for MessagesOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.order.iter().map(|&i| {
            let m = &self.messages[i];
            MessageOut::new(
                m,
                self.attachments
                    .get(m.id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                self.tool_calls
                    .get(m.id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            )
        }))
    }
}

struct AttachmentsOut<'a>(&'a [&'a Attachment]);

impl Serialize for AttachmentsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|a| AttachmentOut {
            id: &a.id,
            name: &a.name,
            media_type: &a.media_type,
            size: a.size,
            sha256: &a.sha256,
        }))
    }
}

#[derive(Serialize)]
struct AttachmentOut<'a> {
    id: &'a str,
    name: &'a str,
    media_type: &'a str,
    size: u64,
    sha256: &'a str,
}

struct ToolCallsOut<'a>(&'a [&'a ToolCall]);

impl Serialize for ToolCallsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|c| {
            // A call still waiting (in another window) is exported as it stands: cut
            // off, as it would be recorded if the app stopped now.
            let (status, result) = match c.status {
                ToolCallStatus::Pending => (
                    ToolCallStatus::Cancelled,
                    Some(
                        c.result
                            .as_deref()
                            .unwrap_or(hearth_vault::INTERRUPTED_RESULT),
                    ),
                ),
                other => (other, c.result.as_deref()),
            };
            ToolCallOut {
                id: &c.id,
                position: c.position,
                step: c.step,
                text_offset: c.text_offset,
                reasoning_offset: c.reasoning_offset,
                call_id: &c.call_id,
                server: &c.server,
                tool: &c.tool,
                arguments: &c.arguments,
                signature: c.signature.as_deref(),
                status: status.as_str(),
                result,
                created_at: c.created_at,
                finished_at: c.finished_at,
            }
        }))
    }
}

#[derive(Serialize)]
struct ToolCallOut<'a> {
    id: &'a str,
    position: i64,
    step: i64,
    text_offset: i64,
    reasoning_offset: i64,
    call_id: &'a str,
    server: &'a str,
    tool: &'a str,
    arguments: &'a str,
    signature: Option<&'a str>,
    status: &'static str,
    result: Option<&'a str>,
    created_at: i64,
    finished_at: Option<i64>,
}

#[derive(Serialize)]
struct MessageOut<'a> {
    id: &'a str,
    parent_id: Option<&'a str>,
    role: &'static str,
    content: &'a str,
    reasoning: Option<&'a str>,
    status: &'static str,
    error: Option<&'a str>,
    provider_id: Option<&'a str>,
    model: Option<&'a str>,
    tokens_in: Option<i64>,
    tokens_out: Option<i64>,
    created_at: i64,
    finished_at: Option<i64>,
    attachments: AttachmentsOut<'a>,
    tool_calls: ToolCallsOut<'a>,
}

impl<'a> MessageOut<'a> {
    fn new(
        m: &'a Message,
        attachments: &'a [&'a Attachment],
        tool_calls: &'a [&'a ToolCall],
    ) -> Self {
        MessageOut {
            id: &m.id,
            parent_id: m.parent_id.as_deref(),
            role: m.role.as_str(),
            content: &m.content,
            reasoning: m.reasoning.as_deref(),
            // A reply still streaming (in another window) is exported as it stands: cut
            // off, as it would be if the app stopped now.
            status: match m.status {
                MessageStatus::Streaming => MessageStatus::Interrupted.as_str(),
                other => other.as_str(),
            },
            error: m.error.as_deref(),
            provider_id: m.provider_id.as_deref(),
            model: m.model.as_deref(),
            tokens_in: m.tokens_in,
            tokens_out: m.tokens_out,
            created_at: m.created_at,
            finished_at: m.finished_at,
            attachments: AttachmentsOut(attachments),
            tool_calls: ToolCallsOut(tool_calls),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// Reads an export and hands each piece, checked, to `each`, in file order: the files'
/// bytes, then each project, saved prompt and conversation. The first problem stops the
/// reading and is returned: JSON errors name the line and column and the position of
/// the project, prompt or conversation, problems with what one holds name it and the
/// line it ends on. An error from `each` is returned as it is.
///
/// `format` and `version` must come before everything else, and the arrays in the order
/// `files`, `projects`, `prompts`, `conversations` (the writer always puts them so), so
/// that a file from another app or a newer Hearth is refused before any of it is read,
/// bytes come before what names them, and projects before their conversations.
pub fn read(
    reader: impl Read,
    mut each: impl FnMut(ImportItem) -> Result<()>,
) -> Result<ExportInfo> {
    let line = Rc::new(Cell::new(1u64));
    // The same limits as other apps' exports (one string, one conversation), so a
    // hostile file cannot exhaust memory; here a text past the limit fails the import.
    let (guarded, guard) = JsonGuard::new(reader);
    let counting = LineCounting {
        inner: guarded,
        buf: vec![0; READ_BUFFER],
        start: 0,
        end: 0,
        line: line.clone(),
    };
    let mut state = ReadState {
        each: &mut each,
        failure: None,
        info: ExportInfo::default(),
        format_seen: false,
        version_seen: false,
        last_section: None,
        inside: Inside::Top,
        line,
        guard,
    };
    let mut de = serde_json::Deserializer::from_reader(counting);
    let parsed = de
        .deserialize_any(Top { state: &mut state })
        .and_then(|()| de.end());
    if let Some(failure) = state.failure {
        return Err(failure);
    }
    match parsed {
        Ok(()) if state.guard.cut.get() > 0 => Err(EngineError::Invalid(format!(
            "not a valid Hearth export: it holds a text of more than {} MiB",
            MAX_STRING_BYTES >> 20
        ))),
        Ok(()) if !state.format_seen => Err(not_hearth("it has no `format`")),
        Ok(()) if state.last_section != Some(Section::Conversations) => Err(EngineError::Invalid(
            "not a valid Hearth export: it has no `conversations`".into(),
        )),
        Ok(()) => Ok(state.info),
        Err(e) => Err(json_error(e, &state)),
    }
}

/// Every piece of an export (files, projects, prompts, conversations) as an iterator,
/// read on a thread of its own (for readers that can move there). Stops at the first
/// error, which it yields last.
pub fn items<R: Read + Send + 'static>(
    reader: R,
) -> Box<dyn Iterator<Item = Result<ImportItem>> + Send> {
    let (tx, rx) = sync_channel::<Result<ImportItem>>(PIPE_DEPTH);
    let done = std::sync::Arc::new(AtomicBool::new(false));
    let finished = done.clone();
    let spawned = std::thread::Builder::new()
        .name("hearth-export-reader".into())
        .spawn(move || produce(reader, &tx, &finished));
    match spawned {
        Ok(_) => Box::new(Ended::new(rx.into_iter(), done)),
        Err(e) => Box::new(std::iter::once(Err(EngineError::Invalid(format!(
            "cannot start reading the export: {e}"
        ))))),
    }
}

/// Reads on this thread and sends each conversation over `tx`; marks `done` when the
/// whole file was read, so the receiver can tell the end from a crash.
fn produce(
    reader: impl Read,
    tx: &std::sync::mpsc::SyncSender<Result<ImportItem>>,
    done: &AtomicBool,
) {
    let read = read(reader, |item| {
        tx.send(Ok(item))
            .map_err(|_| EngineError::Invalid("the import was stopped".into()))
    });
    match read {
        Ok(_) => done.store(true, Ordering::SeqCst),
        // Nobody listening means the receiver already stopped; nothing to report.
        Err(e) => {
            let _ = tx.send(Err(e));
        }
    }
}

/// The receiving side of a reader thread: yields what it sent, then an error if it
/// stopped without finishing (it panicked).
struct Ended<I> {
    inner: I,
    done: std::sync::Arc<AtomicBool>,
    over: bool,
}

impl<I> Ended<I> {
    fn new(inner: I, done: std::sync::Arc<AtomicBool>) -> Self {
        Ended {
            inner,
            done,
            over: false,
        }
    }
}

impl<I: Iterator<Item = Result<ImportItem>>> Iterator for Ended<I> {
    type Item = Result<ImportItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.over {
            return None;
        }
        match self.inner.next() {
            Some(Err(e)) => {
                self.over = true;
                Some(Err(e))
            }
            Some(item) => Some(item),
            None => {
                self.over = true;
                (!self.done.load(Ordering::SeqCst)).then(|| {
                    Err(EngineError::Invalid(
                        "reading the export stopped unexpectedly".into(),
                    ))
                })
            }
        }
    }
}

impl Engine {
    /// Writes every conversation, project and saved prompt (or only the conversation
    /// with id `only`, without projects or prompts) as a Hearth JSON export to `out`.
    /// `progress` is called after each conversation. The vault stays locked while the
    /// export is written, so it is one consistent picture.
    pub fn export_json(
        &self,
        out: impl Write,
        only: Option<&str>,
        mut progress: impl FnMut(&ExportProgress),
    ) -> Result<ExportProgress> {
        let vault = self.vault()?;
        let total = match only {
            Some(_) => 1,
            None => vault.count_conversations()?.max(0) as u64,
        };
        let mut done = ExportProgress {
            total_conversations: total,
            ..ExportProgress::default()
        };
        let mut writer = JsonWriter::new(BufWriter::new(out), hearth_vault::now_ms())?;
        let mut failure = None;
        for file in vault.stored_files(only)? {
            writer.begin_file(&file.sha256, file.size)?;
            let read = vault.read_stored_file(&file.sha256, &mut |bytes| {
                writer.file_bytes(bytes).map_err(|e| {
                    failure = Some(e);
                    hearth_vault::VaultError::Invalid("export stopped".into())
                })
            });
            if let Some(e) = failure.take() {
                return Err(e);
            }
            read?;
            writer.end_file()?;
        }
        // One conversation's export is that conversation: its project and the prompt
        // library stay behind (its `project_id` still files it back in this vault).
        if only.is_none() {
            for project in vault.project_trees()? {
                writer.write_project(&project)?;
            }
            for prompt in vault.prompts()? {
                writer.write_prompt(&prompt)?;
            }
        }
        let walked = vault.for_each_tree(only, |tree| {
            if let Err(e) = writer.write(&tree) {
                failure = Some(e);
                return Err(hearth_vault::VaultError::Invalid("export stopped".into()));
            }
            done.conversations += 1;
            done.messages += tree.messages.len() as u64;
            progress(&done);
            Ok(())
        });
        if let Some(e) = failure {
            return Err(e);
        }
        walked?;
        writer
            .finish()?
            .into_inner()
            .map_err(|e| write_failed(e.into_error()))?;
        Ok(done)
    }

    /// Imports a Hearth JSON export: all or nothing, and skipping conversations,
    /// projects and saved prompts already in the vault (so importing the same export
    /// twice adds nothing). The file is read
    /// on a second thread while this one writes the vault, which stays locked for the
    /// whole transaction.
    pub fn import_hearth_json(
        &self,
        reader: impl Read + Send,
        progress: impl FnMut(&ImportReport),
    ) -> Result<ImportReport> {
        let mut vault = self.vault()?;
        let result = std::thread::scope(|scope| {
            let (tx, rx) = sync_channel::<Result<ImportItem>>(PIPE_DEPTH);
            let done = std::sync::Arc::new(AtomicBool::new(false));
            let finished = done.clone();
            let producer = std::thread::Builder::new()
                .name("hearth-export-reader".into())
                .spawn_scoped(scope, move || produce(reader, &tx, &finished))
                .map_err(|e| {
                    EngineError::Invalid(format!("cannot start reading the export: {e}"))
                })?;
            let imported = vault.import(Ended::new(rx.into_iter(), done), progress);
            // The receiver is gone, so the reader stops at its next conversation.
            let _ = producer.join();
            imported
        });
        result.map_err(|e| match e {
            EngineError::Invalid(why)
            | EngineError::Vault(hearth_vault::VaultError::Invalid(why)) => {
                EngineError::Invalid(format!("{why}; nothing was imported"))
            }
            other => other,
        })
    }
}

/// Counts lines as the parser reads, so a problem found after a conversation was parsed
/// can still say where it is. Also the parser's buffer.
struct LineCounting<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    line: Rc<Cell<u64>>,
}

impl<R: Read> Read for LineCounting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = super::budget::read_retrying(&mut self.inner, &mut self.buf)?;
            if self.end == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(self.end - self.start);
        let taken = &self.buf[self.start..self.start + n];
        let newlines = taken.iter().filter(|&&b| b == b'\n').count() as u64;
        if newlines > 0 {
            self.line.set(self.line.get() + newlines);
        }
        out[..n].copy_from_slice(taken);
        self.start += n;
        Ok(n)
    }
}

struct ReadState<'a, F> {
    each: &'a mut F,
    /// A problem found outside serde (a bad header, a broken tree, an error from
    /// `each`), which serde only sees as "stopped".
    failure: Option<EngineError>,
    info: ExportInfo,
    format_seen: bool,
    version_seen: bool,
    /// The last of `files`, `projects`, `prompts` and `conversations` read so far: each
    /// may come once, in that order.
    last_section: Option<Section>,
    /// Which entry the parser is in, for errors.
    inside: Inside,
    line: Rc<Cell<u64>>,
    /// What the reader under the line counter saw (strings cut, conversation sizes).
    guard: Rc<GuardState>,
}

impl<F> ReadState<'_, F> {
    /// Records `failure` and gives serde an error that stops it.
    fn stop<E: de::Error>(&mut self, failure: EngineError) -> E {
        self.failure = Some(failure);
        E::custom("stopped")
    }
}

fn not_hearth(why: &str) -> EngineError {
    EngineError::Invalid(format!(
        "not a Hearth export: {why}; Hearth reads `{FORMAT}` files up to version {VERSION} (a JSON object starting with \"format\": \"{FORMAT}\")"
    ))
}

/// A JSON error, with the conversation it was in when it was in one.
fn json_error<F>(e: serde_json::Error, state: &ReadState<'_, F>) -> EngineError {
    if e.classify() == serde_json::error::Category::Io {
        // The reader failed (an archive that does not authenticate, say): its own words.
        let io: io::Error = e.into();
        return EngineError::Invalid(if io.kind() == io::ErrorKind::InvalidData {
            io.to_string()
        } else {
            format!("cannot read the export: {io}")
        });
    }
    let what = if e.is_eof() {
        format!("the file ends early, so it was cut short ({e})")
    } else {
        e.to_string()
    };
    EngineError::Invalid(match state.inside {
        Inside::Conversations => format!(
            "not a valid Hearth export: conversation {}: {what}",
            state.info.conversations + 1
        ),
        Inside::Projects => format!(
            "not a valid Hearth export: project {}: {what}",
            state.info.projects + 1
        ),
        Inside::Prompts => format!(
            "not a valid Hearth export: saved prompt {}: {what}",
            state.info.prompts + 1
        ),
        Inside::File(n) => format!("not a valid Hearth export: file {n}: {what}"),
        Inside::Top => format!("not a valid Hearth export: {what}"),
    })
}

/// Where in the file the parser is, for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inside {
    /// The header, or between the arrays.
    Top,
    /// File number `n` (from 1).
    File(u64),
    Projects,
    Prompts,
    Conversations,
}

impl<F> ReadState<'_, F> {
    /// Checks that the array `section` may start here: after `format` and `version`,
    /// once, and after the arrays that come before it.
    fn enter(&mut self, section: Section) -> std::result::Result<(), EngineError> {
        let key = section.key();
        if !self.format_seen {
            return Err(not_hearth(&format!(
                "`{key}` comes before `format` (a Hearth export states its format and version first)"
            )));
        }
        if !self.version_seen {
            return Err(EngineError::Invalid(format!(
                "not a valid Hearth export: `{key}` comes before `version` (a Hearth export states its format and version first)"
            )));
        }
        match self.last_section {
            Some(last) if last == section => Err(EngineError::Invalid(format!(
                "not a valid Hearth export: it has `{key}` twice"
            ))),
            Some(last) if last > section => Err(EngineError::Invalid(format!(
                "not a valid Hearth export: `{key}` comes after `{}` (an export holds files, projects, prompts and conversations, in that order)",
                last.key()
            ))),
            _ => {
                self.last_section = Some(section);
                Ok(())
            }
        }
    }
}

/// The top-level object.
struct Top<'s, 'a, F> {
    state: &'s mut ReadState<'a, F>,
}

impl<'de, F> Visitor<'de> for Top<'_, '_, F>
where
    F: FnMut(ImportItem) -> Result<()>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Hearth export object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let state = self.state;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let format: serde_json::Value = map.next_value()?;
                    if format != FORMAT {
                        let shown = match &format {
                            serde_json::Value::String(s) => format!("`{s}`"),
                            other => other.to_string(),
                        };
                        let why = format!("its format is {shown}");
                        return Err(state.stop(not_hearth(&why)));
                    }
                    state.format_seen = true;
                }
                "version" => {
                    let version: serde_json::Value = map.next_value()?;
                    match version.as_u64() {
                        Some(v @ 1..=VERSION) => state.info.version = v,
                        Some(v) if v > VERSION => {
                            return Err(state.stop(EngineError::Invalid(format!(
                                "this Hearth export is version {v}, from a newer Hearth; this Hearth reads versions 1 to {VERSION}; update Hearth to import it"
                            ))))
                        }
                        _ => {
                            return Err(state.stop(not_hearth(&format!(
                                "its version {version} is not a version number"
                            ))))
                        }
                    }
                    state.version_seen = true;
                }
                "exported_at" => state.info.exported_at = map.next_value::<Option<i64>>()?,
                "app" => state.info.app = map.next_value::<Option<String>>()?,
                "files" => {
                    if let Err(e) = state.enter(Section::Files) {
                        return Err(state.stop(e));
                    }
                    map.next_value_seed(FilesSeed { state: &mut *state })?;
                }
                "projects" => {
                    if let Err(e) = state.enter(Section::Projects) {
                        return Err(state.stop(e));
                    }
                    map.next_value_seed(EntriesSeed::<_, ProjectIn>::new(&mut *state))?;
                }
                "prompts" => {
                    if let Err(e) = state.enter(Section::Prompts) {
                        return Err(state.stop(e));
                    }
                    map.next_value_seed(EntriesSeed::<_, PromptIn>::new(&mut *state))?;
                }
                "conversations" => {
                    if let Err(e) = state.enter(Section::Conversations) {
                        return Err(state.stop(e));
                    }
                    map.next_value_seed(EntriesSeed::<_, ConversationIn>::new(&mut *state))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> std::result::Result<(), A::Error> {
        Err(self.state.stop(not_hearth(
            "it is a JSON array (ChatGPT and Claude.ai exports look like this)",
        )))
    }
}

/// One of the arrays of entries (`projects`, `prompts`, `conversations`): each entry
/// read whole, within the guard's limits, checked, and handed on before the next.
struct EntriesSeed<'s, 'a, F, T> {
    state: &'s mut ReadState<'a, F>,
    entry: std::marker::PhantomData<fn() -> T>,
}

impl<'s, 'a, F, T> EntriesSeed<'s, 'a, F, T> {
    fn new(state: &'s mut ReadState<'a, F>) -> Self {
        EntriesSeed {
            state,
            entry: std::marker::PhantomData,
        }
    }
}

/// An entry of one of the export's arrays, as the file has it.
trait EntryIn: for<'de> Deserialize<'de> {
    /// What one is called in errors.
    const WHAT: &'static str;
    /// Where the parser is while it reads one.
    const INSIDE: Inside;
    /// The count of those read.
    fn count(info: &mut ExportInfo) -> &mut u64;
    /// The item for the vault, or its id and what is wrong with it.
    fn into_item(self) -> std::result::Result<ImportItem, (String, String)>;
}

impl<'de, F, T> DeserializeSeed<'de> for EntriesSeed<'_, '_, F, T>
where
    F: FnMut(ImportItem) -> Result<()>,
    T: EntryIn,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F, T> Visitor<'de> for EntriesSeed<'_, '_, F, T>
where
    F: FnMut(ImportItem) -> Result<()>,
    T: EntryIn,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {}s", T::WHAT)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let state = self.state;
        state.inside = T::INSIDE;
        loop {
            let cut = state.guard.begin();
            let raw = seq.next_element::<T>();
            let was_cut = state.guard.cut_since(cut);
            let Some(raw) = raw? else { break };
            let what = T::WHAT;
            let position = *T::count(&mut state.info) + 1;
            if was_cut {
                return Err(state.stop(EngineError::Invalid(format!(
                    "not a valid Hearth export: {what} {position} holds a text of more than {} MiB, far beyond any real one",
                    MAX_STRING_BYTES >> 20
                ))));
            }
            let line = state.line.get();
            let item = match raw.into_item() {
                Ok(item) => item,
                Err((id, why)) => {
                    return Err(state.stop(EngineError::Invalid(format!(
                        "not a valid Hearth export: {what} {position} ({id}, ending on line {line}): {why}"
                    ))))
                }
            };
            if let Err(e) = (state.each)(item) {
                return Err(state.stop(e));
            }
            *T::count(&mut state.info) += 1;
        }
        state.inside = Inside::Top;
        Ok(())
    }
}

/// The `files` array: each file's bytes, handed on piece by piece.
struct FilesSeed<'s, 'a, F> {
    state: &'s mut ReadState<'a, F>,
}

impl<'de, F> DeserializeSeed<'de> for FilesSeed<'_, '_, F>
where
    F: FnMut(ImportItem) -> Result<()>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F> Visitor<'de> for FilesSeed<'_, '_, F>
where
    F: FnMut(ImportItem) -> Result<()>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of files")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let state = self.state;
        let mut n = 0u64;
        loop {
            n += 1;
            state.inside = Inside::File(n);
            let more = seq.next_element_seed(FileSeed {
                state: &mut *state,
                number: n,
            })?;
            if more.is_none() {
                break;
            }
        }
        state.inside = Inside::Top;
        Ok(())
    }
}

/// One file: `sha256` and `size`, then `data`, the base64 pieces.
struct FileSeed<'s, 'a, F> {
    state: &'s mut ReadState<'a, F>,
    number: u64,
}

impl<'de, F> DeserializeSeed<'de> for FileSeed<'_, '_, F>
where
    F: FnMut(ImportItem) -> Result<()>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F> Visitor<'de> for FileSeed<'_, '_, F>
where
    F: FnMut(ImportItem) -> Result<()>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a file object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let state = self.state;
        let n = self.number;
        let mut sha256: Option<String> = None;
        let mut size: Option<u64> = None;
        let mut started = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "sha256" => sha256 = Some(map.next_value()?),
                "size" => {
                    let bytes: u64 = map.next_value()?;
                    if bytes > crate::attachment::MAX_ATTACHMENT_BYTES {
                        return Err(state.stop(EngineError::Invalid(format!(
                            "not a valid Hearth export: file {n} is said to be {bytes} bytes; Hearth keeps files of up to {} MiB",
                            crate::attachment::MAX_ATTACHMENT_BYTES >> 20
                        ))));
                    }
                    size = Some(bytes);
                }
                "data" => {
                    let (Some(sha), Some(bytes), false) = (sha256.take(), size, started) else {
                        return Err(state.stop(EngineError::Invalid(format!(
                            "not a valid Hearth export: file {n} gives its `data` before its `sha256` and `size`, or twice"
                        ))));
                    };
                    started = true;
                    if let Err(e) = (state.each)(ImportItem::FileStart {
                        sha256: sha,
                        size: bytes,
                    }) {
                        return Err(state.stop(e));
                    }
                    map.next_value_seed(DataSeed {
                        state: &mut *state,
                        number: n,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !started {
            // A file with no `data` holds no bytes.
            let Some(sha) = sha256 else {
                return Err(state.stop(EngineError::Invalid(format!(
                    "not a valid Hearth export: file {n} has no `sha256`"
                ))));
            };
            if let Err(e) = (state.each)(ImportItem::FileStart {
                sha256: sha,
                size: size.unwrap_or(0),
            }) {
                return Err(state.stop(e));
            }
        }
        Ok(())
    }
}

/// A file's `data`: base64 strings, each decoded on its own and handed on.
struct DataSeed<'s, 'a, F> {
    state: &'s mut ReadState<'a, F>,
    number: u64,
}

impl<'de, F> DeserializeSeed<'de> for DataSeed<'_, '_, F>
where
    F: FnMut(ImportItem) -> Result<()>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F> Visitor<'de> for DataSeed<'_, '_, F>
where
    F: FnMut(ImportItem) -> Result<()>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of base64 strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let state = self.state;
        let n = self.number;
        loop {
            let cut = state.guard.cut.get();
            let Some(piece) = seq.next_element::<String>()? else {
                break;
            };
            if state.guard.cut.get() > cut {
                return Err(state.stop(EngineError::Invalid(format!(
                    "not a valid Hearth export: file {n} holds a piece of more than {} MiB",
                    MAX_STRING_BYTES >> 20
                ))));
            }
            let bytes = match base64::engine::general_purpose::STANDARD.decode(piece.as_bytes()) {
                Ok(bytes) => bytes,
                Err(e) => {
                    return Err(state.stop(EngineError::Invalid(format!(
                        "not a valid Hearth export: file {n}'s data is not base64 ({e})"
                    ))))
                }
            };
            drop(piece);
            if let Err(e) = (state.each)(ImportItem::FileBytes(bytes)) {
                return Err(state.stop(e));
            }
        }
        Ok(())
    }
}

/// A conversation as the file has it. Nullable fields may be left out; unknown fields
/// are ignored.
#[derive(Deserialize)]
#[serde(expecting = "a conversation object")]
struct ConversationIn {
    id: String,
    title: String,
    created_at: i64,
    updated_at: i64,
    #[serde(default)]
    provider_id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    system_prompt: Option<String>,
    #[serde(default)]
    params: Option<Box<RawValue>>,
    pinned: bool,
    archived: bool,
    /// Version 4: the project it is in.
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    source_id: Option<String>,
    #[serde(default)]
    head_message_id: Option<String>,
    messages: Vec<MessageIn>,
}

impl EntryIn for ConversationIn {
    const WHAT: &'static str = "conversation";
    const INSIDE: Inside = Inside::Conversations;

    fn count(info: &mut ExportInfo) -> &mut u64 {
        &mut info.conversations
    }

    fn into_item(self) -> std::result::Result<ImportItem, (String, String)> {
        self.into_tree().map(ImportItem::from)
    }
}

/// A project as the file has it (version 4).
#[derive(Deserialize)]
#[serde(expecting = "a project object")]
struct ProjectIn {
    id: String,
    name: String,
    instructions: String,
    #[serde(default)]
    provider_id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    params: Option<Box<RawValue>>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    source_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    files: Vec<ProjectFileIn>,
}

#[derive(Deserialize)]
#[serde(expecting = "a project file object")]
struct ProjectFileIn {
    id: String,
    /// Its place among the project's files; its place in the array when left out.
    #[serde(default)]
    position: Option<u32>,
    name: String,
    media_type: String,
    size: u64,
    sha256: String,
    created_at: i64,
}

impl EntryIn for ProjectIn {
    const WHAT: &'static str = "project";
    const INSIDE: Inside = Inside::Projects;

    fn count(info: &mut ExportInfo) -> &mut u64 {
        &mut info.projects
    }

    fn into_item(self) -> std::result::Result<ImportItem, (String, String)> {
        let id = self.id;
        let bad = |why: String| Err((id.clone(), why));
        if id.is_empty() {
            return bad("its id is empty".into());
        }
        if self.name.trim().is_empty() {
            return bad("its name is empty".into());
        }
        if self.instructions.len() > crate::projects::MAX_INSTRUCTIONS_BYTES {
            return bad(format!(
                "its instructions are more than {} KiB, more than Hearth keeps",
                crate::projects::MAX_INSTRUCTIONS_BYTES >> 10
            ));
        }
        if self.files.len() > crate::projects::MAX_PROJECT_FILES {
            return bad(format!(
                "it has {} files; a project holds at most {}",
                self.files.len(),
                crate::projects::MAX_PROJECT_FILES
            ));
        }
        let mut files = Vec::with_capacity(self.files.len());
        for (i, f) in self.files.into_iter().enumerate() {
            if f.id.is_empty() || f.name.trim().is_empty() {
                return bad(format!("its file {} has an empty id or name", i + 1));
            }
            if !crate::attachment::MEDIA_TYPES.contains(&f.media_type.as_str()) {
                return bad(format!(
                    "its file {} ({}) has the media type {:?}, which is not one Hearth keeps",
                    f.id, f.name, f.media_type
                ));
            }
            if f.size > crate::attachment::MAX_ATTACHMENT_BYTES {
                return bad(format!(
                    "its file {} ({}) is said to be {} bytes; Hearth keeps files of up to {} MiB",
                    f.id,
                    f.name,
                    f.size,
                    crate::attachment::MAX_ATTACHMENT_BYTES >> 20
                ));
            }
            files.push(ProjectFile {
                id: f.id,
                project_id: id.clone(),
                position: f.position.unwrap_or(i as u32),
                name: f.name,
                media_type: f.media_type,
                size: f.size,
                sha256: f.sha256,
                created_at: f.created_at,
            });
        }
        Ok(ImportItem::Project(Box::new(ProjectTree {
            project: Project {
                id: id.clone(),
                name: self.name,
                instructions: self.instructions,
                provider_id: self.provider_id,
                model: self.model,
                params_json: self.params.map(|p| p.get().to_owned()),
                source: self.source,
                source_id: self.source_id,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            files,
        })))
    }
}

/// A saved prompt as the file has it (version 4).
#[derive(Deserialize)]
#[serde(expecting = "a saved prompt object")]
struct PromptIn {
    id: String,
    name: String,
    text: String,
    created_at: i64,
    updated_at: i64,
}

impl EntryIn for PromptIn {
    const WHAT: &'static str = "saved prompt";
    const INSIDE: Inside = Inside::Prompts;

    fn count(info: &mut ExportInfo) -> &mut u64 {
        &mut info.prompts
    }

    fn into_item(self) -> std::result::Result<ImportItem, (String, String)> {
        let bad = |why: &str| Err((self.id.clone(), why.to_owned()));
        if self.id.is_empty() {
            return bad("its id is empty");
        }
        if self.name.trim().is_empty() || self.text.trim().is_empty() {
            return bad("its name or its text is empty");
        }
        if self.text.len() > crate::projects::MAX_INSTRUCTIONS_BYTES {
            return bad(&format!(
                "its text is more than {} KiB, more than Hearth keeps",
                crate::projects::MAX_INSTRUCTIONS_BYTES >> 10
            ));
        }
        Ok(ImportItem::Prompt(Prompt {
            id: self.id,
            name: self.name,
            text: self.text,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }))
    }
}

#[derive(Deserialize)]
#[serde(expecting = "a message object")]
struct MessageIn {
    id: String,
    #[serde(default)]
    parent_id: Option<String>,
    role: RoleIn,
    content: String,
    #[serde(default)]
    reasoning: Option<String>,
    status: StatusIn,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    provider_id: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    tokens_in: Option<i64>,
    #[serde(default)]
    tokens_out: Option<i64>,
    created_at: i64,
    #[serde(default)]
    finished_at: Option<i64>,
    /// Version 2: the files attached, in order.
    #[serde(default)]
    attachments: Vec<AttachmentIn>,
    /// Version 3: the tool calls a reply made.
    #[serde(default)]
    tool_calls: Vec<ToolCallIn>,
}

#[derive(Deserialize)]
#[serde(expecting = "a tool call object")]
struct ToolCallIn {
    id: String,
    position: i64,
    step: i64,
    text_offset: i64,
    reasoning_offset: i64,
    call_id: String,
    server: String,
    tool: String,
    arguments: String,
    #[serde(default)]
    signature: Option<String>,
    status: ToolStatusIn,
    #[serde(default)]
    result: Option<String>,
    created_at: i64,
    #[serde(default)]
    finished_at: Option<i64>,
}

/// `pending` is not among them: an export holds finished calls only.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ToolStatusIn {
    Approved,
    Denied,
    Failed,
    Cancelled,
}

#[derive(Deserialize)]
#[serde(expecting = "an attachment object")]
struct AttachmentIn {
    id: String,
    name: String,
    media_type: String,
    size: u64,
    sha256: String,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum RoleIn {
    System,
    User,
    Assistant,
}

/// `streaming` is not among them: an export holds finished messages only.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum StatusIn {
    Complete,
    Cancelled,
    Error,
    Interrupted,
}

impl ConversationIn {
    /// The conversation for the vault, or its id and what is wrong with its tree.
    fn into_tree(self) -> std::result::Result<ConversationTree, (String, String)> {
        let id = self.id;
        let bad = |why: String| Err((id.clone(), why));
        if id.is_empty() {
            return bad("its id is empty".into());
        }
        let mut seen: HashSet<&str> = HashSet::with_capacity(self.messages.len());
        for m in &self.messages {
            if m.id.is_empty() {
                return bad("a message has an empty id".into());
            }
            if let Some(parent) = &m.parent_id {
                if !seen.contains(parent.as_str()) {
                    return bad(format!(
                        "message {} comes before its parent {parent}, or the parent is missing (parents must come first)",
                        m.id
                    ));
                }
            }
            if !seen.insert(m.id.as_str()) {
                return bad(format!("message {} appears twice", m.id));
            }
        }
        match &self.head_message_id {
            Some(head) if !seen.contains(head.as_str()) => {
                return bad(format!(
                    "its head_message_id {head} is not one of its messages"
                ))
            }
            None if !self.messages.is_empty() => {
                return bad("it has messages but no head_message_id".into())
            }
            _ => {}
        }
        drop(seen);
        let mut attachments = Vec::new();
        for m in &self.messages {
            for (position, a) in m.attachments.iter().enumerate() {
                if a.id.is_empty() || a.name.trim().is_empty() {
                    return bad(format!(
                        "an attachment of message {} has an empty id or name",
                        m.id
                    ));
                }
                if !crate::attachment::MEDIA_TYPES.contains(&a.media_type.as_str()) {
                    return bad(format!(
                        "attachment {} ({}) has the media type {:?}, which is not one Hearth keeps",
                        a.id, a.name, a.media_type
                    ));
                }
                attachments.push(Attachment {
                    id: a.id.clone(),
                    message_id: m.id.clone(),
                    position: position as u32,
                    name: a.name.clone(),
                    media_type: a.media_type.clone(),
                    size: a.size,
                    sha256: a.sha256.clone(),
                });
            }
        }
        let mut tool_calls = Vec::new();
        let mut messages = Vec::with_capacity(self.messages.len());
        for mut m in self.messages {
            tool_calls.extend(m.tool_calls.drain(..).map(|c| ToolCall {
                id: c.id,
                message_id: m.id.clone(),
                position: c.position,
                step: c.step,
                text_offset: c.text_offset,
                reasoning_offset: c.reasoning_offset,
                call_id: c.call_id,
                server: c.server,
                tool: c.tool,
                arguments: c.arguments,
                signature: c.signature,
                status: match c.status {
                    ToolStatusIn::Approved => ToolCallStatus::Approved,
                    ToolStatusIn::Denied => ToolCallStatus::Denied,
                    ToolStatusIn::Failed => ToolCallStatus::Failed,
                    ToolStatusIn::Cancelled => ToolCallStatus::Cancelled,
                },
                result: c.result,
                created_at: c.created_at,
                finished_at: c.finished_at,
            }));
            messages.push(Message {
                id: m.id,
                conversation_id: id.clone(),
                parent_id: m.parent_id,
                role: match m.role {
                    RoleIn::System => Role::System,
                    RoleIn::User => Role::User,
                    RoleIn::Assistant => Role::Assistant,
                },
                content: m.content,
                reasoning: m.reasoning,
                status: match m.status {
                    StatusIn::Complete => MessageStatus::Complete,
                    StatusIn::Cancelled => MessageStatus::Cancelled,
                    StatusIn::Error => MessageStatus::Error,
                    StatusIn::Interrupted => MessageStatus::Interrupted,
                },
                error: m.error,
                provider_id: m.provider_id,
                model: m.model,
                tokens_in: m.tokens_in,
                tokens_out: m.tokens_out,
                created_at: m.created_at,
                finished_at: m.finished_at,
            });
        }
        Ok(ConversationTree {
            conversation: Conversation {
                id: id.clone(),
                title: self.title,
                created_at: self.created_at,
                updated_at: self.updated_at,
                provider_id: self.provider_id,
                model: self.model,
                system_prompt: self.system_prompt,
                params_json: self.params.map(|p| p.get().to_owned()),
                pinned: self.pinned,
                archived: self.archived,
                source: self.source,
                source_id: self.source_id,
                head_message_id: self.head_message_id,
                project_id: self.project_id,
            },
            messages,
            attachments,
            tool_calls,
        })
    }
}

/// Vaults, trees and helpers shared by the transfer tests.
#[cfg(test)]
pub(crate) mod test_support {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;
    use std::sync::Arc;

    use hearth_keychain::MemoryStore;
    use hearth_vault::{
        Conversation, ConversationTree, KdfParams, Message, MessageStatus, Passphrase, Role,
        ToolCall, ToolCallStatus,
    };

    use crate::{AppPaths, Engine, KeyProtection};

    /// The floor, so tests stay fast.
    pub(crate) fn fast() -> KdfParams {
        KdfParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }

    /// A fresh passphrase vault in `dir`.
    pub(crate) fn engine(dir: &Path) -> Engine {
        Engine::create_with_kdf(
            &AppPaths::new(dir),
            Arc::new(MemoryStore::unavailable()),
            KeyProtection::Passphrase(Passphrase::new("test vault passphrase")),
            fast(),
        )
        .unwrap()
    }

    /// Every conversation the vault holds, as the vault gives them.
    pub(crate) fn trees(engine: &Engine) -> Vec<ConversationTree> {
        let mut out = Vec::new();
        engine
            .vault()
            .unwrap()
            .for_each_tree(None, |t| {
                out.push(t);
                Ok(())
            })
            .unwrap();
        out
    }

    /// A complete message.
    pub(crate) fn message(
        conversation: &str,
        id: &str,
        parent: Option<&str>,
        role: Role,
        content: &str,
        at: i64,
    ) -> Message {
        Message {
            id: id.into(),
            conversation_id: conversation.into(),
            parent_id: parent.map(Into::into),
            role,
            content: content.into(),
            reasoning: None,
            status: MessageStatus::Complete,
            error: None,
            provider_id: None,
            model: None,
            tokens_in: None,
            tokens_out: None,
            created_at: at,
            finished_at: Some(at),
        }
    }

    /// A conversation with a question and two answers (a regenerated reply); the second
    /// answer is the visible one.
    pub(crate) fn sample(id: &str) -> ConversationTree {
        let t = 1_714_564_800_000; // 2024-05-01 12:00 UTC
        let q = format!("{id}-q");
        let mut first = message(
            id,
            &format!("{id}-a1"),
            Some(&q),
            Role::Assistant,
            "First answer, hidden.",
            t + 60_000,
        );
        first.model = Some("model-one".into());
        first.provider_id = Some("openai".into());
        let mut second = message(
            id,
            &format!("{id}-a2"),
            Some(&q),
            Role::Assistant,
            "Second answer.\n\nWith a paragraph.",
            t + 120_000,
        );
        second.model = Some("model-two".into());
        second.provider_id = Some("anthropic".into());
        second.reasoning = Some("Thinking it over.".into());
        second.tokens_in = Some(12);
        second.tokens_out = Some(34);
        ConversationTree {
            conversation: Conversation {
                id: id.into(),
                title: "A small test".into(),
                created_at: t,
                updated_at: t + 120_000,
                provider_id: Some("anthropic".into()),
                model: Some("model-two".into()),
                system_prompt: Some("Be brief.".into()),
                params_json: Some(r#"{"temperature":0.5}"#.into()),
                pinned: true,
                archived: false,
                source: None,
                source_id: None,
                head_message_id: Some(second.id.clone()),
                project_id: None,
            },
            messages: vec![
                message(id, &q, None, Role::User, "What is a hearth?", t),
                first,
                second,
            ],
            attachments: Vec::new(),
            tool_calls: Vec::new(),
        }
    }

    /// Every project with its files, and every saved prompt, as the vault gives them.
    pub(crate) fn projects_and_prompts(
        engine: &Engine,
    ) -> (Vec<hearth_vault::ProjectTree>, Vec<hearth_vault::Prompt>) {
        let vault = engine.vault().unwrap();
        (vault.project_trees().unwrap(), vault.prompts().unwrap())
    }

    /// The bytes of project file `id`.
    pub(crate) fn project_file_bytes(engine: &Engine, id: &str) -> Vec<u8> {
        let mut out = Vec::new();
        engine
            .vault()
            .unwrap()
            .read_project_file(id, &mut |c| {
                out.extend_from_slice(c);
                Ok(())
            })
            .unwrap();
        out
    }

    /// [`sample`] conversations `c1` and `c2` with `c1` in a project "Garden" that has
    /// instructions, a default model and settings, and two files (at positions 0 and 2:
    /// the one between was removed), one of them large; an empty second project; and
    /// two saved prompts. `c1` has its own settings too.
    pub(crate) fn with_projects(engine: &Engine) -> String {
        engine
            .import_trees(vec![Ok(sample("c1")), Ok(sample("c2"))], |_| {})
            .unwrap();
        let garden = engine
            .create_project("Garden", "Answer in metric units.\nKeep lists short.")
            .unwrap();
        engine.create_project("Empty «project» 🌱", "").unwrap();
        let big: Vec<u8> = (0..hearth_vault::CHUNK_BYTES * 2 + 5)
            .map(|i| b"abcdefghij\n"[i % 11])
            .collect();
        let mut vault = engine.vault().unwrap();
        let files = vault
            .add_project_files(
                &garden.id,
                &[
                    hearth_vault::NewAttachment {
                        name: "plan — été.md",
                        media_type: "text/markdown",
                        bytes: "# Plan\n\n水やり 🌱\n".as_bytes(),
                    },
                    hearth_vault::NewAttachment {
                        name: "gone.txt",
                        media_type: "text/plain",
                        bytes: b"removed again",
                    },
                    hearth_vault::NewAttachment {
                        name: "beds.txt",
                        media_type: "text/plain",
                        bytes: &big,
                    },
                ],
            )
            .unwrap();
        vault.remove_project_file(&files[1].id).unwrap();
        vault
            .edit_project(
                &garden.id,
                &hearth_vault::ProjectEdit {
                    model: Some((Some("anthropic".into()), Some("claude-test".into()))),
                    params_json: Some(Some(
                        r#"{"temperature":0.2,"max_tokens":800,"reasoning":"high"}"#.into(),
                    )),
                    ..hearth_vault::ProjectEdit::default()
                },
            )
            .unwrap();
        vault.move_conversation("c1", Some(&garden.id)).unwrap();
        vault
            .set_conversation_params("c1", Some(r#"{"temperature":1.5,"reasoning":"low"}"#))
            .unwrap();
        vault
            .create_prompt("Summarise", "Summarise this in three lines.")
            .unwrap();
        vault
            .create_prompt("Translate «fr»", "Translate into French:\n\n")
            .unwrap();
        garden.id
    }

    /// A finished tool call of reply `message`.
    pub(crate) fn tool_call(message: &str, position: i64, step: i64, at: i64) -> ToolCall {
        ToolCall {
            id: format!("{message}-call{position}"),
            message_id: message.into(),
            position,
            step,
            text_offset: 0,
            reasoning_offset: 0,
            call_id: format!("toolu_{position}"),
            server: "files".into(),
            tool: "read_file".into(),
            arguments: r#"{"path":"notes/hearth.txt"}"#.into(),
            signature: None,
            status: ToolCallStatus::Approved,
            result: Some("A hearth is the floor of a fireplace.".into()),
            created_at: at,
            finished_at: Some(at + 250),
        }
    }

    /// [`sample`] whose replies used tools: the visible one in two steps (two calls,
    /// then one that failed, after some text, with a signature), the hidden one once
    /// (denied, with invalid arguments).
    pub(crate) fn sample_with_calls(id: &str) -> ConversationTree {
        let mut tree = sample(id);
        let t = tree.messages[1].created_at;
        let mut denied = tool_call(&format!("{id}-a1"), 0, 0, t + 10);
        denied.arguments = r#"{"path": "/etc/pass"#.into();
        denied.status = ToolCallStatus::Denied;
        denied.result = Some("The user did not allow this call.".into());
        denied.call_id = String::new();
        let visible = format!("{id}-a2");
        let t = tree.messages[2].created_at;
        let mut failed = tool_call(&visible, 2, 1, t + 20);
        failed.text_offset = "Second answer.\n\n".len() as i64;
        failed.reasoning_offset = "Thinking".len() as i64;
        failed.signature = Some("CiQBcm9ja3M=".into());
        failed.status = ToolCallStatus::Failed;
        failed.result = Some("no such file".into());
        failed.finished_at = None;
        tree.tool_calls = vec![
            denied,
            tool_call(&visible, 0, 0, t + 10),
            tool_call(&visible, 1, 0, t + 11),
            failed,
        ];
        tree
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::test_support::*;
    use super::*;

    fn export(trees: &[ConversationTree]) -> Vec<u8> {
        let mut w = JsonWriter::new(Vec::new(), 1_700_000_000_000).unwrap();
        for t in trees {
            w.write(t).unwrap();
        }
        w.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> Result<(Vec<ConversationTree>, ExportInfo)> {
        let mut out = Vec::new();
        let info = read(bytes, |item| {
            if let ImportItem::Conversation(t) = item {
                out.push(*t);
            }
            Ok(())
        })?;
        Ok((out, info))
    }

    fn err(bytes: &[u8]) -> String {
        read_all(bytes).unwrap_err().to_string()
    }

    #[test]
    fn trees_survive_writing_and_reading() {
        let trees = vec![sample("c1"), sample("c2")];
        let bytes = export(&trees);
        let (back, info) = read_all(&bytes).unwrap();
        assert_eq!(back, trees);
        assert_eq!(info.version, 4);
        assert_eq!(info.exported_at, Some(1_700_000_000_000));
        assert_eq!(info.app, Some(app_name()));
        assert_eq!(info.conversations, 2);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with(r#"{"format":"hearth-export","version":4,"exported_at":1700000000000,"app":"Hearth "#), "{text}");
        assert!(
            text.lines()
                .next()
                .unwrap()
                .ends_with(r#","files":[],"projects":[],"prompts":[],"conversations":["#),
            "{text}"
        );
        // One conversation per line, between the header line and the closing line.
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.ends_with("\n]}\n"));
    }

    #[test]
    fn an_empty_export_is_valid() {
        let bytes = export(&[]);
        let (back, info) = read_all(&bytes).unwrap();
        assert!(back.is_empty());
        assert_eq!(info.conversations, 0);
    }

    #[test]
    fn params_pass_through_as_written() {
        let mut tree = sample("c");
        tree.conversation.params_json = Some(r#"{ "temperature" : 0.70, "stop": ["\n"] }"#.into());
        let bytes = export(std::slice::from_ref(&tree));
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(r#""params":{ "temperature" : 0.70, "stop": ["\n"] }"#),
            "{text}"
        );
        assert_eq!(read_all(&bytes).unwrap().0, vec![tree.clone()]);
        // Text that is not JSON (never written by Hearth) still exports, as a string.
        tree.conversation.params_json = Some("not json".into());
        let text = String::from_utf8(export(&[tree])).unwrap();
        assert!(text.contains(r#""params":"not json""#), "{text}");
    }

    #[test]
    fn children_timed_before_their_parents_are_written_after_them() {
        let mut tree = sample("c");
        // The child first, as a vault lists messages by time.
        tree.messages[0].created_at = i64::MAX;
        tree.messages.rotate_left(1);
        let bytes = export(std::slice::from_ref(&tree));
        let (back, _) = read_all(&bytes).unwrap();
        let ids: Vec<_> = back[0].messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["c-q", "c-a1", "c-a2"]);
    }

    #[test]
    fn a_loop_in_the_tree_is_refused_on_export() {
        let mut tree = sample("c");
        tree.messages[0].parent_id = Some("c-a1".into());
        let mut w = JsonWriter::new(Vec::new(), 0).unwrap();
        let e = w.write(&tree).unwrap_err().to_string();
        assert!(e.contains("loop"), "{e}");
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_nullable_ones_are_null() {
        let text = r#"{"format":"hearth-export","version":1,"future":{"x":[1,2]},
            "conversations":[{"id":"c","title":"t","created_at":1,"updated_at":2,"pinned":false,
            "archived":true,"head_message_id":"m","new_field":"ignored",
            "messages":[{"id":"m","role":"user","content":"hi","status":"complete","created_at":1,"extra":1}]}],
            "trailer":true}"#;
        let (back, info) = read_all(text.as_bytes()).unwrap();
        assert_eq!(info.exported_at, None);
        let c = &back[0].conversation;
        assert!(c.archived && c.model.is_none() && c.params_json.is_none());
        assert_eq!(back[0].messages[0].conversation_id, "c");
        assert_eq!(back[0].messages[0].tokens_in, None);
    }

    #[test]
    fn other_formats_and_newer_versions_are_refused_with_what_they_are() {
        let e = err(br#"{"format":"something-else","version":1,"conversations":[]}"#);
        assert!(
            e.contains("not a Hearth export")
                && e.contains("`something-else`")
                && e.contains("hearth-export"),
            "{e}"
        );
        let e = err(br#"{"format":"hearth-export","version":5,"conversations":[]}"#);
        assert!(
            e.contains("version 5") && e.contains("versions 1 to 4") && e.contains("update Hearth"),
            "{e}"
        );
        let e = err(br#"{"version":1,"conversations":[]}"#);
        assert!(e.contains("before `format`"), "{e}");
        let e = err(br#"{"format":"hearth-export","conversations":[],"version":1}"#);
        assert!(e.contains("before `version`"), "{e}");
        let e = err(br#"{"version":1}"#);
        assert!(e.contains("no `format`"), "{e}");
        let e = err(br#"{"format":"hearth-export","version":1}"#);
        assert!(e.contains("no `conversations`"), "{e}");
        let e = err(br#"{"format":"hearth-export","version":"1","conversations":[]}"#);
        assert!(e.contains("not a version number"), "{e}");
        let e = err(br#"[{"mapping":{}}]"#);
        assert!(e.contains("JSON array"), "{e}");
        let e = err(b"");
        assert!(e.contains("ends early"), "{e}");
        let e = err(b"{\"format\":\"hearth-export\",\"version\":1,\"conversations\":[]} extra");
        assert!(e.contains("trailing"), "{e}");
    }

    #[test]
    fn a_text_of_more_than_16_mib_fails_the_import_without_being_held() {
        let mut huge = sample("c2");
        huge.messages[0].content = "a".repeat((16 << 20) + 10);
        let bytes = export(&[sample("c1"), huge, sample("c3")]);
        let mut seen = 0;
        let e = read(&bytes[..], |_| {
            seen += 1;
            Ok(())
        })
        .unwrap_err()
        .to_string();
        assert_eq!(seen, 1);
        assert!(
            e.contains("conversation 2 holds a text of more than 16 MiB"),
            "{e}"
        );
    }

    #[test]
    fn a_malformed_conversation_is_named_with_its_line() {
        let mut bytes = export(&[sample("c1"), sample("c2"), sample("c3")]);
        let text = String::from_utf8(bytes.clone()).unwrap();
        // Break the second conversation's role.
        let at = text
            .find(r#""id":"c2-a1","parent_id":"c2-q","role":"assistant""#)
            .unwrap();
        let role_at = at + text[at..].find("assistant").unwrap();
        bytes[role_at..role_at + 9].copy_from_slice(b"assistent");
        let mut seen = 0;
        let e = read(&bytes[..], |_| {
            seen += 1;
            Ok(())
        })
        .unwrap_err()
        .to_string();
        assert_eq!(seen, 1);
        assert!(
            e.contains("conversation 2") && e.contains("line 3") && e.contains("assistent"),
            "{e}"
        );

        // A broken tree: named by id and line.
        let mut tree = sample("c2");
        tree.conversation.head_message_id = Some("elsewhere".into());
        let bytes = export(&[sample("c1"), tree]);
        let e = err(&bytes);
        assert!(
            e.contains("conversation 2 (c2, ending on line 3)") && e.contains("elsewhere"),
            "{e}"
        );
    }

    #[test]
    fn a_streaming_message_is_refused_on_read_and_exported_as_interrupted() {
        let mut tree = sample("c");
        tree.messages[2].status = MessageStatus::Streaming;
        let bytes = export(std::slice::from_ref(&tree));
        let (back, _) = read_all(&bytes).unwrap();
        assert_eq!(back[0].messages[2].status, MessageStatus::Interrupted);
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("interrupted", "streaming");
        let e = err(text.as_bytes());
        assert!(e.contains("unknown variant `streaming`"), "{e}");
    }

    #[test]
    fn a_file_cut_short_anywhere_is_refused() {
        let bytes = export(&[sample("c1"), sample("c2")]);
        for cut in 0..bytes.len() - 1 {
            // Cutting only the final newline leaves a complete export.
            let result = read_all(&bytes[..cut]);
            assert!(result.is_err(), "cut at {cut} was accepted");
        }
        let e = err(&bytes[..bytes.len() / 2]);
        assert!(e.contains("cut short") && e.contains("line"), "{e}");
    }

    #[test]
    fn the_iterator_yields_each_conversation_then_stops_at_an_error() {
        let bytes = export(&[sample("c1"), sample("c2")]);
        let all: Vec<_> = items(std::io::Cursor::new(bytes.clone())).collect();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(Result::is_ok));
        let cut = bytes[..bytes.len() - 10].to_vec();
        let all: Vec<_> = items(std::io::Cursor::new(cut)).collect();
        assert!(all.last().unwrap().is_err());
    }

    #[test]
    fn engine_export_and_import_round_trip_and_twice_adds_nothing() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        source
            .import_trees(vec![Ok(sample("c1")), Ok(sample("c2"))], |_| {})
            .unwrap();
        let mut bytes = Vec::new();
        let mut seen = Vec::new();
        let done = source
            .export_json(&mut bytes, None, |p| seen.push(*p))
            .unwrap();
        assert_eq!(
            (done.conversations, done.messages, done.total_conversations),
            (2, 6, 2)
        );
        assert_eq!(seen.len(), 2);

        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        let report = dest.import_hearth_json(&bytes[..], |_| {}).unwrap();
        assert_eq!((report.added, report.skipped, report.messages), (2, 0, 6));
        assert_eq!(trees(&dest), trees(&source));
        let again = dest.import_hearth_json(&bytes[..], |_| {}).unwrap();
        assert_eq!((again.added, again.skipped, again.messages), (0, 2, 0));
        assert_eq!(trees(&dest), trees(&source));

        // One conversation only.
        let mut one = Vec::new();
        source.export_json(&mut one, Some("c2"), |_| {}).unwrap();
        let (back, _) = read_all(&one).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].conversation.id, "c2");
        assert!(source
            .export_json(Vec::new(), Some("nope"), |_| {})
            .is_err());
    }

    #[test]
    fn a_broken_export_imports_nothing_and_says_where() {
        let bytes = export(&[sample("c1"), sample("c2"), sample("c3")]);
        let dir = tempfile::tempdir().unwrap();
        let dest = engine(dir.path());
        for cut in [bytes.len() / 4, bytes.len() / 2, bytes.len() - 4] {
            let e = dest
                .import_hearth_json(&bytes[..cut], |_| {})
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("line") && e.ends_with("nothing was imported"),
                "{e}"
            );
        }
        assert!(trees(&dest).is_empty());
    }

    #[test]
    fn the_documented_example_is_a_valid_export() {
        let doc = include_str!("../../../../docs/export-format.md");
        let start =
            doc.find("### Example\n\n```json\n").unwrap() + "### Example\n\n```json\n".len();
        let example = &doc[start..start + doc[start..].find("```").unwrap()];
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../../docs/export-format.schema.json"))
                .unwrap();
        let value: serde_json::Value = serde_json::from_str(example).unwrap();
        assert!(jsonschema::draft202012::is_valid(&schema, &value));
        let (back, info) = read_all(example.as_bytes()).unwrap();
        assert_eq!(info.conversations, 1);
        assert_eq!(back[0].messages.len(), 3);
        assert_eq!(
            back[0].conversation.params_json.as_deref(),
            Some(r#"{"temperature":0.5}"#)
        );
        // Its file's hash and size are right: it imports, and the bytes come back.
        let dir = tempfile::tempdir().unwrap();
        let dest = engine(dir.path());
        dest.import_hearth_json(example.as_bytes(), |_| {}).unwrap();
        let tree = &trees(&dest)[0];
        let attachment = &tree.attachments[0];
        assert_eq!(attachment.name, "woods.txt");
        assert_eq!(bytes_of(&dest, &attachment.id), b"oak, ash, birch\n");
        // Its tool call belongs to the visible reply, after the text before it.
        let call = &tree.tool_calls[0];
        assert_eq!(
            (call.message_id.as_str(), call.tool.as_str()),
            ("m3", "search")
        );
        let reply = &tree.messages[2];
        assert_eq!(
            &reply.content[..call.text_offset as usize],
            "Let me check which burns best. "
        );
        // Its conversation is in its project, whose file's bytes came too.
        let (projects, prompts) = projects_and_prompts(&dest);
        assert_eq!(projects.len(), 1);
        assert_eq!(projects[0].project.name, "Fireside");
        assert_eq!(
            tree.conversation.project_id.as_deref(),
            Some(projects[0].project.id.as_str())
        );
        assert_eq!(
            project_file_bytes(&dest, &projects[0].files[0].id),
            b"# Fireside rules\n\nOnly dry, seasoned wood.\n"
        );
        assert_eq!(prompts[0].name, "Shorter");
        assert_eq!((info.projects, info.prompts), (1, 1));
    }

    #[test]
    fn an_export_matches_the_published_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../../docs/export-format.schema.json"))
                .unwrap();
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        let mut odd = sample("c2");
        odd.conversation.params_json = None;
        odd.conversation.source = Some("chatgpt".into());
        odd.conversation.source_id = Some("abc".into());
        odd.messages[2].status = MessageStatus::Error;
        odd.messages[2].error = Some("server: overloaded".into());
        let empty = ConversationTree {
            conversation: Conversation {
                head_message_id: None,
                project_id: None,
                ..sample("c3").conversation
            },
            messages: Vec::new(),
            attachments: Vec::new(),
            tool_calls: Vec::new(),
        };
        source
            .import_trees(
                vec![Ok(sample_with_calls("c1")), Ok(odd), Ok(empty)],
                |_| {},
            )
            .unwrap();
        source
            .vault()
            .unwrap()
            .add_attachments(
                "c1-q",
                &[hearth_vault::NewAttachment {
                    name: "notes.md",
                    media_type: "text/markdown",
                    bytes: b"# notes",
                }],
            )
            .unwrap();
        let project = source.create_project("Notes", "Be brief.").unwrap();
        source.create_project("Bare", "").unwrap();
        source
            .vault()
            .unwrap()
            .add_project_files(
                &project.id,
                &[hearth_vault::NewAttachment {
                    name: "rules.txt",
                    media_type: "text/plain",
                    bytes: b"no jargon",
                }],
            )
            .unwrap();
        source.move_conversation("c1", Some(&project.id)).unwrap();
        source.create_prompt("Shorter", "Say it shorter.").unwrap();
        let mut bytes = Vec::new();
        source.export_json(&mut bytes, None, |_| {}).unwrap();
        let export: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&export)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");

        // The schema can fail: a message without a status does not pass.
        let mut broken = export.clone();
        broken["conversations"][0]["messages"][0]
            .as_object_mut()
            .unwrap()
            .remove("status");
        assert!(!validator.is_valid(&broken));
        // And it lists every field the writer writes, so neither can drift alone.
        let props = |def: &str| -> Vec<String> {
            let mut keys: Vec<String> = schema["$defs"][def]["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_owned())
                .collect();
            keys.sort();
            keys
        };
        let mut written: Vec<String> = export["conversations"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        written.sort();
        assert_eq!(written, props("conversation"));
        let mut written: Vec<String> = export["conversations"][0]["messages"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        written.sort();
        assert_eq!(written, props("message"));
        let mut written: Vec<String> = export["files"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        written.sort();
        assert_eq!(written, props("file"));
        let mut written: Vec<String> = export["conversations"][0]["messages"][0]["attachments"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        written.sort();
        assert_eq!(written, props("attachment"));
        let c1 = &export["conversations"][0]["messages"];
        let mut written: Vec<String> = c1[1]["tool_calls"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        written.sort();
        assert_eq!(written, props("tool_call"));
        for (def, value) in [
            ("project", &export["projects"][0]),
            ("project_file", &export["projects"][0]["files"][0]),
            ("prompt", &export["prompts"][0]),
        ] {
            let mut written: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            written.sort();
            assert_eq!(written, props(def), "{def}");
        }
        // A project with a file of a type Hearth does not keep does not pass.
        let mut broken = export.clone();
        broken["projects"][0]["files"][0]["media_type"] = serde_json::json!("text/html");
        assert!(!validator.is_valid(&broken));
        // A message without calls has an empty list.
        assert_eq!(c1[0]["tool_calls"], serde_json::json!([]));
        // A call with an unknown status does not pass.
        let mut broken = export.clone();
        broken["conversations"][0]["messages"][1]["tool_calls"][0]["status"] =
            serde_json::json!("pending");
        assert!(!validator.is_valid(&broken));
    }

    /// The example of version 1, as its documentation gave it.
    const VERSION_1_EXPORT: &str = r#"{"format":"hearth-export","version":1,"exported_at":1714568400000,"app":"Hearth 0.1.0","conversations":[
{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","title":"What is a hearth?","created_at":1714564800000,"updated_at":1714564920000,"provider_id":"anthropic","model":"claude-sonnet-4-5","system_prompt":null,"params":{"temperature":0.5},"pinned":false,"archived":false,"source":null,"source_id":null,"head_message_id":"m3","messages":[{"id":"m1","parent_id":null,"role":"user","content":"What is a hearth?","reasoning":null,"status":"complete","error":null,"provider_id":null,"model":null,"tokens_in":null,"tokens_out":null,"created_at":1714564800000,"finished_at":1714564800000},{"id":"m2","parent_id":"m1","role":"assistant","content":"The floor of a fireplace.","reasoning":null,"status":"cancelled","error":null,"provider_id":"anthropic","model":"claude-sonnet-4-5","tokens_in":null,"tokens_out":null,"created_at":1714564860000,"finished_at":1714564861000},{"id":"m3","parent_id":"m1","role":"assistant","content":"The stone floor of a fireplace, and by extension the home.","reasoning":"Define it, then the figurative sense.","status":"complete","error":null,"provider_id":"anthropic","model":"claude-sonnet-4-5","tokens_in":14,"tokens_out":15,"created_at":1714564920000,"finished_at":1714564922000}]}
]}"#;

    #[test]
    fn a_version_1_export_still_imports() {
        let dir = tempfile::tempdir().unwrap();
        let dest = engine(dir.path());
        let report = dest
            .import_hearth_json(VERSION_1_EXPORT.as_bytes(), |_| {})
            .unwrap();
        assert_eq!((report.added, report.messages), (1, 3));
        let back = trees(&dest);
        assert_eq!(back[0].conversation.title, "What is a hearth?");
        assert!(back[0].attachments.is_empty());
    }

    /// The example of version 2, as its documentation gave it.
    const VERSION_2_EXPORT: &str = r#"{"format":"hearth-export","version":2,"exported_at":1714568400000,"app":"Hearth 0.2.0","files":[
{"sha256":"71596d7979b5b2084e538ff181806f3db5042539d8ed30321dfb5a32932a1f1c","size":16,"data":["b2FrLCBhc2gsIGJpcmNoCg=="]}
],"conversations":[
{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","title":"What is a hearth?","created_at":1714564800000,"updated_at":1714564920000,"provider_id":"anthropic","model":"claude-sonnet-4-5","system_prompt":null,"params":{"temperature":0.5},"pinned":false,"archived":false,"source":null,"source_id":null,"head_message_id":"m3","messages":[{"id":"m1","parent_id":null,"role":"user","content":"What is a hearth? Which of these woods burn best in one?","reasoning":null,"status":"complete","error":null,"provider_id":null,"model":null,"tokens_in":null,"tokens_out":null,"created_at":1714564800000,"finished_at":1714564800000,"attachments":[{"id":"0190a1b2-c3d5-7000-8000-000000000001","name":"woods.txt","media_type":"text/plain","size":16,"sha256":"71596d7979b5b2084e538ff181806f3db5042539d8ed30321dfb5a32932a1f1c"}]},{"id":"m2","parent_id":"m1","role":"assistant","content":"The floor of a fireplace.","reasoning":null,"status":"cancelled","error":null,"provider_id":"anthropic","model":"claude-sonnet-4-5","tokens_in":null,"tokens_out":null,"created_at":1714564860000,"finished_at":1714564861000,"attachments":[]},{"id":"m3","parent_id":"m1","role":"assistant","content":"The stone floor of a fireplace, and by extension the home. Of your list, ash burns best.","reasoning":"Define it, then the figurative sense.","status":"complete","error":null,"provider_id":"anthropic","model":"claude-sonnet-4-5","tokens_in":14,"tokens_out":15,"created_at":1714564920000,"finished_at":1714564922000,"attachments":[]}]}
]}"#;

    #[test]
    fn a_version_2_export_still_imports_with_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let dest = engine(dir.path());
        let report = dest
            .import_hearth_json(VERSION_2_EXPORT.as_bytes(), |_| {})
            .unwrap();
        assert_eq!((report.added, report.messages), (1, 3));
        let back = trees(&dest);
        assert!(back[0].tool_calls.is_empty());
        let attachment = &back[0].attachments[0];
        assert_eq!(bytes_of(&dest, &attachment.id), b"oak, ash, birch\n");
        // Read as version 2, and exported again as version 4 with the same contents.
        assert_eq!(read_all(VERSION_2_EXPORT.as_bytes()).unwrap().1.version, 2);
        let mut again = Vec::new();
        dest.export_json(&mut again, None, |_| {}).unwrap();
        let (trees_again, info) = read_all(&again).unwrap();
        assert_eq!(info.version, 4);
        assert_eq!(trees_again, back);
    }

    #[test]
    fn tool_calls_survive_writing_and_reading_and_pending_ones_are_cut_off() {
        let tree = sample_with_calls("c");
        let bytes = export(std::slice::from_ref(&tree));
        let (back, _) = read_all(&bytes).unwrap();
        assert_eq!(back, vec![tree.clone()]);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let messages = &value["conversations"][0]["messages"];
        assert_eq!(messages[0]["tool_calls"], serde_json::json!([]));
        assert_eq!(messages[2]["tool_calls"][2]["status"], "failed");
        assert_eq!(messages[2]["tool_calls"][2]["signature"], "CiQBcm9ja3M=");
        assert_eq!(
            messages[1]["tool_calls"][0]["arguments"],
            r#"{"path": "/etc/pass"#
        );

        // A call waiting for its answer (in another window) is written as the app
        // would record it if it stopped now.
        let mut waiting = tree.clone();
        waiting.tool_calls[3].status = ToolCallStatus::Pending;
        waiting.tool_calls[3].result = None;
        let (back, _) = read_all(&export(&[waiting])).unwrap();
        assert_eq!(back[0].tool_calls[3].status, ToolCallStatus::Cancelled);
        assert_eq!(
            back[0].tool_calls[3].result.as_deref(),
            Some(hearth_vault::INTERRUPTED_RESULT)
        );
    }

    #[test]
    fn tool_calls_survive_an_export_and_an_import_into_a_fresh_vault() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        source
            .import_trees(vec![Ok(sample_with_calls("c1")), Ok(sample("c2"))], |_| {})
            .unwrap();
        let mut bytes = Vec::new();
        source.export_json(&mut bytes, None, |_| {}).unwrap();
        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        dest.import_hearth_json(&bytes[..], |_| {}).unwrap();
        assert_eq!(trees(&dest), trees(&source));
        assert_eq!(
            trees(&dest)[0].tool_calls,
            sample_with_calls("c1").tool_calls
        );
        for reply in ["c1-a1", "c1-a2", "c2-a2"] {
            assert_eq!(
                dest.vault().unwrap().tool_calls_of(reply).unwrap(),
                source.vault().unwrap().tool_calls_of(reply).unwrap(),
            );
        }
        let again = dest.import_hearth_json(&bytes[..], |_| {}).unwrap();
        assert_eq!(again.added, 0);
        assert_eq!(trees(&dest)[0].tool_calls.len(), 4);
    }

    #[test]
    fn tool_servers_their_secrets_and_grants_never_travel() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        source
            .import_trees(vec![Ok(sample_with_calls("c1"))], |_| {})
            .unwrap();
        source
            .add_tool_server(
                "files",
                crate::ToolTransport::Stdio {
                    command: "/opt/secret-launcher-path".into(),
                    args: vec!["--root=/home/private-folder".into()],
                    env: vec![("FILES_TOKEN".into(), "token-value-4f1c".into())],
                },
            )
            .unwrap();
        source
            .set_conversation_tool_servers("c1", &["files".into()])
            .unwrap();
        {
            let vault = source.vault().unwrap();
            vault.grant_tool("files", "read_file", Some("c1")).unwrap();
            vault.grant_tool("files", "list", None).unwrap();
        }
        let mut bytes = Vec::new();
        source.export_json(&mut bytes, None, |_| {}).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        for absent in [
            "secret-launcher-path",
            "private-folder",
            "FILES_TOKEN",
            "token-value-4f1c",
            "grant",
            "\"list\"",
        ] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
        // The calls themselves do travel.
        assert!(text.contains("\"read_file\""));

        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        dest.import_hearth_json(&bytes[..], |_| {}).unwrap();
        assert_eq!(trees(&dest)[0].tool_calls.len(), 4);
        assert!(dest.tool_servers().unwrap().is_empty());
        assert!(dest.tool_grants().unwrap().is_empty());
        assert!(dest.conversation_tool_servers("c1").unwrap().is_empty());
    }

    #[test]
    fn hostile_tool_calls_in_an_export_import_nothing() {
        let good = String::from_utf8(export(&[sample("c0"), sample_with_calls("c1")])).unwrap();
        let first_call = r#""tool_calls":[{"id":"c1-a1-call0","position":0"#;
        assert!(good.contains(first_call), "{good}");
        // The first message without calls is c0's question.
        let on_question = good.replacen(
            r#""tool_calls":[]"#,
            r#""tool_calls":[{"id":"q-call","position":0,"step":0,"text_offset":0,"reasoning_offset":0,"call_id":"","server":"s","tool":"t","arguments":"{}","status":"approved","created_at":1}]"#,
            1,
        );
        let huge = format!(
            "\"result\":\"{}\"",
            "x".repeat(hearth_vault::MAX_TOOL_CALL_TEXT_BYTES + 1)
        );
        let cases = [
            (
                good.replacen(r#""status":"denied""#, r#""status":"running""#, 1),
                "unknown variant `running`",
            ),
            (
                good.replacen(r#""status":"denied""#, r#""status":"pending""#, 1),
                "unknown variant `pending`",
            ),
            (on_question, "which is not a reply"),
            (
                good.replacen(r#""result":"The user did not allow this call.""#, &huge, 1),
                "bytes of result; Hearth keeps at most 2 MiB",
            ),
            (
                good.replacen(
                    r#""id":"c1-a2-call1","position":1"#,
                    r#""id":"c1-a2-call1","position":0"#,
                    1,
                ),
                "two tool calls at position 0",
            ),
            (
                good.replacen(
                    r#""id":"c1-a2-call1","position":1"#,
                    r#""id":"c1-a2-call0","position":1"#,
                    1,
                ),
                "appears twice",
            ),
            (
                good.replacen(r#","step":1,"#, r#","step":-1,"#, 1),
                "negative",
            ),
            (
                good.replacen(r#""server":"files","#, "", 1),
                "missing field `server`",
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let dest = engine(dir.path());
        for (bad, needle) in cases {
            assert_ne!(bad, good, "{needle}");
            let e = dest
                .import_hearth_json(bad.as_bytes(), |_| {})
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(needle) && e.ends_with("nothing was imported"),
                "{needle}: {e}"
            );
            assert!(trees(&dest).is_empty(), "{needle}");
        }
        dest.import_hearth_json(good.as_bytes(), |_| {}).unwrap();
        assert_eq!(trees(&dest)[1].tool_calls.len(), 4);
    }

    fn with_files(engine: &Engine) -> Vec<(String, Vec<u8>)> {
        engine
            .import_trees(vec![Ok(sample("c1")), Ok(sample("c2"))], |_| {})
            .unwrap();
        // Several chunks, not a multiple of one; and a small file attached twice.
        let big: Vec<u8> = (0..hearth_vault::CHUNK_BYTES * 3 + 17)
            .map(|i| (i * 31 % 256) as u8)
            .collect();
        let mut vault = engine.vault().unwrap();
        let mut added = Vec::new();
        for (message, name, media_type, bytes) in [
            ("c1-q", "scan.pdf", "application/pdf", big.as_slice()),
            ("c1-q", "a.txt", "text/plain", b"same bytes".as_slice()),
            ("c2-q", "b.txt", "text/plain", b"same bytes".as_slice()),
        ] {
            let a = vault
                .add_attachments(
                    message,
                    &[hearth_vault::NewAttachment {
                        name,
                        media_type,
                        bytes,
                    }],
                )
                .unwrap();
            added.push((a[0].id.clone(), bytes.to_vec()));
        }
        added
    }

    fn bytes_of(engine: &Engine, id: &str) -> Vec<u8> {
        let mut out = Vec::new();
        engine
            .vault()
            .unwrap()
            .read_attachment(id, &mut |c| {
                out.extend_from_slice(c);
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn attached_files_survive_an_export_and_an_import_byte_for_byte() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        let added = with_files(&source);
        let mut bytes = Vec::new();
        source.export_json(&mut bytes, None, |_| {}).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        // Each file once, before the conversations, on a line of its own.
        assert_eq!(
            text.matches("\"sha256\":").count(),
            2 + 3,
            "{}",
            &text[..400]
        );
        assert!(text.find("\"files\":[").unwrap() < text.find("\"conversations\":[").unwrap());

        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        dest.import_hearth_json(&bytes[..], |_| {}).unwrap();
        assert_eq!(trees(&dest), trees(&source));
        for (id, original) in &added {
            assert_eq!(&bytes_of(&dest, id), original);
        }
        assert_eq!(
            dest.vault().unwrap().attachment_totals().unwrap(),
            source.vault().unwrap().attachment_totals().unwrap()
        );
        // One conversation's export carries only its own files.
        let mut one = Vec::new();
        source.export_json(&mut one, Some("c2"), |_| {}).unwrap();
        let one: serde_json::Value = serde_json::from_slice(&one).unwrap();
        assert_eq!(one["files"].as_array().unwrap().len(), 1);
        assert_eq!(one["files"][0]["size"], 10);
    }

    #[test]
    fn broken_files_in_an_export_import_nothing_and_say_what_is_wrong() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        with_files(&source);
        let mut bytes = Vec::new();
        source.export_json(&mut bytes, Some("c2"), |_| {}).unwrap();
        let good = String::from_utf8(bytes).unwrap();
        let sha: String = ring::digest::digest(&ring::digest::SHA256, b"same bytes")
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let piece = base64::engine::general_purpose::STANDARD.encode(b"same bytes");
        let cases = [
            (good.replace(&piece, "!!not base64!!"), "not base64"),
            (
                good.replace(&piece, &base64::engine::general_purpose::STANDARD.encode(b"other bytes")),
                "more than the 10 bytes",
            ),
            (
                good.replace("\"size\":10", "\"size\":99999999999"),
                "Hearth keeps files of up to 32 MiB",
            ),
            (
                good.replace(&format!("{{\"sha256\":\"{sha}\",\"size\":10,"), "{\"size\":10,"),
                "before its `sha256`",
            ),
            (good.replace(&format!("\"files\":[\n{{\"sha256\":\"{sha}\",\"size\":10,\"data\":[\"{piece}\"]}}\n],"), "\"files\":[],"), "not in the import"),
        ];
        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        for (bad, needle) in cases {
            assert_ne!(bad, good, "{needle}");
            let e = dest
                .import_hearth_json(bad.as_bytes(), |_| {})
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(needle) && e.ends_with("nothing was imported"),
                "{needle}: {e}"
            );
            assert!(trees(&dest).is_empty());
            assert_eq!(
                dest.vault().unwrap().attachment_totals().unwrap(),
                hearth_vault::AttachmentTotals::default()
            );
        }
        // Files after the conversations are refused as such.
        let moved = r#"{"format":"hearth-export","version":2,"conversations":[],"files":[]}"#;
        let e = dest
            .import_hearth_json(moved.as_bytes(), |_| {})
            .unwrap_err();
        assert!(e.to_string().contains("after `conversations`"), "{e}");
    }

    #[test]
    fn projects_prompts_and_settings_survive_an_export_and_an_import_into_a_fresh_vault() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        let garden = with_projects(&source);
        let mut bytes = Vec::new();
        source.export_json(&mut bytes, None, |_| {}).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        // Files, then projects, then prompts, then conversations, each on its own line.
        let at = |key: &str| text.find(&format!("\"{key}\":[")).unwrap();
        assert!(at("files") < at("projects"));
        assert!(at("projects") < at("prompts"));
        assert!(at("prompts") < at("conversations"));
        let (_, info) = read_all(&bytes).unwrap();
        assert_eq!((info.projects, info.prompts, info.conversations), (2, 2, 2));
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let project = &value["projects"][0];
        assert_eq!(project["name"], "Garden");
        assert_eq!(project["params"]["reasoning"], "high");
        assert_eq!(project["files"][1]["position"], 2);
        assert_eq!(value["conversations"][0]["project_id"], garden.as_str());
        assert_eq!(
            value["conversations"][1]["project_id"],
            serde_json::Value::Null
        );
        assert_eq!(
            value["conversations"][0]["params"],
            serde_json::json!({"temperature": 1.5, "reasoning": "low"})
        );

        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        let report = dest.import_hearth_json(&bytes[..], |_| {}).unwrap();
        assert_eq!((report.added, report.projects, report.prompts), (2, 2, 2));
        assert_eq!(projects_and_prompts(&dest), projects_and_prompts(&source));
        assert_eq!(trees(&dest), trees(&source));
        for f in &projects_and_prompts(&source).0[0].files {
            assert_eq!(
                project_file_bytes(&dest, &f.id),
                project_file_bytes(&source, &f.id)
            );
        }
        // Twice adds nothing.
        let again = dest.import_hearth_json(&bytes[..], |_| {}).unwrap();
        assert_eq!(
            (again.added, again.skipped, again.projects, again.prompts),
            (0, 2, 0, 0)
        );
        assert_eq!(projects_and_prompts(&dest), projects_and_prompts(&source));

        // The archive is the same export, sealed.
        let pass = hearth_vault::Passphrase::new("archive passphrase");
        let mut archive =
            super::super::archive::ArchiveWriter::with_kdf(Vec::new(), &pass, fast()).unwrap();
        source.export_json(&mut archive, None, |_| {}).unwrap();
        let archive = archive.finish().unwrap();
        let d = tempfile::tempdir().unwrap();
        let from_archive = engine(d.path());
        let report = from_archive
            .import_hearth_archive(&archive[..], &pass, |_| {})
            .unwrap();
        assert_eq!((report.projects, report.prompts), (2, 2));
        assert_eq!(
            projects_and_prompts(&from_archive),
            projects_and_prompts(&source)
        );
        assert_eq!(trees(&from_archive), trees(&source));

        // One conversation: no projects, no prompts, no project files' bytes; its
        // project_id files it back only where that project is.
        let mut one = Vec::new();
        source.export_json(&mut one, Some("c1"), |_| {}).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&one).unwrap();
        assert_eq!(value["projects"], serde_json::json!([]));
        assert_eq!(value["prompts"], serde_json::json!([]));
        assert_eq!(value["files"], serde_json::json!([]));
        assert_eq!(value["conversations"][0]["project_id"], garden.as_str());
        let c = tempfile::tempdir().unwrap();
        let fresh = engine(c.path());
        fresh.import_hearth_json(&one[..], |_| {}).unwrap();
        let back = trees(&fresh);
        assert_eq!(back[0].conversation.project_id, None);
        assert_eq!(
            back[0].conversation.params_json.as_deref(),
            Some(r#"{"temperature":1.5,"reasoning":"low"}"#)
        );
        assert!(projects_and_prompts(&fresh).0.is_empty());
        source.vault().unwrap().delete_conversation("c1").unwrap();
        source.import_hearth_json(&one[..], |_| {}).unwrap();
        let c1 = source.vault().unwrap().conversation("c1").unwrap();
        assert_eq!(c1.project_id.as_deref(), Some(garden.as_str()));
    }

    #[test]
    fn a_project_that_is_already_there_is_kept_and_a_name_clash_is_renamed() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        let garden = with_projects(&source);
        let mut bytes = Vec::new();
        source.export_json(&mut bytes, None, |_| {}).unwrap();
        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        let own = dest.create_project("garden", "mine").unwrap();
        let report = dest.import_hearth_json(&bytes[..], |_| {}).unwrap();
        assert_eq!(report.projects, 2);
        let names: Vec<String> = dest
            .projects()
            .unwrap()
            .into_iter()
            .map(|p| p.project.name)
            .collect();
        assert!(names.contains(&"Garden (imported)".to_owned()), "{names:?}");
        assert_eq!(dest.project(&own.id).unwrap().instructions, "mine");
        let c1 = dest.vault().unwrap().conversation("c1").unwrap();
        assert_eq!(c1.project_id.as_deref(), Some(garden.as_str()));
    }

    #[test]
    fn broken_projects_and_prompts_import_nothing_and_say_which() {
        let a = tempfile::tempdir().unwrap();
        let source = engine(a.path());
        with_projects(&source);
        let mut bytes = Vec::new();
        source.export_json(&mut bytes, None, |_| {}).unwrap();
        let good: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        // serde_json's objects sort their keys, so the export is put together again in
        // its order, with the files as written (their `data` must come last).
        let text = String::from_utf8(bytes.clone()).unwrap();
        let files = &text[text.find("\"files\":").unwrap()..text.find(",\"projects\":").unwrap()];
        let edit = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            change(&mut v);
            let files = if v["files"] == good["files"] {
                files.to_owned()
            } else {
                format!("\"files\":{}", v["files"])
            };
            format!(
                r#"{{"format":"hearth-export","version":4,{files},"projects":{},"prompts":{},"conversations":{}}}"#,
                v["projects"], v["prompts"], v["conversations"]
            )
        };
        let file = good["projects"][0]["files"][0].clone();
        let cases: Vec<(String, &str)> = vec![
            (
                edit(&|v| v["projects"][0]["files"][0]["media_type"] = "text/html".into()),
                "project 1",
            ),
            (
                edit(&|v| {
                    v["projects"][0]["files"] = serde_json::Value::Array(
                        (0..11)
                            .map(|i| {
                                let mut f = file.clone();
                                f["id"] = format!("f{i}").into();
                                f["position"] = i.into();
                                f
                            })
                            .collect(),
                    )
                }),
                "at most 10",
            ),
            (
                edit(&|v| v["projects"][0]["instructions"] = "x".repeat((256 << 10) + 1).into()),
                "more than 256 KiB",
            ),
            (
                edit(&|v| v["projects"][1]["name"] = " ".into()),
                "project 2",
            ),
            (
                edit(&|v| v["files"] = serde_json::json!([])),
                "not in the import",
            ),
            (
                edit(&|v| v["projects"][0]["files"][1]["position"] = 0.into()),
                "two files at position 0",
            ),
            (
                edit(&|v| v["prompts"][1]["text"] = "".into()),
                "saved prompt 2",
            ),
            (
                edit(&|v| v["prompts"][0]["name"] = "a\nb".into()),
                "control characters",
            ),
            (
                edit(&|v| {
                    v["projects"][0]
                        .as_object_mut()
                        .unwrap()
                        .remove("instructions");
                }),
                "project 1: missing field `instructions`",
            ),
        ];
        let b = tempfile::tempdir().unwrap();
        let dest = engine(b.path());
        for (bad, needle) in cases {
            let e = dest
                .import_hearth_json(bad.as_bytes(), |_| {})
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(needle) && e.ends_with("nothing was imported"),
                "{needle}: {e}"
            );
            assert!(trees(&dest).is_empty());
            assert_eq!(projects_and_prompts(&dest), (Vec::new(), Vec::new()));
            assert_eq!(
                dest.vault().unwrap().attachment_totals().unwrap(),
                hearth_vault::AttachmentTotals::default()
            );
        }
        // The arrays come in their order, once each.
        for (text, needle) in [
            (
                r#"{"format":"hearth-export","version":4,"files":[],"conversations":[],"projects":[]}"#,
                "`projects` comes after `conversations`",
            ),
            (
                r#"{"format":"hearth-export","version":4,"prompts":[],"projects":[],"conversations":[]}"#,
                "`projects` comes after `prompts`",
            ),
            (
                r#"{"format":"hearth-export","version":4,"projects":[],"files":[],"conversations":[]}"#,
                "`files` comes after `projects`",
            ),
            (
                r#"{"format":"hearth-export","version":4,"prompts":[],"prompts":[],"conversations":[]}"#,
                "`prompts` twice",
            ),
            (
                r#"{"format":"hearth-export","projects":[],"version":4,"conversations":[]}"#,
                "`projects` comes before `version`",
            ),
        ] {
            let e = err(text.as_bytes());
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn a_project_with_a_huge_text_fails_the_import_by_number() {
        let mut text = String::from(
            r#"{"format":"hearth-export","version":4,"files":[],"projects":[{"id":"p","name":"P","instructions":""#,
        );
        text.push_str(&"a".repeat((16 << 20) + 5));
        text.push_str(
            r#"","created_at":1,"updated_at":1,"files":[]}],"prompts":[],"conversations":[]}"#,
        );
        let e = err(text.as_bytes());
        assert!(
            e.contains("project 1 holds a text of more than 16 MiB"),
            "{e}"
        );
    }

    /// The example of version 3, as its documentation gave it.
    const VERSION_3_EXPORT: &str = r#"{"format":"hearth-export","version":3,"exported_at":1714568400000,"app":"Hearth 0.2.0","files":[
{"sha256":"71596d7979b5b2084e538ff181806f3db5042539d8ed30321dfb5a32932a1f1c","size":16,"data":["b2FrLCBhc2gsIGJpcmNoCg=="]}
],"conversations":[
{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","title":"What is a hearth?","created_at":1714564800000,"updated_at":1714564920000,"provider_id":"anthropic","model":"claude-sonnet-4-5","system_prompt":null,"params":{"temperature":0.5},"pinned":false,"archived":false,"source":null,"source_id":null,"head_message_id":"m3","messages":[{"id":"m1","parent_id":null,"role":"user","content":"What is a hearth? Which of these woods burn best in one?","reasoning":null,"status":"complete","error":null,"provider_id":null,"model":null,"tokens_in":null,"tokens_out":null,"created_at":1714564800000,"finished_at":1714564800000,"attachments":[{"id":"0190a1b2-c3d5-7000-8000-000000000001","name":"woods.txt","media_type":"text/plain","size":16,"sha256":"71596d7979b5b2084e538ff181806f3db5042539d8ed30321dfb5a32932a1f1c"}],"tool_calls":[]},{"id":"m2","parent_id":"m1","role":"assistant","content":"The floor of a fireplace.","reasoning":null,"status":"cancelled","error":null,"provider_id":"anthropic","model":"claude-sonnet-4-5","tokens_in":null,"tokens_out":null,"created_at":1714564860000,"finished_at":1714564861000,"attachments":[],"tool_calls":[]},{"id":"m3","parent_id":"m1","role":"assistant","content":"Let me check which burns best. The stone floor of a fireplace, and by extension the home. Of your list, ash burns best.","reasoning":"Define it, then the figurative sense.","status":"complete","error":null,"provider_id":"anthropic","model":"claude-sonnet-4-5","tokens_in":14,"tokens_out":15,"created_at":1714564920000,"finished_at":1714564922000,"attachments":[],"tool_calls":[{"id":"0190a1b2-c3d6-7000-8000-000000000002","position":0,"step":0,"text_offset":31,"reasoning_offset":37,"call_id":"toolu_01A09q90qw90lq917835lq9","server":"woodpile","tool":"search","arguments":"{\"query\":\"best firewood\"}","signature":null,"status":"approved","result":"Ash: burns well even green. Birch: bright and fast. Oak: slow, once seasoned.","created_at":1714564921000,"finished_at":1714564921500}]}]}
]}"#;

    #[test]
    fn a_version_3_export_still_imports_with_its_files_and_tool_calls() {
        let dir = tempfile::tempdir().unwrap();
        let dest = engine(dir.path());
        let report = dest
            .import_hearth_json(VERSION_3_EXPORT.as_bytes(), |_| {})
            .unwrap();
        assert_eq!(
            (
                report.added,
                report.messages,
                report.projects,
                report.prompts
            ),
            (1, 3, 0, 0)
        );
        assert_eq!(read_all(VERSION_3_EXPORT.as_bytes()).unwrap().1.version, 3);
        let back = trees(&dest);
        assert_eq!(back[0].conversation.project_id, None);
        assert_eq!(
            back[0].conversation.params_json.as_deref(),
            Some(r#"{"temperature":0.5}"#)
        );
        assert_eq!(
            bytes_of(&dest, &back[0].attachments[0].id),
            b"oak, ash, birch\n"
        );
        assert_eq!(back[0].tool_calls.len(), 1);
        // Exported again as version 4 with the same contents.
        let mut again = Vec::new();
        dest.export_json(&mut again, None, |_| {}).unwrap();
        let (trees_again, info) = read_all(&again).unwrap();
        assert_eq!(info.version, 4);
        assert_eq!(trees_again, back);
    }
}

/// Both round trips (JSON and archive) over generated conversation trees.
#[cfg(test)]
mod round_trip_properties {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::super::archive::{ArchiveReader, ArchiveWriter};
    use super::test_support::*;
    use super::*;
    use hearth_vault::Passphrase;

    /// Text of every kind: arbitrary Unicode (no NUL), emoji sequences, right-to-left
    /// scripts and overrides, control characters, JSON's own punctuation.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>().prop_map(|s| s.replace('\0', "")),
            Just("👩‍👩‍👧‍👦 family, 🇫🇷 flag, e\u{301} combining".to_owned()),
            Just("مرحبا بالعالم \u{202e}txt.exe\u{202c} שלום".to_owned()),
            Just("\u{1}\u{7}\u{8}\u{b}\u{c}\u{1b}[31m\u{7f}\u{85}\u{2028}\u{2029}".to_owned()),
            Just("\"quoted\" \\ back\\slash {\"json\": [1]} </details>".to_owned()),
            Just(String::new()),
            "[a-z ]{0,40}",
        ]
    }

    fn maybe_text() -> impl Strategy<Value = Option<String>> {
        prop::option::of(text())
    }

    fn params() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some(r#"{"temperature":0.7,"top_p":1}"#.to_owned())),
            Just(Some(
                r#"{ "stop" : ["\n", "é"], "nested": {"a": null} }"#.to_owned()
            )),
            Just(Some("[1,2.5e3,-0,true]".to_owned())),
        ]
    }

    /// One generated message; its parent and time are settled by [`build`].
    fn message() -> impl Strategy<Value = Message> {
        (
            (0usize..3, 0usize..4, text(), maybe_text(), maybe_text()),
            (maybe_text(), maybe_text()),
            (
                prop::option::of(0i64..2_000_000),
                prop::option::of(0i64..2_000_000),
            ),
            (0i64..100_000, prop::option::of(0i64..100_000)),
        )
            .prop_map(
                |(
                    (role, status, content, reasoning, error),
                    (provider_id, model),
                    (tokens_in, tokens_out),
                    (delay, finish),
                )| Message {
                    id: String::new(),
                    conversation_id: String::new(),
                    parent_id: None,
                    role: [Role::System, Role::User, Role::Assistant][role],
                    content,
                    reasoning,
                    status: [
                        MessageStatus::Complete,
                        MessageStatus::Cancelled,
                        MessageStatus::Error,
                        MessageStatus::Interrupted,
                    ][status],
                    error,
                    provider_id,
                    model,
                    tokens_in,
                    tokens_out,
                    // Until `build`: the delay after the parent, and the time to finish.
                    created_at: delay,
                    finished_at: finish,
                },
            )
    }

    /// One generated tool call (kept only on replies); its ids, place and time are
    /// settled by [`build`].
    fn tool_call() -> impl Strategy<Value = ToolCall> {
        (
            (0i64..3, 0i64..200, 0i64..200, text()),
            (text(), text(), text(), maybe_text()),
            (0usize..4, maybe_text()),
            (0i64..10_000, prop::option::of(0i64..10_000)),
        )
            .prop_map(
                |(
                    (step, text_offset, reasoning_offset, call_id),
                    (server, tool, arguments, signature),
                    (status, result),
                    (delay, finish),
                )| ToolCall {
                    id: String::new(),
                    message_id: String::new(),
                    position: 0,
                    step,
                    text_offset,
                    reasoning_offset,
                    call_id,
                    server,
                    tool,
                    arguments,
                    signature,
                    status: [
                        ToolCallStatus::Approved,
                        ToolCallStatus::Denied,
                        ToolCallStatus::Failed,
                        ToolCallStatus::Cancelled,
                    ][status],
                    result,
                    // Until `build`: the delay after its reply, and the time to finish.
                    created_at: delay,
                    finished_at: finish,
                },
            )
    }

    /// A generated conversation: its fields, its messages, each message's parent
    /// (an earlier message, or none for another root) and the tool calls it makes if
    /// it is a reply, and which one is the head.
    #[derive(Debug, Clone)]
    struct Generated {
        conversation: Conversation,
        messages: Vec<(Message, Option<prop::sample::Index>, Vec<ToolCall>)>,
        head: prop::sample::Index,
    }

    fn conversation() -> impl Strategy<Value = Generated> {
        (
            (text(), maybe_text(), maybe_text(), maybe_text(), params()),
            (any::<bool>(), any::<bool>(), any::<bool>()),
            prop::collection::vec(
                (
                    message(),
                    prop::option::weighted(0.9, any::<prop::sample::Index>()),
                    prop::collection::vec(tool_call(), 0..3),
                ),
                0..15,
            ),
            any::<prop::sample::Index>(),
        )
            .prop_map(
                |(
                    (title, provider_id, model, system_prompt, params_json),
                    (pinned, archived, imported),
                    messages,
                    head,
                )| Generated {
                    conversation: Conversation {
                        id: String::new(),
                        title,
                        created_at: 0,
                        updated_at: 0,
                        provider_id,
                        model,
                        system_prompt,
                        params_json,
                        pinned,
                        archived,
                        source: imported.then(|| "claude".to_owned()),
                        source_id: None,
                        head_message_id: None,
                        project_id: None,
                    },
                    messages,
                    head,
                },
            )
    }

    /// The tree for conversation number `index`: ids, parents, times and head settled.
    fn build(index: usize, generated: &Generated) -> ConversationTree {
        let id = format!("conv-{index}");
        let start = 1_700_000_000_000 + index as i64 * 1_000;
        let mut messages: Vec<Message> = Vec::with_capacity(generated.messages.len());
        let mut tool_calls = Vec::new();
        for (i, (m, parent, calls)) in generated.messages.iter().enumerate() {
            let parent = parent.as_ref().filter(|_| i > 0).map(|p| p.index(i));
            // A child is never older than its parent (ties happen).
            let created = parent.map_or(start, |p| messages[p].created_at) + m.created_at;
            messages.push(Message {
                // Imported ids look different; some are not ASCII.
                id: if i % 5 == 4 {
                    format!("chatgpt:{id}:node-{i} é")
                } else {
                    format!("{id}-m{i}")
                },
                conversation_id: id.clone(),
                parent_id: parent.map(|p| messages[p].id.clone()),
                created_at: created,
                finished_at: m.finished_at.map(|f| created + f),
                ..m.clone()
            });
            let Some(reply) = messages.last().filter(|m| m.role == Role::Assistant) else {
                continue;
            };
            for (k, c) in calls.iter().enumerate() {
                tool_calls.push(ToolCall {
                    id: format!("{}-call{k}", reply.id),
                    message_id: reply.id.clone(),
                    // Positions need not be consecutive, only distinct.
                    position: k as i64 * 2,
                    created_at: created + c.created_at,
                    finished_at: c.finished_at.map(|f| created + c.created_at + f),
                    ..c.clone()
                });
            }
        }
        let head = (!messages.is_empty())
            .then(|| messages[generated.head.index(messages.len())].id.clone());
        let c = &generated.conversation;
        ConversationTree {
            conversation: Conversation {
                id: id.clone(),
                created_at: start,
                updated_at: start + 5_000_000,
                source_id: c.source.as_ref().map(|_| format!("source-{index}")),
                head_message_id: head,
                project_id: None,
                ..c.clone()
            },
            messages,
            attachments: Vec::new(),
            tool_calls,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn json_and_archive_round_trips_reproduce_every_tree(
            generated in prop::collection::vec(conversation(), 1..4)
        ) {
            let trees: Vec<ConversationTree> =
                generated.iter().enumerate().map(|(i, g)| build(i, g)).collect();
            let a = tempfile::tempdir().unwrap();
            let source = engine(a.path());
            source.import_trees(trees.into_iter().map(Ok), |_| {}).unwrap();
            let original = trees_of(&source);

            let mut json = Vec::new();
            source.export_json(&mut json, None, |_| {}).unwrap();
            let b = tempfile::tempdir().unwrap();
            let from_json = engine(b.path());
            from_json.import_hearth_json(&json[..], |_| {}).unwrap();
            prop_assert_eq!(&trees_of(&from_json), &original);

            let pass = Passphrase::new("property passphrase");
            let mut archive = ArchiveWriter::with_kdf(Vec::new(), &pass, fast()).unwrap();
            source.export_json(&mut archive, None, |_| {}).unwrap();
            let archive = archive.finish().unwrap();
            let c = tempfile::tempdir().unwrap();
            let from_archive = engine(c.path());
            from_archive.import_hearth_archive(&archive[..], &pass, |_| {}).unwrap();
            prop_assert_eq!(&trees_of(&from_archive), &original);

            // The archive's plaintext is an export like any other.
            let mut plain = Vec::new();
            ArchiveReader::new(&archive[..], &pass).unwrap().read_to_end(&mut plain).unwrap();
            prop_assert_eq!(read(&plain[..], |_| Ok(())).unwrap().conversations, original.len() as u64);

            // And importing again adds nothing.
            let again = from_json.import_hearth_json(&json[..], |_| {}).unwrap();
            prop_assert_eq!(again.added, 0);
        }
    }

    fn trees_of(engine: &Engine) -> Vec<ConversationTree> {
        trees(engine)
    }
}
