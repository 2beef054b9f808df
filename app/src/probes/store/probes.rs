//! Probes: definitions, claiming due checks, recording results (result
//! row, hourly rollup, state, incident, all in one transaction), heartbeat
//! pings.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgExecutor, PgPool};

use crate::error::{AppError, AppResult};
use crate::probes::histogram;
use crate::probes::state::{self, Transition};
use crate::probes::types::{
    HttpCheck, Outcome, ProbeDefinition, ProbeInfo, ProbeKind, ProbeState, TcpCheck,
    format_status_set,
};

/// The stored `config` of a definition.
fn config_json(def: &ProbeDefinition) -> serde_json::Value {
    match (&def.http, &def.tcp) {
        (Some(h), _) => json!({ "http": h }),
        (_, Some(t)) => json!({ "tcp": t }),
        _ => json!({}),
    }
}

struct ProbeRow {
    id: i64,
    service: String,
    name: String,
    kind: String,
    config: serde_json::Value,
    interval_seconds: i32,
    timeout_seconds: f64,
    failures_before_down: i32,
    cert_warning_days: i32,
    period_seconds: Option<i32>,
    grace_seconds: Option<i32>,
    token: Option<String>,
    enabled: bool,
    state: String,
    state_since: DateTime<Utc>,
    consecutive_failures: i32,
    last_checked_at: Option<DateTime<Utc>>,
    last_duration_ms: Option<f64>,
    last_status: Option<i32>,
    last_error: Option<String>,
    cert_expires_at: Option<DateTime<Utc>>,
    last_ping_at: Option<DateTime<Utc>>,
}

impl ProbeRow {
    fn info(self, base_url: &str) -> AppResult<ProbeInfo> {
        let kind = ProbeKind::parse(&self.kind).ok_or_else(|| {
            AppError::internal(format_args!("probe {} has kind {}", self.id, self.kind))
        })?;
        let http: Option<HttpCheck> = self
            .config
            .get("http")
            .map(|v| serde_json::from_value(v.clone()))
            .transpose()
            .map_err(|e| AppError::internal(format_args!("probe {}: {e}", self.id)))?;
        let tcp: Option<TcpCheck> = self
            .config
            .get("tcp")
            .map(|v| serde_json::from_value(v.clone()))
            .transpose()
            .map_err(|e| AppError::internal(format_args!("probe {}: {e}", self.id)))?;
        let ping_url = self
            .token
            .as_ref()
            .map(|t| format!("{}/api/v1/heartbeat/{t}", base_url.trim_end_matches('/')));
        Ok(ProbeInfo {
            id: self.id,
            service: self.service,
            name: self.name,
            kind,
            method: http.as_ref().map(|h| h.method.clone()),
            url: http.as_ref().map(|h| h.url.clone()),
            expected_status: http.as_ref().map(|h| format_status_set(&h.expected_status)),
            body_contains: http.as_ref().and_then(|h| h.body_contains.clone()),
            json_pointer: http.as_ref().and_then(|h| h.json_pointer.clone()),
            json_equals: http.as_ref().and_then(|h| h.json_equals.clone()),
            follow_redirects: http.as_ref().map(|h| h.follow_redirects),
            headers: http.map(|h| h.headers),
            host: tcp.as_ref().map(|t| t.host.clone()),
            port: tcp.map(|t| t.port),
            period_seconds: self.period_seconds,
            grace_seconds: self.grace_seconds,
            token: self.token,
            ping_url,
            interval_seconds: self.interval_seconds,
            timeout_seconds: self.timeout_seconds,
            failures_before_down: self.failures_before_down,
            cert_warning_days: self.cert_warning_days,
            enabled: self.enabled,
            state: ProbeState::parse(&self.state).unwrap_or(ProbeState::Unknown),
            state_since: self.state_since.to_rfc3339(),
            consecutive_failures: self.consecutive_failures,
            last_checked_at: self.last_checked_at.map(|t| t.to_rfc3339()),
            last_duration_ms: self.last_duration_ms,
            last_status: self.last_status,
            last_error: self.last_error,
            cert_expires_at: self.cert_expires_at.map(|t| t.to_rfc3339()),
            last_ping_at: self.last_ping_at.map(|t| t.to_rfc3339()),
        })
    }
}

/// A fresh heartbeat token: 32 random alphanumerics.
pub fn new_token() -> String {
    use rand::Rng;
    rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// Creates a probe for `service_id`. Its first check is spread at random
/// over one interval, so probes created together do not run together.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(
    db: &mut PgConnection,
    service_id: i64,
    def: &ProbeDefinition,
    base_url: &str,
) -> AppResult<ProbeInfo> {
    let token = (def.kind == ProbeKind::Heartbeat).then(new_token);
    let first_due: DateTime<Utc> = match def.kind {
        ProbeKind::Heartbeat => {
            Utc::now()
                + Duration::seconds(i64::from(
                    def.period_seconds.unwrap_or(60) + def.grace_seconds.unwrap_or(0),
                ))
        }
        _ => {
            let spread: f64 = rand::random::<f64>() * f64::from(def.interval_seconds);
            Utc::now() + Duration::milliseconds((spread * 1000.0) as i64)
        }
    };
    let id = sqlx::query_scalar!(
        r#"insert into probes (service_id, name, kind, config, interval_seconds, timeout_seconds,
                               failures_before_down, cert_warning_days, period_seconds, grace_seconds,
                               token, enabled, next_due_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           returning id"#,
        service_id,
        def.name,
        def.kind.as_str(),
        config_json(def),
        def.interval_seconds,
        def.timeout_seconds,
        def.failures_before_down,
        def.cert_warning_days,
        def.period_seconds,
        def.grace_seconds,
        token,
        def.enabled,
        first_due
    )
    .fetch_one(&mut *db)
    .await?;
    get(&mut *db, id, base_url).await
}

/// One probe.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn get(db: impl PgExecutor<'_>, id: i64, base_url: &str) -> AppResult<ProbeInfo> {
    let row = sqlx::query_as!(
        ProbeRow,
        r#"select p.id, s.slug as service, p.name, p.kind, p.config, p.interval_seconds,
                  p.timeout_seconds, p.failures_before_down, p.cert_warning_days, p.period_seconds,
                  p.grace_seconds, p.token, p.enabled, p.state, p.state_since, p.consecutive_failures,
                  p.last_checked_at, p.last_duration_ms, p.last_status, p.last_error,
                  p.cert_expires_at, p.last_ping_at
           from probes p join services s on s.id = p.service_id
           where p.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("probe {id}")))?;
    row.info(base_url)
}

/// Every probe, or those of one service, by service and name.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(
    db: impl PgExecutor<'_>,
    service: Option<&str>,
    base_url: &str,
) -> AppResult<Vec<ProbeInfo>> {
    let rows = sqlx::query_as!(
        ProbeRow,
        r#"select p.id, s.slug as service, p.name, p.kind, p.config, p.interval_seconds,
                  p.timeout_seconds, p.failures_before_down, p.cert_warning_days, p.period_seconds,
                  p.grace_seconds, p.token, p.enabled, p.state, p.state_since, p.consecutive_failures,
                  p.last_checked_at, p.last_duration_ms, p.last_status, p.last_error,
                  p.cert_expires_at, p.last_ping_at
           from probes p join services s on s.id = p.service_id
           where $1::text is null or s.slug = $1
           order by s.slug, p.name, p.id"#,
        service
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(|r| r.info(base_url)).collect()
}

/// Changes a probe's definition. A shorter interval takes effect at once.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn update(
    db: &mut PgConnection,
    id: i64,
    def: &ProbeDefinition,
    base_url: &str,
) -> AppResult<ProbeInfo> {
    let updated = sqlx::query!(
        r#"update probes set name = $2, config = $3, interval_seconds = $4, timeout_seconds = $5,
                  failures_before_down = $6, cert_warning_days = $7, period_seconds = $8,
                  grace_seconds = $9, enabled = $10,
                  next_due_at = least(next_due_at, now() + make_interval(secs => $4::int4))
           where id = $1"#,
        id,
        def.name,
        config_json(def),
        def.interval_seconds,
        def.timeout_seconds,
        def.failures_before_down,
        def.cert_warning_days,
        def.period_seconds,
        def.grace_seconds,
        def.enabled
    )
    .execute(&mut *db)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(AppError::NotFound(format!("probe {id}")));
    }
    get(&mut *db, id, base_url).await
}

/// Deletes a probe with its rollups and incidents (results age out).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> AppResult<()> {
    let n = sqlx::query!("delete from probes where id = $1", id)
        .execute(db)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(AppError::NotFound(format!("probe {id}")));
    }
    Ok(())
}

/// A claimed check: what to run, and when it was due.
#[derive(Debug, Clone)]
pub struct DueCheck {
    pub id: i64,
    pub service_id: i64,
    pub service: String,
    pub kind: ProbeKind,
    pub definition: ProbeDefinition,
    pub due_at: DateTime<Utc>,
    pub last_ping_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` due checks for this process: each is leased until
/// its timeout (plus a margin) has passed, so no other process starts it;
/// if this process dies, the lease runs out and another takes it over.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn claim_due(pool: &PgPool, limit: i64) -> AppResult<Vec<DueCheck>> {
    let rows = sqlx::query!(
        r#"update probes p
           set lease_until = now() + make_interval(secs => p.timeout_seconds + 10)
           from services s
           where s.id = p.service_id and p.id in (
               select id from probes
               where enabled and next_due_at <= now()
                 and (lease_until is null or lease_until < now())
               order by next_due_at
               limit $1
               for update skip locked)
           returning p.id, p.service_id, s.slug, p.name, p.kind, p.config, p.interval_seconds,
                     p.timeout_seconds, p.failures_before_down, p.cert_warning_days,
                     p.period_seconds, p.grace_seconds, p.enabled, p.next_due_at, p.last_ping_at"#,
        limit
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind = ProbeKind::parse(&r.kind).ok_or_else(|| {
            AppError::internal(format_args!("probe {} has kind {}", r.id, r.kind))
        })?;
        let parse = |key: &str| r.config.get(key).cloned();
        let definition = ProbeDefinition {
            name: r.name,
            kind,
            http: parse("http").and_then(|v| serde_json::from_value(v).ok()),
            tcp: parse("tcp").and_then(|v| serde_json::from_value(v).ok()),
            interval_seconds: r.interval_seconds,
            timeout_seconds: r.timeout_seconds,
            failures_before_down: r.failures_before_down,
            cert_warning_days: r.cert_warning_days,
            period_seconds: r.period_seconds,
            grace_seconds: r.grace_seconds,
            enabled: r.enabled,
        };
        out.push(DueCheck {
            id: r.id,
            service_id: r.service_id,
            service: r.slug,
            kind,
            definition,
            due_at: r.next_due_at,
            last_ping_at: r.last_ping_at,
        });
    }
    Ok(out)
}

/// When the next check anywhere is due (for the scheduler's sleep).
pub async fn next_due(pool: &PgPool) -> AppResult<Option<DateTime<Utc>>> {
    Ok(
        sqlx::query_scalar!("select min(next_due_at) from probes where enabled")
            .fetch_one(pool)
            .await?,
    )
}

/// One check's result.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub checked_at: DateTime<Utc>,
    /// How late the check started against when it was due.
    pub lag_ms: Option<f64>,
    pub duration_ms: Option<f64>,
    pub status_code: Option<i32>,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub cert_expires_at: Option<DateTime<Utc>>,
}

/// What recording a result changed.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub transition: Transition,
    pub previous: ProbeState,
    /// The incident opened or closed by this result.
    pub incident: Option<i64>,
}

/// Makes sure the result partitions around `at` exist.
pub async fn ensure_partitions(db: impl PgExecutor<'_>, at: DateTime<Utc>) -> AppResult<()> {
    sqlx::query_scalar!(
        "select leitstand_ensure_probe_partitions($1, $2)",
        at - Duration::days(31),
        at + Duration::days(62)
    )
    .fetch_one(db)
    .await?;
    Ok(())
}

/// Records a check's result in one transaction: the result row, the
/// hourly rollup, the probe's state and schedule (next due one interval
/// after it was due, never in the past), and an incident opened or closed.
#[tracing::instrument(skip_all, err(level = "debug"), fields(probe = probe_id))]
pub async fn record(
    pool: &PgPool,
    probe_id: i64,
    due_at: DateTime<Utc>,
    result: &CheckResult,
    in_maintenance: bool,
) -> AppResult<Recorded> {
    let mut tx = pool.begin().await?;
    let current = sqlx::query!(
        r#"select service_id, state, consecutive_failures, failures_before_down, interval_seconds,
                  kind, period_seconds, grace_seconds, streak_started_at, streak_error
           from probes where id = $1 for update"#,
        probe_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("probe {probe_id}")))?;
    let previous = ProbeState::parse(&current.state).unwrap_or(ProbeState::Unknown);
    let t = state::next(
        previous,
        current.consecutive_failures,
        result.outcome,
        current.failures_before_down,
        in_maintenance,
    );
    let hist = result
        .duration_ms
        .map(histogram::single)
        .unwrap_or_else(|| vec![0; histogram::BUCKETS]);
    let failed = result.outcome.is_failure() && !in_maintenance;
    sqlx::query!(
        r#"with r as (
               insert into probe_results (probe_id, checked_at, duration_ms, status_code, outcome, error, maintenance, lag_ms)
               values ($1, $2, $3, $4, $5, $6, $7, $10::float8::real)
           ),
           hourly as (
               insert into probe_rollups as u (probe_id, bucket, checks, failures, maintenance_checks,
                                               latency_hist, latency_sum_ms)
               values ($1, date_trunc('hour', $2, 'UTC'), case when $7 then 0 else 1 end,
                       case when $8 then 1 else 0 end, case when $7 then 1 else 0 end, $9,
                       coalesce($3, 0))
               on conflict (probe_id, bucket) do update set
                   checks = u.checks + excluded.checks,
                   failures = u.failures + excluded.failures,
                   maintenance_checks = u.maintenance_checks + excluded.maintenance_checks,
                   latency_hist = (select array_agg(coalesce(a, 0) + coalesce(b, 0) order by i)
                                   from unnest(u.latency_hist, excluded.latency_hist) with ordinality as x(a, b, i)),
                   latency_sum_ms = u.latency_sum_ms + excluded.latency_sum_ms
           ),
           daily as (
               insert into probe_rollups_daily as u (probe_id, day, checks, failures, maintenance_checks,
                                                     latency_hist, latency_sum_ms)
               values ($1, ($2 at time zone 'UTC')::date, case when $7 then 0 else 1 end,
                       case when $8 then 1 else 0 end, case when $7 then 1 else 0 end, $9,
                       coalesce($3, 0))
               on conflict (probe_id, day) do update set
                   checks = u.checks + excluded.checks,
                   failures = u.failures + excluded.failures,
                   maintenance_checks = u.maintenance_checks + excluded.maintenance_checks,
                   latency_hist = (select array_agg(coalesce(a, 0) + coalesce(b, 0) order by i)
                                   from unnest(u.latency_hist, excluded.latency_hist) with ordinality as x(a, b, i)),
                   latency_sum_ms = u.latency_sum_ms + excluded.latency_sum_ms
           )
           insert into probe_rollups_monthly as u (probe_id, month, checks, failures, maintenance_checks,
                                                   latency_hist, latency_sum_ms)
           values ($1, date_trunc('month', $2 at time zone 'UTC')::date, case when $7 then 0 else 1 end,
                   case when $8 then 1 else 0 end, case when $7 then 1 else 0 end, $9,
                   coalesce($3, 0))
           on conflict (probe_id, month) do update set
               checks = u.checks + excluded.checks,
               failures = u.failures + excluded.failures,
               maintenance_checks = u.maintenance_checks + excluded.maintenance_checks,
               latency_hist = (select array_agg(coalesce(a, 0) + coalesce(b, 0) order by i)
                               from unnest(u.latency_hist, excluded.latency_hist) with ordinality as x(a, b, i)),
               latency_sum_ms = u.latency_sum_ms + excluded.latency_sum_ms"#,
        probe_id,
        result.checked_at,
        result.duration_ms,
        result.status_code,
        result.outcome.as_str(),
        result.error,
        in_maintenance,
        failed,
        &hist,
        result.lag_ms
    )
    .execute(&mut *tx)
    .await?;

    let (streak_at, streak_error) = if t.streak_started {
        (Some(result.checked_at), result.error.clone())
    } else if t.consecutive_failures == 0 {
        (None, None)
    } else {
        (current.streak_started_at, current.streak_error.clone())
    };
    let interval = match current.kind.as_str() {
        "heartbeat" => i64::from(current.period_seconds.unwrap_or(60)),
        _ => i64::from(current.interval_seconds),
    };
    let next_due =
        (due_at + Duration::seconds(interval)).max(Utc::now() + Duration::milliseconds(200));
    sqlx::query!(
        r#"update probes set
               state = $2,
               consecutive_failures = $3,
               state_since = case when state <> $2 then $4 else state_since end,
               last_checked_at = $4, last_duration_ms = $5, last_status = $6, last_error = $7,
               cert_expires_at = coalesce($8, cert_expires_at),
               streak_started_at = $9, streak_error = $10,
               next_due_at = $11, lease_until = null
           where id = $1"#,
        probe_id,
        t.state.as_str(),
        t.consecutive_failures,
        result.checked_at,
        result.duration_ms,
        result.status_code,
        result.error,
        result.cert_expires_at,
        streak_at,
        streak_error,
        next_due
    )
    .execute(&mut *tx)
    .await?;

    let incident = if t.went_down {
        let started = streak_at.unwrap_or(result.checked_at);
        let cause = streak_error
            .clone()
            .unwrap_or_else(|| "check failed".into());
        sqlx::query_scalar!(
            r#"insert into incidents (probe_id, service_id, started_at, cause)
               values ($1, $2, $3, $4)
               on conflict (probe_id) where ended_at is null do nothing
               returning id"#,
            probe_id,
            current.service_id,
            started,
            cause
        )
        .fetch_optional(&mut *tx)
        .await?
    } else if t.came_back {
        sqlx::query_scalar!(
            "update incidents set ended_at = $2 where probe_id = $1 and ended_at is null returning id",
            probe_id,
            result.checked_at
        )
        .fetch_optional(&mut *tx)
        .await?
    } else {
        None
    };
    // What probe alert rules listen to, in this transaction.
    if t.went_down || t.came_back {
        use crate::alerts::store::{kind, signal};
        signal(
            &mut tx,
            if t.went_down {
                kind::PROBE_DOWN
            } else {
                kind::PROBE_UP
            },
            &["probe_down"],
            Some(current.service_id),
            serde_json::json!({
                "probe_id": probe_id,
                "error": streak_error,
                "since": streak_at.unwrap_or(result.checked_at),
            }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Recorded {
        transition: t,
        previous,
        incident,
    })
}

/// Gives a claimed check back unrun (shutdown): due again at once.
pub async fn release(db: impl PgExecutor<'_>, probe_id: i64) -> AppResult<()> {
    sqlx::query!(
        "update probes set lease_until = null where id = $1",
        probe_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The heartbeat with this token: (probe id, due time for recording).
pub async fn heartbeat_by_token(
    db: impl PgExecutor<'_>,
    token: &str,
) -> AppResult<Option<(i64, DateTime<Utc>, i32, i32)>> {
    let row = sqlx::query!(
        r#"select id, next_due_at, period_seconds as "period!", grace_seconds as "grace!"
           from probes where token = $1 and kind = 'heartbeat'"#,
        token
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.id, r.next_due_at, r.period, r.grace)))
}

/// The enabled heartbeat of a service whose name is `slug` (exactly, or
/// as a slug: "Nightly import" is `nightly-import`): (probe id, period,
/// grace). Sentry cron check-ins name their monitor this way.
pub async fn heartbeat_by_slug(
    db: impl PgExecutor<'_>,
    service_id: i64,
    slug: &str,
) -> AppResult<Option<(i64, i32, i32)>> {
    let row = sqlx::query!(
        r#"select id, period_seconds as "period!", grace_seconds as "grace!"
           from probes
           where service_id = $1 and kind = 'heartbeat' and enabled
             and (name = $2 or trim(both '-' from regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g')) = lower($2))
           order by id limit 1"#,
        service_id,
        slug
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.id, r.period, r.grace)))
}

/// Stores a ping's time and body; the next check is due one period plus
/// the grace time from now.
pub async fn note_ping(
    db: impl PgExecutor<'_>,
    probe_id: i64,
    at: DateTime<Utc>,
    body: Option<&str>,
    due: DateTime<Utc>,
) -> AppResult<()> {
    sqlx::query!(
        "update probes set last_ping_at = $2, last_ping_body = $3, next_due_at = $4 where id = $1",
        probe_id,
        at,
        body,
        due
    )
    .execute(db)
    .await?;
    Ok(())
}
