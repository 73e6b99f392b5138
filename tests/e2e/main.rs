//! End-to-end tests of the desktop app: the real `hearth-desktop` binary in a WebKitGTK
//! window, driven through WebDriver (`tauri-driver` in front of `WebKitWebDriver`) by the
//! `data-testid` hooks of DESIGN.md §5, against the loopback fake provider.
//!
//! Run by `scripts/test.sh` under Xvfb inside a private D-Bus session:
//! `cargo test -p hearth-tests --features e2e --test e2e`. It needs `DISPLAY`,
//! `tauri-driver` and `WebKitWebDriver` on `PATH`, the app built with the
//! `custom-protocol` feature (so it serves the embedded UI), and, for the tools scenario,
//! `HEARTH_MCP_PYTHON`: a Python with PyPI `mcp` (scripts/test.sh installs one). The
//! projects scenario drags with the X pointer through `python3` and libxdo (libxdo-dev,
//! which the desktop build needs anyway).
//! Screenshots go to `target/e2e-screenshots/` (or `HEARTH_E2E_SCREENSHOTS`).

mod attachments;
mod driver;
mod projects;
mod scenario;
mod security;
mod steps;
mod tools;
mod your_data;
