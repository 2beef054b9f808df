//! Error groups over REST.
//!
//! - `GET /api/v1/error-groups?service=&status=open|resolved|ignored|all&release=&environment=&q=&sort=last_seen|events|users&cursor=`
//!   (scope `read`): a JSON array, newest first; `X-Next-Cursor` names the
//!   next page when there is one. Without `status`, every status.
//! - `GET /api/v1/error-groups/{id}` (scope `read`): the group with its
//!   latest event's exception chain, breadcrumbs, request, tags, contexts.
//! - `PATCH /api/v1/error-groups/{id}` `{"status": "resolved" | "ignored" |
//!   "open" | "resolved_in_next_release"}` (scope `errors` or `admin`).

use app::error::AppError;
use app::error_groups::{GroupAction, GroupQuery, GroupSort, GroupStatus, GroupSummary};
use app::keys::Scope;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::ApiKey;
use super::error::{ApiResult, parse_json, read_limited};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/error-groups", get(list))
        .route("/api/v1/error-groups/{id}", get(one).patch(change))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    service: Option<String>,
    status: Option<String>,
    release: Option<String>,
    environment: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

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

/// A group as REST shows it.
fn group_json(g: &GroupSummary) -> Value {
    let mut v = serde_json::to_value(g).unwrap_or(Value::Null);
    // Stable names of the contract besides the summary's own.
    v["status"] = json!(g.status.as_str());
    v
}

async fn visible_group(state: &AppState, key: &ApiKey, id: i64) -> ApiResult<()> {
    let slug = app::error_groups::store::service_of(&state.pool, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("error group {id}")))?;
    key.visible_service(Some(slug))?;
    Ok(())
}

async fn one(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    key.require(Scope::Read)?;
    visible_group(&state, &key, id).await?;
    let d = app::error_groups::store::detail(&state.pool, id, None, chrono::Utc::now()).await?;
    let mut v = group_json(&d.group);
    // Sentry's order: the chain innermost cause first, frames oldest call first.
    let exception: Vec<Value> = d
        .detail
        .exception
        .iter()
        .rev()
        .map(|e| {
            json!({
                "type": e.kind,
                "value": e.value,
                "module": e.module,
                "mechanism": e.mechanism,
                "handled": e.handled,
                "frames": e.frames.iter().rev().map(|f| json!({
                    "function": f.function,
                    "module": f.module,
                    "filename": f.filename,
                    "abs_path": f.abs_path,
                    "lineno": f.lineno,
                    "colno": f.colno,
                    "in_app": f.in_app,
                    "context_line": f.context_line,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    v["exception"] = json!(exception);
    v["latest_event"] = serde_json::to_value(&d.event).unwrap_or(Value::Null);
    v["breadcrumbs"] = serde_json::to_value(&d.detail.breadcrumbs).unwrap_or(Value::Null);
    v["request"] = pairs(&d.detail.request);
    v["user"] = pairs(&d.detail.user);
    v["tags"] = pairs(&d.detail.tags);
    v["contexts"] = Value::Object(
        d.detail
            .contexts
            .iter()
            .map(|(name, items)| (name.clone(), pairs(items)))
            .collect(),
    );
    v["sdk"] = json!(d.detail.sdk);
    v["daily"] = json!(d.daily);
    Ok(Json(v))
}

fn pairs(items: &[(String, String)]) -> Value {
    Value::Object(
        items
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    status: String,
}

/// Longest body of a PATCH.
const MAX_JSON: usize = 4 * 1024;

async fn change(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
    body: Body,
) -> ApiResult<Json<Value>> {
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
    Ok(Json(group_json(&d.group)))
}
