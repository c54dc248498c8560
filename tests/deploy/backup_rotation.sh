#!/usr/bin/env bash
# deploy.backup_rotation: deploy/liandong-backup, the nightly timer's script,
# with a stand-in for `liandong backup` (the real one is tested with the
# command): one new backup named by the date, the newest KEEP kept, other
# folders never touched, nothing removed when the backup fails, and an
# unconfigured node skipped without failing.
# Usage: backup_rotation.sh SOURCE_DIR
set -euo pipefail
script=$1/deploy/liandong-backup

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; ls -1 "$tmp/backups" 2>/dev/null; exit 1; }

# The stand-in: `FAKE backup DEST --config FILE` makes DEST (as the real one
# does, refusing one that exists) and records its arguments.
cat >"$tmp/fake" <<'FAKE'
#!/bin/sh
[ "$1" = backup ] && [ "$3" = --config ] || exit 2
[ -n "${FAKE_FAIL:-}" ] && { echo "错误：磁盘已满" >&2; exit 1; }
[ -e "$2" ] && exit 2
mkdir "$2" && echo "$4" >"$2/config-used"
FAKE
chmod +x "$tmp/fake"
export LIANDONG_BIN=$tmp/fake

printf '[node]\ncode = "360723"\ndata = "/var/lib/liandong/store"\n' >"$tmp/configured.toml"
printf '[node]\n# code = ""\ndata = "/var/lib/liandong/store"\n' >"$tmp/unconfigured.toml"
mkdir "$tmp/backups"
for d in 2026-01-01 2026-01-02 2026-01-03 2026-01-04 2026-01-05 2026-01-06 2026-01-07 \
    2026-01-08T010203 2026-01-09 keep-me; do
  mkdir "$tmp/backups/$d"
done

today=$(date +%Y-%m-%d)
"$script" "$tmp/configured.toml" "$tmp/backups" 7 >"$tmp/out"
[ -f "$tmp/backups/$today/config-used" ] || fail "no backup $today"
[ "$(cat "$tmp/backups/$today/config-used")" = "$tmp/configured.toml" ] || fail "wrong --config"
want="2026-01-04 2026-01-05 2026-01-06 2026-01-07 2026-01-08T010203 2026-01-09 $today keep-me"
got=$(ls -1 "$tmp/backups" | sort | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$(tr ' ' '\n' <<<"$want" | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
  fail "after rotation: $got (want $want)"
grep -q "已删除旧备份 $tmp/backups/2026-01-03" "$tmp/out" || fail "removal not reported"

# The same day again: a second folder, by the time.
"$script" "$tmp/configured.toml" "$tmp/backups" 7 >/dev/null
[ "$(ls -1d "$tmp/backups/$today"T* | wc -l)" = 1 ] || fail "no second backup of the day"
[ -d "$tmp/backups/2026-01-04" ] && fail "2026-01-04 not removed"

# A failed backup removes nothing and fails.
before=$(ls -1 "$tmp/backups" | wc -l)
rc=0
FAKE_FAIL=1 "$script" "$tmp/configured.toml" "$tmp/backups" 1 >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 1 ] || fail "failed backup exited $rc"
grep -q "备份失败" "$tmp/err" || fail "failure not said"
[ "$(ls -1 "$tmp/backups" | wc -l)" = "$before" ] || fail "a failed backup removed some"

# Not configured: nothing done, success, said.
rc=0
FAKE_FAIL=1 "$script" "$tmp/unconfigured.toml" "$tmp/backups" 1 >"$tmp/out" || rc=$?
[ "$rc" = 0 ] || fail "unconfigured exited $rc"
grep -q "尚未配置" "$tmp/out" || fail "unconfigured not said"
[ "$(ls -1 "$tmp/backups" | wc -l)" = "$before" ] || fail "unconfigured changed backups"

# A bad KEEP is refused.
rc=0
"$script" "$tmp/configured.toml" "$tmp/backups" 0 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "KEEP 0 exited $rc"
echo "backup rotation: ok"
