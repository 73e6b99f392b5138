//! The saved-prompt library: Settings → Prompts edits it, the composer's `/` picker
//! reads it.

use tauri::State;

use crate::dto::PromptDto;
use crate::error::CommandError;
use crate::state::Hearth;

/// Every saved prompt by name.
#[tauri::command]
pub async fn list_prompts(hearth: State<'_, Hearth>) -> Result<Vec<PromptDto>, CommandError> {
    let prompts = hearth.engine()?.prompts()?;
    Ok(prompts.into_iter().map(Into::into).collect())
}

/// Saves a new prompt.
#[tauri::command]
pub async fn create_prompt(
    hearth: State<'_, Hearth>,
    name: String,
    text: String,
) -> Result<PromptDto, CommandError> {
    Ok(hearth.engine()?.create_prompt(&name, &text)?.into())
}

/// Changes a saved prompt's name and text.
#[tauri::command]
pub async fn update_prompt(
    hearth: State<'_, Hearth>,
    id: String,
    name: String,
    text: String,
) -> Result<PromptDto, CommandError> {
    Ok(hearth.engine()?.update_prompt(&id, &name, &text)?.into())
}

/// Deletes a saved prompt.
#[tauri::command]
pub async fn delete_prompt(hearth: State<'_, Hearth>, id: String) -> Result<(), CommandError> {
    Ok(hearth.engine()?.delete_prompt(&id)?)
}
