#!/usr/bin/env bash
# Webhook fan-out and retention. Appends to BENCHMARKS.md.
#
# 1. 10 000 events/s ingested (4 clients, batches of 100) for BENCH_SECONDS,
#    first without, then with an event subscription forwarding every event to
#    a local receiver: delivered events/s, delivery lag (receipt − received_at)
#    p50/p95, and ingest latency and server CPU with versus without.
# 2. Retention over BENCH_RETENTION_EVENTS (10 M) events spread over a year:
#    time of the run (90 days kept), and ingest latency at 1 000 events/s
#    before versus during the run.
# Settings: BENCH_RATE (10000), BENCH_SECONDS (30), BENCH_RETENTION_EVENTS (10000000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"

RATE="${BENCH_RATE:-10000}"
SECONDS_RUN="${BENCH_SECONDS:-30}"
RETENTION_EVENTS="${BENCH_RETENTION_EVENTS:-10000000}"
DB="$(new_db)"
URL="$(bench_db_url "$DB")"
RECEIVER_PORT="$(free_port)"
OUT="$(mktemp)"
cleanup() {
  stop_server
  [ -n "${RECEIVER_PID:-}" ] && kill "$RECEIVER_PID" 2>/dev/null
  [ -n "${INGEST_PID:-}" ] && kill "$INGEST_PID" 2>/dev/null
  drop_db "$DB"; rm -f "$OUT"
}
trap cleanup EXIT

export LEITSTAND_OUTBOUND_ALLOW=127.0.0.0/8
DATABASE_URL="$URL" "$BIN" migrate >/dev/null
KEY="$(DATABASE_URL="$URL" "$BIN" key create --name bench --scopes ingest,admin --quiet)"
start_server "$URL"
ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

# paced: ingest at RATE for SECONDS_RUN; sets RESULT (its figures) and CPU
# (the server's CPU % of one core meanwhile).
paced() {
  local t0 s0 t1 s1
  t0="$(ticks)"; s0="$(date +%s.%N)"
  RESULT="$("$BENCH_BIN" ingest --url "$SERVER_URL" --key "$KEY" --clients 4 --batch 100 --seconds "$SECONDS_RUN" --rate "$RATE")"
  t1="$(ticks)"; s1="$(date +%s.%N)"
  CPU="$(python3 -c "print(round(($t1 - $t0) / 100 / ($s1 - $s0) * 100, 1))")"
}

echo "ingest at $RATE events/s for $SECONDS_RUN s without a subscription…"
paced; BASE="$RESULT"; BASE_CPU="$CPU"
echo "$BASE (server CPU $BASE_CPU %)"

"$BENCH_BIN" webhook-receiver --port "$RECEIVER_PORT" --out "$OUT" &
RECEIVER_PID=$!
curl -sf -X POST "$SERVER_URL/api/v1/event-subscriptions" -H "authorization: Bearer $KEY" \
  -H 'content-type: application/json' \
  -d "{\"name\":\"bench\",\"url\":\"http://127.0.0.1:$RECEIVER_PORT/events\"}" >/dev/null
echo "ingest at $RATE events/s for $SECONDS_RUN s with a subscription for every event…"
paced; WITH="$RESULT"; WITH_CPU="$CPU"
echo "$WITH (server CPU $WITH_CPU %)"
ACCEPTED="$(json_field "$WITH" events)"
# Wait for the tail of the deliveries (at most 60 s).
for _ in $(seq 1 60); do
  [ -s "$OUT" ] && [ "$(json_field "$(cat "$OUT")" delivered)" -ge "$ACCEPTED" ] && break
  sleep 1
done
sleep 1.2
RECEIVED="$(cat "$OUT")"
echo "receiver: $RECEIVED"
DEAD="$(psql "$URL" -qAtX -c "select count(*) from deliveries where status = 'dead'")"
kill "$RECEIVER_PID" 2>/dev/null; RECEIVER_PID=""
stop_server

# Retention: a year of events (10 M by default) written straight into the
# tables, then the run with the default 90 days while ingest goes on.
echo "loading $RETENTION_EVENTS events over 365 days…"
LOAD_START=$(date +%s)
psql "$URL" -qAtX -v ON_ERROR_STOP=1 >/dev/null <<SQL
select leitstand_ensure_event_partitions(now() - interval '366 days', now() + interval '1 month');
insert into services (slug, name) values ('old', 'old') on conflict do nothing;
with rows as (
  select g, now() - (g::float8 / $RETENTION_EVENTS) * interval '365 days' as t,
         md5(g::text)::uuid as id
  from generate_series(1, $RETENTION_EVENTS) g),
ids as (insert into event_ids (id, occurred_at) select id, t from rows)
insert into events (occurred_at, id, seq, service_id, feature, kind, level, message)
select t, id, nextval('events_seq'), (select id from services where slug = 'old'), 'f', 'bench.old',
       case when g % 50 = 0 then 3 else 1 end, 'old event'
from rows;
vacuum analyze events; vacuum analyze event_ids;
SQL
LOAD_SECS=$(( $(date +%s) - LOAD_START ))
TOTAL="$(psql "$URL" -qAtX -c "select count(*) from events")"
start_server "$URL"
BEFORE="$("$BENCH_BIN" ingest --url "$SERVER_URL" --key "$KEY" --clients 4 --batch 10 --seconds 15 --rate 1000)"
echo "before: $BEFORE"
"$BENCH_BIN" ingest --url "$SERVER_URL" --key "$KEY" --clients 4 --batch 10 --seconds 600 --rate 1000 > "$OUT.during" &
INGEST_PID=$!
sleep 2
RUN_START="$(date +%s.%N)"
DATABASE_URL="$URL" "$BIN" retention run > "$OUT.report"
RUN_SECS="$(python3 -c "print(round($(date +%s.%N) - $RUN_START, 1))")"
kill -INT "$INGEST_PID" 2>/dev/null || true
wait "$INGEST_PID" 2>/dev/null || true
INGEST_PID=""
cat "$OUT.report"
REMOVED="$(tail -n1 "$OUT.report")"
LEFT="$(psql "$URL" -qAtX -c "select count(*) from events where service_id = (select id from services where slug = 'old')")"
stop_server
echo "retention run took $RUN_SECS s; $REMOVED"

bench_header "Webhook fan-out at $RATE events/s, and retention over $(fmt "$TOTAL") events"
{
  echo "| figure | without subscription | with a subscription for every event | target |"
  echo "|---|---|---|---|"
  echo "| events accepted / s | $(fmt "$(json_field "$BASE" events_per_s)") | $(fmt "$(json_field "$WITH" events_per_s)") | $RATE offered |"
  echo "| ingest request p50 / p99 | $(fmt "$(json_field "$BASE" p50_ms)" 1) / $(fmt "$(json_field "$BASE" p99_ms)" 1) ms | $(fmt "$(json_field "$WITH" p50_ms)" 1) / $(fmt "$(json_field "$WITH" p99_ms)" 1) ms | slowdown ≤ 20 % |"
  echo "| leitstand CPU | $BASE_CPU % | $WITH_CPU % | – |"
  echo "| events delivered / s (receiver) | – | $(fmt "$(json_field "$RECEIVED" events_per_s)") ($(json_field "$RECEIVED" delivered) of $ACCEPTED in $(json_field "$RECEIVED" batches) batches, $DEAD dead) | – |"
  echo "| delivery lag p50 / p95 / max | – | $(fmt "$(json_field "$RECEIVED" lag_p50_ms)" 0) / $(fmt "$(json_field "$RECEIVED" lag_p95_ms)" 0) / $(fmt "$(json_field "$RECEIVED" lag_max_ms)" 0) ms | p95 ≤ 2 000 ms |"
  echo ""
  echo "| retention (90 days kept) | value |"
  echo "|---|---|"
  echo "| events before / old ones left | $(fmt "$TOTAL") / $(fmt "$LEFT") (loaded in $LOAD_SECS s) |"
  echo "| run time | $RUN_SECS s ($REMOVED) |"
  echo "| ingest at 1 000 events/s, p50 / p99 before | $(fmt "$(json_field "$BEFORE" p50_ms)" 1) / $(fmt "$(json_field "$BEFORE" p99_ms)" 1) ms |"
  if [ -s "$OUT.during" ]; then
    DURING="$(cat "$OUT.during")"
    echo "| … during the run | $(fmt "$(json_field "$DURING" p50_ms)" 1) / $(fmt "$(json_field "$DURING" p99_ms)" 1) ms |"
  fi
  echo ""
  echo "Run: \`BENCH=webhooks make bench\` (release build; load generator, receiver, server and PostgreSQL on the same 2 cores)."
} | tee -a "$ROOT/BENCHMARKS.md"
rm -f "$OUT.during" "$OUT.report"
