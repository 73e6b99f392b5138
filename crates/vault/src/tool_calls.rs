//! Tools: the calls a reply made and their results (part of the message tree), the MCP
//! servers the user configured, which servers each conversation offers, and the grants
//! that let a tool run without asking.
//!
//! A reply that used tools is one assistant message: its text is the text of every step
//! joined, and each call records where in that text (and in its reasoning) its step's
//! text ended, so the steps can be sent back to a provider exactly as they happened.

use rusqlite::{params, OptionalExtension, Row};

use crate::error::{Result, VaultError};
use crate::{new_id, now_ms, Vault};

/// What a call left pending when the app stopped is recorded as having said.
pub const INTERRUPTED_RESULT: &str = "The call did not finish: Hearth stopped before it ended.";

/// What became of a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolCallStatus {
    /// Waiting for the user's answer.
    Pending,
    /// Allowed, run, and the tool gave a result.
    Approved,
    /// The user said no; the model was told so.
    Denied,
    /// It could not run or the tool reported an error; the result says why.
    Failed,
    /// The reply was stopped before the call ended.
    Cancelled,
}

impl ToolCallStatus {
    /// Every status, as stored.
    pub const ALL: [ToolCallStatus; 5] = [
        ToolCallStatus::Pending,
        ToolCallStatus::Approved,
        ToolCallStatus::Denied,
        ToolCallStatus::Failed,
        ToolCallStatus::Cancelled,
    ];

    /// The stored (and exported) name.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolCallStatus::Pending => "pending",
            ToolCallStatus::Approved => "approved",
            ToolCallStatus::Denied => "denied",
            ToolCallStatus::Failed => "failed",
            ToolCallStatus::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for ToolCallStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ToolCallStatus {
    type Err = VaultError;
    fn from_str(s: &str) -> Result<Self> {
        ToolCallStatus::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| VaultError::Invalid(format!("unknown tool call status `{s}`")))
    }
}

/// A stored tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// Hearth's id for the call (UUIDv7).
    pub id: String,
    /// The reply (assistant message) that made it.
    pub message_id: String,
    /// Its order among the reply's calls, from 0.
    pub position: i64,
    /// Which round of the reply asked for it, from 0: calls of one step were asked for
    /// together, and their results went back together.
    pub step: i64,
    /// Bytes of the reply's text that came before this step's calls.
    pub text_offset: i64,
    /// Bytes of the reply's reasoning that came before this step's calls.
    pub reasoning_offset: i64,
    /// The provider's id for the call, which its result names.
    pub call_id: String,
    /// The server that offers the tool.
    pub server: String,
    /// The tool's name on that server.
    pub tool: String,
    /// The arguments as the model wrote them (JSON text, possibly invalid).
    pub arguments: String,
    /// Provider data that must go back with the call (Gemini's `thoughtSignature`).
    pub signature: Option<String>,
    /// What became of it.
    pub status: ToolCallStatus,
    /// What the model was told: the tool's output, or why there is none.
    pub result: Option<String>,
    /// When the model asked, Unix ms.
    pub created_at: i64,
    /// When it ended, Unix ms.
    pub finished_at: Option<i64>,
}

/// A call to record, as the model asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToolCall {
    /// The reply.
    pub message_id: String,
    /// Its round.
    pub step: i64,
    /// Bytes of the reply's text before this step's calls.
    pub text_offset: i64,
    /// Bytes of the reply's reasoning before this step's calls.
    pub reasoning_offset: i64,
    /// The provider's id.
    pub call_id: String,
    /// The server.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The arguments (JSON text).
    pub arguments: String,
    /// Provider data to send back with it.
    pub signature: Option<String>,
}

/// A grant: a tool that runs without asking, in one conversation or everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolGrant {
    /// The server.
    pub server: String,
    /// The tool.
    pub tool: String,
    /// The conversation it holds in; `None` for "always".
    pub conversation_id: Option<String>,
    /// When it was given, Unix ms.
    pub created_at: i64,
}

/// A configured MCP server. The configuration is JSON the engine writes; it never holds
/// a secret value (those are kept like API keys, by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolServerRecord {
    /// The server's name, unique.
    pub name: String,
    /// How to reach it (JSON).
    pub config_json: String,
    /// Whether conversations may offer it.
    pub enabled: bool,
    /// When it was added, Unix ms.
    pub created_at: i64,
}

const CALL_COLUMNS: &str = "id, message_id, position, step, text_offset, reasoning_offset, \
     call_id, server, tool, arguments, signature, status, result, created_at, finished_at";

fn call_from_row(r: &Row<'_>) -> rusqlite::Result<ToolCall> {
    let status: String = r.get(11)?;
    Ok(ToolCall {
        id: r.get(0)?,
        message_id: r.get(1)?,
        position: r.get(2)?,
        step: r.get(3)?,
        text_offset: r.get(4)?,
        reasoning_offset: r.get(5)?,
        call_id: r.get(6)?,
        server: r.get(7)?,
        tool: r.get(8)?,
        arguments: r.get(9)?,
        signature: r.get(10)?,
        status: status.parse().map_err(|e: VaultError| {
            rusqlite::Error::FromSqlConversionFailure(
                11,
                rusqlite::types::Type::Text,
                e.to_string().into(),
            )
        })?,
        result: r.get(12)?,
        created_at: r.get(13)?,
        finished_at: r.get(14)?,
    })
}

/// Inserts a call as it is (imports keep ids, statuses and times).
pub(crate) fn insert_call(conn: &rusqlite::Connection, call: &ToolCall) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO tool_calls ({CALL_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))?
    .execute(params![
        call.id,
        call.message_id,
        call.position,
        call.step,
        call.text_offset,
        call.reasoning_offset,
        call.call_id,
        call.server,
        call.tool,
        call.arguments,
        call.signature,
        call.status.as_str(),
        call.result,
        call.created_at,
        call.finished_at
    ])?;
    Ok(())
}

impl Vault {
    /// Records a call the model asked for, `pending`, after the reply's other calls.
    pub fn add_tool_call(&self, new: NewToolCall) -> Result<ToolCall> {
        let message = self.message(&new.message_id)?;
        if message.role != crate::Role::Assistant {
            return Err(VaultError::Invalid(format!(
                "message {} is not a reply; only replies make tool calls",
                new.message_id
            )));
        }
        let position: i64 = self.conn.query_row(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM tool_calls WHERE message_id = ?1",
            [&new.message_id],
            |r| r.get(0),
        )?;
        let call = ToolCall {
            id: new_id(),
            message_id: new.message_id,
            position,
            step: new.step,
            text_offset: new.text_offset,
            reasoning_offset: new.reasoning_offset,
            call_id: new.call_id,
            server: new.server,
            tool: new.tool,
            arguments: new.arguments,
            signature: new.signature,
            status: ToolCallStatus::Pending,
            result: None,
            created_at: now_ms(),
            finished_at: None,
        };
        insert_call(&self.conn, &call)?;
        Ok(call)
    }

    /// Records how a call ended and what the model was told.
    pub fn finish_tool_call(&self, id: &str, status: ToolCallStatus, result: &str) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE tool_calls SET status = ?1, result = ?2, finished_at = ?3 WHERE id = ?4",
            params![status.as_str(), result, now_ms(), id],
        )?;
        if changed == 0 {
            return Err(VaultError::Invalid(format!("no tool call {id}")));
        }
        Ok(())
    }

    /// Ends every call of `message_id` still pending as cancelled, with `result`.
    pub fn cancel_pending_tool_calls(&self, message_id: &str, result: &str) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE tool_calls SET status = 'cancelled', result = ?1, finished_at = ?2
             WHERE message_id = ?3 AND status = 'pending'",
            params![result, now_ms(), message_id],
        )?)
    }

    /// A reply's calls, in order.
    pub fn tool_calls_of(&self, message_id: &str) -> Result<Vec<ToolCall>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CALL_COLUMNS} FROM tool_calls WHERE message_id = ?1 ORDER BY position"
        ))?;
        let rows = stmt.query_map([message_id], call_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every call in a conversation (all branches), by reply in the order of
    /// [`Vault::messages`], then in order.
    pub fn tool_calls_in(&self, conversation_id: &str) -> Result<Vec<ToolCall>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {} FROM tool_calls t JOIN messages m ON m.id = t.message_id
             WHERE m.conversation_id = ?1 ORDER BY m.created_at, m.seq, t.position",
            CALL_COLUMNS
                .split(", ")
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let rows = stmt.query_map([conversation_id], call_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every configured MCP server, by name.
    pub fn tool_servers(&self) -> Result<Vec<ToolServerRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, config_json, enabled, created_at FROM tool_servers ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ToolServerRecord {
                name: r.get(0)?,
                config_json: r.get(1)?,
                enabled: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One configured server.
    pub fn tool_server(&self, name: &str) -> Result<Option<ToolServerRecord>> {
        Ok(self
            .conn
            .query_row(
                "SELECT name, config_json, enabled, created_at FROM tool_servers WHERE name = ?1",
                [name],
                |r| {
                    Ok(ToolServerRecord {
                        name: r.get(0)?,
                        config_json: r.get(1)?,
                        enabled: r.get(2)?,
                        created_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Adds a server or replaces its configuration (keeping when it was added).
    pub fn save_tool_server(&self, name: &str, config_json: &str, enabled: bool) -> Result<()> {
        self.conn.execute(
            "INSERT INTO tool_servers (name, config_json, enabled, created_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(name) DO UPDATE SET config_json = excluded.config_json,
                 enabled = excluded.enabled",
            params![name, config_json, enabled, now_ms()],
        )?;
        Ok(())
    }

    /// Removes a server, the grants naming it and the conversations' choice of it, in
    /// one transaction. Returns whether there was one. Calls it made stay in history.
    pub fn delete_tool_server(&mut self, name: &str) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM tool_servers WHERE name = ?1", [name])?;
        tx.execute("DELETE FROM tool_grants WHERE server = ?1", [name])?;
        tx.execute(
            "DELETE FROM conversation_tool_servers WHERE server = ?1",
            [name],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// The servers a conversation offers, by name.
    pub fn conversation_tool_servers(&self, conversation_id: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT server FROM conversation_tool_servers WHERE conversation_id = ?1 ORDER BY server",
        )?;
        let rows = stmt.query_map([conversation_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets the servers a conversation offers (replacing the earlier choice).
    pub fn set_conversation_tool_servers(
        &mut self,
        conversation_id: &str,
        servers: &[String],
    ) -> Result<()> {
        self.conversation(conversation_id)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM conversation_tool_servers WHERE conversation_id = ?1",
            [conversation_id],
        )?;
        for server in servers {
            tx.execute(
                "INSERT OR IGNORE INTO conversation_tool_servers (conversation_id, server)
                 VALUES (?1, ?2)",
                params![conversation_id, server],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every grant: the "always" ones first, then by conversation.
    pub fn tool_grants(&self) -> Result<Vec<ToolGrant>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT server, tool, conversation_id, created_at FROM tool_grants
             ORDER BY conversation_id IS NOT NULL, conversation_id, server, tool",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ToolGrant {
                server: r.get(0)?,
                tool: r.get(1)?,
                conversation_id: r.get(2)?,
                created_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Lets `server`'s `tool` run without asking: in `conversation_id`, or everywhere.
    pub fn grant_tool(
        &self,
        server: &str,
        tool: &str,
        conversation_id: Option<&str>,
    ) -> Result<()> {
        if let Some(id) = conversation_id {
            self.conversation(id)?;
        }
        self.conn.execute(
            "INSERT OR IGNORE INTO tool_grants (server, tool, conversation_id, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![server, tool, conversation_id, now_ms()],
        )?;
        Ok(())
    }

    /// Takes a grant back; returns whether there was one.
    pub fn revoke_tool_grant(
        &self,
        server: &str,
        tool: &str,
        conversation_id: Option<&str>,
    ) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM tool_grants WHERE server = ?1 AND tool = ?2
                 AND conversation_id IS ?3",
            params![server, tool, conversation_id],
        )? > 0)
    }

    /// Whether `server`'s `tool` may run without asking in `conversation_id`.
    pub fn tool_granted(&self, server: &str, tool: &str, conversation_id: &str) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM tool_grants WHERE server = ?1 AND tool = ?2
                 AND (conversation_id IS NULL OR conversation_id = ?3))",
            params![server, tool, conversation_id],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open::tests::temp_vault;
    use crate::{NewConversation, NewMessage, Role};

    fn reply(vault: &mut Vault) -> (String, String) {
        let c = vault
            .create_conversation(NewConversation {
                title: "t".into(),
                ..Default::default()
            })
            .unwrap();
        let q = vault
            .append_message(NewMessage::complete(&c.id, None, Role::User, "q"))
            .unwrap();
        let a = vault
            .append_message(NewMessage::complete(
                &c.id,
                Some(&q.id),
                Role::Assistant,
                "a",
            ))
            .unwrap();
        (c.id, a.id)
    }

    fn new_call(message_id: &str, step: i64, tool: &str) -> NewToolCall {
        NewToolCall {
            message_id: message_id.into(),
            step,
            text_offset: 1,
            reasoning_offset: 0,
            call_id: format!("call_{tool}"),
            server: "files".into(),
            tool: tool.into(),
            arguments: "{\"path\":\"a\"}".into(),
            signature: Some("sig".into()),
        }
    }

    #[test]
    fn calls_keep_their_order_and_end_once_recorded() {
        let (_dir, _paths, _store, mut vault) = temp_vault();
        let (conversation, message) = reply(&mut vault);
        let a = vault.add_tool_call(new_call(&message, 0, "read")).unwrap();
        let b = vault.add_tool_call(new_call(&message, 1, "list")).unwrap();
        assert_eq!((a.position, b.position), (0, 1));
        assert_eq!(a.status, ToolCallStatus::Pending);
        vault
            .finish_tool_call(&a.id, ToolCallStatus::Approved, "contents")
            .unwrap();
        assert_eq!(
            vault
                .cancel_pending_tool_calls(&message, "stopped")
                .unwrap(),
            1
        );
        let calls = vault.tool_calls_of(&message).unwrap();
        assert_eq!(calls[0].status, ToolCallStatus::Approved);
        assert_eq!(calls[0].result.as_deref(), Some("contents"));
        assert_eq!(calls[0].signature.as_deref(), Some("sig"));
        assert_eq!(calls[1].status, ToolCallStatus::Cancelled);
        assert!(calls[1].finished_at.is_some());
        assert_eq!(vault.tool_calls_in(&conversation).unwrap(), calls);
        // A user message makes no calls.
        let q = vault.message(&message).unwrap().parent_id.unwrap();
        assert!(vault.add_tool_call(new_call(&q, 0, "read")).is_err());
        // Deleting the conversation deletes its calls.
        vault.delete_conversation(&conversation).unwrap();
        assert!(vault.tool_calls_of(&message).unwrap().is_empty());
    }

    #[test]
    fn grants_hold_where_given_and_go_with_their_server() {
        let (_dir, _paths, _store, mut vault) = temp_vault();
        let (one, _) = reply(&mut vault);
        let (two, _) = reply(&mut vault);
        vault.save_tool_server("files", "{}", true).unwrap();
        assert!(!vault.tool_granted("files", "read", &one).unwrap());
        vault.grant_tool("files", "read", Some(&one)).unwrap();
        vault.grant_tool("files", "read", Some(&one)).unwrap();
        assert!(vault.tool_granted("files", "read", &one).unwrap());
        assert!(!vault.tool_granted("files", "read", &two).unwrap());
        assert!(!vault.tool_granted("files", "write", &one).unwrap());
        vault.grant_tool("files", "list", None).unwrap();
        vault.grant_tool("files", "list", None).unwrap();
        assert!(vault.tool_granted("files", "list", &two).unwrap());
        assert_eq!(vault.tool_grants().unwrap().len(), 2);
        assert!(vault.revoke_tool_grant("files", "list", None).unwrap());
        assert!(!vault.tool_granted("files", "list", &two).unwrap());
        vault
            .set_conversation_tool_servers(&one, &["files".into()])
            .unwrap();
        assert_eq!(vault.conversation_tool_servers(&one).unwrap(), ["files"]);
        assert!(vault.delete_tool_server("files").unwrap());
        assert!(vault.tool_grants().unwrap().is_empty());
        assert!(vault.conversation_tool_servers(&one).unwrap().is_empty());
        assert!(vault.tool_servers().unwrap().is_empty());
    }
}
