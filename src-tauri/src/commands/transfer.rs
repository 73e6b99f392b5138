//! Export and import from the app. The native file dialogs are shown from here
//! ([`crate::dialogs`]): the webview asks for an export and gets back where it went, or
//! asks to pick a file and gets back an opaque token, so it never names a path itself.

use std::path::Path;

use hearth_engine::transfer::detect::{self, ImportFormat, ImportOptions, ImportOutcome};
use hearth_engine::{Engine, Passphrase};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::dialogs::{self, Ask, PickedFiles};
use crate::error::CommandError;
use crate::state::Hearth;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ExportFormatDto {
    /// Lossless JSON.
    Json,
    /// Readable Markdown (a folder for the whole vault).
    Markdown,
    /// The JSON, encrypted with its own passphrase.
    Archive,
}

/// How far a long export or import has got, sent on its progress channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TransferProgressDto {
    /// Conversations so far.
    pub conversations: u64,
    /// Messages so far.
    pub messages: u64,
}

/// A finished export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportDoneDto {
    /// Where it was written.
    pub path: String,
    /// Conversations written.
    pub conversations: u64,
    /// Messages written.
    pub messages: u64,
}

/// A file picked for import, recognised but not read yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PickedFileDto {
    /// Names the file in `import_picked`.
    pub token: String,
    /// The file's name (not its folder).
    pub name: String,
    /// `chatgpt`, `claude`, `hearth`, `hearthArchive` or `unknown`.
    pub format: String,
}

/// A finished import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportDoneDto {
    /// Conversations added.
    pub added: u64,
    /// Conversations already in the vault, skipped.
    pub skipped: u64,
    /// Messages added.
    pub messages: u64,
    /// Conversations of the file that could not be converted and were left out.
    pub not_converted: Vec<NotConvertedDto>,
}

/// A conversation left out of an import, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NotConvertedDto {
    /// Its position in its file, from 1.
    pub number: u64,
    /// Its title, when it has one.
    pub title: Option<String>,
    /// Its id in the export, when it has one.
    pub id: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

/// The suggested file name for an export (the dialog lets the user change it).
fn suggested_name(format: ExportFormatDto, one: bool) -> String {
    let what = if one {
        "hearth-conversation"
    } else {
        "hearth-export"
    };
    match format {
        ExportFormatDto::Json => format!("{what}.json"),
        ExportFormatDto::Markdown if one => format!("{what}.md"),
        ExportFormatDto::Markdown => format!("{what}-markdown"),
        ExportFormatDto::Archive => format!("{what}.hearth"),
    }
}

/// Asks where to save, then writes the export there. `None` when the user cancelled.
#[tauri::command]
pub async fn export_data<R: Runtime>(
    app: AppHandle<R>,
    hearth: State<'_, Hearth>,
    format: ExportFormatDto,
    conversation_id: Option<String>,
    archive_passphrase: Option<String>,
    on_progress: Channel<TransferProgressDto>,
) -> Result<Option<ExportDoneDto>, CommandError> {
    let engine = hearth.engine()?;
    let passphrase = match (format, archive_passphrase) {
        (ExportFormatDto::Archive, Some(p)) => {
            let p = Passphrase::new(p);
            hearth_engine::transfer::archive::check_passphrase(&p)?;
            Some(p)
        }
        (ExportFormatDto::Archive, None) => {
            return Err(CommandError::invalid("choose a passphrase for the archive"))
        }
        _ => None,
    };
    let one = conversation_id.is_some();
    let name = suggested_name(format, one);
    let ask = match format {
        ExportFormatDto::Markdown if !one => Ask::Folder,
        ExportFormatDto::Json => Ask::SaveFile {
            name: &name,
            filter: ("Hearth JSON export", &["json"]),
        },
        ExportFormatDto::Markdown => Ask::SaveFile {
            name: &name,
            filter: ("Markdown", &["md"]),
        },
        ExportFormatDto::Archive => Ask::SaveFile {
            name: &name,
            filter: ("Hearth encrypted archive", &["hearth"]),
        },
    };
    let Some(mut path) = dialogs::ask(&app, ask).await? else {
        return Ok(None);
    };
    if matches!(format, ExportFormatDto::Markdown) && !one {
        // A folder was picked: the export is a new folder inside it.
        path = path.join(&name);
    }
    let target = path.clone();
    let done = tauri::async_runtime::spawn_blocking(move || {
        export(
            &engine,
            format,
            &target,
            conversation_id.as_deref(),
            passphrase.as_ref(),
            &on_progress,
        )
    })
    .await
    .map_err(|e| CommandError::internal(format!("the export stopped: {e}")))??;
    Ok(Some(ExportDoneDto {
        path: path.display().to_string(),
        conversations: done.conversations,
        messages: done.messages,
    }))
}

fn export(
    engine: &Engine,
    format: ExportFormatDto,
    path: &Path,
    only: Option<&str>,
    passphrase: Option<&Passphrase>,
    progress: &Channel<TransferProgressDto>,
) -> Result<TransferProgressDto, CommandError> {
    let report = |p: &hearth_engine::transfer::hearth_json::ExportProgress| {
        let _ = progress.send(TransferProgressDto {
            conversations: p.conversations,
            messages: p.messages,
        });
    };
    if format == ExportFormatDto::Markdown {
        let files = engine.export_markdown(path, only)?.files.len() as u64;
        return Ok(TransferProgressDto {
            conversations: files,
            messages: 0,
        });
    }
    let written = engine.export_to_file(path, passphrase, only, report)?;
    Ok(TransferProgressDto {
        conversations: written.conversations,
        messages: written.messages,
    })
}

/// Asks which file to import and recognises it. `None` when the user cancelled.
#[tauri::command]
pub async fn pick_import_file<R: Runtime>(
    app: AppHandle<R>,
    picked: State<'_, PickedFiles>,
) -> Result<Option<PickedFileDto>, CommandError> {
    let Some(path) = dialogs::ask(&app, Ask::OpenFile).await? else {
        return Ok(None);
    };
    let probe = path.clone();
    let format = tauri::async_runtime::spawn_blocking(move || recognise(&probe))
        .await
        .map_err(|e| CommandError::internal(format!("reading the file stopped: {e}")))?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Some(PickedFileDto {
        token: picked.remember(path),
        name,
        format: format.into(),
    }))
}

fn recognise(path: &Path) -> &'static str {
    if detect::is_archive(path) {
        return "hearthArchive";
    }
    match detect::recognise(path) {
        Ok(ImportFormat::ChatGpt) => "chatgpt",
        Ok(ImportFormat::Claude) => "claude",
        Ok(ImportFormat::Hearth) => "hearth",
        Ok(ImportFormat::Auto) | Err(_) => "unknown",
    }
}

/// Imports the file picked under `token`, skipping conversations already in the vault;
/// conversations that cannot be converted are left out and listed in the result.
#[tauri::command]
pub async fn import_picked(
    hearth: State<'_, Hearth>,
    picked: State<'_, PickedFiles>,
    token: String,
    archive_passphrase: Option<String>,
    on_progress: Channel<TransferProgressDto>,
) -> Result<ImportDoneDto, CommandError> {
    let engine = hearth.engine()?;
    let path = picked.path(&token)?;
    let passphrase = archive_passphrase.map(Passphrase::new);
    let outcome: ImportOutcome = tauri::async_runtime::spawn_blocking(move || {
        let options = ImportOptions {
            archive_passphrase: passphrase.as_ref(),
            ..ImportOptions::auto()
        };
        engine.import_file_with(&path, options, |r| {
            let _ = on_progress.send(TransferProgressDto {
                conversations: r.added + r.skipped,
                messages: r.messages,
            });
        })
    })
    .await
    .map_err(|e| CommandError::internal(format!("the import stopped: {e}")))??;
    // Kept after a failure (a mistyped archive passphrase, say) so the user can retry.
    picked.forget(&token);
    let report = outcome.report;
    Ok(ImportDoneDto {
        added: report.added,
        skipped: report.skipped,
        messages: report.messages,
        not_converted: outcome
            .not_converted
            .into_iter()
            .map(|n| NotConvertedDto {
                number: n.number,
                title: n.title,
                id: n.id,
                reason: n.reason,
            })
            .collect(),
    })
}
