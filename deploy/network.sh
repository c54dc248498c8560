#!/usr/bin/env bash
# A local three-tier network on this machine: county 360723, township hubs
# 360723101 and 360723102, village agent points 360723101001, 360723101002,
# 360723101007 and 360723102003, each its own `liandong run` process with
# its own store, linked over 127.0.0.1. Installs what is missing, builds,
# then (deploy/network.py) has the villages register applications while
# their uplinks are down, brings the links up, restarts a township (SIGTERM,
# then once SIGKILL) while villages keep submitting, lets the townships pass
# up 上报件 and the county decide, waits for the decisions to reach each
# village, delivers, and prints the county's ledger with each case's path
# and timings. Exits 0 when every step held and every node exited 0.
#
#   LIANDONG_BUILD=DIR   build directory (default: build-network)
#   LIANDONG_KEEP=1      keep the work directory (stores, configs, logs)
#   LIANDONG_WAIT=S      bound on each wait for events, seconds (default 60)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/deploy/install-deps.sh"
build=${LIANDONG_BUILD:-$here/build-network}
buildlog=$(mktemp /tmp/liandong-network-build.XXXXXX)
if ! { cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLIANDONG_WERROR=ON &&
       cmake --build "$build" -j"$(nproc)" --target liandong; } >"$buildlog" 2>&1; then
  tail -n 40 "$buildlog" >&2
  rm -f "$buildlog"
  echo "network: build failed" >&2
  exit 1
fi
rm -f "$buildlog"

work=$(mktemp -d /tmp/liandong-network.XXXXXX)
py=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # The orchestrator stops its nodes itself; this only catches what it left
  # behind (it was killed). Only pids it recorded, and only while they are
  # still a liandong process of this work directory.
  if [ -n "$py" ] && kill -0 "$py" 2>/dev/null; then
    kill -TERM "$py" 2>/dev/null || true
    wait "$py" 2>/dev/null || true
  fi
  if [ -f "$work/pids" ]; then
    while read -r pid; do
      if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$work/"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$work/pids"
  fi
  if [ "${LIANDONG_KEEP:-0}" = 1 ]; then
    echo "network: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# In the background so that a signal to this shell runs the traps at once.
PYTHONUNBUFFERED=1 python3 "$here/deploy/network.py" --bin "$build/node/liandong" --work "$work" &
py=$!
rc=0
wait "$py" || rc=$?
py=""
exit "$rc"
