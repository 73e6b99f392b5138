//! Whole conversations in and out: the shape every importer produces and every exporter
//! reads, and the one door through which imported conversations enter the vault.
//!
//! An import is all-or-nothing: [`Vault::import`] runs inside one transaction, and the
//! first error from the source (a parse error, say) rolls back everything it added. It
//! is idempotent: a conversation whose id, or whose `(source, source_id)`, is already in
//! the vault is skipped, so importing the same file twice adds nothing.

use std::collections::{HashMap, HashSet};

use ring::digest;
use rusqlite::{params, OptionalExtension};

use crate::attachment::{Attachment, CHUNK_BYTES};
use crate::conversation::Conversation;
use crate::error::{Result, VaultError};
use crate::message_tree::{Message, MessageStatus, Role};
use crate::projects::{clean_name, ProjectTree, Prompt};
use crate::tool_calls::{insert_call, ToolCall, ToolCallStatus};
use crate::Vault;

/// The most bytes an imported tool call's arguments, result or signature may hold
/// (each). Hearth cuts a tool's output at 1 MiB (plus a note saying so), and arguments
/// a model writes are a few KB; 2 MiB is beyond any call Hearth makes, and keeps a
/// hostile file from filling the vault with one.
pub const MAX_TOOL_CALL_TEXT_BYTES: usize = 2 << 20;

/// One conversation with every message of every branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationTree {
    /// The conversation row (its `head_message_id` names the visible branch's last message).
    pub conversation: Conversation,
    /// Every message, each parent before its children.
    pub messages: Vec<Message>,
    /// The files attached to its messages, each naming its bytes by SHA-256. On import
    /// the bytes come first, as [`ImportItem::FileStart`] and [`ImportItem::FileBytes`]
    /// (or are in the vault already).
    pub attachments: Vec<Attachment>,
    /// The tool calls its replies made (every branch), each naming its reply, in the
    /// order of `messages` and then of their positions.
    pub tool_calls: Vec<ToolCall>,
}

/// What an import source yields: conversations, and the bytes of the files their
/// attachments name, each file before the first conversation that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportItem {
    /// A conversation (boxed: it is much larger than the other items).
    Conversation(Box<ConversationTree>),
    /// A file's bytes start: [`ImportItem::FileBytes`] items follow until `size` bytes
    /// have come, and must add up to `sha256`.
    FileStart {
        /// SHA-256 of the bytes, lowercase hex.
        sha256: String,
        /// How many bytes follow.
        size: u64,
    },
    /// The next bytes of the file begun last.
    FileBytes(Vec<u8>),
    /// A project with its files (whose bytes came before), before the conversations in it.
    Project(Box<ProjectTree>),
    /// A saved prompt.
    Prompt(Prompt),
}

impl From<ConversationTree> for ImportItem {
    fn from(tree: ConversationTree) -> Self {
        ImportItem::Conversation(Box::new(tree))
    }
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Conversations added.
    pub added: u64,
    /// Conversations skipped because they were already in the vault.
    pub skipped: u64,
    /// Messages added.
    pub messages: u64,
    /// Projects added (those already in the vault are not counted).
    pub projects: u64,
    /// Saved prompts added.
    pub prompts: u64,
}

/// How many bytes of new search-index entries an import gathers in memory before FTS5
/// writes them out as a segment. FTS5's default (1 MiB) suits one message per commit;
/// in one large import it makes thousands of small segments, and merging them took most
/// of the time (docs/PERFORMANCE.md, "Import").
const IMPORT_FTS_HASH_BYTES: i64 = 64 << 20;

/// FTS5's default for the same setting, put back before an import commits.
const DEFAULT_FTS_HASH_BYTES: i64 = 1 << 20;

/// The page cache during an import, in KiB: pages of the one long transaction are
/// written to the WAL fewer times over.
const IMPORT_CACHE_KIB: i64 = 128 << 10;

impl Vault {
    /// Adds every conversation `source` yields, in one transaction. `progress` is called
    /// after each conversation with the report so far. The first `Err` from `source`, or
    /// any invalid conversation, rolls everything back and is returned.
    pub fn import<I, T, E>(
        &mut self,
        source: I,
        progress: impl FnMut(&ImportReport),
    ) -> std::result::Result<ImportReport, E>
    where
        I: IntoIterator<Item = std::result::Result<T, E>>,
        T: Into<ImportItem>,
        E: From<VaultError>,
    {
        let cache: i64 = self
            .conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .map_err(VaultError::from)?;
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB};"))
            .map_err(VaultError::from)?;
        let result = self.import_in_one_transaction(source, progress);
        // The connection's usual cache again, whatever happened.
        if let Err(e) = self
            .conn
            .execute_batch(&format!("PRAGMA cache_size = {cache};"))
        {
            tracing::warn!("could not restore the page cache size after an import: {e}");
        }
        result
    }

    fn import_in_one_transaction<I, T, E>(
        &mut self,
        source: I,
        mut progress: impl FnMut(&ImportReport),
    ) -> std::result::Result<ImportReport, E>
    where
        I: IntoIterator<Item = std::result::Result<T, E>>,
        T: Into<ImportItem>,
        E: From<VaultError>,
    {
        let tx = self.conn.transaction().map_err(VaultError::from)?;
        // Set inside the transaction, so a failed import leaves the stored setting as it
        // was.
        set_fts_hash_bytes(&tx, IMPORT_FTS_HASH_BYTES)?;
        let mut report = ImportReport::default();
        let mut file: Option<IncomingFile> = None;
        // Each imported project's id to the id it has in the vault (the same, or that of
        // the project already there).
        let mut projects: HashMap<String, String> = HashMap::new();
        for item in source {
            match item?.into() {
                ImportItem::FileStart { sha256, size } => {
                    if let Some(open) = file.take() {
                        open.finish(&tx)?;
                    }
                    file = Some(IncomingFile::start(&tx, sha256, size)?);
                }
                ImportItem::FileBytes(bytes) => match file.as_mut() {
                    Some(open) => open.add(&tx, &bytes)?,
                    None => {
                        return Err(VaultError::Invalid(
                            "file bytes came without saying whose they are".into(),
                        )
                        .into())
                    }
                },
                ImportItem::Project(tree) => {
                    if let Some(open) = file.take() {
                        open.finish(&tx)?;
                    }
                    let (id, added) = insert_project(&tx, &tree)?;
                    projects.insert(tree.project.id.clone(), id);
                    report.projects += u64::from(added);
                }
                ImportItem::Prompt(prompt) => {
                    if insert_prompt(&tx, &prompt)? {
                        report.prompts += 1;
                    }
                }
                ImportItem::Conversation(tree) => {
                    if let Some(open) = file.take() {
                        open.finish(&tx)?;
                    }
                    if insert_tree(&tx, &tree, &projects)? {
                        report.added += 1;
                        report.messages += tree.messages.len() as u64;
                    } else {
                        report.skipped += 1;
                    }
                    progress(&report);
                }
            }
        }
        if let Some(open) = file.take() {
            open.finish(&tx)?;
        }
        // Files only skipped conversations or projects named (or none did) are not kept.
        tx.execute(
            "DELETE FROM attachment_blobs WHERE NOT EXISTS
                (SELECT 1 FROM message_attachments a WHERE a.blob_seq = attachment_blobs.seq)
             AND NOT EXISTS (SELECT 1 FROM project_files p WHERE p.blob_seq = attachment_blobs.seq)",
            [],
        )
        .map_err(VaultError::from)?;
        set_fts_hash_bytes(&tx, DEFAULT_FTS_HASH_BYTES)?;
        tx.commit().map_err(VaultError::from)?;
        Ok(report)
    }

    /// Every conversation with all its messages, oldest conversation first, one at a
    /// time (for exports that must not hold the whole vault in memory).
    pub fn for_each_tree(
        &self,
        only: Option<&str>,
        mut each: impl FnMut(ConversationTree) -> Result<()>,
    ) -> Result<()> {
        let ids: Vec<String> = match only {
            Some(id) => vec![self.conversation(id)?.id],
            None => {
                let mut stmt = self
                    .conn
                    .prepare("SELECT id FROM conversations ORDER BY created_at, seq")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            }
        };
        for id in ids {
            let conversation = self.conversation(&id)?;
            let messages = self.messages(&id)?;
            let attachments = self.attachments_in(&id)?;
            let tool_calls = self.tool_calls_in(&id)?;
            each(ConversationTree {
                conversation,
                messages,
                attachments,
                tool_calls,
            })?;
        }
        Ok(())
    }
}

/// A file whose bytes an import is receiving.
struct IncomingFile {
    sha256: String,
    size: u64,
    /// Where its chunks go; `None` when the vault holds these bytes already (they are
    /// still checked).
    blob_seq: Option<i64>,
    received: u64,
    hash: digest::Context,
    /// Bytes not yet making a whole chunk.
    pending: Vec<u8>,
    next_idx: i64,
}

impl IncomingFile {
    fn start(conn: &rusqlite::Connection, sha256: String, size: u64) -> Result<Self> {
        let well_formed = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(VaultError::Invalid(format!(
                "a file is named by {sha256:?}, which is not a SHA-256 in lowercase hex"
            )));
        }
        let found: Option<(i64, i64)> = conn
            .query_row(
                "SELECT seq, size FROM attachment_blobs WHERE sha256 = ?1",
                [&sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let blob_seq = match found {
            Some((_, stored)) if stored.max(0) as u64 != size => {
                return Err(VaultError::Invalid(format!(
                    "file {sha256} is said to be {size} bytes, but the vault holds it with {stored}"
                )))
            }
            Some(_) => None,
            None => {
                conn.execute(
                    "INSERT INTO attachment_blobs (sha256, size, created_at) VALUES (?1, ?2, ?3)",
                    params![sha256, size as i64, crate::now_ms()],
                )?;
                Some(conn.last_insert_rowid())
            }
        };
        Ok(IncomingFile {
            sha256,
            size,
            blob_seq,
            received: 0,
            hash: digest::Context::new(&digest::SHA256),
            pending: Vec::new(),
            next_idx: 0,
        })
    }

    fn add(&mut self, conn: &rusqlite::Connection, mut bytes: &[u8]) -> Result<()> {
        self.received += bytes.len() as u64;
        if self.received > self.size {
            return Err(VaultError::Invalid(format!(
                "file {} holds more than the {} bytes it is said to have",
                self.sha256, self.size
            )));
        }
        self.hash.update(bytes);
        if self.blob_seq.is_none() {
            return Ok(());
        }
        while !bytes.is_empty() {
            let take = (CHUNK_BYTES - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() == CHUNK_BYTES {
                self.flush(conn)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self, conn: &rusqlite::Connection) -> Result<()> {
        if let (Some(seq), false) = (self.blob_seq, self.pending.is_empty()) {
            conn.prepare_cached(
                "INSERT INTO attachment_chunks (blob_seq, idx, data) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![seq, self.next_idx, self.pending])?;
            self.next_idx += 1;
            self.pending.clear();
        }
        Ok(())
    }

    fn finish(mut self, conn: &rusqlite::Connection) -> Result<()> {
        if self.received != self.size {
            return Err(VaultError::Invalid(format!(
                "file {} ends after {} of its {} bytes",
                self.sha256, self.received, self.size
            )));
        }
        self.flush(conn)?;
        let actual = hex::encode(self.hash.finish());
        if actual != self.sha256 {
            return Err(VaultError::Invalid(format!(
                "the bytes given for file {} have the SHA-256 {actual}",
                self.sha256
            )));
        }
        Ok(())
    }
}

/// Sets how much the message search index buffers before writing a segment (FTS5's
/// `hashsize`, stored with the index).
fn set_fts_hash_bytes(conn: &rusqlite::Connection, bytes: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO messages_fts(messages_fts, rank) VALUES ('hashsize', ?1)",
        [bytes],
    )?;
    Ok(())
}

/// A name for an imported project or prompt that no other has: its own, or with
/// " (imported)" and then a number added.
fn free_name(conn: &rusqlite::Connection, table: &str, name: &str) -> Result<String> {
    let taken = |candidate: &str| -> Result<bool> {
        Ok(conn.query_row(
            &format!("SELECT EXISTS(SELECT 1 FROM {table} WHERE name = ?1 COLLATE NOCASE)"),
            [candidate],
            |r| r.get(0),
        )?)
    };
    if !taken(name)? {
        return Ok(name.to_owned());
    }
    for n in 1u32.. {
        let candidate = if n == 1 {
            format!("{name} (imported)")
        } else {
            format!("{name} (imported {n})")
        };
        if !taken(&candidate)? {
            return Ok(candidate);
        }
    }
    unreachable!("some numbered name is free")
}

/// Inserts an imported project and its files unless it is already there (same id, or
/// same source and id there). Returns its id in the vault and whether it was added.
fn insert_project(conn: &rusqlite::Connection, tree: &ProjectTree) -> Result<(String, bool)> {
    let p = &tree.project;
    let known: Option<String> = conn
        .query_row(
            "SELECT id FROM projects WHERE id = ?1
                OR (source IS NOT NULL AND source = ?2 AND source_id = ?3)",
            params![p.id, p.source, p.source_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = known {
        return Ok((id, false));
    }
    let bad = |why: String| Err(VaultError::Invalid(format!("project {}: {why}", p.id)));
    if p.id.is_empty() {
        return bad("it has no id".into());
    }
    let name = free_name(conn, "projects", &clean_name("project", &p.name)?)?;
    conn.execute(
        "INSERT INTO projects (id, name, instructions, provider_id, model, params_json, source,
            source_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            p.id,
            name,
            p.instructions,
            p.provider_id,
            p.model,
            p.params_json,
            p.source,
            p.source_id,
            p.created_at,
            p.updated_at
        ],
    )?;
    let mut places = HashSet::with_capacity(tree.files.len());
    for f in &tree.files {
        if !places.insert(f.position) {
            return bad(format!("two files at position {}", f.position));
        }
        let stored: Option<(i64, i64)> = conn
            .query_row(
                "SELECT seq, size FROM attachment_blobs WHERE sha256 = ?1",
                [&f.sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let blob_seq = match stored {
            None => {
                return bad(format!(
                    "file {} ({}) names bytes {} that are not in the import",
                    f.id, f.name, f.sha256
                ))
            }
            Some((_, size)) if size.max(0) as u64 != f.size => {
                return bad(format!(
                    "file {} ({}) is said to be {} bytes, but its bytes are {size}",
                    f.id, f.name, f.size
                ))
            }
            Some((seq, _)) => seq,
        };
        let taken: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM project_files WHERE id = ?1)",
            [&f.id],
            |r| r.get(0),
        )?;
        if taken {
            return bad(format!("file id {} is already in the vault", f.id));
        }
        conn.execute(
            "INSERT INTO project_files (id, project_id, position, name, media_type, blob_seq, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![f.id, p.id, f.position, f.name, f.media_type, blob_seq, f.created_at],
        )?;
    }
    Ok((p.id.clone(), true))
}

/// Inserts an imported saved prompt unless one with its id, or its name and text, is
/// there already. Returns whether it was added.
fn insert_prompt(conn: &rusqlite::Connection, prompt: &Prompt) -> Result<bool> {
    let known: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM prompts WHERE id = ?1
            OR (name = ?2 COLLATE NOCASE AND text = ?3))",
        params![prompt.id, prompt.name.trim(), prompt.text],
        |r| r.get(0),
    )?;
    if known {
        return Ok(false);
    }
    if prompt.id.is_empty() || prompt.text.trim().is_empty() {
        return Err(VaultError::Invalid(format!(
            "saved prompt {:?} has no id or no text",
            prompt.name
        )));
    }
    let name = free_name(conn, "prompts", &clean_name("prompt", &prompt.name)?)?;
    conn.execute(
        "INSERT INTO prompts (id, name, text, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            prompt.id,
            name,
            prompt.text,
            prompt.created_at,
            prompt.updated_at
        ],
    )?;
    Ok(true)
}

/// Inserts one conversation unless it is already there. Returns whether it was added.
/// Its project is the one `projects` maps it to, else the vault's project with that id,
/// else none (an export of one conversation does not carry its project).
fn insert_tree(
    conn: &rusqlite::Connection,
    tree: &ConversationTree,
    projects: &HashMap<String, String>,
) -> Result<bool> {
    let c = &tree.conversation;
    let known: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM conversations WHERE id = ?1
                OR (source IS NOT NULL AND source = ?2 AND source_id = ?3)",
            params![c.id, c.source, c.source_id],
            |r| r.get(0),
        )
        .optional()?;
    if known.is_some() {
        return Ok(false);
    }
    check_tree(tree)?;
    let project: Option<String> = match &c.project_id {
        None => None,
        Some(id) => match projects.get(id) {
            Some(mapped) => Some(mapped.clone()),
            None => conn
                .query_row("SELECT id FROM projects WHERE id = ?1", [id], |r| r.get(0))
                .optional()?,
        },
    };
    conn.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at, provider_id, model,
            system_prompt, params_json, pinned, archived, source, source_id, head_message_id,
            project_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULL, ?13)",
        params![
            c.id,
            c.title,
            c.created_at,
            c.updated_at,
            c.provider_id,
            c.model,
            c.system_prompt,
            c.params_json,
            c.pinned,
            c.archived,
            c.source,
            c.source_id,
            project
        ],
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO messages (id, conversation_id, parent_id, role, content, reasoning, status,
            error, provider_id, model, tokens_in, tokens_out, created_at, finished_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for m in &tree.messages {
        let taken: Option<String> = conn
            .query_row(
                "SELECT conversation_id FROM messages WHERE id = ?1",
                [&m.id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(other) = taken {
            return Err(VaultError::Invalid(format!(
                "message {} is already in conversation {other}",
                m.id
            )));
        }
        insert.execute(params![
            m.id,
            c.id,
            m.parent_id,
            m.role.as_str(),
            m.content,
            m.reasoning,
            m.status.as_str(),
            m.error,
            m.provider_id,
            m.model,
            m.tokens_in,
            m.tokens_out,
            m.created_at,
            m.finished_at
        ])?;
    }
    insert_attachments(conn, tree)?;
    insert_tool_calls(conn, tree)?;
    // Set last: the head must name a message that now exists.
    conn.execute(
        "UPDATE conversations SET head_message_id = ?1, updated_at = ?2 WHERE id = ?3",
        params![c.head_message_id, c.updated_at, c.id],
    )?;
    Ok(true)
}

/// Inserts a new conversation's attachments, each naming a message of the tree and a
/// file the vault now holds with the stated size.
fn insert_attachments(conn: &rusqlite::Connection, tree: &ConversationTree) -> Result<()> {
    if tree.attachments.is_empty() {
        return Ok(());
    }
    let c = &tree.conversation;
    let bad = |why: String| Err(VaultError::Invalid(format!("conversation {}: {why}", c.id)));
    let messages: HashSet<&str> = tree.messages.iter().map(|m| m.id.as_str()).collect();
    let mut places = HashSet::with_capacity(tree.attachments.len());
    let mut insert = conn.prepare_cached(
        "INSERT INTO message_attachments (id, message_id, position, name, media_type, blob_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for a in &tree.attachments {
        if !messages.contains(a.message_id.as_str()) {
            return bad(format!(
                "attachment {} belongs to message {}, which is not one of its messages",
                a.id, a.message_id
            ));
        }
        if !places.insert((a.message_id.as_str(), a.position)) {
            return bad(format!(
                "message {} has two attachments at position {}",
                a.message_id, a.position
            ));
        }
        let stored: Option<(i64, i64)> = conn
            .query_row(
                "SELECT seq, size FROM attachment_blobs WHERE sha256 = ?1",
                [&a.sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let blob_seq = match stored {
            None => {
                return bad(format!(
                    "attachment {} ({}) names file {}, whose bytes are not in the import",
                    a.id, a.name, a.sha256
                ))
            }
            Some((_, size)) if size.max(0) as u64 != a.size => {
                return bad(format!(
                    "attachment {} ({}) is said to be {} bytes, but its file has {size}",
                    a.id, a.name, a.size
                ))
            }
            Some((seq, _)) => seq,
        };
        let taken: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM message_attachments WHERE id = ?1)",
            [&a.id],
            |r| r.get(0),
        )?;
        if taken {
            return bad(format!("attachment id {} is already in the vault", a.id));
        }
        insert.execute(params![
            a.id,
            a.message_id,
            a.position,
            a.name,
            a.media_type,
            blob_seq
        ])?;
    }
    Ok(())
}

/// Inserts a new conversation's tool calls as they are (ids, statuses and times kept),
/// each belonging to one of its replies, finished, at a position of its own, and within
/// [`MAX_TOOL_CALL_TEXT_BYTES`].
fn insert_tool_calls(conn: &rusqlite::Connection, tree: &ConversationTree) -> Result<()> {
    if tree.tool_calls.is_empty() {
        return Ok(());
    }
    let c = &tree.conversation;
    let bad = |why: String| Err(VaultError::Invalid(format!("conversation {}: {why}", c.id)));
    let replies: HashSet<&str> = tree
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .map(|m| m.id.as_str())
        .collect();
    let mut ids = HashSet::with_capacity(tree.tool_calls.len());
    let mut places = HashSet::with_capacity(tree.tool_calls.len());
    for call in &tree.tool_calls {
        if call.id.is_empty() {
            return bad(format!(
                "a tool call of message {} has an empty id",
                call.message_id
            ));
        }
        if !replies.contains(call.message_id.as_str()) {
            let what = if tree.messages.iter().any(|m| m.id == call.message_id) {
                "which is not a reply (only replies make tool calls)"
            } else {
                "which is not one of its messages"
            };
            return bad(format!(
                "tool call {} belongs to message {}, {what}",
                call.id, call.message_id
            ));
        }
        if call.status == ToolCallStatus::Pending {
            return bad(format!(
                "tool call {} is still pending (an export holds finished calls only)",
                call.id
            ));
        }
        let negative = [
            ("position", call.position),
            ("step", call.step),
            ("text_offset", call.text_offset),
            ("reasoning_offset", call.reasoning_offset),
        ]
        .into_iter()
        .find(|(_, v)| *v < 0);
        if let Some((field, value)) = negative {
            return bad(format!(
                "tool call {} has the {field} {value}, which is negative",
                call.id
            ));
        }
        let texts = [
            ("arguments", call.arguments.len()),
            ("result", call.result.as_deref().map_or(0, str::len)),
            ("signature", call.signature.as_deref().map_or(0, str::len)),
        ];
        if let Some((field, len)) = texts
            .into_iter()
            .find(|(_, len)| *len > MAX_TOOL_CALL_TEXT_BYTES)
        {
            return bad(format!(
                "tool call {} has {len} bytes of {field}; Hearth keeps at most {} MiB",
                call.id,
                MAX_TOOL_CALL_TEXT_BYTES >> 20
            ));
        }
        if !places.insert((call.message_id.as_str(), call.position)) {
            return bad(format!(
                "message {} has two tool calls at position {}",
                call.message_id, call.position
            ));
        }
        if !ids.insert(call.id.as_str()) {
            return bad(format!("tool call {} appears twice", call.id));
        }
        let taken: bool = conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM tool_calls WHERE id = ?1)",
            [&call.id],
            |r| r.get(0),
        )?;
        if taken {
            return bad(format!("tool call id {} is already in the vault", call.id));
        }
        insert_call(conn, call)?;
    }
    Ok(())
}

/// A tree must be a tree: unique ids, each parent earlier in the list and in the same
/// conversation, the head one of its messages, and nothing left streaming.
fn check_tree(tree: &ConversationTree) -> Result<()> {
    let c = &tree.conversation;
    let bad = |why: String| Err(VaultError::Invalid(format!("conversation {}: {why}", c.id)));
    let mut seen = HashSet::with_capacity(tree.messages.len());
    for m in &tree.messages {
        if let Some(parent) = &m.parent_id {
            if !seen.contains(parent.as_str()) {
                return bad(format!(
                    "message {} comes before its parent {parent}, or the parent is missing",
                    m.id
                ));
            }
        }
        if m.status == MessageStatus::Streaming {
            return bad(format!("message {} is still streaming", m.id));
        }
        if !seen.insert(m.id.as_str()) {
            return bad(format!("message {} appears twice", m.id));
        }
    }
    match &c.head_message_id {
        Some(head) if !seen.contains(head.as_str()) => bad(format!(
            "the visible branch ends at {head}, which is not one of its messages"
        )),
        None if !tree.messages.is_empty() => bad("it has messages but no visible branch".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open::tests::temp_vault;
    use crate::{NewConversation, NewMessage, Role};

    /// A conversation with a regenerated reply (two branches) copied out of `vault`.
    fn sample(vault: &mut Vault) -> ConversationTree {
        let c = vault
            .create_conversation(NewConversation {
                title: "sample".into(),
                ..Default::default()
            })
            .unwrap();
        let q = vault
            .append_message(NewMessage::complete(&c.id, None, Role::User, "question"))
            .unwrap();
        vault
            .append_message(NewMessage::complete(
                &c.id,
                Some(&q.id),
                Role::Assistant,
                "one",
            ))
            .unwrap();
        vault
            .append_message(NewMessage::complete(
                &c.id,
                Some(&q.id),
                Role::Assistant,
                "two",
            ))
            .unwrap();
        let mut trees = Vec::new();
        vault
            .for_each_tree(Some(&c.id), |t| {
                trees.push(t);
                Ok(())
            })
            .unwrap();
        trees.pop().unwrap()
    }

    #[test]
    fn a_tree_moves_between_vaults_whole_and_twice_adds_nothing() {
        let (_d1, _p1, _s1, mut from) = temp_vault();
        let tree = sample(&mut from);
        let (_d2, _p2, _s2, mut to) = temp_vault();
        let mut seen = Vec::new();
        let report = to
            .import(vec![Ok::<_, VaultError>(tree.clone())], |r| seen.push(*r))
            .unwrap();
        assert_eq!(
            report,
            ImportReport {
                added: 1,
                skipped: 0,
                messages: 3,
                ..Default::default()
            }
        );
        assert_eq!(seen, vec![report]);
        let mut copied = Vec::new();
        to.for_each_tree(None, |t| {
            copied.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!(copied, vec![tree.clone()]);
        assert_eq!(
            to.visible_path(&tree.conversation.id)
                .unwrap()
                .last()
                .unwrap()
                .content,
            "two"
        );
        let again = to.import(vec![Ok::<_, VaultError>(tree)], |_| {}).unwrap();
        assert_eq!(
            again,
            ImportReport {
                added: 0,
                skipped: 1,
                messages: 0,
                ..Default::default()
            }
        );
    }

    #[test]
    fn an_error_anywhere_rolls_back_everything() {
        let (_d1, _p1, _s1, mut from) = temp_vault();
        let first = sample(&mut from);
        let second = sample(&mut from);
        let (_d2, _p2, _s2, mut to) = temp_vault();
        let source = vec![
            Ok(first),
            Err(VaultError::Invalid("line 7: broken".into())),
            Ok(second),
        ];
        let err = to.import(source, |_| {}).unwrap_err();
        assert!(err.to_string().contains("line 7"), "{err}");
        assert_eq!(to.count_conversations().unwrap(), 0);
        assert_eq!(to.count_messages().unwrap(), 0);
    }

    #[test]
    fn broken_trees_are_refused() {
        let (_d1, _p1, _s1, mut from) = temp_vault();
        let tree = sample(&mut from);
        let (_d2, _p2, _s2, mut to) = temp_vault();

        let mut orphan = tree.clone();
        orphan.messages.remove(0);
        let mut wrong_head = tree.clone();
        wrong_head.conversation.head_message_id = Some("nowhere".into());
        let mut twice = tree.clone();
        let dup = twice.messages[1].clone();
        twice.messages.push(dup);
        let mut live = tree.clone();
        live.messages[2].status = MessageStatus::Streaming;
        for (bad, needle) in [
            (orphan, "parent"),
            (wrong_head, "visible branch"),
            (twice, "twice"),
            (live, "streaming"),
        ] {
            let err = to
                .import(vec![Ok::<_, VaultError>(bad)], |_| {})
                .unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        }
        assert_eq!(to.count_conversations().unwrap(), 0);
    }

    #[test]
    fn the_same_source_conversation_is_recognised_under_a_new_id() {
        let (_d1, _p1, _s1, mut from) = temp_vault();
        let mut tree = sample(&mut from);
        tree.conversation.source = Some("chatgpt".into());
        tree.conversation.source_id = Some("abc".into());
        let (_d2, _p2, _s2, mut to) = temp_vault();
        to.import(vec![Ok::<_, VaultError>(tree.clone())], |_| {})
            .unwrap();
        tree.conversation.id = "another-id".into();
        let again = to.import(vec![Ok::<_, VaultError>(tree)], |_| {}).unwrap();
        assert_eq!(again.skipped, 1);
    }

    /// [`sample`] with tool calls on both replies: two steps on the visible one (the
    /// second still pending until `finish`ed), one on the hidden one.
    fn with_calls(vault: &mut Vault) -> ConversationTree {
        let tree = sample(vault);
        let (hidden, visible) = (&tree.messages[1].id, &tree.messages[2].id);
        let call = |message: &str, step: i64, tool: &str, offset: i64| crate::NewToolCall {
            message_id: message.into(),
            step,
            text_offset: offset,
            reasoning_offset: 0,
            call_id: format!("call_{tool}"),
            server: "files".into(),
            tool: tool.into(),
            // Cut short: arguments are kept as the model wrote them, valid JSON or not.
            arguments: "{\"path\": \"a\"".into(),
            signature: (step == 1).then(|| "c2lnbmF0dXJl".into()),
        };
        for (message, step, tool, offset, status, result) in [
            (visible, 0, "read", 0, ToolCallStatus::Approved, "contents"),
            (
                visible,
                0,
                "list",
                0,
                ToolCallStatus::Denied,
                "The user said no.",
            ),
            (visible, 1, "write", 2, ToolCallStatus::Failed, "disk full"),
            (hidden, 0, "read", 1, ToolCallStatus::Cancelled, "stopped"),
        ] {
            let made = vault
                .add_tool_call(call(message, step, tool, offset))
                .unwrap();
            vault.finish_tool_call(&made.id, status, result).unwrap();
        }
        let mut trees = Vec::new();
        vault
            .for_each_tree(Some(&tree.conversation.id), |t| {
                trees.push(t);
                Ok(())
            })
            .unwrap();
        trees.pop().unwrap()
    }

    fn tool_call_rows(vault: &Vault) -> i64 {
        vault
            .conn
            .query_row("SELECT COUNT(*) FROM tool_calls", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn tool_calls_move_with_their_replies_as_they_were() {
        let (_d1, _p1, _s1, mut from) = temp_vault();
        let tree = with_calls(&mut from);
        assert_eq!(tree.tool_calls.len(), 4);
        // In the order of the messages (the hidden reply first), then by position.
        assert_eq!(tree.tool_calls[0].message_id, tree.messages[1].id);
        let (_d2, _p2, _s2, mut to) = temp_vault();
        let report = to
            .import(vec![Ok::<_, VaultError>(tree.clone())], |_| {})
            .unwrap();
        assert_eq!(report.added, 1);
        let mut copied = Vec::new();
        to.for_each_tree(None, |t| {
            copied.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!(copied, vec![tree.clone()]);
        for reply in [&tree.messages[1].id, &tree.messages[2].id] {
            assert_eq!(
                to.tool_calls_of(reply).unwrap(),
                from.tool_calls_of(reply).unwrap()
            );
        }
        // Twice adds nothing.
        let again = to
            .import(vec![Ok::<_, VaultError>(tree.clone())], |_| {})
            .unwrap();
        assert_eq!(again.skipped, 1);
        assert_eq!(tool_call_rows(&to), 4);
    }

    #[test]
    fn hostile_tool_calls_import_nothing() {
        let (_d1, _p1, _s1, mut from) = temp_vault();
        let tree = with_calls(&mut from);
        let other = sample(&mut from);
        let (_d2, _p2, _s2, mut to) = temp_vault();
        let changed = |change: &dyn Fn(&mut ToolCall)| {
            let mut t = tree.clone();
            // The visible reply's second call (the first is the hidden reply's).
            change(&mut t.tool_calls[2]);
            t
        };
        let huge = "x".repeat(MAX_TOOL_CALL_TEXT_BYTES + 1);
        let mut twice = tree.clone();
        let dup = twice.tool_calls[1].clone();
        twice.tool_calls.push(dup);
        let question = tree.messages[0].id.clone();
        let elsewhere = other.messages[2].id.clone();
        for (bad, needle) in [
            (
                changed(&|c| c.message_id = elsewhere.clone()),
                "not one of its messages",
            ),
            (changed(&|c| c.message_id = question.clone()), "not a reply"),
            (
                changed(&|c| c.status = ToolCallStatus::Pending),
                "still pending",
            ),
            (
                changed(&|c| c.arguments = huge.clone()),
                "bytes of arguments",
            ),
            (
                changed(&|c| c.result = Some(huge.clone())),
                "bytes of result",
            ),
            (
                changed(&|c| c.signature = Some(huge.clone())),
                "bytes of signature",
            ),
            (changed(&|c| c.position = 0), "two tool calls at position 0"),
            (changed(&|c| c.text_offset = -1), "negative"),
            (changed(&|c| c.id = String::new()), "empty id"),
            (twice, "two tool calls at position"),
        ] {
            let err = to
                .import(vec![Ok::<_, VaultError>(bad)], |_| {})
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{needle}: {err}");
            assert_eq!(to.count_conversations().unwrap(), 0);
            assert_eq!(tool_call_rows(&to), 0);
        }
        // The same id twice, or an id the vault holds already.
        let mut same_id = tree.clone();
        same_id.tool_calls[2].id = same_id.tool_calls[1].id.clone();
        let err = to
            .import(vec![Ok::<_, VaultError>(same_id)], |_| {})
            .unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        to.import(vec![Ok::<_, VaultError>(tree.clone())], |_| {})
            .unwrap();
        let mut reused = with_calls(&mut from);
        reused.tool_calls[0].id = tree.tool_calls[0].id.clone();
        let err = to
            .import(vec![Ok::<_, VaultError>(reused)], |_| {})
            .unwrap_err();
        assert!(err.to_string().contains("already in the vault"), "{err}");
        assert_eq!(to.count_conversations().unwrap(), 1);
        assert_eq!(tool_call_rows(&to), 4);
    }

    /// The items that carry `tree` with its files' bytes, as an export would give them
    /// (the bytes cut in `piece`-sized pieces).
    fn items_with_files(vault: &Vault, tree: &ConversationTree, piece: usize) -> Vec<ImportItem> {
        let mut items = Vec::new();
        for file in vault.stored_files(Some(&tree.conversation.id)).unwrap() {
            let mut bytes = Vec::new();
            vault
                .read_stored_file(&file.sha256, &mut |c| {
                    bytes.extend_from_slice(c);
                    Ok(())
                })
                .unwrap();
            items.push(ImportItem::FileStart {
                sha256: file.sha256,
                size: file.size,
            });
            items.extend(
                bytes
                    .chunks(piece)
                    .map(|c| ImportItem::FileBytes(c.to_vec())),
            );
        }
        items.push(tree.clone().into());
        items
    }

    fn with_files(vault: &mut Vault) -> (ConversationTree, Vec<u8>) {
        let tree = sample(vault);
        // Larger than a chunk, and not a multiple of one.
        let big: Vec<u8> = (0..CHUNK_BYTES * 2 + 1234)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let q = &tree.messages[0].id;
        vault
            .add_attachments(
                q,
                &[
                    crate::NewAttachment {
                        name: "big.bin",
                        media_type: "application/pdf",
                        bytes: &big,
                    },
                    crate::NewAttachment {
                        name: "small.txt",
                        media_type: "text/plain",
                        bytes: b"small",
                    },
                ],
            )
            .unwrap();
        let mut trees = Vec::new();
        vault
            .for_each_tree(Some(&tree.conversation.id), |t| {
                trees.push(t);
                Ok(())
            })
            .unwrap();
        (trees.pop().unwrap(), big)
    }

    fn ok(items: Vec<ImportItem>) -> Vec<Result<ImportItem>> {
        items.into_iter().map(Ok).collect()
    }

    #[test]
    fn attachments_move_with_their_bytes_and_files_nobody_names_are_not_kept() {
        let (_d1, _p1, _s1, mut from) = temp_vault();
        let (tree, big) = with_files(&mut from);
        assert_eq!(tree.attachments.len(), 2);
        let (_d2, _p2, _s2, mut to) = temp_vault();
        // Pieces of every size the reader might hand over.
        let items = items_with_files(&from, &tree, 100_000);
        let report = to.import(ok(items), |_| {}).unwrap();
        assert_eq!(report.added, 1);
        let mut trees = Vec::new();
        to.for_each_tree(None, |t| {
            trees.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!(trees, vec![tree.clone()]);
        let mut back = Vec::new();
        to.read_attachment(&tree.attachments[0].id, &mut |c| {
            back.extend_from_slice(c);
            Ok(())
        })
        .unwrap();
        assert_eq!(back, big);

        // Again: the conversation is skipped, and its files are not stored twice.
        let before = to.attachment_totals().unwrap();
        let again = to
            .import(ok(items_with_files(&from, &tree, 7)), |_| {})
            .unwrap();
        assert_eq!(again.skipped, 1);
        assert_eq!(to.attachment_totals().unwrap(), before);

        // Files that only a skipped conversation names are not left behind.
        let (_d3, _p3, _s3, mut third) = temp_vault();
        let mut items = items_with_files(&from, &tree, 1 << 20);
        items.insert(0, ImportItem::FileBytes(Vec::new()));
        assert!(
            third.import(ok(items), |_| {}).is_err(),
            "bytes before a start"
        );
        let mut unnamed = items_with_files(&from, &tree, 1 << 20);
        unnamed.pop();
        third.import(ok(unnamed), |_| {}).unwrap();
        assert_eq!(
            third.attachment_totals().unwrap(),
            crate::AttachmentTotals::default()
        );
    }

    #[test]
    fn files_whose_bytes_do_not_add_up_or_are_missing_import_nothing() {
        let (_d1, _p1, _s1, mut from) = temp_vault();
        let (tree, _) = with_files(&mut from);
        let good = items_with_files(&from, &tree, 1 << 20);
        let starts: Vec<usize> = good
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i, ImportItem::FileStart { .. }))
            .map(|(n, _)| n)
            .collect();

        let mut short = good.clone();
        if let ImportItem::FileBytes(b) = &mut short[starts[0] + 1] {
            b.pop();
        }
        let mut long = good.clone();
        if let ImportItem::FileBytes(b) = &mut long[starts[1] + 1] {
            b.push(0);
        }
        let mut changed = good.clone();
        if let ImportItem::FileBytes(b) = &mut changed[starts[0] + 1] {
            b[10] ^= 1;
        }
        let mut missing = good.clone();
        missing.drain(starts[1]..starts[1] + 2);
        let mut misnamed = good.clone();
        if let ImportItem::FileStart { sha256, .. } = &mut misnamed[starts[0]] {
            *sha256 = "not-a-hash".into();
        }
        let mut wrong_size = tree.clone();
        wrong_size.attachments[1].size += 1;
        let mut resized = good.clone();
        *resized.last_mut().unwrap() = wrong_size.into();
        let mut stray = tree.clone();
        stray.attachments[0].message_id = "elsewhere".into();
        let mut strayed = good.clone();
        *strayed.last_mut().unwrap() = stray.into();

        let (_d2, _p2, _s2, mut to) = temp_vault();
        for (items, needle) in [
            (short, "ends after"),
            (long, "more than"),
            (changed, "have the SHA-256"),
            (missing, "not in the import"),
            (misnamed, "not a SHA-256"),
            (resized, "is said to be"),
            (strayed, "not one of its messages"),
        ] {
            let err = to.import(ok(items), |_| {}).unwrap_err().to_string();
            assert!(err.contains(needle), "{needle}: {err}");
            assert_eq!(to.count_conversations().unwrap(), 0);
            assert_eq!(
                to.attachment_totals().unwrap(),
                crate::AttachmentTotals::default()
            );
        }
    }
}
