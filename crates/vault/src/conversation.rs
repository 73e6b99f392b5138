//! Conversations: create, list, rename, pin, archive, delete.

use rusqlite::{params, OptionalExtension, Row};

use crate::error::{Result, VaultError};
use crate::{new_id, now_ms, Vault};

/// A conversation's stored fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// UUIDv7 id.
    pub id: String,
    /// Title shown in lists.
    pub title: String,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Last change, Unix ms.
    pub updated_at: i64,
    /// Provider new replies use.
    pub provider_id: Option<String>,
    /// Model new replies use.
    pub model: Option<String>,
    /// System prompt sent first.
    pub system_prompt: Option<String>,
    /// Generation parameters (temperature, …) as JSON.
    pub params_json: Option<String>,
    /// Pinned conversations list first.
    pub pinned: bool,
    /// Archived conversations are hidden from the default list.
    pub archived: bool,
    /// Where an imported conversation came from (`chatgpt`, `claude`, …).
    pub source: Option<String>,
    /// Its id there; with `source`, makes imports idempotent.
    pub source_id: Option<String>,
    /// The last message of the visible branch.
    pub head_message_id: Option<String>,
    /// The project it belongs to, if any.
    pub project_id: Option<String>,
}

/// What a new conversation starts with.
#[derive(Debug, Clone, Default)]
pub struct NewConversation {
    /// Title (may be empty; a front end fills it from the first message).
    pub title: String,
    /// Provider id.
    pub provider_id: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// System prompt.
    pub system_prompt: Option<String>,
    /// Generation parameters as JSON.
    pub params_json: Option<String>,
    /// Import source.
    pub source: Option<String>,
    /// Id at the import source.
    pub source_id: Option<String>,
    /// Creation time to record (imports keep the original); `None` means now.
    pub created_at: Option<i64>,
    /// The project it starts in.
    pub project_id: Option<String>,
}

/// One line of a conversation list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Last change, Unix ms.
    pub updated_at: i64,
    /// Messages in the conversation, every branch counted.
    pub message_count: i64,
    /// Pinned?
    pub pinned: bool,
    /// Archived?
    pub archived: bool,
    /// The project it belongs to, if any.
    pub project_id: Option<String>,
}

/// Which conversations a list shows. Archived conversations are only in
/// [`ConversationScope::Archived`] and [`ConversationScope::Everything`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationScope<'a> {
    /// Every conversation that is not archived, in a project or not.
    Active,
    /// Every conversation, archived ones too.
    Everything,
    /// The archived ones only.
    Archived,
    /// Those in no project (not archived): the main list beside the projects.
    Unfiled,
    /// One project's (not archived).
    Project(&'a str),
}

const COLUMNS: &str = "id, title, created_at, updated_at, provider_id, model, system_prompt, \
     params_json, pinned, archived, source, source_id, head_message_id, project_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: r.get(0)?,
        title: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
        provider_id: r.get(4)?,
        model: r.get(5)?,
        system_prompt: r.get(6)?,
        params_json: r.get(7)?,
        pinned: r.get(8)?,
        archived: r.get(9)?,
        source: r.get(10)?,
        source_id: r.get(11)?,
        head_message_id: r.get(12)?,
        project_id: r.get(13)?,
    })
}

impl Vault {
    /// Creates a conversation and returns it.
    pub fn create_conversation(&self, new: NewConversation) -> Result<Conversation> {
        let id = new_id();
        let created = new.created_at.unwrap_or_else(now_ms);
        self.conn
            .execute(
                "INSERT INTO conversations (id, title, created_at, updated_at, provider_id, model,
                 system_prompt, params_json, source, source_id, project_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    id,
                    new.title,
                    created,
                    created,
                    new.provider_id,
                    new.model,
                    new.system_prompt,
                    new.params_json,
                    new.source,
                    new.source_id,
                    new.project_id
                ],
            )
            .map_err(|e| crate::projects::missing_project(e, new.project_id.as_deref()))?;
        self.conversation(&id)
    }

    /// One conversation by id.
    pub fn conversation(&self, id: &str) -> Result<Conversation> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM conversations WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?
            .ok_or_else(|| VaultError::ConversationNotFound(id.to_owned()))
    }

    /// A page of conversations: pinned first, then most recently changed. Archived ones
    /// are left out unless `include_archived`.
    pub fn list_conversations(
        &self,
        include_archived: bool,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ConversationSummary>> {
        let scope = if include_archived {
            ConversationScope::Everything
        } else {
            ConversationScope::Active
        };
        self.list_scope(scope, limit, offset)
    }

    /// A page of archived conversations only, in the same order as
    /// [`Vault::list_conversations`]: what a front end's "Archived" view shows.
    pub fn list_archived_conversations(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ConversationSummary>> {
        self.list_scope(ConversationScope::Archived, limit, offset)
    }

    /// A page of the conversations in `scope`: pinned first, then most recently changed.
    /// A project's list uses its own index, so it costs the same however many
    /// conversations other projects hold.
    pub fn list_scope(
        &self,
        scope: ConversationScope<'_>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ConversationSummary>> {
        let (filter, project) = match scope {
            ConversationScope::Active => ("c.archived = 0", None),
            ConversationScope::Everything => ("1", None),
            ConversationScope::Archived => ("c.archived = 1", None),
            ConversationScope::Unfiled => ("c.archived = 0 AND c.project_id IS NULL", None),
            ConversationScope::Project(id) => {
                self.project(id)?;
                ("c.project_id = ?3 AND c.archived = 0", Some(id))
            }
        };
        let order = if project.is_some() {
            // Matches conversations_by_project, so SQLite walks the index in order.
            "c.project_id, c.pinned DESC, c.updated_at DESC"
        } else {
            "c.pinned DESC, c.updated_at DESC, c.seq DESC"
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT c.id, c.title, c.updated_at,
                    (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id),
                    c.pinned, c.archived, c.project_id
             FROM conversations c
             WHERE {filter}
             ORDER BY {order}
             LIMIT ?1 OFFSET ?2"
        ))?;
        let summary = |r: &Row<'_>| {
            Ok(ConversationSummary {
                id: r.get(0)?,
                title: r.get(1)?,
                updated_at: r.get(2)?,
                message_count: r.get(3)?,
                pinned: r.get(4)?,
                archived: r.get(5)?,
                project_id: r.get(6)?,
            })
        };
        let rows = match project {
            Some(id) => stmt.query_map(params![limit, offset, id], summary)?,
            None => stmt.query_map(params![limit, offset], summary)?,
        };
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Number of conversations.
    pub fn count_conversations(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM conversations", [], |r| r.get(0))?)
    }

    /// Number of archived conversations (those the default list leaves out).
    pub fn count_archived_conversations(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM conversations WHERE archived = 1",
            [],
            |r| r.get(0),
        )?)
    }

    /// Runs an UPDATE on one conversation (`?1` = value, `?2` = now, `?3` = id).
    fn update_conversation(&self, id: &str, sql: &str, value: &dyn rusqlite::ToSql) -> Result<()> {
        let changed = self.conn.execute(sql, params![value, now_ms(), id])?;
        if changed == 0 {
            return Err(VaultError::ConversationNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Renames a conversation.
    pub fn rename_conversation(&self, id: &str, title: &str) -> Result<()> {
        self.update_conversation(
            id,
            "UPDATE conversations SET title = ?1, updated_at = ?2 WHERE id = ?3",
            &title,
        )
    }

    /// Pins or unpins a conversation. Pinning does not change its recency.
    pub fn set_pinned(&self, id: &str, pinned: bool) -> Result<()> {
        self.set_flag(id, "pinned", pinned)
    }

    /// Archives or restores a conversation. Archiving does not change its recency.
    pub fn set_archived(&self, id: &str, archived: bool) -> Result<()> {
        self.set_flag(id, "archived", archived)
    }

    fn set_flag(&self, id: &str, column: &'static str, value: bool) -> Result<()> {
        let sql = format!("UPDATE conversations SET {column} = ?1 WHERE id = ?2");
        if self.conn.execute(&sql, params![value, id])? == 0 {
            return Err(VaultError::ConversationNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Sets the model and provider new replies in this conversation use.
    pub fn set_conversation_model(&self, id: &str, provider_id: &str, model: &str) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE conversations SET provider_id = ?1, model = ?2, updated_at = ?3 WHERE id = ?4",
            params![provider_id, model, now_ms(), id],
        )?;
        if changed == 0 {
            return Err(VaultError::ConversationNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Sets (or clears) the system prompt.
    pub fn set_system_prompt(&self, id: &str, prompt: Option<&str>) -> Result<()> {
        self.update_conversation(
            id,
            "UPDATE conversations SET system_prompt = ?1, updated_at = ?2 WHERE id = ?3",
            &prompt,
        )
    }

    /// Deletes a conversation and all its messages for real: with `secure_delete` the
    /// freed pages are overwritten, and the checkpoint afterwards moves that into the
    /// main file and empties the write-ahead log, so no old page lingers there either.
    pub fn delete_conversation(&self, id: &str) -> Result<()> {
        let changed = self
            .conn
            .execute("DELETE FROM conversations WHERE id = ?1", [id])?;
        if changed == 0 {
            return Err(VaultError::ConversationNotFound(id.to_owned()));
        }
        self.checkpoint()
    }

    /// Deletes, for real, every unpinned conversation last touched before `cutoff_ms`
    /// (Unix milliseconds), with all its messages. Returns how many went.
    pub fn delete_untouched_since(&self, cutoff_ms: i64) -> Result<usize> {
        let deleted = self.conn.execute(
            "DELETE FROM conversations WHERE pinned = 0 AND updated_at < ?1",
            [cutoff_ms],
        )?;
        if deleted > 0 {
            self.checkpoint()?;
        }
        Ok(deleted)
    }

    /// Copies the write-ahead log into the main file and truncates the log.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::open::tests::temp_vault;
    use crate::NewConversation;

    #[test]
    fn list_orders_pinned_then_recent_and_hides_archived() {
        let (_d, _p, _s, vault) = temp_vault();
        let a = vault
            .create_conversation(NewConversation {
                title: "a".into(),
                ..Default::default()
            })
            .unwrap();
        let b = vault
            .create_conversation(NewConversation {
                title: "b".into(),
                ..Default::default()
            })
            .unwrap();
        let c = vault
            .create_conversation(NewConversation {
                title: "c".into(),
                ..Default::default()
            })
            .unwrap();
        vault.set_pinned(&a.id, true).unwrap();
        vault.set_archived(&b.id, true).unwrap();
        let titles: Vec<_> = vault
            .list_conversations(false, 50, 0)
            .unwrap()
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(titles, ["a", "c"]);
        let all = vault.list_conversations(true, 50, 0).unwrap();
        assert_eq!(all.len(), 3);
        vault.rename_conversation(&c.id, "renamed").unwrap();
        assert_eq!(vault.conversation(&c.id).unwrap().title, "renamed");
    }

    #[test]
    fn archived_conversations_are_listed_counted_and_restored() {
        let (_d, _p, _s, vault) = temp_vault();
        let ids: Vec<String> = ["a", "b", "c"]
            .into_iter()
            .map(|title| {
                vault
                    .create_conversation(NewConversation {
                        title: title.into(),
                        ..Default::default()
                    })
                    .unwrap()
                    .id
            })
            .collect();
        vault.set_archived(&ids[0], true).unwrap();
        vault.set_archived(&ids[2], true).unwrap();
        assert_eq!(vault.count_conversations().unwrap(), 3);
        assert_eq!(vault.count_archived_conversations().unwrap(), 2);
        let status = vault.status().unwrap();
        assert_eq!(
            (status.conversations, status.archived_conversations),
            (3, 2)
        );
        let archived: Vec<_> = vault
            .list_archived_conversations(50, 0)
            .unwrap()
            .into_iter()
            .map(|s| (s.title, s.archived))
            .collect();
        assert_eq!(archived, [("c".into(), true), ("a".into(), true)]);

        let updated = vault.conversation(&ids[0]).unwrap().updated_at;
        vault.set_archived(&ids[0], false).unwrap();
        assert_eq!(vault.count_archived_conversations().unwrap(), 1);
        let active: Vec<_> = vault
            .list_conversations(false, 50, 0)
            .unwrap()
            .into_iter()
            .map(|s| s.title)
            .collect();
        assert_eq!(active, ["b", "a"]);
        // Restoring does not make an old conversation look new.
        assert_eq!(vault.conversation(&ids[0]).unwrap().updated_at, updated);
        assert!(vault.set_archived("nope", true).is_err());
    }

    #[test]
    fn unknown_ids_are_not_found() {
        let (_d, _p, _s, vault) = temp_vault();
        assert!(vault.rename_conversation("nope", "x").is_err());
        assert!(vault.delete_conversation("nope").is_err());
        assert!(vault.conversation("nope").is_err());
    }
}
