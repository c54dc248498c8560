#!/usr/bin/env bash
# Soak: chaos rounds (deploy/testbed/chaos.py), each with a new seed, one
# after another until the time is up. One summary line per round (seed,
# schedule length, faults, events, result, seconds) and a final total.
# Exit 0 if every round passed; 1 if any failed (that round's log and work
# directory — stores, configs, node logs — are kept and named); 77 without
# root. Needs root (network namespaces).
#
#   sudo deploy/testbed/soak.sh --hours 8 [--bin build-testbed/node/liandong]
#        [--no-disk-faults] [--out DIR] [--villages N] [--jobs N]
#
# --hours accepts fractions (0.1 = 6 minutes); a round started before the
# end runs to its finish (a round is bounded: about a minute, at most 10).
# --jobs N runs N rounds side by side (default 1; each has its own
# namespaces, processes and directories; rounds mostly wait on slow links).
# Replay a failed round: deploy/testbed/chaos.py --bin BIN --seed N.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

hours=""
bin="$root/build-testbed/node/liandong"
out=""
jobs=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --hours) hours=${2:-}; shift 2 ;;
    --bin) bin=${2:-}; shift 2 ;;
    --out) out=${2:-}; shift 2 ;;
    --no-disk-faults) extra+=(--no-disk-faults); shift ;;
    --villages) extra+=(--villages "${2:-}"); shift 2 ;;
    --jobs) jobs=${2:-}; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$hours" =~ ^[0-9]+([.][0-9]+)?$|^[.][0-9]+$ ]]; then
  echo "soak: --hours N is required (N may be fractional, e.g. 0.1)" >&2
  exit 2
fi
if ! [[ "$jobs" =~ ^[1-8]$ ]]; then
  echo "soak: --jobs N must be 1 to 8, not '$jobs'" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "!!!!! soak: SKIPPED: needs root (network namespaces, veth, tc, nftables); run as root / sudo" >&2
  exit 77
fi
if [ ! -x "$bin" ]; then
  echo "soak: $bin: not an executable liandong binary (build: cmake --build build-testbed)" >&2
  exit 2
fi
out=${out:-/tmp/liandong-soak-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"

budget=$(python3 -c "print(int(float('$hours') * 3600))")
start=$(date +%s)
end=$((start + budget))
results="$out/.results"   # one line per finished round: rc steps faults events seed
counter="$out/.round"     # the last round number handed out (under flock)
: >"$results"
echo 0 >"$counter"
workers=()

on_signal() {
  trap - INT TERM
  for w in "${workers[@]}"; do kill -TERM "$w" 2>/dev/null; done
  wait 2>/dev/null
  echo "soak: interrupted after $(wc -l <"$results") finished round(s); logs in $out" >&2
  exit 130
}
trap on_signal INT TERM

next_round() {
  flock "$counter" sh -c 'n=$(( $(cat "$1") + 1 )); echo "$n" >"$1"; echo "$n"' _ "$counter"
}

# One worker: rounds one after another until the time is up.
worker() {
  local child=""
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait; exit 130' TERM
  while [ "$(date +%s)" -lt "$end" ]; do
    local round seed log sum rc line st fa ev rec res secs work reason text
    round=$(next_round)
    seed=$(( ($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % 2147483646) + 1 ))
    log="$out/round-$round-seed-$seed.log"
    sum="$out/round-$round-seed-$seed.json"
    # chaos.py bounds its own waits; `timeout` is the last resort (SIGTERM:
    # chaos.py still removes its namespaces, mounts and processes).
    timeout -k 30 600 python3 "$here/chaos.py" --bin "$bin" --seed "$seed" --keep-on-fail \
      --summary "$sum" "${extra[@]}" >"$log" 2>&1 &
    child=$!
    wait "$child"
    rc=$?
    child=""
    line=$(python3 - "$sum" "$rc" <<'EOF'
import json, sys
try:
    s = json.load(open(sys.argv[1], encoding="utf-8"))
except (OSError, ValueError):
    s = {}
rc = int(sys.argv[2])
result = s.get("result", "fail") if rc == 0 else "FAIL"
print(s.get("steps", 0), s.get("faults", 0), s.get("events", 0), s.get("recorded", 0), result,
      s.get("seconds", 0), s.get("work", "") or "-", (s.get("reason") or f"exit {rc}").replace("\n", " ")[:300])
EOF
)
    read -r st fa ev rec res secs work reason <<<"$line"
    text=$(printf '%-6s %-11s %5s %6s %6s %6s %-6s %7s' "$round" "$seed" "$st" "$fa" "$ev" "$rec" "$res" "$secs")
    if [ "$rc" = 0 ]; then
      rm -f "$log" "$sum"
    elif [ "$rc" != 77 ]; then
      text+=$'\n'"       reason: $reason"$'\n'"       log: $log; work directory: $work"
      text+=$'\n'"       replay: $here/chaos.py --bin $bin --seed $seed ${extra[*]}"
    fi
    # One write per round under a lock, so parallel workers' lines do not interleave.
    flock "$results" sh -c 'printf "%s\n" "$1"; printf "%s %s %s %s %s\n" "$2" "$3" "$4" "$5" "$6" >>"$7"' \
      _ "$text" "$rc" "$st" "$fa" "$ev" "$seed" "$results"
    if [ "$rc" = 77 ]; then
      echo "soak: chaos.py skipped (exit 77); see $log" >&2
      exit 77
    fi
  done
}

echo "soak: $hours h ($budget s) of chaos rounds, $jobs at a time, with $bin; logs in $out"
echo "soak: started $(date -u '+%Y-%m-%d %H:%M:%S') UTC"
printf '%-6s %-11s %5s %6s %6s %6s %-6s %7s\n' round seed steps faults events stored result seconds
for ((j = 0; j < jobs; j++)); do
  worker &
  workers+=($!)
  sleep 2   # stagger the testbeds' set-up
done
skipped=0
for w in "${workers[@]}"; do
  wait "$w" || { [ $? = 77 ] && skipped=1; }
done
[ "$skipped" = 1 ] && exit 77
took=$(( $(date +%s) - start ))
read -r rounds passed failed steps faults events failed_seeds < <(awk '
  { n++; if ($1 == 0) p++; else { f++; seeds = seeds (seeds ? "," : "") $5 }
    st += $2; fa += $3; ev += $4 }
  END { printf "%d %d %d %d %d %d %s\n", n, p, f, st, fa, ev, (seeds ? seeds : "-") }' "$results")
echo "soak: total $rounds round(s) in ${took} s: $passed passed, $failed failed; $steps schedule steps," \
     "$faults faults, $events events"
if [ "$failed" -gt 0 ]; then
  echo "soak: FAILED seeds: ${failed_seeds//,/ } (logs kept in $out)"
  exit 1
fi
rm -f "$results" "$counter"
rmdir "$out" 2>/dev/null || true
exit 0
