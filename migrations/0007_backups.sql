-- The backup catalog. Not itself in backups: a restore must not forget
-- the backups taken after the one restored (among them its safety backup).
create table backups (
    id             bigint generated always as identity primary key,
    -- File under <data-dir>/backups/; set right after the row is created.
    file_name      text unique,
    kind           text not null check (kind in ('manual', 'scheduled', 'safety')),
    status         text not null check (status in ('running', 'ok', 'failed')),
    size_bytes     bigint,
    sha256         text,
    schema_version bigint,
    -- Rows per table, e.g. {"events": 1000000, ...}.
    row_counts     jsonb not null default '{}',
    error          text,
    created_by     text,
    -- A scheduled run's slot: unique, so however many processes wake up
    -- for it, one backup is taken.
    slot           timestamptz unique,
    created_at     timestamptz not null default now(),
    finished_at    timestamptz,
    verified_at    timestamptz,
    verified_ok    boolean
);
create index backups_created on backups (created_at desc);
