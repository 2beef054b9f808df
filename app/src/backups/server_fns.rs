//! Server functions of the Backups page and the dashboard's backup widget.
//! Viewers see backups; operators create and verify them; admins download,
//! delete and restore.

use leptos::prelude::*;

use super::types::{BackupHealth, BackupInfo, RestoreReport, VerifyReport};
#[cfg(feature = "ssr")]
use crate::auth::Role;
#[cfg(feature = "ssr")]
use crate::auth::guard::{actor, auth, require};
use crate::error::AppError;

/// How long a page waits for a backup or restore before answering that it
/// continues in the background (requests time out after 30 s).
#[cfg(feature = "ssr")]
const WAIT: std::time::Duration = std::time::Duration::from_secs(25);

#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn list_backups() -> Result<Vec<BackupInfo>, AppError> {
    crate::error::with_status(
        async {
            require(Role::Viewer)?;
            let state = crate::state::AppState::from_context()?;
            super::store::list(&state.pool).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::GetUrl)]
pub async fn get_backup_health() -> Result<BackupHealth, AppError> {
    crate::error::with_status(
        async {
            require(Role::Viewer)?;
            let state = crate::state::AppState::from_context()?;
            super::store::health(&state.pool, &state.backups).await
        }
        .await,
    )
}

/// Takes a manual backup. Answers when it is written, or after 25 s with
/// the backup still running (it finishes in the background).
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn create_backup() -> Result<BackupInfo, AppError> {
    crate::error::with_status(
        async {
            let user = require(Role::Operator)?;
            let state = crate::state::AppState::from_context()?;
            let ip = auth().ip;
            let task = {
                let state = state.clone();
                tokio::spawn(async move {
                    super::store::create(
                        &state.pool,
                        &state.backups,
                        super::store::Kind::Manual,
                        &actor(&user),
                        ip,
                        None,
                    )
                    .await
                })
            };
            match tokio::time::timeout(WAIT, task).await {
                Ok(Ok(result)) => result?.ok_or(AppError::Internal),
                Ok(Err(_)) => Err(AppError::Internal),
                Err(_) => super::store::list(&state.pool)
                    .await?
                    .into_iter()
                    .find(|b| b.status == "running")
                    .ok_or(AppError::Internal),
            }
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn verify_backup(id: i64) -> Result<VerifyReport, AppError> {
    crate::error::with_status(
        async {
            let user = require(Role::Operator)?;
            let state = crate::state::AppState::from_context()?;
            super::store::verify(&state.pool, &state.backups, id, &actor(&user), auth().ip).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn delete_backup(id: i64) -> Result<(), AppError> {
    crate::error::with_status(
        async {
            let user = require(Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            super::store::delete(&state.pool, &state.backups, id, &actor(&user), auth().ip)
                .await
                .map(|_| ())
        }
        .await,
    )
}

/// Restores a backup from the list; `confirm` must be its name.
#[server(prefix = "/rpc", input = server_fn::codec::Json)]
pub async fn restore_backup(id: i64, confirm: String) -> Result<RestoreReport, AppError> {
    crate::error::with_status(
        async {
            let user = require(Role::Admin)?;
            let state = crate::state::AppState::from_context()?;
            let who = actor(&user);
            super::store::check_restore_rate(&state.pool, &state.backups, &who).await?;
            let info = super::store::get(&state.pool, id).await?;
            if confirm.trim() != info.name {
                return Err(AppError::validation(
                    "confirm",
                    format!("type the backup's name ({}) to confirm", info.name),
                ));
            }
            if info.status != "ok" {
                return Err(AppError::Conflict(format!(
                    "backup {} is {}, it cannot be restored",
                    info.name, info.status
                )));
            }
            let ip = auth().ip;
            let task = {
                let state = state.clone();
                tokio::spawn(async move {
                    let path = state.backups.path_of(&info.name);
                    let result = super::store::restore(
                        &state.pool,
                        &state.backups,
                        &path,
                        &info.name,
                        &who,
                        ip,
                    )
                    .await;
                    if result.is_ok() {
                        after_restore(&state);
                    }
                    result
                })
            };
            match tokio::time::timeout(WAIT, task).await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(AppError::Internal),
                Err(_) => Err(AppError::Unavailable(
                    "the restore takes longer than usual and continues in the background; \
                     the audit log records its outcome"
                        .into(),
                )),
            }
        }
        .await,
    )
}

/// Caches that name rows a restore may have replaced.
#[cfg(feature = "ssr")]
pub fn after_restore(state: &crate::state::AppState) {
    state.keys.clear();
    state.ingest.forget_services();
}
