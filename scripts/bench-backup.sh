#!/usr/bin/env bash
# Backup and restore throughput at 1 million events (demo traffic), next to
# the raw `pg_dump` of the same database measured in the same run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"
EVENTS="${BENCH_BACKUP_EVENTS:-1000000}"

DB="$(new_db)"
DATA="$(mktemp -d)"
LOAD=""
trap '{ [ -n "$LOAD" ] && kill "$LOAD"; } 2>/dev/null || true; stop_server || true; drop_db "$DB"; rm -rf "$DATA"' EXIT
URL="$(bench_db_url "$DB")"
export DATABASE_URL="$URL" LEITSTAND_DATA_DIR="$DATA" LEITSTAND_BACKUP_SCHEDULE=off
"$BIN" migrate >/dev/null
echo "loading $EVENTS demo events…"
"$BIN" demo --events "$EVENTS" --no-live --seed 5 2>&1 | tail -n1
psql "$URL" -qAtX -c "vacuum analyze" >/dev/null
db_bytes="$(psql "$URL" -qAtX -c "select pg_database_size(current_database())")"

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$1" "$2"; }

t0="$(now)"
pg_dump --format=custom --file="$DATA/raw.dump" "$URL"
t1="$(now)"
dump_s="$(secs "$t0" "$t1")"
dump_bytes="$(stat -c %s "$DATA/raw.dump")"

t0="$(now)"
out="$("$BIN" backup create)"
t1="$(now)"
backup_s="$(secs "$t0" "$t1")"
name="$(echo "$out" | awk '{print $1}')"
backup_bytes="$(stat -c %s "$DATA/backups/$name")"

t0="$(now)"
"$BIN" backup verify "$name" >/dev/null
t1="$(now)"
verify_s="$(secs "$t0" "$t1")"

t0="$(now)"
"$BIN" backup restore "$name" --yes >/dev/null
t1="$(now)"
restore_s="$(secs "$t0" "$t1")"

# A running server's memory across backups: its resident set before and
# after each of BENCH_BACKUP_RUNS backups taken through the API, with light
# ingest beside them, each read 15 s after the backup (when the blocking
# thread that wrote the file has gone idle and exited).
RUNS="${BENCH_BACKUP_RUNS:-6}"
ADMIN_KEY="$("$BIN" key create --name bench-admin --scopes admin --quiet)"
INGEST_KEY="$("$BIN" key create --name bench-ingest --scopes ingest --quiet)"
python3 -c 'import json; print(json.dumps([{"service": "shop", "type": "request", "level": "info", "message": "bench", "duration_ms": 12}] * 50))' >"$DATA/batch.json"
start_server "$URL"
rss_mb() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
(
  while :; do
    curl -s -o /dev/null -X POST -H "Authorization: Bearer $INGEST_KEY" -H 'Content-Type: application/json' \
      --data-binary @"$DATA/batch.json" "$SERVER_URL/api/v1/events" || true
    sleep 0.05
  done
) &
LOAD=$!
sleep 15
rss=("$(rss_mb)")
for _ in $(seq "$RUNS"); do
  curl -sf -o /dev/null -X POST -H "Authorization: Bearer $ADMIN_KEY" "$SERVER_URL/api/v1/backups"
  sleep 15
  rss+=("$(rss_mb)")
done
kill "$LOAD" 2>/dev/null; wait "$LOAD" 2>/dev/null || true; LOAD=""
stop_server
rss_growth="$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):+.1f}')" "${rss[0]}" "${rss[-1]}")"

mb() { python3 -c "import sys; print(f'{float(sys.argv[1])/1e6:,.1f}'.replace(',', ' '))" "$1"; }
rate() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):,.0f}'.replace(',', ' '))" "$1" "$2"; }
mbs() { python3 -c "import sys; print(f'{float(sys.argv[1])/1e6/float(sys.argv[2]):,.1f}')" "$1" "$2"; }

bench_header "Backup and restore at $(fmt "$EVENTS") events"
{
  echo "Database size $(mb "$db_bytes") MB (\`pg_database_size\`, indexes included). Throughput in MB/s is database size per second."
  echo ""
  echo "| operation | time | file size | MB/s | events/s |"
  echo "|---|---|---|---|---|"
  echo "| \`pg_dump --format=custom\` (baseline) | $(fmt "$dump_s" 1) s | $(mb "$dump_bytes") MB | $(mbs "$db_bytes" "$dump_s") | $(rate "$EVENTS" "$dump_s") |"
  echo "| \`leitstand backup create\` | $(fmt "$backup_s" 1) s | $(mb "$backup_bytes") MB | $(mbs "$db_bytes" "$backup_s") | $(rate "$EVENTS" "$backup_s") |"
  echo "| \`leitstand backup verify\` | $(fmt "$verify_s" 1) s | | $(mbs "$db_bytes" "$verify_s") | $(rate "$EVENTS" "$verify_s") |"
  echo "| \`leitstand backup restore\` (validate + safety backup + replace) | $(fmt "$restore_s" 1) s | | $(mbs "$db_bytes" "$restore_s") | $(rate "$EVENTS" "$restore_s") |"
  echo ""
  echo "A server's memory across $RUNS backups through the API (light ingest beside them; resident set in MB before the first and 15 s after each): ${rss[*]} — $rss_growth MB."
  echo ""
  echo "Backup vs pg_dump: $(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$backup_s" "$dump_s")× the time. The restore reads the file twice (validation, then load), writes a full safety backup and rebuilds every index inside one transaction."
} | tee -a "$ROOT/BENCHMARKS.md"
