#!/usr/bin/env bash
# Runs the parsers' property tests for a chosen time: the ingest body (typed
# and tree paths agree), request decompression, Sentry envelopes, backup
# files and the config file. Each round runs every property test with
# FUZZ_CASES cases from a fresh random seed, until FUZZ_MINUTES (default 10)
# have passed. Each case has FUZZ_CASE_MS (default 5000) to finish and the
# tests a memory ceiling of FUZZ_MEMORY_MB (default 2048): a hang or an
# unbounded allocation fails the run like a panic does.
#
# A failing case is shrunk and kept in the crate's proptest-regressions/
# folder, where every later `cargo test` replays it first; commit it with
# the fix.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MINUTES="${FUZZ_MINUTES:-10}"
CASES="${FUZZ_CASES:-20000}"
export PROPTEST_CASES="$CASES"
export PROPTEST_FORK=true
export PROPTEST_TIMEOUT="${FUZZ_CASE_MS:-5000}"
export PROPTEST_MAX_SHRINK_TIME=60000

# Built once, outside the memory ceiling.
cargo test -p app --features ssr --lib --no-run --quiet
cargo test -p server --lib --no-run --quiet

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
deadline=$(( $(date +%s) + MINUTES * 60 ))
round=0
total=0
while :; do
  round=$((round + 1))
  for crate in app server; do
    features=""
    [ "$crate" = app ] && features="--features ssr"
    if ! (
      ulimit -v $(( ${FUZZ_MEMORY_MB:-2048} * 1024 ))
      cargo test -p "$crate" $features --lib --quiet -- props:: --test-threads 2
    ) >"$log" 2>&1; then
      cat "$log" >&2
      echo "fuzz: round $round of $crate failed; the shrunk case is in $crate/proptest-regressions/" >&2
      exit 1
    fi
  done
  tests=$(( $(cargo test -p app --features ssr --lib --quiet -- props:: --list 2>/dev/null | grep -c ': test$') \
          + $(cargo test -p server --lib --quiet -- props:: --list 2>/dev/null | grep -c ': test$') ))
  total=$(( total + tests * CASES ))
  echo "fuzz: round $round done, $tests property tests × $CASES cases ($total cases in all, 0 failures)"
  [ "$(date +%s)" -lt "$deadline" ] || break
done
echo "fuzz: $round rounds in ${MINUTES} min, $total cases, no panic, hang or failure"
