//! Services, probes, heartbeats, maintenance windows and the system status
//! over REST.
//!
//! - `GET /api/v1/services`, `GET /api/v1/services/{slug}` (scope `read`),
//!   `PATCH /api/v1/services/{slug}` (name, SLO targets, public status;
//!   scope `admin`)
//! - `GET|POST /api/v1/services/{slug}/probes`,
//!   `GET|PATCH|DELETE /api/v1/services/{slug}/probes/{id}` (scope `admin`)
//! - `GET|POST /api/v1/heartbeat/{token}[/fail]` (no key: the token is the
//!   secret; a body of up to 10 KB is stored)
//! - `GET|POST /api/v1/maintenance`, `DELETE /api/v1/maintenance/{id}`
//!   (scope `admin`)
//! - `GET /api/v1/system/status` (scope `read`)

use app::error::AppError;
use app::keys::Scope;
use app::probes::store::{self as probes, CheckResult};
use app::probes::{
    MaintenanceWindow, Outcome, ProbeInfo, ProbeSpec, ServiceStatus, SloTargets, SystemStatus,
};
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use super::auth::ApiKey;
use super::error::{ApiResult, parse_json, read_limited};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/services", get(list_services))
        .route(
            "/api/v1/services/{slug}",
            get(get_service).patch(patch_service),
        )
        .route("/api/v1/services/{slug}/dsn/rotate", post(rotate_dsn))
        .route(
            "/api/v1/services/{slug}/probes",
            get(list_probes).post(create_probe),
        )
        .route(
            "/api/v1/services/{slug}/probes/{id}",
            get(get_probe).patch(patch_probe).delete(delete_probe),
        )
        .route("/api/v1/heartbeat/{token}", get(ping).post(ping))
        .route(
            "/api/v1/heartbeat/{token}/fail",
            get(ping_fail).post(ping_fail),
        )
        .route("/api/v1/maintenance", get(list_windows).post(create_window))
        .route("/api/v1/maintenance/{id}", delete(delete_window))
        .route("/api/v1/system/status", get(system_status))
}

fn actor(key: &ApiKey) -> String {
    format!("key:{}", key.0.prefix)
}

fn base_url(state: &AppState, headers: &HeaderMap, auth: &app::auth::guard::Auth) -> String {
    state.base_url(headers, auth.secure)
}

/// The id of a service this key may see, or 404.
async fn service_id(state: &AppState, key: &ApiKey, slug: &str) -> ApiResult<i64> {
    key.visible_service(Some(slug.to_owned()))?;
    app::services::store::find(&state.pool, slug)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("service `{slug}`")).into())
}

async fn list_services(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<Json<Vec<ServiceStatus>>> {
    key.require(Scope::Read)?;
    let doc =
        app::probes::status::current(&state.pool, &state.status_cache, state.started_at).await?;
    let bound = key.visible_service(None)?;
    Ok(Json(
        doc.services
            .iter()
            .filter(|s| bound.as_ref().is_none_or(|b| *b == s.slug))
            .cloned()
            .collect(),
    ))
}

async fn get_service(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    key.require(Scope::Read)?;
    let id = service_id(&state, &key, &slug).await?;
    service_document(&state, id, &base_url(&state, &headers, &auth), false).await
}

/// A service as REST shows it: status, SLO targets, DSN, allowed origins.
async fn service_document(
    state: &AppState,
    id: i64,
    base: &str,
    rotate: bool,
) -> ApiResult<Json<serde_json::Value>> {
    let windows = probes::windows(&state.pool).await?;
    let status = app::probes::status::service_status(&state.pool, id, &windows, Utc::now()).await?;
    let targets = app::services::store::slo_targets(&state.pool, id).await?;
    let mut conn = state.pool.acquire().await?;
    let key = app::services::store::dsn_key(&mut conn, id, rotate).await?;
    let origins = app::services::store::allowed_origins(&mut *conn, id)
        .await?
        .unwrap_or_default();
    Ok(Json(json!({
        "service": status,
        "slo_targets": targets,
        "dsn": app::services::types::dsn(base, &key, id),
        "allowed_origins": origins,
    })))
}

/// A new DSN key; the old one stops working at once.
async fn rotate_dsn(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    key.require(Scope::Admin)?;
    let id = service_id(&state, &key, &slug).await?;
    app::audit::store::record(
        &state.pool,
        &actor(&key),
        "service.dsn_rotate",
        Some(&slug),
        auth.ip,
        json!({}),
    )
    .await?;
    service_document(&state, id, &base_url(&state, &headers, &auth), true).await
}

/// What an admin may change about a service.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceChange {
    name: Option<String>,
    public_status: Option<bool>,
    slo_targets: Option<SloTargets>,
    /// Browser origins whose Sentry SDKs may send to the DSN.
    allowed_origins: Option<Vec<String>>,
}

async fn patch_service(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    body: Body,
) -> ApiResult<Json<serde_json::Value>> {
    key.require(Scope::Admin)?;
    let change: ServiceChange = parse_json(&read_limited(body, MAX_JSON).await?)?;
    let origins = change
        .allowed_origins
        .as_deref()
        .map(app::services::types::normalise_origins)
        .transpose()
        .map_err(|m| AppError::validation("allowed_origins", m))?;
    let id = service_id(&state, &key, &slug).await?;
    let mut tx = state.pool.begin().await?;
    app::services::store::change(
        &mut tx,
        id,
        change.name.as_deref(),
        change.public_status,
        change.slo_targets.as_ref(),
    )
    .await?;
    app::audit::store::record(
        &mut *tx,
        &actor(&key),
        "service.change",
        Some(&slug),
        None,
        json!({ "name": change.name, "public_status": change.public_status,
                "slo_targets": change.slo_targets, "allowed_origins": origins }),
    )
    .await?;
    if let Some(origins) = &origins {
        app::services::store::set_allowed_origins(&mut *tx, id, origins).await?;
    }
    tx.commit().await?;
    // The status document shows the change at once.
    state.status_cache.clear();
    service_document(&state, id, &base_url(&state, &headers, &auth), false).await
}

async fn list_probes(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<ProbeInfo>>> {
    key.require(Scope::Admin)?;
    service_id(&state, &key, &slug).await?;
    let base = base_url(&state, &headers, &auth);
    Ok(Json(probes::list(&state.pool, Some(&slug), &base).await?))
}

/// A probe of this service, or 404 (probes of other services are not found
/// through this one).
async fn probe_of(state: &AppState, slug: &str, id: i64, base: &str) -> ApiResult<ProbeInfo> {
    let probe = probes::get(&state.pool, id, base).await?;
    if probe.service != slug {
        return Err(AppError::NotFound(format!("probe {id} of `{slug}`")).into());
    }
    Ok(probe)
}

async fn create_probe(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    key.require(Scope::Admin)?;
    let spec: ProbeSpec = parse_json(&read_limited(body, MAX_JSON).await?)?;
    key.visible_service(Some(slug.clone()))?;
    let def = spec.apply(None)?;
    let base = base_url(&state, &headers, &auth);
    let mut tx = state.pool.begin().await?;
    let service = app::services::store::ensure(&mut *tx, &slug).await?;
    let probe = probes::create(&mut tx, service, &def, &base).await?;
    app::audit::store::record(
        &mut *tx,
        &actor(&key),
        "probe.create",
        Some(&format!("{slug}/{}", probe.id)),
        None,
        json!({ "kind": def.kind, "name": def.name }),
    )
    .await?;
    tx.commit().await?;
    // The status document shows the change at once.
    state.status_cache.clear();
    Ok((StatusCode::CREATED, Json(probe)).into_response())
}

async fn get_probe(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<Json<ProbeInfo>> {
    key.require(Scope::Admin)?;
    key.visible_service(Some(slug.clone()))?;
    let base = base_url(&state, &headers, &auth);
    Ok(Json(probe_of(&state, &slug, id, &base).await?))
}

async fn patch_probe(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, i64)>,
    body: Body,
) -> ApiResult<Json<ProbeInfo>> {
    key.require(Scope::Admin)?;
    let spec: ProbeSpec = parse_json(&read_limited(body, MAX_JSON).await?)?;
    key.visible_service(Some(slug.clone()))?;
    let base = base_url(&state, &headers, &auth);
    let current = probe_of(&state, &slug, id, &base).await?;
    let def = spec.apply(Some(&current.definition()))?;
    let mut tx = state.pool.begin().await?;
    let probe = probes::update(&mut tx, id, &def, &base).await?;
    app::audit::store::record(
        &mut *tx,
        &actor(&key),
        "probe.update",
        Some(&format!("{slug}/{id}")),
        None,
        json!({ "name": def.name, "enabled": def.enabled }),
    )
    .await?;
    tx.commit().await?;
    // The status document shows the change at once.
    state.status_cache.clear();
    Ok(Json(probe))
}

async fn delete_probe(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<Json<serde_json::Value>> {
    key.require(Scope::Admin)?;
    key.visible_service(Some(slug.clone()))?;
    let base = base_url(&state, &headers, &auth);
    probe_of(&state, &slug, id, &base).await?;
    let mut tx = state.pool.begin().await?;
    probes::delete(&mut *tx, id).await?;
    app::audit::store::record(
        &mut *tx,
        &actor(&key),
        "probe.delete",
        Some(&format!("{slug}/{id}")),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    // The status document shows the change at once.
    state.status_cache.clear();
    Ok(Json(json!({ "deleted": id })))
}

/// Largest JSON body read.
const MAX_JSON: usize = 64 * 1024;

/// Largest ping body read (the first 10 KB of it are stored).
const MAX_PING_READ: usize = 64 * 1024;

async fn ping(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body = read_limited(body, MAX_PING_READ).await?;
    heartbeat(&state, &token, Outcome::Up, &body).await
}

async fn ping_fail(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body = read_limited(body, MAX_PING_READ).await?;
    heartbeat(&state, &token, Outcome::Down, &body).await
}

/// A ping is a check result: up (or down for `/fail`) now, the next
/// deadline one period plus the grace time away.
async fn heartbeat(
    state: &AppState,
    token: &str,
    outcome: Outcome,
    body: &[u8],
) -> ApiResult<Response> {
    let well_formed = token.len() == 32 && token.bytes().all(|b| b.is_ascii_alphanumeric());
    let found = if well_formed {
        probes::heartbeat_by_token(&state.pool, token).await?
    } else {
        None
    };
    let Some((id, _, period, grace)) = found else {
        return Err(AppError::NotFound("heartbeat".into()).into());
    };
    let text: Option<String> = (!body.is_empty()).then(|| {
        let end = body.len().min(app::probes::MAX_PING_BODY);
        String::from_utf8_lossy(&body[..end]).replace('\0', "")
    });
    record_ping(state, id, period, grace, outcome, text).await?;
    Ok((StatusCode::OK, "OK\n").into_response())
}

/// Records a ping of heartbeat `id` (also a Sentry cron check-in).
pub(crate) async fn record_ping(
    state: &AppState,
    id: i64,
    period: i32,
    grace: i32,
    outcome: Outcome,
    text: Option<String>,
) -> ApiResult<()> {
    let now = Utc::now();
    let result = CheckResult {
        checked_at: now,
        lag_ms: None,
        duration_ms: None,
        status_code: None,
        outcome,
        error: (outcome == Outcome::Down).then(|| {
            text.as_deref()
                .map(|t| {
                    format!(
                        "reported a failure: {}",
                        t.chars().take(200).collect::<String>()
                    )
                })
                .unwrap_or_else(|| "reported a failure".into())
        }),
        cert_expires_at: None,
    };
    let service_id: i64 = sqlx::query_scalar("select service_id from probes where id = $1")
        .bind(id)
        .fetch_one(&state.pool)
        .await?;
    let windows = probes::windows(&state.pool).await?;
    let in_maintenance = probes::in_maintenance(&windows, service_id, now);
    probes::record(&state.pool, id, now, &result, in_maintenance).await?;
    let due = now + Duration::seconds(i64::from(period) + i64::from(grace));
    probes::note_ping(&state.pool, id, now, text.as_deref(), due).await?;
    Ok(())
}

async fn list_windows(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<Json<Vec<MaintenanceWindow>>> {
    key.require(Scope::Admin)?;
    key.require_unbound()?;
    Ok(Json(
        probes::windows(&state.pool)
            .await?
            .into_iter()
            .map(|w| w.shown)
            .collect(),
    ))
}

async fn create_window(
    State(state): State<AppState>,
    key: ApiKey,
    body: Body,
) -> ApiResult<Response> {
    key.require(Scope::Admin)?;
    let window: MaintenanceWindow = parse_json(&read_limited(body, MAX_JSON).await?)?;
    key.require_unbound()?;
    let rule = probes::rule_of(&window)?;
    let mut tx = state.pool.begin().await?;
    let service_id = match &window.service {
        Some(slug) => Some(
            app::services::store::find(&mut *tx, slug)
                .await?
                .ok_or_else(|| AppError::validation("service", format!("no service `{slug}`")))?,
        ),
        None => None,
    };
    let id = probes::create_window(&mut *tx, service_id, &window, &rule, &actor(&key)).await?;
    app::audit::store::record(
        &mut *tx,
        &actor(&key),
        "maintenance.create",
        Some(&window.title),
        None,
        json!({ "id": id, "service": window.service }),
    )
    .await?;
    tx.commit().await?;
    // The status document shows the change at once.
    state.status_cache.clear();
    let created = probes::windows(&state.pool)
        .await?
        .into_iter()
        .find(|w| w.shown.id == id)
        .map(|w| w.shown)
        .ok_or_else(|| AppError::internal("a new maintenance window vanished"))?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn delete_window(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    key.require(Scope::Admin)?;
    key.require_unbound()?;
    let mut tx = state.pool.begin().await?;
    probes::delete_window(&mut *tx, id).await?;
    app::audit::store::record(
        &mut *tx,
        &actor(&key),
        "maintenance.delete",
        Some(&id.to_string()),
        None,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    // The status document shows the change at once.
    state.status_cache.clear();
    Ok(Json(json!({ "deleted": id })))
}

async fn system_status(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<Json<SystemStatus>> {
    key.require(Scope::Read)?;
    let doc =
        app::probes::status::current(&state.pool, &state.status_cache, state.started_at).await?;
    // A bound key sees its own service only, and the overall state of that.
    match key.visible_service(None)? {
        None => Ok(Json((*doc).clone())),
        Some(bound) => {
            let mut doc = (*doc).clone();
            doc.services.retain(|s| s.slug == bound);
            doc.status = app::probes::status::overall(&doc.services, &doc.leitstand).to_owned();
            Ok(Json(doc))
        }
    }
}
