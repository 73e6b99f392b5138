//! Files attached to messages: picking them (the native dialog, shown from Rust), pasting
//! an image, dropping files on the window (see [`crate::on_file_drop`]), removing one from
//! the composer, and, for stored attachments, showing an image and saving a file back.
//! The webview never names a path: it holds tokens ([`crate::attachments`]) and ids.

use hearth_engine::attachment::{kind_of, AttachmentKind, MAX_ATTACHMENT_BYTES};
use tauri::ipc::{Channel, InvokeBody, Request, Response};
use tauri::{AppHandle, Runtime, State};

use crate::attachments::{AttachedFilesDto, DropTarget, PendingFileDto, PendingFiles};
use crate::dialogs::{self, Ask};
use crate::error::CommandError;
use crate::state::Hearth;

/// The request header that carries a pasted file's name, percent-encoded UTF-8.
pub const FILE_NAME_HEADER: &str = "x-hearth-file-name";

/// Shows the open dialog (several files at once) and holds each file Hearth can attach.
/// Cancelling gives an empty result.
#[tauri::command]
pub async fn pick_attachments<R: Runtime>(
    app: AppHandle<R>,
    pending: State<'_, PendingFiles>,
) -> Result<AttachedFilesDto, CommandError> {
    let paths = dialogs::ask_files(&app).await?;
    let pending = pending.inner().clone();
    tauri::async_runtime::spawn_blocking(move || pending.hold_paths(&paths))
        .await
        .map_err(|e| CommandError::internal(format!("reading the files stopped: {e}")))
}

/// Holds pasted bytes (the raw request body) as a file named by the
/// `x-hearth-file-name` header, after checking what they are.
#[tauri::command]
pub async fn paste_attachment(
    pending: State<'_, PendingFiles>,
    request: Request<'_>,
) -> Result<PendingFileDto, CommandError> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(CommandError::invalid("a pasted file is sent as raw bytes"));
    };
    if bytes.len() as u64 > MAX_ATTACHMENT_BYTES {
        return Err(CommandError::invalid(format!(
            "the pasted file is larger than {} MiB; nothing was added",
            MAX_ATTACHMENT_BYTES >> 20
        )));
    }
    let name = request
        .headers()
        .get(FILE_NAME_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_else(|| "pasted".to_owned());
    pending.hold_bytes(&name, bytes.clone())
}

/// Registers where files dropped on the window are reported.
#[tauri::command]
pub async fn watch_file_drops(
    target: State<'_, DropTarget>,
    on_drop: Channel<AttachedFilesDto>,
) -> Result<(), CommandError> {
    target.set(on_drop);
    Ok(())
}

/// Forgets files waiting to be sent (removed from the composer, or a temporary chat
/// closed). Unknown tokens are ignored.
#[tauri::command]
pub async fn discard_attachments(
    pending: State<'_, PendingFiles>,
    tokens: Vec<String>,
) -> Result<(), CommandError> {
    pending.forget(&tokens);
    Ok(())
}

/// The bytes of an image waiting to be sent (a temporary chat shows its images from
/// these). Only images.
#[tauri::command]
pub async fn pending_image(
    pending: State<'_, PendingFiles>,
    token: String,
) -> Result<Response, CommandError> {
    let pending = pending.inner().clone();
    let (_, bytes) = tauri::async_runtime::spawn_blocking(move || pending.image_bytes(&token))
        .await
        .map_err(|e| CommandError::internal(format!("reading the image stopped: {e}")))??;
    Ok(Response::new(bytes))
}

/// The bytes of a stored image attachment, checked against its SHA-256. Only images: a
/// PDF or text file is saved, never shown from bytes.
#[tauri::command]
pub async fn attachment_image(
    hearth: State<'_, Hearth>,
    id: String,
) -> Result<Response, CommandError> {
    let engine = hearth.engine()?;
    let stored = engine.attachment(&id)?;
    if kind_of(&stored.media_type) != Some(AttachmentKind::Image) {
        return Err(CommandError::invalid("only images are shown"));
    }
    let (_, bytes) = tauri::async_runtime::spawn_blocking(move || engine.attachment_bytes(&id))
        .await
        .map_err(|e| CommandError::internal(format!("reading the image stopped: {e}")))??;
    Ok(Response::new(bytes))
}

/// Asks where to save a stored attachment, then writes its bytes there (a new file,
/// readable by the user only). Returns where it went; `None` when the user cancelled.
#[tauri::command]
pub async fn save_attachment<R: Runtime>(
    app: AppHandle<R>,
    hearth: State<'_, Hearth>,
    id: String,
) -> Result<Option<String>, CommandError> {
    let engine = hearth.engine()?;
    let name = dialogs::suggested_file_name(&engine.attachment(&id)?.name);
    let Some(path) = dialogs::ask(&app, Ask::SaveAttachment { name: &name }).await? else {
        return Ok(None);
    };
    let target = path.clone();
    tauri::async_runtime::spawn_blocking(move || engine.save_attachment(&id, &target))
        .await
        .map_err(|e| CommandError::internal(format!("saving the file stopped: {e}")))??;
    Ok(Some(path.display().to_string()))
}
