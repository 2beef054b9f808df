#!/usr/bin/env bash
# `make build`: the release binary (target/release/leitstand) carrying its
# site (target/site), built by cargo-leptos.
#
# On a first build (no release binary yet) the server's dependencies start
# compiling at once, beside the tool installs and the browser bundle: those
# leave a core idle for minutes (each tool's last crates and link, the
# single-unit link of the WebAssembly, wasm-bindgen and wasm-opt over every
# chunk). cargo-leptos then waits for that build and compiles only the
# server crate again, with the finished site embedded (server/build.rs
# watches target/site). Later builds are cargo-leptos alone: there the
# early server build would only embed a stale site twice.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

EARLY=""
if [ ! -e target/release/leitstand ]; then
  mkdir -p target
  echo "first release build: the server's dependencies compile beside the tools (log: target/early-server-build.log)"
  # The same command and flags cargo-leptos uses for the server, so it finds
  # the compiled crates (Makefile exports RUSTFLAGS and LEPTOS_OUTPUT_NAME).
  cargo build --release --package=server --bin=leitstand --no-default-features \
    >target/early-server-build.log 2>&1 &
  EARLY=$!
fi
stop_early() { [ -z "$EARLY" ] || { kill "$EARLY" 2>/dev/null || true; wait "$EARLY" 2>/dev/null || true; }; }
trap stop_early EXIT

scripts/ensure-tools.sh build
cargo leptos build --release --precompress --split
# cargo-leptos's server build waited for the early one (cargo's lock on
# target/) and replaced its binary; nothing is left running.
