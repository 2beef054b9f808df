-- Sentry-compatible ingest: each service has a public DSN key (ingest
-- only, bound to the service, rotatable) and the browser origins whose
-- SDKs may send to it; error groups remember their culprit (top in-app
-- frame) and the releases they were first and last seen in.

alter table services
    add column sentry_key text unique
        constraint services_sentry_key_format check (sentry_key ~ '^[0-9a-f]{32}$'),
    add column allowed_origins text[] not null default '{}';

-- The full report a Sentry SDK sent with an event (exception chain,
-- frames, breadcrumbs, request, contexts), scrubbed, as zstd-compressed
-- JSON: in the event's own row, so retention, erasure and backups treat it
-- like the event, while lists and the live stream never carry it.
alter table events add column payload bytea;

alter table error_groups
    add column culprit text not null default '',
    add column first_release text,
    add column last_release text,
    -- Environments its errors came from (few per group).
    add column environments text[] not null default '{}',
    -- "Resolve in next release": resolved when the service reports a
    -- release other than this one after the request.
    add column resolve_after_release text,
    add column resolve_requested_at timestamptz;

-- The Errors page lists groups by service and recency.
create index error_groups_service_last_seen on error_groups (service_id, last_seen desc, id desc);

-- Releases as events name them, per service, written by ingest like the
-- rollups: when each was first seen (a deploy event or the first event
-- carrying it), and its events and errors for the error rate per release.
create table releases (
    service_id  bigint not null references services (id) on delete cascade,
    version     text not null,
    first_seen  timestamptz not null,
    last_seen   timestamptz not null,
    events      bigint not null default 0,
    errors      bigint not null default 0,
    primary key (service_id, version)
);

-- Error events per group and hour, written by ingest: the Errors page's
-- 24-hour and 30-day sparklines and the detail chart.
create table error_group_hourly (
    group_id    bigint not null references error_groups (id) on delete cascade,
    bucket      timestamptz not null,
    events      bigint not null default 0,
    primary key (group_id, bucket)
);
