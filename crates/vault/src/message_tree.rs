//! Messages and the message tree.
//!
//! Messages form a tree through `parent_id`: editing a message or regenerating a reply
//! adds a sibling rather than overwriting, so nothing the user saw is lost. The
//! conversation's `head_message_id` names the last message of the visible branch; the
//! visible conversation is the path from the root to the head.

use std::fmt;
use std::str::FromStr;

use rusqlite::{params, OptionalExtension, Row};

use crate::error::{Result, VaultError};
use crate::{new_id, now_ms, Vault};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A system prompt stored in the tree (imports).
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// A reply still arriving.
    Streaming,
    /// Finished normally (user messages are always complete).
    Complete,
    /// Stopped by the user; the partial text is kept.
    Cancelled,
    /// The provider failed; the partial text and the error are kept.
    Error,
    /// The app stopped while the reply was streaming; the partial text is kept.
    Interrupted,
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            /// The stored (and wire) name.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),* }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = VaultError;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($ty::$variant),)*
                    other => Err(VaultError::Invalid(format!(
                        concat!("unknown ", stringify!($ty), " `{}`"), other
                    ))),
                }
            }
        }
    };
}

text_enum!(Role { System => "system", User => "user", Assistant => "assistant" });
text_enum!(MessageStatus {
    Streaming => "streaming",
    Complete => "complete",
    Cancelled => "cancelled",
    Error => "error",
    Interrupted => "interrupted",
});

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// UUIDv7 id.
    pub id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// The message it answers or follows; `None` for a root.
    pub parent_id: Option<String>,
    /// Author.
    pub role: Role,
    /// The text.
    pub content: String,
    /// Reasoning/thinking text, kept apart from the answer.
    pub reasoning: Option<String>,
    /// Life-cycle state.
    pub status: MessageStatus,
    /// Error kind and message when `status` is `error`.
    pub error: Option<String>,
    /// Provider that wrote it.
    pub provider_id: Option<String>,
    /// Model that wrote it.
    pub model: Option<String>,
    /// Prompt tokens, as reported by the provider.
    pub tokens_in: Option<i64>,
    /// Completion tokens, as reported by the provider.
    pub tokens_out: Option<i64>,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// When it stopped changing, Unix ms.
    pub finished_at: Option<i64>,
}

/// What a new message starts with.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Its conversation.
    pub conversation_id: String,
    /// Its parent; `None` for a root.
    pub parent_id: Option<String>,
    /// Author.
    pub role: Role,
    /// Text so far.
    pub content: String,
    /// Reasoning text so far.
    pub reasoning: Option<String>,
    /// Initial status (`streaming` for a reply about to arrive).
    pub status: MessageStatus,
    /// Provider.
    pub provider_id: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Creation time to record (imports keep the original); `None` means now.
    pub created_at: Option<i64>,
}

impl NewMessage {
    /// A complete message from `role` with `content`, under `parent_id`.
    pub fn complete(
        conversation_id: &str,
        parent_id: Option<&str>,
        role: Role,
        content: impl Into<String>,
    ) -> Self {
        NewMessage {
            conversation_id: conversation_id.to_owned(),
            parent_id: parent_id.map(str::to_owned),
            role,
            content: content.into(),
            reasoning: None,
            status: MessageStatus::Complete,
            provider_id: None,
            model: None,
            created_at: None,
        }
    }
}

const COLUMNS: &str = "id, conversation_id, parent_id, role, content, reasoning, status, error, \
     provider_id, model, tokens_in, tokens_out, created_at, finished_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let text_enum = |i: usize, value: String| {
        move |e: VaultError| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Text,
                format!("{e} ({value})").into(),
            )
        }
    };
    let role: String = r.get(3)?;
    let status: String = r.get(6)?;
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        parent_id: r.get(2)?,
        role: role.parse().map_err(text_enum(3, role.clone()))?,
        content: r.get(4)?,
        reasoning: r.get(5)?,
        status: status.parse().map_err(text_enum(6, status.clone()))?,
        error: r.get(7)?,
        provider_id: r.get(8)?,
        model: r.get(9)?,
        tokens_in: r.get(10)?,
        tokens_out: r.get(11)?,
        created_at: r.get(12)?,
        finished_at: r.get(13)?,
    })
}

impl Vault {
    /// Appends a message and makes it the head of its conversation's visible branch.
    /// When this returns, the message is durable (committed with `synchronous = FULL`).
    pub fn append_message(&mut self, new: NewMessage) -> Result<Message> {
        self.append_message_with(new, &[]).map(|(m, _)| m)
    }

    /// Adds a message that carries the same attachments as message `like` (an edited
    /// question keeps its files), in one transaction. The bytes are not copied.
    pub fn append_message_like(&mut self, new: NewMessage, like: &str) -> Result<Message> {
        self.append(new, &[], Some(like)).map(|(m, _)| m)
    }

    /// Adds a message with `files` attached, in one transaction: the message and its
    /// files are saved together or not at all.
    pub fn append_message_with(
        &mut self,
        new: NewMessage,
        files: &[crate::NewAttachment<'_>],
    ) -> Result<(Message, Vec<crate::Attachment>)> {
        self.append(new, files, None)
    }

    fn append(
        &mut self,
        new: NewMessage,
        files: &[crate::NewAttachment<'_>],
        like: Option<&str>,
    ) -> Result<(Message, Vec<crate::Attachment>)> {
        let id = new_id();
        let created = new.created_at.unwrap_or_else(now_ms);
        let finished = (new.status != MessageStatus::Streaming).then_some(created);
        let tx = self.conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM conversations WHERE id = ?1)",
            [&new.conversation_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(VaultError::ConversationNotFound(new.conversation_id));
        }
        if let Some(parent) = &new.parent_id {
            let parent_conversation: Option<String> = tx
                .query_row(
                    "SELECT conversation_id FROM messages WHERE id = ?1",
                    [parent],
                    |r| r.get(0),
                )
                .optional()?;
            match parent_conversation {
                None => return Err(VaultError::MessageNotFound(parent.clone())),
                Some(c) if c != new.conversation_id => {
                    return Err(VaultError::Invalid(format!(
                        "message {parent} belongs to another conversation"
                    )))
                }
                Some(_) => {}
            }
        }
        tx.execute(
            "INSERT INTO messages (id, conversation_id, parent_id, role, content, reasoning,
                 status, provider_id, model, created_at, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id,
                new.conversation_id,
                new.parent_id,
                new.role.as_str(),
                new.content,
                new.reasoning,
                new.status.as_str(),
                new.provider_id,
                new.model,
                created,
                finished
            ],
        )?;
        tx.execute(
            "UPDATE conversations SET head_message_id = ?1, updated_at = max(updated_at, ?2)
             WHERE id = ?3",
            params![id, created, new.conversation_id],
        )?;
        let attached = crate::attachment::attach_in(&tx, &id, 0, files)?;
        if let Some(like) = like {
            tx.execute(
                "INSERT INTO message_attachments (id, message_id, position, name, media_type, blob_seq)
                 SELECT ?1 || '-' || position, ?2, position, name, media_type, blob_seq
                 FROM message_attachments WHERE message_id = ?3",
                params![new_id(), id, like],
            )?;
        }
        tx.commit()?;
        Ok((self.message(&id)?, attached))
    }

    /// One message by id.
    pub fn message(&self, id: &str) -> Result<Message> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?
            .ok_or_else(|| VaultError::MessageNotFound(id.to_owned()))
    }

    /// Saves the text of a reply that is still arriving.
    ///
    /// These progress saves are committed without waiting for fsync (`synchronous =
    /// NORMAL` for this one statement): a killed or crashed process still keeps them,
    /// since the write has reached the operating system, and only a power cut can lose
    /// the last moments of a reply. The final [`Vault::finish_message`] commits with a full
    /// sync, which makes every earlier save durable too. Waiting for the disk on every save
    /// would stall the stream for milliseconds at a time.
    pub fn update_streaming(&self, id: &str, content: &str, reasoning: Option<&str>) -> Result<()> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let result = self.conn.execute(
            "UPDATE messages SET content = ?1, reasoning = ?2 WHERE id = ?3",
            params![content, reasoning, id],
        );
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        if result? == 0 {
            return Err(VaultError::MessageNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Records how a message ended: status, error text, token usage.
    pub fn finish_message(
        &self,
        id: &str,
        status: MessageStatus,
        error: Option<&str>,
        tokens_in: Option<i64>,
        tokens_out: Option<i64>,
    ) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE messages SET status = ?1, error = ?2, tokens_in = ?3, tokens_out = ?4,
                 finished_at = ?5
             WHERE id = ?6",
            params![status.as_str(), error, tokens_in, tokens_out, now_ms(), id],
        )?;
        if changed == 0 {
            return Err(VaultError::MessageNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Marks every message left `streaming` (the app died mid-reply) as `interrupted`,
    /// keeping its text. Writes nothing when there is nothing to recover. Returns how
    /// many messages were recovered.
    pub fn recover_interrupted(&self) -> Result<usize> {
        self.recover_interrupted_if(|| true)
    }

    /// Like [`Vault::recover_interrupted`], but only if `nobody_streaming()` says no other
    /// process has a reply in flight. The question is asked inside the write transaction
    /// that does the recovery, so a reply starting in another process at that moment
    /// cannot be caught: its message can only be written after this transaction ends.
    pub fn recover_interrupted_if(&self, nobody_streaming: impl FnOnce() -> bool) -> Result<usize> {
        let any: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM messages WHERE status = 'streaming')",
            [],
            |r| r.get(0),
        )?;
        if !any {
            return Ok(0);
        }
        // IMMEDIATE: take the write lock now, before asking.
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        if !nobody_streaming() {
            return Ok(0);
        }
        let n = tx.execute(
            "UPDATE messages SET status = 'interrupted', finished_at = ?1 WHERE status = 'streaming'",
            [now_ms()],
        )?;
        // A call left waiting or running when the app stopped did not end: it is told
        // to the model as cancelled.
        tx.execute(
            "UPDATE tool_calls SET status = 'cancelled', result = ?1, finished_at = ?2
             WHERE status = 'pending'",
            params![crate::tool_calls::INTERRUPTED_RESULT, now_ms()],
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// The visible conversation: the path from the root to the head, oldest first.
    pub fn visible_path(&self, conversation_id: &str) -> Result<Vec<Message>> {
        let conversation = self.conversation(conversation_id)?;
        match conversation.head_message_id {
            Some(head) => self.path_to(&head),
            None => Ok(Vec::new()),
        }
    }

    /// The path from the root to `message_id`, oldest first.
    pub fn path_to(&self, message_id: &str) -> Result<Vec<Message>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "WITH RECURSIVE path(id, depth) AS (
                 SELECT ?1, 0
                 UNION ALL
                 SELECT m.parent_id, path.depth + 1 FROM messages m JOIN path ON m.id = path.id
                 WHERE m.parent_id IS NOT NULL
             )
             SELECT {COLUMNS} FROM messages JOIN path USING (id) ORDER BY path.depth DESC"
        ))?;
        let rows = stmt.query_map([message_id], from_row)?;
        let path: Vec<Message> = rows.collect::<rusqlite::Result<_>>()?;
        if path.is_empty() {
            return Err(VaultError::MessageNotFound(message_id.to_owned()));
        }
        Ok(path)
    }

    /// Every message of a conversation, all branches, oldest first.
    pub fn messages(&self, conversation_id: &str) -> Result<Vec<Message>> {
        self.conversation(conversation_id)?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 ORDER BY created_at, seq"
        ))?;
        let rows = stmt.query_map([conversation_id], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The ids of a message and its siblings (same parent), oldest first: what a branch
    /// switcher shows as ‹ 2/3 ›.
    pub fn siblings(&self, message_id: &str) -> Result<Vec<String>> {
        let message = self.message(message_id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM messages
             WHERE conversation_id = ?1 AND parent_id IS ?2
             ORDER BY created_at, seq",
        )?;
        let rows = stmt.query_map(params![message.conversation_id, message.parent_id], |r| {
            r.get(0)
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Shows the branch through `message_id`: the head becomes the newest leaf below it.
    pub fn select_branch(&self, message_id: &str) -> Result<()> {
        let message = self.message(message_id)?;
        let mut leaf = message.id.clone();
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM messages WHERE parent_id = ?1 ORDER BY created_at DESC, seq DESC LIMIT 1",
        )?;
        while let Some(child) = stmt
            .query_row([&leaf], |r| r.get::<_, String>(0))
            .optional()?
        {
            leaf = child;
        }
        self.conn.execute(
            "UPDATE conversations SET head_message_id = ?1 WHERE id = ?2",
            params![leaf, message.conversation_id],
        )?;
        Ok(())
    }

    /// Number of messages in the vault.
    pub fn count_messages(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open::tests::temp_vault;
    use crate::NewConversation;

    fn contents(path: &[Message]) -> Vec<&str> {
        path.iter().map(|m| m.content.as_str()).collect()
    }

    #[test]
    fn edits_and_regenerations_branch_and_the_head_picks_the_visible_path() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let c = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        let q1 = vault
            .append_message(NewMessage::complete(&c.id, None, Role::User, "q1"))
            .unwrap();
        let a1 = vault
            .append_message(NewMessage::complete(
                &c.id,
                Some(&q1.id),
                Role::Assistant,
                "a1",
            ))
            .unwrap();
        let q2 = vault
            .append_message(NewMessage::complete(&c.id, Some(&a1.id), Role::User, "q2"))
            .unwrap();
        let a2 = vault
            .append_message(NewMessage::complete(
                &c.id,
                Some(&q2.id),
                Role::Assistant,
                "a2",
            ))
            .unwrap();
        assert_eq!(
            contents(&vault.visible_path(&c.id).unwrap()),
            ["q1", "a1", "q2", "a2"]
        );

        // Regenerate a2: a sibling under q2 becomes the head.
        let a2b = vault
            .append_message(NewMessage::complete(
                &c.id,
                Some(&q2.id),
                Role::Assistant,
                "a2b",
            ))
            .unwrap();
        assert_eq!(
            contents(&vault.visible_path(&c.id).unwrap()),
            ["q1", "a1", "q2", "a2b"]
        );
        assert_eq!(
            vault.siblings(&a2.id).unwrap(),
            vec![a2.id.clone(), a2b.id.clone()]
        );

        // Edit q1: a new root branch.
        let q1b = vault
            .append_message(NewMessage::complete(&c.id, None, Role::User, "q1 edited"))
            .unwrap();
        assert_eq!(contents(&vault.visible_path(&c.id).unwrap()), ["q1 edited"]);
        assert_eq!(
            vault.siblings(&q1.id).unwrap(),
            vec![q1.id.clone(), q1b.id.clone()]
        );

        // Switch back to the first branch: its newest leaf is shown.
        vault.select_branch(&q1.id).unwrap();
        assert_eq!(
            contents(&vault.visible_path(&c.id).unwrap()),
            ["q1", "a1", "q2", "a2b"]
        );
        vault.select_branch(&a2.id).unwrap();
        assert_eq!(
            contents(&vault.visible_path(&c.id).unwrap()),
            ["q1", "a1", "q2", "a2"]
        );
        assert_eq!(vault.messages(&c.id).unwrap().len(), 6);
    }

    #[test]
    fn a_parent_from_another_conversation_is_refused() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let c1 = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        let c2 = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        let m = vault
            .append_message(NewMessage::complete(&c1.id, None, Role::User, "x"))
            .unwrap();
        assert!(vault
            .append_message(NewMessage::complete(&c2.id, Some(&m.id), Role::User, "y"))
            .is_err());
        assert!(vault
            .append_message(NewMessage::complete("missing", None, Role::User, "y"))
            .is_err());
    }

    #[test]
    fn streaming_replies_are_updated_finished_and_recovered() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let c = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        let q = vault
            .append_message(NewMessage::complete(&c.id, None, Role::User, "q"))
            .unwrap();
        let mut reply = NewMessage::complete(&c.id, Some(&q.id), Role::Assistant, "");
        reply.status = MessageStatus::Streaming;
        let a = vault.append_message(reply.clone()).unwrap();
        let b = vault.append_message(reply).unwrap();
        vault
            .update_streaming(&a.id, "partial", Some("thinking"))
            .unwrap();
        vault
            .finish_message(&b.id, MessageStatus::Complete, None, Some(3), Some(5))
            .unwrap();
        assert_eq!(vault.recover_interrupted().unwrap(), 1);
        let a = vault.message(&a.id).unwrap();
        assert_eq!(
            (a.status, a.content.as_str(), a.reasoning.as_deref()),
            (MessageStatus::Interrupted, "partial", Some("thinking"))
        );
        let b = vault.message(&b.id).unwrap();
        assert_eq!(
            (b.status, b.tokens_in, b.tokens_out),
            (MessageStatus::Complete, Some(3), Some(5))
        );
        assert_eq!(vault.recover_interrupted().unwrap(), 0);
    }

    #[test]
    fn deleting_a_conversation_removes_its_messages() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let c = vault
            .create_conversation(NewConversation::default())
            .unwrap();
        vault
            .append_message(NewMessage::complete(&c.id, None, Role::User, "bye"))
            .unwrap();
        vault.delete_conversation(&c.id).unwrap();
        assert_eq!(vault.count_messages().unwrap(), 0);
    }
}
