//! The app itself: the UI says when its first screen is interactive.

use std::sync::OnceLock;
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();
static READY: OnceLock<()> = OnceLock::new();

/// Notes when the process started; called first thing in `run`.
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// The UI calls this once its first screen can take input. The first call logs the time
/// since start (read by `scripts/measure-desktop.sh`); later calls do nothing.
#[tauri::command]
pub async fn ui_ready() {
    if READY.set(()).is_ok() {
        let elapsed = STARTED.get().map(|s| s.elapsed().as_millis());
        tracing::info!(elapsed_ms = ?elapsed, "window interactive");
    }
}
