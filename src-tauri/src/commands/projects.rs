//! Projects: the sidebar's list and each project's conversations, the project dialog
//! (name, instructions, default model and settings, files), moving a conversation in or
//! out, and a conversation's own model settings. Files are picked in the native dialog
//! shown from Rust and stored in the vault at once; the webview never names a path.

use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use hearth_engine::{ConversationScope, PickedFile, ProjectChange};

use crate::dialogs;
use crate::dto::{
    ConversationSummaryDto, ModelSettingsDto, ProjectDto, ProjectFileDto, ProjectFilesAddedDto,
    ProjectSummaryDto,
};
use crate::error::CommandError;
use crate::state::Hearth;

/// A project's default provider and model; both `null` clears them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields = nullable)]
pub struct ProjectModelInput {
    /// The provider.
    pub provider_id: Option<String>,
    /// The model (blank: the provider's default).
    pub model: Option<String>,
}

/// A change to a project; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct ProjectChangeInput {
    /// A new name.
    pub name: Option<String>,
    /// New instructions (empty clears them).
    pub instructions: Option<String>,
    /// New default provider and model.
    pub model: Option<ProjectModelInput>,
    /// New default model settings (all unset clears them).
    pub settings: Option<ModelSettingsDto>,
}

impl From<ProjectChangeInput> for ProjectChange {
    fn from(c: ProjectChangeInput) -> Self {
        let blank = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        ProjectChange {
            name: c.name,
            instructions: c.instructions,
            model: c.model.map(|m| (blank(m.provider_id), blank(m.model))),
            settings: c.settings.map(Into::into),
        }
    }
}

/// Every project by name, with its counts.
#[tauri::command]
pub async fn list_projects(
    hearth: State<'_, Hearth>,
) -> Result<Vec<ProjectSummaryDto>, CommandError> {
    let projects = hearth.engine()?.projects()?;
    Ok(projects.into_iter().map(Into::into).collect())
}

/// Creates a project.
#[tauri::command]
pub async fn create_project(
    hearth: State<'_, Hearth>,
    name: String,
    instructions: Option<String>,
) -> Result<ProjectDto, CommandError> {
    let project = hearth
        .engine()?
        .create_project(&name, instructions.as_deref().unwrap_or(""))?;
    Ok(project.into())
}

/// One project.
#[tauri::command]
pub async fn get_project(
    hearth: State<'_, Hearth>,
    id: String,
) -> Result<ProjectDto, CommandError> {
    Ok(hearth.engine()?.project(&id)?.into())
}

/// Changes a project and returns it as saved.
#[tauri::command]
pub async fn change_project(
    hearth: State<'_, Hearth>,
    id: String,
    change: ProjectChangeInput,
) -> Result<ProjectDto, CommandError> {
    Ok(hearth.engine()?.change_project(&id, change.into())?.into())
}

/// Deletes a project; its conversations are deleted with it (`deleteConversations`) or
/// moved out of it. Returns how many conversations were deleted.
#[tauri::command]
pub async fn delete_project(
    hearth: State<'_, Hearth>,
    id: String,
    delete_conversations: bool,
) -> Result<usize, CommandError> {
    Ok(hearth.engine()?.delete_project(&id, delete_conversations)?)
}

/// Moves a conversation into a project, or out of any (`projectId` absent).
#[tauri::command]
pub async fn move_conversation(
    hearth: State<'_, Hearth>,
    id: String,
    project_id: Option<String>,
) -> Result<(), CommandError> {
    Ok(hearth
        .engine()?
        .move_conversation(&id, project_id.as_deref())?)
}

/// A page of the conversations in no project (not archived): the sidebar's main list.
#[tauri::command]
pub async fn list_unfiled_conversations(
    hearth: State<'_, Hearth>,
    limit: u32,
    offset: u32,
) -> Result<Vec<ConversationSummaryDto>, CommandError> {
    let page = hearth
        .engine()?
        .list_scope(ConversationScope::Unfiled, limit, offset)?;
    Ok(page.into_iter().map(Into::into).collect())
}

/// A page of one project's conversations (not archived), pinned first, then newest.
#[tauri::command]
pub async fn list_project_conversations(
    hearth: State<'_, Hearth>,
    project_id: String,
    limit: u32,
    offset: u32,
) -> Result<Vec<ConversationSummaryDto>, CommandError> {
    // An unknown project is an error, not an empty list (`list_scope` checks).
    let page =
        hearth
            .engine()?
            .list_scope(ConversationScope::Project(&project_id), limit, offset)?;
    Ok(page.into_iter().map(Into::into).collect())
}

/// Shows the open dialog (several files at once) and adds each file Hearth can send to
/// the project. Cancelling adds nothing.
#[tauri::command]
pub async fn pick_project_files<R: Runtime>(
    app: AppHandle<R>,
    hearth: State<'_, Hearth>,
    project_id: String,
) -> Result<ProjectFilesAddedDto, CommandError> {
    let engine = hearth.engine()?;
    engine.project(&project_id)?;
    let paths = dialogs::ask_files(&app).await?;
    tauri::async_runtime::spawn_blocking(move || {
        let mut refused = Vec::new();
        let mut picked = Vec::new();
        for path in &paths {
            match PickedFile::read(path) {
                Ok(file) => picked.push(file),
                Err(e) => refused.push(CommandError::from(e).message),
            }
        }
        if !picked.is_empty() {
            engine.add_project_files(&project_id, &picked)?;
        }
        let files = engine.project_files(&project_id)?;
        Ok(ProjectFilesAddedDto {
            files: files.into_iter().map(Into::into).collect(),
            refused,
        })
    })
    .await
    .map_err(|e| CommandError::internal(format!("reading the files stopped: {e}")))?
}

/// A project's files, in order.
#[tauri::command]
pub async fn list_project_files(
    hearth: State<'_, Hearth>,
    project_id: String,
) -> Result<Vec<ProjectFileDto>, CommandError> {
    let files = hearth.engine()?.project_files(&project_id)?;
    Ok(files.into_iter().map(Into::into).collect())
}

/// Removes a file from its project.
#[tauri::command]
pub async fn remove_project_file(
    hearth: State<'_, Hearth>,
    id: String,
) -> Result<(), CommandError> {
    Ok(hearth.engine()?.remove_project_file(&id)?)
}

/// A conversation's own model settings (not its project's).
#[tauri::command]
pub async fn get_conversation_settings(
    hearth: State<'_, Hearth>,
    id: String,
) -> Result<ModelSettingsDto, CommandError> {
    Ok(hearth.engine()?.conversation_settings(&id)?.into())
}

/// Sets a conversation's own model settings (all unset clears them).
#[tauri::command]
pub async fn set_conversation_settings(
    hearth: State<'_, Hearth>,
    id: String,
    settings: ModelSettingsDto,
) -> Result<(), CommandError> {
    Ok(hearth
        .engine()?
        .set_conversation_settings(&id, settings.into())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_blank_model_fields_as_cleared_and_leaves_absent_ones_alone() {
        let change: ProjectChangeInput =
            serde_json::from_str(r#"{"model": {"providerId": "openai", "model": "  "}}"#)
                .expect("parses");
        let change = ProjectChange::from(change);
        assert_eq!(change.model, Some((Some("openai".to_owned()), None)));
        assert!(change.name.is_none() && change.instructions.is_none());
        assert!(change.settings.is_none());

        let cleared: ProjectChangeInput = serde_json::from_str(
            r#"{"model": {"providerId": null, "model": null}, "settings": {}}"#,
        )
        .expect("parses");
        let cleared = ProjectChange::from(cleared);
        assert_eq!(cleared.model, Some((None, None)));
        assert_eq!(cleared.settings, Some(Default::default()));

        assert!(
            serde_json::from_str::<ProjectChangeInput>(r#"{"path": "/etc"}"#).is_err(),
            "unknown fields are refused"
        );
    }
}
