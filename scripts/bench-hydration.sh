#!/usr/bin/env bash
# The first load's main-thread time, taken apart (bench/lighthouse/hydration.mjs):
# the Dashboard of the release server with demo data, signed in, in Debian's
# Chromium at 4× CPU slowdown — cold (empty caches), warm (the same browser
# again) and cold with V8's lazy WebAssembly compilation switched off by a
# flag. BENCH_RUNS runs each (default 5), medians. No target of its own: it
# says what limits Lighthouse's blocking time. Appends to BENCHMARKS.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"

RUNS="${BENCH_RUNS:-5}"
# Playwright and Chromium, as the browser tests use them (a no-op when present).
"$ROOT/scripts/ensure-tools.sh" e2e
DB="$(new_db)"
URL="$(bench_db_url "$DB")"
cleanup() { stop_server; drop_db "$DB"; }
trap cleanup EXIT

demo_server_signed_in "$URL"

echo "tracing $RUNS cold, warm and no-lazy-compilation loads of the Dashboard…"
RESULT="$(node "$ROOT/bench/lighthouse/hydration.mjs" "$SERVER_URL/" "$SESSION_COOKIE" "$RUNS")"
echo "$RESULT"

bench_header "First load: where the Dashboard's main-thread time goes"
python3 - "$RESULT" "$RUNS" >> "$ROOT/BENCHMARKS.md" <<'PY'
import json, sys
r, runs = json.loads(sys.argv[1]), sys.argv[2]
print(f"Release build, demo data, signed in as admin; Debian's Chromium, 412 × 823 px, CPU slowed down 4× (CDP), traced; median of {runs} runs (range). Blocking time as Lighthouse counts it: the main-thread tasks after the first contentful paint, each one's time over 50 ms, summed.")
print()
print("| load | hydration task | longest main-thread task | blocking time after the first paint |")
print("|---|---|---|---|")
names = {"cold": "cold (new profile, empty caches)", "warm": "warm (same browser, 8 s later)",
         "nolazy": "cold, V8's lazy WebAssembly compilation off (`--js-flags=--no-wasm-lazy-compilation`)"}
for k in ["cold", "warm", "nolazy"]:
    m = r[k]
    print(f"| {names[k]} | {m['hydration']:.0f} ms ({m['hydrationMin']:.0f}–{m['hydrationMax']:.0f}) | {m['longest']:.0f} ms | {m['blocking']:.0f} ms |")
print()
print(f"A cold load compiles {r['coldLazyFunctions']} WebAssembly functions lazily on the main thread, {r['coldLazyBytes'] / 1000:.0f} KB of function bodies (one traced run with V8's detailed categories).")
PY
echo "appended to BENCHMARKS.md"
