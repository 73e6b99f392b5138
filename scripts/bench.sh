#!/usr/bin/env bash
# Runs the vault benchmarks (crates/vault/benches/vault.rs) and prints their numbers;
# docs/PERFORMANCE.md explains them.
#
# How long, on the 2-core VM of docs/PERFORMANCE.md: about 6.5 minutes once everything is
# built and the fixture is cached. A first run adds the release build (~2-3 minutes,
# mostly SQLCipher), building the one-million-message fixture (~80 s) and its plaintext
# export for the search diagnosis (~10 s). Both are cached under
# $CARGO_TARGET_DIR/bench-fixtures/ (about 1.6 GiB) and rebuilt when absent or when the
# schema or the generator changes.
#
# Usage: scripts/bench.sh [cargo options] [-- criterion options or filter]
#   scripts/bench.sh -- search_1m       only the search benchmarks
#
# Environment:
#   CARGO_TARGET_DIR        where to build; defaults to target-bench/ beside the workspace
#                           so a benchmark never waits on the main target's lock.
#   HEARTH_BENCH_FIXTURES   where to cache the fixture (default: $CARGO_TARGET_DIR/bench-fixtures).
#   HEARTH_BENCH_DIAGNOSE   1 (default here) also breaks search time down: the app's query
#                           vs. ranking inside FTS first, default vs. large page cache,
#                           encrypted vs. a plaintext export of the fixture. 0 skips it.
#
# The full output goes to $CARGO_TARGET_DIR/bench-vault.log; this script shows progress,
# then criterion's estimates and the summary (ratios, open time, search p50/p99).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(dirname "$root")/target-bench}"
export HEARTH_BENCH_DIAGNOSE="${HEARTH_BENCH_DIAGNOSE:-1}"
mkdir -p "$CARGO_TARGET_DIR"
log="$CARGO_TARGET_DIR/bench-vault.log"

cargo_args=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
    cargo_args+=("$1")
    shift
done
[[ "${1:-}" == "--" ]] && shift

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB"
echo "building and running (log: $log) ..."
start=$(date +%s)
cd "$root"
set +e
cargo bench -p hearth-vault --bench vault "${cargo_args[@]}" -- "$@" 2>&1 | tee "$log" |
    grep --line-buffered -E '^(fixture:|insert_.* round |Benchmarking [^:]*$)'
statuses=("${PIPESTATUS[@]}")
set -e
status=${statuses[0]}
if [[ $status -ne 0 ]]; then
    echo "cargo bench failed (exit $status); see $log" >&2
    tail -20 "$log" >&2
    exit "$status"
fi

echo
echo "== criterion estimates: time per operation [low, mean, high of the 95% CI] =="
# A long benchmark name is on its own line, followed by its `time:` line.
awk '
    /^[a-z_0-9]+\/[a-z_0-9]+/ { name = $1 }
    /time:/ { line = $0; sub(/^.*time: */, "", line); printf "  %-28s %s\n", name, line }
' "$log"
awk '/query words|search diagnosis|== Hearth vault benchmark summary/ { p = 1 } p' "$log"
echo
echo "took $(( $(date +%s) - start )) s"
