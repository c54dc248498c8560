#!/usr/bin/env bash
# Builds the fuzz targets as libFuzzer binaries (clang-14, ASan + UBSan) in
# build-fuzz/ and runs each for N minutes, one at a time, on a copy of its
# seed corpus; prints a summary per target (executions, crashes, OOMs,
# timeouts, leaks). Findings are saved under build-fuzz/fuzz-runs/<target>/.
#
#   tests/fuzz/run.sh [--minutes N] [TARGET...]     (default: 10 minutes, all)
#
# Targets: sync_message signed_event config cursor catalog roster calendar submission_json bundle.
# Exit status: 0 when no target found anything, 1 otherwise, 2 on misuse.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${LIANDONG_FUZZ_BUILD:-$root/build-fuzz}"
minutes=10
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="${2:?--minutes needs a number}"; shift 2 ;;
    --minutes=*) minutes="${1#*=}"; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$minutes" =~ ^[0-9]+$ ]] && [ "$minutes" -gt 0 ] || { echo "run.sh: bad --minutes" >&2; exit 2; }
[ ${#targets[@]} -gt 0 ] || targets=(sync_message signed_event config cursor catalog roster calendar submission_json bundle)

# Largest input per target: a few times its largest legitimate seed.
max_len() {
  case "$1" in
    sync_message) echo 163840 ;;  # a 64 KiB chunk and room to grow
    signed_event) echo 16384 ;;
    config) echo 8192 ;;
    cursor) echo 4096 ;;
    catalog) echo 65536 ;;
    roster) echo 16384 ;;
    calendar) echo 8192 ;;
    submission_json) echo 16384 ;;
    bundle) echo 16384 ;;       # a small bundle; records up to one chunk
    *) echo 4096 ;;
  esac
}

bins=()
for t in "${targets[@]}"; do
  [ -d "$here/corpus/$t" ] || { echo "run.sh: no target $t" >&2; exit 2; }
  bins+=("${t}_fuzz")
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON \
    -DLIANDONG_FUZZ=ON -DLIANDONG_SANITIZE=address,undefined >/dev/null
fi
cmake --build "$build" --target "${bins[@]}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
runs="$build/fuzz-runs"
summary=()
found=0
for t in "${targets[@]}"; do
  work="$runs/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp "$here/corpus/$t/"* "$work/corpus/"
  echo "== $t: $minutes min (log: $work/fuzz.log)"
  # Fork mode with one worker: keeps going after a finding and saves each.
  set +e
  "$build/tests/${t}_fuzz" "$work/corpus" \
    -max_total_time=$((minutes * 60)) -max_len="$(max_len "$t")" -rss_limit_mb=2048 \
    -timeout=10 -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
    -detect_leaks=1 -artifact_prefix="$work/artifacts/" >"$work/fuzz.log" 2>&1
  set -e
  # The last progress line: "#EXECS: cov: C ft: F corp: N exec/s E oom/timeout/crash: a/b/c ..."
  last="$(grep -E '^#[0-9]+: cov:' "$work/fuzz.log" | tail -1 || true)"
  execs="$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")"
  cov="$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$last")"
  corp="$(sed -nE 's/.* corp: ([0-9]+) .*/\1/p' <<<"$last")"
  n_crash=$(find "$work/artifacts" -name 'crash-*' | wc -l)
  n_oom=$(find "$work/artifacts" -name 'oom-*' | wc -l)
  n_timeout=$(find "$work/artifacts" -name 'timeout-*' | wc -l)
  n_leak=$(find "$work/artifacts" -name 'leak-*' | wc -l)
  [ $((n_crash + n_oom + n_timeout + n_leak)) -eq 0 ] || found=1
  summary+=("$(printf '%-14s execs %-10s cov %-6s corpus %-6s crash %s  oom %s  timeout %s  leak %s' \
    "$t" "${execs:-?}" "${cov:-?}" "${corp:-?}" "$n_crash" "$n_oom" "$n_timeout" "$n_leak")")
done

echo
echo "== summary ($minutes min per target; findings under $runs/<target>/artifacts)"
printf '%s\n' "${summary[@]}"
exit $found
