#!/usr/bin/env bash
# Runs every Hearth test on a fresh Debian/Ubuntu machine, installing what is missing.
# The tests use real parts: gnome-keyring's Secret Service in a private D-Bus session,
# an independent SQLCipher 4 client (PyPI sqlcipher3-binary), and plain sqlite3.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
hearth_deps test

venv="$PWD/target/sqlcipher-venv"
mkdir -p target
hearth_sqlcipher_venv "$venv"
export HEARTH_SQLCIPHER_PYTHON="$venv/bin/python"

hearth_require_node
say "UI: installing packages, type check, unit tests (the markdown sanitizer's XSS corpus), build (embedded by the desktop shell)"
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run check && npm test && npm run build)

say "Building (the integration tests drive the real hearth binary)"
cargo build --locked --workspace --bins

say "Running the tests inside a private D-Bus session with a fresh gnome-keyring"
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT
XDG_DATA_HOME="$keyring_home" dbus-run-session -- \
  scripts/keyring-session.sh cargo test --locked --workspace -- --test-threads=2
