//! The database schema and its append-only migrations.
//!
//! Migration N takes the database from `user_version` N-1 to N. Migrations are never
//! edited once released: a change to the schema is a new entry at the end. Each one runs
//! in the same transaction as the `user_version` bump, so a failure leaves the database
//! exactly as it was.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, VaultError};

/// One migration: its SQL, run as a batch.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// What the migration does, for logs and errors.
    pub name: &'static str,
    /// The SQL batch.
    pub sql: &'static str,
}

/// Every migration, in order. Index 0 creates schema version 1.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "initial schema",
        sql: V1,
    },
    Migration {
        name: "prefix indexes for search",
        sql: V2,
    },
    Migration {
        name: "attachments",
        sql: V3,
    },
    Migration {
        name: "tools",
        sql: V4,
    },
    Migration {
        name: "projects and prompts",
        sql: V5,
    },
];

/// The schema version this build writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

const V1: &str = r#"
CREATE TABLE conversations (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    provider_id     TEXT,
    model           TEXT,
    system_prompt   TEXT,
    params_json     TEXT,
    pinned          INTEGER NOT NULL DEFAULT 0,
    archived        INTEGER NOT NULL DEFAULT 0,
    source          TEXT,
    source_id       TEXT,
    head_message_id TEXT
);
CREATE INDEX conversations_by_recency ON conversations(pinned DESC, updated_at DESC);
CREATE UNIQUE INDEX conversations_by_source ON conversations(source, source_id)
    WHERE source IS NOT NULL AND source_id IS NOT NULL;

CREATE TABLE messages (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    parent_id       TEXT REFERENCES messages(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         TEXT NOT NULL DEFAULT '',
    reasoning       TEXT,
    status          TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'cancelled', 'error', 'interrupted')),
    error           TEXT,
    provider_id     TEXT,
    model           TEXT,
    tokens_in       INTEGER,
    tokens_out      INTEGER,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, created_at);
CREATE INDEX messages_by_parent ON messages(parent_id);
CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';

-- Full-text search lives inside the encrypted file like everything else. The rowids are
-- the tables' INTEGER PRIMARY KEYs, which VACUUM never renumbers.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content = 'messages', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.seq, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.seq, new.content);
END;

CREATE VIRTUAL TABLE titles_fts USING fts5(
    title, content = 'conversations', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO titles_fts(titles_fts, rank) VALUES ('secure-delete', 1);
CREATE TRIGGER titles_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO titles_fts(rowid, title) VALUES (new.seq, new.title);
END;
CREATE TRIGGER titles_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO titles_fts(titles_fts, rowid, title) VALUES ('delete', old.seq, old.title);
END;
CREATE TRIGGER titles_fts_update AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO titles_fts(titles_fts, rowid, title) VALUES ('delete', old.seq, old.title);
    INSERT INTO titles_fts(rowid, title) VALUES (new.seq, new.title);
END;

CREATE TABLE providers (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    base_url      TEXT,
    default_model TEXT,
    enabled       INTEGER NOT NULL DEFAULT 1,
    extra_json    TEXT
);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value_json TEXT NOT NULL
);

-- Provider API keys for vaults without a keychain. The whole file is encrypted by
-- SQLCipher, so these never reach the disk in the clear.
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    updated_at INTEGER NOT NULL
);
"#;

/// Search treats the last word typed as a prefix. Without a prefix index FTS5 expands
/// `the*` into every term it prefixes and merges their lists, which on a large vault
/// costs more than the search itself; with one, 2- and 3-character prefixes are a single
/// list. External-content FTS5 tables cannot be altered, so both are rebuilt from their
/// content tables (inside the migration's transaction).
const V2: &str = r#"
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content = 'messages', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.seq, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.seq, new.content);
END;

DROP TRIGGER titles_fts_insert;
DROP TRIGGER titles_fts_delete;
DROP TRIGGER titles_fts_update;
DROP TABLE titles_fts;
CREATE VIRTUAL TABLE titles_fts USING fts5(
    title, content = 'conversations', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
INSERT INTO titles_fts(titles_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO titles_fts(titles_fts) VALUES ('rebuild');
CREATE TRIGGER titles_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO titles_fts(rowid, title) VALUES (new.seq, new.title);
END;
CREATE TRIGGER titles_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO titles_fts(titles_fts, rowid, title) VALUES ('delete', old.seq, old.title);
END;
CREATE TRIGGER titles_fts_update AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO titles_fts(titles_fts, rowid, title) VALUES ('delete', old.seq, old.title);
    INSERT INTO titles_fts(rowid, title) VALUES (new.seq, new.title);
END;
"#;

/// Files attached to messages. The bytes live once per content (`attachment_blobs`,
/// keyed by SHA-256), cut into chunks so no file needs one huge allocation to store or
/// read; each message's attachments (`message_attachments`) name a blob. Deleting a
/// message deletes its attachment rows (cascade), and a blob no row names any more is
/// deleted with its chunks by the trigger, so `secure_delete` overwrites the bytes.
const V3: &str = r#"
CREATE TABLE attachment_blobs (
    seq        INTEGER PRIMARY KEY,
    sha256     TEXT NOT NULL UNIQUE,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE attachment_chunks (
    seq      INTEGER PRIMARY KEY,
    blob_seq INTEGER NOT NULL REFERENCES attachment_blobs(seq) ON DELETE CASCADE,
    idx      INTEGER NOT NULL,
    data     BLOB NOT NULL,
    UNIQUE (blob_seq, idx)
);
CREATE TABLE message_attachments (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    media_type TEXT NOT NULL,
    blob_seq   INTEGER NOT NULL REFERENCES attachment_blobs(seq),
    UNIQUE (message_id, position)
);
CREATE INDEX message_attachments_by_blob ON message_attachments(blob_seq);
CREATE TRIGGER attachment_blob_release AFTER DELETE ON message_attachments
WHEN NOT EXISTS (SELECT 1 FROM message_attachments WHERE blob_seq = old.blob_seq)
BEGIN
    DELETE FROM attachment_blobs WHERE seq = old.blob_seq;
END;
"#;

/// Tools. A reply's calls and their results (`tool_calls`) belong to the reply's message
/// and go with it. The MCP servers the user configured (`tool_servers`: how to reach each,
/// never a secret value), which servers each conversation offers
/// (`conversation_tool_servers`), and the grants that let a tool run without asking
/// (`tool_grants`: one conversation's, or with no conversation, always).
const V4: &str = r#"
CREATE TABLE tool_calls (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    message_id       TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    step             INTEGER NOT NULL,
    text_offset      INTEGER NOT NULL,
    reasoning_offset INTEGER NOT NULL,
    call_id          TEXT NOT NULL,
    server           TEXT NOT NULL,
    tool             TEXT NOT NULL,
    arguments        TEXT NOT NULL,
    signature        TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'failed', 'cancelled')),
    result           TEXT,
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    UNIQUE (message_id, position)
);
CREATE TABLE tool_servers (
    name        TEXT PRIMARY KEY,
    config_json TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);
CREATE TABLE conversation_tool_servers (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    server          TEXT NOT NULL,
    PRIMARY KEY (conversation_id, server)
);
CREATE TABLE tool_grants (
    seq             INTEGER PRIMARY KEY,
    server          TEXT NOT NULL,
    tool            TEXT NOT NULL,
    conversation_id TEXT REFERENCES conversations(id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX tool_grants_once ON tool_grants(server, tool, IFNULL(conversation_id, ''));
"#;

/// Projects and saved prompts. A project (`projects`) has instructions sent before each
/// of its conversations' own system prompt, an optional default provider, model and
/// model settings, and files (`project_files`, naming bytes in `attachment_blobs` like a
/// message's attachments do) sent with every request of its conversations. A
/// conversation belongs to at most one project (`conversations.project_id`); deleting a
/// project moves its conversations out (`ON DELETE SET NULL`) unless the caller deleted
/// them first. A blob is deleted once neither a message nor a project names it, so the
/// release trigger of V3 is replaced by two that look at both tables.
const V5: &str = r#"
CREATE TABLE projects (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    instructions TEXT NOT NULL DEFAULT '',
    provider_id  TEXT,
    model        TEXT,
    params_json  TEXT,
    source       TEXT,
    source_id    TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX projects_by_name ON projects(name COLLATE NOCASE);
CREATE UNIQUE INDEX projects_by_source ON projects(source, source_id)
    WHERE source IS NOT NULL AND source_id IS NOT NULL;

CREATE TABLE project_files (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    media_type TEXT NOT NULL,
    blob_seq   INTEGER NOT NULL REFERENCES attachment_blobs(seq),
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, position)
);
CREATE INDEX project_files_by_blob ON project_files(blob_seq);

ALTER TABLE conversations ADD COLUMN project_id TEXT REFERENCES projects(id) ON DELETE SET NULL;
CREATE INDEX conversations_by_project ON conversations(project_id, pinned DESC, updated_at DESC)
    WHERE project_id IS NOT NULL;

DROP TRIGGER attachment_blob_release;
CREATE TRIGGER attachment_blob_release AFTER DELETE ON message_attachments
WHEN NOT EXISTS (SELECT 1 FROM message_attachments WHERE blob_seq = old.blob_seq)
 AND NOT EXISTS (SELECT 1 FROM project_files WHERE blob_seq = old.blob_seq)
BEGIN
    DELETE FROM attachment_blobs WHERE seq = old.blob_seq;
END;
CREATE TRIGGER project_file_blob_release AFTER DELETE ON project_files
WHEN NOT EXISTS (SELECT 1 FROM message_attachments WHERE blob_seq = old.blob_seq)
 AND NOT EXISTS (SELECT 1 FROM project_files WHERE blob_seq = old.blob_seq)
BEGIN
    DELETE FROM attachment_blobs WHERE seq = old.blob_seq;
END;

CREATE TABLE prompts (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    text       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX prompts_by_name ON prompts(name COLLATE NOCASE);
"#;

/// Brings the database up to the newest version in `migrations`, refusing a database
/// from a newer build. Returns how many migrations ran.
pub fn migrate(conn: &mut Connection, migrations: &[Migration]) -> Result<usize> {
    let supported = migrations.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > supported {
        return Err(VaultError::NewerSchema { found, supported });
    }
    if found == supported {
        return Ok(0);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Re-read inside the write lock: another process may have migrated meanwhile.
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > supported {
        return Err(VaultError::NewerSchema { found, supported });
    }
    let mut ran = 0;
    for (index, migration) in migrations.iter().enumerate().skip(found as usize) {
        tx.execute_batch(migration.sql).map_err(|e| {
            VaultError::Invalid(format!(
                "migration {} ({}) failed: {e}",
                index + 1,
                migration.name
            ))
        })?;
        ran += 1;
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    Ok(ran)
}
