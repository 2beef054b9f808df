-- Leitstand schema v1: services, events (partitioned by month), rollups,
-- error groups, API keys and the audit log.

create table services (
    id          bigint generated always as identity primary key,
    slug        text not null unique
                constraint services_slug_format check (slug ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name        text not null,
    health_url  text,
    probe_interval_seconds integer not null default 60 check (probe_interval_seconds between 5 and 86400),
    probe_timeout_ms       integer not null default 5000 check (probe_timeout_ms between 100 and 60000),
    slo_p95_ms             integer not null default 100,
    slo_error_rate_percent double precision not null default 0.5,
    slo_uptime_percent     double precision not null default 99.9,
    slo_dead_letters       integer not null default 0,
    created_at  timestamptz not null default now()
);

-- The global, commit-ordered cursor of the live stream (`seq`): taken under
-- an advisory lock held until commit, so a reader that has seen seq N has
-- seen every event with a smaller seq.
create sequence events_seq as bigint;

-- One row per event. Partitioned by month on occurred_at so that retention
-- drops whole partitions. There is deliberately no foreign key to services:
-- it would add a per-row trigger to the hottest insert path, and services
-- are never deleted while events reference them.
create table events (
    occurred_at timestamptz not null,
    id          uuid not null,
    seq         bigint not null,
    received_at timestamptz not null default now(),
    service_id  bigint not null,
    feature     text not null default '',
    kind        text not null,
    -- 0 debug, 1 info, 2 warning, 3 error, 4 critical
    level       smallint not null check (level between 0 and 4),
    message     text not null default '',
    fingerprint text,
    release     text,
    environment text,
    user_ref    text,
    attributes  jsonb not null default '{}',
    primary key (occurred_at, id)
) partition by range (occurred_at);

create index events_service_time on events (service_id, occurred_at);
create index events_seq_idx on events (seq);

-- Idempotency: a client-supplied event id is stored once, whatever its
-- timestamp. Also maps an id to its partition key for detail look-ups.
create table event_ids (
    id          uuid primary key,
    occurred_at timestamptz not null,
    received_at timestamptz not null default now()
);

-- Creates the monthly partitions of `events` covering [from_ts, to_ts].
-- Safe to call concurrently from several processes.
create function leitstand_ensure_event_partitions(from_ts timestamptz, to_ts timestamptz)
returns integer
language plpgsql as $$
declare
    month   date := date_trunc('month', from_ts at time zone 'UTC')::date;
    last    date := date_trunc('month', to_ts at time zone 'UTC')::date;
    name    text;
    created integer := 0;
begin
    perform pg_advisory_xact_lock(hashtext('leitstand_event_partitions'));
    while month <= last loop
        name := format('events_%s', to_char(month, 'YYYY_MM'));
        if to_regclass(name) is null then
            execute format(
                'create table %I partition of events for values from (%L) to (%L)',
                name,
                (month::timestamp at time zone 'UTC'),
                ((month + interval '1 month')::timestamp at time zone 'UTC'));
            created := created + 1;
        end if;
        month := (month + interval '1 month')::date;
    end loop;
    return created;
end $$;

-- Accepted events are at most a year old and a day ahead: cover that now.
select leitstand_ensure_event_partitions(now() - interval '13 months', now() + interval '2 months');

-- Hourly counts per (service, feature), by level and kind class, written in
-- the same transaction as the events. Levels and kind classes are columns
-- rather than key parts: one row per hour and feature keeps both the upsert
-- and the KPI scans small.
create table event_rollups (
    bucket      timestamptz not null,
    service_id  bigint not null,
    feature     text not null,
    events      bigint not null default 0,
    debug       bigint not null default 0,
    info        bigint not null default 0,
    warning     bigint not null default 0,
    error       bigint not null default 0,
    critical    bigint not null default 0,
    fixes       bigint not null default 0,
    deploys     bigint not null default 0,
    primary key (bucket, service_id, feature)
);

-- The same per UTC day: 30-day KPIs read ~24x fewer rows.
create table event_rollups_daily (
    day         date not null,
    service_id  bigint not null,
    feature     text not null,
    events      bigint not null default 0,
    debug       bigint not null default 0,
    info        bigint not null default 0,
    warning     bigint not null default 0,
    error       bigint not null default 0,
    critical    bigint not null default 0,
    fixes       bigint not null default 0,
    deploys     bigint not null default 0,
    primary key (day, service_id, feature)
);

-- One row per (service, fingerprint). Status is derived: resolved when the
-- latest resolution is not older than the latest error, so events arriving
-- out of order give the same answer.
create table error_groups (
    id            bigint generated always as identity primary key,
    service_id    bigint not null references services (id),
    fingerprint   text not null,
    feature       text not null default '',
    kind          text not null default '',
    level         smallint not null default 3,
    message       text not null default '',
    first_seen    timestamptz,
    last_seen     timestamptz,
    event_count   bigint not null default 0,
    users_affected bigint not null default 0,
    resolved_at   timestamptz,
    resolved_in   text,
    ignored       boolean not null default false,
    created_at    timestamptz not null default now(),
    unique (service_id, fingerprint)
);
create index error_groups_last_seen on error_groups (last_seen);

create table error_group_users (
    group_id bigint not null references error_groups (id) on delete cascade,
    user_ref text not null,
    primary key (group_id, user_ref)
);

-- Every resolution (fix event or UI action): fixes per day/week count these.
create table error_resolutions (
    id          bigint generated always as identity primary key,
    group_id    bigint not null references error_groups (id) on delete cascade,
    resolved_at timestamptz not null,
    source      text not null check (source in ('fix_event', 'ui', 'api')),
    release     text,
    actor       text,
    created_at  timestamptz not null default now()
);
create index error_resolutions_time on error_resolutions (resolved_at);
create index error_resolutions_group on error_resolutions (group_id);

create table api_keys (
    id            bigint generated always as identity primary key,
    name          text not null check (length(name) between 1 and 100),
    -- The visible part of the key, e.g. lst_ab12cd34; unique so it names the key.
    prefix        text not null unique,
    secret_sha256 bytea not null unique,
    scopes        text[] not null,
    service_id    bigint references services (id),
    created_by    text,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

create table audit_log (
    id         bigint generated always as identity primary key,
    at         timestamptz not null default now(),
    actor      text not null,
    action     text not null,
    target     text,
    ip         inet,
    details    jsonb not null default '{}',
    created_at timestamptz not null default now()
);
create index audit_log_at on audit_log (at desc);
