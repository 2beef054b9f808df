//! Scheduled backups and their retention.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::catalog::delete;
use super::snapshot::create;
use super::{BackupSettings, Kind};
use crate::error::{AppError, AppResult};

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
