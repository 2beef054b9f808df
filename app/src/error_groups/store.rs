//! SQL of error groups: the list with its filters and keyset pages, one
//! group with an event and its neighbours, status changes, releases.

use std::collections::HashMap;

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::payload;
use super::types::{
    GroupAction, GroupDetail, GroupPage, GroupQuery, GroupStatus, GroupSummary, MAX_BULK,
    PAGE_SIZE, ReleaseRow, title,
};
use crate::error::{AppError, AppResult};
use crate::events::Level;

struct Row {
    id: i64,
    service: String,
    kind: String,
    message: String,
    culprit: String,
    feature: String,
    events: i64,
    users: i64,
    first_seen: Option<DateTime<Utc>>,
    last_seen: Option<DateTime<Utc>>,
    level: i16,
    first_release: Option<String>,
    last_release: Option<String>,
    resolve_after_release: Option<String>,
    environments: Vec<String>,
    status: String,
    sort_key: f64,
}

impl Row {
    fn summary(self) -> GroupSummary {
        GroupSummary {
            id: self.id,
            title: title(&self.kind, &self.message),
            culprit: if self.culprit.is_empty() {
                self.feature.clone()
            } else {
                self.culprit
            },
            service: self.service,
            kind: self.kind,
            message: self.message,
            feature: self.feature,
            events: self.events,
            users: self.users,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            status: GroupStatus::parse(&self.status).unwrap_or_default(),
            level: Level::from_i16(self.level).unwrap_or(Level::Error),
            first_release: self.first_release,
            last_release: self.last_release,
            resolve_after_release: self.resolve_after_release,
            environments: self.environments,
            spark_24h: Vec::new(),
            spark_30d: Vec::new(),
        }
    }
}

/// `sort_key|id` of the last row, for the next page.
fn cursor_of(row: &Row) -> String {
    format!("{}|{}", row.sort_key, row.id)
}

fn parse_cursor(s: &str) -> AppResult<(f64, i64)> {
    s.split_once('|')
        .and_then(|(k, id)| Some((k.parse::<f64>().ok()?, id.parse::<i64>().ok()?)))
        .filter(|(k, _)| k.is_finite())
        .ok_or_else(|| AppError::validation("cursor", "is not a cursor this list handed out"))
}

fn filled(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Groups matching `q`, one page.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list(pool: &PgPool, q: &GroupQuery, now: DateTime<Utc>) -> AppResult<GroupPage> {
    let cursor = filled(&q.cursor).map(parse_cursor).transpose()?;
    let text = filled(&q.q).map(crate::events::store::like_contains);
    let mut tx = pool.begin().await?;
    // A release filter reads events: bound it like the explorer's search.
    sqlx::query!("set local statement_timeout = '5s'")
        .execute(&mut *tx)
        .await?;
    let mut rows = sqlx::query_as!(
        Row,
        r#"select * from (
               select g.id, s.slug as service, g.kind, g.message, g.culprit, g.feature,
                      g.event_count as events, g.users_affected as users, g.first_seen, g.last_seen,
                      g.level, g.first_release, g.last_release, g.resolve_after_release, g.environments,
                      case when g.ignored then 'ignored'
                           when g.resolved_at >= g.last_seen then 'resolved'
                           else 'open' end as "status!",
                      case $1::text when 'events' then g.event_count::float8
                                    when 'users' then g.users_affected::float8
                                    else extract(epoch from g.last_seen)::float8 end as "sort_key!"
               from error_groups g join services s on s.id = g.service_id
               where g.event_count > 0 and g.last_seen is not null
                 and ($2::text is null or s.slug = $2)
                 and ($3::text is null or $3 = any(g.environments))
                 and ($4::text is null or (g.kind || ': ' || g.message) ilike $4)
                 and ($5::text is null or g.first_release = $5 or g.last_release = $5
                      or exists (select 1 from releases rl
                                 join events e on e.service_id = rl.service_id
                                              and e.occurred_at between rl.first_seen and rl.last_seen
                                 where rl.service_id = g.service_id and rl.version = $5
                                   and e.fingerprint = g.fingerprint and e.release = $5))
           ) x
           where ($6::text is null or x."status!" = $6)
             and ($7::float8 is null or (x."sort_key!", x.id) < ($7, $8::int8))
           order by x."sort_key!" desc, x.id desc
           limit $9"#,
        q.sort.as_str(),
        filled(&q.service),
        filled(&q.environment),
        text,
        filled(&q.release),
        q.status.map(GroupStatus::as_str),
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        PAGE_SIZE + 1,
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("57014") => AppError::validation(
            "release",
            "the search took too long; narrow it to a service",
        ),
        _ => e.into(),
    })?;
    let facets = sqlx::query!(
        r#"select
               array(select distinct s.slug from error_groups g join services s on s.id = g.service_id
                     where g.event_count > 0 order by 1) as "services!",
               array(select version from (select version, max(last_seen) as t from releases
                                          where $1::text is null
                                             or service_id = (select id from services where slug = $1)
                                          group by version order by t desc limit 100) r) as "releases!",
               array(select distinct x from error_groups g, unnest(g.environments) x order by 1) as "environments!""#,
        filled(&q.service)
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next = if more {
        rows.last().map(cursor_of)
    } else {
        None
    };
    let mut groups: Vec<GroupSummary> = rows.into_iter().map(Row::summary).collect();
    sparklines(pool, &mut groups, now).await?;
    Ok(GroupPage {
        groups,
        next,
        services: facets.services,
        releases: facets.releases,
        environments: facets.environments,
    })
}

/// Fills the 24-hour and 30-day sparklines from the per-group hours.
async fn sparklines(
    pool: &PgPool,
    groups: &mut [GroupSummary],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let hour = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
    let day = now.duration_trunc(TimeDelta::days(1)).unwrap_or(now);
    let from_day = day - Duration::days(29);
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let rows = sqlx::query!(
        "select group_id, bucket, events from error_group_hourly where group_id = any($1) and bucket >= $2",
        &ids,
        from_day
    )
    .fetch_all(pool)
    .await?;
    let mut by_group: HashMap<i64, (Vec<i64>, Vec<i64>)> = ids
        .iter()
        .map(|id| (*id, (vec![0; 24], vec![0; 30])))
        .collect();
    for r in rows {
        let Some((hours, days)) = by_group.get_mut(&r.group_id) else {
            continue;
        };
        let h = (hour - r.bucket).num_hours();
        if (0..24).contains(&h) {
            hours[23 - h as usize] += r.events;
        }
        let d = (r.bucket - from_day).num_days();
        if (0..30).contains(&d) {
            days[d as usize] += r.events;
        }
    }
    for g in groups {
        if let Some((h, d)) = by_group.remove(&g.id) {
            g.spark_24h = h;
            g.spark_30d = d;
        }
    }
    Ok(())
}

/// One group, without its sparklines.
async fn summary(db: &mut PgConnection, id: i64) -> AppResult<(GroupSummary, i64, String)> {
    let r = sqlx::query!(
        r#"select g.id, s.slug as service, g.service_id, g.fingerprint, g.kind, g.message, g.culprit,
                  g.feature, g.event_count, g.users_affected, g.first_seen, g.last_seen, g.level,
                  g.first_release, g.last_release, g.resolve_after_release, g.environments,
                  case when g.ignored then 'ignored'
                       when g.resolved_at >= g.last_seen then 'resolved'
                       else 'open' end as "status!"
           from error_groups g join services s on s.id = g.service_id
           where g.id = $1 and g.event_count > 0"#,
        id
    )
    .fetch_optional(&mut *db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("error group {id}")))?;
    let row = Row {
        id: r.id,
        service: r.service,
        kind: r.kind,
        message: r.message,
        culprit: r.culprit,
        feature: r.feature,
        events: r.event_count,
        users: r.users_affected,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
        level: r.level,
        first_release: r.first_release,
        last_release: r.last_release,
        resolve_after_release: r.resolve_after_release,
        environments: r.environments,
        status: r.status,
        sort_key: 0.0,
    };
    Ok((row.summary(), r.service_id, r.fingerprint))
}

/// The group's service, for key-bound access checks.
pub async fn service_of(pool: &PgPool, id: i64) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar!(
        "select s.slug from error_groups g join services s on s.id = g.service_id where g.id = $1",
        id
    )
    .fetch_optional(pool)
    .await?)
}

/// The event a detail shows: which one, and what its SDK sent.
struct Picked {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    payload: Option<Vec<u8>>,
}

/// A kept payload as JSON; a payload that cannot be read shows as none.
pub fn read_payload(bytes: &[u8]) -> Option<serde_json::Value> {
    let json = zstd::bulk::decompress(bytes, MAX_PAYLOAD)
        .map_err(|e| tracing::warn!(error = %e, "a kept payload does not decompress"))
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// Largest kept payload once decompressed (a Sentry event is at most 1 MiB).
const MAX_PAYLOAD: usize = 2 * 1024 * 1024;

/// A group with one of its error events (`event`, else the latest), the
/// events either side of it and its last 30 days.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn detail(
    pool: &PgPool,
    id: i64,
    event: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<GroupDetail> {
    let mut conn = pool.acquire().await?;
    let (mut group, service_id, fingerprint) = summary(&mut conn, id).await?;
    let (first, last) = match (group.first_seen, group.last_seen) {
        (Some(f), Some(l)) => (f, l),
        _ => (now, now),
    };
    // Events of the group lie between its first and last sighting: the
    // (service, time) index reads only that range.
    let row = match event {
        Some(event_id) => sqlx::query_as!(
            Picked,
            r#"select e.id, e.occurred_at, e.payload
               from event_ids i join events e on e.occurred_at = i.occurred_at and e.id = i.id
               where i.id = $1 and e.service_id = $2 and e.fingerprint = $3 and e.level >= 3"#,
            event_id,
            service_id,
            fingerprint
        )
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("event {event_id} of error group {id}")))
        .map(Some)?,
        None => {
            sqlx::query_as!(
                Picked,
                r#"select e.id, e.occurred_at, e.payload
                   from events e
                   where e.service_id = $1 and e.occurred_at between $3 and $4
                     and e.fingerprint = $2 and e.level >= 3
                   order by e.occurred_at desc, e.id desc limit 1"#,
                service_id,
                fingerprint,
                first,
                last
            )
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    let (mut newer, mut older) = (None, None);
    if let Some(r) = &row {
        newer = sqlx::query_scalar!(
            r#"select e.id from events e
               where e.service_id = $1 and e.occurred_at between $3 and $4
                 and e.fingerprint = $2 and e.level >= 3 and (e.occurred_at, e.id) > ($3, $5)
               order by e.occurred_at, e.id limit 1"#,
            service_id,
            fingerprint,
            r.occurred_at,
            last,
            r.id
        )
        .fetch_optional(&mut *conn)
        .await?;
        older = sqlx::query_scalar!(
            r#"select e.id from events e
               where e.service_id = $1 and e.occurred_at between $3 and $4
                 and e.fingerprint = $2 and e.level >= 3 and (e.occurred_at, e.id) < ($4, $5)
               order by e.occurred_at desc, e.id desc limit 1"#,
            service_id,
            fingerprint,
            first,
            r.occurred_at,
            r.id
        )
        .fetch_optional(&mut *conn)
        .await?;
    }
    let event = match &row {
        Some(r) => Some(crate::events::store::get(&mut *conn, r.id).await?),
        None => None,
    };
    drop(conn);
    let mut groups = [group];
    sparklines(pool, &mut groups, now).await?;
    let [g] = groups;
    group = g;
    let today = now.date_naive();
    let daily = group
        .spark_30d
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let day = today - chrono::Days::new(29 - i as u64);
            (day.to_string(), *n)
        })
        .collect();
    let detail = row
        .and_then(|r| r.payload)
        .as_deref()
        .and_then(read_payload)
        .map(|p| payload::detail(&p))
        .unwrap_or_default();
    Ok(GroupDetail {
        group,
        event,
        detail,
        newer,
        older,
        daily,
    })
}

/// Applies `action` to the groups `ids` (all must exist), records a
/// resolution for each resolve and one audit entry. Returns the ids changed.
#[tracing::instrument(skip_all, err(level = "debug"), fields(action = action.as_str()))]
pub async fn change(
    tx: &mut PgConnection,
    ids: &[i64],
    action: GroupAction,
    actor: &str,
    source: &str,
    ip: Option<std::net::IpAddr>,
) -> AppResult<Vec<i64>> {
    if ids.is_empty() {
        return Err(AppError::validation("ids", "name at least one error group"));
    }
    if ids.len() > MAX_BULK {
        return Err(AppError::validation(
            "ids",
            format!("at most {MAX_BULK} error groups at once"),
        ));
    }
    let found: Vec<(i64, Option<String>)> = sqlx::query!(
        "select id, last_release from error_groups where id = any($1) and event_count > 0 order by id for update",
        ids
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.id, r.last_release))
    .collect();
    if let Some(missing) = ids.iter().find(|id| !found.iter().any(|(f, _)| f == *id)) {
        return Err(AppError::NotFound(format!("error group {missing}")));
    }
    let changed: Vec<i64> = match action {
        GroupAction::Resolve => {
            let changed = sqlx::query_scalar!(
                r#"update error_groups set resolved_at = greatest(now(), last_seen), resolved_in = null,
                          ignored = false, resolve_after_release = null, resolve_requested_at = null
                   where id = any($1) returning id"#,
                ids
            )
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query!(
                "insert into error_resolutions (group_id, resolved_at, source, actor)
                 select id, resolved_at, $2, $3 from error_groups where id = any($1)",
                ids,
                source,
                actor
            )
            .execute(&mut *tx)
            .await?;
            changed
        }
        GroupAction::ResolveInNextRelease => {
            if let Some((id, _)) = found.iter().find(|(_, r)| r.is_none()) {
                return Err(AppError::validation(
                    "action",
                    format!("error group {id} has no release on its events; resolve it instead"),
                ));
            }
            sqlx::query_scalar!(
                r#"update error_groups set resolve_after_release = last_release,
                          resolve_requested_at = now(), ignored = false
                   where id = any($1) returning id"#,
                ids
            )
            .fetch_all(&mut *tx)
            .await?
        }
        GroupAction::Ignore => {
            sqlx::query_scalar!(
                "update error_groups set ignored = true where id = any($1) returning id",
                ids
            )
            .fetch_all(&mut *tx)
            .await?
        }
        GroupAction::Reopen => {
            sqlx::query_scalar!(
                r#"update error_groups set resolved_at = null, resolved_in = null, ignored = false,
                          resolve_after_release = null, resolve_requested_at = null
                   where id = any($1) returning id"#,
                ids
            )
            .fetch_all(&mut *tx)
            .await?
        }
    };
    crate::audit::store::record(
        &mut *tx,
        actor,
        &format!("error_groups.{}", action.as_str()),
        Some(&format!("{} error group(s)", changed.len())),
        ip,
        serde_json::json!({ "ids": changed }),
    )
    .await?;
    Ok(changed)
}

/// Resolves groups waiting for "the next release" once their service has
/// reported a newer release than the one they were last seen in.
pub async fn resolve_released(db: &mut PgConnection) -> AppResult<u64> {
    let done = sqlx::query!(
        r#"with due as (
               select g.id, (array_agg(r.version order by r.first_seen))[1] as version
               from error_groups g
               join releases cur on cur.service_id = g.service_id and cur.version = g.resolve_after_release
               join releases r on r.service_id = g.service_id and r.version <> g.resolve_after_release
                              and r.first_seen > cur.first_seen
               where g.resolve_after_release is not null
               group by g.id),
           resolved as (
               update error_groups g set resolved_at = greatest(now(), g.last_seen), resolved_in = due.version,
                      resolve_after_release = null, resolve_requested_at = null
               from due where g.id = due.id
               returning g.id, g.resolved_at, g.resolved_in)
           insert into error_resolutions (group_id, resolved_at, source, release, actor)
           select id, resolved_at, 'ui', resolved_in, 'next release' from resolved"#
    )
    .execute(&mut *db)
    .await?;
    Ok(done.rows_affected())
}

/// The releases of a service, newest first, with what each brought.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn releases(pool: &PgPool, service: &str) -> AppResult<Vec<ReleaseRow>> {
    let service_id = crate::services::store::find(pool, service)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("service `{service}`")))?;
    let rows = sqlx::query!(
        r#"select r.version, r.first_seen, r.last_seen, r.events, r.errors,
                  (select count(*) from error_groups g
                   where g.service_id = r.service_id and g.first_release = r.version
                     and g.event_count > 0) as "new_groups!",
                  (select count(distinct x.group_id) from error_resolutions x
                   join error_groups g on g.id = x.group_id
                   where g.service_id = r.service_id and g.last_release = r.version
                     and x.resolved_at < r.last_seen and x.resolved_at >= r.first_seen - interval '30 days'
                     and g.last_seen > x.resolved_at) as "regressions!",
                  exists (select 1 from events e
                          where e.service_id = r.service_id and e.release = r.version
                            and e.occurred_at between r.first_seen and r.last_seen
                            and (e.kind = 'deploy' or e.kind like 'deploy.%')) as "deployed!"
           from releases r where r.service_id = $1
           order by r.first_seen desc limit 200"#,
        service_id
    )
    .fetch_all(pool)
    .await?;
    let mut out: Vec<ReleaseRow> = rows
        .into_iter()
        .map(|r| ReleaseRow {
            error_rate: if r.events > 0 {
                r.errors as f64 * 100.0 / r.events as f64
            } else {
                0.0
            },
            version: r.version,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            events: r.events,
            errors: r.errors,
            error_rate_change: None,
            new_groups: r.new_groups,
            regressions: r.regressions,
            deployed: r.deployed,
        })
        .collect();
    // Newest first: each compares with the one after it.
    for i in 0..out.len().saturating_sub(1) {
        out[i].error_rate_change = Some(out[i].error_rate - out[i + 1].error_rate);
    }
    Ok(out)
}
