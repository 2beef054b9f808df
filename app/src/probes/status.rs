//! The status document: every service's state, uptime, response times,
//! open incident and SLOs, and the instance itself. Computed from rollups
//! and a handful of small queries, and cached for 5 s per process so a
//! status wall refreshing every second costs the database nothing more.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use super::histogram;
use super::store::{self, StoredWindow};
use super::types::{
    InstanceStatus, ProbeState, ServiceStatus, SloResult, SloTargets, SystemStatus, budget_left,
    uptime_percent, worst_state,
};
use crate::error::AppResult;

/// How long a computed document is served again.
const CACHE_FOR: std::time::Duration = std::time::Duration::from_secs(5);
/// The SLO window.
const SLO_DAYS: i64 = 30;

/// The per-process cache, with the CPU sample the next document's CPU
/// percentage is measured against.
#[derive(Default)]
pub struct StatusCache {
    last: Mutex<Option<(Instant, Arc<SystemStatus>)>>,
    cpu_sample: Mutex<Option<(Instant, f64)>>,
}

impl StatusCache {
    /// Forgets the cached document (the next request computes it).
    pub fn clear(&self) {
        if let Ok(mut last) = self.last.lock() {
            *last = None;
        }
    }
}

/// The status document, from the cache when it is at most 5 s old.
pub async fn current(
    pool: &PgPool,
    cache: &StatusCache,
    started_at: DateTime<Utc>,
) -> AppResult<Arc<SystemStatus>> {
    if let Ok(last) = cache.last.lock()
        && let Some((at, doc)) = last.as_ref()
        && at.elapsed() < CACHE_FOR
    {
        return Ok(doc.clone());
    }
    let doc = Arc::new(compute(pool, cache, started_at).await?);
    if let Ok(mut last) = cache.last.lock() {
        *last = Some((Instant::now(), doc.clone()));
    }
    Ok(doc)
}

/// One service's status (services the caller may not see are not asked for).
pub async fn service_status(
    pool: &PgPool,
    service_id: i64,
    windows: &[StoredWindow],
    now: DateTime<Utc>,
) -> AppResult<ServiceStatus> {
    let s = sqlx::query!(
        r#"select slug, name, public_status, slo_p95_ms, slo_error_rate_percent, slo_uptime_percent,
                  slo_dead_letters
           from services where id = $1"#,
        service_id
    )
    .fetch_one(pool)
    .await?;
    let probes = sqlx::query!(
        r#"select kind, state, last_duration_ms from probes
           where service_id = $1 and enabled order by (kind = 'http') desc, id"#,
        service_id
    )
    .fetch_all(pool)
    .await?;
    let in_maintenance = store::in_maintenance(windows, service_id, now);
    let state = if in_maintenance {
        "maintenance".to_owned()
    } else {
        worst_state(probes.iter().filter_map(|p| ProbeState::parse(&p.state)))
            .map(|s| s.as_str().to_owned())
            .unwrap_or_else(|| "unknown".to_owned())
    };
    let response_ms = probes
        .iter()
        .find(|p| p.kind == "http")
        .and_then(|p| p.last_duration_ms);

    let (c24, f24) =
        store::uptime_counts(pool, Some(service_id), now - Duration::hours(24), now).await?;
    let (c30, f30) =
        store::uptime_counts(pool, Some(service_id), now - Duration::days(SLO_DAYS), now).await?;
    let p95_24h = histogram::quantile(
        &store::latency(pool, service_id, now - Duration::hours(24), now).await?,
        0.95,
    );
    let p95_30d = histogram::quantile(
        &store::latency(pool, service_id, now - Duration::days(SLO_DAYS), now).await?,
        0.95,
    );
    let open_incident = sqlx::query_scalar!(
        "select id from incidents where service_id = $1 and ended_at is null order by started_at limit 1",
        service_id
    )
    .fetch_optional(pool)
    .await?;
    let open_incident = match open_incident {
        Some(_) => store::incidents(pool, Some(service_id), 20)
            .await?
            .into_iter()
            .find(|i| i.ended_at.is_none()),
        None => None,
    };
    let events = sqlx::query!(
        r#"select coalesce(sum(events), 0)::int8 as "events!",
                  coalesce(sum(error + critical), 0)::int8 as "errors!"
           from event_rollups_daily where service_id = $1 and day > (now() at time zone 'UTC')::date - $2::int4"#,
        service_id,
        SLO_DAYS as i32
    )
    .fetch_one(pool)
    .await?;
    let last_event_at = sqlx::query_scalar!(
        "select max(occurred_at) from events where service_id = $1 and occurred_at > now() - interval '30 days'",
        service_id
    )
    .fetch_one(pool)
    .await?;
    let open_errors = sqlx::query_scalar!(
        r#"select count(*) as "n!" from error_groups
           where service_id = $1 and event_count > 0 and not ignored
             and (resolved_at is null or resolved_at < last_seen)
             and last_seen > now() - interval '30 days'"#,
        service_id
    )
    .fetch_one(pool)
    .await?;

    // Dead letters about this service, or about no service in particular
    // (every-service subscriptions, instance rules): either way its team
    // is not being told something.
    let dead_letters = sqlx::query_scalar!(
        r#"select count(*) as "n!" from deliveries d
           left join event_subscriptions x on x.id = d.subscription_id
           where d.status = 'dead'
             and (x.service_id = $1
                  or (d.subscription_id is not null and x.service_id is null)
                  or (d.subscription_id is null
                      and coalesce(d.payload->'data'->>'service', $2) = $2))"#,
        service_id,
        s.slug
    )
    .fetch_one(pool)
    .await?;
    let (_, downtime_seconds, _) =
        store::incident_stats(pool, Some(service_id), now - Duration::days(SLO_DAYS), now).await?;
    let targets = SloTargets {
        p95_ms: s.slo_p95_ms,
        error_rate_percent: s.slo_error_rate_percent,
        uptime_percent: s.slo_uptime_percent,
        dead_letters: s.slo_dead_letters,
    };
    let error_rate =
        (events.events > 0).then(|| events.errors as f64 / events.events as f64 * 100.0);
    let uptime_30d = uptime_percent(c30, f30);
    let window_minutes = (SLO_DAYS * 24 * 60) as f64;
    let slos = vec![
        SloResult {
            name: "p95_ms".into(),
            target: f64::from(targets.p95_ms),
            value: p95_30d,
            met: p95_30d.is_none_or(|v| v < f64::from(targets.p95_ms)),
            budget_minutes_left: None,
        },
        SloResult {
            name: "error_rate".into(),
            target: targets.error_rate_percent,
            value: error_rate,
            met: error_rate.is_none_or(|v| v < targets.error_rate_percent),
            budget_minutes_left: None,
        },
        SloResult {
            name: "uptime".into(),
            target: targets.uptime_percent,
            value: uptime_30d,
            met: uptime_30d.is_none_or(|v| v > targets.uptime_percent),
            // The budget is spent by incidents (outages), not by single
            // failed checks that never made a probe down.
            budget_minutes_left: uptime_30d.map(|_| {
                budget_left(
                    targets.uptime_percent,
                    downtime_seconds / 60.0,
                    window_minutes,
                )
            }),
        },
        SloResult {
            name: "dead_letters".into(),
            target: f64::from(targets.dead_letters),
            value: Some(dead_letters as f64),
            met: dead_letters <= i64::from(targets.dead_letters),
            budget_minutes_left: None,
        },
    ];
    Ok(ServiceStatus {
        slug: s.slug,
        name: s.name,
        state,
        response_ms,
        uptime_24h: uptime_percent(c24, f24),
        uptime_30d,
        p95_ms_24h: p95_24h,
        open_incident,
        slos,
        last_event_at: last_event_at.map(|t| t.to_rfc3339()),
        open_errors,
        probes: probes.len() as i64,
        public_status: s.public_status,
    })
}

async fn compute(
    pool: &PgPool,
    cache: &StatusCache,
    started_at: DateTime<Utc>,
) -> AppResult<SystemStatus> {
    let now = Utc::now();
    let windows = store::windows(pool).await?;
    let ids = sqlx::query_scalar!("select id from services order by slug")
        .fetch_all(pool)
        .await?;
    let mut services = Vec::with_capacity(ids.len());
    for id in ids {
        services.push(service_status(pool, id, &windows, now).await?);
    }
    let leitstand = instance(pool, cache, started_at, now).await?;
    let status = overall(&services, &leitstand);
    Ok(SystemStatus {
        status: status.to_owned(),
        generated_at: now.to_rfc3339(),
        services,
        leitstand,
    })
}

/// down when a service is down; degraded when one is degraded, misses an
/// SLO, backups are not healthy or deliveries are dead-lettered; maintenance when one is in a window;
/// else ok.
pub fn overall(services: &[ServiceStatus], leitstand: &InstanceStatus) -> &'static str {
    if services.iter().any(|s| s.state == "down") {
        "down"
    } else if services
        .iter()
        .any(|s| s.state == "degraded" || s.slos.iter().any(|o| !o.met))
        || leitstand.backup_health != "healthy"
        || leitstand.dead_letters > 0
    {
        "degraded"
    } else if services.iter().any(|s| s.state == "maintenance") {
        "maintenance"
    } else {
        "ok"
    }
}

async fn instance(
    pool: &PgPool,
    cache: &StatusCache,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<InstanceStatus> {
    let timer = Instant::now();
    let database_bytes = sqlx::query_scalar!("select pg_database_size(current_database())")
        .fetch_one(pool)
        .await?;
    let database_latency_ms = Some(timer.elapsed().as_secs_f64() * 1000.0);
    let events_last_hour = sqlx::query_scalar!(
        r#"select count(*) as "n!" from events where occurred_at > now() - interval '1 hour'"#
    )
    .fetch_one(pool)
    .await?;
    let last_backup =
        sqlx::query_scalar!("select max(finished_at) from backups where status = 'ok'")
            .fetch_one(pool)
            .await?;
    let age = last_backup.map(|t| now - t);
    let backup_health = crate::backups::schedule::health(age);
    let probe_lag_p99_ms = sqlx::query_scalar!(
        r#"select percentile_cont(0.99) within group (order by lag_ms)::float8
           from probe_results where checked_at > now() - interval '1 hour' and lag_ms is not null"#
    )
    .fetch_one(pool)
    .await?;
    let deliveries = crate::alerts::store::delivery_counts(pool).await?;
    let cpu_seconds = process_cpu_seconds();
    let cpu_percent = cpu_seconds.and_then(|cpu| {
        let mut sample = cache.cpu_sample.lock().ok()?;
        let previous = sample.replace((Instant::now(), cpu));
        previous.and_then(|(at, before)| {
            let wall = at.elapsed().as_secs_f64();
            (wall > 0.0).then(|| (cpu - before) / wall * 100.0)
        })
    });
    Ok(InstanceStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: started_at.to_rfc3339(),
        uptime_seconds: (now - started_at).num_seconds(),
        database_bytes,
        database_latency_ms,
        connections_in_use: pool.size().saturating_sub(pool.num_idle() as u32),
        connections_idle: pool.num_idle() as u32,
        events_last_hour,
        backup_health: backup_health.as_str().to_owned(),
        last_backup_age_seconds: age.map(|a| a.num_seconds()),
        cpu_seconds,
        cpu_percent,
        memory_bytes: process_memory_bytes(),
        probe_lag_p99_ms,
        dead_letters: deliveries.dead,
        deliveries_pending: deliveries.pending,
    })
}

/// User plus system CPU time of this process, from /proc.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports in clock ticks of 1/100 s on every platform we run on.
    Some((utime + stime) / 100.0)
}

/// Resident memory of this process, from /proc.
fn process_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib * 1024)
}
