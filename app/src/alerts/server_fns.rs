//! Server functions of the Alerts page (admin): thin wrappers around
//! [`super::actions`], which validate, audit and say what is shown once.
//! The dashboard's dead-letter count is for everyone signed in.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::types::{ChannelInfo, ChannelSpec, DeadLetter, RuleInfo, RuleSpec, SubscriptionInfo};
use crate::error::AppError;
use crate::events::Level;

/// Everything the Alerts page shows, in one read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsOverview {
    pub rules: Vec<RuleInfo>,
    pub channels: Vec<ChannelInfo>,
    pub subscriptions: Vec<SubscriptionInfo>,
    /// The newest [`DEAD_LETTERS_SHOWN`] dead letters.
    pub dead_letters: Vec<DeadLetter>,
    /// All dead letters, also those not in the list.
    pub dead_total: i64,
    /// Deliveries waiting for their next attempt.
    pub pending: i64,
    /// Service slugs, for the forms' choices.
    pub services: Vec<String>,
}

/// How many dead letters the page lists.
pub const DEAD_LETTERS_SHOWN: i64 = 100;

/// A new channel or subscription: its id and the signing secret, which is
/// in this answer and nowhere else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedEndpoint {
    pub id: i64,
    pub secret: Option<String>,
}

/// A new event subscription as the form sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SubscriptionForm {
    pub name: String,
    pub url: String,
    /// Only this service's events; None: every service.
    pub service: Option<String>,
    /// Only events at this level or above; None: all.
    pub min_level: Option<Level>,
    /// Only events whose type starts with this.
    pub kind_prefix: Option<String>,
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::alerts::actions::{self, Who};
    pub use crate::auth::Role;
    pub use crate::auth::guard::{actor, auth, require};
    pub use crate::error::AppError;
    pub use crate::state::AppState;

    /// The admin asking, as the actions want them: `(actor, ip)`.
    pub fn admin() -> Result<(String, Option<std::net::IpAddr>), AppError> {
        let user = require(Role::Admin)?;
        Ok((actor(&user), auth().ip))
    }

    pub fn who((actor, ip): &(String, Option<std::net::IpAddr>)) -> Who<'_> {
        Who { actor, ip: *ip }
    }

    pub fn delivery_id(id: &str) -> Result<uuid::Uuid, AppError> {
        id.trim()
            .parse()
            .map_err(|_| AppError::validation("id", "not a delivery id"))
    }

    /// The base URL for links in notices, as the request came in.
    pub fn base_url(state: &AppState) -> String {
        let headers = leptos::prelude::use_context::<axum::http::request::Parts>()
            .map(|p| p.headers)
            .unwrap_or_default();
        state.base_url(&headers, auth().secure)
    }
}
#[cfg(feature = "ssr")]
use ssr::*;

/// Rules, channels, subscriptions and dead letters.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_alerts_overview() -> Result<AlertsOverview, AppError> {
    crate::error::with_status(
        async {
            require(Role::Admin)?;
            let state = AppState::from_context()?;
            let pool = &state.pool;
            let counts = crate::alerts::store::delivery_counts(pool).await?;
            Ok(AlertsOverview {
                rules: crate::alerts::store::list_rules(pool).await?,
                channels: crate::alerts::store::list_channels(pool).await?,
                subscriptions: crate::alerts::store::list_subscriptions(pool).await?,
                dead_letters: crate::alerts::store::dead_letters(pool, DEAD_LETTERS_SHOWN).await?,
                dead_total: counts.dead,
                pending: counts.pending,
                services: crate::services::store::list(pool)
                    .await?
                    .into_iter()
                    .map(|s| s.slug)
                    .collect(),
            })
        }
        .await,
    )
}

/// Dead letters in the status document, for the dashboard.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn dead_letter_count() -> Result<i64, AppError> {
    crate::error::with_status(
        async {
            require(Role::Viewer)?;
            let state = AppState::from_context()?;
            let doc =
                crate::probes::status::current(&state.pool, &state.status_cache, state.started_at)
                    .await?;
            Ok(doc.leitstand.dead_letters)
        }
        .await,
    )
}

/// Adds a channel; a webhook's signing secret is returned this once.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn create_alert_channel(spec: ChannelSpec) -> Result<CreatedEndpoint, AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            let c = actions::create_channel(&state.pool, &state.secrets, who(&who_), spec).await?;
            Ok(CreatedEndpoint {
                id: c.id,
                secret: c.secret,
            })
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn delete_alert_channel(id: i64) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            actions::delete_channel(&state.pool, who(&who_), id).await
        }
        .await,
    )
}

/// A new signing secret for a webhook channel (returned once); the old one
/// keeps signing for a day.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn rotate_alert_channel_secret(id: i64) -> Result<String, AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            actions::rotate_channel_secret(&state.pool, &state.secrets, who(&who_), id).await
        }
        .await,
    )
}

/// Turns a channel on (also after a 410 Gone turned it off) or off.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn set_alert_channel_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            actions::set_channel_enabled(&state.pool, who(&who_), id, enabled).await?;
            Ok(())
        }
        .await,
    )
}

/// Queues a test message through the real delivery path; returns the
/// delivery's id.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn send_alert_test(id: i64) -> Result<String, AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            let base = base_url(&state);
            let delay = state.alerting.dispatch().first_delay;
            let delivery = actions::send_test(
                &state.pool,
                who(&who_),
                id,
                &base,
                delay,
                state.alerting.language,
            )
            .await?;
            Ok(delivery.to_string())
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn create_alert_rule(spec: RuleSpec) -> Result<i64, AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            actions::create_rule(&state.pool, who(&who_), spec).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn set_alert_rule_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            actions::set_rule_enabled(&state.pool, who(&who_), id, enabled).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn delete_alert_rule(id: i64) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            actions::delete_rule(&state.pool, who(&who_), id).await
        }
        .await,
    )
}

/// Adds an event subscription; its signing secret is returned this once.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn create_event_subscription(
    form: SubscriptionForm,
) -> Result<CreatedEndpoint, AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            let spec = crate::alerts::store::SubscriptionSpec {
                name: form.name,
                url: form.url,
                service: form.service.filter(|s| !s.trim().is_empty()),
                min_level: form.min_level,
                kind_prefix: form.kind_prefix.filter(|p| !p.is_empty()),
            };
            let c =
                actions::create_subscription(&state.pool, &state.secrets, who(&who_), spec).await?;
            Ok(CreatedEndpoint {
                id: c.id,
                secret: c.secret,
            })
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn delete_event_subscription(id: i64) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            actions::delete_subscription(&state.pool, who(&who_), id).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn rotate_event_subscription_secret(id: i64) -> Result<String, AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            actions::rotate_subscription_secret(&state.pool, &state.secrets, who(&who_), id).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn set_event_subscription_enabled(id: i64, enabled: bool) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let state = AppState::from_context()?;
            actions::set_subscription_enabled(&state.pool, who(&who_), id, enabled).await?;
            Ok(())
        }
        .await,
    )
}

/// Re-queues one dead letter (`id`), or all of them; returns how many.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn replay_dead_letters(id: Option<String>) -> Result<u64, AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let id = id.as_deref().map(delivery_id).transpose()?;
            let state = AppState::from_context()?;
            actions::replay(&state.pool, who(&who_), id).await
        }
        .await,
    )
}

/// Discards one dead letter (404 when it is not one); returns how many went.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn discard_dead_letter(id: String) -> Result<usize, AppError> {
    crate::error::with_status(
        async {
            let who_ = admin()?;
            let id = delivery_id(&id)?;
            let state = AppState::from_context()?;
            Ok(actions::discard(&state.pool, who(&who_), Some(id), None)
                .await?
                .len())
        }
        .await,
    )
}
