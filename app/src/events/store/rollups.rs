//! Taking events back out of the hourly and daily rollups, for everything
//! that removes events (privacy erasure, and later retention of partial
//! partitions). Ingest adds to the rollups inside its own statement; this
//! is the one place that subtracts, so KPIs stay exact after a removal.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::super::types::{Level, is_deploy_kind, is_fix_kind};
use crate::error::AppResult;

/// An event that was removed, with what its rollup rows counted.
#[derive(Debug, Clone)]
pub struct RemovedEvent {
    pub occurred_at: DateTime<Utc>,
    pub service_id: i64,
    pub feature: String,
    pub kind: String,
    pub level: Level,
}

/// Subtracts `removed` from the hourly and daily rollups in one statement
/// (buckets in UTC, as ingest writes them), then deletes the rows of those
/// buckets that no longer count anything.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn subtract(conn: &mut PgConnection, removed: &[RemovedEvent]) -> AppResult<()> {
    if removed.is_empty() {
        return Ok(());
    }
    let times: Vec<DateTime<Utc>> = removed.iter().map(|e| e.occurred_at).collect();
    let services: Vec<i64> = removed.iter().map(|e| e.service_id).collect();
    let features: Vec<&str> = removed.iter().map(|e| e.feature.as_str()).collect();
    let levels: Vec<i16> = removed.iter().map(|e| e.level.as_i16()).collect();
    let fixes: Vec<bool> = removed.iter().map(|e| is_fix_kind(&e.kind)).collect();
    let deploys: Vec<bool> = removed.iter().map(|e| is_deploy_kind(&e.kind)).collect();
    sqlx::query!(
        r#"with gone as (
               select * from unnest($1::timestamptz[], $2::int8[], $3::text[], $4::int2[],
                                    $5::bool[], $6::bool[])
                   as g(t, service_id, feature, level, fix, deploy)
           ),
           hourly as (
               insert into event_rollups as r
                   (bucket, service_id, feature, events, debug, info, warning, error, critical, fixes, deploys)
               select date_trunc('hour', t, 'UTC'), service_id, feature, -count(*),
                      -count(*) filter (where level = 0), -count(*) filter (where level = 1),
                      -count(*) filter (where level = 2), -count(*) filter (where level = 3),
                      -count(*) filter (where level = 4), -count(*) filter (where fix),
                      -count(*) filter (where deploy)
               from gone group by 1, 2, 3 order by 1, 2, convert_to(feature, 'UTF8')
               on conflict (bucket, service_id, feature) do update set
                   events = r.events + excluded.events, debug = r.debug + excluded.debug,
                   info = r.info + excluded.info, warning = r.warning + excluded.warning,
                   error = r.error + excluded.error, critical = r.critical + excluded.critical,
                   fixes = r.fixes + excluded.fixes, deploys = r.deploys + excluded.deploys
               returning 1
           ),
           daily as (
               insert into event_rollups_daily as r
                   (day, service_id, feature, events, debug, info, warning, error, critical, fixes, deploys)
               select (t at time zone 'UTC')::date, service_id, feature, -count(*),
                      -count(*) filter (where level = 0), -count(*) filter (where level = 1),
                      -count(*) filter (where level = 2), -count(*) filter (where level = 3),
                      -count(*) filter (where level = 4), -count(*) filter (where fix),
                      -count(*) filter (where deploy)
               from gone group by 1, 2, 3 order by 1, 2, convert_to(feature, 'UTF8')
               on conflict (day, service_id, feature) do update set
                   events = r.events + excluded.events, debug = r.debug + excluded.debug,
                   info = r.info + excluded.info, warning = r.warning + excluded.warning,
                   error = r.error + excluded.error, critical = r.critical + excluded.critical,
                   fixes = r.fixes + excluded.fixes, deploys = r.deploys + excluded.deploys
               returning 1
           )
           select (select count(*) from hourly) + (select count(*) from daily) as "rows!""#,
        &times,
        &services,
        &features as &[&str],
        &levels,
        &fixes,
        &deploys
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        r#"with gone as (
               select distinct date_trunc('hour', t, 'UTC') as bucket, (t at time zone 'UTC')::date as day,
                      service_id, feature
               from unnest($1::timestamptz[], $2::int8[], $3::text[]) as g(t, service_id, feature)
           ),
           hourly as (
               delete from event_rollups r using gone g
               where r.bucket = g.bucket and r.service_id = g.service_id and r.feature = g.feature
                 and r.events = 0
               returning 1
           )
           delete from event_rollups_daily r using gone g
           where r.day = g.day and r.service_id = g.service_id and r.feature = g.feature
             and r.events = 0"#,
        &times,
        &services,
        &features as &[&str]
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
