//! `GET /api/v1/dashboard` and `GET /api/v1/export` (scope `read`), and the
//! browser's export download.

use app::dashboard::export::to_csv;
use app::dashboard::store;
use app::dashboard::types::{Dashboard, DashboardQuery};
use app::dashboard::window::Range;
use app::error::AppError;
use app::keys::Scope;
use app::state::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::auth::ApiKey;
use super::error::{ApiError, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/export", get(export))
        .route("/export/dashboard", get(ui_export))
}

#[derive(Debug, Deserialize)]
pub struct Params {
    range: Option<String>,
    service: Option<String>,
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

async fn dashboard(
    State(state): State<AppState>,
    key: ApiKey,
    Query(params): Query<Params>,
) -> ApiResult<Json<Dashboard>> {
    key.require(Scope::Read)?;
    Ok(Json(compute(&state, &params, Some(&key)).await?))
}

async fn export(
    State(state): State<AppState>,
    axum::Extension(limits): axum::Extension<std::sync::Arc<crate::limits::Limits>>,
    key: ApiKey,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    key.require(Scope::Read)?;
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
