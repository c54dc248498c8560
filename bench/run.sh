#!/usr/bin/env bash
# Builds the benchmarks in Release (into build-bench/, only if needed), runs
# them, and refreshes the generated figures in docs/PERFORMANCE.md between
# its bench:begin / bench:end markers. Safe to rerun.
#
# Usage: bash bench/run.sh [--quick] [--dir DIR]
#   --quick  a short smoke run (1/10 of the events, one run each); prints
#            figures but leaves docs/PERFORMANCE.md alone
#   --dir    where the temporary stores go (default: $TMPDIR or /tmp); the
#            figures depend on this disk, since every commit is synced
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/bench_lib.sh
source "$root/bench/bench_lib.sh"
build="$root/build-bench"
doc="$root/docs/PERFORMANCE.md"
begin='<!-- bench:begin (written by bench/run.sh; do not edit by hand) -->'
end='<!-- bench:end -->'

quick=0
for arg in "$@"; do
  [[ "$arg" == "--quick" ]] && quick=1
done

release_build "$build" ingest_bench

figures="$(mktemp)"
trap 'rm -f "$figures"' EXIT
"$build/bench/ingest_bench" --markdown "$figures" "$@"

if [[ $quick -eq 1 ]]; then
  echo "--quick: $doc left unchanged"
  exit 0
fi
write_figures "$doc" "$begin" "$end" "$figures" bench/run.sh
