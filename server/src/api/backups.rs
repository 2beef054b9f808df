//! Backups over REST (`backup` scope to list, create and verify; `admin`
//! to download, restore and delete: a backup file holds every password and
//! key hash) and the browser's download and upload.
//!
//! Uploaded files are bounded before they are written: by the declared
//! length, by `--backup-upload-max-mib` while they arrive, by a pause of
//! at most 30 s between chunks and, after the first 30 s, by an average of
//! at least 16 KiB/s, so a slow or endless upload cannot hold a connection
//! or fill the disk.

use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;

use super::error::Path;
use app::backups::server_fns::after_restore;
use app::backups::store::{self, Kind};
use app::error::AppError;
use app::keys::Scope;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use futures::StreamExt;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::ApiKey;
use super::error::{ApiError, ApiResult};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list, create))
        .routes(routes!(download))
        .routes(routes!(verify))
        .routes(routes!(restore))
        .routes(routes!(restore_upload))
        .routes(routes!(remove))
        .route("/backups/{id}/download", get(ui_download))
        .route(
            "/backups/upload",
            post(ui_upload).layer(DefaultBodyLimit::disable()),
        )
}

fn key_actor(key: &ApiKey) -> String {
    format!("key:{}", key.0.prefix)
}

/// The catalog.
#[utoipa::path(
    get,
    path = "/api/v1/backups",
    tag = "Backups",
    operation_id = "list_backups",
    summary = "List backups, newest first",
    description = "Refused to keys bound to a service.",
    security(("api_key" = ["backup"])),
    responses(
        (status = 200, description = "Every backup in the catalog, newest first.", body = Vec<app::backups::BackupInfo>, example = json!([backup_example()])),
    )
)]
async fn list(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<Json<Vec<app::backups::BackupInfo>>> {
    key.require(Scope::Backup)?;
    key.require_unbound()?;
    Ok(Json(store::list(&state.pool).await?))
}

/// A manual backup, taken now.
#[utoipa::path(
    post,
    path = "/api/v1/backups",
    tag = "Backups",
    operation_id = "create_backup",
    summary = "Take a backup now",
    description = "Answers once the file is written and checked. Refused to keys bound to a service.",
    security(("api_key" = ["backup"])),
    responses(
        (status = 201, description = "The new backup.", body = app::backups::BackupInfo, example = json!(backup_example())),
        (status = 409, description = "Another backup or restore is running.", body = super::openapi::ErrorBody),
    )
)]
async fn create(State(state): State<AppState>, key: ApiKey) -> ApiResult<Response> {
    key.require(Scope::Backup)?;
    key.require_unbound()?;
    let info = store::create(
        &state.pool,
        &state.backups,
        Kind::Manual,
        &key_actor(&key),
        None,
        None,
    )
    .await?
    .ok_or_else(|| AppError::internal("a manual backup got no catalog row"))?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

/// Reads a backup file back and checks it.
#[utoipa::path(
    post,
    path = "/api/v1/backups/{id}/verify",
    tag = "Backups",
    operation_id = "verify_backup",
    summary = "Verify a backup file",
    description = "Reads the whole file and checks its checksums and manifest. Refused to keys bound to a service.",
    params(("id" = i64, Path, description = "The backup's id.")),
    security(("api_key" = ["backup"])),
    responses(
        (status = 200, description = "What the check found (`ok` false when the file is damaged).", body = app::backups::VerifyReport),
        (status = 404, description = "No such backup, or its file is missing.", body = super::openapi::ErrorBody),
    )
)]
async fn verify(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<app::backups::VerifyReport>> {
    key.require(Scope::Backup)?;
    key.require_unbound()?;
    Ok(Json(
        store::verify(&state.pool, &state.backups, id, &key_actor(&key), None).await?,
    ))
}

/// What a deletion answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The deleted backup's file name.
    pub deleted: String,
}

/// Deletes a backup and its file.
#[utoipa::path(
    delete,
    path = "/api/v1/backups/{id}",
    tag = "Backups",
    operation_id = "delete_backup",
    summary = "Delete a backup",
    description = "Removes the catalog entry and the file. Refused to keys bound to a service.",
    params(("id" = i64, Path, description = "The backup's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The backup is gone.", body = Deleted),
        (status = 404, description = "No such backup.", body = super::openapi::ErrorBody),
        (status = 409, description = "The backup is still being written.", body = super::openapi::ErrorBody),
    )
)]
async fn remove(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<Deleted>> {
    key.require(Scope::Admin)?;
    key.require_unbound()?;
    let info = store::delete(&state.pool, &state.backups, id, &key_actor(&key), None).await?;
    Ok(Json(Deleted { deleted: info.name }))
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

/// The backup file itself.
#[utoipa::path(
    get,
    path = "/api/v1/backups/{id}/download",
    tag = "Backups",
    operation_id = "download_backup",
    summary = "Download a backup file",
    description = "Streams the file (`Content-Disposition: attachment`). It holds every password and key hash, hence scope `admin`. Refused to keys bound to a service.",
    params(("id" = i64, Path, description = "The backup's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The file.", content_type = "application/vnd.leitstand.backup", body = Vec<u8>),
        (status = 404, description = "No such backup, or its file is missing.", body = super::openapi::ErrorBody),
        (status = 409, description = "The backup did not finish or failed.", body = super::openapi::ErrorBody),
    )
)]
async fn download(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    key.require(Scope::Admin)?;
    key.require_unbound()?;
    send_file(&state, id).await
}

/// Restores a backup of the catalog.
#[utoipa::path(
    post,
    path = "/api/v1/backups/{id}/restore",
    tag = "Backups",
    operation_id = "restore_backup",
    summary = "Restore a backup of the catalog",
    description = "Takes a safety backup first, then replaces the data atomically; a damaged file is refused before anything changes. Never undoes a tightening of access (see docs/security.md). Rate-limited per key. Refused to keys bound to a service.",
    params(("id" = i64, Path, description = "The backup's id.")),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The restore is done.", body = app::backups::RestoreReport),
        (status = 404, description = "No such backup, or its file is missing.", body = super::openapi::ErrorBody),
        (status = 409, description = "The backup is not restorable, or another backup or restore is running.", body = super::openapi::ErrorBody),
        (status = 422, description = "The file is damaged or not a Leitstand backup.", body = super::openapi::ErrorBody),
    )
)]
async fn restore(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<i64>,
) -> ApiResult<Json<app::backups::RestoreReport>> {
    key.require(Scope::Admin)?;
    key.require_unbound()?;
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
    store::ensure_dir(&state.backups.dir).await?;
    let path = state
        .backups
        .dir
        .join(format!(".upload-{}.tmp", uuid::Uuid::new_v4()));
    let std_file = app::backups::format::private_file(&path).map_err(storage)?;
    Ok((Upload(path), tokio::fs::File::from_std(std_file)))
}

fn storage(e: std::io::Error) -> ApiError {
    AppError::Unavailable(format!("backup storage: {e}")).into()
}

/// Bounds of an uploaded backup file.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    /// Largest file.
    pub max_bytes: u64,
    /// Longest pause between two chunks.
    pub idle: Duration,
    /// Average bytes per second an upload must keep after `grace`.
    pub min_rate: u64,
    pub grace: Duration,
}

impl UploadLimits {
    /// Files up to `max_bytes`; pauses up to 30 s; at least 16 KiB/s on
    /// average after the first 30 s.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            idle: Duration::from_secs(30),
            min_rate: 16 * 1024,
            grace: Duration::from_secs(30),
        }
    }
}

/// Counts an upload's bytes against its limits.
struct Receiving {
    started: Instant,
    bytes: u64,
    limits: UploadLimits,
}

impl Receiving {
    /// Refuses a declared length over the limit before anything is read.
    fn start(limits: UploadLimits, headers: &axum::http::HeaderMap) -> ApiResult<Self> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limits.max_bytes) {
            return Err(too_large(limits));
        }
        Ok(Self {
            started: Instant::now(),
            bytes: 0,
            limits,
        })
    }

    /// Waits for the next chunk, at most the idle limit.
    async fn next<T>(&self, chunk: impl Future<Output = T>) -> ApiResult<T> {
        tokio::time::timeout(self.limits.idle, chunk)
            .await
            .map_err(|_| {
                ApiError::from(AppError::Timeout(format!(
                    "the upload paused for more than {} s",
                    self.limits.idle.as_secs()
                )))
            })
    }

    fn add(&mut self, n: usize) -> ApiResult<()> {
        self.bytes = self.bytes.saturating_add(n as u64);
        if self.bytes > self.limits.max_bytes {
            return Err(too_large(self.limits));
        }
        let elapsed = self.started.elapsed();
        let needed = self.limits.min_rate as f64 * elapsed.as_secs_f64();
        if elapsed > self.limits.grace && (self.bytes as f64) < needed {
            return Err(ApiError::from(AppError::Timeout(format!(
                "the upload is slower than {} KiB/s; it was stopped",
                self.limits.min_rate / 1024
            ))));
        }
        Ok(())
    }
}

fn too_large(limits: UploadLimits) -> ApiError {
    ApiError::from(AppError::TooLarge(format!(
        "backup files up to {} MiB are accepted (--backup-upload-max-mib)",
        limits.max_bytes / (1024 * 1024)
    )))
}

/// `POST /api/v1/backups/restore` with the backup file as the body.
#[utoipa::path(
    post,
    path = "/api/v1/backups/restore",
    tag = "Backups",
    operation_id = "restore_uploaded_backup",
    summary = "Restore an uploaded backup file",
    description = "The body is a backup file. Bounded by `--backup-upload-max-mib`, a 30 s pause limit and a minimum average rate of 16 KiB/s. Then as `POST /api/v1/backups/{id}/restore`.",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A file from `GET /api/v1/backups/{id}/download`."),
    security(("api_key" = ["admin"])),
    responses(
        (status = 200, description = "The restore is done.", body = app::backups::RestoreReport),
        (status = 400, description = "The upload broke off.", body = super::openapi::ErrorBody),
        (status = 408, description = "The upload paused too long or was too slow.", body = super::openapi::ErrorBody),
        (status = 409, description = "Another backup or restore is running.", body = super::openapi::ErrorBody),
        (status = 413, description = "The file is larger than the upload limit.", body = super::openapi::ErrorBody),
        (status = 422, description = "The file is damaged or not a Leitstand backup.", body = super::openapi::ErrorBody),
    )
)]
async fn restore_upload(
    State(state): State<AppState>,
    Extension(limits): Extension<UploadLimits>,
    key: ApiKey,
    req: Request,
) -> ApiResult<Json<app::backups::RestoreReport>> {
    key.require(Scope::Admin)?;
    key.require_unbound()?;
    let mut receiving = Receiving::start(limits, req.headers())?;
    let actor = key_actor(&key);
    store::check_restore_rate(&state.pool, &state.backups, &actor).await?;
    let (upload, mut file) = new_upload(&state).await?;
    let mut stream = req.into_body().into_data_stream();
    while let Some(chunk) = receiving.next(stream.next()).await? {
        let chunk = chunk.map_err(|e| {
            ApiError::from(AppError::BadRequest(format!("reading the upload: {e}")))
        })?;
        receiving.add(chunk.len())?;
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

/// The documented example of a catalog entry.
fn backup_example() -> serde_json::Value {
    serde_json::json!({
        "id": 12, "name": "leitstand-20261122-020000-scheduled.lsb", "kind": "scheduled",
        "status": "ok", "size": 48213311,
        "sha256": "9f2c4e1b7a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6",
        "schema_version": 31, "rows": { "events": 120344, "services": 4 }, "error": null,
        "created_by": "scheduler", "created_at": "2026-11-22T02:00:00Z",
        "finished_at": "2026-11-22T02:00:41Z", "verified_at": null, "verified_ok": null
    })
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
    Extension(limits): Extension<UploadLimits>,
    req: Request,
) -> ApiResult<Response> {
    let user = ui_user(&auth)?;
    let mut receiving = Receiving::start(limits, req.headers())?;
    let actor = app::auth::guard::actor(&user);
    store::check_restore_rate(&state.pool, &state.backups, &actor).await?;
    let mut multipart = Multipart::from_request(req, &state)
        .await
        .map_err(|e| ApiError::from(AppError::BadRequest(e.body_text())))?;
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
            Some("confirm") => {
                let mut field = field;
                let mut text = Vec::new();
                loop {
                    match receiving.next(field.chunk()).await? {
                        Ok(Some(chunk)) if text.len() + chunk.len() <= 1024 => {
                            receiving.add(chunk.len())?;
                            text.extend_from_slice(&chunk);
                        }
                        Ok(Some(_)) => return Ok(back("error", "the confirmation is too long")),
                        Ok(None) => break,
                        Err(e) => return Ok(back("error", &format!("the upload failed: {e}"))),
                    }
                }
                confirm = String::from_utf8_lossy(&text).into_owned();
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("upload").to_owned();
                let (upload, mut file) = new_upload(&state).await?;
                let mut field = field;
                loop {
                    match receiving.next(field.chunk()).await? {
                        Ok(Some(chunk)) => {
                            receiving.add(chunk.len())?;
                            file.write_all(&chunk).await.map_err(storage)?
                        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn limits() -> UploadLimits {
        UploadLimits {
            max_bytes: 1000,
            idle: Duration::from_millis(50),
            min_rate: 1000,
            grace: Duration::from_millis(200),
        }
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(1001u64));
        let e = Receiving::start(limits(), &headers).err().expect("refused");
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(1000u64));
        assert!(Receiving::start(limits(), &headers).is_ok());
    }

    #[tokio::test]
    async fn more_bytes_than_the_limit_are_refused_as_they_arrive() {
        let mut r = Receiving::start(limits(), &HeaderMap::new()).expect("started");
        assert!(r.add(600).is_ok());
        let e = r.add(401).expect_err("over");
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn a_pause_longer_than_the_idle_limit_ends_the_upload() {
        let r = Receiving::start(limits(), &HeaderMap::new()).expect("started");
        let e = r
            .next(std::future::pending::<()>())
            .await
            .expect_err("timed out");
        assert_eq!(e.status(), StatusCode::REQUEST_TIMEOUT);
    }

    #[tokio::test]
    async fn a_trickle_below_the_minimum_rate_is_cut_off_after_the_grace_time() {
        let mut r = Receiving::start(limits(), &HeaderMap::new()).expect("started");
        // Within the grace time any rate is fine.
        assert!(r.add(1).is_ok());
        tokio::time::sleep(Duration::from_millis(250)).await;
        // 2 bytes in 250 ms is far below 1000 B/s.
        let e = r.add(1).expect_err("too slow");
        assert_eq!(e.status(), StatusCode::REQUEST_TIMEOUT);
    }

    #[tokio::test]
    async fn an_upload_at_the_minimum_rate_passes() {
        let slow_ok = UploadLimits {
            min_rate: 100,
            ..limits()
        };
        let mut r = Receiving::start(slow_ok, &HeaderMap::new()).expect("started");
        tokio::time::sleep(Duration::from_millis(250)).await;
        // 990 bytes: 100 B/s would need ten seconds to fall short.
        assert!(r.add(990).is_ok());
    }
}
