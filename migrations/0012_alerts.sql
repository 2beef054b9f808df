-- Alerts: channels to notify, rules that decide when, the state of each
-- rule per service (cooldown, grouping, firing/resolved), event
-- subscriptions forwarding events to webhooks, and one outbox of
-- deliveries with every attempt and a dead-lettered state.

-- Where notifications go. Secrets (SMTP password, webhook signing secret,
-- header values, a Slack URL's token) are in `secrets`, encrypted with the
-- instance key; `config` holds the rest and is shown to admins.
create table alert_channels (
    id              bigint generated always as identity primary key,
    kind            text not null check (kind in ('email', 'webhook', 'slack')),
    name            text not null unique check (length(name) between 1 and 100),
    config          jsonb not null default '{}',
    secrets         bytea,
    -- During a rotation the old signing secret signs too, until then.
    previous_secrets bytea,
    previous_until  timestamptz,
    -- A 410 Gone (or an admin) disables a channel; nothing is sent to it.
    disabled_at     timestamptz,
    disabled_reason text,
    created_at      timestamptz not null default now()
);

-- Forward every event matching a filter to a webhook, in batches.
-- `cursor` is the stream position (events.seq) forwarded so far: a batch
-- and the cursor's advance commit together (under the row's lock), so
-- nothing is queued twice or skipped.
create table event_subscriptions (
    id              bigint generated always as identity primary key,
    name            text not null unique check (length(name) between 1 and 100),
    url             text not null,
    service_id      bigint references services (id) on delete cascade,
    min_level       smallint not null default 0 check (min_level between 0 and 4),
    kind_prefix     text not null default '',
    secrets         bytea not null,
    previous_secrets bytea,
    previous_until  timestamptz,
    cursor          bigint not null default 0,
    disabled_at     timestamptz,
    disabled_reason text,
    created_at      timestamptz not null default now()
);

create table alert_rules (
    id               bigint generated always as identity primary key,
    name             text not null check (length(name) between 1 and 100),
    kind             text not null check (kind in ('new_error_group', 'regression', 'critical_event',
                         'error_rate', 'probe_down', 'slo_missed', 'slo_burn', 'backup_stale', 'dead_letters')),
    -- null: every service (and the instance-wide kinds).
    service_id       bigint references services (id) on delete cascade,
    cooldown_seconds integer not null default 300 check (cooldown_seconds between 0 and 604800),
    -- error_rate: percent, window and minimum events; slo_burn: burn-rate factor.
    threshold        double precision,
    window_seconds   integer check (window_seconds between 60 and 604800),
    min_events       integer check (min_events >= 0),
    enabled          boolean not null default true,
    created_at       timestamptz not null default now()
);

create table alert_rule_channels (
    rule_id    bigint not null references alert_rules (id) on delete cascade,
    channel_id bigint not null references alert_channels (id) on delete cascade,
    primary key (rule_id, channel_id)
);
create index alert_rule_channels_channel on alert_rule_channels (channel_id);

-- What each rule knows per service (service_key 0: instance-wide): firing
-- since when, when it last sent, and how much it held back since.
create table alert_states (
    rule_id       bigint not null references alert_rules (id) on delete cascade,
    service_key   bigint not null,
    firing        boolean not null default false,
    since         timestamptz,
    last_event_at timestamptz,
    last_sent_at  timestamptz,
    suppressed    integer not null default 0,
    value         double precision,
    detail        text,
    primary key (rule_id, service_key)
);

-- State changes that rules listen to, written in the transaction of the
-- change (ingest, probe result, backup). The alert worker turns them into
-- deliveries and deletes them in one transaction.
create table alert_signals (
    id         bigint generated always as identity primary key,
    kind       text not null,
    service_id bigint,
    at         timestamptz not null default now(),
    detail     jsonb not null default '{}'
);

-- The outbox. The id is the webhook-id: the same on every retry.
create table deliveries (
    id              uuid primary key,
    channel_id      bigint references alert_channels (id) on delete cascade,
    subscription_id bigint references event_subscriptions (id) on delete cascade,
    -- Where it goes, for people: a host or an address list.
    destination     text not null,
    -- alert | resolved | test | events
    purpose         text not null,
    payload         jsonb not null,
    status          text not null default 'pending'
                    check (status in ('pending', 'delivered', 'dead', 'discarded')),
    attempts        integer not null default 0,
    -- 0, then one more per replay: each round starts the schedule again.
    round           integer not null default 0,
    next_attempt_at timestamptz,
    lease_until     timestamptz,
    created_at      timestamptz not null default now(),
    finished_at     timestamptz,
    last_status     integer,
    last_error      text,
    check (num_nonnulls(channel_id, subscription_id) = 1)
);
create index deliveries_due on deliveries (next_attempt_at) where status = 'pending';
create index deliveries_dead on deliveries (created_at) where status = 'dead';
create index deliveries_created on deliveries (created_at);

create table delivery_attempts (
    delivery_id uuid not null references deliveries (id) on delete cascade,
    round       integer not null,
    attempt     integer not null,
    at          timestamptz not null,
    duration_ms double precision not null,
    status_code integer,
    response    text,
    error       text,
    primary key (delivery_id, round, attempt)
);

-- Per service and minute: events and errors, for error-rate rules over
-- windows shorter than an hour (kept two days).
create table event_rollups_minute (
    bucket     timestamptz not null,
    service_id bigint not null references services (id),
    events     integer not null default 0,
    errors     integer not null default 0,
    primary key (bucket, service_id)
);

-- Settings changed in the UI (retention days); the config file gives the
-- defaults.
create table instance_settings (
    key        text primary key,
    value      jsonb not null,
    updated_at timestamptz not null default now(),
    updated_by text
);
