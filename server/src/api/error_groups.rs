//! Error groups over REST.
//!
//! - `GET /api/v1/error-groups?service=&status=open|resolved|ignored|all&release=&environment=&q=&sort=last_seen|events|users&cursor=`
//!   (scope `read`): a JSON array, newest first; `X-Next-Cursor` names the
//!   next page when there is one. Without `status`, every status.
//! - `GET /api/v1/error-groups/{id}` (scope `read`): the group with its
//!   latest event's exception chain, breadcrumbs, request, tags, contexts.
//! - `PATCH /api/v1/error-groups/{id}` `{"status": "resolved" | "ignored" |
//!   "open" | "resolved_in_next_release"}` (scope `errors` or `admin`).

use std::collections::BTreeMap;

use super::error::Path;
use app::error::AppError;
use app::error_groups::{GroupAction, GroupQuery, GroupSort, GroupStatus, GroupSummary};
use app::keys::Scope;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiKey;
use super::error::{ApiResult, parse_json, read_limited};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list))
        .routes(routes!(one, change))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only this service (a slug). A key bound to a service gets its own.
    service: Option<String>,
    /// `open`, `resolved`, `ignored` or `all` (default).
    status: Option<String>,
    /// Only groups seen in this release.
    release: Option<String>,
    /// Only groups seen in this environment.
    environment: Option<String>,
    /// Text in the title, message or culprit.
    q: Option<String>,
    /// `last_seen` (default), `events` or `users`.
    sort: Option<String>,
    /// The `X-Next-Cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of error groups.
#[utoipa::path(
    get,
    path = "/api/v1/error-groups",
    tag = "Error groups",
    operation_id = "list_error_groups",
    summary = "List error groups",
    description = "A page of groups in the chosen order; the `X-Next-Cursor` header names the next page when there is one.",
    params(ListParams),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The groups.", body = Vec<GroupSummary>,
            headers(("X-Next-Cursor" = String, description = "Pass as `cursor` for the next page; absent on the last page.")),
            example = json!([{
                "id": 7, "service": "shop", "title": "ValueError: voucher expired", "culprit": "checkout.redeem",
                "type": "ValueError", "message": "voucher expired", "feature": "checkout", "events": 42, "users": 9,
                "first_seen": "2026-11-20T08:01:12Z", "last_seen": "2026-11-22T10:14:55Z", "status": "open",
                "level": "error", "first_release": "1.4.0", "last_release": "1.4.2",
                "resolve_after_release": null, "environments": ["production"],
                "spark_24h": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 2],
                "spark_30d": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 24, 6]
            }])),
        (status = 422, description = "An unknown parameter or value.", body = super::openapi::ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    key: ApiKey,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    key.require(Scope::Read)?;
    let Query(p) = params.map_err(|e| AppError::validation("query", e.body_text()))?;
    let status = match p.status.as_deref().map(str::trim) {
        None | Some("") | Some("all") => None,
        Some(s) => Some(GroupStatus::parse(s).ok_or_else(|| {
            AppError::validation(
                "status",
                format!("`{s}` is not one of open, resolved, ignored, all"),
            )
        })?),
    };
    let sort = match p.sort.as_deref().map(str::trim) {
        None | Some("") => GroupSort::default(),
        Some(s) => GroupSort::parse(s).ok_or_else(|| {
            AppError::validation(
                "sort",
                format!("`{s}` is not one of last_seen, events, users"),
            )
        })?,
    };
    let service = key.visible_service(p.service.filter(|s| !s.is_empty()))?;
    let query = GroupQuery {
        service,
        status,
        release: p.release,
        environment: p.environment,
        q: p.q,
        sort,
        cursor: p.cursor,
    };
    let page = app::error_groups::store::list(&state.pool, &query, chrono::Utc::now()).await?;
    let mut response = Json(page.groups).into_response();
    if let Some(next) = page.next
        && let Ok(v) = HeaderValue::from_str(&next)
    {
        response.headers_mut().insert("x-next-cursor", v);
    }
    Ok(response)
}

/// A group with what its latest event's Sentry payload holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupDetailView {
    #[serde(flatten)]
    pub group: GroupSummary,
    /// The exception chain, innermost cause first, each exception's frames
    /// oldest call first (Sentry's order).
    pub exception: Vec<app::error_groups::Exception>,
    pub latest_event: Option<app::events::EventView>,
    pub breadcrumbs: Vec<app::error_groups::Breadcrumb>,
    pub request: BTreeMap<String, String>,
    pub user: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// Context name (os, runtime, browser, …) to its values.
    pub contexts: BTreeMap<String, BTreeMap<String, String>>,
    /// `name version` of the SDK, e.g. `sentry.python 2.19.0`.
    pub sdk: Option<String>,
    /// Error events per day, the last 30 days, oldest first: `[date, count]`.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub daily: Vec<(String, i64)>,
}

async fn visible_group(state: &AppState, key: &ApiKey, id: i64) -> ApiResult<()> {
    let slug = app::error_groups::store::service_of(&state.pool, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("error group {id}")))?;
    key.visible_service(Some(slug))?;
    Ok(())
}

/// One group with its latest event's details.
#[utoipa::path(
    get,
    path = "/api/v1/error-groups/{id}",
    tag = "Error groups",
    operation_id = "get_error_group",
    summary = "One error group with its latest event",
    description = "The group, its latest event's exception chain, breadcrumbs, request, user, tags and contexts, and its error events per day.",
    params(("id" = i64, Path, description = "The group's id.")),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The group.", body = GroupDetailView),
        (status = 404, description = "No such group (or not of the key's service).", body = super::openapi::ErrorBody),
    )
)]
async fn one(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<GroupDetailView>> {
    key.require(Scope::Read)?;
    visible_group(&state, &key, id).await?;
    let mut d = app::error_groups::store::detail(&state.pool, id, None, chrono::Utc::now()).await?;
    // Sentry's order: the chain innermost cause first, frames oldest call first.
    let mut exception = std::mem::take(&mut d.detail.exception);
    exception.reverse();
    for e in &mut exception {
        e.frames.reverse();
    }
    Ok(Json(GroupDetailView {
        exception,
        latest_event: d.event,
        breadcrumbs: d.detail.breadcrumbs,
        request: pairs(&d.detail.request),
        user: pairs(&d.detail.user),
        tags: pairs(&d.detail.tags),
        contexts: d
            .detail
            .contexts
            .iter()
            .map(|(name, items)| (name.clone(), pairs(items)))
            .collect(),
        sdk: d.detail.sdk,
        daily: d.daily,
        group: d.group,
    }))
}

fn pairs(items: &[(String, String)]) -> BTreeMap<String, String> {
    items.iter().cloned().collect()
}

/// The new status of a group.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "status": "resolved" }))]
struct Change {
    /// `resolved`, `resolved_in_next_release`, `ignored` or `open`.
    #[schema(example = "resolved")]
    status: String,
}

/// Longest body of a PATCH.
const MAX_JSON: usize = 4 * 1024;

/// Resolves, ignores or reopens a group.
#[utoipa::path(
    patch,
    path = "/api/v1/error-groups/{id}",
    tag = "Error groups",
    operation_id = "change_error_group",
    summary = "Change an error group's status",
    description = "`resolved_in_next_release` resolves the group once an event of a newer release arrives. Audited.",
    params(("id" = i64, Path, description = "The group's id.")),
    request_body(content = Change, content_type = "application/json"),
    security(("api_key" = ["errors"])),
    responses(
        (status = 200, description = "The group as it is now.", body = GroupSummary),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 404, description = "No such group (or not of the key's service).", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 4 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "`status` is not a known value.", body = super::openapi::ErrorBody),
    )
)]
async fn change(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
    body: Body,
) -> ApiResult<Json<GroupSummary>> {
    key.require(Scope::Errors)?;
    let change: Change = parse_json(&read_limited(body, MAX_JSON).await?)?;
    let action = match change.status.trim() {
        "resolved" => GroupAction::Resolve,
        "resolved_in_next_release" => GroupAction::ResolveInNextRelease,
        "ignored" => GroupAction::Ignore,
        "open" | "unresolved" => GroupAction::Reopen,
        other => {
            return Err(AppError::validation(
                "status",
                format!(
                    "`{other}` is not one of resolved, resolved_in_next_release, ignored, open"
                ),
            )
            .into());
        }
    };
    visible_group(&state, &key, id).await?;
    let mut tx = state.pool.begin().await?;
    app::error_groups::store::change(
        &mut tx,
        &[id],
        action,
        &format!("key:{}", key.0.prefix),
        "api",
        auth.ip,
    )
    .await?;
    tx.commit().await?;
    state.status_cache.clear();
    let d = app::error_groups::store::detail(&state.pool, id, None, chrono::Utc::now()).await?;
    Ok(Json(d.group))
}
