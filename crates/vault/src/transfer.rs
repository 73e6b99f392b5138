//! Whole conversations in and out: the shape every importer produces and every exporter
//! reads, and the one door through which imported conversations enter the vault.
//!
//! An import is all-or-nothing: [`Vault::import`] runs inside one transaction, and the
//! first error from the source (a parse error, say) rolls back everything it added. It
//! is idempotent: a conversation whose id, or whose `(source, source_id)`, is already in
//! the vault is skipped, so importing the same file twice adds nothing.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension};

use crate::conversation::Conversation;
use crate::error::{Result, VaultError};
use crate::message_tree::{Message, MessageStatus};
use crate::Vault;

/// One conversation with every message of every branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationTree {
    /// The conversation row (its `head_message_id` names the visible branch's last message).
    pub conversation: Conversation,
    /// Every message, each parent before its children.
    pub messages: Vec<Message>,
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
    pub fn import<I, E>(
        &mut self,
        source: I,
        progress: impl FnMut(&ImportReport),
    ) -> std::result::Result<ImportReport, E>
    where
        I: IntoIterator<Item = std::result::Result<ConversationTree, E>>,
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

    fn import_in_one_transaction<I, E>(
        &mut self,
        source: I,
        mut progress: impl FnMut(&ImportReport),
    ) -> std::result::Result<ImportReport, E>
    where
        I: IntoIterator<Item = std::result::Result<ConversationTree, E>>,
        E: From<VaultError>,
    {
        let tx = self.conn.transaction().map_err(VaultError::from)?;
        // Set inside the transaction, so a failed import leaves the stored setting as it
        // was.
        set_fts_hash_bytes(&tx, IMPORT_FTS_HASH_BYTES)?;
        let mut report = ImportReport::default();
        for tree in source {
            let tree = tree?;
            if insert_tree(&tx, &tree)? {
                report.added += 1;
                report.messages += tree.messages.len() as u64;
            } else {
                report.skipped += 1;
            }
            progress(&report);
        }
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
            each(ConversationTree {
                conversation,
                messages,
            })?;
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

/// Inserts one conversation unless it is already there. Returns whether it was added.
fn insert_tree(conn: &rusqlite::Connection, tree: &ConversationTree) -> Result<bool> {
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
    conn.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at, provider_id, model,
            system_prompt, params_json, pinned, archived, source, source_id, head_message_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULL)",
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
            c.source_id
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
    // Set last: the head must name a message that now exists.
    conn.execute(
        "UPDATE conversations SET head_message_id = ?1, updated_at = ?2 WHERE id = ?3",
        params![c.head_message_id, c.updated_at, c.id],
    )?;
    Ok(true)
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
                messages: 3
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
                messages: 0
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
}
