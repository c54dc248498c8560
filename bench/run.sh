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
build="$root/build-bench"
doc="$root/docs/PERFORMANCE.md"
begin='<!-- bench:begin (written by bench/run.sh; do not edit by hand) -->'
end='<!-- bench:end -->'

quick=0
for arg in "$@"; do
  [[ "$arg" == "--quick" ]] && quick=1
done

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
elif ! grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt"; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$build" --target ingest_bench -j "$(nproc)"

figures="$(mktemp)"
trap 'rm -f "$figures"' EXIT
"$build/bench/ingest_bench" --markdown "$figures" "$@"

if [[ $quick -eq 1 ]]; then
  echo "--quick: $doc left unchanged"
  exit 0
fi
if ! grep -qF -- "$begin" "$doc" || ! grep -qF -- "$end" "$doc"; then
  echo "bench/run.sh: $doc lacks the bench:begin/bench:end markers" >&2
  exit 1
fi
awk -v figures="$figures" -v begin="$begin" -v end="$end" '
  $0 == begin { print; while ((getline line < figures) > 0) print line; skipping = 1; next }
  $0 == end { skipping = 0 }
  !skipping { print }
' "$doc" >"$doc.new"
mv "$doc.new" "$doc"
echo "figures written to $doc"
