# Shared by scripts/bench-*.sh and scripts/lighthouse-compare.sh: a fresh
# database and a release server.
# Sourced, not run. Needs LEITSTAND_TEST_PG (scripts/with-test-pg.sh).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# LEITSTAND_BENCH_BIN measures another build of the server (an A/B comparison
# in one session); the header names it.
BIN="${LEITSTAND_BENCH_BIN:-$ROOT/target/release/leitstand}"
BENCH_BIN="$ROOT/target/release/leitstand-bench"
ADMIN_URL="${LEITSTAND_TEST_PG:?set LEITSTAND_TEST_PG (use scripts/with-test-pg.sh)}"
export RUST_LOG="${RUST_LOG:-warn}"

[ -x "$BIN" ] || { echo "missing $BIN: run 'make build'" >&2; exit 1; }
if [ ! -x "$BENCH_BIN" ] || [ -n "$(find "$ROOT/bench/src" -newer "$BENCH_BIN" -print -quit)" ]; then
  (cd "$ROOT" && SQLX_OFFLINE=true cargo build --release -p bench --quiet)
fi

# The database is on this machine: no TLS (it costs both ends CPU for nothing).
# BENCH_DB_PARAMS adds connection parameters for experiments, e.g.
# `options=-c%20plan_cache_mode%3Dforce_generic_plan`.
bench_db_url() { echo "${ADMIN_URL%/*}/$1?sslmode=disable${BENCH_DB_PARAMS:+&$BENCH_DB_PARAMS}"; }

new_db() {
  local name="bench_$(date +%s)_$RANDOM"
  psql "$ADMIN_URL" -qAtX -c "create database $name" >/dev/null
  echo "$name"
}

drop_db() { psql "$ADMIN_URL" -qAtX -c "drop database if exists $1 with (force)" >/dev/null 2>&1 || true; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server DB_URL -> sets SERVER_PID, SERVER_URL
start_server() {
  local port; port="$(free_port)"
  # Rate limits off: these benchmarks measure throughput, not the limiters.
  DATABASE_URL="$1" LEITSTAND_LISTEN="127.0.0.1:$port" LEITSTAND_RATE_LIMIT_PER_IP=0 LEITSTAND_INGEST_RATE_PER_KEY=0 \
    "$BIN" serve >/tmp/leitstand-bench-server.log 2>&1 &
  SERVER_PID=$!
  SERVER_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -sf "$SERVER_URL/readyz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "server did not start:" >&2; cat /tmp/leitstand-bench-server.log >&2; return 1
}

stop_server() { [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=""; }

# lighthouse_ready -> LH_DIR (Lighthouse 12.2.3 installed there from
# bench/lighthouse's lock file) and CHROME (Debian's Chromium).
lighthouse_ready() {
  LH_DIR="$ROOT/bench/lighthouse"
  CHROME="${CHROMIUM_PATH:-$(command -v chromium || echo /usr/bin/chromium)}"
  if [ ! -x "$LH_DIR/node_modules/.bin/lighthouse" ]; then
    (cd "$LH_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The pages Lighthouse measures, by name, and each one's path.
LH_PAGES="dashboard events backups"
lighthouse_path() { case "$1" in dashboard) echo /;; *) echo "/$1";; esac; }

# lighthouse_signed_in DIR: the session cookie as Lighthouse's extra headers
# (DIR/headers.json), and each page rendered once, so that what is measured
# is the browser's first load, not the server's first request after its
# start (cold database caches once made the first page paint a second late).
# Needs SERVER_URL and SESSION_COOKIE (demo_server_signed_in).
lighthouse_signed_in() {
  printf '{"Cookie": "%s"}' "$SESSION_COOKIE" > "$1/headers.json"
  local page
  for page in $LH_PAGES; do
    curl -sf -o /dev/null -H "Cookie: $SESSION_COOKIE" "$SERVER_URL$(lighthouse_path "$page")"
  done
}

# lighthouse_run PAGE REPORT CATEGORIES: one run (mobile emulation, simulated
# throttling) of the running server's PAGE, signed in, the JSON report to
# REPORT; CATEGORIES as Lighthouse's --only-categories. Needs
# lighthouse_ready and lighthouse_signed_in "$(dirname REPORT)".
lighthouse_run() {
  CHROME_PATH="$CHROME" "$LH_DIR/node_modules/.bin/lighthouse" "$SERVER_URL$(lighthouse_path "$1")" \
    --quiet --output=json --output-path="$2" --only-categories="$3" \
    --extra-headers="$(dirname "$2")/headers.json" \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu" >/dev/null
}

json_field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
fmt() { python3 -c "import sys; print(f'{float(sys.argv[1]):,.${2:-0}f}'.replace(',', ' '))" "$1"; }

# The server settings that change what a benchmark measures.
pg_settings() {
  psql "$ADMIN_URL" -qAtX -c "select string_agg(n || ' ' || current_setting(n), ', ')
    from unnest(array['autovacuum', 'fsync', 'synchronous_commit', 'shared_buffers']) n"
}

# Read when a benchmark starts: its header is written after the run.
LOAD_AT_START="$(cut -d' ' -f1-3 /proc/loadavg)"

bench_header() {
  local title="$1"
  {
    echo ""
    echo "### $title — $(date -u +%Y-%m-%dT%H:%MZ)"
    echo ""
    echo "Commit \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)\`, $(nproc) cores, load average at start $LOAD_AT_START (now $(cut -d' ' -f1-3 /proc/loadavg)), PostgreSQL $(psql "$ADMIN_URL" -qAtX -c 'show server_version' | cut -d' ' -f1) ($(pg_settings)). Client and server share the machine.${LEITSTAND_BENCH_BIN:+ Server binary: \`$LEITSTAND_BENCH_BIN\`${BENCH_LABEL:+ ($BENCH_LABEL)}.}"
    echo ""
  } >> "$ROOT/BENCHMARKS.md"
}

# demo_server_signed_in DB_URL -> a migrated database with demo data and an
# admin, the release server on it (SERVER_URL, SERVER_PID) and that admin's
# session cookie in SESSION_COOKIE (`leitstand_session=…`), signed in through
# the login form's endpoint, like a browser.
demo_server_signed_in() {
  local password="benchmark password"
  DATABASE_URL="$1" "$BIN" migrate >/dev/null
  echo "demo data…"
  DATABASE_URL="$1" "$BIN" demo --no-live >/dev/null
  printf '%s\n' "$password" | DATABASE_URL="$1" "$BIN" user add --email bench@example.com --role admin >/dev/null
  start_server "$1"
  local action
  action="$(curl -sf "$SERVER_URL/login" | grep -oE 'action="/rpc/login[0-9]*"' | head -n1 | cut -d'"' -f2)"
  SESSION_COOKIE="$(curl -s -o /dev/null -D - -X POST "$SERVER_URL$action" \
    -H "Origin: $SERVER_URL" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-urlencode email=bench@example.com --data-urlencode "password=$password" --data-urlencode next=/ \
    | grep -oiE 'leitstand_session=[^;]+' | head -n1)"
  [ -n "$SESSION_COOKIE" ] || { echo "sign-in failed" >&2; return 1; }
}
