#!/usr/bin/env bash
# Sentry envelope ingest. Appends to BENCHMARKS.md.
#
# 16 clients send gzip-compressed Sentry error events of ≈ 8 KB (a 30-frame
# stack trace) to /api/{project}/envelope/ for BENCH_SECONDS, and, in the
# same run before it, the same events as single /api/v1/events requests.
# Reported: stored events/s, request p50/p99, server CPU, and a check that
# every acknowledged event is in the database. Target: ≥ 5 000 envelopes/s.
# Settings: BENCH_SECONDS (15), BENCH_CLIENTS (16).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"

SECONDS_RUN="${BENCH_SECONDS:-15}"
CLIENTS="${BENCH_CLIENTS:-16}"
PER_CLIENT=$(( SECONDS_RUN * 9000 / CLIENTS + 100 ))
DB="$(new_db)"
URL="$(bench_db_url "$DB")"
cleanup() { stop_server; drop_db "$DB"; }
trap cleanup EXIT

DATABASE_URL="$URL" "$BIN" migrate >/dev/null
KEY="$(DATABASE_URL="$URL" "$BIN" key create --name bench --scopes ingest --quiet)"
DSN="$(DATABASE_URL="$URL" "$BIN" service dsn bench-sentry)"
DSN_KEY="$(echo "$DSN" | sed -E 's#^https?://([0-9a-f]+)@.*#\1#')"
PROJECT="${DSN##*/}"
start_server "$URL"
ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

# run MODE KEY: sets RESULT and CPU (server CPU % of one core meanwhile).
run() {
  local t0 s0 t1 s1
  RESULT="$("$BENCH_BIN" sentry --url "$SERVER_URL" --key "$2" --project "$PROJECT" --mode "$1" \
    --clients "$CLIENTS" --seconds "$SECONDS_RUN" --per-client "$PER_CLIENT" | tail -n1)"
  t1="$(ticks)"
  CPU="$(python3 -c "print(round(($t1 - $T0) / 100 / $SECONDS_RUN * 100, 1))")"
}

stored() { psql "$URL" -qAtX -c "select count(*) from events"; }
echo "plain /api/v1/events, $CLIENTS clients, $SECONDS_RUN s…"
T0="$(ticks)"; run plain "$KEY"; PLAIN="$RESULT"; PLAIN_CPU="$CPU"
echo "$PLAIN (server CPU $PLAIN_CPU %)"
BEFORE="$(stored)"
echo "envelopes, $CLIENTS clients, $SECONDS_RUN s…"
T0="$(ticks)"; run envelope "$DSN_KEY"; ENV="$RESULT"; ENV_CPU="$CPU"
echo "$ENV (server CPU $ENV_CPU %)"
AFTER="$(stored)"
ACKED="$(json_field "$ENV" requests)"
NEW=$(( AFTER - BEFORE ))
NGROUPS="$(psql "$URL" -qAtX -c "select count(*) from error_groups where event_count > 0")"
AVG_ROW="$(psql "$URL" -qAtX -c "select round(avg(length(payload))) from events where payload is not null")"
PER_S="$(json_field "$ENV" per_s)"
MET="$(python3 -c "print('met' if $PER_S >= 5000 else 'MISSED')")"

bench_header "Sentry envelope ingest"
{
  echo "| figure | /api/v1/events (same events) | /api/{project}/envelope/ (gzip) | target |"
  echo "|---|---|---|---|"
  echo "| event size as JSON / as sent | $(json_field "$PLAIN" event_bytes) B / $(json_field "$PLAIN" sent_bytes) B | $(json_field "$ENV" event_bytes) B / $(json_field "$ENV" sent_bytes) B | ≈ 8 KB |"
  echo "| events stored / s | $(fmt "$(json_field "$PLAIN" per_s)") | $(fmt "$PER_S") | ≥ 5 000 envelopes/s ($MET) |"
  echo "| request p50 / p99 | $(fmt "$(json_field "$PLAIN" p50_ms)" 1) / $(fmt "$(json_field "$PLAIN" p99_ms)" 1) ms | $(fmt "$(json_field "$ENV" p50_ms)" 1) / $(fmt "$(json_field "$ENV" p99_ms)" 1) ms | – |"
  echo "| leitstand CPU (% of one core) | $PLAIN_CPU % | $ENV_CPU % | – |"
  echo "| failed requests | $(json_field "$PLAIN" failed) | $(json_field "$ENV" failed) | 0 |"
  echo ""
  echo "All $ACKED acknowledged envelopes stored: $([ "$NEW" -eq "$ACKED" ] && echo yes || echo "NO ($NEW of $ACKED)"); $NGROUPS error groups; the kept payload (zstd) takes $AVG_ROW bytes per event."
  echo ""
  echo "Run: \`BENCH=sentry make bench\` (release build; $CLIENTS clients, bodies made before the clock starts; load generator, server and PostgreSQL share the 2 cores)."
} | tee -a "$ROOT/BENCHMARKS.md"
