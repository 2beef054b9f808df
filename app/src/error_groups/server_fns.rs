//! Server functions of the Errors pages: viewers read, operators change a
//! group's status, admins rotate a service's DSN key and set its origins.

use leptos::prelude::*;

use super::types::{GroupAction, GroupDetail, GroupPage, GroupQuery, ReleaseRow};
use crate::error::AppError;
use crate::services::types::ServiceDsn;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::auth::Role;
    pub use crate::auth::guard::{actor, auth, require};
    pub use crate::state::AppState;

    pub async fn service_id(state: &AppState, slug: &str) -> Result<i64, crate::error::AppError> {
        crate::services::store::find(&state.pool, slug)
            .await?
            .ok_or_else(|| crate::error::AppError::NotFound(format!("service `{slug}`")))
    }

    /// The service's DSN as the request reached this instance.
    pub async fn dsn_of(
        state: &AppState,
        slug: &str,
        rotate: bool,
    ) -> Result<crate::services::types::ServiceDsn, crate::error::AppError> {
        let id = service_id(state, slug).await?;
        let mut tx = state.pool.begin().await?;
        let key = crate::services::store::dsn_key(&mut tx, id, rotate).await?;
        let origins = crate::services::store::allowed_origins(&mut *tx, id)
            .await?
            .unwrap_or_default();
        if rotate {
            let user = require(Role::Admin)?;
            crate::audit::store::record(
                &mut *tx,
                &actor(&user),
                "service.dsn_rotate",
                Some(slug),
                auth().ip,
                serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        let headers = leptos::prelude::use_context::<axum::http::request::Parts>()
            .map(|p| p.headers)
            .unwrap_or_default();
        let base = state.base_url(&headers, auth().secure);
        Ok(crate::services::types::ServiceDsn {
            dsn: crate::services::types::dsn(&base, &key, id),
            allowed_origins: origins,
        })
    }
}
#[cfg(feature = "ssr")]
use ssr::*;

/// One page of error groups.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn list_error_groups(query: GroupQuery) -> Result<GroupPage, AppError> {
    crate::error::with_status(
        async {
            require(Role::Viewer)?;
            let state = AppState::from_context()?;
            super::store::list(&state.pool, &query, chrono::Utc::now()).await
        }
        .await,
    )
}

/// A group with one of its events (`event`: an id, else the latest).
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_error_group(id: i64, event: Option<String>) -> Result<GroupDetail, AppError> {
    crate::error::with_status(
        async {
            require(Role::Viewer)?;
            let state = AppState::from_context()?;
            let event = match event.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => Some(
                    uuid::Uuid::parse_str(s)
                        .map_err(|_| AppError::validation("event", "is not an event id"))?,
                ),
                None => None,
            };
            super::store::detail(&state.pool, id, event, chrono::Utc::now()).await
        }
        .await,
    )
}

/// Resolves, ignores or reopens groups (operators and admins).
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn change_error_groups(ids: Vec<i64>, action: GroupAction) -> Result<Vec<i64>, AppError> {
    crate::error::with_status(
        async {
            let user = require(Role::Operator)?;
            let state = AppState::from_context()?;
            let mut tx = state.pool.begin().await?;
            let changed =
                super::store::change(&mut tx, &ids, action, &actor(&user), "ui", auth().ip).await?;
            tx.commit().await?;
            state.status_cache.clear();
            Ok(changed)
        }
        .await,
    )
}

/// A service's releases, newest first.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_releases(service: String) -> Result<Vec<ReleaseRow>, AppError> {
    crate::error::with_status(
        async {
            require(Role::Viewer)?;
            let state = AppState::from_context()?;
            super::store::releases(&state.pool, &service).await
        }
        .await,
    )
}

/// A service's DSN (its key is created on first use).
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_service_dsn(service: String) -> Result<ServiceDsn, AppError> {
    crate::error::with_status(
        async {
            require(Role::Viewer)?;
            let state = AppState::from_context()?;
            dsn_of(&state, &service, false).await
        }
        .await,
    )
}

/// A new DSN key for the service; the old one stops working at once.
#[server(prefix = "/rpc")]
pub async fn rotate_service_dsn(service: String) -> Result<ServiceDsn, AppError> {
    crate::error::with_status(
        async {
            require(Role::Admin)?;
            let state = AppState::from_context()?;
            dsn_of(&state, &service, true).await
        }
        .await,
    )
}

/// The browser origins whose SDKs may send to the service's DSN.
#[server(prefix = "/rpc")]
pub async fn set_service_origins(service: String, origins: String) -> Result<ServiceDsn, AppError> {
    crate::error::with_status(
        async {
            let user = require(Role::Admin)?;
            let state = AppState::from_context()?;
            let list: Vec<String> = origins
                .split(|c: char| c == ',' || c.is_whitespace())
                .map(str::to_owned)
                .collect();
            let origins = crate::services::types::normalise_origins(&list)
                .map_err(|m| AppError::validation("origins", m))?;
            let id = service_id(&state, &service).await?;
            let mut tx = state.pool.begin().await?;
            crate::services::store::set_allowed_origins(&mut *tx, id, &origins).await?;
            crate::audit::store::record(
                &mut *tx,
                &actor(&user),
                "service.origins",
                Some(&service),
                auth().ip,
                serde_json::json!({ "origins": origins }),
            )
            .await?;
            tx.commit().await?;
            dsn_of(&state, &service, false).await
        }
        .await,
    )
}
