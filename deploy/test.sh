#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors and runs the whole
# test suite through ctest (g++). Then, with clang-14, a second compiler that
# must stay warning-free too, the sanitizer stage:
#   build-clang  every target, -Werror, under AddressSanitizer and
#                UndefinedBehaviorSanitizer; the unit tests (`ctest -L unit`:
#                pure logic and single-process LMDB) and the fuzz corpora run
#                under them.
#   build-tsan   the threaded parts under ThreadSanitizer: the ingest pipeline
#                with its verify pool (ingest_pipeline_test), and the daemon
#                whose desk answers HTTP on its own threads while the store is
#                read and written (desk_http_test against a TSan `liandong`).
# The clang builds compile at the lowest CPU priority while the g++ suite
# runs (its tests mostly wait on sockets and timers); their tests run after.
# Any sanitizer report fails the run; the reports are printed and kept in
# <build>/sanitizer-reports/. LIANDONG_BUILD, LIANDONG_CLANG_BUILD and
# LIANDONG_TSAN_BUILD choose the build directories; LIANDONG_SANITIZERS=0
# keeps the clang build warnings-only (no sanitizers, no second test run).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/deploy/install-deps.sh"
jobs=$(nproc)
build=${LIANDONG_BUILD:-$here/build}
# The test builds' flags: the g++ build optimizes at -O1 without debug info
# (node/links.cpp: 16.7 s CPU at -O2 -> 13.1 s; the tests wait on sockets and
# timers, and the benchmarks build their own -O2 trees); the sanitizer builds
# compile unoptimized with line tables (half of it; the sanitizers' checks
# are the same, the tests run slower) and leave out the benchmarks.
test_flags="-O1 -DNDEBUG"
sanitizer_flags="-O0 -gline-tables-only -DNDEBUG"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$test_flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$test_flags" >/dev/null
cmake --build "$build" -j"$jobs"

command -v clang++-14 >/dev/null || { echo "test.sh: clang++-14 missing, no sanitizer stage" >&2; exit 1; }
sanitize=${LIANDONG_SANITIZERS:-1}
supp="$here/cmake/sanitizers"
clang_build=${LIANDONG_CLANG_BUILD:-$here/build-clang}
tsan_build=${LIANDONG_TSAN_BUILD:-$here/build-tsan}

# The clang builds, one after the other.
clang_builds() {
  if [ "$sanitize" = 0 ]; then
    CC=clang-14 CXX=clang++-14 cmake -S "$here" -B "$clang_build" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON -DLIANDONG_SANITIZE= >/dev/null
    cmake --build "$clang_build" -j"$jobs"
    return
  fi
  CC=clang-14 CXX=clang++-14 cmake -S "$here" -B "$clang_build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON -DLIANDONG_SANITIZE=address,undefined \
    -DLIANDONG_BENCH=OFF \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$sanitizer_flags" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$sanitizer_flags" >/dev/null
  cmake --build "$clang_build" -j"$jobs"
  CC=clang-14 CXX=clang++-14 cmake -S "$here" -B "$tsan_build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON -DLIANDONG_SANITIZE=thread \
    -DLIANDONG_BENCH=OFF \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$sanitizer_flags" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$sanitizer_flags" >/dev/null
  cmake --build "$tsan_build" -j"$jobs" --target ingest_pipeline_test desk_http_test liandong
}

mkdir -p "$build"
clang_log="$build/clang-builds.log"
export -f clang_builds
export here jobs sanitize clang_build tsan_build sanitizer_flags
setsid nice -n 19 bash -c 'set -euo pipefail; clang_builds' >"$clang_log" 2>&1 &
clang_pid=$!
stop_clang() { kill -- -"$clang_pid" 2>/dev/null || true; }
trap stop_clang EXIT

# One slot more than cores: fault.attachment_link spends its minutes
# waiting on a 64 kbit/s link, started first (its COST) beside the rest.
(cd "$build" && ctest --output-on-failure --timeout 600 -j"$((jobs + 1))")

if ! wait "$clang_pid"; then
  echo "test.sh: the clang build failed:" >&2
  tail -n 200 "$clang_log" >&2
  exit 1
fi
trap - EXIT
tail -n 3 "$clang_log"
[ "$sanitize" = 0 ] && exit 0

# Runs "$@" with the sanitizers' reports written under $1/sanitizer-reports;
# fails, printing them, if there is any.
under_sanitizers() {
  local dir=$1/sanitizer-reports
  shift
  rm -rf "$dir" && mkdir -p "$dir"
  local status=0
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$dir/asan" \
    LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$dir/ubsan" \
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:log_path=$dir/tsan" \
    "$@" || status=$?
  if compgen -G "$dir/*" >/dev/null; then
    echo "test.sh: sanitizer reports in $dir:" >&2
    cat "$dir"/* >&2
    return 1
  fi
  return "$status"
}

under_sanitizers "$clang_build" \
  ctest --test-dir "$clang_build" --output-on-failure --timeout 600 -j"$jobs" -L 'unit|fuzz'
under_sanitizers "$tsan_build" "$tsan_build/storage/ingest_pipeline_test"
under_sanitizers "$tsan_build" "$tsan_build/tests/desk_http_test"
