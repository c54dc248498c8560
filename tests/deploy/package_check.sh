#!/usr/bin/env bash
# deploy.package: builds the .deb with CPack from this build tree and looks
# inside: files and modes, Depends (only packages this Debian 12 machine has
# installed), the conffile, maintainer scripts that parse, a man page that
# renders; then unpacks it into a throwaway root and runs the program there.
# Usage: package_check.sh BUILD_DIR VERSION
set -euo pipefail
build=$1
version=$2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

grep -q '^12\.' /etc/debian_version || fail "not Debian 12: cannot judge Depends here"

cpack --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; fail "cpack"; }
deb=$tmp/out/liandong_${version}_amd64.deb
[ -f "$deb" ] || { ls -l "$tmp/out"; fail "no $(basename "$deb")"; }
echo "built $(basename "$deb"): $(du -h "$deb" | cut -f1)"

[ "$(dpkg-deb -f "$deb" Package)" = liandong ] || fail "Package"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version"
[ "$(dpkg-deb -f "$deb" Architecture)" = amd64 ] || fail "Architecture"

# Depends: every package named is one this machine (Debian 12) has
# installed, so apt can find it in Debian 12; the shared libraries are
# among them (dpkg-shlibdeps ran).
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
tr ',|' '\n\n' <<<"$depends" | sed 's/(.*//; s/[[:space:]]//g' | grep -v '^$' | sort -u \
  >"$tmp/depends"
for lib in libc6 libstdc++6 libzmq5 liblmdb0 libsodium23 libvips42 adduser init-system-helpers procps; do
  grep -qxF "$lib" "$tmp/depends" || fail "Depends lacks $lib"
done
# Installed packages, and the names they provide (libspdlog1.10 provides
# the libspdlog1.10-fmt9 its shlibs file names).
dpkg-query -W -f='${db:Status-Abbrev} ${Package}, ${Provides}\n' | awk '$1 == "ii" { $1 = ""; print }' |
  tr ',' '\n' | sed 's/(.*//; s/[[:space:]]//g' | grep -v '^$' | sort -u >"$tmp/installed"
while read -r pkg; do
  grep -qxF "$pkg" "$tmp/installed" ||
    fail "Depends names $pkg, which no Debian 12 package installed here is or provides"
done <"$tmp/depends"

# Files and modes.
dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' >"$tmp/contents"
want_file() {  # MODE PATH
  grep -qxF -- "$1 root/root .$2" "$tmp/contents" || { cat "$tmp/contents"; fail "no $1 $2"; }
}
want_file -rwxr-xr-x /usr/bin/liandong
want_file -rwxr-xr-x /usr/lib/liandong/liandong-backup
want_file -rw-r--r-- /usr/share/man/man1/liandong.1.gz
want_file -rw-r--r-- /etc/liandong/liandong.toml
for u in liandong.service liandong-backup.service liandong-backup.timer; do
  want_file -rw-r--r-- "/lib/systemd/system/$u"
done
for c in county township village; do
  want_file -rw-r--r-- "/usr/share/doc/liandong/examples/$c.toml"
done
# Nothing else of note: the desk's pages are inside the binary.
if grep -v '/$' "$tmp/contents" | grep -Ev ' \./(usr/bin/liandong|usr/lib/liandong/liandong-backup|usr/share/man/man1/liandong\.1\.gz|etc/liandong/liandong\.toml|lib/systemd/system/liandong(-backup)?\.(service|timer)|usr/share/doc/liandong/examples/(county|township|village)\.toml)$'; then
  fail "unexpected files in the package"
fi

# Control: the conffile, the maintainer scripts.
dpkg-deb -e "$deb" "$tmp/control"
[ "$(cat "$tmp/control/conffiles")" = /etc/liandong/liandong.toml ] || fail "conffiles"
for s in postinst prerm postrm; do
  [ -x "$tmp/control/$s" ] || fail "$s missing or not executable"
  sh -n "$tmp/control/$s" || fail "$s does not parse"
done
grep -q 'adduser --system' "$tmp/control/postinst" || fail "postinst makes no system user"

# Unpacked into a throwaway root: the program runs, reads the examples, and
# refuses the unfilled default config with one line and exit 2.
dpkg-deb -x "$deb" "$tmp/root"
bin=$tmp/root/usr/bin/liandong
"$bin" --help >"$tmp/help" || fail "--help"
grep -q '^  run ' "$tmp/help" || fail "--help lists no run"
for c in county township village; do
  "$bin" config check "$tmp/root/usr/share/doc/liandong/examples/$c.toml" >/dev/null ||
    fail "config check $c.toml"
done
rc=0
"$bin" run --config "$tmp/root/etc/liandong/liandong.toml" >"$tmp/run.out" 2>"$tmp/run.err" || rc=$?
cat "$tmp/run.err"
[ "$rc" = 2 ] || fail "the unfilled config: run exited $rc, not 2"
[ "$(wc -l <"$tmp/run.err")" = 1 ] || fail "the unfilled config: not one line"
grep -q '^错误：' "$tmp/run.err" || fail "the unfilled config: no 错误： line"

# The man page: every command of --help has its section, and it renders.
zcat "$tmp/root/usr/share/man/man1/liandong.1.gz" >"$tmp/liandong.1"
grep -q "^\.TH LIANDONG 1 .*liandong $version" "$tmp/liandong.1" || fail "man page .TH"
sed -n '/^Subcommands:/,/^$/p' "$tmp/help" | awk 'NR > 1 && NF { print $1 }' |
  while read -r cmd; do
    grep -qxF ".SS \"liandong $cmd\"" "$tmp/liandong.1" || fail "man page lacks liandong $cmd"
  done
grep -qxF '.SS "liandong config check"' "$tmp/liandong.1" || fail "man page lacks config check"
if command -v man >/dev/null; then
  warnings=$(MANWIDTH=80 man -l "$tmp/liandong.1" 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || { echo "$warnings"; fail "man page warnings"; }
fi
echo "package: ok"
