#!/usr/bin/env bash
# Runs every Hearth test on a fresh Debian/Ubuntu machine, installing what is missing.
# The tests use real parts: gnome-keyring's Secret Service in a private D-Bus session,
# an independent SQLCipher 4 client (PyPI sqlcipher3-binary), plain sqlite3, MCP servers
# on the official Python SDK (PyPI mcp) and npm's server-everything, and the desktop app
# in a WebKitGTK window under Xvfb driven by tauri-driver.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
hearth_deps test
hearth_tauri_driver

venv="$PWD/target/sqlcipher-venv"
mkdir -p target
hearth_sqlcipher_venv "$venv"
export HEARTH_SQLCIPHER_PYTHON="$venv/bin/python"

# Real MCP servers for the hearth-tools tests: the official Python SDK and the npm
# reference server.
hearth_mcp_python_venv "$PWD/target/mcp/python-venv"
export HEARTH_MCP_PYTHON="$PWD/target/mcp/python-venv/bin/python"

hearth_require_node
hearth_mcp_everything "$PWD/target/mcp/npm"
export HEARTH_MCP_EVERYTHING="$PWD/target/mcp/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
say "UI: installing packages, type check, unit tests (the markdown sanitizer's XSS corpus), build (embedded by the desktop shell)"
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run check && npm test && npm run build)

# One feature set for every cargo command below, so the desktop shell is built once:
# custom-protocol makes the app serve the UI embedded from ui/dist.
features=(--features hearth-desktop/custom-protocol)

say "Building (the integration tests drive the real hearth and hearth-desktop binaries)"
cargo build --locked --workspace --bins "${features[@]}"

say "Running the tests inside a private D-Bus session with a fresh gnome-keyring"
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT
XDG_DATA_HOME="$keyring_home" dbus-run-session -- \
  scripts/keyring-session.sh cargo test --locked --workspace "${features[@]}" -- --test-threads=2

say "End-to-end: the desktop app under Xvfb, driven through tauri-driver (screenshots in target/e2e-screenshots)"
e2e_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home" "$e2e_home"' EXIT
XDG_DATA_HOME="$e2e_home" dbus-run-session -- \
  scripts/keyring-session.sh xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
  cargo test --locked -p hearth-tests --features e2e --test e2e -- --test-threads=1
