//! Native file dialogs, shown by the Rust side so the webview never names a path: it can
//! ask to export (Rust asks the user where) or to import (Rust asks which file, and
//! hands the webview an opaque token for it).
//!
//! Test hook, debug builds only: with `HEARTH_TEST_DIALOGS=DIR` set, no dialog opens; a
//! save dialog answers `DIR/save/<suggested name>` and an open dialog answers the one
//! file in `DIR/open/`. The end-to-end tests use it, since WebDriver cannot reach native
//! dialogs. Release builds do not contain this code.

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

#[cfg(debug_assertions)]
fn test_answer(ask: &Ask<'_>) -> Result<Option<PathBuf>, CommandError> {
    let Some(dir) = std::env::var_os("HEARTH_TEST_DIALOGS").map(PathBuf::from) else {
        return Ok(None);
    };
    tracing::warn!("answering a file dialog from HEARTH_TEST_DIALOGS (debug build)");
    Ok(Some(match ask {
        Ask::SaveFile { name, .. } => dir.join("save").join(name),
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
