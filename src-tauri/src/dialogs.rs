//! Native file dialogs, shown by the Rust side so the webview never names a path: it can
//! ask to export (Rust asks the user where) or to import (Rust asks which file, and
//! hands the webview an opaque token for it).
//!
//! Files to attach to a message are picked the same way ([`ask_files`]), and an attachment
//! is saved back through the save dialog.
//!
//! Test hook, debug builds only: with `HEARTH_TEST_DIALOGS=DIR` set, no dialog opens; a
//! save dialog answers `DIR/save/<suggested name>`, an open dialog answers the one
//! file in `DIR/open/`, and the attach dialog answers every file in `DIR/attach/`, sorted
//! by name (an empty or missing folder is a cancelled dialog). The end-to-end tests use
//! it, since WebDriver cannot reach native dialogs. Release builds do not contain this
//! code.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::DialogExt;

use crate::error::CommandError;

/// Files the user picked for import, by token.
#[derive(Default)]
pub struct PickedFiles(Mutex<HashMap<String, PathBuf>>);

impl PickedFiles {
    /// Remembers `path` and returns its token.
    pub fn remember(&self, path: PathBuf) -> String {
        let token = format!("{:032x}", rand_token());
        self.lock().insert(token.clone(), path);
        token
    }

    /// The path behind `token`.
    pub fn path(&self, token: &str) -> Result<PathBuf, CommandError> {
        self.lock()
            .get(token)
            .cloned()
            .ok_or_else(|| CommandError::invalid("choose the file to import again"))
    }

    /// Forgets `token` (after its import).
    pub fn forget(&self, token: &str) {
        self.lock().remove(token);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PathBuf>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A token nobody can guess from the webview's side: 128 random bits.
fn rand_token() -> u128 {
    rand::random()
}

/// What a dialog is for.
pub enum Ask<'a> {
    /// Where to save a file, suggesting `name`; `filter` is (label, extensions).
    SaveFile {
        /// Suggested file name.
        name: &'a str,
        /// File type filter.
        filter: (&'a str, &'a [&'a str]),
    },
    /// Which folder to write into (Markdown of every conversation).
    Folder,
    /// Which file to import.
    OpenFile,
    /// Where to save an attached file, suggesting its name (no filter: any type).
    SaveAttachment {
        /// Suggested file name.
        name: &'a str,
    },
}

/// Shows the dialog (on a blocking thread) and returns the chosen path, or `None` if the
/// user cancelled.
pub async fn ask<R: Runtime>(
    app: &AppHandle<R>,
    ask: Ask<'_>,
) -> Result<Option<PathBuf>, CommandError> {
    #[cfg(debug_assertions)]
    if let Some(answer) = test_answer(&ask)? {
        return Ok(Some(answer));
    }
    let dialog = app.dialog().file();
    let chosen = match ask {
        Ask::SaveFile { name, filter } => {
            let dialog = dialog.set_file_name(name).add_filter(filter.0, filter.1);
            tauri::async_runtime::spawn_blocking(move || dialog.blocking_save_file()).await
        }
        Ask::SaveAttachment { name } => {
            let dialog = dialog.set_file_name(name);
            tauri::async_runtime::spawn_blocking(move || dialog.blocking_save_file()).await
        }
        Ask::Folder => {
            tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_folder()).await
        }
        Ask::OpenFile => {
            let dialog = dialog
                .add_filter("Conversation exports", &["json", "zip", "hearth"])
                .add_filter("All files", &["*"]);
            tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_file()).await
        }
    }
    .map_err(|e| CommandError::internal(format!("the file dialog stopped: {e}")))?;
    chosen
        .map(|p| {
            p.into_path()
                .map_err(|e| CommandError::invalid(format!("Hearth cannot use that location: {e}")))
        })
        .transpose()
}

/// Shows the open dialog for files to attach (several at once) and returns the chosen
/// paths; empty if the user cancelled.
pub async fn ask_files<R: Runtime>(app: &AppHandle<R>) -> Result<Vec<PathBuf>, CommandError> {
    #[cfg(debug_assertions)]
    if let Some(answer) = test_files()? {
        return Ok(answer);
    }
    let dialog = app
        .dialog()
        .file()
        .add_filter(
            "Images, PDFs and text files",
            &[
                "png", "jpg", "jpeg", "gif", "webp", "pdf", "txt", "md", "markdown", "csv", "json",
                "log",
            ],
        )
        .add_filter("All files", &["*"]);
    let chosen = tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_files())
        .await
        .map_err(|e| CommandError::internal(format!("the file dialog stopped: {e}")))?;
    chosen
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            p.into_path()
                .map_err(|e| CommandError::invalid(format!("Hearth cannot use that file: {e}")))
        })
        .collect()
}

/// A name to suggest in the save dialog for a stored file name: no folder, never `.` or
/// `..`, so the suggestion is a plain file name.
pub fn suggested_file_name(name: &str) -> String {
    let name = hearth_engine::attachment::clean_name(name);
    if name == "." || name == ".." {
        "attachment".to_owned()
    } else {
        name
    }
}

#[cfg(debug_assertions)]
fn test_files() -> Result<Option<Vec<PathBuf>>, CommandError> {
    let Some(dir) = std::env::var_os("HEARTH_TEST_DIALOGS").map(PathBuf::from) else {
        return Ok(None);
    };
    tracing::warn!("answering an attach dialog from HEARTH_TEST_DIALOGS (debug build)");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir.join("attach")) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    Ok(Some(files))
}

#[cfg(debug_assertions)]
fn test_answer(ask: &Ask<'_>) -> Result<Option<PathBuf>, CommandError> {
    let Some(dir) = std::env::var_os("HEARTH_TEST_DIALOGS").map(PathBuf::from) else {
        return Ok(None);
    };
    tracing::warn!("answering a file dialog from HEARTH_TEST_DIALOGS (debug build)");
    Ok(Some(match ask {
        Ask::SaveFile { name, .. } | Ask::SaveAttachment { name } => dir.join("save").join(name),
        Ask::Folder => dir.join("save"),
        Ask::OpenFile => {
            let entries: Vec<PathBuf> = std::fs::read_dir(dir.join("open"))
                .map_err(|e| CommandError::internal(format!("test dialogs: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            match entries.as_slice() {
                [one] => one.clone(),
                _ => {
                    return Err(CommandError::internal(
                        "test dialogs: put exactly one file in open/",
                    ))
                }
            }
        }
    }))
}
