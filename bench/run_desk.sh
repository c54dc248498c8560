#!/usr/bin/env bash
# Builds the desk benchmark and the liandong binary in Release (into
# build-bench/, only if needed), builds a county store of 100,000 cases
# (and one township's share of them), serves each with the real
# `liandong run`, times the desk's 工作台, 办件查询 and 办件详情 answers and
# weighs its pages, and refreshes the figures in docs/PERFORMANCE.md between
# its desk-bench:begin / end markers. Safe to rerun; the stores are removed
# afterwards (unless --keep DIR).
#
# Usage: bash bench/run_desk.sh [--quick] [--dir DIR] [--keep DIR] [--no-township]
#   --quick        10,000 cases, 50 requests each; prints figures, leaves the doc alone
#   --dir DIR      where the temporary stores go (default: $TMPDIR or /tmp)
#   --keep DIR     leave the nodes there (each with a node.toml for `liandong run`)
#   --no-township  the county only
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/bench_lib.sh
source "$root/bench/bench_lib.sh"
build="$root/build-bench"
doc="$root/docs/PERFORMANCE.md"
begin='<!-- desk-bench:begin (written by bench/run_desk.sh; do not edit by hand) -->'
end='<!-- desk-bench:end -->'

quick=0
for arg in "$@"; do
  [[ "$arg" == "--quick" ]] && quick=1
done

release_build "$build" desk_bench liandong

figures="$(mktemp)"
trap 'rm -f "$figures"' EXIT
"$build/bench/desk_bench" --liandong "$build/node/liandong" --source "$root" --build Release \
  --markdown "$figures" "$@"

if [[ $quick -eq 1 ]]; then
  echo "--quick: $doc left unchanged"
  exit 0
fi
write_figures "$doc" "$begin" "$end" "$figures" bench/run_desk.sh
