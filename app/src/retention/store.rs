//! The retention run. Whole monthly partitions entirely older than the
//! cutoff are detached `CONCURRENTLY` (which does not block inserts) and
//! dropped; the rest goes in batches of [`BATCH`] rows, each its own short
//! transaction, so ingest never waits long on a lock. The policy is the
//! config's defaults overridden by the Settings page (`instance_settings`).

use std::time::Instant;

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use sqlx::{PgExecutor, PgPool};

use super::{ClassReport, Policy, Report};
use crate::error::{AppError, AppResult};

/// Rows per delete batch.
pub const BATCH: i64 = 5000;
/// Minute rollups (for error-rate rules) are kept this long.
pub const MINUTE_ROLLUP_DAYS: i64 = 2;
/// The `instance_settings` key of the policy.
const POLICY_KEY: &str = "retention";
/// The `instance_settings` key of the last scheduled run's slot.
const LAST_RUN_KEY: &str = "retention.last_run";

/// The policy in force: the stored one, else `defaults`.
pub async fn policy(db: impl PgExecutor<'_>, defaults: Policy) -> AppResult<Policy> {
    let stored = sqlx::query_scalar!(
        "select value from instance_settings where key = $1",
        POLICY_KEY
    )
    .fetch_optional(db)
    .await?;
    Ok(stored
        .and_then(|v| serde_json::from_value::<Policy>(v).ok())
        .unwrap_or(defaults))
}

/// Stores a policy set on the Settings page.
pub async fn set_policy(db: impl PgExecutor<'_>, policy: &Policy, actor: &str) -> AppResult<()> {
    policy
        .validate()
        .map_err(|(field, message)| AppError::Validation { field, message })?;
    let value = serde_json::to_value(policy)
        .map_err(|e| AppError::internal(format!("encoding the retention policy: {e}")))?;
    sqlx::query!(
        "insert into instance_settings (key, value, updated_by) values ($1, $2, $3)
         on conflict (key) do update set value = excluded.value, updated_at = now(),
                                         updated_by = excluded.updated_by",
        POLICY_KEY,
        value,
        actor
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Claims the scheduled run of `slot` (the day's planned time): true for
/// exactly one process, once per slot.
pub async fn claim_slot(db: impl PgExecutor<'_>, slot: DateTime<Utc>) -> AppResult<bool> {
    let claimed = sqlx::query_scalar!(
        r#"insert into instance_settings as s (key, value) values ($1, to_jsonb($2::timestamptz))
           on conflict (key) do update set value = excluded.value, updated_at = now()
           where (s.value #>> '{}')::timestamptz < $2
           returning 1 as "one!""#,
        LAST_RUN_KEY,
        slot
    )
    .fetch_optional(db)
    .await?;
    Ok(claimed.is_some())
}

/// A monthly partition of `parent`: its name and the end of its month.
struct Partition {
    name: String,
    end: DateTime<Utc>,
}

/// The monthly partitions of `parent` (named `<parent>_YYYY_MM`).
async fn partitions(pool: &PgPool, parent: &str) -> AppResult<Vec<Partition>> {
    let names = sqlx::query_scalar!(
        r#"select c.relname::text as "name!" from pg_inherits i
           join pg_class c on c.oid = i.inhrelid
           where i.inhparent = $1::text::regclass order by 1"#,
        parent
    )
    .fetch_all(pool)
    .await?;
    Ok(names
        .into_iter()
        .filter_map(|name| {
            let suffix = name.strip_prefix(parent)?.strip_prefix('_')?;
            let start = NaiveDate::parse_from_str(&format!("{suffix}_01"), "%Y_%m_%d").ok()?;
            let end = start.checked_add_months(Months::new(1))?;
            Some(Partition {
                end: end.and_hms_opt(0, 0, 0)?.and_utc(),
                name,
            })
        })
        .collect())
}

/// Earlier than any row (and within PostgreSQL's range, unlike
/// `DateTime::MIN_UTC`).
fn long_ago() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH - Duration::days(365 * 100)
}

/// Quotes an identifier we made ourselves (partition names).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whole partitions of `parent` entirely older than `cutoff`: counted, and
/// unless dry, their idempotency ids removed (events) and the partitions
/// detached concurrently and dropped.
/// Returns the end of the last whole partition (dropped or counted).
async fn drop_old_partitions(
    pool: &PgPool,
    parent: &str,
    cutoff: DateTime<Utc>,
    dry_run: bool,
    report: &mut ClassReport,
) -> AppResult<DateTime<Utc>> {
    let mut covered = long_ago();
    for p in partitions(pool, parent).await? {
        if p.end > cutoff {
            continue;
        }
        covered = covered.max(p.end);
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select count(*) from {}",
            ident(&p.name)
        )))
        .fetch_one(pool)
        .await?;
        report.rows += count;
        report.partitions.push(p.name.clone());
        if dry_run {
            continue;
        }
        if parent == "events" {
            forget_event_ids(pool, &p.name).await?;
        }
        // Not in a transaction: CONCURRENTLY waits for running queries
        // instead of blocking new inserts into the parent.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "alter table {} detach partition {} concurrently",
            ident(parent),
            ident(&p.name)
        )))
        .execute(pool)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop table {}",
            ident(&p.name)
        )))
        .execute(pool)
        .await?;
    }
    Ok(covered)
}

/// Removes the idempotency ids of the events in one partition, in batches
/// along its primary key.
async fn forget_event_ids(pool: &PgPool, partition: &str) -> AppResult<()> {
    let select = format!(
        "select occurred_at, id from {} where ($1::timestamptz is null or (occurred_at, id) > ($1, $2))
         order by occurred_at, id limit $3",
        ident(partition)
    );
    let mut after: (Option<DateTime<Utc>>, Option<uuid::Uuid>) = (None, None);
    loop {
        let batch: Vec<(DateTime<Utc>, uuid::Uuid)> =
            sqlx::query_as(sqlx::AssertSqlSafe(select.clone()))
                .bind(after.0)
                .bind(after.1)
                .bind(BATCH)
                .fetch_all(pool)
                .await?;
        let Some(last) = batch.last().copied() else {
            return Ok(());
        };
        let ids: Vec<uuid::Uuid> = batch.iter().map(|(_, id)| *id).collect();
        sqlx::query!("delete from event_ids where id = any($1)", &ids)
            .execute(pool)
            .await?;
        if (batch.len() as i64) < BATCH {
            return Ok(());
        }
        after = (Some(last.0), Some(last.1));
    }
}

/// Deletes (or counts) rows of `table` with `time_col < cutoff` in batches.
/// `extra` narrows further (e.g. finished deliveries only).
/// A dry run counts from `counted_to` on (what whole partitions did not
/// already count).
async fn delete_in_batches(
    pool: &PgPool,
    table: &str,
    time_col: &str,
    extra: &str,
    cutoff: DateTime<Utc>,
    dry_run: Option<DateTime<Utc>>,
) -> AppResult<i64> {
    if let Some(counted_to) = dry_run {
        let sql = format!(
            "select count(*) from {table} where {time_col} < $1 and {time_col} >= $2 {extra}"
        );
        return Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(cutoff)
            .bind(counted_to)
            .fetch_one(pool)
            .await?);
    }
    let sql = if table == "events" {
        // The idempotency ids go with their events.
        format!(
            "with gone as (
                 delete from events where (tableoid, ctid) in (
                     select tableoid, ctid from events where {time_col} < $1 {extra} limit $2)
                 returning id),
             ids as (delete from event_ids e using gone g where e.id = g.id returning 1)
             select count(*) from gone"
        )
    } else {
        format!(
            "with gone as (
                 delete from {table} where (tableoid, ctid) in (
                     select tableoid, ctid from {table} where {time_col} < $1 {extra} limit $2)
                 returning 1)
             select count(*) from gone"
        )
    };
    let mut total = 0;
    loop {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(cutoff)
            .bind(BATCH)
            .fetch_one(pool)
            .await?;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
        // Let other work in between batches.
        tokio::task::yield_now().await;
    }
}

/// Advisory lock held by the running retention run.
const RUN_LOCK: i64 = 0x4c53_5245_544e;

/// Runs retention with `policy` (or counts, when `dry_run`). One run at a
/// time across processes: a second one gets a conflict.
pub async fn run(
    pool: &PgPool,
    policy: Policy,
    dry_run: bool,
    now: DateTime<Utc>,
) -> AppResult<Report> {
    let mut lock = pool.acquire().await?;
    let locked = sqlx::query_scalar!(r#"select pg_try_advisory_lock($1) as "ok!""#, RUN_LOCK)
        .fetch_one(&mut *lock)
        .await?;
    if !locked {
        return Err(AppError::Conflict(
            "a retention run is in progress; try again when it has finished".into(),
        ));
    }
    let result = run_locked(pool, policy, dry_run, now).await;
    let unlocked = sqlx::query_scalar!(r#"select pg_advisory_unlock($1) as "ok!""#, RUN_LOCK)
        .fetch_one(&mut *lock)
        .await;
    if unlocked.is_err() {
        // Never hand a connection holding the lock back to the pool.
        drop(lock.detach());
    }
    result
}

async fn run_locked(
    pool: &PgPool,
    policy: Policy,
    dry_run: bool,
    now: DateTime<Utc>,
) -> AppResult<Report> {
    let started = Instant::now();
    let mut report = Report {
        dry_run,
        started_at: now.to_rfc3339(),
        policy: Some(policy),
        ..Report::default()
    };
    let days = |d: u32| now - Duration::days(i64::from(d));

    for (class, parent, time_col, cutoff) in [
        ("events", "events", "occurred_at", days(policy.events_days)),
        (
            "probe_results",
            "probe_results",
            "checked_at",
            days(policy.probe_results_days),
        ),
    ] {
        let mut c = ClassReport {
            class: class.into(),
            before: cutoff.to_rfc3339(),
            ..ClassReport::default()
        };
        let covered = drop_old_partitions(pool, parent, cutoff, dry_run, &mut c).await?;
        let dry = dry_run.then_some(covered);
        c.rows += delete_in_batches(pool, parent, time_col, "", cutoff, dry).await?;
        report.classes.push(c);
    }
    for (class, table, time_col, extra, cutoff) in [
        (
            "deliveries",
            "deliveries",
            "created_at",
            "and status <> 'pending'",
            days(policy.deliveries_days),
        ),
        ("audit_log", "audit_log", "at", "", days(policy.audit_days)),
        (
            "minute_rollups",
            "event_rollups_minute",
            "bucket",
            "",
            now - Duration::days(MINUTE_ROLLUP_DAYS),
        ),
        // Per-group hours go with the events they count.
        (
            "error_group_hours",
            "error_group_hourly",
            "bucket",
            "",
            days(policy.events_days),
        ),
    ] {
        let dry = dry_run.then_some(long_ago());
        let rows = delete_in_batches(pool, table, time_col, extra, cutoff, dry).await?;
        report.classes.push(ClassReport {
            class: class.into(),
            before: cutoff.to_rfc3339(),
            rows,
            partitions: Vec::new(),
        });
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Stores a policy and audits the change, in one transaction.
pub async fn change_policy(
    pool: &PgPool,
    policy: &Policy,
    actor: &str,
    ip: Option<std::net::IpAddr>,
) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    set_policy(&mut *tx, policy, actor).await?;
    crate::audit::store::record(
        &mut *tx,
        actor,
        "retention.policy",
        None,
        ip,
        serde_json::to_value(policy).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Runs retention (or a dry run) with the policy in force; a real run is
/// audited with its report.
pub async fn run_audited(
    pool: &PgPool,
    defaults: Policy,
    dry_run: bool,
    actor: &str,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Report> {
    let policy = policy(pool, defaults).await?;
    let report = run(pool, policy, dry_run, Utc::now()).await?;
    if !dry_run {
        crate::audit::store::record(
            pool,
            actor,
            "retention.run",
            None,
            ip,
            serde_json::to_value(&report).unwrap_or_default(),
        )
        .await?;
    }
    Ok(report)
}
