//! Sending, regenerating and editing, each streaming its reply over a `Channel`, and
//! stopping a reply. The UI picks the request id, so it can stop a request before the
//! provider has answered.

use tauri::ipc::Channel;
use tauri::State;

use crate::dto::{ChatEvent, ReplyStartedDto, TemporaryStartedDto, TemporaryTurnDto};
use crate::error::CommandError;
use crate::state::{Hearth, Streams};
use crate::streaming;
use hearth_engine::{SendRequest, TemporaryTurn};

/// Sends a message (starting a conversation when `conversation_id` is absent).
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn send_message(
    hearth: State<'_, Hearth>,
    streams: State<'_, Streams>,
    request_id: String,
    conversation_id: Option<String>,
    provider_id: Option<String>,
    model: Option<String>,
    text: String,
    on_event: Channel<ChatEvent>,
) -> Result<ReplyStartedDto, CommandError> {
    let request = SendRequest {
        conversation_id,
        provider_id,
        model,
        text,
        files: Vec::new(),
    };
    let engine = hearth.engine()?;
    streaming::start(
        &streams,
        engine,
        request_id,
        on_event,
        |engine| async move { engine.send(request).await },
    )
    .await
}

/// Asks again for the reply to the user message that `message_id` answers.
#[tauri::command]
pub async fn regenerate_reply(
    hearth: State<'_, Hearth>,
    streams: State<'_, Streams>,
    request_id: String,
    message_id: String,
    on_event: Channel<ChatEvent>,
) -> Result<ReplyStartedDto, CommandError> {
    let engine = hearth.engine()?;
    streaming::start(
        &streams,
        engine,
        request_id,
        on_event,
        |engine| async move { engine.regenerate(&message_id).await },
    )
    .await
}

/// Edits a user message: the new text becomes a sibling branch and gets a reply.
#[tauri::command]
pub async fn edit_message(
    hearth: State<'_, Hearth>,
    streams: State<'_, Streams>,
    request_id: String,
    message_id: String,
    text: String,
    on_event: Channel<ChatEvent>,
) -> Result<ReplyStartedDto, CommandError> {
    let engine = hearth.engine()?;
    streaming::start(
        &streams,
        engine,
        request_id,
        on_event,
        |engine| async move { engine.edit(&message_id, &text).await },
    )
    .await
}

/// Sends a temporary chat's turns (the last one the new message) and streams the reply.
/// Nothing is saved: the UI keeps the turns in memory, and closing the chat forgets them.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn send_temporary(
    hearth: State<'_, Hearth>,
    streams: State<'_, Streams>,
    request_id: String,
    turns: Vec<TemporaryTurnDto>,
    system_prompt: Option<String>,
    provider_id: Option<String>,
    model: Option<String>,
    on_event: Channel<ChatEvent>,
) -> Result<TemporaryStartedDto, CommandError> {
    let turns: Vec<TemporaryTurn> = turns
        .into_iter()
        .map(|t| TemporaryTurn {
            from_user: t.from_user,
            text: t.text,
            files: Vec::new(),
        })
        .collect();
    let engine = hearth.engine()?;
    streaming::start(
        &streams,
        engine,
        request_id,
        on_event,
        |engine| async move {
            engine
                .send_temporary(
                    &turns,
                    system_prompt.as_deref(),
                    provider_id.as_deref(),
                    model.as_deref(),
                )
                .await
        },
    )
    .await
}

/// Stops a reply by request id or assistant message id; false when none is running.
#[tauri::command]
pub async fn cancel_reply(streams: State<'_, Streams>, id: String) -> Result<bool, CommandError> {
    Ok(streams.cancel(&id))
}
