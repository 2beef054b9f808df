#!/usr/bin/env bash
# Ingest throughput over HTTP against the raw PostgreSQL ceiling, measured
# in the same run and interleaved: ROUNDS times (default 3) the ceiling (COPY
# of the same rows into `events` from as many connections as the batch run),
# then 1000-event batches from 4 clients, then single events from 64 clients.
# Reported: the median of each, with the spread (lowest–highest), and each
# batch run's share of the ceiling measured just before it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"
SECONDS_PER_RUN="${BENCH_SECONDS:-20}"
ROUNDS="${BENCH_ROUNDS:-3}"
COPY_ROWS="${BENCH_COPY_ROWS:-400000}"
BATCH_CLIENTS=4   # the ceiling uses as many connections as the batch run

DB="$(new_db)"
trap 'stop_server; drop_db "$DB"' EXIT
URL="$(bench_db_url "$DB")"
start_server "$URL"
KEY="$(DATABASE_URL="$URL" "$BIN" key create --name bench --scopes ingest,read --quiet)"

RESULTS=()
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: COPY ceiling, $BATCH_CLIENTS clients…"
  COPY="$("$BENCH_BIN" copy --database-url "$URL" --rows "$COPY_ROWS" --clients "$BATCH_CLIENTS")"
  echo "$COPY"
  echo "round $round/$ROUNDS: 1000-event batches, $BATCH_CLIENTS clients, ${SECONDS_PER_RUN} s…"
  BATCH="$("$BENCH_BIN" ingest --url "$SERVER_URL" --key "$KEY" --clients "$BATCH_CLIENTS" --batch 1000 --seconds "$SECONDS_PER_RUN")"
  echo "$BATCH"
  echo "round $round/$ROUNDS: single events, 64 clients, ${SECONDS_PER_RUN} s…"
  SINGLE="$("$BENCH_BIN" ingest --url "$SERVER_URL" --key "$KEY" --clients 64 --batch 1 --seconds "$SECONDS_PER_RUN")"
  echo "$SINGLE"
  RESULTS+=("$(python3 -c 'import json,sys; print(json.dumps({"copy": json.loads(sys.argv[1]), "batch": json.loads(sys.argv[2]), "single": json.loads(sys.argv[3])}))' "$COPY" "$BATCH" "$SINGLE")")
done

committed="$(psql "$URL" -qAtX -c "select count(*) from events e join services s on s.id = e.service_id where s.slug like 'bench-%' and s.slug <> 'bench-copy'")"
claimed="$(python3 -c "import json,sys; print(sum(json.loads(l)[w]['events'] for l in sys.argv[1:] for w in ('batch', 'single')))" "${RESULTS[@]}")"
[ "$committed" = "$claimed" ] || { echo "acknowledged $claimed events but $committed are stored" >&2; exit 1; }

bench_header "Ingest over HTTP vs. raw COPY ceiling (interleaved, $ROUNDS rounds)"
python3 - "$committed" "$SECONDS_PER_RUN" "${RESULTS[@]}" <<'PY' | tee -a "$ROOT/BENCHMARKS.md"
import json, statistics, sys
committed, seconds = int(sys.argv[1]), sys.argv[2]
rounds = [json.loads(r) for r in sys.argv[3:]]
def n(x, d=0):
    return f"{x:,.{d}f}".replace(",", " ")
def spread(xs, d=0, unit=""):
    return f"{n(statistics.median(xs), d)}{unit} ({n(min(xs), d)}–{n(max(xs), d)})"
copy = [r["copy"]["rows_per_s"] for r in rounds]
batch = [r["batch"]["events_per_s"] for r in rounds]
single = [r["single"]["events_per_s"] for r in rounds]
share = [100 * r["batch"]["events_per_s"] / r["copy"]["rows_per_s"] for r in rounds]
print(f"Each round: the ceiling, then each workload for {seconds} s. Median (lowest–highest) of {len(rounds)} rounds.")
print()
print("| workload | events/s committed | p50 | p99 | share of the round's COPY ceiling | target |")
print("|---|---|---|---|---|---|")
print(f"| raw COPY, same rows into `events`, 4 clients (ceiling) | {spread(copy)} | – | – | 100 % | – |")
print(f"| POST 1000-event batches, 4 clients | {spread(batch)} | {spread([r['batch']['p50_ms'] for r in rounds], 1, ' ms')} | {spread([r['batch']['p99_ms'] for r in rounds], 1, ' ms')} | {spread(share, 0, ' %')} | ≥ 50 % |")
print(f"| POST single events, 64 clients | {spread(single)} | {spread([r['single']['p50_ms'] for r in rounds], 1, ' ms')} | {spread([r['single']['p99_ms'] for r in rounds], 1, ' ms')} | – | ≥ 15 000 /s |")
print()
print("Per round (ceiling / batches / singles, events/s): " + "; ".join(
    f"{n(r['copy']['rows_per_s'])} / {n(r['batch']['events_per_s'])} / {n(r['single']['events_per_s'])}" for r in rounds) + ".")
print()
print(f"All {committed} acknowledged events were found in the database afterwards. Ingest writes, per event, the row, its idempotency id and its share of hourly/daily/minute rollups, releases and error groups in one transaction; COPY writes only the row.")
PY
