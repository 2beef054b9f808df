//! What admins do with alerts, one function per action, each in one
//! transaction with its audit entry: the REST handlers, the server
//! functions of the Alerts page and the CLI all call these, so the rules
//! (validation, what is audited, what is shown once) exist once.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::store::{self, SubscriptionSpec};
use super::types::{ChannelInfo, ChannelSpec, Notice, NoticeState, RuleSpec, SubscriptionInfo};
use crate::audit::store::record;
use crate::error::{AppError, AppResult};
use crate::secrets::SecretBox;

/// Who acts: `user:<name>`, `key:<prefix>` or `cli`, and from where.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub actor: &'a str,
    pub ip: Option<IpAddr>,
}

/// Appends the audit entry of an action to its transaction.
async fn audit(
    tx: &mut sqlx::PgConnection,
    who: Who<'_>,
    action: &str,
    target: Option<&str>,
    details: serde_json::Value,
) -> AppResult<()> {
    record(&mut *tx, who.actor, action, target, who.ip, details).await
}

fn invalid((field, message): (String, String)) -> AppError {
    AppError::Validation { field, message }
}

/// A created channel or subscription: its id and, for webhooks, the
/// signing secret (returned this once, never again).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Created {
    pub id: i64,
    pub secret: Option<String>,
}

pub async fn create_channel(
    pool: &PgPool,
    secrets: &SecretBox,
    who: Who<'_>,
    mut spec: ChannelSpec,
) -> AppResult<Created> {
    let kind = spec.validate().map_err(invalid)?;
    let mut tx = pool.begin().await?;
    let (id, secret) = store::create_channel(&mut tx, secrets, kind, &spec).await?;
    audit(
        &mut tx,
        who,
        "alert_channel.create",
        Some(&spec.name),
        json!({ "id": id, "kind": kind.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Created { id, secret })
}

pub async fn delete_channel(pool: &PgPool, who: Who<'_>, id: i64) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let name = store::delete_channel(&mut tx, id).await?;
    audit(
        &mut tx,
        who,
        "alert_channel.delete",
        Some(&name),
        json!({ "id": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new signing secret (returned once); the old one signs for 24 h more.
pub async fn rotate_channel_secret(
    pool: &PgPool,
    secrets: &SecretBox,
    who: Who<'_>,
    id: i64,
) -> AppResult<String> {
    let mut tx = pool.begin().await?;
    let secret = store::rotate_channel_secret(&mut tx, secrets, id).await?;
    audit(
        &mut tx,
        who,
        "alert_channel.rotate_secret",
        None,
        json!({ "id": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Turns a channel on (also after a 410 Gone) or off.
pub async fn set_channel_enabled(
    pool: &PgPool,
    who: Who<'_>,
    id: i64,
    enabled: bool,
) -> AppResult<ChannelInfo> {
    let mut tx = pool.begin().await?;
    let reason = format!("disabled by {}", who.actor);
    let name =
        store::set_channel_disabled(&mut *tx, id, (!enabled).then_some(reason.as_str())).await?;
    audit(
        &mut tx,
        who,
        if enabled {
            "alert_channel.enable"
        } else {
            "alert_channel.disable"
        },
        Some(&name),
        json!({ "id": id }),
    )
    .await?;
    tx.commit().await?;
    store::get_channel(pool, id).await
}

/// Queues a test message to the channel through the real delivery path;
/// returns the delivery's id (its attempts show on the Alerts page).
pub async fn send_test(
    pool: &PgPool,
    who: Who<'_>,
    id: i64,
    base_url: &str,
    delay: chrono::Duration,
    language: crate::lang::Locale,
) -> AppResult<Uuid> {
    let channel = store::get_channel(pool, id).await?;
    if channel.disabled_at.is_some() {
        return Err(AppError::Conflict(format!(
            "channel “{}” is disabled{}; enable it first",
            channel.name,
            channel
                .disabled_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )));
    }
    let now = Utc::now();
    let notice = Notice {
        state: NoticeState::Test,
        rule_id: None,
        rule: "test".into(),
        kind: None,
        service: None,
        title: crate::alerts::texts::Texts(language).test_title(&channel.name),
        detail: crate::alerts::texts::Texts(language).test_detail(who.actor),
        since: now.to_rfc3339(),
        value: None,
        threshold: None,
        unit: String::new(),
        suppressed: 0,
        link: format!("{}/alerts", base_url.trim_end_matches('/')),
        at: now.to_rfc3339(),
    };
    let mut tx = pool.begin().await?;
    store::queue_notice(&mut tx, &[id], &notice, delay).await?;
    let delivery = sqlx::query_scalar!(
        "select id from deliveries where channel_id = $1 and purpose = 'test'
         order by created_at desc limit 1",
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    audit(
        &mut tx,
        who,
        "alert_channel.test",
        Some(&channel.name),
        json!({ "id": id, "delivery": delivery }),
    )
    .await?;
    tx.commit().await?;
    Ok(delivery)
}

pub async fn create_rule(pool: &PgPool, who: Who<'_>, mut spec: RuleSpec) -> AppResult<i64> {
    spec.validate().map_err(invalid)?;
    let mut tx = pool.begin().await?;
    let id = store::create_rule(&mut tx, &spec).await?;
    audit(
        &mut tx,
        who,
        "alert_rule.create",
        Some(&spec.name),
        json!({ "id": id, "rule": spec }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_rule(
    pool: &PgPool,
    who: Who<'_>,
    id: i64,
    mut spec: RuleSpec,
) -> AppResult<()> {
    spec.validate().map_err(invalid)?;
    let mut tx = pool.begin().await?;
    store::update_rule(&mut tx, id, &spec).await?;
    audit(
        &mut tx,
        who,
        "alert_rule.update",
        Some(&spec.name),
        json!({ "id": id, "rule": spec }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_rule_enabled(
    pool: &PgPool,
    who: Who<'_>,
    id: i64,
    enabled: bool,
) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let name = store::set_rule_enabled(&mut tx, id, enabled).await?;
    audit(
        &mut tx,
        who,
        if enabled {
            "alert_rule.enable"
        } else {
            "alert_rule.disable"
        },
        Some(&name),
        json!({ "id": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_rule(pool: &PgPool, who: Who<'_>, id: i64) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let name = store::delete_rule(&mut tx, id).await?;
    audit(
        &mut tx,
        who,
        "alert_rule.delete",
        Some(&name),
        json!({ "id": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn create_subscription(
    pool: &PgPool,
    secrets: &SecretBox,
    who: Who<'_>,
    mut spec: SubscriptionSpec,
) -> AppResult<Created> {
    spec.validate().map_err(invalid)?;
    let mut tx = pool.begin().await?;
    let service = match &spec.service {
        Some(slug) => Some(
            crate::services::store::find(&mut *tx, slug)
                .await?
                .ok_or_else(|| AppError::validation("service", format!("no service `{slug}`")))?,
        ),
        None => None,
    };
    let (id, secret) = store::create_subscription(&mut tx, secrets, &spec, service).await?;
    audit(&mut tx, who, "event_subscription.create", Some(&spec.name), json!({ "id": id, "service": spec.service, "min_level": spec.min_level, "kind_prefix": spec.kind_prefix })).await?;
    tx.commit().await?;
    Ok(Created {
        id,
        secret: Some(secret),
    })
}

pub async fn delete_subscription(pool: &PgPool, who: Who<'_>, id: i64) -> AppResult<()> {
    let mut tx = pool.begin().await?;
    let name = store::delete_subscription(&mut tx, id).await?;
    audit(
        &mut tx,
        who,
        "event_subscription.delete",
        Some(&name),
        json!({ "id": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn rotate_subscription_secret(
    pool: &PgPool,
    secrets: &SecretBox,
    who: Who<'_>,
    id: i64,
) -> AppResult<String> {
    let mut tx = pool.begin().await?;
    let secret = store::rotate_subscription_secret(&mut tx, secrets, id).await?;
    audit(
        &mut tx,
        who,
        "event_subscription.rotate_secret",
        None,
        json!({ "id": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

pub async fn set_subscription_enabled(
    pool: &PgPool,
    who: Who<'_>,
    id: i64,
    enabled: bool,
) -> AppResult<SubscriptionInfo> {
    let mut tx = pool.begin().await?;
    let reason = format!("disabled by {}", who.actor);
    let name =
        store::set_subscription_disabled(&mut *tx, id, (!enabled).then_some(reason.as_str()))
            .await?;
    audit(
        &mut tx,
        who,
        if enabled {
            "event_subscription.enable"
        } else {
            "event_subscription.disable"
        },
        Some(&name),
        json!({ "id": id }),
    )
    .await?;
    tx.commit().await?;
    store::list_subscriptions(pool)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| AppError::NotFound(format!("subscription {id}")))
}

/// Re-queues one dead letter, or all with `None`, with a fresh schedule.
/// Returns how many.
pub async fn replay(pool: &PgPool, who: Who<'_>, id: Option<Uuid>) -> AppResult<u64> {
    let mut tx = pool.begin().await?;
    let n = store::replay(&mut tx, id).await?;
    if n > 0 {
        audit(
            &mut tx,
            who,
            "dead_letter.replay",
            id.map(|i| i.to_string()).as_deref(),
            json!({ "count": n, "all": id.is_none() }),
        )
        .await?;
        store::notify_workers(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// Discards one dead letter, or all older than a time. Returns the ids.
pub async fn discard(
    pool: &PgPool,
    who: Who<'_>,
    id: Option<Uuid>,
    older_than: Option<DateTime<Utc>>,
) -> AppResult<Vec<Uuid>> {
    if id.is_none() && older_than.is_none() {
        return Err(AppError::BadRequest(
            "say which dead letters to discard: one id, or those older than a time".into(),
        ));
    }
    let mut tx = pool.begin().await?;
    let ids = store::discard(&mut tx, id, older_than).await?;
    if !ids.is_empty() {
        audit(
            &mut tx,
            who,
            "dead_letter.discard",
            id.map(|i| i.to_string()).as_deref(),
            json!({ "count": ids.len(), "ids": ids, "older_than": older_than }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(ids)
}
