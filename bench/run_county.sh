#!/usr/bin/env bash
# Builds the county benchmark and the daemon in Release (into
# build-syncbench/, configuring it only if needed), runs bench/county_bench.cpp
# -- one county, 20 townships and 400 villages as real `liandong run`
# daemons on 127.0.0.1 -- and refreshes the generated figures in
# docs/PERFORMANCE.md between its county-bench:begin / county-bench:end
# markers. The run is bounded (each phase by the benchmark, the whole by
# `timeout`); the daemons are stopped by pid and the scratch stores removed.
#
# Usage: bash bench/run_county.sh [--dir DIR] [other county_bench options]
#   --dir    where the scratch stores go (default: $TMPDIR or /tmp)
# Any other option (e.g. --townships 2 --villages 5 for a smoke run) goes to
# county_bench and leaves the document alone: only a default full run is
# written there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/bench_lib.sh
source "$root/bench/bench_lib.sh"
build="$root/build-syncbench"
doc="$root/docs/PERFORMANCE.md"
begin='<!-- county-bench:begin -->'
end='<!-- county-bench:end -->'

write_doc=1
skip=0
for arg in "$@"; do
  if [[ $skip -eq 1 ]]; then skip=0; continue; fi
  case "$arg" in
    --dir) skip=1 ;;
    --*) write_doc=0 ;;
  esac
done

release_build "$build" county_bench liandong

figures="$(mktemp)"
trap 'rm -f "$figures"' EXIT
# SIGTERM at the limit: the benchmark then stops its daemons and removes its
# scratch directory; SIGKILL 60 s later if it has not (the daemons die with
# it: PR_SET_PDEATHSIG).
timeout --kill-after=60 5400 \
  "$build/bench/county_bench" --liandong "$build/node/liandong" --markdown "$figures" "$@"

if [[ $write_doc -eq 0 ]]; then
  echo "not a default full run: $doc left unchanged"
  exit 0
fi
write_figures "$doc" "$begin" "$end" "$figures" bench/run_county.sh
