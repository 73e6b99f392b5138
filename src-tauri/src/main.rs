//! The `hearth-desktop` binary: everything lives in the library so tests can build the
//! same app on Tauri's mock runtime.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // First, before any key is read: no core dumps, no ptrace by other processes.
    let _ = hearth_engine::harden_process();
    hearth_desktop::run();
}
