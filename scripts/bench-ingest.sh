#!/usr/bin/env bash
# Ingest throughput over HTTP (single-event requests from 64 clients; 1000-event
# batches) against the raw PostgreSQL ceiling measured in the same run: COPY of
# the same rows into the same table from one client.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"
SECONDS_PER_RUN="${BENCH_SECONDS:-20}"

DB="$(new_db)"
trap 'stop_server; drop_db "$DB"' EXIT
URL="$(bench_db_url "$DB")"
start_server "$URL"
KEY="$(DATABASE_URL="$URL" "$BIN" key create --name bench --scopes ingest,read --quiet)"

echo "single-event requests, 64 clients, ${SECONDS_PER_RUN} s…"
SINGLE="$("$BENCH_BIN" ingest --url "$SERVER_URL" --key "$KEY" --clients 64 --batch 1 --seconds "$SECONDS_PER_RUN")"
echo "$SINGLE"
echo "1000-event batches, 4 clients, ${SECONDS_PER_RUN} s…"
BATCH="$("$BENCH_BIN" ingest --url "$SERVER_URL" --key "$KEY" --clients 4 --batch 1000 --seconds "$SECONDS_PER_RUN")"
echo "$BATCH"
stop_server
echo "COPY ceiling…"
COPY="$("$BENCH_BIN" copy --database-url "$URL" --rows 300000)"
echo "$COPY"

committed="$(psql "$URL" -qAtX -c "select count(*) from events e join services s on s.id = e.service_id where s.slug like 'bench-%' and s.slug <> 'bench-copy'")"
claimed="$(python3 -c "import json,sys; print(sum(json.loads(l)['events'] for l in sys.argv[1:]))" "$SINGLE" "$BATCH")"
[ "$committed" = "$claimed" ] || { echo "acknowledged $claimed events but $committed are stored" >&2; exit 1; }

ceiling="$(json_field "$COPY" rows_per_s)"
pct() { python3 -c "print(f'{100*float(\"$1\")/float(\"$ceiling\"):.0f} %')"; }
bench_header "Ingest over HTTP vs. raw COPY ceiling"
{
  echo "| workload | events/s committed | p50 | p99 | share of COPY ceiling | target |"
  echo "|---|---|---|---|---|---|"
  echo "| raw COPY, same rows into \`events\`, 1 client (ceiling) | $(fmt "$ceiling") | – | – | 100 % | – |"
  echo "| POST 1000-event batches, 4 clients | $(fmt "$(json_field "$BATCH" events_per_s)") | $(fmt "$(json_field "$BATCH" p50_ms)" 1) ms | $(fmt "$(json_field "$BATCH" p99_ms)" 1) ms | $(pct "$(json_field "$BATCH" events_per_s)") | ≥ 50 % |"
  echo "| POST single events, 64 clients | $(fmt "$(json_field "$SINGLE" events_per_s)") | $(fmt "$(json_field "$SINGLE" p50_ms)" 1) ms | $(fmt "$(json_field "$SINGLE" p99_ms)" 1) ms | $(pct "$(json_field "$SINGLE" events_per_s)") | ≥ 15 000 /s |"
  echo ""
  echo "All $committed acknowledged events were found in the database afterwards. Ingest writes, per event, the row, its idempotency id and its share of hourly/daily rollups and error groups in one transaction; COPY writes only the row."
} | tee -a "$ROOT/BENCHMARKS.md"
