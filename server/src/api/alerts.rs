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

use app::alerts::actions::{self, Created, Who};
use app::alerts::store::{self, SubscriptionSpec};
use app::alerts::{ChannelInfo, ChannelSpec, DeadLetter, RuleInfo, RuleSpec, SubscriptionInfo};
use app::error::AppError;
use app::keys::Scope;
use app::retention::{Policy, Report};
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::auth::ApiKey;
use super::error::{ApiResult, parse_json, read_limited};

const MAX_JSON: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/alert-channels",
            get(list_channels).post(create_channel),
        )
        .route(
            "/api/v1/alert-channels/{id}",
            get(get_channel).delete(delete_channel),
        )
        .route("/api/v1/alert-channels/{id}/test", post(test_channel))
        .route(
            "/api/v1/alert-channels/{id}/rotate-secret",
            post(rotate_channel),
        )
        .route("/api/v1/alert-channels/{id}/enable", post(enable_channel))
        .route("/api/v1/alert-channels/{id}/disable", post(disable_channel))
        .route("/api/v1/alert-rules", get(list_rules).post(create_rule))
        .route(
            "/api/v1/alert-rules/{id}",
            get(get_rule).put(update_rule).delete(delete_rule),
        )
        .route("/api/v1/alert-rules/{id}/enable", post(enable_rule))
        .route("/api/v1/alert-rules/{id}/disable", post(disable_rule))
        .route(
            "/api/v1/event-subscriptions",
            get(list_subscriptions).post(create_subscription),
        )
        .route(
            "/api/v1/event-subscriptions/{id}",
            axum::routing::delete(delete_subscription),
        )
        .route(
            "/api/v1/event-subscriptions/{id}/rotate-secret",
            post(rotate_subscription),
        )
        .route(
            "/api/v1/event-subscriptions/{id}/enable",
            post(enable_subscription),
        )
        .route(
            "/api/v1/event-subscriptions/{id}/disable",
            post(disable_subscription),
        )
        .route("/api/v1/dead-letters", get(list_dead_letters))
        .route("/api/v1/dead-letters/replay", post(replay_all))
        .route("/api/v1/dead-letters/{id}/replay", post(replay_one))
        .route(
            "/api/v1/dead-letters/{id}",
            axum::routing::delete(discard_one),
        )
        .route("/api/v1/deliveries/{id}", get(get_delivery))
        .route("/api/v1/retention", get(get_retention).put(put_retention))
        .route("/api/v1/retention/run", post(run_retention))
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

fn created(c: &Created) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({ "id": c.id, "secret": c.secret })),
    )
        .into_response()
}

async fn list_channels(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<Json<Vec<ChannelInfo>>> {
    admin(&key)?;
    Ok(Json(store::list_channels(&state.pool).await?))
}

async fn get_channel(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<ChannelInfo>> {
    admin(&key)?;
    Ok(Json(store::get_channel(&state.pool, id).await?))
}

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
    Ok(created(&c))
}

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
        Json(
            json!({ "delivery": delivery, "status_url": format!("/api/v1/deliveries/{delivery}") }),
        ),
    )
        .into_response())
}

async fn rotate_channel(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    admin(&key)?;
    let actor = actor(&key);
    let secret =
        actions::rotate_channel_secret(&state.pool, &state.secrets, who(&actor, &auth), id).await?;
    Ok(Json(json!({ "id": id, "secret": secret })))
}

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

async fn get_rule(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<RuleInfo>> {
    admin(&key)?;
    Ok(Json(rule(&state, id).await?))
}

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

async fn list_subscriptions(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<Json<Vec<SubscriptionInfo>>> {
    admin(&key)?;
    Ok(Json(store::list_subscriptions(&state.pool).await?))
}

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
    Ok(created(&c))
}

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

async fn rotate_subscription(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    admin(&key)?;
    let actor = actor(&key);
    let secret =
        actions::rotate_subscription_secret(&state.pool, &state.secrets, who(&actor, &auth), id)
            .await?;
    Ok(Json(json!({ "id": id, "secret": secret })))
}

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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list_dead_letters(
    State(state): State<AppState>,
    key: ApiKey,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<DeadLetter>>> {
    admin(&key)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(store::dead_letters(&state.pool, limit).await?))
}

async fn replay_all(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
) -> ApiResult<Json<serde_json::Value>> {
    admin(&key)?;
    let actor = actor(&key);
    let n = actions::replay(&state.pool, who(&actor, &auth), None).await?;
    Ok(Json(json!({ "replayed": n })))
}

async fn replay_one(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    admin(&key)?;
    let id = uuid(&id)?;
    let actor = actor(&key);
    let n = actions::replay(&state.pool, who(&actor, &auth), Some(id)).await?;
    Ok(Json(json!({ "replayed": n })))
}

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

async fn get_delivery(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    admin(&key)?;
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound(format!("delivery {id}")))?;
    let (status, d) = store::delivery(&state.pool, id).await?;
    let mut doc = serde_json::to_value(d).map_err(AppError::internal)?;
    doc["status"] = json!(status);
    Ok(Json(doc))
}

async fn get_retention(State(state): State<AppState>, key: ApiKey) -> ApiResult<Json<Policy>> {
    admin(&key)?;
    Ok(Json(
        app::retention::store::policy(&state.pool, state.alerting.retention).await?,
    ))
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunQuery {
    #[serde(default)]
    dry_run: bool,
}

async fn run_retention(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Query(q): Query<RunQuery>,
) -> ApiResult<Json<Report>> {
    admin(&key)?;
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
