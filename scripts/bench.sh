#!/usr/bin/env bash
# Runs every benchmark (scripts/bench-*.sh) against the release build; each
# prints its figures and appends them to BENCHMARKS.md.
# Needs LEITSTAND_TEST_PG (scripts/with-test-pg.sh provides it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ran=0
for b in "$ROOT"/scripts/bench-*.sh; do
  [ -e "$b" ] || continue
  if [ -n "${BENCH:-}" ] && [[ "$(basename "$b")" != *"$BENCH"* ]]; then continue; fi
  echo "== $(basename "$b")"
  "$b"
  ran=$((ran + 1))
done
echo "ran $ran benchmark(s); figures appended to BENCHMARKS.md"
