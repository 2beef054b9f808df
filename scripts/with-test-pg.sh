#!/usr/bin/env bash
# Runs a command with LEITSTAND_TEST_PG set to the admin URL of a PostgreSQL
# server the tests may create databases on:
#   1. LEITSTAND_TEST_PG if already set,
#   2. the local server at 127.0.0.1:5432 (user postgres) if it answers,
#   3. otherwise a private throwaway cluster under target/test-pg, started
#      with the machine's initdb/pg_ctl and stopped afterwards.
# PG_CLUSTER=stock skips 1. and 2.: the private cluster then runs with
# PostgreSQL's own defaults (fsync and autovacuum on), as a user's server
# would — for benchmarks, where a machine's server tuned for tests (fsync or
# autovacuum off) would measure something no user runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '\033[1m[test-pg]\033[0m %s\n' "$*" >&2; }

answers() { command -v psql >/dev/null && psql "$1" -qAtX -c 'select 1' >/dev/null 2>&1; }

STOCK=""
[ "${PG_CLUSTER:-}" = stock ] && STOCK=1
if [ -z "$STOCK" ] && [ -n "${LEITSTAND_TEST_PG:-}" ]; then
  exec "$@"
fi
if [ -z "$STOCK" ] && answers "postgres://postgres@127.0.0.1:5432/postgres"; then
  export LEITSTAND_TEST_PG="postgres://postgres@127.0.0.1:5432/postgres"
  exec "$@"
fi

PGBIN=""
if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
  PGBIN="$(dirname "$(command -v pg_ctl)")"
else
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$d/initdb" ]; then PGBIN="$d"; break; fi
  done
fi
if [ -z "$PGBIN" ]; then
  echo "No PostgreSQL for the tests: install it (apt-get install postgresql) or set LEITSTAND_TEST_PG to an admin URL." >&2
  exit 1
fi

DIR="$ROOT/target/test-pg"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
RUN=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "running as root needs a 'postgres' user for the test cluster" >&2; exit 1; }
  RUN=(runuser -u postgres --)
fi
rm -rf "$DIR"; mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres: "$DIR"
TUNING=(-c fsync=off)
[ -n "$STOCK" ] && TUNING=()
say "starting a private ${STOCK:+stock }test cluster on port $PORT ($PGBIN)"
"${RUN[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
"${RUN[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300 ${TUNING[*]:-}" -w start >/dev/null
trap '"${RUN[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true' EXIT
export LEITSTAND_TEST_PG="postgres://postgres@127.0.0.1:$PORT/postgres"
"$@"
