//! `GET /api/v1/dashboard` and `GET /api/v1/export` (scope `read`), and the
//! browser's export download.

use app::dashboard::export::to_csv;
use app::dashboard::store;
use app::dashboard::types::{Dashboard, DashboardQuery};
use app::dashboard::window::Range;
use app::error::AppError;
use app::keys::Scope;
use app::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiKey;
use super::error::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(dashboard))
        .routes(routes!(export))
        .route("/export/dashboard", get(ui_export))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// `24h`, `7d` or `30d` (default).
    #[param(example = "7d")]
    range: Option<String>,
    /// Only this service (a slug). A key bound to a service gets its own.
    service: Option<String>,
    /// Export only: `json` (default) or `csv`.
    format: Option<String>,
}

impl Params {
    /// The query, limited to what `key` may see (no key: the UI, whose
    /// users see every service).
    fn query(&self, key: Option<&ApiKey>) -> ApiResult<DashboardQuery> {
        let range = match self.range.as_deref() {
            None | Some("") => Range::default(),
            Some(r) => Range::parse(r).ok_or_else(|| {
                ApiError::from(AppError::validation(
                    "range",
                    format!("range `{r}` is not one of 24h, 7d, 30d"),
                ))
            })?,
        };
        let requested = self.service.clone().filter(|s| !s.is_empty());
        let service = match key {
            Some(key) => key.visible_service(requested)?,
            None => requested,
        };
        Ok(DashboardQuery { range, service })
    }
}

async fn compute(state: &AppState, params: &Params, key: Option<&ApiKey>) -> ApiResult<Dashboard> {
    let query = params.query(key)?;
    let mut dashboard = store::load(&state.pool, &state.kpi, &query, chrono::Utc::now()).await?;
    // A bound key does not learn which other services exist.
    if let Some(bound) = key.and_then(|k| k.0.service.as_ref()) {
        dashboard.services.retain(|s| s == bound);
    }
    Ok(dashboard)
}

/// Every KPI of the range, raw (percentages 0–100, unrounded).
#[utoipa::path(
    get,
    path = "/api/v1/dashboard",
    tag = "Dashboard",
    operation_id = "get_dashboard",
    summary = "KPIs, timeline, error analysis and feature maturity",
    params(Params),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The dashboard.", body = Dashboard, example = json!(dashboard_example())),
        (status = 422, description = "`range` is not one of 24h, 7d, 30d.", body = super::openapi::ErrorBody),
    )
)]
async fn dashboard(
    State(state): State<AppState>,
    key: ApiKey,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Dashboard>> {
    key.require(Scope::Read)?;
    let params = super::error::query(params)?;
    Ok(Json(compute(&state, &params, Some(&key)).await?))
}

/// The dashboard as a file.
#[utoipa::path(
    get,
    path = "/api/v1/export",
    tag = "Dashboard",
    operation_id = "export_dashboard",
    summary = "The dashboard as a JSON or CSV download",
    description = "Same data as `GET /api/v1/dashboard`, with `Content-Disposition: attachment`. Exports are rate-limited per key.",
    params(Params),
    security(("api_key" = ["read"])),
    responses(
        (status = 200, description = "The export (`format=json`: the dashboard; `format=csv`: one table).", content(
            (Dashboard = "application/json"),
            (String = "text/csv"),
        )),
        (status = 422, description = "`range` or `format` is not a known value.", body = super::openapi::ErrorBody),
    )
)]
async fn export(
    State(state): State<AppState>,
    axum::Extension(limits): axum::Extension<std::sync::Arc<crate::limits::Limits>>,
    key: ApiKey,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    key.require(Scope::Read)?;
    let params = super::error::query(params)?;
    limits.export(format!("key:{}", key.0.id))?;
    render_export(&state, &params, Some(&key)).await
}

/// The dashboard page's export buttons (any signed-in user).
async fn ui_export(
    State(state): State<AppState>,
    axum::Extension(auth): axum::Extension<app::auth::guard::Auth>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let user = auth.user.ok_or(app::error::AppError::Unauthorized)?;
    if !user.can(app::auth::Role::Viewer) {
        return Err(app::error::AppError::Forbidden("this needs the viewer role".into()).into());
    }
    render_export(&state, &params, None).await
}

async fn render_export(
    state: &AppState,
    params: &Params,
    key: Option<&ApiKey>,
) -> ApiResult<Response> {
    let format = params.format.as_deref().unwrap_or("json");
    if format != "csv" && format != "json" {
        return Err(ApiError::from(AppError::validation(
            "format",
            format!("format `{format}` is not one of csv, json"),
        )));
    }
    let d = compute(state, params, key).await?;
    let stamp = d.generated_at.get(..10).unwrap_or("export").to_owned();
    let name = format!("leitstand-{}-{stamp}.{format}", d.range.as_str());
    let disposition = format!("attachment; filename=\"{name}\"");
    if format == "csv" {
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            to_csv(&d),
        )
            .into_response())
    } else {
        Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(d)).into_response())
    }
}

/// The documented example of a dashboard (shape of a real answer).
fn dashboard_example() -> serde_json::Value {
    serde_json::json!({
        "range": "7d", "service": null, "generated_at": "2026-11-22T10:15:00Z",
        "window": { "from": "2026-11-15T10:15:00Z", "to": "2026-11-22T10:15:00Z" },
        "kpis": { "readiness": 91.4, "quality": 99.2, "stability": 97.0, "activity": 100.0,
                  "usage_24h": 1840, "error_rate": 0.8, "events": 12690, "errors": 101, "criticals": 2 },
        "previous": { "readiness": 88.0, "quality": 98.7, "stability": 95.2, "activity": 100.0,
                      "usage_24h": 1702, "error_rate": 1.3, "events": 11900, "errors": 155, "criticals": 4 },
        "timeline": [ { "date": "2026-11-22", "events": 1840, "errors": 12, "fixes": 1 } ],
        "errors": { "top_sources": [ { "service": "shop", "feature": "checkout", "errors": 61 } ],
                    "open": 3, "fix_rate": 62.5, "fixes_per_week": 5, "mttr_seconds": 5400.0 },
        "maturity": [ { "service": "shop", "feature": "checkout", "events": 5200, "errors": 61,
                        "error_rate": 1.17, "level": 3, "label": "Stable" } ],
        "settings": { "activity_target": 100.0, "weights": [0.3, 0.4, 0.3], "time_zone": "UTC" },
        "services": ["shop"],
        "empty": false
    })
}
