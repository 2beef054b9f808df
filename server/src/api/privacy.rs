//! User data (scope `admin`): `GET /api/v1/privacy/users/{user}/events`
//! exports, `DELETE` erases; and the browser's export download.

use app::keys::Scope;
use app::privacy::store;
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::auth::ApiKey;
use super::error::ApiResult;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/privacy/users/{user}/events",
            get(export).delete(erase),
        )
        .route("/privacy/export", get(ui_export))
}

fn download(user: &str, events: Vec<app::events::EventView>) -> Response {
    let name: String = user
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    (
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"leitstand-user-{name}.json\""),
        )],
        Json(json!({ "user": user, "events": events })),
    )
        .into_response()
}

async fn export(
    State(state): State<AppState>,
    key: ApiKey,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    key.require(Scope::Admin)?;
    key.require_unbound()?;
    let events = store::export(&state.pool, &user).await?;
    app::audit::store::record(
        &state.pool,
        &format!("key:{}", key.0.prefix),
        "privacy.export",
        Some(&user),
        None,
        json!({ "events": events.len() }),
    )
    .await?;
    Ok(download(&user, events))
}

async fn erase(
    State(state): State<AppState>,
    key: ApiKey,
    Path(user): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    key.require(Scope::Admin)?;
    key.require_unbound()?;
    let n = store::erase(&state.pool, &user, &format!("key:{}", key.0.prefix)).await?;
    app::audit::store::record(
        &state.pool,
        &format!("key:{}", key.0.prefix),
        "privacy.erase",
        Some(&user),
        None,
        json!({ "events": n }),
    )
    .await?;
    Ok(Json(json!({ "erased": n })))
}

#[derive(Deserialize)]
struct UserParam {
    user: Option<String>,
}

async fn ui_export(
    State(state): State<AppState>,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Query(p): Query<UserParam>,
) -> ApiResult<Response> {
    let user = auth.user.ok_or(app::error::AppError::Unauthorized)?;
    if !user.can(app::auth::Role::Admin) {
        return Err(app::error::AppError::Forbidden("this needs the admin role".into()).into());
    }
    let target = p.user.unwrap_or_default();
    let events = store::export(&state.pool, &target).await?;
    app::audit::store::record(
        &state.pool,
        &app::auth::guard::actor(&user),
        "privacy.export",
        Some(&target),
        auth.ip,
        json!({ "events": events.len() }),
    )
    .await?;
    Ok(download(&target, events))
}
