//! Projects (a name, instructions, defaults and files shared by their conversations) and
//! the saved-prompt library.

use rusqlite::{params, OptionalExtension, Row};

use crate::attachment::{store_blob, NewAttachment};
use crate::error::{Result, VaultError};
use crate::{new_id, now_ms, Vault};

/// The longest project or prompt name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A project's stored fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// UUIDv7 id.
    pub id: String,
    /// Its name, unique ignoring case.
    pub name: String,
    /// Sent as a system prompt before each of its conversations' own.
    pub instructions: String,
    /// Provider its new conversations use, unless the user picks another.
    pub provider_id: Option<String>,
    /// Model its new conversations use.
    pub model: Option<String>,
    /// Model settings its conversations use unless they set their own, as JSON.
    pub params_json: Option<String>,
    /// Where an imported project came from (`claude`, …).
    pub source: Option<String>,
    /// Its id there; with `source`, makes imports idempotent.
    pub source_id: Option<String>,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Last change, Unix ms.
    pub updated_at: i64,
}

/// A project with what the sidebar shows beside its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSummary {
    /// The project.
    pub project: Project,
    /// Its conversations that are not archived.
    pub conversations: i64,
    /// Its files.
    pub files: i64,
}

/// A file of a project, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    /// This file's id.
    pub id: String,
    /// The project.
    pub project_id: String,
    /// Its place among the project's files, from 0.
    pub position: u32,
    /// The file's name.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// When it was added, Unix ms.
    pub created_at: i64,
}

/// A project with its files, as exports write it and imports read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectTree {
    /// The project.
    pub project: Project,
    /// Its files, in order; on import their bytes come first as file items.
    pub files: Vec<ProjectFile>,
}

/// A change to a project: each `Some` field is set.
#[derive(Debug, Clone, Default)]
pub struct ProjectEdit {
    /// A new name.
    pub name: Option<String>,
    /// New instructions (empty clears them).
    pub instructions: Option<String>,
    /// The default provider and model (`Some((None, None))` clears them).
    pub model: Option<(Option<String>, Option<String>)>,
    /// The default model settings as JSON (`Some(None)` clears them).
    pub params_json: Option<Option<String>>,
}

/// What happens to a project's conversations when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectDeletion {
    /// They stay, in no project.
    MoveOut,
    /// They are deleted with it, for real.
    DeleteConversations,
}

/// A saved prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// UUIDv7 id.
    pub id: String,
    /// Its name, unique ignoring case.
    pub name: String,
    /// The text inserted into the composer.
    pub text: String,
    /// Creation time, Unix ms.
    pub created_at: i64,
    /// Last change, Unix ms.
    pub updated_at: i64,
}

const PROJECT_COLUMNS: &str = "id, name, instructions, provider_id, model, params_json, source, \
     source_id, created_at, updated_at";

fn project_row(r: &Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        instructions: r.get(2)?,
        provider_id: r.get(3)?,
        model: r.get(4)?,
        params_json: r.get(5)?,
        source: r.get(6)?,
        source_id: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

const SELECT_FILE: &str =
    "SELECT f.id, f.project_id, f.position, f.name, f.media_type, b.size, b.sha256, f.created_at
     FROM project_files f JOIN attachment_blobs b ON b.seq = f.blob_seq";

fn file_row(r: &Row<'_>) -> rusqlite::Result<ProjectFile> {
    Ok(ProjectFile {
        id: r.get(0)?,
        project_id: r.get(1)?,
        position: r.get(2)?,
        name: r.get(3)?,
        media_type: r.get(4)?,
        size: r.get::<_, i64>(5)?.max(0) as u64,
        sha256: r.get(6)?,
        created_at: r.get(7)?,
    })
}

fn prompt_row(r: &Row<'_>) -> rusqlite::Result<Prompt> {
    Ok(Prompt {
        id: r.get(0)?,
        name: r.get(1)?,
        text: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

/// A name as stored: trimmed, not empty, not too long, no control characters.
pub(crate) fn clean_name(kind: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(VaultError::Invalid(format!("a {kind} needs a name")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(VaultError::Invalid(format!(
            "a {kind} name may have at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(VaultError::Invalid(format!(
            "a {kind} name cannot hold control characters (such as line breaks)"
        )));
    }
    Ok(name.to_owned())
}

/// Turns a unique-name violation into [`VaultError::NameTaken`].
fn name_taken(e: rusqlite::Error, kind: &'static str, name: &str) -> VaultError {
    match &e {
        rusqlite::Error::SqliteFailure(f, Some(msg))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                && msg.contains(".name") =>
        {
            VaultError::NameTaken {
                kind,
                name: name.to_owned(),
            }
        }
        _ => VaultError::from(e),
    }
}

/// Turns a foreign-key violation on a conversation's project into
/// [`VaultError::ProjectNotFound`].
pub(crate) fn missing_project(e: rusqlite::Error, project: Option<&str>) -> VaultError {
    match (&e, project) {
        (rusqlite::Error::SqliteFailure(f, _), Some(id))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            VaultError::ProjectNotFound(id.to_owned())
        }
        _ => VaultError::from(e),
    }
}

impl Vault {
    /// Creates a project with a fresh id and returns it.
    pub fn create_project(&self, name: &str, instructions: &str) -> Result<Project> {
        let name = clean_name("project", name)?;
        let id = new_id();
        let now = now_ms();
        self.conn
            .execute(
                "INSERT INTO projects (id, name, instructions, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![id, name, instructions, now],
            )
            .map_err(|e| name_taken(e, "project", &name))?;
        self.project(&id)
    }

    /// One project by id.
    pub fn project(&self, id: &str) -> Result<Project> {
        self.conn
            .query_row(
                &format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1"),
                [id],
                project_row,
            )
            .optional()?
            .ok_or_else(|| VaultError::ProjectNotFound(id.to_owned()))
    }

    /// The project with this name (ignoring case), if there is one.
    pub fn project_named(&self, name: &str) -> Result<Option<Project>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE name = ?1 COLLATE NOCASE"),
                [name.trim()],
                project_row,
            )
            .optional()?)
    }

    /// Every project by name, with its counts.
    pub fn projects(&self) -> Result<Vec<ProjectSummary>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PROJECT_COLUMNS},
                (SELECT count(*) FROM conversations c WHERE c.project_id = projects.id AND c.archived = 0),
                (SELECT count(*) FROM project_files f WHERE f.project_id = projects.id)
             FROM projects ORDER BY name COLLATE NOCASE, seq"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(ProjectSummary {
                project: project_row(r)?,
                conversations: r.get(10)?,
                files: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Changes a project's name, instructions, defaults or settings, in one statement.
    pub fn edit_project(&mut self, id: &str, edit: &ProjectEdit) -> Result<Project> {
        let name = edit
            .name
            .as_deref()
            .map(|n| clean_name("project", n))
            .transpose()?;
        let tx = self.conn.transaction()?;
        let now = now_ms();
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM projects WHERE id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(VaultError::ProjectNotFound(id.to_owned()));
        }
        if let Some(name) = &name {
            tx.execute(
                "UPDATE projects SET name = ?1, updated_at = ?2 WHERE id = ?3",
                params![name, now, id],
            )
            .map_err(|e| name_taken(e, "project", name))?;
        }
        if let Some(instructions) = &edit.instructions {
            tx.execute(
                "UPDATE projects SET instructions = ?1, updated_at = ?2 WHERE id = ?3",
                params![instructions, now, id],
            )?;
        }
        if let Some((provider, model)) = &edit.model {
            tx.execute(
                "UPDATE projects SET provider_id = ?1, model = ?2, updated_at = ?3 WHERE id = ?4",
                params![provider, model, now, id],
            )?;
        }
        if let Some(params_json) = &edit.params_json {
            tx.execute(
                "UPDATE projects SET params_json = ?1, updated_at = ?2 WHERE id = ?3",
                params![params_json, now, id],
            )?;
        }
        tx.commit()?;
        self.project(id)
    }

    /// Deletes a project and its files; its conversations are moved out or deleted, in
    /// the same transaction. Returns how many conversations were deleted.
    pub fn delete_project(&mut self, id: &str, what: ProjectDeletion) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let deleted = match what {
            ProjectDeletion::MoveOut => 0,
            ProjectDeletion::DeleteConversations => {
                tx.execute("DELETE FROM conversations WHERE project_id = ?1", [id])?
            }
        };
        // The foreign key moves any conversation left out of the project.
        if tx.execute("DELETE FROM projects WHERE id = ?1", [id])? == 0 {
            return Err(VaultError::ProjectNotFound(id.to_owned()));
        }
        tx.commit()?;
        self.checkpoint()?;
        Ok(deleted)
    }

    /// Puts a conversation into a project, or (with `None`) into none. Its recency does
    /// not change.
    pub fn move_conversation(&self, conversation_id: &str, project_id: Option<&str>) -> Result<()> {
        let changed = self
            .conn
            .execute(
                "UPDATE conversations SET project_id = ?1 WHERE id = ?2",
                params![project_id, conversation_id],
            )
            .map_err(|e| missing_project(e, project_id))?;
        if changed == 0 {
            return Err(VaultError::ConversationNotFound(conversation_id.to_owned()));
        }
        Ok(())
    }

    /// Sets (or clears) a conversation's model settings JSON.
    pub fn set_conversation_params(&self, id: &str, params_json: Option<&str>) -> Result<()> {
        let changed = self.conn.execute(
            "UPDATE conversations SET params_json = ?1 WHERE id = ?2",
            params![params_json, id],
        )?;
        if changed == 0 {
            return Err(VaultError::ConversationNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Adds files to a project, after those it has, in one transaction. Bytes already
    /// in the vault are not stored again.
    pub fn add_project_files(
        &mut self,
        project_id: &str,
        files: &[NewAttachment<'_>],
    ) -> Result<Vec<ProjectFile>> {
        let tx = self.conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM projects WHERE id = ?1)",
            [project_id],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(VaultError::ProjectNotFound(project_id.to_owned()));
        }
        let first: u32 = tx.query_row(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM project_files WHERE project_id = ?1",
            [project_id],
            |r| r.get(0),
        )?;
        let now = now_ms();
        let mut ids = Vec::with_capacity(files.len());
        for (position, file) in (first..).zip(files) {
            let (blob_seq, _) = store_blob(&tx, file.bytes)?;
            let id = new_id();
            tx.execute(
                "INSERT INTO project_files (id, project_id, position, name, media_type, blob_seq, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, project_id, position, file.name, file.media_type, blob_seq, now],
            )?;
            ids.push(id);
        }
        tx.execute(
            "UPDATE projects SET updated_at = ?1 WHERE id = ?2",
            params![now, project_id],
        )?;
        tx.commit()?;
        ids.iter().map(|id| self.project_file(id)).collect()
    }

    /// A project's files, in order.
    pub fn project_files(&self, project_id: &str) -> Result<Vec<ProjectFile>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SELECT_FILE} WHERE f.project_id = ?1 ORDER BY f.position"
        ))?;
        let rows = stmt.query_map([project_id], file_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One project file by id.
    pub fn project_file(&self, id: &str) -> Result<ProjectFile> {
        self.conn
            .query_row(&format!("{SELECT_FILE} WHERE f.id = ?1"), [id], file_row)
            .optional()?
            .ok_or_else(|| VaultError::AttachmentNotFound(id.to_owned()))
    }

    /// Removes a file from its project; its bytes go once nothing else names them.
    pub fn remove_project_file(&self, id: &str) -> Result<()> {
        if self
            .conn
            .execute("DELETE FROM project_files WHERE id = ?1", [id])?
            == 0
        {
            return Err(VaultError::AttachmentNotFound(id.to_owned()));
        }
        Ok(())
    }

    /// Hands a project file's bytes to `sink` chunk by chunk, checked against its size
    /// and SHA-256.
    pub fn read_project_file(
        &self,
        id: &str,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<ProjectFile> {
        let file = self.project_file(id)?;
        self.read_stored_file(&file.sha256, sink)?;
        Ok(file)
    }

    /// The ids of a project's conversations, archived ones too (for whole-project work
    /// such as exports).
    pub fn project_conversation_ids(&self, project_id: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM conversations WHERE project_id = ?1 ORDER BY created_at, seq",
        )?;
        let rows = stmt.query_map([project_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every project with its files, by creation (for exports).
    pub fn project_trees(&self) -> Result<Vec<ProjectTree>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects ORDER BY created_at, seq"
        ))?;
        let projects: Vec<Project> = stmt
            .query_map([], project_row)?
            .collect::<rusqlite::Result<_>>()?;
        projects
            .into_iter()
            .map(|project| {
                let files = self.project_files(&project.id)?;
                Ok(ProjectTree { project, files })
            })
            .collect()
    }

    /// Saves a prompt under a new name and returns it.
    pub fn create_prompt(&self, name: &str, text: &str) -> Result<Prompt> {
        let name = clean_name("prompt", name)?;
        if text.trim().is_empty() {
            return Err(VaultError::Invalid("a saved prompt needs some text".into()));
        }
        let id = new_id();
        self.conn
            .execute(
                "INSERT INTO prompts (id, name, text, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![id, name, text, now_ms()],
            )
            .map_err(|e| name_taken(e, "prompt", &name))?;
        self.prompt(&id)
    }

    /// Changes a saved prompt's name and text.
    pub fn update_prompt(&self, id: &str, name: &str, text: &str) -> Result<Prompt> {
        let name = clean_name("prompt", name)?;
        if text.trim().is_empty() {
            return Err(VaultError::Invalid("a saved prompt needs some text".into()));
        }
        let changed = self
            .conn
            .execute(
                "UPDATE prompts SET name = ?1, text = ?2, updated_at = ?3 WHERE id = ?4",
                params![name, text, now_ms(), id],
            )
            .map_err(|e| name_taken(e, "prompt", &name))?;
        if changed == 0 {
            return Err(VaultError::PromptNotFound(id.to_owned()));
        }
        self.prompt(id)
    }

    /// One saved prompt by id.
    pub fn prompt(&self, id: &str) -> Result<Prompt> {
        self.conn
            .query_row(
                "SELECT id, name, text, created_at, updated_at FROM prompts WHERE id = ?1",
                [id],
                prompt_row,
            )
            .optional()?
            .ok_or_else(|| VaultError::PromptNotFound(id.to_owned()))
    }

    /// The saved prompt with this name (ignoring case), if there is one.
    pub fn prompt_named(&self, name: &str) -> Result<Option<Prompt>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, name, text, created_at, updated_at FROM prompts
                 WHERE name = ?1 COLLATE NOCASE",
                [name.trim()],
                prompt_row,
            )
            .optional()?)
    }

    /// Every saved prompt, by name.
    pub fn prompts(&self) -> Result<Vec<Prompt>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, text, created_at, updated_at FROM prompts
             ORDER BY name COLLATE NOCASE, seq",
        )?;
        let rows = stmt.query_map([], prompt_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Deletes a saved prompt.
    pub fn delete_prompt(&self, id: &str) -> Result<()> {
        if self
            .conn
            .execute("DELETE FROM prompts WHERE id = ?1", [id])?
            == 0
        {
            return Err(VaultError::PromptNotFound(id.to_owned()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open::tests::temp_vault;
    use crate::{ConversationScope, NewConversation, NewMessage, Role};

    fn conversation(vault: &mut Vault, title: &str, project: Option<&str>) -> String {
        let c = vault
            .create_conversation(NewConversation {
                title: title.into(),
                project_id: project.map(str::to_owned),
                ..Default::default()
            })
            .unwrap();
        vault
            .append_message(NewMessage::complete(&c.id, None, Role::User, title))
            .unwrap();
        c.id
    }

    fn titles(vault: &Vault, scope: ConversationScope<'_>) -> Vec<String> {
        vault
            .list_scope(scope, 100, 0)
            .unwrap()
            .into_iter()
            .map(|s| s.title)
            .collect()
    }

    fn blob_rows(vault: &Vault) -> (i64, i64) {
        vault
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM attachment_blobs), (SELECT count(*) FROM attachment_chunks)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    #[test]
    fn names_are_unique_ignoring_case_and_must_be_plain() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let work = vault.create_project("Work", "Be brief.").unwrap();
        assert!(matches!(
            vault.create_project(" work ", ""),
            Err(VaultError::NameTaken {
                kind: "project",
                ..
            })
        ));
        assert!(vault.create_project("  ", "").is_err());
        assert!(vault.create_project("a\nb", "").is_err());
        assert!(vault.create_project(&"x".repeat(201), "").is_err());
        let home = vault.create_project("Home", "").unwrap();
        assert!(matches!(
            vault.edit_project(
                &home.id,
                &ProjectEdit {
                    name: Some("WORK".into()),
                    ..Default::default()
                }
            ),
            Err(VaultError::NameTaken { .. })
        ));
        let edited = vault
            .edit_project(
                &work.id,
                &ProjectEdit {
                    name: Some("Office".into()),
                    instructions: Some("Answer in French.".into()),
                    model: Some((Some("openai".into()), Some("gpt-x".into()))),
                    params_json: Some(Some(r#"{"temperature":0.2}"#.into())),
                },
            )
            .unwrap();
        assert_eq!(edited.name, "Office");
        assert_eq!(edited.instructions, "Answer in French.");
        assert_eq!(edited.model.as_deref(), Some("gpt-x"));
        assert_eq!(
            vault.project_named("office").unwrap().map(|p| p.id),
            Some(work.id)
        );
        let names: Vec<_> = vault
            .projects()
            .unwrap()
            .into_iter()
            .map(|p| p.project.name)
            .collect();
        assert_eq!(names, ["Home", "Office"]);
    }

    #[test]
    fn conversations_move_in_and_out_and_lists_are_scoped() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let work = vault.create_project("Work", "").unwrap();
        let a = conversation(&mut vault, "a", Some(&work.id));
        let b = conversation(&mut vault, "b", None);
        let c = conversation(&mut vault, "c", None);
        vault.move_conversation(&b, Some(&work.id)).unwrap();
        assert_eq!(
            titles(&vault, ConversationScope::Project(&work.id)),
            ["b", "a"]
        );
        assert_eq!(titles(&vault, ConversationScope::Unfiled), ["c"]);
        assert_eq!(titles(&vault, ConversationScope::Active), ["c", "b", "a"]);
        vault.set_archived(&a, true).unwrap();
        assert_eq!(titles(&vault, ConversationScope::Project(&work.id)), ["b"]);
        assert_eq!(titles(&vault, ConversationScope::Archived), ["a"]);
        assert_eq!(vault.projects().unwrap()[0].conversations, 1);
        vault.move_conversation(&b, None).unwrap();
        assert_eq!(vault.conversation(&b).unwrap().project_id, None);
        assert!(matches!(
            vault.move_conversation(&c, Some("nope")),
            Err(VaultError::ProjectNotFound(_))
        ));
        assert!(matches!(
            vault.move_conversation("nope", None),
            Err(VaultError::ConversationNotFound(_))
        ));
        assert!(vault
            .list_scope(ConversationScope::Project("nope"), 10, 0)
            .is_err());
    }

    #[test]
    fn deleting_a_project_moves_out_or_deletes_its_conversations_and_frees_its_files() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let keep = vault.create_project("Keep", "").unwrap();
        let drop = vault.create_project("Drop", "").unwrap();
        let kept = conversation(&mut vault, "kept", Some(&keep.id));
        let gone = conversation(&mut vault, "gone", Some(&drop.id));
        let other = conversation(&mut vault, "other", None);
        let file = NewAttachment {
            name: "notes.txt",
            media_type: "text/plain",
            bytes: b"shared notes",
        };
        let only = NewAttachment {
            name: "only.txt",
            media_type: "text/plain",
            bytes: b"only the project has these",
        };
        vault.add_project_files(&keep.id, &[file]).unwrap();
        let files = vault.add_project_files(&drop.id, &[file, only]).unwrap();
        assert_eq!(files[1].position, 1);
        assert_eq!(blob_rows(&vault), (2, 2));

        assert_eq!(
            vault
                .delete_project(&keep.id, ProjectDeletion::MoveOut)
                .unwrap(),
            0
        );
        assert_eq!(vault.conversation(&kept).unwrap().project_id, None);
        // The shared file is still named by Drop.
        assert_eq!(blob_rows(&vault), (2, 2));
        assert_eq!(
            vault
                .delete_project(&drop.id, ProjectDeletion::DeleteConversations)
                .unwrap(),
            1
        );
        assert!(vault.conversation(&gone).is_err());
        assert!(vault.conversation(&other).is_ok());
        assert_eq!(blob_rows(&vault), (0, 0), "no file outlives every project");
        assert!(vault.projects().unwrap().is_empty());
        assert!(vault
            .delete_project(&drop.id, ProjectDeletion::MoveOut)
            .is_err());
    }

    #[test]
    fn a_file_named_by_a_message_and_a_project_stays_until_both_go() {
        let (_d, _p, _s, mut vault) = temp_vault();
        let project = vault.create_project("P", "").unwrap();
        let c = conversation(&mut vault, "c", None);
        let bytes = b"the same bytes";
        let file = NewAttachment {
            name: "f.txt",
            media_type: "text/plain",
            bytes,
        };
        let stored = vault.add_project_files(&project.id, &[file]).unwrap();
        let message = vault.messages(&c).unwrap()[0].id.clone();
        vault.add_attachments(&message, &[file]).unwrap();
        assert_eq!(blob_rows(&vault).0, 1, "stored once");
        vault.delete_conversation(&c).unwrap();
        let mut read = Vec::new();
        vault
            .read_project_file(&stored[0].id, &mut |b| {
                read.extend_from_slice(b);
                Ok(())
            })
            .unwrap();
        assert_eq!(read, bytes);
        vault.remove_project_file(&stored[0].id).unwrap();
        assert_eq!(blob_rows(&vault), (0, 0));
    }

    #[test]
    fn prompts_are_saved_listed_renamed_and_deleted() {
        let (_d, _p, _s, vault) = temp_vault();
        let review = vault.create_prompt("Review", "Review this code:").unwrap();
        vault
            .create_prompt("ask", "Explain like I'm five.")
            .unwrap();
        assert!(matches!(
            vault.create_prompt("REVIEW", "x"),
            Err(VaultError::NameTaken { kind: "prompt", .. })
        ));
        assert!(vault.create_prompt("empty", "  ").is_err());
        let names: Vec<_> = vault
            .prompts()
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["ask", "Review"]);
        let updated = vault
            .update_prompt(&review.id, "Code review", "Review this diff:")
            .unwrap();
        assert_eq!(updated.text, "Review this diff:");
        assert_eq!(
            vault.prompt_named("code REVIEW").unwrap().map(|p| p.id),
            Some(review.id.clone())
        );
        vault.delete_prompt(&review.id).unwrap();
        assert!(matches!(
            vault.delete_prompt(&review.id),
            Err(VaultError::PromptNotFound(_))
        ));
        assert_eq!(vault.prompts().unwrap().len(), 1);
    }
}
