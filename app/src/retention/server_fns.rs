//! Server functions of Settings → Retention (admin): the policy in force,
//! changing it, and running retention (or a dry run) now.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Policy, Report};
use crate::error::AppError;

/// The policy in force and the defaults of this process's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionSettings {
    pub policy: Policy,
    pub defaults: Policy,
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::auth::Role;
    pub use crate::auth::guard::{actor, auth, require};
    pub use crate::state::AppState;
}
#[cfg(feature = "ssr")]
use ssr::*;

#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_retention() -> Result<RetentionSettings, AppError> {
    crate::error::with_status(
        async {
            require(Role::Admin)?;
            let state = AppState::from_context()?;
            let defaults = state.alerting.retention;
            Ok(RetentionSettings {
                policy: super::store::policy(&state.pool, defaults).await?,
                defaults,
            })
        }
        .await,
    )
}

/// Stores a new policy (audited); a value out of bounds changes nothing.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn save_retention(policy: Policy) -> Result<Policy, AppError> {
    crate::error::with_status(
        async {
            let admin = require(Role::Admin)?;
            let state = AppState::from_context()?;
            super::store::change_policy(&state.pool, &policy, &actor(&admin), auth().ip).await?;
            Ok(policy)
        }
        .await,
    )
}

/// Runs retention with the policy in force; a dry run only counts.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn run_retention(dry_run: bool) -> Result<Report, AppError> {
    crate::error::with_status(
        async {
            let admin = require(Role::Admin)?;
            let state = AppState::from_context()?;
            super::store::run_audited(
                &state.pool,
                state.alerting.retention,
                dry_run,
                &actor(&admin),
                auth().ip,
            )
            .await
        }
        .await,
    )
}
