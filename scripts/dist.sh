#!/usr/bin/env bash
# Packs the release build (`make build`) for installation:
#   dist/leitstand-<version>-x86_64-linux.tar.gz  binary, LICENSE, README,
#                                                 example config, systemd unit
#   dist/leitstand_<version>-1_amd64.deb          the Debian package (cargo-deb)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m[dist]\033[0m %s\n' "$*" >&2; }

BIN="target/release/leitstand"
[ -x "$BIN" ] || { echo "missing $BIN: run 'make build'" >&2; exit 1; }
VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version = "\(.*\)"/\1/p' Cargo.toml)"
[ -n "$VERSION" ] || { echo "no version in Cargo.toml" >&2; exit 1; }
# The binary must carry its site: a release built without one would need
# target/site beside it.
"$BIN" --version >/dev/null
grep -qa 'pkg/leitstand.wasm.br' "$BIN" || {
  echo "$BIN carries no web assets: build it with 'make build'" >&2; exit 1; }

mkdir -p dist target/dist
# The package's configuration: the example with the package's data directory.
sed 's|^data_dir = "./data"|data_dir = "/var/lib/leitstand"|' docs/leitstand.example.toml > target/dist/leitstand.toml
grep -q '^data_dir = "/var/lib/leitstand"' target/dist/leitstand.toml \
  || { echo "docs/leitstand.example.toml no longer sets data_dir" >&2; exit 1; }

NAME="leitstand-$VERSION-x86_64-linux"
STAGE="target/dist/$NAME"
rm -rf "$STAGE"; mkdir -p "$STAGE"
install -m 0755 "$BIN" "$STAGE/leitstand"
strip "$STAGE/leitstand" 2>/dev/null || true
install -m 0644 LICENSE README.md "$STAGE/"
install -m 0644 docs/leitstand.example.toml "$STAGE/leitstand.toml"
install -m 0644 packaging/leitstand.service "$STAGE/leitstand.service"
tar -C target/dist --owner=0 --group=0 --sort=name -czf "dist/$NAME.tar.gz" "$NAME"
say "dist/$NAME.tar.gz ($(du -h "dist/$NAME.tar.gz" | cut -f1))"

scripts/ensure-tools.sh dist
rm -f dist/leitstand_*.deb
cargo deb -p server --no-build --output "dist/" >/dev/null
DEB="$(ls dist/leitstand_*.deb)"
say "$DEB ($(du -h "$DEB" | cut -f1))"
