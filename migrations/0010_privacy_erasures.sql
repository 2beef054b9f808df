-- User references erased on request (GDPR), so that no restore of an older
-- backup brings their data back: a restore erases them again before it
-- commits. Only a SHA-256 of the reference is kept. Deliberately not part
-- of backups (like the backup catalog), so a restore never forgets one.
create table privacy_erasures (
    user_ref_sha256 bytea primary key,
    erased_at       timestamptz not null default now(),
    erased_by       text not null
);
