//! The machine interface: health endpoints and the versioned REST API.

pub mod alerts;
pub mod auth;
pub mod backups;
pub mod dashboard;
pub mod error;
pub mod error_groups;
pub mod health;
pub mod ingest;
pub mod privacy;
pub mod probes;
pub mod sentry;
pub mod stream;

use app::state::AppState;
use axum::Router;

/// Routes served with the normal request timeout.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(dashboard::router())
        .merge(privacy::router())
        .merge(probes::router())
        .merge(alerts::router())
        .merge(error_groups::router())
}

/// Backups: files of any size, so a long timeout of their own.
pub fn backup_router() -> Router<AppState> {
    backups::router()
}

/// Long-lived routes (the live stream): no request timeout.
pub fn streaming_router() -> Router<AppState> {
    Router::new().merge(stream::router())
}
