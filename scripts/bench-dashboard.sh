#!/usr/bin/env bash
# GET /api/v1/dashboard latency at 1 million and 10 million events (demo
# traffic over 30 days), then with BENCH_RATE_EVENTS (default 1 million) more
# sent into the current hour — a service sending that many events an hour.
# Baselines measured in the same run: the raw-scan computation of the same
# 30-day figures, and counting the current hour so far from raw events (what
# a window that ends now would cost without whole-hour rollups).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"
SMALL="${BENCH_SMALL_EVENTS:-1000000}"
LARGE="${BENCH_LARGE_EVENTS:-10000000}"
RATE_EVENTS="${BENCH_RATE_EVENTS:-1000000}"
REQUESTS="${BENCH_DASHBOARD_REQUESTS:-1000}"

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
KEY="$(DATABASE_URL="$URL" "$BIN" key create --name bench --scopes read,ingest --quiet)"

# measure LABEL: dashboard latency over HTTP, then the raw baselines.
measure() {
  local label="$1"
  psql "$URL" -qAtX -c "vacuum analyze" >/dev/null
  start_server "$URL"
  local d30 d24 raw
  d30="$("$BENCH_BIN" dashboard --url "$SERVER_URL" --key "$KEY" --requests "$REQUESTS" --range 30d)"
  d24="$("$BENCH_BIN" dashboard --url "$SERVER_URL" --key "$KEY" --requests "$REQUESTS" --range 24h)"
  stop_server
  raw="$("$BENCH_BIN" raw-scan --database-url "$URL" --repeats 5)"
  echo "$d30"; echo "$d24"; echo "$raw" >&2
  ROWS+=("| $label | $(fmt "$(json_field "$raw" events_in_current_hour)") | $(fmt "$(json_field "$d30" p50_ms)" 1) ms | $(fmt "$(json_field "$d30" p95_ms)" 1) ms | $(fmt "$(json_field "$d24" p50_ms)" 1) ms | $(fmt "$(json_field "$d24" p95_ms)" 1) ms | $(fmt "$(json_field "$raw" p50_ms)" 0) ms | $(fmt "$(json_field "$raw" current_hour_p50_ms)" 1) ms |")
  P95_30D+=("$(json_field "$d30" p95_ms)")
  P95_24H+=("$(json_field "$d24" p95_ms)")
}

# report TITLE NOTE: appends the measured rows to BENCHMARKS.md.
report() {
  bench_header "$1"
  {
    echo "| events stored | of them in the current hour | 30d p50 | 30d p95 | 24h p50 | 24h p95 | raw scan of the same 30-day figures (baseline) | the current hour so far from raw events (baseline) |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo ""
    echo "$(fmt "$REQUESTS") sequential requests per range over HTTP (JSON included), after \`vacuum analyze\`. Target: p95 ≤ 50 ms at 10 million events. $2"
  } | tee -a "$ROOT/BENCHMARKS.md"
}

# stored: the events in the database now.
stored() { psql "$URL" -qAtX -c "select count(*) from events"; }

ROWS=()
P95_30D=()
P95_24H=()
if [ -n "${BENCH_DASHBOARD_DB:-}" ]; then
  measure "$(fmt "$(stored)")" 2>&1
  report "Dashboard latency (existing database)" "Database \`$DB\`, loaded earlier with \`leitstand demo\`."
  exit 0
fi
echo "loading $SMALL demo events…"
start=$(date +%s)
DATABASE_URL="$URL" "$BIN" demo --events "$SMALL" --no-live --seed 11 2>&1 | tail -n1
load_secs=$(( $(date +%s) - start ))
measure "$(fmt "$(stored)") (30 days)" 2>&1
echo "loading $((LARGE - SMALL)) more…"
start=$(date +%s)
DATABASE_URL="$URL" "$BIN" demo --events "$((LARGE - SMALL))" --no-live --seed 12 2>&1 | tail -n1
load_secs=$(( load_secs + $(date +%s) - start ))
measure "$(fmt "$(stored)") (30 days)" 2>&1

# The rate case: RATE_EVENTS more within the current hour (what a service
# sending that many an hour leaves by the hour's end), sent over HTTP in
# batches as fast as the server takes them, then measured once sent.
# Started with at least 20 minutes of the hour left, so the sending and the
# measurement fall into one hour (UTC hours, as in the raw baseline).
left=$(( 3600 - $(date +%s) % 3600 ))
if [ "$left" -lt 1200 ]; then
  echo "waiting $((left + 30)) s for the next hour…"
  sleep $((left + 30))
fi
hour_before=$(( $(date +%s) / 3600 ))
start_server "$URL"
sent="$("$BENCH_BIN" ingest --url "$SERVER_URL" --key "$KEY" --clients 4 --batch 1000 --seconds 600 --events "$RATE_EVENTS")"
stop_server
echo "$sent"
measure "$(fmt "$(stored)") (+ $(fmt "$(json_field "$sent" events)") in the current hour)" 2>&1
# The sending and the measurement must fall into one hour.
hour_note=""
if [ $(( $(date +%s) / 3600 )) -ne "$hour_before" ]; then
  hour_note=" The hour turned between sending the last row's events and the end of its measurement: that row is not the rate case."
fi

# spread VALUES…: the largest against the smallest, in per cent.
spread() { python3 -c "import sys; v=[float(x) for x in sys.argv[1:]]; print(f'{(max(v)/min(v)-1)*100:.0f}')" "$@"; }
report "Dashboard latency by stored events and by the rate of events" "Loading the 30 days of data through the ingest path took ${load_secs} s; the current hour's events were sent over HTTP (4 clients, batches of 1 000, as fast as the server took them: $(fmt "$(json_field "$sent" events_per_s)") events/s). Largest p95 against the smallest of the three rows: 30d +$(spread "${P95_30D[@]}") %, 24h +$(spread "${P95_24H[@]}") % (target: within ±20 % of each other).$hour_note"
