//! Event subscriptions: every event matching a filter goes to a webhook,
//! in batches of up to 100 events or after 1 s. A batch is queued as a
//! delivery and the subscription's cursor advances in one transaction,
//! under the subscription row's lock, so two processes never queue the
//! same events and none are skipped.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};

use super::channels::{EndpointSecrets, ROTATION_OVERLAP_HOURS, new_signing_secret};
use super::deliveries::{self, Source};
use crate::alerts::types::{SubscriptionInfo, http_url_host};
use crate::error::{AppError, AppResult};
use crate::events::{Level, StreamFilter};
use crate::secrets::SecretBox;

/// At most this many events per delivery.
pub const BATCH_MAX: i64 = 100;
/// A smaller batch goes once its oldest event waited this long.
pub const BATCH_WAIT_MS: i64 = 1000;

/// A new subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    pub name: String,
    pub url: String,
    /// Only this service's events.
    #[serde(default)]
    pub service: Option<String>,
    /// Only events at this level or above (default: all).
    #[serde(default)]
    pub min_level: Option<Level>,
    /// Only events whose type starts with this.
    #[serde(default)]
    pub kind_prefix: Option<String>,
}

impl SubscriptionSpec {
    pub fn validate(&mut self) -> Result<(), (String, String)> {
        let bad = |f: &str, m: String| Err((f.to_owned(), m));
        self.name = self.name.trim().to_owned();
        if self.name.is_empty() || self.name.chars().count() > 100 {
            return bad("name", "1 to 100 characters".into());
        }
        self.url = self.url.trim().to_owned();
        if let Err(m) = http_url_host(&self.url) {
            return bad("url", m);
        }
        if let Some(p) = &self.kind_prefix
            && (p.len() > 200 || p.chars().any(char::is_control))
        {
            return bad("kind_prefix", "at most 200 characters".into());
        }
        Ok(())
    }
}

/// Creates a subscription starting at the current end of the stream;
/// returns its id and signing secret (shown once).
pub async fn create_subscription(
    tx: &mut PgConnection,
    secrets: &SecretBox,
    spec: &SubscriptionSpec,
    service_id: Option<i64>,
) -> AppResult<(i64, String)> {
    let signing = new_signing_secret();
    let sealed = secrets.seal_json(&EndpointSecrets {
        signing: Some(signing.clone()),
        ..Default::default()
    })?;
    let id = sqlx::query_scalar!(
        "insert into event_subscriptions (name, url, service_id, min_level, kind_prefix, secrets, cursor)
         values ($1, $2, $3, $4, $5, $6, (select coalesce(max(seq), 0) from events))
         on conflict (name) do nothing returning id",
        spec.name,
        spec.url,
        service_id,
        spec.min_level.map(Level::as_i16).unwrap_or(0),
        spec.kind_prefix.clone().unwrap_or_default(),
        sealed
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Validation {
        field: "name".into(),
        message: format!("a subscription named “{}” exists already", spec.name),
    })?;
    Ok((id, signing))
}

pub async fn list_subscriptions(db: impl PgExecutor<'_>) -> AppResult<Vec<SubscriptionInfo>> {
    let rows = sqlx::query!(
        "select x.id, x.name, x.url, s.slug as \"service?\", x.min_level, x.kind_prefix, x.disabled_at,
                x.disabled_reason, x.previous_until, x.cursor, x.created_at
         from event_subscriptions x left join services s on s.id = x.service_id
         order by x.name"
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SubscriptionInfo {
            id: r.id,
            name: r.name,
            url: r.url,
            service: r.service,
            min_level: Level::from_i16(r.min_level)
                .unwrap_or(Level::Debug)
                .as_str()
                .to_owned(),
            kind_prefix: r.kind_prefix,
            disabled_at: r.disabled_at.map(|t| t.to_rfc3339()),
            disabled_reason: r.disabled_reason,
            previous_until: r
                .previous_until
                .filter(|t| *t > Utc::now())
                .map(|t| t.to_rfc3339()),
            cursor: r.cursor,
            created_at: r.created_at.to_rfc3339(),
        })
        .collect())
}

pub async fn delete_subscription(tx: &mut PgConnection, id: i64) -> AppResult<String> {
    sqlx::query_scalar!(
        "delete from event_subscriptions where id = $1 returning name",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("subscription {id}")))
}

pub async fn rotate_subscription_secret(
    tx: &mut PgConnection,
    secrets: &SecretBox,
    id: i64,
) -> AppResult<String> {
    let signing = new_signing_secret();
    let sealed = secrets.seal_json(&EndpointSecrets {
        signing: Some(signing.clone()),
        ..Default::default()
    })?;
    sqlx::query!(
        "update event_subscriptions set previous_secrets = secrets, secrets = $2,
                previous_until = now() + make_interval(hours => $3)
         where id = $1 returning id",
        id,
        sealed,
        ROTATION_OVERLAP_HOURS as i32
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("subscription {id}")))?;
    Ok(signing)
}

pub async fn set_subscription_disabled(
    db: impl PgExecutor<'_>,
    id: i64,
    reason: Option<&str>,
) -> AppResult<String> {
    sqlx::query_scalar!(
        "update event_subscriptions
         set disabled_at = case when $2::text is null then null else coalesce(disabled_at, now()) end,
             disabled_reason = $2
         where id = $1 returning name",
        id,
        reason
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("subscription {id}")))
}

/// A subscription as the sender needs it.
#[derive(Debug, Clone)]
pub struct SubscriptionTarget {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub secrets: EndpointSecrets,
    pub previous: Option<EndpointSecrets>,
    pub disabled: Option<String>,
}

pub async fn subscription_target(
    db: impl PgExecutor<'_>,
    secrets: &SecretBox,
    id: i64,
) -> AppResult<SubscriptionTarget> {
    let r = sqlx::query!(
        r#"select id, name, url, secrets, previous_secrets, previous_until > now() as "previous_valid?",
                  disabled_at, disabled_reason
           from event_subscriptions where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("subscription {id}")))?;
    let previous = match (&r.previous_secrets, r.previous_valid) {
        (Some(p), Some(true)) => secrets.open_json(p).ok(),
        _ => None,
    };
    Ok(SubscriptionTarget {
        id: r.id,
        name: r.name,
        url: r.url,
        secrets: secrets.open_json(&r.secrets)?,
        previous,
        disabled: r.disabled_at.map(|at| {
            format!(
                "disabled since {}: {}",
                at.format("%Y-%m-%d %H:%M UTC"),
                r.disabled_reason.as_deref().unwrap_or("by an admin")
            )
        }),
    })
}

/// What one pass over a subscription did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStep {
    /// Events queued in a delivery.
    pub queued: usize,
    /// Events waiting for more (or for their second to pass).
    pub waiting: usize,
}

/// Ids of enabled subscriptions.
pub async fn active_subscriptions(db: impl PgExecutor<'_>) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar!(
        "select id from event_subscriptions where disabled_at is null order by id"
    )
    .fetch_all(db)
    .await?)
}

/// One pass over subscription `id`, if no other process holds it: queues
/// the next batch when it is full or its oldest event waited a second,
/// and advances the cursor past events that do not match.
pub async fn forward_batch(
    pool: &sqlx::PgPool,
    id: i64,
    now: DateTime<Utc>,
    first_delay: Duration,
) -> AppResult<BatchStep> {
    let mut tx = pool.begin().await?;
    let Some(sub) = sqlx::query!(
        r#"select x.name, x.url, x.cursor, x.min_level, x.kind_prefix, s.slug as "service?"
           from event_subscriptions x left join services s on s.id = x.service_id
           where x.id = $1 and x.disabled_at is null
           for update of x skip locked"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(BatchStep::default());
    };
    // Everything up to `until` is committed (cursors become visible in
    // order), so a batch that is not full holds every match up to it.
    let until = crate::events::store::max_seq(&mut *tx).await?;
    if until <= sub.cursor {
        return Ok(BatchStep::default());
    }
    let filter = StreamFilter {
        service: sub.service,
        min_level: Level::from_i16(sub.min_level).filter(|l| *l != Level::Debug),
        kind_prefix: Some(sub.kind_prefix).filter(|p| !p.is_empty()),
    };
    let events =
        crate::events::store::events_after(&mut *tx, sub.cursor, BATCH_MAX, &filter, Some(until))
            .await?;
    let full = events.len() as i64 == BATCH_MAX;
    let due = events
        .first()
        .is_some_and(|e| (now - e.received_at).num_milliseconds() >= BATCH_WAIT_MS);
    if !events.is_empty() && !full && !due {
        return Ok(BatchStep {
            queued: 0,
            waiting: events.len(),
        });
    }
    let cursor = if full {
        events.last().map_or(until, |e| e.seq)
    } else {
        until
    };
    if !events.is_empty() {
        let payload = serde_json::json!({
            "type": "events.batch",
            "timestamp": now.to_rfc3339(),
            "data": { "subscription": sub.name, "events": events },
        });
        let host = http_url_host(&sub.url).unwrap_or_default();
        deliveries::enqueue(
            &mut tx,
            Source::Subscription(id),
            &host,
            "events",
            &payload,
            first_delay,
        )
        .await?;
        deliveries::notify_workers(&mut tx).await?;
    }
    sqlx::query!(
        "update event_subscriptions set cursor = $2 where id = $1",
        id,
        cursor
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(BatchStep {
        queued: events.len(),
        waiting: 0,
    })
}
