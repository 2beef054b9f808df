//! Restoring a backup: the whole file is checked first, then in one
//! transaction the tables are locked, a safety backup of the current data
//! is written and the data replaced, each a named step below. Any failure
//! rolls everything back.

use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;

use super::catalog::schema_version;
use super::catalog::{begin_row, fail_row, finish_row, get};
use super::snapshot::{columns, validate_file, write_snapshot};
use super::{BackupSettings, Kind, TABLES, ensure_dir, file_error, quote_ident};
use crate::backups::format::{self, FormatError, Item, Manifest};
use crate::backups::types::{BackupInfo, RestoreReport};
use crate::error::{AppError, AppResult};

/// The tables a restore replaces, comma-separated in lock order: every
/// backed-up table but the (merged) audit log, plus the sessions, which
/// are re-created for the users that still exist, and the alert outbox
/// and states, which start empty.
fn replaced_tables() -> String {
    TABLES
        .iter()
        .filter(|t| **t != "audit_log")
        .chain(std::iter::once(&"sessions"))
        .chain(super::EMPTIED_BY_RESTORE)
        .map(|t| quote_ident(t))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Switches the user-defined triggers of the replaced tables off or on
/// (for the restoring transaction only: the change is rolled back with it).
async fn set_triggers(conn: &mut PgConnection, enabled: bool) -> AppResult<()> {
    let verb = if enabled { "enable" } else { "disable" };
    for table in TABLES.iter().filter(|t| **t != "audit_log") {
        let sql = format!("alter table {} {verb} trigger user", quote_ident(table));
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// 429 when `actor` has restored (or tried to) too often in the last minute.
pub async fn check_restore_rate(
    pool: &PgPool,
    settings: &BackupSettings,
    actor: &str,
) -> AppResult<()> {
    if settings.restores_per_minute == 0 {
        return Ok(());
    }
    let recent = sqlx::query_scalar!(
        r#"select count(*) as "n!" from audit_log
           where actor = $1 and action in ('backup.restore', 'backup.restore_failed')
             and at > now() - interval '1 minute'"#,
        actor
    )
    .fetch_one(pool)
    .await?;
    if recent >= i64::from(settings.restores_per_minute) {
        return Err(AppError::TooManyRequests { retry_after: 60 });
    }
    Ok(())
}

/// Restores a backup from the catalog (only a finished, good one).
pub async fn restore_from_catalog(
    pool: &PgPool,
    settings: &BackupSettings,
    info: &BackupInfo,
    actor: &str,
    ip: Option<IpAddr>,
) -> AppResult<RestoreReport> {
    if info.status != "ok" {
        return Err(AppError::Conflict(format!(
            "backup {} is {}, it cannot be restored",
            info.name, info.status
        )));
    }
    let path = settings.path_of(&info.name);
    restore(pool, settings, &path, &info.name, actor, ip).await
}

/// The migration that fills the tables ingest derives from events
/// (releases, error-group hours, minute rollups) for events stored before
/// they existed; a backup from an older schema gets the same treatment.
const DERIVED_BACKFILL: &str =
    include_str!("../../../../migrations/0014_backfill_derived_tables.sql");
const DERIVED_FILLED_SINCE: i64 = 14;

/// Checks that this installation can take the backup's data.
async fn check_compatible(pool: &PgPool, manifest: &Manifest) -> AppResult<()> {
    let current = schema_version(pool).await?;
    if manifest.schema_version > current {
        return Err(AppError::validation(
            "file",
            format!(
                "this backup comes from a newer Leitstand (schema version {}); this installation \
                 is at schema version {current}. Upgrade Leitstand, then restore.",
                manifest.schema_version
            ),
        ));
    }
    let mut conn = pool.acquire().await?;
    for t in &manifest.tables {
        if !TABLES.contains(&t.name.as_str()) {
            return Err(AppError::validation(
                "file",
                format!("the backup holds an unknown table `{}`", t.name),
            ));
        }
        let have = columns(&mut conn, &t.name).await?;
        if let Some(c) = t.columns.iter().find(|c| !have.contains(c)) {
            return Err(AppError::validation(
                "file",
                format!(
                    "the backup's table `{}` has a column `{c}` this installation does not know",
                    t.name
                ),
            ));
        }
    }
    Ok(())
}

enum FileItem {
    Table(String, Vec<String>),
    Data(Vec<u8>),
    End(u64),
    Done(Result<Manifest, FormatError>),
}

/// Restores `file` (a backup in the catalog or an uploaded one):
/// validates the whole file, then in one transaction locks the tables,
/// writes a safety backup of the current data, and replaces the data.
/// Any failure rolls everything back; the data is then exactly as before.
///
/// Users and API keys come back as they were at backup time, except that
/// what was done for security since is kept: revoked keys stay revoked,
/// disabled users stay disabled, changed passwords stay changed, and
/// signed-in users stay signed in. The audit log is merged, never rolled back.
#[tracing::instrument(skip_all, fields(source = %label))]
pub async fn restore(
    pool: &PgPool,
    settings: &BackupSettings,
    file: &Path,
    label: &str,
    actor: &str,
    ip: Option<IpAddr>,
) -> AppResult<RestoreReport> {
    let started = Instant::now();
    let result = async {
        let manifest = validate_file(file).await?;
        check_compatible(pool, &manifest).await?;
        restore_validated(pool, settings, file, &manifest, label, actor, ip).await
    }
    .await;
    match result {
        Ok((safety, rows, events)) => {
            let seconds = started.elapsed().as_secs_f64();
            tracing::info!(rows, seconds, "restore complete");
            Ok(RestoreReport {
                restored: label.to_owned(),
                safety_backup: safety,
                rows,
                events,
                seconds,
            })
        }
        Err(e) => {
            tracing::warn!(error = ?e, "restore failed; nothing was changed");
            let _ = crate::audit::store::record(
                pool,
                actor,
                "backup.restore_failed",
                Some(label),
                ip,
                serde_json::json!({ "error": e.to_string() }),
            )
            .await;
            Err(e)
        }
    }
}

async fn restore_validated(
    pool: &PgPool,
    settings: &BackupSettings,
    file: &Path,
    manifest: &Manifest,
    label: &str,
    actor: &str,
    ip: Option<IpAddr>,
) -> AppResult<(BackupInfo, u64, u64)> {
    ensure_dir(&settings.dir).await?;
    let Some((safety_id, safety_name)) = begin_row(pool, Kind::Safety, actor, None).await? else {
        return Err(AppError::internal("no catalog row for the safety backup"));
    };
    let mut tx = pool.begin().await?;
    if let Err(e) = lock_tables(&mut tx).await {
        fail_row(pool, safety_id, &e.to_string()).await;
        return Err(e);
    }
    let safety = match write_snapshot(&mut tx, settings.path_of(&safety_name), Kind::Safety).await {
        Ok(w) => {
            finish_row(pool, safety_id, &w).await?;
            get(pool, safety_id).await?
        }
        Err(e) => {
            fail_row(pool, safety_id, &e.to_string()).await;
            return Err(e);
        }
    };
    remember_access_state(&mut tx).await?;
    empty_tables(&mut tx, manifest).await?;
    let (rows, events) = copy_file(&mut tx, file, manifest).await?;
    if manifest.schema_version < DERIVED_FILLED_SINCE {
        // Written before releases and error-group hours existed (or before
        // they were filled for older events): derive them from the restored
        // events, as the upgrade to 0014 does.
        sqlx::raw_sql(DERIVED_BACKFILL).execute(&mut *tx).await?;
    }
    set_triggers(&mut tx, true).await?;
    let erased_again = keep_tightened_access(&mut tx).await?;
    advance_sequences(&mut tx).await?;
    crate::audit::store::record(
        &mut *tx,
        actor,
        "backup.restore",
        Some(label),
        ip,
        serde_json::json!({
            "safety_backup": safety.name,
            "rows": rows,
            "events": events,
            "events_erased_again": erased_again,
            "backup_created_at": manifest.created_at,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok((safety, rows, events))
}

/// Locks every replaced table, in the order ingest takes its locks, so the
/// two cannot deadlock; waits at most a minute for the locks.
async fn lock_tables(tx: &mut PgConnection) -> AppResult<()> {
    sqlx::query("set local application_name = 'leitstand-restore'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("set local lock_timeout = '60s'")
        .execute(&mut *tx)
        .await?;
    let sql = format!("lock table {} in access exclusive mode", replaced_tables());
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Copies today's access state (revocations, users, sessions) and the
/// audit log aside, for [`keep_tightened_access`] after the copy.
async fn remember_access_state(tx: &mut PgConnection) -> AppResult<()> {
    for sql in [
        "create temp table restore_keep_keys on commit drop as \
         select prefix, revoked_at from api_keys where revoked_at is not null",
        "create temp table restore_keep_users on commit drop as \
         select email, password_hash, disabled_at, role from users",
        "create temp table restore_keep_sessions on commit drop as \
         select s.*, u.email from sessions s join users u on u.id = s.user_id",
        "create temp table restore_audit (like audit_log) on commit drop",
        "create temp table restore_keep_dsn on commit drop as \
         select slug, sentry_key from services where sentry_key is not null",
    ] {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    Ok(())
}

/// Empties the replaced tables, switches their triggers off (the copied
/// counters, e.g. users_affected, are already right) and makes sure the
/// event partitions the file needs exist.
async fn empty_tables(tx: &mut PgConnection, manifest: &Manifest) -> AppResult<()> {
    let sql = format!("truncate {}", replaced_tables());
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut *tx)
        .await?;
    set_triggers(tx, false).await?;
    let parse = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| AppError::validation("file", "bad time range in the manifest"))
    };
    if let (Some(from), Some(to)) = (&manifest.events_from, &manifest.events_to) {
        sqlx::query("select leitstand_ensure_event_partitions($1, $2)")
            .bind(parse(from)?)
            .bind(parse(to)?)
            .execute(&mut *tx)
            .await?;
    }
    if let (Some(from), Some(to)) = (&manifest.probe_results_from, &manifest.probe_results_to) {
        sqlx::query("select leitstand_ensure_probe_partitions($1, $2)")
            .bind(parse(from)?)
            .bind(parse(to)?)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Streams the file's tables into COPY (the audit log into a side table,
/// to be merged); checks every table's row count and that the file did not
/// change since it was validated. Returns (rows, events) copied.
async fn copy_file(
    tx: &mut PgConnection,
    file: &Path,
    manifest: &Manifest,
) -> AppResult<(u64, u64)> {
    // Stream the file into COPY.
    let (sender, mut rx) = mpsc::channel::<FileItem>(16);
    let path = file.to_owned();
    let reader = tokio::task::spawn_blocking(move || {
        let result = format::read(&path, |item| {
            let msg = match item {
                Item::Table { name, columns } => FileItem::Table(name.to_owned(), columns.to_vec()),
                Item::Data(d) => FileItem::Data(d.to_vec()),
                Item::End(s) => FileItem::End(s.rows),
            };
            sender
                .blocking_send(msg)
                .map_err(|_| FormatError("restore stopped".into()))
        });
        let _ = sender.blocking_send(FileItem::Done(result.map(|(m, _)| m)));
    });
    let mut rows_total = 0u64;
    let mut events = 0u64;
    let copied = async {
        loop {
            match rx.recv().await {
                Some(FileItem::Table(name, cols)) => {
                    let target = if name == "audit_log" {
                        "restore_audit"
                    } else {
                        name.as_str()
                    };
                    let list = cols
                        .iter()
                        .map(|c| quote_ident(c))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!("copy {} ({list}) from stdin", quote_ident(target));
                    let mut copy = tx.copy_in_raw(&sql).await?;
                    loop {
                        match rx.recv().await {
                            Some(FileItem::Data(d)) => {
                                copy.send(d).await?;
                            }
                            Some(FileItem::End(expected)) => {
                                let n = copy.finish().await?;
                                if n != expected {
                                    return Err(AppError::validation(
                                        "file",
                                        format!(
                                            "table {name}: {n} rows loaded, {expected} expected"
                                        ),
                                    ));
                                }
                                rows_total += n;
                                if name == "events" {
                                    events = n;
                                }
                                break;
                            }
                            Some(FileItem::Done(result)) => {
                                let _ = copy.abort("restore failed").await;
                                return Err(match result {
                                    Err(e) => file_error(e),
                                    Ok(_) => AppError::validation("file", "a table is not ended"),
                                });
                            }
                            Some(FileItem::Table(..)) | None => {
                                let _ = copy.abort("restore failed").await;
                                return Err(AppError::validation("file", "a table is not ended"));
                            }
                        }
                    }
                }
                Some(FileItem::Done(result)) => {
                    let m = result.map_err(file_error)?;
                    if &m != manifest {
                        return Err(AppError::validation(
                            "file",
                            "the file changed while it was being restored",
                        ));
                    }
                    return Ok(());
                }
                Some(FileItem::Data(_) | FileItem::End(_)) => {
                    return Err(AppError::validation("file", "data outside a table"));
                }
                None => return Err(AppError::internal("the backup reader stopped early")),
            }
        }
    }
    .await;
    drop(rx);
    let _ = reader.await;
    copied?;
    Ok((rows_total, events))
}

/// Keeps what was tightened since the backup: the audit log is merged;
/// revoked keys stay revoked; DSN keys stay as they are now (a rotated
/// one is not revived); passwords stay as they are now; disabling
/// stays; a role only ever goes down (the lower of the backup's and
/// today's); sessions go on, except for users whose role or password
/// differs between the backup and now; erased user references are erased
/// again. Returns how many events that erasure removed.
async fn keep_tightened_access(tx: &mut PgConnection) -> AppResult<u64> {
    for sql in [
        "insert into audit_log overriding system value select * from restore_audit \
         on conflict (id) do nothing",
        "update api_keys k set revoked_at = r.revoked_at from restore_keep_keys r \
         where k.prefix = r.prefix and k.revoked_at is null",
        "update services s set sentry_key = k.sentry_key from restore_keep_dsn k \
         where s.slug = k.slug",
        "create temp table restore_changed_users on commit drop as \
         select u.email from users u join restore_keep_users k on k.email = u.email \
         where u.role <> k.role or u.password_hash <> k.password_hash",
        "update users u set password_hash = k.password_hash, \
         disabled_at = coalesce(k.disabled_at, u.disabled_at), \
         role = case when array_position(array['viewer','operator','admin'], k.role) \
                        < array_position(array['viewer','operator','admin'], u.role) \
                     then k.role else u.role end \
         from restore_keep_users k where u.email = k.email",
        "insert into sessions (token_sha256, user_id, created_at, last_seen_at, expires_at, ip, user_agent) \
         select s.token_sha256, u.id, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent \
         from restore_keep_sessions s join users u on u.email = s.email \
         where u.disabled_at is null \
           and s.email not in (select email from restore_changed_users)",
    ] {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    crate::privacy::store::reapply_erasures(tx).await
}

/// Sequences never move backwards: the stream cursor and the identity
/// columns hand out nothing again that was handed out since the backup.
async fn advance_sequences(tx: &mut PgConnection) -> AppResult<()> {
    sqlx::query(
        "select setval('events_seq', greatest((select coalesce(max(seq), 1) from events), \
         (select last_value from events_seq)))",
    )
    .execute(&mut *tx)
    .await?;
    let identities: Vec<(String, String, String)> = sqlx::query_as(
        "select c.relname::text, a.attname::text, pg_get_serial_sequence(c.relname::text, a.attname::text)
         from pg_attribute a join pg_class c on c.oid = a.attrelid
         where c.relname = any($1) and c.relnamespace = 'public'::regnamespace
           and a.attidentity <> '' and not a.attisdropped",
    )
    .bind(TABLES)
    .fetch_all(&mut *tx)
    .await?;
    for (table, column, seq) in identities {
        let sql = format!(
            "select setval('{seq}', greatest((select coalesce(max({c}), 1) from {t}), \
             (select last_value from {seq})))",
            c = quote_ident(&column),
            t = quote_ident(&table)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
