//! The daily retention run: every process looks once a minute whether the
//! day's planned time has passed; the one that claims the slot runs it,
//! and the run is audited.

use std::time::Duration as StdDuration;

use app::retention::{Policy, Report};
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub struct RetentionJob {
    pub pool: PgPool,
    pub defaults: Policy,
    pub at: NaiveTime,
    pub time_zone: Tz,
}

/// The planned time of the latest run not after `now`.
pub fn slot(now: DateTime<Utc>, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&tz).date_naive();
    let today = tz
        .from_local_datetime(&local.and_time(at))
        .earliest()
        .map(|t| t.with_timezone(&Utc));
    match today {
        Some(t) if t <= now => t,
        _ => {
            let yesterday = local.pred_opt().unwrap_or(local);
            tz.from_local_datetime(&yesterday.and_time(at))
                .earliest()
                .map_or(now, |t| t.with_timezone(&Utc))
        }
    }
}

/// Runs retention (or a dry run) with the policy in force and audits it.
pub async fn run_once(
    pool: &PgPool,
    defaults: Policy,
    dry_run: bool,
    actor: &str,
) -> anyhow::Result<Report> {
    app::retention::store::run_audited(pool, defaults, dry_run, actor, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))
}

impl RetentionJob {
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let now = Utc::now();
            let due = slot(now, self.at, self.time_zone);
            match app::retention::store::claim_slot(&self.pool, due).await {
                Ok(true) => match run_once(&self.pool, self.defaults, false, "scheduler").await {
                    Ok(r) => tracing::info!(
                        rows = r.total_rows(),
                        seconds = r.seconds,
                        "retention run done"
                    ),
                    Err(e) => tracing::error!(error = %e, "retention run failed"),
                },
                Ok(false) => {}
                Err(e) => tracing::warn!(error = ?e, "claiming the retention run failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(StdDuration::from_secs(60)) => {}
                () = shutdown.cancelled() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_is_the_latest_planned_time_not_after_now() {
        let at = NaiveTime::from_hms_opt(3, 30, 0).expect("time");
        let tz: Tz = "Europe/Berlin".parse().expect("tz");
        let now = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(slot(now, at, tz).to_rfc3339(), "2026-12-03T02:30:00+00:00");
        let early = DateTime::parse_from_rfc3339("2026-12-03T01:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(
            slot(early, at, tz).to_rfc3339(),
            "2026-12-02T02:30:00+00:00"
        );
    }
}
