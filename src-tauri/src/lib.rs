//! hearth-desktop: the Tauri 2 shell of Hearth.
//!
//! The shell resolves the data directory, holds the unlocked [`hearth_engine::Engine`] in
//! managed state, and turns IPC calls into engine calls (see [`commands`]). It owns no
//! domain logic. [`builder`] is generic over the runtime so the tests drive the same app
//! on Tauri's mock runtime.

pub mod attachments;
pub mod commands;
pub mod dialogs;
pub mod dto;
pub mod error;
pub mod navigation;
pub mod state;
pub mod streaming;

use std::path::PathBuf;
use std::sync::Arc;

use hearth_engine::{AppPaths, OsKeychain};
use tauri::webview::NewWindowResponse;
use tauri::{AppHandle, DragDropEvent, Manager, Runtime, WebviewWindowBuilder, WindowEvent};

pub use error::{CommandError, ErrorKind};
pub use state::{Hearth, Streams};

/// The environment variable that overrides the data directory (shared with the CLI).
pub const DATA_DIR_ENV: &str = "HEARTH_DATA_DIR";

/// The app on a fresh builder.
pub fn builder<R: Runtime>() -> tauri::Builder<R> {
    configure(tauri::Builder::<R>::new())
}

/// Adds the app to `builder` (tests pass `tauri::test::mock_builder()`): the stream
/// registry, the commands, the opener, and a setup that resolves the data directory
/// (unless a [`Hearth`] is already managed, as in tests) and opens the windows declared in
/// the configuration with their navigation guard.
pub fn configure<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        // Links are opened from Rust only (`open_external`); the plugin's own commands are
        // not granted to the window, and it must not hijack clicks.
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        )
        .plugin(tauri_plugin_dialog::init())
        .manage(Streams::default())
        .manage(dialogs::PickedFiles::default())
        .manage(attachments::PendingFiles::default())
        .manage(attachments::DropTarget::default())
        .on_window_event(|window, event| {
            if let WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) = event {
                on_file_drop(window.app_handle(), paths.clone());
            }
        })
        .setup(|app| {
            if app.try_state::<Hearth>().is_none() {
                let paths = AppPaths::new(data_dir(app)?);
                tracing::info!(data_dir = %paths.data_dir().display(), "using data directory");
                app.manage(Hearth::new(paths, Arc::new(OsKeychain::default())));
            }
            open_windows(app)?;
            spawn_daily_retention(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::ui_ready,
            commands::vault::vault_status,
            commands::vault::vault_create,
            commands::vault::vault_unlock,
            commands::vault::vault_lock,
            commands::vault::get_settings,
            commands::vault::set_settings,
            commands::security::get_protection,
            commands::security::set_protection,
            commands::security::rotate_data_key,
            commands::conversations::list_conversations,
            commands::conversations::open_conversation,
            commands::conversations::search_conversations,
            commands::conversations::rename_conversation,
            commands::conversations::pin_conversation,
            commands::conversations::archive_conversation,
            commands::conversations::list_archived_conversations,
            commands::conversations::delete_conversation,
            commands::conversations::select_branch,
            commands::conversations::set_system_prompt,
            commands::conversations::set_conversation_model,
            commands::data::data_inventory,
            commands::data::erase_everything,
            commands::transfer::export_data,
            commands::transfer::pick_import_file,
            commands::transfer::import_picked,
            commands::attachments::pick_attachments,
            commands::attachments::paste_attachment,
            commands::attachments::watch_file_drops,
            commands::attachments::discard_attachments,
            commands::attachments::pending_image,
            commands::attachments::attachment_image,
            commands::attachments::save_attachment,
            commands::chat::send_message,
            commands::chat::regenerate_reply,
            commands::chat::edit_message,
            commands::chat::cancel_reply,
            commands::chat::send_temporary,
            commands::providers::list_providers,
            commands::providers::set_provider,
            commands::providers::set_api_key,
            commands::providers::remove_api_key,
            commands::providers::list_models,
            commands::external::open_external,
            commands::tools::list_tool_servers,
            commands::tools::add_tool_server,
            commands::tools::remove_tool_server,
            commands::tools::set_tool_server_enabled,
            commands::tools::list_server_tools,
            commands::tools::set_conversation_tool_servers,
            commands::tools::list_tool_grants,
            commands::tools::revoke_tool_grant,
            commands::tools::decide_tool_call,
            commands::projects::list_projects,
            commands::projects::create_project,
            commands::projects::get_project,
            commands::projects::change_project,
            commands::projects::delete_project,
            commands::projects::move_conversation,
            commands::projects::list_unfiled_conversations,
            commands::projects::list_project_conversations,
            commands::projects::pick_project_files,
            commands::projects::list_project_files,
            commands::projects::remove_project_file,
            commands::projects::get_conversation_settings,
            commands::projects::set_conversation_settings,
            commands::prompts::list_prompts,
            commands::prompts::create_prompt,
            commands::prompts::update_prompt,
            commands::prompts::delete_prompt,
        ])
}

/// Files dropped on the window. Rust reads and checks each one (Tauri hands the paths to
/// Rust; the webview is subscribed to nothing, so they never reach it) and reports only
/// tokens, names, sizes and media types on the channel the UI registered with
/// `watch_file_drops`. Ignored while the vault is locked or before the UI registered.
pub fn on_file_drop<R: Runtime>(app: &AppHandle<R>, paths: Vec<PathBuf>) {
    let unlocked = app.try_state::<Hearth>().is_some_and(|h| h.is_unlocked());
    let Some(channel) = app.state::<attachments::DropTarget>().channel() else {
        return;
    };
    if !unlocked || paths.is_empty() {
        return;
    }
    let pending = app.state::<attachments::PendingFiles>().inner().clone();
    tauri::async_runtime::spawn_blocking(move || {
        let dropped = pending.hold_paths(&paths);
        let tokens: Vec<String> = dropped.files.iter().map(|f| f.token.clone()).collect();
        if channel.send(dropped).is_err() {
            // Nobody heard of them: do not keep them.
            pending.forget(&tokens);
        }
    });
}

/// Retention runs when the vault opens; an app left running for days also applies it
/// about daily. Checked hourly; the engine remembers when it last ran.
fn spawn_daily_retention<R: Runtime>(app: tauri::AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60 * 60)).await;
            let Ok(engine) = app.state::<Hearth>().engine() else {
                continue;
            };
            let result = tauri::async_runtime::spawn_blocking(move || {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                if engine.retention_due(now)? {
                    engine.apply_retention()?;
                }
                Ok::<(), hearth_engine::EngineError>(())
            })
            .await;
            if let Ok(Err(e)) = result {
                tracing::warn!("retention did not run: {e}");
            }
        }
    });
}

/// `HEARTH_DATA_DIR` when set, else the platform's app data directory, which with the
/// identifier `org.hearth.Hearth` is the CLI's default too.
fn data_dir<R: Runtime>(app: &tauri::App<R>) -> tauri::Result<PathBuf> {
    match std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => app.path().app_data_dir(),
    }
}

/// Opens the windows declared in `tauri.conf.json` (they say `"create": false` so that
/// they are made here, with the navigation guard attached).
fn open_windows<R: Runtime>(app: &tauri::App<R>) -> tauri::Result<()> {
    let dev_url = app
        .config()
        .build
        .dev_url
        .clone()
        .filter(|_| tauri::is_dev());
    for config in app.config().app.windows.clone() {
        let dev_url = dev_url.clone();
        WebviewWindowBuilder::from_config(app, &config)?
            .on_navigation(move |url| {
                let allowed = navigation::is_app_url(url, dev_url.as_ref());
                if !allowed {
                    tracing::warn!(
                        scheme = url.scheme(),
                        "blocked navigation away from the app"
                    );
                }
                allowed
            })
            .on_new_window(|_, _| NewWindowResponse::Deny)
            .build()?;
    }
    Ok(())
}

/// A second launch hands over to the first and exits before it opens anything; the first
/// shows and focuses its window. "The same app" means the same data directory: the
/// instance is named after the identifier, plus a hash of `HEARTH_DATA_DIR` when that
/// is set, so a portable copy (or a test) with its own data directory runs beside the
/// everyday one, while two launches on one vault never both open it. (On Linux the name
/// is a D-Bus name on the session bus; on Windows and macOS the plugin ignores it and
/// keys on the identifier alone.)
fn single_instance<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    let mut plugin = tauri_plugin_single_instance::Builder::new().callback(|app, _, _| {
        tracing::info!("Hearth was launched again: showing this window");
        focus_main_window(app);
    });
    if let Some(id) = instance_id(std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty())) {
        plugin = plugin.dbus_id(id);
    }
    plugin.build()
}

/// The single-instance name for a data directory given by `HEARTH_DATA_DIR`, or `None`
/// for the default one (the plugin then uses the identifier).
pub fn instance_id(data_dir: Option<std::ffi::OsString>) -> Option<String> {
    let dir = PathBuf::from(data_dir?);
    // The same folder however it was spelled, when it exists.
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    // FNV-1a: stable across builds and runs, unlike the std hasher.
    let hash = dir
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    Some(format!("org.hearth.Hearth.dir_{hash:016x}"))
}

/// Brings the main window back: out of the tray or minimized state, in front, focused.
fn focus_main_window<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let _ = window.unminimize();
    let _ = window.show();
    if let Err(e) = window.set_focus() {
        tracing::warn!("could not focus the window: {e}");
    }
}

/// Runs the desktop app.
pub fn run() {
    commands::app::mark_start();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // First, so that a second launch stops before any other plugin or the vault starts.
    configure(tauri::Builder::<tauri::Wry>::new().plugin(single_instance()))
        .build(tauri::generate_context!())
        .expect("Hearth could not start")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                on_exit(app);
            }
        });
}

/// The longest quitting waits for replies to stop and tool servers to be reaped.
const EXIT_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Quitting locks the vault: replies are stopped and saved as cancelled, and MCP servers
/// are stopped (their whole process groups), which the process's exit alone would not do.
/// Waits at most [`EXIT_GRACE`], so an export still running cannot hold the quit.
fn on_exit<R: Runtime>(app: &AppHandle<R>) {
    let (Some(hearth), Some(streams)) = (app.try_state::<Hearth>(), app.try_state::<Streams>())
    else {
        return;
    };
    let locked =
        tauri::async_runtime::block_on(tokio::time::timeout(EXIT_GRACE, hearth.lock(&streams)));
    match locked {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("the vault did not close cleanly at exit: {e}"),
        Err(_) => tracing::warn!("quitting before everything using the vault had stopped"),
    }
}

#[cfg(test)]
mod tests {
    use super::instance_id;

    #[test]
    fn one_instance_name_per_data_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).expect("a");
        std::fs::create_dir_all(&b).expect("b");
        let id = |p: std::path::PathBuf| instance_id(Some(p.into_os_string())).expect("an id");
        assert_eq!(
            id(a.clone()),
            id(a.join("../a")),
            "the same folder, spelled two ways"
        );
        assert_ne!(id(a.clone()), id(b), "two folders, two apps");
        let name = id(a);
        // A D-Bus name: dot-separated elements of [A-Za-z0-9_-], none starting with a digit.
        assert!(name.starts_with("org.hearth.Hearth.dir_"), "{name}");
        assert!(name
            .split('.')
            .all(|e| !e.is_empty() && !e.starts_with(|c: char| c.is_ascii_digit())));
        assert_eq!(
            instance_id(None),
            None,
            "the default folder uses the identifier"
        );
    }
}
