//! Sending, regenerating and editing, each streaming its reply over a `Channel`, and
//! stopping a reply. The UI picks the request id, so it can stop a request before the
//! provider has answered.

use tauri::ipc::Channel;
use tauri::State;

use crate::attachments::PendingFiles;
use crate::dto::{
    ChatEvent, ModelSettingsDto, ReplyStartedDto, TemporaryStartedDto, TemporaryTurnDto,
};
use crate::error::CommandError;
use crate::state::{Hearth, Streams};
use crate::streaming;
use hearth_engine::{SendRequest, TemporaryTurn};

/// Reads the files behind `tokens` again (off the async threads): a file that vanished
/// or changed into something Hearth cannot attach fails here, before anything is saved.
async fn resolve(
    pending: &PendingFiles,
    tokens: &[String],
) -> Result<Vec<hearth_engine::PickedFile>, CommandError> {
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let (pending, tokens) = (pending.clone(), tokens.to_vec());
    tauri::async_runtime::spawn_blocking(move || pending.resolve(&tokens))
        .await
        .map_err(|e| CommandError::internal(format!("reading the files stopped: {e}")))?
}

/// Sends a message (starting a conversation when `conversation_id` is absent) with the
/// files waiting under `attachments`, which are forgotten once the message is saved.
/// `tools` names the tool servers the conversation offers from now on (absent: as it was;
/// a new conversation offers none unless given). `projectId` puts a new conversation in
/// that project (its defaults, instructions and files then apply); `settings` become the
/// conversation's own model settings (absent: as they were).
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn send_message(
    hearth: State<'_, Hearth>,
    streams: State<'_, Streams>,
    pending: State<'_, PendingFiles>,
    request_id: String,
    conversation_id: Option<String>,
    provider_id: Option<String>,
    model: Option<String>,
    text: String,
    attachments: Option<Vec<String>>,
    tools: Option<Vec<String>>,
    project_id: Option<String>,
    settings: Option<ModelSettingsDto>,
    on_event: Channel<ChatEvent>,
) -> Result<ReplyStartedDto, CommandError> {
    let engine = hearth.engine()?;
    let tokens = attachments.unwrap_or_default();
    let request = SendRequest {
        conversation_id,
        provider_id,
        model,
        text,
        files: resolve(&pending, &tokens).await?,
        tools,
        project_id,
        settings: settings.map(Into::into),
        ..Default::default()
    };
    let pending = pending.inner().clone();
    streaming::start(
        &streams,
        engine,
        request_id,
        on_event,
        |engine| async move {
            let reply = engine.send(request).await?;
            pending.forget(&tokens);
            Ok(reply)
        },
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
/// Each user turn names its files by token; once sent they are held in memory (never on
/// disk) for the later turns, until the UI discards them with the chat.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
pub async fn send_temporary(
    hearth: State<'_, Hearth>,
    streams: State<'_, Streams>,
    pending: State<'_, PendingFiles>,
    request_id: String,
    turns: Vec<TemporaryTurnDto>,
    system_prompt: Option<String>,
    provider_id: Option<String>,
    model: Option<String>,
    on_event: Channel<ChatEvent>,
) -> Result<TemporaryStartedDto, CommandError> {
    let mut resolved = Vec::with_capacity(turns.len());
    for t in turns {
        let files = resolve(&pending, &t.attachments).await?;
        pending.keep_in_memory(&t.attachments, &files);
        resolved.push(TemporaryTurn {
            from_user: t.from_user,
            text: t.text,
            files,
        });
    }
    let turns = resolved;
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
