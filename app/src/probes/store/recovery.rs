//! Recovery runs: the decision to run a service's action, taken under the
//! service's advisory lock so two processes never run it twice, and the
//! run's outcome.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use crate::error::AppResult;

/// The runs' error text when the hourly limit stops the action.
pub const GAVE_UP: &str = "limit of runs per hour reached; not trying again this hour";

/// What the database said about running a service's action now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryDecision {
    /// Run it; its row (started now) has this id.
    Run(i64),
    /// Within the cooldown, or the limit already said: nothing to do.
    Wait,
    /// The hourly limit was just reached: a give-up row was written.
    GiveUp,
}

/// Under the service's advisory lock: within the cooldown → wait; at the
/// hourly limit → write the give-up row once; else write the run's row.
pub async fn decide_recovery(
    pool: &PgPool,
    service_id: i64,
    probe_id: i64,
    cooldown: Duration,
    max_runs_per_hour: u32,
) -> AppResult<RecoveryDecision> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtext('leitstand_recovery'), $1::int4)",
        service_id as i32
    )
    .fetch_one(&mut *tx)
    .await?;
    let recent: Vec<(DateTime<Utc>, Option<String>)> = sqlx::query!(
        "select started_at, error from recovery_runs
         where service_id = $1 and started_at > now() - interval '1 hour'
         order by started_at desc",
        service_id
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.started_at, r.error))
    .collect();
    let runs: Vec<_> = recent
        .iter()
        .filter(|(_, e)| e.as_deref() != Some(GAVE_UP))
        .collect();
    if runs
        .first()
        .is_some_and(|(at, _)| Utc::now() - *at < cooldown)
    {
        return Ok(RecoveryDecision::Wait);
    }
    let decision = if runs.len() >= max_runs_per_hour as usize {
        if recent
            .first()
            .is_some_and(|(_, e)| e.as_deref() == Some(GAVE_UP))
        {
            return Ok(RecoveryDecision::Wait);
        }
        sqlx::query!(
            "insert into recovery_runs (service_id, probe_id, started_at, error) values ($1, $2, now(), $3)",
            service_id,
            probe_id,
            GAVE_UP
        )
        .execute(&mut *tx)
        .await?;
        RecoveryDecision::GiveUp
    } else {
        let id = sqlx::query_scalar!(
            "insert into recovery_runs (service_id, probe_id, started_at) values ($1, $2, now()) returning id",
            service_id,
            probe_id
        )
        .fetch_one(&mut *tx)
        .await?;
        RecoveryDecision::Run(id)
    };
    tx.commit().await?;
    Ok(decision)
}

/// Stores how a run ended.
pub async fn finish_recovery(
    pool: &PgPool,
    run_id: i64,
    duration_ms: f64,
    exit_code: Option<i32>,
    output: Option<&str>,
    error: Option<&str>,
) -> AppResult<()> {
    sqlx::query!(
        "update recovery_runs set duration_ms = $2, exit_code = $3, output = $4, error = $5 where id = $1",
        run_id,
        duration_ms,
        exit_code,
        output,
        error
    )
    .execute(pool)
    .await?;
    Ok(())
}
