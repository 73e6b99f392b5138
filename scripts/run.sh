#!/usr/bin/env bash
# Builds and runs Hearth. Until the desktop app exists this is the `hearth` CLI:
#   ./scripts/run.sh            → hearth status
#   ./scripts/run.sh init       → hearth init (any arguments go to hearth)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
hearth_deps run
say "Building the hearth CLI (release)"
cargo build --release --locked -p hearth-cli
if [ $# -eq 0 ]; then set -- status; fi
exec ./target/release/hearth "$@"
