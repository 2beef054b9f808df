//! Server functions of the Privacy settings (admin).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::auth::Role;
#[cfg(feature = "ssr")]
use crate::auth::guard::{actor, auth, require};
use crate::error::AppError;

/// How many events are stored for a user reference.
#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn count_user_events(user: String) -> Result<u64, AppError> {
    crate::error::with_status(
        async {
            require(Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            Ok(super::store::export(&state.pool, &user).await?.len() as u64)
        }
        .await,
    )
}

/// Erases every event of a user reference.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn erase_user_events(user: String, confirm: String) -> Result<u64, AppError> {
    crate::error::with_status(
        async {
            let admin = require(Role::Admin)?;
            if confirm.trim() != user.trim() {
                return Err(AppError::validation(
                    "confirm",
                    "type the user reference to confirm",
                ));
            }
            let state = crate::state::AppState::from_context()?;
            let n = super::store::erase(&state.pool, &user, &actor(&admin)).await?;
            crate::audit::store::record(
                &state.pool,
                &actor(&admin),
                "privacy.erase",
                Some(user.trim()),
                auth().ip,
                serde_json::json!({ "events": n }),
            )
            .await?;
            Ok(n)
        }
        .await,
    )
}
