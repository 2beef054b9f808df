//! The deliveries outbox: written in the transaction of what caused it,
//! claimed by workers in every process with `FOR UPDATE SKIP LOCKED` and a
//! lease, every attempt recorded, and a dead-lettered state once the
//! retry schedule is exhausted.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::alerts::types::{Attempt, DeadLetter, DeliveryCounts};
use crate::error::{AppError, AppResult};

/// Channel notifying when the outbox has new work, so idle workers wake.
pub const DELIVERIES_CHANNEL: &str = "leitstand_deliveries";

/// How long a claimed delivery belongs to its worker: longer than the
/// longest attempt (15 s for HTTP, 60 s for SMTP).
pub const LEASE_SECONDS: i32 = 60;

/// Who a delivery is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Channel(i64),
    Subscription(i64),
}

/// Queues a delivery, first attempt after `delay`. Its id is the
/// webhook-id of every attempt.
pub async fn enqueue(
    tx: &mut PgConnection,
    source: Source,
    destination: &str,
    purpose: &str,
    payload: &serde_json::Value,
    delay: Duration,
) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    let (channel, subscription) = match source {
        Source::Channel(c) => (Some(c), None),
        Source::Subscription(s) => (None, Some(s)),
    };
    sqlx::query!(
        "insert into deliveries (id, channel_id, subscription_id, destination, purpose, payload, next_attempt_at)
         values ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))",
        id,
        channel,
        subscription,
        destination,
        purpose,
        payload,
        delay.num_milliseconds() as f64 / 1000.0
    )
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Wakes the delivery workers of every process after the commit.
pub async fn notify_workers(tx: &mut PgConnection) -> AppResult<()> {
    sqlx::query!("select pg_notify($1, '')", DELIVERIES_CHANNEL)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A claimed delivery.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: Uuid,
    pub source: Source,
    pub destination: String,
    pub purpose: String,
    pub payload: serde_json::Value,
    /// Attempts made before this one.
    pub attempts: i32,
}

/// Claims up to `limit` due deliveries for this process.
pub async fn claim_deliveries(db: impl PgExecutor<'_>, limit: i64) -> AppResult<Vec<DueDelivery>> {
    let rows = sqlx::query!(
        "update deliveries d set lease_until = now() + make_interval(secs => $2)
         from (select id from deliveries
               where status = 'pending' and next_attempt_at <= now()
                 and (lease_until is null or lease_until < now())
               order by next_attempt_at
               limit $1
               for update skip locked) due
         where d.id = due.id
         returning d.id, d.channel_id, d.subscription_id, d.destination, d.purpose, d.payload, d.attempts",
        limit,
        f64::from(LEASE_SECONDS)
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let source = match (r.channel_id, r.subscription_id) {
                (Some(c), _) => Source::Channel(c),
                (None, Some(s)) => Source::Subscription(s),
                (None, None) => return None,
            };
            Some(DueDelivery {
                id: r.id,
                source,
                destination: r.destination,
                purpose: r.purpose,
                payload: r.payload,
                attempts: r.attempts,
            })
        })
        .collect())
}

/// When the next pending delivery is due (leases included).
pub async fn next_delivery_due(db: impl PgExecutor<'_>) -> AppResult<Option<DateTime<Utc>>> {
    Ok(sqlx::query_scalar!(
        r#"select min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at)))
           from deliveries where status = 'pending'"#
    )
    .fetch_one(db)
    .await?)
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Delivered,
    /// Try again at this time.
    Retry(DateTime<Utc>),
    /// Out of attempts, or the destination is gone.
    Dead,
}

/// One attempt's record.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub at: DateTime<Utc>,
    pub duration_ms: f64,
    pub status: Option<i32>,
    pub response: Option<String>,
    pub error: Option<String>,
}

/// Records attempt number `attempt` (1-based) and its outcome, ending the
/// lease. Fenced on the attempt count: if another worker recorded this
/// attempt already (this one's lease ran out), nothing changes and
/// `false` comes back.
pub async fn record_attempt(
    tx: &mut PgConnection,
    id: Uuid,
    attempt: i32,
    record: &AttemptRecord,
    outcome: &Outcome,
) -> AppResult<bool> {
    let (status, next) = match outcome {
        Outcome::Delivered => ("delivered", None),
        Outcome::Retry(at) => ("pending", Some(*at)),
        Outcome::Dead => ("dead", None),
    };
    let updated = sqlx::query!(
        "update deliveries set attempts = $2, status = $3, next_attempt_at = $4, lease_until = null,
                last_status = $5, last_error = $6,
                finished_at = case when $3 = 'pending' then null else now() end
         where id = $1 and attempts = $2 - 1 and status = 'pending'",
        id,
        attempt,
        status,
        next,
        record.status,
        record.error
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(false);
    }
    sqlx::query!(
        "insert into delivery_attempts (delivery_id, round, attempt, at, duration_ms, status_code, response, error)
         select $1, round, $2, $3, $4, $5, $6, $7 from deliveries where id = $1",
        id,
        attempt,
        record.at,
        record.duration_ms,
        record.status,
        record.response,
        record.error
    )
    .execute(&mut *tx)
    .await?;
    Ok(true)
}

/// Gives a claimed delivery back without an attempt (shutting down).
pub async fn release_delivery(db: impl PgExecutor<'_>, id: Uuid) -> AppResult<()> {
    sqlx::query!(
        "update deliveries set lease_until = null where id = $1 and status = 'pending'",
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Pending and dead deliveries.
pub async fn delivery_counts(db: impl PgExecutor<'_>) -> AppResult<DeliveryCounts> {
    let r = sqlx::query!(
        r#"select count(*) filter (where status = 'pending') as "pending!",
                  count(*) filter (where status = 'dead') as "dead!"
           from deliveries where status in ('pending', 'dead')"#
    )
    .fetch_one(db)
    .await?;
    Ok(DeliveryCounts {
        pending: r.pending,
        dead: r.dead,
    })
}

/// Dead letters only.
pub async fn dead_count(db: impl PgExecutor<'_>) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar!(r#"select count(*) as "n!" from deliveries where status = 'dead'"#)
            .fetch_one(db)
            .await?,
    )
}

/// A few words on what a delivery carried.
fn summary(purpose: &str, payload: &serde_json::Value) -> String {
    match purpose {
        "events" => {
            let n = payload["data"]["events"].as_array().map_or(0, Vec::len);
            format!("{n} event{}", if n == 1 { "" } else { "s" })
        }
        _ => payload["data"]["title"]
            .as_str()
            .or_else(|| payload["title"].as_str())
            .map(|t| {
                let state = payload["data"]["state"]
                    .as_str()
                    .or_else(|| payload["state"].as_str())
                    .unwrap_or(purpose);
                format!("{state}: {t}")
            })
            .unwrap_or_else(|| purpose.to_owned()),
    }
}

/// Dead letters, newest first, with every attempt.
pub async fn dead_letters(db: &sqlx::PgPool, limit: i64) -> AppResult<Vec<DeadLetter>> {
    let rows = sqlx::query!(
        r#"select d.id, d.destination, d.purpose, d.payload, d.created_at, d.attempts, d.last_status,
                  d.last_error,
                  coalesce('channel ' || c.name, 'subscription ' || s.name, '') as "source!"
           from deliveries d
           left join alert_channels c on c.id = d.channel_id
           left join event_subscriptions s on s.id = d.subscription_id
           where d.status = 'dead'
           order by d.created_at desc
           limit $1"#,
        limit
    )
    .fetch_all(db)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let tries = attempts_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| DeadLetter {
            id: r.id.to_string(),
            summary: summary(&r.purpose, &r.payload),
            source: r.source,
            destination: r.destination,
            purpose: r.purpose,
            created_at: r.created_at.to_rfc3339(),
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            tries: tries
                .iter()
                .filter(|(id, _)| *id == r.id)
                .map(|(_, a)| a.clone())
                .collect(),
        })
        .collect())
}

/// One delivery, any state, with its attempts.
pub async fn delivery(db: &sqlx::PgPool, id: Uuid) -> AppResult<(String, DeadLetter)> {
    let r = sqlx::query!(
        r#"select d.id, d.destination, d.purpose, d.payload, d.created_at, d.attempts, d.last_status,
                  d.last_error, d.status,
                  coalesce('channel ' || c.name, 'subscription ' || s.name, '') as "source!"
           from deliveries d
           left join alert_channels c on c.id = d.channel_id
           left join event_subscriptions s on s.id = d.subscription_id
           where d.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("delivery {id}")))?;
    let tries = attempts_of(db, &[id]).await?;
    Ok((
        r.status,
        DeadLetter {
            id: r.id.to_string(),
            summary: summary(&r.purpose, &r.payload),
            source: r.source,
            destination: r.destination,
            purpose: r.purpose,
            created_at: r.created_at.to_rfc3339(),
            attempts: r.attempts,
            last_status: r.last_status,
            last_error: r.last_error,
            tries: tries.into_iter().map(|(_, a)| a).collect(),
        },
    ))
}

async fn attempts_of(db: &sqlx::PgPool, ids: &[Uuid]) -> AppResult<Vec<(Uuid, Attempt)>> {
    let rows = sqlx::query!(
        "select delivery_id, round, attempt, at, duration_ms, status_code, response, error
         from delivery_attempts where delivery_id = any($1) order by delivery_id, round, attempt",
        ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.delivery_id,
                Attempt {
                    round: r.round,
                    attempt: r.attempt,
                    at: r.at.to_rfc3339(),
                    duration_ms: r.duration_ms,
                    status: r.status_code,
                    response: r.response,
                    error: r.error,
                },
            )
        })
        .collect())
}

/// Re-queues dead letters (one, or all with `None`) with a fresh schedule:
/// a new round of attempts starts from the first; the earlier rounds'
/// attempts stay on record. Returns how many.
pub async fn replay(tx: &mut PgConnection, id: Option<Uuid>) -> AppResult<u64> {
    let n = sqlx::query!(
        "update deliveries set status = 'pending', attempts = 0, round = round + 1,
                next_attempt_at = now(), lease_until = null, finished_at = null
         where status = 'dead' and ($1::uuid is null or id = $1)",
        id
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if id.is_some() && n == 0 {
        return Err(AppError::NotFound(format!(
            "dead letter {}",
            id.map(|i| i.to_string()).unwrap_or_default()
        )));
    }
    Ok(n)
}

/// Discards dead letters: one, or those older than `older_than`. Returns
/// the ids discarded (for the audit).
pub async fn discard(
    tx: &mut PgConnection,
    id: Option<Uuid>,
    older_than: Option<DateTime<Utc>>,
) -> AppResult<Vec<Uuid>> {
    let ids = sqlx::query_scalar!(
        "update deliveries set status = 'discarded', finished_at = now()
         where status = 'dead' and ($1::uuid is null or id = $1)
           and ($2::timestamptz is null or created_at < $2)
         returning id",
        id,
        older_than
    )
    .fetch_all(&mut *tx)
    .await?;
    if let (Some(id), true) = (id, ids.is_empty()) {
        return Err(AppError::NotFound(format!("dead letter {id}")));
    }
    Ok(ids)
}

/// Dead-letters what is still pending for a disabled endpoint.
pub async fn bury_pending(tx: &mut PgConnection, source: Source, reason: &str) -> AppResult<u64> {
    let (channel, subscription) = match source {
        Source::Channel(c) => (Some(c), None),
        Source::Subscription(s) => (None, Some(s)),
    };
    Ok(sqlx::query!(
        "update deliveries set status = 'dead', finished_at = now(), lease_until = null,
                last_error = $3
         where status = 'pending' and (channel_id = $1 or subscription_id = $2)",
        channel,
        subscription,
        reason
    )
    .execute(&mut *tx)
    .await?
    .rows_affected())
}
