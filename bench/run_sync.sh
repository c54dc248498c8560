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

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
elif ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" --target sync_bench liandong -j "$(nproc)"

figures="$(mktemp)"
trap 'rm -f "$figures"' EXIT
"$build/bench/sync_bench" --liandong "$build/node/liandong" --markdown "$figures" "$@"

if [[ $write_doc -eq 0 ]]; then
  echo "not a default full run: $doc left unchanged"
  exit 0
fi
if ! grep -qF -- "$begin" "$doc" || ! grep -qF -- "$end" "$doc"; then
  echo "bench/run_sync.sh: $doc lacks the sync-bench:begin/sync-bench:end markers" >&2
  exit 1
fi
awk -v figures="$figures" -v begin="$begin" -v end="$end" '
  $0 == begin { print; while ((getline line < figures) > 0) print line; skipping = 1; next }
  $0 == end { skipping = 0 }
  !skipping { print }
' "$doc" >"$doc.new"
mv "$doc.new" "$doc"
echo "figures written to $doc"
