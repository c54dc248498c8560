#!/usr/bin/env bash
# deploy.unit: the systemd units of deploy/systemd/ pass `systemd-analyze
# verify` with no complaint at all (unknown keys are only warned about, so
# any output fails), and liandong.service's `systemd-analyze security`
# exposure is at most 3.0.
# Usage: unit_check.sh SOURCE_DIR LIANDONG_BINARY
set -euo pipefail
src=$1
bin=$2
max_exposure=3.0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The units as installed, but pointing at this build's programs: verify
# checks that each Exec*= program exists.
for unit in liandong.service liandong-backup.service liandong-backup.timer; do
  sed -e "s#/usr/bin/liandong#$bin#g" \
      -e "s#/usr/lib/liandong/liandong-backup#$src/deploy/liandong-backup#g" \
      "$src/deploy/systemd/$unit" >"$tmp/$unit"
done
grep -q "^ExecStart=$bin run --config /etc/liandong/liandong.toml\$" "$tmp/liandong.service"

out=$(systemd-analyze verify --man=no "$tmp/liandong.service" "$tmp/liandong-backup.service" \
  "$tmp/liandong-backup.timer" 2>&1) || { echo "$out"; echo "FAIL: systemd-analyze verify"; exit 1; }
if [ -n "$out" ]; then
  echo "$out"
  echo "FAIL: systemd-analyze verify complained"
  exit 1
fi
echo "verify: no complaint"

for unit in liandong.service liandong-backup.service; do
  report=$(systemd-analyze security --offline=true "$tmp/$unit" 2>&1) || true
  line=$(grep "Overall exposure level for $unit" <<<"$report" || true)
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$line")
  if [ -z "$score" ]; then
    echo "$report"
    echo "FAIL: no exposure level for $unit"
    exit 1
  fi
  echo "$unit: exposure $score (at most $max_exposure)"
  if ! awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }'; then
    grep '✗' <<<"$report" || true
    echo "FAIL: $unit exposure $score above $max_exposure"
    exit 1
  fi
done

# The settings the node relies on, which a score alone would not show.
for want in 'User=liandong' 'RestartPreventExitStatus=2' 'LimitNOFILE=8192' \
    'ReadWritePaths=/var/lib/liandong' 'ExecReload=/bin/kill -HUP $MAINPID' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' 'MemoryDenyWriteExecute=yes'; do
  grep -qxF "$want" "$src/deploy/systemd/liandong.service" || { echo "FAIL: liandong.service lacks $want"; exit 1; }
done
for want in 'Persistent=true' 'RandomizedDelaySec=1h'; do
  grep -qxF "$want" "$src/deploy/systemd/liandong-backup.timer" || { echo "FAIL: timer lacks $want"; exit 1; }
done
