#!/usr/bin/env bash
# deploy.store_version: what an upgrade meets in an old store. A store whose
# schema version is not this program's is refused at `liandong run` with one
# line and exit 2 (so liandong.service, RestartPreventExitStatus=2, is not
# restarted) and is left as it was: the version is changed here with
# mdb_dump/mdb_load (lmdb-utils) in a store this build made.
# Usage: store_version.sh LIANDONG_BINARY
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin" init --data "$tmp/store" --code 360723 >/dev/null
db=$tmp/store/store
printf '[node]\ncode = "360723"\ndata = "%s"\n[desk]\nlisten = "off"\n' "$tmp/store" >"$tmp/node.toml"
"$bin" store check --data "$tmp/store" >/dev/null || fail "a new store does not pass store check"

# meta/schema (storage/store_keys.h), big-endian 8 bytes: 1 -> 99.
mdb_dump -s meta "$db" >"$tmp/meta.dump"
grep -qx ' 736368656d61' "$tmp/meta.dump" || fail "no schema key in meta"
awk 'prev == " 736368656d61" { print " 0000000000000063"; prev = ""; next } { print; prev = $0 }' \
  "$tmp/meta.dump" >"$tmp/meta.v99"
mdb_load -s meta -f "$tmp/meta.v99" "$db" 2>"$tmp/load.err" || { cat "$tmp/load.err"; fail "mdb_load"; }
mdb_dump -s meta "$db" | grep -qx ' 0000000000000063' || fail "the version was not changed"
before=$(md5sum <"$db/data.mdb")

rc=0
timeout 30 "$bin" run --config "$tmp/node.toml" >"$tmp/out" 2>"$tmp/err" || rc=$?
cat "$tmp/err"
[ "$rc" = 2 ] || fail "run on a schema-99 store exited $rc, not 2"
[ "$(wc -l <"$tmp/err")" = 1 ] || fail "not one line"
grep -q '格式版本 99' "$tmp/err" || fail "the line does not name the store's version"
[ "$(md5sum <"$db/data.mdb")" = "$before" ] || fail "the refused store was written to"
echo "store_version: refused with one line, exit 2, store unchanged"
