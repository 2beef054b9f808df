#!/usr/bin/env bash
# Upgrade cost at 10 million events: a database at schema 0007 (the last
# before the events key was rebuilt) filled straight through SQL the way
# that schema's ingest filled it, then `leitstand migrate` with the release
# binary. Prints each later migration's duration as PostgreSQL's migration
# table recorded it, for docs/upgrading.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib-bench.sh"
EVENTS="${BENCH_UPGRADE_EVENTS:-10000000}"
FROM=7

DB="$(new_db)"
trap 'drop_db "$DB"' EXIT
URL="$(bench_db_url "$DB")"

# The migrations up to 0007, recorded as sqlx records them (SHA-384 of the file).
for f in "$ROOT"/migrations/*.sql; do
  version=$((10#$(basename "$f" | cut -d_ -f1)))
  [ "$version" -le "$FROM" ] || continue
  psql "$URL" -qAtX -v ON_ERROR_STOP=1 -1 -f "$f" >/dev/null
done
python3 - "$URL" "$FROM" "$ROOT/migrations" <<'PY' | psql "$URL" -qAtX -v ON_ERROR_STOP=1 >/dev/null
import hashlib, os, sys
url, upto, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
print("""create table if not exists _sqlx_migrations (
  version bigint primary key, description text not null,
  installed_on timestamptz not null default now(), success boolean not null,
  checksum bytea not null, execution_time bigint not null);""")
for name in sorted(os.listdir(d)):
    v = int(name.split("_")[0])
    if v > upto:
        continue
    body = open(os.path.join(d, name), "rb").read()
    desc = name.split("_", 1)[1].rsplit(".", 1)[0].replace("_", " ")
    print(f"insert into _sqlx_migrations values ({v}, '{desc}', now(), true, "
          f"'\\x{hashlib.sha384(body).hexdigest()}', 0);")
PY

echo "loading $EVENTS events over 30 days at schema $(printf %04d "$FROM")…"
LOAD_START=$(date +%s)
psql "$URL" -qAtX -v ON_ERROR_STOP=1 >/dev/null <<SQL
set time zone 'UTC';
insert into services (slug, name) select 'svc-' || s, 'svc-' || s from generate_series(1, 20) s;
with rows as (
  select g, now() - (g::float8 / $EVENTS) * interval '30 days' as t, md5(g::text)::uuid as id
  from generate_series(1, $EVENTS) g),
ids as (insert into event_ids (id, occurred_at) select id, t from rows)
insert into events (occurred_at, id, seq, service_id, feature, kind, level, message,
                    fingerprint, release, environment, user_ref)
select t, id, nextval('events_seq'), 1 + g % 20, 'feature-' || (g % 7),
       case when g % 50 = 0 then 'exception' when g % 5000 = 1 then 'deploy' else 'request' end,
       case when g % 50 = 0 then 3 when g % 10 = 0 then 2 else 1 end,
       'event ' || (g % 100),
       case when g % 50 = 0 then 'fp-' || (g % 400) end,
       '1.' || (g * 30 / $EVENTS),
       case when g % 4 = 0 then 'staging' else 'production' end,
       case when g % 3 = 0 then 'user-' || (g % 5000) end
from rows;
insert into event_rollups (bucket, service_id, feature, events, debug, info, warning, error, critical, fixes, deploys)
select date_trunc('hour', occurred_at), service_id, feature, count(*),
       count(*) filter (where level = 0), count(*) filter (where level = 1), count(*) filter (where level = 2),
       count(*) filter (where level = 3), count(*) filter (where level = 4),
       count(*) filter (where kind = 'fix'), count(*) filter (where kind = 'deploy')
from events group by 1, 2, 3;
insert into event_rollups_daily (day, service_id, feature, events, debug, info, warning, error, critical, fixes, deploys)
select occurred_at::date, service_id, feature, count(*),
       count(*) filter (where level = 0), count(*) filter (where level = 1), count(*) filter (where level = 2),
       count(*) filter (where level = 3), count(*) filter (where level = 4),
       count(*) filter (where kind = 'fix'), count(*) filter (where kind = 'deploy')
from events group by 1, 2, 3;
insert into error_groups (service_id, fingerprint, feature, kind, level, message, first_seen, last_seen,
                          event_count, users_affected)
select service_id, fingerprint, max(feature), max(kind), 3, max(message), min(occurred_at), max(occurred_at),
       count(*), count(distinct user_ref)
from events where level >= 3 group by 1, 2;
insert into error_group_users (group_id, user_ref)
select distinct g.id, e.user_ref from events e
join error_groups g on g.service_id = e.service_id and g.fingerprint = e.fingerprint
where e.level >= 3 and e.user_ref is not null;
vacuum analyze;
SQL
LOAD_SECS=$(( $(date +%s) - LOAD_START ))
SIZE="$(psql "$URL" -qAtX -c "select pg_size_pretty(pg_database_size(current_database()))")"
echo "loaded in $LOAD_SECS s ($SIZE)"

MIGRATE_START="$(date +%s.%N)"
DATABASE_URL="$URL" "$BIN" migrate
MIGRATE_SECS="$(python3 -c "print(round($(date +%s.%N) - $MIGRATE_START, 1))")"
ROWS="$(psql "$URL" -qAtX -F '|' -c "select version, description, round(execution_time / 1e9, 2)
                                    from _sqlx_migrations where version > $FROM order by version")"
echo "$ROWS"

bench_header "Upgrade from schema $(printf %04d "$FROM") at $(fmt "$EVENTS") events"
{
  echo "| migration | what | duration |"
  echo "|---|---|---|"
  while IFS='|' read -r version description seconds; do
    printf '| %04d | %s | %s s |\n' "$version" "$description" "$seconds"
  done <<<"$ROWS"
  echo ""
  echo "\`leitstand migrate\` (release build) on a database at schema $(printf %04d "$FROM") holding $(fmt "$EVENTS") events over 30 days in 20 services ($SIZE, filled through SQL in $LOAD_SECS s): ${MIGRATE_SECS} s in all, durations as recorded in \`_sqlx_migrations\`. Locks: docs/upgrading.md."
} | tee -a "$ROOT/BENCHMARKS.md"
