#!/usr/bin/env bash
# Installs what `scripts/dist.sh` made the way a Debian machine would, into
# an empty directory tree (dpkg -x, then the package's own postinst with
# DPKG_ROOT pointing there), and starts the installed binary, as the
# package's system user and from a directory with nothing in it, against a
# fresh database. Needs LEITSTAND_TEST_PG (scripts/with-test-pg.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m[test-dist]\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[1;31m[test-dist] FAILED: %s\033[0m\n' "$*" >&2; exit 1; }

: "${LEITSTAND_TEST_PG:?run through scripts/with-test-pg.sh}"
DEB="$(ls dist/leitstand_*_amd64.deb 2>/dev/null | head -n1)"
TARBALL="$(ls dist/leitstand-*-x86_64-linux.tar.gz 2>/dev/null | head -n1)"
[ -n "$DEB" ] && [ -n "$TARBALL" ] || fail "no package in dist/: run 'make dist'"

WORK="$(mktemp -d)"
DB="leitstand_dist_$$"
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  psql "$LEITSTAND_TEST_PG" -qAtX -c "drop database if exists $DB with (force)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the tarball: everything it promises, and a binary that runs alone -------
mkdir "$WORK/tar"
tar -C "$WORK/tar" -xzf "$TARBALL"
T="$(ls -d "$WORK"/tar/leitstand-*)"
for f in leitstand LICENSE README.md leitstand.toml leitstand.service; do
  [ -f "$T/$f" ] || fail "tarball lacks $f"
done
"$T/leitstand" --version | grep -Eq '^leitstand [0-9.]+ \(commit [0-9a-f]{12}, built [0-9]{4}-[0-9]{2}-[0-9]{2}\)$' \
  || fail "tarball binary: unexpected --version: $("$T/leitstand" --version)"

# --- the package: contents ---------------------------------------------------
R="$WORK/root"
mkdir -p "$R/etc"
dpkg-deb -x "$DEB" "$R"
dpkg-deb -e "$DEB" "$WORK/control"
dpkg-deb -f "$DEB" Package Version Architecture Depends
[ -x "$R/usr/bin/leitstand" ] || fail "no /usr/bin/leitstand"
[ -f "$R/etc/leitstand/leitstand.toml" ] || fail "no /etc/leitstand/leitstand.toml"
grep -q '^data_dir = "/var/lib/leitstand"' "$R/etc/leitstand/leitstand.toml" || fail "config does not use /var/lib/leitstand"
grep -qx '/etc/leitstand/leitstand.toml' "$WORK/control/conffiles" || fail "config is not a conffile"
UNIT="$(ls "$R"/lib/systemd/system/leitstand.service "$R"/usr/lib/systemd/system/leitstand.service 2>/dev/null | head -n1 || true)"
[ -n "$UNIT" ] || fail "no systemd unit"
for line in 'ProtectSystem=strict' 'NoNewPrivileges=true' 'PrivateTmp=true' \
            'ReadWritePaths=/var/lib/leitstand' 'Restart=on-failure' 'User=leitstand' \
            'ExecStartPost=/usr/bin/leitstand --config /etc/leitstand/leitstand.toml health --ready --wait 300'; do
  grep -qx "$line" "$UNIT" || fail "unit lacks '$line'"
done
[ -f "$R/usr/share/doc/leitstand/copyright" ] || fail "no copyright file"

# --- the package: its postinst against the empty tree ------------------------
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
printf 'root:x:0:\n' > "$R/etc/group"
printf 'root:*:19000:0:99999:7:::\n' > "$R/etc/shadow"
printf 'root:*::\n' > "$R/etc/gshadow"
chmod 0640 "$R/etc/shadow" "$R/etc/gshadow"
# Debian's service helpers act on the running system; the tree has none.
mkdir -p "$WORK/nosystemd"
for helper in deb-systemd-helper deb-systemd-invoke systemctl; do
  printf '#!/bin/sh\nexit 0\n' > "$WORK/nosystemd/$helper"; chmod +x "$WORK/nosystemd/$helper"
done
PATH="$WORK/nosystemd:$PATH" DPKG_ROOT="$R" sh -e "$WORK/control/postinst" configure ""
USER_ID="$(awk -F: '$1 == "leitstand" { print $3 }' "$R/etc/passwd")"
GROUP_ID="$(awk -F: '$1 == "leitstand" { print $3 }' "$R/etc/group")"
[ -n "$USER_ID" ] && [ -n "$GROUP_ID" ] || fail "postinst made no leitstand user and group"
[ "$USER_ID" -lt 1000 ] || fail "leitstand is not a system user (uid $USER_ID)"
awk -F: '$1 == "leitstand" { exit ($7 == "/usr/sbin/nologin") ? 0 : 1 }' "$R/etc/passwd" || fail "leitstand can log in"
[ "$(stat -c '%u:%g %a' "$R/var/lib/leitstand")" = "$USER_ID:$GROUP_ID 750" ] || fail "data directory: $(stat -c '%u:%g %a' "$R/var/lib/leitstand")"
[ "$(stat -c '%u:%g %a' "$R/etc/leitstand/leitstand.toml")" = "0:$GROUP_ID 640" ] || fail "config: $(stat -c '%u:%g %a' "$R/etc/leitstand/leitstand.toml")"
# Installing again (an upgrade) keeps the user.
PATH="$WORK/nosystemd:$PATH" DPKG_ROOT="$R" sh -e "$WORK/control/postinst" configure "0.0.1"
[ "$(grep -c '^leitstand:' "$R/etc/passwd")" = 1 ] || fail "a second configure added another user"
say "package contents and postinst: as a Debian machine would have them"

# --- the installed binary serves, as its user, from an empty directory ------
psql "$LEITSTAND_TEST_PG" -qAtX -c "create database $DB" >/dev/null
DB_URL="${LEITSTAND_TEST_PG%/*}/$DB"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir "$WORK/empty"
RUN=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  RUN=(setpriv --reuid="$USER_ID" --regid="$GROUP_ID" --clear-groups)
  chmod 0755 "$WORK" "$WORK/empty"
  chmod o+x "$R" "$R/var" "$R/var/lib" "$R/etc" "$R/etc/leitstand"
fi
(
  cd "$WORK/empty"
  export DATABASE_URL="$DB_URL" LEITSTAND_LISTEN="127.0.0.1:$PORT" \
         LEITSTAND_DATA_DIR="$R/var/lib/leitstand"
  unset LEITSTAND_SITE_ROOT
  exec "${RUN[@]}" "$R/usr/bin/leitstand" --config "$R/etc/leitstand/leitstand.toml" serve
) >"$WORK/server.log" 2>&1 &
PID=$!
LEITSTAND_LISTEN="127.0.0.1:$PORT" "$R/usr/bin/leitstand" health --ready --wait 120 \
  || { cat "$WORK/server.log" >&2; fail "the installed server did not become ready"; }
grep -q 'embedded in the binary' "$WORK/server.log" || { cat "$WORK/server.log" >&2; fail "the server did not serve its built-in site"; }

BASE="http://127.0.0.1:$PORT"
headers() { curl -sS -o /dev/null -D - "$@" | tr -d '\r' | tr 'A-Z' 'a-z'; }
h="$(headers -H 'Accept-Encoding: br, gzip' "$BASE/pkg/leitstand.wasm")"
grep -q '^http/1.1 200' <<<"$h" || fail "wasm: $h"
grep -q '^content-type: application/wasm' <<<"$h" || fail "wasm content type: $h"
grep -q '^content-encoding: br' <<<"$h" || fail "wasm not served brotli: $h"
h="$(headers -H 'Accept-Encoding: gzip' "$BASE/pkg/leitstand.js")"
grep -q '^content-encoding: gzip' <<<"$h" || fail "js not served gzip: $h"
grep -q '^content-type: text/javascript' <<<"$h" || fail "js content type: $h"
h="$(headers "$BASE/pkg/leitstand.css")"
grep -q '^content-type: text/css' <<<"$h" || fail "css content type: $h"
grep -q '^content-encoding' <<<"$h" && fail "css compressed for a client that takes nothing: $h"
etag="$(grep '^etag:' <<<"$h" | cut -d' ' -f2)"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE/pkg/leitstand.css")" = 304 ] || fail "no 304 for a current ETag"
# The lazy routes' chunks keep their names across builds: revalidated, never
# cached blindly.
CHUNK="$(curl -s "$BASE/sw.js" | grep -o '/pkg/split_[A-Za-z0-9_]*\.wasm' | head -n1)"
[ -n "$CHUNK" ] || fail "the service worker lists no lazy chunk"
h="$(headers -H 'Accept-Encoding: br' "$BASE$CHUNK")"
grep -q '^cache-control: no-cache' <<<"$h" || fail "chunk $CHUNK: $h"
grep -q '^content-encoding: br' <<<"$h" || fail "chunk $CHUNK not brotli: $h"
page="$(curl -sS -L "$BASE/")"
grep -q '/pkg/leitstand' <<<"$page" || fail "the first page names no bundle"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/pkg/nothing.wasm")" = 404 ] || fail "a missing file is not a 404"
say "installed binary serves its built-in site (brotli/gzip, types, ETag revalidation)"

kill -TERM "$PID"
wait "$PID" || fail "the server did not stop cleanly"
PID=""
say "passed"
