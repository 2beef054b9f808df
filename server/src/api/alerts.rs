//! Alerts, event subscriptions, dead letters and retention over REST
//! (scope `admin` for everything; reads too, since channels and
//! subscriptions name internal endpoints).
//!
//! - `GET|POST /api/v1/alert-channels`, `GET|DELETE /api/v1/alert-channels/{id}`,
//!   `POST /api/v1/alert-channels/{id}/test|rotate-secret|enable|disable`
//! - `GET|POST /api/v1/alert-rules`, `GET|PUT|DELETE /api/v1/alert-rules/{id}`,
//!   `POST /api/v1/alert-rules/{id}/enable|disable`
//! - `GET|POST /api/v1/event-subscriptions`, `DELETE /api/v1/event-subscriptions/{id}`,
//!   `POST /api/v1/event-subscriptions/{id}/rotate-secret|enable|disable`
//! - `GET /api/v1/dead-letters`, `POST /api/v1/dead-letters/replay` (all),
//!   `POST /api/v1/dead-letters/{id}/replay`, `DELETE /api/v1/dead-letters/{id}`,
//!   `GET /api/v1/deliveries/{id}` (any state, with its attempts)
//! - `GET|PUT /api/v1/retention`, `POST /api/v1/retention/run[?dry_run=true]`

use super::error::Path;
use app::alerts::actions::{self, Created, Who};
use app::alerts::store::{self, SubscriptionSpec};
use app::alerts::{ChannelInfo, ChannelSpec, DeadLetter, RuleInfo, RuleSpec, SubscriptionInfo};
use app::error::AppError;
use app::keys::Scope;
use app::retention::{Policy, Report};
use app::state::AppState;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::auth::ApiKey;
use super::error::{ApiResult, parse_json, read_limited};

const MAX_JSON: usize = 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, delete_channel))
        .routes(routes!(test_channel))
        .routes(routes!(rotate_channel))
        .routes(routes!(enable_channel))
        .routes(routes!(disable_channel))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, update_rule, delete_rule))
        .routes(routes!(enable_rule))
        .routes(routes!(disable_rule))
        .routes(routes!(list_subscriptions, create_subscription))
        .routes(routes!(delete_subscription))
        .routes(routes!(rotate_subscription))
        .routes(routes!(enable_subscription))
        .routes(routes!(disable_subscription))
        .routes(routes!(list_dead_letters))
        .routes(routes!(replay_all))
        .routes(routes!(replay_one))
        .routes(routes!(discard_one))
        .routes(routes!(get_delivery))
        .routes(routes!(get_retention, put_retention))
        .routes(routes!(run_retention))
}

/// A created channel or subscription.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({ "id": 3, "secret": "whsec_MfKQ9r0k1y2n3x4Q5t6Y7u8I9o0P1a2S" }))]
pub struct CreatedWithSecret {
    pub id: i64,
    /// Webhooks only: the signing secret (Standard Webhooks), shown this once.
    pub secret: Option<String>,
}

/// A new signing secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RotatedSecret {
    pub id: i64,
    /// The new secret, shown this once; the old one stays valid for 24 h.
    pub secret: String,
}

/// A test notice on its way.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestQueued {
    /// The delivery's id.
    pub delivery: Uuid,
    /// Where to follow it.
    pub status_url: String,
}

/// How many dead letters went back into the queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Replayed {
    pub replayed: u64,
}

/// A delivery in any state, with its attempts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    #[serde(flatten)]
    pub delivery: DeadLetter,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
}

/// The key as an actor, with the client's address.
fn who<'a>(actor: &'a str, auth: &app::auth::guard::Auth) -> Who<'a> {
    Who { actor, ip: auth.ip }
}

fn actor(key: &ApiKey) -> String {
    format!("key:{}", key.0.prefix)
}

/// Admin keys only, and never one bound to a service (these span all).
fn admin(key: &ApiKey) -> ApiResult<()> {
    key.require(Scope::Admin)?;
    if key.0.service.is_some() {
        return Err(AppError::Forbidden(
            "a key bound to a service cannot manage alerts, which span every service".into(),
        )
        .into());
    }
    Ok(())
}

fn uuid(id: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| AppError::NotFound(format!("dead letter {id}")).into())
}

fn created(c: Created) -> Response {
    (
        StatusCode::CREATED,
        Json(CreatedWithSecret {
            id: c.id,
            secret: c.secret,
        }),
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/alert-channels",
    tag = "Alerts",
    operation_id = "list_alert_channels",
    summary = "List alert channels",
    description = "Secrets are never shown. Refused to keys bound to a service.",
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The channels.", body = Vec<ChannelInfo>),
    )
)]
async fn list_channels(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<Json<Vec<ChannelInfo>>> {
    admin(&key)?;
    Ok(Json(store::list_channels(&state.pool).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/alert-channels/{id}",
    tag = "Alerts",
    operation_id = "get_alert_channel",
    summary = "One alert channel",
    description = "Refused to keys bound to a service.",
    params(("id" = i64, Path, description = "The channel's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The channel.", body = ChannelInfo),
        (status = 404, description = "No such channel.", body = super::openapi::ErrorBody),
    )
)]
async fn get_channel(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<ChannelInfo>> {
    admin(&key)?;
    Ok(Json(store::get_channel(&state.pool, id).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/alert-channels",
    tag = "Alerts",
    operation_id = "create_alert_channel",
    summary = "Add an alert channel (email, webhook, Slack)",
    description = "`kind` `webhook` and `slack` need `url` (webhooks may add `headers`); `email` needs `host`, `from` and `to` (and `port`, `tls`, `username`, `password` as the server needs). Webhook destinations must not be private addresses unless allowed by `--outbound-allow`. Audited.",
    request_body(content = ChannelSpec, content_type = "application/json", example = json!({ "kind": "webhook", "name": "Ops webhook", "url": "https://hooks.example.com/leitstand" })),
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The new channel's id and, for webhooks, its signing secret (shown once).", body = CreatedWithSecret),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it.", body = super::openapi::ErrorBody),
    )
)]
async fn create_channel(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    body: Body,
) -> ApiResult<Response> {
    admin(&key)?;
    let spec: ChannelSpec = parse_json(&read_limited(body, MAX_JSON).await?)?;
    let actor = actor(&key);
    let c = actions::create_channel(&state.pool, &state.secrets, who(&actor, &auth), spec).await?;
    Ok(created(c))
}

#[utoipa::path(
    delete,
    path = "/api/v1/alert-channels/{id}",
    tag = "Alerts",
    operation_id = "delete_alert_channel",
    summary = "Delete an alert channel",
    description = "Audited.",
    params(("id" = i64, Path, description = "The channel's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 204, description = "The channel is gone."),
        (status = 404, description = "No such channel.", body = super::openapi::ErrorBody),
    )
)]
async fn delete_channel(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    admin(&key)?;
    let actor = actor(&key);
    actions::delete_channel(&state.pool, who(&actor, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/alert-channels/{id}/test",
    tag = "Alerts",
    operation_id = "test_alert_channel",
    summary = "Send a test notice",
    description = "Queues a test notice through the channel; follow it at `status_url`. Audited.",
    params(("id" = i64, Path, description = "The channel's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 202, description = "Queued.", body = TestQueued, example = json!({ "delivery": "0193a5f0-7c1e-7d2a-9b1e-3f4a5b6c7d8e", "status_url": "/api/v1/deliveries/0193a5f0-7c1e-7d2a-9b1e-3f4a5b6c7d8e" })),
        (status = 404, description = "No such channel.", body = super::openapi::ErrorBody),
    )
)]
async fn test_channel(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    admin(&key)?;
    let actor = actor(&key);
    let base = state.base_url(&headers, auth.secure);
    let delivery = actions::send_test(
        &state.pool,
        who(&actor, &auth),
        id,
        &base,
        state.alerting.dispatch().first_delay,
        state.alerting.language,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TestQueued {
            delivery,
            status_url: format!("/api/v1/deliveries/{delivery}"),
        }),
    )
        .into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/alert-channels/{id}/rotate-secret",
    tag = "Alerts",
    operation_id = "rotate_alert_channel_secret",
    summary = "Give a webhook channel a new signing secret",
    description = "The old secret stays valid for 24 hours, so receivers can switch. Audited.",
    params(("id" = i64, Path, description = "The channel's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The new secret (shown once).", body = RotatedSecret),
        (status = 404, description = "No such channel.", body = super::openapi::ErrorBody),
        (status = 422, description = "The channel has no signing secret (not a webhook).", body = super::openapi::ErrorBody),
    )
)]
async fn rotate_channel(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RotatedSecret>> {
    admin(&key)?;
    let actor = actor(&key);
    let secret =
        actions::rotate_channel_secret(&state.pool, &state.secrets, who(&actor, &auth), id).await?;
    Ok(Json(RotatedSecret { id, secret }))
}

#[utoipa::path(
    post,
    path = "/api/v1/alert-channels/{id}/enable",
    tag = "Alerts",
    operation_id = "enable_alert_channel",
    summary = "Enable an alert channel",
    description = "Audited.",
    params(("id" = i64, Path, description = "The channel's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The channel as it is now.", body = ChannelInfo),
        (status = 404, description = "No such channel.", body = super::openapi::ErrorBody),
    )
)]
async fn enable_channel(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ChannelInfo>> {
    admin(&key)?;
    let actor = actor(&key);
    Ok(Json(
        actions::set_channel_enabled(&state.pool, who(&actor, &auth), id, true).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/alert-channels/{id}/disable",
    tag = "Alerts",
    operation_id = "disable_alert_channel",
    summary = "Disable an alert channel",
    description = "Audited.",
    params(("id" = i64, Path, description = "The channel's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The channel as it is now.", body = ChannelInfo),
        (status = 404, description = "No such channel.", body = super::openapi::ErrorBody),
    )
)]
async fn disable_channel(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ChannelInfo>> {
    admin(&key)?;
    let actor = actor(&key);
    Ok(Json(
        actions::set_channel_enabled(&state.pool, who(&actor, &auth), id, false).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/alert-rules",
    tag = "Alerts",
    operation_id = "list_alert_rules",
    summary = "List alert rules",
    description = "With what each is firing for now. Refused to keys bound to a service.",
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The rules.", body = Vec<RuleInfo>),
    )
)]
async fn list_rules(State(state): State<AppState>, key: ApiKey) -> ApiResult<Json<Vec<RuleInfo>>> {
    admin(&key)?;
    Ok(Json(store::list_rules(&state.pool).await?))
}

async fn rule(state: &AppState, id: i64) -> ApiResult<RuleInfo> {
    store::list_rules(&state.pool)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| AppError::NotFound(format!("rule {id}")).into())
}

#[utoipa::path(
    get,
    path = "/api/v1/alert-rules/{id}",
    tag = "Alerts",
    operation_id = "get_alert_rule",
    summary = "One alert rule",
    description = "Refused to keys bound to a service.",
    params(("id" = i64, Path, description = "The rule's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The rule.", body = RuleInfo),
        (status = 404, description = "No such rule.", body = super::openapi::ErrorBody),
    )
)]
async fn get_rule(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<RuleInfo>> {
    admin(&key)?;
    Ok(Json(rule(&state, id).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/alert-rules",
    tag = "Alerts",
    operation_id = "create_alert_rule",
    summary = "Add an alert rule",
    description = "At least one channel. `error_rate` takes `threshold` (percent, default 5), `window_seconds` (default 300) and `min_events` (default 20); `slo_burn` takes `threshold` (burn-rate factor, default 14.4); the other kinds fire on their event and take none. Without `service` a rule covers every service. Audited.",
    request_body(content = RuleSpec, content_type = "application/json", example = json!({ "name": "Checkout errors", "kind": "error_rate", "service": "shop", "channels": [3], "threshold": 5.0, "window_seconds": 900, "min_events": 20 })),
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The new rule.", body = RuleInfo),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it.", body = super::openapi::ErrorBody),
    )
)]
async fn create_rule(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    body: Body,
) -> ApiResult<Response> {
    admin(&key)?;
    let spec: RuleSpec = parse_json(&read_limited(body, MAX_JSON).await?)?;
    let actor = actor(&key);
    let id = actions::create_rule(&state.pool, who(&actor, &auth), spec).await?;
    Ok((StatusCode::CREATED, Json(rule(&state, id).await?)).into_response())
}

#[utoipa::path(
    put,
    path = "/api/v1/alert-rules/{id}",
    tag = "Alerts",
    operation_id = "update_alert_rule",
    summary = "Replace an alert rule",
    description = "The whole rule, as for creating one. Audited.",
    params(("id" = i64, Path, description = "The rule's id.")),
    request_body(content = RuleSpec, content_type = "application/json"),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The rule as it is now.", body = RuleInfo),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 404, description = "No such rule.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it.", body = super::openapi::ErrorBody),
    )
)]
async fn update_rule(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
    body: Body,
) -> ApiResult<Json<RuleInfo>> {
    admin(&key)?;
    let spec: RuleSpec = parse_json(&read_limited(body, MAX_JSON).await?)?;
    let actor = actor(&key);
    actions::update_rule(&state.pool, who(&actor, &auth), id, spec).await?;
    Ok(Json(rule(&state, id).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/alert-rules/{id}",
    tag = "Alerts",
    operation_id = "delete_alert_rule",
    summary = "Delete an alert rule",
    description = "Audited.",
    params(("id" = i64, Path, description = "The rule's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 204, description = "The rule is gone."),
        (status = 404, description = "No such rule.", body = super::openapi::ErrorBody),
    )
)]
async fn delete_rule(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    admin(&key)?;
    let actor = actor(&key);
    actions::delete_rule(&state.pool, who(&actor, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/alert-rules/{id}/enable",
    tag = "Alerts",
    operation_id = "enable_alert_rule",
    summary = "Enable an alert rule",
    description = "Audited.",
    params(("id" = i64, Path, description = "The rule's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The rule as it is now.", body = RuleInfo),
        (status = 404, description = "No such rule.", body = super::openapi::ErrorBody),
    )
)]
async fn enable_rule(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RuleInfo>> {
    admin(&key)?;
    let actor = actor(&key);
    actions::set_rule_enabled(&state.pool, who(&actor, &auth), id, true).await?;
    Ok(Json(rule(&state, id).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/alert-rules/{id}/disable",
    tag = "Alerts",
    operation_id = "disable_alert_rule",
    summary = "Disable an alert rule",
    description = "Audited.",
    params(("id" = i64, Path, description = "The rule's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The rule as it is now.", body = RuleInfo),
        (status = 404, description = "No such rule.", body = super::openapi::ErrorBody),
    )
)]
async fn disable_rule(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RuleInfo>> {
    admin(&key)?;
    let actor = actor(&key);
    actions::set_rule_enabled(&state.pool, who(&actor, &auth), id, false).await?;
    Ok(Json(rule(&state, id).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/event-subscriptions",
    tag = "Alerts",
    operation_id = "list_event_subscriptions",
    summary = "List event subscriptions",
    description = "Refused to keys bound to a service.",
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The subscriptions.", body = Vec<SubscriptionInfo>),
    )
)]
async fn list_subscriptions(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<Json<Vec<SubscriptionInfo>>> {
    admin(&key)?;
    Ok(Json(store::list_subscriptions(&state.pool).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/event-subscriptions",
    tag = "Alerts",
    operation_id = "create_event_subscription",
    summary = "Subscribe a webhook to events",
    description = "Matching events are posted in batches, signed (Standard Webhooks). Audited.",
    request_body(content = SubscriptionSpec, content_type = "application/json", example = json!({ "name": "Data warehouse", "url": "https://ingest.example.com/leitstand", "service": "shop", "min_level": "warning", "kind_prefix": "voucher." })),
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The new subscription's id and signing secret (shown once).", body = CreatedWithSecret),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it.", body = super::openapi::ErrorBody),
    )
)]
async fn create_subscription(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    body: Body,
) -> ApiResult<Response> {
    admin(&key)?;
    let spec: SubscriptionSpec = parse_json(&read_limited(body, MAX_JSON).await?)?;
    let actor = actor(&key);
    let c =
        actions::create_subscription(&state.pool, &state.secrets, who(&actor, &auth), spec).await?;
    Ok(created(c))
}

#[utoipa::path(
    delete,
    path = "/api/v1/event-subscriptions/{id}",
    tag = "Alerts",
    operation_id = "delete_event_subscription",
    summary = "Delete an event subscription",
    description = "Audited.",
    params(("id" = i64, Path, description = "The subscription's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 204, description = "The subscription is gone."),
        (status = 404, description = "No such subscription.", body = super::openapi::ErrorBody),
    )
)]
async fn delete_subscription(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    admin(&key)?;
    let actor = actor(&key);
    actions::delete_subscription(&state.pool, who(&actor, &auth), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/event-subscriptions/{id}/rotate-secret",
    tag = "Alerts",
    operation_id = "rotate_event_subscription_secret",
    summary = "Give a subscription a new signing secret",
    description = "The old secret stays valid for 24 hours. Audited.",
    params(("id" = i64, Path, description = "The subscription's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The new secret (shown once).", body = RotatedSecret),
        (status = 404, description = "No such subscription.", body = super::openapi::ErrorBody),
    )
)]
async fn rotate_subscription(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RotatedSecret>> {
    admin(&key)?;
    let actor = actor(&key);
    let secret =
        actions::rotate_subscription_secret(&state.pool, &state.secrets, who(&actor, &auth), id)
            .await?;
    Ok(Json(RotatedSecret { id, secret }))
}

#[utoipa::path(
    post,
    path = "/api/v1/event-subscriptions/{id}/enable",
    tag = "Alerts",
    operation_id = "enable_event_subscription",
    summary = "Enable an event subscription",
    description = "Audited.",
    params(("id" = i64, Path, description = "The subscription's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The subscription as it is now.", body = SubscriptionInfo),
        (status = 404, description = "No such subscription.", body = super::openapi::ErrorBody),
    )
)]
async fn enable_subscription(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<SubscriptionInfo>> {
    admin(&key)?;
    let actor = actor(&key);
    Ok(Json(
        actions::set_subscription_enabled(&state.pool, who(&actor, &auth), id, true).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/event-subscriptions/{id}/disable",
    tag = "Alerts",
    operation_id = "disable_event_subscription",
    summary = "Disable an event subscription",
    description = "Audited.",
    params(("id" = i64, Path, description = "The subscription's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The subscription as it is now.", body = SubscriptionInfo),
        (status = 404, description = "No such subscription.", body = super::openapi::ErrorBody),
    )
)]
async fn disable_subscription(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<SubscriptionInfo>> {
    admin(&key)?;
    let actor = actor(&key);
    Ok(Json(
        actions::set_subscription_enabled(&state.pool, who(&actor, &auth), id, false).await?,
    ))
}

/// `?limit=` (default 100, at most 1000).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// How many, newest first (default 100, 1 to 1000).
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/dead-letters",
    tag = "Alerts",
    operation_id = "list_dead_letters",
    summary = "List dead letters",
    description = "Deliveries that failed every attempt, newest first, with their attempts.",
    params(ListQuery),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The dead letters.", body = Vec<DeadLetter>),
        (status = 422, description = "`limit` is not a number, or an unknown parameter.", body = super::openapi::ErrorBody),
    )
)]
async fn list_dead_letters(
    State(state): State<AppState>,
    key: ApiKey,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<DeadLetter>>> {
    admin(&key)?;
    let q = super::error::query(q)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(store::dead_letters(&state.pool, limit).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/dead-letters/replay",
    tag = "Alerts",
    operation_id = "replay_dead_letters",
    summary = "Replay every dead letter",
    description = "Puts them back into the queue. Audited.",
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "How many were queued again.", body = Replayed, example = json!({ "replayed": 4 })),
    )
)]
async fn replay_all(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
) -> ApiResult<Json<Replayed>> {
    admin(&key)?;
    let actor = actor(&key);
    let n = actions::replay(&state.pool, who(&actor, &auth), None).await?;
    Ok(Json(Replayed { replayed: n }))
}

#[utoipa::path(
    post,
    path = "/api/v1/dead-letters/{id}/replay",
    tag = "Alerts",
    operation_id = "replay_dead_letter",
    summary = "Replay one dead letter",
    description = "Audited.",
    params(("id" = String, Path, description = "The dead letter's id (a UUID).")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "Queued again (`replayed` 0 when it was no dead letter).", body = Replayed),
        (status = 404, description = "No such dead letter.", body = super::openapi::ErrorBody),
    )
)]
async fn replay_one(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<Replayed>> {
    admin(&key)?;
    let id = uuid(&id)?;
    let actor = actor(&key);
    let n = actions::replay(&state.pool, who(&actor, &auth), Some(id)).await?;
    Ok(Json(Replayed { replayed: n }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/dead-letters/{id}",
    tag = "Alerts",
    operation_id = "discard_dead_letter",
    summary = "Discard one dead letter",
    description = "Audited.",
    params(("id" = String, Path, description = "The dead letter's id (a UUID).")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 204, description = "Discarded."),
        (status = 404, description = "No such dead letter.", body = super::openapi::ErrorBody),
    )
)]
async fn discard_one(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&key)?;
    let id = uuid(&id)?;
    let actor = actor(&key);
    actions::discard(&state.pool, who(&actor, &auth), Some(id), None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/deliveries/{id}",
    tag = "Alerts",
    operation_id = "get_delivery",
    summary = "One delivery, in any state",
    description = "With its attempts, e.g. to follow a test notice.",
    params(("id" = String, Path, description = "The delivery's id (a UUID).")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The delivery.", body = DeliveryView),
        (status = 404, description = "No such delivery.", body = super::openapi::ErrorBody),
    )
)]
async fn get_delivery(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryView>> {
    admin(&key)?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound(format!("delivery {id}")))?;
    let (status, delivery) = store::delivery(&state.pool, id).await?;
    Ok(Json(DeliveryView { delivery, status }))
}

#[utoipa::path(
    get,
    path = "/api/v1/retention",
    tag = "Retention",
    operation_id = "get_retention",
    summary = "The retention policy",
    description = "Days each class of data is kept.",
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The policy.", body = Policy, example = json!({ "events_days": 90, "probe_results_days": 90, "deliveries_days": 30, "audit_days": 365 })),
    )
)]
async fn get_retention(State(state): State<AppState>, key: ApiKey) -> ApiResult<Json<Policy>> {
    admin(&key)?;
    Ok(Json(
        app::retention::store::policy(&state.pool, state.alerting.retention).await?,
    ))
}

#[utoipa::path(
    put,
    path = "/api/v1/retention",
    tag = "Retention",
    operation_id = "set_retention",
    summary = "Change the retention policy",
    description = "1 to 3650 days each (the audit log at least 7). KPIs read rollups, which are kept. Audited.",
    request_body(content = Policy, content_type = "application/json", example = json!({ "events_days": 180, "probe_results_days": 90, "deliveries_days": 30, "audit_days": 365 })),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The policy as it is now.", body = Policy),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it.", body = super::openapi::ErrorBody),
    )
)]
async fn put_retention(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    body: Body,
) -> ApiResult<Json<Policy>> {
    admin(&key)?;
    let policy: Policy = parse_json(&read_limited(body, MAX_JSON).await?)?;
    let actor = actor(&key);
    app::retention::store::change_policy(&state.pool, &policy, &actor, auth.ip).await?;
    Ok(Json(policy))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RunQuery {
    /// Only count what would be removed.
    #[serde(default)]
    dry_run: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/retention/run",
    tag = "Retention",
    operation_id = "run_retention",
    summary = "Run retention now",
    description = "Removes what is older than the policy (whole monthly partitions where possible). One run at a time. Audited.",
    params(RunQuery),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "What was removed (or, dry, would be).", body = Report),
        (status = 409, description = "A run is already going.", body = super::openapi::ErrorBody),
        (status = 422, description = "`dry_run` is not true or false, or an unknown parameter.", body = super::openapi::ErrorBody),
    )
)]
async fn run_retention(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    q: Result<Query<RunQuery>, QueryRejection>,
) -> ApiResult<Json<Report>> {
    admin(&key)?;
    let q = super::error::query(q)?;
    let actor = actor(&key);
    Ok(Json(
        app::retention::store::run_audited(
            &state.pool,
            state.alerting.retention,
            q.dry_run,
            &actor,
            auth.ip,
        )
        .await?,
    ))
}
