#!/usr/bin/env bash
# Import throughput: how fast `liandong import` brings a paper ledger in.
# Generates a CSV ledger of N rows (default 20,000; valid ID numbers and
# phones, Chinese headers, UTF-8 with BOM as WPS saves it), then times the
# real binary importing it into a fresh county store, once directly on the
# store and once through a running daemon (the control socket), and a
# second run of the same file (every row already imported). Safe to rerun.
#
# Usage: bash bench/import_bench.sh [--rows N] [--bin PATH] [--dir DIR]
#   --bin  the liandong binary (default: build/node/liandong)
#   --dir  where the temporary stores go (default: $TMPDIR or /tmp); every
#          batch commit is synced, so the figures depend on this disk
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rows=20000
bin="$root/build/node/liandong"
base="${TMPDIR:-/tmp}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --dir) base="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$bin" ]] || { echo "no liandong binary at $bin (build it first)" >&2; exit 2; }

work="$(mktemp -d "$base/liandong-import-bench.XXXXXX")"
daemon_pid=""
cleanup() {
  if [[ -n "$daemon_pid" ]]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# The ledger: items of the example catalog with every required material.
python3 - "$rows" "$work/ledger.csv" <<'PY'
import sys, random
n, out = int(sys.argv[1]), sys.argv[2]
random.seed(13)
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
def rid(i):
    body = "360723" + "%04d%02d%02d" % (1940 + i % 60, 1 + i % 12, 1 + i % 28) + "%03d" % (i % 1000)
    return body + "10X98765432"[sum(int(a) * b for a, b in zip(body, w)) % 11]
items = [("MZ-003", "居民身份证、户口簿"), ("YB-002", "居民身份证、户口簿"),
         ("ZM-001", "居民身份证"), ("MZ-004", "临时救助申请书、居民身份证")]
surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
given = ["秀英", "桂兰", "建国", "志强", "小红", "海涛", "春梅", "国华", "玉珍", "德明"]
with open(out, "w", encoding="utf-8-sig", newline="") as f:
    f.write("序号,申请人姓名,身份证号码,联系电话,住址,事项编码,材料,所属村,申请事由\r\n")
    for i in range(n):
        code, mats = items[i % len(items)]
        village = "360723101%03d" % (1 + i % 20)
        name = random.choice(surnames) + random.choice(given)
        f.write('%d,%s,%s,139%08d,"黄坪乡%d组,%d号",%s,%s,%s,纸质台账补录\r\n'
                % (i + 1, name, rid(i), i, 1 + i % 9, 1 + i % 80, code, mats, village))
PY

init_county() {
  "$bin" init --data "$1" --code 360723 --force >/dev/null
  "$bin" catalog publish "$root/config/catalog-example.toml" --actor 吴主任 --role director \
    --data "$1" >/dev/null
}

# Wall-clock seconds the command took, then the CPU seconds (user + system)
# of the CLI process itself; its stdout's last line goes to stderr.
timed() {
  local t0 t1 out cpu
  t0=$(date +%s.%N)
  out="$(/usr/bin/time -f '%U %S' -o "$work/cpu" "$@" || true)"
  t1=$(date +%s.%N)
  echo "$out" | tail -1 >&2
  cpu=$(awk '{printf "%.2f", $1 + $2}' "$work/cpu")
  echo "$t1 $t0 $cpu" | awk '{printf "%.3f %s", $1 - $2, $3}'
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

echo "ledger: $rows rows, $(du -h "$work/ledger.csv" | cut -f1), $work/ledger.csv"

direct="$work/direct"
init_county "$direct"
read -r t_direct c_direct <<<"$(timed "$bin" import "$work/ledger.csv" --actor 王小红 --data "$direct")"
read -r t_again c_again <<<"$(timed "$bin" import "$work/ledger.csv" --actor 王小红 --data "$direct")"

viad="$work/daemon"
init_county "$viad"
cat > "$work/county.toml" <<TOML
[node]
code = "360723"
data = "$viad"
log_level = "warn"
TOML
"$bin" run --config "$work/county.toml" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 100); do
  "$bin" status --data "$viad" 2>/dev/null | grep -q . && break
  sleep 0.1
done
read -r t_daemon c_daemon <<<"$(timed "$bin" import "$work/ledger.csv" --actor 王小红 --data "$viad")"
kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true; daemon_pid=""
cases=$("$bin" case list --json --data "$viad" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')

echo
echo "| run | rows | seconds | applications/s | CPU s of the CLI |"
echo "|---|---:|---:|---:|---:|"
echo "| directly on the store | $rows | $t_direct | $(rate "$rows" "$t_direct") | $c_direct |"
echo "| through the daemon (control socket) | $rows | $t_daemon | $(rate "$rows" "$t_daemon") | $c_daemon (checks and writes in the daemon) |"
echo "| same file again (all rows already imported) | $rows | $t_again | $(rate "$rows" "$t_again") | $c_again |"
echo
echo "cases held after the daemon run: $cases (of $rows rows)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(uname -r)"
