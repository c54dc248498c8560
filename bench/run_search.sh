#!/usr/bin/env bash
# Builds the search benchmark and the liandong binary in Release (into
# build-bench/, only if needed), builds a store of 100,000 cases, times the
# real `liandong case list` pages and searches on it, and refreshes the
# figures in docs/PERFORMANCE.md between its search-bench:begin / end
# markers. Safe to rerun; the store is removed afterwards.
#
# Usage: bash bench/run_search.sh [--quick] [--dir DIR]
#   --quick  10,000 cases, 3 runs each; prints figures, leaves the doc alone
#   --dir    where the temporary store goes (default: $TMPDIR or /tmp)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/bench_lib.sh
source "$root/bench/bench_lib.sh"
build="$root/build-bench"
doc="$root/docs/PERFORMANCE.md"
begin='<!-- search-bench:begin (written by bench/run_search.sh; do not edit by hand) -->'
end='<!-- search-bench:end -->'

quick=0
for arg in "$@"; do
  [[ "$arg" == "--quick" ]] && quick=1
done
command -v /usr/bin/time >/dev/null || { echo "bench/run_search.sh: needs GNU time (apt-get install time)" >&2; exit 1; }

release_build "$build" search_bench liandong

figures="$(mktemp)"
trap 'rm -f "$figures"' EXIT
"$build/bench/search_bench" --liandong "$build/node/liandong" --build Release --markdown "$figures" "$@"

if [[ $quick -eq 1 ]]; then
  echo "--quick: $doc left unchanged"
  exit 0
fi
write_figures "$doc" "$begin" "$end" "$figures" bench/run_search.sh
