//! The sidebar and an open conversation: list, open, search, rename, pin, archive, delete.

use std::collections::HashMap;

use serde::Deserialize;
use tauri::State;
use ts_rs::TS;

use hearth_engine::{Engine, Role, SearchFilter};

use crate::dto::{
    AttachmentDto, ConversationSummaryDto, ConversationViewDto, MessageDto, RoleDto, SearchHitDto,
    ToolCallDto,
};
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

/// A page of archived conversations only (the sidebar's Archived view), pinned first,
/// then newest.
#[tauri::command]
pub async fn list_archived_conversations(
    hearth: State<'_, Hearth>,
    limit: u32,
    offset: u32,
) -> Result<Vec<ConversationSummaryDto>, CommandError> {
    let page = hearth
        .engine()?
        .list_archived_conversations(limit, offset)?;
    Ok(page.into_iter().map(Into::into).collect())
}

/// A conversation and its visible branch, oldest first.
#[tauri::command]
pub async fn open_conversation(
    hearth: State<'_, Hearth>,
    id: String,
) -> Result<ConversationViewDto, CommandError> {
    view(&*hearth.engine()?, &id)
}

fn view(engine: &Engine, id: &str) -> Result<ConversationViewDto, CommandError> {
    let conversation = engine.conversation(id)?.into();
    let messages = engine.visible_messages_with_siblings(id)?;
    let mut attachments: HashMap<String, Vec<AttachmentDto>> = HashMap::new();
    for a in engine.attachments_in(id)? {
        attachments
            .entry(a.message_id.clone())
            .or_default()
            .push(a.into());
    }
    let mut calls: HashMap<String, Vec<hearth_engine::StoredToolCall>> = HashMap::new();
    for call in engine.tool_calls_in(id)? {
        calls.entry(call.message_id.clone()).or_default().push(call);
    }
    Ok(ConversationViewDto {
        conversation,
        messages: messages
            .into_iter()
            .map(|(m, siblings)| {
                let mut dto = MessageDto::with_siblings(m, siblings);
                dto.attachments = attachments.remove(&dto.id).unwrap_or_default();
                dto.tool_calls = calls
                    .remove(&dto.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| ToolCallDto::stored(c, &dto.content))
                    .collect();
                dto
            })
            .collect(),
        tool_servers: engine.conversation_tool_servers(id)?,
        settings: engine.conversation_settings(id)?.into(),
    })
}

/// Shows the branch through `message_id` and returns the conversation as it now reads.
#[tauri::command]
pub async fn select_branch(
    hearth: State<'_, Hearth>,
    message_id: String,
) -> Result<ConversationViewDto, CommandError> {
    let engine = hearth.engine()?;
    let conversation_id = engine.select_branch(&message_id)?;
    view(&engine, &conversation_id)
}

/// Sets or clears a conversation's system prompt.
#[tauri::command]
pub async fn set_system_prompt(
    hearth: State<'_, Hearth>,
    id: String,
    prompt: Option<String>,
) -> Result<(), CommandError> {
    Ok(hearth.engine()?.set_system_prompt(&id, prompt.as_deref())?)
}

/// Sets the provider and model a conversation's next replies use.
#[tauri::command]
pub async fn set_conversation_model(
    hearth: State<'_, Hearth>,
    id: String,
    provider_id: String,
    model: String,
) -> Result<(), CommandError> {
    Ok(hearth
        .engine()?
        .set_conversation_model(&id, &provider_id, &model)?)
}

/// Searches messages and titles, best match first, among what `filter` lets through
/// (absent: everything, archived conversations too).
#[tauri::command]
pub async fn search_conversations(
    hearth: State<'_, Hearth>,
    query: String,
    limit: Option<u32>,
    filter: Option<SearchFilterDto>,
) -> Result<Vec<SearchHitDto>, CommandError> {
    let filter = filter.unwrap_or_default().into_filter()?;
    let hits = hearth
        .engine()?
        .search_filtered(&query, &filter, limit.unwrap_or(50))?;
    Ok(hits.into_iter().map(Into::into).collect())
}

/// What narrows a search; every field left out leaves that side open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct SearchFilterDto {
    /// Only conversations in this project.
    pub project_id: Option<String>,
    /// Only archived conversations (`true`), or only the others (`false`).
    pub archived: Option<bool>,
    /// Only messages by `user` (mine) or `assistant` (replies); title matches are left out.
    pub role: Option<RoleDto>,
    /// Only messages written at or after this time, Unix milliseconds.
    pub since: Option<i64>,
    /// Only messages written before this time, Unix milliseconds.
    pub until: Option<i64>,
}

impl SearchFilterDto {
    /// The engine's filter; a range that ends before it starts is refused.
    pub fn into_filter(self) -> Result<SearchFilter, CommandError> {
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if until <= since {
                return Err(CommandError::invalid(
                    "the search's date range ends before it starts; pick a later end date",
                ));
            }
        }
        Ok(SearchFilter {
            project_id: self.project_id.filter(|p| !p.is_empty()),
            archived: self.archived,
            role: self.role.map(Role::from),
            since: self.since,
            until: self.until,
        })
    }
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

/// Archives a conversation (`archived: true`) or restores it (`false`).
#[tauri::command]
pub async fn archive_conversation(
    hearth: State<'_, Hearth>,
    id: String,
    archived: bool,
) -> Result<(), CommandError> {
    Ok(hearth.engine()?.set_archived(&id, archived)?)
}

/// Deletes a conversation for good.
#[tauri::command]
pub async fn delete_conversation(
    hearth: State<'_, Hearth>,
    id: String,
) -> Result<(), CommandError> {
    Ok(hearth.engine()?.delete_conversation(&id)?)
}
