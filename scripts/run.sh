#!/usr/bin/env bash
# Builds and opens the Hearth desktop app, installing what is missing.
#   ./scripts/run.sh          → the desktop app (release build)
#   ./scripts/run.sh --cli …  → the `hearth` CLI instead, with the given arguments
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
hearth_deps run

if [ "${1:-}" = --cli ]; then
  shift
  say "Building the hearth CLI (release)"
  cargo build --release --locked -p hearth-cli
  exec ./target/release/hearth "$@"
fi

hearth_require_node
say "Building the UI"
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
say "Building the desktop app and the CLI (release; the first build takes several minutes)"
cargo build --release --locked -p hearth-desktop -p hearth-cli --features hearth-desktop/custom-protocol
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  say "No desktop session here (DISPLAY and WAYLAND_DISPLAY are unset): the app needs one."
  say "The CLI works anywhere: ./target/release/hearth --help (or ./scripts/run.sh --cli status)"
  exit 1
fi
say "Opening Hearth"
exec ./target/release/hearth-desktop "$@"
