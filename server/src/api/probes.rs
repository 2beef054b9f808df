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

use super::error::Path;
use app::error::AppError;
use app::keys::Scope;
use app::probes::store::{self as probes, CheckResult};
use app::probes::{
    MaintenanceWindow, Outcome, ProbeInfo, ProbeSpec, ServiceStatus, SloTargets, SystemStatus,
};
use app::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiKey;
use super::error::{ApiResult, parse_json, read_limited};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_services))
        .routes(routes!(get_service, patch_service))
        .routes(routes!(rotate_dsn))
        .routes(routes!(list_probes, create_probe))
        .routes(routes!(get_probe, patch_probe, delete_probe))
        .routes(routes!(ping))
        .routes(routes!(ping_fail))
        .routes(routes!(list_windows, create_window))
        .routes(routes!(delete_window))
        .routes(routes!(system_status))
}

/// A service as REST shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceDocument {
    pub service: ServiceStatus,
    pub slo_targets: SloTargets,
    /// The DSN Sentry SDKs send to.
    pub dsn: String,
    /// Browser origins whose Sentry SDKs may send to the DSN.
    pub allowed_origins: Vec<String>,
}

/// What a deletion answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletedId {
    /// The deleted item's id.
    pub deleted: i64,
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

/// Every service with its current state.
#[utoipa::path(
    get,
    path = "/api/v1/services",
    tag = "Services and probes",
    operation_id = "list_services",
    summary = "List services with their current state",
    description = "A key bound to a service sees that one only.",
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The services.", body = Vec<ServiceStatus>),
    )
)]
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

/// One service: state, SLO targets, DSN, allowed origins.
#[utoipa::path(
    get,
    path = "/api/v1/services/{slug}",
    tag = "Services and probes",
    operation_id = "get_service",
    summary = "One service with its SLO targets and DSN",
    params(("slug" = String, Path, description = "The service's slug.")),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The service.", body = ServiceDocument),
        (status = 404, description = "No such service.", body = super::openapi::ErrorBody),
    )
)]
async fn get_service(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Json<ServiceDocument>> {
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
) -> ApiResult<Json<ServiceDocument>> {
    let windows = probes::windows(&state.pool).await?;
    let status = app::probes::status::service_status(&state.pool, id, &windows, Utc::now()).await?;
    let targets = app::services::store::slo_targets(&state.pool, id).await?;
    let mut conn = state.pool.acquire().await?;
    let key = app::services::store::dsn_key(&mut conn, id, rotate).await?;
    let origins = app::services::store::allowed_origins(&mut *conn, id)
        .await?
        .unwrap_or_default();
    Ok(Json(ServiceDocument {
        service: status,
        slo_targets: targets,
        dsn: app::services::types::dsn(base, &key, id),
        allowed_origins: origins,
    }))
}

/// A new DSN key; the old one stops working at once.
#[utoipa::path(
    post,
    path = "/api/v1/services/{slug}/dsn/rotate",
    tag = "Services and probes",
    operation_id = "rotate_dsn",
    summary = "Give a service a new DSN key",
    description = "The old key stops working at once. Audited.",
    params(("slug" = String, Path, description = "The service's slug.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The service with its new DSN.", body = ServiceDocument),
        (status = 404, description = "No such service.", body = super::openapi::ErrorBody),
    )
)]
async fn rotate_dsn(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Json<ServiceDocument>> {
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

/// What an admin may change about a service; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "name": "Shop", "public_status": true, "slo_targets": { "p95_ms": 250, "error_rate_percent": 0.5, "uptime_percent": 99.9, "dead_letters": 0 }, "allowed_origins": ["https://shop.example.com"] }))]
struct ServiceChange {
    name: Option<String>,
    public_status: Option<bool>,
    slo_targets: Option<SloTargets>,
    /// Browser origins whose Sentry SDKs may send to the DSN.
    allowed_origins: Option<Vec<String>>,
}

/// Changes a service's name, SLO targets, public status or origins.
#[utoipa::path(
    patch,
    path = "/api/v1/services/{slug}",
    tag = "Services and probes",
    operation_id = "change_service",
    summary = "Change a service",
    description = "Audited.",
    params(("slug" = String, Path, description = "The service's slug.")),
    request_body(content = ServiceChange, content_type = "application/json"),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The service as it is now.", body = ServiceDocument),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 404, description = "No such service.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it.", body = super::openapi::ErrorBody),
    )
)]
async fn patch_service(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    body: Body,
) -> ApiResult<Json<ServiceDocument>> {
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

/// The probes of a service.
#[utoipa::path(
    get,
    path = "/api/v1/services/{slug}/probes",
    tag = "Services and probes",
    operation_id = "list_probes",
    summary = "List a service's probes",
    params(("slug" = String, Path, description = "The service's slug.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The probes, with their state and heartbeat ping URLs.", body = Vec<ProbeInfo>),
        (status = 404, description = "No such service.", body = super::openapi::ErrorBody),
    )
)]
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

/// Adds a probe (HTTP, TCP or heartbeat) to a service.
#[utoipa::path(
    post,
    path = "/api/v1/services/{slug}/probes",
    tag = "Services and probes",
    operation_id = "create_probe",
    summary = "Add a probe",
    description = "`kind` `http` needs `url`; `tcp` needs `host` and `port`; `heartbeat` needs `period_seconds` and answers with the ping URL. The service is created when it does not exist yet. Audited.",
    params(("slug" = String, Path, description = "The service's slug.")),
    request_body(content = ProbeSpec, content_type = "application/json", example = json!({
        "kind": "http", "name": "Shop health", "url": "https://shop.example.com/health",
        "expected_status": "200-299", "interval_seconds": 60, "timeout_seconds": 5.0
    })),
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The new probe.", body = ProbeInfo),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it.", body = super::openapi::ErrorBody),
    )
)]
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

/// One probe.
#[utoipa::path(
    get,
    path = "/api/v1/services/{slug}/probes/{id}",
    tag = "Services and probes",
    operation_id = "get_probe",
    summary = "One probe",
    params(("slug" = String, Path, description = "The service's slug."), ("id" = i64, Path, description = "The probe's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The probe.", body = ProbeInfo),
        (status = 404, description = "No such probe of this service.", body = super::openapi::ErrorBody),
    )
)]
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

/// Changes a probe; absent fields stay as they are.
#[utoipa::path(
    patch,
    path = "/api/v1/services/{slug}/probes/{id}",
    tag = "Services and probes",
    operation_id = "change_probe",
    summary = "Change a probe",
    description = "Absent fields stay as they are. Audited.",
    params(("slug" = String, Path, description = "The service's slug."), ("id" = i64, Path, description = "The probe's id.")),
    request_body(content = ProbeSpec, content_type = "application/json", example = json!({ "enabled": false })),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The probe as it is now.", body = ProbeInfo),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 404, description = "No such probe of this service.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field is wrong; `field` names it.", body = super::openapi::ErrorBody),
    )
)]
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

/// Removes a probe with its results.
#[utoipa::path(
    delete,
    path = "/api/v1/services/{slug}/probes/{id}",
    tag = "Services and probes",
    operation_id = "delete_probe",
    summary = "Delete a probe",
    description = "Audited.",
    params(("slug" = String, Path, description = "The service's slug."), ("id" = i64, Path, description = "The probe's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The probe is gone.", body = DeletedId),
        (status = 404, description = "No such probe of this service.", body = super::openapi::ErrorBody),
    )
)]
async fn delete_probe(
    State(state): State<AppState>,
    key: ApiKey,
    Extension(auth): Extension<app::auth::guard::Auth>,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<Json<DeletedId>> {
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
    Ok(Json(DeletedId { deleted: id }))
}

/// Largest JSON body read.
const MAX_JSON: usize = 64 * 1024;

/// Largest ping body read (the first 10 KB of it are stored).
const MAX_PING_READ: usize = 64 * 1024;

/// A heartbeat ping: the job ran.
#[utoipa::path(
    method(get, post),
    path = "/api/v1/heartbeat/{token}",
    tag = "Services and probes",
    operation_id = "heartbeat_ping",
    summary = "Heartbeat: report a run",
    description = "**No API key:** the token is the secret. A body (e.g. the job's output) is optional; its first 10 KB are kept.",
    params(("token" = String, Path, description = "The heartbeat's token (32 letters and digits), from its ping URL.")),
    request_body(content = String, content_type = "text/plain", description = "Optional output of the job."),
    responses(
        (status = 200, description = "Recorded.", content_type = "text/plain", body = String, example = "OK\n"),
        (status = 404, description = "No heartbeat has this token.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
    )
)]
async fn ping(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let body = read_limited(body, MAX_PING_READ).await?;
    heartbeat(&state, &token, Outcome::Up, &body).await
}

/// A heartbeat ping: the job failed.
#[utoipa::path(
    method(get, post),
    path = "/api/v1/heartbeat/{token}/fail",
    tag = "Services and probes",
    operation_id = "heartbeat_fail",
    summary = "Heartbeat: report a failed run",
    description = "**No API key:** the token is the secret. Marks the heartbeat down at once; the body's first 200 characters become the reason.",
    params(("token" = String, Path, description = "The heartbeat's token (32 letters and digits), from its ping URL.")),
    request_body(content = String, content_type = "text/plain", description = "Optional output of the job."),
    responses(
        (status = 200, description = "Recorded.", content_type = "text/plain", body = String, example = "OK\n"),
        (status = 404, description = "No heartbeat has this token.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
    )
)]
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

/// Every maintenance window.
#[utoipa::path(
    get,
    path = "/api/v1/maintenance",
    tag = "Services and probes",
    operation_id = "list_maintenance_windows",
    summary = "List maintenance windows",
    description = "Refused to keys bound to a service.",
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The windows, with whether each is active now.", body = Vec<MaintenanceWindow>),
    )
)]
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

/// A new maintenance window: once (`starts_at`, `ends_at`) or weekly.
#[utoipa::path(
    post,
    path = "/api/v1/maintenance",
    tag = "Services and probes",
    operation_id = "create_maintenance_window",
    summary = "Add a maintenance window",
    description = "Either once (`starts_at` and `ends_at`, RFC 3339) or weekly (`weekday` 0 = Monday, `start_time` `HH:MM`, `duration_minutes`, `time_zone`). Without `service` it covers every service. Probe failures inside a window do not count against SLOs. Audited. Refused to keys bound to a service.",
    request_body(content = MaintenanceWindow, content_type = "application/json", example = json!({
        "service": "shop", "title": "Database upgrade",
        "starts_at": "2026-11-29T22:00:00Z", "ends_at": "2026-11-29T23:30:00Z"
    })),
    security(("api_key" = ["admin"])),
    responses(
        (status = 201, description = "The new window.", body = MaintenanceWindow),
        (status = 400, description = "The body is not JSON.", body = super::openapi::ErrorBody),
        (status = 413, description = "The body is larger than 64 KiB.", body = super::openapi::ErrorBody),
        (status = 422, description = "A field is wrong, or the service does not exist.", body = super::openapi::ErrorBody),
    )
)]
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

/// Removes a maintenance window.
#[utoipa::path(
    delete,
    path = "/api/v1/maintenance/{id}",
    tag = "Services and probes",
    operation_id = "delete_maintenance_window",
    summary = "Delete a maintenance window",
    description = "Audited. Refused to keys bound to a service.",
    params(("id" = i64, Path, description = "The window's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The window is gone.", body = DeletedId),
        (status = 404, description = "No such window.", body = super::openapi::ErrorBody),
    )
)]
async fn delete_window(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<DeletedId>> {
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
    Ok(Json(DeletedId { deleted: id }))
}

/// Services, probes and Leitstand itself at a glance.
#[utoipa::path(
    get,
    path = "/api/v1/system/status",
    tag = "Services and probes",
    operation_id = "system_status",
    summary = "The system status",
    description = "The overall state, every service's state and SLOs, and Leitstand's own health (database, backups, deliveries). Cached for 5 s per process. A key bound to a service sees that one only.",
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The status.", body = SystemStatus),
    )
)]
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
