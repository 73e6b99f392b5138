//! Projects, saved prompts and model settings, as the front ends use them.
//!
//! A project's instructions go before its conversations' own system prompt, its files
//! go with the first question of every request, and its provider, model and settings are
//! what its conversations use unless they choose their own.

use serde::{Deserialize, Serialize};

use hearth_providers::{Reasoning, TurnFile};
use hearth_vault::{
    ConversationScope, ConversationSummary, Project, ProjectDeletion, ProjectEdit, ProjectFile,
    ProjectSummary, Prompt, SearchFilter, SearchHit, Vault,
};

use crate::attachment::{PickedFile, MAX_ATTACHMENTS_PER_MESSAGE};
use crate::error::{EngineError, Result};
use crate::{Engine, MAX_PAGE};

/// The most files a project holds: as many as one message takes, since every request of
/// its conversations carries them all.
pub const MAX_PROJECT_FILES: usize = MAX_ATTACHMENTS_PER_MESSAGE;

/// The longest project instructions or saved prompt, in bytes.
pub const MAX_INSTRUCTIONS_BYTES: usize = 256 << 10;

/// The highest temperature any provider takes.
pub const MAX_TEMPERATURE: f32 = 2.0;

/// The largest reply length limit Hearth sends.
pub const MAX_OUTPUT_TOKENS: u32 = 1_000_000;

/// Temperature, reply length and reasoning effort, each sent only when set. Stored as a
/// conversation's or a project's `params_json`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelSettings {
    /// Sampling temperature, 0 to [`MAX_TEMPERATURE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// The most tokens the reply may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// How hard a reasoning model thinks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
}

impl ModelSettings {
    /// Refuses values no provider takes.
    pub fn check(&self) -> Result<()> {
        if let Some(t) = self.temperature {
            if !(0.0..=MAX_TEMPERATURE).contains(&t) {
                return Err(EngineError::Invalid(format!(
                    "the temperature must be between 0 and {MAX_TEMPERATURE}, not {t}"
                )));
            }
        }
        if let Some(n) = self.max_tokens {
            if n == 0 || n > MAX_OUTPUT_TOKENS {
                return Err(EngineError::Invalid(format!(
                    "the reply length limit must be between 1 and {MAX_OUTPUT_TOKENS} tokens, not {n}"
                )));
            }
        }
        Ok(())
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == ModelSettings::default()
    }

    /// Reads stored settings; what cannot be read counts as unset (an older or damaged
    /// value must not stop a conversation from working).
    pub fn from_json(json: Option<&str>) -> ModelSettings {
        json.and_then(|j| match serde_json::from_str::<ModelSettings>(j) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("ignoring unreadable model settings: {e}");
                None
            }
        })
        .filter(|s| s.check().is_ok())
        .unwrap_or_default()
    }

    /// As stored: `None` when nothing is set.
    pub fn to_json(&self) -> Option<String> {
        (!self.is_empty()).then(|| serde_json::to_string(self).unwrap_or_default())
    }

    /// Each setting of `self`, else of `defaults`.
    pub fn over(self, defaults: ModelSettings) -> ModelSettings {
        ModelSettings {
            temperature: self.temperature.or(defaults.temperature),
            max_tokens: self.max_tokens.or(defaults.max_tokens),
            reasoning: self.reasoning.or(defaults.reasoning),
        }
    }
}

/// What the request of a conversation takes from its project: the system prompt (the
/// project's instructions, then the conversation's own), its files, and the settings.
pub(crate) struct ProjectContext {
    pub system: Option<String>,
    pub files: Vec<TurnFile>,
    pub settings: ModelSettings,
}

/// The project's instructions, then the conversation's own system prompt.
pub fn system_prompt(project: Option<&str>, conversation: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [project, conversation]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Reads what a conversation's request takes from its project, if it has one.
pub(crate) fn context_of(
    vault: &Vault,
    conversation: &hearth_vault::Conversation,
) -> Result<ProjectContext> {
    let own = ModelSettings::from_json(conversation.params_json.as_deref());
    let Some(project_id) = conversation.project_id.as_deref() else {
        return Ok(ProjectContext {
            system: system_prompt(None, conversation.system_prompt.as_deref()),
            files: Vec::new(),
            settings: own,
        });
    };
    let project = vault.project(project_id)?;
    let mut files = Vec::new();
    for f in vault.project_files(project_id)? {
        let kind = crate::attachment::kind_of(&f.media_type).ok_or_else(|| {
            EngineError::Invalid(format!(
                "project {:?} keeps {} as {}, which Hearth cannot send; remove it from the project",
                project.name, f.name, f.media_type
            ))
        })?;
        let mut bytes = Vec::with_capacity(usize::try_from(f.size).unwrap_or(0));
        vault.read_project_file(&f.id, &mut |chunk| {
            bytes.extend_from_slice(chunk);
            Ok(())
        })?;
        files.push(TurnFile {
            name: f.name,
            media_type: f.media_type,
            kind: crate::attachment::file_kind(kind),
            bytes: bytes.into(),
        });
    }
    Ok(ProjectContext {
        system: system_prompt(
            Some(&project.instructions),
            conversation.system_prompt.as_deref(),
        ),
        files,
        settings: own.over(ModelSettings::from_json(project.params_json.as_deref())),
    })
}

fn check_instructions(what: &str, text: &str) -> Result<()> {
    if text.len() > MAX_INSTRUCTIONS_BYTES {
        return Err(EngineError::Invalid(format!(
            "{what} may hold at most {} KiB; this has {} KiB",
            MAX_INSTRUCTIONS_BYTES >> 10,
            text.len().div_ceil(1024)
        )));
    }
    Ok(())
}

/// A change to a project, as a front end asks for it.
#[derive(Debug, Clone, Default)]
pub struct ProjectChange {
    /// A new name.
    pub name: Option<String>,
    /// New instructions (empty clears them).
    pub instructions: Option<String>,
    /// The default provider and model (`Some((None, None))` clears them).
    pub model: Option<(Option<String>, Option<String>)>,
    /// The default model settings (`Some(default)` clears them).
    pub settings: Option<ModelSettings>,
}

impl Engine {
    /// Creates a project.
    pub fn create_project(&self, name: &str, instructions: &str) -> Result<Project> {
        check_instructions("a project's instructions", instructions)?;
        Ok(self.vault()?.create_project(name, instructions.trim())?)
    }

    /// Every project by name, with its counts.
    pub fn projects(&self) -> Result<Vec<ProjectSummary>> {
        Ok(self.vault()?.projects()?)
    }

    /// One project by id.
    pub fn project(&self, id: &str) -> Result<Project> {
        Ok(self.vault()?.project(id)?)
    }

    /// The project a user named: by its name (ignoring case), else by its id.
    pub fn find_project(&self, name_or_id: &str) -> Result<Project> {
        let vault = self.vault()?;
        if let Some(p) = vault.project_named(name_or_id)? {
            return Ok(p);
        }
        vault.project(name_or_id.trim()).map_err(|_| {
            EngineError::Invalid(format!(
                "there is no project named {name_or_id:?}; `hearth project list` shows them"
            ))
        })
    }

    /// Changes a project.
    pub fn change_project(&self, id: &str, change: ProjectChange) -> Result<Project> {
        if let Some(i) = &change.instructions {
            check_instructions("a project's instructions", i)?;
        }
        if let Some(s) = &change.settings {
            s.check()?;
        }
        if let Some((Some(provider), _)) = &change.model {
            self.provider(provider)?;
        }
        let edit = ProjectEdit {
            name: change.name,
            instructions: change.instructions.map(|i| i.trim().to_owned()),
            model: change.model.map(|(p, m)| {
                let m = m.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
                (p, m)
            }),
            params_json: change.settings.map(|s| s.to_json()),
        };
        Ok(self.vault()?.edit_project(id, &edit)?)
    }

    /// Deletes a project; its conversations are moved out, or deleted with it. Returns
    /// how many conversations were deleted.
    pub fn delete_project(&self, id: &str, delete_conversations: bool) -> Result<usize> {
        let what = if delete_conversations {
            ProjectDeletion::DeleteConversations
        } else {
            ProjectDeletion::MoveOut
        };
        Ok(self.vault()?.delete_project(id, what)?)
    }

    /// Moves a conversation into a project, or out of any with `None`.
    pub fn move_conversation(&self, conversation_id: &str, project_id: Option<&str>) -> Result<()> {
        Ok(self
            .vault()?
            .move_conversation(conversation_id, project_id)?)
    }

    /// A page of the conversations in `scope`, pinned first then newest.
    pub fn list_scope(
        &self,
        scope: ConversationScope<'_>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ConversationSummary>> {
        Ok(self
            .vault()?
            .list_scope(scope, limit.min(MAX_PAGE), offset)?)
    }

    /// Adds checked files to a project (at most [`MAX_PROJECT_FILES`] in all).
    pub fn add_project_files(
        &self,
        project_id: &str,
        files: &[PickedFile],
    ) -> Result<Vec<ProjectFile>> {
        let mut vault = self.vault()?;
        let had = vault.project_files(project_id)?.len();
        if had + files.len() > MAX_PROJECT_FILES {
            return Err(EngineError::Invalid(format!(
                "a project holds at most {MAX_PROJECT_FILES} files (they go with every request), and this one would have {}; nothing was added",
                had + files.len()
            )));
        }
        let new: Vec<_> = files.iter().map(PickedFile::as_new).collect();
        Ok(vault.add_project_files(project_id, &new)?)
    }

    /// A project's files.
    pub fn project_files(&self, project_id: &str) -> Result<Vec<ProjectFile>> {
        let vault = self.vault()?;
        vault.project(project_id)?;
        Ok(vault.project_files(project_id)?)
    }

    /// Removes a file from its project.
    pub fn remove_project_file(&self, file_id: &str) -> Result<()> {
        Ok(self.vault()?.remove_project_file(file_id)?)
    }

    /// A conversation's own model settings (not its project's).
    pub fn conversation_settings(&self, conversation_id: &str) -> Result<ModelSettings> {
        let c = self.vault()?.conversation(conversation_id)?;
        Ok(ModelSettings::from_json(c.params_json.as_deref()))
    }

    /// Sets a conversation's own model settings (all unset clears them).
    pub fn set_conversation_settings(
        &self,
        conversation_id: &str,
        settings: ModelSettings,
    ) -> Result<()> {
        settings.check()?;
        Ok(self
            .vault()?
            .set_conversation_params(conversation_id, settings.to_json().as_deref())?)
    }

    /// Searches among what `filter` lets through.
    pub fn search_filtered(
        &self,
        query: &str,
        filter: &SearchFilter,
        limit: u32,
    ) -> Result<Vec<SearchHit>> {
        Ok(self.vault()?.search_filtered(query, filter, limit)?)
    }

    /// Saves a prompt.
    pub fn create_prompt(&self, name: &str, text: &str) -> Result<Prompt> {
        check_instructions("a saved prompt", text)?;
        Ok(self.vault()?.create_prompt(name, text)?)
    }

    /// Changes a saved prompt.
    pub fn update_prompt(&self, id: &str, name: &str, text: &str) -> Result<Prompt> {
        check_instructions("a saved prompt", text)?;
        Ok(self.vault()?.update_prompt(id, name, text)?)
    }

    /// Every saved prompt by name.
    pub fn prompts(&self) -> Result<Vec<Prompt>> {
        Ok(self.vault()?.prompts()?)
    }

    /// The saved prompt a user named: by its name (ignoring case), else by its id.
    pub fn find_prompt(&self, name_or_id: &str) -> Result<Prompt> {
        let vault = self.vault()?;
        if let Some(p) = vault.prompt_named(name_or_id)? {
            return Ok(p);
        }
        vault.prompt(name_or_id.trim()).map_err(|_| {
            EngineError::Invalid(format!(
                "there is no saved prompt named {name_or_id:?}; `hearth prompt list` shows them"
            ))
        })
    }

    /// Deletes a saved prompt.
    pub fn delete_prompt(&self, id: &str) -> Result<()> {
        Ok(self.vault()?.delete_prompt(id)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_stored_only_when_set_and_layered_over_defaults() {
        assert!(ModelSettings::default().to_json().is_none());
        let own = ModelSettings {
            temperature: Some(0.3),
            ..Default::default()
        };
        let project = ModelSettings {
            temperature: Some(1.0),
            max_tokens: Some(500),
            reasoning: Some(Reasoning::High),
        };
        let json = own.to_json().unwrap();
        assert_eq!(json, r#"{"temperature":0.3}"#);
        assert_eq!(ModelSettings::from_json(Some(&json)), own);
        let merged = own.over(project);
        assert_eq!(merged.temperature, Some(0.3));
        assert_eq!(merged.max_tokens, Some(500));
        assert_eq!(merged.reasoning, Some(Reasoning::High));
        for bad in [
            ModelSettings {
                temperature: Some(2.5),
                ..Default::default()
            },
            ModelSettings {
                temperature: Some(f32::NAN),
                ..Default::default()
            },
            ModelSettings {
                max_tokens: Some(0),
                ..Default::default()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
        // Unreadable or out-of-range stored values count as unset.
        assert!(ModelSettings::from_json(Some("{not json")).is_empty());
        assert!(ModelSettings::from_json(Some(r#"{"temperature":9}"#)).is_empty());
        assert!(ModelSettings::from_json(Some(r#"{"reasoning":"extreme"}"#)).is_empty());
    }

    #[test]
    fn the_projects_instructions_come_before_the_conversations_own() {
        assert_eq!(system_prompt(None, None), None);
        assert_eq!(system_prompt(Some("  "), Some("")), None);
        assert_eq!(
            system_prompt(Some("Project rules."), Some("Be brief.")).as_deref(),
            Some("Project rules.\n\nBe brief.")
        );
        assert_eq!(
            system_prompt(Some("Only this."), None).as_deref(),
            Some("Only this.")
        );
    }
}
