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
            let pool = state.pool.clone();
            let finished = in_background(&state, move |state| async move {
                super::store::create(
                    &state.pool,
                    &state.backups,
                    super::store::Kind::Manual,
                    &actor(&user),
                    ip,
                    None,
                )
                .await?
                .ok_or_else(|| AppError::internal("a manual backup got no catalog row"))
            })
            .await;
            match finished {
                Some(result) => result,
                None => super::store::list(&pool)
                    .await?
                    .into_iter()
                    .find(|b| b.status == "running")
                    .ok_or_else(|| AppError::internal("the running backup is not in the catalog")),
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
            let ip = auth().ip;
            in_background(&state, move |state| async move {
                let report = super::store::restore_from_catalog(
                    &state.pool,
                    &state.backups,
                    &info,
                    &who,
                    ip,
                )
                .await?;
                after_restore(&state);
                Ok(report)
            })
            .await
            .unwrap_or_else(|| {
                Err(AppError::Unavailable(
                    "the restore takes longer than usual and continues in the background; \
                     the audit log records its outcome"
                        .into(),
                ))
            })
        }
        .await,
    )
}

/// Runs `job` on its own task and waits for it at most [`WAIT`]: `None`
/// when it is still running (it then finishes in the background).
#[cfg(feature = "ssr")]
async fn in_background<T, F, Fut>(
    state: &crate::state::AppState,
    job: F,
) -> Option<Result<T, AppError>>
where
    T: Send + 'static,
    F: FnOnce(crate::state::AppState) -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>> + Send + 'static,
{
    let task = tokio::spawn(job(state.clone()));
    match tokio::time::timeout(WAIT, task).await {
        Ok(Ok(result)) => Some(result),
        Ok(Err(e)) => Some(Err(AppError::internal(format_args!(
            "background task failed: {e}"
        )))),
        Err(_) => None,
    }
}

/// Caches that name rows a restore may have replaced.
#[cfg(feature = "ssr")]
pub fn after_restore(state: &crate::state::AppState) {
    state.keys.clear();
    state.ingest.forget_services();
}
