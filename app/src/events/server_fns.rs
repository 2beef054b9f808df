//! Server functions of the events views (UI only).

use leptos::prelude::*;
use uuid::Uuid;

use super::types::{EventPage, EventQuery, EventView, Facets, LiveSnapshot};
use crate::error::AppError;

/// The newest 20 events for the live widget.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn recent_events(service: Option<String>) -> Result<LiveSnapshot, AppError> {
    crate::error::with_status(
        async {
            crate::auth::guard::require(crate::auth::Role::Viewer)?;
            let state = crate::state::AppState::from_context()?;
            super::store::recent(
                &state.pool,
                service.as_deref(),
                super::types::LIVE_SHOWN as i64,
            )
            .await
        }
        .await,
    )
}

/// One page of the explorer.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn search_events(query: EventQuery) -> Result<EventPage, AppError> {
    crate::error::with_status(
        async {
            crate::auth::guard::require(crate::auth::Role::Viewer)?;
            let state = crate::state::AppState::from_context()?;
            super::store::search(&state.pool, &query, chrono::Utc::now()).await
        }
        .await,
    )
}

/// One event with all its fields.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_event(id: Uuid) -> Result<EventView, AppError> {
    crate::error::with_status(
        async {
            crate::auth::guard::require(crate::auth::Role::Viewer)?;
            let state = crate::state::AppState::from_context()?;
            super::store::get(&state.pool, id).await
        }
        .await,
    )
}

/// Services and features to offer in the filters.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn event_facets() -> Result<Facets, AppError> {
    crate::error::with_status(
        async {
            crate::auth::guard::require(crate::auth::Role::Viewer)?;
            let state = crate::state::AppState::from_context()?;
            super::store::facets(&state.pool).await
        }
        .await,
    )
}
