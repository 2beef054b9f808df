#!/usr/bin/env bash
# `make test`: format, lints, packaging checks, the wasm dependency check,
# the Rust tests and the browser tests. On a machine without the build and
# browser-test tools, their installation (which builds nothing of the
# project) runs beside the format check and the lints instead of before them.
# (The packages' own test needs the release build: `make dist`.)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p target

scripts/ensure-tools.sh e2e >target/tools.log 2>&1 &
TOOLS=$!
if ! make --no-print-directory fmt clippy lint-packaging; then
  kill "$TOOLS" 2>/dev/null || true
  wait "$TOOLS" 2>/dev/null || true
  exit 1
fi
if ! wait "$TOOLS"; then
  cat target/tools.log >&2
  exit 1
fi
grep -F '[tools]' target/tools.log >&2 || true

make --no-print-directory check-wasm-deps unit e2e
echo "make test: all checks passed"
