//! The machine interface: health endpoints and the versioned REST API.

pub mod alerts;
pub mod auth;
pub mod backups;
pub mod dashboard;
pub mod docs;
pub mod error;
pub mod error_groups;
pub mod health;
pub mod ingest;
pub mod openapi;
pub mod privacy;
pub mod probes;
pub mod sentry;
pub mod stream;

use app::state::AppState;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;

/// Routes served with the normal request timeout, with their documentation.
fn timed() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .merge(health::router())
        .merge(docs::router())
        .merge(dashboard::router())
        .merge(privacy::router())
        .merge(probes::router())
        .merge(alerts::router())
        .merge(error_groups::router())
}

/// Routes served with the normal request timeout.
pub fn router() -> Router<AppState> {
    timed().into()
}

/// Backups: files of any size, so a long timeout of their own.
pub fn backup_router() -> Router<AppState> {
    backups::router().into()
}

/// Long-lived routes (the live stream): no request timeout.
pub fn streaming_router() -> Router<AppState> {
    stream::router().into()
}

/// The OpenAPI document of every route above and of ingest (`startup.rs`
/// serves `ingest::router()` and `sentry::router()` with their own limits).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let routes = timed()
        .merge(backups::router())
        .merge(stream::router())
        .merge(ingest::router())
        .merge(sentry::router())
        .into_openapi();
    openapi::document(routes)
}
