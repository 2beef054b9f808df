//! Signals: a state change that rules listen to, written in the
//! transaction of the change (a probe result, a failed backup; ingest
//! writes its own inside its one statement). The alert worker reads them
//! under `FOR UPDATE SKIP LOCKED`, applies the rules and deletes them in
//! one transaction, so a signal is acted on once even if a process dies.

use sqlx::{PgConnection, PgExecutor};

use crate::error::AppResult;

/// The kinds of signal, as stored.
pub mod kind {
    pub const NEW_ERROR_GROUP: &str = "new_error_group";
    pub const REGRESSION: &str = "regression";
    pub const CRITICAL_EVENT: &str = "critical_event";
    pub const PROBE_DOWN: &str = "probe_down";
    pub const PROBE_UP: &str = "probe_up";
    pub const BACKUP_FAILED: &str = "backup_failed";
    pub const DEAD_LETTER: &str = "dead_letter";
}

/// Channel on which a new signal wakes the alert worker.
pub const SIGNALS_CHANNEL: &str = "leitstand_alert_signals";

/// Writes a signal (and wakes the alert workers on commit) — but only if
/// an enabled rule listens to one of `rule_kinds`, so changes nobody
/// watches cost one indexed lookup.
pub async fn signal(
    tx: &mut PgConnection,
    kind: &str,
    rule_kinds: &[&str],
    service_id: Option<i64>,
    detail: serde_json::Value,
) -> AppResult<()> {
    let written = sqlx::query!(
        "insert into alert_signals (kind, service_id, detail)
         select $1, $2, $3
         where exists (select 1 from alert_rules
                       where enabled and kind = any($4) and (service_id is null or service_id = $2))
         returning id",
        kind,
        service_id,
        detail,
        rule_kinds as &[&str]
    )
    .fetch_optional(&mut *tx)
    .await?;
    if written.is_some() {
        sqlx::query!("select pg_notify($1, '')", SIGNALS_CHANNEL)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// A signal taken for processing.
#[derive(Debug, Clone)]
pub struct Signal {
    pub id: i64,
    pub kind: String,
    pub service_id: Option<i64>,
    pub at: chrono::DateTime<chrono::Utc>,
    pub detail: serde_json::Value,
}

/// Takes up to `limit` signals, oldest first, locked for this
/// transaction (other processes skip them).
pub async fn take_signals(tx: &mut PgConnection, limit: i64) -> AppResult<Vec<Signal>> {
    let rows = sqlx::query!(
        "select id, kind, service_id, at, detail from alert_signals
         order by id limit $1 for update skip locked",
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Signal {
            id: r.id,
            kind: r.kind,
            service_id: r.service_id,
            at: r.at,
            detail: r.detail,
        })
        .collect())
}

pub async fn delete_signals(tx: &mut PgConnection, ids: &[i64]) -> AppResult<()> {
    sqlx::query!("delete from alert_signals where id = any($1)", ids)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Whether any signal waits.
pub async fn signals_waiting(db: impl PgExecutor<'_>) -> AppResult<bool> {
    Ok(
        sqlx::query_scalar!(r#"select exists (select 1 from alert_signals) as "x!""#)
            .fetch_one(db)
            .await?,
    )
}
