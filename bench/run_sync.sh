#!/usr/bin/env bash
# Builds the sync benchmark and the daemon in Release (into build-syncbench/,
# configuring it only if needed), runs bench/sync_bench.cpp over real
# `liandong run` daemons on 127.0.0.1, and refreshes the generated figures in
# docs/PERFORMANCE.md between its sync-bench:begin / sync-bench:end markers.
# Safe to rerun; a full run takes about three minutes on 2 cores.
#
# Usage: bash bench/run_sync.sh [--quick] [--dir DIR] [other sync_bench options]
#   --quick  small runs (10,000 events, 10 s of latency, 5 s sustained);
#            prints figures but leaves docs/PERFORMANCE.md alone
#   --dir    where the scratch stores go (default: $TMPDIR or /tmp); the
#            figures depend on this disk, since every commit is synced
# Any other option goes to sync_bench (e.g. --latency-seconds 30, which
# also leaves the document alone: only a default full run is written there).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/bench_lib.sh
source "$root/bench/bench_lib.sh"
build="$root/build-syncbench"
doc="$root/docs/PERFORMANCE.md"
begin='<!-- sync-bench:begin -->'
end='<!-- sync-bench:end -->'

write_doc=1
for arg in "$@"; do
  case "$arg" in
    --dir) ;;
    --*) write_doc=0 ;;
  esac
done

release_build "$build" sync_bench liandong

figures="$(mktemp)"
trap 'rm -f "$figures"' EXIT
"$build/bench/sync_bench" --liandong "$build/node/liandong" --markdown "$figures" "$@"

if [[ $write_doc -eq 0 ]]; then
  echo "not a default full run: $doc left unchanged"
  exit 0
fi
write_figures "$doc" "$begin" "$end" "$figures" bench/run_sync.sh
