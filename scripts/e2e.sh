#!/usr/bin/env bash
# Browser tests: Playwright in Debian's Chromium. Each test starts its own
# Leitstand (the debug build) on a free port with a fresh database; see
# end2end/tests/fixtures.ts. Needs LEITSTAND_TEST_PG (scripts/with-test-pg.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LEITSTAND_BIN="${LEITSTAND_BIN:-$ROOT/target/debug/leitstand}"
export LEITSTAND_SITE_ROOT="${LEITSTAND_SITE_ROOT:-$ROOT/target/site}"
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium || echo /usr/bin/chromium)}"
[ -x "$LEITSTAND_BIN" ] || { echo "missing $LEITSTAND_BIN: run 'make build-debug'" >&2; exit 1; }
[ -f "$LEITSTAND_SITE_ROOT/pkg/leitstand.wasm" ] || { echo "missing web assets in $LEITSTAND_SITE_ROOT: run 'make build-debug'" >&2; exit 1; }
# A private copy of the server: a cargo build running beside the tests
# (another target's `cargo test`) must not swap the binary under them.
if [ "$LEITSTAND_BIN" = "$ROOT/target/debug/leitstand" ]; then
  mkdir -p "$ROOT/target/e2e"
  cp "$LEITSTAND_BIN" "$ROOT/target/e2e/leitstand"
  export LEITSTAND_BIN="$ROOT/target/e2e/leitstand"
fi
cd "$ROOT/end2end"
mkdir -p screenshots
npx playwright test "$@"
