//! Server functions of the Audit page (admin).

use leptos::prelude::*;

use super::types::{AuditEntry, AuditQuery};
use crate::error::AppError;

#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn audit_entries(query: AuditQuery) -> Result<Vec<AuditEntry>, AppError> {
    crate::error::with_status(
        async {
            crate::auth::guard::require(crate::auth::Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            super::store::list(&state.pool, &query).await
        }
        .await,
    )
}
