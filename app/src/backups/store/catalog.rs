//! The catalog of backups: one row per file, with its kind, status,
//! checksums and row counts, and what the dashboard's widget says of it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};

use super::{BackupSettings, Kind, storage_error};
use crate::backups::format::Written;
use crate::backups::types::{BackupHealth, BackupInfo};
use crate::error::{AppError, AppResult};

struct CatalogRow {
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

impl From<CatalogRow> for BackupInfo {
    fn from(r: CatalogRow) -> Self {
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
        CatalogRow,
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
        CatalogRow,
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
pub(super) async fn begin_row(
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
        crate::backups::format::EXTENSION
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

pub(super) async fn finish_row(pool: &PgPool, id: i64, written: &Written) -> AppResult<()> {
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

pub(super) async fn fail_row(pool: &PgPool, id: i64, error: &str) {
    let result = async {
        let mut tx = pool.begin().await?;
        let kind = sqlx::query_scalar!(
            "update backups set status = 'failed', error = $2, finished_at = now() where id = $1
             returning kind",
            id,
            error
        )
        .fetch_optional(&mut *tx)
        .await?;
        // Backup alert rules listen to failures (not a failed safety
        // backup of a restore: the restore reports that itself).
        if kind.as_deref().is_some_and(|k| k != "safety") {
            crate::alerts::store::signal(
                &mut tx,
                crate::alerts::store::kind::BACKUP_FAILED,
                &["backup_stale"],
                None,
                serde_json::json!({ "backup_id": id, "error": error }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, AppError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = ?e, backup = id, "could not record a failed backup");
    }
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
            Err(e) => return Err(storage_error(e)),
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
        status: crate::backups::schedule::health(age),
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
