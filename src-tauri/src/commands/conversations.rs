//! The sidebar and an open conversation: list, open, search, rename, pin, delete.

use tauri::State;

use crate::dto::{ConversationSummaryDto, ConversationViewDto, SearchHitDto};
use crate::error::CommandError;
use crate::state::Hearth;

/// A page of conversations, pinned first, then newest.
#[tauri::command]
pub async fn list_conversations(
    hearth: State<'_, Hearth>,
    limit: u32,
    offset: u32,
    include_archived: Option<bool>,
) -> Result<Vec<ConversationSummaryDto>, CommandError> {
    let page =
        hearth
            .engine()?
            .list_conversations(include_archived.unwrap_or(false), limit, offset)?;
    Ok(page.into_iter().map(Into::into).collect())
}

/// A conversation and its visible branch, oldest first.
#[tauri::command]
pub async fn open_conversation(
    hearth: State<'_, Hearth>,
    id: String,
) -> Result<ConversationViewDto, CommandError> {
    let engine = hearth.engine()?;
    let conversation = engine.conversation(&id)?.into();
    let messages = engine.visible_messages(&id)?;
    Ok(ConversationViewDto {
        conversation,
        messages: messages.into_iter().map(Into::into).collect(),
    })
}

/// Searches messages and titles, best match first.
#[tauri::command]
pub async fn search_conversations(
    hearth: State<'_, Hearth>,
    query: String,
    limit: Option<u32>,
) -> Result<Vec<SearchHitDto>, CommandError> {
    let hits = hearth.engine()?.search(&query, limit.unwrap_or(50))?;
    Ok(hits.into_iter().map(Into::into).collect())
}

/// Renames a conversation.
#[tauri::command]
pub async fn rename_conversation(
    hearth: State<'_, Hearth>,
    id: String,
    title: String,
) -> Result<(), CommandError> {
    Ok(hearth.engine()?.rename_conversation(&id, &title)?)
}

/// Pins or unpins a conversation.
#[tauri::command]
pub async fn pin_conversation(
    hearth: State<'_, Hearth>,
    id: String,
    pinned: bool,
) -> Result<(), CommandError> {
    Ok(hearth.engine()?.set_pinned(&id, pinned)?)
}

/// Deletes a conversation for good.
#[tauri::command]
pub async fn delete_conversation(
    hearth: State<'_, Hearth>,
    id: String,
) -> Result<(), CommandError> {
    Ok(hearth.engine()?.delete_conversation(&id)?)
}
