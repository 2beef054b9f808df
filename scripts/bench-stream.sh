#!/usr/bin/env bash
# Live stream: memory for 10 000 idle SSE connections held by one process,
# and the time from sending an event to its arrival at each of 1 000
# subscribers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"
ulimit -n 20000 2>/dev/null || true

DB="$(new_db)"
trap 'stop_server; drop_db "$DB"' EXIT
URL="$(bench_db_url "$DB")"
# The server's default log level: every open stream keeps its request span.
# One client address holds all the connections: no per-address limit.
serve() { RUST_LOG=info LEITSTAND_MAX_CONNECTIONS_PER_IP=0 start_server "$URL"; }
serve
KEY="$(DATABASE_URL="$URL" "$BIN" key create --name bench --scopes ingest,read --quiet)"

echo "10 000 idle connections…"
IDLE="$("$BENCH_BIN" stream-idle --url "$SERVER_URL" --key "$KEY" --connections 10000 --server-pid "$SERVER_PID")"
echo "$IDLE"
# A fresh process: memory freed by the closed streams would otherwise be
# reused by the keep-alive connections and hide their cost.
stop_server
serve
echo "10 000 idle keep-alive connections (fresh server process)…"
KEEP="$("$BENCH_BIN" keepalive-idle --url "$SERVER_URL" --connections 10000 --idle-limit 10 --server-pid "$SERVER_PID")"
echo "$KEEP"
echo "latency with 1 000 subscribers…"
LAT="$("$BENCH_BIN" stream-latency --url "$SERVER_URL" --key "$KEY" --subscribers 1000 --events 200)"
echo "$LAT"

bench_header "Live stream"
{
  echo "| measurement | result | target |"
  echo "|---|---|---|"
  echo "| server RSS growth with 10 000 idle SSE connections | $(fmt "$(json_field "$IDLE" growth_mib)" 1) MiB ($(fmt "$(json_field "$IDLE" per_connection_kib)" 1) KiB each; $(fmt "$(json_field "$IDLE" rss_before_mib)" 1) → $(fmt "$(json_field "$IDLE" rss_open_mib)" 1) MiB, $(fmt "$(json_field "$IDLE" rss_after_close_mib)" 1) MiB after closing) | < 100 MiB |"
  echo "| server RSS growth with 10 000 idle keep-alive connections (one request answered on each; a fresh server process) | $(fmt "$(json_field "$KEEP" growth_mib)" 1) MiB ($(fmt "$(json_field "$KEEP" rss_before_mib)" 1) → $(fmt "$(json_field "$KEEP" rss_open_mib)" 1) MiB; $(fmt "$(json_field "$KEEP" per_connection_kib)" 1) KiB each; $(fmt "$(json_field "$KEEP" rss_after_close_mib)" 1) MiB after closing); another client meanwhile p50 $(fmt "$(json_field "$KEEP" other_client_p50_ms)" 1) ms, max $(fmt "$(json_field "$KEEP" other_client_max_ms)" 1) ms; $(json_field "$KEEP" closed_by_server_after_idle) closed by the server after 10 s idle | < 100 MiB |"
  echo "| event sent → received, 1 000 subscribers, p50 | $(fmt "$(json_field "$LAT" p50_ms)" 1) ms | – |"
  echo "| event sent → received, 1 000 subscribers, p95 | $(fmt "$(json_field "$LAT" p95_ms)" 1) ms | < 250 ms |"
  echo "| the ingest request alone (sent → 202), p50 | $(fmt "$(json_field "$LAT" ingest_p50_ms)" 1) ms | – |"
  echo ""
  echo "$(json_field "$LAT" deliveries) deliveries to $(json_field "$LAT" complete_subscribers) of 1 000 subscribers that each received all $(json_field "$LAT" events) events. Latency is measured from just before the POST is sent, so it includes the ingest request and its commit; subscribers and the sender share one client process and the machine with the server."
} | tee -a "$ROOT/BENCHMARKS.md"
