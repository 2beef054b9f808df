//! User data (scope `admin`): `GET /api/v1/privacy/users/{user}/events`
//! exports, `DELETE` erases; and the browser's export download.

use super::error::Path;
use app::keys::Scope;
use app::privacy::store;
use app::state::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiKey;
use super::error::ApiResult;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(export, erase))
        .route("/privacy/export", get(ui_export))
}

/// Every event of one user reference.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserExport {
    pub user: String,
    pub events: Vec<app::events::EventView>,
}

/// What an erasure removed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Erased {
    /// Events deleted.
    pub erased: u64,
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
        Json(UserExport {
            user: user.to_owned(),
            events,
        }),
    )
        .into_response()
}

/// Exports one user's events.
#[utoipa::path(
    get,
    path = "/api/v1/privacy/users/{user}/events",
    tag = "Privacy",
    operation_id = "export_user_events",
    summary = "Export every event of one user reference",
    description = "A JSON download (`Content-Disposition: attachment`). Audited. Refused to keys bound to a service.",
    params(("user" = String, Path, description = "The user reference events carry in `user`.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The events.", body = UserExport),
        (status = 422, description = "The user reference is empty or too long.", body = super::openapi::ErrorBody),
    )
)]
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

/// Erases one user's events.
#[utoipa::path(
    delete,
    path = "/api/v1/privacy/users/{user}/events",
    tag = "Privacy",
    operation_id = "erase_user_events",
    summary = "Erase every event of one user reference",
    description = "Deletes the events and remembers a SHA-256 of the reference, so a later restore erases them again. Audited. Refused to keys bound to a service.",
    params(("user" = String, Path, description = "The user reference events carry in `user`.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The events are gone.", body = Erased, example = json!({ "erased": 17 })),
        (status = 422, description = "The user reference is empty or too long.", body = super::openapi::ErrorBody),
    )
)]
async fn erase(
    State(state): State<AppState>,
    key: ApiKey,
    Path(user): Path<String>,
) -> ApiResult<Json<Erased>> {
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
    Ok(Json(Erased { erased: n }))
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
