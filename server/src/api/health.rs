//! Liveness and readiness.

use std::time::Duration;

use app::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::database::latest_migration;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// What `/healthz` and `/readyz` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` (`/healthz`), `ready` or `unavailable` (`/readyz`).
    pub status: String,
    /// Why not ready: `database unavailable` or `migrations pending`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// 200 while the process lives.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "Operations",
    summary = "Liveness",
    description = "Public: no key needed. 200 while the process lives.",
    responses(
        (status = 200, description = "Alive.", body = Health, example = json!({ "status": "ok" })),
        (status = 500, description = "Internal error.", body = super::openapi::ErrorBody),
    )
)]
async fn healthz() -> impl IntoResponse {
    Json(Health {
        status: "ok".into(),
        reason: None,
    })
}

/// 200 when the database answers within a second and every migration this
/// binary knows is applied; 503 with a short public reason otherwise (the
/// details go to the log, not to whoever asks).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "Operations",
    summary = "Readiness",
    description = "Public: no key needed. 200 when the database answers within a second and every migration of this binary is applied.",
    responses(
        (status = 200, description = "Ready.", body = Health, example = json!({ "status": "ready" })),
        (status = 503, description = "Not ready, with a one-word reason; see `Retry-After`.", body = Health,
            example = json!({ "status": "unavailable", "reason": "database unavailable" })),
    )
)]
async fn readyz(State(state): State<AppState>) -> Response {
    let check = async {
        let applied: i64 = sqlx::query_scalar(
            "select coalesce(max(version), 0) from _sqlx_migrations where success",
        )
        .fetch_one(&state.pool)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "not ready: database unavailable");
            "database unavailable"
        })?;
        let wanted = latest_migration();
        if applied < wanted {
            tracing::warn!(applied, wanted, "not ready: migrations pending");
            return Err("migrations pending");
        }
        Ok(())
    };
    let outcome = match tokio::time::timeout(Duration::from_secs(1), check).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("not ready: the database did not answer within 1 s");
            Err("database unavailable")
        }
    };
    match outcome {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ready".into(),
                reason: None,
            }),
        )
            .into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "5")],
            Json(Health {
                status: "unavailable".into(),
                reason: Some(reason.into()),
            }),
        )
            .into_response(),
    }
}

/// `GET /metrics`: Prometheus metrics (see `crate::metrics`).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Operations",
    summary = "Prometheus metrics",
    description = "The Prometheus text format 0.0.4, or OpenMetrics 1.0 when `Accept` prefers it. Open to addresses in `--metrics-allow`; everyone else needs a key. `--metrics-listen` serves the same on a separate address without a key.",
    security(("api_key" = ["metrics"])),
    responses(
        (status = 200, description = "The metrics.", content(
            (String = "text/plain; version=0.0.4"),
            (String = "application/openmetrics-text; version=1.0.0"),
        )),
    )
)]
async fn metrics(
    state: State<AppState>,
    access: axum::Extension<std::sync::Arc<crate::metrics::MetricsAccess>>,
    req: Request,
) -> Response {
    crate::metrics::metrics(state, access, req).await
}
