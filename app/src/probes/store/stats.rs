//! What the rollups and incidents say: uptime, response-time percentiles,
//! daily bars, incidents and recovery runs. Every figure reads rollups
//! (hourly, daily, monthly), so a year costs about what a day does.

use chrono::{DateTime, Datelike, DurationRound, Months, NaiveDate, TimeDelta, Utc};
use sqlx::PgExecutor;

use crate::error::AppResult;
use crate::probes::histogram;
use crate::probes::types::{Incident, RecoveryRun};

/// A window split into three tiers so that a year reads about a hundred
/// rows per probe: whole UTC months from the monthly rollups, whole days
/// around them from the daily ones, and the hours at both edges from the
/// hourly ones. Every range is half-open; empty ones cost an index probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Hourly rows in [from, day_from) and [day_to, to).
    pub from: DateTime<Utc>,
    pub day_from: DateTime<Utc>,
    pub day_to: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Daily rows in [day_from, month_from) and [month_to, day_to);
    /// monthly rows in [month_from, month_to).
    pub month_from: NaiveDate,
    pub month_to: NaiveDate,
}

impl Split {
    /// Splits [from, to) (at hour precision: the partial first hour counts
    /// whole, as everywhere in the rollups).
    pub fn of(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        let from = from.duration_trunc(TimeDelta::hours(1)).unwrap_or(from);
        let first_day = from.duration_trunc(TimeDelta::days(1)).unwrap_or(from);
        let day_from = if first_day == from {
            from
        } else {
            first_day + TimeDelta::days(1)
        };
        let day_to = to.duration_trunc(TimeDelta::days(1)).unwrap_or(to);
        if day_to <= day_from {
            // No whole day: everything hourly.
            let d = to.date_naive();
            return Self {
                from,
                day_from: to,
                day_to: to,
                to,
                month_from: d,
                month_to: d,
            };
        }
        let (first, last) = (day_from.date_naive(), day_to.date_naive());
        let month_from = first
            .with_day(1)
            .filter(|m| *m == first)
            .or_else(|| {
                first
                    .with_day(1)
                    .and_then(|m| m.checked_add_months(Months::new(1)))
            })
            .unwrap_or(last);
        let month_to = last.with_day(1).unwrap_or(last);
        let (month_from, month_to) = if month_to <= month_from {
            // No whole month: the days run through.
            (last, last)
        } else {
            (month_from, month_to)
        };
        Self {
            from,
            day_from,
            day_to,
            to,
            month_from,
            month_to,
        }
    }

    fn first_day(&self) -> NaiveDate {
        self.day_from.date_naive()
    }

    fn last_day(&self) -> NaiveDate {
        self.day_to.date_naive()
    }
}

/// Uptime counts over a window: (checks, failures), maintenance excluded,
/// HTTP and TCP probes. `service` limits to one service.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn uptime_counts(
    db: impl PgExecutor<'_>,
    service_id: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<(i64, i64)> {
    let w = Split::of(from, to);
    // One branch per range (no OR): each is an index range scan.
    let row = sqlx::query!(
        r#"with p as materialized (
               select id from probes
               where ($1::int8 is null or service_id = $1) and kind <> 'heartbeat')
           select coalesce(sum(checks), 0)::int8 as "checks!", coalesce(sum(failures), 0)::int8 as "failures!"
           from (
               select r.checks, r.failures from probe_rollups r join p on p.id = r.probe_id
               where r.bucket >= $2 and r.bucket < $3
               union all
               select r.checks, r.failures from probe_rollups r join p on p.id = r.probe_id
               where r.bucket >= $4 and r.bucket < $5
               union all
               select d.checks, d.failures from probe_rollups_daily d join p on p.id = d.probe_id
               where d.day >= $6 and d.day < $7
               union all
               select d.checks, d.failures from probe_rollups_daily d join p on p.id = d.probe_id
               where d.day >= $8 and d.day < $9
               union all
               select m.checks, m.failures from probe_rollups_monthly m join p on p.id = m.probe_id
               where m.month >= $7 and m.month < $8
           ) x"#,
        service_id,
        w.from,
        w.day_from,
        w.day_to,
        w.to,
        w.first_day(),
        w.month_from,
        w.month_to,
        w.last_day(),
    )
    .fetch_one(db)
    .await?;
    Ok((row.checks, row.failures))
}

/// The summed latency histogram of a service's HTTP probes over a window
/// (summed in the database: one short array comes back).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn latency(
    db: impl PgExecutor<'_>,
    service_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let w = Split::of(from, to);
    let sums = sqlx::query!(
        r#"with p as materialized (select id from probes where service_id = $1 and kind = 'http')
           select u.i as "bucket!", sum(u.n)::int8 as "n!"
           from (
               select r.latency_hist as hist from probe_rollups r join p on p.id = r.probe_id
               where r.bucket >= $2 and r.bucket < $3
               union all
               select r.latency_hist from probe_rollups r join p on p.id = r.probe_id
               where r.bucket >= $4 and r.bucket < $5
               union all
               select d.latency_hist from probe_rollups_daily d join p on p.id = d.probe_id
               where d.day >= $6 and d.day < $7
               union all
               select d.latency_hist from probe_rollups_daily d join p on p.id = d.probe_id
               where d.day >= $8 and d.day < $9
               union all
               select m.latency_hist from probe_rollups_monthly m join p on p.id = m.probe_id
               where m.month >= $7 and m.month < $8
           ) h, unnest(h.hist) with ordinality as u(n, i)
           group by u.i order by u.i"#,
        service_id,
        w.from,
        w.day_from,
        w.day_to,
        w.to,
        w.first_day(),
        w.month_from,
        w.month_to,
        w.last_day(),
    )
    .fetch_all(db)
    .await?;
    let mut hist = vec![0; histogram::BUCKETS];
    for s in sums {
        if let Some(slot) = usize::try_from(s.bucket - 1)
            .ok()
            .and_then(|i| hist.get_mut(i))
        {
            *slot = s.n;
        }
    }
    Ok(hist)
}

/// Per day (UTC) over the last `days`: (day, checks, failures) of a
/// service's probes — the status bars.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn daily_uptime(
    db: impl PgExecutor<'_>,
    service_id: i64,
    days: i32,
) -> AppResult<Vec<(chrono::NaiveDate, i64, i64)>> {
    let rows = sqlx::query!(
        r#"select d.day, sum(d.checks)::int8 as "checks!", sum(d.failures)::int8 as "failures!"
           from probe_rollups_daily d join probes p on p.id = d.probe_id
           where p.service_id = $1 and p.kind <> 'heartbeat'
             and d.day > (now() at time zone 'UTC')::date - $2::int4
           group by 1 order by 1"#,
        service_id,
        days
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.day, r.checks, r.failures))
        .collect())
}

/// Hourly histograms of a service's HTTP probes over a window, for the
/// response-time chart: (hour, histogram).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn hourly_latency(
    db: impl PgExecutor<'_>,
    service_id: i64,
    from: DateTime<Utc>,
) -> AppResult<Vec<(DateTime<Utc>, Vec<i64>)>> {
    let rows = sqlx::query!(
        r#"select r.bucket, r.latency_hist as "hist!"
           from probe_rollups r join probes p on p.id = r.probe_id
           where p.service_id = $1 and p.kind = 'http' and r.bucket >= $2
           order by r.bucket"#,
        service_id,
        from
    )
    .fetch_all(db)
    .await?;
    let mut out: Vec<(DateTime<Utc>, Vec<i64>)> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some((at, sum)) if *at == r.bucket => histogram::add(sum, &r.hist),
            _ => {
                let mut sum = Vec::new();
                histogram::add(&mut sum, &r.hist);
                out.push((r.bucket, sum));
            }
        }
    }
    Ok(out)
}

/// Incidents of a service (or all), newest first.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn incidents(
    db: impl PgExecutor<'_>,
    service_id: Option<i64>,
    limit: i64,
) -> AppResult<Vec<Incident>> {
    let rows = sqlx::query!(
        r#"select i.id, i.probe_id, p.name as probe, s.slug as service, i.started_at, i.ended_at, i.cause
           from incidents i join probes p on p.id = i.probe_id join services s on s.id = i.service_id
           where $1::int8 is null or i.service_id = $1
           order by i.started_at desc limit $2"#,
        service_id,
        limit
    )
    .fetch_all(db)
    .await?;
    let now = Utc::now();
    Ok(rows
        .into_iter()
        .map(|r| Incident {
            id: r.id,
            probe_id: r.probe_id,
            probe: r.probe,
            service: r.service,
            started_at: r.started_at.to_rfc3339(),
            ended_at: r.ended_at.map(|t| t.to_rfc3339()),
            duration_seconds: (r.ended_at.unwrap_or(now) - r.started_at).num_seconds(),
            cause: r.cause,
        })
        .collect())
}

/// Incident statistics of a window: (count, downtime seconds, mean time
/// to recovery of the closed ones), clipped to the window.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn incident_stats(
    db: impl PgExecutor<'_>,
    service_id: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<(i64, f64, Option<f64>)> {
    let r = sqlx::query!(
        r#"select count(*) as "n!",
                  coalesce(sum(extract(epoch from least(coalesce(ended_at, $3), $3) - greatest(started_at, $2))), 0)::float8 as "down!",
                  avg(extract(epoch from ended_at - started_at)) filter (where ended_at is not null)::float8 as mttr
           from incidents
           where ($1::int8 is null or service_id = $1)
             and started_at < $3 and coalesce(ended_at, $3) > $2"#,
        service_id,
        from,
        to
    )
    .fetch_one(db)
    .await?;
    Ok((r.n, r.down, r.mttr))
}

/// Runs of a service's recovery action since `since`, newest first.
pub async fn recovery_runs(
    db: impl PgExecutor<'_>,
    service_id: Option<i64>,
    since: DateTime<Utc>,
    limit: i64,
) -> AppResult<Vec<RecoveryRun>> {
    let rows = sqlx::query!(
        r#"select r.id, s.slug, r.started_at, r.duration_ms, r.exit_code, r.output, r.error
           from recovery_runs r join services s on s.id = r.service_id
           where ($1::int8 is null or r.service_id = $1) and r.started_at >= $2
           order by r.started_at desc limit $3"#,
        service_id,
        since,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RecoveryRun {
            id: r.id,
            service: r.slug,
            started_at: r.started_at.to_rfc3339(),
            duration_ms: r.duration_ms,
            exit_code: r.exit_code,
            output: r.output,
            error: r.error,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_window_splits_into_edge_hours_days_and_whole_months() {
        let w = Split::of(at("2025-12-03T15:20:00Z"), at("2026-12-03T15:20:00Z"));
        assert_eq!(w.from, at("2025-12-03T15:00:00Z"));
        assert_eq!(w.day_from, at("2025-12-04T00:00:00Z"));
        assert_eq!(
            (w.month_from, w.month_to),
            (day("2026-01-01"), day("2026-12-01"))
        );
        assert_eq!(w.day_to, at("2026-12-03T00:00:00Z"));
        assert_eq!(w.to, at("2026-12-03T15:20:00Z"));
        // Starting on a month boundary: no leading hours or days.
        let w = Split::of(at("2026-11-01T00:00:00Z"), at("2026-12-10T06:00:00Z"));
        assert_eq!(
            (w.from, w.day_from),
            (at("2026-11-01T00:00:00Z"), at("2026-11-01T00:00:00Z"))
        );
        assert_eq!(
            (w.month_from, w.month_to),
            (day("2026-11-01"), day("2026-12-01"))
        );
        // Thirty days inside two months: days only.
        let w = Split::of(at("2026-11-03T15:20:00Z"), at("2026-12-03T15:20:00Z"));
        assert_eq!(w.day_from, at("2026-11-04T00:00:00Z"));
        assert_eq!(
            (w.month_from, w.month_to),
            (day("2026-12-03"), day("2026-12-03"))
        );
        // Shorter than a day: all hourly.
        let w = Split::of(at("2026-12-02T15:20:00Z"), at("2026-12-03T15:20:00Z"));
        assert_eq!((w.day_from, w.day_to), (w.to, w.to));
    }

    /// Every hour of the window is in exactly one tier.
    #[test]
    fn the_tiers_cover_the_window_once() {
        let starts = [
            "2025-12-03T15:20:00Z",
            "2026-01-31T23:59:00Z",
            "2026-02-01T00:00:00Z",
            "2026-11-30T01:00:00Z",
        ];
        let ends = [
            "2026-12-03T15:20:00Z",
            "2026-03-01T00:00:00Z",
            "2026-02-01T05:00:00Z",
            "2026-12-01T00:30:00Z",
        ];
        for (a, b) in starts.iter().zip(ends) {
            let (from, to) = (at(a), at(b));
            let w = Split::of(from, to);
            let mut hour = w.from;
            while hour < to {
                let d = hour.date_naive();
                let tiers = [
                    hour >= w.from && hour < w.day_from,
                    hour >= w.day_to && hour < w.to,
                    d >= w.first_day() && d < w.month_from && hour >= w.day_from && hour < w.day_to,
                    d >= w.month_to && d < w.last_day() && hour >= w.day_from && hour < w.day_to,
                    d >= w.month_from && d < w.month_to,
                ];
                assert_eq!(
                    tiers.iter().filter(|t| **t).count(),
                    1,
                    "{hour} in {a}..{b}: {w:?}"
                );
                hour += TimeDelta::hours(1);
            }
        }
    }
}
