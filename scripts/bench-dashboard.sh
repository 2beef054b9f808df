#!/usr/bin/env bash
# GET /api/v1/dashboard latency at 1 million and 10 million events (demo
# traffic over 30 days), with the raw-scan computation of the same 30-day
# figures measured in the same run as the baseline.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"
SMALL="${BENCH_SMALL_EVENTS:-1000000}"
LARGE="${BENCH_LARGE_EVENTS:-10000000}"

# BENCH_DASHBOARD_DB=NAME measures an existing (kept) database as it is,
# without loading anything: for re-measuring after a change.
if [ -n "${BENCH_DASHBOARD_DB:-}" ]; then
  DB="$BENCH_DASHBOARD_DB"
  trap 'stop_server' EXIT
else
  DB="$(new_db)"
  trap 'stop_server; drop_db "$DB"' EXIT
fi
URL="$(bench_db_url "$DB")"
DATABASE_URL="$URL" "$BIN" migrate >/dev/null
KEY="$(DATABASE_URL="$URL" "$BIN" key create --name bench --scopes read --quiet)"

measure() {
  local total="$1"
  psql "$URL" -qAtX -c "vacuum analyze" >/dev/null
  start_server "$URL"
  local d30 d24 raw
  d30="$("$BENCH_BIN" dashboard --url "$SERVER_URL" --key "$KEY" --requests 300 --range 30d)"
  d24="$("$BENCH_BIN" dashboard --url "$SERVER_URL" --key "$KEY" --requests 300 --range 24h)"
  stop_server
  raw="$("$BENCH_BIN" raw-scan --database-url "$URL" --repeats 5)"
  echo "$d30"; echo "$d24"; echo "$raw" >&2
  ROWS+=("| $(fmt "$total") | $(fmt "$(json_field "$d30" p50_ms)" 1) ms | $(fmt "$(json_field "$d30" p95_ms)" 1) ms | $(fmt "$(json_field "$d24" p50_ms)" 1) ms | $(fmt "$(json_field "$d24" p95_ms)" 1) ms | $(fmt "$(json_field "$raw" p50_ms)" 0) ms |")
}

# report TITLE NOTE: appends the measured rows to BENCHMARKS.md.
report() {
  bench_header "$1"
  {
    echo "| events stored | 30d p50 | 30d p95 | 24h p50 | 24h p95 | raw scan of the same 30-day figures (baseline) |"
    echo "|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo ""
    echo "300 sequential requests per range over HTTP (JSON included), after \`vacuum analyze\`. Target: p95 ≤ 50 ms at 10 million events. $2"
  } | tee -a "$ROOT/BENCHMARKS.md"
}

ROWS=()
if [ -n "${BENCH_DASHBOARD_DB:-}" ]; then
  measure "$(psql "$URL" -qAtX -c "select count(*) from events")" 2>&1
  report "Dashboard latency (existing database)" "Database \`$DB\`, loaded earlier with \`leitstand demo\`."
  exit 0
fi
echo "loading $SMALL demo events…"
start=$(date +%s)
DATABASE_URL="$URL" "$BIN" demo --events "$SMALL" --no-live --seed 11 2>&1 | tail -n1
measure "$SMALL" 2>&1
echo "loading $((LARGE - SMALL)) more…"
DATABASE_URL="$URL" "$BIN" demo --events "$((LARGE - SMALL))" --no-live --seed 12 2>&1 | tail -n1
load_secs=$(( $(date +%s) - start ))
measure "$LARGE" 2>&1
report "Dashboard latency by stored events" "Loading the data through the ingest path took ${load_secs} s."
