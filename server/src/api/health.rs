//! Liveness and readiness.

use std::time::Duration;

use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::database::latest_migration;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// 200 while the process lives.
async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// 200 when the database answers within a second and every migration this
/// binary knows is applied; 503 with a short public reason otherwise (the
/// details go to the log, not to whoever asks).
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
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "5")],
            Json(json!({ "status": "unavailable", "reason": reason })),
        )
            .into_response(),
    }
}
