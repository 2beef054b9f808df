//! Alert rules and the channels each notifies.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::alerts::types::{RuleInfo, RuleKind, RuleSpec};
use crate::error::{AppError, AppResult};

/// A rule as the evaluator needs it.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub kind: RuleKind,
    pub service_id: Option<i64>,
    pub cooldown_seconds: i32,
    pub threshold: Option<f64>,
    pub window_seconds: Option<i32>,
    pub min_events: Option<i32>,
    pub channels: Vec<i64>,
}

/// Checks the service and channels of a validated spec; the service id.
async fn resolve(tx: &mut PgConnection, spec: &RuleSpec) -> AppResult<Option<i64>> {
    let service_id = match &spec.service {
        Some(slug) => Some(
            crate::services::store::find(&mut *tx, slug)
                .await?
                .ok_or_else(|| AppError::Validation {
                    field: "service".into(),
                    message: format!("no service “{slug}”"),
                })?,
        ),
        None => None,
    };
    let found = super::channels::existing_channels(&mut *tx, &spec.channels).await?;
    if let Some(missing) = spec.channels.iter().find(|c| !found.contains(c)) {
        return Err(AppError::Validation {
            field: "channels".into(),
            message: format!("no channel {missing}"),
        });
    }
    Ok(service_id)
}

/// Creates a rule from a validated spec.
pub async fn create_rule(tx: &mut PgConnection, spec: &RuleSpec) -> AppResult<i64> {
    let service_id = resolve(tx, spec).await?;
    let id = sqlx::query_scalar!(
        "insert into alert_rules (name, kind, service_id, cooldown_seconds, threshold, window_seconds,
                                  min_events, enabled)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        spec.name,
        spec.kind.as_str(),
        service_id,
        spec.cooldown_seconds,
        spec.threshold,
        spec.window_seconds,
        spec.min_events,
        spec.enabled
    )
    .fetch_one(&mut *tx)
    .await?;
    set_channels(tx, id, &spec.channels).await?;
    Ok(id)
}

/// Replaces a rule's settings; its firing state starts over when the kind
/// or service changes.
pub async fn update_rule(tx: &mut PgConnection, id: i64, spec: &RuleSpec) -> AppResult<()> {
    let service_id = resolve(tx, spec).await?;
    let before = sqlx::query!(
        "select kind, service_id from alert_rules where id = $1 for update",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("rule {id}")))?;
    sqlx::query!(
        "update alert_rules set name = $2, kind = $3, service_id = $4, cooldown_seconds = $5,
                threshold = $6, window_seconds = $7, min_events = $8, enabled = $9
         where id = $1",
        id,
        spec.name,
        spec.kind.as_str(),
        service_id,
        spec.cooldown_seconds,
        spec.threshold,
        spec.window_seconds,
        spec.min_events,
        spec.enabled
    )
    .execute(&mut *tx)
    .await?;
    if before.kind != spec.kind.as_str() || before.service_id != service_id || !spec.enabled {
        sqlx::query!("delete from alert_states where rule_id = $1", id)
            .execute(&mut *tx)
            .await?;
    }
    set_channels(tx, id, &spec.channels).await
}

async fn set_channels(tx: &mut PgConnection, id: i64, channels: &[i64]) -> AppResult<()> {
    sqlx::query!("delete from alert_rule_channels where rule_id = $1", id)
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "insert into alert_rule_channels (rule_id, channel_id)
         select $1, unnest($2::int8[]) on conflict do nothing",
        id,
        channels
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Turns a rule on or off (off forgets its state).
pub async fn set_rule_enabled(tx: &mut PgConnection, id: i64, enabled: bool) -> AppResult<String> {
    let name = sqlx::query_scalar!(
        "update alert_rules set enabled = $2 where id = $1 returning name",
        id,
        enabled
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("rule {id}")))?;
    if !enabled {
        sqlx::query!("delete from alert_states where rule_id = $1", id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(name)
}

pub async fn delete_rule(tx: &mut PgConnection, id: i64) -> AppResult<String> {
    sqlx::query_scalar!("delete from alert_rules where id = $1 returning name", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("rule {id}")))
}

struct RuleRow {
    id: i64,
    name: String,
    kind: String,
    service: Option<String>,
    cooldown_seconds: i32,
    threshold: Option<f64>,
    window_seconds: Option<i32>,
    min_events: Option<i32>,
    enabled: bool,
    created_at: DateTime<Utc>,
    channels: Vec<i64>,
    firing: Vec<String>,
}

pub async fn list_rules(db: impl PgExecutor<'_>) -> AppResult<Vec<RuleInfo>> {
    let rows = sqlx::query_as!(
        RuleRow,
        r#"select r.id, r.name, r.kind, s.slug as "service?", r.cooldown_seconds,
                  r.threshold, r.window_seconds, r.min_events, r.enabled, r.created_at,
                  coalesce((select array_agg(c.channel_id order by c.channel_id)
                            from alert_rule_channels c where c.rule_id = r.id), '{}') as "channels!",
                  coalesce((select array_agg(coalesce(fs.slug, 'Leitstand') order by fs.slug)
                            from alert_states st left join services fs on fs.id = st.service_key
                            where st.rule_id = r.id and st.firing), '{}') as "firing!"
           from alert_rules r left join services s on s.id = r.service_id
           order by r.name, r.id"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(RuleInfo {
                id: r.id,
                name: r.name,
                kind: RuleKind::parse(&r.kind)?,
                service: r.service,
                channels: r.channels,
                cooldown_seconds: r.cooldown_seconds,
                threshold: r.threshold,
                window_seconds: r.window_seconds,
                min_events: r.min_events,
                enabled: r.enabled,
                firing: r.firing,
                created_at: r.created_at.to_rfc3339(),
            })
        })
        .collect())
}

/// Enabled rules of these kinds that apply to `service_id` (rules for
/// every service included); with `None`, all of them.
pub async fn rules_for(
    db: impl PgExecutor<'_>,
    kinds: &[RuleKind],
    service_id: Option<i64>,
) -> AppResult<Vec<Rule>> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let rows = sqlx::query!(
        r#"select r.id, r.name, r.kind, r.service_id, r.cooldown_seconds, r.threshold, r.window_seconds,
                  r.min_events,
                  coalesce((select array_agg(c.channel_id order by c.channel_id)
                            from alert_rule_channels c where c.rule_id = r.id), '{}') as "channels!"
           from alert_rules r
           where r.enabled and r.kind = any($1)
             and ($2::int8 is null or r.service_id is null or r.service_id = $2)
           order by r.id"#,
        &kinds as &[&str],
        service_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Rule {
                id: r.id,
                name: r.name,
                kind: RuleKind::parse(&r.kind)?,
                service_id: r.service_id,
                cooldown_seconds: r.cooldown_seconds,
                threshold: r.threshold,
                window_seconds: r.window_seconds,
                min_events: r.min_events,
                channels: r.channels,
            })
        })
        .collect())
}
