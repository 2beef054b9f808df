//! `GET /api/v1/dashboard` and `GET /api/v1/export` (scope `read`), and the
//! browser's export download.

use app::dashboard::export::to_csv;
use app::dashboard::store;
use app::dashboard::types::{Dashboard, DashboardQuery};
use app::dashboard::window::Range;
use app::keys::Scope;
use app::state::AppState;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
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
    fn query(&self) -> ApiResult<DashboardQuery> {
        let range = match self.range.as_deref() {
            None | Some("") => Range::default(),
            Some(r) => Range::parse(r).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    format!("range `{r}` is not one of 24h, 7d, 30d"),
                )
                .with_field("range")
            })?,
        };
        Ok(DashboardQuery {
            range,
            service: self.service.clone().filter(|s| !s.is_empty()),
        })
    }
}

async fn compute(state: &AppState, params: &Params) -> ApiResult<Dashboard> {
    let query = params.query()?;
    Ok(store::load(&state.pool, &state.kpi, &query, chrono::Utc::now()).await?)
}

async fn dashboard(
    State(state): State<AppState>,
    key: ApiKey,
    Query(params): Query<Params>,
) -> ApiResult<Json<Dashboard>> {
    key.require(Scope::Read)?;
    Ok(Json(compute(&state, &params).await?))
}

async fn export(
    State(state): State<AppState>,
    axum::Extension(limits): axum::Extension<std::sync::Arc<crate::limits::Limits>>,
    key: ApiKey,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    key.require(Scope::Read)?;
    limits.export(format!("key:{}", key.0.id))?;
    render_export(&state, &params).await
}

/// The dashboard page's export buttons.
async fn ui_export(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    render_export(&state, &params).await
}

async fn render_export(state: &AppState, params: &Params) -> ApiResult<Response> {
    let format = params.format.as_deref().unwrap_or("json");
    if format != "csv" && format != "json" {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            format!("format `{format}` is not one of csv, json"),
        )
        .with_field("format"));
    }
    let d = compute(state, params).await?;
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
