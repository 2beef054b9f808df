//! Taking, listing, verifying, deleting and restoring backups.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::StreamExt;
use sqlx::{PgConnection, PgExecutor, PgPool};
use tokio::sync::mpsc;

use super::format::{self, BackupWriter, FormatError, Item, Manifest, Written};
use super::schedule::{Retention, Schedule};
use super::types::{BackupHealth, BackupInfo, RestoreReport, VerifyReport};
use crate::error::{AppError, AppResult};

/// The tables in a backup, in restore order (parents before children).
/// A restore replaces all of them except `audit_log`, which is merged:
/// the audit trail only ever grows.
pub const TABLES: &[&str] = &[
    "event_ids",
    "services",
    "events",
    "event_rollups",
    "event_rollups_daily",
    "error_groups",
    "error_group_users",
    "error_resolutions",
    "users",
    "api_keys",
    "audit_log",
];

/// Tables deliberately not in backups: the backup catalog itself (a
/// restore must not forget newer backups), sign-in sessions, the record of
/// GDPR erasures (a restore must not forget one) and the migration history.
pub const NOT_BACKED_UP: &[&str] = &[
    "backups",
    "sessions",
    "privacy_erasures",
    "_sqlx_migrations",
];

/// The tables a restore replaces, comma-separated in lock order: every
/// backed-up table but the (merged) audit log, plus the sessions, which
/// are re-created for the users that still exist.
fn replaced_tables() -> String {
    TABLES
        .iter()
        .filter(|t| **t != "audit_log")
        .chain(std::iter::once(&"sessions"))
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

/// Where backups go and when they are taken.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    pub dir: PathBuf,
    pub schedule: Schedule,
    /// The schedule as the operator wrote it.
    pub schedule_text: String,
    pub retention: Retention,
    pub time_zone: Tz,
    /// Restores allowed per minute for one user or key; 0 = no limit.
    pub restores_per_minute: u32,
}

impl BackupSettings {
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Manual,
    Scheduled,
    Safety,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Scheduled => "scheduled",
            Self::Safety => "safety",
        }
    }
}

/// Creates the backup directory, readable by its owner only (an existing
/// one is tightened to that too).
pub async fn ensure_dir(dir: &Path) -> AppResult<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
    })
    .await
    .map_err(AppError::internal)?
    .map_err(io)
}

fn io(e: std::io::Error) -> AppError {
    tracing::error!(error = %e, "backup file error");
    AppError::Unavailable(format!("backup storage: {e}"))
}

fn invalid(e: FormatError) -> AppError {
    AppError::validation("file", e.0)
}

struct Row {
    id: i64,
    file_name: Option<String>,
    kind: String,
    status: String,
    size_bytes: Option<i64>,
    sha256: Option<String>,
    schema_version: Option<i64>,
    row_counts: serde_json::Value,
    error: Option<String>,
    created_by: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    verified_at: Option<DateTime<Utc>>,
    verified_ok: Option<bool>,
}

impl From<Row> for BackupInfo {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            name: r.file_name.unwrap_or_default(),
            kind: r.kind,
            status: r.status,
            size: r.size_bytes,
            sha256: r.sha256,
            schema_version: r.schema_version,
            rows: serde_json::from_value(r.row_counts).unwrap_or_default(),
            error: r.error,
            created_by: r.created_by,
            created_at: r.created_at.to_rfc3339(),
            finished_at: r.finished_at.map(|t| t.to_rfc3339()),
            verified_at: r.verified_at.map(|t| t.to_rfc3339()),
            verified_ok: r.verified_ok,
        }
    }
}

/// Every backup, newest first.
pub async fn list(db: impl PgExecutor<'_>) -> AppResult<Vec<BackupInfo>> {
    let rows = sqlx::query_as!(
        Row,
        r#"select id, file_name, kind, status, size_bytes, sha256, schema_version, row_counts,
                  error, created_by, created_at, finished_at, verified_at, verified_ok
           from backups order by created_at desc, id desc"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn get(db: impl PgExecutor<'_>, id: i64) -> AppResult<BackupInfo> {
    sqlx::query_as!(
        Row,
        r#"select id, file_name, kind, status, size_bytes, sha256, schema_version, row_counts,
                  error, created_by, created_at, finished_at, verified_at, verified_ok
           from backups where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .map(Into::into)
    .ok_or_else(|| AppError::NotFound(format!("backup {id}")))
}

/// A backup by id or file name (the CLI accepts both).
pub async fn find(pool: &PgPool, id_or_name: &str) -> AppResult<BackupInfo> {
    if let Ok(id) = id_or_name.trim().parse::<i64>() {
        return get(pool, id).await;
    }
    let id = sqlx::query_scalar!(
        "select id from backups where file_name = $1",
        id_or_name.trim()
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("backup {}", id_or_name.trim())))?;
    get(pool, id).await
}

/// The newest applied migration.
pub async fn schema_version(db: impl PgExecutor<'_>) -> AppResult<i64> {
    // Not a checked query: the compile-time database has no migration table.
    Ok(sqlx::query_scalar::<_, i64>(
        "select coalesce(max(version), 0)::int8 from _sqlx_migrations where success",
    )
    .fetch_one(db)
    .await?)
}

/// Adds a catalog row for a backup about to be written. With a `slot`
/// (scheduled runs) only the first process to claim the slot gets a row.
async fn begin_row(
    pool: &PgPool,
    kind: Kind,
    actor: &str,
    slot: Option<DateTime<Utc>>,
) -> AppResult<Option<(i64, String)>> {
    let row = sqlx::query!(
        r#"insert into backups (kind, status, created_by, slot)
           values ($1, 'running', $2, $3)
           on conflict (slot) do nothing
           returning id, created_at"#,
        kind.as_str(),
        actor,
        slot
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let name = format!(
        "leitstand-{}-{}-{}.{}",
        row.created_at.format("%Y%m%d-%H%M%S"),
        kind.as_str(),
        row.id,
        format::EXTENSION
    );
    sqlx::query!(
        "update backups set file_name = $2 where id = $1",
        row.id,
        name
    )
    .execute(pool)
    .await?;
    Ok(Some((row.id, name)))
}

async fn finish_row(pool: &PgPool, id: i64, written: &Written) -> AppResult<()> {
    let counts: BTreeMap<&str, u64> = written
        .manifest
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.rows))
        .collect();
    sqlx::query!(
        r#"update backups set status = 'ok', size_bytes = $2, sha256 = $3, schema_version = $4,
                  row_counts = $5, finished_at = now(), error = null
           where id = $1"#,
        id,
        written.size as i64,
        written.sha256,
        written.manifest.schema_version,
        serde_json::to_value(counts).unwrap_or_default()
    )
    .execute(pool)
    .await?;
    Ok(())
}

async fn fail_row(pool: &PgPool, id: i64, error: &str) {
    if let Err(e) = sqlx::query!(
        "update backups set status = 'failed', error = $2, finished_at = now() where id = $1",
        id,
        error
    )
    .execute(pool)
    .await
    {
        tracing::warn!(error = %e, backup = id, "could not record a failed backup");
    }
}

/// Takes a backup. `slot` makes a scheduled run happen once however many
/// processes try: returns `None` when another process has the slot.
#[tracing::instrument(skip_all, fields(kind = kind.as_str()))]
pub async fn create(
    pool: &PgPool,
    settings: &BackupSettings,
    kind: Kind,
    actor: &str,
    ip: Option<IpAddr>,
    slot: Option<DateTime<Utc>>,
) -> AppResult<Option<BackupInfo>> {
    ensure_dir(&settings.dir).await?;
    let Some((id, name)) = begin_row(pool, kind, actor, slot).await? else {
        return Ok(None);
    };
    let started = Instant::now();
    let result = async {
        let mut tx = pool.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        let written = write_snapshot(&mut tx, settings.path_of(&name), kind).await?;
        tx.commit().await?;
        Ok::<_, AppError>(written)
    }
    .await;
    match result {
        Ok(written) => {
            finish_row(pool, id, &written).await?;
            tracing::info!(
                backup = %name,
                bytes = written.size,
                rows = written.manifest.total_rows(),
                seconds = started.elapsed().as_secs_f64(),
                "backup written"
            );
            crate::audit::store::record(
                pool,
                actor,
                "backup.create",
                Some(&name),
                ip,
                serde_json::json!({
                    "kind": kind.as_str(),
                    "bytes": written.size,
                    "rows": written.manifest.total_rows(),
                }),
            )
            .await?;
            Ok(Some(get(pool, id).await?))
        }
        Err(e) => {
            fail_row(pool, id, &e.to_string()).await;
            Err(e)
        }
    }
}

enum Out {
    Begin(String, Vec<String>),
    Data(Vec<u8>),
    End,
    Finish(Box<Manifest>),
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The columns of a table, in order.
async fn columns(conn: &mut PgConnection, table: &str) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"select attname::text as "name!" from pg_attribute
           where attrelid = $1::text::regclass and attnum > 0 and not attisdropped
             and attgenerated = ''
           order by attnum"#,
        table
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Streams every table with COPY into a new backup file. Runs in the
/// caller's transaction, which decides what snapshot is seen.
async fn write_snapshot(conn: &mut PgConnection, path: PathBuf, kind: Kind) -> AppResult<Written> {
    let schema_version = schema_version(&mut *conn).await?;
    let range =
        sqlx::query!(r#"select min(occurred_at) as "from", max(occurred_at) as "to" from events"#)
            .fetch_one(&mut *conn)
            .await?;
    let manifest = Manifest {
        format: format::FORMAT_VERSION,
        schema_version,
        created_at: Utc::now().to_rfc3339(),
        leitstand_version: env!("CARGO_PKG_VERSION").to_owned(),
        kind: kind.as_str().to_owned(),
        events_from: range.from.map(|t| t.to_rfc3339()),
        events_to: range.to.map(|t| t.to_rfc3339()),
        tables: Vec::new(),
    };

    let (tx, mut rx) = mpsc::channel::<Out>(16);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<Written> {
        let mut w = BackupWriter::create(&path)?;
        let step = |w: &mut BackupWriter, msg: Out| -> std::io::Result<Option<Manifest>> {
            match msg {
                Out::Begin(name, cols) => w.begin_table(&name, &cols)?,
                Out::Data(d) => w.data(&d)?,
                Out::End => {
                    w.end_table()?;
                }
                Out::Finish(m) => return Ok(Some(*m)),
            }
            Ok(None)
        };
        while let Some(msg) = rx.blocking_recv() {
            match step(&mut w, msg) {
                Ok(None) => {}
                Ok(Some(manifest)) => return w.finish(manifest),
                Err(e) => {
                    w.abandon();
                    return Err(e);
                }
            }
        }
        w.abandon();
        Err(std::io::Error::other("the backup was interrupted"))
    });

    let feed = async {
        for table in TABLES {
            let cols = columns(conn, table).await?;
            let list = cols
                .iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ");
            if tx
                .send(Out::Begin((*table).to_owned(), cols))
                .await
                .is_err()
            {
                return Ok(());
            }
            let sql = format!("copy (select {list} from {}) to stdout", quote_ident(table));
            let mut stream = conn.copy_out_raw(&sql).await?;
            let mut buf = Vec::with_capacity(format::CHUNK + 4096);
            while let Some(chunk) = stream.next().await {
                buf.extend_from_slice(&chunk?);
                if buf.len() >= format::CHUNK
                    && tx.send(Out::Data(std::mem::take(&mut buf))).await.is_err()
                {
                    return Ok(());
                }
            }
            drop(stream);
            if (!buf.is_empty() && tx.send(Out::Data(buf)).await.is_err())
                || tx.send(Out::End).await.is_err()
            {
                return Ok(());
            }
        }
        let _ = tx.send(Out::Finish(Box::new(manifest))).await;
        Ok::<_, AppError>(())
    };
    let fed = feed.await;
    drop(tx);
    let written = writer
        .await
        .map_err(|e| AppError::internal(format_args!("backup writer failed: {e}")))?;
    fed?;
    written.map_err(io)
}

/// Reads a whole file and checks it (format, checksums, manifest);
/// returns the manifest and the file's SHA-256.
async fn read_checked(path: &Path) -> AppResult<Result<(Manifest, String), FormatError>> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || format::read(&path, |_| Ok(())))
        .await
        .map_err(|e| AppError::internal(format_args!("backup reader failed: {e}")))
}

/// Reads a whole file and checks it (format, checksums, manifest).
pub async fn validate_file(path: &Path) -> AppResult<Manifest> {
    read_checked(path).await?.map(|(m, _)| m).map_err(invalid)
}

/// Re-reads a backup and checks its manifest, every table checksum and
/// the file checksum in the catalog. Records the outcome.
pub async fn verify(
    pool: &PgPool,
    settings: &BackupSettings,
    id: i64,
    actor: &str,
    ip: Option<IpAddr>,
) -> AppResult<VerifyReport> {
    let info = get(pool, id).await?;
    if info.status != "ok" {
        return Err(AppError::Conflict(format!(
            "backup {} is {}, there is nothing to verify",
            info.name, info.status
        )));
    }
    let path = settings.path_of(&info.name);
    let result = if path.exists() {
        read_checked(&path).await?
    } else {
        Err(FormatError(format!(
            "the file {} is missing",
            path.display()
        )))
    };
    let report = match result {
        Ok((manifest, sha)) if info.sha256.as_deref() == Some(sha.as_str()) => VerifyReport {
            id,
            ok: true,
            message: format!(
                "{} tables, {} rows: every checksum matches",
                manifest.tables.len(),
                manifest.total_rows()
            ),
            tables: manifest.tables.len(),
            rows: manifest.total_rows(),
        },
        Ok((manifest, _)) => VerifyReport {
            id,
            ok: false,
            message: "the file's checksum differs from the one recorded when it was written".into(),
            tables: manifest.tables.len(),
            rows: manifest.total_rows(),
        },
        Err(e) => VerifyReport {
            id,
            ok: false,
            message: e.0,
            tables: 0,
            rows: 0,
        },
    };
    sqlx::query!(
        "update backups set verified_at = now(), verified_ok = $2 where id = $1",
        id,
        report.ok
    )
    .execute(pool)
    .await?;
    crate::audit::store::record(
        pool,
        actor,
        "backup.verify",
        Some(&info.name),
        ip,
        serde_json::json!({ "ok": report.ok, "message": report.message }),
    )
    .await?;
    Ok(report)
}

/// Deletes a backup's file and catalog row.
pub async fn delete(
    pool: &PgPool,
    settings: &BackupSettings,
    id: i64,
    actor: &str,
    ip: Option<IpAddr>,
) -> AppResult<BackupInfo> {
    let info = get(pool, id).await?;
    if info.status == "running" {
        return Err(AppError::Conflict(format!(
            "backup {} is still being written",
            info.name
        )));
    }
    if !info.name.is_empty() {
        match tokio::fs::remove_file(settings.path_of(&info.name)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
    }
    sqlx::query!("delete from backups where id = $1", id)
        .execute(pool)
        .await?;
    crate::audit::store::record(
        pool,
        actor,
        "backup.delete",
        Some(&info.name),
        ip,
        serde_json::json!({ "kind": info.kind }),
    )
    .await?;
    Ok(info)
}

/// Deletes the scheduled backups the retention policy no longer keeps.
pub async fn apply_retention(pool: &PgPool, settings: &BackupSettings) -> AppResult<Vec<String>> {
    let rows = sqlx::query!(
        "select id, created_at from backups where kind = 'scheduled' and status = 'ok'"
    )
    .fetch_all(pool)
    .await?;
    let list: Vec<(i64, DateTime<Utc>)> = rows.into_iter().map(|r| (r.id, r.created_at)).collect();
    let mut deleted = Vec::new();
    for id in settings.retention.to_delete(&list, settings.time_zone) {
        match delete(pool, settings, id, "scheduler", None).await {
            Ok(info) => deleted.push(info.name),
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

/// The dashboard's backup widget.
pub async fn health(pool: &PgPool, settings: &BackupSettings) -> AppResult<BackupHealth> {
    let last_ok = sqlx::query!(
        r#"select file_name, finished_at as "finished_at!" from backups
           where status = 'ok' and finished_at is not null
           order by finished_at desc limit 1"#
    )
    .fetch_optional(pool)
    .await?;
    let newest = sqlx::query_scalar!(
        "select status from backups where status <> 'running' order by created_at desc, id desc limit 1"
    )
    .fetch_optional(pool)
    .await?;
    let now = Utc::now();
    let age = last_ok.as_ref().map(|r| now - r.finished_at);
    Ok(BackupHealth {
        status: super::schedule::health(age),
        last_ok_at: last_ok.as_ref().map(|r| r.finished_at.to_rfc3339()),
        last_ok_name: last_ok.and_then(|r| r.file_name),
        age_seconds: age.map(|a| a.num_seconds()),
        next_run: settings
            .schedule
            .next_after(now, settings.time_zone)
            .map(|t| t.to_rfc3339()),
        schedule: settings.schedule_text.clone(),
        last_failed: newest.as_deref() == Some("failed"),
    })
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

enum In {
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
    let locked = async {
        sqlx::query("set local application_name = 'leitstand-restore'")
            .execute(&mut *tx)
            .await?;
        sqlx::query("set local lock_timeout = '60s'")
            .execute(&mut *tx)
            .await?;
        // TABLES is in the order ingest takes its locks, so the two cannot deadlock.
        let sql = format!("lock table {} in access exclusive mode", replaced_tables());
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = locked {
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

    // Security state to carry over the restore.
    for sql in [
        "create temp table restore_keep_keys on commit drop as \
         select prefix, revoked_at from api_keys where revoked_at is not null",
        "create temp table restore_keep_users on commit drop as \
         select email, password_hash, disabled_at, role from users",
        "create temp table restore_keep_sessions on commit drop as \
         select s.*, u.email from sessions s join users u on u.id = s.user_id",
        "create temp table restore_audit (like audit_log) on commit drop",
    ] {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    let sql = format!("truncate {}", replaced_tables());
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut *tx)
        .await?;
    // Counters in the copied rows are already right (e.g. users_affected):
    // the triggers that keep them must not count the copied rows again.
    set_triggers(&mut tx, false).await?;
    if let (Some(from), Some(to)) = (&manifest.events_from, &manifest.events_to) {
        let parse = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| AppError::validation("file", "bad event time range in the manifest"))
        };
        sqlx::query("select leitstand_ensure_event_partitions($1, $2)")
            .bind(parse(from)?)
            .bind(parse(to)?)
            .execute(&mut *tx)
            .await?;
    }

    // Stream the file into COPY.
    let (sender, mut rx) = mpsc::channel::<In>(16);
    let path = file.to_owned();
    let reader = tokio::task::spawn_blocking(move || {
        let result = format::read(&path, |item| {
            let msg = match item {
                Item::Table { name, columns } => In::Table(name.to_owned(), columns.to_vec()),
                Item::Data(d) => In::Data(d.to_vec()),
                Item::End(s) => In::End(s.rows),
            };
            sender
                .blocking_send(msg)
                .map_err(|_| FormatError("restore stopped".into()))
        });
        let _ = sender.blocking_send(In::Done(result.map(|(m, _)| m)));
    });
    let mut rows_total = 0u64;
    let mut events = 0u64;
    let copied = async {
        loop {
            match rx.recv().await {
                Some(In::Table(name, cols)) => {
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
                            Some(In::Data(d)) => {
                                copy.send(d).await?;
                            }
                            Some(In::End(expected)) => {
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
                            Some(In::Done(result)) => {
                                let _ = copy.abort("restore failed").await;
                                return Err(match result {
                                    Err(e) => invalid(e),
                                    Ok(_) => AppError::validation("file", "a table is not ended"),
                                });
                            }
                            Some(In::Table(..)) | None => {
                                let _ = copy.abort("restore failed").await;
                                return Err(AppError::validation("file", "a table is not ended"));
                            }
                        }
                    }
                }
                Some(In::Done(result)) => {
                    let m = result.map_err(invalid)?;
                    if &m != manifest {
                        return Err(AppError::validation(
                            "file",
                            "the file changed while it was being restored",
                        ));
                    }
                    return Ok(());
                }
                Some(In::Data(_) | In::End(_)) => {
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
    set_triggers(&mut tx, true).await?;

    let statements = [
        // The audit log only grows.
        "insert into audit_log overriding system value select * from restore_audit \
         on conflict (id) do nothing",
        "update api_keys k set revoked_at = r.revoked_at from restore_keep_keys r \
         where k.prefix = r.prefix and k.revoked_at is null",
        // Sessions end for users whose role or password differs between
        // the backup and now: what they were signed in as no longer holds.
        "create temp table restore_changed_users on commit drop as \
         select u.email from users u join restore_keep_users k on k.email = u.email \
         where u.role <> k.role or u.password_hash <> k.password_hash",
        // Passwords stay as they are now, disabling stays, and a role only
        // ever goes down: the lower of the backup's and today's.
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
        "select setval('events_seq', greatest((select coalesce(max(seq), 1) from events), \
         (select last_value from events_seq)))",
    ];
    for sql in statements {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    // Data erased on request since the backup stays erased.
    let re_erased = crate::privacy::store::reapply_erasures(&mut tx).await?;
    // Identity sequences never move backwards: ids handed out since the
    // backup are not handed out again.
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
    crate::audit::store::record(
        &mut *tx,
        actor,
        "backup.restore",
        Some(label),
        ip,
        serde_json::json!({
            "safety_backup": safety.name,
            "rows": rows_total,
            "events": events,
            "events_erased_again": re_erased,
            "backup_created_at": manifest.created_at,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok((safety, rows_total, events))
}

/// Order-independent checksum of every backed-up table's content, for
/// comparing a database before and after a round trip.
pub async fn content_checksums(pool: &PgPool) -> AppResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for table in TABLES {
        let sql = format!(
            "select coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '') \
             from {} t",
            quote_ident(table)
        );
        let sum: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(pool)
            .await?;
        out.insert((*table).to_owned(), sum);
    }
    Ok(out)
}

/// Runs scheduled backups until `shutdown`. Every process runs this; the
/// slot's unique key in the catalog makes each run happen once.
pub async fn run_scheduler(
    pool: PgPool,
    settings: std::sync::Arc<BackupSettings>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    loop {
        let Some(slot) = settings.schedule.next_after(Utc::now(), settings.time_zone) else {
            tracing::info!("scheduled backups are off");
            return;
        };
        let wait = (slot - Utc::now()).to_std().unwrap_or_default();
        tracing::debug!(next = %slot, "next scheduled backup");
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        match create(
            &pool,
            &settings,
            Kind::Scheduled,
            "scheduler",
            None,
            Some(slot),
        )
        .await
        {
            Ok(Some(b)) => {
                tracing::info!(backup = %b.name, "scheduled backup taken");
                match apply_retention(&pool, &settings).await {
                    Ok(deleted) if !deleted.is_empty() => {
                        tracing::info!(?deleted, "old scheduled backups deleted");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = ?e, "retention failed"),
                }
            }
            Ok(None) => tracing::debug!(%slot, "another process took this scheduled backup"),
            Err(e) => tracing::error!(error = ?e, "scheduled backup failed"),
        }
    }
}
