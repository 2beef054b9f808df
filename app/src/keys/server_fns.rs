//! Server functions of the API-key settings (admin).

use leptos::prelude::*;

use super::types::{ApiKeyInfo, CreatedKey, Scope};
#[cfg(feature = "ssr")]
use crate::auth::Role;
#[cfg(feature = "ssr")]
use crate::auth::guard::{actor, auth, require};
use crate::error::AppError;

#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn list_keys() -> Result<Vec<ApiKeyInfo>, AppError> {
    crate::error::with_status(
        async {
            require(Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            super::store::list(&state.pool).await
        }
        .await,
    )
}

/// Creates a key; its secret is in the answer and nowhere else.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn create_key(
    name: String,
    scopes: Vec<Scope>,
    service: Option<String>,
) -> Result<CreatedKey, AppError> {
    crate::error::with_status(
        async {
            let admin = require(Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            let mut tx = state.pool.begin().await?;
            let service_id = match service.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(slug) => Some(crate::services::store::ensure(&mut *tx, slug).await?),
                None => None,
            };
            let created = super::store::create(&mut tx, &name, &scopes, service_id, &admin.email).await?;
            crate::audit::store::record(
                &mut *tx,
                &actor(&admin),
                "key.create",
                Some(&created.info.prefix),
                auth().ip,
                serde_json::json!({ "name": created.info.name, "scopes": created.info.scopes, "service": created.info.service }),
            )
            .await?;
            tx.commit().await?;
            Ok(created)
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn revoke_key(prefix: String) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let admin = require(Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            let revoked = super::store::revoke(&state.pool, &prefix).await?;
            state.keys.forget_prefix(&revoked);
            crate::audit::store::record(
                &state.pool,
                &actor(&admin),
                "key.revoke",
                Some(&revoked),
                auth().ip,
                serde_json::json!({}),
            )
            .await?;
            Ok(())
        }
        .await,
    )
}
