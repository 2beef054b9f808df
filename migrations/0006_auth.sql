-- Users, roles and sessions.

create table users (
    id            bigint generated always as identity primary key,
    email         text not null check (email = lower(email) and position('@' in email) > 1),
    name          text not null default '',
    -- argon2id PHC string.
    password_hash text not null,
    role          text not null check (role in ('viewer', 'operator', 'admin')),
    disabled_at   timestamptz,
    last_login_at timestamptz,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create unique index users_email on users (email);

-- Server-side sessions: the cookie holds a random token, only its SHA-256
-- is stored, so a database leak gives no usable session.
create table sessions (
    token_sha256 bytea primary key,
    user_id      bigint not null references users (id) on delete cascade,
    created_at   timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    expires_at   timestamptz not null,
    ip           inet,
    user_agent   text
);
create index sessions_user on sessions (user_id);
create index sessions_expires on sessions (expires_at);
