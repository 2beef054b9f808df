//! Backups over REST (`backup` scope to list, create, verify and download;
//! `admin` to restore and delete) and the browser's download and upload.

use std::path::PathBuf;

use app::backups::server_fns::after_restore;
use app::backups::store::{self, Kind};
use app::error::AppError;
use app::keys::Scope;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::auth::ApiKey;
use super::error::{ApiError, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/backups", get(list).post(create))
        .route("/api/v1/backups/{id}/download", get(download))
        .route("/api/v1/backups/{id}/verify", post(verify))
        .route("/api/v1/backups/{id}/restore", post(restore))
        .route("/api/v1/backups/restore", post(restore_upload))
        .route("/api/v1/backups/{id}", delete(remove))
        .route("/backups/{id}/download", get(ui_download))
        .route(
            "/backups/upload",
            post(ui_upload).layer(DefaultBodyLimit::disable()),
        )
}

fn key_actor(key: &ApiKey) -> String {
    format!("key:{}", key.0.prefix)
}

async fn list(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<Json<Vec<app::backups::BackupInfo>>> {
    key.require(Scope::Backup)?;
    Ok(Json(store::list(&state.pool).await?))
}

async fn create(State(state): State<AppState>, key: ApiKey) -> ApiResult<Response> {
    key.require(Scope::Backup)?;
    let info = store::create(
        &state.pool,
        &state.backups,
        Kind::Manual,
        &key_actor(&key),
        None,
        None,
    )
    .await?
    .ok_or(AppError::Internal)?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

async fn verify(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<app::backups::VerifyReport>> {
    key.require(Scope::Backup)?;
    Ok(Json(
        store::verify(&state.pool, &state.backups, id, &key_actor(&key), None).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    key.require(Scope::Admin)?;
    let info = store::delete(&state.pool, &state.backups, id, &key_actor(&key), None).await?;
    Ok(Json(serde_json::json!({ "deleted": info.name })))
}

/// Streams a backup file.
async fn send_file(state: &AppState, id: i64) -> ApiResult<Response> {
    let info = store::get(&state.pool, id).await?;
    if info.status != "ok" {
        return Err(AppError::Conflict(format!("backup {} is {}", info.name, info.status)).into());
    }
    let file = tokio::fs::File::open(state.backups.path_of(&info.name))
        .await
        .map_err(|_| AppError::NotFound(format!("the file of backup {}", info.name)))?;
    let len = file.metadata().await.map(|m| m.len()).ok();
    let mut response = Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(file)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/vnd.leitstand.backup"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&format!("attachment; filename=\"{}\"", info.name))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(len) = len {
        headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    }
    Ok(response)
}

async fn download(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    key.require(Scope::Backup)?;
    send_file(&state, id).await
}

async fn restore(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<app::backups::RestoreReport>> {
    key.require(Scope::Admin)?;
    let actor = key_actor(&key);
    store::check_restore_rate(&state.pool, &state.backups, &actor).await?;
    let info = store::get(&state.pool, id).await?;
    if info.status != "ok" {
        return Err(AppError::Conflict(format!(
            "backup {} is {}, it cannot be restored",
            info.name, info.status
        ))
        .into());
    }
    let path = state.backups.path_of(&info.name);
    let report =
        store::restore(&state.pool, &state.backups, &path, &info.name, &actor, None).await?;
    after_restore(&state);
    Ok(Json(report))
}

/// An uploaded file, removed when dropped.
struct Upload(PathBuf);

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn new_upload(state: &AppState) -> ApiResult<(Upload, tokio::fs::File)> {
    tokio::fs::create_dir_all(&state.backups.dir)
        .await
        .map_err(|e| AppError::Unavailable(format!("backup storage: {e}")))?;
    let path = state
        .backups
        .dir
        .join(format!(".upload-{}.tmp", uuid::Uuid::new_v4()));
    let file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| AppError::Unavailable(format!("backup storage: {e}")))?;
    Ok((Upload(path), file))
}

fn storage(e: std::io::Error) -> ApiError {
    AppError::Unavailable(format!("backup storage: {e}")).into()
}

/// `POST /api/v1/backups/restore` with the backup file as the body.
async fn restore_upload(
    State(state): State<AppState>,
    key: ApiKey,
    body: Body,
) -> ApiResult<Json<app::backups::RestoreReport>> {
    key.require(Scope::Admin)?;
    let actor = key_actor(&key);
    store::check_restore_rate(&state.pool, &state.backups, &actor).await?;
    let (upload, mut file) = new_upload(&state).await?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("reading the upload: {e}"),
            )
        })?;
        file.write_all(&chunk).await.map_err(storage)?;
    }
    file.flush().await.map_err(storage)?;
    drop(file);
    let report = store::restore(
        &state.pool,
        &state.backups,
        &upload.0,
        "uploaded file",
        &actor,
        None,
    )
    .await?;
    after_restore(&state);
    Ok(Json(report))
}

fn ui_user(auth: &app::auth::guard::Auth) -> ApiResult<app::auth::CurrentUser> {
    let user = auth.user.clone().ok_or(AppError::Unauthorized)?;
    if !user.can(app::auth::Role::Admin) {
        return Err(AppError::Forbidden("this needs the admin role".into()).into());
    }
    Ok(user)
}

async fn ui_download(
    State(state): State<AppState>,
    Extension(auth): Extension<app::auth::guard::Auth>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    ui_user(&auth)?;
    send_file(&state, id).await
}

/// The Backups page's "Restore from a file" form (multipart: `file`,
/// `confirm` = the file's name). Answers with a redirect back to the page.
async fn ui_upload(
    State(state): State<AppState>,
    Extension(auth): Extension<app::auth::guard::Auth>,
    req: Request,
) -> ApiResult<Response> {
    let user = ui_user(&auth)?;
    let actor = app::auth::guard::actor(&user);
    store::check_restore_rate(&state.pool, &state.backups, &actor).await?;
    let mut multipart = Multipart::from_request(req, &state)
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let back = |key: &str, value: &str| {
        Redirect::to(&format!("/backups?{key}={}", app::events::encode(value))).into_response()
    };
    let mut confirm = String::new();
    let mut received: Option<(Upload, String)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Ok(back("error", &format!("the upload failed: {e}"))),
        };
        match field.name() {
            Some("confirm") => confirm = field.text().await.unwrap_or_default(),
            Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_owned();
                let (upload, mut file) = new_upload(&state).await?;
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => file.write_all(&chunk).await.map_err(storage)?,
                        Ok(None) => break,
                        Err(e) => return Ok(back("error", &format!("the upload failed: {e}"))),
                    }
                }
                file.flush().await.map_err(storage)?;
                received = Some((upload, name));
            }
            _ => {}
        }
    }
    let Some((upload, name)) = received else {
        return Ok(back("error", "choose a backup file"));
    };
    if confirm.trim() != name {
        return Ok(back(
            "error",
            &format!("type the file's name ({name}) to confirm"),
        ));
    }
    match store::restore(
        &state.pool,
        &state.backups,
        &upload.0,
        &name,
        &actor,
        auth.ip,
    )
    .await
    {
        Ok(report) => {
            after_restore(&state);
            Ok(Redirect::to(&format!(
                "/backups?restored={}&rows={}",
                app::events::encode(&name),
                report.rows
            ))
            .into_response())
        }
        Err(AppError::Validation { message, .. }) => Ok(back("error", &message)),
        Err(e) => Ok(back("error", &e.to_string())),
    }
}
