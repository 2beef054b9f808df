//! Notification channels. What is secret (SMTP password, signing secret,
//! header values, a Slack URL) is sealed in `secrets`; `config` keeps what
//! admins may see again.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};

use crate::alerts::types::{ChannelInfo, ChannelKind, ChannelSpec, SmtpTls, http_url_host};
use crate::error::{AppError, AppResult};
use crate::secrets::SecretBox;

/// How long a rotated-out signing secret keeps signing.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// The sealed part of a channel or subscription.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EndpointSecrets {
    /// Standard Webhooks signing secret, `whsec_…`.
    #[serde(default)]
    pub signing: Option<String>,
    /// The full URL where the URL itself is a credential (Slack).
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// A fresh signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_signing_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The visible settings of an e-mail channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    #[serde(default)]
    pub username: Option<String>,
    pub from: String,
    pub to: Vec<String>,
}

/// A channel as the sender needs it.
#[derive(Debug, Clone)]
pub struct ChannelTarget {
    pub id: i64,
    pub kind: ChannelKind,
    pub name: String,
    pub config: serde_json::Value,
    pub secrets: EndpointSecrets,
    /// The rotated-out secrets while they still sign.
    pub previous: Option<EndpointSecrets>,
    pub disabled: Option<String>,
}

impl ChannelTarget {
    /// The URL to post to (webhook and Slack).
    pub fn url(&self) -> Option<String> {
        self.secrets
            .url
            .clone()
            .or_else(|| self.config["url"].as_str().map(str::to_owned))
    }

    pub fn smtp(&self) -> AppResult<SmtpConfig> {
        serde_json::from_value(self.config.clone())
            .map_err(|e| AppError::internal(format!("channel {} config: {e}", self.id)))
    }
}

/// Creates a channel from a validated spec; returns its id and, for
/// webhooks, the signing secret (shown once).
pub async fn create_channel(
    tx: &mut PgConnection,
    secrets: &SecretBox,
    kind: ChannelKind,
    spec: &ChannelSpec,
) -> AppResult<(i64, Option<String>)> {
    let (config, sealed, signing) = match kind {
        ChannelKind::Webhook => {
            let signing = new_signing_secret();
            let config = serde_json::json!({
                "url": spec.url,
                "headers": spec.headers.keys().collect::<Vec<_>>(),
            });
            let sealed = EndpointSecrets {
                signing: Some(signing.clone()),
                headers: spec.headers.clone(),
                ..Default::default()
            };
            (config, sealed, Some(signing))
        }
        ChannelKind::Slack => {
            let url = spec.url.clone().unwrap_or_default();
            let host = http_url_host(&url).unwrap_or_default();
            let config = serde_json::json!({ "host": host });
            let sealed = EndpointSecrets {
                url: Some(url),
                ..Default::default()
            };
            (config, sealed, None)
        }
        ChannelKind::Email => {
            let tls = spec.tls.unwrap_or_default();
            let config = SmtpConfig {
                host: spec.host.clone().unwrap_or_default(),
                port: spec.port.unwrap_or(tls.default_port()),
                tls,
                username: spec.username.clone().filter(|u| !u.is_empty()),
                from: spec.from.clone().unwrap_or_default(),
                to: spec.to.clone(),
            };
            let config = serde_json::to_value(config)
                .map_err(|e| AppError::internal(format!("encoding SMTP settings: {e}")))?;
            let sealed = EndpointSecrets {
                password: spec.password.clone(),
                ..Default::default()
            };
            (config, sealed, None)
        }
    };
    let sealed = secrets.seal_json(&sealed)?;
    let id = sqlx::query_scalar!(
        "insert into alert_channels (kind, name, config, secrets) values ($1, $2, $3, $4)
         on conflict (name) do nothing returning id",
        kind.as_str(),
        spec.name,
        config,
        sealed
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::Validation {
        field: "name".into(),
        message: format!("a channel named “{}” exists already", spec.name),
    })?;
    Ok((id, signing))
}

struct ChannelRow {
    id: i64,
    kind: String,
    name: String,
    config: serde_json::Value,
    disabled_at: Option<DateTime<Utc>>,
    disabled_reason: Option<String>,
    previous_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<ChannelRow> for ChannelInfo {
    fn from(r: ChannelRow) -> Self {
        let kind = ChannelKind::parse(&r.kind).unwrap_or(ChannelKind::Webhook);
        let config = r.config;
        let destination = match kind {
            ChannelKind::Email => config["to"]
                .as_array()
                .map(|to| {
                    to.iter()
                        .filter_map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            ChannelKind::Webhook => config["url"]
                .as_str()
                .and_then(|u| http_url_host(u).ok())
                .unwrap_or_default(),
            ChannelKind::Slack => config["host"].as_str().unwrap_or_default().to_owned(),
        };
        ChannelInfo {
            id: r.id,
            kind,
            name: r.name,
            destination,
            config,
            disabled_at: r.disabled_at.map(|t| t.to_rfc3339()),
            disabled_reason: r.disabled_reason,
            previous_until: r
                .previous_until
                .filter(|t| *t > Utc::now())
                .map(|t| t.to_rfc3339()),
            created_at: r.created_at.to_rfc3339(),
        }
    }
}

pub async fn list_channels(db: impl PgExecutor<'_>) -> AppResult<Vec<ChannelInfo>> {
    let rows = sqlx::query_as!(
        ChannelRow,
        "select id, kind, name, config, disabled_at, disabled_reason, previous_until, created_at
         from alert_channels order by name"
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(ChannelInfo::from).collect())
}

pub async fn get_channel(db: impl PgExecutor<'_>, id: i64) -> AppResult<ChannelInfo> {
    sqlx::query_as!(
        ChannelRow,
        "select id, kind, name, config, disabled_at, disabled_reason, previous_until, created_at
         from alert_channels where id = $1",
        id
    )
    .fetch_optional(db)
    .await?
    .map(ChannelInfo::from)
    .ok_or_else(|| AppError::NotFound(format!("channel {id}")))
}

/// The channel with its secrets opened, for sending.
pub async fn channel_target(
    db: impl PgExecutor<'_>,
    secrets: &SecretBox,
    id: i64,
) -> AppResult<ChannelTarget> {
    let r = sqlx::query!(
        r#"select id, kind, name, config, secrets, previous_secrets,
                  previous_until > now() as "previous_valid?", disabled_at, disabled_reason
           from alert_channels where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("channel {id}")))?;
    let opened = match &r.secrets {
        Some(s) => secrets.open_json(s)?,
        None => EndpointSecrets::default(),
    };
    let previous = match (&r.previous_secrets, r.previous_valid) {
        (Some(p), Some(true)) => secrets.open_json(p).ok(),
        _ => None,
    };
    Ok(ChannelTarget {
        id: r.id,
        kind: ChannelKind::parse(&r.kind).unwrap_or(ChannelKind::Webhook),
        name: r.name,
        config: r.config,
        secrets: opened,
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

/// Deletes a channel (its pending deliveries go with it). The name, for the audit.
pub async fn delete_channel(tx: &mut PgConnection, id: i64) -> AppResult<String> {
    sqlx::query_scalar!(
        "delete from alert_channels where id = $1 returning name",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("channel {id}")))
}

/// A new signing secret; the old one keeps signing for a day, so receivers
/// can switch without losing a message. Webhook channels only.
pub async fn rotate_channel_secret(
    tx: &mut PgConnection,
    secrets: &SecretBox,
    id: i64,
) -> AppResult<String> {
    let target = channel_target(&mut *tx, secrets, id).await?;
    if target.kind != ChannelKind::Webhook {
        return Err(AppError::BadRequest(
            "only webhook channels have a signing secret".into(),
        ));
    }
    let signing = new_signing_secret();
    let fresh = EndpointSecrets {
        signing: Some(signing.clone()),
        ..target.secrets.clone()
    };
    sqlx::query!(
        "update alert_channels set previous_secrets = secrets, secrets = $2,
                previous_until = now() + make_interval(hours => $3)
         where id = $1",
        id,
        secrets.seal_json(&fresh)?,
        ROTATION_OVERLAP_HOURS as i32
    )
    .execute(&mut *tx)
    .await?;
    Ok(signing)
}

/// Turns a channel on or off (410 Gone turns it off by itself).
pub async fn set_channel_disabled(
    db: impl PgExecutor<'_>,
    id: i64,
    reason: Option<&str>,
) -> AppResult<String> {
    sqlx::query_scalar!(
        "update alert_channels
         set disabled_at = case when $2::text is null then null else coalesce(disabled_at, now()) end,
             disabled_reason = $2
         where id = $1 returning name",
        id,
        reason
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("channel {id}")))
}

/// Which of these channel ids exist.
pub async fn existing_channels(db: impl PgExecutor<'_>, ids: &[i64]) -> AppResult<Vec<i64>> {
    Ok(
        sqlx::query_scalar!("select id from alert_channels where id = any($1)", ids)
            .fetch_all(db)
            .await?,
    )
}
