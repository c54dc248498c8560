#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors (g++, and clang
# as a second compiler that must stay warning-free too), and runs the whole
# test suite through ctest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/deploy/install-deps.sh"
build=${LIANDONG_BUILD:-$here/build}
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
if command -v clang++-14 >/dev/null; then
  clang_build=${LIANDONG_CLANG_BUILD:-$here/build-clang}
  CC=clang-14 CXX=clang++-14 cmake -S "$here" -B "$clang_build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON >/dev/null
  cmake --build "$clang_build" -j"$(nproc)"
fi
cd "$build"
ctest --output-on-failure --timeout 600 -j"$(nproc)"
