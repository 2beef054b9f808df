-- Uptime probes: HTTP and TCP checks run by Leitstand, heartbeat monitors
-- pinged by other systems; their results, hourly rollups with a latency
-- histogram, incidents, maintenance windows and recovery runs.

-- A service may appear on the public status page (off unless opted in).
alter table services add column public_status boolean not null default false;

create table probes (
    id                   bigint generated always as identity primary key,
    service_id           bigint not null references services (id) on delete cascade,
    name                 text not null,
    kind                 text not null check (kind in ('http', 'tcp', 'heartbeat')),
    -- What to check, by kind: http {method, url, expected_status, body_contains,
    -- json_pointer, json_equals, follow_redirects, headers}; tcp {host, port}.
    config               jsonb not null default '{}',
    interval_seconds     integer not null check (interval_seconds between 5 and 86400),
    timeout_seconds      double precision not null default 5 check (timeout_seconds > 0 and timeout_seconds <= 60),
    failures_before_down integer not null default 2 check (failures_before_down between 1 and 100),
    cert_warning_days    integer not null default 14 check (cert_warning_days between 0 and 365),
    -- Heartbeats: a ping is expected every period, late after period + grace.
    period_seconds       integer check (period_seconds between 5 and 31622400),
    grace_seconds        integer check (grace_seconds between 0 and 31622400),
    token                text unique,
    enabled              boolean not null default true,
    -- Current state, written by whoever ran the last check.
    state                text not null default 'unknown'
                         check (state in ('unknown', 'up', 'degraded', 'down')),
    consecutive_failures integer not null default 0,
    state_since          timestamptz not null default now(),
    -- The first failure of the current run of failures: when an incident
    -- opens, it started then, for that reason.
    streak_started_at    timestamptz,
    streak_error         text,
    last_checked_at      timestamptz,
    last_duration_ms     double precision,
    last_status          integer,
    last_error           text,
    cert_expires_at      timestamptz,
    last_ping_at         timestamptz,
    last_ping_body       text,
    -- Scheduling: due at next_due_at; a process that claims a check holds a
    -- lease until it has recorded the result (or the lease runs out, when
    -- another process takes the check over).
    next_due_at          timestamptz not null default now(),
    lease_until          timestamptz,
    created_at           timestamptz not null default now(),
    constraint probes_heartbeat_fields check (
        kind <> 'heartbeat' or (period_seconds is not null and grace_seconds is not null and token is not null))
);
create index probes_due on probes (next_due_at) where enabled;
create index probes_service on probes (service_id);

-- Every check's outcome. Partitioned by month like events, so retention
-- drops whole months.
create table probe_results (
    probe_id    bigint not null,
    checked_at  timestamptz not null,
    duration_ms double precision,
    status_code integer,
    outcome     text not null check (outcome in ('up', 'degraded', 'down')),
    error       text,
    -- How late the check started against when it was due.
    lag_ms      real,
    -- Checked during a maintenance window: shown, but counted nowhere.
    maintenance boolean not null default false
) partition by range (checked_at);
create index probe_results_probe_time on probe_results (probe_id, checked_at desc);

create function leitstand_ensure_probe_partitions(from_ts timestamptz, to_ts timestamptz)
returns integer
language plpgsql as $$
declare
    month   date := date_trunc('month', from_ts at time zone 'UTC')::date;
    last    date := date_trunc('month', to_ts at time zone 'UTC')::date;
    name    text;
    created integer := 0;
begin
    perform pg_advisory_xact_lock(hashtext('leitstand_probe_partitions'));
    while month <= last loop
        name := format('probe_results_%s', to_char(month, 'YYYY_MM'));
        if to_regclass(name) is null then
            execute format(
                'create table %I partition of probe_results for values from (%L) to (%L)',
                name,
                (month::timestamp at time zone 'UTC'),
                ((month + interval '1 month')::timestamp at time zone 'UTC'));
            created := created + 1;
        end if;
        month := (month + interval '1 month')::date;
    end loop;
    return created;
end $$;

select leitstand_ensure_probe_partitions(now() - interval '1 month', now() + interval '2 months');

-- Hourly per probe: checks and failures outside maintenance, checks during
-- maintenance, and a latency histogram over fixed bucket bounds (see
-- app/src/probes/histogram.rs), so uptime and p50/p95/p99 for any window
-- come from at most 24 rows a day whatever the interval.
create table probe_rollups (
    probe_id           bigint not null references probes (id) on delete cascade,
    bucket             timestamptz not null,
    checks             integer not null default 0,
    failures           integer not null default 0,
    maintenance_checks integer not null default 0,
    latency_hist       integer[] not null,
    latency_sum_ms     double precision not null default 0,
    primary key (probe_id, bucket)
);
create index probe_rollups_bucket on probe_rollups (bucket);

-- The same per UTC day, written in the same transaction: windows of days
-- read whole days here and only their partial edge days from the hourly
-- rows, so a year costs about what a day does.
create table probe_rollups_daily (
    probe_id           bigint not null references probes (id) on delete cascade,
    day                date not null,
    checks             integer not null default 0,
    failures           integer not null default 0,
    maintenance_checks integer not null default 0,
    latency_hist       integer[] not null,
    latency_sum_ms     double precision not null default 0,
    primary key (probe_id, day)
);

-- And per UTC month: a year then reads twelve months, the days around
-- them and the edge hours — about a hundred rows per probe instead of
-- thousands scattered over the table.
create table probe_rollups_monthly (
    probe_id           bigint not null references probes (id) on delete cascade,
    month              date not null check (extract(day from month) = 1),
    checks             integer not null default 0,
    failures           integer not null default 0,
    maintenance_checks integer not null default 0,
    latency_hist       integer[] not null,
    latency_sum_ms     double precision not null default 0,
    primary key (probe_id, month)
);

-- A probe going down opens an incident; coming back up closes it.
create table incidents (
    id          bigint generated always as identity primary key,
    probe_id    bigint not null references probes (id) on delete cascade,
    service_id  bigint not null references services (id) on delete cascade,
    started_at  timestamptz not null,
    ended_at    timestamptz,
    cause       text not null
);
create unique index incidents_one_open on incidents (probe_id) where ended_at is null;
create index incidents_service_time on incidents (service_id, started_at desc);

-- One-off (starts_at..ends_at) or weekly (weekday, start_time, duration in
-- the window's time zone) windows; service_id null means every service.
create table maintenance_windows (
    id               bigint generated always as identity primary key,
    service_id       bigint references services (id) on delete cascade,
    title            text not null,
    starts_at        timestamptz,
    ends_at          timestamptz,
    weekday          integer check (weekday between 0 and 6),
    start_time       time,
    duration_minutes integer check (duration_minutes between 1 and 10080),
    time_zone        text not null default 'UTC',
    created_by       text not null,
    created_at       timestamptz not null default now(),
    constraint maintenance_one_off_or_weekly check (
        (starts_at is not null and ends_at is not null and ends_at > starts_at
            and weekday is null and start_time is null and duration_minutes is null)
        or (starts_at is null and ends_at is null
            and weekday is not null and start_time is not null and duration_minutes is not null))
);

-- The watchdog's recovery actions (defined in the config file only), one
-- row per run.
create table recovery_runs (
    id          bigint generated always as identity primary key,
    service_id  bigint not null references services (id) on delete cascade,
    probe_id    bigint references probes (id) on delete set null,
    started_at  timestamptz not null default now(),
    duration_ms double precision,
    exit_code   integer,
    output      text,
    error       text
);
create index recovery_runs_service_time on recovery_runs (service_id, started_at desc);
