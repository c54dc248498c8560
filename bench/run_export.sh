#!/usr/bin/env bash
# The PostgreSQL export's throughput (docs/ANALYTICS.md, docs/PERFORMANCE.md
# "PostgreSQL export"): a county store of generated cases (county_gen,
# tests/analytics/county_gen.cpp; 18,000 cases are 103,036 events)
# exported by `liandong export postgres` into a PostgreSQL cluster of its
# own (initdb and pg_ctl in a scratch directory, as the `postgres` user
# when run as root; fsync on, as a server would run), timed from start to
# the exporter's exit. Prints events/s. The cluster is stopped and the
# scratch directory removed on exit.
#
# Usage: bash bench/run_export.sh [--build DIR] [--cases N] [--batch N]
#   --build  a build directory holding node/liandong and county_gen
#            (default: build; e.g. `nice ninja -C build liandong county_gen`)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build"
cases=18000
batch=20000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --cases) cases="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    *) echo "run_export.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bin="$build/node/liandong"
gen="$build/tests/county_gen"
for f in "$bin" "$gen"; do
  [[ -x "$f" ]] || { echo "run_export.sh: $f missing: build liandong and county_gen" >&2; exit 2; }
done
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[[ -x "$pgbin/initdb" ]] || { echo "run_export.sh: PostgreSQL server binaries not found" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/liandong-export-bench.XXXXXX")"
as=()
if [[ "$(id -u)" -eq 0 ]]; then as=(runuser -u postgres --); chmod 755 "$work"; fi
mkdir -m 700 "$work/pg"
[[ ${#as[@]} -gt 0 ]] && chown postgres: "$work/pg"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cleanup() {
  "${as[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${as[@]}" "$pgbin/initdb" -D "$work/pg/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
"${as[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
  -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
dsn="host=127.0.0.1 port=$port user=postgres dbname=postgres"

t0=$(date +%s.%N)
events="$("$gen" create --data "$work/county" --cases "$cases")"
t1=$(date +%s.%N)
echo "store: $cases cases, $events events (generated in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s)"
t0=$(date +%s.%N)
"$bin" export postgres --data "$work/county" --dsn "$dsn" --batch "$batch"
t1=$(date +%s.%N)
secs="$(echo "$t1 - $t0" | bc)"
rows="$(psql -X -At -d "$dsn" -c 'SELECT count(*) FROM liandong.events')"
[[ "$rows" == "$events" ]] || { echo "run_export.sh: $rows rows for $events events" >&2; exit 1; }
printf 'exported %s events in %.2f s: %.0f events/s (batch %s, %s)\n' "$events" "$secs" \
  "$(echo "$events / $secs" | bc -l)" "$batch" "$(nproc) cores"
