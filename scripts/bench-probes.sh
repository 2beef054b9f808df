#!/usr/bin/env bash
# Probe scheduling and statistics. 1 000 HTTP probes every 10 s against a
# local target for two minutes: how late checks start (p99 of
# actual − planned start, from the stored `lag_ms`) and the CPU leitstand
# used; then a year of rollups for 1 000 probes and the time of one
# service's uptime and p95 over 365 days. Appends to BENCHMARKS.md.
# Settings: BENCH_PROBES (1000), BENCH_SECONDS (120).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"

PROBES="${BENCH_PROBES:-1000}"
SECONDS_RUN="${BENCH_SECONDS:-120}"
DB="$(new_db)"
URL="$(bench_db_url "$DB")"
TARGET_PORT="$(free_port)"
cleanup() { stop_server; [ -n "${TARGET_PID:-}" ] && kill "$TARGET_PID" 2>/dev/null; drop_db "$DB"; }
trap cleanup EXIT

"$BENCH_BIN" target --port "$TARGET_PORT" &
TARGET_PID=$!
start_server "$URL"
KEY="$(DATABASE_URL="$URL" "$BIN" key create --name bench --scopes admin --quiet)"
"$BENCH_BIN" probes-create --url "$SERVER_URL" --key "$KEY" --count "$PROBES" \
  --target "http://127.0.0.1:$TARGET_PORT/health" --interval 10 >/dev/null

ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
# Let the first round (spread over one interval) pass, then measure.
sleep 12
T0="$(ticks)"; S0="$(date +%s.%N)"
psql "$URL" -qAtX -c "select now()" > /tmp/probe-bench-start
sleep "$SECONDS_RUN"
T1="$(ticks)"; S1="$(date +%s.%N)"
START="$(cat /tmp/probe-bench-start)"
read -r CHECKS LAG_P50 LAG_P99 LAG_MAX <<<"$(psql "$URL" -qAtX -F ' ' -c \
  "select count(*), round(percentile_cont(0.5) within group (order by lag_ms)::numeric, 1),
          round(percentile_cont(0.99) within group (order by lag_ms)::numeric, 1), round(max(lag_ms)::numeric, 1)
   from probe_results where checked_at >= '$START'")"
CPU="$(python3 -c "print(round(($T1 - $T0) / 100 / ($S1 - $S0) * 100, 1))")"
EXPECTED="$(python3 -c "print(int($PROBES * $SECONDS_RUN / 10))")"
stop_server

# A year of hourly, daily and monthly rollups for every probe, then one service's figures.
psql "$URL" -qAtX -v ON_ERROR_STOP=1 >/dev/null <<SQL
insert into probe_rollups (probe_id, bucket, checks, failures, maintenance_checks, latency_hist, latency_sum_ms)
select p.id, h, 360, (random() < 0.01)::int, 0, array[0,5,100,150,60,30,10,5,0,0,0,0,0,0,0,0], 360 * 40.0
from probes p, generate_series(date_trunc('hour', now()) - interval '365 days', date_trunc('hour', now()) - interval '1 hour', interval '1 hour') h
on conflict do nothing;
insert into probe_rollups_daily (probe_id, day, checks, failures, maintenance_checks, latency_hist, latency_sum_ms)
select probe_id, (bucket at time zone 'UTC')::date, sum(checks), sum(failures), 0,
       array[0,120,2400,3600,1440,720,240,120,0,0,0,0,0,0,0,0], sum(latency_sum_ms)
from probe_rollups group by 1, 2
on conflict do nothing;
insert into probe_rollups_monthly (probe_id, month, checks, failures, maintenance_checks, latency_hist, latency_sum_ms)
select probe_id, date_trunc('month', day)::date, sum(checks), sum(failures), 0,
       array[0,3720,74400,111600,44640,22320,7440,3720,0,0,0,0,0,0,0,0], sum(latency_sum_ms)
from probe_rollups_daily group by 1, 2
on conflict do nothing;
vacuum analyze probe_rollups; vacuum analyze probe_rollups_daily; vacuum analyze probe_rollups_monthly;
SQL
ROWS="$(psql "$URL" -qAtX -c "select count(*) from probe_rollups")"
SERVICE="$(psql "$URL" -qAtX -c "select service_id from probes order by id limit 1")"
PER_SERVICE="$(psql "$URL" -qAtX -c "select count(*) from probes where service_id = $SERVICE")"
STATS="$("$BENCH_BIN" probe-stats --database-url "$URL" --service-id "$SERVICE" --days 365 --repeats 200)"

echo "checks $CHECKS of $EXPECTED expected; start lag p50 $LAG_P50 ms, p99 $LAG_P99 ms, max $LAG_MAX ms; leitstand CPU $CPU % of one core"
echo "365-day uptime + p95 for one service ($PER_SERVICE probes, $ROWS hourly rows in all): $STATS"

bench_header "Probes: $PROBES HTTP probes every 10 s for $SECONDS_RUN s"
P95="$(json_field "$STATS" p95_ms)"
round1() { python3 -c "print(round(float('$1'), 1))"; }
{
  echo "| figure | value | target |"
  echo "|---|---|---|"
  echo "| checks run / expected | $CHECKS / $EXPECTED | – |"
  echo "| start lag p50 / p99 / max | $LAG_P50 / $LAG_P99 / $LAG_MAX ms | p99 ≤ 1 000 ms |"
  echo "| leitstand CPU | $CPU % of one core | ≤ 25 % |"
  echo "| uptime + p95 over 365 days, one service of $PER_SERVICE probes ($ROWS hourly rollup rows in the table) | p50 $(round1 "$(json_field "$STATS" p50_ms)") ms, p95 $(round1 "$P95") ms | p95 ≤ 20 ms |"
  echo ""
  echo "Run: \`BENCH=probes make bench\` (release build; target and server on the same 2 cores)."
} >> "$ROOT/BENCHMARKS.md"
