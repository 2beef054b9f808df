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
/// binary knows is applied; 503 with the reason otherwise.
async fn readyz(State(state): State<AppState>) -> Response {
    let check = async {
        let applied: i64 = sqlx::query_scalar(
            "select coalesce(max(version), 0) from _sqlx_migrations where success",
        )
        .fetch_one(&state.pool)
        .await
        .map_err(|e| format!("database not reachable: {e}"))?;
        let wanted = latest_migration();
        if applied < wanted {
            return Err(format!(
                "migrations pending: database at {applied}, binary needs {wanted}"
            ));
        }
        Ok(())
    };
    let outcome = match tokio::time::timeout(Duration::from_secs(1), check).await {
        Ok(result) => result,
        Err(_) => Err("database did not answer within 1 s".to_owned()),
    };
    match outcome {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(axum::http::header::RETRY_AFTER, "5")],
                Json(json!({ "status": "unavailable", "reason": reason })),
            )
                .into_response()
        }
    }
}
