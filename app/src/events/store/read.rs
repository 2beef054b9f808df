//! Reading events: the explorer's search, one event, the newest events for
//! the live widget, events after a stream cursor, everything of one user
//! reference, and the filter facets.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::super::types::{
    EventPage, EventQuery, EventView, Facets, Level, LiveSnapshot, PAGE_SIZE, StreamFilter,
    format_cursor, parse_cursor,
};
use crate::error::{AppError, AppResult};

/// Total number of stored events (from the daily rollups: cheap at any size).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn total_events(db: impl sqlx::PgExecutor<'_>) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"select coalesce(sum(events), 0)::int8 as "n!" from event_rollups_daily"#
    )
    .fetch_one(db)
    .await?)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern, then appends `%`.
pub fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `%text%` for ILIKE, escaped.
pub fn like_contains(text: &str) -> String {
    format!("%{}", like_prefix(text))
}

/// Highest stream cursor committed so far.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn max_seq(db: impl sqlx::PgExecutor<'_>) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar!(r#"select coalesce(max(seq), 0)::int8 as "seq!" from events"#)
            .fetch_one(db)
            .await?,
    )
}

struct EventRow {
    seq: i64,
    id: Uuid,
    occurred_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    service: String,
    feature: String,
    kind: String,
    level: i16,
    message: String,
    fingerprint: Option<String>,
    release: Option<String>,
    environment: Option<String>,
    user_ref: Option<String>,
    attributes: serde_json::Value,
}

impl TryFrom<EventRow> for EventView {
    type Error = AppError;

    fn try_from(r: EventRow) -> AppResult<Self> {
        let level = Level::from_i16(r.level).ok_or_else(|| {
            AppError::internal(format_args!("event {} has level {}", r.id, r.level))
        })?;
        Ok(Self {
            id: r.id,
            seq: r.seq,
            occurred_at: r.occurred_at,
            received_at: r.received_at,
            service: r.service,
            feature: r.feature,
            kind: r.kind,
            level,
            message: r.message,
            fingerprint: r.fingerprint,
            release: r.release,
            environment: r.environment,
            user: r.user_ref,
            attributes: r.attributes,
        })
    }
}

fn views(rows: Vec<EventRow>) -> AppResult<Vec<EventView>> {
    rows.into_iter().map(EventView::try_from).collect()
}

/// Events after cursor `after`, in cursor order, matching `filter`; with
/// `until`, only up to that cursor.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn events_after(
    db: impl sqlx::PgExecutor<'_>,
    after: i64,
    limit: i64,
    filter: &StreamFilter,
    until: Option<i64>,
) -> AppResult<Vec<EventView>> {
    let kind = filter.kind_prefix.as_deref().map(like_prefix);
    let rows = sqlx::query_as!(
        EventRow,
        r#"select e.seq, e.id, e.occurred_at, e.received_at, s.slug as service, e.feature, e.kind,
                  e.level, e.message, e.fingerprint, e.release, e.environment, e.user_ref, e.attributes
           from events e join services s on s.id = e.service_id
           where e.seq > $1
             and ($3::int8 is null or e.seq <= $3)
             and ($4::text is null or s.slug = $4)
             and e.level >= $5
             and ($6::text is null or e.kind like $6)
           order by e.seq
           limit $2"#,
        after,
        limit,
        until,
        filter.service,
        filter.min_level.map(Level::as_i16).unwrap_or(0),
        kind
    )
    .fetch_all(db)
    .await?;
    views(rows)
}

/// The explorer's query: newest first, keyset-paginated on (time, id).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn search(db: &sqlx::PgPool, q: &EventQuery, now: DateTime<Utc>) -> AppResult<EventPage> {
    let (from, to) = q.window(now);
    let cursor = q.cursor.as_deref().and_then(parse_cursor);
    let kind = q.kind.as_deref().filter(|s| !s.is_empty()).map(like_prefix);
    let text = q.q.as_deref().filter(|s| !s.is_empty()).map(like_contains);
    let stream_cursor = max_seq(db).await?;
    let mut tx = db.begin().await?;
    // A free-text search over a long range must not hold a connection forever.
    sqlx::query!("set local statement_timeout = '5s'")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query_as!(
        EventRow,
        r#"select e.seq, e.id, e.occurred_at, e.received_at, s.slug as service, e.feature, e.kind,
                  e.level, e.message, e.fingerprint, e.release, e.environment, e.user_ref, e.attributes
           from events e join services s on s.id = e.service_id
           where e.occurred_at >= $1 and e.occurred_at < $2
             and ($3::timestamptz is null or (e.occurred_at, e.id) < ($3, $4::uuid))
             and ($5::text is null or s.slug = $5)
             and ($6::text is null or e.feature = $6)
             and e.level >= $7
             and ($8::text is null or e.kind like $8)
             and ($9::text is null or e.message ilike $9)
             and ($11::text is null or e.fingerprint = $11)
           order by e.occurred_at desc, e.id desc
           limit $10"#,
        from,
        to,
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        q.service.as_deref().filter(|s| !s.is_empty()),
        q.feature.as_deref().filter(|s| !s.is_empty()),
        q.level.map(Level::as_i16).unwrap_or(0),
        kind,
        text,
        PAGE_SIZE + 1,
        q.fingerprint.as_deref().filter(|s| !s.is_empty()),
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("57014") => {
            AppError::validation("q", "the search took too long; narrow the time range or the filters")
        }
        _ => e.into(),
    })?;
    tx.commit().await?;
    let mut events: Vec<EventView> = views(rows)?;
    let more = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    let next = if more {
        events.last().map(|e| format_cursor(e.occurred_at, e.id))
    } else {
        None
    };
    Ok(EventPage {
        events,
        next,
        cursor: stream_cursor,
    })
}

/// One event by id.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn get(db: impl sqlx::PgExecutor<'_>, id: Uuid) -> AppResult<EventView> {
    let row = sqlx::query_as!(
        EventRow,
        r#"select e.seq, e.id, e.occurred_at, e.received_at, s.slug as service, e.feature, e.kind,
                  e.level, e.message, e.fingerprint, e.release, e.environment, e.user_ref, e.attributes
           from event_ids i
           join events e on e.occurred_at = i.occurred_at and e.id = i.id
           join services s on s.id = e.service_id
           where i.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    row.map(EventView::try_from)
        .unwrap_or_else(|| Err(AppError::NotFound(format!("event {id}"))))
}

/// The newest `limit` events (optionally of one service), newest first,
/// with the cursor to resume a live stream from.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn recent(
    db: &sqlx::PgPool,
    service: Option<&str>,
    limit: i64,
) -> AppResult<LiveSnapshot> {
    let mut tx = db.begin().await?;
    // One snapshot for both reads: the cursor matches the list.
    sqlx::query!("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let cursor = max_seq(&mut *tx).await?;
    let rows = sqlx::query_as!(
        EventRow,
        r#"select e.seq, e.id, e.occurred_at, e.received_at, s.slug as service, e.feature, e.kind,
                  e.level, e.message, e.fingerprint, e.release, e.environment, e.user_ref, e.attributes
           from events e join services s on s.id = e.service_id
           where $1::text is null or s.slug = $1
           order by e.seq desc
           limit $2"#,
        service,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(LiveSnapshot {
        events: views(rows)?,
        cursor,
    })
}

/// Every stored event of `user_ref`, oldest first.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn by_user(db: &mut sqlx::PgConnection, user_ref: &str) -> AppResult<Vec<EventView>> {
    let rows = sqlx::query_as!(
        EventRow,
        r#"select e.seq, e.id, e.occurred_at, e.received_at, s.slug as service, e.feature, e.kind,
                  e.level, e.message, e.fingerprint, e.release, e.environment, e.user_ref, e.attributes
           from events e join services s on s.id = e.service_id
           where e.user_ref = $1
           order by e.occurred_at, e.id"#,
        user_ref
    )
    .fetch_all(&mut *db)
    .await?;
    let mut events = views(rows)?;
    // What an SDK sent with an event is theirs too: in the export, under
    // `attributes.sentry`.
    let payloads = sqlx::query!(
        "select id, payload as \"payload!\" from events where user_ref = $1 and payload is not null",
        user_ref
    )
    .fetch_all(&mut *db)
    .await?;
    for p in payloads {
        if let (Some(e), Some(v)) = (
            events.iter_mut().find(|e| e.id == p.id),
            crate::error_groups::store::read_payload(&p.payload),
        ) && let Some(o) = e.attributes.as_object_mut()
        {
            o.insert("sentry".into(), v);
        }
    }
    Ok(events)
}

/// Services and features seen in the last 30 days (from the daily rollups).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn facets(db: impl sqlx::PgExecutor<'_>) -> AppResult<Facets> {
    let rows = sqlx::query!(
        r#"select s.slug, r.feature
           from (select distinct service_id, feature from event_rollups_daily
                 where day >= current_date - 30) r
           join services s on s.id = r.service_id
           order by 1, 2"#
    )
    .fetch_all(db)
    .await?;
    let mut services: Vec<String> = rows.iter().map(|r| r.slug.clone()).collect();
    services.dedup();
    let mut features: Vec<String> = rows
        .into_iter()
        .map(|r| r.feature)
        .filter(|f| !f.is_empty())
        .collect();
    features.sort();
    features.dedup();
    Ok(Facets { services, features })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_prefix("payment."), "payment.%");
        assert_eq!(like_prefix("50%_off\\"), "50\\%\\_off\\\\%");
        assert_eq!(like_contains("a_b"), "%a\\_b%");
    }
}
