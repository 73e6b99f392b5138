#!/usr/bin/env bash
# Measures the desktop app (numbers for docs/PERFORMANCE.md; nothing here passes or fails):
#   - release binary size (as built, and stripped)
#   - cold start: process spawn → the UI's first screen is interactive (the app logs
#     "window interactive" when the UI calls ui_ready), for a first run and for an
#     existing vault (unlocked from the keychain), several runs each
#   - idle memory: PSS of the app and its WebKit helper processes, 10 s after start
#   - with --sidebar instead: the sidebar of a vault with 50 projects and 10,000
#     conversations, from a click on a project to its conversations drawn
#     (tests/benches/sidebar.rs, driven through tauri-driver like the end-to-end tests)
# Runs under Xvfb inside a private D-Bus session.
# Usage: scripts/measure-desktop.sh [runs] | scripts/measure-desktop.sh --sidebar
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
bin="$PWD/target/release/hearth-desktop"

if [ "${1:-}" = "--sidebar" ]; then
  hearth_deps test
  hearth_tauri_driver
  hearth_require_node
  say "Building the UI, the release app and the sidebar benchmark"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
  cargo build --release --locked -p hearth-desktop --features hearth-desktop/custom-protocol
  home="$(mktemp -d)"
  trap 'rm -rf "$home"' EXIT
  XDG_DATA_HOME="$home" HEARTH_DESKTOP_BIN="$bin" dbus-run-session -- \
    scripts/keyring-session.sh xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
    cargo bench --locked -p hearth-tests --features e2e --bench sidebar
  exit 0
fi
runs="${1:-5}"

if [ -z "${HEARTH_MEASURE_INNER:-}" ]; then
  hearth_deps test
  hearth_require_node
  say "Building the UI and the release app"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build)
  cargo build --release --locked -p hearth-desktop -p hearth-cli --features hearth-desktop/custom-protocol
  size=$(stat -c %s "$bin")
  strip -o "$PWD/target/release/hearth-desktop.stripped" "$bin"
  stripped=$(stat -c %s "$PWD/target/release/hearth-desktop.stripped")
  echo "binary: $((size / 1024)) KiB as built, $((stripped / 1024)) KiB stripped"
  home="$(mktemp -d)"
  trap 'rm -rf "$home"' EXIT
  XDG_DATA_HOME="$home" HEARTH_MEASURE_INNER=1 dbus-run-session -- \
    scripts/keyring-session.sh xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$0" "$runs"
  exit 0
fi

# PSS in KiB of a process and all its descendants.
tree_pss() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1" || true); do
    if [ "$pid" != "$1" ]; then
      total=$((total + $(tree_pss "$pid")))
    elif [ -r "/proc/$pid/smaps_rollup" ]; then
      total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")))
    fi
  done
  echo "$total"
}

# One launch: prints "<ms to interactive> <idle PSS KiB>".
launch() {
  local data="$1" log
  log="$(mktemp)"
  local start end
  start=$(date +%s%N)
  HEARTH_DATA_DIR="$data" RUST_LOG=info "$bin" 2>"$log" &
  local pid=$!
  for _ in $(seq 1 600); do
    grep -q "window interactive" "$log" && break
    sleep 0.01
  done
  end=$(date +%s%N)
  grep -q "window interactive" "$log" || { echo "the window never became interactive:" >&2; cat "$log" >&2; kill "$pid"; exit 1; }
  sleep 10
  local pss
  pss=$(tree_pss "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$log"
  echo "$(((end - start) / 1000000)) $pss"
}

report() {
  local label="$1"; shift
  printf '%s\n' "$@" | sort -n | awk -v label="$label" '
    { v[NR] = $1 } END { printf "%s: median %s, min %s, max %s (n=%d)\n", label, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
}

first=() first_mem=() again=() again_mem=()
for _ in $(seq 1 "$runs"); do
  data="$(mktemp -d)/hearth"
  read -r ms kib < <(launch "$data"); first+=("$ms"); first_mem+=("$kib")
  HEARTH_PASSPHRASE="measure passphrase" ./target/release/hearth --data-dir "$data" init --passphrase >/dev/null 2>&1
  read -r ms kib < <(launch "$data"); again+=("$ms"); again_mem+=("$kib")
  rm -rf "$(dirname "$data")"
done
report "cold start to interactive, first run (ms)" "${first[@]}"
report "cold start to interactive, existing vault (ms)" "${again[@]}"
report "idle memory 10 s after start, app + WebKit processes (PSS KiB)" "${first_mem[@]}" "${again_mem[@]}"
